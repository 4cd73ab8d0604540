//! Keeps the [`OrderBook`] up to date: a background loop reads the domain
//! event log from where the book stands (from the start after a restart, so
//! the book is rebuilt), applies the order entries and sleeps when nothing is
//! new. An order's timeline is read back from the log entries the book
//! remembers for it.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::{RwLock, RwLockReadGuard};

use super::book::OrderBook;
use super::state::OrderEvent;
use crate::runtime::{BackgroundTask, Entity as _, StopSignal};
use crate::storage::{codec, Storage, StorageError};

/// Log entries read per pass.
const BATCH: usize = 4096;
/// Pause when the log holds nothing new.
const POLL: Duration = Duration::from_millis(100);
/// Longest pause after a failed read.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// The shared book and what feeds it; cheap to clone.
#[derive(Clone)]
pub struct OrderBookFeed {
    book: Arc<RwLock<OrderBook>>,
    storage: Storage,
    /// Held by a pass, so that two never read and apply the same entries.
    passing: Arc<tokio::sync::Mutex<()>>,
}

/// One event of an order's timeline.
#[derive(Debug, Clone)]
pub struct TimelineEvent {
    /// Its global sequence number.
    pub seq: u64,
    pub event: OrderEvent,
}

impl OrderBookFeed {
    /// An empty book over `storage`'s log; [`OrderBookFeed::start`] fills it.
    pub fn new(storage: Storage) -> Self {
        OrderBookFeed {
            book: Arc::default(),
            storage,
            passing: Arc::default(),
        }
    }

    /// The book as it stands.
    pub fn read(&self) -> RwLockReadGuard<'_, OrderBook> {
        self.book.read()
    }

    /// Starts following the log.
    pub fn start(&self) -> BackgroundTask {
        let feed = self.clone();
        BackgroundTask::spawn("order book", move |stop| feed.run(stop))
    }

    async fn run(self, mut stop: StopSignal) {
        let mut failures = 0u32;
        loop {
            let wait = match self.pass().await {
                Ok(BATCH) => Duration::ZERO,
                Ok(_) => POLL,
                Err(err) => {
                    failures = failures.saturating_add(1);
                    let wait = POLL.saturating_mul(1 << failures.min(8)).min(MAX_BACKOFF);
                    tracing::warn!(error = %err, retry_in = ?wait, "order book cannot read the event log");
                    wait
                }
            };
            if wait.is_zero() {
                failures = 0;
                tokio::task::yield_now().await;
            } else if !stop.sleep(wait).await {
                return;
            }
        }
    }

    /// Reads what the log holds beyond the book now (one batch at most): a
    /// page that follows an action sees it.
    pub async fn catch_up(&self) -> Result<(), StorageError> {
        self.pass().await.map(drop)
    }

    /// Reads and applies one batch; answers how many entries it read.
    async fn pass(&self) -> Result<usize, StorageError> {
        let _passing = self.passing.lock().await;
        let next = self.book.read().next_seq();
        let storage = self.storage.clone();
        let entries = tokio::task::spawn_blocking(move || storage.read_event_log(next, BATCH))
            .await
            .map_err(|err| StorageError::Sled(format!("event log reader failed: {err}")))??;
        let read = entries.len();
        let mut decoded = Vec::new();
        let mut end = next;
        for entry in &entries {
            end = end.max(entry.first_seq + u64::from(entry.count));
            if entry.kind != super::state::OrderState::KIND || entry.first_seq < next {
                continue;
            }
            let mut events = Vec::new();
            match codec::decode_all::<OrderEvent>(&entry.events, |event| events.push(event)) {
                Ok(_) => decoded.push((entry.id.as_str(), entry.first_seq, events)),
                Err(err) => {
                    tracing::error!(order = %entry.id, seq = entry.first_seq, error = %err, "order events not readable; the book skips them")
                }
            }
        }
        let mut book = self.book.write();
        for (id, first_seq, events) in &decoded {
            book.apply(id, *first_seq, events);
        }
        book.read_up_to(end);
        Ok(read)
    }

    /// Order `id`'s events in log order (empty if the book does not hold it).
    pub async fn timeline(&self, id: &str) -> Result<Vec<TimelineEvent>, StorageError> {
        let Some(entries) = self.read().get(id).map(|order| order.log_entries.clone()) else {
            return Ok(Vec::new());
        };
        let storage = self.storage.clone();
        let id = id.to_string();
        tokio::task::spawn_blocking(move || {
            let mut timeline = Vec::new();
            for (first_seq, _) in entries {
                let found = storage.read_event_log(first_seq, 1)?;
                let Some(entry) = found
                    .into_iter()
                    .find(|entry| entry.first_seq == first_seq && entry.id == id)
                else {
                    continue;
                };
                let mut seq = first_seq;
                codec::decode_all::<OrderEvent>(&entry.events, |event| {
                    timeline.push(TimelineEvent { seq, event });
                    seq += 1;
                })?;
            }
            Ok(timeline)
        })
        .await
        .map_err(|err| StorageError::Sled(format!("event log reader failed: {err}")))?
    }
}
