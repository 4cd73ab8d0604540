//! Supervision policy: how an entity's status is shown and how long a failing
//! entity waits before it restarts.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use prometheus::IntCounter;

use super::entity::UnixMillis;

/// Life-cycle status of an entity actor, as the admin API shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ActorStatus {
    /// Waiting for earlier writes, then loading its state.
    Activating = 0,
    /// Serving messages.
    Running = 1,
    /// Discarded its state after a failure; reloads after a back-off.
    Restarting = 2,
    /// Could not load its state; answers 503 and retries after a back-off.
    Failed = 3,
}

impl ActorStatus {
    /// Decodes the value kept in an atomic.
    pub fn from_u8(value: u8) -> Self {
        match value {
            0 => ActorStatus::Activating,
            1 => ActorStatus::Running,
            2 => ActorStatus::Restarting,
            _ => ActorStatus::Failed,
        }
    }

    /// Lower-case name for the API.
    pub fn as_str(self) -> &'static str {
        match self {
            ActorStatus::Activating => "activating",
            ActorStatus::Running => "running",
            ActorStatus::Restarting => "restarting",
            ActorStatus::Failed => "failed",
        }
    }
}

/// Why an entity actor restarted: the `cause` label of
/// `mercato_actor_restarts_total` and what the console shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum RestartCause {
    /// A handler panicked.
    Panic = 1,
    /// A write could not be made durable.
    Storage = 2,
    /// An operator asked for it.
    Operator = 3,
}

impl RestartCause {
    /// Every cause, in the order of their counters.
    pub const ALL: [RestartCause; 3] = [RestartCause::Panic, RestartCause::Storage, RestartCause::Operator];

    /// Lower-case name for metrics, logs and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            RestartCause::Panic => "panic",
            RestartCause::Storage => "storage",
            RestartCause::Operator => "operator",
        }
    }

    /// Decodes the value kept in an atomic (0: no restart yet).
    pub fn from_u8(value: u8) -> Option<Self> {
        RestartCause::ALL.into_iter().find(|cause| *cause as u8 == value)
    }
}

/// One restart, as the console lists it.
#[derive(Debug, Clone)]
pub struct RestartRecord {
    /// The entity.
    pub id: Arc<str>,
    /// Why.
    pub cause: RestartCause,
    /// What failed, in words.
    pub reason: String,
    /// When, ms since the epoch.
    pub at: UnixMillis,
}

/// How many restarts of one kind are remembered.
pub const RECENT_RESTARTS: usize = 100;

/// The restarts of one kind: counted per cause, the latest remembered.
#[derive(Clone)]
pub struct Restarts {
    counters: [IntCounter; 3],
    recent: Arc<Mutex<VecDeque<RestartRecord>>>,
}

impl Restarts {
    /// Counts into `counters` (one per cause, in the order of [`RestartCause::ALL`]).
    pub fn new(counters: [IntCounter; 3]) -> Self {
        Restarts {
            counters,
            recent: Arc::new(Mutex::new(VecDeque::with_capacity(RECENT_RESTARTS))),
        }
    }

    /// Counts and remembers one restart.
    pub fn record(&self, record: RestartRecord) {
        self.counters[record.cause as usize - 1].inc();
        let mut recent = self.recent.lock();
        if recent.len() == RECENT_RESTARTS {
            recent.pop_back();
        }
        recent.push_front(record);
    }

    /// The latest restarts, newest first.
    pub fn recent(&self) -> Vec<RestartRecord> {
        self.recent.lock().iter().cloned().collect()
    }
}

/// Restarts closer together than this count as one streak.
pub const RESTART_STREAK_WINDOW: Duration = Duration::from_secs(60);

/// Back-off before the `streak`-th consecutive restart (1-based): `min`, doubling
/// each time, never above `max`.
pub fn restart_delay(streak: u32, min: Duration, max: Duration) -> Duration {
    let doublings = streak.saturating_sub(1).min(20);
    min.saturating_mul(1 << doublings).min(max)
}

/// What a caught panic said, for the log and the restart reason.
pub(super) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_doubles_from_min_and_stops_at_max() {
        let min = Duration::from_millis(10);
        let max = Duration::from_secs(1);
        assert_eq!(restart_delay(1, min, max), min);
        assert_eq!(restart_delay(2, min, max), Duration::from_millis(20));
        assert_eq!(restart_delay(4, min, max), Duration::from_millis(80));
        assert_eq!(restart_delay(30, min, max), max);
    }

    #[test]
    fn status_round_trips_through_u8() {
        for status in [
            ActorStatus::Activating,
            ActorStatus::Running,
            ActorStatus::Restarting,
            ActorStatus::Failed,
        ] {
            assert_eq!(ActorStatus::from_u8(status as u8), status);
        }
    }

    #[test]
    fn causes_round_trip_and_are_counted_apart_with_the_newest_first() {
        for cause in RestartCause::ALL {
            assert_eq!(RestartCause::from_u8(cause as u8), Some(cause));
        }
        assert_eq!(RestartCause::from_u8(0), None);
        let counters = RestartCause::ALL.map(|cause| IntCounter::new(cause.as_str(), "test").unwrap());
        let restarts = Restarts::new(counters.clone());
        for (n, cause) in [RestartCause::Panic, RestartCause::Operator, RestartCause::Panic]
            .into_iter()
            .enumerate()
        {
            restarts.record(RestartRecord {
                id: Arc::from("x"),
                cause,
                reason: String::new(),
                at: n as u64,
            });
        }
        assert_eq!(counters.map(|c| c.get()), [2, 0, 1]);
        let recent: Vec<u64> = restarts.recent().iter().map(|r| r.at).collect();
        assert_eq!(recent, [2, 1, 0]);
        for n in 0..2 * RECENT_RESTARTS as u64 {
            restarts.record(RestartRecord {
                id: Arc::from("y"),
                cause: RestartCause::Storage,
                reason: String::new(),
                at: n,
            });
        }
        assert_eq!(restarts.recent().len(), RECENT_RESTARTS);
    }
}
