//! The registry of one entity kind: which ids have a live actor, and where.
//!
//! Every message goes through [`Registry::call`], which looks the id up under its
//! shard's lock and activates the entity if it has no live actor, so activation is
//! single-flight: never two live actors for one id. Sending happens under the same
//! lock and counts the message into the slot's mailbox, which lets the sweeper
//! passivate an idle actor atomically: it marks the entry retiring only while
//! nothing is queued, and nothing is sent to a retiring actor afterwards. A new
//! actor for a retiring id waits until the old one has stopped (and so handed its
//! last writes to storage) before it loads.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix::Actor;
use parking_lot::Mutex;
use tokio::sync::{oneshot, watch};

use super::actor::{Control, EntityActor, Envelope};
use super::entity::{now_millis, Entity, UnixMillis};
use super::loading::Predecessor;
use super::passivation::{passivate_idle, sweep_until_dropped, Idle};
use super::placement::hash_id;
use super::shard::{shard_of, Entry, Shard, SHARDS};
use super::supervision::{ActorStatus, RestartCause, RestartRecord};
use super::{ActorError, ActorInfo, Runtime, RuntimeConfig};
use crate::metrics::KindMetrics;
use crate::storage::{codec, Storage, StorageError};

/// Log records the console looks through for an entity's latest events.
pub const RECENT_EVENT_RECORDS: usize = 2_000;

/// What the registry and the actor share about one live entity.
pub struct Slot<V> {
    /// Entity id.
    pub id: Arc<str>,
    /// When the actor was activated.
    pub activated_at: UnixMillis,
    /// When it last handled a command, for passivation.
    pub last_active: AtomicU64,
    /// Commands sent and not yet handled.
    pub mailbox: AtomicU32,
    /// Supervised restarts since activation.
    pub restarts: AtomicU32,
    /// The [`RestartCause`] of the last restart (0: none yet).
    pub last_cause: AtomicU8,
    /// When the last supervised restart happened (0: none yet), for the
    /// back-off's streak.
    pub last_restart_at: AtomicU64,
    /// An [`ActorStatus`].
    pub status: AtomicU8,
    /// [`Entity::settled`] as of the last change, for passivation.
    pub settled: AtomicBool,
    /// The entity's latest published view (`None` until loaded).
    pub view: Mutex<Option<V>>,
    /// Pushes each published view to subscribers; created by the first
    /// [`Registry::subscribe`], to keep unwatched slots small. Lock it before
    /// `view` when both are needed.
    pub feed: Mutex<Option<watch::Sender<Option<V>>>>,
    /// Set when the actor starts retiring; turns true when it has stopped.
    /// Created only then, to keep live slots small.
    pub retired: Mutex<Option<watch::Sender<bool>>>,
}

impl<V> Slot<V> {
    fn new(id: &str) -> Self {
        let now = now_millis();
        Slot {
            id: Arc::from(id),
            activated_at: now,
            last_active: AtomicU64::new(now),
            mailbox: AtomicU32::new(0),
            restarts: AtomicU32::new(0),
            last_cause: AtomicU8::new(0),
            last_restart_at: AtomicU64::new(0),
            status: AtomicU8::new(ActorStatus::Activating as u8),
            settled: AtomicBool::new(false),
            view: Mutex::new(None),
            feed: Mutex::new(None),
            retired: Mutex::new(None),
        }
    }

    /// Whether someone follows the published view (a cart's socket).
    pub(super) fn watched(&self) -> bool {
        self.feed.lock().as_ref().is_some_and(|feed| feed.receiver_count() > 0)
    }

    fn info(&self, kind: &'static str) -> ActorInfo {
        ActorInfo {
            kind,
            id: self.id.to_string(),
            status: ActorStatus::from_u8(self.status.load(Ordering::Relaxed)),
            restarts: self.restarts.load(Ordering::Relaxed),
            last_restart: RestartCause::from_u8(self.last_cause.load(Ordering::Relaxed)),
            mailbox: self.mailbox.load(Ordering::Relaxed),
            activated_at: self.activated_at,
        }
    }
}

/// What every actor of one kind shares, held once per registry so that a
/// million live actors do not carry a million copies.
pub struct KindShared {
    /// Where entities persist.
    pub storage: Storage,
    /// The runtime settings.
    pub config: Arc<RuntimeConfig>,
    /// The kind's metrics.
    pub metrics: KindMetrics,
}

pub(super) struct Inner<E: Entity> {
    pub(super) shards: Box<[Mutex<Shard<E>>]>,
    runtime: Runtime,
    /// What the kind's actors share (its metrics among them).
    kind: Arc<KindShared>,
}

/// Addresses the entities of kind `E` by id; cheap to clone.
pub struct Registry<E: Entity> {
    inner: Arc<Inner<E>>,
}

impl<E: Entity> Clone for Registry<E> {
    fn clone(&self) -> Self {
        Registry {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<E: Entity> Registry<E> {
    /// A registry on `runtime`, with a sweeper thread that passivates idle actors
    /// (unless the kind is [`Entity::KEEP_ALIVE`]).
    pub fn new(runtime: &Runtime) -> Self {
        let inner = Arc::new(Inner {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            runtime: runtime.clone(),
            kind: Arc::new(KindShared {
                storage: runtime.storage().clone(),
                config: runtime.config_arc(),
                metrics: runtime.metrics().for_kind(E::KIND),
            }),
        });
        if !E::KEEP_ALIVE {
            let config = runtime.config();
            let idle = Idle {
                general: config.idle_timeout,
                settled: match E::SETTLES {
                    true => config.settled_idle_timeout.min(config.idle_timeout),
                    false => config.idle_timeout,
                },
            };
            let weak = Arc::downgrade(&inner);
            let spawned = std::thread::Builder::new()
                .name(format!("mercato-sweep-{}", E::KIND))
                .spawn(move || sweep_until_dropped(weak, idle));
            if let Err(err) = spawned {
                tracing::error!(kind = E::KIND, error = %err, "cannot start the passivation sweeper");
            }
        }
        Registry { inner }
    }

    /// The hash of `id` and its shard.
    fn shard(&self, id: &str) -> (u64, &Mutex<Shard<E>>) {
        let hash = hash_id(id);
        (hash, &self.inner.shards[shard_of(hash)])
    }

    /// Sends `command` to entity `id`, activating it if needed, and waits for the reply.
    pub async fn call(&self, id: &str, command: E::Command) -> Result<E::Reply, ActorError> {
        let (reply_to, reply) = oneshot::channel();
        self.with_entry(id, |entry| {
            let capacity = self.inner.runtime.config().mailbox_capacity;
            if entry.slot.mailbox.load(Ordering::Relaxed) >= capacity {
                return Err(ActorError::Overloaded);
            }
            entry.slot.mailbox.fetch_add(1, Ordering::Relaxed);
            entry.addr.do_send(Envelope { command, reply_to });
            Ok(())
        })?;
        reply.await.unwrap_or(Err(ActorError::Restarting))
    }

    /// Runs `f` on the entry of `id`, if it has one, under its shard's lock
    /// (without activating it).
    fn with_existing<T>(&self, id: &str, f: impl FnOnce(Option<&Entry<E>>) -> T) -> T {
        let (hash, shard) = self.shard(id);
        f(shard.lock().get(hash, id))
    }

    /// Runs `f` on the live entry of `id` under its shard lock, activating it first.
    fn with_entry<T>(&self, id: &str, f: impl FnOnce(&Entry<E>) -> T) -> T {
        let (hash, shard) = self.shard(id);
        let mut shard = shard.lock();
        let predecessor = match shard.get(hash, id) {
            Some(entry) if entry.serving() => return f(entry),
            Some(entry) if entry.retiring && entry.addr.connected() => match entry.slot.retired.lock().as_ref() {
                Some(retired) => Predecessor::Retiring(retired.subscribe()),
                None => Predecessor::Died,
            },
            // Gone: stopped and signalling soon, or died while retiring (it
            // never will); a barrier covers both.
            Some(_) => Predecessor::Died,
            None => Predecessor::None,
        };
        let entry = self.activate(hash, id, predecessor);
        let result = f(&entry);
        shard.insert(hash, entry);
        result
    }

    /// Starts an actor for `id`; it loads only once what `predecessor` (the
    /// actor of the same id before it) wrote is durable.
    fn activate(&self, hash: u64, id: &str, predecessor: Predecessor) -> Entry<E> {
        let slot = Arc::new(Slot::new(id));
        let arbiter = self.inner.runtime.pool().pick(hash);
        let (actor_slot, kind) = (Arc::clone(&slot), Arc::clone(&self.inner.kind));
        let addr =
            EntityActor::<E>::start_in_arbiter(&arbiter, move |_| EntityActor::new(actor_slot, kind, predecessor));
        Entry {
            addr,
            slot,
            retiring: false,
        }
    }

    /// The latest view `id` published, without a message; `None` if it has no
    /// live, loaded actor. It may be ahead of durable state by one group commit:
    /// for display, never for decisions.
    pub fn peek(&self, id: &str) -> Option<E::View> {
        self.with_existing(id, |entry| {
            entry.filter(|entry| entry.serving())?.slot.view.lock().clone()
        })
    }

    /// A live actor's figures and its latest view, without a message (and
    /// without activating it).
    pub fn inspect(&self, id: &str) -> Option<(ActorInfo, Option<E::View>)> {
        self.with_existing(id, |entry| {
            let entry = entry.filter(|entry| !entry.retiring)?;
            let view = entry.slot.view.lock().clone();
            Some((entry.slot.info(E::KIND), view))
        })
    }

    /// Entity `id`'s latest events in words, newest first (see
    /// [`ActorDirectory::recent_events`]); looks through the newest
    /// [`RECENT_EVENT_RECORDS`] log records.
    pub fn recent_events(&self, id: &str, limit: usize) -> Option<Result<Vec<String>, StorageError>> {
        if !E::EVENTS_SHOWN {
            return None;
        }
        let read = || {
            let storage = self.inner.runtime.storage();
            let entries = storage.recent_entries(E::KIND, id, limit, RECENT_EVENT_RECORDS)?;
            let mut described = Vec::new();
            for entry in entries {
                let mut events = Vec::new();
                codec::decode_all::<E::Event>(&entry.events, |event| events.push(event))?;
                for (offset, event) in events.iter().enumerate().rev() {
                    described.push(format!("#{} {}", entry.first_seq + offset as u64, E::describe(event)));
                }
            }
            described.truncate(limit);
            Ok(described)
        };
        Some(read())
    }

    /// A feed of every view `id` publishes from now on, starting with the latest;
    /// activates the entity. The feed closes when the actor is passivated:
    /// subscribe again to follow the next activation.
    pub fn subscribe(&self, id: &str) -> watch::Receiver<Option<E::View>> {
        self.with_entry(id, |entry| {
            let mut feed = entry.slot.feed.lock();
            feed.get_or_insert_with(|| watch::Sender::new(entry.slot.view.lock().clone()))
                .subscribe()
        })
    }

    /// Live actors, at most `limit`.
    pub fn list(&self, limit: usize) -> Vec<ActorInfo> {
        let mut out = Vec::new();
        for shard in self.inner.shards.iter() {
            let shard = shard.lock();
            out.extend(
                shard
                    .entries()
                    .filter(|entry| !entry.retiring)
                    .take(limit - out.len())
                    .map(|entry| entry.slot.info(E::KIND)),
            );
            if out.len() >= limit {
                break;
            }
        }
        out
    }

    /// Actors that have started and not yet stopped (passivation stops them
    /// shortly after their entries leave the registry).
    pub fn live(&self) -> i64 {
        self.inner.kind.metrics.active.get()
    }

    /// Number of registered actors.
    pub fn active(&self) -> usize {
        self.inner
            .shards
            .iter()
            .map(|shard| shard.lock().entries().filter(|entry| !entry.retiring).count())
            .sum()
    }

    /// The latest restarts of this kind, newest first.
    pub fn recent_restarts(&self) -> Vec<RestartRecord> {
        self.inner.kind.metrics.restarts.recent()
    }

    /// Asks a live actor to restart; `false` if `id` has no live actor.
    pub fn restart(&self, id: &str) -> bool {
        self.with_existing(id, |entry| match entry.filter(|entry| entry.serving()) {
            Some(entry) => {
                entry.addr.do_send(Control::Restart);
                true
            }
            None => false,
        })
    }

    /// Makes the next command to `id` panic (activating it if needed).
    pub fn inject_fault(&self, id: &str) {
        self.with_entry(id, |entry| entry.addr.do_send(Control::InjectFault));
    }

    /// Passivates every actor idle for at least `idle_for`; returns how many.
    pub fn passivate_idle(&self, idle_for: Duration) -> usize {
        let idle = Idle {
            general: idle_for,
            settled: idle_for,
        };
        passivate_idle(&self.inner, idle)
    }
}
