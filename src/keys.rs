//! Secrets made on first start and kept in the data dir (mode 0600), so they
//! survive restarts without any configuration and never leave the machine: the
//! JWT signing key (`auth.jwt_secret` overrides it) and the operator token
//! (`--admin-token` / `MERCATO_ADMIN_TOKEN` / `admin.token` override it).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use mercato_http::auth::jwt::MIN_SECRET_BYTES;
use secrecy::{ExposeSecret, SecretSlice, SecretString};

/// The key file inside the data dir.
pub const JWT_KEY_FILE: &str = "jwt.key";
/// The operator token's file inside the data dir.
pub const OPERATOR_TOKEN_FILE: &str = "operator.token";
/// The shortest operator token accepted.
pub const MIN_OPERATOR_TOKEN_CHARS: usize = 16;

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
    let secret = kept(&path, MIN_SECRET_BYTES, || random_bytes(64))?;
    Ok(secret.into())
}

/// Where the operator token in force comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// Flag, environment or config file.
    Configured,
    /// The data dir's file (made now or on an earlier start).
    Kept(PathBuf),
}

/// The configured operator token (at least 16 characters), or the data dir's
/// (created if missing: 64 hex digits).
pub fn operator_token(configured: &SecretString, data_dir: &Path) -> anyhow::Result<(SecretString, TokenSource)> {
    let given = configured.expose_secret().trim();
    if !given.is_empty() {
        anyhow::ensure!(
            given.chars().count() >= MIN_OPERATOR_TOKEN_CHARS,
            "the operator token (--admin-token, MERCATO_ADMIN_TOKEN or admin.token) has {} characters; \
             it must have at least {MIN_OPERATOR_TOKEN_CHARS}, or leave it unset to use a generated one",
            given.chars().count()
        );
        return Ok((SecretString::from(given.to_string()), TokenSource::Configured));
    }
    let path = data_dir.join(OPERATOR_TOKEN_FILE);
    let bytes = kept(&path, MIN_OPERATOR_TOKEN_CHARS, || {
        Ok(random_bytes(32)?
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
            .into_bytes())
    })?;
    let token = String::from_utf8(bytes)
        .ok()
        .map(|token| token.trim().to_string())
        .filter(|token| token.chars().count() >= MIN_OPERATOR_TOKEN_CHARS)
        .with_context(|| {
            format!(
                "{} must hold a token of at least {MIN_OPERATOR_TOKEN_CHARS} characters; remove it to make a new one",
                path.display()
            )
        })?;
    Ok((SecretString::from(token), TokenSource::Kept(path)))
}

/// The bytes of the file at `path` (at least `min_len` of them), or `make()`'s,
/// written there first.
fn kept(path: &Path, min_len: usize, make: impl FnOnce() -> anyhow::Result<Vec<u8>>) -> anyhow::Result<Vec<u8>> {
    match std::fs::read(path) {
        Ok(secret) => {
            keep_private(path)?;
            anyhow::ensure!(
                secret.len() >= min_len,
                "{} holds fewer than {min_len} bytes; remove it to make a new one",
                path.display()
            );
            Ok(secret)
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let secret = make()?;
            write_private(path, &secret).with_context(|| format!("cannot write {}", path.display()))?;
            tracing::info!(path = %path.display(), "generated a secret and kept it");
            Ok(secret)
        }
        Err(err) => Err(err).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Makes a kept secret readable by its owner only again if a copy or a
/// restore opened it up, and says so.
fn keep_private(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            tracing::warn!(path = %path.display(), mode = format!("{:o}", mode & 0o777), "a kept secret was readable by others; made it 0600");
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .with_context(|| format!("cannot make {} private", path.display()))?;
        }
    }
    Ok(())
}

fn random_bytes(len: usize) -> anyhow::Result<Vec<u8>> {
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).map_err(|err| anyhow::anyhow!("cannot generate a secret: {err}"))?;
    Ok(bytes)
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

    #[test]
    fn the_operator_token_is_made_once_per_data_dir_and_kept_private() {
        let dir = tempfile::tempdir().unwrap();
        let empty = SecretString::from("");
        let (first, source) = operator_token(&empty, dir.path()).unwrap();
        let (again, _) = operator_token(&empty, dir.path()).unwrap();
        assert_eq!(first.expose_secret(), again.expose_secret());
        assert_eq!(first.expose_secret().len(), 64);
        let path = dir.path().join(OPERATOR_TOKEN_FILE);
        assert_eq!(source, TokenSource::Kept(path.clone()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            operator_token(&empty, dir.path()).unwrap();
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "a token opened up is made private again");
        }
    }

    #[test]
    fn a_configured_operator_token_wins_and_a_short_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (token, source) = operator_token(&SecretString::from("sixteen-chars-ok"), dir.path()).unwrap();
        assert_eq!(token.expose_secret(), "sixteen-chars-ok");
        assert_eq!(source, TokenSource::Configured);
        assert!(!dir.path().join(OPERATOR_TOKEN_FILE).exists());
        let refused = operator_token(&SecretString::from("short-token"), dir.path()).unwrap_err();
        assert!(refused.to_string().contains("at least 16"), "{refused}");
    }
}
