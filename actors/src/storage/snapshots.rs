//! The snapshot thread: writes entity snapshots and prunes what they make
//! obsolete, away from the group-commit thread.
//!
//! A snapshot can be megabytes for a hot entity. Written as one sled value it
//! would become a blob file rewritten with its leaf, and a batch holding it would
//! hold sled's global write lock for as long; so snapshots live in their own tree,
//! cut into chunks of about `TARGET_VALUE_BYTES`, inserted one by one, and made
//! current by a manifest written last.
//!
//! The commit thread forwards a snapshot only once the journal record it covers is
//! written, so a snapshot never holds events the journal and the event log lack.
//! Older chunks and the journal records the snapshot covers are removed only after
//! the manifest is written (and flushed under `sync`); a crash in between leaves
//! a previous snapshot and the whole journal, which load to the same state.

use std::sync::mpsc::Receiver;
use std::sync::Arc;

use super::disk::DiskSync;
use super::keys;
use super::shared::{close, Handles, Shared};
use super::{StorageError, TARGET_VALUE_BYTES};

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

/// Where snapshots go.
pub struct SnapshotWriter {
    /// The database (taken for each snapshot: none is held across a reopen).
    pub shared: Arc<Shared>,
    /// Set under sync durability: the manifest is flushed and fsynced before pruning.
    pub disk: Option<DiskSync>,
}

/// Reads the manifest value: which snapshot is current and how many chunks it has.
pub fn parse_manifest(value: &[u8]) -> Option<(u64, u32)> {
    let (covers, rest) = keys::split_u64(value)?;
    Some((covers, u32::from_be_bytes(rest.try_into().ok()?)))
}

impl SnapshotWriter {
    /// Runs until every sender of `jobs` is gone.
    pub fn run(mut self, jobs: Receiver<SnapshotJob>) {
        while let Ok(job) = jobs.recv() {
            let written = self.shared.handles().and_then(|handles| {
                let written = self.write(&handles, &job);
                close(Some(handles));
                written
            });
            if let Err(err) = written {
                // The journal still holds everything: the entity loads correctly, only slower.
                tracing::error!(kind = job.kind, id = %job.id, error = %err, "snapshot write failed");
            }
        }
        tracing::debug!("snapshot thread exiting");
    }

    fn write(&mut self, handles: &Handles, job: &SnapshotJob) -> Result<(), StorageError> {
        let (kind, id, covers) = (job.kind, &*job.id, job.covers);
        let Handles {
            db, snapshots: tree, ..
        } = handles;
        let manifest_key = keys::snapshot_manifest_key(kind, id);
        let current = tree.get(&manifest_key)?.and_then(|value| parse_manifest(&value));
        if current.is_some_and(|(current, _)| current >= covers) {
            return Ok(());
        }
        let mut chunks = 0u32;
        for chunk in job.state.chunks(TARGET_VALUE_BYTES) {
            tree.insert(keys::snapshot_chunk_key(kind, id, covers, chunks), chunk)?;
            chunks += 1;
        }
        let mut manifest = covers.to_be_bytes().to_vec();
        manifest.extend_from_slice(&chunks.to_be_bytes());
        tree.insert(manifest_key, manifest)?;
        if let Some(disk) = &mut self.disk {
            db.flush()?;
            disk.sync()?;
        }
        for item in tree.scan_prefix(keys::snapshot_chunk_prefix(kind, id)) {
            let (key, _) = item?;
            if keys::snapshot_chunk_covers(&key).is_some_and(|of| of < covers) {
                tree.remove(key)?;
            }
        }
        for item in db.range(keys::journal_key(kind, id, 0)..=keys::journal_key(kind, id, covers)) {
            let (key, _) = item?;
            db.remove(key)?;
        }
        Ok(())
    }
}
