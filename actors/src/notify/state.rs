//! What the notifier remembers (how far it read the event log) and which order
//! events become mails, as pure code.

use serde::{Deserialize, Serialize};

use crate::order::state::OrderEvent;

/// The kinds of mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    /// The order is paid and its stock sold.
    OrderConfirmed,
    /// The order was handed to the carrier.
    OrderShipped,
    /// The payment failed.
    PaymentFailed,
}

impl MailKind {
    /// The mail an order event calls for, if any.
    pub fn for_event(event: &OrderEvent) -> Option<MailKind> {
        match event {
            OrderEvent::Confirmed => Some(MailKind::OrderConfirmed),
            OrderEvent::Shipped { .. } => Some(MailKind::OrderShipped),
            OrderEvent::PaymentFailed { .. } => Some(MailKind::PaymentFailed),
            _ => None,
        }
    }

    /// Template name, file-name part and metric label.
    pub fn name(self) -> &'static str {
        match self {
            MailKind::OrderConfirmed => "order_confirmed",
            MailKind::OrderShipped => "order_shipped",
            MailKind::PaymentFailed => "payment_failed",
        }
    }
}

/// The notifier's position in the event log; also its snapshot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The first sequence number not yet handled.
    pub next_seq: u64,
}

/// The cursor moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Advanced {
    /// The new `next_seq`.
    pub to: u64,
}

impl Cursor {
    /// Decides moving to `to` (never backwards).
    pub fn advance(&self, to: u64) -> Option<Advanced> {
        (to > self.next_seq).then_some(Advanced { to })
    }

    /// Applies one event.
    pub fn apply(&mut self, event: &Advanced) {
        self.next_seq = self.next_seq.max(event.to);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_confirmation_shipping_and_failed_payment_mail() {
        assert_eq!(
            MailKind::for_event(&OrderEvent::Confirmed),
            Some(MailKind::OrderConfirmed)
        );
        assert_eq!(
            MailKind::for_event(&OrderEvent::Shipped { tracking: "T".into() }),
            Some(MailKind::OrderShipped)
        );
        assert_eq!(MailKind::for_event(&OrderEvent::Paid), None);
        assert_eq!(MailKind::for_event(&OrderEvent::Expired), None);
    }

    #[test]
    fn the_cursor_only_moves_forward() {
        let mut cursor = Cursor::default();
        cursor.apply(&cursor.advance(10).unwrap());
        assert_eq!(cursor.advance(5), None);
        assert_eq!(cursor.advance(10), None);
        assert_eq!(cursor.next_seq, 10);
    }
}
