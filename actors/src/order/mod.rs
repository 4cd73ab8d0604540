//! Orders and the checkout saga of DESIGN §3.
//!
//! - [`state`]: the order state machine, pure, and [`placement`], what an
//!   order is made of; [`step`]: the saga's next step chosen from that state
//!   alone, pure; [`open_orders`]: the orders whose saga is not settled, with
//!   listing generations, pure; [`idempotency`]: a checkout key's first answer
//!   and the request it answered;
//! - [`messages`], `actor`: the `order` and `order-index` entities;
//! - [`book`]: every order's summary for the console, pure, a read model of
//!   the event log;
//! - [`Orders`], the front door, in files by what they do: `checkout` (a
//!   checkout and its retries), `saga` (executing steps and recording their
//!   events), `effects` (the world the saga acts on: the calls to SKUs,
//!   coupons, carts and the gateway),
//!   `operator` (cancel, capture, ship), `payment_events` (a gateway's word,
//!   whenever it comes), `sweeper` (resuming open orders); [`errors`].
//!
//! A checkout: the cart is frozen for the order and the order listed as open;
//! the order is placed (its id digests the cart and the `Idempotency-Key`, so a
//! retry finds it); every line is reserved (sold at once with a gateway that
//! pays at once and moves no money) and the coupon's use claimed at once (any
//! refusal → `rejected`, and what was taken goes back); the payment starts;
//! once paid every line is committed and the cart closed → `confirmed`. A
//! refund (cancel after confirmation, stock lost before a late payment) is
//! recorded as owed before its units come back and its money goes out.

mod actor;
pub mod book;
mod checkout;
mod effects;
pub mod errors;
pub mod idempotency;
pub mod links;
pub mod messages;
pub mod open_orders;
mod operator;
mod payment_events;
pub mod placement;
mod saga;
pub mod state;
pub mod step;
mod sweeper;

#[cfg(test)]
mod model_tests;

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rustc_hash::FxHashMap;
use serde::Deserialize;

use self::book::OrderBook;
pub use self::checkout::{order_id, CheckoutRequest, CheckoutResult};
pub use self::errors::OrdersError;
use self::idempotency::IdempotencyRecord;
use self::messages::{OpenOrdersCommand, OpenOrdersReply, OrderCommand};
use self::open_orders::OpenOrders;
pub use self::payment_events::PaymentEventOutcome;
use self::state::{OrderEvent, OrderState};
use crate::account::Accounts;
use crate::cart::Carts;
use crate::metrics::OrderMetrics;
use crate::payment::PaymentGateway;
use crate::read_model::ReadModel;
use crate::runtime::{ActorDirectory, Registry, Runtime};

/// The id of the open-order set.
const OPEN_ID: &str = "open";

/// The `[checkout]` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckoutConfig {
    /// How long an order waits for its payment before it expires.
    #[serde(with = "humantime_serde")]
    pub payment_window: Duration,
    /// How much longer than the payment window reservations live, so that a
    /// payment confirmed at the last moment still finds its stock.
    #[serde(with = "humantime_serde")]
    pub reservation_grace: Duration,
    /// How often open orders are looked at (resumed, expired, released).
    #[serde(with = "humantime_serde")]
    pub sweep_interval: Duration,
    /// How long an order waits for an asynchronous payment before the sweeper
    /// asks the gateway how it stands (reconciliation, for lost webhooks).
    #[serde(with = "humantime_serde")]
    pub reconcile_after: Duration,
    /// The first wait before a refused refund is tried again (doubling up to
    /// [`state::REFUND_RETRY_MAX_MS`]).
    #[serde(with = "humantime_serde")]
    pub refund_retry_min: Duration,
}

/// Typed access to orders, running the checkout saga.
#[derive(Clone)]
pub struct Orders {
    inner: Arc<Inner>,
}

struct Inner {
    orders: Registry<OrderState>,
    open: Registry<OpenOrders>,
    keys: Registry<IdempotencyRecord>,
    inventory: crate::sku::Inventory,
    carts: Carts,
    accounts: Accounts,
    promotions: crate::promotion::Promotions,
    gateway: Arc<dyn PaymentGateway>,
    config: CheckoutConfig,
    metrics: OrderMetrics,
    /// Orders whose saga runs in this process now (a retry gets 409), and
    /// whether something moved the order meanwhile (the running saga looks
    /// again before it stops).
    running: Mutex<FxHashMap<String, bool>>,
    /// Stripe event ids applied.
    seen: Registry<crate::payment::webhook::SeenEvent>,
    /// Every order's summary, from the event log.
    book: ReadModel<OrderBook>,
}

/// Marks an order as running in this process until dropped.
struct Running<'a> {
    inner: &'a Inner,
    id: String,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.inner.running.lock().remove(&self.id);
    }
}

impl Orders {
    /// Orders on `runtime`; [`Orders::start_sweeper`] resumes them in the background.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        runtime: &Runtime,
        inventory: crate::sku::Inventory,
        carts: Carts,
        accounts: Accounts,
        promotions: crate::promotion::Promotions,
        gateway: Arc<dyn PaymentGateway>,
        config: CheckoutConfig,
        metrics: OrderMetrics,
    ) -> Self {
        Orders {
            inner: Arc::new(Inner {
                orders: Registry::new(runtime),
                open: Registry::new(runtime),
                keys: Registry::new(runtime),
                inventory,
                carts,
                accounts,
                promotions,
                gateway,
                config,
                metrics,
                running: Mutex::default(),
                seen: Registry::new(runtime),
                book: ReadModel::new(runtime.storage().clone()),
            }),
        }
    }

    /// Every order's summary (the console's list), fed from the event log by
    /// the task of `book().start()`.
    pub fn book(&self) -> &ReadModel<OrderBook> {
        &self.inner.book
    }

    /// The registries, for the admin API and shutdown.
    pub fn directories(&self) -> Vec<Arc<dyn ActorDirectory>> {
        vec![
            Arc::new(self.inner.orders.clone()),
            Arc::new(self.inner.open.clone()),
            Arc::new(self.inner.keys.clone()),
            Arc::new(self.inner.seen.clone()),
        ]
    }

    async fn call(&self, id: &str, command: OrderCommand) -> Result<messages::OrderOutcome, OrdersError> {
        Ok(self.inner.orders.call(id, command).await??)
    }

    /// An order.
    pub async fn get(&self, id: &str) -> Result<OrderState, OrdersError> {
        Ok(self.call(id, OrderCommand::Get).await?.order)
    }

    /// Records events at once (all or none); counts the statuses entered.
    async fn record(&self, id: &str, events: Vec<OrderEvent>) -> Result<OrderState, OrdersError> {
        let entered: Vec<_> = events.iter().filter_map(OrderEvent::status_entered).collect();
        let order = self.call(id, OrderCommand::Record(events)).await?.order;
        for status in entered {
            self.inner.metrics.orders.with_label_values(&[status.name()]).inc();
        }
        Ok(order)
    }

    fn mark_running(&self, id: &str) -> Option<Running<'_>> {
        let mut running = self.inner.running.lock();
        if running.contains_key(id) {
            return None;
        }
        running.insert(id.to_string(), false);
        drop(running);
        Some(Running {
            inner: &self.inner,
            id: id.to_string(),
        })
    }

    /// Tells order `id`'s running saga that the order moved (a webhook, a
    /// cancel); `false` if none runs.
    fn nudge(&self, id: &str) -> bool {
        match self.inner.running.lock().get_mut(id) {
            Some(nudged) => {
                *nudged = true;
                true
            }
            None => false,
        }
    }

    /// Whether order `id` was nudged since the last look (and clears it).
    fn take_nudge(&self, id: &str) -> bool {
        self.inner.running.lock().get_mut(id).is_some_and(std::mem::take)
    }

    /// Whether order `id`'s saga runs in this process now.
    fn is_running(&self, id: &str) -> bool {
        self.inner.running.lock().contains_key(id)
    }

    /// Lists order `id` (again) before it takes on new work, so that the
    /// sweeper finishes it after a crash; answers the listing's generation.
    async fn relist(&self, id: &str) -> Result<u64, OrdersError> {
        match self
            .inner
            .open
            .call(OPEN_ID, OpenOrdersCommand::Open(id.to_string()))
            .await?
        {
            OpenOrdersReply::Listed(generation) => Ok(generation),
            other => unreachable!("a listing answers its generation, not {other:?}"),
        }
    }

    /// Unlists order `id` if it is still listed under `generation`, without
    /// waiting: a lost close only makes the sweeper look at a settled order once more.
    fn close_listing(&self, id: &str, generation: u64) {
        let open = self.inner.open.clone();
        let close = OpenOrdersCommand::Close {
            id: id.to_string(),
            generation,
        };
        let id = id.to_string();
        tokio::spawn(async move {
            if let Err(err) = open.call(OPEN_ID, close).await {
                tracing::warn!(order = %id, error = %err, "settled order not unlisted; the sweeper will");
            }
        });
    }
}
