//! `/checkout`: e-mail and shipping address in one form, GOV.UK style (an
//! error summary linking to each field, the message beside the field, the
//! values kept), placed through the same `place_order` as the JSON route.
//! Each rendering of the form carries a fresh idempotency key in a hidden
//! field, so a double submit of one attempt makes one order.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use mercato_actors::money::format_money;
use mercato_http::routes::carts::CartBody;
use mercato_http::routes::me::AddressFields;
use mercato_http::routes::orders::{place_order, Checkout, Placed};
use mercato_http::AppState;
use serde::Deserialize;

use crate::error::PageError;
use crate::page::{self, Layout};
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
    name: String,
    line1: String,
    line2: String,
    city: String,
    region: String,
    postal_code: String,
    country: String,
    phone: String,
}

/// A field with an error, for the summary and beside the field.
struct FieldError {
    field: &'static str,
    message: String,
}

#[derive(Template)]
#[template(path = "checkout.html")]
struct CheckoutPage {
    layout: Layout,
    csrf: String,
    key: String,
    form: CheckoutForm,
    errors: Vec<FieldError>,
    /// A refusal that is about the order, not a field (out of stock, payment).
    problem: Option<String>,
    lines: Vec<(String, u32, String)>,
    /// Discounts: what took them off and how much.
    discounts: Vec<(String, String)>,
    total: String,
    gateway: &'static str,
}

impl CheckoutPage {
    /// The error of `field`, if it has one (for the template).
    fn error_of(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

/// Every field and its label, for the API's messages, which name fields as
/// the JSON does ("postal_code may hold ...").
const LABELS: [(&str, &str); 9] = [
    ("email", "E-mail address"),
    ("name", "Full name"),
    ("line1", "Address line 1"),
    ("line2", "Address line 2"),
    ("city", "Town or city"),
    ("region", "Region"),
    ("postal_code", "Postal code"),
    ("country", "Country"),
    ("phone", "Phone"),
];

/// Fields the form needs, with what to say when one is left empty.
const REQUIRED: [(&str, &str); 6] = [
    ("email", "Enter your e-mail address"),
    ("name", "Enter the name to ship to"),
    ("line1", "Enter the first line of the address"),
    ("city", "Enter the town or city"),
    ("postal_code", "Enter the postal code"),
    ("country", "Enter the country as a two-letter code, such as DE"),
];

impl CheckoutForm {
    fn value(&self, field: &str) -> &str {
        match field {
            "email" => &self.email,
            "name" => &self.name,
            "line1" => &self.line1,
            "city" => &self.city,
            "postal_code" => &self.postal_code,
            "country" => &self.country,
            _ => "",
        }
    }

    fn missing(&self) -> Vec<FieldError> {
        REQUIRED
            .iter()
            .filter(|(field, _)| self.value(field).trim().is_empty())
            .map(|(field, message)| FieldError {
                field,
                message: format!("{message}."),
            })
            .collect()
    }

    fn body(&self) -> Checkout {
        let optional = |text: &str| (!text.trim().is_empty()).then(|| text.to_string());
        Checkout {
            email: self.email.clone(),
            shipping_address: AddressFields {
                name: self.name.clone(),
                line1: self.line1.clone(),
                line2: optional(&self.line2),
                city: self.city.clone(),
                region: optional(&self.region),
                postal_code: self.postal_code.clone(),
                country: self.country.trim().to_uppercase(),
                phone: optional(&self.phone),
            },
        }
    }
}

async fn open_cart(state: &AppState, visitor: &Visitor) -> Option<CartBody> {
    let id = visitor.cart.as_deref()?;
    let view = state.carts.get(id, None).await.ok()?;
    (view.status.name() == "open" && !view.totals.lines.is_empty()).then(|| CartBody::new(id, &view))
}

/// What the form shows again after an attempt.
#[derive(Default)]
struct Attempt {
    form: CheckoutForm,
    errors: Vec<FieldError>,
    problem: Option<String>,
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

/// `GET /checkout`.
#[get("/checkout")]
pub async fn show(state: web::Data<AppState>, web_state: web::Data<WebState>, visitor: Visitor) -> HttpResponse {
    match open_cart(&state, &visitor).await {
        Some(cart) => render(&state, &web_state, &visitor, &cart, StatusCode::OK, Attempt::default()).await,
        None => page::see_other("/cart", visitor.cookies()),
    }
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
    let cart_id = visitor
        .cart
        .clone()
        .ok_or_else(|| PageError::NotFound("Your cart is empty.".into()))?;
    let missing = form.missing();
    if !missing.is_empty() || form.key.is_empty() {
        let Some(cart) = open_cart(&state, &visitor).await else {
            return Ok(page::see_other("/cart", visitor.cookies()));
        };
        let attempt = Attempt {
            form,
            errors: missing,
            problem: None,
        };
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(render(&state, &web_state, &visitor, &cart, status, attempt).await);
    }
    let mut tries = 0;
    let placed = loop {
        match place_order(&state, &cart_id, None, form.key.clone(), form.body()).await {
            Err(err) if err.code() == "checkout_in_progress" && tries < IN_PROGRESS_TRIES => {
                tries += 1;
                tokio::time::sleep(IN_PROGRESS_WAIT).await;
            }
            other => break other,
        }
    };
    let (errors, problem) = match placed {
        Ok(Placed { status: 201, body, .. }) => return placed_order(&visitor, &body),
        Ok(Placed { body, .. }) => (Vec::new(), Some(refusal(&body))),
        Err(err) if err.code() == "invalid_field" => {
            let field = err.details().get("field").and_then(|f| f.as_str()).unwrap_or("email");
            let (field, label) = LABELS
                .iter()
                .find(|(name, _)| field.ends_with(name))
                .copied()
                .unwrap_or(LABELS[0]);
            let message = match err.message().strip_prefix(field) {
                Some(rest) => sentence(&format!("{label}{rest}")),
                None => sentence(err.message()),
            };
            (vec![FieldError { field, message }], None)
        }
        Err(err) if err.code() == "cart_checked_out" || err.code() == "cart_closed" => {
            return Ok(page::see_other("/cart", vec![visitor.forget_cart()]));
        }
        Err(err) => return Err(PageError::from(err)),
    };
    let Some(cart) = open_cart(&state, &visitor).await else {
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
    Ok(page::see_other(&location, vec![visitor.forget_cart()]))
}

/// The words of a refused checkout's JSON error.
fn refusal(body: &str) -> String {
    let error: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let message = error["error"]["message"]
        .as_str()
        .unwrap_or("the order could not be placed");
    sentence(message)
}
