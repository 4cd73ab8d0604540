//! Reservation groups: stock of several SKUs held all together or not at
//! all, then sold or given back together. For other services; every route
//! needs the operator token.

use actix_web::http::StatusCode;
use actix_web::{delete, get, post, web, HttpResponse};
use mercato_actors::reservation_group::messages::GroupError;
use mercato_actors::reservation_group::state::{GroupLine, ReservationGroup};
use mercato_actors::reservation_group::{GroupAnswer, GroupCallError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Operator;
use crate::errors::ApiError;
use crate::format::rfc3339;
use crate::validate;
use crate::AppState;

/// Most lines in one group.
const MAX_LINES: usize = 100;

/// One line of a group: units of one SKU.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupLineBody {
    /// `[A-Za-z0-9._-]{1,64}`; each SKU at most once in a group.
    sku: String,
    /// Units, 1..=1,000,000.
    qty: u64,
}

/// `POST /v1/inventory/reservations`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReserveGroup {
    /// Client-chosen id making the request idempotent
    /// (`[A-Za-z0-9._-]{1,128}`); generated when absent.
    reservation_id: Option<String>,
    /// Seconds until the hold ends, 1..=86,400.
    ttl_secs: u64,
    /// 1 to 100 lines.
    lines: Vec<GroupLineBody>,
}

/// A reservation group.
#[derive(Serialize, ToSchema)]
pub struct GroupBody {
    reservation_id: String,
    /// `held`, `committed`, `released`, `expired`, `unsold` (its sale found a
    /// line's hold run out and the stock gone: nothing sold, the id spent), or
    /// a step under way (`reserving`, `committing`, `releasing`, `returning`).
    status: &'static str,
    /// When the hold ends (or ended), RFC 3339, UTC.
    expires_at: String,
    lines: Vec<GroupLineBody>,
}

fn group_body(id: String, group: &ReservationGroup) -> GroupBody {
    GroupBody {
        reservation_id: id,
        status: group.status().expect("a group is answered only once reserved").as_str(),
        expires_at: rfc3339(group.expires_at()),
        lines: group
            .lines()
            .iter()
            .map(|line| GroupLineBody {
                sku: line.sku.clone(),
                qty: line.qty,
            })
            .collect(),
    }
}

fn answer(id: String, answer: GroupAnswer) -> HttpResponse {
    let status = if answer.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    HttpResponse::build(status).json(group_body(id, &answer.group))
}

/// The API's words for a group's refusal.
fn refusal(err: GroupCallError) -> ApiError {
    let message = err.to_string();
    match err {
        GroupCallError::Group(GroupError::NotFound(id)) => {
            ApiError::new(StatusCode::NOT_FOUND, "reservation_not_found", message).with("reservation_id", id)
        }
        GroupCallError::Group(GroupError::Conflict(id)) => {
            ApiError::new(StatusCode::CONFLICT, "reservation_conflict", message).with("reservation_id", id)
        }
        GroupCallError::Group(GroupError::Committed(id)) => {
            ApiError::new(StatusCode::CONFLICT, "reservation_committed", message).with("reservation_id", id)
        }
        GroupCallError::Group(GroupError::InProgress(id)) => {
            ApiError::new(StatusCode::CONFLICT, "reservation_in_progress", message).with("reservation_id", id)
        }
        GroupCallError::Group(GroupError::Releasing(id)) => {
            ApiError::new(StatusCode::CONFLICT, "reservation_releasing", message).with("reservation_id", id)
        }
        GroupCallError::Group(GroupError::Unsold(id)) => {
            ApiError::new(StatusCode::CONFLICT, "reservation_expired", message).with("reservation_id", id)
        }
        GroupCallError::OutOfStock(short) => {
            let lines: Vec<serde_json::Value> = short
                .iter()
                .map(|line| serde_json::json!({"sku": line.sku, "requested": line.requested, "available": line.available}))
                .collect();
            ApiError::new(StatusCode::CONFLICT, "out_of_stock", message).with("lines", lines)
        }
        GroupCallError::Stock(err) => err.into(),
        GroupCallError::Actor(err) => err.into(),
    }
}

/// Checks a group's lines: 1 to 100, valid SKUs and quantities, no SKU twice.
fn group_lines(lines: Vec<GroupLineBody>) -> Result<Vec<GroupLine>, ApiError> {
    if lines.is_empty() || lines.len() > MAX_LINES {
        return Err(ApiError::invalid_field(
            "lines",
            format!("lines must hold 1 to {MAX_LINES} lines, got {}", lines.len()),
        ));
    }
    let mut seen = std::collections::HashSet::with_capacity(lines.len());
    lines
        .into_iter()
        .map(|GroupLineBody { sku, qty }| {
            validate::sku(&sku)?;
            validate::in_range("qty", qty, 1, mercato_actors::sku::state::MAX_RESERVATION_QTY)?;
            if !seen.insert(sku.clone()) {
                return Err(ApiError::invalid_field(
                    "lines",
                    format!("SKU {sku} appears twice: give each SKU one line"),
                ));
            }
            Ok(GroupLine { sku, qty })
        })
        .collect()
}

/// Holds every line, or none: 409 `out_of_stock` names the short lines.
#[utoipa::path(post, path = "/v1/inventory/reservations", tag = "inventory", security(("operator_token" = [])),
    request_body = ReserveGroup,
    responses((status = 201, body = GroupBody, description = "every line held"),
        (status = 200, body = GroupBody, description = "the same reservation_id holds these lines already"),
        (status = 401),
        (status = 409, description = "`out_of_stock` naming the short `lines` with `requested` and `available` (nothing held); `reservation_conflict` (the id holds other lines); `reservation_committed`; `reservation_expired` (the id's sale failed: use a new id); `reservation_in_progress` (another request is changing it: retry); `reservation_releasing` (a release was cut short: release it first)"),
        (status = 422, description = "`invalid_field`"), (status = 503, description = "`actor_restarting`: repeat the request")))]
#[post("/reservations")]
pub async fn reserve_group(
    _: Operator,
    state: web::Data<AppState>,
    body: web::Json<ReserveGroup>,
) -> Result<HttpResponse, ApiError> {
    let ReserveGroup {
        reservation_id,
        ttl_secs,
        lines,
    } = body.into_inner();
    let ttl_secs = validate::in_range("ttl_secs", ttl_secs, 1, validate::MAX_TTL_SECS)?;
    let lines = group_lines(lines)?;
    let id = validate::reservation_id_or_new(reservation_id)?;
    let outcome = state.reservation_groups.reserve(&id, lines, ttl_secs * 1000).await;
    let result = match &outcome {
        Ok(done) if done.created => "granted",
        Ok(_) => "replayed",
        Err(GroupCallError::Actor(_)) => "failed",
        Err(_) => "refused",
    };
    state.metrics.reservations.with_label_values(&[result]).inc();
    Ok(answer(id, outcome.map_err(refusal)?))
}

fn group_id(path: web::Path<String>) -> Result<String, ApiError> {
    let id = path.into_inner();
    validate::reservation_id(&id)?;
    Ok(id)
}

/// A reservation group as it stands.
#[utoipa::path(get, path = "/v1/inventory/reservations/{reservation_id}", tag = "inventory",
    security(("operator_token" = [])), params(("reservation_id" = String, Path)),
    responses((status = 200, body = GroupBody), (status = 401), (status = 404, description = "`reservation_not_found`"),
        (status = 503, description = "`actor_restarting`")))]
#[get("/reservations/{reservation_id}")]
pub async fn get_group(
    _: Operator,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = group_id(path)?;
    let found = state.reservation_groups.get(&id).await.map_err(refusal)?;
    Ok(answer(id, found))
}

/// Sells every line of a held group; repeating it answers the same sale.
#[utoipa::path(post, path = "/v1/inventory/reservations/{reservation_id}/commit", tag = "inventory",
    security(("operator_token" = [])), params(("reservation_id" = String, Path)),
    responses((status = 200, body = GroupBody), (status = 401),
        (status = 404, description = "`reservation_not_found` (never held, released, refused or expired)"),
        (status = 409, description = "`reservation_expired` (its hold ran out and a line's stock is gone: what it sold is taken back, nothing sold); `reservation_in_progress`"),
        (status = 503, description = "`actor_restarting`: repeat the commit, it goes on where it stopped")))]
#[post("/reservations/{reservation_id}/commit")]
pub async fn commit_group(
    _: Operator,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = group_id(path)?;
    let sold = state.reservation_groups.commit(&id).await.map_err(refusal)?;
    Ok(answer(id, sold))
}

/// Gives every line of a group back; repeating it answers the same release.
#[utoipa::path(delete, path = "/v1/inventory/reservations/{reservation_id}", tag = "inventory",
    security(("operator_token" = [])), params(("reservation_id" = String, Path)),
    responses((status = 200, body = GroupBody), (status = 401), (status = 404, description = "`reservation_not_found`"),
        (status = 409, description = "`reservation_committed`: it was sold, so it is not released; `reservation_in_progress`; `reservation_expired` (a failed sale's lines were taken back)"),
        (status = 503, description = "`actor_restarting`: repeat the release, it goes on where it stopped")))]
#[delete("/reservations/{reservation_id}")]
pub async fn release_group(
    _: Operator,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = group_id(path)?;
    let released = state.reservation_groups.release(&id).await.map_err(refusal)?;
    Ok(answer(id, released))
}
