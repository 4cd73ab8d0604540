//! `/admin/webhooks/{id}`: one endpoint — its state, how far behind its
//! deliveries are, its delivery log — and its actions, each behind a
//! confirmation step: send one event again, deliver again from a log
//! position, enable, disable, rotate the secret (the new one is shown once),
//! delete.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use mercato_events::webhooks::endpoints::EndpointPatch;
use mercato_events::webhooks::sender::Attempt;
use mercato_http::errors::ApiError;
use mercato_http::format::rfc3339;
use mercato_http::AppState;
use serde::Deserialize;

use super::webhooks::{admins_only, state_of, types_of};
use super::{Confirm, ConsoleError, ConsoleLayout, DoneQuery, Staff};
use crate::error::PageError;
use crate::page;
use crate::view::utc;

/// Attempts shown.
const SHOWN: usize = 50;

/// An attempt as a row.
pub struct AttemptRow {
    pub at: String,
    pub event_id: String,
    pub event_type: String,
    pub attempt: u32,
    pub result: &'static str,
    pub delivered: bool,
    /// The HTTP status, or why there was none.
    pub answer: String,
    pub latency_ms: u64,
    pub response: String,
    pub replay: bool,
}

fn attempt_row(attempt: Attempt) -> AttemptRow {
    AttemptRow {
        at: utc(&rfc3339(attempt.at)),
        event_type: attempt.event_type,
        attempt: attempt.attempt,
        result: attempt.result.name(),
        delivered: attempt.http_status.is_some_and(|status| (200..300).contains(&status)),
        answer: match (attempt.http_status, attempt.error) {
            (Some(status), _) => status.to_string(),
            (None, Some(error)) => error,
            (None, None) => "–".into(),
        },
        latency_ms: attempt.latency_ms,
        response: attempt.response,
        replay: attempt.replay,
        event_id: attempt.event_id,
    }
}

#[derive(Template)]
#[template(path = "console/webhook.html")]
struct WebhookPage {
    layout: ConsoleLayout,
    id: String,
    url: String,
    types: String,
    description: String,
    state: String,
    enabled: bool,
    created: String,
    next_sequence: u64,
    behind: u64,
    attempts: Vec<AttemptRow>,
    /// A secret to show this once.
    secret: Option<String>,
    done: Option<&'static str>,
}

/// Endpoint `id`'s page (with `secret` shown once, after creation or rotation).
pub(super) async fn render(
    staff: &Staff,
    state: &AppState,
    status: StatusCode,
    id: &str,
    secret: Option<String>,
    done: Option<&'static str>,
) -> Result<HttpResponse, ConsoleError> {
    let endpoint = state.webhooks.get(id).await.map_err(ApiError::from)?;
    let progress = state.webhooks.progress(id).await.map_err(ApiError::from)?;
    let attempts = state.webhooks.deliveries(id, SHOWN).await.map_err(ApiError::from)?;
    let view = WebhookPage {
        layout: ConsoleLayout::of(staff, "webhooks", format!("Webhook {}", endpoint.url)),
        state: state_of(&endpoint),
        enabled: endpoint.enabled(),
        types: types_of(&endpoint),
        created: utc(&rfc3339(endpoint.created_at)),
        next_sequence: progress.next_seq,
        behind: progress.behind,
        attempts: attempts.into_iter().map(attempt_row).collect(),
        secret,
        done,
        id: endpoint.id,
        url: endpoint.url,
        description: endpoint.description,
    };
    let mut response = page::html(status, &view, staff.visitor.cookies());
    if view.secret.is_some() {
        // A page with a secret is not kept by the browser (back, history).
        response.headers_mut().insert(
            actix_web::http::header::CACHE_CONTROL,
            actix_web::http::header::HeaderValue::from_static("no-store"),
        );
    }
    Ok(response)
}

/// `GET /admin/webhooks/{id}`.
#[get("/admin/webhooks/{id}")]
pub async fn show(
    staff: Staff,
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<DoneQuery>,
) -> Result<HttpResponse, ConsoleError> {
    admins_only(&staff)?;
    let done = match query.done.as_str() {
        "enabled" => Some("Enabled: deliveries resume where they stopped."),
        "disabled" => Some("Disabled: nothing is sent until it is enabled again."),
        "replayed" => Some("Sent again: the attempt is at the top of the log."),
        "rewound" => Some("Delivery goes again from that position, in order."),
        _ => None,
    };
    render(&staff, &state, StatusCode::OK, &id, None, done).await
}

/// What an action's confirmation carries.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ActionQuery {
    event: String,
}

/// An action as posted.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ActionForm {
    csrf: String,
    event_id: String,
    from_sequence: String,
}

/// `GET /admin/webhooks/{id}/{action}`: the confirmation step.
#[get("/admin/webhooks/{id}/{action}")]
pub async fn confirm(
    staff: Staff,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    query: web::Query<ActionQuery>,
) -> Result<HttpResponse, ConsoleError> {
    admins_only(&staff)?;
    let (id, action) = path.into_inner();
    let endpoint = state.webhooks.get(&id).await.map_err(ApiError::from)?;
    let url = endpoint.url;
    let (heading, consequences, button) = match action.as_str() {
        "replay" => (
            format!("Send {} to {url} again?", query.event),
            "It goes now, once, signed like any delivery, outside the endpoint's order; the receiver sees the same webhook-id.".to_string(),
            "Send it again",
        ),
        "replay-from" => (
            format!("Deliver again to {url} from a log position?"),
            "Every event the endpoint takes from that position on is delivered again, in order; receivers de-duplicate by id.".to_string(),
            "Deliver again",
        ),
        "enable" => (format!("Enable {url}?"), "Deliveries resume where they stopped.".to_string(), "Enable"),
        "disable" => (
            format!("Disable {url}?"),
            "Nothing is sent until it is enabled again; events wait, none is lost.".to_string(),
            "Disable",
        ),
        "rotate" => (
            format!("Give {url} a new secret?"),
            "The new secret is shown once. The current one keeps signing too for a day, so the receiver can switch without a gap.".to_string(),
            "Make a new secret",
        ),
        "delete" => (
            format!("Delete {url}?"),
            "The endpoint and its delivery log go; nothing more is sent to it.".to_string(),
            "Delete",
        ),
        _ => return Err(PageError::NotFound("No such action on a webhook endpoint.".into()).into()),
    };
    let back = format!("/admin/webhooks/{id}");
    let mut step =
        Confirm::new(&staff, "webhooks", heading, consequences).form(format!("{back}/{action}"), button, back);
    if action == "replay" {
        step = step.hidden("event_id", query.event.clone());
    }
    if action == "replay-from" {
        step = step.field("from_sequence", "From log position (an event's sequence)");
    }
    Ok(step.page(&staff, StatusCode::OK))
}

/// `POST /admin/webhooks/{id}/{action}`.
#[post("/admin/webhooks/{id}/{action}")]
pub async fn act(
    req: HttpRequest,
    staff: Staff,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, ConsoleError> {
    staff.check_form(&req, &form.csrf)?;
    admins_only(&staff)?;
    let (id, action) = path.into_inner();
    let webhooks = &state.webhooks;
    let back = |done: &str| page::see_other(&format!("/admin/webhooks/{id}?done={done}"), staff.visitor.cookies());
    let toggle = |enabled| EndpointPatch {
        enabled: Some(enabled),
        ..EndpointPatch::default()
    };
    let done = match action.as_str() {
        "replay" => {
            webhooks
                .replay_event(&id, form.event_id.trim())
                .await
                .map_err(ApiError::from)?;
            "replayed"
        }
        "replay-from" => {
            let Ok(from) = form.from_sequence.trim().parse::<u64>() else {
                return Err(
                    PageError::BadRequest("Enter a log position: a whole number, an event's sequence.".into()).into(),
                );
            };
            webhooks.replay_from(&id, from).await.map_err(ApiError::from)?;
            "rewound"
        }
        "enable" | "disable" => {
            let reason = format!("disabled by {} in the console", staff.email);
            webhooks
                .update(&id, toggle(action == "enable"), &reason)
                .await
                .map_err(ApiError::from)?;
            if action == "enable" {
                "enabled"
            } else {
                "disabled"
            }
        }
        "rotate" => {
            let (secret, _) = webhooks.rotate(&id).await.map_err(ApiError::from)?;
            tracing::info!(admin = %staff.email, endpoint = %id, "console rotated a webhook secret");
            return render(
                &staff,
                &state,
                StatusCode::OK,
                &id,
                Some(secret),
                Some("New secret made."),
            )
            .await;
        }
        "delete" => {
            webhooks.delete(&id).await.map_err(ApiError::from)?;
            tracing::info!(admin = %staff.email, endpoint = %id, "console deleted a webhook endpoint");
            return Ok(page::see_other("/admin/webhooks?done=deleted", staff.visitor.cookies()));
        }
        _ => return Err(PageError::NotFound("No such action on a webhook endpoint.".into()).into()),
    };
    tracing::info!(admin = %staff.email, endpoint = %id, %action, "console acted on a webhook endpoint");
    Ok(back(done))
}
