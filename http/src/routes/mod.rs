//! Routes, one module per area of DESIGN §4.

pub mod actors;
pub mod analytics;
pub mod auth;
pub mod carts;
pub mod categories;
pub mod coupons;
pub mod dead_letters;
pub mod inventory;
pub mod me;
pub mod ops;
pub mod order_body;
pub mod orders;
pub mod payments;
pub mod products;
pub mod promotions;
pub mod recommendations;
pub mod reservation_groups;
pub mod search;
pub mod stock_events;
pub mod users;
pub mod views;
pub mod webhooks;
