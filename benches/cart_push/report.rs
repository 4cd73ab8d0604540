//! What every socket saw, added up per phase, and the report printed after a
//! scenario.

use std::collections::HashMap;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::rest::Changes;
use crate::scenario::Shape;
use crate::sockets::{new_histogram, Phase, SocketStats, PHASES};
use crate::{Args, DRAIN_TIMEOUT, TARGET_P99_MS, TARGET_PUSHES};

/// When each change was sent, by cart and version (see [`crate::sockets::Clock`]).
pub(crate) type SentAt = HashMap<(usize, u64), u64>;

/// What every socket saw, added up per phase.
pub(crate) struct Merged {
    pub(crate) received: [u64; PHASES],
    pub(crate) skipped: [u64; PHASES],
    /// Snapshots of a version no timed change produced.
    pub(crate) untimed: [u64; PHASES],
    pub(crate) out_of_order: [u64; PHASES],
    pub(crate) latencies: [Histogram<u64>; PHASES],
    pub(crate) ended: usize,
    pub(crate) first_end: Option<String>,
}

impl Merged {
    pub(crate) fn new() -> Self {
        Merged {
            received: [0; PHASES],
            skipped: [0; PHASES],
            untimed: [0; PHASES],
            out_of_order: [0; PHASES],
            latencies: std::array::from_fn(|_| new_histogram()),
            ended: 0,
            first_end: None,
        }
    }

    /// Adds what one socket saw, its latencies from the send instants in `sent`.
    pub(crate) fn add(&mut self, stats: SocketStats, sent: &SentAt) {
        for (phase, seen) in stats.phases.into_iter().enumerate() {
            self.received[phase] += seen.received;
            self.skipped[phase] += seen.skipped;
            self.out_of_order[phase] += seen.out_of_order;
            for (version, arrived) in seen.arrivals {
                match sent.get(&(stats.cart, version)) {
                    Some(&sent) => self.latencies[phase].saturating_record(arrived.saturating_sub(sent).max(1)),
                    None => self.untimed[phase] += 1,
                }
            }
        }
        if let Some(reason) = stats.ended {
            self.ended += 1;
            self.first_end.get_or_insert(reason);
        }
    }
}

/// Notes the send instants of `changes` in `sent` and moves `versions` (by cart)
/// to the latest version they produced.
pub(crate) fn note_changes(changes: &Changes, sent: &mut SentAt, versions: &mut [u64]) {
    for &(cart, version, at) in &changes.sent {
        sent.insert((cart, version), at);
        versions[cart] = versions[cart].max(version);
    }
}

/// A quantile of `latencies` (microseconds), in milliseconds.
fn ms(latencies: &Histogram<u64>, quantile: f64) -> f64 {
    latencies.value_at_quantile(quantile) as f64 / 1000.0
}

/// `p50 … p90 … p99 … p99.9 … max …` of `latencies`, in milliseconds.
fn quantiles(latencies: &Histogram<u64>) -> String {
    if latencies.is_empty() {
        return "none".to_owned();
    }
    format!(
        "p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2} ms",
        ms(latencies, 0.5),
        ms(latencies, 0.9),
        ms(latencies, 0.99),
        ms(latencies, 0.999),
        latencies.max() as f64 / 1000.0
    )
}

/// A count with thousands separators.
pub(crate) fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// `part` as a percentage of `whole`.
fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// What the latency phase did, for the report.
pub(crate) struct LatencyPhase {
    pub(crate) changes: Changes,
    /// Sockets that had not caught up when the phase ended.
    pub(crate) behind: usize,
    pub(crate) cpu: String,
}

/// What the load phase did, for the report.
pub(crate) struct Load {
    pub(crate) changes: Changes,
    pub(crate) connections: usize,
    pub(crate) elapsed: Duration,
    pub(crate) cpu: String,
    /// How long the sockets took to catch up after the load.
    pub(crate) caught_up: Duration,
    /// Sockets that had not caught up by then.
    pub(crate) behind: usize,
}

/// Prints what a scenario measured; returns a one-line summary.
pub(crate) fn report(
    args: &Args,
    shape: Shape,
    merged: &Merged,
    latency: &LatencyPhase,
    load: Option<&Load>,
) -> String {
    let phase = Phase::Latency as usize;
    let expected = latency.changes.done * shape.per_cart as u64;
    println!(
        "-- latency: {} changes, one every {} ms on one connection, round-robin over {} cart(s)",
        count(latency.changes.done),
        args.interval_ms,
        count(shape.carts.min(args.changes as usize) as u64)
    );
    println!("REST PATCH    {}", quantiles(&latency.changes.rest_latencies));
    println!(
        "push latency  {}  ({} snapshots timed)",
        quantiles(&merged.latencies[phase]),
        count(merged.latencies[phase].len())
    );
    println!(
        "deliveries    {} expected (changes x sockets per cart): {} received, {} skipped ({:.2} %), {} untimed{}",
        count(expected),
        count(merged.received[phase]),
        count(merged.skipped[phase]),
        percent(merged.skipped[phase], expected),
        count(merged.untimed[phase]),
        if latency.behind > 0 {
            format!(
                "; {} sockets behind after {} s",
                latency.behind,
                DRAIN_TIMEOUT.as_secs()
            )
        } else {
            String::new()
        }
    );
    println!("cpu           {}", latency.cpu);
    if shape.name == "fanout" && !merged.latencies[phase].is_empty() {
        let p99 = ms(&merged.latencies[phase], 0.99);
        println!(
            "target        p99 <= {TARGET_P99_MS} ms: {} (p99 {p99:.2} ms)",
            if p99 <= TARGET_P99_MS { "met" } else { "MISSED" }
        );
    }
    if let Some(err) = &latency.changes.error {
        println!("error         {err:#}");
    }
    let mut summary = format!(
        "{:<8} latency p50 {:.2}  p99 {:.2}  max {:.2} ms, {:.2} % skipped",
        shape.name,
        ms(&merged.latencies[phase], 0.5),
        ms(&merged.latencies[phase], 0.99),
        merged.latencies[phase].max() as f64 / 1000.0,
        percent(merged.skipped[phase], expected)
    );

    if let Some(load) = load {
        let (during, after) = (Phase::Load as usize, Phase::Backlog as usize);
        let seconds = load.elapsed.as_secs_f64();
        let pushes = merged.received[during] as f64 / seconds;
        let made = load.changes.done * shape.per_cart as u64;
        let skipped = merged.skipped[during] + merged.skipped[after];
        println!(
            "-- load: {seconds:.2} s of changes back to back on {} connection(s)",
            load.connections
        );
        println!(
            "changes       {:.0}/s ({} changes; REST {})",
            load.changes.done as f64 / seconds,
            count(load.changes.done),
            quantiles(&load.changes.rest_latencies)
        );
        println!(
            "pushes        {pushes:.0}/s delivered during the load ({} snapshots; changes x sockets made: {:.0}/s)",
            count(merged.received[during]),
            made as f64 / seconds
        );
        println!(
            "skipped       {} of {} change x socket deliveries ({:.1} %)",
            count(skipped),
            count(made),
            percent(skipped, made)
        );
        println!(
            "push latency  {}  (delivered snapshots)",
            quantiles(&merged.latencies[during])
        );
        println!(
            "backlog       {} snapshots after the load stopped, all sockets up to date {:.2} s later{}",
            count(merged.received[after]),
            load.caught_up.as_secs_f64(),
            if load.behind > 0 {
                format!(" ({} still behind)", load.behind)
            } else {
                String::new()
            }
        );
        println!("cpu           {}", load.cpu);
        println!(
            "target        >= {TARGET_PUSHES:.0} pushes/s: {}",
            if pushes >= TARGET_PUSHES { "met" } else { "MISSED" }
        );
        if let Some(err) = &load.changes.error {
            println!("error         {err:#}");
        }
        summary.push_str(&format!(
            "; load {pushes:.0} pushes/s ({:.0} changes/s, {:.1} % skipped, p99 {:.2} ms)",
            load.changes.done as f64 / seconds,
            percent(skipped, made),
            ms(&merged.latencies[during], 0.99)
        ));
    }
    let out_of_order: u64 = merged.out_of_order.iter().sum();
    if merged.ended > 0 || out_of_order > 0 {
        println!(
            "problems      {} socket(s) ended early (first: {}); {} snapshot(s) out of order",
            merged.ended,
            merged.first_end.as_deref().unwrap_or("-"),
            out_of_order
        );
    }
    summary
}
