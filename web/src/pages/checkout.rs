//! `/checkout`: e-mail and shipping address in one form, GOV.UK style (an
//! error summary linking to each field, the message beside the field, the
//! values kept), placed through the same `place_order` as the JSON route.
//! Each rendering of the form carries a fresh idempotency key in a hidden
//! field, so a double submit of one attempt makes one order. A signed-in
//! customer finds their e-mail and default address filled in.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use mercato_actors::money::format_money;
use mercato_http::routes::carts::CartBody;
use mercato_http::routes::orders::{place_order, Checkout, Placed};
use mercato_http::AppState;
use serde::Deserialize;

use crate::error::PageError;
use crate::form::{field_error, AddressForm, Errors};
use crate::page::{self, Layout};
use crate::pages::cart::open_cart;
use crate::view::sentence;
use crate::visitor::Visitor;
use crate::WebState;

/// How long a double submit waits for the first submit's order.
const IN_PROGRESS_WAIT: Duration = Duration::from_millis(100);
const IN_PROGRESS_TRIES: u32 = 50;

/// The checkout form as posted.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct CheckoutForm {
    csrf: String,
    key: String,
    email: String,
    #[serde(flatten)]
    address: AddressForm,
}

#[derive(Template)]
#[template(path = "checkout.html")]
struct CheckoutPage {
    layout: Layout,
    csrf: String,
    key: String,
    form: CheckoutForm,
    errors: Errors,
    /// A refusal that is about the order, not a field (out of stock, payment).
    problem: Option<String>,
    lines: Vec<(String, u32, String)>,
    /// Discounts: what took them off and how much.
    discounts: Vec<(String, String)>,
    total: String,
    gateway: &'static str,
}

/// What the form shows again after an attempt.
#[derive(Default)]
struct Attempt {
    form: CheckoutForm,
    errors: Errors,
    problem: Option<String>,
}

/// The visitor's open cart, if it has lines.
async fn cart_with_lines(state: &AppState, visitor: &Visitor) -> Option<CartBody> {
    open_cart(state, visitor).await.filter(|cart| !cart.items.is_empty())
}

async fn render(
    state: &AppState,
    web_state: &WebState,
    visitor: &Visitor,
    cart: &CartBody,
    status: StatusCode,
    attempt: Attempt,
) -> HttpResponse {
    let Attempt { form, errors, problem } = attempt;
    let currency = cart.currency.clone().unwrap_or_default();
    let page = CheckoutPage {
        layout: Layout::of(state, visitor, "Checkout").await.private(),
        csrf: visitor.csrf.clone(),
        key: uuid::Uuid::new_v4().to_string(),
        form,
        errors,
        problem,
        lines: cart
            .items
            .iter()
            .map(|item| (item.name.clone(), item.qty, format_money(item.line_total, &currency)))
            .collect(),
        discounts: cart
            .discounts
            .iter()
            .map(|discount| (discount.label.clone(), format_money(discount.amount, &currency)))
            .collect(),
        total: format_money(cart.total, &currency),
        gateway: web_state.gateway,
    };
    page::html(status, &page, visitor.cookies())
}

/// A signed-in customer's e-mail and default address, to start from.
async fn prefilled(state: &AppState, visitor: &Visitor) -> CheckoutForm {
    let Some(user) = visitor.user_id() else {
        return CheckoutForm::default();
    };
    let Ok(profile) = state.accounts.profile(user).await else {
        return CheckoutForm::default();
    };
    let saved = profile
        .addresses
        .iter()
        .find(|a| a.is_default)
        .or(profile.addresses.first());
    CheckoutForm {
        email: profile.email,
        address: saved.map(|a| AddressForm::from_address(&a.address)).unwrap_or_default(),
        ..CheckoutForm::default()
    }
}

/// `GET /checkout`.
#[get("/checkout")]
pub async fn show(state: web::Data<AppState>, web_state: web::Data<WebState>, visitor: Visitor) -> HttpResponse {
    let Some(cart) = cart_with_lines(&state, &visitor).await else {
        return page::see_other("/cart", visitor.cookies());
    };
    let attempt = Attempt {
        form: prefilled(&state, &visitor).await,
        ..Attempt::default()
    };
    render(&state, &web_state, &visitor, &cart, StatusCode::OK, attempt).await
}

/// `POST /checkout`: places the order, then shows it.
#[post("/checkout")]
pub async fn place(
    req: HttpRequest,
    state: web::Data<AppState>,
    web_state: web::Data<WebState>,
    visitor: Visitor,
    form: web::Form<CheckoutForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    visitor.check_form(&req, &form.csrf)?;
    let mut errors = Errors::default();
    if form.email.trim().is_empty() {
        errors.add("email", "Enter your e-mail address.");
    }
    form.address.check_required(&mut errors);
    // The cart as the form's attempt left it: a second submit of the same
    // attempt finds it checking out (or checked out) and gets the first
    // submit's order from the idempotency key.
    let Some(cart_id) = visitor.cart_id(&state).await else {
        return Ok(page::see_other("/cart", visitor.cookies()));
    };
    let mut problem = None;
    if errors.is_empty() && !form.key.is_empty() {
        let caller = visitor.user_id().map(str::to_string);
        let mut tries = 0;
        let placed = loop {
            let body = Checkout {
                email: form.email.clone(),
                shipping_address: form.address.fields(),
            };
            match place_order(&state, &cart_id, caller.clone(), form.key.clone(), body).await {
                Err(err) if err.code() == "checkout_in_progress" && tries < IN_PROGRESS_TRIES => {
                    tries += 1;
                    tokio::time::sleep(IN_PROGRESS_WAIT).await;
                }
                other => break other,
            }
        };
        match placed {
            Ok(Placed { status: 201, body, .. }) => return placed_order(&visitor, &body),
            Ok(Placed { body, .. }) => problem = Some(refusal(&body)),
            Err(err) if err.code() == "invalid_field" => errors.0.push(field_error(&err, "email")),
            Err(err) if err.code() == "cart_checked_out" || err.code() == "cart_closed" => {
                let mut cookies = visitor.cookies();
                cookies.push(visitor.forget_cart());
                return Ok(page::see_other("/cart", cookies));
            }
            Err(err) if err.code() == "cart_empty" => return Ok(page::see_other("/cart", visitor.cookies())),
            Err(err) => return Err(PageError::from(err)),
        }
    }
    let Some(cart) = cart_with_lines(&state, &visitor).await else {
        return Ok(page::see_other("/cart", visitor.cookies()));
    };
    let attempt = Attempt { form, errors, problem };
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(render(&state, &web_state, &visitor, &cart, status, attempt).await)
}

/// Where a placed order is shown: its page, with the guest's order token.
fn placed_order(visitor: &Visitor, body: &str) -> Result<HttpResponse, PageError> {
    let order: serde_json::Value = serde_json::from_str(body).map_err(|_| PageError::Internal)?;
    let id = order["id"].as_str().ok_or(PageError::Internal)?;
    let location = match order["order_token"].as_str() {
        Some(token) => format!("/orders/{id}?token={token}&placed=1"),
        None => format!("/orders/{id}?placed=1"),
    };
    let mut cookies = visitor.cookies();
    cookies.push(visitor.forget_cart());
    Ok(page::see_other(&location, cookies))
}

/// The words of a refused checkout's JSON error.
fn refusal(body: &str) -> String {
    let error: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let message = error["error"]["message"]
        .as_str()
        .unwrap_or("the order could not be placed");
    sentence(message)
}
