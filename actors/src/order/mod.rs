//! Orders and the checkout saga of DESIGN §3.
//!
//! - [`state`]: the order state machine and the open-order set, pure;
//! - [`messages`], `actor`: the `order` and `order-index` entities;
//! - [`Orders`]: the front door that runs the saga around them:
//!   1. the order is placed, keyed by the cart and the checkout's idempotency
//!      key (so a retry finds it), after it is listed as open;
//!   2. every line is reserved (reservation id `<order>.<line>`, TTL = payment
//!      window + grace); any refusal releases what was taken → `rejected`;
//!   3. the gateway starts the payment (idempotent on the order id) →
//!      `awaiting_payment`, and `paid` when it succeeds;
//!   4. every reservation is committed → `confirmed`; a reservation that ran
//!      out before the payment came means the stock may be gone: the payment is
//!      refunded → `refunded`.
//!
//! Each step is recorded before the next begins, and each step is idempotent,
//! so a sweeper (at start and every `sweep_interval`) resumes any open order
//! from its recorded step after a crash, and releases the stock of orders that
//! failed, expired or were cancelled.

mod actor;
pub mod messages;
pub mod state;

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rustc_hash::FxHashSet;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use self::messages::{OpenOrdersCommand, OrderCommand};
use self::state::{OpenOrders, OrderError, OrderEvent, OrderLine, OrderState, OrderStatus, Placement, Shortage};
use crate::account::address::Address;
use crate::account::Accounts;
use crate::cart::{CartError, Carts, CartsError};
use crate::metrics::OrderMetrics;
use crate::payment::{PaymentGateway, PaymentStatus};
use crate::runtime::{now_millis, ActorDirectory, ActorError, Registry, Runtime};
use crate::sku::{InventoryError, StockError};

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
    /// How long an order waits for its payment before the sweeper asks the
    /// gateway how it stands (reconciliation, for lost webhooks).
    #[serde(with = "humantime_serde")]
    pub reconcile_after: Duration,
}

/// Why an order call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum OrdersError {
    /// The order refused.
    #[error(transparent)]
    Order(#[from] OrderError),
    /// The cart refused (not found, someone else's).
    #[error(transparent)]
    Cart(#[from] CartsError),
    /// Nothing to check out.
    #[error("the cart is empty")]
    EmptyCart,
    /// An entity could not answer.
    #[error(transparent)]
    Actor(#[from] ActorError),
    /// A stock or payment call failed; the sweeper retries.
    #[error("{0}")]
    Unavailable(String),
}

impl From<InventoryError> for OrdersError {
    fn from(err: InventoryError) -> Self {
        OrdersError::Unavailable(err.to_string())
    }
}

/// A checkout as the customer asked for it.
#[derive(Debug, Clone)]
pub struct CheckoutRequest {
    /// The cart.
    pub cart_id: String,
    /// The signed-in customer, if any.
    pub caller: Option<String>,
    /// The `Idempotency-Key`.
    pub key: String,
    /// Where mails go.
    pub email: String,
    /// Where the parcel goes (validated).
    pub shipping_address: Address,
    /// Digest of the request body: the same key with another body is refused.
    pub fingerprint: [u8; 32],
}

/// What a checkout comes to.
#[derive(Debug, Clone)]
pub enum CheckoutResult {
    /// The key was used before: its first answer.
    Replay { status: u16, body: String },
    /// The order's saga settled (or waits for its payment); answer it, then
    /// store the answer with [`Orders::answer`].
    Done { order_id: String, order: OrderState },
    /// The first request with this key is still running.
    InProgress,
    /// The key was used with another request body.
    KeyReused,
}

/// What a payment event came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentEventOutcome {
    /// It moved an order.
    Applied,
    /// This event id was applied before.
    Duplicate,
    /// The order's saga has not started the payment yet: deliver it again later.
    NotReady,
    /// Nothing to do (another event type, an unknown or settled order).
    Ignored,
}

/// Typed access to orders, running the checkout saga.
#[derive(Clone)]
pub struct Orders {
    inner: Arc<Inner>,
}

struct Inner {
    orders: Registry<OrderState>,
    open: Registry<OpenOrders>,
    inventory: crate::sku::Inventory,
    carts: Carts,
    accounts: Accounts,
    promotions: crate::promotion::Promotions,
    gateway: Arc<dyn PaymentGateway>,
    config: CheckoutConfig,
    metrics: OrderMetrics,
    /// Orders whose saga runs in this process now (a retry gets 409).
    running: Mutex<FxHashSet<String>>,
    /// Stripe event ids applied.
    seen: Registry<crate::payment::webhook::SeenEvent>,
}

/// The order id of a checkout: a digest of the cart and the idempotency key.
pub fn order_id(cart_id: &str, key: &str) -> String {
    let digest = Sha256::digest(format!("{cart_id}\n{key}").as_bytes());
    digest[..16].iter().map(|byte| format!("{byte:02x}")).collect()
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
    /// Orders on `runtime`; starts the sweeper (inside a tokio runtime).
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
        let orders = Orders {
            inner: Arc::new(Inner {
                orders: Registry::new(runtime),
                open: Registry::new(runtime),
                inventory,
                carts,
                accounts,
                promotions,
                gateway,
                config,
                metrics,
                running: Mutex::default(),
                seen: Registry::new(runtime),
            }),
        };
        tokio::spawn(orders.clone().sweep_forever());
        orders
    }

    /// The registries, for the admin API and shutdown.
    pub fn directories(&self) -> Vec<Arc<dyn ActorDirectory>> {
        vec![
            Arc::new(self.inner.orders.clone()),
            Arc::new(self.inner.open.clone()),
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

    /// Records a step or transition; counts the status it enters.
    async fn record(&self, id: &str, event: OrderEvent) -> Result<OrderState, OrdersError> {
        let order = self.call(id, OrderCommand::Record(event)).await?.order;
        if let Some(status) = order.status() {
            self.inner.metrics.orders.with_label_values(&[status.name()]).inc();
        }
        Ok(order)
    }

    /// Stores the checkout's answer for replays.
    pub async fn answer(&self, id: &str, status: u16, body: String) -> Result<(), OrdersError> {
        self.call(id, OrderCommand::Record(OrderEvent::Answered { status, body }))
            .await?;
        Ok(())
    }

    fn mark_running(&self, id: &str) -> Option<Running<'_>> {
        self.inner.running.lock().insert(id.to_string()).then(|| Running {
            inner: &self.inner,
            id: id.to_string(),
        })
    }

    /// Runs a checkout (or finds the one this key started).
    pub async fn checkout(&self, request: CheckoutRequest) -> Result<CheckoutResult, OrdersError> {
        let started = Instant::now();
        let id = order_id(&request.cart_id, &request.key);
        let result = self.checkout_inner(&id, request).await;
        self.inner
            .metrics
            .checkout_seconds
            .observe(started.elapsed().as_secs_f64());
        result
    }

    async fn checkout_inner(&self, id: &str, request: CheckoutRequest) -> Result<CheckoutResult, OrdersError> {
        match self.get(id).await {
            Ok(existing) => return self.retried(id, &existing, &request).await,
            Err(OrdersError::Order(OrderError::NotFound)) => {}
            Err(err) => return Err(err),
        }
        let cart = self
            .inner
            .carts
            .get(&request.cart_id, request.caller.as_deref())
            .await?;
        if cart.status != crate::cart::state::CartStatus::Open {
            return Err(CartsError::Cart(CartError::Closed).into());
        }
        if cart.lines.is_empty() {
            return Err(OrdersError::EmptyCart);
        }
        let now = now_millis();
        let placement = Placement {
            cart_id: request.cart_id.clone(),
            owner: request.caller.clone(),
            email: request.email.clone(),
            shipping_address: request.shipping_address.clone(),
            lines: cart
                .totals
                .lines
                .iter()
                .map(|line| OrderLine {
                    sku: line.sku.clone(),
                    name: line.name.clone(),
                    qty: line.qty,
                    unit_price: line.unit_price,
                    line_total: line.line_total,
                })
                .collect(),
            subtotal: cart.totals.subtotal,
            discount: cart.totals.discount,
            total: cart.totals.total,
            currency: cart.currency.clone().unwrap_or_default(),
            coupon: cart
                .totals
                .applied
                .iter()
                .find(|applied| applied.kind == "coupon")
                .map(|applied| applied.label.clone()),
            fingerprint: request.fingerprint,
            placed_at: now,
            payment_deadline: now.saturating_add(self.inner.config.payment_window.as_millis() as u64),
        };
        let Some(running) = self.mark_running(id) else {
            return Ok(CheckoutResult::InProgress);
        };
        // Listed as open before it exists: a crash in between leaves a listed id
        // without an order, which the sweeper drops.
        self.inner
            .open
            .call(OPEN_ID, OpenOrdersCommand::Open(id.to_string()))
            .await?;
        let placed = self.call(id, OrderCommand::Place(Box::new(placement))).await?;
        if !placed.placed_now {
            drop(running);
            return self.retried(id, &placed.order, &request).await;
        }
        self.inner.metrics.orders.with_label_values(&["pending"]).inc();
        if let Some(owner) = &request.caller {
            self.inner
                .accounts
                .link_order(owner, id, &request.cart_id)
                .await
                .map_err(|err| OrdersError::Unavailable(format!("order {id} not linked to its customer: {err}")))?;
        }
        let order = self.drive(id).await?;
        drop(running);
        Ok(CheckoutResult::Done {
            order_id: id.to_string(),
            order,
        })
    }

    /// A checkout whose key names an existing order.
    async fn retried(
        &self,
        id: &str,
        existing: &OrderState,
        request: &CheckoutRequest,
    ) -> Result<CheckoutResult, OrdersError> {
        let placement = existing.placement().ok_or(OrderError::NotFound)?;
        if placement.fingerprint != request.fingerprint || placement.owner != request.caller {
            return Ok(CheckoutResult::KeyReused);
        }
        if let Some((status, body)) = existing.answer() {
            return Ok(CheckoutResult::Replay {
                status: *status,
                body: body.clone(),
            });
        }
        let Some(running) = self.mark_running(id) else {
            return Ok(CheckoutResult::InProgress);
        };
        let order = self.drive(id).await?;
        drop(running);
        Ok(CheckoutResult::Done {
            order_id: id.to_string(),
            order,
        })
    }

    /// Moves an order's saga forward from its recorded step until it settles or
    /// waits for its payment.
    async fn drive(&self, id: &str) -> Result<OrderState, OrdersError> {
        loop {
            let order = self.get(id).await?;
            let placement = order.placement().ok_or(OrderError::NotFound)?.clone();
            match order.status().ok_or(OrderError::NotFound)? {
                OrderStatus::Pending => match self.reserve_all(id, &placement).await? {
                    Err(shortages) => {
                        self.release_all(id, &placement).await;
                        self.record(id, OrderEvent::Rejected { shortages }).await?;
                    }
                    Ok(()) => {
                        let gateway = &self.inner.gateway;
                        let start = gateway
                            .start(id, placement.total, &placement.currency)
                            .await
                            .map_err(|err| OrdersError::Unavailable(err.to_string()))?;
                        self.record(
                            id,
                            OrderEvent::PaymentStarted {
                                gateway: gateway.name().to_string(),
                                payment_id: start.payment_id,
                                client_secret: start.client_secret,
                            },
                        )
                        .await?;
                        self.payment_outcome(id, start.status).await?;
                    }
                },
                OrderStatus::AwaitingPayment => {
                    let waited = now_millis().saturating_sub(placement.placed_at);
                    if u128::from(waited) < self.inner.config.reconcile_after.as_millis() {
                        return Ok(order);
                    }
                    let (_, payment_id) = order.payment().cloned().unwrap_or_default();
                    let status = self
                        .inner
                        .gateway
                        .status(&payment_id)
                        .await
                        .map_err(|err| OrdersError::Unavailable(err.to_string()))?;
                    if status == PaymentStatus::Pending {
                        return Ok(order);
                    }
                    self.payment_outcome(id, status).await?;
                }
                OrderStatus::Paid => self.commit_all(id, &order, &placement).await?,
                status => {
                    if matches!(
                        status,
                        OrderStatus::Rejected
                            | OrderStatus::PaymentFailed
                            | OrderStatus::Expired
                            | OrderStatus::Cancelled
                            | OrderStatus::Refunded
                    ) {
                        self.release_all(id, &placement).await;
                    }
                    self.inner
                        .open
                        .call(OPEN_ID, OpenOrdersCommand::Close(id.to_string()))
                        .await?;
                    return Ok(order);
                }
            }
        }
    }

    async fn payment_outcome(&self, id: &str, status: PaymentStatus) -> Result<(), OrdersError> {
        let gateway = self.inner.gateway.name();
        match status {
            PaymentStatus::Pending => {}
            PaymentStatus::Succeeded => {
                self.inner
                    .metrics
                    .payments
                    .with_label_values(&[gateway, "succeeded"])
                    .inc();
                self.record(id, OrderEvent::Paid).await?;
            }
            PaymentStatus::Failed(reason) => {
                self.inner
                    .metrics
                    .payments
                    .with_label_values(&[gateway, "failed"])
                    .inc();
                self.record(id, OrderEvent::PaymentFailed { reason }).await?;
            }
        }
        Ok(())
    }

    fn reservation_id(id: &str, line: usize) -> String {
        format!("{id}.{line}")
    }

    /// Reserves every line (idempotent); the shortages if any line is short.
    async fn reserve_all(&self, id: &str, placement: &Placement) -> Result<Result<(), Vec<Shortage>>, OrdersError> {
        let ttl = (self.inner.config.payment_window + self.inner.config.reservation_grace).as_millis() as u64;
        let mut shortages = Vec::new();
        for (index, line) in placement.lines.iter().enumerate() {
            let reservation = Self::reservation_id(id, index);
            match self
                .inner
                .inventory
                .reserve(&line.sku, reservation, u64::from(line.qty), ttl)
                .await
            {
                Ok(_) => {}
                Err(InventoryError::Stock(StockError::OutOfStock { requested, available })) => {
                    shortages.push(Shortage {
                        sku: line.sku.clone(),
                        requested,
                        available,
                    })
                }
                Err(err) => return Err(err.into()),
            }
        }
        Ok(if shortages.is_empty() { Ok(()) } else { Err(shortages) })
    }

    /// Releases every line's reservation that is still open.
    async fn release_all(&self, id: &str, placement: &Placement) {
        for (index, line) in placement.lines.iter().enumerate() {
            let reservation = Self::reservation_id(id, index);
            match self.inner.inventory.release(&line.sku, reservation).await {
                Ok(_) | Err(InventoryError::Stock(StockError::ReservationNotFound { .. })) => {}
                Err(err) => {
                    tracing::warn!(order = id, sku = %line.sku, error = %err, "reservation not released; its ttl will")
                }
            }
        }
    }

    /// Commits every line; refunds if a reservation ran out before the payment.
    async fn commit_all(&self, id: &str, order: &OrderState, placement: &Placement) -> Result<(), OrdersError> {
        let mut lost = Vec::new();
        for (index, line) in placement.lines.iter().enumerate() {
            let reservation = Self::reservation_id(id, index);
            match self.inner.inventory.commit(&line.sku, reservation).await {
                Ok(_) => {}
                Err(InventoryError::Stock(StockError::ReservationNotFound { .. })) => lost.push(index),
                Err(err) => return Err(err.into()),
            }
        }
        if lost.is_empty() {
            self.record(id, OrderEvent::Confirmed).await?;
            if let Some(code) = &placement.coupon {
                let record = crate::promotion::RulesCommand::RecordUse {
                    code: code.clone(),
                    customer: placement.owner.clone(),
                };
                if let Err(err) = self.inner.promotions.call(record).await {
                    tracing::warn!(order = id, error = %err, "coupon use not counted");
                }
            }
            return Ok(());
        }
        // Paid, but some stock ran out of its reservation: give back what was
        // sold and the money.
        let sold = placement
            .lines
            .iter()
            .enumerate()
            .filter(|(index, _)| !lost.contains(index));
        for (_, line) in sold {
            let reason = format!("order {id} refunded");
            self.inner
                .inventory
                .adjust(&line.sku, i64::from(line.qty), reason)
                .await?;
        }
        self.refund(id, order).await?;
        self.record(
            id,
            OrderEvent::Refunded {
                reason: "the stock ran out of its reservation before the payment arrived".into(),
            },
        )
        .await?;
        Ok(())
    }

    async fn refund(&self, id: &str, order: &OrderState) -> Result<(), OrdersError> {
        let (_, payment_id) = order.payment().cloned().unwrap_or_default();
        self.inner
            .gateway
            .refund(&payment_id)
            .await
            .map_err(|err| OrdersError::Unavailable(format!("refund of order {id} failed: {err}")))?;
        self.inner
            .metrics
            .payments
            .with_label_values(&[self.inner.gateway.name(), "refunded"])
            .inc();
        Ok(())
    }

    /// Cancels an order before it ships: releases its stock, or, once paid and
    /// confirmed, restocks and refunds it.
    pub async fn cancel(&self, id: &str, reason: &str) -> Result<OrderState, OrdersError> {
        let order = self.get(id).await?;
        let placement = order.placement().ok_or(OrderError::NotFound)?.clone();
        match order.status() {
            Some(OrderStatus::Confirmed) => {
                for line in &placement.lines {
                    let why = format!("order {id} cancelled");
                    self.inner.inventory.adjust(&line.sku, i64::from(line.qty), why).await?;
                }
                self.refund(id, &order).await?;
                self.record(
                    id,
                    OrderEvent::Refunded {
                        reason: reason.to_string(),
                    },
                )
                .await
            }
            _ => {
                let cancelled = self
                    .record(
                        id,
                        OrderEvent::Cancelled {
                            reason: reason.to_string(),
                        },
                    )
                    .await?;
                self.release_all(id, &placement).await;
                self.inner
                    .open
                    .call(OPEN_ID, OpenOrdersCommand::Close(id.to_string()))
                    .await?;
                Ok(cancelled)
            }
        }
    }

    /// An operator's transition: `paid` (capture), `shipped`, `delivered`,
    /// `cancelled`, `refunded`.
    pub async fn transition(
        &self,
        id: &str,
        to: OrderStatus,
        tracking: Option<String>,
    ) -> Result<OrderState, OrdersError> {
        match to {
            OrderStatus::Paid => {
                self.record(id, OrderEvent::Paid).await?;
                self.drive(id).await
            }
            OrderStatus::Shipped => {
                let tracking = tracking.unwrap_or_default();
                self.record(id, OrderEvent::Shipped { tracking }).await
            }
            OrderStatus::Delivered => self.record(id, OrderEvent::Delivered).await,
            OrderStatus::Cancelled | OrderStatus::Refunded => self.cancel(id, "cancelled by an operator").await,
            other => {
                let from = self.get(id).await?.status().map_or("unknown", OrderStatus::name);
                Err(OrderError::InvalidTransition { from, to: other.name() }.into())
            }
        }
    }

    /// Applies a Stripe event once: a payment succeeded, failed or was canceled.
    pub async fn stripe_event(
        &self,
        event: &crate::payment::webhook::StripeEvent,
    ) -> Result<PaymentEventOutcome, OrdersError> {
        if self.inner.seen.call(&event.id, false).await? {
            return Ok(PaymentEventOutcome::Duplicate);
        }
        let object = &event.data.object;
        let status = match event.kind.as_str() {
            "payment_intent.succeeded" => Some(PaymentStatus::Succeeded),
            "payment_intent.payment_failed" => Some(PaymentStatus::Failed(
                object
                    .last_payment_error
                    .as_ref()
                    .and_then(|error| error.message.clone())
                    .unwrap_or_else(|| "the payment failed".into()),
            )),
            "payment_intent.canceled" => Some(PaymentStatus::Failed("the payment was canceled".into())),
            _ => None,
        };
        let outcome = match (status, object.metadata.get("order_id")) {
            (Some(status), Some(order_id)) => self.payment_result(order_id, &object.id, status).await?,
            _ => PaymentEventOutcome::Ignored,
        };
        if outcome != PaymentEventOutcome::NotReady {
            self.inner.seen.call(&event.id, true).await?;
        }
        Ok(outcome)
    }

    /// A gateway's word on an order's payment, whenever it comes.
    async fn payment_result(
        &self,
        id: &str,
        payment_id: &str,
        status: PaymentStatus,
    ) -> Result<PaymentEventOutcome, OrdersError> {
        let order = match self.get(id).await {
            Ok(order) => order,
            Err(OrdersError::Order(OrderError::NotFound)) => return Ok(PaymentEventOutcome::Ignored),
            Err(err) => return Err(err),
        };
        if order.payment().is_some_and(|(_, known)| known != payment_id) {
            return Ok(PaymentEventOutcome::Ignored);
        }
        match (order.status(), &status) {
            (Some(OrderStatus::Pending), _) => Ok(PaymentEventOutcome::NotReady),
            (Some(OrderStatus::AwaitingPayment), _) => {
                self.payment_outcome(id, status).await?;
                // The checkout (or the sweeper) driving it now finishes the saga.
                if let Some(_running) = self.mark_running(id) {
                    self.drive(id).await?;
                }
                Ok(PaymentEventOutcome::Applied)
            }
            (
                Some(OrderStatus::Expired | OrderStatus::Cancelled | OrderStatus::PaymentFailed),
                PaymentStatus::Succeeded,
            ) => {
                let gateway = self.inner.gateway.name();
                self.inner.metrics.payments.with_label_values(&[gateway, "late"]).inc();
                self.refund(id, &order).await?;
                let reason = "paid after the order had expired or was cancelled; refunded".to_string();
                self.record(id, OrderEvent::Refunded { reason }).await?;
                if let Some(placement) = order.placement() {
                    self.release_all(id, placement).await;
                }
                Ok(PaymentEventOutcome::Applied)
            }
            _ => Ok(PaymentEventOutcome::Ignored),
        }
    }

    /// Looks at every open order once: resumes, expires, releases.
    pub async fn sweep(&self) -> Result<usize, OrdersError> {
        let ids = self.inner.open.call(OPEN_ID, OpenOrdersCommand::List).await?;
        let mut resumed = 0;
        for id in ids {
            let Some(_running) = self.mark_running(&id) else {
                continue;
            };
            match self.drive(&id).await {
                Ok(_) => resumed += 1,
                Err(OrdersError::Order(OrderError::NotFound)) => {
                    self.inner
                        .open
                        .call(OPEN_ID, OpenOrdersCommand::Close(id.clone()))
                        .await?;
                }
                Err(err) => tracing::warn!(order = %id, error = %err, "open order not resumed; retrying later"),
            }
        }
        Ok(resumed)
    }

    async fn sweep_forever(self) {
        loop {
            if let Err(err) = self.sweep().await {
                tracing::warn!(error = %err, "order sweep failed");
            }
            tokio::time::sleep(self.inner.config.sweep_interval).await;
        }
    }
}
