//! `/admin/login` and `/admin/logout`. The password is checked by the same
//! front door as `POST /v1/auth/login` (its rate limits included); a
//! customer is refused before any session starts. The session is the
//! storefront's: the same cookies, renewed the same way, ended by signing out
//! here or there.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use mercato_actors::account::Role;
use mercato_http::routes::auth::check_password;
use mercato_http::AppState;
use serde::Deserialize;

use super::{ConsoleError, ConsoleLayout};
use crate::error::PageError;
use crate::form::{is_client_error, CsrfForm, Errors};
use crate::page;
use crate::view::sentence;
use crate::visitor::Visitor;

/// The sign-in form as posted.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SignInForm {
    csrf: String,
    email: String,
    password: String,
    /// The console page to go to afterwards.
    next: String,
}

#[derive(Template)]
#[template(path = "console/login.html")]
struct SignInPage {
    layout: ConsoleLayout,
    email: String,
    next: String,
    errors: Errors,
}

/// A console path to go to, never another page or site.
fn console_path(next: &str) -> &str {
    let console = (next == "/admin" || next.starts_with("/admin/") || next.starts_with("/admin?"))
        && !next.chars().any(|c| c == '\\' || c.is_whitespace() || c.is_control());
    match console {
        true => next,
        false => "/admin",
    }
}

fn render(visitor: &Visitor, status: StatusCode, form: SignInForm, errors: Errors) -> HttpResponse {
    let page = SignInPage {
        layout: ConsoleLayout::signed_out(visitor.csrf.clone()),
        email: form.email,
        next: form.next,
        errors,
    };
    page::html(status, &page, visitor.cookies())
}

/// The query of `/admin/login`.
#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// `GET /admin/login`.
#[get("/admin/login")]
pub async fn sign_in_form(visitor: Visitor, query: web::Query<NextQuery>) -> HttpResponse {
    let form = SignInForm {
        next: query.into_inner().next.unwrap_or_default(),
        ..SignInForm::default()
    };
    render(&visitor, StatusCode::OK, form, Errors::default())
}

/// `POST /admin/login`.
#[post("/admin/login")]
pub async fn log_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    mut visitor: Visitor,
    form: web::Form<SignInForm>,
) -> Result<HttpResponse, ConsoleError> {
    let form = form.into_inner();
    visitor.check_form(&req, &form.csrf)?;
    let mut errors = Errors::default();
    if form.email.trim().is_empty() {
        errors.add("email", "Enter your e-mail address.");
    }
    if form.password.is_empty() {
        errors.add("password", "Enter your password.");
    }
    if errors.is_empty() {
        match check_password(&state, &req, &form.email, form.password.clone()).await {
            Ok((_, profile)) if profile.role < Role::Operator => errors.add(
                "email",
                "This is a customer account. The console is for operators and admins.",
            ),
            Ok((user_id, profile)) => {
                // The shop session this browser had ends; the console's is new.
                if let Some(previous) = visitor.refresh_token.take() {
                    if let Err(err) = state.accounts.logout(&previous).await {
                        tracing::info!(error = %err, "a previous session was already gone");
                    }
                }
                visitor.renew_id();
                let session = state.accounts.start_session(user_id, profile).await;
                let session = session.map_err(|err| PageError::from(mercato_http::errors::ApiError::from(err)))?;
                let mut cookies = visitor.cookies();
                cookies.extend(visitor.session_cookies(&state, &session)?);
                return Ok(page::see_other(console_path(&form.next), cookies));
            }
            Err(err) => match err.code() {
                "invalid_credentials" => errors.add("email", "The e-mail address or the password is not right."),
                "rate_limited" => errors.add("email", "Too many attempts. Wait a minute, then try again."),
                _ if is_client_error(&err) => errors.add("email", sentence(err.message())),
                _ => return Err(err.into()),
            },
        }
    }
    Ok(render(&visitor, StatusCode::UNPROCESSABLE_ENTITY, form, errors))
}

/// `POST /admin/logout`: the session is revoked, then forgotten.
#[post("/admin/logout")]
pub async fn log_out(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, ConsoleError> {
    visitor.check_form(&req, &form.csrf)?;
    Ok(page::see_other("/admin/login", visitor.sign_out(&state).await))
}

#[cfg(test)]
mod tests {
    use super::console_path;

    #[test]
    fn only_console_paths_are_followed() {
        for path in ["/admin", "/admin/orders?status=paid", "/admin/actors/sku/K-1"] {
            assert_eq!(console_path(path), path);
        }
        for hostile in [
            "//evil.example",
            "/",
            "/administrator",
            "https://evil.example/admin",
            "/admin/\t/x",
            "",
        ] {
            assert_eq!(console_path(hostile), "/admin", "{hostile:?}");
        }
    }
}
