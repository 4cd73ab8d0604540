//! Product views (DESIGN §10): recorded without waiting, written to the view
//! log in batches by one background task, trimmed by age and count, and read
//! back as each viewer's "recently viewed" list.
//!
//! - [`recent`]: the pure lists and the log's entry type;
//! - [`log`]: the batches in the side tree.
//!
//! A view goes into a bounded queue and into the lists at once (a page that
//! follows sees it); when the queue is full the view is dropped and counted,
//! never waited for, so views cannot slow a checkout. Each batch is made
//! durable by asking the commit thread for a flush (one per batch window at
//! most, shared with whatever else commits then). At start the lists are
//! rebuilt from the log.

pub mod log;
pub mod recent;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use serde::Deserialize;
use tokio::sync::mpsc;

use crate::catalog::state::ProductId;
use crate::metrics::ViewMetrics;
use crate::runtime::{BackgroundTask, StopSignal};
use crate::storage::{Storage, StorageError};

use self::log::ViewLog;
use self::recent::{Entry, RecentBook, Seen, ViewerKey};

/// How often the log is trimmed (more often when the retention is short).
const TRIM_EVERY: Duration = Duration::from_secs(60);
/// Longest pause after a failed write.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// The `[views]` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViewsConfig {
    /// Views older than this leave the log and the lists.
    #[serde(with = "humantime_serde")]
    pub retention: Duration,
    /// Most views the log holds; the oldest go first.
    pub max_kept: u64,
    /// Most viewers with a list in memory; the least recent go first.
    pub max_viewers: usize,
    /// Views waiting to be written; past this, views are dropped (and counted).
    pub queue: usize,
    /// How long the writer gathers views into one batch.
    #[serde(with = "humantime_serde")]
    pub batch_window: Duration,
}

/// Whether a view was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// Queued for the log and in the lists.
    Yes,
    /// The queue was full: dropped.
    Dropped,
}

/// Viewers from their first view on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Funnel {
    /// Viewers whose first view is in the range.
    pub viewed: u64,
    /// Of those, the ones that filled a cart.
    pub carted: u64,
    /// Of those, the ones that ordered (a sold order).
    pub ordered: u64,
}

/// The views front door; cheap to clone.
#[derive(Clone)]
pub struct Views {
    inner: Arc<Inner>,
}

struct Inner {
    lists: Mutex<RecentBook>,
    queue: mpsc::Sender<Entry>,
    /// Taken by the writer when it starts.
    pending: Mutex<Option<(mpsc::Receiver<Entry>, ViewLog)>>,
    config: ViewsConfig,
    metrics: ViewMetrics,
    /// To make written batches durable (a group commit's flush).
    storage: Storage,
}

/// Now, in Unix ms.
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64)
}

impl Views {
    /// Opens the view log and rebuilds the lists from it (blocking: call
    /// from a blocking thread or at start).
    pub fn open(storage: Storage, config: ViewsConfig, metrics: ViewMetrics) -> Result<Self, StorageError> {
        let mut lists = RecentBook::default();
        let log = ViewLog::replay(storage.clone(), |entry| lists.apply(&entry))?;
        lists.forget(
            now_ms().saturating_sub(config.retention.as_millis() as u64),
            config.max_viewers,
        );
        metrics.kept.set(log.entries() as i64);
        let (queue, receiver) = mpsc::channel(config.queue.max(1));
        Ok(Views {
            inner: Arc::new(Inner {
                lists: Mutex::new(lists),
                queue,
                pending: Mutex::new(Some((receiver, log))),
                config,
                metrics,
                storage,
            }),
        })
    }

    /// Records that `viewer` looked at `product` now.
    pub fn record(&self, viewer: ViewerKey, product: ProductId) -> Recorded {
        let recorded = self.push(Entry::Viewed {
            at_ms: now_ms(),
            viewer,
            product,
        });
        match recorded {
            Recorded::Yes => self.inner.metrics.recorded.inc(),
            Recorded::Dropped => self.inner.metrics.dropped.inc(),
        }
        recorded
    }

    /// Records that `viewer` put something in cart `cart_id`: once per cart,
    /// and only for a viewer that viewed (the funnel starts at a view).
    pub fn carted(&self, viewer: ViewerKey, cart_id: &str) {
        let cart = ViewerKey::cart(cart_id);
        if !self.inner.lists.lock().would_follow_cart(&viewer, &cart) {
            return;
        }
        self.push(Entry::Carted {
            at_ms: now_ms(),
            viewer,
            cart,
        });
    }

    /// Of the viewers that first viewed in `[from, to)`: how many, how many
    /// filled a cart, and how many of those `ordered` (told the viewer and
    /// its carts).
    pub fn funnel(&self, from: u64, to: u64, ordered: impl Fn(&ViewerKey, &[ViewerKey]) -> bool) -> Funnel {
        let lists = self.inner.lists.lock();
        let mut funnel = Funnel::default();
        for (viewer, trail) in lists.first_viewed_in(from, to) {
            funnel.viewed += 1;
            let bought = ordered(viewer, &trail.carts);
            if !trail.carts.is_empty() || bought {
                funnel.carted += 1;
            }
            funnel.ordered += u64::from(bought);
        }
        funnel
    }

    /// Moves guest `session`'s list into `customer`'s (at sign-in).
    pub fn merge(&self, session: ViewerKey, customer: ViewerKey) -> Recorded {
        self.push(Entry::Merged {
            at_ms: now_ms(),
            session,
            customer,
        })
    }

    fn push(&self, entry: Entry) -> Recorded {
        // The lists lock is held across the send so that the lists and the
        // log see entries in one order.
        let mut lists = self.inner.lists.lock();
        if self.inner.queue.try_send(entry.clone()).is_err() {
            return Recorded::Dropped;
        }
        lists.apply(&entry);
        drop(lists);
        self.inner.metrics.queued.inc();
        Recorded::Yes
    }

    /// The views' metrics (the HTTP layer counts what it turns away).
    pub fn metrics(&self) -> &ViewMetrics {
        &self.inner.metrics
    }

    /// `viewer`'s recently viewed products, most recent first.
    pub fn recently_viewed(&self, viewer: &ViewerKey) -> Vec<Seen> {
        self.inner.lists.lock().get(viewer).to_vec()
    }

    /// Starts the writer (once).
    pub fn start(&self) -> BackgroundTask {
        let views = self.clone();
        let pending = self.inner.pending.lock().take();
        BackgroundTask::spawn("view log writer", move |stop| async move {
            if let Some((receiver, log)) = pending {
                views.write(receiver, log, stop).await;
            }
        })
    }

    /// Gathers views for `batch_window`, writes them as one batch, trims the
    /// log now and then; at stop, writes what is queued.
    async fn write(self, mut receiver: mpsc::Receiver<Entry>, log: ViewLog, mut stop: StopSignal) {
        let log = Arc::new(Mutex::new(log));
        let mut trimmed_at = tokio::time::Instant::now();
        let trim_every = TRIM_EVERY.min(self.inner.config.retention / 4);
        let mut failures = 0u32;
        let mut batch: Vec<Entry> = Vec::new();
        loop {
            // A batch left from a failed write is retried without waiting for more.
            let mut stopping = batch.is_empty()
                && tokio::select! {
                    biased;
                    _ = stop.stopped() => true,
                    received = receiver.recv_many(&mut batch, 1) => received == 0,
                    _ = tokio::time::sleep_until(trimmed_at + trim_every) => false,
                };
            if !batch.is_empty() {
                stopping = stopping || !stop.sleep(self.inner.config.batch_window).await;
            }
            // At most a queue's worth: while writes fail, the queue fills
            // and views are dropped, not held here without bound.
            while batch.len() < self.inner.config.queue {
                match receiver.try_recv() {
                    Ok(entry) => batch.push(entry),
                    Err(_) => break,
                }
            }
            match self.write_batch(&log, std::mem::take(&mut batch)).await {
                Ok(()) => failures = 0,
                Err((err, unwritten)) => {
                    failures = failures.saturating_add(1);
                    let wait = Duration::from_millis(100 << failures.min(7)).min(MAX_BACKOFF);
                    tracing::warn!(error = %err, views = unwritten.len(), retry_in = ?wait, "cannot write views");
                    batch = unwritten;
                    if !stopping && stop.sleep(wait).await {
                        continue;
                    }
                    return;
                }
            }
            if trimmed_at.elapsed() >= trim_every {
                self.trim(&log).await;
                trimmed_at = tokio::time::Instant::now();
            }
            if stopping {
                return;
            }
        }
    }

    /// Appends `batch` (if any) and has it flushed; on failure, answers it back.
    async fn write_batch(
        &self,
        log: &Arc<Mutex<ViewLog>>,
        batch: Vec<Entry>,
    ) -> Result<(), (StorageError, Vec<Entry>)> {
        if batch.is_empty() {
            return Ok(());
        }
        let log = Arc::clone(log);
        let written = tokio::task::spawn_blocking(move || {
            let mut log = log.lock();
            let at_ms = batch.first().map_or(0, Entry::at_ms);
            match log.append(at_ms, &batch) {
                Ok(()) => Ok((batch.len(), log.entries())),
                Err(err) => Err((err, batch)),
            }
        })
        .await
        .map_err(|err| (StorageError::Sled(format!("view writer failed: {err}")), Vec::new()))??;
        let (written, kept) = written;
        // Durable with the next group commit, which this asks for.
        if let Err(err) = self.inner.storage.barrier().await {
            tracing::warn!(error = %err, "views written, not yet flushed");
        }
        // Counted as written once flushed: a view no longer queued is durable.
        self.inner.metrics.queued.sub(written as i64);
        self.inner.metrics.kept.set(kept as i64);
        Ok(())
    }

    /// Removes from the log and the lists what is past the retention or the
    /// caps; a failure is logged and tried again at the next trim.
    async fn trim(&self, log: &Arc<Mutex<ViewLog>>) {
        let config = self.inner.config.clone();
        let cutoff = now_ms().saturating_sub(config.retention.as_millis() as u64);
        let forgotten = self.inner.lists.lock().forget(cutoff, config.max_viewers);
        let log = Arc::clone(log);
        let trimmed = tokio::task::spawn_blocking(move || {
            let mut log = log.lock();
            log.trim(cutoff, config.max_kept)
                .map(|trimmed| (trimmed, log.entries()))
        })
        .await;
        match trimmed {
            Ok(Ok((trimmed, kept))) => {
                self.inner.metrics.kept.set(kept as i64);
                if trimmed > 0 || forgotten > 0 {
                    tracing::info!(views = trimmed, viewers = forgotten, "old views trimmed");
                }
            }
            Ok(Err(err)) => tracing::warn!(error = %err, "old views not trimmed; trying again later"),
            Err(err) => tracing::warn!(error = %err, "view trimmer failed; trying again later"),
        }
    }
}
