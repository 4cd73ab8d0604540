//! Storage: one sled database, written only by the group-commit thread.
//!
//! An entity's state is its latest snapshot plus the journal records written after
//! it; each journal record holds the events one actor produced between two
//! submissions, so a message costs a few encoded bytes whatever the size of the
//! entity. The key layout is in [`keys`], the commit protocol in [`group_commit`].

pub mod codec;
pub mod disk;
#[cfg(test)]
mod durable_mark;
pub mod event_log;
pub mod group_commit;
pub mod keys;
pub mod shared;
pub mod snapshots;

use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use self::disk::DiskSync;
use self::event_log::LoggedEvents;
use self::group_commit::{GroupCommitter, Submission};
use self::shared::Shared;
use self::snapshots::SnapshotWriter;
use crate::metrics::StorageMetrics;

/// Size a journal or event-log record is cut at. sled 0.34 splits a leaf past
/// 16 entries and writes any node larger than a quarter segment (128 KiB) as a
/// separate blob file on every rewrite; records of a few KiB keep leaves under
/// that, while still packing hundreds of small events into one value.
pub const TARGET_VALUE_BYTES: usize = 4096;

/// Name of the sled tree holding snapshots.
pub(crate) const SNAPSHOT_TREE: &str = "snapshots";
/// The tree of side records.
pub(crate) const SIDE_TREE: &str = "side";

/// Failure of the storage layer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StorageError {
    /// sled refused a read or a write.
    #[error("sled: {0}")]
    Sled(String),
    /// A stored record could not be encoded or decoded.
    #[error("codec: {0}")]
    Codec(String),
    /// The commit thread is gone (shutdown).
    #[error("storage is closed")]
    Closed,
    /// Writes failed and the database is being reopened (the reason).
    #[error("storage cannot write until it recovers: {0}")]
    Unavailable(String),
    /// The disk is full (or over quota): a write failed for want of space.
    #[error("disk full: {0}")]
    Full(String),
}

impl From<sled::Error> for StorageError {
    fn from(err: sled::Error) -> Self {
        match &err {
            sled::Error::Io(io) if is_full(io) => StorageError::Full(err.to_string()),
            _ => StorageError::Sled(err.to_string()),
        }
    }
}

/// Whether an I/O error says the disk is full or the quota used up (ENOSPC,
/// EDQUOT): the one failure storage heals from by itself.
pub fn is_full(err: &std::io::Error) -> bool {
    const ENOSPC: i32 = 28;
    const EDQUOT: i32 = 122;
    err.kind() == std::io::ErrorKind::StorageFull || matches!(err.raw_os_error(), Some(ENOSPC | EDQUOT))
}

/// When a write is acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// Reply after the fsync that covers the write (the default).
    Sync,
    /// Reply at once; sled flushes every `flush_every_ms`. For benchmarks.
    Relaxed,
}

/// The `[storage]` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// Directory of the sled database.
    pub data_dir: PathBuf,
    /// `sync` or `relaxed`.
    pub durability: Durability,
    /// sled page cache size.
    pub cache_capacity_mb: u64,
    /// sled's own periodic flush, what bounds loss in `relaxed` mode.
    pub flush_every_ms: u64,
}

/// A side record: `(key, value)`.
pub type SideRecord = (Vec<u8>, Vec<u8>);

/// What is stored of one entity.
pub struct StoredEntity {
    /// Journal sequence the snapshot covers, and the snapshot.
    pub snapshot: Option<(u64, Vec<u8>)>,
    /// Journal records after the snapshot: `(journal_seq, events)`.
    pub journal: Vec<(u64, sled::IVec)>,
}

/// Handle to the database and its commit thread; cheap to clone.
#[derive(Clone)]
pub struct Storage {
    inner: Arc<Inner>,
}

struct Inner {
    /// The database, while it can be used.
    shared: Arc<Shared>,
    /// Queue of the group-commit thread.
    jobs: Sender<Submission>,
    /// Whether replies wait for the fsync.
    durability: Durability,
}

impl Storage {
    /// Opens (or creates) the database and starts the commit and snapshot threads.
    pub fn open(config: &StorageConfig, metrics: StorageMetrics) -> Result<Self, StorageError> {
        let shared = Arc::new(Shared::open(config)?);
        let next_global_seq = last_global_seq(&shared.handles()?.db)?.map_or(1, |seq| seq + 1);
        shared.made_durable(next_global_seq);
        let durability = config.durability;
        let disk = || match durability {
            Durability::Sync => DiskSync::open(&config.data_dir).map(Some),
            Durability::Relaxed => Ok(None),
        };
        let writer = SnapshotWriter {
            shared: Arc::clone(&shared),
            disk: disk()?,
        };
        let (snapshots, snapshot_jobs) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("mercato-snapshot".into())
            .spawn(move || writer.run(snapshot_jobs))
            .map_err(|err| StorageError::Sled(format!("cannot start the snapshot thread: {err}")))?;
        let (jobs, receiver) = std::sync::mpsc::channel();
        metrics.writable.set(1);
        let committer = GroupCommitter {
            shared: Arc::clone(&shared),
            disk: disk()?,
            next_global_seq,
            metrics,
            snapshots,
        };
        std::thread::Builder::new()
            .name("mercato-commit".into())
            .spawn(move || committer.run(receiver))
            .map_err(|err| StorageError::Sled(format!("cannot start the commit thread: {err}")))?;
        Ok(Storage {
            inner: Arc::new(Inner {
                shared,
                jobs,
                durability,
            }),
        })
    }

    /// Why writes fail now (the database is being reopened); `None`: writable.
    pub fn failure(&self) -> Option<String> {
        self.inner.shared.failure()
    }

    /// The configured durability.
    pub fn durability(&self) -> Durability {
        self.inner.durability
    }

    /// Queues a write; its completion is called once it is durable or failed.
    pub fn submit(&self, submission: Submission) {
        if let Err(refused) = self.inner.jobs.send(submission) {
            (refused.0.done)(Err(StorageError::Closed));
        }
    }

    /// Resolves once everything submitted before it has been written (and flushed
    /// under `sync`).
    pub async fn barrier(&self) -> Result<(), StorageError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.submit(Submission::barrier(Box::new(move |result| {
            let _ = tx.send(result);
        })));
        rx.await.unwrap_or(Err(StorageError::Closed))
    }

    /// Reads an entity's snapshot and the journal written after it.
    pub fn load(&self, kind: &str, id: &str) -> Result<StoredEntity, StorageError> {
        let snapshot = self.load_snapshot(kind, id)?;
        let after = snapshot.as_ref().map_or(0, |(seq, _)| *seq);
        let mut journal = Vec::new();
        for item in self
            .inner
            .shared
            .handles()?
            .db
            .range(keys::journal_key(kind, id, after + 1)..keys::journal_key(kind, id, u64::MAX))
        {
            let (key, value) = item?;
            let seq = keys::journal_seq_of(&key)
                .ok_or_else(|| StorageError::Codec(format!("bad journal key of {kind}/{id}")))?;
            if value.len() < 8 {
                return Err(StorageError::Codec(format!(
                    "short journal record {seq} of {kind}/{id}"
                )));
            }
            journal.push((seq, value.subslice(8, value.len() - 8)));
        }
        Ok(StoredEntity { snapshot, journal })
    }

    fn load_snapshot(&self, kind: &str, id: &str) -> Result<Option<(u64, Vec<u8>)>, StorageError> {
        let snapshots = self.inner.shared.handles()?.snapshots;
        let Some(manifest) = snapshots.get(keys::snapshot_manifest_key(kind, id))? else {
            return Ok(None);
        };
        let (covers, chunks) = snapshots::parse_manifest(&manifest)
            .ok_or_else(|| StorageError::Codec(format!("bad snapshot manifest of {kind}/{id}")))?;
        let mut state = Vec::new();
        let mut found = 0;
        let range = keys::snapshot_chunk_key(kind, id, covers, 0)..keys::snapshot_chunk_key(kind, id, covers, chunks);
        for item in snapshots.range(range) {
            let (_, chunk) = item?;
            state.extend_from_slice(&chunk);
            found += 1;
        }
        if found != chunks {
            return Err(StorageError::Codec(format!(
                "snapshot of {kind}/{id} has {found} of {chunks} chunks"
            )));
        }
        Ok(Some((covers, state)))
    }

    /// Reads up to `limit` event-log entries whose events start at `from_seq`
    /// or later, as far as they are durable (see `shared`).
    pub fn read_event_log(&self, from_seq: u64, limit: usize) -> Result<Vec<LoggedEvents>, StorageError> {
        let durable_until = self.inner.shared.durable_until();
        let db = self.inner.shared.handles()?.db;
        let start = db
            .range(..=keys::event_log_key(from_seq))
            .next_back()
            .transpose()?
            .filter(|(key, _)| key.first() == Some(&keys::EVENT_LOG))
            .map_or(keys::event_log_key(from_seq).to_vec(), |(key, _)| key.to_vec());
        let mut out = Vec::new();
        for item in db.range(start..).take_while(|item| {
            item.as_ref()
                .map_or(true, |(key, _)| key.first() == Some(&keys::EVENT_LOG))
        }) {
            let (_, value) = item?;
            let entries = event_log::parse_record(&value)
                .ok_or_else(|| StorageError::Codec("damaged event log record".into()))?;
            let beyond = entries.iter().any(|entry| entry.first_seq >= durable_until);
            out.extend(entries.into_iter().filter(|entry| {
                entry.first_seq + u64::from(entry.count) > from_seq && entry.first_seq < durable_until
            }));
            if beyond || out.len() >= limit {
                out.truncate(limit);
                break;
            }
        }
        Ok(out)
    }

    /// The latest log entries of entity `kind/id`, newest first: at most
    /// `limit`, looking through the newest `records` log records only (an
    /// entity quiet for long has none there).
    pub fn recent_entries(
        &self,
        kind: &str,
        id: &str,
        limit: usize,
        records: usize,
    ) -> Result<Vec<LoggedEvents>, StorageError> {
        let db = self.inner.shared.handles()?.db;
        let mut found = Vec::new();
        for item in db.scan_prefix([keys::EVENT_LOG]).rev().take(records) {
            let (_, value) = item?;
            let entries = event_log::parse_record(&value)
                .ok_or_else(|| StorageError::Codec("damaged event log record".into()))?;
            found.extend(
                entries
                    .into_iter()
                    .rev()
                    .filter(|entry| entry.kind == kind && entry.id == id),
            );
            if found.len() >= limit {
                found.truncate(limit);
                break;
            }
        }
        Ok(found)
    }

    /// Writes a side record: outside any entity and the event log, not
    /// flushed on its own (sled's periodic flush or the next group commit
    /// makes it durable). For what may be lost in a crash: delivery logs.
    pub fn side_put(&self, key: &[u8], value: &[u8]) -> Result<(), StorageError> {
        self.inner.shared.handles()?.side.insert(key, value)?;
        Ok(())
    }

    /// The side records whose keys start with `prefix`, last key first, at most `limit`.
    pub fn side_latest(&self, prefix: &[u8], limit: usize) -> Result<Vec<SideRecord>, StorageError> {
        let side = self.inner.shared.handles()?.side;
        let mut found = Vec::new();
        for item in side.scan_prefix(prefix).rev().take(limit) {
            let (key, value) = item?;
            found.push((key.to_vec(), value.to_vec()));
        }
        Ok(found)
    }

    /// The side records with keys in `range`, first key first, at most `limit`.
    pub fn side_range(&self, range: std::ops::Range<Vec<u8>>, limit: usize) -> Result<Vec<SideRecord>, StorageError> {
        let side = self.inner.shared.handles()?.side;
        let mut found = Vec::new();
        for item in side.range(range).take(limit) {
            let (key, value) = item?;
            found.push((key.to_vec(), value.to_vec()));
        }
        Ok(found)
    }

    /// Removes the side records with keys in `range`; answers how many went.
    pub fn side_remove(&self, range: std::ops::Range<Vec<u8>>) -> Result<usize, StorageError> {
        let side = self.inner.shared.handles()?.side;
        let mut removed = 0;
        for item in side.range(range) {
            let (key, _) = item?;
            side.remove(key)?;
            removed += 1;
        }
        Ok(removed)
    }

    /// The sequence number of the last durable event in the log, if any.
    pub fn last_event_seq(&self) -> Result<Option<u64>, StorageError> {
        let durable_until = self.inner.shared.durable_until();
        let last = last_global_seq(&self.inner.shared.handles()?.db)?;
        Ok(last
            .map(|seq| seq.min(durable_until.saturating_sub(1)))
            .filter(|seq| *seq > 0))
    }

    /// Waits for queued writes, then flushes sled: the last step of a shutdown.
    pub async fn shutdown(&self, timeout: Duration) -> Result<(), StorageError> {
        tokio::time::timeout(timeout, self.barrier())
            .await
            .map_err(|_| StorageError::Sled("timed out waiting for the commit queue".into()))??;
        self.inner.shared.handles()?.db.flush_async().await?;
        Ok(())
    }
}

pub(crate) fn last_global_seq(db: &sled::Db) -> Result<Option<u64>, StorageError> {
    let Some(item) = db.scan_prefix([keys::EVENT_LOG]).next_back() else {
        return Ok(None);
    };
    let (_, value) = item?;
    let entries =
        event_log::parse_record(&value).ok_or_else(|| StorageError::Codec("damaged event log record".into()))?;
    Ok(entries
        .iter()
        .map(|entry| entry.first_seq + u64::from(entry.count) - 1)
        .max())
}
