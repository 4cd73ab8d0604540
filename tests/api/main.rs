//! Integration tests: the real server on a free port, real sled in a temp dir.

mod account_durability;
mod accounts;
mod authz;
mod authz_removals;
mod cart_socket;
mod carts;
mod catalog;
mod checkout_cart;
mod checkout_prices;
mod checkout_races;
mod durability;
mod fake_stripe;
mod helpers;
mod inventory;
mod lifecycle;
mod notifications;
mod ops;
mod order_access;
mod order_crashes;
mod orders;
mod rate_limits;
mod refunds;
mod search;
mod seed;
mod stripe;
mod validation;
