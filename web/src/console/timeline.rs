//! An order's domain events in an operator's words, for its timeline.

use mercato_actors::money::format_money;
use mercato_actors::order::state::OrderEvent;
use mercato_actors::read_model::Logged;

use crate::view::when;

/// One line of the timeline.
pub struct TimelineRow {
    pub seq: u64,
    pub what: String,
    /// Who asked, for an operator's action.
    pub by: Option<String>,
    /// When, where the event says.
    pub at: Option<String>,
}

/// `event` in words.
pub fn describe(event: &OrderEvent) -> String {
    match event {
        OrderEvent::Placed(placement) => format!(
            "Placed for {}: {} units, {}",
            placement.email,
            placement.lines.iter().map(|line| u64::from(line.qty)).sum::<u64>(),
            format_money(placement.total, &placement.currency)
        ),
        OrderEvent::Reserved => "Every line's stock held (and the coupon's use claimed)".into(),
        OrderEvent::Rejected { shortages, coupon } => {
            let mut why: Vec<String> = shortages
                .iter()
                .map(|short| {
                    format!(
                        "{} short ({} wanted, {} available)",
                        short.sku, short.requested, short.available
                    )
                })
                .collect();
            why.extend(coupon.iter().map(|refusal| refusal.message.clone()));
            format!("Rejected: {}", why.join("; "))
        }
        OrderEvent::PaymentStarted {
            gateway, payment_id, ..
        } => {
            format!(
                "Payment {payment_id} started with {}",
                crate::view::gateway_name(gateway)
            )
        }
        OrderEvent::Paid => "Paid".into(),
        OrderEvent::PaymentRecorded { payment_id, .. } => {
            format!("A late payment ({payment_id}) recorded, to be refunded")
        }
        OrderEvent::Confirmed => "Confirmed: the stock is sold".into(),
        OrderEvent::PaymentFailed { reason } => format!("Payment failed: {reason}"),
        OrderEvent::Expired => "The payment window ran out".into(),
        OrderEvent::Cancelled { reason } => format!("Cancelled ({reason})"),
        OrderEvent::RefundRequested { reason, .. } => format!("Refund owed ({reason})"),
        OrderEvent::Restocked => "The sold units are back in stock".into(),
        OrderEvent::RefundFailed { error, retry_at } => {
            format!("The refund failed ({error}); next try at {}", when(*retry_at))
        }
        OrderEvent::Refunded => "Refunded".into(),
        OrderEvent::Released => "What it held went back (stock, coupon use, cart)".into(),
        OrderEvent::Shipped { tracking } => format!("Shipped, tracking number {tracking}"),
        OrderEvent::Delivered => "Delivered".into(),
        OrderEvent::Noted { action, .. } => format!("Asked for: {}", action.replace('_', " ")),
    }
}

/// The timeline's rows, oldest first.
pub fn rows(events: &[Logged<OrderEvent>]) -> Vec<TimelineRow> {
    events
        .iter()
        .map(|Logged { seq, event }| TimelineRow {
            seq: *seq,
            what: describe(event),
            by: match event {
                OrderEvent::Noted { by, .. } => Some(by.clone()),
                _ => None,
            },
            at: match event {
                OrderEvent::Placed(placement) => Some(when(placement.placed_at)),
                OrderEvent::Noted { at, .. } => Some(when(*at)),
                _ => None,
            },
        })
        .collect()
}
