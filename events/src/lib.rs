//! Events out (DESIGN §9): the public, versioned shape of the domain events
//! ([`catalogue`]), the AsyncAPI document that lists them ([`asyncapi`]), and
//! the sinks that follow the event log from their own persisted cursors
//! ([`follower`]): NATS JetStream ([`nats`]).

pub mod asyncapi;
pub mod catalogue;
pub mod cursor;
pub mod follower;
pub mod metrics;
pub mod nats;
pub mod webhooks;
