//! When a failed delivery is tried again: the configured delays (about three
//! days in all by default) with ±20 % jitter, or what the receiver asked for
//! in `Retry-After`. Pure.

use std::time::{Duration, SystemTime};

/// The retry schedule.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// The wait after the 1st, 2nd, ... failure of an event.
    pub delays: Vec<Duration>,
}

impl RetryPolicy {
    /// The wait after the `failures`-th failure in a row of one event (`None`:
    /// the schedule is spent; the endpoint is disabled). `jitter` in 0..1
    /// spreads the retries of many endpoints; a `Retry-After` is honoured, up
    /// to the longest scheduled delay.
    pub fn next_wait(&self, failures: u32, retry_after: Option<Duration>, jitter: f64) -> Option<Duration> {
        let index = usize::try_from(failures.checked_sub(1)?).ok()?;
        let base = *self.delays.get(index)?;
        let longest = self.delays.iter().max().copied().unwrap_or(base);
        Some(match retry_after {
            Some(asked) => asked.min(longest),
            None => base.mul_f64(0.8 + 0.4 * jitter.clamp(0.0, 1.0)),
        })
    }
}

/// A `Retry-After` value: seconds, or an HTTP date.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            delays: [5, 300, 1800].map(Duration::from_secs).to_vec(),
        }
    }

    #[test]
    fn the_schedule_is_followed_with_jitter_then_spent() {
        let policy = policy();
        assert_eq!(policy.next_wait(0, None, 0.5), None);
        assert_eq!(policy.next_wait(1, None, 0.5), Some(Duration::from_secs(5)));
        assert_eq!(policy.next_wait(2, None, 0.0), Some(Duration::from_secs(240)));
        assert_eq!(policy.next_wait(2, None, 1.0), Some(Duration::from_secs(360)));
        assert_eq!(policy.next_wait(4, None, 0.5), None);
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_longest_delay() {
        let policy = policy();
        assert_eq!(
            policy.next_wait(1, Some(Duration::from_secs(60)), 0.5),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            policy.next_wait(1, Some(Duration::from_secs(86_400)), 0.5),
            Some(Duration::from_secs(1800))
        );
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(parse_retry_after(" 120 ", now), Some(Duration::from_secs(120)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
