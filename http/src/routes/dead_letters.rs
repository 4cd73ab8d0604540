//! `GET /v1/admin/dead-letters`: the event-log events a consumer set aside
//! because they can never be handled (an order mail to an address the mailer
//! refuses, say), newest first, so that operators can see and act on them.

use actix_web::{get, web, HttpResponse};
use mercato_actors::notify::dead_letters::DeadLetter;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Operator;
use crate::errors::ApiError;
use crate::format::rfc3339;
use crate::AppState;

/// One event set aside.
#[derive(Serialize, ToSchema)]
pub struct DeadLetterBody {
    /// Who set it aside (`notifier`).
    consumer: &'static str,
    /// Its sequence number in the event log.
    seq: u64,
    /// The entity it belongs to, e.g. `order/ab12…`.
    subject: String,
    /// What the consumer was doing with it (`order_confirmed`: that mail).
    action: String,
    /// Why it can never be handled.
    reason: String,
    /// RFC 3339, UTC.
    at: String,
}

/// Dead letters: the newest 1,000 of each consumer and the count of all.
#[derive(Serialize, ToSchema)]
pub struct DeadLettersBody {
    /// Set aside since the beginning.
    total: u64,
    /// Newest first.
    letters: Vec<DeadLetterBody>,
}

fn body(consumer: &'static str, letter: DeadLetter) -> DeadLetterBody {
    DeadLetterBody {
        consumer,
        seq: letter.seq,
        subject: letter.subject,
        action: letter.action,
        reason: letter.reason,
        at: rfc3339(letter.at),
    }
}

/// Events set aside by the consumers of the event log.
#[utoipa::path(get, path = "/v1/admin/dead-letters", operation_id = "list_dead_letters", tag = "ops", security(("operator_token" = [])),
    responses((status = 200, body = DeadLettersBody), (status = 401), (status = 403),
        (status = 503, description = "`actor_restarting`, `actor_overloaded`")))]
#[get("/dead-letters")]
pub async fn list(_: Operator, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let notifier = state.notifier.dead_letters().await?;
    let letters = notifier
        .letters
        .into_iter()
        .rev()
        .map(|letter| body("notifier", letter))
        .collect();
    Ok(HttpResponse::Ok().json(DeadLettersBody {
        total: notifier.total,
        letters,
    }))
}
