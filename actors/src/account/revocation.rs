//! Which sessions' access tokens no longer work, answered from memory.
//!
//! An access token names its session (the refresh-token family). A logout or a
//! detected refresh-token reuse revokes the session in its entity (durable) and
//! here, for as long as any of its access tokens can live. A token issued before
//! this process started may belong to a session revoked before it: the first
//! time such a session is seen, its entity is asked once and the answer kept
//! (tokens issued since start need no question: every revocation since then is
//! here). So the hot path sends no message in the steady state.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use super::messages::SessionCommand;
use super::Accounts;
use crate::runtime::{now_millis, ActorError, UnixMillis};

/// Revoked sessions and the sessions known to be live.
pub struct Revocations {
    /// Revoked session → when its last access token runs out.
    revoked: Mutex<HashMap<String, UnixMillis>>,
    /// Sessions of tokens older than this process, found live.
    known_live: Mutex<HashSet<String>>,
    /// When this process began answering.
    started_at: UnixMillis,
    /// How long an access token lives.
    access_ttl: Duration,
}

/// What memory says of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Known {
    /// Its tokens work.
    Live,
    /// Its tokens are refused.
    Revoked,
    /// Ask its entity (then tell [`Revocations::learned`]).
    Ask,
}

impl Revocations {
    /// Nothing revoked yet; tokens live `access_ttl`.
    pub fn new(access_ttl: Duration) -> Self {
        Revocations {
            revoked: Mutex::new(HashMap::new()),
            known_live: Mutex::new(HashSet::new()),
            started_at: now_millis(),
            access_ttl,
        }
    }

    fn ttl_ms(&self) -> u64 {
        u64::try_from(self.access_ttl.as_millis()).unwrap_or(u64::MAX)
    }

    /// Revokes `session` now.
    pub fn revoke(&self, session: &str) {
        let now = now_millis();
        let until = now.saturating_add(self.ttl_ms());
        let mut revoked = self.revoked.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // Forget sessions whose tokens have all run out, so the map stays small.
        revoked.retain(|_, kept_until| *kept_until > now);
        revoked.insert(session.to_string(), until);
        self.known_live
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(session);
    }

    /// What is known of `session`, whose token was issued at `issued_at` (ms).
    pub fn check(&self, session: &str, issued_at: UnixMillis) -> Known {
        let revoked = self.revoked.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if revoked.get(session).is_some_and(|until| *until > now_millis()) {
            return Known::Revoked;
        }
        drop(revoked);
        if issued_at >= self.started_at {
            return Known::Live;
        }
        let mut known_live = self.known_live.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if now_millis() > self.started_at.saturating_add(self.ttl_ms()) {
            // Every token older than this process has run out.
            known_live.clear();
        }
        if known_live.contains(session) {
            Known::Live
        } else {
            Known::Ask
        }
    }

    /// The entity of `session` said whether it is `live`.
    pub fn learned(&self, session: &str, live: bool) {
        if live {
            self.known_live
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .insert(session.to_string());
        } else {
            self.revoke(session);
        }
    }
}

impl Accounts {
    /// Whether the access tokens of `session` (one issued at `issued_at`) still
    /// work: from memory, or once from the session's entity (see the module doc).
    pub async fn session_live(&self, session: &str, issued_at: UnixMillis) -> Result<bool, ActorError> {
        match self.revocations.check(session, issued_at) {
            Known::Live => Ok(true),
            Known::Revoked => Ok(false),
            Known::Ask => {
                let live = self.sessions.call(session, SessionCommand::Check).await?.is_ok();
                self.revocations.learned(session, live);
                Ok(live)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revoked_session_is_refused_and_others_need_no_question() {
        let revocations = Revocations::new(Duration::from_secs(900));
        let now = now_millis();
        assert_eq!(revocations.check("a", now), Known::Live);
        revocations.revoke("a");
        assert_eq!(revocations.check("a", now), Known::Revoked);
        assert_eq!(revocations.check("b", now), Known::Live);
    }

    #[test]
    fn a_token_older_than_the_process_is_asked_about_once() {
        let revocations = Revocations::new(Duration::from_secs(900));
        let before_start = revocations.started_at - 1_000;
        assert_eq!(revocations.check("old", before_start), Known::Ask);
        revocations.learned("old", true);
        assert_eq!(revocations.check("old", before_start), Known::Live);
        assert_eq!(revocations.check("gone", before_start), Known::Ask);
        revocations.learned("gone", false);
        assert_eq!(revocations.check("gone", before_start), Known::Revoked);
    }

    #[test]
    fn revocations_are_forgotten_once_their_tokens_ran_out() {
        let revocations = Revocations::new(Duration::ZERO);
        revocations.revoke("a");
        assert_eq!(
            revocations.check("a", now_millis()),
            Known::Live,
            "no token of it can still be valid"
        );
    }
}
