//! Webhooks per the Standard Webhooks specification (DESIGN §9): endpoints
//! that operators register ([`endpoints`], the `webhooks/all` entity of
//! [`actor`]), each followed by a delivery loop from its own cursor
//! ([`dispatcher`], [`sink`]) that signs and posts ([`sender`]), retries on
//! the schedule of [`retry`], keeps a delivery log ([`deliveries`]); URLs
//! pass the SSRF guard ([`guard`]).
//!
//! [`Webhooks`] is the front door the admin routes and the console share.

pub mod actor;
pub mod deliveries;
pub mod dispatcher;
pub mod endpoints;
pub mod guard;
pub mod retry;
pub mod sender;
pub mod sink;

use std::time::Duration;

use base64::Engine as _;
use mercato_actors::runtime::{now_millis, ActorError, BackgroundTask, Registry, Runtime};
use mercato_actors::storage::{Storage, StorageError};
use serde::Deserialize;

use self::actor::{EndpointMap, EndpointsCommand, ID};
use self::deliveries::DeliveryLog;
use self::dispatcher::cursor_name;
use self::endpoints::{Endpoint, EndpointError, EndpointPatch, Endpoints, Status, ALL_TYPES};
use self::guard::{Guard, GuardError};
use self::retry::RetryPolicy;
use self::sender::{Attempt, Sender};
use crate::catalogue::{event_types, publish, PublicEvent};
use crate::cursor::{news_behind, CursorCommand, SinkCursor};
use crate::metrics::EventsMetrics;

/// Longest description.
const MAX_DESCRIPTION: usize = 200;

/// `[webhooks]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhooksConfig {
    /// Lets endpoint URLs reach loopback, private and link-local addresses.
    pub allow_private_targets: bool,
    /// One attempt's limit.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// The waits after the 1st, 2nd, ... failure of an event; when spent, the
    /// endpoint is disabled.
    pub retry_delays: Vec<humantime_serde::Serde<Duration>>,
    /// How long the previous secret still signs after a rotation.
    #[serde(with = "humantime_serde")]
    pub secret_overlap: Duration,
    /// Attempts kept in each endpoint's delivery log.
    pub delivery_log_size: usize,
}

impl WebhooksConfig {
    /// The retry schedule.
    pub fn policy(&self) -> RetryPolicy {
        RetryPolicy {
            delays: self.retry_delays.iter().map(|delay| **delay).collect(),
        }
    }
}

/// Why a webhook request is refused.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    #[error("url: {0}")]
    Url(#[from] GuardError),
    #[error("event_types: {0}")]
    EventTypes(String),
    #[error("description: at most {MAX_DESCRIPTION} characters")]
    Description,
    #[error("no event {0} in the log")]
    EventNotFound(String),
    #[error("event {event} is a {event_type}, which endpoint {endpoint} does not take")]
    NotWanted {
        event: String,
        event_type: String,
        endpoint: String,
    },
    #[error(transparent)]
    Actor(#[from] ActorError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A new endpoint, with its secret (shown once).
pub struct Created {
    pub endpoint: Endpoint,
    pub secret: String,
}

/// Where an endpoint's delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The first log position not yet passed.
    pub next_seq: u64,
    /// Events not yet passed (see [`news_behind`]).
    pub behind: u64,
}

/// The webhooks front door; cheap to clone.
#[derive(Clone)]
pub struct Webhooks {
    endpoints: Registry<Endpoints>,
    cursors: Registry<SinkCursor>,
    storage: Storage,
    sender: Sender,
    guard: Guard,
    log: DeliveryLog,
    config: WebhooksConfig,
    metrics: EventsMetrics,
}

fn secret() -> String {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).expect("the OS random source");
    format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

fn endpoint_id() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the OS random source");
    format!("wh_{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// Checks a list of event types: known names or `*`, at least one.
fn checked_types(types: Vec<String>) -> Result<Vec<String>, WebhookError> {
    if types.is_empty() {
        return Err(WebhookError::EventTypes(format!(
            "name at least one type, or \"{ALL_TYPES}\" for all"
        )));
    }
    for wanted in &types {
        if wanted != ALL_TYPES && !event_types().any(|known| known.name == wanted) {
            return Err(WebhookError::EventTypes(format!(
                "unknown type {wanted:?} (see /asyncapi.json)"
            )));
        }
    }
    let mut types = types;
    types.sort();
    types.dedup();
    Ok(types)
}

impl Webhooks {
    /// The front door over `runtime`'s storage.
    pub fn new(
        runtime: &Runtime,
        storage: Storage,
        cursors: Registry<SinkCursor>,
        config: WebhooksConfig,
        metrics: EventsMetrics,
    ) -> reqwest::Result<Self> {
        let guard = Guard {
            allow_private: config.allow_private_targets,
        };
        Ok(Webhooks {
            endpoints: Registry::new(runtime),
            cursors,
            sender: Sender::new(guard, config.timeout)?,
            log: DeliveryLog::new(storage.clone(), config.delivery_log_size),
            storage,
            guard,
            config,
            metrics,
        })
    }

    /// The endpoints' registry, for the admin API and shutdown.
    pub fn registry(&self) -> &Registry<Endpoints> {
        &self.endpoints
    }

    /// Starts delivering to every enabled endpoint.
    pub fn start(&self) -> BackgroundTask {
        let webhooks = self.clone();
        BackgroundTask::spawn("webhook dispatcher", move |stop| dispatcher::run(webhooks, stop))
    }

    async fn call(&self, command: EndpointsCommand) -> Result<EndpointMap, WebhookError> {
        Ok(self.endpoints.call(ID, command).await??)
    }

    /// Every endpoint.
    pub async fn list(&self) -> Result<Vec<Endpoint>, WebhookError> {
        Ok(self.call(EndpointsCommand::List).await?.values().cloned().collect())
    }

    /// Endpoint `id`.
    pub async fn get(&self, id: &str) -> Result<Endpoint, WebhookError> {
        let all = self.call(EndpointsCommand::List).await?;
        all.get(id)
            .cloned()
            .ok_or_else(|| EndpointError::NotFound(id.to_string()).into())
    }

    /// Registers an endpoint; it receives the events published from now on.
    pub async fn create(&self, url: &str, types: Vec<String>, description: String) -> Result<Created, WebhookError> {
        let url = self.guard.check(url).await?.to_string();
        let event_types = checked_types(types)?;
        if description.chars().count() > MAX_DESCRIPTION {
            return Err(WebhookError::Description);
        }
        let now = now_millis();
        let secret = secret();
        let endpoint = Endpoint {
            id: endpoint_id(),
            url,
            event_types,
            description,
            status: Status::Enabled,
            secrets: vec![endpoints::Secret {
                key: secret.clone(),
                until: None,
            }],
            created_at: now,
            updated_at: now,
        };
        // Its cursor first: the delivery loop starts once the endpoint exists.
        let storage = self.storage.clone();
        let next = tokio::task::spawn_blocking(move || storage.last_event_seq())
            .await
            .map_err(|err| StorageError::Sled(err.to_string()))??
            .map_or(0, |last| last + 1);
        self.cursors
            .call(&cursor_name(&endpoint.id), CursorCommand::MoveTo(next))
            .await?;
        let all = self.call(EndpointsCommand::Create(Box::new(endpoint.clone()))).await?;
        let endpoint = all.get(&endpoint.id).cloned().unwrap_or(endpoint);
        Ok(Created { endpoint, secret })
    }

    /// Changes endpoint `id` (an operator disabling it gives `reason`).
    pub async fn update(&self, id: &str, mut patch: EndpointPatch, reason: &str) -> Result<Endpoint, WebhookError> {
        if let Some(url) = &patch.url {
            patch.url = Some(self.guard.check(url).await?.to_string());
        }
        if let Some(types) = patch.event_types.take() {
            patch.event_types = Some(checked_types(types)?);
        }
        if patch
            .description
            .as_ref()
            .is_some_and(|text| text.chars().count() > MAX_DESCRIPTION)
        {
            return Err(WebhookError::Description);
        }
        let command = EndpointsCommand::Change {
            id: id.to_string(),
            patch,
            reason: reason.to_string(),
        };
        let all = self.call(command).await?;
        all.get(id)
            .cloned()
            .ok_or_else(|| EndpointError::NotFound(id.to_string()).into())
    }

    /// Removes endpoint `id` and its delivery log.
    pub async fn delete(&self, id: &str) -> Result<(), WebhookError> {
        self.call(EndpointsCommand::Delete(id.to_string())).await?;
        self.log.forget(id)?;
        Ok(())
    }

    /// A new secret for endpoint `id`; the old ones sign until the answer's time.
    pub async fn rotate(&self, id: &str) -> Result<(String, u64), WebhookError> {
        let secret = secret();
        let overlap_until = now_millis() + self.config.secret_overlap.as_millis() as u64;
        let command = EndpointsCommand::Rotate {
            id: id.to_string(),
            secret: secret.clone(),
            overlap_until,
        };
        self.call(command).await?;
        Ok((secret, overlap_until))
    }

    /// Endpoint `id`'s newest `limit` attempts.
    pub async fn deliveries(&self, id: &str, limit: usize) -> Result<Vec<Attempt>, WebhookError> {
        self.get(id).await?;
        let log = self.log.clone();
        let id = id.to_string();
        Ok(tokio::task::spawn_blocking(move || log.latest(&id, limit))
            .await
            .map_err(|err| StorageError::Sled(err.to_string()))??)
    }

    /// Where endpoint `id`'s delivery stands in the log.
    pub async fn progress(&self, id: &str) -> Result<Progress, WebhookError> {
        let next_seq = self.cursors.call(&cursor_name(id), CursorCommand::Read).await?;
        let storage = self.storage.clone();
        let behind = tokio::task::spawn_blocking(move || news_behind(&storage, next_seq))
            .await
            .map_err(|err| StorageError::Sled(err.to_string()))??;
        Ok(Progress { next_seq, behind })
    }

    /// Sends event `event_id` (`evt_<sequence>`) to endpoint `id` once more,
    /// now, outside its order; answers the attempt (also in the log).
    pub async fn replay_event(&self, id: &str, event_id: &str) -> Result<Attempt, WebhookError> {
        let endpoint = self.get(id).await?;
        let event = self.event(event_id).await?;
        if !endpoint.wants(event.event_type) {
            return Err(WebhookError::NotWanted {
                event: event.id,
                event_type: event.event_type.into(),
                endpoint: endpoint.id,
            });
        }
        let attempt = self.sender.send(&endpoint, &event, 1, true).await;
        self.metrics.attempts.with_label_values(&[attempt.result.name()]).inc();
        self.log.record(id, &attempt)?;
        Ok(attempt)
    }

    /// Delivers everything from log position `from_sequence` to endpoint
    /// `id` again, in order (the delivery loop resumes there).
    pub async fn replay_from(&self, id: &str, from_sequence: u64) -> Result<(), WebhookError> {
        self.get(id).await?;
        self.cursors
            .call(&cursor_name(id), CursorCommand::MoveTo(from_sequence))
            .await?;
        Ok(())
    }

    /// The published event `evt_<sequence>`.
    async fn event(&self, event_id: &str) -> Result<PublicEvent, WebhookError> {
        let not_found = || WebhookError::EventNotFound(event_id.to_string());
        let sequence: u64 = event_id
            .strip_prefix("evt_")
            .and_then(|seq| seq.parse().ok())
            .ok_or_else(not_found)?;
        let storage = self.storage.clone();
        let entries = tokio::task::spawn_blocking(move || storage.read_event_log(sequence, 1))
            .await
            .map_err(|err| StorageError::Sled(err.to_string()))??;
        let entry = entries.first().ok_or_else(not_found)?;
        publish(entry)?
            .into_iter()
            .find(|event| event.sequence == sequence)
            .ok_or_else(not_found)
    }
}
