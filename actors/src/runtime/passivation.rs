//! Passivation: which live actors have been idle long enough to stop (their
//! state is on disk; the next message activates them again), and the sweeper
//! thread of each kind that asks periodically. An entity that has settled
//! ([`Entity::settled`]) and that nobody watches goes after
//! `runtime.settled_idle_timeout`, any other after `runtime.idle_timeout`.

use std::sync::atomic::Ordering;
use std::sync::Weak;
use std::time::Duration;

use tokio::sync::watch;

use super::actor::Control;
use super::entity::{now_millis, Entity};
use super::registry::Inner;

/// How long an actor must have been idle to be passivated.
#[derive(Debug, Clone, Copy)]
pub(super) struct Idle {
    /// In general.
    pub(super) general: Duration,
    /// When its entity has settled and nobody watches it.
    pub(super) settled: Duration,
}

pub(super) fn passivate_idle<E: Entity>(inner: &Inner<E>, idle: Idle) -> usize {
    let now = now_millis();
    let cutoff = now.saturating_sub(idle.general.as_millis() as u64);
    let settled_cutoff = now.saturating_sub(idle.settled.as_millis() as u64);
    let mut passivated = 0;
    for shard in inner.shards.iter() {
        shard.lock().retain(|entry| {
            if entry.retiring {
                // Forget a retired actor once it has stopped.
                return entry
                    .slot
                    .retired
                    .lock()
                    .as_ref()
                    .is_some_and(|stopped| !*stopped.borrow());
            }
            if !entry.addr.connected() {
                // Died without passivating: kept, so that its next activation
                // waits for what it may have left in flight.
                return true;
            }
            let slot = &entry.slot;
            let last_active = slot.last_active.load(Ordering::Relaxed);
            let idle = slot.mailbox.load(Ordering::Relaxed) == 0
                && (last_active <= cutoff
                    || (last_active <= settled_cutoff && slot.settled.load(Ordering::Relaxed) && !slot.watched()));
            if idle {
                entry.retiring = true;
                *entry.slot.retired.lock() = Some(watch::Sender::new(false));
                entry.addr.do_send(Control::Passivate);
                passivated += 1;
            }
            true
        });
    }
    passivated
}

pub(super) fn sweep_until_dropped<E: Entity>(registry: Weak<Inner<E>>, idle: Idle) {
    let period = (idle.settled / 4).clamp(Duration::from_millis(50), Duration::from_secs(30));
    loop {
        std::thread::sleep(period);
        let Some(inner) = registry.upgrade() else {
            return;
        };
        let passivated = passivate_idle(&inner, idle);
        if passivated > 0 {
            tracing::debug!(kind = E::KIND, passivated, "passivated idle actors");
        }
    }
}
