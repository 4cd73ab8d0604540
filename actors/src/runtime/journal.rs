//! An actor's journal writer: the events and replies of the messages handled since
//! the last submission, and the rule for when a reply may leave.
//!
//! Under `sync` durability a reply waits for the group commit that covers every
//! write the actor made before it — its own, and earlier ones a read or a refusal
//! might have observed. Replies of messages that found everything durable leave at
//! once. Under `relaxed` every reply leaves at once.
//!
//! Once a submission failed, nothing more is written or answered from this
//! state: later records would be built on events storage does not have (and,
//! storage reopening itself in between, could land on top of the gap). Pending
//! events are dropped and replies answer `Restarting` until the actor has
//! reloaded from storage ([`Journal::resume_at`]).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::oneshot;

use super::ActorError;
use crate::storage::group_commit::Submission;
use crate::storage::{codec, Durability, Storage, StorageError, TARGET_VALUE_BYTES};

/// Journal bytes written between two snapshots, as a multiple of the last
/// snapshot's size: snapshots then cost at most 1/this of the journal's bytes
/// (amortized O(1) per event), and a load replays at most this many times the
/// snapshot's size.
pub const SNAPSHOT_GROWTH_FACTOR: usize = 4;

/// Where a reply goes.
pub type ReplyTo<R> = oneshot::Sender<Result<R, ActorError>>;

/// Position in the pending buffer, to drop what a failed message recorded.
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    bytes: usize,
    count: u32,
}

/// Where the journal of a loaded entity stands. Sizes are kept in 32 bits
/// (saturating) to keep every live actor small: a snapshot is far below 4 GiB,
/// and a saturated byte count makes a snapshot due.
#[derive(Debug, Clone, Copy, Default)]
pub struct JournalPosition {
    /// Next journal sequence number to write.
    pub next_seq: u64,
    /// Journal sequence number the stored snapshot covers (0: none).
    pub snapshot_seq: u64,
    /// Size of the stored snapshot.
    pub snapshot_len: u32,
    /// Journal bytes written since the snapshot.
    pub bytes_since_snapshot: u32,
}

/// A byte count as stored in a [`JournalPosition`].
pub fn saturating_u32(bytes: usize) -> u32 {
    u32::try_from(bytes).unwrap_or(u32::MAX)
}

/// Where a journal's submissions go: the entity, the storage, and when a
/// snapshot is due. Passed in rather than kept, since every live actor would
/// otherwise carry copies of what its kind shares.
pub struct Destination<'a> {
    /// The entity kind.
    pub kind: &'static str,
    /// The entity id.
    pub id: &'a Arc<str>,
    /// Where the records go.
    pub storage: &'a Storage,
    /// Smallest number of journal bytes between two snapshots.
    pub snapshot_min_bytes: usize,
}

/// How far an actor's submissions have got; shared with the commit thread.
#[derive(Default)]
struct Progress {
    /// Number of the last submission handed to storage (written by the actor only).
    submitted: AtomicU64,
    /// Number of the last submission storage completed; written by the commit thread.
    durable: AtomicU64,
    /// Set by the commit thread when a submission failed; cleared by a reload.
    failed: AtomicBool,
}

/// Pending writes and replies of one actor.
pub struct Journal<R> {
    position: JournalPosition,
    /// Events recorded since the last submission, bincode-encoded.
    pending: Vec<u8>,
    pending_count: u32,
    /// Replies that wait for the next submission to be durable.
    waiting: Vec<(ReplyTo<R>, R)>,
    /// Created by the first submission: most activations only read.
    progress: Option<Arc<Progress>>,
}

impl<R> Default for Journal<R> {
    fn default() -> Self {
        Journal {
            position: JournalPosition::default(),
            pending: Vec::new(),
            pending_count: 0,
            waiting: Vec::new(),
            progress: None,
        }
    }
}

impl<R: Send + 'static> Journal<R> {
    /// Continues after a (re)load found the stored journal at `position`.
    pub fn resume_at(&mut self, position: JournalPosition) {
        debug_assert!(self.pending.is_empty() && self.waiting.is_empty());
        self.position = position;
        if let Some(progress) = &self.progress {
            progress.failed.store(false, Ordering::Release);
        }
    }

    /// Whether a submission failed since the last reload.
    fn failed(&self) -> bool {
        self.progress
            .as_ref()
            .is_some_and(|progress| progress.failed.load(Ordering::Acquire))
    }

    /// The current end of the pending buffer.
    pub fn mark(&self) -> Mark {
        Mark {
            bytes: self.pending.len(),
            count: self.pending_count,
        }
    }

    /// Forgets what was recorded after `mark`.
    pub fn rollback(&mut self, mark: Mark) {
        self.pending.truncate(mark.bytes);
        self.pending_count = mark.count;
    }

    /// Appends one event to the pending record.
    pub fn record<E: Serialize>(&mut self, event: &E) -> Result<(), StorageError> {
        codec::encode_into(event, &mut self.pending)?;
        self.pending_count += 1;
        Ok(())
    }

    /// Number of messages whose replies or events wait for the next submission.
    pub fn backlog(&self) -> usize {
        self.waiting.len().max(self.pending_count as usize)
    }

    /// Whether the pending record has reached the size records are cut at.
    pub fn record_full(&self) -> bool {
        self.pending.len() >= TARGET_VALUE_BYTES
    }

    /// Whether everything this journal recorded is durable (nothing pending,
    /// every submission completed).
    pub fn all_durable(&self) -> bool {
        self.pending_count == 0
            && self.waiting.is_empty()
            && self.progress.as_ref().is_none_or(|progress| {
                // `durable` first: the commit thread marks a failure before it
                // advances `durable`, so a completed submission read here makes
                // its failure visible below (read the other way round, a failure
                // landing between the two reads would pass for durable).
                progress.durable.load(Ordering::Acquire) >= progress.submitted.load(Ordering::Relaxed)
                    && !progress.failed.load(Ordering::Acquire)
            })
    }

    /// Sends `reply` now if nothing it may have seen is still undurable, else
    /// holds it for the next submission.
    pub fn reply(&mut self, to: ReplyTo<R>, reply: R, durability: Durability) {
        if self.failed() {
            let _ = to.send(Err(ActorError::Restarting));
        } else if durability == Durability::Relaxed || self.all_durable() {
            let _ = to.send(Ok(reply));
        } else {
            self.waiting.push((to, reply));
        }
    }

    /// Hands pending events and waiting replies to storage. `state` is encoded as a
    /// snapshot once enough journal bytes have piled up since the last one (see
    /// [`SNAPSHOT_GROWTH_FACTOR`]).
    /// `on_failure` runs (on the commit thread) if the write fails.
    pub fn submit<S: Serialize>(
        &mut self,
        to: Destination<'_>,
        state: Option<&S>,
        on_failure: impl FnOnce(StorageError) + Send + 'static,
    ) {
        if self.pending_count == 0 && self.waiting.is_empty() {
            return;
        }
        if self.failed() {
            self.rollback(Mark { bytes: 0, count: 0 });
            for (to, _) in self.waiting.drain(..) {
                let _ = to.send(Err(ActorError::Restarting));
            }
            return;
        }
        let mut journal_seq = 0;
        let mut snapshot = None;
        if self.pending_count > 0 {
            journal_seq = self.position.next_seq;
            self.position.next_seq += 1;
            let written = saturating_u32(self.pending.len());
            self.position.bytes_since_snapshot = self.position.bytes_since_snapshot.saturating_add(written);
            let threshold = (self.position.snapshot_len as usize).saturating_mul(SNAPSHOT_GROWTH_FACTOR);
            // A saturated count is due whatever the threshold (which may lie past it).
            let due = self.position.bytes_since_snapshot == u32::MAX
                || self.position.bytes_since_snapshot as usize >= to.snapshot_min_bytes.max(threshold);
            if let (true, Some(state)) = (due, state) {
                let mut bytes = Vec::with_capacity(self.position.snapshot_len as usize + 64);
                if codec::encode_into(state, &mut bytes).is_ok() {
                    self.position.snapshot_seq = journal_seq;
                    self.position.snapshot_len = saturating_u32(bytes.len());
                    self.position.bytes_since_snapshot = 0;
                    snapshot = Some(bytes);
                }
            }
        }
        let progress = Arc::clone(self.progress.get_or_insert_with(Arc::default));
        let ticket = progress.submitted.fetch_add(1, Ordering::Relaxed) + 1;
        let waiting = std::mem::take(&mut self.waiting);
        let events = std::mem::take(&mut self.pending);
        let event_count = std::mem::replace(&mut self.pending_count, 0);
        to.storage.submit(Submission {
            kind: to.kind,
            id: Arc::clone(to.id),
            journal_seq,
            events,
            event_count,
            snapshot,
            done: Box::new(move |result| {
                if result.is_err() {
                    progress.failed.store(true, Ordering::Release);
                }
                progress.durable.fetch_max(ticket, Ordering::AcqRel);
                match result {
                    Ok(()) => {
                        for (to, reply) in waiting {
                            let _ = to.send(Ok(reply));
                        }
                    }
                    Err(err) => {
                        for (to, _) in waiting {
                            let _ = to.send(Err(ActorError::Storage(err.clone())));
                        }
                        on_failure(err);
                    }
                }
            }),
        });
    }
}
