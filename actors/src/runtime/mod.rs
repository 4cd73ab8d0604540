//! The entity runtime: virtual actors addressed by `(kind, id)`.
//!
//! - [`registry`]: activation on first message (single-flight), passivation of idle
//!   actors, the admin view.
//! - [`actor`]: the generic actor that runs an [`Entity`], journals its events and
//!   supervises itself (restart from persisted state with back-off).
//! - [`journal`]: when a reply may leave (after the flush that covers it).
//! - `loading`: what a new actor waits for, then its snapshot and journal.
//! - `passivation`: which idle actors stop, and the sweeper that asks.
//! - [`placement`]: the arbiter pool and the id hash.
//! - [`supervision`]: statuses and the back-off policy.
//! - [`background`]: background loops with a stop signal, ended before shutdown.
//!
//! The runtime knows nothing of commerce.

pub mod actor;
pub mod background;
pub mod entity;
pub mod journal;
mod loading;
mod passivation;
pub mod placement;
pub mod registry;
mod shard;
pub mod supervision;

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

pub use self::background::{BackgroundTask, StopSignal};
pub use self::entity::{now_millis, Entity, UnixMillis};
use self::placement::ArbiterPool;
pub use self::registry::Registry;
pub use self::supervision::{ActorStatus, RestartCause, RestartRecord, Restarts, RECENT_RESTARTS};
use crate::metrics::RuntimeMetrics;
use crate::storage::{Storage, StorageError};

/// The `[runtime]` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeConfig {
    /// Arbiters (threads) entity actors run on; 0 means one per core.
    pub arbiters: usize,
    /// An actor with no message for this long is passivated.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// The same for an entity that has settled ([`Entity::settled`]), unless
    /// its view is watched; at most `idle_timeout`.
    #[serde(with = "humantime_serde")]
    pub settled_idle_timeout: Duration,
    /// Commands queued for one actor beyond which callers get 503 `actor_overloaded`.
    pub mailbox_capacity: u32,
    /// Messages handled before pending events are submitted even if more are queued.
    pub max_batch: usize,
    /// Journal bytes written before an entity is snapshotted (at least its snapshot size).
    pub snapshot_min_bytes: usize,
    /// Back-off before the first restart of a streak; doubles for each next one.
    #[serde(with = "humantime_serde")]
    pub restart_backoff_min: Duration,
    /// Longest back-off between restarts.
    #[serde(with = "humantime_serde")]
    pub restart_backoff_max: Duration,
}

/// Why a call to an entity got no reply from it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ActorError {
    /// The entity is restarting (or its message was in flight when it failed).
    #[error("the entity is restarting; retry shortly")]
    Restarting,
    /// The entity's mailbox is full.
    #[error("the entity is overloaded; retry shortly")]
    Overloaded,
    /// The write could not be made durable.
    #[error("storage failure: {0}")]
    Storage(StorageError),
}

/// One live actor, as the admin API lists it.
#[derive(Debug, Clone)]
pub struct ActorInfo {
    /// Entity kind.
    pub kind: &'static str,
    /// Entity id.
    pub id: String,
    /// Life-cycle status.
    pub status: ActorStatus,
    /// Restarts since activation.
    pub restarts: u32,
    /// Why it last restarted.
    pub last_restart: Option<RestartCause>,
    /// Commands queued.
    pub mailbox: u32,
    /// Activation time, ms since the epoch.
    pub activated_at: UnixMillis,
}

/// The kind-independent operations the admin API needs.
pub trait ActorDirectory: Send + Sync {
    /// The kind this directory holds.
    fn kind(&self) -> &'static str;
    /// Live actors, at most `limit`.
    fn list(&self, limit: usize) -> Vec<ActorInfo>;
    /// A live actor's figures and its published view in words (`None`: not live).
    fn inspect(&self, id: &str) -> Option<(ActorInfo, String)>;
    /// Entity `id`'s latest events in words, newest first, from the newest
    /// log records (`None`: this kind keeps its events off the console).
    fn recent_events(&self, id: &str, limit: usize) -> Option<Result<Vec<String>, crate::storage::StorageError>>;
    /// Restarts a live actor; `false` if it is not live.
    fn restart(&self, id: &str) -> bool;
    /// Makes the next command to `id` panic.
    fn inject_fault(&self, id: &str);
    /// Passivates every idle actor (all of them once no more commands arrive);
    /// each submits what it has pending before it stops.
    fn passivate_all(&self) -> usize;
    /// Actors of this kind that have started and not yet stopped.
    fn live(&self) -> i64;
    /// The latest restarts of this kind, newest first.
    fn recent_restarts(&self) -> Vec<RestartRecord>;
}

impl<E: Entity> ActorDirectory for Registry<E> {
    fn kind(&self) -> &'static str {
        E::KIND
    }
    fn list(&self, limit: usize) -> Vec<ActorInfo> {
        Registry::list(self, limit)
    }
    fn inspect(&self, id: &str) -> Option<(ActorInfo, String)> {
        let (info, view) = Registry::inspect(self, id)?;
        let shown = match view {
            _ if std::mem::size_of::<E::View>() == 0 => "This kind publishes no state view.".to_string(),
            Some(view) => format!("{view:#?}"),
            None => "Nothing published yet (loading).".to_string(),
        };
        Some((info, shown))
    }
    fn recent_events(&self, id: &str, limit: usize) -> Option<Result<Vec<String>, crate::storage::StorageError>> {
        Registry::recent_events(self, id, limit)
    }
    fn restart(&self, id: &str) -> bool {
        Registry::restart(self, id)
    }
    fn inject_fault(&self, id: &str) {
        Registry::inject_fault(self, id)
    }
    fn passivate_all(&self) -> usize {
        Registry::passivate_idle(self, Duration::ZERO)
    }
    fn live(&self) -> i64 {
        Registry::live(self)
    }
    fn recent_restarts(&self) -> Vec<RestartRecord> {
        Registry::recent_restarts(self)
    }
}

/// What every registry shares: arbiters, storage, settings, metrics.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<RuntimeInner>,
}

struct RuntimeInner {
    pool: ArbiterPool,
    storage: Storage,
    config: Arc<RuntimeConfig>,
    metrics: RuntimeMetrics,
}

impl Runtime {
    /// Starts the arbiter pool; must run inside an actix `System`.
    pub fn start(config: RuntimeConfig, storage: Storage, metrics: RuntimeMetrics) -> Self {
        let arbiters = match config.arbiters {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let pool = ArbiterPool::start(arbiters);
        tracing::info!(arbiters = pool.len(), "entity runtime started");
        Runtime {
            inner: Arc::new(RuntimeInner {
                pool,
                storage,
                config: Arc::new(config),
                metrics,
            }),
        }
    }

    /// The storage entities persist to.
    pub fn storage(&self) -> &Storage {
        &self.inner.storage
    }

    /// The runtime settings.
    pub fn config(&self) -> &RuntimeConfig {
        &self.inner.config
    }

    fn config_arc(&self) -> Arc<RuntimeConfig> {
        Arc::clone(&self.inner.config)
    }

    fn pool(&self) -> &ArbiterPool {
        &self.inner.pool
    }

    fn metrics(&self) -> &RuntimeMetrics {
        &self.inner.metrics
    }
}
