//! `/orders/{id}?token=`: an order's status page, reached by a guest through
//! the order-token link of the confirmation page and mail. Also the
//! confirmation itself (`&placed=1` after checkout).

use actix_web::{get, web, HttpResponse};
use askama::Template;
use mercato_actors::money::format_money;
use mercato_http::auth::Principal;
use mercato_http::routes::order_body::order_body;
use mercato_http::routes::orders::readable_by;
use mercato_http::AppState;
use serde::Deserialize;

use crate::error::PageError;
use crate::page::{self, Layout};
use crate::view::{address_lines, gateway_name, order_lines, utc, LineRow};
use crate::visitor::Visitor;

/// The order page's query.
#[derive(Deserialize)]
pub struct OrderQuery {
    token: Option<String>,
    placed: Option<u8>,
}

#[derive(Template)]
#[template(path = "order.html")]
struct OrderPage {
    layout: Layout,
    id: String,
    just_placed: bool,
    status: &'static str,
    email: String,
    lines: Vec<LineRow>,
    subtotal: String,
    discount: Option<String>,
    total: String,
    address: Vec<String>,
    gateway: Option<String>,
    tracking: Option<String>,
    reason: Option<String>,
    placed_at: String,
}

/// An order status in a shopper's words.
pub(crate) fn status_words(status: &str) -> &'static str {
    match status {
        "pending" => "Being placed",
        "awaiting_payment" => "Waiting for payment",
        "paid" => "Paid",
        "confirmed" => "Confirmed",
        "shipped" => "Shipped",
        "delivered" => "Delivered",
        "rejected" => "Not placed (out of stock)",
        "payment_failed" => "Payment failed",
        "expired" => "Expired before payment",
        "cancelled" => "Cancelled",
        "refund_pending" => "Cancelled, refund on its way",
        "refunded" => "Refunded",
        _ => "Unknown",
    }
}

/// `GET /orders/{id}`.
#[get("/orders/{id}")]
pub async fn show(
    state: web::Data<AppState>,
    visitor: Visitor,
    id: web::Path<String>,
    query: web::Query<OrderQuery>,
) -> Result<HttpResponse, PageError> {
    let missing =
        || PageError::NotFound("No order matches this link. Check the link in your confirmation mail.".into());
    let principal = visitor.user.clone().map(|(id, role)| Principal::User { id, role });
    let order = readable_by(&state, &id, principal.as_ref(), query.token.as_deref())
        .await
        .map_err(|_| missing())?;
    let body = order_body(&state, &id, &order)?;
    let money = |minor: u64| format_money(minor, &body.currency);
    let just_placed = query.placed == Some(1);
    let title = match just_placed {
        true => "Thank you for your order".to_string(),
        false => format!("Order {}", &body.id[..8]),
    };
    let page = OrderPage {
        layout: Layout::of(&state, &visitor, title).await.private(),
        id: body.id.clone(),
        just_placed,
        status: status_words(body.status),
        email: body.email.clone(),
        lines: order_lines(&body),
        subtotal: money(body.subtotal),
        discount: (body.discount > 0).then(|| money(body.discount)),
        total: money(body.total),
        address: address_lines(&body.shipping_address),
        gateway: body.payment.as_ref().map(|payment| gateway_name(&payment.gateway)),
        tracking: body.tracking.clone(),
        reason: body.reason.clone(),
        placed_at: utc(&body.placed_at),
    };
    Ok(page::ok(&visitor, &page))
}
