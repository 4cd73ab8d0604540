//! Password hashing with argon2id.
//!
//! Hashes are PHC strings (`$argon2id$v=19$m=..,t=..,p=..$salt$hash`), so a hash
//! keeps the parameters it was made with and verifies after they change. Hashing
//! is deliberately slow (tens of milliseconds) and runs on tokio's blocking pool,
//! never on an actor or HTTP worker thread. A dummy hash made at start lets a
//! login for an unknown e-mail cost the same as a wrong password.
//!
//! Each hash holds `memory_kib` (19 MiB at the OWASP level) while it runs, so
//! at most `max_concurrent` run at once (one per core by default); the others
//! wait in line up to `queue_timeout` and are then refused with
//! [`PasswordError::Busy`] (503 `busy`). The hash's memory is freed when it
//! ends, and the binary's allocator (mimalloc) gives it back to the system.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

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
    /// Hashes running at once; 0: one per core.
    pub max_concurrent: usize,
    /// How long a hash waits for its turn before it is refused.
    #[serde(with = "humantime_serde")]
    pub queue_timeout: Duration,
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
    /// Every hashing slot stayed taken for `queue_timeout`.
    #[error("too many sign-ins at once; retry shortly")]
    Busy,
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
    /// One permit per hash allowed to run.
    slots: Arc<Semaphore>,
    queue_timeout: Duration,
}

impl Passwords {
    /// A hasher with `config`'s parameters (makes one hash, the dummy).
    pub fn new(config: &Argon2Config) -> Result<Self, PasswordError> {
        let params = Params::new(config.memory_kib, config.iterations, config.parallelism, None)
            .map_err(|err| PasswordError::Params(err.to_string()))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let dummy_hash = hash_with(&argon2, &random_text()?)?;
        let slots = match config.max_concurrent {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        };
        Ok(Passwords {
            inner: Arc::new(PasswordsInner {
                argon2,
                dummy_hash,
                slots: Arc::new(Semaphore::new(slots)),
                queue_timeout: config.queue_timeout,
            }),
        })
    }

    /// A hashing slot, or [`PasswordError::Busy`] after `queue_timeout`.
    async fn slot(&self) -> Result<OwnedSemaphorePermit, PasswordError> {
        let waiting = Arc::clone(&self.inner.slots).acquire_owned();
        match tokio::time::timeout(self.inner.queue_timeout, waiting).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(closed)) => Err(PasswordError::Hashing(closed.to_string())),
            Err(_) => Err(PasswordError::Busy),
        }
    }

    /// Hashes `password` with a fresh random salt.
    pub async fn hash(&self, password: String) -> Result<String, PasswordError> {
        let slot = self.slot().await?;
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            hash_with(&inner.argon2, &password)
        })
        .await
        .map_err(|err| PasswordError::Hashing(err.to_string()))?
    }

    /// Whether `password` matches `stored`; with no stored hash, verifies against
    /// the dummy (same cost) and answers `false`.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, PasswordError> {
        let slot = self.slot().await?;
        let inner = Arc::clone(&self.inner);
        let known = stored.is_some();
        let checked = tokio::task::spawn_blocking(move || {
            let _slot = slot;
            let hash = stored.as_deref().unwrap_or(&inner.dummy_hash);
            PasswordHash::new(hash)
                .is_ok_and(|parsed| inner.argon2.verify_password(password.as_bytes(), &parsed).is_ok())
        })
        .await
        .map_err(|err| PasswordError::Hashing(err.to_string()))?;
        Ok(known && checked)
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
            max_concurrent: 1,
            queue_timeout: Duration::from_millis(50),
        }
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let passwords = Passwords::new(&small()).expect("valid params");
        let hash = passwords.hash("correct horse battery".into()).await.expect("hashed");
        assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{hash}");
        let verify = |password: &str, stored: Option<String>| passwords.verify(password.into(), stored);
        assert!(verify("correct horse battery", Some(hash.clone())).await.unwrap());
        assert!(!verify("correct horse battery!", Some(hash)).await.unwrap());
        assert!(!verify("anything at all", None).await.unwrap());
    }

    #[tokio::test]
    async fn hashes_made_with_other_parameters_still_verify() {
        let old = Passwords::new(&small()).expect("valid params");
        let hash = old.hash("correct horse battery".into()).await.expect("hashed");
        let new = Passwords::new(&Argon2Config {
            memory_kib: 2048,
            iterations: 2,
            ..small()
        })
        .expect("valid params");
        assert!(new.verify("correct horse battery".into(), Some(hash)).await.unwrap());
    }

    #[tokio::test]
    async fn a_hash_waits_for_a_slot_and_is_refused_when_none_frees_in_time() {
        let passwords = Passwords::new(&small()).expect("valid params");
        let taken = passwords.slot().await.expect("the one slot");
        assert!(matches!(
            passwords.hash("correct horse battery".into()).await,
            Err(PasswordError::Busy)
        ));
        assert!(matches!(
            passwords.verify("x".repeat(10), None).await,
            Err(PasswordError::Busy)
        ));
        let waiting = tokio::spawn({
            let passwords = passwords.clone();
            async move { passwords.hash("correct horse battery".into()).await }
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        drop(taken);
        assert!(waiting.await.unwrap().is_ok(), "a slot freed within the wait is taken");
    }

    #[test]
    fn out_of_range_parameters_are_refused() {
        let config = Argon2Config {
            memory_kib: 1,
            iterations: 0,
            ..small()
        };
        assert!(matches!(Passwords::new(&config), Err(PasswordError::Params(_))));
    }
}
