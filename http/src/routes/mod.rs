//! Routes, one module per area of DESIGN §4.

pub mod actors;
pub mod auth;
pub mod categories;
pub mod inventory;
pub mod me;
pub mod ops;
pub mod products;
pub mod search;
pub mod users;
