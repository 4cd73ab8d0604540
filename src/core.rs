//! The core without HTTP: storage, the entity runtime, the domain front doors
//! (inventory, catalog, accounts, promotions, carts) and the search index, opened in order and shut down in reverse. `serve` puts HTTP
//! in front of it; `seed` uses it offline.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use mercato_actors::account::password::Passwords;
use mercato_actors::account::Accounts;
use mercato_actors::analytics::Analytics;
use mercato_actors::cart::Carts;
use mercato_actors::catalog::Catalog;
use mercato_actors::metrics::ActorMetrics;
use mercato_actors::notify::mailer::{Mailer, Transport};
use mercato_actors::notify::Notifier;
use mercato_actors::order::links::OrderLinks;
use mercato_actors::order::Orders;
use mercato_actors::payment::stripe::StripeGateway;
use mercato_actors::payment::{ManualGateway, PaymentGateway};
use mercato_actors::promotion::Promotions;
use mercato_actors::read_model::ReadModel;
use mercato_actors::recommend::Recommendations;
use mercato_actors::reservation_group::ReservationGroups;
use mercato_actors::runtime::{ActorDirectory, BackgroundTask, Registry, Runtime};
use mercato_actors::search::SearchIndex;
use mercato_actors::sku::Inventory;
use mercato_actors::storage::Storage;
use mercato_actors::views::Views;
use mercato_events::cursor::SinkCursor;
use mercato_events::follower::Follower;
use mercato_events::metrics::EventsMetrics;
use mercato_events::nats::NatsSink;
use mercato_events::webhooks::Webhooks;
use secrecy::ExposeSecret;
use sha2::{Digest as _, Sha256};

use crate::settings::{GatewayKind, Settings};

/// Folder of the search index inside the data dir.
const SEARCH_DIR: &str = "search";
/// Folder of mails written as files, inside the data dir.
const OUTBOX_DIR: &str = "outbox";
/// How long the final storage flush may take at shutdown.
const STORAGE_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);
/// How long actors may take to submit what they hold and stop at shutdown.
const ACTOR_STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// Everything but HTTP.
pub struct Core {
    /// The database and its commit thread.
    pub storage: Storage,
    /// Arbiters and settings every registry shares; owns the arbiters.
    pub runtime: Runtime,
    /// SKU stock actors.
    pub inventory: Inventory,
    /// Stock of several SKUs held together.
    pub reservation_groups: ReservationGroups,
    /// Categories, products and the search index.
    pub catalog: Catalog,
    /// Users, e-mail claims, sessions.
    pub accounts: Accounts,
    /// Coupons and automatic promotions.
    pub promotions: Promotions,
    /// Carts.
    pub carts: Carts,
    /// Orders and the checkout saga.
    pub orders: Orders,
    /// The background loops (cart re-pricer, order sweeper, notifier), in
    /// start order; stopped first at shutdown.
    background: Mutex<Vec<BackgroundTask>>,
    /// Order mails.
    pub notifier: Notifier,
    /// Where each events-out sink stands in the log.
    pub sink_cursors: Registry<SinkCursor>,
    /// Webhook endpoints and their deliveries.
    pub webhooks: Webhooks,
    /// "Customers also bought", read from the confirmed orders.
    pub recommendations: Recommendations,
    /// Product views and each viewer's recently viewed products.
    pub views: Views,
    /// Orders and revenue over a range, from the order events.
    pub analytics: Analytics,
    /// Every metric of the process.
    pub prometheus: prometheus::Registry,
    /// The secret access tokens are signed with (config or the data dir's key file).
    pub jwt_secret: secrecy::SecretSlice<u8>,
    /// Guests' order tokens and order-page links (keyed from the JWT secret).
    pub order_links: OrderLinks,
}

impl Core {
    /// Opens storage, starts the runtime, and brings the search index up to date
    /// with the catalog. Must run inside an actix `System`.
    pub async fn open(settings: &Settings) -> anyhow::Result<Self> {
        let prometheus = prometheus::Registry::new();
        let metrics = ActorMetrics::register(&prometheus).context("cannot register actor metrics")?;
        let data_dir = &settings.storage.data_dir;
        std::fs::create_dir_all(data_dir).with_context(|| format!("cannot create data dir {}", data_dir.display()))?;
        let storage = Storage::open(&settings.storage, metrics.storage)
            .with_context(|| format!("cannot open storage in {}", data_dir.display()))?;
        let runtime = Runtime::start(settings.runtime.clone(), storage.clone(), metrics.runtime);
        let inventory = Inventory::new(&runtime);
        let reservation_groups = ReservationGroups::new(&runtime, inventory.clone());
        let passwords = Passwords::new(&settings.auth.argon2).context("invalid [auth.argon2] settings")?;
        let accounts = Accounts::new(&runtime, passwords, settings.auth.refresh_ttl, settings.auth.access_ttl);
        let search_dir = data_dir.join(SEARCH_DIR);
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
        let promotions = Promotions::open(&runtime)
            .await
            .context("cannot load the discount rules")?;
        let carts = Carts::new(&runtime, &catalog, inventory.clone(), promotions.clone());
        let gateway: Arc<dyn PaymentGateway> = match settings.payments.gateway {
            GatewayKind::Manual => Arc::new(ManualGateway {
                capture: settings.payments.manual.capture,
            }),
            GatewayKind::Stripe => {
                let (secret, webhook) = (&settings.stripe.secret_key, &settings.stripe.webhook_secret);
                anyhow::ensure!(
                    !secret.expose_secret().is_empty() && !webhook.expose_secret().is_empty(),
                    "payments.gateway = \"stripe\" needs stripe.secret_key and stripe.webhook_secret"
                );
                Arc::new(StripeGateway::new(&settings.stripe.api_base, secret.expose_secret()))
            }
        };
        let orders = Orders::new(
            &runtime,
            inventory.clone(),
            carts.clone(),
            accounts.clone(),
            promotions.clone(),
            gateway,
            settings.checkout.clone(),
            metrics.orders.clone(),
        );
        let transport = match settings.mail.smtp_relay.as_str() {
            "" => Transport::Outbox(data_dir.join(OUTBOX_DIR)),
            relay => {
                let (host, port) = relay
                    .rsplit_once(':')
                    .and_then(|(host, port)| Some((host, port.parse::<u16>().ok()?)))
                    .with_context(|| format!("mail.smtp_relay must be host:port, got {relay}"))?;
                Transport::smtp_relay(host, port)
            }
        };
        let mailer = Mailer::new(&settings.mail.from, transport).context("invalid [mail] settings")?;
        let jwt_secret = crate::keys::jwt_secret(&settings.auth.jwt_secret, data_dir)?;
        let order_links = OrderLinks::new(
            Sha256::digest([b"mercato order tokens\n".as_slice(), jwt_secret.expose_secret()].concat()).into(),
            &settings.web.public_url(settings.server.bind),
        );
        let notifier = Notifier::new(
            &runtime,
            orders.clone(),
            mailer,
            settings.mail.poll_interval,
            order_links.clone(),
            &metrics.orders,
        );
        let mut background = vec![
            carts.start_repricer(),
            orders.start_sweeper(),
            notifier.start(),
            orders.book().start(&metrics.read_model_lag),
            accounts.customers().start(&metrics.read_model_lag),
            inventory.stock_book().start(&metrics.read_model_lag),
        ];
        let recommendations = Recommendations::new(&runtime, catalog.clone(), inventory.clone());
        background.extend(recommendations.start(&metrics.read_model_lag));
        let views = {
            let (storage, config, metrics) = (storage.clone(), settings.views.clone(), metrics.views.clone());
            tokio::task::spawn_blocking(move || Views::open(storage, config, metrics))
                .await
                .context("the view log reader failed")?
                .context("cannot read the view log")?
        };
        background.push(views.start());
        let analytics = Analytics::new(ReadModel::new(storage.clone()), catalog.clone(), views.clone());
        background.push(analytics.start(&metrics.read_model_lag));
        let events = EventsMetrics::register(&prometheus).context("cannot register events metrics")?;
        let sink_cursors = Registry::<SinkCursor>::new(&runtime);
        let webhooks = Webhooks::new(
            &runtime,
            storage.clone(),
            sink_cursors.clone(),
            settings.webhooks.clone(),
            events.clone(),
        )
        .context("cannot build the webhook client")?;
        background.push(webhooks.start());
        if !settings.events.nats.url.is_empty() {
            let sink = NatsSink::new(settings.events.nats.clone());
            let follower = Follower::new(
                ("nats", "nats"),
                storage.clone(),
                sink_cursors.clone(),
                events.clone(),
                sink,
            );
            background.push(follower.start("nats publisher"));
        }
        Ok(Core {
            storage,
            runtime,
            inventory,
            reservation_groups,
            catalog,
            accounts,
            promotions,
            carts,
            orders,
            background: Mutex::new(background),
            notifier,
            sink_cursors,
            webhooks,
            recommendations,
            views,
            analytics,
            prometheus,
            jwt_secret,
            order_links,
        })
    }

    /// Every entity kind, for the admin API and shutdown.
    pub fn directories(&self) -> Vec<Arc<dyn ActorDirectory>> {
        let mut directories: Vec<Arc<dyn ActorDirectory>> = vec![
            Arc::new(self.inventory.registry().clone()),
            Arc::new(self.reservation_groups.registry().clone()),
            Arc::new(self.catalog.registry().clone()),
        ];
        directories.extend(self.accounts.directories());
        directories.push(Arc::new(self.promotions.registry().clone()));
        directories.push(Arc::new(self.carts.registry().clone()));
        directories.extend(self.orders.directories());
        directories.extend(self.notifier.directories());
        directories.push(Arc::new(self.sink_cursors.clone()));
        directories.push(Arc::new(self.webhooks.registry().clone()));
        directories.push(Arc::new(self.recommendations.registry().clone()));
        directories
    }

    /// Stops the background loops (newest first, so none wakes an actor after
    /// this), then every actor (each submits what it holds), waits for queued
    /// writes and flushes storage.
    pub async fn shutdown(&self) -> anyhow::Result<()> {
        let background = std::mem::take(&mut *self.background.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
        for task in background.into_iter().rev() {
            task.stop().await;
        }
        let directories = self.directories();
        let passivated: usize = directories.iter().map(|directory| directory.passivate_all()).sum();
        tracing::info!(passivated, "stopping actors");
        let deadline = tokio::time::Instant::now() + ACTOR_STOP_TIMEOUT;
        while directories.iter().any(|directory| directory.live() > 0) {
            if tokio::time::Instant::now() >= deadline {
                let running: Vec<String> = (directories.iter())
                    .filter(|directory| directory.live() > 0)
                    .map(|directory| format!("{} {}", directory.live(), directory.kind()))
                    .collect();
                tracing::warn!(timeout = ?ACTOR_STOP_TIMEOUT, running = %running.join(", "), "actors still running; flushing anyway");
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
            // An activation that was under way (for a caller that is gone now)
            // comes alive after the first pass: passivate it too.
            for directory in &directories {
                directory.passivate_all();
            }
        }
        tracing::info!("actors stopped; flushing storage");
        self.storage
            .shutdown(STORAGE_SHUTDOWN_TIMEOUT)
            .await
            .context("cannot flush storage")?;
        tracing::info!("storage flushed");
        Ok(())
    }
}
