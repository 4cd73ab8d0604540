//! `/login`, `/register` and `/logout`: the same front doors as
//! `POST /v1/auth/login|register|logout` (rate limits, the guest cart merged
//! into the customer's), with the session kept in cookies.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use mercato_actors::account::SignedIn;
use mercato_http::errors::ApiError;
use mercato_http::routes::auth::{log_in, register_account};
use mercato_http::AppState;
use serde::Deserialize;

use crate::error::PageError;
use crate::form::{field_error, is_client_error, CsrfForm, Errors};
use crate::page::{self, Layout};
use crate::view::sentence;
use crate::visitor::Visitor;

/// The sign-in and registration forms as posted.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AccountForm {
    csrf: String,
    email: String,
    password: String,
    name: String,
    /// Where to go after signing in (a path of this shop).
    next: String,
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    layout: Layout,
    csrf: String,
    /// `login` or `register`.
    mode: &'static str,
    email: String,
    /// The name typed so far (registration).
    display_name: String,
    next: String,
    errors: Errors,
}

/// The query of `/login`.
#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// A path of this shop to go to, never another site: one leading `/`, no
/// backslash, no whitespace or control character (browsers drop tabs and
/// newlines from URLs, so `/\t/evil.example` would become `//evil.example`).
fn local_path(next: &str) -> &str {
    let mut chars = next.chars();
    let local = chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && !next.chars().any(|c| c == '\\' || c.is_whitespace() || c.is_control());
    match local {
        true => next,
        false => "/account",
    }
}

async fn render(
    state: &AppState,
    visitor: &Visitor,
    status: StatusCode,
    mode: &'static str,
    form: AccountForm,
    errors: Errors,
) -> HttpResponse {
    let title = match mode {
        "login" => "Sign in",
        _ => "Create an account",
    };
    let page = SignInPage {
        layout: Layout::of(state, visitor, title).await.private(),
        csrf: visitor.csrf.clone(),
        mode,
        email: form.email,
        display_name: form.name,
        next: form.next,
        errors,
    };
    page::html(status, &page, visitor.cookies())
}

/// `GET /login`.
#[get("/login")]
pub async fn login_form(state: web::Data<AppState>, visitor: Visitor, query: web::Query<NextQuery>) -> HttpResponse {
    let form = AccountForm {
        next: query.into_inner().next.unwrap_or_default(),
        ..AccountForm::default()
    };
    render(&state, &visitor, StatusCode::OK, "login", form, Errors::default()).await
}

/// `GET /register`.
#[get("/register")]
pub async fn register_form(state: web::Data<AppState>, visitor: Visitor) -> HttpResponse {
    render(
        &state,
        &visitor,
        StatusCode::OK,
        "register",
        AccountForm::default(),
        Errors::default(),
    )
    .await
}

/// Signed in: session cookies, and the guest cart forgotten once it was
/// merged into the customer's (kept when the merge failed).
fn signed_in(
    visitor: &Visitor,
    state: &AppState,
    session: &SignedIn,
    merged: Option<String>,
    next: &str,
) -> Result<HttpResponse, PageError> {
    let mut cookies = visitor.cookies();
    cookies.extend(visitor.session_cookies(state, session)?);
    if merged.is_some() {
        cookies.push(visitor.forget_cart());
    }
    Ok(page::see_other(local_path(next), cookies))
}

/// What a refused sign-in or registration says, on which field.
fn refusal(err: &ApiError) -> Errors {
    let mut errors = Errors::default();
    match err.code() {
        "invalid_credentials" => errors.add("email", "The e-mail address or the password is not right."),
        "email_taken" => errors.add("email", "An account with this e-mail address exists: sign in instead."),
        "rate_limited" => errors.add("email", "Too many attempts. Wait a minute, then try again."),
        "invalid_field" => errors.0.push(field_error(err, "email")),
        _ => errors.add("email", sentence(err.message())),
    }
    errors
}

/// The errors of `form` before anything is asked: an empty e-mail or password.
fn required(form: &AccountForm, empty_password: &str) -> Errors {
    let mut errors = Errors::default();
    if form.email.trim().is_empty() {
        errors.add("email", "Enter your e-mail address.");
    }
    if form.password.is_empty() {
        errors.add("password", empty_password);
    }
    errors
}

/// Signed in with `outcome`'s session and off to `next`, or the `mode` form
/// again with why not.
async fn answer(
    state: &AppState,
    visitor: &Visitor,
    mode: &'static str,
    form: AccountForm,
    outcome: Result<(SignedIn, Option<String>), ApiError>,
    next: &str,
) -> Result<HttpResponse, PageError> {
    let errors = match outcome {
        Ok((session, merged)) => return signed_in(visitor, state, &session, merged, next),
        Err(err) if is_client_error(&err) => refusal(&err),
        Err(err) => return Err(PageError::from(err)),
    };
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(render(state, visitor, status, mode, form, errors).await)
}

/// `POST /login`.
#[post("/login")]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    form: web::Form<AccountForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    visitor.check_form(&req, &form.csrf)?;
    let errors = required(&form, "Enter your password.");
    if !errors.is_empty() {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(render(&state, &visitor, status, "login", form, errors).await);
    }
    let guest = visitor.guest();
    let outcome = log_in(&state, &req, &form.email, form.password.clone(), guest).await;
    let next = form.next.clone();
    answer(&state, &visitor, "login", form, outcome, &next).await
}

/// `POST /register`.
#[post("/register")]
pub async fn register(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    form: web::Form<AccountForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    visitor.check_form(&req, &form.csrf)?;
    let errors = required(&form, "Choose a password of at least 10 characters.");
    if !errors.is_empty() {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(render(&state, &visitor, status, "register", form, errors).await);
    }
    let name = (!form.name.trim().is_empty()).then(|| form.name.clone());
    let guest = visitor.guest();
    let outcome = register_account(&state, &req, &form.email, form.password.clone(), name, guest).await;
    answer(&state, &visitor, "register", form, outcome, "/account").await
}

/// `POST /logout`: the session is revoked for its tokens too, then forgotten.
#[post("/logout")]
pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    visitor.check_form(&req, &form.csrf)?;
    Ok(page::see_other("/", visitor.sign_out(&state).await))
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_paths_of_this_shop_are_followed() {
        assert_eq!(local_path("/account"), "/account");
        assert_eq!(local_path("/orders/abc?x=1"), "/orders/abc?x=1");
        for hostile in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "https://evil.example",
            "",
            "/ /x",
        ] {
            assert_eq!(local_path(hostile), "/account", "{hostile:?}");
        }
    }
}
