//! Events out: the catalogue as published, NATS JetStream, webhooks.

mod asyncapi;
mod jetstream;
mod nats;
mod proxy;
pub mod receiver;
mod script;
mod webhooks;
