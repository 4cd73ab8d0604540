//! The sled database as the storage threads and readers share it, and its
//! reopening after a write failure.
//!
//! sled 0.34 fails every later operation once one I/O failed (a disk full, an
//! EIO): its error is sticky until the database is opened again. So when a
//! group commit fails, the commit thread drops the shared handles (readers then
//! get [`StorageError::Unavailable`] at once instead of sled's stale error),
//! and reopens sled until a probe write is durable again; meanwhile the reason
//! is what `/readyz` reports. Nothing else keeps a handle for longer than one
//! read or one snapshot, so the old database closes (and releases its file
//! lock) before the new one opens.
//!
//! A batch is visible to readers once applied, before its fsync. What leaves
//! the process or outlives a crash must not be read that early (an event
//! published, then lost with its batch and its sequence number handed out
//! again): readers of the event log see it up to the durable mark only, which
//! the commit thread moves after each durable batch ([`Shared::made_durable`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};

use super::{Durability, StorageConfig, StorageError, SIDE_TREE, SNAPSHOT_TREE};

/// An open database: the default tree, the snapshots tree and the side tree.
#[derive(Clone)]
pub struct Handles {
    /// Journals and the event log.
    pub db: sled::Db,
    /// Snapshots.
    pub snapshots: sled::Tree,
    /// Records outside entities and the event log (see `Storage::side_put`).
    pub side: sled::Tree,
}

/// The database slot and why it is empty.
pub struct Shared {
    config: StorageConfig,
    handles: RwLock<Option<Handles>>,
    /// Why writes fail now; `None`: writable.
    failure: Mutex<Option<String>>,
    /// The first global sequence number not yet durable.
    durable_until: AtomicU64,
}

/// Drops `handles`. sled's log, closing after an I/O error sled itself did not
/// see (our fsync failed), syncs again and unwraps the result: that panic must
/// not take the thread that closes it with it.
pub fn close(handles: Option<Handles>) {
    let closed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(handles)));
    if closed.is_err() {
        tracing::error!("sled panicked while closing after a failed write; reopening it anyway");
    }
}

fn open_handles(config: &StorageConfig) -> Result<Handles, StorageError> {
    let flush_every = match config.durability {
        Durability::Sync => None,
        Durability::Relaxed => Some(config.flush_every_ms.max(1)),
    };
    let db = sled::Config::new()
        .path(&config.data_dir)
        .cache_capacity(config.cache_capacity_mb * 1024 * 1024)
        .flush_every_ms(flush_every)
        .open()?;
    let snapshots = db.open_tree(SNAPSHOT_TREE)?;
    let side = db.open_tree(SIDE_TREE)?;
    Ok(Handles { db, snapshots, side })
}

impl Shared {
    /// Opens the database of `config`.
    pub fn open(config: &StorageConfig) -> Result<Shared, StorageError> {
        let handles = open_handles(config)?;
        Ok(Shared {
            config: config.clone(),
            handles: RwLock::new(Some(handles)),
            failure: Mutex::new(None),
            durable_until: AtomicU64::new(0),
        })
    }

    /// The first global sequence number not yet durable: readers of the log
    /// stop before it.
    pub fn durable_until(&self) -> u64 {
        self.durable_until.load(Ordering::Acquire)
    }

    /// Everything before `next_seq` is durable (under relaxed durability:
    /// written, as durable as an acknowledged write is there).
    pub fn made_durable(&self, next_seq: u64) {
        self.durable_until.fetch_max(next_seq, Ordering::AcqRel);
    }

    /// The open database, or why there is none.
    pub fn handles(&self) -> Result<Handles, StorageError> {
        let handles = self.handles.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        match &*handles {
            Some(handles) => Ok(handles.clone()),
            None => Err(StorageError::Unavailable(self.failure().unwrap_or_default())),
        }
    }

    /// Why writes fail now, if they do.
    pub fn failure(&self) -> Option<String> {
        self.failure
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Writes failed for `reason`: drops the database until it is reopened.
    pub fn fail(&self, reason: String) {
        *self.failure.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(reason);
        self.handles
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
    }

    /// Opens the database again (not yet shared: see [`Shared::recovered`]).
    pub fn reopen(&self) -> Result<Handles, StorageError> {
        open_handles(&self.config)
    }

    /// A probe write through `handles` was durable: share them again.
    pub fn recovered(&self, handles: Handles) {
        *self.handles.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(handles);
        *self.failure.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
    }
}
