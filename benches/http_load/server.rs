//! The server the load generator starts in its own process when no `--url` is
//! given: the real `Application` on port 0 over a temporary data directory, with
//! the default settings and any `MERCATO__*` variables, on its own thread with
//! its own actix system, dropped when the run ends. For the
//! `search` and page scenarios it seeds the demo catalog before it reports its
//! address; for the console and recommendation scenarios also guest orders
//! and an admin, and for the recommendations it reads them in process first.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures_util::future::Either;
use futures_util::{stream, StreamExt as _, TryStreamExt as _};
use hdrhistogram::Histogram;
use mercato::core::Core;
use mercato::settings::{Overrides, Settings};
use mercato::Application;
use mercato_actors::account::address::Address;
use mercato_actors::account::Role;
use mercato_actors::order::{order_id, CheckoutRequest, CheckoutResult};
use mercato_actors::storage::Durability;
use secrecy::SecretString;

use crate::client::next_random;

/// Generator seed of the demo catalog: `mercato seed`'s default, so that runs
/// with and without `--url` search the same catalog.
const CATALOG_SEED: u64 = 42;

/// What the server is filled with before it reports its address.
#[derive(Clone, Copy, Default)]
pub(crate) struct Seed {
    /// Demo products.
    pub(crate) products: Option<usize>,
    /// Guest orders over them (needs `products`).
    pub(crate) orders: Option<usize>,
    /// SKUs per order: order n holds DEMO n, n+1, ... (mod `products`).
    pub(crate) lines: usize,
    /// Recommendations read in process (`read_recommendations`) before serving.
    pub(crate) read_recommendations: bool,
}

/// What the seeding made, and the server's views, for load beside HTTP.
pub(crate) struct Seeded {
    /// The orders placed.
    #[allow(dead_code)] // read by the benches that seed orders
    pub(crate) orders: Vec<String>,
    /// Product views, recorded in process.
    #[allow(dead_code)] // read by the benches that record views
    pub(crate) views: mercato_actors::views::Views,
}

/// A server started in this process, dropped when the run ends.
///
/// `Application` offers no handle to stop it gracefully, so `stop` drops the
/// serving future: fine for a throw-away database in a temporary directory.
pub(crate) struct InProcessServer {
    /// Where it listens.
    pub(crate) addr: SocketAddr,
    /// Tells the server thread to drop the application.
    stop: tokio::sync::oneshot::Sender<()>,
    /// Its actix system; returns how serving ended.
    thread: std::thread::JoinHandle<anyhow::Result<()>>,
    /// Its database; removed after the server has stopped.
    _data_dir: tempfile::TempDir,
}

impl InProcessServer {
    /// Builds the application on its own thread (`customize` has the last
    /// word on its settings), fills it as `seed` says, and waits until it is
    /// bound and seeded.
    pub(crate) fn start(
        token: &str,
        durability: Durability,
        seed: Seed,
        customize: impl FnOnce(&mut Settings),
    ) -> anyhow::Result<(Self, Seeded)> {
        let data_dir = tempfile::tempdir().context("cannot create a temporary data dir")?;
        // The defaults and `MERCATO__SECTION__KEY` variables (e.g.
        // `MERCATO__RUNTIME__ARBITERS=1`), so a run can try other settings.
        let mut settings = Settings::load(None, Overrides::default())?;
        settings.server.bind = "127.0.0.1:0".parse()?;
        settings.storage.data_dir = data_dir.path().into();
        settings.storage.durability = durability;
        settings.admin.token = SecretString::from(token.to_owned());
        customize(&mut settings);
        let (bound, bound_rx) = std::sync::mpsc::channel();
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("mercato-server".into())
            .spawn(move || {
                actix_rt::System::new().block_on(async move {
                    let app = Application::build(settings).await?;
                    if let Some(products) = seed.products {
                        let started = Instant::now();
                        let core = app.core();
                        let report =
                            mercato::seed::seed(&core.catalog, &core.inventory, products, CATALOG_SEED).await?;
                        eprintln!(
                            "seeded {} products in {:.1} s (search index commit included)",
                            report.products,
                            started.elapsed().as_secs_f64()
                        );
                    }
                    let orders = match (seed.orders, seed.products) {
                        (Some(orders), Some(products)) => {
                            place_orders(app.core(), orders, products, seed.lines.max(1)).await?
                        }
                        _ => Vec::new(),
                    };
                    if seed.read_recommendations {
                        let sold = seed.products.unwrap_or(0).min(orders.len() + seed.lines);
                        read_recommendations(app.core(), sold).await?;
                    }
                    let seeded = Seeded {
                        orders,
                        views: app.core().views.clone(),
                    };
                    // The receiver waits for this message; if it is gone, so is the run.
                    let _ = bound.send((app.addr(), seeded));
                    let serving = Box::pin(app.run_until_stopped());
                    match futures_util::future::select(serving, stop_rx).await {
                        Either::Left((served, _)) => served,
                        Either::Right(_) => Ok(()),
                    }
                })
            })
            .context("cannot start the server thread")?;
        match bound_rx.recv() {
            Ok((addr, seeded)) => Ok((
                InProcessServer {
                    addr,
                    stop,
                    thread,
                    _data_dir: data_dir,
                },
                seeded,
            )),
            Err(_) => match thread.join() {
                Ok(result) => Err(result
                    .err()
                    .unwrap_or_else(|| anyhow::anyhow!("the server stopped before it was bound"))),
                Err(_) => bail!("the server thread panicked while starting"),
            },
        }
    }

    /// Drops the application and waits for its thread.
    pub(crate) async fn stop(self) -> anyhow::Result<()> {
        // An error means the thread already ended; joining tells how.
        let _ = self.stop.send(());
        tokio::task::spawn_blocking(move || self.thread.join())
            .await?
            .map_err(|_| anyhow::anyhow!("the server thread panicked"))?
    }
}

/// The admin the bench signs in as.
pub(crate) const ADMIN: (&str, &str) = ("bench-admin@example.com", "bench-admin-password");
/// Checkouts in flight while seeding.
const IN_FLIGHT: usize = 64;

/// Places `orders` guest orders of `lines` SKUs, one unit each, over the
/// first `products` demo SKUs and creates the admin; answers the order ids.
async fn place_orders(core: &Core, orders: usize, products: usize, lines: usize) -> anyhow::Result<Vec<String>> {
    core.accounts
        .create(ADMIN.0, ADMIN.1.to_string(), None, Role::Admin)
        .await
        .context("cannot create the bench admin")?;
    let started = Instant::now();
    let ids: Vec<String> = stream::iter(0..orders)
        .map(|n| async move {
            let (cart, _) = core.carts.create(None).await?;
            for line in 0..lines {
                let sku = format!("DEMO-{:07}", (n + line) % products.max(1));
                core.carts.add_item(&cart, None, None, &sku, 1).await?;
            }
            let key = format!("bench-{n}");
            let id = order_id(&cart, &key);
            let request = CheckoutRequest {
                cart_id: cart,
                caller: None,
                key,
                email: format!("buyer{}@example.com", n % 5_000),
                shipping_address: Address {
                    name: "Bench Buyer".into(),
                    line1: "1 Load Street".into(),
                    line2: None,
                    city: "Berlin".into(),
                    region: None,
                    postal_code: "10115".into(),
                    country: "DE".into(),
                    phone: None,
                },
                fingerprint: [0; 32],
            };
            match core.orders.checkout(request).await? {
                CheckoutResult::Done { .. } => anyhow::Ok(id),
                _ => bail!("checkout {n} did not settle"),
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .try_collect()
        .await?;
    eprintln!(
        "placed {} orders in {:.1} s",
        ids.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(ids)
}

/// Recommendations asked for per read, as a product page shows them.
pub(crate) const READ_LIMIT: usize = 8;
/// How long the in-process reads run.
const IN_PROCESS: Duration = Duration::from_secs(5);

/// "Customers also bought" read in process, through the front door as a
/// page handler calls it: waits until the model has read every order, then
/// reads recommendations
/// of random products among the first `sold` from `IN_FLIGHT` tasks for
/// `IN_PROCESS`; prints reads/s and latency.
async fn read_recommendations(core: &Core, sold: usize) -> anyhow::Result<()> {
    let model = core.recommendations.co_bought();
    for _ in 0..1_000 {
        model.catch_up().await.context("the event log cannot be read")?;
        if core
            .storage
            .last_event_seq()?
            .is_none_or(|last| model.position() > last)
        {
            break;
        }
    }
    let started = Instant::now();
    let until = started + IN_PROCESS;
    let tasks: Vec<_> = (0..IN_FLIGHT)
        .map(|task| {
            let recommendations = core.recommendations.clone();
            actix_rt::spawn(async move {
                let mut random = 0xC0FFEE + task as u64;
                let mut latencies = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("a histogram");
                let mut items = 0usize;
                while Instant::now() < until {
                    let product = 1 + next_random(&mut random) % sold.max(1) as u64;
                    let asked = Instant::now();
                    let shown = recommendations.for_product(product, READ_LIMIT, &[]).await;
                    latencies.saturating_record(asked.elapsed().as_micros() as u64);
                    items += shown.map_or(0, |shown| shown.len());
                }
                (latencies, items)
            })
        })
        .collect();
    let mut latencies = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let mut items = 0;
    for task in tasks {
        let (task_latencies, task_items) = task.await?;
        latencies.add(task_latencies)?;
        items += task_items;
    }
    let reads = latencies.len();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "in process    {:.0} reads/s over {sold} products, {:.1} items each; latency µs p50 {} p99 {} max {} ({IN_FLIGHT} in flight)",
        reads as f64 / seconds,
        items as f64 / reads.max(1) as f64,
        latencies.value_at_quantile(0.5),
        latencies.value_at_quantile(0.99),
        latencies.max()
    );
    Ok(())
}
