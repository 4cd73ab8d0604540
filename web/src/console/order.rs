//! `/admin/orders/{id}`: one order (lines, totals, address, payment, refund)
//! with its timeline from the event log, and the actions its status allows
//! now, each behind a confirmation step. Actions go through the API's front
//! door (`transition_order`), recorded with the operator who took them.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use mercato_actors::account::tokens::is_random_id;
use mercato_actors::money::format_money;
use mercato_http::errors::ApiError;
use mercato_http::routes::order_body::order_body;
use mercato_http::routes::orders::transition_order;
use mercato_http::AppState;
use serde::Deserialize;

use super::timeline::{rows, TimelineRow};
use super::{Confirm, ConsoleError, ConsoleLayout, DoneQuery, Staff};
use crate::error::PageError;
use crate::form::is_client_error;
use crate::page;
use crate::view::{address_lines, gateway_name, order_lines, sentence, utc, LineRow};

/// What an operator may do to an order.
#[derive(Clone, Copy)]
pub struct Action {
    /// The path segment.
    pub slug: &'static str,
    /// The status asked of the API.
    to: &'static str,
    pub label: &'static str,
    consequences: &'static str,
    /// What the page says once it is done.
    done: &'static str,
    /// Whether it needs a tracking number.
    tracking: bool,
}

const CAPTURE: Action = Action {
    slug: "capture",
    to: "paid",
    label: "Capture the payment",
    consequences:
        "The order counts as paid: its held stock is sold and it is confirmed. The customer gets the confirmation mail.",
    done: "Payment captured",
    tracking: false,
};
const SHIP: Action = Action {
    slug: "ship",
    to: "shipped",
    label: "Ship",
    consequences: "The order is marked shipped with this tracking number, and the customer gets the shipping mail.",
    done: "Shipped",
    tracking: true,
};
const DELIVER: Action = Action {
    slug: "deliver",
    to: "delivered",
    label: "Mark delivered",
    consequences: "The order is marked delivered.",
    done: "Marked delivered",
    tracking: false,
};
const CANCEL: Action = Action {
    slug: "cancel",
    to: "cancelled",
    label: "Cancel",
    consequences: "The order is cancelled and the stock it holds goes back. Nothing was charged.",
    done: "Cancelled",
    tracking: false,
};
const REFUND: Action = Action {
    slug: "refund",
    to: "cancelled",
    label: "Cancel and refund",
    consequences: "The order is cancelled: its sold units go back to stock once, and its total is refunded through the gateway (retried until the gateway accepts).",
    done: "Cancelled and refunded",
    tracking: false,
};
const RETRY_REFUND: Action = Action {
    slug: "retry-refund",
    to: "cancelled",
    label: "Retry the refund now",
    consequences:
        "The refund is tried again at once instead of at its next scheduled attempt; it is never paid out twice.",
    done: "Refund tried again",
    tracking: false,
};

/// The actions an order in `status` allows; a payment is captured by hand
/// only with the built-in gateway (`manual`): Stripe's own answer pays an
/// order.
pub fn actions_for(status: &str, gateway: Option<&str>) -> Vec<Action> {
    match status {
        "pending" => vec![CANCEL],
        "awaiting_payment" if gateway == Some("manual") => vec![CAPTURE, CANCEL],
        "awaiting_payment" => vec![CANCEL],
        "confirmed" => vec![SHIP, REFUND],
        "shipped" => vec![DELIVER],
        "refund_pending" => vec![RETRY_REFUND],
        _ => Vec::new(),
    }
}

#[derive(Template)]
#[template(path = "console/order.html")]
struct OrderPage {
    layout: ConsoleLayout,
    id: String,
    status: &'static str,
    status_label: String,
    email: String,
    placed_at: String,
    lines: Vec<LineRow>,
    subtotal: String,
    discount: Option<String>,
    total: String,
    coupon: Option<String>,
    address: Vec<String>,
    payment: Option<(String, String)>,
    reason: Option<String>,
    tracking: Option<String>,
    refund: Option<String>,
    timeline: Vec<TimelineRow>,
    actions: Vec<Action>,
    done: Option<String>,
}

fn checked_id(id: &str) -> Result<(), PageError> {
    match is_random_id(id) {
        true => Ok(()),
        false => Err(PageError::NotFound("There is no order with this id.".into())),
    }
}

/// `GET /admin/orders/{id}`.
#[get("/admin/orders/{id}")]
pub async fn show(
    staff: Staff,
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<DoneQuery>,
) -> Result<HttpResponse, ConsoleError> {
    checked_id(&id)?;
    let order = state.orders.get(&id).await.map_err(ApiError::from)?;
    let body = order_body(&state, &id, &order)?;
    let money = |minor: u64| format_money(minor, &body.currency);
    let book = state.orders.book();
    let timeline = book.catch_up().await;
    let timeline = timeline
        .and(mercato_actors::order::book::timeline(book, &id).await)
        .map_err(|err| {
            tracing::warn!(order = %id, error = %err, "order timeline not readable");
            PageError::Unavailable
        })?;
    let actions = actions_for(
        body.status,
        body.payment.as_ref().map(|payment| payment.gateway.as_str()),
    );
    let done = [CAPTURE, SHIP, DELIVER, CANCEL, REFUND, RETRY_REFUND]
        .into_iter()
        .find(|action| action.slug == query.done)
        .map(|action| format!("{}. The order is now {}.", action.done, body.status.replace('_', " ")));
    let page = OrderPage {
        layout: ConsoleLayout::of(&staff, "orders", format!("Order {}", &body.id[..8])),
        status: body.status,
        status_label: body.status.replace('_', " "),
        email: body.email.clone(),
        placed_at: utc(&body.placed_at),
        lines: order_lines(&body),
        subtotal: money(body.subtotal),
        discount: (body.discount > 0).then(|| money(body.discount)),
        total: money(body.total),
        coupon: body.coupon.clone(),
        address: address_lines(&body.shipping_address),
        payment: body
            .payment
            .as_ref()
            .map(|payment| (gateway_name(&payment.gateway), payment.id.clone())),
        reason: body.reason.clone(),
        tracking: body.tracking.clone(),
        refund: body
            .refund
            .as_ref()
            .map(|refund| match (&refund.last_error, &refund.next_attempt_at) {
                (Some(error), Some(next)) => format!(
                    "{} failed attempts; last: {error}. Next attempt at {}.",
                    refund.failed_attempts,
                    utc(next)
                ),
                _ => "Owed; being made.".to_string(),
            }),
        timeline: rows(&timeline),
        actions,
        done,
        id: body.id,
    };
    Ok(page::html(StatusCode::OK, &page, staff.visitor.cookies()))
}

/// The action `slug` if order `id`'s status allows it now.
async fn allowed(state: &AppState, id: &str, slug: &str) -> Result<(Action, String), PageError> {
    checked_id(id)?;
    let order = state.orders.get(id).await.map_err(ApiError::from)?;
    let status = order.status().map_or("unknown", |status| status.name());
    let gateway = order.payment().map(|(gateway, _)| gateway.as_str());
    let action = actions_for(status, gateway)
        .into_iter()
        .find(|action| action.slug == slug);
    match action {
        Some(action) => Ok((action, status.to_string())),
        None => Err(PageError::NotFound(format!(
            "An order that is {} does not allow this.",
            status.replace('_', " ")
        ))),
    }
}

fn confirm_page(staff: &Staff, id: &str, action: Action, error: Option<String>) -> Confirm {
    let back = format!("/admin/orders/{id}");
    let step = Confirm::new(
        staff,
        "orders",
        format!("{} for order {}?", action.label, &id[..8]),
        action.consequences,
    )
    .form(format!("{back}/{}", action.slug), action.label, back)
    .error(error);
    match action.tracking {
        true => step.field("tracking", "Tracking number"),
        false => step,
    }
}

/// `GET /admin/orders/{id}/{action}`: the confirmation step.
#[get("/admin/orders/{id}/{action}")]
pub async fn confirm(
    staff: Staff,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let (id, slug) = path.into_inner();
    let (action, _) = allowed(&state, &id, &slug).await?;
    let page = confirm_page(&staff, &id, action, None);
    Ok(page::html(StatusCode::OK, &page, staff.visitor.cookies()))
}

/// An action's form as posted.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ActionForm {
    csrf: String,
    tracking: String,
}

/// `POST /admin/orders/{id}/{action}`.
#[post("/admin/orders/{id}/{action}")]
pub async fn act(
    req: HttpRequest,
    staff: Staff,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, ConsoleError> {
    staff.check_form(&req, &form.csrf)?;
    let (id, slug) = path.into_inner();
    let (action, _) = allowed(&state, &id, &slug).await?;
    let tracking = action.tracking.then(|| form.tracking.trim().to_string());
    if tracking.as_deref().is_some_and(str::is_empty) {
        let page = confirm_page(&staff, &id, action, Some("Enter the carrier's tracking number.".into()));
        return Ok(page::html(
            StatusCode::UNPROCESSABLE_ENTITY,
            &page,
            staff.visitor.cookies(),
        ));
    }
    match transition_order(&state, &id, action.to, tracking, &staff.email).await {
        Ok(_) => {
            tracing::info!(operator = %staff.email, order = %id, action = action.slug, "console action on an order");
            let location = format!("/admin/orders/{id}?done={}", action.slug);
            Ok(page::see_other(&location, staff.visitor.cookies()))
        }
        Err(err) if is_client_error(&err) => {
            let status = actix_web::ResponseError::status_code(&err);
            let page = confirm_page(&staff, &id, action, Some(sentence(err.message())));
            Ok(page::html(status, &page, staff.visitor.cookies()))
        }
        Err(err) => Err(err.into()),
    }
}
