//! The snapshot thread: writes entity snapshots and prunes the journal records
//! they make obsolete, away from the group-commit thread.
//!
//! A snapshot can be megabytes for a hot entity, and sled writes it as a blob
//! file; doing that on the commit thread would hold back every other entity's
//! fsync. The commit thread forwards a snapshot here only once the journal record
//! it covers is written, so a snapshot never holds events the journal and the
//! event log lack. A snapshot is written (and flushed under `sync`) before the
//! journal records it covers are removed; a crash in between leaves the previous
//! snapshot and the whole journal, which load to the same state.

use std::sync::mpsc::Receiver;
use std::sync::Arc;

use super::keys;
use super::{Durability, StorageError};

/// A snapshot to write.
pub struct SnapshotJob {
    /// Entity kind.
    pub kind: &'static str,
    /// Entity id.
    pub id: Arc<str>,
    /// The journal sequence number the snapshot covers (inclusive).
    pub covers: u64,
    /// Bincode-encoded entity state.
    pub state: Vec<u8>,
}

/// Runs until every sender of `jobs` is gone.
pub fn run(db: sled::Db, durability: Durability, jobs: Receiver<SnapshotJob>) {
    while let Ok(job) = jobs.recv() {
        if let Err(err) = write(&db, durability, &job) {
            // The journal still holds everything: the entity loads correctly, only slower.
            tracing::error!(kind = job.kind, id = %job.id, error = %err, "snapshot write failed");
        }
    }
    tracing::debug!("snapshot thread exiting");
}

fn write(db: &sled::Db, durability: Durability, job: &SnapshotJob) -> Result<(), StorageError> {
    let key = keys::snapshot_key(job.kind, &job.id);
    let stored = db
        .get(&key)?
        .and_then(|value| keys::split_u64(&value).map(|(seq, _)| seq));
    if stored.is_some_and(|seq| seq >= job.covers) {
        return Ok(());
    }
    let mut value = Vec::with_capacity(8 + job.state.len());
    value.extend_from_slice(&job.covers.to_be_bytes());
    value.extend_from_slice(&job.state);
    db.insert(key, value)?;
    if durability == Durability::Sync {
        db.flush()?;
    }
    let mut prune = sled::Batch::default();
    let obsolete = keys::journal_key(job.kind, &job.id, 0)..=keys::journal_key(job.kind, &job.id, job.covers);
    for item in db.range(obsolete) {
        let (key, _) = item?;
        prune.remove(key);
    }
    db.apply_batch(prune)?;
    Ok(())
}
