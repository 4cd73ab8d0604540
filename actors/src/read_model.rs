//! Read models of the domain event log (DESIGN §10): a [`Book`] is a pure
//! view of one entity kind's events (every order's summary, every customer),
//! kept up to date by a [`ReadModel`] that reads the log from where the book
//! stands (from the start after a restart, so the book is rebuilt), applies
//! the entries of its kind and sleeps when nothing is new. A book may keep
//! where an entity's entries are in the log and read them back on demand
//! ([`ReadModel::events_at`]), instead of holding them in memory.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{RwLock, RwLockReadGuard};
use prometheus::{IntGauge, IntGaugeVec};
use serde::de::DeserializeOwned;

use crate::runtime::{BackgroundTask, StopSignal};
use crate::storage::{codec, Storage, StorageError};

/// Log entries read per pass.
const BATCH: usize = 4096;
/// Pause when the log holds nothing new.
const POLL: Duration = Duration::from_millis(100);
/// Longest pause after a failed read.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// A pure view of one entity kind's events.
pub trait Book: Default + Send + Sync + 'static {
    /// The entity kind whose events it reads.
    const KIND: &'static str;
    /// The name of its task, for logs.
    const NAME: &'static str;
    /// The events of that kind.
    type Event: DeserializeOwned + Send + 'static;

    /// Applies the events of one log entry of entity `id` (`first_seq` is the
    /// sequence number of the first).
    fn apply(&mut self, id: &str, first_seq: u64, events: Vec<Self::Event>);
}

/// An event read back from the log, with its sequence number.
#[derive(Debug, Clone)]
pub struct Logged<E> {
    pub seq: u64,
    pub event: E,
}

/// A shared book and what feeds it; cheap to clone.
pub struct ReadModel<B> {
    book: Arc<RwLock<B>>,
    storage: Storage,
    /// Where the next read of the log starts.
    next_seq: Arc<AtomicU64>,
    /// Held by a pass, so that two never read and apply the same entries.
    passing: Arc<tokio::sync::Mutex<()>>,
}

impl<B> Clone for ReadModel<B> {
    fn clone(&self) -> Self {
        ReadModel {
            book: Arc::clone(&self.book),
            storage: self.storage.clone(),
            next_seq: Arc::clone(&self.next_seq),
            passing: Arc::clone(&self.passing),
        }
    }
}

impl<B: Book> ReadModel<B> {
    /// An empty book over `storage`'s log; [`ReadModel::start`] fills it.
    pub fn new(storage: Storage) -> Self {
        ReadModel {
            book: Arc::default(),
            storage,
            next_seq: Arc::default(),
            passing: Arc::default(),
        }
    }

    /// The book as it stands.
    pub fn read(&self) -> RwLockReadGuard<'_, B> {
        self.book.read()
    }

    /// The log sequence number the book has read up to (exclusive).
    pub fn position(&self) -> u64 {
        self.next_seq.load(Ordering::Acquire)
    }

    /// Starts following the log; `lag` (by model) tells how far behind it is.
    pub fn start(&self, lag: &IntGaugeVec) -> BackgroundTask {
        let model = self.clone();
        let lag = lag.with_label_values(&[B::NAME]);
        BackgroundTask::spawn(B::NAME, move |stop| model.run(lag, stop))
    }

    async fn run(self, lag: IntGauge, mut stop: StopSignal) {
        let mut failures = 0u32;
        loop {
            let passed = self.pass().await;
            if let Ok((_, last)) = &passed {
                let behind = last.map_or(0, |last| (last + 1).saturating_sub(self.position()));
                lag.set(i64::try_from(behind).unwrap_or(i64::MAX));
            }
            let passed = passed.map(|(read, _)| read);
            if passed.is_ok() {
                failures = 0;
            }
            let wait = match passed {
                Ok(BATCH) => Duration::ZERO,
                Ok(_) => POLL,
                Err(err) => {
                    failures = failures.saturating_add(1);
                    let wait = POLL.saturating_mul(1 << failures.min(8)).min(MAX_BACKOFF);
                    tracing::warn!(book = B::NAME, error = %err, retry_in = ?wait, "read model cannot read the event log");
                    wait
                }
            };
            if wait.is_zero() {
                tokio::task::yield_now().await;
            } else if !stop.sleep(wait).await {
                return;
            }
        }
    }

    /// Reads what the log holds beyond the book now (one batch at most): a
    /// page that follows an action sees it.
    pub async fn catch_up(&self) -> Result<(), StorageError> {
        // Most pages find nothing new: no lock, no reader, one sled lookup.
        let storage = self.storage.clone();
        let last = tokio::task::spawn_blocking(move || storage.last_event_seq())
            .await
            .map_err(|err| StorageError::Sled(format!("event log reader failed: {err}")))??;
        match last {
            Some(last) if last >= self.position() => self.pass().await.map(drop),
            _ => Ok(()),
        }
    }

    /// Reads and applies one batch; answers how many entries it read and the
    /// last durable sequence number in the log.
    async fn pass(&self) -> Result<(usize, Option<u64>), StorageError> {
        let _passing = self.passing.lock().await;
        let next = self.position();
        let storage = self.storage.clone();
        let (entries, last) = tokio::task::spawn_blocking(move || {
            let last = storage.last_event_seq()?;
            Ok::<_, StorageError>((storage.read_event_log(next, BATCH)?, last))
        })
        .await
        .map_err(|err| StorageError::Sled(format!("event log reader failed: {err}")))??;
        let read = entries.len();
        let mut decoded = Vec::new();
        let mut end = next;
        for entry in entries {
            end = end.max(entry.first_seq + u64::from(entry.count));
            if entry.kind != B::KIND || entry.first_seq < next {
                continue;
            }
            let mut events = Vec::new();
            match codec::decode_all::<B::Event>(&entry.events, |event| events.push(event)) {
                Ok(_) => decoded.push((entry.id, entry.first_seq, events)),
                Err(err) => {
                    tracing::error!(book = B::NAME, id = %entry.id, seq = entry.first_seq, error = %err, "events not readable; the book skips them")
                }
            }
        }
        let mut book = self.book.write();
        for (id, first_seq, events) in decoded {
            book.apply(&id, first_seq, events);
        }
        self.next_seq.store(end, Ordering::Release);
        Ok((read, last))
    }

    /// The events of entity `id` in the log entries that start at `starts`.
    pub async fn events_at(&self, id: &str, starts: Vec<u64>) -> Result<Vec<Logged<B::Event>>, StorageError> {
        let storage = self.storage.clone();
        let id = id.to_string();
        tokio::task::spawn_blocking(move || {
            let mut logged = Vec::new();
            for first_seq in starts {
                let found = storage.read_event_log(first_seq, 1)?;
                let wanted = |entry: &&crate::storage::event_log::LoggedEvents| {
                    entry.first_seq == first_seq && entry.kind == B::KIND && entry.id == id
                };
                let Some(entry) = found.iter().find(wanted) else {
                    continue;
                };
                let mut seq = first_seq;
                codec::decode_all::<B::Event>(&entry.events, |event| {
                    logged.push(Logged { seq, event });
                    seq += 1;
                })?;
            }
            Ok(logged)
        })
        .await
        .map_err(|err| StorageError::Sled(format!("event log reader failed: {err}")))?
    }
}
