//! # mercato-actors
//!
//! The entity runtime and the domain actors of Mercato.
//!
//! # Layout
//!
//! - [`runtime`]: virtual actors addressed by `(kind, id)`: activation,
//!   passivation, placement on arbiters, supervision. Knows nothing of commerce.
//! - [`storage`]: the sled database, the group-commit thread, the key layout and
//!   the record codec.
//! - [`sku`]: SKU stock counters: on hand, reservations with TTL, commits.
//! - [`reservation_group`]: all-or-nothing reservations over several SKUs,
//!   for other services.
//! - [`account`]: users, unique e-mails, refresh-token sessions, address books,
//!   password hashing.
//! - [`catalog`]: the category tree and the products (one entity), and a price
//!   table by SKU.
//! - [`cart`]: carts (one actor each), their pricing and live views.
//! - [`promotion`]: coupons and automatic promotions (one entity).
//! - [`order`]: orders and the checkout saga; [`payment`]: payment gateways;
//!   [`notify`]: order mails from the event log.
//! - [`recommend`]: "customers also bought", a read model of confirmed orders,
//!   with operators' pins and blocks.
//! - [`analytics`]: orders, revenue, refunds and best sellers over a range,
//!   a read model of the order events.
//! - [`views`]: product views in a log of their own, and each viewer's
//!   recently viewed products.
//! - [`search`]: the catalog's search index (tantivy), a read model fed by the
//!   catalog facade.
//! - [`digest`]: 16-byte digests of ids, for what keeps many of them.
//! - [`money`]: amounts in minor units written for people ("€12.50").
//! - [`metrics`]: every Prometheus metric of this crate.
//!
//! Each entity kind has a folder with `state.rs` (the pure state machine: no actix,
//! no sled), `messages.rs` (what callers send and get back) and `actor.rs` (the glue
//! that lets the runtime run the state).

pub mod account;
pub mod analytics;
pub mod cart;
pub mod catalog;
pub mod digest;
pub mod metrics;
pub mod money;
pub mod notify;
pub mod order;
pub mod payment;
pub mod promotion;
pub mod read_model;
pub mod recommend;
pub mod reservation_group;
pub mod runtime;
pub mod search;
pub mod sku;
pub mod storage;
#[cfg(test)]
mod test_rng;
pub mod views;
