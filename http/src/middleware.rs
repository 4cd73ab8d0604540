//! The per-request middleware: a request id (taken from `x-request-id` when the
//! client sent a sane one, else generated) echoed in the response, a tracing span
//! around the request, and the request metrics; and the cap on request headers.

use std::time::Instant;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::web;
use actix_web::ResponseError as _;
use actix_web::{HttpMessage as _, HttpRequest};
use tracing::Instrument;

use crate::errors::ApiError;
use crate::AppState;

/// Largest total size of a request's headers, names and values.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Refuses a request whose headers total more than [`MAX_HEADER_BYTES`]: 431
/// `headers_too_large`.
pub async fn limit_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let size: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if size > MAX_HEADER_BYTES {
        let refused = ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            format!("the request headers total {size} bytes; at most {MAX_HEADER_BYTES} are read"),
        );
        // Answered before routing: no route pattern to label its metrics with.
        req.extensions_mut().insert(Unmatched);
        return Ok(req.into_response(refused.error_response()).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// The request id header.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

fn sane_request_id(value: &HeaderValue) -> Option<String> {
    let value = value.to_str().ok()?;
    let ok = !value.is_empty()
        && value.len() <= 128
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    ok.then(|| value.to_string())
}

/// Marks a request that no route matched; the default service sets it, so
/// that its metrics say `unmatched` instead of the path.
#[derive(Debug, Clone, Copy)]
pub struct Unmatched;

/// The route pattern a routed request matched (`/v1/inventory/{sku}`),
/// rebuilt from the segments the router captured: `HttpRequest::match_pattern`
/// walks the whole routing table again, running the pattern regex of every
/// dynamic route it passes, which cost more than the reservation itself.
pub fn route_pattern(req: &HttpRequest) -> String {
    if req.extensions().contains::<Unmatched>() {
        return "unmatched".to_string();
    }
    let info = req.match_info();
    let path = info.as_str();
    let base = path.as_ptr() as usize;
    // Captured values are slices of the matched path: their offsets say where
    // each `{name}` stands.
    let mut captures: Vec<(usize, usize, &str)> = info
        .iter()
        .filter_map(|(name, value)| {
            let start = (value.as_ptr() as usize).checked_sub(base)?;
            let end = start + value.len();
            (end <= path.len()).then_some((start, end, name))
        })
        .collect();
    if captures.len() != info.segment_count() {
        return req.match_pattern().unwrap_or_else(|| "unmatched".to_string());
    }
    captures.sort_unstable();
    let mut pattern = String::with_capacity(path.len() + 8 * captures.len());
    let mut at = 0;
    for (start, end, name) in captures {
        if start < at {
            return req.match_pattern().unwrap_or_else(|| "unmatched".to_string());
        }
        pattern.push_str(&path[at..start]);
        pattern.push('{');
        pattern.push_str(name);
        pattern.push('}');
        at = end;
    }
    pattern.push_str(&path[at..]);
    pattern
}

/// Wraps every request: id, span, metrics.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(sane_request_id)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let method = req.method().clone();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    // The route is known once the router has run: recorded below.
    let span =
        tracing::info_span!("request", request_id = %request_id, method = %method, route = tracing::field::Empty);
    let started = Instant::now();
    let mut response = next.call(req).instrument(span.clone()).await?;
    let elapsed = started.elapsed();
    let status = response.status();
    let route = route_pattern(response.request());
    span.record("route", route.as_str());
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID.clone(), value);
    }
    if let Some(state) = state {
        state
            .metrics
            .requests
            .with_label_values(&[&route, method.as_str(), status.as_str()])
            .inc();
        state
            .metrics
            .duration
            .with_label_values(&[&route])
            .observe(elapsed.as_secs_f64());
    }
    span.in_scope(|| {
        if status.is_server_error() {
            tracing::warn!(
                status = status.as_u16(),
                elapsed_us = elapsed.as_micros() as u64,
                "request failed"
            );
        } else {
            tracing::debug!(
                status = status.as_u16(),
                elapsed_us = elapsed.as_micros() as u64,
                "request done"
            );
        }
    });
    Ok(response)
}
