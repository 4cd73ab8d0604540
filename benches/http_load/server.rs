//! The server the load generator starts in its own process when no `--url` is
//! given: the real `Application` on port 0 over a temporary data directory, with
//! the default settings and any `MERCATO__*` variables, on its own thread with
//! its own actix system, dropped when the run ends. For the
//! `search` and page scenarios it seeds the demo catalog before it reports its
//! address; for the console scenarios also guest orders and an admin.

use std::net::SocketAddr;
use std::time::Instant;

use anyhow::{bail, Context};
use futures_util::future::Either;
use futures_util::{stream, StreamExt as _, TryStreamExt as _};
use mercato::core::Core;
use mercato::settings::{Overrides, Settings};
use mercato::Application;
use mercato_actors::account::address::Address;
use mercato_actors::account::Role;
use mercato_actors::order::{order_id, CheckoutRequest, CheckoutResult};
use mercato_actors::storage::Durability;
use secrecy::SecretString;

/// Generator seed of the demo catalog: `mercato seed`'s default, so that runs
/// with and without `--url` search the same catalog.
const CATALOG_SEED: u64 = 42;

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
    /// word on its settings), seeds `seed_products` demo products if asked,
    /// and waits until it is bound and seeded.
    pub(crate) fn start(
        token: &str,
        durability: Durability,
        seed_products: Option<usize>,
        seed_orders: Option<usize>,
        customize: impl FnOnce(&mut Settings),
    ) -> anyhow::Result<(Self, Vec<String>)> {
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
                    if let Some(products) = seed_products {
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
                    let orders = match (seed_orders, seed_products) {
                        (Some(orders), Some(products)) => place_orders(app.core(), orders, products).await?,
                        _ => Vec::new(),
                    };
                    // The receiver waits for this message; if it is gone, so is the run.
                    let _ = bound.send((app.addr(), orders));
                    let serving = Box::pin(app.run_until_stopped());
                    match futures_util::future::select(serving, stop_rx).await {
                        Either::Left((served, _)) => served,
                        Either::Right(_) => Ok(()),
                    }
                })
            })
            .context("cannot start the server thread")?;
        match bound_rx.recv() {
            Ok((addr, orders)) => Ok((
                InProcessServer {
                    addr,
                    stop,
                    thread,
                    _data_dir: data_dir,
                },
                orders,
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

/// Places `orders` guest orders of one unit each over the first `products`
/// demo SKUs and creates the admin; answers the order ids.
async fn place_orders(core: &Core, orders: usize, products: usize) -> anyhow::Result<Vec<String>> {
    core.accounts
        .create(ADMIN.0, ADMIN.1.to_string(), None, Role::Admin)
        .await
        .context("cannot create the bench admin")?;
    let started = Instant::now();
    let ids: Vec<String> = stream::iter(0..orders)
        .map(|n| async move {
            let (cart, _) = core.carts.create(None).await?;
            let sku = format!("DEMO-{:07}", n % products.max(1));
            core.carts.add_item(&cart, None, None, &sku, 1).await?;
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
