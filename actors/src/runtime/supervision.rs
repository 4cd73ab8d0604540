//! Supervision policy: how an entity's status is shown and how long a failing
//! entity waits before it restarts.

use std::time::Duration;

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
}
