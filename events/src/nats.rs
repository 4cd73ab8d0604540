//! The NATS JetStream sink (`events.nats.url`): every published event goes to
//! subject `mercato.<type>` (the prefix is a setting) on a stream Mercato creates if missing, with
//! `Nats-Msg-Id` = the event id, so JetStream drops what a retry or a restart
//! sends twice (within the stream's duplicate window). Publishes of a batch
//! are pipelined on one connection, which the server handles in order; the
//! follower moves its cursor past the events JetStream acknowledged and
//! retries from the first one it did not. A broker that is down only makes
//! the sink lag: checkout never waits for it.

use std::time::Duration;

use async_nats::jetstream::{self, message::PublishMessage, stream};
use serde::Deserialize;

use crate::catalogue::PublicEvent;
use crate::follower::{Sink, Stopped};

/// `[events.nats]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatsConfig {
    /// `nats://host:port`; empty: no NATS sink.
    pub url: String,
    /// The JetStream stream, created with subjects `<subject_prefix>.>` if missing.
    pub stream: String,
    /// The first token of every subject (`mercato`).
    pub subject_prefix: String,
}

/// How long one connection attempt and one acknowledgement may take.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Publishes to JetStream.
pub struct NatsSink {
    config: NatsConfig,
    jetstream: Option<jetstream::Context>,
}

impl NatsSink {
    /// A sink that connects on its first delivery.
    pub fn new(config: NatsConfig) -> Self {
        NatsSink {
            config,
            jetstream: None,
        }
    }

    async fn connect(&mut self) -> Result<jetstream::Context, String> {
        if let Some(context) = &self.jetstream {
            return Ok(context.clone());
        }
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(TIMEOUT)
            .connect(&self.config.url)
            .await
            .map_err(|err| format!("cannot connect to NATS at {}: {err}", self.config.url))?;
        let mut context = jetstream::new(client);
        context.set_timeout(TIMEOUT);
        context
            .get_or_create_stream(stream::Config {
                name: self.config.stream.clone(),
                subjects: vec![format!("{}.>", self.config.subject_prefix)],
                ..Default::default()
            })
            .await
            .map_err(|err| format!("cannot find or create stream {}: {err}", self.config.stream))?;
        tracing::info!(url = %self.config.url, stream = %self.config.stream, "publishing events to NATS JetStream");
        self.jetstream = Some(context.clone());
        Ok(context)
    }
}

impl Sink for NatsSink {
    async fn deliver(&mut self, events: &[PublicEvent]) -> Result<(), Stopped> {
        let Some(first) = events.first() else {
            return Ok(());
        };
        let context = self.connect().await.map_err(|error| Stopped {
            resume_at: first.sequence,
            error,
            retry_in: None,
        })?;
        let mut acks = Vec::with_capacity(events.len());
        let mut refused = None;
        for event in events {
            let payload = serde_json::to_vec(event).unwrap_or_default();
            let message = PublishMessage::build().payload(payload.into()).message_id(&event.id);
            let subject = format!("{}.{}", self.config.subject_prefix, event.event_type);
            match context.send_publish(subject, message).await {
                Ok(ack) => acks.push((event.sequence, ack)),
                Err(err) => {
                    refused = Some(Stopped {
                        resume_at: event.sequence,
                        error: format!("NATS refused {}: {err}", event.id),
                        retry_in: None,
                    });
                    break;
                }
            }
        }
        for (sequence, ack) in acks {
            if let Err(err) = ack.await {
                return Err(Stopped {
                    resume_at: sequence,
                    error: format!("JetStream did not acknowledge event {sequence}: {err}"),
                    retry_in: None,
                });
            }
        }
        refused.map_or(Ok(()), Err)
    }
}
