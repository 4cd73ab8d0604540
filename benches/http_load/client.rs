//! The load generator's client side: one lean hyper HTTP/1.1 keep-alive
//! connection per task, the loop each task runs, and what it measures.
//!
//! The closed loop sends [`PreparedRequest`]s, parsed once before the run: a
//! reservation (`POST`, JSON body, 201) or a search (`GET`, no body, 200).
//! [`stock_all`] stocks the reservation scenarios' SKUs before the run (`PUT
//! /v1/inventory/{sku}`); [`send_each`] sends a few requests once, for checks;
//! [`run_connection`] sends random prepared requests back to back (closed loop)
//! or on a fixed [`Schedule`] (open loop) and returns a [`Report`], merged
//! across connections by the caller. [`resolve`] turns
//! `--url` into an address, a `Host` value and a path prefix.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;

/// Units each SKU is stocked with: the largest `on_hand`, never exhausted.
const ON_HAND: u64 = 1_000_000_000_000;
/// Pause before reconnecting after a transport error, so a dead server is not spun on.
const RECONNECT_PAUSE: Duration = Duration::from_millis(10);
/// How late tokio's timer may wake a task by its own rounding (one tick).
const TIMER_ROUNDING: Duration = Duration::from_millis(1);
/// Longest latency the histogram holds, in microseconds (larger values are clamped).
const MAX_LATENCY_US: u64 = 60_000_000;

/// One request the closed loop may send, parsed once before the run.
pub(crate) struct PreparedRequest {
    /// `POST` for reservations, `GET` for searches.
    pub(crate) method: Method,
    /// Path and query, base path included.
    pub(crate) uri: Uri,
    /// Sent as `application/json` when not empty.
    pub(crate) body: Bytes,
    /// The status that counts as success; any other counts as an error.
    pub(crate) success: StatusCode,
}

impl PreparedRequest {
    /// A hyper request for it, with `target`'s headers.
    fn to_request(&self, target: &Target) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(self.body.clone()));
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self.uri.clone();
        let headers = request.headers_mut();
        headers.insert(HOST, target.host.clone());
        headers.insert(AUTHORIZATION, target.authorization.clone());
        if let Some(cookie) = &target.cookie {
            headers.insert(hyper::header::COOKIE, cookie.clone());
        }
        if !self.body.is_empty() {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        request
    }
}

/// What every connection needs to build requests; shared by all tasks.
pub(crate) struct Target {
    /// Address connections are opened to.
    pub(crate) addr: SocketAddr,
    /// `Host` header value.
    pub(crate) host: HeaderValue,
    /// `Authorization` header value.
    pub(crate) authorization: HeaderValue,
    /// `Cookie` header value (the console's session), if any.
    pub(crate) cookie: Option<HeaderValue>,
    /// The requests of the scenario; each iteration picks one at random.
    pub(crate) requests: Vec<PreparedRequest>,
    /// Path prefix of the base URL (empty for the root).
    pub(crate) base_path: String,
}

/// One keep-alive HTTP/1.1 connection.
pub(crate) struct Connection {
    /// hyper's request half; its connection driver runs as its own task.
    sender: SendRequest<Full<Bytes>>,
}

impl Connection {
    /// Opens a connection to `addr`.
    pub(crate) async fn open(addr: SocketAddr) -> anyhow::Result<Self> {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .with_context(|| format!("cannot connect to {addr}"))?;
        stream.set_nodelay(true).context("cannot set TCP_NODELAY")?;
        let (sender, driver) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .context("HTTP/1.1 handshake failed")?;
        tokio::spawn(driver);
        Ok(Connection { sender })
    }

    /// Sends `request`, reads the whole body, returns the status and the body.
    pub(crate) async fn send(&mut self, request: Request<Full<Bytes>>) -> anyhow::Result<(StatusCode, Bytes)> {
        self.sender.ready().await.context("connection closed")?;
        let response = self.sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }
}

/// What one connection measured.
pub(crate) struct Report {
    /// Latency of successful answers, in microseconds.
    pub(crate) latencies: Histogram<u64>,
    /// Answers by status.
    pub(crate) statuses: BTreeMap<u16, u64>,
    /// Answers with the status their request expects.
    pub(crate) succeeded: u64,
    /// Requests that got no answer (connection errors).
    pub(crate) transport_errors: u64,
}

impl Report {
    /// An empty report: nothing recorded yet.
    pub(crate) fn new() -> Self {
        Report {
            latencies: Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("the histogram bounds are valid"),
            statuses: BTreeMap::new(),
            succeeded: 0,
            transport_errors: 0,
        }
    }

    /// Adds `other`'s latencies and counts to this report.
    pub(crate) fn merge(&mut self, other: Report) {
        self.latencies
            .add(&other.latencies)
            .expect("histograms with equal bounds merge");
        for (status, count) in other.statuses {
            *self.statuses.entry(status).or_default() += count;
        }
        self.succeeded += other.succeeded;
        self.transport_errors += other.transport_errors;
    }
}

/// A small xorshift generator: picking a request must cost next to nothing.
/// `state` must not be zero.
pub(crate) fn next_random(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Stocks every SKU in `skus`, spread over `connections` connections.
pub(crate) async fn stock_all(target: &Arc<Target>, skus: &[String], connections: usize) -> anyhow::Result<()> {
    let skus: Arc<[String]> = skus.into();
    let mut tasks = tokio::task::JoinSet::new();
    for first in 0..connections.min(skus.len()) {
        let target = Arc::clone(target);
        let skus = Arc::clone(&skus);
        tasks.spawn(async move {
            let mut connection = Connection::open(target.addr).await?;
            for sku in skus.iter().skip(first).step_by(connections) {
                let request = Request::builder()
                    .method(Method::PUT)
                    .uri(format!("{}/v1/inventory/{sku}", target.base_path))
                    .header(HOST, target.host.clone())
                    .header(AUTHORIZATION, target.authorization.clone())
                    .header(CONTENT_TYPE, "application/json")
                    .body(Full::new(Bytes::from(format!(r#"{{"on_hand":{ON_HAND}}}"#))))?;
                let (status, body) = connection.send(request).await?;
                if status != StatusCode::OK {
                    bail!(
                        "PUT /v1/inventory/{sku} answered {status}: {}",
                        String::from_utf8_lossy(&body)
                    );
                }
            }
            anyhow::Ok(())
        });
    }
    while let Some(result) = tasks.join_next().await {
        result.context("a stocking task panicked")??;
    }
    Ok(())
}

/// Sends each of `requests` once, in order, on one connection; returns every
/// status and body (for checks before the run).
pub(crate) async fn send_each(
    target: &Target,
    requests: &[PreparedRequest],
) -> anyhow::Result<Vec<(StatusCode, Bytes)>> {
    let mut connection = Connection::open(target.addr).await?;
    let mut answers = Vec::with_capacity(requests.len());
    for prepared in requests {
        let answer = connection
            .send(prepared.to_request(target))
            .await
            .with_context(|| format!("{} {} got no answer", prepared.method, prepared.uri))?;
        answers.push(answer);
    }
    Ok(answers)
}

/// One connection until `until`: closed loop (`interval` `None`: random
/// prepared requests back to back) or open loop (one request every `interval`,
/// from `first`; latency counts from the scheduled start when the connection
/// was still waiting on the previous answer then, so time spent waiting behind
/// a slow answer shows as latency instead of vanishing). Only requests
/// scheduled (or started) at or after `measure_from` are recorded.
pub(crate) async fn run_connection(target: Arc<Target>, seed: u64, schedule: Schedule) -> Report {
    let Schedule {
        measure_from,
        until,
        interval,
        mut next_at,
    } = schedule;
    let mut report = Report::new();
    let mut random = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut connection = None;
    // When the previous answer on this connection arrived.
    let mut answered_at = Instant::now();
    loop {
        let started = match interval {
            Some(interval) => {
                let at = next_at;
                next_at += interval;
                tokio::time::sleep_until(at.into()).await;
                // Waiting behind a slow answer counts from the due time (the
                // server's queueing shows), and so does a wake-up later than
                // the timer's rounding (a starved client); within it, from the
                // wake-up: tokio's timer rounds every deadline up to the next
                // millisecond, a delay of the client, not of the server.
                let woke = Instant::now();
                if answered_at > at || woke - at > TIMER_ROUNDING {
                    at
                } else {
                    woke
                }
            }
            None => Instant::now(),
        };
        if started >= until {
            break;
        }
        let measured = started >= measure_from;
        let open = match connection.as_mut() {
            Some(open) => open,
            None => match Connection::open(target.addr).await {
                Ok(open) => connection.insert(open),
                Err(_) => {
                    if measured {
                        report.transport_errors += 1;
                    }
                    tokio::time::sleep(RECONNECT_PAUSE).await;
                    continue;
                }
            },
        };
        let prepared = match target.requests.len() {
            1 => &target.requests[0],
            n => &target.requests[(next_random(&mut random) % n as u64) as usize],
        };
        let outcome = open.send(prepared.to_request(&target)).await;
        answered_at = Instant::now();
        let latency = answered_at - started;
        match outcome {
            Ok((status, _)) if measured => {
                if status == prepared.success {
                    let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
                    report.latencies.saturating_record(micros.max(1));
                    report.succeeded += 1;
                }
                *report.statuses.entry(status.as_u16()).or_default() += 1;
            }
            Ok(_) => {}
            Err(_) => {
                connection = None;
                if measured {
                    report.transport_errors += 1;
                }
            }
        }
    }
    report
}

/// When a connection sends.
pub(crate) struct Schedule {
    /// Requests from here on are recorded.
    pub(crate) measure_from: Instant,
    /// No request starts after this.
    pub(crate) until: Instant,
    /// Open loop: the time between two requests of this connection.
    pub(crate) interval: Option<Duration>,
    /// Open loop: when the first request is due.
    pub(crate) next_at: Instant,
}

/// Parses `--url` into an address, a `Host` value and a path prefix.
pub(crate) async fn resolve(url: &str) -> anyhow::Result<(SocketAddr, String, String)> {
    let uri: Uri = url.parse().with_context(|| format!("invalid --url {url}"))?;
    if uri.scheme_str() != Some("http") {
        bail!("--url must start with http:// (no TLS in this client)");
    }
    let authority = uri.authority().context("--url has no host")?;
    let host_port = match authority.port_u16() {
        Some(_) => authority.to_string(),
        None => format!("{}:80", authority.host()),
    };
    let addr = tokio::net::lookup_host(&host_port)
        .await
        .with_context(|| format!("cannot resolve {host_port}"))?
        .next()
        .with_context(|| format!("{host_port} resolves to no address"))?;
    Ok((addr, authority.to_string(), uri.path().trim_end_matches('/').to_owned()))
}

/// Runs `future` on a multi-threaded client runtime of `threads` workers.
pub(crate) fn block_on_clients<F: std::future::Future>(threads: usize, future: F) -> anyhow::Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .thread_name("load-client")
        .enable_all()
        .build()
        .context("cannot build the client runtime")?;
    Ok(runtime.block_on(future))
}
