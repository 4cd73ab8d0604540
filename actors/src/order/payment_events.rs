//! A gateway's word on a payment, whenever it comes (Stripe's webhooks): each
//! event is applied once; a payment that lands after its order gave up is owed
//! back.

use super::saga::{owe_late_payment, SagaWorld};
use super::state::{OrderError, OrderStatus};
use super::{Orders, OrdersError};
use crate::payment::webhook::StripeEvent;
use crate::payment::PaymentStatus;

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

impl Orders {
    /// Applies a Stripe event once: a payment succeeded, failed or was canceled.
    pub async fn stripe_event(&self, event: &StripeEvent) -> Result<PaymentEventOutcome, OrdersError> {
        if self.inner.seen.call(&event.id, false).await? {
            return Ok(PaymentEventOutcome::Duplicate);
        }
        let outcome = match (event.payment_status(), event.order_id()) {
            (Some(status), Some(order_id)) => self.payment_result(order_id, &event.data.object.id, status).await?,
            _ => PaymentEventOutcome::Ignored,
        };
        if outcome != PaymentEventOutcome::NotReady {
            self.inner.seen.call(&event.id, true).await?;
        }
        Ok(outcome)
    }

    /// A gateway's word on an order's payment; the saga then runs on.
    async fn payment_result(
        &self,
        id: &str,
        payment_id: &str,
        status: PaymentStatus,
    ) -> Result<PaymentEventOutcome, OrdersError> {
        let (outcome, listing) = note_payment(self, id, payment_id, status).await?;
        if outcome == PaymentEventOutcome::Applied {
            // The checkout (or the sweeper) driving it now finishes the saga.
            self.drive_unless_running(id, false, listing).await?;
        }
        Ok(outcome)
    }
}

/// Records a gateway's word on order `id`'s payment `payment_id`, whenever it
/// comes: the payment's outcome while the order awaits it, a refund owed when
/// it succeeded after the order gave up. Answers the outcome and, when the
/// order was listed again for it, the listing's generation.
pub(super) async fn note_payment(
    world: &impl SagaWorld,
    id: &str,
    payment_id: &str,
    status: PaymentStatus,
) -> Result<(PaymentEventOutcome, Option<u64>), OrdersError> {
    // Twice at most: the order may move (its saga's own check, its expiry)
    // between the read and the record.
    for _ in 0..2 {
        let order = match world.get(id).await {
            Ok(order) => order,
            Err(OrdersError::Order(OrderError::NotFound)) => return Ok((PaymentEventOutcome::Ignored, None)),
            Err(err) => return Err(err),
        };
        if order.payment().is_some_and(|(_, known)| known != payment_id) {
            return Ok((PaymentEventOutcome::Ignored, None));
        }
        let recorded = match (order.status(), &status) {
            (Some(OrderStatus::Pending), _) => return Ok((PaymentEventOutcome::NotReady, None)),
            (Some(OrderStatus::AwaitingPayment), PaymentStatus::Pending) => {
                return Ok((PaymentEventOutcome::Ignored, None))
            }
            (Some(OrderStatus::AwaitingPayment), _) => {
                let event = world
                    .payment_outcome(status.clone())
                    .expect("a settled payment is an event");
                world.record(id, vec![event]).await.map(|_| None)
            }
            (
                Some(OrderStatus::Expired | OrderStatus::Cancelled | OrderStatus::PaymentFailed),
                PaymentStatus::Succeeded,
            ) => {
                let payment = Some((world.gateway_name().to_string(), payment_id.to_string()));
                owe_late_payment(world, id, &order, payment, Vec::new())
                    .await
                    .map(|(_, listing)| listing)
            }
            _ => return Ok((PaymentEventOutcome::Ignored, None)),
        };
        match recorded {
            Ok(listing) => return Ok((PaymentEventOutcome::Applied, listing)),
            Err(OrdersError::Order(OrderError::InvalidTransition { .. })) => continue,
            Err(err) => return Err(err),
        }
    }
    Ok((PaymentEventOutcome::Ignored, None))
}
