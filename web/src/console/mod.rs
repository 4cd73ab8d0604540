//! The operator console at `/admin` (DESIGN §8): for staff accounts
//! (`operator` and `admin`), with the storefront's principles: server-rendered,
//! usable without JavaScript except what is live, CSP without inline script,
//! CSRF on every form, each action behind a confirmation step. Actions call
//! the same front doors as the JSON API (`mercato_http::routes::*`).
//!
//! - [`sign_in`]: `/admin/login`, `/admin/logout`;
//! - [`home`]: `/admin`, the shop's and the runtime's figures, live;
//! - [`orders`], [`order`]: `/admin/orders`, the list from the order book;
//!   one order with its [`timeline`] and the actions its status allows;
//! - [`products`], [`product`]: `/admin/products`, search; create, edit, archive;
//! - [`categories`]: `/admin/categories`, the tree; create, rename, move, delete;
//! - [`inventory`]: `/admin/inventory`, a SKU's stock and reservations, set, adjust;
//! - [`coupons`]: `/admin/coupons`, coupons and promotions; create, end (admins);
//! - [`customers`]: `/admin/customers`, search; one account; role and delete (admins);
//! - [`webhooks`], [`webhook`]: `/admin/webhooks`, endpoints, their state and
//!   lag; one endpoint's delivery log; send again, enable, disable, rotate,
//!   delete (admins);
//! - [`actors`]: `/admin/actors`, live actors, inspect, restart, fault;
//! - [`live`]: server-sent events that carry re-rendered page regions.

pub mod actors;
pub mod analytics;
pub mod categories;
mod confirm;
pub mod coupon;
pub mod coupons;
pub mod customers;
mod failure;
pub mod home;
pub mod inventory;
pub mod live;
pub mod order;
pub mod orders;
mod paging;
pub mod product;
pub mod products;
pub mod sign_in;
pub mod timeline;
pub mod webhook;
pub mod webhooks;

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use mercato_actors::account::Role;
use mercato_http::AppState;

use crate::assets::ASSETS;
use crate::error::PageError;
use crate::visitor::Visitor;

pub use self::confirm::Confirm;
pub use self::failure::ConsoleError;

/// A signed-in operator or admin.
pub struct Staff {
    /// The browser, for its cookies and CSRF token.
    pub visitor: Visitor,
    /// The account's id.
    pub user_id: String,
    /// The account's e-mail address.
    pub email: String,
    /// `operator` or `admin`.
    pub role: Role,
}

impl Staff {
    /// Refuses a form that is not from one of our pages (see [`Visitor::check_form`]).
    pub fn check_form(&self, req: &HttpRequest, token: &str) -> Result<(), PageError> {
        self.visitor.check_form(req, token)
    }

    /// Refuses anyone but an admin, saying `why`.
    pub fn admin_only(&self, why: &str) -> Result<(), PageError> {
        match self.role {
            Role::Admin => Ok(()),
            _ => Err(PageError::Forbidden(why.into())),
        }
    }
}

/// Where `req` goes back to after signing in: its path and query.
fn here(req: &HttpRequest) -> String {
    match req.query_string() {
        "" => req.path().to_string(),
        query => format!("{}?{query}", req.path()),
    }
}

impl FromRequest for Staff {
    type Error = ConsoleError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ConsoleError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let visitor = Visitor::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let refused = |err: PageError| ConsoleError(err);
            let visitor = visitor.await.map_err(refused)?;
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or(refused(PageError::Internal))?;
            let Some((user, role)) = visitor.user.clone() else {
                return Err(refused(match req.method() == actix_web::http::Method::GET {
                    true => PageError::SignIn(here(&req)),
                    false => PageError::Forbidden("Sign in to the console first.".into()),
                }));
            };
            if role < Role::Operator {
                return Err(refused(PageError::Forbidden(
                    "This account is a customer account; the console is for operators and admins.".into(),
                )));
            }
            let email = state
                .accounts
                .profile(&user)
                .await
                .map_err(|err| ConsoleError::from(mercato_http::errors::ApiError::from(err)))?
                .email;
            Ok(Staff {
                visitor,
                user_id: user,
                email,
                role,
            })
        })
    }
}

/// What the console's layout (`console/base.html`) shows around a page.
pub struct ConsoleLayout {
    /// `<title>`, without the console's name.
    pub title: String,
    /// The navigation entry of this page (`home`, `orders`, `actors`).
    pub section: &'static str,
    /// Stylesheets: the shop's, then the console's.
    pub css: [String; 2],
    /// Module scripts.
    pub scripts: Vec<String>,
    /// Who is signed in.
    pub email: String,
    /// Their role, in words.
    pub role: &'static str,
    /// The sign-out form's token.
    pub csrf: String,
}

impl ConsoleLayout {
    /// The layout of a console page.
    pub fn of(staff: &Staff, section: &'static str, title: impl Into<String>) -> Self {
        ConsoleLayout {
            title: title.into(),
            section,
            css: [ASSETS.css.url(), ASSETS.console_css.url()],
            scripts: Vec::new(),
            email: staff.email.clone(),
            role: staff.role.name(),
            csrf: staff.visitor.csrf.clone(),
        }
    }

    /// The layout of the sign-in page: no navigation, no one signed in.
    pub fn signed_out(csrf: String) -> Self {
        ConsoleLayout {
            title: "Sign in".into(),
            section: "",
            css: [ASSETS.css.url(), ASSETS.console_css.url()],
            scripts: Vec::new(),
            email: String::new(),
            role: "",
            csrf,
        }
    }

    /// Adds the live-region module (pages with `<live-region>`).
    pub fn live(mut self) -> Self {
        self.scripts.push(ASSETS.live_region.url());
        self
    }
}

/// Where a page lands after an action: `?done=` names what was done.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct DoneQuery {
    pub done: String,
}

/// Registers the console's pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(sign_in::sign_in_form)
        .service(sign_in::log_in)
        .service(sign_in::log_out)
        .service(home::show)
        .service(home::live_figures)
        .service(actors::list)
        .service(actors::live_list)
        .service(actors::show)
        .service(actors::confirm)
        .service(actors::act)
        .service(orders::list)
        .service(order::show)
        .service(order::confirm)
        .service(order::act)
        .service(products::list)
        .service(product::new_form)
        .service(product::create)
        .service(product::confirm_archive)
        .service(product::archive)
        .service(product::edit_form)
        .service(product::update)
        .service(inventory::show)
        .service(inventory::change)
        .service(categories::list)
        .service(categories::create)
        .service(categories::confirm_delete)
        .service(categories::delete)
        .service(categories::edit)
        .service(categories::update)
        .service(coupons::list)
        .service(coupons::create)
        .service(coupons::end)
        .service(coupon::confirm_end)
        .service(coupon::confirm_end_promotion)
        .service(coupon::edit)
        .service(coupon::update)
        .service(coupons::create_promotion)
        .service(coupons::end_promotion)
        .service(customers::list)
        .service(customers::confirm_delete)
        .service(customers::confirm_role)
        .service(customers::show)
        .service(customers::set_role)
        .service(customers::delete)
        .service(webhooks::list)
        .service(webhooks::create)
        .service(webhook::show)
        .service(webhook::confirm)
        .service(webhook::act);
}
