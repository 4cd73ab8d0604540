//! Routes, one module per area of DESIGN §4.

pub mod actors;
pub mod categories;
pub mod inventory;
pub mod ops;
pub mod products;
pub mod search;
