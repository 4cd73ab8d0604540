//! Each endpoint's delivery log: its latest attempts (the newest
//! `webhooks.delivery_log_size`), as side records of storage keyed
//! `wh/<endpoint id>/<number>`. Not flushed on their own: a crash may lose
//! the newest few lines, never an event.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use mercato_actors::storage::{Storage, StorageError};
use parking_lot::Mutex;
use rustc_hash::FxHashMap;

use super::sender::Attempt;

/// Lines written between two trims of one endpoint's log.
const TRIM_EVERY: u64 = 64;

/// The delivery logs of every endpoint; cheap to clone.
#[derive(Clone)]
pub struct DeliveryLog {
    storage: Storage,
    keep: usize,
    /// The next line number per endpoint.
    next: Arc<Mutex<FxHashMap<String, Arc<AtomicU64>>>>,
}

fn prefix(endpoint: &str) -> Vec<u8> {
    format!("wh/{endpoint}/").into_bytes()
}

impl DeliveryLog {
    /// The logs in `storage`, each keeping its newest `keep` lines.
    pub fn new(storage: Storage, keep: usize) -> Self {
        DeliveryLog {
            storage,
            keep: keep.max(1),
            next: Arc::default(),
        }
    }

    fn counter(&self, endpoint: &str) -> Result<Arc<AtomicU64>, StorageError> {
        if let Some(counter) = self.next.lock().get(endpoint) {
            return Ok(Arc::clone(counter));
        }
        let last = self.storage.side_latest(&prefix(endpoint), 1)?;
        let next = last
            .first()
            .and_then(|(key, _)| key.rsplit(|byte| *byte == b'/').next())
            .and_then(|number| <[u8; 8]>::try_from(number).ok())
            .map_or(0, |number| u64::from_be_bytes(number) + 1);
        let counter = Arc::new(AtomicU64::new(next));
        Ok(Arc::clone(
            self.next.lock().entry(endpoint.to_string()).or_insert(counter),
        ))
    }

    /// Appends `attempt` to `endpoint`'s log.
    pub fn record(&self, endpoint: &str, attempt: &Attempt) -> Result<(), StorageError> {
        let number = self.counter(endpoint)?.fetch_add(1, Ordering::Relaxed);
        let mut key = prefix(endpoint);
        key.extend_from_slice(&number.to_be_bytes());
        let value = serde_json::to_vec(attempt).map_err(|err| StorageError::Codec(err.to_string()))?;
        self.storage.side_put(&key, &value)?;
        if number % TRIM_EVERY == TRIM_EVERY - 1 {
            self.storage.side_trim(&prefix(endpoint), self.keep)?;
        }
        Ok(())
    }

    /// The newest `limit` attempts of `endpoint`, newest first.
    pub fn latest(&self, endpoint: &str, limit: usize) -> Result<Vec<Attempt>, StorageError> {
        let lines = self.storage.side_latest(&prefix(endpoint), limit.min(self.keep))?;
        Ok(lines
            .into_iter()
            .filter_map(|(_, value)| serde_json::from_slice(&value).ok())
            .collect())
    }

    /// Forgets `endpoint`'s log (it was deleted).
    pub fn forget(&self, endpoint: &str) -> Result<(), StorageError> {
        self.next.lock().remove(endpoint);
        self.storage.side_trim(&prefix(endpoint), 0).map(drop)
    }
}
