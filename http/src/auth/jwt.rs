//! JWT access tokens: HS256, short-lived, claims `sub`, `sid` (the session:
//! its refresh-token family), `role`, `iat`, `exp`, `jti`.
//!
//! Only HS256 verifies: `alg: none` and every other algorithm are refused, and
//! expiry is checked with a small leeway for clock skew.

use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use mercato_actors::account::tokens::random_id;
use mercato_actors::account::Role;
use mercato_actors::runtime::now_millis;
use serde::{Deserialize, Serialize};

/// Clock skew tolerated on `exp`, in seconds.
const LEEWAY_SECS: u64 = 5;
/// Shortest accepted HS256 secret, in bytes (RFC 7518 §3.2: at least the hash size).
pub const MIN_SECRET_BYTES: usize = 32;

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// The session (refresh-token family) it was issued for: a logout or a
    /// refresh-token reuse ends its access tokens too.
    pub sid: String,
    /// The role when the token was issued (the live role decides access).
    pub role: Role,
    /// Issued at, seconds since the epoch.
    pub iat: u64,
    /// Expires at, seconds since the epoch.
    pub exp: u64,
    /// Unique token id.
    pub jti: String,
}

/// Why a token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Past its `exp`.
    #[error("the access token has expired; refresh it")]
    Expired,
    /// Malformed, wrongly signed, or of another algorithm.
    #[error("the access token is not valid")]
    Invalid,
}

/// Signs and verifies access tokens.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// How long an access token lives.
    access_ttl: Duration,
}

/// An issued access token.
#[derive(Debug, Clone)]
pub struct AccessToken {
    /// The compact JWT.
    pub token: String,
    /// Seconds until it expires.
    pub expires_in: u64,
}

impl JwtKeys {
    /// Keys from an HS256 secret of at least [`MIN_SECRET_BYTES`].
    pub fn new(secret: &[u8], access_ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECS;
        validation.set_required_spec_claims(&["exp", "iat", "sub"]);
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            access_ttl,
        }
    }

    /// A token for `user_id` with `role`, in session `session`.
    pub fn issue(&self, user_id: &str, role: Role, session: &str) -> Result<AccessToken, jsonwebtoken::errors::Error> {
        let iat = now_millis() / 1000;
        let expires_in = self.access_ttl.as_secs();
        let claims = Claims {
            sub: user_id.to_string(),
            sid: session.to_string(),
            role,
            iat,
            exp: iat + expires_in,
            jti: random_id(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok(AccessToken { token, expires_in })
    }

    /// The claims of a valid token.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|err| match err.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })
    }
}
