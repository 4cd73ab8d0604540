//! Checkout and orders: `POST /v1/carts/{id}/checkout` runs the saga of DESIGN
//! §3; orders are read by their customer, by staff, or by a guest with the
//! order token the checkout returned; customers cancel before shipping; staff
//! move orders along.
//!
//! Idempotency: `Idempotency-Key` is required on checkout. The key (with the
//! cart) names the order, so a retry finds it: the first answer is replayed
//! (status and body, with `Idempotent-Replayed: true`), a retry while the first
//! request still runs is 409 `checkout_in_progress`, and the same key with
//! another body is 422 `idempotency_key_reused`. Keys live as long as their
//! orders (kept for good, so at least the 24 h promised).

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use hmac::{Hmac, Mac};
use mercato_actors::account::address::Address;
use mercato_actors::account::Role;
use mercato_actors::order::state::{OrderState, OrderStatus};
use mercato_actors::order::{CheckoutRequest, CheckoutResult};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use utoipa::ToSchema;

use crate::auth::{MaybeUser, Operator, Principal};
use crate::errors::ApiError;
use crate::format::rfc3339;
use crate::routes::carts::cart_id;
use crate::routes::me::AddressFields;
use crate::AppState;

/// Longest idempotency key.
const MAX_KEY_LEN: usize = 255;

/// `POST /v1/carts/{id}/checkout`.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Checkout {
    /// Where order mails go.
    email: String,
    shipping_address: AddressFields,
}

/// An order.
#[derive(Serialize, ToSchema)]
pub struct OrderBody {
    id: String,
    /// `pending`, `awaiting_payment`, `paid`, `confirmed`, `shipped`, `delivered`,
    /// `rejected`, `payment_failed`, `expired`, `cancelled`, `refund_pending`
    /// (the refund is owed and retried), `refunded`.
    status: &'static str,
    email: String,
    shipping_address: AddressFields,
    items: Vec<OrderItemBody>,
    subtotal: u64,
    discount: u64,
    total: u64,
    currency: String,
    coupon: Option<String>,
    payment: Option<PaymentBody>,
    /// Why it failed, was cancelled or refunded.
    reason: Option<String>,
    /// While `refund_pending`: the refund's failed attempts so far, the last
    /// gateway error, and when it is tried next.
    #[serde(skip_serializing_if = "Option::is_none")]
    refund: Option<RefundBody>,
    tracking: Option<String>,
    placed_at: String,
    /// An unpaid order expires then.
    payment_deadline: String,
    /// For a guest: the token to read or cancel this order (`X-Order-Token`).
    #[serde(skip_serializing_if = "Option::is_none")]
    order_token: Option<String>,
}

/// A bought line.
#[derive(Serialize, ToSchema)]
pub struct OrderItemBody {
    sku: String,
    name: String,
    qty: u32,
    unit_price: u64,
    line_total: u64,
}

/// A refund owed.
#[derive(Serialize, ToSchema)]
pub struct RefundBody {
    failed_attempts: u32,
    last_error: Option<String>,
    next_attempt_at: Option<String>,
}

/// The payment of an order.
#[derive(Serialize, ToSchema)]
pub struct PaymentBody {
    gateway: String,
    id: String,
    /// For the front end to complete a card payment.
    client_secret: Option<String>,
}

/// The order token of a guest order: an HMAC of its id, so nothing is stored.
fn order_token(state: &AppState, order_id: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(&state.order_token_key).expect("HMAC takes any key length");
    mac.update(order_id.as_bytes());
    mac.finalize().into_bytes()[..16]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn order_body(state: &AppState, id: &str, order: &OrderState) -> Result<OrderBody, ApiError> {
    let placement = order.placement().ok_or_else(|| ApiError::not_found("no such order"))?;
    Ok(OrderBody {
        id: id.to_string(),
        status: order.status().map_or("pending", OrderStatus::name),
        email: placement.email.clone(),
        shipping_address: placement.shipping_address.clone().into(),
        items: placement
            .lines
            .iter()
            .map(|line| OrderItemBody {
                sku: line.sku.clone(),
                name: line.name.clone(),
                qty: line.qty,
                unit_price: line.unit_price,
                line_total: line.line_total,
            })
            .collect(),
        subtotal: placement.subtotal,
        discount: placement.discount,
        total: placement.total,
        currency: placement.currency.clone(),
        coupon: placement.coupon.clone(),
        payment: order.payment().map(|(gateway, payment_id)| PaymentBody {
            gateway: gateway.clone(),
            id: payment_id.clone(),
            client_secret: order.client_secret().map(str::to_string),
        }),
        reason: order.reason().map(str::to_string),
        refund: order
            .refund()
            .filter(|_| order.status() == Some(OrderStatus::RefundPending))
            .map(|refund| RefundBody {
                failed_attempts: refund.failures,
                last_error: refund.last_error.clone(),
                next_attempt_at: (refund.failures > 0).then(|| rfc3339(refund.retry_at)),
            }),
        tracking: order.tracking().map(str::to_string),
        placed_at: rfc3339(placement.placed_at),
        payment_deadline: rfc3339(placement.payment_deadline),
        order_token: placement.owner.is_none().then(|| order_token(state, id)),
    })
}

/// The checkout's answer for a settled (or payment-waiting) order.
fn checkout_answer(state: &AppState, id: &str, order: &OrderState) -> Result<(u16, String), ApiError> {
    if let Some(refusal) = order.coupon_refusal().filter(|_| order.shortages().is_empty()) {
        let body = serde_json::json!({"error": {
            "code": refusal.code,
            "message": format!("{}; nothing was reserved, the cart is open again", refusal.message),
            "order_id": id,
        }});
        return Ok((409, body.to_string()));
    }
    if order.status() == Some(OrderStatus::Rejected) {
        let lines: Vec<serde_json::Value> = order
            .shortages()
            .iter()
            .map(|short| serde_json::json!({"sku": short.sku, "requested": short.requested, "available": short.available}))
            .collect();
        let body = serde_json::json!({"error": {
            "code": "out_of_stock",
            "message": "some lines are not available in the quantity asked; nothing was reserved",
            "order_id": id,
            "lines": lines,
        }});
        return Ok((409, body.to_string()));
    }
    let body = serde_json::to_string(&order_body(state, id, order)?).expect("an order body always serializes");
    Ok((201, body))
}

fn idempotency_key(req: &HttpRequest) -> Result<String, ApiError> {
    let key = req
        .headers()
        .get("idempotency-key")
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "idempotency_key_required",
                "checkout needs an Idempotency-Key header",
            )
        })?
        .to_str()
        .unwrap_or_default()
        .trim()
        .to_string();
    if key.is_empty() || key.len() > MAX_KEY_LEN || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_idempotency_key",
            format!("Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters"),
        ));
    }
    Ok(key)
}

/// Places an order from the cart: all-or-nothing stock reservation, payment,
/// stock commit.
#[utoipa::path(post, path = "/v1/carts/{id}/checkout", tag = "orders", params(("id" = String, Path),
        ("Idempotency-Key" = String, Header, description = "required; the same key replays the first answer")),
    request_body = Checkout,
    responses((status = 201, body = OrderBody, description = "confirmed, or awaiting_payment"),
        (status = 400, description = "`idempotency_key_required`"),
        (status = 409, description = "`out_of_stock` naming the `lines` with `requested` and `available`; `coupon_used_up` / `coupon_used_up_by_customer` / `coupon_expired` (the coupon's use could not be claimed); `coupon_not_applicable` (the cart's coupon takes nothing off any more: nothing placed, the cart stays open); `checkout_in_progress`; `cart_closed`; `cart_checked_out` with the `order_id` that holds the cart"),
        (status = 422, description = "`idempotency_key_reused`, `cart_empty`, `invalid_field`")))]
#[post("/{id}/checkout")]
pub async fn checkout(
    req: HttpRequest,
    user: MaybeUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<Checkout>,
) -> Result<HttpResponse, ApiError> {
    let cart = cart_id(&id)?.to_string();
    let key = idempotency_key(&req)?;
    let body = body.into_inner();
    let fingerprint: [u8; 32] = Sha256::digest(serde_json::to_vec(&body).expect("a checkout body serializes")).into();
    let email = mercato_actors::account::normalize_email(&body.email)
        .map_err(|err| ApiError::invalid_field("email", err.to_string()))?;
    let shipping_address = Address::from(body.shipping_address)
        .validated()
        .map_err(|err| ApiError::invalid_field(err.field, err.message))?;
    let request = CheckoutRequest {
        cart_id: cart,
        caller: user.0,
        key,
        email,
        shipping_address,
        fingerprint,
    };
    let (status, body, replayed) = match state.orders.checkout(request).await? {
        CheckoutResult::Replay { status, body } => (status, body, true),
        CheckoutResult::InProgress => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "checkout_in_progress",
                "a checkout with this Idempotency-Key is still running; retry shortly",
            ))
        }
        CheckoutResult::KeyReused => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "this Idempotency-Key was used with another request",
            ))
        }
        CheckoutResult::Done { order_id, order } => {
            let (status, body) = checkout_answer(&state, &order_id, &order)?;
            state.orders.answer(&order_id, status, body.clone());
            (status, body, false)
        }
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    if replayed {
        response.insert_header(("idempotent-replayed", "true"));
    }
    Ok(response.content_type("application/json").body(body))
}

/// Checks that the caller may see order `id`: its customer, staff, or a guest
/// holding the order token.
async fn readable(req: &HttpRequest, state: &AppState, id: &str) -> Result<OrderState, ApiError> {
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "order_not_found", "no such order");
    if !mercato_actors::account::tokens::is_random_id(id) {
        return Err(not_found());
    }
    let principal = match crate::auth::bearer_token(req) {
        Some(token) => Some(crate::auth::resolve(state, &token).await?),
        None => None,
    };
    let order = state.orders.get(id).await.map_err(|_| not_found())?;
    let placement = order.placement().ok_or_else(not_found)?;
    let allowed = match &principal {
        Some(Principal::Service) => true,
        Some(Principal::User { id: user, role }) => {
            role.allows(Role::Operator) || placement.owner.as_deref() == Some(user.as_str())
        }
        None => false,
    } || req
        .headers()
        .get("x-order-token")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|token| placement.owner.is_none() && subtle_eq(token, &order_token(state, id)));
    if !allowed {
        return Err(not_found());
    }
    Ok(order)
}

fn subtle_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq as _;
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// One order: its customer's, staff's, or a guest's with `X-Order-Token`.
#[utoipa::path(get, path = "/v1/orders/{id}", tag = "orders", params(("id" = String, Path),
        ("X-Order-Token" = Option<String>, Header, description = "a guest's order token")),
    responses((status = 200, body = OrderBody), (status = 404, description = "`order_not_found` (also for someone else's order)")))]
#[get("/{id}")]
pub async fn get_one(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let order = readable(&req, &state, &id).await?;
    Ok(HttpResponse::Ok().json(order_body(&state, &id, &order)?))
}

/// The signed-in customer's orders, newest first.
#[utoipa::path(get, path = "/v1/me/orders", tag = "orders", security(("access_token" = [])),
    responses((status = 200, body = [OrderBody]), (status = 401)))]
#[get("/orders")]
pub async fn my_orders(user: crate::auth::CurrentUser, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let profile = state.accounts.profile(&user.id).await?;
    let mut orders = Vec::new();
    for id in profile.orders.iter().rev() {
        match state.orders.get(id).await {
            Ok(order) => orders.push(order_body(&state, id, &order)?),
            Err(err) => tracing::warn!(order = %id, error = %err, "order of a customer not readable"),
        }
    }
    Ok(HttpResponse::Ok().json(orders))
}

/// Cancels an order before it ships: its stock is released, or, once paid,
/// the refund is recorded as owed, the units restocked and the payment
/// refunded (`refund_pending` while the gateway refuses; cancelling again
/// retries at once).
#[utoipa::path(post, path = "/v1/orders/{id}/cancel", tag = "orders", params(("id" = String, Path)),
    responses((status = 200, body = OrderBody), (status = 404), (status = 409, description = "`invalid_transition` (shipped or settled)")))]
#[post("/{id}/cancel")]
pub async fn cancel(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    readable(&req, &state, &id).await?;
    let order = state.orders.cancel(&id, "cancelled by the customer").await?;
    Ok(HttpResponse::Ok().json(order_body(&state, &id, &order)?))
}

/// `POST /v1/admin/orders/{id}/transition`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    /// `paid` (capture a manual payment), `shipped`, `delivered`, `cancelled`, `refunded`.
    to: String,
    /// Carrier tracking number; required for `shipped`.
    tracking: Option<String>,
}

/// Moves an order along (staff).
#[utoipa::path(post, path = "/v1/admin/orders/{id}/transition", tag = "orders", security(("operator_token" = [])),
    params(("id" = String, Path)), request_body = Transition,
    responses((status = 200, body = OrderBody), (status = 401), (status = 403), (status = 404),
        (status = 409, description = "`invalid_transition`"), (status = 422)))]
#[post("/orders/{id}/transition")]
pub async fn transition(
    _: Operator,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<Transition>,
) -> Result<HttpResponse, ApiError> {
    let Transition { to, tracking } = body.into_inner();
    let to = match to.as_str() {
        "paid" => OrderStatus::Paid,
        "shipped" => OrderStatus::Shipped,
        "delivered" => OrderStatus::Delivered,
        "cancelled" => OrderStatus::Cancelled,
        "refunded" => OrderStatus::Refunded,
        other => {
            return Err(ApiError::invalid_field(
                "to",
                format!("'{other}' is not one of paid, shipped, delivered, cancelled, refunded"),
            ))
        }
    };
    if to == OrderStatus::Shipped && tracking.as_deref().is_none_or(|t| t.trim().is_empty() || t.len() > 100) {
        return Err(ApiError::invalid_field(
            "tracking",
            "shipping needs a tracking number of 1 to 100 characters",
        ));
    }
    if !mercato_actors::account::tokens::is_random_id(&id) {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "order_not_found", "no such order"));
    }
    let order = state.orders.transition(&id, to, tracking).await?;
    Ok(HttpResponse::Ok().json(order_body(&state, &id, &order)?))
}
