//! `steady`: checkouts per second end to end. Carts holding one line each, spread
//! round-robin over the SKUs, are prepared before the timed phase; then
//! `--connections` closed-loop clients each take the next unused cart and check
//! it out (its own `Idempotency-Key`), until `--duration` has passed or the carts
//! run out. Checkouts started in the warm-up are not recorded.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use hyper::StatusCode;

use crate::api::{checkout_request, error_code, is_confirmed, kept_open};
use crate::client::Connection;
use crate::client::{Report, Target};
use crate::{percentile_ms, print_status_lines};

/// Pause before reconnecting after a transport error.
const RECONNECT_PAUSE: Duration = Duration::from_millis(10);
/// The throughput to compare against, checkouts per second.
const TARGET_RATE: f64 = 5_000.0;
/// The p99 latency to compare against, in milliseconds.
const TARGET_P99_MS: f64 = 20.0;

/// What every client shares.
struct Shared {
    target: Arc<Target>,
    /// The prepared carts; each is checked out once.
    carts: Arc<[String]>,
    /// Index of the next unused cart.
    next: AtomicUsize,
    /// Checkouts started from then on are recorded.
    measure_from: Instant,
    /// No checkout starts after this.
    until: Instant,
}

/// What one client measured (recorded checkouts only, except `warmup`).
struct ClientReport {
    /// 201 latencies, answers by status, transport errors.
    http: Report,
    /// Non-201 answers by status and error code.
    errors: BTreeMap<(u16, String), u64>,
    /// 201 answers whose order is not `confirmed`.
    unconfirmed: u64,
    /// Confirmed orders, the warm-up's included (for the stock check).
    confirmed: u64,
    /// Checkouts sent during the warm-up.
    warmup: u64,
    /// When the last recorded answer came.
    last_answer: Option<Instant>,
    /// Whether this client stopped because the carts ran out.
    exhausted: bool,
}

impl ClientReport {
    fn new() -> Self {
        ClientReport {
            http: Report::new(),
            errors: BTreeMap::new(),
            unconfirmed: 0,
            confirmed: 0,
            warmup: 0,
            last_answer: None,
            exhausted: false,
        }
    }

    fn merge(&mut self, other: ClientReport) {
        self.http.merge(other.http);
        for (key, count) in other.errors {
            *self.errors.entry(key).or_default() += count;
        }
        self.unconfirmed += other.unconfirmed;
        self.confirmed += other.confirmed;
        self.warmup += other.warmup;
        self.last_answer = self.last_answer.max(other.last_answer);
        self.exhausted |= other.exhausted;
    }
}

/// One closed-loop client: checks out the next unused cart, again and again.
async fn client(shared: Arc<Shared>) -> ClientReport {
    let mut report = ClientReport::new();
    let mut connection: Option<Connection> = None;
    while Instant::now() < shared.until {
        let index = shared.next.fetch_add(1, Ordering::Relaxed);
        let Some(cart) = shared.carts.get(index) else {
            report.exhausted = true;
            break;
        };
        let Some(open) = kept_open(&mut connection, &shared.target).await else {
            report.http.transport_errors += 1;
            tokio::time::sleep(RECONNECT_PAUSE).await;
            continue;
        };
        let request = checkout_request(&shared.target, cart, &format!("bench-{index}"));
        let started = Instant::now();
        let outcome = open.send(request).await;
        let answered = Instant::now();
        if outcome.is_err() {
            connection = None;
        }
        if let Ok((StatusCode::CREATED, body)) = &outcome {
            report.confirmed += u64::from(is_confirmed(body));
        }
        if started < shared.measure_from {
            report.warmup += 1;
            continue;
        }
        match outcome {
            Ok((status, body)) => {
                *report.http.statuses.entry(status.as_u16()).or_default() += 1;
                if status == StatusCode::CREATED {
                    let micros = u64::try_from((answered - started).as_micros()).unwrap_or(u64::MAX);
                    report.http.latencies.saturating_record(micros.max(1));
                    report.http.succeeded += 1;
                    report.unconfirmed += u64::from(!is_confirmed(&body));
                } else {
                    *report.errors.entry((status.as_u16(), error_code(&body))).or_default() += 1;
                }
                report.last_answer = Some(answered);
            }
            Err(_) => report.http.transport_errors += 1,
        }
    }
    report
}

/// What a run did.
pub(crate) struct Outcome {
    /// Orders confirmed, the warm-up's included.
    pub(crate) confirmed: u64,
    /// The measured part: from the end of the warm-up to the last answer.
    pub(crate) measured: std::ops::Range<Instant>,
}

/// Runs the clients over `carts` and prints the summary (with the server's CPU
/// per checkout when it runs `in_process`).
pub(crate) async fn run(
    target: Arc<Target>,
    carts: Arc<[String]>,
    connections: usize,
    warmup: Duration,
    duration: Duration,
    in_process: bool,
) -> anyhow::Result<Outcome> {
    let measure_from = Instant::now() + warmup;
    let shared = Arc::new(Shared {
        target: Arc::clone(&target),
        carts: Arc::clone(&carts),
        next: AtomicUsize::new(0),
        measure_from,
        until: measure_from + duration,
    });
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections {
        tasks.spawn(client(Arc::clone(&shared)));
    }
    // Server counters and CPU times over the measured part only.
    tokio::time::sleep_until(measure_from.into()).await;
    let (counters_before, cpu_before) = (
        crate::api::ServerCounters::read(&target).await,
        crate::cpu::CpuSample::now(),
    );
    let mut report = ClientReport::new();
    while let Some(result) = tasks.join_next().await {
        report.merge(result.context("a client task panicked")?);
    }
    let (counters_after, cpu_after) = (
        crate::api::ServerCounters::read(&target).await,
        crate::cpu::CpuSample::now(),
    );
    let measured = report
        .last_answer
        .map_or(duration, |last| last.saturating_duration_since(measure_from));
    let seconds = measured.as_secs_f64().max(1e-3);
    let http = &report.http;
    let answered: u64 = http.statuses.values().sum();
    let rate = http.succeeded as f64 / seconds;
    let p99 = percentile_ms(&http.latencies, 0.99);
    println!("clients       {connections} closed-loop connections");
    println!(
        "measured      {seconds:.2} s after {:.1} s warm-up ({} checkouts in the warm-up, not recorded){}",
        warmup.as_secs_f64(),
        report.warmup,
        if report.exhausted {
            " - the prepared carts ran out first; raise --carts"
        } else {
            ""
        }
    );
    println!(
        "checkouts     {} answered, {} transport errors",
        answered, http.transport_errors
    );
    print_status_lines(&http.statuses, &report.errors);
    if report.unconfirmed > 0 {
        println!("  201 but not confirmed  {}", report.unconfirmed);
    }
    println!("throughput    {rate:.0} checkouts/s (201 only)");
    println!(
        "latency ms    p50 {:.3}  p90 {:.3}  p99 {p99:.3}  p99.9 {:.3}  max {:.3}  (201 answers)",
        percentile_ms(&http.latencies, 0.50),
        percentile_ms(&http.latencies, 0.90),
        percentile_ms(&http.latencies, 0.999),
        http.latencies.max() as f64 / 1000.0,
    );
    println!(
        "target        >= {TARGET_RATE:.0}/s at p99 <= {TARGET_P99_MS:.0} ms: {}",
        if rate >= TARGET_RATE && p99 <= TARGET_P99_MS {
            "met"
        } else {
            "NOT met"
        }
    );
    if let (Some(before), Some(after)) = (counters_before, counters_after) {
        println!("server        {}", after.describe_since(&before));
    }
    if let (Some(before), Some(after)) = (cpu_before, cpu_after) {
        println!("cpu           {}", after.describe_since(&before));
        if in_process && rate > 0.0 {
            let server = after.server_cores_since(&before);
            println!(
                "server cpu    {server:.2} cores, {:.0} µs per checkout (the in-process server's threads)",
                server * 1e6 / rate
            );
        }
    }
    Ok(Outcome {
        confirmed: report.confirmed,
        measured: measure_from..measure_from + measured,
    })
}
