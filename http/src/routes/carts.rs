//! Cart routes: guest carts by unguessable id, the signed-in customer's current
//! cart, items, coupons. Every answer carries the cart's `version` (also as
//! `ETag`); a write with `If-Match: <version>` is refused with 412 when the cart
//! moved on. The live view is at `GET /v1/carts/{id}/ws` (see [`crate::ws`]).

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use mercato_actors::account::tokens::is_random_id;
use mercato_actors::cart::messages::CartView;
use mercato_actors::views::recent::ViewerKey;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{CurrentUser, MaybeUser};
use crate::errors::ApiError;
use crate::routes::views::session_key;
use crate::validate;
use crate::AppState;

/// A cart.
#[derive(Serialize, ToSchema)]
pub struct CartBody {
    pub id: String,
    /// Bumped by every change.
    pub version: u64,
    /// `open`; `merged` into a customer's cart, `checking_out` while an order is
    /// placed from it, `checked_out` once bought (all read-only).
    pub status: &'static str,
    /// The order placed from this cart (`checking_out`, `checked_out`).
    pub order_id: Option<String>,
    pub items: Vec<ItemBody>,
    /// Σ line totals, minor units.
    pub subtotal: u64,
    /// Σ discounts, at most the subtotal.
    pub discount: u64,
    /// `subtotal − discount`.
    pub total: u64,
    /// ISO 4217 once the cart has an item.
    pub currency: Option<String>,
    /// The applied coupon code.
    pub coupon: Option<String>,
    /// What took the discount off, in the order applied.
    pub discounts: Vec<DiscountBody>,
    /// `insufficient_stock`, `unavailable`, `coupon_not_applicable`.
    pub warnings: Vec<WarningBody>,
}

/// A line.
#[derive(Serialize, ToSchema)]
pub struct ItemBody {
    pub sku: String,
    pub name: String,
    pub qty: u32,
    pub unit_price: u64,
    pub line_total: u64,
}

/// An applied discount.
#[derive(Serialize, ToSchema)]
pub struct DiscountBody {
    /// `promotion` or `coupon`.
    pub kind: &'static str,
    pub label: String,
    pub amount: u64,
}

/// A warning about the cart.
#[derive(Serialize, ToSchema)]
pub struct WarningBody {
    pub code: &'static str,
    pub sku: Option<String>,
    pub message: String,
}

impl CartBody {
    pub fn new(id: &str, view: &CartView) -> Self {
        CartBody {
            id: id.to_string(),
            version: view.version,
            status: view.status.name(),
            order_id: view.status.order_id().map(str::to_string),
            items: view
                .totals
                .lines
                .iter()
                .map(|line| ItemBody {
                    sku: line.sku.clone(),
                    name: line.name.clone(),
                    qty: line.qty,
                    unit_price: line.unit_price,
                    line_total: line.line_total,
                })
                .collect(),
            subtotal: view.totals.subtotal,
            discount: view.totals.discount,
            total: view.totals.total,
            currency: view.currency.clone(),
            coupon: view.coupon.clone(),
            discounts: view
                .totals
                .applied
                .iter()
                .map(|applied| DiscountBody {
                    kind: applied.kind,
                    label: applied.label.clone(),
                    amount: applied.amount,
                })
                .collect(),
            warnings: view
                .warnings
                .iter()
                .map(|warning| WarningBody {
                    code: warning.code,
                    sku: warning.sku.clone(),
                    message: warning.message.clone(),
                })
                .collect(),
        }
    }
}

/// The client JSON of cart `id` as `view` shows it, made once per view.
pub fn cart_json(id: &str, view: &CartView) -> Arc<str> {
    Arc::clone(view.json.get_or_init(|| {
        serde_json::to_string(&CartBody::new(id, view))
            .expect("a cart body always serializes")
            .into()
    }))
}

fn respond(mut response: actix_web::HttpResponseBuilder, id: &str, view: &CartView) -> HttpResponse {
    response
        .insert_header((header::ETAG, format!("\"{}\"", view.version)))
        .content_type("application/json")
        .body(cart_json(id, view).to_string())
}

/// A cart id from the path: 404 unless shaped like one.
pub fn cart_id(id: &str) -> Result<&str, ApiError> {
    if !is_random_id(id) {
        return Err(ApiError::new(
            actix_web::http::StatusCode::NOT_FOUND,
            "cart_not_found",
            "no such cart",
        ));
    }
    Ok(id)
}

/// The version in `If-Match`, if any (`*` means any version).
fn if_match(req: &HttpRequest) -> Result<Option<u64>, ApiError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(None);
    }
    let bare = text.trim_start_matches("W/").trim_matches('"');
    bare.parse().map(Some).map_err(|_| {
        ApiError::new(
            actix_web::http::StatusCode::BAD_REQUEST,
            "invalid_if_match",
            "If-Match must be a cart version, e.g. \"7\"",
        )
    })
}

/// `POST /v1/carts/{id}/items`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddItem {
    sku: String,
    /// Units to add, 1..=999; a line holds at most 999 (past that: 422 `line_full`).
    qty: u32,
    /// A guest's view session (as on `POST /v1/products/{id}/views`), so that
    /// analytics follows it from its views to this cart.
    session_id: Option<String>,
}

/// `PATCH /v1/carts/{id}/items/{sku}`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetQty {
    /// 1..=999.
    qty: u32,
}

/// `POST /v1/carts/{id}/coupons`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyCoupon {
    /// Case-insensitive.
    code: String,
}

/// Creates a guest cart: whoever holds its id may use it.
#[utoipa::path(post, path = "/v1/carts", operation_id = "create_cart", tag = "carts", responses((status = 201, body = CartBody)))]
#[post("")]
pub async fn create(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let (id, view) = state.carts.create(None).await?;
    Ok(respond(HttpResponse::Created(), &id, &view))
}

/// The signed-in customer's current cart (created on first use).
#[utoipa::path(get, path = "/v1/me/cart", tag = "carts", security(("access_token" = [])),
    responses((status = 200, body = CartBody), (status = 401)))]
#[get("/cart")]
pub async fn my_cart(user: CurrentUser, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let id = state.accounts.current_cart(&user.id).await?;
    let view = state.carts.ensure(&id, Some(&user.id)).await?;
    Ok(respond(HttpResponse::Ok(), &id, &view))
}

/// One cart; a customer's cart needs that customer's token.
#[utoipa::path(get, path = "/v1/carts/{id}", operation_id = "get_cart", tag = "carts", params(("id" = String, Path)),
    responses((status = 200, body = CartBody), (status = 403, description = "`cart_forbidden`"),
        (status = 404, description = "`cart_not_found`")))]
#[get("/{id}")]
pub async fn get_one(
    user: MaybeUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = cart_id(&id)?;
    let view = state.carts.get(id, user.id()).await?;
    Ok(respond(HttpResponse::Ok(), id, &view))
}

/// Adds units of a SKU at the catalog price.
#[utoipa::path(post, path = "/v1/carts/{id}/items", tag = "carts", params(("id" = String, Path)), request_body = AddItem,
    responses((status = 200, body = CartBody), (status = 404), (status = 409, description = "`cart_closed`, `cart_checked_out` (with `order_id`)"),
        (status = 412, description = "`version_mismatch`"),
        (status = 422, description = "`invalid_field`, `line_full` (with `in_cart` and `max`), `unknown_sku`, `product_unavailable`, `too_many_lines`, `currency_mismatch`")))]
#[post("/{id}/items")]
pub async fn add_item(
    req: HttpRequest,
    user: MaybeUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<AddItem>,
) -> Result<HttpResponse, ApiError> {
    let id = cart_id(&id)?;
    validate::sku(&body.sku)?;
    let viewer = match (user.id(), &body.session_id) {
        (Some(user), _) => Some(ViewerKey::customer(user)),
        (None, Some(session)) => Some(session_key(session)?),
        (None, None) => None,
    };
    let view = state
        .carts
        .add_item(id, user.id(), if_match(&req)?, &body.sku, body.qty)
        .await?;
    if let Some(viewer) = viewer {
        state.views.carted(viewer, id);
    }
    Ok(respond(HttpResponse::Ok(), id, &view))
}

/// Sets a line's quantity.
#[utoipa::path(patch, path = "/v1/carts/{id}/items/{sku}", tag = "carts",
    params(("id" = String, Path), ("sku" = String, Path)), request_body = SetQty,
    responses((status = 200, body = CartBody), (status = 404, description = "`cart_not_found`, `line_not_found`"),
        (status = 412), (status = 422)))]
#[patch("/{id}/items/{sku}")]
pub async fn set_qty(
    req: HttpRequest,
    user: MaybeUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Json<SetQty>,
) -> Result<HttpResponse, ApiError> {
    let (id, sku) = path.into_inner();
    let id = cart_id(&id)?;
    let view = state
        .carts
        .set_qty(id, user.id(), if_match(&req)?, &sku, body.qty)
        .await?;
    Ok(respond(HttpResponse::Ok(), id, &view))
}

/// Removes a line.
#[utoipa::path(delete, path = "/v1/carts/{id}/items/{sku}", tag = "carts",
    params(("id" = String, Path), ("sku" = String, Path)),
    responses((status = 200, body = CartBody), (status = 404), (status = 412)))]
#[delete("/{id}/items/{sku}")]
pub async fn remove_item(
    req: HttpRequest,
    user: MaybeUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, sku) = path.into_inner();
    let id = cart_id(&id)?;
    let view = state.carts.remove_item(id, user.id(), if_match(&req)?, &sku).await?;
    Ok(respond(HttpResponse::Ok(), id, &view))
}

/// Applies a coupon code (replacing any other).
#[utoipa::path(post, path = "/v1/carts/{id}/coupons", tag = "carts", params(("id" = String, Path)), request_body = ApplyCoupon,
    responses((status = 200, body = CartBody), (status = 404), (status = 412),
        (status = 422, description = "`coupon_unknown`, `coupon_expired`, `coupon_not_started`, `coupon_used_up`, `coupon_used_up_by_customer`, `coupon_needs_account`, `coupon_below_minimum`, `coupon_not_applicable`, `coupon_currency_mismatch`")))]
#[post("/{id}/coupons")]
pub async fn apply_coupon(
    req: HttpRequest,
    user: MaybeUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<ApplyCoupon>,
) -> Result<HttpResponse, ApiError> {
    let id = cart_id(&id)?;
    let view = state
        .carts
        .apply_coupon(id, user.id(), if_match(&req)?, &body.code)
        .await?;
    Ok(respond(HttpResponse::Ok(), id, &view))
}

/// Removes the coupon.
#[utoipa::path(delete, path = "/v1/carts/{id}/coupons", tag = "carts", params(("id" = String, Path)),
    responses((status = 200, body = CartBody), (status = 404), (status = 412)))]
#[delete("/{id}/coupons")]
pub async fn remove_coupon(
    req: HttpRequest,
    user: MaybeUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = cart_id(&id)?;
    let view = state.carts.remove_coupon(id, user.id(), if_match(&req)?).await?;
    Ok(respond(HttpResponse::Ok(), id, &view))
}
