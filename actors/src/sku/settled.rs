//! The ids a SKU settled (committed reservations and returns), each
//! remembered until a time, so that a repeated commit or return changes
//! nothing. Pure.
//!
//! A busy SKU remembers a day of them, one per order line it sold, so each is
//! a 16-byte [`Digest`] in a queue in time order, found through a table of
//! 4-byte positions: ~40 bytes an id with the collections' slack, where a map
//! and a time index took ~85 (and the ids as strings twice, ~650). Times
//! mostly grow (now plus a constant), so an id joins at the back and
//! forgetting pops from the front; the few that come earlier than the back
//! (behind a long reservation's, or after a clock set back) are inserted in
//! place, moving the positions of the entries after them.

use std::collections::VecDeque;

use hashbrown::HashTable;

use crate::digest::{digest16, table_hash};
use crate::runtime::UnixMillis;

/// A settled id as the ledger keeps it: the first 16 bytes of its SHA-256
/// (a digest that stays the same across versions, since snapshots hold it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Digest([u8; 16]);

impl Digest {
    pub fn of(id: &str) -> Self {
        Digest(digest16(b"", id))
    }

    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Digest(bytes)
    }

    pub fn bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

/// Settled ids and until when each is remembered.
#[derive(Debug, Clone, Default)]
pub struct Settled {
    /// `(until, digest)` in the order remembered, `until` never decreasing.
    /// An entry whose digest was remembered again later is stale: no
    /// position points to it, and it goes when it reaches the front.
    queue: VecDeque<(UnixMillis, Digest)>,
    /// The position of each remembered digest's entry: `popped` plus its
    /// index in `queue` (wrapping).
    positions: HashTable<u32>,
    /// Entries popped from the front so far (wrapping).
    popped: u32,
}

impl Settled {
    /// Ids remembered.
    pub fn len(&self) -> usize {
        self.positions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    fn entry_at(&self, position: u32) -> &(UnixMillis, Digest) {
        &self.queue[position.wrapping_sub(self.popped) as usize]
    }

    fn position_of(&self, digest: Digest) -> Option<u32> {
        let found = self
            .positions
            .find(table_hash(digest.bytes()), |&at| self.entry_at(at).1 == digest);
        found.copied()
    }

    /// Whether `digest` is remembered.
    pub fn contains(&self, digest: Digest) -> bool {
        self.position_of(digest).is_some()
    }

    /// Remembers `digest` until `until` (in place of a time it had).
    pub fn remember(&mut self, digest: Digest, until: UnixMillis) {
        // Its older entry, if any, goes stale: no position points to it any more.
        if let Some(older) = self.position_of(digest) {
            if let Ok(found) = self.positions.find_entry(table_hash(digest.bytes()), |&at| at == older) {
                found.remove();
            }
        }
        // In time order: at the back but for the few remembered until later
        // (a long reservation, a clock set back), whose positions move up by
        // one, the last first so that no two share a position meanwhile.
        let index = self.queue.partition_point(|(when, _)| *when <= until);
        for later in (index..self.queue.len()).rev() {
            let (_, moved) = self.queue[later];
            let at = self.popped.wrapping_add(later as u32);
            if let Some(position) = self.positions.find_mut(table_hash(moved.bytes()), |&p| p == at) {
                *position = at.wrapping_add(1);
            }
        }
        self.queue.insert(index, (until, digest));
        let position = self.popped.wrapping_add(index as u32);
        let (queue, popped) = (&self.queue, self.popped);
        let rehash = |&at: &u32| table_hash(queue[at.wrapping_sub(popped) as usize].1.bytes());
        self.positions
            .insert_unique(table_hash(digest.bytes()), position, rehash);
        self.drop_stale_front();
    }

    /// Forgets the ids remembered until `until` or earlier.
    pub fn forget_until(&mut self, until: UnixMillis) {
        while self.queue.front().is_some_and(|(when, _)| *when <= until) {
            self.pop_front();
        }
        self.drop_stale_front();
    }

    /// When the first id may be forgotten.
    pub fn first_forget(&self) -> Option<UnixMillis> {
        self.queue.front().map(|(until, _)| *until)
    }

    /// The remembered ids and their times, in no order.
    pub fn iter(&self) -> impl Iterator<Item = (Digest, UnixMillis)> + '_ {
        self.positions.iter().map(|&at| {
            let (until, digest) = *self.entry_at(at);
            (digest, until)
        })
    }

    /// Settled ids as a snapshot holds them, in any order.
    pub fn restore(mut stored: Vec<(Digest, UnixMillis)>) -> Self {
        stored.sort_by_key(|(digest, until)| (*until, *digest));
        let mut settled = Settled::default();
        for (digest, until) in stored {
            settled.remember(digest, until);
        }
        settled
    }

    fn pop_front(&mut self) {
        let Some((_, digest)) = self.queue.front().copied() else {
            return;
        };
        let front = self.popped;
        if let Ok(live) = self.positions.find_entry(table_hash(digest.bytes()), |&at| at == front) {
            live.remove();
        }
        self.queue.pop_front();
        self.popped = self.popped.wrapping_add(1);
    }

    /// Pops stale entries off the front, so that the front is remembered.
    fn drop_stale_front(&mut self) {
        while let Some((_, digest)) = self.queue.front() {
            if self.position_of(*digest) == Some(self.popped) {
                return;
            }
            self.pop_front();
        }
    }

    /// Whether the queue is in time order and every position points to an
    /// entry of its digest, with no digest twice.
    #[cfg(test)]
    pub fn consistent(&self) -> bool {
        let ordered = self
            .queue
            .iter()
            .zip(self.queue.iter().skip(1))
            .all(|(a, b)| a.0 <= b.0);
        let mut digests: Vec<Digest> = self.iter().map(|(digest, _)| digest).collect();
        digests.sort();
        digests.dedup();
        let front_live = self
            .queue
            .front()
            .is_none_or(|(_, digest)| self.position_of(*digest) == Some(self.popped));
        ordered && digests.len() == self.positions.len() && front_live
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_is_remembered_until_its_time_and_once() {
        let mut settled = Settled::default();
        let (a, b, c) = (Digest::of("a"), Digest::of("b"), Digest::of("c"));
        settled.remember(a, 10);
        settled.remember(b, 20);
        settled.remember(a, 30);
        settled.remember(c, 5);
        assert_eq!(settled.len(), 3);
        assert!(settled.consistent());
        assert_eq!(settled.first_forget(), Some(5), "c went in before the later times");
        let mut remembered: Vec<_> = settled.iter().collect();
        remembered.sort();
        let mut expected = vec![(a, 30), (b, 20), (c, 5)];
        expected.sort();
        assert_eq!(remembered, expected, "a's time is its latest");
        settled.forget_until(5);
        assert!(!settled.contains(c) && settled.contains(a) && settled.contains(b));
        assert_eq!(
            settled.first_forget(),
            Some(20),
            "a's first entry went stale and left the front"
        );
        settled.forget_until(20);
        assert!(!settled.contains(b) && settled.contains(a));
        settled.forget_until(30);
        assert!(settled.is_empty() && settled.first_forget().is_none());
        assert!(settled.consistent());
    }

    #[test]
    fn it_agrees_with_a_map_over_many_random_steps_and_across_restores() {
        let mut settled = Settled::default();
        let mut truth: std::collections::BTreeMap<Digest, UnixMillis> = Default::default();
        let mut next = crate::test_rng::xorshift(0x2545_f491_4f6c_dd1d);
        let mut now = 0;
        for step in 0..5_000u64 {
            now += next() % 3;
            match next() % 10 {
                0 => {
                    settled.forget_until(now);
                    truth.retain(|_, until| *until > now);
                }
                1 => settled = Settled::restore(settled.iter().collect()),
                _ => {
                    let digest = Digest::of(&(next() % 500).to_string());
                    // Mostly now plus a constant, sometimes much later (a
                    // long reservation) or earlier (a clock set back).
                    let until = match next() % 20 {
                        0 => now + 5_000,
                        1 => now + 10,
                        _ => now + 100 + next() % 20,
                    };
                    settled.remember(digest, until);
                    truth.insert(digest, until);
                }
            }
            assert!(settled.consistent(), "step {step}");
            let mut remembered: Vec<_> = settled.iter().collect();
            remembered.sort();
            assert_eq!(
                remembered,
                truth.iter().map(|(d, u)| (*d, *u)).collect::<Vec<_>>(),
                "step {step}"
            );
            assert_eq!(settled.first_forget(), truth.values().min().copied(), "step {step}");
            // The truth forgets an id only once its time has passed: never
            // forgotten early is what stops a second sale.
            for digest in truth.keys() {
                assert!(settled.contains(*digest), "step {step}");
            }
        }
    }
}
