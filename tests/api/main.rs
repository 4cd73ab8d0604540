//! Integration tests: the real server on a free port, real sled in a temp dir.

mod durability;
mod helpers;
mod inventory;
mod lifecycle;
mod ops;
mod validation;
