//! `flash`: a flash sale. `--buyers` carts each hold one unit of one fresh SKU
//! stocked with `--units`; `--in-flight` connections are opened first, then all
//! checkouts are fired at once (each connection takes the next buyer as soon as
//! its previous answer is in). A buyer whose request gets no answer, a 503 or
//! 409 `checkout_in_progress` retries with the same `Idempotency-Key`, as a real
//! client would, at most [`MAX_ATTEMPTS`] times.
//!
//! The invariant: exactly `min(units, buyers)` buyers get 201 with a confirmed
//! order, every other buyer gets 409 `out_of_stock`, and afterwards the SKU
//! reads `on_hand` = units - sold, `reserved` 0, `sold` = min(units, buyers).
//! [`run`] fails when it does not hold, so the bench exits non-zero.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use hdrhistogram::Histogram;
use hyper::StatusCode;

use crate::api::{checkout_request, error_code, is_confirmed, stock_level, ServerCounters};
use crate::client::Connection;
use crate::client::Target;
use crate::cpu::CpuSample;
use crate::{percentile_ms, print_status_lines};

/// Attempts per buyer at most.
const MAX_ATTEMPTS: u32 = 5;
/// Pause before a retry.
const RETRY_PAUSE: Duration = Duration::from_millis(50);
/// Every buyer should have an answer within this time of the start.
const TARGET_ANSWER_TIME: Duration = Duration::from_secs(2);
/// Longest time the histograms hold, in microseconds.
const MAX_US: u64 = 300_000_000;

/// The final answer one buyer got.
struct Answer {
    /// The status, or `None` when every attempt failed to get one.
    status: Option<StatusCode>,
    /// `error.code` of a non-201 answer.
    code: String,
    /// A 201 whose order is `confirmed`.
    confirmed: bool,
    /// From the buyer's first attempt to the final answer.
    latency: Duration,
    /// When the final answer came.
    answered: Instant,
    /// Requests sent.
    attempts: u32,
}

/// What every connection shares.
struct Shared {
    target: Arc<Target>,
    carts: Arc<[String]>,
    next: AtomicUsize,
    /// Every connection waits here once open, and so does the run, which then starts the clock.
    ready: tokio::sync::Barrier,
}

/// Whether an answer should be retried with the same key.
fn retryable(status: StatusCode, body: &[u8]) -> bool {
    status == StatusCode::SERVICE_UNAVAILABLE
        || (status == StatusCode::CONFLICT && error_code(body) == "checkout_in_progress")
}

/// One buyer's checkout, retried as [`retryable`] says; `connection` is
/// reopened after a transport error.
async fn buy(shared: &Shared, connection: &mut Option<Connection>, index: usize) -> Answer {
    let first = Instant::now();
    let key = format!("flash-{index}");
    let mut attempts = 0;
    loop {
        attempts += 1;
        let outcome = match connection.as_mut() {
            Some(open) => Ok(open),
            None => Connection::open(shared.target.addr)
                .await
                .map(|open| connection.insert(open)),
        };
        let outcome = match outcome {
            Ok(open) => {
                open.send(checkout_request(&shared.target, &shared.carts[index], &key))
                    .await
            }
            Err(err) => Err(err),
        };
        let answered = Instant::now();
        let last = attempts >= MAX_ATTEMPTS;
        match outcome {
            Ok((status, body)) if last || !retryable(status, &body) => {
                let created = status == StatusCode::CREATED;
                return Answer {
                    status: Some(status),
                    code: if created { String::new() } else { error_code(&body) },
                    confirmed: created && is_confirmed(&body),
                    latency: answered - first,
                    answered,
                    attempts,
                };
            }
            Ok(_) => {}
            Err(_) if last => {
                return Answer {
                    status: None,
                    code: String::new(),
                    confirmed: false,
                    latency: answered - first,
                    answered,
                    attempts,
                }
            }
            Err(_) => *connection = None,
        }
        tokio::time::sleep(RETRY_PAUSE).await;
    }
}

/// One connection: opens, waits for the start, then serves buyers until none is left.
async fn connection_task(shared: Arc<Shared>) -> anyhow::Result<Vec<Answer>> {
    let opened = Connection::open(shared.target.addr).await;
    shared.ready.wait().await;
    let mut connection = Some(opened?);
    let mut answers = Vec::new();
    loop {
        let index = shared.next.fetch_add(1, Ordering::Relaxed);
        if index >= shared.carts.len() {
            return Ok(answers);
        }
        answers.push(buy(&shared, &mut connection, index).await);
    }
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_US, 3).expect("the histogram bounds are valid")
}

fn record(histogram: &mut Histogram<u64>, duration: Duration) {
    histogram.saturating_record(u64::try_from(duration.as_micros()).unwrap_or(u64::MAX).max(1));
}

fn quantiles(histogram: &Histogram<u64>) -> String {
    format!(
        "p50 {:.1}  p90 {:.1}  p99 {:.1}  max {:.1}  (n={})",
        percentile_ms(histogram, 0.50),
        percentile_ms(histogram, 0.90),
        percentile_ms(histogram, 0.99),
        histogram.max() as f64 / 1000.0,
        histogram.len()
    )
}

/// Fires every checkout, prints the outcome, checks the invariant.
pub(crate) async fn run(
    target: Arc<Target>,
    sku: &str,
    units: u64,
    carts: Arc<[String]>,
    in_flight: usize,
) -> anyhow::Result<()> {
    let buyers = carts.len();
    let in_flight = in_flight.clamp(1, buyers.max(1));
    let shared = Arc::new(Shared {
        target: Arc::clone(&target),
        carts,
        next: AtomicUsize::new(0),
        ready: tokio::sync::Barrier::new(in_flight + 1),
    });
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..in_flight {
        tasks.spawn(connection_task(Arc::clone(&shared)));
    }
    let (counters_before, cpu_before) = (ServerCounters::read(&target).await, CpuSample::now());
    shared.ready.wait().await;
    let start = Instant::now();
    let mut answers = Vec::with_capacity(buyers);
    while let Some(result) = tasks.join_next().await {
        answers.extend(result.context("a connection task panicked")??);
    }
    let all_done = start.elapsed();
    let (counters_after, cpu_after) = (ServerCounters::read(&target).await, CpuSample::now());

    let (mut sold_latency, mut refused_latency, mut answered_at) = (histogram(), histogram(), histogram());
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    let mut errors: BTreeMap<(u16, String), u64> = BTreeMap::new();
    let (mut confirmed, mut out_of_stock, mut unanswered, mut retried) = (0u64, 0u64, 0u64, 0u64);
    let mut last_answer = Duration::ZERO;
    for answer in &answers {
        retried += u64::from(answer.attempts > 1);
        let Some(status) = answer.status else {
            unanswered += 1;
            continue;
        };
        let since_start = answer.answered.saturating_duration_since(start);
        last_answer = last_answer.max(since_start);
        record(&mut answered_at, since_start);
        *statuses.entry(status.as_u16()).or_default() += 1;
        if status == StatusCode::CREATED {
            record(&mut sold_latency, answer.latency);
            confirmed += u64::from(answer.confirmed);
        } else {
            if status == StatusCode::CONFLICT && answer.code == "out_of_stock" {
                record(&mut refused_latency, answer.latency);
                out_of_stock += 1;
            }
            *errors.entry((status.as_u16(), answer.code.clone())).or_default() += 1;
        }
    }
    let level = stock_level(&target, sku).await?;
    let field = |name: &str| level[name].as_u64().unwrap_or(u64::MAX);
    let (on_hand, reserved, sold) = (field("on_hand"), field("reserved"), field("sold"));

    let expected_sold = units.min(buyers as u64);
    let expected_refused = buyers as u64 - expected_sold;
    let created = statuses.get(&201).copied().unwrap_or(0);
    println!("in flight     {in_flight} connections, opened before the start");
    println!(
        "answers       {} of {buyers} buyers answered; {retried} retried; {unanswered} without an answer",
        answers.len() as u64 - unanswered
    );
    print_status_lines(&statuses, &errors);
    println!("  201 with a confirmed order  {confirmed}");
    println!("stock after   on_hand {on_hand}  reserved {reserved}  sold {sold}  (of {units} units)");
    println!(
        "answer time   {:.3} s until the last buyer had an answer ({:.3} s until every task ended); target {} s: {}",
        last_answer.as_secs_f64(),
        all_done.as_secs_f64(),
        TARGET_ANSWER_TIME.as_secs(),
        if unanswered == 0 && last_answer <= TARGET_ANSWER_TIME {
            "met"
        } else {
            "NOT met"
        }
    );
    println!("answered at   ms since the start: {}", quantiles(&answered_at));
    println!(
        "latency 201   ms, first attempt to answer: {}",
        quantiles(&sold_latency)
    );
    println!(
        "latency 409   ms, first attempt to answer: {}",
        quantiles(&refused_latency)
    );
    println!(
        "rate          {:.0} checkouts answered/s over the burst",
        answered_at.len() as f64 / last_answer.as_secs_f64().max(1e-3)
    );
    if let (Some(before), Some(after)) = (counters_before, counters_after) {
        println!("server        {}", after.describe_since(&before));
    }
    if let (Some(before), Some(after)) = (cpu_before, cpu_after) {
        println!("cpu           {}", after.describe_since(&before));
    }

    let mut broken = Vec::new();
    if created != expected_sold || confirmed != expected_sold {
        broken.push(format!(
            "{created} answers 201 ({confirmed} confirmed), expected {expected_sold}"
        ));
    }
    if out_of_stock != expected_refused || unanswered > 0 || created + out_of_stock != buyers as u64 {
        broken.push(format!(
            "{out_of_stock} answers 409 out_of_stock and {unanswered} unanswered, expected {expected_refused} and 0"
        ));
    }
    if sold != expected_sold || reserved != 0 || on_hand != units - expected_sold {
        broken.push(format!(
            "stock reads on_hand {on_hand} reserved {reserved} sold {sold}, expected {} 0 {expected_sold}",
            units - expected_sold
        ));
    }
    if !broken.is_empty() {
        println!("invariant     BROKEN: {}", broken.join("; "));
        bail!("flash sale invariant broken: {}", broken.join("; "));
    }
    println!("invariant     held: exactly {expected_sold} sold, {expected_refused} refused out_of_stock");
    Ok(())
}
