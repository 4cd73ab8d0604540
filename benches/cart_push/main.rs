//! Push latency and push throughput of the live cart: from a REST change to the
//! snapshots on the cart's WebSockets.
//!
//! `cargo bench --bench cart_push -- [--scenario fanout|spread|all] [--changes N]
//! [--interval-ms MS] [--load-secs S] [--load-connections N] [--fanout-sockets N]
//! [--spread-carts N] [--spread-sockets-per-cart N] [--server child|in-process]
//! [--url URL] [--token T] [--durability sync|relaxed] [--client-threads N]`
//!
//! Scenarios (`all`, the default, runs both, each on fresh carts):
//!
//! - `fanout`: 1,000 sockets on one cart;
//! - `spread`: 10,000 sockets over 1,000 carts, 10 per cart.
//!
//! Every cart holds three lines (products created for the run, stocked with 10^12
//! units). A change is `PATCH /v1/carts/{id}/items/{sku}` `{"qty":n}`; every
//! change bumps its cart's version by one, so each version is one change's. Each
//! scenario has two phases:
//!
//! 1. **latency**: `--changes` changes (default 200), one every `--interval-ms`
//!    (default 20 ms) on one connection, round-robin over the carts. For every
//!    snapshot a socket receives, the latency is the time from just before the
//!    REST request that produced its version was sent to the snapshot's arrival
//!    (joined after the run: the sockets note versions and arrival instants, the
//!    changes versions and send instants). A socket may skip versions (the server
//!    pushes the latest snapshot only): those are counted as skipped. The run then
//!    waits until every socket has the last version (at most 10 s).
//! 2. **load**: changes back to back for `--load-secs` (default 5 s) on
//!    `--load-connections` connections (default 16). With at least as many carts
//!    as connections each connection changes its own carts in turn (`spread`:
//!    about 62 each); otherwise connections share carts (`fanout`: all 16 change
//!    the one cart, so the server sees concurrent writes to it). Pushes/s is the
//!    number of snapshots the sockets received during the load divided by its
//!    duration; the snapshots still arriving after it are reported as the
//!    backlog. Latencies of the snapshots delivered under load are reported too.
//!
//! Targets: push p99 ≤ 20 ms for the 1,000-socket fan-out, ≥ 50,000 pushes/s on
//! two cores.
//!
//! # The server, and file descriptors
//!
//! Without `--url` the server (the real `Application` on port 0 over a temporary
//! data directory, started by `http_load`'s server module, operator token
//! `--token`) runs in a child process: this same binary, started with a hidden
//! `--serve-child` flag, killed at the end. Each process then holds one end of
//! every socket, which is what lets 10,000 sockets fit under a 20,000 descriptor
//! limit (`ulimit -n`; `ulimit -Hn` is the most a non-privileged shell may raise it
//! to). `--server in-process` runs it in this process instead, like `http_load`:
//! then both ends count against one limit, and `spread` needs `ulimit -n` above
//! 20,300. Either way the server shares the machine's cores with the clients; the
//! CPU each process used, and how busy the whole machine was (anything above the
//! two is another program competing), is printed per phase. With `--url`,
//! products and carts are created on that server through its operator token.
//!
//! The client runs on a tokio runtime of `--client-threads` workers (default 1).
//!
//! # Layout
//!
//! - `main.rs`: flags, the server, the scenarios and the printed summary;
//! - `rest.rs`: the HTTP connection, the set-up and the timed changes;
//! - `sockets.rs`: the socket tasks and what they count.

mod rest;
mod sockets;

#[path = "../http_load/server.rs"]
mod server;

/// `http_load`'s client: its `resolve`, `Target` and `stock_all` are used here,
/// its closed loop is not.
#[allow(dead_code)]
#[path = "../http_load/client.rs"]
mod client;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{Parser, ValueEnum};
use futures_util::stream::{self, StreamExt};
use hdrhistogram::Histogram;
use hyper::header::HeaderValue;
use mercato_actors::storage::Durability;

use client::{resolve, Target};
use rest::{Changes, Pace};
use server::{InProcessServer, Seed};
use sockets::{new_histogram, Clock, Phase, Shared, SocketStats, PHASES};

/// How long the sockets may take to catch up after a phase.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the sockets may take to get their snapshot on connect.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Descriptors kept free for everything but the sockets.
const SPARE_FDS: u64 = 256;
/// Clock ticks per second of `/proc/<pid>/stat` (`USER_HZ`, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;
/// Target: p99 push latency of the fan-out scenario, in milliseconds.
const TARGET_P99_MS: f64 = 20.0;
/// Target: pushes delivered per second under load.
const TARGET_PUSHES: f64 = 50_000.0;

/// Command-line flags.
#[derive(Parser, Debug)]
#[command(about = "Push latency and throughput from REST cart changes to cart WebSockets")]
struct Args {
    /// Base URL of a running server; absent: start one (see --server).
    #[arg(long)]
    url: Option<String>,
    /// Operator token (creates the products and stocks them).
    #[arg(long, default_value = "bench-operator-token")]
    token: String,
    /// What is measured.
    #[arg(long, value_enum, default_value_t = ScenarioArg::All)]
    scenario: ScenarioArg,
    /// Sockets on the one cart of `fanout`.
    #[arg(long, default_value_t = 1_000)]
    fanout_sockets: usize,
    /// Carts of `spread`.
    #[arg(long, default_value_t = 1_000)]
    spread_carts: usize,
    /// Sockets per cart of `spread`.
    #[arg(long, default_value_t = 10)]
    spread_sockets_per_cart: usize,
    /// Changes of the latency phase.
    #[arg(long, default_value_t = 200)]
    changes: u64,
    /// Milliseconds between the starts of two changes of the latency phase.
    #[arg(long, default_value_t = 20)]
    interval_ms: u64,
    /// Seconds of the load phase (0: skip it).
    #[arg(long, default_value_t = 5)]
    load_secs: u64,
    /// Connections changing carts back to back in the load phase (sharing carts if there are fewer).
    #[arg(long, default_value_t = 16)]
    load_connections: usize,
    /// Socket handshakes in flight while connecting.
    #[arg(long, default_value_t = 256)]
    connect_concurrency: usize,
    /// Where the server runs when there is no --url.
    #[arg(long, value_enum, default_value_t = ServerMode::Child)]
    server: ServerMode,
    /// Durability of the started server (ignored with --url).
    #[arg(long, value_enum, default_value_t = DurabilityArg::Sync)]
    durability: DurabilityArg,
    /// Worker threads of the client's tokio runtime.
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
    /// Internal: be the server of a parent run (prints its address, serves until stdin closes).
    #[arg(long, hide = true)]
    serve_child: bool,
    /// Passed by `cargo bench` to every bench target; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// `--scenario`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ScenarioArg {
    /// 1,000 sockets on one cart.
    Fanout,
    /// 10,000 sockets over 1,000 carts.
    Spread,
    /// Both, one after the other.
    All,
}

/// `--server`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ServerMode {
    /// A child process (this binary with --serve-child).
    Child,
    /// A thread of this process.
    InProcess,
}

/// `--durability`.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum DurabilityArg {
    /// Reply after the fsync.
    Sync,
    /// Reply before the flush.
    Relaxed,
}

impl DurabilityArg {
    fn durability(self) -> Durability {
        match self {
            DurabilityArg::Sync => Durability::Sync,
            DurabilityArg::Relaxed => Durability::Relaxed,
        }
    }

    fn flag(self) -> &'static str {
        match self {
            DurabilityArg::Sync => "sync",
            DurabilityArg::Relaxed => "relaxed",
        }
    }
}

/// The carts and sockets of one scenario.
#[derive(Clone, Copy)]
struct Shape {
    name: &'static str,
    carts: usize,
    per_cart: usize,
}

impl Shape {
    fn sockets(&self) -> usize {
        self.carts * self.per_cart
    }
}

/// The server a run talks to.
enum Server {
    /// Given by --url.
    External,
    /// A thread of this process.
    InProcess(InProcessServer),
    /// A child process serving until its stdin closes.
    Child { child: Child, stdin: ChildStdin },
}

impl Server {
    /// Starts the server `args` ask for; returns it and its address (none for --url).
    fn start(args: &Args) -> anyhow::Result<(Server, Option<SocketAddr>)> {
        if args.url.is_some() {
            return Ok((Server::External, None));
        }
        match args.server {
            ServerMode::InProcess => {
                let (server, _) =
                    InProcessServer::start(&args.token, args.durability.durability(), Seed::default(), |_| {})?;
                let addr = server.addr;
                Ok((Server::InProcess(server), Some(addr)))
            }
            ServerMode::Child => {
                let exe = std::env::current_exe().context("cannot find this executable")?;
                let mut child = Command::new(exe)
                    .args(["--serve-child", "--token", &args.token, "--durability"])
                    .arg(args.durability.flag())
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::inherit())
                    .spawn()
                    .context("cannot start the server process")?;
                let stdin = child.stdin.take().context("no stdin pipe to the server")?;
                let stdout = child.stdout.take().context("no stdout pipe from the server")?;
                let mut line = String::new();
                BufReader::new(stdout)
                    .read_line(&mut line)
                    .context("cannot read the server's address")?;
                let addr = match line.trim().parse() {
                    Ok(addr) => addr,
                    Err(_) => {
                        let _ = child.kill();
                        let _ = child.wait();
                        bail!("the server process did not start (it printed {line:?})");
                    }
                };
                Ok((Server::Child { child, stdin }, Some(addr)))
            }
        }
    }

    /// The process whose CPU time is the server's, if it is not this one.
    fn pid(&self) -> Option<u32> {
        match self {
            Server::Child { child, .. } => Some(child.id()),
            _ => None,
        }
    }

    /// Where it runs, for the summary.
    fn describe(&self, addr: &str, durability: DurabilityArg) -> String {
        match self {
            Server::External => format!("{addr} (external)"),
            Server::InProcess(_) => format!("{addr}, in this process ({})", durability.flag()),
            Server::Child { child, .. } => format!("{addr}, child process {} ({})", child.id(), durability.flag()),
        }
    }

    /// Stops a server this run started.
    async fn stop(self) -> anyhow::Result<()> {
        match self {
            Server::External => Ok(()),
            Server::InProcess(server) => server.stop().await.context("the in-process server failed"),
            Server::Child { mut child, stdin } => {
                drop(stdin);
                let waited = tokio::task::spawn_blocking(move || {
                    let deadline = Instant::now() + Duration::from_secs(30);
                    loop {
                        if let Some(status) = child.try_wait()? {
                            return Ok(status);
                        }
                        if Instant::now() >= deadline {
                            child.kill()?;
                            return child.wait();
                        }
                        std::thread::sleep(Duration::from_millis(20));
                    }
                })
                .await?
                .context("cannot wait for the server process")?;
                if !waited.success() {
                    bail!("the server process ended with {waited}");
                }
                Ok(())
            }
        }
    }
}

/// `--serve-child`: serves until the parent closes stdin.
fn serve_child(args: &Args) -> anyhow::Result<()> {
    let (server, _) = InProcessServer::start(&args.token, args.durability.durability(), Seed::default(), |_| {})?;
    println!("{}", server.addr);
    let mut rest = Vec::new();
    // Blocks until the parent closes the pipe (or dies).
    let _ = std::io::stdin().read_to_end(&mut rest);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(server.stop())
}

/// The soft limit on open files of this process, from /proc.
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|line| line.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// User plus system CPU seconds of a process (`self` or a pid), from /proc.
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / TICKS_PER_SECOND)
}

/// Busy CPU seconds of the whole machine (all cores), from /proc/stat.
fn machine_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let ticks: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .map(|field| field.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal ...: idle and iowait are not busy.
    let total: u64 = ticks.iter().take(8).sum();
    let idle = ticks.get(3)? + ticks.get(4)?;
    Some((total - idle) as f64 / TICKS_PER_SECOND)
}

/// CPU used by this process, the server's and the whole machine over a phase.
struct CpuMeter {
    started: Instant,
    client: Option<f64>,
    server_pid: Option<String>,
    server: Option<f64>,
    machine: Option<f64>,
}

impl CpuMeter {
    fn start(server_pid: Option<u32>) -> Self {
        let server_pid = server_pid.map(|pid| pid.to_string());
        CpuMeter {
            started: Instant::now(),
            client: cpu_seconds("self"),
            server: server_pid.as_deref().and_then(cpu_seconds),
            server_pid,
            machine: machine_cpu_seconds(),
        }
    }

    /// Cores used since the start, as a line. The machine's figure tells whether
    /// anything else competed for the cores.
    fn line(&self, server_in_process: bool) -> String {
        let wall = self.started.elapsed().as_secs_f64();
        let cores = |before: Option<f64>, pid: Option<&str>| {
            let (before, now) = (before?, cpu_seconds(pid?)?);
            Some((now - before) / wall)
        };
        let client = cores(self.client, Some("self"));
        let server = cores(self.server, self.server_pid.as_deref());
        let mut line = match (client, server) {
            (Some(client), Some(server)) => format!("client {client:.2} cores, server {server:.2} cores"),
            (Some(both), None) if server_in_process => format!("{both:.2} cores (client and server)"),
            (Some(client), None) => format!("client {client:.2} cores"),
            _ => "unknown".to_owned(),
        };
        if let (Some(before), Some(now)) = (self.machine, machine_cpu_seconds()) {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            line.push_str(&format!("; machine {:.2} of {cores} cores busy", (now - before) / wall));
        }
        line
    }
}

/// When each change was sent, by cart and version (see [`Clock`]).
type SentAt = HashMap<(usize, u64), u64>;

/// What every socket saw, added up per phase.
struct Merged {
    received: [u64; PHASES],
    skipped: [u64; PHASES],
    /// Snapshots of a version no timed change produced.
    untimed: [u64; PHASES],
    out_of_order: [u64; PHASES],
    latencies: [Histogram<u64>; PHASES],
    ended: usize,
    first_end: Option<String>,
}

impl Merged {
    fn new() -> Self {
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
    fn add(&mut self, stats: SocketStats, sent: &SentAt) {
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
fn note_changes(changes: &Changes, sent: &mut SentAt, versions: &mut [u64]) {
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
fn count(n: u64) -> String {
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

/// Everything a scenario needs from the run.
struct Run {
    target: Arc<Target>,
    /// `ws://host[/base]`.
    ws_base: String,
    skus: Arc<[String]>,
    clock: Clock,
    server_pid: Option<u32>,
    /// Both ends of every socket are in this process.
    in_process: bool,
}

/// Creates the carts, connects the sockets, runs both phases and prints what
/// they measured; returns a one-line summary.
async fn scenario(args: &Args, run: &Run, shape: Shape) -> anyhow::Result<String> {
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

/// What the latency phase did, for the report.
struct LatencyPhase {
    changes: Changes,
    /// Sockets that had not caught up when the phase ended.
    behind: usize,
    cpu: String,
}

/// What the load phase did, for the report.
struct Load {
    changes: Changes,
    connections: usize,
    elapsed: Duration,
    cpu: String,
    /// How long the sockets took to catch up after the load.
    caught_up: Duration,
    /// Sockets that had not caught up by then.
    behind: usize,
}

/// Prints what a scenario measured; returns a one-line summary.
fn report(args: &Args, shape: Shape, merged: &Merged, latency: &LatencyPhase, load: Option<&Load>) -> String {
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

/// Starts or resolves the server, creates the products, runs the scenarios.
async fn run(args: Args) -> anyhow::Result<()> {
    let (server, local) = Server::start(&args)?;
    let (addr, host, base_path) = match (&args.url, local) {
        (Some(url), _) => resolve(url).await?,
        (None, Some(addr)) => (addr, addr.to_string(), String::new()),
        (None, None) => unreachable!("a started server has an address"),
    };
    println!("server        {}", server.describe(&host, args.durability));
    let target = Arc::new(Target {
        addr,
        host: HeaderValue::from_str(&host)?,
        authorization: HeaderValue::from_str(&format!("Bearer {}", args.token))?,
        cookie: None,
        requests: Vec::new(),
        base_path: base_path.clone(),
    });
    let tag = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis()
        .to_string();
    let skus = rest::products(&target, &tag)
        .await
        .context("cannot create the products")?;
    let run = Run {
        target,
        ws_base: format!("ws://{host}{base_path}"),
        skus: skus.into(),
        clock: Clock::start(),
        server_pid: server.pid(),
        in_process: matches!(server, Server::InProcess(_)),
    };
    let mut shapes = Vec::new();
    if matches!(args.scenario, ScenarioArg::Fanout | ScenarioArg::All) {
        shapes.push(Shape {
            name: "fanout",
            carts: 1,
            per_cart: args.fanout_sockets.max(1),
        });
    }
    if matches!(args.scenario, ScenarioArg::Spread | ScenarioArg::All) {
        shapes.push(Shape {
            name: "spread",
            carts: args.spread_carts.max(1),
            per_cart: args.spread_sockets_per_cart.max(1),
        });
    }
    let most_sockets = shapes.iter().map(Shape::sockets).max().unwrap_or(0) as u64;
    let fds_per_socket = if run.in_process { 2 } else { 1 };
    if let Some(limit) = open_files_limit() {
        let needed = most_sockets * fds_per_socket + SPARE_FDS;
        if needed > limit {
            let _ = server.stop().await;
            bail!(
                "{most_sockets} sockets need about {needed} open files in this process, over its limit of {limit} \
                 (ulimit -n){}",
                if run.in_process {
                    "; the default --server child halves that"
                } else {
                    ""
                }
            );
        }
    }
    let mut outcome = Ok(());
    let mut summaries = Vec::new();
    for shape in shapes {
        match scenario(&args, &run, shape).await {
            Ok(summary) => summaries.push(summary),
            Err(err) => {
                outcome = Err(err);
                break;
            }
        }
    }
    if !summaries.is_empty() {
        println!();
        println!("== summary (targets: fanout p99 <= {TARGET_P99_MS} ms, >= {TARGET_PUSHES:.0} pushes/s under load)");
        for summary in &summaries {
            println!("{summary}");
        }
    }
    let stopped = server.stop().await;
    outcome.and(stopped)
}

/// Parses the flags; serves (as a child) or runs the scenarios on a client
/// runtime of `--client-threads` workers.
fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.serve_child {
        return serve_child(&args);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.client_threads.max(1))
        .thread_name("push-client")
        .enable_all()
        .build()
        .context("cannot build the client runtime")?;
    runtime.block_on(run(args))
}
