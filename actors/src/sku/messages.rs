//! What callers send to a SKU stock actor and what they get back.

use super::state::{StockError, StockLevel};
use crate::runtime::UnixMillis;

/// A request to one SKU's stock actor.
#[derive(Debug, Clone)]
pub enum SkuCommand {
    /// Read the figures.
    Get,
    /// Read the open reservations, soonest expiry first, at most `limit`.
    Reservations { limit: usize },
    /// Set `on_hand`.
    SetOnHand { on_hand: u64 },
    /// Move `on_hand` by `delta`, with a reason for the audit trail.
    Adjust { delta: i64, reason: String },
    /// Hold `qty` units for `ttl_ms`; idempotent on `reservation_id`.
    Reserve {
        reservation_id: String,
        qty: u64,
        ttl_ms: u64,
    },
    /// Sell an open reservation.
    Commit { reservation_id: String },
    /// Reserve and sell `qty` units at once; idempotent on `reservation_id`.
    Sell {
        reservation_id: String,
        qty: u64,
        ttl_ms: u64,
    },
    /// Give an open reservation back.
    Release { reservation_id: String },
    /// Take `qty` sold units back into stock (an order's return); idempotent on
    /// `return_id`.
    Return { return_id: String, qty: u64 },
}

/// A granted reservation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservationGrant {
    /// Its id.
    pub reservation_id: String,
    /// Units held.
    pub qty: u64,
    /// When the hold ends.
    pub expires_at: UnixMillis,
    /// `false` if this repeats an earlier, identical request.
    pub created: bool,
}

/// What a SKU stock actor answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkuOutcome {
    /// The figures after the command.
    Level(StockLevel),
    /// A reservation was granted (or had been).
    Reserved(ReservationGrant),
    /// Open reservations `(id, hold)`, soonest expiry first.
    Reservations(Vec<(String, super::state::Reservation)>),
}

/// The reply to a [`SkuCommand`].
pub type SkuReply = Result<SkuOutcome, StockError>;
