//! The public event catalogue: a stable mapping of the internal domain
//! events (bincode, free to change) to what integrators receive,
//! `{id, type, occurred_at, sequence, subject, data}`.
//!
//! - `id` is `evt_<sequence>`: one internal event maps to at most one public
//!   event, so the id is unique and the same on every redelivery.
//! - `sequence` is the event's number in the global log: it orders the
//!   events of one subject (and of the whole shop).
//! - `occurred_at` is when the event was written (the log record's time).
//! - `subject` names the entity: `orders/<id>`, `skus/<sku>`,
//!   `products/<id>`, `categories/<id>`, `customers/<id>`, `carts/<id>`.
//!
//! A change that would break a consumer gets a new type name (`….v2`); the
//! shapes below only ever gain optional fields.

mod customers;
mod orders;
mod products;
mod stock;

use std::time::{Duration, UNIX_EPOCH};

use mercato_actors::storage::event_log::LoggedEvents;
use mercato_actors::storage::{codec, StorageError};
use serde::de::DeserializeOwned;
use serde::Serialize;
use utoipa::openapi::{RefOr, Schema};
use utoipa::ToSchema;

/// One published event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublicEvent {
    /// `evt_<sequence>`; the same on every redelivery.
    pub id: String,
    /// The event type (`order.placed`, ...).
    #[serde(rename = "type")]
    pub event_type: &'static str,
    /// RFC 3339, milliseconds, UTC.
    pub occurred_at: String,
    /// The event's number in the global log.
    pub sequence: u64,
    /// The entity it is about.
    pub subject: String,
    /// The type's payload.
    pub data: serde_json::Value,
}

/// What a kind's mapping makes of one internal event.
pub struct Mapped {
    event_type: &'static str,
    subject: String,
    data: serde_json::Value,
}

impl Mapped {
    fn new(event_type: &'static str, subject: String, data: impl Serialize) -> Self {
        Mapped {
            event_type,
            subject,
            // Plain structs of strings and numbers: encoding cannot fail.
            data: serde_json::to_value(data).unwrap_or_default(),
        }
    }
}

/// The schemas an AsyncAPI document collects: `(name, schema)`.
pub type Schemas = Vec<(String, RefOr<Schema>)>;

/// A published event type.
pub struct EventType {
    /// `order.placed`, ...
    pub name: &'static str,
    /// One line on when it is published.
    pub summary: &'static str,
    /// Adds the payload's schema (and what it refers to) to `schemas` and
    /// answers its name.
    pub data: fn(&mut Schemas) -> String,
}

/// [`EventType::data`] for payload type `T`.
fn schema_of<T: ToSchema>(schemas: &mut Schemas) -> String {
    let name = T::name().into_owned();
    schemas.push((name.clone(), T::schema()));
    T::schemas(schemas);
    name
}

/// Every published event type.
pub fn event_types() -> impl Iterator<Item = &'static EventType> {
    orders::TYPES
        .iter()
        .chain(stock::TYPES)
        .chain(products::TYPES)
        .chain(customers::TYPES)
}

/// The public events of one log entry, in order (internal-only events are
/// left out).
pub fn publish(entry: &LoggedEvents) -> Result<Vec<PublicEvent>, StorageError> {
    let mapped = match entry.kind.as_str() {
        "order" => map_all(entry, orders::order)?,
        "cart" => map_all(entry, orders::cart)?,
        "sku" => map_all(entry, stock::sku)?,
        "catalog" => map_all(entry, products::catalog)?,
        "user" => map_all(entry, customers::user)?,
        _ => Vec::new(),
    };
    let occurred_at = rfc3339(entry.written_at.unwrap_or_else(mercato_actors::runtime::now_millis));
    Ok(mapped
        .into_iter()
        .map(|(sequence, mapped)| PublicEvent {
            id: format!("evt_{sequence}"),
            event_type: mapped.event_type,
            occurred_at: occurred_at.clone(),
            sequence,
            subject: mapped.subject,
            data: mapped.data,
        })
        .collect())
}

fn map_all<E: DeserializeOwned>(
    entry: &LoggedEvents,
    map: fn(&str, E) -> Option<Mapped>,
) -> Result<Vec<(u64, Mapped)>, StorageError> {
    let mut out = Vec::new();
    let mut sequence = entry.first_seq;
    codec::decode_all::<E>(&entry.events, |event| {
        if let Some(mapped) = map(&entry.id, event) {
            out.push((sequence, mapped));
        }
        sequence += 1;
    })?;
    Ok(out)
}

/// Unix milliseconds as RFC 3339.
pub fn rfc3339(millis: u64) -> String {
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(millis)).to_string()
}

#[cfg(test)]
mod tests;
