//! `stock.*`: what happens to one SKU's units.

use mercato_actors::sku::stock_book::LOW_STOCK;
use mercato_actors::sku::SkuEvent;
use serde::Serialize;
use utoipa::ToSchema;

use super::{rfc3339, schema_of, EventType, Mapped};

const RESERVED: &str = "stock.reserved";
const RELEASED: &str = "stock.released";
const SOLD: &str = "stock.sold";
const RETURNED: &str = "stock.returned";
const ADJUSTED: &str = "stock.adjusted";
const LOW: &str = "stock.low";

pub const TYPES: &[EventType] = &[
    EventType {
        name: RESERVED,
        summary: "Units were held for a buyer until `expires_at`.",
        data: schema_of::<StockReserved>,
    },
    EventType {
        name: RELEASED,
        summary: "A reservation ended unsold (given back or expired): its units are available again.",
        data: schema_of::<StockReleased>,
    },
    EventType {
        name: SOLD,
        summary: "A reservation was sold: its units left the warehouse (the order's events carry the quantities).",
        data: schema_of::<StockSold>,
    },
    EventType {
        name: RETURNED,
        summary: "Sold units came back into stock (an order's refund).",
        data: schema_of::<StockReturned>,
    },
    EventType {
        name: ADJUSTED,
        summary: "Staff set or moved the units on hand.",
        data: schema_of::<StockAdjusted>,
    },
    EventType {
        name: LOW,
        summary: "Units available fell to the low-stock threshold or below.",
        data: schema_of::<StockLow>,
    },
];

/// `stock.reserved`.
#[derive(Serialize, ToSchema)]
pub struct StockReserved {
    pub sku: String,
    pub reservation_id: String,
    pub qty: u64,
    /// RFC 3339.
    pub expires_at: String,
}

/// How a reservation ended unsold.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseReason {
    /// Given back (a cancelled or failed checkout, a caller's release).
    Released,
    /// Its time ran out.
    Expired,
}

/// `stock.released`.
#[derive(Serialize, ToSchema)]
pub struct StockReleased {
    pub sku: String,
    pub reservation_id: String,
    pub reason: ReleaseReason,
}

/// `stock.sold`.
#[derive(Serialize, ToSchema)]
pub struct StockSold {
    pub sku: String,
    pub reservation_id: String,
}

/// `stock.returned`.
#[derive(Serialize, ToSchema)]
pub struct StockReturned {
    pub sku: String,
    pub return_id: String,
    pub qty: u64,
}

/// `stock.adjusted`: either `on_hand` was set, or it moved by `delta`.
#[derive(Serialize, ToSchema)]
pub struct StockAdjusted {
    pub sku: String,
    /// The new units on hand, when staff set it.
    pub on_hand: Option<u64>,
    /// How far on hand moved, when staff adjusted it.
    pub delta: Option<i64>,
    pub reason: Option<String>,
}

/// `stock.low`.
#[derive(Serialize, ToSchema)]
pub struct StockLow {
    pub sku: String,
    pub available: u64,
    /// Published when `available` falls to this or below.
    pub threshold: u64,
}

/// Maps an event of SKU `sku`.
pub fn sku(sku: &str, event: SkuEvent) -> Option<Mapped> {
    let subject = format!("skus/{sku}");
    let sku = sku.to_string();
    let released = |reservation_id, reason| StockReleased {
        sku: sku.clone(),
        reservation_id,
        reason,
    };
    Some(match event {
        SkuEvent::StockReserved {
            reservation_id,
            qty,
            expires_at,
        } => Mapped::new(
            RESERVED,
            subject,
            StockReserved {
                sku,
                reservation_id,
                qty,
                expires_at: rfc3339(expires_at),
            },
        ),
        SkuEvent::ReservationReleased { reservation_id } => {
            Mapped::new(RELEASED, subject, released(reservation_id, ReleaseReason::Released))
        }
        SkuEvent::ReservationExpired { reservation_id } => {
            Mapped::new(RELEASED, subject, released(reservation_id, ReleaseReason::Expired))
        }
        SkuEvent::ReservationCommitted { reservation_id } => {
            Mapped::new(SOLD, subject, StockSold { sku, reservation_id })
        }
        SkuEvent::Returned { return_id, qty, .. } => {
            Mapped::new(RETURNED, subject, StockReturned { sku, return_id, qty })
        }
        SkuEvent::OnHandSet { on_hand } => Mapped::new(
            ADJUSTED,
            subject,
            StockAdjusted {
                sku,
                on_hand: Some(on_hand),
                delta: None,
                reason: None,
            },
        ),
        SkuEvent::Adjusted { delta, reason } => Mapped::new(
            ADJUSTED,
            subject,
            StockAdjusted {
                sku,
                on_hand: None,
                delta: Some(delta),
                reason: Some(reason),
            },
        ),
        SkuEvent::LowStock { available } => Mapped::new(
            LOW,
            subject,
            StockLow {
                sku,
                available,
                threshold: LOW_STOCK,
            },
        ),
        SkuEvent::CommitsForgotten { .. } => return None,
    })
}
