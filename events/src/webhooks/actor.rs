//! The endpoints as one entity (`webhooks/all`, kept alive): changes are
//! serialized and persisted like any other; its view is the whole map, which
//! deliveries read without a message.

use std::collections::BTreeMap;
use std::sync::Arc;

use mercato_actors::runtime::{Entity, UnixMillis};

use super::endpoints::{Endpoint, EndpointError, EndpointEvent, EndpointPatch, Endpoints};

/// The id of the one entity.
pub const ID: &str = "all";

/// What the endpoints are asked.
#[derive(Debug)]
pub enum EndpointsCommand {
    List,
    Create(Box<Endpoint>),
    Change {
        id: String,
        patch: EndpointPatch,
        /// Why, when it disables.
        reason: String,
    },
    Rotate {
        id: String,
        secret: String,
        overlap_until: UnixMillis,
    },
    Delete(String),
}

/// Every endpoint after the command.
pub type EndpointMap = Arc<BTreeMap<String, Endpoint>>;

/// The entity kind of the endpoints.
pub const KIND: &str = "webhooks";

impl Entity for Endpoints {
    const KIND: &'static str = KIND;
    const KEEP_ALIVE: bool = true;
    type Event = EndpointEvent;
    type Command = EndpointsCommand;
    type Reply = Result<EndpointMap, EndpointError>;
    type View = EndpointMap;

    fn new(_id: &str) -> Self {
        Endpoints::default()
    }

    fn apply(&mut self, event: &EndpointEvent) {
        Endpoints::apply(self, event);
    }

    fn handle(&mut self, command: EndpointsCommand, now: UnixMillis, events: &mut Vec<EndpointEvent>) -> Self::Reply {
        let event = match command {
            EndpointsCommand::List => None,
            EndpointsCommand::Create(endpoint) => Some(self.create(*endpoint)?),
            EndpointsCommand::Change { id, patch, reason } => self.change(&id, patch, &reason, now)?,
            EndpointsCommand::Rotate {
                id,
                secret,
                overlap_until,
            } => Some(self.rotate(&id, secret, overlap_until, now)?),
            EndpointsCommand::Delete(id) => Some(self.delete(&id)?),
        };
        if let Some(event) = event {
            Endpoints::apply(self, &event);
            events.push(event);
        }
        Ok(self.snapshot())
    }

    fn settle(&mut self, _now: UnixMillis, _events: &mut Vec<EndpointEvent>) {}

    fn next_deadline(&self) -> Option<UnixMillis> {
        None
    }

    fn view(&self) -> EndpointMap {
        self.snapshot()
    }
}
