//! The AsyncAPI 3 document of the published events, served at
//! `/asyncapi.json`: one channel per event type (its NATS subject is the
//! address; webhooks deliver the same message to an endpoint's URL), and the
//! payload schemas derived from the very structs the catalogue serializes.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::catalogue::{event_types, Schemas};

/// The NATS subject of events of type `event_type`.
pub fn subject(event_type: &str) -> String {
    format!("mercato.{event_type}")
}

/// The document.
pub fn document() -> Value {
    let mut schemas = Schemas::new();
    let mut channels = Map::new();
    let mut operations = Map::new();
    let mut messages = Map::new();
    for event_type in event_types() {
        let name = event_type.name;
        let data = (event_type.data)(&mut schemas);
        messages.insert(
            name.into(),
            json!({
                "name": name,
                "title": name,
                "summary": event_type.summary,
                "contentType": "application/json",
                "payload": envelope(name, &data),
            }),
        );
        channels.insert(
            name.into(),
            json!({
                "address": subject(name),
                "description": format!("Every `{name}` event, in log order."),
                "messages": { name: { "$ref": format!("#/components/messages/{name}") } },
            }),
        );
        operations.insert(
            name.into(),
            json!({
                "action": "send",
                "summary": event_type.summary,
                "channel": { "$ref": format!("#/channels/{name}") },
                "messages": [{ "$ref": format!("#/channels/{name}/messages/{name}") }],
            }),
        );
    }
    let schemas: BTreeMap<String, Value> = schemas
        .into_iter()
        .map(|(name, schema)| (name, serde_json::to_value(schema).unwrap_or_default()))
        .collect();
    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "Mercato events",
            "version": "1",
            "description": DESCRIPTION,
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": { "messages": messages, "schemas": schemas },
    })
}

const DESCRIPTION: &str = "What Mercato publishes from its domain event log, at least once and in \
log order per sink. Webhooks follow the Standard Webhooks specification (headers `webhook-id` = \
the event id, `webhook-timestamp`, `webhook-signature`, v1 HMAC-SHA256); on NATS JetStream each \
event goes to subject `mercato.<type>` with `Nats-Msg-Id` = the event id. De-duplicate by `id`; \
`sequence` orders the events of a subject. A breaking change gets a new type name.";

/// The payload schema of events of type `name` whose `data` is schema `data`.
fn envelope(name: &str, data: &str) -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["id", "type", "occurred_at", "sequence", "subject", "data"],
        "properties": {
            "id": { "type": "string", "pattern": "^evt_[0-9]+$", "description": "Unique; the same on every redelivery." },
            "type": { "type": "string", "const": name },
            "occurred_at": { "type": "string", "format": "date-time" },
            "sequence": { "type": "integer", "minimum": 1, "description": "The event's number in the log: orders the events of a subject." },
            "subject": { "type": "string", "description": "The entity: orders/<id>, skus/<sku>, products/<id>, categories/<id>, customers/<id>, carts/<id>." },
            "data": { "$ref": format!("#/components/schemas/{data}") },
        },
    })
}
