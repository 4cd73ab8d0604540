//! A SKU's figures (`on_hand`, `reserved`, `sold`) and how each event moves
//! them, apart from the reservations and ids the SKU remembers: one rule
//! shared by the SKU actor's state ([`super::SkuStock`]) and the stock read
//! model ([`super::stock_book`]), so the two cannot disagree.

use serde::{Deserialize, Serialize};

use super::state::{SkuEvent, StockLevel};

/// A SKU's figures. Serialized as its three fields in this order (the
/// layout [`super::SkuStock`]'s snapshots have always had).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Units in the warehouse (sold units have left).
    pub on_hand: u64,
    /// Units held by open reservations.
    pub reserved: u64,
    /// Units sold through committed reservations.
    pub sold: u64,
}

impl Counts {
    /// Moves the figures by `event`; `closed` is the quantity of the open
    /// reservation a commit, release or expiry closes (`None`: it was not
    /// open, and nothing moves).
    pub fn apply(&mut self, event: &SkuEvent, closed: Option<u64>) {
        match event {
            SkuEvent::OnHandSet { on_hand } => self.on_hand = *on_hand,
            SkuEvent::Adjusted { delta, .. } => self.on_hand = self.on_hand.saturating_add_signed(*delta),
            SkuEvent::StockReserved { qty, .. } => self.reserved += qty,
            SkuEvent::ReservationCommitted { .. } => {
                if let Some(qty) = closed {
                    self.reserved = self.reserved.saturating_sub(qty);
                    self.on_hand = self.on_hand.saturating_sub(qty);
                    self.sold += qty;
                }
            }
            SkuEvent::Returned { qty, .. } => {
                self.on_hand = self.on_hand.saturating_add(*qty);
                self.sold = self.sold.saturating_sub(*qty);
            }
            SkuEvent::ReservationReleased { .. } | SkuEvent::ReservationExpired { .. } => {
                if let Some(qty) = closed {
                    self.reserved = self.reserved.saturating_sub(qty);
                }
            }
            SkuEvent::CommitsForgotten { .. } | SkuEvent::LowStock { .. } => {}
        }
    }

    /// The figures with `available`.
    pub fn level(&self) -> StockLevel {
        StockLevel {
            on_hand: self.on_hand,
            reserved: self.reserved,
            available: self.on_hand.saturating_sub(self.reserved),
            sold: self.sold,
        }
    }
}

/// The reservation id an event closes, if it closes one.
pub fn closes(event: &SkuEvent) -> Option<&str> {
    match event {
        SkuEvent::ReservationCommitted { reservation_id }
        | SkuEvent::ReservationReleased { reservation_id }
        | SkuEvent::ReservationExpired { reservation_id } => Some(reservation_id),
        _ => None,
    }
}
