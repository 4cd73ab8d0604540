//! The SKU stock counter as a pure state machine: decisions return events, and
//! only [`SkuStock::apply`] changes the state.
//!
//! Invariants (checked by the property tests below):
//! - `reserved` is the sum of the open reservations' quantities;
//! - `available = on_hand − reserved` never goes below zero;
//! - units are conserved: `on_hand + sold` only moves by set / adjust (a return
//!   moves units from `sold` back to `on_hand`).

use rustc_hash::FxHashMap;
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize};

use super::counts::{closes, Counts};
use super::ledger::Ledger;
use crate::runtime::UnixMillis;

/// Largest `on_hand` a SKU can hold.
pub const MAX_ON_HAND: u64 = 1_000_000_000_000;
/// Largest quantity of one reservation.
pub const MAX_RESERVATION_QTY: u64 = 1_000_000;
/// How long a committed reservation id (or a return id) is remembered after its
/// TTL, so that a repeated commit or return (a saga resuming after a crash)
/// succeeds without selling or restocking twice.
pub const COMMIT_MEMORY_MS: UnixMillis = 24 * 60 * 60 * 1000;

/// An open reservation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    /// Units held.
    pub qty: u64,
    /// When the units go back to `available`.
    pub expires_at: UnixMillis,
}

/// What changes a SKU's stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SkuEvent {
    /// `on_hand` was set by an operator.
    OnHandSet { on_hand: u64 },
    /// `on_hand` moved by `delta` (receipt, shrinkage, count correction).
    Adjusted { delta: i64, reason: String },
    /// Units were held for a buyer until `expires_at`.
    StockReserved {
        reservation_id: String,
        qty: u64,
        expires_at: UnixMillis,
    },
    /// A reservation was sold: its units leave `on_hand`.
    ReservationCommitted { reservation_id: String },
    /// Sold units came back (an order's return): they move from `sold` to
    /// `on_hand`; the id is remembered until `remember_until`.
    Returned {
        return_id: String,
        qty: u64,
        remember_until: UnixMillis,
    },
    /// A reservation was given back before it expired.
    ReservationReleased { reservation_id: String },
    /// A reservation's TTL ran out and its units came back.
    ReservationExpired { reservation_id: String },
    /// Committed reservation ids remembered until `until` or earlier are forgotten.
    CommitsForgotten { until: UnixMillis },
    /// A command took `available` down to [`LOW_STOCK`] or below (recorded
    /// once per fall, for the published `stock.low`); moves nothing.
    ///
    /// [`LOW_STOCK`]: super::stock_book::LOW_STOCK
    LowStock { available: u64 },
}

/// Why a stock operation is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StockError {
    /// Not enough units available.
    #[error("only {available} available, {requested} requested")]
    OutOfStock { requested: u64, available: u64 },
    /// `on_hand` would fall below what is reserved.
    #[error("on_hand {on_hand} would be below the {reserved} units reserved")]
    BelowReserved { on_hand: i128, reserved: u64 },
    /// `on_hand` would leave `0..=MAX_ON_HAND`.
    #[error("on_hand {on_hand} is outside 0..={MAX_ON_HAND}")]
    OnHandOutOfRange { on_hand: i128 },
    /// No open reservation has this id.
    #[error("no open reservation {reservation_id}")]
    ReservationNotFound { reservation_id: String },
    /// This reservation id was committed (sold) already.
    #[error("reservation {reservation_id} was committed")]
    AlreadyCommitted { reservation_id: String },
    /// A return of more units than were sold.
    #[error("{qty} units cannot come back: only {sold} were sold")]
    ReturnExceedsSold { qty: u64, sold: u64 },
    /// An open reservation with this id holds another quantity.
    #[error("reservation {reservation_id} is open with qty {existing_qty}")]
    ReservationConflict { reservation_id: String, existing_qty: u64 },
}

/// Stock figures of one SKU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockLevel {
    /// Units in the warehouse (sold units have left).
    pub on_hand: u64,
    /// Units held by open reservations.
    pub reserved: u64,
    /// `on_hand − reserved`.
    pub available: u64,
    /// Units sold through committed reservations.
    pub sold: u64,
}

/// The outcome of a reservation request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReserveDecision {
    /// A new reservation.
    New(SkuEvent),
    /// The same request was already granted: nothing changes.
    Existing(Reservation),
}

/// Stock state of one SKU.
#[derive(Debug, Clone, Default)]
pub struct SkuStock {
    /// `on_hand`, `reserved`, `sold`.
    counts: Counts,
    /// Open reservations and settled ids (what stops a second sale or
    /// restock after a restart).
    ledger: Ledger,
}

/// A snapshot: the figures, then the open reservations and the settled ids
/// (the layout snapshots have always had; the time indexes are rebuilt).
#[derive(Deserialize)]
struct Stored {
    counts: Counts,
    reservations: FxHashMap<String, Reservation>,
    settled: FxHashMap<String, UnixMillis>,
}

impl Serialize for SkuStock {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut stored = serializer.serialize_struct("SkuStock", 3)?;
        stored.serialize_field("counts", &self.counts)?;
        stored.serialize_field("reservations", &self.ledger.reservations())?;
        stored.serialize_field("settled", &self.ledger.settled())?;
        stored.end()
    }
}

impl<'de> Deserialize<'de> for SkuStock {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let stored = Stored::deserialize(deserializer)?;
        Ok(SkuStock {
            counts: stored.counts,
            ledger: Ledger::restore(stored.reservations, stored.settled),
        })
    }
}

impl SkuStock {
    /// Current figures.
    pub fn level(&self) -> StockLevel {
        self.counts.level()
    }

    /// Open reservations.
    pub fn open_reservations(&self) -> impl Iterator<Item = (&String, &Reservation)> {
        self.ledger.open()
    }

    fn check_on_hand(&self, on_hand: i128) -> Result<u64, StockError> {
        if !(0..=i128::from(MAX_ON_HAND)).contains(&on_hand) {
            return Err(StockError::OnHandOutOfRange { on_hand });
        }
        if on_hand < i128::from(self.counts.reserved) {
            return Err(StockError::BelowReserved {
                on_hand,
                reserved: self.counts.reserved,
            });
        }
        Ok(on_hand as u64)
    }

    /// Decides setting `on_hand`.
    pub fn set_on_hand(&self, on_hand: u64) -> Result<SkuEvent, StockError> {
        let on_hand = self.check_on_hand(i128::from(on_hand))?;
        Ok(SkuEvent::OnHandSet { on_hand })
    }

    /// Decides moving `on_hand` by `delta`.
    pub fn adjust(&self, delta: i64, reason: String) -> Result<SkuEvent, StockError> {
        self.check_on_hand(i128::from(self.counts.on_hand) + i128::from(delta))?;
        Ok(SkuEvent::Adjusted { delta, reason })
    }

    /// Decides a reservation of `qty` units until `expires_at`; idempotent on the id
    /// while the reservation is open; refused once it was committed.
    pub fn reserve(
        &self,
        reservation_id: String,
        qty: u64,
        expires_at: UnixMillis,
    ) -> Result<ReserveDecision, StockError> {
        if self.ledger.is_settled(&reservation_id) {
            return Err(StockError::AlreadyCommitted { reservation_id });
        }
        if let Some(existing) = self.ledger.reservation(&reservation_id) {
            if existing.qty != qty {
                return Err(StockError::ReservationConflict {
                    reservation_id,
                    existing_qty: existing.qty,
                });
            }
            return Ok(ReserveDecision::Existing(existing.clone()));
        }
        let available = self.level().available;
        if qty > available {
            return Err(StockError::OutOfStock {
                requested: qty,
                available,
            });
        }
        Ok(ReserveDecision::New(SkuEvent::StockReserved {
            reservation_id,
            qty,
            expires_at,
        }))
    }

    /// Decides selling an open reservation; committing one that was committed
    /// (within [`COMMIT_MEMORY_MS`] after its TTL) again changes nothing.
    pub fn commit(&self, reservation_id: String) -> Result<Option<SkuEvent>, StockError> {
        if self.ledger.is_settled(&reservation_id) {
            return Ok(None);
        }
        self.require_open(&reservation_id)?;
        Ok(Some(SkuEvent::ReservationCommitted { reservation_id }))
    }

    /// Decides the return of `qty` sold units at `now`; returning with the same
    /// id again (within [`COMMIT_MEMORY_MS`]) changes nothing.
    pub fn return_sold(&self, return_id: String, qty: u64, now: UnixMillis) -> Result<Option<SkuEvent>, StockError> {
        if self.ledger.is_settled(&return_id) {
            return Ok(None);
        }
        if qty > self.counts.sold {
            return Err(StockError::ReturnExceedsSold {
                qty,
                sold: self.counts.sold,
            });
        }
        if self.counts.on_hand.saturating_add(qty) > MAX_ON_HAND {
            return Err(StockError::OnHandOutOfRange {
                on_hand: i128::from(self.counts.on_hand) + i128::from(qty),
            });
        }
        Ok(Some(SkuEvent::Returned {
            return_id,
            qty,
            remember_until: now.saturating_add(COMMIT_MEMORY_MS),
        }))
    }

    /// Decides selling `qty` units at once under `reservation_id` (a
    /// reservation and its commit in one burst, for a payment that is taken at
    /// reservation); selling an id that was sold already changes nothing, and an
    /// open reservation with this id is committed.
    pub fn sell(&self, reservation_id: String, qty: u64, expires_at: UnixMillis) -> Result<Vec<SkuEvent>, StockError> {
        if self.ledger.is_settled(&reservation_id) {
            return Ok(Vec::new());
        }
        let mut events = Vec::new();
        if let ReserveDecision::New(event) = self.reserve(reservation_id.clone(), qty, expires_at)? {
            events.push(event);
        }
        events.push(SkuEvent::ReservationCommitted { reservation_id });
        Ok(events)
    }

    /// Decides giving an open reservation back; one that was committed is
    /// refused as such (its units come back only by a return).
    pub fn release(&self, reservation_id: String) -> Result<SkuEvent, StockError> {
        if self.ledger.is_settled(&reservation_id) {
            return Err(StockError::AlreadyCommitted { reservation_id });
        }
        self.require_open(&reservation_id)?;
        Ok(SkuEvent::ReservationReleased { reservation_id })
    }

    fn require_open(&self, reservation_id: &str) -> Result<(), StockError> {
        match self.ledger.reservation(reservation_id) {
            Some(_) => Ok(()),
            None => Err(StockError::ReservationNotFound {
                reservation_id: reservation_id.to_string(),
            }),
        }
    }

    /// Pushes an expiry event for every reservation whose TTL ran out by `now`,
    /// and forgets commits remembered long enough.
    pub fn expire(&self, now: UnixMillis, events: &mut Vec<SkuEvent>) {
        events.extend(self.ledger.expired_by(now).map(|id| SkuEvent::ReservationExpired {
            reservation_id: id.clone(),
        }));
        if self.ledger.first_forget().is_some_and(|until| until <= now) {
            events.push(SkuEvent::CommitsForgotten { until: now });
        }
    }

    /// When the next open reservation expires or commit is forgotten.
    pub fn next_expiry(&self) -> Option<UnixMillis> {
        let reservation = self.ledger.first_expiry();
        let commit = self.ledger.first_forget();
        reservation.into_iter().chain(commit).min()
    }

    /// Applies one event.
    pub fn apply(&mut self, event: &SkuEvent) {
        let closed = closes(event).and_then(|reservation_id| self.ledger.close(reservation_id));
        self.counts
            .apply(event, closed.as_ref().map(|reservation| reservation.qty));
        match event {
            SkuEvent::StockReserved {
                reservation_id,
                qty,
                expires_at,
            } => self.ledger.open_reservation(
                reservation_id,
                Reservation {
                    qty: *qty,
                    expires_at: *expires_at,
                },
            ),
            SkuEvent::ReservationCommitted { reservation_id } => {
                if let Some(reservation) = closed {
                    let until = reservation.expires_at.saturating_add(COMMIT_MEMORY_MS);
                    self.ledger.remember(reservation_id, until);
                }
            }
            SkuEvent::Returned {
                return_id,
                remember_until,
                ..
            } => self.ledger.remember(return_id, *remember_until),
            SkuEvent::CommitsForgotten { until } => self.ledger.forget_until(*until),
            SkuEvent::OnHandSet { .. }
            | SkuEvent::LowStock { .. }
            | SkuEvent::Adjusted { .. }
            | SkuEvent::ReservationReleased { .. }
            | SkuEvent::ReservationExpired { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests;
