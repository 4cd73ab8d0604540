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

/// The key of line `number` of `endpoint`'s log.
fn line_key(endpoint: &str, number: u64) -> Vec<u8> {
    let mut key = prefix(endpoint);
    key.extend_from_slice(&number.to_be_bytes());
    key
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
        let prefix = prefix(endpoint);
        let last = self.storage.side_latest(&prefix, 1)?;
        // The number's bytes may hold a '/': cut the prefix, never split.
        let next = last
            .first()
            .and_then(|(key, _)| key.strip_prefix(prefix.as_slice()))
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
        let value = serde_json::to_vec(attempt).map_err(|err| StorageError::Codec(err.to_string()))?;
        self.storage.side_put(&line_key(endpoint, number), &value)?;
        if number % TRIM_EVERY == TRIM_EVERY - 1 {
            // Lines before the newest `keep`: a forward range, the few
            // written since the last trim.
            let first_kept = (number + 1).saturating_sub(self.keep as u64);
            self.storage
                .side_remove(line_key(endpoint, 0)..line_key(endpoint, first_kept))?;
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
        self.storage
            .side_remove(line_key(endpoint, 0)..line_key(endpoint, u64::MAX))
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use mercato_actors::metrics::ActorMetrics;
    use mercato_actors::storage::{Durability, StorageConfig};

    use super::*;
    use crate::webhooks::sender::Result as Outcome;

    fn attempt(sequence: u64) -> Attempt {
        Attempt {
            event_id: format!("evt_{sequence}"),
            sequence,
            event_type: "order.confirmed".into(),
            attempt: 1,
            at: 0,
            result: Outcome::Delivered,
            http_status: Some(200),
            error: None,
            latency_ms: 1,
            response: String::new(),
            replay: false,
            retry_after_secs: None,
        }
    }

    #[test]
    fn a_new_log_handle_numbers_on_after_a_line_whose_number_holds_a_slash() {
        let dir = tempfile::tempdir().unwrap();
        let storage = open(&dir);
        let first = DeliveryLog::new(storage.clone(), 1_000);
        for sequence in 0..=b'/' as u64 {
            first.record("wh_a", &attempt(sequence)).unwrap();
        }
        // As after a restart: the counter comes from the newest key, 47 = b'/'.
        let again = DeliveryLog::new(storage, 1_000);
        again.record("wh_a", &attempt(1_000)).unwrap();
        let newest = again.latest("wh_a", 2).unwrap();
        assert_eq!(newest[0].sequence, 1_000, "numbered after 47, so newest");
        assert_eq!(newest[1].sequence, 47);
    }

    fn open(dir: &tempfile::TempDir) -> Storage {
        let config = StorageConfig {
            data_dir: dir.path().to_path_buf(),
            durability: Durability::Relaxed,
            cache_capacity_mb: 16,
            flush_every_ms: 500,
        };
        let metrics = ActorMetrics::register(&prometheus::Registry::new()).unwrap();
        Storage::open(&config, metrics.storage).unwrap()
    }

    #[test]
    fn a_log_keeps_its_newest_lines_and_forgets_them_all() {
        let dir = tempfile::tempdir().unwrap();
        let log = DeliveryLog::new(open(&dir), 100);
        for sequence in 1..=300 {
            log.record("wh_a", &attempt(sequence)).unwrap();
        }
        log.record("wh_b", &attempt(1)).unwrap();
        let kept = log.latest("wh_a", 1_000).unwrap();
        // Trimmed every TRIM_EVERY lines: the newest 100, and what came since.
        assert!((100..100 + TRIM_EVERY as usize).contains(&kept.len()), "{}", kept.len());
        let sequences: Vec<u64> = kept.iter().map(|line| line.sequence).collect();
        let expected: Vec<u64> = (301 - kept.len() as u64..=300).rev().collect();
        assert_eq!(sequences, expected, "newest first, none missing");
        log.forget("wh_a").unwrap();
        assert!(log.latest("wh_a", 1_000).unwrap().is_empty());
        assert_eq!(log.latest("wh_b", 10).unwrap().len(), 1, "other endpoints keep theirs");
    }
}
