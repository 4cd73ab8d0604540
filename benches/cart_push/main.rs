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
//! - `main.rs`: flags, the run of the scenarios and the printed summary;
//! - `process.rs`: the server (external, in this process or a child) and the
//!   CPU each process used;
//! - `scenario.rs`: one scenario's carts, sockets and two phases;
//! - `report.rs`: what the sockets saw, added up, and the printed report;
//! - `rest.rs`: the HTTP connection, the set-up and the timed changes;
//! - `sockets.rs`: the socket tasks and what they count.

mod process;
mod report;
mod rest;
mod scenario;
mod sockets;

#[path = "../http_load/server.rs"]
mod server;

/// `http_load`'s client: its `resolve`, `Target` and `stock_all` are used here,
/// its closed loop is not.
#[allow(dead_code)]
#[path = "../http_load/client.rs"]
mod client;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Parser, ValueEnum};
use hyper::header::HeaderValue;
use mercato_actors::storage::Durability;

use client::{resolve, Target};
use process::{open_files_limit, serve_child, Server};
use scenario::{scenario, Run, Shape};
use sockets::Clock;

/// How long the sockets may take to catch up after a phase.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the sockets may take to get their snapshot on connect.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Descriptors kept free for everything but the sockets.
const SPARE_FDS: u64 = 256;
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
