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
use mercato_actors::account::address::Address;
use mercato_actors::account::Role;
use mercato_actors::order::state::{OrderState, OrderStatus};
use mercato_actors::order::{CheckoutRequest, CheckoutResult};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use utoipa::ToSchema;

use super::order_body::{checkout_answer, order_body, order_token, OrderBody};
use crate::auth::{MaybeUser, Operator, Principal};
use crate::errors::ApiError;
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
    pub email: String,
    pub shipping_address: AddressFields,
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
    responses((status = 201, body = OrderBody, description = "confirmed, or awaiting_payment (with Stripe); another status if the order moved meanwhile (a concurrent cancel)"),
        (status = 402, description = "`payment_failed`: the gateway refused the payment at once (with the `order_id`); nothing is held, the cart is open again"),
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
    let key = idempotency_key(&req)?;
    let placed = place_order(&state, cart_id(&id)?, user.0, key, body.into_inner()).await?;
    let status = StatusCode::from_u16(placed.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    if placed.replayed {
        response.insert_header(("idempotent-replayed", "true"));
    }
    Ok(response.content_type("application/json").body(placed.body))
}

/// What a checkout answered: the status and JSON body of the first answer for
/// its key (an order body, or an error), and whether this was a replay.
pub struct Placed {
    pub status: u16,
    pub body: String,
    pub replayed: bool,
}

/// Runs the checkout saga for `cart` under idempotency key `key`: the one front
/// door for the JSON route and the storefront's checkout form.
pub async fn place_order(
    state: &AppState,
    cart: &str,
    caller: Option<String>,
    key: String,
    body: Checkout,
) -> Result<Placed, ApiError> {
    let fingerprint: [u8; 32] = Sha256::digest(serde_json::to_vec(&body).expect("a checkout body serializes")).into();
    let email = mercato_actors::account::normalize_email(&body.email)
        .map_err(|err| ApiError::invalid_field("email", err.to_string()))?;
    let shipping_address = Address::from(body.shipping_address)
        .validated()
        .map_err(|err| ApiError::invalid_field(err.field, err.message))?;
    let request = CheckoutRequest {
        cart_id: cart.to_string(),
        caller,
        key,
        email,
        shipping_address,
        fingerprint,
    };
    let caller = request.caller.clone();
    match state.orders.checkout(request).await? {
        CheckoutResult::Replay { status, body } => Ok(Placed {
            status,
            body,
            replayed: true,
        }),
        CheckoutResult::InProgress => Err(ApiError::new(
            StatusCode::CONFLICT,
            "checkout_in_progress",
            "a checkout with this Idempotency-Key is still running; retry shortly",
        )),
        CheckoutResult::KeyReused => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "this Idempotency-Key was used with another request",
        )),
        CheckoutResult::Done { order_id, order } => {
            let (status, body) = checkout_answer(state, &order_id, &order)?;
            state
                .orders
                .answer(&order_id, fingerprint, caller, status, body.clone());
            Ok(Placed {
                status,
                body,
                replayed: false,
            })
        }
    }
}

/// Checks that the caller may see order `id`: its customer, staff, or a guest
/// holding the order token.
async fn readable(req: &HttpRequest, state: &AppState, id: &str) -> Result<OrderState, ApiError> {
    let principal = match crate::auth::bearer_token(req) {
        Some(token) => Some(crate::auth::resolve(state, &token).await?),
        None => None,
    };
    let token = req.headers().get("x-order-token").and_then(|value| value.to_str().ok());
    readable_by(state, id, principal.as_ref(), token).await
}

/// Order `id` if `principal` (its customer or staff) or a guest holding the
/// order `token` may read it; 404 otherwise, so ids cannot be probed.
pub async fn readable_by(
    state: &AppState,
    id: &str,
    principal: Option<&Principal>,
    token: Option<&str>,
) -> Result<OrderState, ApiError> {
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "order_not_found", "no such order");
    if !mercato_actors::account::tokens::is_random_id(id) {
        return Err(not_found());
    }
    let order = state.orders.get(id).await.map_err(|_| not_found())?;
    let placement = order.placement().ok_or_else(not_found)?;
    let allowed = match principal {
        Some(Principal::Service) => true,
        Some(Principal::User { id: user, role }) => {
            role.allows(Role::Operator) || placement.owner.as_deref() == Some(user.as_str())
        }
        None => false,
    } || token
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
#[utoipa::path(get, path = "/v1/orders/{id}", operation_id = "get_order", tag = "orders", params(("id" = String, Path),
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
    operator: Operator,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<Transition>,
) -> Result<HttpResponse, ApiError> {
    let Transition { to, tracking } = body.into_inner();
    let by = crate::auth::who(&state, &operator.principal).await;
    let order = transition_order(&state, &id, &to, tracking, &by).await?;
    Ok(HttpResponse::Ok().json(order_body(&state, &id, &order)?))
}

/// Moves order `id` to `to` (`paid`, `shipped` with `tracking`, `delivered`,
/// `cancelled`, `refunded`) for staff `by`: the front door of the route and
/// the console.
pub async fn transition_order(
    state: &AppState,
    id: &str,
    to: &str,
    tracking: Option<String>,
    by: &str,
) -> Result<OrderState, ApiError> {
    let to = match to {
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
    if !mercato_actors::account::tokens::is_random_id(id) {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "order_not_found", "no such order"));
    }
    Ok(state.orders.transition(id, to, tracking, by).await?)
}
