//! HTTP load generator: reservations per second and their latency over HTTP.
//!
//! `cargo bench --bench http_load -- [--url URL] [--scenario hot|spread]
//! [--connections N] [--duration SECS] [--warmup SECS] [--durability sync|relaxed]
//! [--token T] [--client-threads N]`
//!
//! Without `--url` a server is started in this process (port 0, temporary data
//! directory, operator token `bench-token`, dropped at the end), so it shares the
//! cores with the client; `--durability` applies only to that server. The client
//! is lean on purpose: one hyper HTTP/1.1 keep-alive connection per task, closed
//! loop (a task sends its next request when the previous answer is in), on a tokio
//! runtime of `--client-threads` workers.
//!
//! Before the run every SKU used is stocked with 10^12 units (`PUT
//! /v1/inventory/{sku}`). The measured request is `POST
//! /v1/inventory/{sku}/reservations` `{"qty":1,"ttl_secs":3600}`: 201 counts as
//! success, any other status as an error. `hot` sends everything to one SKU,
//! `spread` picks uniformly among `SKU-0`..`SKU-9999`.
//!
//! # Layout
//!
//! - `main.rs`: flags, the run (stock, load, merge) and the printed summary;
//! - `client.rs`: the hyper connection, the closed loop and its `Report`;
//! - `server.rs`: the server started in this process when no `--url` is given.

mod client;
mod server;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{Parser, ValueEnum};
use hdrhistogram::Histogram;
use hyper::header::HeaderValue;
use hyper::Uri;
use mercato_actors::storage::Durability;

use client::{resolve, run_connection, stock_all, Report, Target};
use server::InProcessServer;

/// SKUs of the `spread` scenario.
const SPREAD_SKUS: usize = 10_000;
/// The SKU of the `hot` scenario.
const HOT_SKU: &str = "SKU-HOT";

/// Command-line flags.
#[derive(Parser, Debug)]
#[command(about = "HTTP load generator for stock reservations")]
struct Args {
    /// Base URL of a running server; absent: start one in this process.
    #[arg(long)]
    url: Option<String>,
    /// Operator token sent as `Authorization: Bearer <token>`.
    #[arg(long, default_value = "bench-token")]
    token: String,
    /// Concurrent keep-alive connections, one closed-loop task each.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Measured seconds.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Seconds of load before measuring.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Which SKUs the reservations go to.
    #[arg(long, value_enum, default_value_t = Scenario::Hot)]
    scenario: Scenario,
    /// Durability of the in-process server (ignored with `--url`).
    #[arg(long, value_enum, default_value_t = DurabilityArg::Sync)]
    durability: DurabilityArg,
    /// Worker threads of the client's tokio runtime.
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
    /// Passed by `cargo bench` to every bench target; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// Where reservations go.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Scenario {
    /// All to one SKU.
    Hot,
    /// Uniformly over 10,000 SKUs.
    Spread,
}

/// `--durability`.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum DurabilityArg {
    /// Reply after the fsync.
    Sync,
    /// Reply before the flush.
    Relaxed,
}

/// A latency quantile of `latencies` (microseconds), in milliseconds.
fn percentile_ms(latencies: &Histogram<u64>, quantile: f64) -> f64 {
    latencies.value_at_quantile(quantile) as f64 / 1000.0
}

/// Prints what the run measured: counts by status, throughput, latency quantiles.
fn print_summary(args: &Args, report: &Report, measured: Duration) {
    let answered: u64 = report.statuses.values().sum();
    let succeeded = report.statuses.get(&201).copied().unwrap_or(0);
    let errors = answered - succeeded + report.transport_errors;
    let seconds = measured.as_secs_f64();
    let latencies = &report.latencies;
    println!("scenario      {:?}", args.scenario);
    println!("connections   {}", args.connections);
    println!("duration      {seconds:.2} s (after {} s warm-up)", args.warmup);
    println!("requests      {}", answered + report.transport_errors);
    println!("errors        {errors}");
    for (status, count) in &report.statuses {
        println!("  status {status}  {count}");
    }
    if report.transport_errors > 0 {
        println!("  transport   {}", report.transport_errors);
    }
    println!(
        "throughput    {:.0} req/s (201 only: {:.0}/s)",
        answered as f64 / seconds,
        succeeded as f64 / seconds
    );
    println!(
        "latency ms    p50 {:.3}  p90 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3}  (201 answers)",
        percentile_ms(latencies, 0.50),
        percentile_ms(latencies, 0.90),
        percentile_ms(latencies, 0.99),
        percentile_ms(latencies, 0.999),
        latencies.max() as f64 / 1000.0,
    );
}

/// Starts or resolves the server, stocks the SKUs, runs the connections, prints the summary.
async fn run(args: Args) -> anyhow::Result<()> {
    let (server, addr, host, base_path) = match &args.url {
        Some(url) => {
            let (addr, host, base_path) = resolve(url).await?;
            (None, addr, host, base_path)
        }
        None => {
            let durability = match args.durability {
                DurabilityArg::Sync => Durability::Sync,
                DurabilityArg::Relaxed => Durability::Relaxed,
            };
            let server = InProcessServer::start(&args.token, durability)?;
            let addr = server.addr;
            eprintln!("in-process server on {addr} ({durability:?})");
            (Some(server), addr, addr.to_string(), String::new())
        }
    };
    let skus: Vec<String> = match args.scenario {
        Scenario::Hot => vec![HOT_SKU.to_owned()],
        Scenario::Spread => (0..SPREAD_SKUS).map(|i| format!("SKU-{i}")).collect(),
    };
    let reserve_uris = skus
        .iter()
        .map(|sku| format!("{base_path}/v1/inventory/{sku}/reservations").parse())
        .collect::<Result<Vec<Uri>, _>>()
        .context("a SKU makes an invalid path")?;
    let target = Arc::new(Target {
        addr,
        host: HeaderValue::from_str(&host)?,
        authorization: HeaderValue::from_str(&format!("Bearer {}", args.token))?,
        skus,
        reserve_uris,
        base_path,
    });
    let connections = args.connections.max(1);
    stock_all(&target, connections).await?;
    eprintln!(
        "stocked {} SKU(s); running {connections} connections",
        target.skus.len()
    );
    let measured = Duration::from_secs(args.duration);
    let measure_from = Instant::now() + Duration::from_secs(args.warmup);
    let until = measure_from + measured;
    let mut tasks = tokio::task::JoinSet::new();
    for seed in 0..connections {
        tasks.spawn(run_connection(
            Arc::clone(&target),
            seed as u64 + 1,
            measure_from,
            until,
        ));
    }
    let mut report = Report::new();
    while let Some(result) = tasks.join_next().await {
        report.merge(result.context("a connection task panicked")?);
    }
    print_summary(&args, &report, measured);
    if let Some(server) = server {
        server.stop().await.context("the in-process server failed")?;
    }
    Ok(())
}

/// Parses the flags and runs the load on a client runtime of `--client-threads` workers.
fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.duration == 0 {
        bail!("--duration must be at least 1 second");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.client_threads.max(1))
        .thread_name("load-client")
        .enable_all()
        .build()
        .context("cannot build the client runtime")?;
    runtime.block_on(run(args))
}
