//! What customers and operators do to an order: cancel it (a refund once it
//! sold), capture a manual payment, ship and deliver it.

use super::state::{OrderError, OrderEvent, OrderState, OrderStatus};
use super::{Orders, OrdersError};

impl Orders {
    /// Cancels an order before it ships: its stock is released, or, once it
    /// sold, the refund is recorded as owed, its units come back and its money
    /// is refunded. Cancelling an order whose refund is pending tries the
    /// refund again at once.
    pub async fn cancel(&self, id: &str, reason: &str) -> Result<OrderState, OrdersError> {
        let order = self.get(id).await?;
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
        if let Some(event) = event {
            self.relist(id).await?;
            self.record(id, vec![event]).await?;
        }
        self.drive_unless_running(id, true).await
    }

    /// Drives order `id` unless its saga runs in this process already (which
    /// then finishes it); answers the order as it stands.
    pub(super) async fn drive_unless_running(
        &self,
        id: &str,
        retry_refund_now: bool,
    ) -> Result<OrderState, OrdersError> {
        match self.mark_running(id) {
            Some(_running) => self.drive(id, retry_refund_now).await,
            None => self.get(id).await,
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
                self.record(id, vec![OrderEvent::Paid]).await?;
                self.drive_unless_running(id, false).await
            }
            OrderStatus::Shipped => {
                let tracking = tracking.unwrap_or_default();
                self.record(id, vec![OrderEvent::Shipped { tracking }]).await
            }
            OrderStatus::Delivered => self.record(id, vec![OrderEvent::Delivered]).await,
            OrderStatus::Cancelled | OrderStatus::Refunded => self.cancel(id, "cancelled by an operator").await,
            other => {
                let from = self.get(id).await?.status().map_or("unknown", OrderStatus::name);
                Err(OrderError::InvalidTransition { from, to: other.name() }.into())
            }
        }
    }
}
