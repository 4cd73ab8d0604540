//! Rate limits on the account routes (login, register, refresh) and on product
//! views, per client IP and per account (or viewer), as fixed windows: at most
//! `limit` attempts per key and window, then 429 with `Retry-After` until the
//! window ends.
//!
//! Counters live in process by default. With `redis.url` set they live in Redis
//! (one `INCR` + `PEXPIRE` script per check), so every node behind a load
//! balancer counts the same attempts. Fixed windows are used by both backends so
//! that they agree exactly; a Redis failure lets the request through (logged)
//! rather than locking every user out. Counting happens before the work, so
//! failed and successful attempts count alike.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use actix_web::HttpRequest;
use parking_lot::Mutex;
use redis::aio::ConnectionManager;
use serde::Deserialize;

use crate::errors::ApiError;

/// Attempts allowed per window for one route.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    /// From one client IP.
    pub per_ip: u32,
    /// For one account (e-mail for login and register, session for refresh).
    pub per_account: u32,
}

/// The `[rate_limit]` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Length of a counting window.
    #[serde(with = "humantime_serde")]
    pub window: Duration,
    /// Take the client IP from `X-Forwarded-For` / `Forwarded` (behind a trusted proxy only).
    pub trust_forwarded_for: bool,
    /// `POST /v1/auth/login`.
    pub login: Limit,
    /// `POST /v1/auth/register`.
    pub register: Limit,
    /// `POST /v1/auth/refresh`.
    pub refresh: Limit,
    /// `POST /v1/products/{id}/views` (per viewer: session or customer).
    pub views: Limit,
}

/// Which route a check is for (part of the counter key).
#[derive(Debug, Clone, Copy)]
pub enum Route {
    /// Login.
    Login,
    /// Registration.
    Register,
    /// Token refresh.
    Refresh,
    /// A product view.
    View,
}

impl Route {
    fn name(self) -> &'static str {
        match self {
            Route::Login => "login",
            Route::Register => "register",
            Route::Refresh => "refresh",
            Route::View => "view",
        }
    }
}

/// Counts attempts and refuses those past the limit.
pub struct RateLimiter {
    config: RateLimitConfig,
    backend: Backend,
}

/// Counting windows by key: (window start in ms on the process clock, attempts).
type Windows = HashMap<String, (u64, u32)>;

enum Backend {
    /// The windows, and when expired ones were last swept.
    Memory {
        started: std::time::Instant,
        windows: Mutex<(Windows, u64)>,
    },
    /// Counters in Redis under `prefix`.
    Redis {
        connection: ConnectionManager,
        prefix: String,
        script: redis::Script,
    },
}

/// Entries the in-process map holds before expired windows are swept (at
/// most once a window: with more keys than this in one window, as many
/// visitors viewing products, a sweep per check would cost each check the
/// whole map).
const SWEEP_ABOVE: usize = 10_000;

/// Counts one attempt and returns (attempts in the window, ms until it ends).
const REDIS_SCRIPT: &str = r"
local attempts = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {attempts, ttl}
";

impl RateLimiter {
    /// Counters in this process.
    pub fn in_memory(config: RateLimitConfig) -> Self {
        RateLimiter {
            config,
            backend: Backend::Memory {
                started: std::time::Instant::now(),
                windows: Mutex::new((HashMap::new(), 0)),
            },
        }
    }

    /// Counters in Redis at `url`, keys starting with `prefix`.
    pub async fn redis(config: RateLimitConfig, url: &str, prefix: String) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let connection = ConnectionManager::new(client).await?;
        Ok(RateLimiter {
            config,
            backend: Backend::Redis {
                connection,
                prefix,
                script: redis::Script::new(REDIS_SCRIPT),
            },
        })
    }

    /// The client IP of `req`.
    pub fn client_ip(&self, req: &HttpRequest) -> String {
        if self.config.trust_forwarded_for {
            if let Some(ip) = req.connection_info().realip_remote_addr() {
                return ip.to_string();
            }
        }
        req.peer_addr()
            .map_or_else(|| "unknown".to_string(), |addr| IpAddr::to_string(&addr.ip()))
    }

    /// Counts an attempt on `route` from `req` for `account`; 429 past a limit.
    pub async fn check(&self, route: Route, req: &HttpRequest, account: &str) -> Result<(), ApiError> {
        let limit = match route {
            Route::Login => self.config.login,
            Route::Register => self.config.register,
            Route::Refresh => self.config.refresh,
            Route::View => self.config.views,
        };
        let ip_key = format!("{}:ip:{}", route.name(), self.client_ip(req));
        self.count(&ip_key, limit.per_ip).await?;
        let account_key = format!("{}:account:{account}", route.name());
        self.count(&account_key, limit.per_account).await
    }

    async fn count(&self, key: &str, limit: u32) -> Result<(), ApiError> {
        let window_ms = self.config.window.as_millis() as u64;
        let (attempts, remaining_ms) = match &self.backend {
            Backend::Memory { started, windows } => {
                let now = started.elapsed().as_millis() as u64;
                let (windows, swept_at) = &mut *windows.lock();
                if windows.len() > SWEEP_ABOVE && now >= *swept_at + window_ms {
                    windows.retain(|_, (start, _)| now < *start + window_ms);
                    *swept_at = now;
                }
                let (start, attempts) = windows.entry(key.to_string()).or_insert((now, 0));
                if now >= *start + window_ms {
                    (*start, *attempts) = (now, 0);
                }
                *attempts = attempts.saturating_add(1);
                (u64::from(*attempts), *start + window_ms - now)
            }
            Backend::Redis {
                connection,
                prefix,
                script,
            } => {
                let mut connection = connection.clone();
                let counted: Result<(u64, u64), _> = script
                    .key(format!("{prefix}{key}"))
                    .arg(window_ms)
                    .invoke_async(&mut connection)
                    .await;
                match counted {
                    Ok(counted) => counted,
                    Err(err) => {
                        tracing::warn!(error = %err, "rate limit not checked: redis failed; letting the request through");
                        return Ok(());
                    }
                }
            }
        };
        if attempts > u64::from(limit) {
            return Err(ApiError::rate_limited(remaining_ms.div_ceil(1000).max(1)));
        }
        Ok(())
    }
}
