//! Admin routes over webhook endpoints (DESIGN §4, "events out"): register,
//! list, change, disable, delete, rotate the secret, read the delivery log,
//! replay. Admins only: an endpoint's secret signs what the shop says.

use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use mercato_events::webhooks::endpoints::{Endpoint, EndpointError, EndpointPatch, Status};
use mercato_events::webhooks::sender::Attempt;
use mercato_events::webhooks::{Progress, WebhookError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{who as who_is, Admin};
use crate::errors::ApiError;
use crate::format::rfc3339;
use crate::AppState;

impl From<WebhookError> for ApiError {
    fn from(err: WebhookError) -> Self {
        let message = err.to_string();
        match err {
            WebhookError::Endpoint(EndpointError::NotFound(_)) => {
                ApiError::new(StatusCode::NOT_FOUND, "webhook_not_found", message)
            }
            WebhookError::Endpoint(EndpointError::TooMany | EndpointError::Exists(_)) => {
                ApiError::new(StatusCode::CONFLICT, "too_many_webhooks", message)
            }
            WebhookError::Url(reason) => ApiError::invalid_field("url", reason.to_string()),
            WebhookError::EventTypes(reason) => ApiError::invalid_field("event_types", reason),
            WebhookError::Description => ApiError::invalid_field("description", message),
            WebhookError::EventNotFound(_) => ApiError::new(StatusCode::NOT_FOUND, "event_not_found", message),
            WebhookError::NotWanted { .. } => ApiError::invalid_field("event_id", message),
            WebhookError::Actor(err) => err.into(),
            WebhookError::Storage(err) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable", err.to_string())
            }
        }
    }
}

/// `POST /v1/admin/webhooks`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// `https://` (or `http://`) URL resolving to public addresses only.
    pub url: String,
    /// Event type names from `/asyncapi.json`, or `["*"]` for all.
    pub event_types: Vec<String>,
    #[serde(default)]
    pub description: String,
}

/// `PATCH /v1/admin/webhooks/{id}`: absent fields stay.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookChange {
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub description: Option<String>,
    /// `enabled` or `disabled`.
    pub status: Option<WebhookStatus>,
}

/// Whether deliveries go out.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum WebhookStatus {
    Enabled,
    Disabled,
}

/// An endpoint.
#[derive(Serialize, ToSchema)]
pub struct WebhookBody {
    pub id: String,
    pub url: String,
    pub event_types: Vec<String>,
    pub description: String,
    pub status: WebhookStatus,
    /// Why it is disabled (an operator, `410 Gone`, failing for days).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Shown once, when the endpoint is created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// The first log position not yet delivered (`GET` of one endpoint).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_sequence: Option<u64>,
    /// Events in the log not yet passed, 0 once caught up (`GET` of one endpoint).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub behind: Option<u64>,
}

impl WebhookBody {
    fn of(endpoint: &Endpoint) -> Self {
        let (status, disabled_reason, disabled_at) = match &endpoint.status {
            Status::Enabled => (WebhookStatus::Enabled, None, None),
            Status::Disabled { reason, at } => (WebhookStatus::Disabled, Some(reason.clone()), Some(rfc3339(*at))),
        };
        WebhookBody {
            id: endpoint.id.clone(),
            url: endpoint.url.clone(),
            event_types: endpoint.event_types.clone(),
            description: endpoint.description.clone(),
            status,
            disabled_reason,
            disabled_at,
            created_at: rfc3339(endpoint.created_at),
            updated_at: rfc3339(endpoint.updated_at),
            secret: None,
            next_sequence: None,
            behind: None,
        }
    }

    fn with_progress(mut self, progress: Progress) -> Self {
        self.next_sequence = Some(progress.next_seq);
        self.behind = Some(progress.behind);
        self
    }
}

/// A new secret.
#[derive(Serialize, ToSchema)]
pub struct RotatedSecret {
    pub secret: String,
    /// Until when the previous secret signs too.
    pub previous_secret_expires_at: String,
}

/// One delivery attempt.
#[derive(Serialize, ToSchema)]
pub struct AttemptBody {
    pub event_id: String,
    pub sequence: u64,
    #[serde(rename = "type")]
    pub event_type: String,
    pub attempt: u32,
    pub at: String,
    /// `delivered`, `failed` or `gone`.
    pub result: String,
    pub http_status: Option<u16>,
    pub error: Option<String>,
    pub latency_ms: u64,
    /// The start of the receiver's answer.
    pub response: String,
    /// Sent by a replay of this one event.
    pub replay: bool,
}

impl AttemptBody {
    fn of(attempt: Attempt) -> Self {
        AttemptBody {
            event_id: attempt.event_id,
            sequence: attempt.sequence,
            event_type: attempt.event_type,
            attempt: attempt.attempt,
            at: rfc3339(attempt.at),
            result: attempt.result.name().to_string(),
            http_status: attempt.http_status,
            error: attempt.error,
            latency_ms: attempt.latency_ms,
            response: attempt.response,
            replay: attempt.replay,
        }
    }
}

/// `GET .../deliveries?limit=`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    /// 1..=1000, default 100.
    pub limit: Option<usize>,
}

/// `POST .../replay`: one of the two.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayBody {
    /// Send this event once more, now (answered with the attempt).
    pub event_id: Option<String>,
    /// Deliver everything from this log position again, in order.
    pub from_sequence: Option<u64>,
}

/// What a replay did.
#[derive(Serialize, ToSchema)]
pub struct ReplayDone {
    /// The attempt, for a replay of one event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<AttemptBody>,
    /// Where delivery resumes, for a replay of a range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_sequence: Option<u64>,
}

/// Every webhook endpoint.
#[utoipa::path(get, path = "/v1/admin/webhooks", operation_id = "list_webhooks", tag = "events", security(("operator_token" = [])),
    responses((status = 200, body = [WebhookBody]), (status = 401), (status = 403)))]
#[get("/webhooks")]
pub async fn list(_: Admin, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let all = state.webhooks.list().await?;
    Ok(HttpResponse::Ok().json(all.iter().map(WebhookBody::of).collect::<Vec<_>>()))
}

/// Registers an endpoint: it receives the events published from now on,
/// signed with the secret in the answer (shown this once).
#[utoipa::path(post, path = "/v1/admin/webhooks", operation_id = "create_webhook", tag = "events", security(("operator_token" = [])), request_body = NewWebhook,
    responses((status = 201, body = WebhookBody), (status = 401), (status = 403), (status = 409, description = "`too_many_webhooks`"),
        (status = 422, description = "`invalid_field`: a URL that is malformed or private, an unknown event type")))]
#[post("/webhooks")]
pub async fn create(
    _: Admin,
    state: web::Data<AppState>,
    body: web::Json<NewWebhook>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let created = state
        .webhooks
        .create(&body.url, body.event_types, body.description)
        .await?;
    let mut answer = WebhookBody::of(&created.endpoint);
    answer.secret = Some(created.secret);
    Ok(HttpResponse::Created().json(answer))
}

/// One endpoint, with how far its deliveries are.
#[utoipa::path(get, path = "/v1/admin/webhooks/{id}", operation_id = "get_webhook", tag = "events", security(("operator_token" = [])),
    params(("id" = String, Path, description = "The endpoint id")),
    responses((status = 200, body = WebhookBody), (status = 401), (status = 403), (status = 404, description = "`webhook_not_found`")))]
#[get("/webhooks/{id}")]
pub async fn get_one(_: Admin, state: web::Data<AppState>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let endpoint = state.webhooks.get(&id).await?;
    let progress = state.webhooks.progress(&id).await?;
    Ok(HttpResponse::Ok().json(WebhookBody::of(&endpoint).with_progress(progress)))
}

/// Changes an endpoint; `status: disabled` stops its deliveries (they resume
/// where they stopped when it is enabled again).
#[utoipa::path(patch, path = "/v1/admin/webhooks/{id}", operation_id = "update_webhook", tag = "events", security(("operator_token" = [])),
    params(("id" = String, Path, description = "The endpoint id")), request_body = WebhookChange,
    responses((status = 200, body = WebhookBody), (status = 401), (status = 403), (status = 404, description = "`webhook_not_found`"),
        (status = 422, description = "`invalid_field`")))]
#[patch("/webhooks/{id}")]
pub async fn update(
    who: Admin,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<WebhookChange>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let patch = EndpointPatch {
        url: body.url,
        event_types: body.event_types,
        description: body.description,
        enabled: body.status.map(|status| status == WebhookStatus::Enabled),
    };
    let reason = format!("disabled by {}", who_is(&state, &who.principal).await);
    let endpoint = state.webhooks.update(&id, patch, &reason).await?;
    Ok(HttpResponse::Ok().json(WebhookBody::of(&endpoint)))
}

/// Deletes an endpoint and its delivery log.
#[utoipa::path(delete, path = "/v1/admin/webhooks/{id}", operation_id = "delete_webhook", tag = "events", security(("operator_token" = [])),
    params(("id" = String, Path, description = "The endpoint id")),
    responses((status = 204), (status = 401), (status = 403), (status = 404, description = "`webhook_not_found`")))]
#[delete("/webhooks/{id}")]
pub async fn remove(_: Admin, state: web::Data<AppState>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    state.webhooks.delete(&id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A new signing secret (shown this once); the previous one signs too until
/// `previous_secret_expires_at` (`webhooks.secret_overlap`).
#[utoipa::path(post, path = "/v1/admin/webhooks/{id}/rotate-secret", operation_id = "rotate_webhook_secret", tag = "events", security(("operator_token" = [])),
    params(("id" = String, Path, description = "The endpoint id")),
    responses((status = 200, body = RotatedSecret), (status = 401), (status = 403), (status = 404, description = "`webhook_not_found`")))]
#[post("/webhooks/{id}/rotate-secret")]
pub async fn rotate(_: Admin, state: web::Data<AppState>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let (secret, until) = state.webhooks.rotate(&id).await?;
    Ok(HttpResponse::Ok().json(RotatedSecret {
        secret,
        previous_secret_expires_at: rfc3339(until),
    }))
}

/// The endpoint's newest delivery attempts, newest first.
#[utoipa::path(get, path = "/v1/admin/webhooks/{id}/deliveries", operation_id = "list_webhook_deliveries", tag = "events", security(("operator_token" = [])),
    params(("id" = String, Path, description = "The endpoint id"), DeliveriesQuery),
    responses((status = 200, body = [AttemptBody]), (status = 401), (status = 403), (status = 404, description = "`webhook_not_found`"),
        (status = 422, description = "`invalid_field`: limit")))]
#[get("/webhooks/{id}/deliveries")]
pub async fn deliveries(
    _: Admin,
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<DeliveriesQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid_field("limit", "between 1 and 1000"));
    }
    let attempts = state.webhooks.deliveries(&id, limit).await?;
    Ok(HttpResponse::Ok().json(attempts.into_iter().map(AttemptBody::of).collect::<Vec<_>>()))
}

/// Sends one event again now (`event_id`), or delivers everything from a log
/// position again in order (`from_sequence`).
#[utoipa::path(post, path = "/v1/admin/webhooks/{id}/replay", operation_id = "replay_webhook", tag = "events", security(("operator_token" = [])),
    params(("id" = String, Path, description = "The endpoint id")), request_body = ReplayBody,
    responses((status = 200, body = ReplayDone, description = "the event was sent: the attempt"),
        (status = 202, body = ReplayDone, description = "delivery resumes at from_sequence"),
        (status = 401), (status = 403), (status = 404, description = "`webhook_not_found`, `event_not_found`"),
        (status = 422, description = "`invalid_field`: give event_id or from_sequence; an event the endpoint does not take")))]
#[post("/webhooks/{id}/replay")]
pub async fn replay(
    _: Admin,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<ReplayBody>,
) -> Result<HttpResponse, ApiError> {
    match body.into_inner() {
        ReplayBody {
            event_id: Some(event_id),
            from_sequence: None,
        } => {
            let attempt = state.webhooks.replay_event(&id, &event_id).await?;
            Ok(HttpResponse::Ok().json(ReplayDone {
                attempt: Some(AttemptBody::of(attempt)),
                from_sequence: None,
            }))
        }
        ReplayBody {
            event_id: None,
            from_sequence: Some(from),
        } => {
            state.webhooks.replay_from(&id, from).await?;
            Ok(HttpResponse::Accepted().json(ReplayDone {
                attempt: None,
                from_sequence: Some(from),
            }))
        }
        _ => Err(ApiError::invalid_field(
            "event_id",
            "give event_id or from_sequence, not both",
        )),
    }
}
