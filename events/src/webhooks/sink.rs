//! One endpoint's sink: sends the events it wants, in log order, one at a
//! time; on a failure says when to try that event again (the retry schedule,
//! or the receiver's `Retry-After`) so the follower keeps its place; disables
//! the endpoint on `410 Gone` or when the schedule is spent.

use std::time::Duration;

use mercato_actors::runtime::Registry;

use super::actor::{EndpointsCommand, ID};
use super::deliveries::DeliveryLog;
use super::endpoints::{EndpointPatch, Endpoints};
use super::retry::RetryPolicy;
use super::sender::{Result as Outcome, Sender};
use crate::catalogue::PublicEvent;
use crate::follower::{Sink, Stopped};
use crate::metrics::EventsMetrics;

/// How long a sink whose endpoint went away waits (the dispatcher stops it).
const GONE_WAIT: Duration = Duration::from_secs(60);

/// Delivers to endpoint `id`.
pub struct WebhookSink {
    pub(super) id: String,
    pub(super) endpoints: Registry<Endpoints>,
    pub(super) sender: Sender,
    pub(super) log: DeliveryLog,
    pub(super) policy: RetryPolicy,
    pub(super) metrics: EventsMetrics,
    /// The event that keeps failing, and how many times it has in a row.
    pub(super) failing: Option<(u64, u32)>,
}

impl WebhookSink {
    /// Disables the endpoint. A task of its own: the dispatcher stops this
    /// sink as soon as the endpoint shows disabled, which must not cut the
    /// disabling (or its count) short.
    async fn disable(&self, reason: String) {
        let (endpoints, metrics, id) = (self.endpoints.clone(), self.metrics.clone(), self.id.clone());
        let _ = tokio::spawn(disable(endpoints, metrics, id, reason)).await;
    }
}

async fn disable(endpoints: Registry<Endpoints>, metrics: EventsMetrics, id: String, reason: String) {
    let patch = EndpointPatch {
        enabled: Some(false),
        ..EndpointPatch::default()
    };
    let command = EndpointsCommand::Change {
        id: id.clone(),
        patch,
        reason: reason.clone(),
    };
    let refused = match endpoints.call(ID, command).await {
        Ok(Ok(_)) => None,
        Ok(Err(err)) => Some(err.to_string()),
        Err(err) => Some(err.to_string()),
    };
    match refused {
        None => {
            metrics.endpoints_disabled.inc();
            tracing::error!(endpoint = %id, %reason, "webhook endpoint disabled");
        }
        Some(error) => tracing::warn!(endpoint = %id, %error, "cannot disable the webhook endpoint"),
    }
}

impl Sink for WebhookSink {
    async fn deliver(&mut self, events: &[PublicEvent]) -> Result<(), Stopped> {
        let Some(first) = events.first() else {
            return Ok(());
        };
        let endpoint = self.endpoints.peek(ID).and_then(|all| all.get(&self.id).cloned());
        let Some(endpoint) = endpoint.filter(|endpoint| endpoint.enabled()) else {
            return Err(Stopped {
                resume_at: first.sequence,
                error: format!("webhook endpoint {} is disabled or gone", self.id),
                retry_in: Some(GONE_WAIT),
            });
        };
        for event in events.iter().filter(|event| endpoint.wants(event.event_type)) {
            let attempt = match self.failing {
                Some((sequence, failures)) if sequence == event.sequence => failures + 1,
                _ => 1,
            };
            let record = self.sender.send(&endpoint, event, attempt, false).await;
            self.metrics.attempts.with_label_values(&[record.result.name()]).inc();
            if let Err(err) = self.log.record(&self.id, &record) {
                tracing::warn!(endpoint = %self.id, error = %err, "delivery not logged");
            }
            let stopped = |error: String, retry_in| Stopped {
                resume_at: event.sequence,
                error,
                retry_in: Some(retry_in),
            };
            let error = || {
                record.error.clone().unwrap_or_else(|| {
                    format!(
                        "{} answered {}",
                        endpoint.url,
                        record.http_status.map_or("nothing".into(), |s| s.to_string())
                    )
                })
            };
            match record.result {
                Outcome::Delivered => self.failing = None,
                Outcome::Gone => {
                    self.disable(format!("{} answered 410 Gone", endpoint.url)).await;
                    return Err(stopped(error(), GONE_WAIT));
                }
                Outcome::Failed => {
                    let retry_after = record.retry_after_secs.map(Duration::from_secs);
                    let jitter = f64::from(random_u32()) / f64::from(u32::MAX);
                    match self.policy.next_wait(attempt, retry_after, jitter) {
                        Some(wait) => {
                            self.failing = Some((event.sequence, attempt));
                            return Err(stopped(error(), wait));
                        }
                        None => {
                            self.failing = None;
                            let reason =
                                format!("{attempt} attempts failed over the whole retry schedule: {}", error());
                            self.disable(reason).await;
                            return Err(stopped(error(), GONE_WAIT));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

fn random_u32() -> u32 {
    let mut bytes = [0u8; 4];
    let _ = getrandom::fill(&mut bytes);
    u32::from_le_bytes(bytes)
}
