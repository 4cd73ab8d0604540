//! A reservation group, pure: the lines a caller holds together, which step
//! of holding, selling or giving them back it is at, and which step comes
//! next for what a caller asks. The front door carries the steps out at the
//! SKU actors and records their results here.
//!
//! Every step is recorded as an intent before it touches a SKU, and each SKU
//! side effect is idempotent on the group's id, so a step cut short (a crash,
//! an actor restarting) is repeated, never doubled.

use serde::{Deserialize, Serialize};

use crate::runtime::UnixMillis;

/// One line: units of one SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupLine {
    /// The SKU.
    pub sku: String,
    /// Units held.
    pub qty: u64,
}

/// A line that the SKU could not hold, with what it had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortLine {
    /// The SKU.
    pub sku: String,
    /// Units asked.
    pub requested: u64,
    /// Units it had free.
    pub available: u64,
}

/// Where a group stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupStatus {
    /// Its lines are being reserved.
    Reserving,
    /// Every line is held until `expires_at`.
    Held,
    /// Its lines are being sold.
    Committing,
    /// Every line was sold.
    Committed,
    /// Its lines are being given back.
    Releasing,
    /// Its lines were given back (or a line was short, so none was kept).
    Released,
    /// Its hold ran out.
    Expired,
}

impl GroupStatus {
    /// The status's name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupStatus::Reserving => "reserving",
            GroupStatus::Held => "held",
            GroupStatus::Committing => "committing",
            GroupStatus::Committed => "committed",
            GroupStatus::Releasing => "releasing",
            GroupStatus::Released => "released",
            GroupStatus::Expired => "expired",
        }
    }
}

/// A change of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupEvent {
    /// Reserving `lines` until `expires_at` began.
    ReservingStarted {
        lines: Vec<GroupLine>,
        expires_at: UnixMillis,
    },
    /// Every line is held.
    Held,
    /// A line was short; every line was given back.
    Refused,
    /// Selling the lines began.
    CommitStarted,
    /// Every line was sold.
    Committed,
    /// Giving the lines back began.
    ReleaseStarted,
    /// Every line was given back.
    Released,
    /// The hold ran out.
    Expired,
}

/// What a caller asks of a group, or what the front door reports of a step.
#[derive(Debug, Clone)]
pub enum GroupCommand {
    /// Read it.
    Get,
    /// Hold `lines` for `ttl_ms`.
    Reserve { lines: Vec<GroupLine>, ttl_ms: u64 },
    /// Sell the held lines.
    Commit,
    /// Give the lines back.
    Release,
    /// The reserve step's result: every line held (`true`) or none (`false`).
    Reserved { all_held: bool },
    /// The commit step sold every line.
    Sold,
    /// The commit step found a line whose hold had run out and no stock left:
    /// what it had sold was returned and the rest released.
    SaleFailed,
    /// The release step gave every line back.
    Given,
    /// A step was cut short (an actor could not answer): it stays to do.
    Paused,
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
}

/// A group; also its snapshot.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ReservationGroup {
    /// Its id (also its SKU reservations' id, as `group:<id>`).
    id: String,
    /// What it holds.
    lines: Vec<GroupLine>,
    /// Where it stands; `None` until first reserved.
    status: Option<GroupStatus>,
    /// When its hold ends.
    expires_at: UnixMillis,
    /// Whether a request of this process is carrying out its step. Not
    /// persisted: after a restart nobody is, and the next request resumes.
    #[serde(skip)]
    driving: bool,
}

impl ReservationGroup {
    /// A group that was never reserved.
    pub fn new(id: &str) -> Self {
        ReservationGroup {
            id: id.to_string(),
            ..ReservationGroup::default()
        }
    }

    /// What it holds.
    pub fn lines(&self) -> &[GroupLine] {
        &self.lines
    }

    /// Where it stands; `None` until first reserved.
    pub fn status(&self) -> Option<GroupStatus> {
        self.status
    }

    /// When its hold ends.
    pub fn expires_at(&self) -> UnixMillis {
        self.expires_at
    }

    /// The id of its reservation at each SKU: no caller-chosen id has a ':'.
    pub fn sku_reservation_id(&self) -> String {
        format!("group:{}", self.id)
    }

    /// Decides a command at `now`: the events it causes (pushed) and the
    /// step the front door takes next.
    pub fn decide(
        &mut self,
        command: GroupCommand,
        now: UnixMillis,
        events: &mut Vec<GroupEvent>,
    ) -> Result<Step, GroupError> {
        use GroupStatus::*;
        let step = match command {
            GroupCommand::Get => match self.status {
                None => return Err(self.not_found()),
                Some(_) => Step::Answer { created: false },
            },
            GroupCommand::Reserve { lines, ttl_ms } => match self.status {
                None | Some(Released | Expired) => {
                    let expires_at = now.saturating_add(ttl_ms);
                    self.record(GroupEvent::ReservingStarted { lines, expires_at }, events);
                    self.drive(Step::Reserve)
                }
                Some(Reserving | Held) if self.lines != lines => return Err(GroupError::Conflict(self.id.clone())),
                Some(Reserving) => self.resume(Step::Reserve)?,
                Some(Held) => Step::Answer { created: false },
                Some(Committing | Committed) => return Err(GroupError::Committed(self.id.clone())),
                Some(Releasing) => return Err(GroupError::InProgress(self.id.clone())),
            },
            GroupCommand::Commit => match self.status {
                Some(Held) => {
                    self.record(GroupEvent::CommitStarted, events);
                    self.drive(Step::Commit)
                }
                Some(Committing) => self.resume(Step::Commit)?,
                Some(Committed) => Step::Answer { created: false },
                Some(Reserving | Releasing) if self.driving => return Err(GroupError::InProgress(self.id.clone())),
                None | Some(Reserving | Releasing | Released | Expired) => return Err(self.not_found()),
            },
            GroupCommand::Release => match self.status {
                Some(Held) => {
                    self.record(GroupEvent::ReleaseStarted, events);
                    self.drive(Step::Release)
                }
                Some(Reserving | Releasing) if !self.driving => {
                    self.record(GroupEvent::ReleaseStarted, events);
                    self.drive(Step::Release)
                }
                Some(Reserving | Releasing) => return Err(GroupError::InProgress(self.id.clone())),
                Some(Committing | Committed) => return Err(GroupError::Committed(self.id.clone())),
                Some(Released | Expired) => Step::Answer { created: false },
                None => return Err(self.not_found()),
            },
            GroupCommand::Reserved { all_held } => {
                let event = if all_held {
                    GroupEvent::Held
                } else {
                    GroupEvent::Refused
                };
                self.finish(Reserving, event, events, all_held)
            }
            GroupCommand::Sold => self.finish(Committing, GroupEvent::Committed, events, false),
            GroupCommand::SaleFailed => self.finish(Committing, GroupEvent::Expired, events, false),
            GroupCommand::Given => self.finish(Releasing, GroupEvent::Released, events, false),
            GroupCommand::Paused => {
                self.driving = false;
                Step::Answer { created: false }
            }
        };
        Ok(step)
    }

    /// Records a step's result if the group is still at that step.
    fn finish(&mut self, at: GroupStatus, event: GroupEvent, events: &mut Vec<GroupEvent>, created: bool) -> Step {
        self.driving = false;
        if self.status == Some(at) {
            self.record(event, events);
        }
        Step::Answer { created }
    }

    /// Takes up a step that no request is carrying out (one cut short, or
    /// begun before a restart).
    fn resume(&mut self, step: Step) -> Result<Step, GroupError> {
        if self.driving {
            return Err(GroupError::InProgress(self.id.clone()));
        }
        Ok(self.drive(step))
    }

    fn drive(&mut self, step: Step) -> Step {
        self.driving = true;
        step
    }

    fn not_found(&self) -> GroupError {
        GroupError::NotFound(self.id.clone())
    }

    fn record(&mut self, event: GroupEvent, events: &mut Vec<GroupEvent>) {
        self.apply(&event);
        events.push(event);
    }

    /// Ends a hold that ran out by `now`, unless a request is carrying out
    /// its step (that request records the step's end).
    pub fn settle(&mut self, now: UnixMillis, events: &mut Vec<GroupEvent>) {
        if self.next_deadline().is_some_and(|deadline| deadline <= now) {
            self.record(GroupEvent::Expired, events);
        }
    }

    /// When the hold runs out, while it can.
    pub fn next_deadline(&self) -> Option<UnixMillis> {
        let can_expire = matches!(
            self.status,
            Some(GroupStatus::Held | GroupStatus::Reserving | GroupStatus::Releasing)
        );
        (can_expire && !self.driving).then_some(self.expires_at)
    }

    /// Applies one event.
    pub fn apply(&mut self, event: &GroupEvent) {
        self.status = Some(match event {
            GroupEvent::ReservingStarted { lines, expires_at } => {
                self.lines = lines.clone();
                self.expires_at = *expires_at;
                GroupStatus::Reserving
            }
            GroupEvent::Held => GroupStatus::Held,
            GroupEvent::Refused | GroupEvent::Released => GroupStatus::Released,
            GroupEvent::CommitStarted => GroupStatus::Committing,
            GroupEvent::Committed => GroupStatus::Committed,
            GroupEvent::ReleaseStarted => GroupStatus::Releasing,
            GroupEvent::Expired => GroupStatus::Expired,
        });
    }
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
