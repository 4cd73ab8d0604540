//! Checkout load generator: orders per second end to end over HTTP, a flash
//! sale's correctness and answer time, and memory under a steady stream of orders.
//!
//! `cargo bench --bench checkout_load -- [--scenario steady|flash|sustained] [--url URL
//! --token T] [--connections N] [--carts N] [--duration SECS] [--warmup SECS]
//! [--skus N] [--lines N] [--buyers N] [--units N] [--in-flight N] [--setup-connections N]
//! [--client-threads N] [--nats URL] [--webhooks N] [--webhook-types T,..]
//! [--rate N] [--sample-secs SECS] [--server-pid PID]`
//!
//! Without `--url` a server is started in this process (`http_load`'s: port 0,
//! temporary data directory, default settings, so sync durability and the
//! manual gateway capturing at once; operator token `bench-operator-token`), sharing the
//! cores with the client. With `--url` the server's own settings apply and
//! `--token` must be its operator token. Either way the bench creates what it
//! needs over HTTP: a category (`checkout-bench`, reused on a rerun), products
//! (an existing SKU is kept), stock, and guest carts of one line each. None of
//! that set-up is timed.
//!
//! `steady` (default): `--skus` products `CK-00000`.. stocked with 10^12 units;
//! `--carts` carts, spread round-robin over them, `--lines` (1) SKUs of one unit
//! each; then
//! `--connections` closed-loop clients check out the next unused cart (one
//! `Idempotency-Key` per cart) for `--warmup` + `--duration` seconds or until
//! the carts run out. Printed: checkouts/s (201), p50/p90/p99/p99.9/max of the
//! 201 answers, the other answers by status and error code, the target (5,000/s
//! at p99 <= 20 ms), the server's group commits over the measured part (from
//! `/metrics`), how busy the machine was, and (in-process) the server's CPU
//! time per checkout. Exits non-zero unless the SKUs, read before and after,
//! sold exactly one unit per line of each confirmed order, hold nothing, and
//! kept on_hand + sold. `--skus 100` makes the SKUs contended.
//!
//! Events out under that load (steady): `--nats nats://127.0.0.1:4222` makes
//! the in-process server publish every event to JetStream (a stream of the
//! run's own, deleted afterwards); `--webhooks N` registers N endpoints for
//! `--webhook-types` (`*`) to a receiver in this process. Printed per sink:
//! events/s its consumer received while measured, their lag (received minus
//! `occurred_at`) p50/p99/max, and when it caught up (see `sinks.rs`).
//!
//! `flash`: one fresh SKU `FLASH-<millis>` with `--units` (100) on hand,
//! `--buyers` (10,000) carts holding one unit each; `--in-flight` (512)
//! connections are opened, then every checkout is fired at once. Printed: the
//! answers by status, the stock afterwards, the time until every buyer had an
//! answer (target 2 s) and the latency distributions. Exits non-zero unless
//! exactly min(units, buyers) buyers got a confirmed order, all others 409
//! `out_of_stock`, and the SKU reads on_hand units - sold, reserved 0, sold
//! min(units, buyers).
//!
//! `sustained`: the `steady` products and stock, then guest orders (a new cart,
//! one line, its checkout) started at `--rate` per second (200) over
//! `--connections` for `--duration` seconds, with a line every
//! `--sample-secs` (30) giving the server's RSS and live actors per kind; at
//! the end, the RSS against the target (600 MB). With `--url`, `--server-pid`
//! names the server's process. A shop's day: `--duration 1800` (300,000+
//! orders at 200/s).
//!
//! Many connections need file descriptors (two per connection in-process):
//! raise the limit with `ulimit -n` if `--in-flight` is large.
//!
//! # Layout
//!
//! - `main.rs`: flags, server start or `--url`, set-up, dispatch, shared printing;
//! - `api.rs`: a minimal keep-alive connection, request builders, set-up calls,
//!   the `/metrics` counters;
//! - `steady.rs`, `flash.rs`, `sustained.rs`: the three scenarios;
//! - `sinks.rs`: the events-out consumers and their report;
//! - `cpu.rs`: process and machine CPU time over the timed phase;
//! - `http_load`'s `client.rs` (`Target`, `Report`, `stock_all`, `resolve`) and
//!   `server.rs` (the in-process server), included by path.

mod api;
// Shared with `http_load`, which uses all of it; this bench does not need its closed loop.
#[allow(dead_code)]
#[path = "../http_load/client.rs"]
mod client;
mod cpu;
mod flash;
#[path = "../http_load/server.rs"]
mod server;
mod sinks;
mod steady;
mod sustained;
mod views;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use clap::{Parser, ValueEnum};
use hdrhistogram::Histogram;
use hyper::header::HeaderValue;
use mercato_actors::storage::Durability;

use client::{resolve, stock_all, Target};
use mercato_events::nats::NatsConfig;
use server::{InProcessServer, Seed};

/// The allocator of the `mercato` binary, so the in-process server is measured as it runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The run's NATS stream and subject prefix (see [`sinks::nats_names`]).
static NATS: std::sync::LazyLock<(String, String)> = std::sync::LazyLock::new(sinks::nats_names);

/// Command-line flags.
#[derive(Parser, Debug)]
#[command(about = "HTTP load generator for checkouts: steady throughput and a flash sale")]
struct Args {
    /// What is measured.
    #[arg(long, value_enum, default_value_t = Scenario::Steady)]
    scenario: Scenario,
    /// Base URL of a running server; absent: start one in this process.
    #[arg(long)]
    url: Option<String>,
    /// Operator token of the server (for products and stock).
    #[arg(long, default_value = "bench-operator-token")]
    token: String,
    /// steady: concurrent closed-loop clients, one connection each.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// steady: carts prepared, at most one checkout each (the run ends when they run out).
    #[arg(long, default_value_t = 60_000)]
    carts: usize,
    /// steady: measured seconds at most.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// steady: seconds of checkouts before measuring.
    #[arg(long, default_value_t = 1)]
    warmup: u64,
    /// steady: SKUs the carts are spread over.
    #[arg(long, default_value_t = 10_000)]
    skus: usize,
    /// steady: lines (distinct SKUs, one unit each) per cart.
    #[arg(long, default_value_t = 1)]
    lines: usize,
    /// flash: buyers, one cart of one unit each.
    #[arg(long, default_value_t = 10_000)]
    buyers: usize,
    /// flash: units on hand.
    #[arg(long, default_value_t = 100)]
    units: u64,
    /// flash: connections checking out at once.
    #[arg(long, default_value_t = 512)]
    in_flight: usize,
    /// Connections used for the untimed set-up (products, stock, carts).
    #[arg(long, default_value_t = 64)]
    setup_connections: usize,
    /// Worker threads of the client's tokio runtime.
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
    /// steady, in-process server: publish every event to NATS JetStream at
    /// this URL and measure a subscriber's lag.
    #[arg(long)]
    nats: Option<String>,
    /// steady: webhook endpoints, registered to a receiver in this process.
    #[arg(long, default_value_t = 0)]
    webhooks: usize,
    /// steady: the event types the webhook endpoints take.
    #[arg(long, default_value = "*", value_delimiter = ',')]
    webhook_types: Vec<String>,
    /// In-process server: product views recorded per second beside the load.
    #[arg(long, default_value_t = 0)]
    views: u64,
    /// sustained: orders started per second (open loop).
    #[arg(long, default_value_t = 200.0)]
    rate: f64,
    /// sustained: seconds between two progress lines.
    #[arg(long, default_value_t = 30)]
    sample_secs: u64,
    /// sustained, with `--url`: the server's process id, whose RSS is read.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Passed by `cargo bench` to every bench target; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// What is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// Checkouts per second, carts over many SKUs with ample stock.
    Steady,
    /// Many buyers, one SKU, few units: exactly the units are sold.
    Flash,
    /// The server's memory under guest checkouts at a steady rate.
    Sustained,
}

/// A latency quantile of `latencies` (microseconds), in milliseconds.
pub(crate) fn percentile_ms(latencies: &Histogram<u64>, quantile: f64) -> f64 {
    latencies.value_at_quantile(quantile) as f64 / 1000.0
}

/// Prints one line per status, and per error code under each non-201 status.
pub(crate) fn print_status_lines(statuses: &BTreeMap<u16, u64>, errors: &BTreeMap<(u16, String), u64>) {
    for (status, count) in statuses {
        println!("  status {status}  {count}");
        for ((_, code), count) in errors.range((*status, String::new())..(*status + 1, String::new())) {
            println!("    {code}  {count}");
        }
    }
}

/// Seconds since `since`, for the set-up lines on stderr.
fn secs(since: Instant) -> f64 {
    since.elapsed().as_secs_f64()
}

/// `--skus` products `CK-00000`.. in the bench's category, each stocked with
/// 10^12 units.
async fn stocked_skus(args: &Args, target: &Arc<Target>) -> anyhow::Result<Arc<[String]>> {
    let connections = args.setup_connections;
    let started = Instant::now();
    let category = api::category(target).await?;
    let skus: Arc<[String]> = (0..args.skus.max(1)).map(|i| format!("CK-{i:05}")).collect();
    let created = api::create_products(target, category, Arc::clone(&skus), connections).await?;
    eprintln!(
        "{created} products created ({} existed) in {:.1} s",
        skus.len() - created,
        secs(started)
    );
    let started = Instant::now();
    stock_all(target, &skus, connections).await?;
    eprintln!("{} SKUs stocked with 10^12 units in {:.1} s", skus.len(), secs(started));
    Ok(skus)
}

/// steady: products, stock, carts; then the run.
async fn steady(args: &Args, target: Arc<Target>) -> anyhow::Result<()> {
    let connections = args.setup_connections;
    let skus = stocked_skus(args, &target).await?;
    let started = Instant::now();
    let per_cart = args.lines.clamp(1, skus.len());
    let lines: Arc<[Vec<String>]> = (0..args.carts)
        .map(|cart| {
            (0..per_cart)
                .map(|line| skus[(cart * per_cart + line) % skus.len()].clone())
                .collect()
        })
        .collect();
    let carts = api::prepare_carts(&target, lines, connections).await?;
    eprintln!(
        "{} carts prepared (create + add {per_cart} line(s)) in {:.1} s",
        carts.len(),
        secs(started)
    );
    println!(
        "scenario      steady: POST /v1/carts/{{id}}/checkout, {per_cart} line(s) per cart over {} SKUs",
        skus.len()
    );
    let before = api::stock_totals(&target, Arc::clone(&skus), connections).await?;
    let nats = args.nats.as_deref().map(|url| (url, NATS.0.as_str(), NATS.1.as_str()));
    let sinks = sinks::Sinks::start(&target, nats, args.webhooks, &args.webhook_types).await?;
    let outcome = steady::run(
        Arc::clone(&target),
        carts,
        args.connections.max(1),
        Duration::from_secs(args.warmup),
        Duration::from_secs(args.duration),
        args.url.is_none(),
    )
    .await?;
    let confirmed = outcome.confirmed;
    sinks.report(outcome.measured.start, outcome.measured.end).await?;
    // Every confirmed order sold one unit of each of its lines, and nothing
    // else moved: no unit created or lost, none left held.
    let after = api::stock_totals(&target, skus, connections).await?;
    let sold = after.2 - before.2;
    let expected = confirmed * per_cart as u64;
    if after.0 != before.0 || after.1 != 0 || sold != expected {
        bail!(
            "stock invariant broken: on_hand + sold {} -> {}, reserved {} after the run, {sold} units sold for {confirmed} confirmed orders of {per_cart} line(s)",
            before.0,
            after.0,
            after.1
        );
    }
    println!("invariant     held: {confirmed} confirmed orders sold {sold} units, none held, on_hand + sold unchanged");
    Ok(())
}

/// flash: the SKU, its units, the buyers' carts; then the sale.
async fn flash(args: &Args, target: Arc<Target>) -> anyhow::Result<()> {
    let connections = args.setup_connections;
    let started = Instant::now();
    let millis = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis();
    let sku = format!("FLASH-{millis}");
    let category = api::category(&target).await?;
    api::create_products(&target, category, vec![sku.clone()].into(), 1).await?;
    api::set_on_hand(&target, &sku, args.units).await?;
    let lines: Arc<[Vec<String>]> = vec![vec![sku.clone()]; args.buyers].into();
    let carts = api::prepare_carts(&target, lines, connections).await?;
    eprintln!(
        "{sku}: {} units, {} carts of one unit prepared in {:.1} s",
        args.units,
        carts.len(),
        secs(started)
    );
    println!(
        "scenario      flash: {} buyers, one SKU ({sku}) with {} units",
        carts.len(),
        args.units
    );
    flash::run(target, &sku, args.units, carts, args.in_flight).await
}

/// sustained: products, stock; then guest orders at `--rate`.
async fn sustained(args: &Args, target: Arc<Target>) -> anyhow::Result<()> {
    if args.url.is_some() != args.server_pid.is_some() {
        bail!("--server-pid goes with --url (the in-process server's RSS is this process's)");
    }
    let skus = stocked_skus(args, &target).await?;
    println!(
        "scenario      sustained: guest orders of one line over {} SKUs",
        skus.len()
    );
    let pace = sustained::Pace {
        rate: args.rate,
        connections: args.connections,
        duration: Duration::from_secs(args.duration),
        sample: Duration::from_secs(args.sample_secs.max(1)),
        server_pid: args.server_pid,
    };
    sustained::run(target, skus, pace).await
}

/// Starts or resolves the server, runs the scenario, stops the server.
async fn run(args: Args) -> anyhow::Result<()> {
    let (server, views, addr, host, base_path) = match &args.url {
        Some(_) if args.nats.is_some() => bail!("--nats starts the in-process server's publisher: leave out --url"),
        Some(_) if args.views > 0 => bail!("--views records in the in-process server: leave out --url"),
        Some(url) => {
            let (addr, host, base_path) = resolve(url).await?;
            println!("server        {url} (its own settings)");
            (None, None, addr, host, base_path)
        }
        None => {
            let (nats, webhooks) = (args.nats.clone(), args.webhooks > 0);
            let (server, seeded) =
                InProcessServer::start(&args.token, Durability::Sync, Seed::default(), |settings| {
                    if let Some(url) = nats {
                        settings.events.nats = NatsConfig {
                            url,
                            stream: NATS.0.clone(),
                            subject_prefix: NATS.1.clone(),
                        };
                    }
                    settings.webhooks.allow_private_targets |= webhooks;
                })?;
            let addr = server.addr;
            println!("server        in-process on {addr}, default settings (sync durability, manual gateway)");
            (Some(server), Some(seeded.views), addr, addr.to_string(), String::new())
        }
    };
    let target = Arc::new(Target {
        addr,
        host: HeaderValue::from_str(&host)?,
        authorization: HeaderValue::from_str(&format!("Bearer {}", args.token))?,
        cookie: None,
        requests: Vec::new(),
        base_path,
    });
    let view_load = views
        .filter(|_| args.views > 0)
        .map(|views| views::ViewLoad::start(views, args.views));
    let outcome = match args.scenario {
        Scenario::Steady => steady(&args, target).await,
        Scenario::Flash => flash(&args, target).await,
        Scenario::Sustained => sustained(&args, target).await,
    };
    if let Some(view_load) = view_load {
        view_load.stop();
    }
    if let Some(server) = server {
        server.stop().await.context("the in-process server failed")?;
    }
    outcome
}

/// Parses the flags and runs on a client runtime of `--client-threads` workers.
fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.duration == 0 {
        bail!("--duration must be at least 1 second");
    }
    client::block_on_clients(args.client_threads, run(args))?
}
