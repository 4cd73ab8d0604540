//! A checkout and its retries: the key names the order, the cart is frozen for
//! it, the order is placed and its saga driven until it settles or waits for
//! its payment.

use std::sync::Arc;

use futures_util::future::join;
use sha2::{Digest as _, Sha256};

use super::idempotency::IdempotencyCommand;
use super::messages::OrderCommand;
use super::state::{OrderError, OrderLine, OrderState, Placement};
use super::{Orders, OrdersError};
use crate::account::address::Address;
use crate::cart::messages::CartView;
use crate::cart::{CartError, CartsError};
use crate::runtime::now_millis;

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
    /// keep the answer with [`Orders::answer`].
    Done { order_id: String, order: Box<OrderState> },
    /// The first request with this key is still running.
    InProgress,
    /// The key was used with another request body.
    KeyReused,
}

/// The order id of a checkout: a digest of the cart and the idempotency key.
pub fn order_id(cart_id: &str, key: &str) -> String {
    let digest = Sha256::digest(format!("{cart_id}\n{key}").as_bytes());
    digest[..16].iter().map(|byte| format!("{byte:02x}")).collect()
}

fn placement_of(request: &CheckoutRequest, cart: &CartView, payment_window_ms: u64) -> Placement {
    let now = now_millis();
    Placement {
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
        fingerprint: request.fingerprint,
        coupon: cart
            .totals
            .applied
            .iter()
            .find(|applied| applied.kind == "coupon")
            .map(|applied| applied.label.clone()),
        placed_at: now,
        payment_deadline: now.saturating_add(payment_window_ms),
    }
}

impl Orders {
    /// Runs a checkout (or finds the one this key started).
    pub async fn checkout(&self, request: CheckoutRequest) -> Result<CheckoutResult, OrdersError> {
        let started = std::time::Instant::now();
        let id = order_id(&request.cart_id, &request.key);
        let result = self.checkout_new(&id, request).await;
        self.inner
            .metrics
            .checkout_seconds
            .observe(started.elapsed().as_secs_f64());
        result
    }

    /// Keeps the checkout's answer (and the request it answered) for replays,
    /// without waiting for it: if it is lost, a retry answers from the order
    /// as it stands then.
    pub fn answer(&self, id: &str, fingerprint: [u8; 32], caller: Option<String>, status: u16, body: String) {
        let keys = self.inner.keys.clone();
        let id = id.to_string();
        let answer = IdempotencyCommand::Answer {
            fingerprint,
            caller,
            status,
            body,
        };
        tokio::spawn(async move {
            if let Err(err) = keys.call(&id, answer).await {
                tracing::warn!(order = %id, error = %err, "checkout answer not kept; a retry answers afresh");
            }
        });
    }

    async fn checkout_new(&self, id: &str, request: CheckoutRequest) -> Result<CheckoutResult, OrdersError> {
        match self.get(id).await {
            Ok(existing) => return self.retried(id, &existing, &request).await,
            Err(OrdersError::Order(OrderError::NotFound)) => {}
            Err(err) => return Err(err),
        }
        let Some(running) = self.mark_running(id) else {
            return Ok(CheckoutResult::InProgress);
        };
        // Listed as open before it exists: a crash in between leaves a listed
        // id without an order, which the sweeper drops, and maybe a frozen cart,
        // which the next checkout of it takes over.
        let (listed, frozen) = join(self.relist(id), self.freeze_cart(&request, id)).await;
        let generation = match (listed, &frozen) {
            (Ok(generation), _) => generation,
            (Err(err), Ok(_)) => {
                self.thaw_cart(&request.cart_id, id).await;
                return Err(err);
            }
            (Err(err), Err(_)) => return Err(err),
        };
        let cart = match frozen {
            Ok(cart) if cart.lines.is_empty() => {
                self.thaw_cart(&request.cart_id, id).await;
                self.close_listing(id, generation);
                return Err(OrdersError::EmptyCart);
            }
            Ok(cart) => cart,
            Err(err) => {
                self.close_listing(id, generation);
                return Err(err);
            }
        };
        let window = self.inner.config.payment_window.as_millis() as u64;
        let placement = placement_of(&request, &cart, window);
        if let (Some(code), None) = (&cart.coupon, &placement.coupon) {
            // The cart names a coupon its price no longer takes off (used up or
            // ended meanwhile): the customer decides, not a silent full price.
            self.thaw_cart(&request.cart_id, id).await;
            self.close_listing(id, generation);
            let why = cart
                .warnings
                .iter()
                .find(|warning| warning.code == "coupon_not_applicable");
            return Err(OrdersError::CouponNotApplicable {
                code: code.clone(),
                reason: why.map_or_else(|| "it no longer applies".to_string(), |warning| warning.message.clone()),
            });
        }
        let placed = self.call(id, OrderCommand::Place(Box::new(placement))).await;
        let placed = match placed {
            Ok(placed) => placed,
            Err(err) => {
                // Not placed (or not known to be): the cart is not left frozen
                // for an order nobody can see; a placed order re-freezes it.
                if let Err(OrdersError::Order(OrderError::NotFound)) = self.get(id).await {
                    self.thaw_cart(&request.cart_id, id).await;
                }
                return Err(err);
            }
        };
        if !placed.placed_now {
            drop(running);
            return self.retried(id, &placed.order, &request).await;
        }
        self.inner.metrics.orders.with_label_values(&["pending"]).inc();
        let order = self.drive(id, false, Some(generation)).await?;
        drop(running);
        Ok(CheckoutResult::Done {
            order_id: id.to_string(),
            order: Box::new(order),
        })
    }

    /// Gives the cart back after a checkout that placed no order (best effort:
    /// a cart left frozen is taken over by its next checkout).
    async fn thaw_cart(&self, cart_id: &str, id: &str) {
        if let Err(err) = self.inner.carts.end_checkout(cart_id, id, false).await {
            tracing::warn!(cart = cart_id, order = id, error = %err, "cart left frozen; its next checkout takes it over");
        }
    }

    /// Freezes the cart for order `id`; a hold of an order that was never
    /// placed is taken over first.
    async fn freeze_cart(&self, request: &CheckoutRequest, id: &str) -> Result<Arc<CartView>, OrdersError> {
        let caller = request.caller.as_deref();
        match self.inner.carts.begin_checkout(&request.cart_id, caller, id).await {
            Err(CartsError::Cart(CartError::CheckedOut { order_id })) if order_id != id => {
                self.take_over_abandoned(&request.cart_id, &order_id).await?;
                Ok(self.inner.carts.begin_checkout(&request.cart_id, caller, id).await?)
            }
            frozen => Ok(frozen?),
        }
    }

    /// A cart frozen by order `held` that another checkout wants: taken over
    /// when `held` was never placed (a crash cut its checkout) and runs nowhere;
    /// otherwise the cart is checked out.
    async fn take_over_abandoned(&self, cart_id: &str, held: &str) -> Result<(), OrdersError> {
        let checked_out = || {
            OrdersError::Cart(CartsError::Cart(CartError::CheckedOut {
                order_id: held.to_string(),
            }))
        };
        if self.is_running(held) {
            return Err(checked_out());
        }
        match self.get(held).await {
            Err(OrdersError::Order(OrderError::NotFound)) => {
                tracing::warn!(
                    cart = cart_id,
                    order = held,
                    "cart frozen by an order never placed; taking it over"
                );
                self.inner.carts.end_checkout(cart_id, held, false).await?;
                Ok(())
            }
            Ok(_) => Err(checked_out()),
            Err(err) => Err(err),
        }
    }

    /// A checkout whose key names an existing order.
    async fn retried(
        &self,
        id: &str,
        existing: &OrderState,
        request: &CheckoutRequest,
    ) -> Result<CheckoutResult, OrdersError> {
        let placement = existing.placement().ok_or(OrderError::NotFound)?;
        let record = self.inner.keys.call(id, IdempotencyCommand::Get).await?;
        let same = placement.owner == request.caller
            && placement.fingerprint == request.fingerprint
            && record.matches(&request.fingerprint, request.caller.as_deref());
        if !same {
            return Ok(CheckoutResult::KeyReused);
        }
        if let Some((status, body)) = record.answer {
            return Ok(CheckoutResult::Replay { status, body });
        }
        let Some(running) = self.mark_running(id) else {
            return Ok(CheckoutResult::InProgress);
        };
        let order = self.drive(id, false, None).await?;
        drop(running);
        Ok(CheckoutResult::Done {
            order_id: id.to_string(),
            order: Box::new(order),
        })
    }
}
