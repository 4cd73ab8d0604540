# syntax=docker/dockerfile:1
# Multi-stage build of the `mercato` binary; the runtime image runs it as a
# non-root user with its database on the /data volume.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# Dependencies first, against stub sources, so that they are cached in their own
# layer and rebuilt only when a manifest or the lock file changes.
COPY Cargo.toml Cargo.lock ./
COPY actors/Cargo.toml actors/Cargo.toml
COPY http/Cargo.toml http/Cargo.toml
COPY web/Cargo.toml web/Cargo.toml
COPY events/Cargo.toml events/Cargo.toml
# sled with its I/O pool patched (vendor/README.md), a dependency like the others.
COPY vendor vendor
# The manifest names the bench targets, so their files must exist (they are not built).
COPY benches benches
RUN mkdir -p src actors/src http/src web/src events/src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs actors/src/lib.rs http/src/lib.rs web/src/lib.rs events/src/lib.rs \
    && cargo build --release --locked --bin mercato \
    && rm -rf src actors/src http/src web/src events/src
COPY . .
# The copied sources may be older than the stub build: make cargo rebuild them.
RUN touch src/main.rs src/lib.rs actors/src/lib.rs http/src/lib.rs web/src/lib.rs events/src/lib.rs \
    && cargo build --release --locked --bin mercato

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin mercato \
    && mkdir -p /data \
    && chown mercato:mercato /data
COPY --from=build /src/target/release/mercato /usr/local/bin/mercato
USER mercato
# MERCATO_DEMO=true fills an empty /data with the demo shop first.
ENV MERCATO_BIND=0.0.0.0:8080 \
    MERCATO_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
# SIGTERM (docker stop) drains requests, flushes storage and exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["mercato"]
CMD ["serve"]
