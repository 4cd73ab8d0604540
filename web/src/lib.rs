//! # mercato-web
//!
//! The storefront and the operator console (`/admin`), served by the same
//! binary as the JSON API (DESIGN §8):
//! server-rendered pages that work without JavaScript, with small modules
//! that add what HTML cannot (the live cart over its WebSocket, live stock
//! over server-sent events). Pages call the same front doors as the JSON
//! routes (`mercato_http::routes::*`: `search_page`, `place_order`,
//! `readable_by`, the cart facade) and never reach the actors another way.
//!
//! Templates are askama: checked and compiled with the crate, so a template
//! that names a missing field does not build, and they escape by default.
//!
//! # Layout
//!
//! - [`console`]: the operator console, one module per page;
//! - [`pages`]: one module per storefront page: `home`, `listing` (search and
//!   categories), `product`, `cart`, `checkout`, `order`, `sign_in` (sign in,
//!   register, sign out), `account`, `seo` (robots, sitemap);
//! - [`page`]: the layout's data, rendering with the security headers (CSP
//!   without inline script), redirects;
//! - [`visitor`]: the browser's cookies (visitor id, guest cart, session) and
//!   the CSRF check of every state-changing form;
//! - [`view`]: money, stock and products as a page shows them;
//! - [`form`]: form errors in words, and the address fields;
//! - [`assets`]: the CSS and JS modules, embedded with content-hashed names;
//! - [`error`]: error pages.

pub mod assets;
pub mod console;
pub mod error;
pub mod form;
pub mod page;
pub mod pages;
pub mod view;
pub mod visitor;

use actix_web::web;

use crate::error::PageError;

/// What the pages need beyond the API's state.
pub struct WebState {
    /// Key of the HMAC that makes a visitor's CSRF token.
    csrf_key: [u8; 32],
    /// Whether cookies always get the Secure flag (behind a TLS proxy).
    secure_cookies: bool,
    /// The gateway the checkout page names.
    gateway: &'static str,
    /// `scheme://host[:port]` of `web.public_url`, accepted as a form's origin.
    public_origin: Option<String>,
    /// Whether the console offers to inject faults (`testing.fault_injection`).
    fault_injection: bool,
}

/// How the storefront is set up.
#[derive(Clone)]
pub struct WebOptions {
    /// Key of the HMAC that makes CSRF tokens (derived from the JWT secret).
    pub csrf_key: [u8; 32],
    /// Secure cookies even when the request came over plain HTTP (a TLS
    /// proxy in front).
    pub secure_cookies: bool,
    /// Whether Stripe takes payments (else the built-in gateway).
    pub stripe: bool,
    /// Where shoppers reach the shop (`web.public_url`), if configured.
    pub public_url: Option<String>,
    /// Whether the console offers to inject faults (`testing.fault_injection`).
    pub fault_injection: bool,
}

/// `scheme://host[:port]` of a URL (its path dropped).
fn origin_of(url: &str) -> String {
    let url = url.trim().trim_end_matches('/');
    match url.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{}", rest.split('/').next().unwrap_or_default()),
        None => url.to_string(),
    }
}

/// The page for a path nothing serves.
pub fn not_found_page() -> actix_web::HttpResponse {
    actix_web::ResponseError::error_response(&PageError::NotFound(
        "There is no page at this address. Try the search, or start from the home page.".into(),
    ))
}

/// Registers the storefront's pages and the console. Register them after the
/// API's routes (the API is the hot path, and the router tries patterns in
/// order); the app's default service answers every other path.
pub fn configure(options: WebOptions) -> impl FnOnce(&mut web::ServiceConfig) {
    let web_state = web::Data::new(WebState {
        csrf_key: options.csrf_key,
        secure_cookies: options.secure_cookies,
        gateway: match options.stripe {
            true => "by card through Stripe",
            false => "the built-in test gateway (no card needed; the order is paid at once)",
        },
        public_origin: options.public_url.as_deref().map(origin_of),
        fault_injection: options.fault_injection,
    });
    move |cfg| {
        cfg.app_data(web_state)
            .app_data(
                web::FormConfig::default().limit(16 * 1024).error_handler(|_, _| {
                    PageError::BadRequest("This form was not filled in as expected.".into()).into()
                }),
            )
            .service(assets::serve)
            .service(pages::home::home)
            .service(pages::listing::search)
            .service(pages::listing::category)
            .service(pages::product::product)
            .service(pages::cart::show)
            .service(pages::cart::fragment)
            .service(pages::cart::add)
            .service(pages::cart::set_qty)
            .service(pages::cart::apply_coupon)
            .service(pages::cart::remove_coupon)
            .service(pages::checkout::show)
            .service(pages::checkout::place)
            .service(pages::order::show)
            .service(pages::sign_in::login_form)
            .service(pages::sign_in::login)
            .service(pages::sign_in::register_form)
            .service(pages::sign_in::register)
            .service(pages::sign_in::logout)
            .service(pages::account::show)
            .service(pages::account::update_profile)
            .service(pages::account::add_address)
            .service(pages::account::remove_address)
            .service(pages::seo::robots)
            .service(pages::seo::sitemap)
            .configure(console::configure);
    }
}
