//! What a SKU remembers beyond its figures: its open reservations, the ids it
//! settled (committed reservations and returns, remembered for a while so that
//! a repeated commit or return changes nothing), and both by time. Pure.
//!
//! Most live SKUs hold none of these, and a million of them are a million
//! actors: a [`Ledger`] is boxed, and only while it holds something, so an
//! empty one costs a pointer instead of four empty collections.

use std::collections::BTreeSet;

use rustc_hash::FxHashMap;
use serde::ser::{Serialize, SerializeMap, Serializer};

use super::state::Reservation;
use crate::runtime::UnixMillis;

/// Open reservations and settled ids of one SKU, with their time indexes.
#[derive(Debug, Clone, Default)]
pub struct Ledger(Option<Box<Entries>>);

#[derive(Debug, Clone, Default)]
struct Entries {
    /// Open reservations by id.
    reservations: FxHashMap<String, Reservation>,
    /// Settled ids and until when they are remembered.
    settled: FxHashMap<String, UnixMillis>,
    /// Open reservations by expiry.
    expiry: BTreeSet<(UnixMillis, String)>,
    /// Settled ids by the end of their memory.
    forget: BTreeSet<(UnixMillis, String)>,
}

impl Entries {
    fn is_empty(&self) -> bool {
        self.reservations.is_empty() && self.settled.is_empty()
    }
}

impl Ledger {
    /// A ledger holding what a snapshot stored (the indexes are rebuilt).
    pub fn restore(reservations: FxHashMap<String, Reservation>, settled: FxHashMap<String, UnixMillis>) -> Self {
        let entries = Entries {
            expiry: reservations.iter().map(|(id, r)| (r.expires_at, id.clone())).collect(),
            forget: settled.iter().map(|(id, until)| (*until, id.clone())).collect(),
            reservations,
            settled,
        };
        let mut ledger = Ledger(Some(Box::new(entries)));
        ledger.drop_if_empty();
        ledger
    }

    fn entries_mut(&mut self) -> &mut Entries {
        self.0.get_or_insert_with(Box::default)
    }

    fn drop_if_empty(&mut self) {
        if self.0.as_ref().is_some_and(|entries| entries.is_empty()) {
            self.0 = None;
        }
    }

    /// The open reservation `id`.
    pub fn reservation(&self, id: &str) -> Option<&Reservation> {
        self.0.as_ref()?.reservations.get(id)
    }

    /// Whether `id` was committed or returned (and is still remembered).
    pub fn is_settled(&self, id: &str) -> bool {
        self.0.as_ref().is_some_and(|entries| entries.settled.contains_key(id))
    }

    /// Open reservations, in no order.
    pub fn open(&self) -> impl Iterator<Item = (&String, &Reservation)> {
        self.0.iter().flat_map(|entries| entries.reservations.iter())
    }

    /// Ids of the open reservations whose TTL ran out by `now`, soonest first.
    pub fn expired_by(&self, now: UnixMillis) -> impl Iterator<Item = &String> {
        self.0
            .iter()
            .flat_map(|entries| entries.expiry.iter())
            .take_while(move |(expires_at, _)| *expires_at <= now)
            .map(|(_, id)| id)
    }

    /// When the first open reservation expires.
    pub fn first_expiry(&self) -> Option<UnixMillis> {
        self.0.as_ref()?.expiry.first().map(|(at, _)| *at)
    }

    /// When the first settled id may be forgotten.
    pub fn first_forget(&self) -> Option<UnixMillis> {
        self.0.as_ref()?.forget.first().map(|(until, _)| *until)
    }

    /// Opens reservation `id`.
    pub fn open_reservation(&mut self, id: &str, reservation: Reservation) {
        let entries = self.entries_mut();
        let expires_at = reservation.expires_at;
        if let Some(old) = entries.reservations.insert(id.to_string(), reservation) {
            entries.expiry.remove(&(old.expires_at, id.to_string()));
        }
        entries.expiry.insert((expires_at, id.to_string()));
    }

    /// Closes reservation `id` (committed, released or expired), if open.
    pub fn close(&mut self, id: &str) -> Option<Reservation> {
        let entries = self.0.as_mut()?;
        let reservation = entries.reservations.remove(id)?;
        entries.expiry.remove(&(reservation.expires_at, id.to_string()));
        self.drop_if_empty();
        Some(reservation)
    }

    /// Remembers `id` as settled until `until`.
    pub fn remember(&mut self, id: &str, until: UnixMillis) {
        let entries = self.entries_mut();
        if let Some(old) = entries.settled.insert(id.to_string(), until) {
            entries.forget.remove(&(old, id.to_string()));
        }
        entries.forget.insert((until, id.to_string()));
    }

    /// Forgets the settled ids remembered until `until` or earlier.
    pub fn forget_until(&mut self, until: UnixMillis) {
        let Some(entries) = self.0.as_mut() else {
            return;
        };
        while entries.forget.first().is_some_and(|(when, _)| *when <= until) {
            if let Some((_, id)) = entries.forget.pop_first() {
                entries.settled.remove(&id);
            }
        }
        self.drop_if_empty();
    }

    /// The open reservations as a map, for a snapshot.
    pub fn reservations(&self) -> MapOf<'_, Reservation> {
        MapOf(self.0.as_ref().map(|entries| &entries.reservations))
    }

    /// The settled ids as a map, for a snapshot.
    pub fn settled(&self) -> MapOf<'_, UnixMillis> {
        MapOf(self.0.as_ref().map(|entries| &entries.settled))
    }

    /// Whether the time indexes list exactly the open reservations and settled ids.
    #[cfg(test)]
    pub fn indexes_consistent(&self) -> bool {
        self.0.as_ref().is_none_or(|entries| {
            entries.expiry.len() == entries.reservations.len()
                && entries.forget.len() == entries.settled.len()
                && entries
                    .expiry
                    .iter()
                    .all(|(at, id)| entries.reservations.get(id).is_some_and(|r| r.expires_at == *at))
                && entries
                    .forget
                    .iter()
                    .all(|(until, id)| entries.settled.get(id) == Some(until))
        })
    }
}

#[cfg(test)]
impl PartialEq for Ledger {
    fn eq(&self, other: &Self) -> bool {
        self.reservations().0 == other.reservations().0 && self.settled().0 == other.settled().0
    }
}

/// A map of the ledger serialized as a map (empty when the ledger is absent),
/// so that snapshots keep the layout they had when the maps were fields.
pub struct MapOf<'a, V>(Option<&'a FxHashMap<String, V>>);

impl<V: Serialize> Serialize for MapOf<'_, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.map_or(0, |entries| entries.len())))?;
        for (key, value) in self.0.into_iter().flatten() {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ledger_is_dropped_once_it_holds_nothing() {
        let mut ledger = Ledger::default();
        let hold = Reservation { qty: 2, expires_at: 50 };
        ledger.open_reservation("r1", hold.clone());
        ledger.remember("c1", 100);
        assert!(ledger.0.is_some());
        assert_eq!(ledger.close("r1"), Some(hold));
        assert!(ledger.0.is_some(), "c1 is still remembered");
        ledger.forget_until(99);
        assert!(ledger.is_settled("c1"));
        ledger.forget_until(100);
        assert!(!ledger.is_settled("c1"));
        assert!(ledger.0.is_none(), "an empty ledger costs a pointer");
        assert!(Ledger::restore(FxHashMap::default(), FxHashMap::default()).0.is_none());
    }

    #[test]
    fn an_id_recorded_again_keeps_one_index_entry_at_its_new_time() {
        let mut ledger = Ledger::default();
        for expires_at in [50, 70, 70] {
            ledger.open_reservation("r1", Reservation { qty: 1, expires_at });
            ledger.remember("c1", expires_at);
        }
        assert!(ledger.indexes_consistent());
        assert_eq!(ledger.first_expiry(), Some(70));
        assert_eq!(ledger.first_forget(), Some(70));
    }
}
