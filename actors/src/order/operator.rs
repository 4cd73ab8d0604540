//! What customers and operators do to an order: cancel it (a refund once it
//! sold), capture a manual payment, ship and deliver it.

use super::saga::SagaWorld;
use super::state::{OrderError, OrderEvent, OrderState, OrderStatus};
use super::{Orders, OrdersError};
use crate::runtime::now_millis;

/// Records a cancellation: before it sold, the order is cancelled (its holds
/// go back when it is driven next); once it sold, the refund is recorded as
/// owed, before any of its units come back or its money goes out. An order
/// whose refund is pending already records only `note` (who asked to retry).
/// `note` goes in the same write as the cancellation, so it is on record only
/// if the cancellation is. The order is listed again first; answers the
/// listing's generation.
pub(super) async fn request_cancel(
    world: &impl SagaWorld,
    id: &str,
    reason: &str,
    note: Option<OrderEvent>,
) -> Result<u64, OrdersError> {
    let order = world.get(id).await?;
    let placement = order.placement().ok_or(OrderError::NotFound)?;
    let event = match order.status() {
        Some(OrderStatus::Confirmed) => Some(OrderEvent::RefundRequested {
            reason: reason.to_string(),
            restock: (0..placement.lines.len()).collect(),
        }),
        Some(OrderStatus::RefundPending) => None,
        _ => Some(OrderEvent::Cancelled {
            reason: reason.to_string(),
        }),
    };
    // One write, all or nothing: a refused cancellation leaves no note.
    let events: Vec<OrderEvent> = note.into_iter().chain(event).collect();
    let listing = world.relist(id).await?;
    if !events.is_empty() {
        world.record(id, events).await?;
    }
    Ok(listing)
}

impl Orders {
    /// Cancels an order before it ships (see [`request_cancel`]) and drives it:
    /// its stock is released, or its units restocked and its money refunded.
    /// Cancelling an order whose refund is pending tries the refund again at once.
    pub async fn cancel(&self, id: &str, reason: &str) -> Result<OrderState, OrdersError> {
        self.cancel_noted(id, reason, None).await
    }

    /// [`Orders::cancel`], with who asked recorded in the same write.
    async fn cancel_noted(&self, id: &str, reason: &str, note: Option<OrderEvent>) -> Result<OrderState, OrdersError> {
        let listing = request_cancel(self, id, reason, note).await?;
        self.drive_unless_running(id, true, Some(listing)).await
    }

    /// Drives order `id` unless its saga runs in this process already (which
    /// is nudged to look again before it stops); answers the order as it stands.
    pub(super) async fn drive_unless_running(
        &self,
        id: &str,
        retry_refund_now: bool,
        listing: Option<u64>,
    ) -> Result<OrderState, OrdersError> {
        match self.mark_running(id) {
            Some(_running) => self.drive(id, retry_refund_now, listing).await,
            None => {
                // The running saga looks again before it stops.
                self.nudge(id);
                self.get(id).await
            }
        }
    }

    /// An operator's transition: `paid` (capture), `shipped`, `delivered`,
    /// `cancelled`, `refunded`; `by` (who asked) is recorded with it.
    pub async fn transition(
        &self,
        id: &str,
        to: OrderStatus,
        tracking: Option<String>,
        by: &str,
    ) -> Result<OrderState, OrdersError> {
        let retry = to == OrderStatus::Cancelled && self.get(id).await?.status() == Some(OrderStatus::RefundPending);
        let noted = OrderEvent::Noted {
            by: by.to_string(),
            action: if retry {
                "retry the refund".to_string()
            } else {
                to.name().to_string()
            },
            at: now_millis(),
        };
        match to {
            OrderStatus::Paid => {
                self.record(id, vec![noted, OrderEvent::Paid]).await?;
                self.drive_unless_running(id, false, None).await
            }
            OrderStatus::Shipped => {
                let tracking = tracking.unwrap_or_default();
                self.record(id, vec![noted, OrderEvent::Shipped { tracking }]).await
            }
            OrderStatus::Delivered => self.record(id, vec![noted, OrderEvent::Delivered]).await,
            OrderStatus::Cancelled | OrderStatus::Refunded => {
                self.cancel_noted(id, &format!("cancelled by {by}"), Some(noted)).await
            }
            other => {
                let from = self.get(id).await?.status().map_or("unknown", OrderStatus::name);
                Err(OrderError::InvalidTransition { from, to: other.name() }.into())
            }
        }
    }
}
