//! Opaque refresh tokens and random ids.
//!
//! A refresh token reads `<family id>.<secret>`: the family id (128 random bits,
//! hex) names the session entity to ask, the secret (256 random bits, base64url)
//! proves possession. Only the SHA-256 digest of a token is stored.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use super::state::TokenDigest;

/// Length of a random id in hex characters.
const ID_HEX_LEN: usize = 32;

/// A fresh random 128-bit id, as 32 lowercase hex characters.
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    format!("{:032x}", u128::from_le_bytes(bytes))
}

/// Whether `id` has the shape of [`random_id`]'s output.
pub fn is_random_id(id: &str) -> bool {
    id.len() == ID_HEX_LEN && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A newly issued refresh token.
#[derive(Debug, Clone)]
pub struct RefreshToken {
    /// The session (token family) it belongs to.
    pub family: String,
    /// What the client keeps.
    pub token: String,
    /// What the server keeps.
    pub digest: TokenDigest,
}

impl RefreshToken {
    /// The next token of `family`.
    pub fn issue(family: &str) -> RefreshToken {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).expect("the OS random source is available");
        let token = format!("{family}.{}", URL_SAFE_NO_PAD.encode(secret));
        RefreshToken {
            family: family.to_string(),
            digest: digest(&token),
            token,
        }
    }
}

/// The family and digest of a presented token, if it is shaped like one.
pub fn parse(token: &str) -> Option<(String, TokenDigest)> {
    let (family, secret) = token.split_once('.')?;
    let secret_ok = URL_SAFE_NO_PAD.decode(secret).is_ok_and(|bytes| bytes.len() == 32);
    (is_random_id(family) && secret_ok).then(|| (family.to_string(), digest(token)))
}

fn digest(token: &str) -> TokenDigest {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_parse_to_their_family_and_digest() {
        let family = random_id();
        let issued = RefreshToken::issue(&family);
        assert_eq!(parse(&issued.token), Some((family.clone(), issued.digest)));
        assert_ne!(RefreshToken::issue(&family).digest, issued.digest);
    }

    #[test]
    fn malformed_tokens_do_not_parse() {
        let good = RefreshToken::issue(&random_id()).token;
        let (family, secret) = good.split_once('.').unwrap();
        for bad in [
            String::new(),
            family.to_string(),
            format!("{family}."),
            format!("{}.{secret}", family.to_uppercase()),
            format!("{family}.{}", &secret[1..]),
            format!("x{}.{secret}", &family[1..]),
        ] {
            assert_eq!(parse(&bad), None, "{bad}");
        }
    }
}
