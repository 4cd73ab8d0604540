//! Operations routes: liveness, readiness, metrics, the API description.

use std::sync::atomic::Ordering;

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpResponse};
use prometheus::Encoder;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::errors::ApiError;
use crate::openapi::ApiDoc;
use crate::{AppState, HttpOptions};

/// A status answer.
#[derive(Serialize, ToSchema)]
pub struct Status {
    /// `ok` or `ready`.
    status: &'static str,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, body = Status)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Status { status: "ok" })
}

/// The process accepts traffic (storage open, not shutting down).
#[utoipa::path(get, path = "/readyz", tag = "ops", responses(
    (status = 200, body = Status),
    (status = 503, description = "`not_ready`: shutting down, or storage cannot write (the `reason`) until it recovers")))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if !state.ready.load(Ordering::Acquire) {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "shutting down",
        ));
    }
    if let Some(reason) = state.storage.failure() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "storage cannot write until it recovers",
        )
        .with("reason", reason));
    }
    Ok(HttpResponse::Ok().json(Status { status: "ready" }))
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "ops", responses((status = 200, content_type = "text/plain", body = String)))]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let encoder = prometheus::TextEncoder::new();
    let mut body = Vec::new();
    encoder.encode(&state.prometheus.gather(), &mut body).map_err(|err| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "metrics_unavailable",
            err.to_string(),
        )
    })?;
    Ok(HttpResponse::Ok().content_type(encoder.format_type()).body(body))
}

/// This API's OpenAPI 3.1 description.
#[utoipa::path(get, path = "/openapi.json", tag = "ops", responses((status = 200, content_type = "application/json", body = Object)))]
#[get("/openapi.json")]
pub async fn openapi(options: web::Data<HttpOptions>) -> HttpResponse {
    let mut doc = ApiDoc::openapi();
    if !options.fault_injection {
        doc.paths.paths.remove("/v1/admin/actors/{kind}/{id}/fault");
    }
    HttpResponse::Ok().json(doc)
}

/// The AsyncAPI 3 description of the events Mercato publishes (webhooks and
/// NATS JetStream).
#[utoipa::path(get, path = "/asyncapi.json", tag = "ops", responses((status = 200, content_type = "application/json", body = Object)))]
#[get("/asyncapi.json")]
pub async fn asyncapi() -> HttpResponse {
    HttpResponse::Ok().json(mercato_events::asyncapi::document())
}
