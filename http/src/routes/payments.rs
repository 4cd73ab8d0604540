//! `POST /v1/payments/stripe/webhook`: Stripe's word on payments.
//!
//! The body is checked against `Stripe-Signature` before anything else (400
//! `invalid_signature`, or `stale_signature` past 300 s); each event id is
//! applied once (200 again for a replay); events may come in any order and may
//! race the checkout: an event for an order whose payment the saga has not yet
//! recorded answers 503, and Stripe delivers it again.

use actix_web::http::StatusCode;
use actix_web::{post, web, HttpRequest, HttpResponse};
use mercato_actors::order::PaymentEventOutcome;
use mercato_actors::payment::webhook::{verify, SignatureError, StripeEvent};
use mercato_actors::runtime::now_millis;
use secrecy::ExposeSecret;
use serde_json::json;

use crate::errors::ApiError;
use crate::AppState;

/// Receives a Stripe event (signature-verified; each event id applied once).
#[utoipa::path(post, path = "/v1/payments/stripe/webhook", tag = "orders",
    params(("Stripe-Signature" = String, Header)),
    request_body(content = String, description = "a Stripe event, as Stripe sends it", content_type = "application/json"),
    responses((status = 200, description = "`{\"received\": true, \"outcome\": \"applied|duplicate|ignored\"}`"),
        (status = 400, description = "`invalid_signature`, `stale_signature`, `invalid_event`"),
        (status = 404, description = "Stripe is not the configured gateway"),
        (status = 503, description = "the order is not ready for this event yet; Stripe retries")))]
#[post("/stripe/webhook")]
pub async fn stripe_webhook(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let secret = state
        .stripe_webhook_secret
        .as_ref()
        .ok_or_else(|| ApiError::not_found("Stripe is not the configured payment gateway"))?;
    let header = req
        .headers()
        .get("stripe-signature")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    verify(header, &body, secret.expose_secret().as_bytes(), now_millis() / 1000).map_err(|err| {
        let code = match err {
            SignatureError::Stale => "stale_signature",
            SignatureError::Malformed | SignatureError::Mismatch => "invalid_signature",
        };
        ApiError::new(StatusCode::BAD_REQUEST, code, err.to_string())
    })?;
    let event: StripeEvent = serde_json::from_slice(&body)
        .map_err(|err| ApiError::new(StatusCode::BAD_REQUEST, "invalid_event", err.to_string()))?;
    let outcome = match state.orders.stripe_event(&event).await? {
        PaymentEventOutcome::Applied => "applied",
        PaymentEventOutcome::Duplicate => "duplicate",
        PaymentEventOutcome::Ignored => "ignored",
        PaymentEventOutcome::NotReady => {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "order_not_ready",
                "the order has not recorded this payment yet; deliver the event again",
            ))
        }
    };
    tracing::info!(event = %event.id, kind = %event.kind, outcome, "stripe event");
    Ok(HttpResponse::Ok().json(json!({"received": true, "outcome": outcome})))
}
