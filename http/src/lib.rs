//! # mercato-http
//!
//! The HTTP layer: turns requests into messages to entity actors.
//!
//! # Layout
//!
//! - [`routes`]: one module per area (`ops`, `inventory`, `categories`,
//!   `products`, `search`, `actors`, `auth`, `me`, `users`, `carts`, `coupons`,
//!   `orders`, `payments`);
//! - [`errors`]: the one [`errors::ApiError`] and the mapping of every failure;
//! - [`auth`]: who is calling (operator token or JWT) and what their role allows;
//! - [`ws`]: the live cart over WebSocket;
//! - [`rate_limit`]: attempts per IP and account on the account routes;
//! - [`validate`]: value checks types cannot express;
//! - [`format`]: how values such as times are written;
//! - [`patch`]: helpers for PATCH bodies;
//! - [`middleware`]: request id, tracing span and metrics per request;
//! - [`metrics`]: the HTTP metrics;
//! - [`openapi`]: the generated API description.

pub mod auth;
pub mod errors;
pub mod format;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod openapi_responses;
pub mod patch;
pub mod rate_limit;
pub mod routes;
pub mod validate;
pub mod ws;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use mercato_actors::account::Accounts;
use mercato_actors::cart::Carts;
use mercato_actors::catalog::Catalog;
use mercato_actors::notify::Notifier;
use mercato_actors::order::Orders;
use mercato_actors::promotion::Promotions;
use mercato_actors::runtime::ActorDirectory;
use mercato_actors::sku::Inventory;
use mercato_actors::storage::Storage;
use secrecy::SecretString;

use crate::auth::jwt::JwtKeys;
use crate::errors::ApiError;
use crate::metrics::HttpMetrics;
use crate::rate_limit::RateLimiter;

/// What every handler can reach.
pub struct AppState {
    /// SKU stock actors.
    pub inventory: Inventory,
    /// Stock of several SKUs held, sold or given back together.
    pub reservation_groups: mercato_actors::reservation_group::ReservationGroups,
    /// Categories, products and their search index.
    pub catalog: Catalog,
    /// Users, e-mail claims and sessions.
    pub accounts: Accounts,
    /// Carts.
    pub carts: Carts,
    /// Coupons and automatic promotions.
    pub promotions: Promotions,
    /// Orders and the checkout saga.
    pub orders: Orders,
    /// Order mails from the event log, and what it set aside.
    pub notifier: Notifier,
    /// Guests' order tokens and order-page links.
    pub order_links: mercato_actors::order::links::OrderLinks,
    /// The Stripe webhook signing secret, when Stripe takes payments.
    pub stripe_webhook_secret: Option<SecretString>,
    /// Signs and verifies access tokens.
    pub jwt: JwtKeys,
    /// Attempts on the account routes.
    pub limiter: RateLimiter,
    /// Every entity kind, for the admin API.
    pub directories: Vec<Arc<dyn ActorDirectory>>,
    /// The static operator token.
    pub admin_token: SecretString,
    /// HTTP metrics.
    pub metrics: HttpMetrics,
    /// Everything `/metrics` exports.
    pub prometheus: prometheus::Registry,
    /// Whether `/readyz` says ready; false once shutdown begins.
    pub ready: Arc<AtomicBool>,
    /// Storage, whose write failures `/readyz` reports.
    pub storage: Storage,
    /// Webhook endpoints and their deliveries.
    pub webhooks: mercato_events::webhooks::Webhooks,
    /// "Customers also bought", with operators' pins and blocks.
    pub recommendations: mercato_actors::recommend::Recommendations,
    /// Orders and revenue over a range, from the order events.
    pub analytics: mercato_actors::analytics::Analytics,
    /// Product views and recently viewed lists.
    pub views: mercato_actors::views::Views,
}

/// Limits and switches of the HTTP layer.
#[derive(Debug, Clone, Copy)]
pub struct HttpOptions {
    /// Largest accepted JSON body.
    pub body_limit_bytes: usize,
    /// Whether the fault-injection route exists.
    pub fault_injection: bool,
}

/// The JSON 404 of a path no route serves.
pub async fn no_route(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found(format!("no route {} {}", req.method(), req.path())))
}

/// Registers every route, the JSON and query error mapping, and the middleware.
/// Paths no route serves are left to the caller's default service (see
/// [`no_route`]).
pub fn configure(state: web::Data<AppState>, options: HttpOptions) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(state)
            .app_data(web::Data::new(options))
            .app_data(
                web::JsonConfig::default()
                    .limit(options.body_limit_bytes)
                    .error_handler(|err, _| errors::json_body_error(err).into()),
            )
            .app_data(web::QueryConfig::default().error_handler(|err, _| errors::query_error(err).into()))
            .app_data(web::PathConfig::default().error_handler(|err, _| ApiError::not_found(err.to_string()).into()))
            .service(routes::ops::healthz)
            .service(routes::ops::readyz)
            .service(routes::ops::metrics)
            .service(routes::ops::openapi)
            .service(routes::ops::asyncapi)
            // Scopes by first path segments: a request's path is matched (by the
            // router, and again for the metrics label) only against the patterns
            // of its scope, not against every dynamic pattern of the API.
            .service(
                web::scope("/v1/carts")
                    .service(routes::carts::create)
                    .service(routes::orders::checkout)
                    .service(routes::carts::get_one)
                    .service(routes::carts::add_item)
                    .service(routes::carts::set_qty)
                    .service(routes::carts::remove_item)
                    .service(routes::carts::apply_coupon)
                    .service(routes::carts::remove_coupon)
                    .service(ws::cart_socket),
            )
            .service(
                web::scope("/v1/inventory")
                    // The hot route first (each dynamic pattern tried is a regex);
                    // its two segments ending in "reservations" match no group route.
                    .service(routes::inventory::reserve)
                    // Before the other SKU routes, whose `{sku}` would take "reservations".
                    .service(routes::reservation_groups::reserve_group)
                    .service(routes::reservation_groups::get_group)
                    .service(routes::reservation_groups::commit_group)
                    .service(routes::reservation_groups::release_group)
                    .service(routes::inventory::get_level)
                    .service(routes::stock_events::stock_events)
                    .service(routes::inventory::set_on_hand)
                    .service(routes::inventory::adjust)
                    .service(routes::inventory::commit)
                    .service(routes::inventory::release),
            )
            .service(
                web::scope("/v1/products")
                    .service(routes::search::search)
                    .service(routes::products::get_one)
                    .service(routes::recommendations::for_product)
                    .service(routes::views::record)
                    .service(routes::products::create)
                    .service(routes::products::update)
                    .service(routes::products::archive),
            )
            .service(
                web::scope("/v1/categories")
                    .service(routes::categories::list)
                    .service(routes::categories::get_one)
                    .service(routes::categories::create)
                    .service(routes::categories::update)
                    .service(routes::categories::remove),
            )
            .service(
                web::scope("/v1/orders")
                    .service(routes::orders::get_one)
                    .service(routes::orders::cancel),
            )
            .service(
                web::scope("/v1/auth")
                    .service(routes::auth::register)
                    .service(routes::auth::login)
                    .service(routes::auth::refresh)
                    .service(routes::auth::logout),
            )
            .service(
                web::scope("/v1/me")
                    .service(routes::me::get_me)
                    .service(routes::me::update_me)
                    .service(routes::me::list_addresses)
                    .service(routes::me::add_address)
                    .service(routes::me::update_address)
                    .service(routes::me::remove_address)
                    .service(routes::carts::my_cart)
                    .service(routes::orders::my_orders)
                    .service(routes::views::mine),
            )
            .service(web::scope("/v1/sessions").service(routes::views::of_session))
            .service(web::scope("/v1/payments").service(routes::payments::stripe_webhook));
        let mut admin = web::scope("/v1/admin")
            .service(routes::actors::list)
            .service(routes::actors::restart)
            .service(routes::dead_letters::list)
            .service(routes::users::get_user)
            .service(routes::users::set_role)
            .service(routes::users::delete_user)
            .service(routes::coupons::list)
            .service(routes::coupons::create)
            .service(routes::coupons::update)
            .service(routes::coupons::remove)
            .service(routes::promotions::create_promotion)
            .service(routes::promotions::remove_promotion)
            .service(routes::orders::transition)
            .service(routes::recommendations::set_rules)
            .service(routes::analytics::analytics)
            .service(routes::webhooks::list)
            .service(routes::webhooks::create)
            .service(routes::webhooks::get_one)
            .service(routes::webhooks::update)
            .service(routes::webhooks::remove)
            .service(routes::webhooks::rotate)
            .service(routes::webhooks::deliveries)
            .service(routes::webhooks::replay);
        if options.fault_injection {
            admin = admin.service(routes::actors::fault);
        }
        cfg.service(admin);
    }
}
