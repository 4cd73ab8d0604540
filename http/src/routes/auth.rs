//! Account routes that need no access token: register, log in, refresh, log out.
//!
//! Register, login and refresh are rate-limited per client IP and per account.
//! Login answers the same 401 `invalid_credentials`, after the same amount of
//! hashing, for an unknown e-mail and for a wrong password.

use actix_web::http::StatusCode;
use actix_web::{post, web, HttpRequest, HttpResponse};
use mercato_actors::account::tokens::is_random_id;
use mercato_actors::account::{Profile, Role, SignedIn};
use mercato_actors::views::recent::ViewerKey;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::me::UserBody;
use super::views::session_key as views_session_key;
use crate::auth::jwt::AccessToken;
use crate::errors::ApiError;
use crate::format::rfc3339;
use crate::rate_limit::Route;
use crate::AppState;

/// `POST /v1/auth/register`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Register {
    /// Trimmed and case-folded; unique.
    email: String,
    /// 10 to 128 characters, not only whitespace.
    password: String,
    /// Display name, up to 100 characters.
    name: Option<String>,
    /// A guest cart to merge into the new account's cart.
    cart_id: Option<String>,
    /// A guest session whose recently viewed products become the account's.
    view_session: Option<String>,
}

/// `POST /v1/auth/login`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    email: String,
    password: String,
    /// A guest cart to merge into the customer's cart (quantities add up, capped).
    cart_id: Option<String>,
    /// A guest session whose recently viewed products join the account's.
    view_session: Option<String>,
}

/// `POST /v1/auth/refresh` and `POST /v1/auth/logout`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token of the session.
    refresh_token: String,
}

/// A signed-in session: the user and a token pair.
#[derive(Serialize, ToSchema)]
pub struct SessionBody {
    user: UserBody,
    /// JWT for `Authorization: Bearer`.
    access_token: String,
    /// Always `Bearer`.
    token_type: &'static str,
    /// Seconds the access token lives.
    expires_in: u64,
    /// Opaque, single-use: swap it at `/v1/auth/refresh` for a new pair.
    refresh_token: String,
    /// When the refresh token stops working unless used.
    refresh_expires_at: String,
    /// The customer's cart, when a guest `cart_id` was merged into it.
    #[serde(skip_serializing_if = "Option::is_none")]
    cart_id: Option<String>,
}

/// A signed access token for a new session.
pub fn access_token(state: &AppState, signed_in: &SignedIn) -> Result<AccessToken, ApiError> {
    state
        .jwt
        .issue(&signed_in.user_id, signed_in.profile.role, &signed_in.refresh.family)
        .map_err(|err| {
            tracing::error!(error = %err, "cannot sign an access token");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "cannot sign an access token",
            )
        })
}

/// The rate limit of sign-ins, then the password: the account's id and
/// profile (no session yet). The console's sign-in checks the role before
/// it starts a session.
pub async fn check_password(
    state: &AppState,
    req: &HttpRequest,
    email: &str,
    password: String,
) -> Result<(String, Profile), ApiError> {
    state.limiter.check(Route::Login, req, &account_key(email)).await?;
    Ok(state.accounts.authenticate(email, password).await?)
}

/// Signs a customer in (rate-limited per client and account) and merges what
/// the guest brings; answers the session and the merged cart's id. The
/// front door of `POST /v1/auth/login` and the storefront's sign-in form.
pub async fn log_in(
    state: &AppState,
    req: &HttpRequest,
    email: &str,
    password: String,
    guest: Guest,
) -> Result<(SignedIn, Option<String>), ApiError> {
    let (user_id, profile) = check_password(state, req, email, password).await?;
    let signed_in = state.accounts.start_session(user_id, profile).await?;
    let cart = guest.merge_into(state, &signed_in.user_id).await;
    Ok((signed_in, cart))
}

/// Creates a customer account and signs it in, like [`log_in`].
pub async fn register_account(
    state: &AppState,
    req: &HttpRequest,
    email: &str,
    password: String,
    name: Option<String>,
    guest: Guest,
) -> Result<(SignedIn, Option<String>), ApiError> {
    state.limiter.check(Route::Register, req, &account_key(email)).await?;
    let (user_id, profile) = state.accounts.create(email, password, name, Role::Customer).await?;
    let signed_in = state.accounts.start_session(user_id, profile).await?;
    let cart = guest.merge_into(state, &signed_in.user_id).await;
    Ok((signed_in, cart))
}

fn session(state: &AppState, signed_in: SignedIn) -> Result<SessionBody, ApiError> {
    let access = access_token(state, &signed_in)?;
    Ok(SessionBody {
        user: UserBody::new(signed_in.user_id, signed_in.profile),
        access_token: access.token,
        token_type: "Bearer",
        expires_in: access.expires_in,
        refresh_token: signed_in.refresh.token,
        refresh_expires_at: rfc3339(signed_in.refresh_expires_at),
        cart_id: None,
    })
}

/// What a guest brings to sign-in: a cart to merge, a session whose
/// recently viewed products become the account's.
#[derive(Default)]
pub struct Guest {
    /// The guest cart's id.
    pub cart: Option<String>,
    /// The guest's view session.
    pub views: Option<ViewerKey>,
}

impl Guest {
    /// Checks the shapes of what the guest names before anything else happens.
    fn checked(cart_id: Option<String>, view_session: Option<String>) -> Result<Self, ApiError> {
        if cart_id.as_deref().is_some_and(|id| !is_random_id(id)) {
            return Err(ApiError::invalid_field("cart_id", "cart_id is not a cart id"));
        }
        Ok(Guest {
            cart: cart_id,
            views: view_session.as_deref().map(views_session_key).transpose()?,
        })
    }

    /// Merges what the guest brings into `user_id`'s account; answers the
    /// merged cart's id.
    async fn merge_into(self, state: &AppState, user_id: &str) -> Option<String> {
        if let Some(session) = self.views {
            state.views.merge(session, ViewerKey::customer(user_id));
        }
        match self.cart {
            Some(guest) => merge_guest_cart(state, user_id, &guest).await,
            None => None,
        }
    }
}

/// Merges guest cart `guest` into the user's current cart; answers that cart's
/// id. Signing in never fails for the cart: a cart that is gone, merged before
/// or someone else's is left as it is (and logged).
async fn merge_guest_cart(state: &AppState, user_id: &str, guest: &str) -> Option<String> {
    let merged = async {
        let into = state.accounts.current_cart(user_id).await.map_err(ApiError::from)?;
        state.carts.ensure(&into, Some(user_id)).await?;
        state.carts.merge(guest, &into, user_id).await?;
        Ok::<_, ApiError>(into)
    };
    match merged.await {
        Ok(into) => Some(into),
        Err(err) => {
            tracing::info!(error = %err, "guest cart not merged at sign-in");
            None
        }
    }
}

/// The rate-limit key of an e-mail as typed.
fn account_key(email: &str) -> String {
    email.trim().to_lowercase().chars().take(254).collect()
}

/// The rate-limit key of a refresh token: its session.
fn session_key(token: &str) -> String {
    token.split('.').next().unwrap_or_default().chars().take(32).collect()
}

/// Creates a customer account and signs it in.
#[utoipa::path(post, path = "/v1/auth/register", tag = "accounts", request_body = Register,
    responses((status = 201, body = SessionBody), (status = 409, description = "`email_taken`"),
        (status = 422, description = "`invalid_field` (email, password, name)"), (status = 429, description = "`rate_limited`")))]
#[post("/register")]
pub async fn register(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<Register>,
) -> Result<HttpResponse, ApiError> {
    let Register {
        email,
        password,
        name,
        cart_id,
        view_session,
    } = body.into_inner();
    let guest = Guest::checked(cart_id, view_session)?;
    let (signed_in, cart) = register_account(&state, &req, &email, password, name, guest).await?;
    let mut body = session(&state, signed_in)?;
    body.cart_id = cart;
    Ok(HttpResponse::Created().json(body))
}

/// Signs in with e-mail and password.
#[utoipa::path(post, path = "/v1/auth/login", tag = "accounts", request_body = Login,
    responses((status = 200, body = SessionBody),
        (status = 401, description = "`invalid_credentials`: unknown e-mail or wrong password, not told apart"),
        (status = 429, description = "`rate_limited`")))]
#[post("/login")]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<Login>,
) -> Result<HttpResponse, ApiError> {
    let Login {
        email,
        password,
        cart_id,
        view_session,
    } = body.into_inner();
    let (signed_in, cart) = log_in(&state, &req, &email, password, Guest::checked(cart_id, view_session)?).await?;
    let mut body = session(&state, signed_in)?;
    body.cart_id = cart;
    Ok(HttpResponse::Ok().json(body))
}

/// Swaps a refresh token for a new token pair. Each refresh token works once;
/// presenting one again revokes the whole session.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "accounts", request_body = RefreshRequest,
    responses((status = 200, body = SessionBody),
        (status = 401, description = "`invalid_refresh_token`, `refresh_token_reused` (the session is revoked)"),
        (status = 429, description = "`rate_limited`")))]
#[post("/refresh")]
pub async fn refresh(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let token = body.into_inner().refresh_token;
    state.limiter.check(Route::Refresh, &req, &session_key(&token)).await?;
    let signed_in = state.accounts.refresh(&token).await?;
    Ok(HttpResponse::Ok().json(session(&state, signed_in)?))
}

/// Ends the session of a refresh token: none of its refresh tokens, and none
/// of the access tokens issued with them, works again (401 `session_revoked`).
#[utoipa::path(post, path = "/v1/auth/logout", tag = "accounts", request_body = RefreshRequest,
    responses((status = 204), (status = 401, description = "`invalid_refresh_token`")))]
#[post("/logout")]
pub async fn logout(state: web::Data<AppState>, body: web::Json<RefreshRequest>) -> Result<HttpResponse, ApiError> {
    state.accounts.logout(&body.refresh_token).await?;
    Ok(HttpResponse::NoContent().finish())
}
