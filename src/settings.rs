//! The one settings tree, loaded from layered sources (lowest first):
//! `config/default.toml` (compiled in), the `--config` file, `MERCATO__SECTION__KEY`
//! environment variables, then the flags and their `MERCATO_*` variables.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use config::{Config, Environment, File, FileFormat};
use mercato_actors::account::password::Argon2Config;
use mercato_actors::notify::MailConfig;
use mercato_actors::order::CheckoutConfig;
use mercato_actors::payment::Capture;
use mercato_actors::runtime::RuntimeConfig;
use mercato_actors::storage::StorageConfig;
use mercato_http::rate_limit::RateLimitConfig;
use secrecy::SecretString;
use serde::Deserialize;

/// The defaults, every key documented in place.
pub const DEFAULT_CONFIG: &str = include_str!("../config/default.toml");

/// All settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// HTTP server.
    pub server: ServerSettings,
    /// sled and the commit thread.
    pub storage: StorageConfig,
    /// Entity runtime.
    pub runtime: RuntimeConfig,
    /// Operator access.
    pub admin: AdminSettings,
    /// Accounts: tokens and password hashing.
    pub auth: AuthSettings,
    /// Attempts allowed on login, register and refresh.
    pub rate_limit: RateLimitConfig,
    /// Optional Redis (shared rate-limit counters).
    pub redis: RedisSettings,
    /// The checkout saga's timing.
    pub checkout: CheckoutConfig,
    /// Payment gateways.
    pub payments: PaymentSettings,
    /// Order mails.
    pub mail: MailConfig,
    /// Stripe, when `payments.gateway = "stripe"`.
    pub stripe: StripeSettings,
    /// The storefront.
    pub web: WebSettings,
    /// Events out: the sinks that follow the event log.
    pub events: EventsSettings,
    /// Webhook deliveries.
    pub webhooks: mercato_events::webhooks::WebhooksConfig,
    /// Product views: the view log's retention and batching.
    pub views: mercato_actors::views::ViewsConfig,
    /// Logging.
    pub log: LogSettings,
    /// Switches for tests only.
    pub testing: TestingSettings,
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Listen address.
    pub bind: SocketAddr,
    /// Worker threads; 0 = one per core.
    pub workers: usize,
    /// Largest JSON body.
    pub body_limit_bytes: usize,
    /// Grace period for in-flight requests on SIGTERM.
    #[serde(with = "humantime_serde")]
    pub shutdown_timeout: Duration,
    /// On SIGTERM, how long to keep serving with `/readyz` at 503 before the
    /// listener closes (so load balancers stop sending first).
    #[serde(with = "humantime_serde")]
    pub drain_delay: Duration,
}

/// `[admin]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSettings {
    /// Static operator token (at least 16 characters); empty means the data dir's.
    pub token: SecretString,
}

/// `[auth]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// Lifetime of a JWT access token.
    #[serde(with = "humantime_serde")]
    pub access_ttl: Duration,
    /// Lifetime of a refresh token (renewed by each rotation).
    #[serde(with = "humantime_serde")]
    pub refresh_ttl: Duration,
    /// HS256 secret of at least 32 bytes; empty means the key file in the data dir.
    pub jwt_secret: SecretString,
    /// Password hashing cost.
    pub argon2: Argon2Config,
}

/// `[payments]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentSettings {
    /// `manual` (built in).
    pub gateway: GatewayKind,
    /// The manual gateway.
    pub manual: ManualSettings,
}

/// Which gateway takes payments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GatewayKind {
    /// Built in: pays at once or when an operator captures.
    Manual,
    /// Card payments through Stripe.
    Stripe,
}

/// `[stripe]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StripeSettings {
    /// API secret key (`sk_...`).
    pub secret_key: SecretString,
    /// Signing secret of the webhook endpoint (`whsec_...`).
    pub webhook_secret: SecretString,
    /// API base URL.
    pub api_base: String,
}

/// `[payments.manual]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManualSettings {
    /// `immediate` or `operator`.
    pub capture: Capture,
}

/// `[redis]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisSettings {
    /// `redis://host:port/db`; empty means no Redis.
    pub url: SecretString,
    /// Prefix of every key Mercato writes.
    pub key_prefix: String,
}

/// `[web]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebSettings {
    /// Mark cookies Secure even over plain HTTP (TLS ends at a proxy in front).
    pub secure_cookies: bool,
    /// Where shoppers reach the shop, for links in mails; empty: `http://` and
    /// `server.bind`.
    pub public_url: String,
}

impl WebSettings {
    /// The shop's address for links: `public_url`, else the bound address.
    pub fn public_url(&self, bind: SocketAddr) -> String {
        match self.public_url.trim() {
            "" => format!("http://{bind}"),
            url => url.to_string(),
        }
    }
}

/// `[events]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsSettings {
    /// NATS JetStream.
    pub nats: mercato_events::nats::NatsConfig,
}

/// `[log]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// `pretty` or `json`.
    pub format: LogFormat,
    /// tracing filter directive.
    pub level: String,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// `[testing]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestingSettings {
    /// Whether the fault-injection route exists.
    pub fault_injection: bool,
}

/// Values that override every file and `MERCATO__*` variable.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--bind` / `MERCATO_BIND`.
    pub bind: Option<SocketAddr>,
    /// `--data-dir` / `MERCATO_DATA_DIR`.
    pub data_dir: Option<PathBuf>,
    /// `--admin-token` / `MERCATO_ADMIN_TOKEN`.
    pub admin_token: Option<String>,
}

impl Settings {
    /// Loads the layers and applies `overrides`.
    pub fn load(config_file: Option<&Path>, overrides: Overrides) -> anyhow::Result<Self> {
        let mut builder = Config::builder().add_source(File::from_str(DEFAULT_CONFIG, FileFormat::Toml));
        if let Some(path) = config_file {
            anyhow::ensure!(path.is_file(), "config file {} does not exist", path.display());
            builder = builder.add_source(File::from(path).format(FileFormat::Toml));
        }
        builder = builder.add_source(
            Environment::with_prefix("MERCATO")
                .prefix_separator("__")
                .separator("__"),
        );
        if let Some(bind) = overrides.bind {
            builder = builder.set_override("server.bind", bind.to_string())?;
        }
        if let Some(dir) = overrides.data_dir {
            builder = builder.set_override("storage.data_dir", dir.to_string_lossy().into_owned())?;
        }
        if let Some(token) = overrides.admin_token {
            builder = builder.set_override("admin.token", token)?;
        }
        let settings: Settings = builder
            .build()
            .context("cannot read the configuration")?
            .try_deserialize()
            .context("invalid configuration")?;
        Ok(settings)
    }

    /// The defaults alone, for tests and tools.
    pub fn defaults() -> anyhow::Result<Self> {
        Config::builder()
            .add_source(File::from_str(DEFAULT_CONFIG, FileFormat::Toml))
            .build()?
            .try_deserialize()
            .context("invalid default configuration")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse_and_are_safe() {
        let settings = Settings::defaults().unwrap();
        assert_eq!(settings.storage.durability, mercato_actors::storage::Durability::Sync);
        assert!(!settings.testing.fault_injection);
        assert_eq!(settings.server.bind.to_string(), "127.0.0.1:8080");
    }

    #[test]
    fn overrides_beat_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("mercato.toml");
        std::fs::write(
            &file,
            "[server]\nbind = \"127.0.0.1:9000\"\n[runtime]\nidle_timeout = \"7s\"\n",
        )
        .unwrap();
        let from_file = Settings::load(Some(&file), Overrides::default()).unwrap();
        assert_eq!(from_file.server.bind.port(), 9000);
        assert_eq!(from_file.runtime.idle_timeout, Duration::from_secs(7));
        let overrides = Overrides {
            bind: Some("127.0.0.1:9100".parse().unwrap()),
            ..Overrides::default()
        };
        assert_eq!(Settings::load(Some(&file), overrides).unwrap().server.bind.port(), 9100);
    }

    #[test]
    fn unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("mercato.toml");
        std::fs::write(&file, "[server]\nbnd = \"127.0.0.1:9000\"\n").unwrap();
        let err = Settings::load(Some(&file), Overrides::default()).unwrap_err();
        assert!(format!("{err:#}").contains("bnd"), "{err:#}");
    }
}
