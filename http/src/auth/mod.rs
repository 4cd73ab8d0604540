//! Who is calling, and may they: one extractor for every protected route.
//!
//! A request proves itself with `Authorization: Bearer <token>`, either the
//! static operator token (a service credential, compared in constant time, with
//! every staff right) or a JWT access token of a user. A user's role is read from
//! the live account, not the token, so a demotion or deletion takes effect at
//! once. Handlers state what they need in their signature: [`Operator`],
//! [`Admin`] (staff routes) or [`CurrentUser`] (a signed-in user's own data).
//! Missing or bad credentials are 401, a role that does not allow the route 403.

pub mod jwt;

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use actix_web::{dev::Payload, http::header, http::StatusCode, web, FromRequest, HttpRequest};
use mercato_actors::account::Role;
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use self::jwt::TokenError;
use crate::errors::ApiError;
use crate::AppState;

/// The storefront's cookie holding a signed-in visitor's access token; the
/// cart socket accepts it from a page of the same origin.
pub const SESSION_COOKIE: &str = "mercato_session";

/// Who made a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A service holding the static operator token.
    Service,
    /// A signed-in user with its current role.
    User { id: String, role: Role },
}

impl Principal {
    /// What the principal may do; the service token has every staff right.
    pub fn role(&self) -> Role {
        match self {
            Principal::Service => Role::Admin,
            Principal::User { role, .. } => *role,
        }
    }
}

/// A role a route needs, as a type.
pub trait Requirement {
    /// The least role that may use the route.
    const ROLE: Role;
}

/// Routes that run the shop: inventory, catalog, actors.
pub struct OperatorRole;
impl Requirement for OperatorRole {
    const ROLE: Role = Role::Operator;
}

/// Routes over staff and accounts.
pub struct AdminRole;
impl Requirement for AdminRole {
    const ROLE: Role = Role::Admin;
}

/// Proof that the caller's role allows routes of `R`.
pub struct Authorized<R: Requirement> {
    /// Who it is.
    pub principal: Principal,
    role: PhantomData<R>,
}

/// An operator, an admin or the service token.
pub type Operator = Authorized<OperatorRole>;
/// An admin or the service token.
pub type Admin = Authorized<AdminRole>;

/// A signed-in user (any role) acting on their own account.
pub struct CurrentUser {
    /// The user id.
    pub id: String,
    /// Its current role.
    pub role: Role,
}

type Extracted<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer <token>"))?;
    value
        .to_str()
        .ok()
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(|token| token.trim().to_string())
        .ok_or_else(|| ApiError::unauthorized("Authorization must be 'Bearer <token>'"))
}

/// The bearer token of `req`, if it has one.
pub fn bearer_token(req: &HttpRequest) -> Option<String> {
    req.headers()
        .contains_key(header::AUTHORIZATION)
        .then(|| bearer(req).ok())
        .flatten()
}

/// Who `principal` is, in words for an audit trail: a user's e-mail address
/// (its id if the account cannot be read now), or the operator token.
pub async fn who(state: &AppState, principal: &Principal) -> String {
    match principal {
        Principal::Service => "the operator token".to_string(),
        Principal::User { id, .. } => match state.accounts.profile(id).await {
            Ok(profile) => profile.email,
            Err(_) => format!("user {id}"),
        },
    }
}

/// Resolves the caller of `req`.
fn authenticate(req: &HttpRequest) -> Extracted<Principal> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let token = bearer(req);
    Box::pin(async move {
        let state = state.ok_or_else(|| ApiError::unauthorized("authentication is not configured"))?;
        resolve(&state, &token?).await
    })
}

/// Who holds `token`: the service or a live user.
pub async fn resolve(state: &AppState, token: &str) -> Result<Principal, ApiError> {
    if bool::from(token.as_bytes().ct_eq(state.admin_token.expose_secret().as_bytes())) {
        return Ok(Principal::Service);
    }
    let claims = state.jwt.verify(token).map_err(|err| match err {
        TokenError::Expired => ApiError::new(StatusCode::UNAUTHORIZED, "token_expired", err.to_string()),
        TokenError::Invalid => ApiError::unauthorized(err.to_string()),
    })?;
    if !state
        .accounts
        .session_live(&claims.sid, claims.iat.saturating_mul(1000))
        .await?
    {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "session_revoked",
            "this session was signed out (or its refresh token reused); sign in again",
        ));
    }
    match state.accounts.role(&claims.sub).await? {
        Some(role) => Ok(Principal::User { id: claims.sub, role }),
        None => Err(ApiError::unauthorized("the account of this token no longer exists")),
    }
}

/// The signed-in user if the request carries a token, for routes open to guests
/// too (carts). A bad token is 401, not a guest; the service token is a guest.
pub struct MaybeUser(pub Option<String>);

impl MaybeUser {
    /// The user id.
    pub fn id(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl FromRequest for MaybeUser {
    type Error = ApiError;
    type Future = Extracted<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if !req.headers().contains_key(header::AUTHORIZATION) {
            return Box::pin(std::future::ready(Ok(MaybeUser(None))));
        }
        let principal = authenticate(req);
        Box::pin(async move {
            Ok(MaybeUser(match principal.await? {
                Principal::User { id, .. } => Some(id),
                Principal::Service => None,
            }))
        })
    }
}

impl<R: Requirement + 'static> FromRequest for Authorized<R> {
    type Error = ApiError;
    type Future = Extracted<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let principal = authenticate(req);
        Box::pin(async move {
            let principal = principal.await?;
            if !principal.role().allows(R::ROLE) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    format!("this route needs the {} role", R::ROLE.name()),
                ));
            }
            Ok(Authorized {
                principal,
                role: PhantomData,
            })
        })
    }
}

impl FromRequest for CurrentUser {
    type Error = ApiError;
    type Future = Extracted<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let principal = authenticate(req);
        Box::pin(async move {
            match principal.await? {
                Principal::User { id, role } => Ok(CurrentUser { id, role }),
                Principal::Service => Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "this route acts on a user's own account: use that user's access token",
                )),
            }
        })
    }
}
