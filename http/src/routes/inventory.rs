//! Inventory routes: stock levels and reservations of one SKU.
//!
//! Reads are public; writes and reservations need the operator token.

use actix_web::http::StatusCode;
use actix_web::{delete, get, post, put, web, HttpResponse};
use mercato_actors::sku::{InventoryError, ReservationGrant, StockLevel};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Operator;
use crate::errors::ApiError;
use crate::format::rfc3339;
use crate::validate;
use crate::AppState;

/// Largest `on_hand`.
const MAX_ON_HAND: u64 = mercato_actors::sku::state::MAX_ON_HAND;
/// Largest reservation quantity.
const MAX_QTY: u64 = mercato_actors::sku::state::MAX_RESERVATION_QTY;

/// Stock figures of one SKU.
#[derive(Serialize, ToSchema)]
pub struct StockLevelBody {
    sku: String,
    /// Units in the warehouse.
    on_hand: u64,
    /// Units held by open reservations.
    reserved: u64,
    /// `on_hand − reserved`, never negative.
    available: u64,
    /// Units sold through committed reservations.
    sold: u64,
}

impl StockLevelBody {
    pub fn new(sku: String, level: StockLevel) -> Self {
        StockLevelBody {
            sku,
            on_hand: level.on_hand,
            reserved: level.reserved,
            available: level.available,
            sold: level.sold,
        }
    }
}

/// `PUT /v1/inventory/{sku}`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetOnHand {
    /// New on-hand count, 0..=10^12; refused below what is reserved.
    on_hand: u64,
}

/// `POST /v1/inventory/{sku}/adjust`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Adjust {
    /// Signed change of `on_hand`, non-zero.
    delta: i64,
    /// Why (receipt, shrinkage, recount): 1 to 200 characters.
    reason: String,
}

/// `POST /v1/inventory/{sku}/reservations`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reserve {
    /// Units to hold, 1..=1,000,000.
    qty: u64,
    /// Seconds until the hold ends, 1..=86,400.
    ttl_secs: u64,
    /// Client-chosen id making the request idempotent; generated when absent.
    reservation_id: Option<String>,
}

/// A granted reservation.
#[derive(Serialize, ToSchema)]
pub struct ReservationBody {
    reservation_id: String,
    sku: String,
    qty: u64,
    /// RFC 3339, UTC.
    expires_at: String,
}

fn level_response(sku: String, level: StockLevel) -> HttpResponse {
    HttpResponse::Ok().json(StockLevelBody::new(sku, level))
}

/// Stock figures of a SKU (zero for a SKU never stocked).
#[utoipa::path(get, path = "/v1/inventory/{sku}", tag = "inventory",
    params(("sku" = String, Path, description = "`[A-Za-z0-9._-]{1,64}`")),
    responses((status = 200, body = StockLevelBody), (status = 422, description = "`invalid_field`"),
        (status = 503, description = "`actor_restarting`")))]
#[get("/{sku}")]
pub async fn get_level(state: web::Data<AppState>, sku: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let sku = sku.into_inner();
    validate::sku(&sku)?;
    let level = state.inventory.level(&sku).await?;
    Ok(level_response(sku, level))
}

/// Sets a SKU's on-hand count.
#[utoipa::path(put, path = "/v1/inventory/{sku}", tag = "inventory", security(("operator_token" = [])),
    params(("sku" = String, Path)), request_body = SetOnHand,
    responses((status = 200, body = StockLevelBody), (status = 401), (status = 409, description = "`below_reserved`"),
        (status = 422, description = "`invalid_field`, `invalid_body`")))]
#[put("/{sku}")]
pub async fn set_on_hand(
    _: Operator,
    state: web::Data<AppState>,
    sku: web::Path<String>,
    body: web::Json<SetOnHand>,
) -> Result<HttpResponse, ApiError> {
    let sku = sku.into_inner();
    let level = set_stock(&state, &sku, body.on_hand).await?;
    Ok(level_response(sku, level))
}

/// Sets `sku`'s on-hand count: the front door of the route and the console.
pub async fn set_stock(state: &AppState, sku: &str, on_hand: u64) -> Result<StockLevel, ApiError> {
    validate::sku(sku)?;
    let on_hand = validate::in_range("on_hand", on_hand, 0, MAX_ON_HAND)?;
    Ok(state.inventory.set_on_hand(sku, on_hand).await?)
}

/// Moves `sku`'s on-hand count by `delta` for `reason`: the front door of
/// the route and the console.
pub async fn adjust_stock(state: &AppState, sku: &str, delta: i64, reason: String) -> Result<StockLevel, ApiError> {
    validate::sku(sku)?;
    if delta == 0 {
        return Err(ApiError::invalid_field("delta", "delta must not be zero"));
    }
    validate::in_range("delta", delta.unsigned_abs(), 1, MAX_ON_HAND).map_err(|_| {
        ApiError::invalid_field(
            "delta",
            format!("delta must be between -{MAX_ON_HAND} and {MAX_ON_HAND}"),
        )
    })?;
    validate::reason(&reason)?;
    Ok(state.inventory.adjust(sku, delta, reason).await?)
}

/// Moves a SKU's on-hand count by a signed delta.
#[utoipa::path(post, path = "/v1/inventory/{sku}/adjust", tag = "inventory", security(("operator_token" = [])),
    params(("sku" = String, Path)), request_body = Adjust,
    responses((status = 200, body = StockLevelBody), (status = 401), (status = 409, description = "`below_reserved`"),
        (status = 422, description = "`invalid_field`, `on_hand_out_of_range`")))]
#[post("/{sku}/adjust")]
pub async fn adjust(
    _: Operator,
    state: web::Data<AppState>,
    sku: web::Path<String>,
    body: web::Json<Adjust>,
) -> Result<HttpResponse, ApiError> {
    let sku = sku.into_inner();
    let Adjust { delta, reason } = body.into_inner();
    let level = adjust_stock(&state, &sku, delta, reason).await?;
    Ok(level_response(sku, level))
}

/// Holds units of a SKU until they are committed, released or the TTL runs out.
#[utoipa::path(post, path = "/v1/inventory/{sku}/reservations", tag = "inventory", security(("operator_token" = [])),
    params(("sku" = String, Path)), request_body = Reserve,
    responses((status = 201, body = ReservationBody, description = "granted"),
        (status = 200, body = ReservationBody, description = "the same reservation_id was granted before"),
        (status = 401), (status = 409, description = "`out_of_stock`, `reservation_conflict`, `reservation_committed` (this id was sold: it is not held again)"),
        (status = 422, description = "`invalid_field`")))]
#[post("/{sku}/reservations")]
pub async fn reserve(
    _: Operator,
    state: web::Data<AppState>,
    sku: web::Path<String>,
    body: web::Json<Reserve>,
) -> Result<HttpResponse, ApiError> {
    let sku = sku.into_inner();
    validate::sku(&sku)?;
    let Reserve {
        qty,
        ttl_secs,
        reservation_id,
    } = body.into_inner();
    let qty = validate::in_range("qty", qty, 1, MAX_QTY)?;
    let ttl_secs = validate::in_range("ttl_secs", ttl_secs, 1, validate::MAX_TTL_SECS)?;
    let reservation_id = validate::reservation_id_or_new(reservation_id)?;
    let outcome = state
        .inventory
        .reserve(&sku, reservation_id, qty, ttl_secs * 1000)
        .await;
    let result = match &outcome {
        Ok(grant) if grant.created => "granted",
        Ok(_) => "replayed",
        Err(InventoryError::Stock(_)) => "refused",
        Err(InventoryError::Actor(_)) => "failed",
    };
    state.metrics.reservations.with_label_values(&[result]).inc();
    let ReservationGrant {
        reservation_id,
        qty,
        expires_at,
        created,
    } = outcome?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok(HttpResponse::build(status).json(ReservationBody {
        reservation_id,
        sku,
        qty,
        expires_at: rfc3339(expires_at),
    }))
}

fn reservation_path(path: web::Path<(String, String)>) -> Result<(String, String), ApiError> {
    let (sku, reservation_id) = path.into_inner();
    validate::sku(&sku)?;
    validate::reservation_id(&reservation_id)?;
    Ok((sku, reservation_id))
}

/// Sells an open reservation: its units leave `on_hand` and count as sold.
#[utoipa::path(post, path = "/v1/inventory/{sku}/reservations/{reservation_id}/commit", tag = "inventory",
    security(("operator_token" = [])), params(("sku" = String, Path), ("reservation_id" = String, Path)),
    responses((status = 200, body = StockLevelBody), (status = 401), (status = 404, description = "`reservation_not_found`")))]
#[post("/{sku}/reservations/{reservation_id}/commit")]
pub async fn commit(
    _: Operator,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (sku, reservation_id) = reservation_path(path)?;
    let level = state.inventory.commit(&sku, reservation_id).await?;
    Ok(level_response(sku, level))
}

/// Gives an open reservation back.
#[utoipa::path(delete, path = "/v1/inventory/{sku}/reservations/{reservation_id}", tag = "inventory",
    security(("operator_token" = [])), params(("sku" = String, Path), ("reservation_id" = String, Path)),
    responses((status = 200, body = StockLevelBody), (status = 401), (status = 404, description = "`reservation_not_found`"),
        (status = 409, description = "`reservation_committed`: it was sold, so it is not released")))]
#[delete("/{sku}/reservations/{reservation_id}")]
pub async fn release(
    _: Operator,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (sku, reservation_id) = reservation_path(path)?;
    let level = state.inventory.release(&sku, reservation_id).await?;
    Ok(level_response(sku, level))
}
