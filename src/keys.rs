//! The JWT signing secret: `auth.jwt_secret` when set, else a random key made on
//! first start and kept in the data dir, so tokens survive restarts without any
//! configuration and never leave the machine.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context;
use mercato_http::auth::jwt::MIN_SECRET_BYTES;
use secrecy::{ExposeSecret, SecretSlice, SecretString};

/// The key file inside the data dir.
pub const JWT_KEY_FILE: &str = "jwt.key";

/// The secret from config, or the data dir's key file (created if missing).
pub fn jwt_secret(configured: &SecretString, data_dir: &Path) -> anyhow::Result<SecretSlice<u8>> {
    if !configured.expose_secret().is_empty() {
        let secret = configured.expose_secret().as_bytes().to_vec();
        anyhow::ensure!(
            secret.len() >= MIN_SECRET_BYTES,
            "auth.jwt_secret must be at least {MIN_SECRET_BYTES} bytes"
        );
        return Ok(secret.into());
    }
    let path = data_dir.join(JWT_KEY_FILE);
    match std::fs::read(&path) {
        Ok(secret) => {
            anyhow::ensure!(
                secret.len() >= MIN_SECRET_BYTES,
                "{} holds fewer than {MIN_SECRET_BYTES} bytes; remove it to make a new key",
                path.display()
            );
            Ok(secret.into())
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let mut secret = vec![0u8; 64];
            getrandom::fill(&mut secret).map_err(|err| anyhow::anyhow!("cannot generate a JWT key: {err}"))?;
            write_private(&path, &secret).with_context(|| format!("cannot write {}", path.display()))?;
            tracing::info!(path = %path.display(), "generated a jwt signing key");
            Ok(secret.into())
        }
        Err(err) => Err(err).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Writes `bytes` to a new file readable by its owner only, durably.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_is_kept_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let empty = SecretString::from("");
        let first = jwt_secret(&empty, dir.path()).unwrap();
        let again = jwt_secret(&empty, dir.path()).unwrap();
        assert_eq!(first.expose_secret(), again.expose_secret());
        assert_eq!(first.expose_secret().len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join(JWT_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_configured_secret_wins_and_must_be_long_enough() {
        let dir = tempfile::tempdir().unwrap();
        let configured = SecretString::from("x".repeat(32));
        assert_eq!(
            jwt_secret(&configured, dir.path()).unwrap().expose_secret(),
            &[b'x'; 32]
        );
        assert!(!dir.path().join(JWT_KEY_FILE).exists());
        assert!(jwt_secret(&SecretString::from("short"), dir.path()).is_err());
    }
}
