//! Operator routes over the entity runtime: list live actors, restart one, and
//! (with `testing.fault_injection = true` only) make one panic.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use mercato_actors::runtime::{ActorDirectory, ActorInfo};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Operator;
use crate::errors::ApiError;
use crate::format::rfc3339;
use crate::validate;
use crate::AppState;

/// Default and largest page of the actor list.
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 10_000;

/// Query of `GET /v1/admin/actors`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only actors of this kind (`sku`).
    kind: Option<String>,
    /// At most this many (1..=10,000, default 100).
    limit: Option<usize>,
}

/// One live actor.
#[derive(Serialize, ToSchema)]
pub struct ActorBody {
    kind: &'static str,
    id: String,
    /// `activating`, `running`, `restarting` or `failed`.
    status: &'static str,
    /// Supervised restarts since activation.
    restarts: u32,
    /// Why it last restarted: `panic`, `storage` or `operator` (absent: never).
    #[serde(skip_serializing_if = "Option::is_none")]
    last_restart_cause: Option<&'static str>,
    /// Commands queued.
    mailbox: u32,
    /// RFC 3339, UTC.
    activated_at: String,
}

impl From<ActorInfo> for ActorBody {
    fn from(info: ActorInfo) -> Self {
        ActorBody {
            kind: info.kind,
            id: info.id,
            status: info.status.as_str(),
            restarts: info.restarts,
            last_restart_cause: info.last_restart.map(|cause| cause.as_str()),
            mailbox: info.mailbox,
            activated_at: rfc3339(info.activated_at),
        }
    }
}

/// Answer of restart and fault requests.
#[derive(Serialize, ToSchema)]
pub struct ActorAction {
    kind: String,
    id: String,
    /// What was asked: `restart` or `fault`.
    action: &'static str,
}

/// The directory of actor `kind`, or 404.
pub fn directory<'a>(state: &'a AppState, kind: &str) -> Result<&'a Arc<dyn ActorDirectory>, ApiError> {
    state
        .directories
        .iter()
        .find(|directory| directory.kind() == kind)
        .ok_or_else(|| ApiError::not_found(format!("no actor kind '{kind}'")).with("kind", kind))
}

/// Restarts the live actor `kind/id` (the front door of the route and the console).
pub fn restart_actor(state: &AppState, kind: &str, id: &str) -> Result<(), ApiError> {
    match directory(state, kind)?.restart(id) {
        true => Ok(()),
        false => Err(ApiError::not_found(format!("{kind}/{id} has no live actor"))),
    }
}

/// Makes the next command to `kind/id` panic; callers check that fault
/// injection is on.
pub fn inject_fault(state: &AppState, kind: &str, id: &str) -> Result<(), ApiError> {
    validate::sku(id).map_err(|_| ApiError::invalid_field("id", "id must be a valid entity id"))?;
    directory(state, kind)?.inject_fault(id);
    Ok(())
}

/// Live actors, optionally of one kind.
#[utoipa::path(get, path = "/v1/admin/actors", operation_id = "list_actors", tag = "actors", security(("operator_token" = [])), params(ListQuery),
    responses((status = 200, body = [ActorBody]), (status = 401), (status = 404, description = "unknown kind"),
        (status = 422, description = "`invalid_field`, `invalid_query`")))]
#[get("/actors")]
pub async fn list(
    _: Operator,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = validate::in_range("limit", query.limit.unwrap_or(DEFAULT_LIMIT), 1, MAX_LIMIT)?;
    let directories: Vec<&Arc<dyn ActorDirectory>> = match &query.kind {
        Some(kind) => vec![directory(&state, kind)?],
        None => state.directories.iter().collect(),
    };
    let mut actors = Vec::new();
    for directory in directories {
        let room = limit - actors.len();
        actors.extend(directory.list(room).into_iter().map(ActorBody::from));
    }
    Ok(HttpResponse::Ok().json(actors))
}

/// Restarts a live actor from its persisted state.
#[utoipa::path(post, path = "/v1/admin/actors/{kind}/{id}/restart", tag = "actors", security(("operator_token" = [])),
    params(("kind" = String, Path), ("id" = String, Path)),
    responses((status = 202, body = ActorAction), (status = 401), (status = 404, description = "not live")))]
#[post("/actors/{kind}/{id}/restart")]
pub async fn restart(
    _: Operator,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (kind, id) = path.into_inner();
    restart_actor(&state, &kind, &id)?;
    Ok(HttpResponse::build(StatusCode::ACCEPTED).json(ActorAction {
        kind,
        id,
        action: "restart",
    }))
}

/// Testing only: the actor's next command panics.
#[utoipa::path(post, path = "/v1/admin/actors/{kind}/{id}/fault", tag = "actors", security(("operator_token" = [])),
    params(("kind" = String, Path), ("id" = String, Path)),
    responses((status = 202, body = ActorAction), (status = 401), (status = 404, description = "fault injection is off")))]
#[post("/actors/{kind}/{id}/fault")]
pub async fn fault(
    _: Operator,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (kind, id) = path.into_inner();
    inject_fault(&state, &kind, &id)?;
    Ok(HttpResponse::build(StatusCode::ACCEPTED).json(ActorAction {
        kind,
        id,
        action: "fault",
    }))
}
