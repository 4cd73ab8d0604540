//! The generic entity actor: one per live `(kind, id)`, on one arbiter.
//!
//! It accepts [`Envelope`]s (a command and where to reply) and [`Control`]
//! messages from its registry. For each command it settles what time has expired,
//! asks the entity to decide, applies and journals the events, and replies once
//! they are durable (see `journal`). Pending events are submitted when the mailbox
//! runs dry or after `max_batch` messages, so one submission carries a burst.
//!
//! Supervision happens here: a panicking command or a failed write discards the
//! in-memory state; after the writes before it are durable and a back-off has
//! passed, the actor reloads its state from storage. The mailbox and the address
//! survive, so only the failing message sees an error (`503 actor_restarting`).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;

use super::entity::{now_millis, Entity, UnixMillis};
use super::journal::{Destination, Journal, ReplyTo};
use super::loading::{load_entity, Predecessor};
use super::registry::{KindShared, Slot};
use super::supervision::{
    panic_message, restart_delay, ActorStatus, RestartCause, RestartRecord, RESTART_STREAK_WINDOW,
};
use super::ActorError;
use crate::storage::StorageError;

/// A command for an entity and where its reply goes.
pub struct Envelope<E: Entity> {
    /// What the caller asks.
    pub command: E::Command,
    /// Where the answer goes.
    pub reply_to: ReplyTo<E::Reply>,
}

impl<E: Entity> Message for Envelope<E> {
    type Result = ();
}

/// Life-cycle requests from the registry and the admin API.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub enum Control {
    /// Idle: submit what is pending and stop.
    Passivate,
    /// Operator request: discard state and reload it.
    Restart,
    /// Testing: the next command panics.
    InjectFault,
    /// A submission failed: in-memory state is ahead of storage.
    StorageFailed(StorageError),
}

/// Internal: the mailbox ran dry, submit what is pending.
#[derive(Message)]
#[rtype(result = "()")]
struct SubmitPending;

enum Life<E> {
    /// Waiting for the actor of the same id before this one (if it may still
    /// have writes in flight), or for the storage barrier and back-off, before
    /// loading.
    Loading(Predecessor),
    /// Serving.
    Running(E),
    /// Load failed; retrying after a back-off.
    Failed,
}

/// The actor behind every entity.
pub struct EntityActor<E: Entity> {
    /// Shared with the registry: id, counters and status.
    slot: Arc<Slot<E::View>>,
    life: Life<E>,
    journal: Journal<E::Reply>,
    /// Storage, settings and metrics: one allocation per kind.
    kind: Arc<KindShared>,
    /// Scratch buffer for the events of one message.
    events: Vec<E::Event>,
    /// A `SubmitPending` is queued.
    submit_queued: bool,
    /// The next command panics (fault injection).
    fault_armed: bool,
    /// The instant the armed expiry timer fires for (0: none armed) and its handle.
    deadline_at: UnixMillis,
    deadline: SpawnHandle,
    /// Consecutive restarts, for the back-off (the last one's time is in the slot).
    restart_streak: u32,
}

impl<E: Entity> EntityActor<E> {
    /// A new actor for `slot`; it loads its state once started.
    pub fn new(slot: Arc<Slot<E::View>>, kind: Arc<KindShared>, predecessor: Predecessor) -> Self {
        EntityActor {
            slot,
            life: Life::Loading(predecessor),
            journal: Journal::default(),
            kind,
            events: Vec::new(),
            submit_queued: false,
            fault_armed: false,
            deadline_at: 0,
            deadline: SpawnHandle::default(),
            restart_streak: 0,
        }
    }

    fn publish_view(&self) {
        if let Life::Running(state) = &self.life {
            self.slot.settled.store(state.settled(), Ordering::Relaxed);
            let view = state.view();
            let feed = self.slot.feed.lock();
            if let Some(feed) = feed.as_ref() {
                feed.send_replace(Some(view.clone()));
            }
            *self.slot.view.lock() = Some(view);
        }
    }

    fn set_status(&self, status: ActorStatus) {
        self.slot.status.store(status as u8, Ordering::Relaxed);
    }

    /// A first activation. With no actor of this id before it, nothing of the
    /// entity is in flight and it loads at once; after a retiring one, once
    /// that has stopped, which it signals only when its last write is durable
    /// (see `stopped`); after one that died, once every earlier write is.
    fn activate(&mut self, ctx: &mut Context<Self>) {
        let Life::Loading(predecessor) = &mut self.life else {
            unreachable!("an actor activates once, while loading");
        };
        let predecessor = std::mem::replace(predecessor, Predecessor::None);
        match predecessor {
            Predecessor::None => self.load(ctx),
            Predecessor::Died => self.load_after(ctx, Duration::ZERO),
            Predecessor::Retiring(mut stopped) => {
                let wait = async move {
                    let _ = stopped.wait_for(|stopped| *stopped).await;
                };
                ctx.wait(wait.into_actor(self).map(|(), actor, ctx| actor.load(ctx)));
            }
        }
    }

    /// Waits until every earlier write (this actor's own, submitted before a
    /// restart) is durable and `delay` has passed, then loads. Messages queue
    /// meanwhile.
    fn load_after(&mut self, ctx: &mut Context<Self>, delay: Duration) {
        self.life = Life::Loading(Predecessor::None);
        let storage = self.kind.storage.clone();
        let wait = async move {
            let _ = storage.barrier().await;
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
        };
        ctx.wait(wait.into_actor(self).map(|(), actor, ctx| actor.load(ctx)));
    }

    fn load(&mut self, ctx: &mut Context<Self>) {
        match load_entity::<E>(&self.kind.storage, &self.slot.id) {
            Ok((state, position)) => {
                self.journal.resume_at(position);
                self.life = Life::Running(state);
                self.set_status(ActorStatus::Running);
                self.publish_view();
                self.settle(ctx);
            }
            Err(err) => {
                let delay = self.next_restart_delay();
                tracing::error!(kind = E::KIND, id = %self.slot.id, error = %err, retry_in = ?delay, "entity load failed");
                self.life = Life::Failed;
                self.set_status(ActorStatus::Failed);
                ctx.run_later(delay, |actor, ctx| actor.load_after(ctx, Duration::ZERO));
            }
        }
    }

    fn next_restart_delay(&mut self) -> Duration {
        let now = now_millis();
        let last = self.slot.last_restart_at.swap(now, Ordering::Relaxed);
        let in_streak = last != 0 && now.saturating_sub(last) < RESTART_STREAK_WINDOW.as_millis() as u64;
        self.restart_streak = if in_streak { self.restart_streak + 1 } else { 1 };
        let config = &self.kind.config;
        restart_delay(
            self.restart_streak,
            config.restart_backoff_min,
            config.restart_backoff_max,
        )
    }

    /// Discards in-memory state and reloads it from storage after a back-off.
    fn restart(&mut self, ctx: &mut Context<Self>, cause: RestartCause, reason: &str) {
        let restarts = self.slot.restarts.fetch_add(1, Ordering::Relaxed) + 1;
        self.slot.last_cause.store(cause as u8, Ordering::Relaxed);
        self.kind.metrics.restarts.record(RestartRecord {
            id: Arc::clone(&self.slot.id),
            cause,
            reason: reason.to_string(),
            at: now_millis(),
        });
        let delay = self.next_restart_delay();
        tracing::warn!(kind = E::KIND, id = %self.slot.id, cause = cause.as_str(), reason, restarts, back_off = ?delay, "entity actor restarting");
        // What was recorded before the failure is valid: write it (without a
        // snapshot of the discarded state) before reloading.
        self.life = Life::Loading(Predecessor::None);
        self.submit(ctx);
        self.disarm_deadline(ctx);
        self.set_status(ActorStatus::Restarting);
        self.load_after(ctx, delay);
    }

    fn submit(&mut self, ctx: &mut Context<Self>) {
        let state = match &self.life {
            Life::Running(state) => Some(state),
            _ => None,
        };
        let addr = ctx.address();
        let to = Destination {
            kind: E::KIND,
            id: &self.slot.id,
            storage: &self.kind.storage,
            snapshot_min_bytes: self.kind.config.snapshot_min_bytes,
        };
        self.journal
            .submit(to, state, move |err| addr.do_send(Control::StorageFailed(err)));
    }

    fn queue_submit(&mut self, ctx: &mut Context<Self>) {
        if self.journal.backlog() >= self.kind.config.max_batch || self.journal.record_full() {
            self.submit(ctx);
        } else if !self.submit_queued {
            self.submit_queued = true;
            ctx.notify(SubmitPending);
        }
    }

    /// Applies and journals what time alone has changed, then re-arms the timer.
    fn settle(&mut self, ctx: &mut Context<Self>) {
        let Life::Running(state) = &mut self.life else {
            return;
        };
        let now = now_millis();
        let events = &mut self.events;
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| state.settle(now, events))) {
            self.events.clear();
            return self.restart(ctx, RestartCause::Panic, &panic_message(payload.as_ref()));
        }
        if !self.events.is_empty() {
            let mark = self.journal.mark();
            let recorded = record_all::<E>(&mut self.events, &mut self.journal);
            if let Err(err) = recorded {
                self.journal.rollback(mark);
                return self.restart(ctx, RestartCause::Storage, &err.to_string());
            }
            self.queue_submit(ctx);
            self.publish_view();
        }
        self.arm_deadline(ctx);
    }

    fn arm_deadline(&mut self, ctx: &mut Context<Self>) {
        let Life::Running(state) = &self.life else {
            return;
        };
        let Some(next) = state.next_deadline() else {
            return;
        };
        if self.deadline_at != 0 && self.deadline_at <= next {
            return;
        }
        self.disarm_deadline(ctx);
        let wait = Duration::from_millis(next.saturating_sub(now_millis()) + 1);
        let handle = ctx.run_later(wait, |actor, ctx| {
            actor.deadline_at = 0;
            actor.settle(ctx);
        });
        (self.deadline_at, self.deadline) = (next.max(1), handle);
    }

    fn disarm_deadline(&mut self, ctx: &mut Context<Self>) {
        if std::mem::take(&mut self.deadline_at) != 0 {
            ctx.cancel_future(self.deadline);
        }
    }
}

fn record_all<E: Entity>(events: &mut Vec<E::Event>, journal: &mut Journal<E::Reply>) -> Result<(), StorageError> {
    for event in events.drain(..) {
        journal.record(&event)?;
    }
    Ok(())
}

impl<E: Entity> Actor for EntityActor<E> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.kind.metrics.activations.inc();
        self.kind.metrics.active.inc();
        self.activate(ctx);
    }

    fn stopped(&mut self, _ctx: &mut Context<Self>) {
        self.kind.metrics.active.dec();
        tracing::debug!(kind = E::KIND, id = %self.slot.id, "entity actor stopped");
        // Retired only once its writes are durable: the registry forgets the
        // entry then, and the next activation of this id loads at once.
        let signal_retired = |slot: &Slot<E::View>| {
            if let Some(retired) = slot.retired.lock().as_ref() {
                retired.send_replace(true);
            }
        };
        if self.journal.all_durable() {
            return signal_retired(&self.slot);
        }
        let (slot, storage) = (Arc::clone(&self.slot), self.kind.storage.clone());
        actix::spawn(async move {
            let _ = storage.barrier().await;
            signal_retired(&slot);
        });
    }
}

impl<E: Entity> Handler<Envelope<E>> for EntityActor<E> {
    type Result = ();

    fn handle(&mut self, envelope: Envelope<E>, ctx: &mut Context<Self>) {
        self.slot.mailbox.fetch_sub(1, Ordering::Relaxed);
        let now = now_millis();
        self.slot.last_active.store(now, Ordering::Relaxed);
        let Life::Running(state) = &mut self.life else {
            let _ = envelope.reply_to.send(Err(ActorError::Restarting));
            return;
        };
        let mark = self.journal.mark();
        let fault = std::mem::take(&mut self.fault_armed);
        let (events, journal) = (&mut self.events, &mut self.journal);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            if fault {
                panic!("injected fault");
            }
            state.settle(now, events);
            let reply = state.handle(envelope.command, now, events);
            record_all::<E>(events, journal).map(|()| reply)
        }));
        match outcome {
            Ok(Ok(reply)) => {
                self.publish_view();
                self.journal
                    .reply(envelope.reply_to, reply, self.kind.storage.durability());
                self.queue_submit(ctx);
                self.arm_deadline(ctx);
            }
            Ok(Err(err)) => {
                self.events.clear();
                self.journal.rollback(mark);
                let _ = envelope.reply_to.send(Err(ActorError::Storage(err.clone())));
                self.restart(ctx, RestartCause::Storage, &err.to_string());
            }
            Err(payload) => {
                self.events.clear();
                self.journal.rollback(mark);
                let _ = envelope.reply_to.send(Err(ActorError::Restarting));
                self.restart(ctx, RestartCause::Panic, &panic_message(payload.as_ref()));
            }
        }
    }
}

impl<E: Entity> Handler<SubmitPending> for EntityActor<E> {
    type Result = ();

    fn handle(&mut self, _: SubmitPending, ctx: &mut Context<Self>) {
        self.submit_queued = false;
        self.submit(ctx);
    }
}

impl<E: Entity> Handler<Control> for EntityActor<E> {
    type Result = ();

    fn handle(&mut self, control: Control, ctx: &mut Context<Self>) {
        match control {
            Control::Passivate => {
                self.submit(ctx);
                self.kind.metrics.passivations.inc();
                tracing::debug!(kind = E::KIND, id = %self.slot.id, "entity actor passivating");
                ctx.stop();
            }
            Control::Restart => self.restart(ctx, RestartCause::Operator, "operator request"),
            Control::InjectFault => self.fault_armed = true,
            Control::StorageFailed(err) => {
                if matches!(self.life, Life::Running(_)) {
                    self.restart(ctx, RestartCause::Storage, &format!("storage write failed: {err}"));
                }
            }
        }
    }
}
