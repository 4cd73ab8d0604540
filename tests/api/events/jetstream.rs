//! Reading what Mercato published on a JetStream stream (the real server at
//! 127.0.0.1:4222), and a stream and subject prefix of each test's own.

use std::collections::HashSet;
use std::time::Duration;

use async_nats::jetstream;
use serde_json::Value;

use super::script::Session;

pub const NATS: &str = "127.0.0.1:4222";

/// A fresh stream name and subject prefix.
pub fn unique_names() -> (String, String) {
    let tag: String = uuid_like();
    (format!("TEST_{tag}"), format!("t{tag}"))
}

fn uuid_like() -> String {
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).unwrap();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One stored message.
#[derive(Debug, Clone)]
pub struct Received {
    pub subject: String,
    pub msg_id: String,
    pub event: Value,
}

pub async fn connect() -> jetstream::Context {
    jetstream::new(async_nats::connect(NATS).await.expect("NATS at 127.0.0.1:4222"))
}

/// Every message of `stream`, in stream order (empty if it is not there yet).
pub async fn read_stream(js: &jetstream::Context, stream: &str) -> Vec<Received> {
    let Ok(mut handle) = js.get_stream(stream).await else {
        return Vec::new();
    };
    let state = handle.info().await.unwrap().state.clone();
    let mut out = Vec::new();
    if state.messages == 0 {
        return out;
    }
    for seq in state.first_sequence..=state.last_sequence {
        let message = handle.get_raw_message(seq).await.unwrap();
        let msg_id = message
            .headers
            .get("Nats-Msg-Id")
            .map(|value| value.as_str().to_string())
            .unwrap_or_default();
        out.push(Received {
            subject: message.subject.to_string(),
            msg_id,
            event: serde_json::from_slice(&message.payload).unwrap(),
        });
    }
    out
}

/// Waits (60 s at most) until `done` holds for what `stream` holds; answers the messages.
pub async fn wait_until(js: &jetstream::Context, stream: &str, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let got = read_stream(js, stream).await;
        if done(&got) {
            return got;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the events did not all arrive; got {got:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until every event `session` expects is on `stream`.
pub async fn wait_for_session(js: &jetstream::Context, stream: &str, session: &Session) -> Vec<Received> {
    let expected = session.expected();
    let wanted: usize = expected.iter().map(|(_, types)| types.len()).sum();
    wait_until(js, stream, |got| {
        let of_session = |r: &&Received| {
            expected
                .iter()
                .any(|(subject, _)| r.event["subject"] == subject.as_str())
        };
        got.iter().filter(of_session).count() >= wanted
    })
    .await
}

/// Waits until every order of `orders` is confirmed on `stream`.
pub async fn wait_for_orders(js: &jetstream::Context, stream: &str, orders: &[String]) -> Vec<Received> {
    wait_until(js, stream, |got| {
        orders.iter().all(|order| {
            let subject = format!("orders/{order}");
            got.iter()
                .any(|r| r.event["subject"] == subject.as_str() && r.event["type"] == "order.confirmed")
        })
    })
    .await
}

/// Checks every message: each event once, under its subject with its id as
/// `Nats-Msg-Id`, in log order.
pub fn check_stream(received: &[Received], prefix: &str) {
    let mut ids = HashSet::new();
    let mut last = 0;
    for message in received {
        let event = &message.event;
        let id = event["id"].as_str().unwrap();
        assert!(ids.insert(id.to_string()), "{id} published twice");
        assert_eq!(message.msg_id, id);
        assert_eq!(message.subject, format!("{prefix}.{}", event["type"].as_str().unwrap()));
        let sequence = event["sequence"].as_u64().unwrap();
        assert!(sequence > last, "sequence {sequence} after {last}: out of order");
        last = sequence;
    }
}

/// [`check_stream`], and every subject of the session got exactly its events.
pub fn check_session(received: &[Received], prefix: &str, session: &Session) {
    check_stream(received, prefix);
    for (subject, types) in session.expected() {
        let seen: Vec<&str> = received
            .iter()
            .filter(|message| message.event["subject"] == subject.as_str())
            .map(|message| message.event["type"].as_str().unwrap())
            .collect();
        assert_eq!(seen, types, "the events of {subject}");
    }
}
