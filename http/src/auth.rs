//! Operator authentication: the static operator token as a bearer token.
//!
//! Handlers that need an operator take an [`Operator`] argument; the extractor
//! answers 401 `unauthorized` when the header is missing or the token is wrong,
//! comparing in constant time.

use std::future::{ready, Ready};

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use crate::errors::ApiError;
use crate::AppState;

/// Proof that the request carries the operator token.
pub struct Operator;

fn check(req: &HttpRequest) -> Result<Operator, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::unauthorized("authentication is not configured"))?;
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer <token>"))?;
    let presented = header
        .to_str()
        .ok()
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or_else(|| ApiError::unauthorized("Authorization must be 'Bearer <token>'"))?;
    let expected = state.admin_token.expose_secret().as_bytes();
    if bool::from(presented.trim().as_bytes().ct_eq(expected)) {
        Ok(Operator)
    } else {
        Err(ApiError::unauthorized("invalid token"))
    }
}

impl FromRequest for Operator {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(check(req))
    }
}
