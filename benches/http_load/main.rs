//! HTTP load generator: reservations or product searches per second, and their
//! latency, over HTTP.
//!
//! `cargo bench --bench http_load -- [--url URL] [--scenario hot|spread|search|page-home|page-category|page-search|page-product|console-orders|console-order|console-products|console-actors|recommendations] [--orders N]
//! [--products N] [--connections N] [--duration SECS] [--warmup SECS]
//! [--durability sync|relaxed] [--token T] [--client-threads N] [--rate R]
//! [--allow-errors]`
//!
//! Without `--url` a server is started in this process (port 0, temporary data
//! directory, operator token `bench-operator-token`, dropped at the end), so it shares the
//! cores with the client; `--durability` and `--products` apply only to that
//! server. The client is lean on purpose: one hyper HTTP/1.1 keep-alive
//! connection per task, on a tokio runtime of `--client-threads` workers. By
//! default the loop is closed (a task sends its next request when the previous
//! answer is in), which hides queueing; `--rate R` opens it: R requests per
//! second in all, each connection on a fixed schedule, latency counted from
//! when a request was due (as wrk2 does), so a server that falls behind shows
//! it in p99 and in an achieved rate below R. Each request is picked at random
//! from the scenario's prepared requests; only answers with the expected status
//! enter the latency histogram and the throughput; any other status and every
//! request that got no answer is an error, and errors fail the run (exit 1)
//! unless `--allow-errors` is given.
//!
//! `hot` and `spread` measure `POST /v1/inventory/{sku}/reservations`
//! `{"qty":1,"ttl_secs":3600}` (201 is success): `hot` sends everything to one
//! SKU, `spread` picks uniformly among `SKU-0`..`SKU-9999`. Before the run every
//! SKU used is stocked with 10^12 units (`PUT /v1/inventory/{sku}`).
//!
//! `search` measures `GET /v1/products?...` (200 is success) over 10,000
//! pre-generated faceted queries (see `search.rs`). The in-process server is
//! first seeded with `--products` demo products (default 100,000; seed 42), which
//! takes a while and is timed on stderr. With `--url` the server must have been
//! seeded beforehand, with the same seed, e.g.:
//!
//! ```text
//! cargo run --release -- seed --products 100000 --data-dir /tmp/mercato-search
//! cargo run --release -- serve --data-dir /tmp/mercato-search --admin-token bench-operator-token
//! cargo bench --bench http_load -- --url http://127.0.0.1:8080 --scenario search
//! ```
//!
//! Before a `search` run 50 of the queries are sent once: the run stops if one
//! fails (an unseeded server answers 404), and stderr says how many matched none.
//!
//! The `page-*` scenarios load the storefront's pages over the same seeded
//! catalog: home, category, search results and product pages (200 is success).
//! Before the run the first page and the CSS and JS it links are weighed
//! against the 64 KB budget (`page weight` in the summary; past it the run fails).
//!
//! `recommendations` (in-process server only) places `--orders` guest orders
//! of three neighbouring demo SKUs over the `--products` seeded ones, reads
//! "customers also bought" through the front door in process for 5 s (64 in
//! flight; reads/s and latency printed first), then loads
//! `GET /v1/products/{id}/recommendations?limit=8` over the ordered products.
//!
//! # Layout
//!
//! - `main.rs`: flags, the run (prepare, stock or probe, load, merge) and the
//!   printed summary;
//! - `recommend.rs`: the recommendation reads in process and their requests;
//! - `client.rs`: prepared requests, the hyper connection, the closed or open
//!   loop and its `Report`;
//! - `search.rs`: the search queries and the check that they find products;
//! - `pages.rs`: the storefront pages and their weight;
//! - `server.rs`: the server started in this process when no `--url` is given;
//! - `summary.rs`: what a run prints.

mod client;
mod console;
mod pages;
mod recommend;
mod search;
mod server;
mod summary;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{Parser, ValueEnum};
use hyper::body::Bytes;
use hyper::header::HeaderValue;
use hyper::{Method, StatusCode};
use mercato_actors::storage::Durability;

use client::{resolve, run_connection, stock_all, PreparedRequest, Report, Schedule, Target};
use server::{InProcessServer, Seed};
use summary::print_summary;

/// The allocator of the `mercato` binary, so the in-process server is measured as it runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// SKUs of the `spread` scenario.
const SPREAD_SKUS: usize = 10_000;
/// SKUs per order of the `recommendations` scenario.
const RECOMMEND_LINES: usize = 3;
/// The SKU of the `hot` scenario.
const HOT_SKU: &str = "SKU-HOT";
/// Body of every reservation.
const RESERVE_BODY: &[u8] = br#"{"qty":1,"ttl_secs":3600}"#;

/// Command-line flags.
#[derive(Parser, Debug)]
#[command(about = "HTTP load generator for stock reservations and product search")]
struct Args {
    /// Base URL of a running server; absent: start one in this process.
    #[arg(long)]
    url: Option<String>,
    /// Operator token sent as `Authorization: Bearer <token>`.
    #[arg(long, default_value = "bench-operator-token")]
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
    /// What is measured.
    #[arg(long, value_enum, default_value_t = Scenario::Hot)]
    scenario: Scenario,
    /// Demo products seeded in the in-process server for `search` (ignored otherwise).
    #[arg(long, default_value_t = 100_000)]
    products: usize,
    /// Guest orders placed in the in-process server for the console scenarios.
    #[arg(long, default_value_t = 100_000)]
    orders: usize,
    /// Durability of the in-process server (ignored with `--url`).
    #[arg(long, value_enum, default_value_t = DurabilityArg::Sync)]
    durability: DurabilityArg,
    /// Worker threads of the client's tokio runtime.
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
    /// Open loop: requests per second in all, spread evenly over the
    /// connections; absent: closed loop.
    #[arg(long)]
    rate: Option<f64>,
    /// Exit 0 even when some requests failed.
    #[arg(long)]
    allow_errors: bool,
    /// Passed by `cargo bench` to every bench target; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// What is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// Reservations, all to one SKU.
    Hot,
    /// Reservations, uniformly over 10,000 SKUs.
    Spread,
    /// Faceted product searches over the seeded demo catalog.
    Search,
    /// The storefront's home page.
    PageHome,
    /// Category pages of the seeded catalog.
    PageCategory,
    /// Search result pages (the `search` queries).
    PageSearch,
    /// Product pages.
    PageProduct,
    /// The console's order list (pages, a status, an e-mail, an id).
    ConsoleOrders,
    /// The console's order pages.
    ConsoleOrder,
    /// The console's product list (pages and searches).
    ConsoleProducts,
    /// The console's actors page (all, one kind, one id).
    ConsoleActors,
    /// "Customers also bought" of the ordered products, in process then over HTTP.
    Recommendations,
}

impl Scenario {
    /// The storefront page it loads, if it is a page scenario.
    fn page(self) -> Option<pages::Page> {
        match self {
            Scenario::PageHome => Some(pages::Page::Home),
            Scenario::PageCategory => Some(pages::Page::Category),
            Scenario::PageSearch => Some(pages::Page::Search),
            Scenario::PageProduct => Some(pages::Page::Product),
            _ => None,
        }
    }

    /// The console page it loads, if it is a console scenario.
    fn console(self) -> Option<console::ConsolePage> {
        match self {
            Scenario::ConsoleOrders => Some(console::ConsolePage::Orders),
            Scenario::ConsoleOrder => Some(console::ConsolePage::Order),
            Scenario::ConsoleProducts => Some(console::ConsolePage::Products),
            Scenario::ConsoleActors => Some(console::ConsolePage::Actors),
            _ => None,
        }
    }

    /// Whether the in-process server needs the demo catalog.
    fn needs_catalog(self) -> bool {
        self == Scenario::Search
            || self == Scenario::Recommendations
            || self.page().is_some()
            || self.console().is_some()
    }

    /// Whether the in-process server places `--orders` orders first.
    fn needs_orders(self) -> bool {
        self == Scenario::Recommendations || self.console().is_some()
    }
}

/// `--durability`.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum DurabilityArg {
    /// Reply after the fsync.
    Sync,
    /// Reply before the flush.
    Relaxed,
}

/// The SKUs a reservation scenario reserves from (none for `search`).
fn scenario_skus(scenario: Scenario) -> Vec<String> {
    match scenario {
        Scenario::Hot => vec![HOT_SKU.to_owned()],
        Scenario::Spread => (0..SPREAD_SKUS).map(|i| format!("SKU-{i}")).collect(),
        _ => Vec::new(),
    }
}

/// One reservation request per SKU, under `base_path`.
fn reservation_requests(base_path: &str, skus: &[String]) -> anyhow::Result<Vec<PreparedRequest>> {
    skus.iter()
        .map(|sku| {
            let uri = format!("{base_path}/v1/inventory/{sku}/reservations")
                .parse()
                .context("a SKU makes an invalid path")?;
            Ok(PreparedRequest {
                method: Method::POST,
                uri,
                body: Bytes::from_static(RESERVE_BODY),
                success: StatusCode::CREATED,
            })
        })
        .collect()
}

/// Starts or resolves the server, prepares the requests, stocks the SKUs or
/// probes the queries, runs the connections, prints the summary.
async fn run(args: Args) -> anyhow::Result<()> {
    let (server, orders, addr, host, base_path) = match &args.url {
        Some(url) => {
            let (addr, host, base_path) = resolve(url).await?;
            (None, Vec::new(), addr, host, base_path)
        }
        None => {
            let durability = match args.durability {
                DurabilityArg::Sync => Durability::Sync,
                DurabilityArg::Relaxed => Durability::Relaxed,
            };
            let recommendations = args.scenario == Scenario::Recommendations;
            let seed = Seed {
                products: args.scenario.needs_catalog().then_some(args.products),
                orders: args.scenario.needs_orders().then_some(args.orders),
                lines: if recommendations { RECOMMEND_LINES } else { 1 },
                read_recommendations: recommendations,
            };
            let (server, seeded) = InProcessServer::start(&args.token, durability, seed, |_| {})?;
            let orders = seeded.orders;
            let addr = server.addr;
            eprintln!("in-process server on {addr} ({durability:?})");
            (Some(server), orders, addr, addr.to_string(), String::new())
        }
    };
    let skus = scenario_skus(args.scenario);
    let (requests, success) = match args.scenario {
        Scenario::Hot | Scenario::Spread => (reservation_requests(&base_path, &skus)?, StatusCode::CREATED),
        Scenario::Search => (search::requests(&base_path)?, StatusCode::OK),
        Scenario::Recommendations => {
            if server.is_none() {
                bail!("the recommendations scenario places its own orders: run it without --url");
            }
            let sold = args.products.min(args.orders + RECOMMEND_LINES);
            (recommend::requests(&base_path, sold)?, StatusCode::OK)
        }
        scenario if scenario.console().is_some() => {
            if server.is_none() {
                bail!("the console scenarios seed their own orders: run them without --url");
            }
            let page = scenario.console().expect("a console scenario");
            (console::requests(page, &base_path, &orders)?, StatusCode::OK)
        }
        page => {
            let page = page.page().expect("the other scenarios are pages");
            (pages::requests(page, &base_path, args.products)?, StatusCode::OK)
        }
    };
    let mut target = Target {
        addr,
        host: HeaderValue::from_str(&host)?,
        authorization: HeaderValue::from_str(&format!("Bearer {}", args.token))?,
        cookie: None,
        requests,
        base_path,
    };
    if args.scenario.console().is_some() {
        target.cookie = Some(HeaderValue::from_str(&console::sign_in(&target).await?)?);
    }
    let target = Arc::new(target);
    let connections = args.connections.max(1);
    match args.scenario {
        Scenario::Hot | Scenario::Spread => {
            stock_all(&target, &skus, connections).await?;
            eprintln!("stocked {} SKU(s)", skus.len());
        }
        Scenario::Search => search::probe(&target).await?,
        Scenario::Recommendations => {}
        _ => pages::weigh(&target).await?,
    }
    eprintln!(
        "running {connections} connections over {} prepared request(s)",
        target.requests.len()
    );
    let measured = Duration::from_secs(args.duration);
    let start = Instant::now();
    let measure_from = start + Duration::from_secs(args.warmup);
    let until = measure_from + measured;
    // Open loop: each connection sends every `interval`, the starts staggered.
    let interval = args.rate.map(|rate| Duration::from_secs_f64(connections as f64 / rate));
    let mut tasks = tokio::task::JoinSet::new();
    for seed in 0..connections {
        let offset = interval.map_or(Duration::ZERO, |interval| interval * seed as u32 / connections as u32);
        let schedule = Schedule {
            measure_from,
            until,
            interval,
            next_at: start + offset,
        };
        tasks.spawn(run_connection(Arc::clone(&target), seed as u64 + 1, schedule));
    }
    let mut report = Report::new();
    while let Some(result) = tasks.join_next().await {
        report.merge(result.context("a connection task panicked")?);
    }
    let errors = print_summary(&args, &report, measured, success);
    if let Some(server) = server {
        server.stop().await.context("the in-process server failed")?;
    }
    if errors > 0 && !args.allow_errors {
        bail!("{errors} request(s) failed (--allow-errors to accept)");
    }
    Ok(())
}

/// Parses the flags and runs the load on a client runtime of `--client-threads` workers.
fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.duration == 0 {
        bail!("--duration must be at least 1 second");
    }
    if args.rate.is_some_and(|rate| !(rate.is_finite() && rate > 0.0)) {
        bail!("--rate must be a positive number of requests per second");
    }
    client::block_on_clients(args.client_threads, run(args))?
}
