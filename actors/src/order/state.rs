//! One order as a pure state machine: the checkout it came from, the status of
//! DESIGN §3, the payment, what the saga has done, and what it still owes.
//!
//! ```text
//! pending ─► awaiting_payment ─► paid ─► confirmed ─► shipped ─► delivered
//!    │              │              │          │
//!    ▼              ▼              ▼          ▼
//! rejected   payment_failed   refund_pending ◄┘ ─► refunded
//!    (pending and awaiting_payment may also be cancelled or expire; a payment
//!     that lands after that makes the order refund_pending)
//! ```
//! A transition not drawn is refused ([`OrderError::InvalidTransition`]). What
//! the saga does next is decided from this state alone (`step`).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use super::placement::{CouponRefusal, OrderLine, Placement, RefundDue, Shortage};
use crate::runtime::UnixMillis;

/// Longest wait between refund attempts.
pub const REFUND_RETRY_MAX_MS: UnixMillis = 60 * 60 * 1000;

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
    /// A line was out of stock or the coupon was used up; nothing held.
    Rejected,
    /// The payment failed; stock released.
    PaymentFailed,
    /// The payment window ran out; stock released.
    Expired,
    /// Cancelled before shipping; stock released.
    Cancelled,
    /// Money is owed back: sold units return to stock, then the refund is
    /// made (retried with back-off while the gateway refuses).
    RefundPending,
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
            OrderStatus::RefundPending => "refund_pending",
            OrderStatus::Refunded => "refunded",
        }
    }

    /// Whether the order sold (its cart is closed for good).
    pub fn sold(self) -> bool {
        matches!(
            self,
            OrderStatus::Confirmed | OrderStatus::Shipped | OrderStatus::Delivered
        )
    }

    /// Whether the order ended without selling (what it holds goes back).
    pub fn unsold(self) -> bool {
        matches!(
            self,
            OrderStatus::Rejected
                | OrderStatus::PaymentFailed
                | OrderStatus::Expired
                | OrderStatus::Cancelled
                | OrderStatus::Refunded
        )
    }
}

/// A change of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderEvent {
    /// The order was placed (status pending).
    Placed(Box<Placement>),
    /// Every line is held and the coupon's use claimed.
    Reserved,
    /// A line was short or the coupon used up: nothing is kept.
    Rejected {
        shortages: Vec<Shortage>,
        coupon: Option<CouponRefusal>,
    },
    /// The payment `payment_id` was started.
    PaymentStarted {
        gateway: String,
        payment_id: String,
        client_secret: Option<String>,
    },
    /// The payment succeeded.
    Paid,
    /// The payment of an order that had given up (its id, for the refund).
    PaymentRecorded { gateway: String, payment_id: String },
    /// Every line's stock was committed.
    Confirmed,
    /// The payment failed.
    PaymentFailed { reason: String },
    /// The payment window ran out.
    Expired,
    /// Cancelled.
    Cancelled { reason: String },
    /// Money is owed back (and the sold units of `restock` come back first).
    RefundRequested { reason: String, restock: Vec<usize> },
    /// The units of the refund's lines are back in stock.
    Restocked,
    /// The gateway refused or did not answer the refund; try again at `retry_at`.
    RefundFailed { error: String, retry_at: UnixMillis },
    /// The refund was made.
    Refunded,
    /// What an unsold order held (reservations, coupon use, cart) went back.
    Released,
    /// Shipped with a tracking number.
    Shipped { tracking: String },
    /// Delivered.
    Delivered,
    /// Staff (`by`: an e-mail address, or the operator token) asked for
    /// `action` at `at`; recorded with the action's own events, or before
    /// them when the action drives the saga.
    Noted { by: String, action: String, at: UnixMillis },
}

impl OrderEvent {
    /// The status this event moves an order to (`None`: it stays).
    pub fn status_entered(&self) -> Option<OrderStatus> {
        Some(match self {
            OrderEvent::Placed(_) => OrderStatus::Pending,
            OrderEvent::PaymentStarted { .. } => OrderStatus::AwaitingPayment,
            OrderEvent::Rejected { .. } => OrderStatus::Rejected,
            OrderEvent::Paid => OrderStatus::Paid,
            OrderEvent::Confirmed => OrderStatus::Confirmed,
            OrderEvent::PaymentFailed { .. } => OrderStatus::PaymentFailed,
            OrderEvent::Expired => OrderStatus::Expired,
            OrderEvent::Cancelled { .. } => OrderStatus::Cancelled,
            OrderEvent::RefundRequested { .. } => OrderStatus::RefundPending,
            OrderEvent::Refunded => OrderStatus::Refunded,
            OrderEvent::Shipped { .. } => OrderStatus::Shipped,
            OrderEvent::Delivered => OrderStatus::Delivered,
            OrderEvent::Reserved
            | OrderEvent::PaymentRecorded { .. }
            | OrderEvent::Restocked
            | OrderEvent::RefundFailed { .. }
            | OrderEvent::Released
            | OrderEvent::Noted { .. } => return None,
        })
    }

    /// Whether recording may wait for the next recorded event: the saga's own
    /// progress that a resume re-derives by repeating idempotent steps. A
    /// payment is such progress only with a gateway that moves no money (the
    /// manual one): money taken must be on record before the order can expire
    /// or be cancelled without it.
    pub fn deferrable(&self, payment_moves_money: bool) -> bool {
        match self {
            // What a settled saga gave back is recorded after the answer.
            OrderEvent::Reserved | OrderEvent::Released => true,
            OrderEvent::PaymentStarted { .. } | OrderEvent::Paid => !payment_moves_money,
            _ => false,
        }
    }
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
    /// Shared: it never changes once placed, and every reply carries the state.
    placement: Option<Arc<Placement>>,
    /// Current status.
    status: Option<OrderStatus>,
    /// Whether every line is held and the coupon claimed.
    reserved: bool,
    /// Gateway and its payment id, once started.
    payment: Option<(String, String)>,
    /// For the front end to confirm a card payment.
    client_secret: Option<String>,
    /// Why it was rejected: short lines.
    shortages: Vec<Shortage>,
    /// Why it was rejected: the coupon.
    coupon_refusal: Option<CouponRefusal>,
    /// Why it failed, was cancelled or refunded.
    reason: Option<String>,
    /// Carrier tracking number.
    tracking: Option<String>,
    /// The refund owed, from its request on.
    refund: Option<RefundDue>,
    /// Whether an unsold order's holds went back.
    released: bool,
}

/// When a refund that failed `failures` times is tried again after `now`, if
/// the first retry waits `first_wait`.
pub fn refund_retry_at(now: UnixMillis, failures: u32, first_wait: UnixMillis) -> UnixMillis {
    let wait = first_wait
        .saturating_mul(1 << failures.min(20))
        .min(REFUND_RETRY_MAX_MS);
    now.saturating_add(wait)
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

    /// Whether every line is held (until the saga moves past it).
    pub fn reserved(&self) -> bool {
        self.reserved
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

    /// Why the coupon could not be used.
    pub fn coupon_refusal(&self) -> Option<&CouponRefusal> {
        self.coupon_refusal.as_ref()
    }

    /// Why it failed, was cancelled or refunded.
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }

    /// Tracking number.
    pub fn tracking(&self) -> Option<&str> {
        self.tracking.as_deref()
    }

    /// The refund owed or made.
    pub fn refund(&self) -> Option<&RefundDue> {
        self.refund.as_ref()
    }

    /// Whether an unsold order's holds went back.
    pub fn released(&self) -> bool {
        self.released
    }

    /// The status an event leads to (`None`: it stays), if the current status
    /// allows the event.
    pub fn transition(&self, event: &OrderEvent) -> Result<Option<OrderStatus>, OrderError> {
        use OrderStatus::*;
        let from = match (self.status, event) {
            (None, OrderEvent::Placed(_)) => return Ok(Some(Pending)),
            (None, _) => return Err(OrderError::NotFound),
            (Some(from), _) => from,
        };
        let allowed = match event.status_entered() {
            // Events that leave the status as it is.
            None => match event {
                OrderEvent::Reserved => from == Pending,
                OrderEvent::Restocked | OrderEvent::RefundFailed { .. } => from == RefundPending,
                OrderEvent::Noted { .. } => true,
                _ => from.unsold(),
            },
            Some(to) => matches!(
                (from, to),
                (Pending, AwaitingPayment | Rejected | Cancelled | Expired)
                    | (AwaitingPayment, Paid | PaymentFailed | Expired | Cancelled)
                    | (Paid, Confirmed | RefundPending)
                    | (Confirmed, Shipped | RefundPending)
                    | (Shipped, Delivered)
                    // A payment that lands after the order gave up is refunded.
                    | (Expired | Cancelled | PaymentFailed, RefundPending)
                    | (RefundPending, Refunded)
            ),
        };
        let to = event.status_entered().unwrap_or(from);
        if !allowed {
            return Err(OrderError::InvalidTransition {
                from: from.name(),
                to: to.name(),
            });
        }
        Ok(event.status_entered())
    }

    /// Whether `events`, applied in turn, are all allowed (transitions depend
    /// on the status alone, so nothing else is copied to find out).
    pub fn check_all(&self, events: &[OrderEvent]) -> Result<(), OrderError> {
        let mut probe = OrderState {
            status: self.status,
            ..OrderState::default()
        };
        for event in events {
            if let Some(status) = probe.transition(event)? {
                probe.status = Some(status);
            }
        }
        Ok(())
    }

    /// Applies one event (that `transition` allowed).
    pub fn apply(&mut self, event: &OrderEvent) {
        if let Ok(Some(status)) = self.transition(event) {
            self.status = Some(status);
        }
        match event {
            OrderEvent::Placed(placement) => self.placement = Some(Arc::new(Placement::clone(placement))),
            OrderEvent::Reserved => self.reserved = true,
            OrderEvent::PaymentStarted {
                gateway,
                payment_id,
                client_secret,
            } => {
                self.payment = Some((gateway.clone(), payment_id.clone()));
                self.client_secret = client_secret.clone();
            }
            OrderEvent::PaymentRecorded { gateway, payment_id } => {
                self.payment = Some((gateway.clone(), payment_id.clone()))
            }
            OrderEvent::Rejected { shortages, coupon } => {
                self.shortages = shortages.clone();
                self.coupon_refusal = coupon.clone();
                self.reason = coupon.as_ref().map(|refusal| refusal.message.clone());
            }
            OrderEvent::PaymentFailed { reason } | OrderEvent::Cancelled { reason } => {
                self.reason = Some(reason.clone())
            }
            OrderEvent::RefundRequested { reason, restock } => {
                self.reason = Some(reason.clone());
                self.refund = Some(RefundDue {
                    reason: reason.clone(),
                    restock: restock.clone(),
                    restocked: restock.is_empty(),
                    failures: 0,
                    last_error: None,
                    retry_at: 0,
                });
            }
            OrderEvent::Restocked => {
                if let Some(refund) = &mut self.refund {
                    refund.restocked = true;
                }
            }
            OrderEvent::RefundFailed { error, retry_at } => {
                if let Some(refund) = &mut self.refund {
                    refund.failures += 1;
                    refund.last_error = Some(error.clone());
                    refund.retry_at = *retry_at;
                }
            }
            OrderEvent::Released => self.released = true,
            OrderEvent::Shipped { tracking } => self.tracking = Some(tracking.clone()),
            OrderEvent::Paid
            | OrderEvent::Confirmed
            | OrderEvent::Expired
            | OrderEvent::Refunded
            | OrderEvent::Delivered
            | OrderEvent::Noted { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests;
