//! The ids a SKU settled (committed reservations and returns), each
//! remembered until a time, so that a repeated commit or return changes
//! nothing. Pure.
//!
//! A busy SKU remembers a day of them, one per order line it sold, so each is
//! a 16-byte [`Digest`] in a queue in the order they were remembered, found
//! through a table of 4-byte positions: ~40 bytes an id with the
//! collections' slack, where a map and a time index took ~85 (and the ids as
//! strings twice, ~650). The queue is in time order because a time is never
//! earlier than the one before it (an earlier one is raised to it: remembered
//! a little longer), so forgetting pops from its front.

use std::collections::VecDeque;

use hashbrown::HashTable;

use crate::digest::digest16;
use crate::runtime::UnixMillis;

/// A settled id as the ledger keeps it: the first 16 bytes of its SHA-256
/// (a digest that stays the same across versions, since snapshots hold it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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

    /// Its hash in the table: the digest's own bits.
    fn hash(&self) -> u64 {
        u64::from_le_bytes(self.0[..8].try_into().expect("8 of the 16 bytes"))
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
        let found = self.positions.find(digest.hash(), |&at| self.entry_at(at).1 == digest);
        found.copied()
    }

    /// Whether `digest` is remembered.
    pub fn contains(&self, digest: Digest) -> bool {
        self.position_of(digest).is_some()
    }

    /// Remembers `digest` until `until` (or until the latest time already
    /// remembered, if that is later).
    pub fn remember(&mut self, digest: Digest, until: UnixMillis) {
        let until = self.queue.back().map_or(until, |(latest, _)| until.max(*latest));
        let position = self.popped.wrapping_add(self.queue.len() as u32);
        self.queue.push_back((until, digest));
        let (queue, popped) = (&self.queue, self.popped);
        let entry_at = |at: u32| &queue[at.wrapping_sub(popped) as usize];
        let rehash = |&at: &u32| entry_at(at).1.hash();
        // The new entry is the last with this digest: the match is the older one.
        let older = |&at: &u32| at != position && entry_at(at).1 == digest;
        match self.positions.find_mut(digest.hash(), older) {
            Some(at) => *at = position,
            None => {
                self.positions.insert_unique(digest.hash(), position, rehash);
            }
        }
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
        if let Ok(live) = self.positions.find_entry(digest.hash(), |&at| at == front) {
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
        assert_eq!(
            settled.first_forget(),
            Some(20),
            "a's first entry went stale and left the front"
        );
        let mut remembered: Vec<_> = settled.iter().collect();
        remembered.sort();
        let mut expected = vec![(a, 30), (b, 20), (c, 30)];
        expected.sort();
        assert_eq!(remembered, expected, "c is raised to the latest time");
        settled.forget_until(20);
        assert!(!settled.contains(b) && settled.contains(a) && settled.contains(c));
        settled.forget_until(30);
        assert!(settled.is_empty() && settled.first_forget().is_none());
        assert!(settled.consistent());
    }

    #[test]
    fn it_agrees_with_a_map_over_many_random_steps_and_across_restores() {
        let mut settled = Settled::default();
        let mut truth: std::collections::BTreeMap<Digest, UnixMillis> = Default::default();
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
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
                    let until = now + 100 + next() % 20;
                    settled.remember(digest, until);
                    // Raised to the latest time remembered, its own included.
                    let latest = truth.values().max().copied().unwrap_or(0);
                    truth.insert(digest, until.max(latest));
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
            for (digest, _) in truth.iter() {
                assert!(settled.contains(*digest), "step {step}");
            }
        }
    }
}
