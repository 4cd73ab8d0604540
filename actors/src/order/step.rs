//! What the checkout saga does next, decided from the order's state alone.
//!
//! The front door executes the [`Step`] (every step is idempotent: reservation
//! ids are `<order>.<line>`, returns `<order>.<line>.return`, the coupon claim
//! is keyed by the order, the gateway's calls by the order id) and records the
//! events it yields; after a crash it asks again and repeats at most the step
//! that was cut. This is what the model test in `model_tests.rs` runs with
//! crashes at every point.

use super::state::{OrderState, OrderStatus};
use crate::runtime::UnixMillis;

/// What the saga knows of the world when it picks a step.
#[derive(Debug, Clone, Copy)]
pub struct StepContext {
    /// Now.
    pub now: UnixMillis,
    /// An order awaiting an asynchronous payment this long is checked with the gateway.
    pub reconcile_after_ms: u64,
    /// Whether the gateway answers how a payment stands at once (the manual
    /// gateway with immediate capture), so that a resumed order never waits.
    pub gateway_answers_at_once: bool,
    /// Try a refund now even before its back-off passed (a customer or an
    /// operator asked again).
    pub retry_refund_now: bool,
}

/// The next thing the saga does for an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Hold every line and claim the coupon's use, all at once.
    Reserve,
    /// Start the payment (idempotent on the order id).
    StartPayment,
    /// Ask the gateway how the payment stands.
    CheckPayment,
    /// Commit every line's reservation (the cart closes as the order is
    /// confirmed).
    Commit,
    /// The payment window has passed before the payment started.
    Expire,
    /// The payment window has passed while the payment was awaited: a last
    /// word from the gateway (a payment just made whose webhook was lost),
    /// else expire.
    ExpireUnlessPaid,
    /// Bring the sold units of these lines back to stock.
    Restock(Vec<usize>),
    /// Refund the payment.
    Refund,
    /// Give back what an unsold order holds: the reservations of these lines
    /// (a line found short holds none), the coupon's use, the cart.
    Release(Vec<usize>),
    /// Nothing to do before then (unless something outside happens first: a
    /// webhook, an operator).
    Wait(UnixMillis),
    /// The saga is over (the order may still be shipped by an operator).
    Done,
}

impl OrderState {
    /// Whether the saga has nothing left to do, whatever the time and the
    /// gateway: only [`Step::Done`] is reached from the status alone.
    pub fn saga_over(&self) -> bool {
        let any_time = StepContext {
            now: 0,
            reconcile_after_ms: 0,
            gateway_answers_at_once: false,
            retry_refund_now: false,
        };
        self.next_step(&any_time) == Step::Done
    }

    /// The step the saga takes next.
    pub fn next_step(&self, context: &StepContext) -> Step {
        let (Some(status), Some(placement)) = (self.status(), self.placement()) else {
            return Step::Done;
        };
        let now = context.now;
        match status {
            OrderStatus::Pending if now >= placement.payment_deadline => Step::Expire,
            OrderStatus::AwaitingPayment if now >= placement.payment_deadline => Step::ExpireUnlessPaid,
            OrderStatus::Pending if !self.reserved() => Step::Reserve,
            OrderStatus::Pending => Step::StartPayment,
            OrderStatus::AwaitingPayment => {
                let reconcile_at = placement.placed_at.saturating_add(context.reconcile_after_ms);
                if context.gateway_answers_at_once || now >= reconcile_at {
                    Step::CheckPayment
                } else {
                    Step::Wait(reconcile_at.min(placement.payment_deadline))
                }
            }
            OrderStatus::Paid => Step::Commit,
            OrderStatus::RefundPending => match self.refund() {
                Some(refund) if !refund.restocked => Step::Restock(refund.restock.clone()),
                Some(refund) if now < refund.retry_at && !context.retry_refund_now => Step::Wait(refund.retry_at),
                _ => Step::Refund,
            },
            status if status.unsold() && !self.released() => {
                // A short line holds nothing; a line a refund restocked was sold
                // and came back by its return, so its reservation is not
                // touched again (releasing a committed one would return it).
                let short = |sku: &str| self.shortages().iter().any(|shortage| shortage.sku == sku);
                let restocked = |index: usize| self.refund().is_some_and(|refund| refund.restock.contains(&index));
                let held = (placement.lines.iter().enumerate())
                    .filter(|(index, line)| !short(&line.sku) && !restocked(*index))
                    .map(|(index, _)| index);
                Step::Release(held.collect())
            }
            _ => Step::Done,
        }
    }
}
