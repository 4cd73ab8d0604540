//! # mercato
//!
//! The binary's library: settings, telemetry and the wiring of actors and HTTP.
//!
//! # Layout
//!
//! - [`settings`]: the settings tree and its layered loading;
//! - [`telemetry`]: the tracing subscriber;
//! - [`core`]: storage, the entity runtime, inventory, catalog, accounts and search,
//!   without HTTP (opened by `serve`, `seed` and `users`);
//! - [`keys`]: the JWT signing secret (config or a key file in the data dir);
//! - [`seed`]: demo data; [`demo`]: the shop `serve --demo` fills an empty data dir with;
//! - [`Application`]: the core behind the HTTP server;
//!   [`Application::run_until_stopped`] serves until SIGTERM, then drains requests
//!   (`shutdown`: `/readyz` 503 first), stops the actors and flushes storage.
//!
//! The entity runtime lives in `mercato-actors`, the routes in `mercato-http`.

pub mod core;
pub mod demo;
pub mod keys;
pub mod seed;
pub mod settings;
mod shutdown;
pub mod telemetry;

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use mercato_http::auth::jwt::JwtKeys;
use mercato_http::metrics::HttpMetrics;
use mercato_http::rate_limit::RateLimiter;
use mercato_http::{AppState, HttpOptions};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest as _, Sha256};

use crate::core::Core;
use crate::settings::Settings;

/// A built application: the core open, the socket bound.
pub struct Application {
    /// The address actually bound (useful with port 0).
    addr: std::net::SocketAddr,
    /// The running HTTP server.
    server: Server,
    /// Stopped after the server has drained.
    core: Core,
    /// Set to false when shutdown begins, so `/readyz` turns 503.
    ready: Arc<AtomicBool>,
    /// How long SIGTERM keeps serving (not ready) before the listener closes.
    drain_delay: std::time::Duration,
    /// SIGTERM and SIGINT, listened to from before the listener accepts.
    signals: shutdown::Signals,
    /// The operator token in force (the data dir's if none was configured).
    admin_token: SecretString,
}

impl Application {
    /// Opens the core and binds the server. Must run inside an actix `System`.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let core = Core::open(&settings).await?;
        let http_metrics = HttpMetrics::register(&core.prometheus).context("cannot register http metrics")?;
        let (admin_token, token_source) = keys::operator_token(&settings.admin.token, &settings.storage.data_dir)?;
        if let keys::TokenSource::Kept(path) = &token_source {
            tracing::info!(path = %path.display(), "the operator token is kept in the data dir");
        }
        let jwt = JwtKeys::new(core.jwt_secret.expose_secret(), settings.auth.access_ttl);
        let limiter = match settings.redis.url.expose_secret() {
            "" => RateLimiter::in_memory(settings.rate_limit.clone()),
            url => RateLimiter::redis(settings.rate_limit.clone(), url, settings.redis.key_prefix.clone())
                .await
                .context("cannot connect to Redis (redis.url)")?,
        };
        let ready = Arc::new(AtomicBool::new(true));
        let state = web::Data::new(AppState {
            inventory: core.inventory.clone(),
            reservation_groups: core.reservation_groups.clone(),
            catalog: core.catalog.clone(),
            accounts: core.accounts.clone(),
            carts: core.carts.clone(),
            promotions: core.promotions.clone(),
            orders: core.orders.clone(),
            notifier: core.notifier.clone(),
            stripe_webhook_secret: (settings.payments.gateway == settings::GatewayKind::Stripe)
                .then(|| settings.stripe.webhook_secret.clone()),
            order_links: core.order_links.clone(),
            jwt,
            limiter,
            directories: core.directories(),
            admin_token: admin_token.clone(),
            metrics: http_metrics,
            prometheus: core.prometheus.clone(),
            ready: Arc::clone(&ready),
            storage: core.storage.clone(),
            webhooks: core.webhooks.clone(),
            recommendations: core.recommendations.clone(),
            views: core.views.clone(),
            analytics: core.analytics.clone(),
        });
        let options = HttpOptions {
            body_limit_bytes: settings.server.body_limit_bytes,
            fault_injection: settings.testing.fault_injection,
        };
        let signals = shutdown::Signals::install().context("cannot listen for signals")?;
        let listener = TcpListener::bind(settings.server.bind)
            .with_context(|| format!("cannot listen on {}", settings.server.bind))?;
        let addr = listener.local_addr().context("cannot read the bound address")?;
        let web_options = mercato_web::WebOptions {
            csrf_key: Sha256::digest(
                [b"mercato storefront csrf\n".as_slice(), core.jwt_secret.expose_secret()].concat(),
            )
            .into(),
            secure_cookies: settings.web.secure_cookies,
            stripe: settings.payments.gateway == settings::GatewayKind::Stripe,
            public_url: Some(settings.web.public_url.trim().to_string()).filter(|url| !url.is_empty()),
            fault_injection: settings.testing.fault_injection,
        };
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(mercato_http::middleware::limit_headers))
                .wrap(from_fn(mercato_http::middleware::observe))
                // The API first: the router tries patterns in order and every
                // dynamic one is a regex, so API requests (the hot ones) must not
                // be tried against the pages' patterns first; the two share no path.
                .configure(mercato_http::configure(state.clone(), options))
                .configure(mercato_web::configure(web_options.clone()))
                .default_service(web::to(not_found))
        })
        .shutdown_timeout(settings.server.shutdown_timeout.as_secs().max(1))
        .disable_signals();
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        let server = server.listen(listener).context("cannot start the HTTP server")?.run();
        tracing::info!(%addr, data_dir = %settings.storage.data_dir.display(), durability = ?settings.storage.durability, "mercato built");
        Ok(Application {
            addr,
            server,
            core,
            ready,
            drain_delay: settings.server.drain_delay,
            signals,
            admin_token,
        })
    }

    /// The bound address.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// The core behind the server (for seeding an in-process server, e.g. in benches).
    pub fn core(&self) -> &crate::core::Core {
        &self.core
    }

    /// The operator token in force.
    pub fn admin_token(&self) -> &SecretString {
        &self.admin_token
    }

    /// Serves until SIGTERM or SIGINT, drains (see `shutdown`), then shuts the
    /// core down: every actor submits what it holds, storage is flushed.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Application {
            server,
            core,
            ready,
            drain_delay,
            signals,
            ..
        } = self;
        let handle = server.handle();
        let mut serving = actix_web::rt::spawn(server);
        let served = tokio::select! {
            served = &mut serving => served,
            () = signals.drain_on_signal(handle, &ready, drain_delay) => serving.await,
        };
        ready.store(false, Ordering::Release);
        tracing::info!("http server stopped");
        let served = served.context("http server task failed")?;
        core.shutdown().await?;
        served.context("http server failed")
    }
}

/// A path nothing serves: a page in words for a browser, the API's JSON 404
/// for everyone else and for every path under `/v1/`.
async fn not_found(req: actix_web::HttpRequest) -> actix_web::HttpResponse {
    use actix_web::{HttpMessage as _, Responder as _};
    req.extensions_mut().insert(mercato_http::middleware::Unmatched);
    let browser = req
        .headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if browser && !req.path().starts_with("/v1/") {
        return mercato_web::not_found_page();
    }
    mercato_http::no_route(req.clone())
        .await
        .respond_to(&req)
        .map_into_boxed_body()
}
