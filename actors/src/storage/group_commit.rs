//! The group-commit thread: the only place that writes to sled and the only place
//! that waits for an fsync.
//!
//! Actors hand it [`Submission`]s over a channel and go on with their mailboxes.
//! The thread takes everything queued (up to [`MAX_GROUP`]), writes it as one
//! atomic sled batch (entity journals, snapshots and the global event log
//! together), flushes once when durability is `sync`, and only then calls each
//! submission's completion. One fsync thus acknowledges every message that reached
//! the queue while the previous fsync was running.

use std::sync::mpsc::Receiver;
use std::time::Instant;

use super::event_log;
use super::keys;
use super::{Durability, StorageError, TARGET_VALUE_BYTES};
use crate::metrics::StorageMetrics;

/// Most submissions written in one batch: bounds the latency of the first one.
pub const MAX_GROUP: usize = 4096;

/// Called once the submission is durable (or failed); runs on the commit thread,
/// so it must only hand the result on.
pub type Completion = Box<dyn FnOnce(Result<(), StorageError>) + Send>;

/// What one entity asks to have written.
pub struct Submission {
    /// Entity kind.
    pub kind: &'static str,
    /// Entity id.
    pub id: std::sync::Arc<str>,
    /// The entity's journal sequence number for this record.
    pub journal_seq: u64,
    /// Bincode-encoded events, concatenated; empty for a barrier.
    pub events: Vec<u8>,
    /// Number of events in `events`.
    pub event_count: u32,
    /// A snapshot that covers everything up to and including `journal_seq`.
    pub snapshot: Option<SnapshotWrite>,
    /// Told when the write is durable.
    pub done: Completion,
}

/// A snapshot replacing the journal records `prune_from..journal_seq`.
pub struct SnapshotWrite {
    /// Bincode-encoded entity state.
    pub state: Vec<u8>,
    /// First journal record the snapshot makes obsolete.
    pub prune_from: u64,
}

impl Submission {
    /// A submission that writes nothing and completes after everything before it.
    pub fn barrier(done: Completion) -> Self {
        Submission {
            kind: "",
            id: std::sync::Arc::from(""),
            journal_seq: 0,
            events: Vec::new(),
            event_count: 0,
            snapshot: None,
            done,
        }
    }

    fn writes_anything(&self) -> bool {
        self.event_count > 0 || self.snapshot.is_some()
    }
}

/// State of the commit thread.
pub struct GroupCommitter {
    /// The database every batch goes to.
    pub db: sled::Db,
    /// Whether to fsync before completing.
    pub durability: Durability,
    /// Next global event sequence number to hand out.
    pub next_global_seq: u64,
    /// Flush timing and batch sizes.
    pub metrics: StorageMetrics,
}

impl GroupCommitter {
    /// Runs until every sender of `jobs` is gone.
    pub fn run(mut self, jobs: Receiver<Submission>) {
        let mut group = Vec::with_capacity(64);
        while let Ok(first) = jobs.recv() {
            group.push(first);
            while group.len() < MAX_GROUP {
                match jobs.try_recv() {
                    Ok(next) => group.push(next),
                    Err(_) => break,
                }
            }
            let result = self.write_group(&group);
            if let Err(err) = &result {
                tracing::error!(error = %err, submissions = group.len(), "group commit failed");
            }
            for submission in group.drain(..) {
                (submission.done)(result.clone());
            }
        }
        tracing::debug!("group commit thread exiting");
    }

    fn write_group(&mut self, group: &[Submission]) -> Result<(), StorageError> {
        if !group.iter().any(Submission::writes_anything) {
            return Ok(());
        }
        let started = Instant::now();
        let mut batch = sled::Batch::default();
        let mut records = 0usize;
        // The event log is cut into records of about TARGET_VALUE_BYTES each.
        let mut log_first_seq = self.next_global_seq;
        let mut log_record = Vec::new();
        for submission in group.iter().filter(|s| s.writes_anything()) {
            let first_seq = self.next_global_seq;
            if log_record.len() >= TARGET_VALUE_BYTES {
                batch.insert(&keys::event_log_key(log_first_seq)[..], std::mem::take(&mut log_record));
                records += 1;
                log_first_seq = first_seq;
            }
            self.next_global_seq += u64::from(submission.event_count);
            match &submission.snapshot {
                Some(snapshot) => {
                    let mut value = Vec::with_capacity(8 + snapshot.state.len());
                    value.extend_from_slice(&submission.journal_seq.to_be_bytes());
                    value.extend_from_slice(&snapshot.state);
                    batch.insert(keys::snapshot_key(submission.kind, &submission.id), value);
                    for seq in snapshot.prune_from..submission.journal_seq {
                        batch.remove(keys::journal_key(submission.kind, &submission.id, seq));
                    }
                    records += 1 + (submission.journal_seq - snapshot.prune_from) as usize;
                }
                None => {
                    let mut value = Vec::with_capacity(8 + submission.events.len());
                    value.extend_from_slice(&first_seq.to_be_bytes());
                    value.extend_from_slice(&submission.events);
                    let key = keys::journal_key(submission.kind, &submission.id, submission.journal_seq);
                    batch.insert(key, value);
                    records += 1;
                }
            }
            if submission.event_count > 0 {
                event_log::push_entry(
                    &mut log_record,
                    submission.kind,
                    &submission.id,
                    first_seq,
                    submission.event_count,
                    &submission.events,
                );
            }
        }
        if !log_record.is_empty() {
            batch.insert(&keys::event_log_key(log_first_seq)[..], log_record);
            records += 1;
        }
        self.db.apply_batch(batch)?;
        if self.durability == Durability::Sync {
            self.db.flush()?;
        }
        self.metrics.flush_seconds.observe(started.elapsed().as_secs_f64());
        self.metrics.batch_records.observe(records as f64);
        Ok(())
    }
}
