//! What callers ask of a reservation group, what the front door reports of
//! a step, and what the group answers: the step to take next, or a refusal.

use super::state::GroupLine;

/// Names the request carrying out a step: a step's result counts only if
/// the request reporting it is still the one the group follows (after a
/// restart a new request may have taken the group up while the old one ran on).
pub type Driver = u64;

/// What a caller asks of a group, or what the front door reports of a step.
#[derive(Debug, Clone)]
pub enum GroupCommand {
    /// Read it.
    Get,
    /// Hold `lines` for `ttl_ms`.
    Reserve {
        lines: Vec<GroupLine>,
        ttl_ms: u64,
        driver: Driver,
    },
    /// Sell the held lines.
    Commit { driver: Driver },
    /// Give the lines back.
    Release { driver: Driver },
    /// The reserve step's result: every line held (`true`) or none (`false`).
    Reserved { driver: Driver, all_held: bool },
    /// The commit step sold every line.
    Sold { driver: Driver },
    /// The commit step found a line whose hold had run out and no stock left;
    /// the SKUs of `sold` had sold their line.
    SaleFailed { driver: Driver, sold: Vec<String> },
    /// The return step took back what the failed sale had sold.
    Returned { driver: Driver },
    /// The release step gave every line back.
    Given { driver: Driver },
    /// A step was cut short (an actor could not answer): it stays to do.
    Paused { driver: Driver },
}

/// The step the front door carries out next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Reserve every line at its SKU, until `expires_at`.
    Reserve,
    /// Sell every line.
    Commit,
    /// Give every line back.
    Release,
    /// Take back the lines a failed sale sold (`returns`).
    Return,
    /// Nothing: answer with the group. `created` says whether this request
    /// made its hold (201) rather than finding it (200).
    Answer { created: bool },
}

/// Why a group refused a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GroupError {
    /// No group holds lines under this id.
    #[error("no reservation group {0} holds stock: it was never made, or was released, refused or expired")]
    NotFound(String),
    /// The group holds other lines than these.
    #[error("reservation group {0} holds other lines; use a new reservation_id")]
    Conflict(String),
    /// The group was sold: it is not held or released again.
    #[error("reservation group {0} was committed")]
    Committed(String),
    /// Another request is carrying out a step of this group.
    #[error("reservation group {0} is being changed by another request; retry")]
    InProgress(String),
    /// A release of the group was cut short: it is finished by a release.
    #[error("a release of reservation group {0} was cut short: release it to finish, then reserve again")]
    Releasing(String),
    /// Its sale failed (a line's hold ran out and its stock was gone); nothing
    /// was sold and the id is spent.
    #[error("reservation group {0} expired before its sale and a line's stock is gone; nothing was sold: use a new reservation_id")]
    Unsold(String),
}
