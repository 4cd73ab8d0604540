//! Password hashing with argon2id.
//!
//! Hashes are PHC strings (`$argon2id$v=19$m=..,t=..,p=..$salt$hash`), so a hash
//! keeps the parameters it was made with and verifies after they change. Hashing
//! is deliberately slow (tens of milliseconds) and runs on tokio's blocking pool,
//! never on an actor or HTTP worker thread. A dummy hash made at start lets a
//! login for an unknown e-mail cost the same as a wrong password.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::Deserialize;

/// The `[auth.argon2]` settings (OWASP's argon2id minimum is 19 MiB, 2 passes, 1 lane).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Argon2Config {
    /// Memory per hash, in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

/// Why hashing failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PasswordError {
    /// The parameters are out of argon2's range.
    #[error("invalid argon2 parameters: {0}")]
    Params(String),
    /// Hashing itself failed (or its thread was lost).
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

/// Hashes and verifies passwords; cheap to clone.
#[derive(Clone)]
pub struct Passwords {
    inner: Arc<PasswordsInner>,
}

struct PasswordsInner {
    argon2: Argon2<'static>,
    /// A hash of a random password, verified against when the user is unknown.
    dummy_hash: String,
}

impl Passwords {
    /// A hasher with `config`'s parameters (makes one hash, the dummy).
    pub fn new(config: &Argon2Config) -> Result<Self, PasswordError> {
        let params = Params::new(config.memory_kib, config.iterations, config.parallelism, None)
            .map_err(|err| PasswordError::Params(err.to_string()))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let dummy_hash = hash_with(&argon2, &random_text()?)?;
        Ok(Passwords {
            inner: Arc::new(PasswordsInner { argon2, dummy_hash }),
        })
    }

    /// Hashes `password` with a fresh random salt.
    pub async fn hash(&self, password: String) -> Result<String, PasswordError> {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || hash_with(&inner.argon2, &password))
            .await
            .map_err(|err| PasswordError::Hashing(err.to_string()))?
    }

    /// Whether `password` matches `stored`; with no stored hash, verifies against
    /// the dummy (same cost) and answers `false`.
    pub async fn verify(&self, password: String, stored: Option<String>) -> bool {
        let inner = Arc::clone(&self.inner);
        let known = stored.is_some();
        let checked = tokio::task::spawn_blocking(move || {
            let hash = stored.as_deref().unwrap_or(&inner.dummy_hash);
            PasswordHash::new(hash)
                .is_ok_and(|parsed| inner.argon2.verify_password(password.as_bytes(), &parsed).is_ok())
        })
        .await;
        known && checked.unwrap_or(false)
    }
}

fn hash_with(argon2: &Argon2<'static>, password: &str) -> Result<String, PasswordError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|err| PasswordError::Hashing(err.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|err| PasswordError::Hashing(err.to_string()))?;
    argon2
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|err| PasswordError::Hashing(err.to_string()))
}

fn random_text() -> Result<String, PasswordError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|err| PasswordError::Hashing(err.to_string()))?;
    Ok(format!("{:032x}", u128::from_le_bytes(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Argon2Config {
        Argon2Config {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        }
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let passwords = Passwords::new(&small()).expect("valid params");
        let hash = passwords.hash("correct horse battery".into()).await.expect("hashed");
        assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{hash}");
        assert!(
            passwords
                .verify("correct horse battery".into(), Some(hash.clone()))
                .await
        );
        assert!(!passwords.verify("correct horse battery!".into(), Some(hash)).await);
        assert!(!passwords.verify("anything at all".into(), None).await);
    }

    #[tokio::test]
    async fn hashes_made_with_other_parameters_still_verify() {
        let old = Passwords::new(&small()).expect("valid params");
        let hash = old.hash("correct horse battery".into()).await.expect("hashed");
        let new = Passwords::new(&Argon2Config {
            memory_kib: 2048,
            iterations: 2,
            parallelism: 1,
        })
        .expect("valid params");
        assert!(new.verify("correct horse battery".into(), Some(hash)).await);
    }

    #[test]
    fn out_of_range_parameters_are_refused() {
        let config = Argon2Config {
            memory_kib: 1,
            iterations: 0,
            parallelism: 1,
        };
        assert!(matches!(Passwords::new(&config), Err(PasswordError::Params(_))));
    }
}
