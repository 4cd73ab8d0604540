//! What a SKU remembers beyond its figures: its open reservations, the ids it
//! settled (committed reservations and returns, remembered for a while so that
//! a repeated commit or return changes nothing), and both by time. Pure.
//!
//! Most live SKUs hold none of these, and a million of them are a million
//! actors: a [`Ledger`] is boxed, and only while it holds something, so an
//! empty one costs a pointer instead of four empty collections.
//!
//! Settled ids are kept compact ([`Settled`]): a busy SKU remembers a day
//! of them, one per order line it sold.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use rustc_hash::FxHashMap;
use serde::ser::{Serialize, SerializeMap, Serializer};

use super::settled::{Digest, Settled};
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
    settled: Settled,
    /// Open reservations by expiry.
    expiry: BTreeSet<(UnixMillis, String)>,
}

/// How a snapshot marks a digest. Ids never start with it (the HTTP layer
/// takes `[A-Za-z0-9._-]`; ids made inside start with an order id or
/// `group:`), so a snapshot from before digests, which holds the ids
/// themselves, still loads. The reverse does not hold: a binary from before
/// digests would read the marked keys as ids, so rolling back past this
/// change forgets a day of settled ids.
const DIGEST_MARK: char = '#';

/// A key of a snapshot's settled map: a marked digest, or an id.
fn digest_of_stored(key: &str) -> Digest {
    let parsed = key
        .strip_prefix(DIGEST_MARK)
        .filter(|hex| hex.len() == 32 && hex.bytes().all(|byte| byte.is_ascii_hexdigit()))
        .and_then(|hex| {
            let mut digest = [0; 16];
            for (index, byte) in digest.iter_mut().enumerate() {
                *byte = u8::from_str_radix(hex.get(index * 2..index * 2 + 2)?, 16).ok()?;
            }
            Some(Digest::from_bytes(digest))
        });
    parsed.unwrap_or_else(|| Digest::of(key))
}

/// A digest as a snapshot stores it.
fn stored(digest: &Digest) -> String {
    let mut key = String::with_capacity(33);
    key.push(DIGEST_MARK);
    for byte in digest.bytes() {
        let _ = write!(key, "{byte:02x}");
    }
    key
}

impl Entries {
    fn is_empty(&self) -> bool {
        self.reservations.is_empty() && self.settled.is_empty()
    }
}

impl Ledger {
    /// A ledger holding what a snapshot stored (the indexes are rebuilt).
    pub fn restore(reservations: FxHashMap<String, Reservation>, settled: FxHashMap<String, UnixMillis>) -> Self {
        let settled = (settled.iter()).map(|(key, until)| (digest_of_stored(key), *until));
        let entries = Entries {
            expiry: reservations.iter().map(|(id, r)| (r.expires_at, id.clone())).collect(),
            reservations,
            settled: Settled::restore(settled.collect()),
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
        self.0
            .as_ref()
            .is_some_and(|entries| !entries.settled.is_empty() && entries.settled.contains(Digest::of(id)))
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
        self.0.as_ref()?.settled.first_forget()
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
        self.entries_mut().settled.remember(Digest::of(id), until);
    }

    /// Forgets the settled ids remembered until `until` or earlier.
    pub fn forget_until(&mut self, until: UnixMillis) {
        let Some(entries) = self.0.as_mut() else {
            return;
        };
        entries.settled.forget_until(until);
        self.drop_if_empty();
    }

    /// The open reservations as a map, for a snapshot.
    pub fn reservations(&self) -> MapOf<'_, Reservation> {
        MapOf(self.0.as_ref().map(|entries| &entries.reservations))
    }

    /// The settled ids as a map, for a snapshot.
    pub fn settled(&self) -> SettledMap<'_> {
        SettledMap(self.0.as_ref().map(|entries| &entries.settled))
    }

    /// Whether the time indexes list exactly the open reservations and settled ids.
    #[cfg(test)]
    pub fn indexes_consistent(&self) -> bool {
        self.0.as_ref().is_none_or(|entries| {
            entries.expiry.len() == entries.reservations.len()
                && entries
                    .expiry
                    .iter()
                    .all(|(at, id)| entries.reservations.get(id).is_some_and(|r| r.expires_at == *at))
                && entries.settled.consistent()
        })
    }
}

#[cfg(test)]
impl PartialEq for Ledger {
    fn eq(&self, other: &Self) -> bool {
        let settled = |ledger: &Ledger| {
            let mut settled: Vec<_> = ledger.settled().0.into_iter().flat_map(Settled::iter).collect();
            settled.sort();
            settled
        };
        self.reservations().0 == other.reservations().0 && settled(self) == settled(other)
    }
}

/// A map of the ledger serialized as a map (empty when the ledger is absent),
/// so that snapshots keep the layout they had when the maps were fields.
pub struct MapOf<'a, V>(Option<&'a FxHashMap<String, V>>);

/// The settled ids serialized as the map of ids they were, each key a marked
/// digest.
pub struct SettledMap<'a>(Option<&'a Settled>);

impl Serialize for SettledMap<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.map_or(0, Settled::len)))?;
        for (digest, until) in self.0.into_iter().flat_map(Settled::iter) {
            map.serialize_entry(&stored(&digest), &until)?;
        }
        map.end()
    }
}

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
    fn settled_ids_stored_as_ids_or_as_digests_restore_the_same() {
        let mut ledger = Ledger::default();
        ledger.remember("order-1.0", 100);
        ledger.remember("#+0000000000000000000000000000000", 200);
        let stored: FxHashMap<String, UnixMillis> = (ledger.0.as_ref().unwrap().settled.iter())
            .map(|(digest, until)| (stored(&digest), until))
            .collect();
        assert!(stored.keys().all(|key| key.starts_with('#') && key.len() == 33));
        let before_digests: FxHashMap<String, UnixMillis> = [
            ("order-1.0".to_string(), 100),
            ("#+0000000000000000000000000000000".to_string(), 200),
        ]
        .into_iter()
        .collect();
        for settled in [stored, before_digests] {
            let restored = Ledger::restore(FxHashMap::default(), settled);
            assert!(restored.is_settled("order-1.0") && restored.is_settled("#+0000000000000000000000000000000"));
            assert!(!restored.is_settled("order-1.1"));
            assert_eq!(restored, ledger);
            assert!(restored.indexes_consistent());
        }
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
