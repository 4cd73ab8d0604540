//! One order as a pure state machine: the checkout it came from, the status of
//! DESIGN §3, the payment, and the checkout's answer (for idempotent replays).
//!
//! ```text
//! pending ─► awaiting_payment ─► paid ─► confirmed ─► shipped ─► delivered
//!    │              │              │          │
//!    ▼              ▼              ▼          ▼
//! rejected   payment_failed     refunded   cancelled / refunded
//!    (pending and awaiting_payment may also be cancelled or expire)
//! ```
//! A transition not drawn is refused ([`OrderError::InvalidTransition`]).

use serde::{Deserialize, Serialize};

use crate::account::address::Address;
use crate::runtime::UnixMillis;

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderStatus {
    /// Created; stock being reserved.
    Pending,
    /// Stock held; waiting for the payment.
    AwaitingPayment,
    /// Paid; stock being committed.
    Paid,
    /// Paid and stock sold.
    Confirmed,
    /// Handed to the carrier.
    Shipped,
    /// Arrived.
    Delivered,
    /// A line was out of stock; nothing held.
    Rejected,
    /// The payment failed; stock released.
    PaymentFailed,
    /// The payment window ran out; stock released.
    Expired,
    /// Cancelled before shipping; stock released.
    Cancelled,
    /// Paid, then refunded.
    Refunded,
}

impl OrderStatus {
    /// The name in the API.
    pub fn name(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::AwaitingPayment => "awaiting_payment",
            OrderStatus::Paid => "paid",
            OrderStatus::Confirmed => "confirmed",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Rejected => "rejected",
            OrderStatus::PaymentFailed => "payment_failed",
            OrderStatus::Expired => "expired",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Refunded => "refunded",
        }
    }
}

/// One line as it was bought.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    /// The SKU.
    pub sku: String,
    /// Product name at checkout.
    pub name: String,
    /// Units.
    pub qty: u32,
    /// Unit price at checkout, minor units.
    pub unit_price: u64,
    /// `qty × unit_price`.
    pub line_total: u64,
}

/// The frozen, priced cart an order was placed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// The cart checked out.
    pub cart_id: String,
    /// The customer, or `None` for a guest.
    pub owner: Option<String>,
    /// Where mails go.
    pub email: String,
    /// Where the parcel goes.
    pub shipping_address: Address,
    /// The lines.
    pub lines: Vec<OrderLine>,
    /// Σ line totals.
    pub subtotal: u64,
    /// Σ discounts.
    pub discount: u64,
    /// What is charged.
    pub total: u64,
    /// ISO 4217.
    pub currency: String,
    /// The coupon used.
    pub coupon: Option<String>,
    /// Digest of the checkout request: a key reused with another body is refused.
    pub fingerprint: [u8; 32],
    /// When it was placed.
    pub placed_at: UnixMillis,
    /// When an unpaid order expires.
    pub payment_deadline: UnixMillis,
}

/// A line that could not be reserved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shortage {
    /// The SKU.
    pub sku: String,
    /// Units asked for.
    pub requested: u64,
    /// Units available then.
    pub available: u64,
}

/// A change of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderEvent {
    /// The order was placed (status pending).
    Placed(Box<Placement>),
    /// Every line is reserved; the payment `payment_id` was started.
    PaymentStarted {
        gateway: String,
        payment_id: String,
        client_secret: Option<String>,
    },
    /// A line was short: nothing is held.
    Rejected { shortages: Vec<Shortage> },
    /// The payment succeeded.
    Paid,
    /// Every line's stock was committed.
    Confirmed,
    /// The payment failed.
    PaymentFailed { reason: String },
    /// The payment window ran out.
    Expired,
    /// Cancelled.
    Cancelled { reason: String },
    /// Refunded.
    Refunded { reason: String },
    /// Shipped with a tracking number.
    Shipped { tracking: String },
    /// Delivered.
    Delivered,
    /// The checkout's answer, replayed to retries with the same key.
    Answered { status: u16, body: String },
}

/// Why an order refuses a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    /// No such order.
    #[error("no such order")]
    NotFound,
    /// The status does not allow it.
    #[error("an order that is {from} cannot become {to}")]
    InvalidTransition { from: &'static str, to: &'static str },
}

/// An order's state; also its snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderState {
    /// `None` until placed.
    placement: Option<Box<Placement>>,
    /// Current status.
    status: Option<OrderStatus>,
    /// Gateway and its payment id, once started.
    payment: Option<(String, String)>,
    /// For the front end to confirm a card payment.
    client_secret: Option<String>,
    /// Why it was rejected.
    shortages: Vec<Shortage>,
    /// Why it failed, was cancelled or refunded.
    reason: Option<String>,
    /// Carrier tracking number.
    tracking: Option<String>,
    /// The checkout's stored answer.
    answer: Option<(u16, String)>,
}

impl OrderState {
    /// The placement, once placed.
    pub fn placement(&self) -> Option<&Placement> {
        self.placement.as_deref()
    }

    /// The status, once placed.
    pub fn status(&self) -> Option<OrderStatus> {
        self.status
    }

    /// Gateway and payment id.
    pub fn payment(&self) -> Option<&(String, String)> {
        self.payment.as_ref()
    }

    /// The client secret of a card payment.
    pub fn client_secret(&self) -> Option<&str> {
        self.client_secret.as_deref()
    }

    /// Lines that were short.
    pub fn shortages(&self) -> &[Shortage] {
        &self.shortages
    }

    /// Why it failed, was cancelled or refunded.
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }

    /// Tracking number.
    pub fn tracking(&self) -> Option<&str> {
        self.tracking.as_deref()
    }

    /// The stored checkout answer.
    pub fn answer(&self) -> Option<&(u16, String)> {
        self.answer.as_ref()
    }

    /// The status an event leads to, if the current status allows the event.
    pub fn transition(&self, event: &OrderEvent) -> Result<Option<OrderStatus>, OrderError> {
        use OrderStatus::*;
        let from = match (self.status, event) {
            (None, OrderEvent::Placed(_)) => return Ok(Some(Pending)),
            (None, _) => return Err(OrderError::NotFound),
            (Some(from), _) => from,
        };
        let to = match event {
            OrderEvent::Placed(_) => Pending,
            OrderEvent::PaymentStarted { .. } => AwaitingPayment,
            OrderEvent::Rejected { .. } => Rejected,
            OrderEvent::Paid => Paid,
            OrderEvent::Confirmed => Confirmed,
            OrderEvent::PaymentFailed { .. } => PaymentFailed,
            OrderEvent::Expired => Expired,
            OrderEvent::Cancelled { .. } => Cancelled,
            OrderEvent::Refunded { .. } => Refunded,
            OrderEvent::Shipped { .. } => Shipped,
            OrderEvent::Delivered => Delivered,
            OrderEvent::Answered { .. } => return Ok(None),
        };
        let allowed = matches!(
            (from, to),
            (Pending, AwaitingPayment | Rejected | Cancelled | Expired)
                | (AwaitingPayment, Paid | PaymentFailed | Expired | Cancelled)
                | (Paid, Confirmed | Refunded)
                | (Confirmed, Shipped | Refunded)
                | (Shipped, Delivered)
                // A payment that lands after the order gave up is refunded.
                | (Expired | Cancelled | PaymentFailed, Refunded)
        );
        if !allowed {
            return Err(OrderError::InvalidTransition {
                from: from.name(),
                to: to.name(),
            });
        }
        Ok(Some(to))
    }

    /// Applies one event (that `transition` allowed).
    pub fn apply(&mut self, event: &OrderEvent) {
        if let Ok(Some(status)) = self.transition(event) {
            self.status = Some(status);
        }
        match event {
            OrderEvent::Placed(placement) => self.placement = Some(placement.clone()),
            OrderEvent::PaymentStarted {
                gateway,
                payment_id,
                client_secret,
            } => {
                self.payment = Some((gateway.clone(), payment_id.clone()));
                self.client_secret = client_secret.clone();
            }
            OrderEvent::Rejected { shortages } => self.shortages = shortages.clone(),
            OrderEvent::PaymentFailed { reason }
            | OrderEvent::Cancelled { reason }
            | OrderEvent::Refunded { reason } => self.reason = Some(reason.clone()),
            OrderEvent::Shipped { tracking } => self.tracking = Some(tracking.clone()),
            OrderEvent::Answered { status, body } => self.answer = Some((*status, body.clone())),
            OrderEvent::Paid | OrderEvent::Confirmed | OrderEvent::Expired | OrderEvent::Delivered => {}
        }
    }
}

/// The ids of orders whose saga is not settled, so that a restart finds them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenOrders {
    /// Order ids.
    ids: std::collections::BTreeSet<String>,
}

/// A change of the open-order set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpenOrdersEvent {
    /// An order's saga began.
    Opened(String),
    /// An order's saga settled.
    Closed(String),
}

impl OpenOrders {
    /// The open ids.
    pub fn ids(&self) -> impl Iterator<Item = &String> {
        self.ids.iter()
    }

    /// Decides opening `id` (nothing if open).
    pub fn open(&self, id: &str) -> Option<OpenOrdersEvent> {
        (!self.ids.contains(id)).then(|| OpenOrdersEvent::Opened(id.to_string()))
    }

    /// Decides closing `id` (nothing if not open).
    pub fn close(&self, id: &str) -> Option<OpenOrdersEvent> {
        self.ids.contains(id).then(|| OpenOrdersEvent::Closed(id.to_string()))
    }

    /// Applies one event.
    pub fn apply(&mut self, event: &OpenOrdersEvent) {
        match event {
            OpenOrdersEvent::Opened(id) => self.ids.insert(id.clone()),
            OpenOrdersEvent::Closed(id) => self.ids.remove(id),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placed() -> OrderState {
        let mut order = OrderState::default();
        order.apply(&OrderEvent::Placed(Box::new(Placement {
            cart_id: "c".into(),
            owner: None,
            email: "a@b.co".into(),
            shipping_address: Address {
                name: "A".into(),
                line1: "1 Main St".into(),
                line2: None,
                city: "Berlin".into(),
                region: None,
                postal_code: "10115".into(),
                country: "DE".into(),
                phone: None,
            },
            lines: vec![],
            subtotal: 0,
            discount: 0,
            total: 0,
            currency: "EUR".into(),
            coupon: None,
            fingerprint: [0; 32],
            placed_at: 0,
            payment_deadline: 10,
        })));
        order
    }

    fn run(order: &mut OrderState, events: &[OrderEvent]) {
        for event in events {
            order.transition(event).expect("allowed");
            order.apply(event);
        }
    }

    #[test]
    fn the_happy_path_runs_to_delivered() {
        let mut order = placed();
        run(
            &mut order,
            &[
                OrderEvent::PaymentStarted {
                    gateway: "manual".into(),
                    payment_id: "p".into(),
                    client_secret: None,
                },
                OrderEvent::Paid,
                OrderEvent::Confirmed,
                OrderEvent::Shipped { tracking: "T1".into() },
                OrderEvent::Delivered,
            ],
        );
        assert_eq!(order.status(), Some(OrderStatus::Delivered));
        assert_eq!(order.tracking(), Some("T1"));
    }

    #[test]
    fn illegal_transitions_are_refused() {
        let mut order = placed();
        assert_eq!(
            order.transition(&OrderEvent::Shipped { tracking: "T".into() }),
            Err(OrderError::InvalidTransition {
                from: "pending",
                to: "shipped"
            })
        );
        run(&mut order, &[OrderEvent::Rejected { shortages: vec![] }]);
        for event in [
            OrderEvent::Paid,
            OrderEvent::Cancelled { reason: "x".into() },
            OrderEvent::Expired,
        ] {
            assert!(order.transition(&event).is_err(), "{event:?} after rejected");
        }
        assert_eq!(
            OrderState::default().transition(&OrderEvent::Paid),
            Err(OrderError::NotFound)
        );
        assert_eq!(
            order.transition(&OrderEvent::Answered {
                status: 409,
                body: String::new()
            }),
            Ok(None),
            "an answer is stored in any status"
        );
    }
}
