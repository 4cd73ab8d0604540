//! Routes, one module per area of DESIGN §4.

pub mod actors;
pub mod inventory;
pub mod ops;
