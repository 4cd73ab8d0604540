//! The durable mark (see `shared`): log readers never see a batch that is
//! applied but not yet durable, and see it once it is.

use std::sync::mpsc;
use std::sync::Arc;

use super::group_commit::Submission;
use super::{event_log, keys, Durability, Storage, StorageConfig};
use crate::metrics::ActorMetrics;

fn open(dir: &tempfile::TempDir) -> Storage {
    let config = StorageConfig {
        data_dir: dir.path().to_path_buf(),
        durability: Durability::Sync,
        cache_capacity_mb: 16,
        flush_every_ms: 500,
    };
    let metrics = ActorMetrics::register(&prometheus::Registry::new()).unwrap();
    Storage::open(&config, metrics.storage).unwrap()
}

/// Writes one event for `sku/<id>` through the commit thread; waits for it.
fn write(storage: &Storage, id: &str, journal_seq: u64) {
    let (done, wait) = mpsc::channel();
    storage.submit(Submission {
        kind: "sku",
        id: Arc::from(id),
        journal_seq,
        events: vec![7],
        event_count: 1,
        snapshot: None,
        done: Box::new(move |result| done.send(result).unwrap()),
    });
    wait.recv().unwrap().unwrap();
}

fn seqs(storage: &Storage) -> Vec<u64> {
    storage
        .read_event_log(1, 100)
        .unwrap()
        .iter()
        .map(|entry| entry.first_seq)
        .collect()
}

#[test]
fn an_applied_batch_is_read_once_it_is_durable_and_not_before() {
    let dir = tempfile::tempdir().unwrap();
    let storage = open(&dir);
    write(&storage, "A", 1);
    assert_eq!(seqs(&storage), [1], "acknowledged: the commit thread moved the mark");
    assert_eq!(storage.last_event_seq().unwrap(), Some(1));

    // What the commit thread leaves between applying a batch and its fsync.
    let mut record = Vec::new();
    event_log::start_record(&mut record, 0);
    event_log::push_entry(&mut record, "sku", "B", 2, 1, &[7]);
    let db = storage.inner.shared.handles().unwrap().db;
    db.insert(&keys::event_log_key(2)[..], record).unwrap();
    assert_eq!(seqs(&storage), [1], "applied, not durable: not read");
    assert_eq!(storage.last_event_seq().unwrap(), Some(1));

    storage.inner.shared.made_durable(3);
    assert_eq!(seqs(&storage), [1, 2]);
    assert_eq!(storage.last_event_seq().unwrap(), Some(2));
}
