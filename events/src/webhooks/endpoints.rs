//! Webhook endpoints as pure state (the `webhooks/all` entity's): what an
//! operator registered, the signing secrets, enabled or not. No I/O: the URL's
//! safety is checked by the front door ([`super::guard`]), secrets are made
//! there too, and come in with the commands.

use std::collections::BTreeMap;
use std::sync::Arc;

use mercato_actors::runtime::UnixMillis;
use serde::{Deserialize, Serialize};

/// Endpoints an installation may have.
pub const MAX_ENDPOINTS: usize = 50;
/// What `event_types` may hold besides type names: every type.
pub const ALL_TYPES: &str = "*";

/// A signing secret (`whsec_` + base64); an old one signs until `until`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Secret {
    pub key: String,
    /// `None`: the current secret.
    pub until: Option<UnixMillis>,
}

/// Never the key: the console's actor page shows an entity's state as its
/// `Debug`, and a secret is shown once, to an admin, when it is made.
impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secret")
            .field("key", &"whsec_…")
            .field("until", &self.until)
            .finish()
    }
}

/// Whether deliveries go out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    Enabled,
    /// By an operator, by a `410 Gone`, or after failing for days.
    Disabled {
        reason: String,
        at: UnixMillis,
    },
}

/// One endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// `wh_` + 16 hex digits.
    pub id: String,
    pub url: String,
    /// Type names, or `*`.
    pub event_types: Vec<String>,
    pub description: String,
    pub status: Status,
    /// The current secret first; older ones while they still sign.
    pub secrets: Vec<Secret>,
    pub created_at: UnixMillis,
    pub updated_at: UnixMillis,
}

impl Endpoint {
    /// Whether events of `event_type` go to it.
    pub fn wants(&self, event_type: &str) -> bool {
        self.event_types
            .iter()
            .any(|wanted| wanted == ALL_TYPES || wanted == event_type)
    }

    /// The secrets that sign at `now`.
    pub fn signing_secrets(&self, now: UnixMillis) -> impl Iterator<Item = &str> {
        self.secrets
            .iter()
            .filter(move |secret| secret.until.is_none_or(|until| until > now))
            .map(|secret| secret.key.as_str())
    }

    /// Whether deliveries go out.
    pub fn enabled(&self) -> bool {
        self.status == Status::Enabled
    }
}

/// What an operator changes (`None`: stays).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointPatch {
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub description: Option<String>,
    /// `Some(true)`: enable; `Some(false)`: disable (by an operator).
    pub enabled: Option<bool>,
}

/// A change of the endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EndpointEvent {
    Created(Endpoint),
    /// The whole endpoint as it is now.
    Changed(Endpoint),
    Deleted {
        id: String,
    },
}

/// Why a change is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error("no webhook endpoint {0}")]
    NotFound(String),
    #[error("at most {MAX_ENDPOINTS} webhook endpoints")]
    TooMany,
    #[error("an endpoint with id {0} exists")]
    Exists(String),
}

/// Every endpoint; also the entity's snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoints {
    pub by_id: BTreeMap<String, Endpoint>,
}

impl Endpoints {
    /// Decides adding `endpoint`.
    pub fn create(&self, endpoint: Endpoint) -> Result<EndpointEvent, EndpointError> {
        if self.by_id.contains_key(&endpoint.id) {
            return Err(EndpointError::Exists(endpoint.id));
        }
        if self.by_id.len() >= MAX_ENDPOINTS {
            return Err(EndpointError::TooMany);
        }
        Ok(EndpointEvent::Created(endpoint))
    }

    fn get(&self, id: &str) -> Result<&Endpoint, EndpointError> {
        self.by_id
            .get(id)
            .ok_or_else(|| EndpointError::NotFound(id.to_string()))
    }

    /// Decides a change; `None` when it changes nothing.
    pub fn change(
        &self,
        id: &str,
        patch: EndpointPatch,
        reason: &str,
        now: UnixMillis,
    ) -> Result<Option<EndpointEvent>, EndpointError> {
        let current = self.get(id)?;
        let mut changed = current.clone();
        if let Some(url) = patch.url {
            changed.url = url;
        }
        if let Some(types) = patch.event_types {
            changed.event_types = types;
        }
        if let Some(description) = patch.description {
            changed.description = description;
        }
        match (patch.enabled, current.enabled()) {
            (Some(true), false) => changed.status = Status::Enabled,
            (Some(false), true) => {
                changed.status = Status::Disabled {
                    reason: reason.to_string(),
                    at: now,
                }
            }
            _ => {}
        }
        if changed == *current {
            return Ok(None);
        }
        changed.updated_at = now;
        Ok(Some(EndpointEvent::Changed(changed)))
    }

    /// Decides a new current secret; the old ones sign until `overlap_until`.
    pub fn rotate(
        &self,
        id: &str,
        secret: String,
        overlap_until: UnixMillis,
        now: UnixMillis,
    ) -> Result<EndpointEvent, EndpointError> {
        let mut changed = self.get(id)?.clone();
        for old in &mut changed.secrets {
            old.until = Some(old.until.map_or(overlap_until, |until| until.min(overlap_until)));
        }
        changed.secrets.retain(|old| old.until.is_none_or(|until| until > now));
        changed.secrets.insert(
            0,
            Secret {
                key: secret,
                until: None,
            },
        );
        changed.updated_at = now;
        Ok(EndpointEvent::Changed(changed))
    }

    /// Decides removing endpoint `id`.
    pub fn delete(&self, id: &str) -> Result<EndpointEvent, EndpointError> {
        self.get(id)?;
        Ok(EndpointEvent::Deleted { id: id.to_string() })
    }

    /// Applies one event.
    pub fn apply(&mut self, event: &EndpointEvent) {
        match event {
            EndpointEvent::Created(endpoint) | EndpointEvent::Changed(endpoint) => {
                self.by_id.insert(endpoint.id.clone(), endpoint.clone());
            }
            EndpointEvent::Deleted { id } => {
                self.by_id.remove(id);
            }
        }
    }

    /// A shared copy, for readers that must not wait on the entity.
    pub fn snapshot(&self) -> Arc<BTreeMap<String, Endpoint>> {
        Arc::new(self.by_id.clone())
    }
}

#[cfg(test)]
mod tests;
