//! `/admin/webhooks`: the webhook endpoints with their state and how far
//! behind their deliveries are; register one (its secret is shown once, on
//! its page: [`super::webhook`]). Admins only, as in the API. Through the
//! same front door as `/v1/admin/webhooks`.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use mercato_events::webhooks::endpoints::{Endpoint, Status};
use mercato_events::webhooks::WebhookError;
use mercato_http::errors::ApiError;
use mercato_http::AppState;
use serde::Deserialize;

use super::{ConsoleError, ConsoleLayout, DoneQuery, Staff};
use crate::error::PageError;
use crate::form::Errors;
use crate::page;

/// An endpoint as a row.
pub struct EndpointRow {
    pub id: String,
    pub url: String,
    pub types: String,
    pub description: String,
    /// `Enabled`, or why it is disabled.
    pub state: String,
    pub enabled: bool,
    /// Events not yet passed (0 once caught up).
    pub behind: u64,
}

/// The event types of `endpoint` in words.
pub fn types_of(endpoint: &Endpoint) -> String {
    match endpoint.event_types.as_slice() {
        [all] if all == "*" => "every type".into(),
        types => types.join(", "),
    }
}

/// `Enabled`, or `Disabled: reason`.
pub fn state_of(endpoint: &Endpoint) -> String {
    match &endpoint.status {
        Status::Enabled => "Enabled".into(),
        Status::Disabled { reason, .. } => format!("Disabled: {reason}"),
    }
}

/// The registration form as posted (and as shown).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EndpointForm {
    csrf: String,
    url: String,
    event_types: String,
    description: String,
}

#[derive(Template)]
#[template(path = "console/webhooks.html")]
struct WebhooksPage {
    layout: ConsoleLayout,
    rows: Vec<EndpointRow>,
    form: EndpointForm,
    errors: Errors,
    done: Option<&'static str>,
}

/// Refuses anyone but an admin, as the API does.
pub(super) fn admins_only(staff: &Staff) -> Result<(), PageError> {
    staff.admin_only("Only admins manage webhooks: an endpoint's secret signs what the shop says.")
}

async fn render(
    staff: &Staff,
    state: &AppState,
    status: StatusCode,
    form: EndpointForm,
    errors: Errors,
    done: Option<&'static str>,
) -> Result<HttpResponse, ConsoleError> {
    let endpoints = state.webhooks.list().await.map_err(ApiError::from)?;
    let mut rows = Vec::with_capacity(endpoints.len());
    for endpoint in endpoints {
        let progress = state.webhooks.progress(&endpoint.id).await.map_err(ApiError::from)?;
        rows.push(EndpointRow {
            state: state_of(&endpoint),
            enabled: endpoint.status == Status::Enabled,
            types: types_of(&endpoint),
            behind: progress.behind,
            id: endpoint.id,
            url: endpoint.url,
            description: endpoint.description,
        });
    }
    let view = WebhooksPage {
        layout: ConsoleLayout::of(staff, "webhooks", "Webhooks"),
        rows,
        form,
        errors,
        done,
    };
    Ok(page::html(status, &view, staff.visitor.cookies()))
}

/// `GET /admin/webhooks`.
#[get("/admin/webhooks")]
pub async fn list(
    staff: Staff,
    state: web::Data<AppState>,
    query: web::Query<DoneQuery>,
) -> Result<HttpResponse, ConsoleError> {
    admins_only(&staff)?;
    let done = match query.done.as_str() {
        "deleted" => Some("Endpoint deleted, with its delivery log."),
        _ => None,
    };
    let form = EndpointForm {
        event_types: "*".into(),
        ..EndpointForm::default()
    };
    render(&staff, &state, StatusCode::OK, form, Errors::default(), done).await
}

/// The form's errors for a refusal, or `None` for one that is not the form's.
pub(super) fn form_errors(err: &WebhookError) -> Option<Errors> {
    let mut errors = Errors::default();
    match err {
        WebhookError::Url(reason) => errors.add("url", format!("The URL is refused: {reason}.")),
        WebhookError::EventTypes(reason) => errors.add("event_types", format!("Event types: {reason}.")),
        WebhookError::Description => errors.add("description", "Keep the description to 200 characters."),
        _ => return None,
    }
    Some(errors)
}

/// `POST /admin/webhooks`: registers an endpoint and shows its secret once.
#[post("/admin/webhooks")]
pub async fn create(
    req: HttpRequest,
    staff: Staff,
    state: web::Data<AppState>,
    form: web::Form<EndpointForm>,
) -> Result<HttpResponse, ConsoleError> {
    let form = form.into_inner();
    staff.check_form(&req, &form.csrf)?;
    admins_only(&staff)?;
    let types = form
        .event_types
        .split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_string)
        .collect();
    match state
        .webhooks
        .create(&form.url, types, form.description.trim().to_string())
        .await
    {
        Ok(created) => {
            tracing::info!(admin = %staff.email, endpoint = %created.endpoint.id, url = %created.endpoint.url, "console registered a webhook endpoint");
            super::webhook::render(
                &staff,
                &state,
                StatusCode::CREATED,
                &created.endpoint.id,
                Some(created.secret),
                None,
            )
            .await
        }
        Err(err) => match form_errors(&err) {
            Some(errors) => render(&staff, &state, StatusCode::UNPROCESSABLE_ENTITY, form, errors, None).await,
            None => Err(ApiError::from(err).into()),
        },
    }
}
