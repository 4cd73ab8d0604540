//! The OpenAPI description, generated from the route annotations. Every public
//! route is listed here; a test checks the served document against the routes.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::openapi_responses::CommonResponses;
use crate::routes::{
    actors, analytics, auth, carts, categories, coupons, dead_letters, inventory, me, ops, orders, payments, products,
    promotions, recommendations, reservation_groups, search, stock_events, users, views, webhooks,
};
use crate::ws;

/// The API description served at `/openapi.json`.
#[derive(OpenApi)]
#[openapi(
    info(title = "Mercato", description = "Actor-based commerce runtime: HTTP API v1."),
    paths(
        ops::healthz, ops::readyz, ops::metrics, ops::openapi, ops::asyncapi, dead_letters::list,
        inventory::get_level, inventory::set_on_hand, inventory::adjust, inventory::reserve,
        inventory::commit, inventory::release, stock_events::stock_events,
        reservation_groups::reserve_group, reservation_groups::get_group, reservation_groups::commit_group, reservation_groups::release_group,
        categories::list, categories::get_one, categories::create, categories::update, categories::remove,
        search::search, products::get_one, products::create, products::update, products::archive,
        analytics::analytics, recommendations::for_product, recommendations::set_rules, views::record, views::mine, views::of_session,
        actors::list, actors::restart, actors::fault,
        auth::register, auth::login, auth::refresh, auth::logout,
        me::get_me, me::update_me, me::list_addresses, me::add_address, me::update_address, me::remove_address,
        users::get_user, users::set_role, users::delete_user,
        carts::create, carts::my_cart, carts::get_one, carts::add_item, carts::set_qty, carts::remove_item,
        carts::apply_coupon, carts::remove_coupon, ws::cart_socket,
        coupons::list, coupons::create, coupons::update, coupons::remove, promotions::create_promotion,
        promotions::remove_promotion,
        orders::checkout, orders::get_one, orders::my_orders, orders::cancel, orders::transition,
        payments::stripe_webhook,
        webhooks::list, webhooks::create, webhooks::get_one, webhooks::update, webhooks::remove, webhooks::rotate,
        webhooks::deliveries, webhooks::replay,
    ),
    modifiers(&OperatorToken, &CommonResponses),
    tags(
        (name = "ops", description = "Health, readiness, metrics"),
        (name = "inventory", description = "Stock levels and reservations"),
        (name = "catalog", description = "Categories, products and search"),
        (name = "actors", description = "Entity actors, for operators"),
        (name = "accounts", description = "Registration, tokens, profile, address book, user admin"),
        (name = "carts", description = "Carts, live cart WebSocket, coupons and promotions"),
        (name = "orders", description = "Checkout, orders, payments"),
        (name = "events", description = "Events out: webhook endpoints (the events are in /asyncapi.json)"),
    )
)]
pub struct ApiDoc;

struct OperatorToken;

impl Modify for OperatorToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "operator_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The static operator token, or the access token of a user whose role allows the route",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "access_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("A user's access token from /v1/auth/login, /register or /refresh"))
                    .build(),
            ),
        );
    }
}
