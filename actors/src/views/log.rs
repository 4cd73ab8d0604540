//! The view log: product views, too many for the domain event log (every
//! reader of that log would read them), kept as batches in the side tree
//! under their own prefix. A batch's key is the time of its first entry and
//! a counter, so the oldest batches go first when retention trims the log.
//! A batch is durable once the next group commit flushes (the writer asks
//! for one); a crash may lose the views of the last moment, never an order.

use std::collections::VecDeque;

use crate::storage::{codec, Storage, StorageError};

use super::recent::Entry;

/// The prefix of every view-log key in the side tree.
const PREFIX: &[u8] = b"views\0";
/// Batches read per step while replaying the log.
const REPLAY_STEP: usize = 256;

/// A batch's key: prefix, time of its first entry, counter.
fn key(at_ms: u64, counter: u64) -> Vec<u8> {
    [PREFIX, &at_ms.to_be_bytes(), &counter.to_be_bytes()].concat()
}

/// What a key says: time of the batch's first entry, counter.
fn parse_key(key: &[u8]) -> Option<(u64, u64)> {
    let rest = key.strip_prefix(PREFIX)?;
    let at = u64::from_be_bytes(rest.get(..8)?.try_into().ok()?);
    let counter = u64::from_be_bytes(rest.get(8..16)?.try_into().ok()?);
    Some((at, counter))
}

/// A batch kept: its key and how many entries it holds.
#[derive(Debug, Clone, Copy)]
struct Kept {
    at_ms: u64,
    counter: u64,
    entries: u64,
}

/// Writes batches and trims the oldest; knows what the log holds.
pub struct ViewLog {
    storage: Storage,
    /// Every batch in the log, oldest first.
    kept: VecDeque<Kept>,
    /// Entries in `kept`.
    entries: u64,
    /// The counter of the next batch.
    next_counter: u64,
}

impl ViewLog {
    /// Reads the whole log, oldest first, handing every entry to `each`.
    pub fn replay(storage: Storage, mut each: impl FnMut(Entry)) -> Result<Self, StorageError> {
        let mut log = ViewLog {
            storage,
            kept: VecDeque::new(),
            entries: 0,
            next_counter: 0,
        };
        let mut from = key(0, 0);
        loop {
            let batches = log
                .storage
                .side_range(from.clone()..key(u64::MAX, u64::MAX), REPLAY_STEP)?;
            let Some((last, _)) = batches.last() else {
                return Ok(log);
            };
            from = [last.as_slice(), &[0]].concat();
            for (batch_key, value) in &batches {
                let Some((at_ms, counter)) = parse_key(batch_key) else {
                    continue;
                };
                let count = match codec::decode_all::<Entry>(value, &mut each) {
                    Ok(count) => count as u64,
                    Err(err) => {
                        tracing::error!(at_ms, counter, error = %err, "view batch not readable; skipped");
                        0
                    }
                };
                log.remember(at_ms, counter, count);
            }
        }
    }

    fn remember(&mut self, at_ms: u64, counter: u64, entries: u64) {
        self.kept.push_back(Kept {
            at_ms,
            counter,
            entries,
        });
        self.entries += entries;
        self.next_counter = self.next_counter.max(counter + 1);
    }

    /// Appends one batch, keyed by `at_ms` (never before the last batch's).
    pub fn append(&mut self, at_ms: u64, batch: &[Entry]) -> Result<(), StorageError> {
        let at_ms = self.kept.back().map_or(at_ms, |last| last.at_ms.max(at_ms));
        let mut value = Vec::with_capacity(batch.len() * 32);
        for entry in batch {
            codec::encode_into(entry, &mut value)?;
        }
        self.storage.side_put(&key(at_ms, self.next_counter), &value)?;
        self.remember(at_ms, self.next_counter, batch.len() as u64);
        Ok(())
    }

    /// Removes the batches that start before `cutoff_ms`, then the oldest
    /// while the log holds more than `max_entries`; answers the entries removed.
    pub fn trim(&mut self, cutoff_ms: u64, max_entries: u64) -> Result<u64, StorageError> {
        let mut removed = 0;
        let mut end = None;
        while let Some(oldest) = self.kept.front().copied() {
            if oldest.at_ms >= cutoff_ms && self.entries <= max_entries {
                break;
            }
            self.kept.pop_front();
            self.entries -= oldest.entries;
            removed += oldest.entries;
            end = Some(key(oldest.at_ms, oldest.counter + 1));
        }
        if let Some(end) = end {
            self.storage.side_remove(key(0, 0)..end)?;
        }
        Ok(removed)
    }

    /// Entries the log holds.
    pub fn entries(&self) -> u64 {
        self.entries
    }
}
