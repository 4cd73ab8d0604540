//! Follows the event log for one sink from the sink's persisted cursor
//! (DESIGN §9): reads a batch, maps it to public events ([`publish`]), hands
//! them to the sink in log order, and moves the cursor past what the sink
//! acknowledged. A crash between a delivery and the cursor's move delivers that
//! batch again (at-least-once; consumers de-duplicate by event id). A sink that
//! fails is retried from the first event it did not acknowledge, with a growing
//! back-off; nothing here is on a request's path.

use std::future::Future;
use std::time::Duration;

use mercato_actors::runtime::{now_millis, BackgroundTask, Registry, StopSignal};
use mercato_actors::storage::Storage;

use crate::catalogue::{publish, PublicEvent};
use crate::cursor::{CursorCommand, SinkCursor, NOT_NEWS};
use crate::metrics::EventsMetrics;

/// Log entries read per pass.
const BATCH: usize = 1024;
/// Pause when the log holds nothing new.
const POLL: Duration = Duration::from_millis(50);
/// First and longest pause after a failed pass.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Why a delivery stopped short.
#[derive(Debug)]
pub struct Stopped {
    /// The sequence number of the first event not delivered.
    pub resume_at: u64,
    /// What went wrong, for the log.
    pub error: String,
    /// When to try again; `None`: the follower's own back-off.
    pub retry_in: Option<Duration>,
}

/// Where events go.
pub trait Sink: Send + 'static {
    /// Delivers `events` (log order) or says where delivery stopped.
    fn deliver(&mut self, events: &[PublicEvent]) -> impl Future<Output = Result<(), Stopped>> + Send;
}

/// One sink following the log.
pub struct Follower<S> {
    /// `nats`, `webhook`: the `sink` label of counts.
    kind: &'static str,
    /// The cursor's id, and the `sink` label of lag (one per webhook endpoint).
    name: String,
    storage: Storage,
    cursors: Registry<SinkCursor>,
    metrics: EventsMetrics,
    sink: S,
}

impl<S: Sink> Follower<S> {
    /// A follower for `sink` of `kind`, whose cursor is `event-sink/<name>`.
    pub fn new(
        (kind, name): (&'static str, &str),
        storage: Storage,
        cursors: Registry<SinkCursor>,
        metrics: EventsMetrics,
        sink: S,
    ) -> Self {
        Follower {
            kind,
            name: name.to_string(),
            storage,
            cursors,
            metrics,
            sink,
        }
    }

    /// Starts following; `task` names the loop in logs.
    pub fn start(self, task: &'static str) -> BackgroundTask {
        BackgroundTask::spawn(task, move |stop| self.run(stop))
    }

    async fn run(mut self, mut stop: StopSignal) {
        let mut backoff = FIRST_BACKOFF;
        loop {
            let passed = tokio::select! {
                passed = self.pass() => passed,
                _ = stop.stopped() => return,
            };
            let wait = match passed {
                Ok(read) => {
                    backoff = FIRST_BACKOFF;
                    if read == 0 {
                        POLL
                    } else {
                        Duration::ZERO
                    }
                }
                Err(stopped) => {
                    self.metrics.failures.with_label_values(&[self.kind]).inc();
                    let wait = stopped.retry_in.unwrap_or(backoff);
                    tracing::warn!(sink = %self.name, error = %stopped.error, retry_in = ?wait, "events not delivered; retrying");
                    backoff = (backoff * 2).min(MAX_BACKOFF);
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

    /// Delivers one batch; answers how many news entries (not [`NOT_NEWS`])
    /// it read (0: caught up).
    async fn pass(&mut self) -> Result<usize, Stopped> {
        let failed = |error: String| Stopped {
            resume_at: 0,
            error,
            retry_in: None,
        };
        let next = self
            .cursors
            .call(&self.name, CursorCommand::Read)
            .await
            .map_err(|err| failed(err.to_string()))?;
        let storage = self.storage.clone();
        let entries = tokio::task::spawn_blocking(move || storage.read_event_log(next, BATCH))
            .await
            .map_err(|err| failed(err.to_string()))?
            .map_err(|err| failed(err.to_string()))?;
        let news: Vec<_> = entries
            .iter()
            .filter(|entry| !NOT_NEWS.contains(&entry.kind.as_str()))
            .collect();
        let Some(oldest) = news.first() else {
            self.metrics.lag_events.with_label_values(&[&self.name]).set(0);
            self.metrics.lag_seconds.with_label_values(&[&self.name]).set(0);
            return Ok(0);
        };
        self.record_lag(next, oldest.written_at);
        let end = entries
            .iter()
            .map(|entry| entry.first_seq + u64::from(entry.count))
            .max()
            .unwrap_or(next);
        let mut events = Vec::new();
        for entry in &news {
            match publish(entry) {
                Ok(published) => events.extend(published.into_iter().filter(|event| event.sequence >= next)),
                Err(err) => {
                    tracing::error!(sink = %self.name, kind = %entry.kind, id = %entry.id, seq = entry.first_seq, error = %err, "events not readable; not published")
                }
            }
        }
        let delivered = self.sink.deliver(&events).await;
        let resume_at = delivered.as_ref().map_or_else(|stopped| stopped.resume_at, |()| end);
        for event in events.iter().take_while(|event| event.sequence < resume_at) {
            self.metrics
                .published
                .with_label_values(&[self.kind, event.event_type])
                .inc();
        }
        if resume_at > next {
            self.cursors
                .call(
                    &self.name,
                    CursorCommand::Advance {
                        from: next,
                        to: resume_at,
                    },
                )
                .await
                .map_err(|err| failed(err.to_string()))?;
        }
        delivered.map(|()| news.len())
    }

    fn record_lag(&self, next: u64, oldest_written_at: Option<u64>) {
        let last = self.storage.last_event_seq().ok().flatten().unwrap_or(next);
        let behind = (last + 1).saturating_sub(next);
        self.metrics
            .lag_events
            .with_label_values(&[&self.name])
            .set(behind as i64);
        let age = oldest_written_at.map_or(0, |at| now_millis().saturating_sub(at) / 1000);
        self.metrics
            .lag_seconds
            .with_label_values(&[&self.name])
            .set(age as i64);
    }
}
