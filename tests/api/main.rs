//! Integration tests: the real server on a free port, real sled in a temp dir.

mod catalog;
mod durability;
mod helpers;
mod inventory;
mod lifecycle;
mod ops;
mod search;
mod seed;
mod validation;
