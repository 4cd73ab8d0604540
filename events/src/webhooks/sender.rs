//! Sends one event to one endpoint per the Standard Webhooks specification:
//! a `POST` of the event's JSON with `webhook-id` (the event id, stable
//! across retries), `webhook-timestamp` and `webhook-signature` (`v1,` +
//! base64 HMAC-SHA256 of `id.timestamp.body`, one per secret that signs now,
//! space-separated, made by the `standardwebhooks` crate). No redirect is
//! followed; the answer is read up to an excerpt.

use std::time::{Duration, Instant, SystemTime};

use mercato_actors::runtime::now_millis;
use serde::{Deserialize, Serialize};

use super::endpoints::Endpoint;
use super::guard::Guard;
use super::retry::parse_retry_after;
use crate::catalogue::PublicEvent;

/// Bytes of an answer kept in the delivery log.
const EXCERPT: usize = 256;

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Result {
    /// A 2xx answer.
    Delivered,
    /// Anything else; retried.
    Failed,
    /// `410 Gone`: the endpoint is disabled.
    Gone,
}

impl Result {
    /// The metric label.
    pub fn name(self) -> &'static str {
        match self {
            Result::Delivered => "delivered",
            Result::Failed => "failed",
            Result::Gone => "gone",
        }
    }
}

/// One attempt, as the delivery log keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub event_id: String,
    pub sequence: u64,
    pub event_type: String,
    /// 1 for the first try of this event in a row of failures.
    pub attempt: u32,
    /// Unix milliseconds.
    pub at: u64,
    pub result: Result,
    pub http_status: Option<u16>,
    /// Why it failed without an answer (timeout, refused connection, guard).
    pub error: Option<String>,
    pub latency_ms: u64,
    /// The start of the answer's body.
    pub response: String,
    /// Sent by an operator's replay, outside the endpoint's order.
    pub replay: bool,
    /// What the receiver asked in `Retry-After`, in seconds.
    pub retry_after_secs: Option<u64>,
}

/// The HTTP client of deliveries.
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    guard: Guard,
}

impl Sender {
    /// A client with `timeout` per attempt, resolving through `guard`.
    pub fn new(guard: Guard, timeout: Duration) -> reqwest::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(std::sync::Arc::new(guard))
            .user_agent(concat!("Mercato-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Sender { client, guard })
    }

    /// The `webhook-signature` header of `body` for `endpoint` at `timestamp`.
    pub fn signature(
        endpoint: &Endpoint,
        id: &str,
        timestamp: i64,
        body: &[u8],
    ) -> std::result::Result<String, String> {
        let mut signatures = Vec::new();
        for secret in endpoint.signing_secrets(now_millis()) {
            let signer = standardwebhooks::Webhook::new(secret).map_err(|err| format!("bad secret: {err}"))?;
            signatures.push(signer.sign(id, timestamp, body).map_err(|err| err.to_string())?);
        }
        Ok(signatures.join(" "))
    }

    /// Posts `event` to `endpoint` once.
    pub async fn send(&self, endpoint: &Endpoint, event: &PublicEvent, attempt: u32, replay: bool) -> Attempt {
        let started = Instant::now();
        let mut record = Attempt {
            event_id: event.id.clone(),
            sequence: event.sequence,
            event_type: event.event_type.to_string(),
            attempt,
            at: now_millis(),
            result: Result::Failed,
            http_status: None,
            error: None,
            latency_ms: 0,
            response: String::new(),
            replay,
            retry_after_secs: None,
        };
        match self.post(endpoint, event).await {
            Ok(response) => {
                let status = response.status();
                record.http_status = Some(status.as_u16());
                record.retry_after_secs = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| parse_retry_after(value, SystemTime::now()))
                    .map(|wait| wait.as_secs());
                record.result = if status.is_success() {
                    Result::Delivered
                } else if status == reqwest::StatusCode::GONE {
                    Result::Gone
                } else {
                    Result::Failed
                };
                let body = response.bytes().await.unwrap_or_default();
                record.response = String::from_utf8_lossy(&body[..body.len().min(EXCERPT)]).into_owned();
            }
            Err(error) => record.error = Some(error),
        }
        record.latency_ms = started.elapsed().as_millis() as u64;
        record
    }

    async fn post(&self, endpoint: &Endpoint, event: &PublicEvent) -> std::result::Result<reqwest::Response, String> {
        let url = Guard::parse(&endpoint.url).map_err(|err| err.to_string())?;
        self.guard.literal_allowed(&url).map_err(|err| err.to_string())?;
        let body = serde_json::to_vec(event).map_err(|err| err.to_string())?;
        let timestamp = (now_millis() / 1000) as i64;
        let signature = Self::signature(endpoint, &event.id, timestamp, &body)?;
        self.client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &event.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await
            .map_err(|err| describe(&err))
    }
}

/// A client error in words, with its cause (reqwest's own message is terse).
fn describe(err: &reqwest::Error) -> String {
    let mut text = if err.is_timeout() {
        "timed out".to_string()
    } else if err.is_connect() {
        "cannot connect".to_string()
    } else {
        err.to_string()
    };
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
