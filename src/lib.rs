//! # mercato
//!
//! The binary's library: settings, telemetry and the wiring of actors and HTTP.
//!
//! # Layout
//!
//! - [`settings`]: the settings tree and its layered loading;
//! - [`telemetry`]: the tracing subscriber;
//! - [`Application`]: opens storage, starts the entity runtime, binds the HTTP
//!   server; [`Application::run_until_stopped`] serves until SIGTERM, then drains
//!   requests and flushes storage.
//!
//! The entity runtime lives in `mercato-actors`, the routes in `mercato-http`.

pub mod settings;
pub mod telemetry;

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use mercato_actors::catalog::Catalog;
use mercato_actors::metrics::ActorMetrics;
use mercato_actors::runtime::{ActorDirectory, Runtime};
use mercato_actors::search::SearchIndex;
use mercato_actors::sku::Inventory;
use mercato_actors::storage::Storage;
use mercato_http::metrics::HttpMetrics;
use mercato_http::{AppState, HttpOptions};
use secrecy::{ExposeSecret, SecretString};

use crate::settings::Settings;

/// Folder of the search index inside the data dir.
const SEARCH_DIR: &str = "search";
/// How long the final storage flush may take at shutdown.
const STORAGE_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);
/// How long actors may take to submit what they hold and stop at shutdown.
const ACTOR_STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// A built application: storage open, runtime started, socket bound.
pub struct Application {
    /// The address actually bound (useful with port 0).
    addr: std::net::SocketAddr,
    /// The running HTTP server.
    server: Server,
    /// Flushed after the server has drained.
    storage: Storage,
    /// Set to false when shutdown begins, so `/readyz` turns 503.
    ready: Arc<AtomicBool>,
    /// The operator token in force (generated if none was configured).
    admin_token: SecretString,
    /// Every entity kind: passivated at shutdown so that nothing stays pending.
    directories: Vec<Arc<dyn ActorDirectory>>,
    /// Kept alive as long as the application: owns the arbiters.
    _runtime: Runtime,
}

impl Application {
    /// Opens storage, starts the runtime, brings the search index up to date with
    /// the catalog and binds the server. Must run inside an actix `System`.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let prometheus = prometheus::Registry::new();
        let actor_metrics = ActorMetrics::register(&prometheus).context("cannot register actor metrics")?;
        let http_metrics = HttpMetrics::register(&prometheus).context("cannot register http metrics")?;
        std::fs::create_dir_all(&settings.storage.data_dir)
            .with_context(|| format!("cannot create data dir {}", settings.storage.data_dir.display()))?;
        let storage = Storage::open(&settings.storage, actor_metrics.storage)
            .with_context(|| format!("cannot open storage in {}", settings.storage.data_dir.display()))?;
        let runtime = Runtime::start(settings.runtime.clone(), storage.clone(), actor_metrics.runtime);
        let inventory = Inventory::new(&runtime);
        let search_dir = settings.storage.data_dir.join(SEARCH_DIR);
        let search = SearchIndex::open(&search_dir)
            .with_context(|| format!("cannot open the search index in {}", search_dir.display()))?;
        let catalog = Catalog::new(&runtime, search);
        if catalog
            .sync_search()
            .await
            .context("cannot bring the search index up to date")?
        {
            tracing::info!("search index rebuilt from the catalog");
        }
        let directories: Vec<Arc<dyn ActorDirectory>> = vec![
            Arc::new(inventory.registry().clone()),
            Arc::new(catalog.registry().clone()),
        ];
        let admin_token = match settings.admin.token.expose_secret() {
            "" => SecretString::from(generate_token()?),
            _ => settings.admin.token.clone(),
        };
        let ready = Arc::new(AtomicBool::new(true));
        let state = web::Data::new(AppState {
            inventory,
            catalog,
            directories: directories.clone(),
            admin_token: admin_token.clone(),
            metrics: http_metrics,
            prometheus,
            ready: Arc::clone(&ready),
        });
        let options = HttpOptions {
            body_limit_bytes: settings.server.body_limit_bytes,
            fault_injection: settings.testing.fault_injection,
        };
        let listener = TcpListener::bind(settings.server.bind)
            .with_context(|| format!("cannot listen on {}", settings.server.bind))?;
        let addr = listener.local_addr().context("cannot read the bound address")?;
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(mercato_http::middleware::observe))
                .configure(mercato_http::configure(state.clone(), options))
        })
        .shutdown_timeout(settings.server.shutdown_timeout.as_secs().max(1));
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        let server = server.listen(listener).context("cannot start the HTTP server")?.run();
        tracing::info!(%addr, data_dir = %settings.storage.data_dir.display(), durability = ?settings.storage.durability, "mercato built");
        Ok(Application {
            addr,
            server,
            storage,
            ready,
            admin_token,
            directories,
            _runtime: runtime,
        })
    }

    /// The bound address.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// The operator token in force.
    pub fn admin_token(&self) -> &SecretString {
        &self.admin_token
    }

    /// Serves until the server is stopped (SIGTERM or SIGINT), then stops every
    /// actor (each submits what it holds), waits for queued writes and flushes
    /// storage.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Application {
            server,
            storage,
            ready,
            directories,
            ..
        } = self;
        let served = server.await;
        ready.store(false, Ordering::Release);
        let passivated: usize = directories.iter().map(|directory| directory.passivate_all()).sum();
        tracing::info!(passivated, "http server stopped; stopping actors");
        let deadline = tokio::time::Instant::now() + ACTOR_STOP_TIMEOUT;
        while directories.iter().any(|directory| directory.live() > 0) {
            if tokio::time::Instant::now() >= deadline {
                tracing::warn!(timeout = ?ACTOR_STOP_TIMEOUT, "actors still running; flushing anyway");
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tracing::info!("actors stopped; flushing storage");
        storage
            .shutdown(STORAGE_SHUTDOWN_TIMEOUT)
            .await
            .context("cannot flush storage")?;
        tracing::info!("storage flushed; exiting");
        served.context("http server failed")
    }
}

/// A random 256-bit operator token, hex-encoded.
fn generate_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|err| anyhow::anyhow!("cannot generate a token: {err}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
