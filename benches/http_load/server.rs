//! The server the load generator starts in its own process when no `--url` is
//! given: the real `Application` on port 0 over a temporary data directory, with
//! the default settings and any `MERCATO__*` variables, on its own thread with
//! its own actix system, dropped when the run ends. For the
//! `search` scenario it seeds the demo catalog before it reports its address.

use std::net::SocketAddr;
use std::time::Instant;

use anyhow::{bail, Context};
use futures_util::future::Either;
use mercato::settings::{Overrides, Settings};
use mercato::Application;
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
    /// Builds the application on its own thread, seeds `seed_products` demo
    /// products if asked, and waits until it is bound and seeded.
    pub(crate) fn start(token: &str, durability: Durability, seed_products: Option<usize>) -> anyhow::Result<Self> {
        let data_dir = tempfile::tempdir().context("cannot create a temporary data dir")?;
        // The defaults and `MERCATO__SECTION__KEY` variables (e.g.
        // `MERCATO__RUNTIME__ARBITERS=1`), so a run can try other settings.
        let mut settings = Settings::load(None, Overrides::default())?;
        settings.server.bind = "127.0.0.1:0".parse()?;
        settings.storage.data_dir = data_dir.path().into();
        settings.storage.durability = durability;
        settings.admin.token = SecretString::from(token.to_owned());
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
                    // The receiver waits for this message; if it is gone, so is the run.
                    let _ = bound.send(app.addr());
                    let serving = Box::pin(app.run_until_stopped());
                    match futures_util::future::select(serving, stop_rx).await {
                        Either::Left((served, _)) => served,
                        Either::Right(_) => Ok(()),
                    }
                })
            })
            .context("cannot start the server thread")?;
        match bound_rx.recv() {
            Ok(addr) => Ok(InProcessServer {
                addr,
                stop,
                thread,
                _data_dir: data_dir,
            }),
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
