//! The group-commit thread: the only place that writes to sled and the only place
//! that waits for an fsync.
//!
//! Actors hand it [`Submission`]s over a channel and go on with their mailboxes.
//! The thread takes everything queued (up to [`MAX_GROUP`]), writes it as one
//! atomic sled batch (entity journals and the global event log
//! together), flushes once when durability is `sync`, and only then calls each
//! submission's completion. One fsync thus acknowledges every message that reached
//! the queue while the previous fsync was running.
//!
//! When a group fails (a full disk, an I/O error), its submissions fail, and the
//! thread reopens the database (see `shared`) until a probe write is durable,
//! answering whatever is submitted meanwhile with [`StorageError::Unavailable`]
//! at once; then writes go on, without a restart.

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::disk::DiskSync;
use super::event_log;
use super::keys;
use super::shared::{close, Handles, Shared};
use super::snapshots::SnapshotJob;
use super::{StorageError, TARGET_VALUE_BYTES};
use crate::metrics::StorageMetrics;

/// Most submissions written in one batch: bounds the latency of the first one.
pub const MAX_GROUP: usize = 4096;
/// First and longest wait between two attempts to reopen a failed database.
const REOPEN_WAIT: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(5));

/// Called once the submission is durable (or failed); runs on the commit thread,
/// so it must only hand the result on.
pub type Completion = Box<dyn FnOnce(Result<(), StorageError>) + Send>;

/// What one entity asks to have written.
pub struct Submission {
    /// Entity kind.
    pub kind: &'static str,
    /// Entity id.
    pub id: Arc<str>,
    /// The entity's journal sequence number for this record.
    pub journal_seq: u64,
    /// Bincode-encoded events, concatenated; empty for a barrier.
    pub events: Vec<u8>,
    /// Number of events in `events`.
    pub event_count: u32,
    /// Bincode-encoded entity state covering everything up to and including
    /// `journal_seq`, handed to the snapshot thread once the record is written.
    pub snapshot: Option<Vec<u8>>,
    /// Told when the write is durable.
    pub done: Completion,
}

impl Submission {
    /// A submission that writes nothing and completes after everything before it.
    pub fn barrier(done: Completion) -> Self {
        Submission {
            kind: "",
            id: Arc::from(""),
            journal_seq: 0,
            events: Vec::new(),
            event_count: 0,
            snapshot: None,
            done,
        }
    }

    fn writes_anything(&self) -> bool {
        self.event_count > 0
    }
}

/// State of the commit thread.
pub struct GroupCommitter {
    /// The database every batch goes to.
    pub shared: Arc<Shared>,
    /// Set under sync durability: what to fsync after each flush, before completing.
    pub disk: Option<DiskSync>,
    /// Next global event sequence number to hand out.
    pub next_global_seq: u64,
    /// Flush timing and batch sizes.
    pub metrics: StorageMetrics,
    /// Queue of the snapshot thread.
    pub snapshots: Sender<SnapshotJob>,
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
            let result = self
                .shared
                .handles()
                .and_then(|handles| self.write_group(&handles, &group));
            if let Err(err) = &result {
                // The group's sequence numbers are not handed out again: the batch
                // may be applied even though its flush failed. The log has a gap.
                tracing::error!(error = %err, submissions = group.len(), "group commit failed");
            }
            if result.is_ok() {
                self.shared.made_durable(self.next_global_seq);
            }
            let failed = result.as_ref().err().cloned();
            for mut submission in group.drain(..) {
                if let (Ok(()), Some(state)) = (&result, submission.snapshot.take()) {
                    let (kind, id, covers) = (submission.kind, Arc::clone(&submission.id), submission.journal_seq);
                    let _ = self.snapshots.send(SnapshotJob {
                        kind,
                        id,
                        covers,
                        state,
                    });
                }
                (submission.done)(result.clone());
            }
            let going_on = match failed {
                None => true,
                Some(StorageError::Full(reason)) => self.recover(&jobs, reason),
                Some(err) => {
                    self.refuse_for_good(&jobs, err);
                    false
                }
            };
            if !going_on {
                break;
            }
        }
        tracing::debug!("group commit thread exiting");
    }

    /// After an I/O error other than a full disk the file's contents cannot be
    /// trusted (the kernel may have dropped the pages it failed to write and
    /// kept serving them from memory): storage stays unavailable, every
    /// submission is refused, and `/readyz` says to check the disk and restart.
    fn refuse_for_good(&mut self, jobs: &Receiver<Submission>, err: StorageError) {
        self.metrics.writable.set(0);
        self.metrics.write_failures.inc();
        let reason = format!("{err}; not retried: check the disk, then restart");
        tracing::error!(%reason, "storage failed for good");
        self.shared.fail(reason.clone());
        while let Ok(submission) = jobs.recv() {
            (submission.done)(Err(StorageError::Unavailable(reason.clone())));
        }
    }

    /// The disk was full: reopens the database until a probe write is durable,
    /// answering every submission meanwhile with `Unavailable`; `false` if the
    /// queue closed.
    fn recover(&mut self, jobs: &Receiver<Submission>, mut reason: String) -> bool {
        self.metrics.writable.set(0);
        self.metrics.write_failures.inc();
        let mut wait = REOPEN_WAIT.0;
        loop {
            self.shared.fail(reason.clone());
            let retry_at = Instant::now() + wait;
            while let Some(left) = retry_at.checked_duration_since(Instant::now()) {
                match jobs.recv_timeout(left) {
                    Ok(submission) => (submission.done)(Err(StorageError::Unavailable(reason.clone()))),
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => return false,
                }
            }
            match self.reopen() {
                Ok(handles) => {
                    self.shared.recovered(handles);
                    self.metrics.writable.set(1);
                    tracing::info!("storage writable again");
                    return true;
                }
                Err(err) => {
                    tracing::warn!(error = %err, retry_in = ?wait, "storage still cannot write");
                    reason = err.to_string();
                    wait = (wait * 2).min(REOPEN_WAIT.1);
                }
            }
        }
    }

    /// Opens the database again and writes a probe record through it, durably.
    fn reopen(&mut self) -> Result<Handles, StorageError> {
        let handles = self.shared.reopen()?;
        match self.probe(&handles) {
            Ok(()) => Ok(handles),
            Err(err) => {
                close(Some(handles));
                Err(err)
            }
        }
    }

    fn probe(&mut self, handles: &Handles) -> Result<(), StorageError> {
        // Never hand out a number again, even one the failed group may have
        // shown a reader before it failed.
        let next = super::last_global_seq(&handles.db)?.map_or(1, |seq| seq + 1);
        self.next_global_seq = self.next_global_seq.max(next);
        let now = crate::runtime::now_millis().to_be_bytes();
        handles.db.insert(keys::PROBE, &now)?;
        handles.db.flush()?;
        if let Some(disk) = &mut self.disk {
            disk.sync()?;
        }
        // What the reopened file holds is durable now.
        self.shared.made_durable(self.next_global_seq);
        Ok(())
    }

    fn write_group(&mut self, handles: &Handles, group: &[Submission]) -> Result<(), StorageError> {
        if !group.iter().any(Submission::writes_anything) {
            // Barriers alone still flush (under sync), so that side records
            // written before them are durable when they complete.
            if let Some(disk) = &mut self.disk {
                handles.db.flush()?;
                disk.sync()?;
            }
            return Ok(());
        }
        let started = Instant::now();
        let mut batch = sled::Batch::default();
        let mut records = 0usize;
        // The event log is cut into records of about TARGET_VALUE_BYTES each.
        let mut log_first_seq = self.next_global_seq;
        let mut log_record = Vec::new();
        let written_at = crate::runtime::now_millis();
        for submission in group.iter().filter(|s| s.writes_anything()) {
            let first_seq = self.next_global_seq;
            if log_record.len() >= TARGET_VALUE_BYTES {
                batch.insert(&keys::event_log_key(log_first_seq)[..], std::mem::take(&mut log_record));
                records += 1;
                log_first_seq = first_seq;
            }
            self.next_global_seq += u64::from(submission.event_count);
            let mut value = Vec::with_capacity(8 + submission.events.len());
            value.extend_from_slice(&first_seq.to_be_bytes());
            value.extend_from_slice(&submission.events);
            batch.insert(
                keys::journal_key(submission.kind, &submission.id, submission.journal_seq),
                value,
            );
            records += 1;
            if log_record.is_empty() {
                event_log::start_record(&mut log_record, written_at);
            }
            event_log::push_entry(
                &mut log_record,
                submission.kind,
                &submission.id,
                first_seq,
                submission.event_count,
                &submission.events,
            );
        }
        if !log_record.is_empty() {
            batch.insert(&keys::event_log_key(log_first_seq)[..], log_record);
            records += 1;
        }
        handles.db.apply_batch(batch)?;
        if let Some(disk) = &mut self.disk {
            handles.db.flush()?;
            disk.sync()?;
        }
        self.metrics.flush_seconds.observe(started.elapsed().as_secs_f64());
        self.metrics.batch_records.observe(records as f64);
        Ok(())
    }
}
