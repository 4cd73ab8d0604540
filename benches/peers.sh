#!/usr/bin/env bash
# The peers benchmark (issue 17): stock reservations per second on this machine,
# in one run, for
#   - PostgreSQL: a conditional UPDATE, synchronous commit (pgbench);
#   - Redis: a Lua conditional decrement, without persistence and with
#     `appendfsync always` (redis-benchmark; servers of its own on ports
#     6390/6391, data in a temp dir);
#   - Mercato: `POST /v1/inventory/{sku}/reservations` with sync and relaxed
#     durability (the release binary in its own process, loaded by http_load);
# each with one hot SKU and with 10,000 SKUs, 64 clients, on the same machine
# as the load. Prints each figure, then the ratios and the targets.
#
#   bash benches/peers.sh          # 10 s per figure (Redis: 60,000 requests per second
#                                  # asked, a fixed count), about 4 minutes with the build
#   bash benches/peers.sh 5        # 5 s per figure
#   bash benches/peers.sh 10 mercato   # only Mercato's four figures (when tuning it)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
only="${2:-all}"
clients=64
skus=10000
port=18080
token="peers-bench-operator-token"
work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  psql -X -q -h 127.0.0.1 -d test -c 'DROP TABLE IF EXISTS peers_stock' >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "building the release binary and the load generator" >&2
cargo build --release --locked --quiet --bin mercato
cargo bench --no-run --locked --quiet --bench http_load
http_load="$(cargo bench --no-run --locked --bench http_load --message-format=json 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    message = json.loads(line)
    if message.get("reason") == "compiler-artifact" and message.get("executable") and "bench" in message["target"]["kind"]:
        print(message["executable"])
')"

declare -A rate p99
record() { # name rate p99
  rate[$1]="$2"
  p99[$1]="$3"
  printf '%-40s %10.0f /s   p99 %s ms\n' "$1" "$2" "$3"
}

# --- PostgreSQL -------------------------------------------------------------
if [[ $only == all ]]; then
psql -X -q -h 127.0.0.1 -d test <<SQL
DROP TABLE IF EXISTS peers_stock;
CREATE TABLE peers_stock (sku integer PRIMARY KEY, available bigint NOT NULL);
INSERT INTO peers_stock SELECT n, 1000000000000 FROM generate_series(1, $skus) AS n;
SQL
echo "PostgreSQL: synchronous_commit=$(psql -X -At -h 127.0.0.1 -d test -c 'SHOW synchronous_commit'), fsync=$(psql -X -At -h 127.0.0.1 -d test -c 'SHOW fsync')"
cat >"$work/reserve.sql" <<'SQL'
\set sku random(1, :skus)
UPDATE peers_stock SET available = available - 1 WHERE sku = :sku AND available >= 1;
SQL
postgres() { # name skus
  local out
  out="$(pgbench -h 127.0.0.1 -n -c "$clients" -j 2 -T "$seconds" -D skus="$2" -f "$work/reserve.sql" --log --log-prefix="$work/pg" test 2>&1)"
  local tps
  tps="$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out")"
  # Per-transaction log lines: client, transaction, latency in µs, ...
  local latency
  latency="$(cat "$work"/pg.* | awk '{print $3}' | sort -n | awk '{v[NR]=$1} END {printf "%.2f", v[int(NR*0.99)]/1000}')"
  rm -f "$work"/pg.*
  record "$1" "$tps" "$latency"
}
postgres "PostgreSQL, one hot SKU" 1
postgres "PostgreSQL, $skus SKUs" "$skus"

# --- Redis ------------------------------------------------------------------
script='local v = tonumber(redis.call("GET", KEYS[1])) if v and v >= 1 then return redis.call("DECRBY", KEYS[1], 1) end return -1'
fill='for n = 0, tonumber(ARGV[1]) - 1 do redis.call("SET", string.format("stock:%012d", n), ARGV[2]) end redis.call("SET", "stock:hot", ARGV[2]) return 1'
redis() { # name port keyspace-args...
  local name="$1" port="$2"
  shift 2
  local requests=$((seconds * 60000))
  local out
  # CSV: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  # (the test's name holds the script, commas and quotes unescaped: read from the end)
  out="$(redis-benchmark -p "$port" -c "$clients" -n "$requests" --csv "$@" EVAL "$script" 1 "${key}" 2>/dev/null \
    | tail -1 | python3 -c 'import sys; row = sys.stdin.read().strip().rsplit(",", 7); print(row[-7].strip("\""), row[-2].strip("\""))')"
  record "$name" ${out}
}
start_redis() { # port persistence-args...
  local port="$1"
  shift
  if redis-cli -p "$port" ping >/dev/null 2>&1; then
    echo "port $port is taken: stop what listens there first" >&2
    exit 1
  fi
  redis-server --port "$port" --save '' --dir "$work" --appendfilename "peers-$port.aof" "$@" >"$work/redis-$port.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  until redis-cli -p "$port" ping >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || { cat "$work/redis-$port.log" >&2; exit 1; }
    sleep 0.1
  done
  redis-cli -p "$port" EVAL "$fill" 0 "$skus" 1000000000000 >/dev/null
}
start_redis 6390 --appendonly no
start_redis 6391 --appendonly yes --appendfsync always
key="stock:hot"
redis "Redis, no persistence, one hot SKU" 6390
redis "Redis, appendfsync always, one hot SKU" 6391
key="stock:__rand_int__"
redis "Redis, no persistence, $skus SKUs" 6390 -r "$skus"
redis "Redis, appendfsync always, $skus SKUs" 6391 -r "$skus"
fi

# --- Mercato ----------------------------------------------------------------
mercato() { # durability
  local durability="$1"
  local dir="$work/mercato-$durability"
  if curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then
    echo "port $port is taken: stop what listens there first" >&2
    exit 1
  fi
  MERCATO__STORAGE__DURABILITY="$durability" target/release/mercato serve --bind "127.0.0.1:$port" \
    --data-dir "$dir" --admin-token "$token" >"$work/mercato-$durability.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  until curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || { cat "$work/mercato-$durability.log" >&2; exit 1; }
    sleep 0.1
  done
  for scenario in hot spread; do
    local out
    out="$("$http_load" --bench --url "http://127.0.0.1:$port" --token "$token" --scenario "$scenario" \
      --connections "$clients" --duration "$seconds" 2>"$work/http_load.log")" || { cat "$work/http_load.log" >&2; exit 1; }
    local what="one hot SKU"
    [[ $scenario == spread ]] && what="$skus SKUs"
    record "Mercato, $durability, $what" \
      "$(sed -n 's/^succeeded .*: \([0-9.]*\)\/s/\1/p' <<<"$out")" \
      "$(sed -n 's/^latency ms .* p99 \([0-9.]*\) .*/\1/p' <<<"$out")"
  done
  kill -TERM "$pid"
  wait "$pid" || true
}
mercato sync
mercato relaxed

# --- Summary ----------------------------------------------------------------
ratio() { python3 -c "print(f'{$1 / $2:.2f}x' if $2 else 'n/a')"; }
echo
echo "Mercato sync / Redis appendfsync always: one hot SKU $(ratio "${rate["Mercato, sync, one hot SKU"]:-0}" "${rate["Redis, appendfsync always, one hot SKU"]:-0}"), $skus SKUs $(ratio "${rate["Mercato, sync, $skus SKUs"]:-0}" "${rate["Redis, appendfsync always, $skus SKUs"]:-0}")"
echo "Mercato relaxed / Redis no persistence: one hot SKU $(ratio "${rate["Mercato, relaxed, one hot SKU"]:-0}" "${rate["Redis, no persistence, one hot SKU"]:-0}"), $skus SKUs $(ratio "${rate["Mercato, relaxed, $skus SKUs"]:-0}" "${rate["Redis, no persistence, $skus SKUs"]:-0}")"
echo "Mercato sync / PostgreSQL: one hot SKU $(ratio "${rate["Mercato, sync, one hot SKU"]:-0}" "${rate["PostgreSQL, one hot SKU"]:-0}"), $skus SKUs $(ratio "${rate["Mercato, sync, $skus SKUs"]:-0}" "${rate["PostgreSQL, $skus SKUs"]:-0}")"
echo "targets: hot sync >= Redis always with p99 <= 5 ms (p99 ${p99["Mercato, sync, one hot SKU"]:-?} ms); relaxed >= Redis without persistence; $skus SKUs sync >= 40000/s"
