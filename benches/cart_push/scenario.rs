//! One scenario: its carts and sockets, the latency phase and the load
//! phase.

use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::stream::{self, StreamExt};

use crate::client::Target;
use crate::process::CpuMeter;
use crate::report::{count, note_changes, report, LatencyPhase, Load, Merged, SentAt};
use crate::rest::{self, Changes, Pace};
use crate::sockets::{self, Clock, Phase, Shared};
use crate::{Args, CONNECT_TIMEOUT, DRAIN_TIMEOUT};

/// The carts and sockets of one scenario.
#[derive(Clone, Copy)]
pub(crate) struct Shape {
    pub(crate) name: &'static str,
    pub(crate) carts: usize,
    pub(crate) per_cart: usize,
}

impl Shape {
    pub(crate) fn sockets(&self) -> usize {
        self.carts * self.per_cart
    }
}

/// Everything a scenario needs from the run.
pub(crate) struct Run {
    pub(crate) target: Arc<Target>,
    /// `ws://host[/base]`.
    pub(crate) ws_base: String,
    pub(crate) skus: Arc<[String]>,
    pub(crate) clock: Clock,
    pub(crate) server_pid: Option<u32>,
    /// Both ends of every socket are in this process.
    pub(crate) in_process: bool,
}

/// Creates the carts, connects the sockets, runs both phases and prints what
/// they measured; returns a one-line summary.
pub(crate) async fn scenario(args: &Args, run: &Run, shape: Shape) -> anyhow::Result<String> {
    let sockets = shape.sockets();
    println!();
    println!(
        "== {}: {} cart(s) x {} socket(s) = {} sockets",
        shape.name,
        count(shape.carts as u64),
        shape.per_cart,
        count(sockets as u64)
    );
    let started = Instant::now();
    let made = rest::carts(&run.target, shape.carts, &run.skus).await?;
    let set_up = started.elapsed();
    let ids: Arc<[String]> = made.iter().map(|(id, _)| id.clone()).collect();
    let mut versions: Vec<u64> = made.iter().map(|(_, version)| *version).collect();
    let socket_carts: Vec<usize> = (0..sockets).map(|n| n % shape.carts).collect();
    let shared = Arc::new(Shared {
        clock: run.clock,
        phase: AtomicUsize::new(Phase::Connect as usize),
        last_version: (0..sockets).map(|_| AtomicU64::new(0)).collect(),
    });
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let mut followers = tokio::task::JoinSet::new();
    let started = Instant::now();
    let addr = run.target.addr;
    let mut handshakes = stream::iter(socket_carts.iter().copied().enumerate())
        .map(|(n, cart)| {
            let url = format!("{}/v1/carts/{}/ws", run.ws_base, ids[cart]);
            async move { (n, cart, sockets::connect(addr, &url).await) }
        })
        .buffer_unordered(args.connect_concurrency.max(1));
    while let Some((n, cart, socket)) = handshakes.next().await {
        match socket {
            Ok(socket) => {
                followers.spawn(sockets::follow(socket, n, cart, Arc::clone(&shared), stop_rx.clone()));
            }
            Err(err) => {
                let _ = stop.send(true);
                return Err(err.context(format!("socket {n} of {sockets} did not connect")));
            }
        }
    }
    drop(handshakes);
    let connected = started.elapsed();
    let behind = sockets::wait_caught_up(&shared, &socket_carts, &versions, CONNECT_TIMEOUT).await;
    println!(
        "set-up        {} cart(s) of {} lines in {:.2} s; {} sockets connected in {:.2} s{}",
        count(shape.carts as u64),
        rest::LINES,
        set_up.as_secs_f64(),
        count(sockets as u64),
        connected.as_secs_f64(),
        if behind > 0 {
            format!(
                " ({behind} without their first snapshot after {} s)",
                CONNECT_TIMEOUT.as_secs()
            )
        } else {
            String::new()
        }
    );
    let mut sent = SentAt::new();

    // Latency: spaced changes on one connection, round-robin over the carts.
    shared.set_phase(Phase::Latency);
    let cpu = CpuMeter::start(run.server_pid);
    let pace = Pace::Spaced {
        count: args.changes,
        every: Duration::from_millis(args.interval_ms),
    };
    let all_carts: Vec<usize> = (0..shape.carts).collect();
    let latency_changes = rest::change_carts(
        Arc::clone(&run.target),
        Arc::clone(&ids),
        run.clock,
        Arc::clone(&run.skus),
        all_carts,
        pace,
    )
    .await;
    note_changes(&latency_changes, &mut sent, &mut versions);
    let latency_behind = sockets::wait_caught_up(&shared, &socket_carts, &versions, DRAIN_TIMEOUT).await;
    let latency_cpu = cpu.line(run.in_process);

    // Load: back to back on --load-connections connections; each owns its carts
    // when there are enough carts, else several share one.
    let mut load = None;
    if latency_changes.error.is_none() && args.load_secs > 0 {
        shared.set_phase(Phase::Load);
        let cpu = CpuMeter::start(run.server_pid);
        let connections = args.load_connections.max(1);
        let load_started = Instant::now();
        let until = load_started + Duration::from_secs(args.load_secs);
        let mut tasks = tokio::task::JoinSet::new();
        for first in 0..connections {
            let carts: Vec<usize> = match connections <= shape.carts {
                true => (first..shape.carts).step_by(connections).collect(),
                false => vec![first % shape.carts],
            };
            tasks.spawn(rest::change_carts(
                Arc::clone(&run.target),
                Arc::clone(&ids),
                run.clock,
                Arc::clone(&run.skus),
                carts,
                Pace::Until(until),
            ));
        }
        let mut changes = Changes::new();
        while let Some(result) = tasks.join_next().await {
            changes.merge(result.context("a change task panicked")?);
        }
        let elapsed = load_started.elapsed();
        shared.set_phase(Phase::Backlog);
        let cpu = cpu.line(run.in_process);
        note_changes(&changes, &mut sent, &mut versions);
        let backlog_started = Instant::now();
        let behind = sockets::wait_caught_up(&shared, &socket_carts, &versions, DRAIN_TIMEOUT).await;
        load = Some(Load {
            changes,
            connections,
            elapsed,
            cpu,
            caught_up: backlog_started.elapsed(),
            behind,
        });
    }

    let _ = stop.send(true);
    let mut merged = Merged::new();
    while let Some(result) = followers.join_next().await {
        merged.add(result.context("a socket task panicked")?, &sent);
    }
    let latency = LatencyPhase {
        changes: latency_changes,
        behind: latency_behind,
        cpu: latency_cpu,
    };
    let summary = report(args, shape, &merged, &latency, load.as_ref());
    if let Some(err) = latency.changes.error {
        return Err(err.context("the latency phase failed"));
    }
    Ok(summary)
}
