//! `sustained`: the server's memory under a steady stream of guest checkouts,
//! as a shop sees them all day. `--connections` clients open orders at
//! `--rate` per second in all (open loop: each order has its start time, kept
//! whether or not the one before was late), each order a new guest cart
//! (`POST /v1/carts`), one line (`POST /v1/carts/{id}/items`, SKUs in turn) and
//! its checkout, for `--duration` seconds. Every `--sample-secs` one progress
//! line: orders confirmed, the rate over the last interval, the server's RSS
//! and its live actors per kind (`mercato_actors_active` from `/metrics`).
//! The RSS is read from `/proc/<--server-pid>/status` with `--url`, else from
//! this process (the in-process server with the client, a few MiB).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use hyper::{Method, StatusCode};
use serde_json::Value;

use crate::api::{call_once, checkout_request, error_code, is_confirmed, kept_open, request};
use crate::client::{Connection, Report, Target};
use crate::{percentile_ms, print_status_lines};

/// The RSS to compare against at the end of the run, in bytes (issue 17).
const TARGET_RSS_BYTES: u64 = 600 * 1_000_000;

/// How the run is paced and watched.
pub(crate) struct Pace {
    /// Orders started per second, over all clients.
    pub(crate) rate: f64,
    /// Clients, one connection each.
    pub(crate) connections: usize,
    /// How long orders are started.
    pub(crate) duration: Duration,
    /// Between two progress lines.
    pub(crate) sample: Duration,
    /// The server process whose RSS is read; `None`: this process.
    pub(crate) server_pid: Option<u32>,
}

/// What every client shares.
struct Shared {
    target: Arc<Target>,
    skus: Arc<[String]>,
    /// Orders confirmed so far, for the progress lines.
    confirmed: AtomicU64,
    /// Orders started so far; also the next SKU and idempotency key.
    started: AtomicU64,
}

/// What one client saw: checkout latencies and statuses, errors by code.
struct ClientReport {
    http: Report,
    errors: BTreeMap<(u16, String), u64>,
    /// Orders started more than a second after their planned time.
    late: u64,
}

impl ClientReport {
    fn new() -> Self {
        ClientReport {
            http: Report::new(),
            errors: BTreeMap::new(),
            late: 0,
        }
    }
}

/// One order: a cart, its line, its checkout. The checkout's answer, or the
/// status and error code of the step that failed first.
async fn order(
    connection: &mut Connection,
    shared: &Shared,
    index: u64,
) -> anyhow::Result<(StatusCode, hyper::body::Bytes)> {
    let target = &shared.target;
    let (status, body) = connection
        .send(request(target, Method::POST, "/v1/carts", None, false))
        .await?;
    if status != StatusCode::CREATED {
        return Ok((status, body));
    }
    let cart: Value = serde_json::from_slice(&body).context("a cart answer is not JSON")?;
    let cart = cart["id"].as_str().context("a cart answer has no id")?.to_owned();
    let sku = &shared.skus[index as usize % shared.skus.len()];
    let line = format!(r#"{{"sku":"{sku}","qty":1}}"#);
    let path = format!("/v1/carts/{cart}/items");
    let (status, body) = connection
        .send(request(target, Method::POST, &path, Some(line), false))
        .await?;
    if status != StatusCode::OK {
        return Ok((status, body));
    }
    connection
        .send(checkout_request(target, &cart, &format!("sustained-{index}")))
        .await
}

/// One client: its share of the orders, each at its planned time.
async fn client(shared: Arc<Shared>, first_at: Instant, every: Duration, until: Instant) -> ClientReport {
    let mut report = ClientReport::new();
    let mut connection: Option<Connection> = None;
    let mut next_at = first_at;
    while next_at < until {
        tokio::time::sleep_until(next_at.into()).await;
        if next_at.elapsed() > Duration::from_secs(1) {
            report.late += 1;
        }
        next_at += every;
        let Some(open) = kept_open(&mut connection, &shared.target).await else {
            report.http.transport_errors += 1;
            continue;
        };
        let index = shared.started.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        match order(open, &shared, index).await {
            Ok((status, body)) => {
                *report.http.statuses.entry(status.as_u16()).or_default() += 1;
                if status == StatusCode::CREATED && is_confirmed(&body) {
                    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
                    report.http.latencies.saturating_record(micros.max(1));
                    report.http.succeeded += 1;
                    shared.confirmed.fetch_add(1, Ordering::Relaxed);
                } else {
                    *report.errors.entry((status.as_u16(), error_code(&body))).or_default() += 1;
                }
            }
            Err(_) => {
                report.http.transport_errors += 1;
                connection = None;
            }
        }
    }
    report
}

/// Resident set size of `pid` (this process when `None`), in bytes.
fn rss_bytes(pid: Option<u32>) -> anyhow::Result<u64> {
    let path = pid.map_or_else(|| "/proc/self/status".to_owned(), |pid| format!("/proc/{pid}/status"));
    let status = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no VmRSS line in {path}"))?;
    Ok(kib * 1024)
}

/// `kind=count` for each kind of `mercato_actors_active`, or `?` when
/// `/metrics` does not answer.
async fn live_actors(target: &Target) -> String {
    let Ok((StatusCode::OK, body)) = call_once(target, request(target, Method::GET, "/metrics", None, false)).await
    else {
        return "?".to_owned();
    };
    String::from_utf8_lossy(&body)
        .lines()
        .filter_map(|line| line.strip_prefix("mercato_actors_active{kind=\""))
        .filter_map(|rest| {
            let (kind, value) = rest.split_once("\"} ")?;
            Some(format!("{kind}={value}"))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// MiB, for the printed lines.
fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Runs the orders and prints the progress lines and the summary. Fails when
/// the RSS cannot be read (a wrong `--server-pid`).
pub(crate) async fn run(target: Arc<Target>, skus: Arc<[String]>, pace: Pace) -> anyhow::Result<()> {
    if pace.rate <= 0.0 {
        bail!("--rate must be above 0");
    }
    let connections = pace.connections.max(1);
    let rss_at_start = rss_bytes(pace.server_pid)?;
    println!(
        "clients       {connections} connections, {:.0} orders/s in all (cart + line + checkout), {} s; RSS of {}",
        pace.rate,
        pace.duration.as_secs(),
        pace.server_pid.map_or_else(
            || "this process (server and client)".to_owned(),
            |pid| format!("pid {pid}")
        )
    );
    println!(
        "start         RSS {:.0} MiB, actors {}",
        mib(rss_at_start),
        live_actors(&target).await
    );
    let shared = Arc::new(Shared {
        target: Arc::clone(&target),
        skus,
        confirmed: AtomicU64::new(0),
        started: AtomicU64::new(0),
    });
    let began = Instant::now();
    let until = began + pace.duration;
    let every = Duration::from_secs_f64(connections as f64 / pace.rate);
    let mut tasks = tokio::task::JoinSet::new();
    for client_index in 0..connections {
        let first_at = began + every.mul_f64(client_index as f64 / connections as f64);
        tasks.spawn(client(Arc::clone(&shared), first_at, every, until));
    }
    let mut peak = rss_at_start;
    let (mut last_at, mut last_confirmed) = (began, 0);
    let mut ticker = tokio::time::interval_at((began + pace.sample).into(), pace.sample);
    while Instant::now() + pace.sample / 2 < until {
        ticker.tick().await;
        let rss = rss_bytes(pace.server_pid)?;
        peak = peak.max(rss);
        let confirmed = shared.confirmed.load(Ordering::Relaxed);
        let rate = (confirmed - last_confirmed) as f64 / last_at.elapsed().as_secs_f64();
        (last_at, last_confirmed) = (Instant::now(), confirmed);
        println!(
            "t={:>5.0}s     {confirmed} confirmed ({rate:.0}/s), RSS {:.0} MiB, actors {}",
            began.elapsed().as_secs_f64(),
            mib(rss),
            live_actors(&target).await
        );
    }
    let mut report = ClientReport::new();
    while let Some(result) = tasks.join_next().await {
        let other = result.context("a client task panicked")?;
        report.http.merge(other.http);
        for (key, count) in other.errors {
            *report.errors.entry(key).or_default() += count;
        }
        report.late += other.late;
    }
    let rss = rss_bytes(pace.server_pid)?;
    peak = peak.max(rss);
    let seconds = began.elapsed().as_secs_f64();
    let http = &report.http;
    println!(
        "orders        {} confirmed in {seconds:.0} s ({:.0}/s), {} transport errors, {} started over 1 s late",
        http.succeeded,
        http.succeeded as f64 / seconds,
        http.transport_errors,
        report.late
    );
    print_status_lines(&http.statuses, &report.errors);
    println!(
        "latency ms    cart + line + checkout: p50 {:.3}  p99 {:.3}  max {:.3}",
        percentile_ms(&http.latencies, 0.50),
        percentile_ms(&http.latencies, 0.99),
        http.latencies.max() as f64 / 1000.0,
    );
    println!(
        "rss           end {:.0} MiB, peak {:.0} MiB; target <= {} MB at the end: {}",
        mib(rss),
        mib(peak),
        TARGET_RSS_BYTES / 1_000_000,
        if rss <= TARGET_RSS_BYTES { "met" } else { "NOT met" }
    );
    Ok(())
}
