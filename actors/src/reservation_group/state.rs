//! A reservation group, pure: the lines a caller holds together, which step
//! of holding, selling or giving them back it is at, and which step comes
//! next for what a caller asks. The front door carries the steps out at the
//! SKU actors and records their results here.
//!
//! Every step is recorded as an intent before it touches a SKU, and each SKU
//! side effect is idempotent on the group's id, so a step cut short (a crash,
//! an actor restarting) is repeated, never doubled.

use serde::{Deserialize, Serialize};

use super::messages::{Driver, GroupCommand, GroupError, Step};
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
    /// Its sale found a line's hold run out and the stock gone: the lines it
    /// had sold are being taken back.
    Returning,
    /// Its sale failed as above and what it had sold was taken back: nothing
    /// is held or sold, and the id is spent.
    Unsold,
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
            GroupStatus::Returning => "returning",
            GroupStatus::Unsold => "unsold",
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
    /// The sale failed: the SKUs of `sold` sold their line and take it back.
    ReturnStarted { sold: Vec<String> },
    /// What the failed sale had sold was taken back.
    Returned,
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
    /// The SKUs whose line a failed sale sold, to take back.
    returns: Vec<String>,
    /// The request carrying out its step, if one is. Not persisted: after a
    /// restart nobody is, and the next request resumes.
    #[serde(skip)]
    driver: Option<Driver>,
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

    /// The SKUs whose line a failed sale sold, to take back.
    pub fn returns(&self) -> &[String] {
        &self.returns
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
            GroupCommand::Reserve { lines, ttl_ms, driver } => match self.status {
                None | Some(Released | Expired) => {
                    let expires_at = now.saturating_add(ttl_ms);
                    self.record(GroupEvent::ReservingStarted { lines, expires_at }, events);
                    self.drive(driver, Step::Reserve)
                }
                Some(Reserving | Held) if self.lines != lines => return Err(GroupError::Conflict(self.id.clone())),
                Some(Reserving) => self.resume(driver, Step::Reserve)?,
                Some(Held) => Step::Answer { created: false },
                Some(Committing | Committed) => return Err(GroupError::Committed(self.id.clone())),
                Some(Releasing) if self.driver.is_some() => return Err(GroupError::InProgress(self.id.clone())),
                Some(Releasing) => return Err(GroupError::Releasing(self.id.clone())),
                Some(Returning | Unsold) => return Err(GroupError::Unsold(self.id.clone())),
            },
            GroupCommand::Commit { driver } => match self.status {
                Some(Held) => {
                    self.record(GroupEvent::CommitStarted, events);
                    self.drive(driver, Step::Commit)
                }
                Some(Committing) => self.resume(driver, Step::Commit)?,
                Some(Returning) => self.resume(driver, Step::Return)?,
                Some(Committed) => Step::Answer { created: false },
                Some(Unsold) => return Err(GroupError::Unsold(self.id.clone())),
                Some(Reserving | Releasing) if self.driver.is_some() => {
                    return Err(GroupError::InProgress(self.id.clone()))
                }
                None | Some(Reserving | Releasing | Released | Expired) => return Err(self.not_found()),
            },
            GroupCommand::Release { driver } => match self.status {
                Some(Held) => {
                    self.record(GroupEvent::ReleaseStarted, events);
                    self.drive(driver, Step::Release)
                }
                Some(Reserving | Releasing) if self.driver.is_none() => {
                    self.record(GroupEvent::ReleaseStarted, events);
                    self.drive(driver, Step::Release)
                }
                Some(Returning) => self.resume(driver, Step::Return)?,
                Some(Reserving | Releasing) => return Err(GroupError::InProgress(self.id.clone())),
                Some(Committing | Committed) => return Err(GroupError::Committed(self.id.clone())),
                Some(Released | Expired | Unsold) => Step::Answer { created: false },
                None => return Err(self.not_found()),
            },
            GroupCommand::Reserved { driver, all_held } => {
                let event = if all_held {
                    GroupEvent::Held
                } else {
                    GroupEvent::Refused
                };
                self.finish(driver, Reserving, event, events, all_held)
            }
            GroupCommand::Sold { driver } => self.finish(driver, Committing, GroupEvent::Committed, events, false),
            GroupCommand::SaleFailed { driver, sold } => {
                if self.driver != Some(driver) || self.status != Some(Committing) {
                    return Ok(Step::Answer { created: false });
                }
                // Recorded before anything is taken back: a return cut short
                // is finished, never mistaken for a sale to repeat.
                self.record(GroupEvent::ReturnStarted { sold }, events);
                Step::Return
            }
            GroupCommand::Returned { driver } => self.finish(driver, Returning, GroupEvent::Returned, events, false),
            GroupCommand::Given { driver } => self.finish(driver, Releasing, GroupEvent::Released, events, false),
            GroupCommand::Paused { driver } => {
                if self.driver == Some(driver) {
                    self.driver = None;
                }
                Step::Answer { created: false }
            }
        };
        Ok(step)
    }

    /// Records a step's result if `driver` still carries the group's step and
    /// the group is still at that step; a stale driver's result changes nothing.
    fn finish(
        &mut self,
        driver: Driver,
        at: GroupStatus,
        event: GroupEvent,
        events: &mut Vec<GroupEvent>,
        created: bool,
    ) -> Step {
        if self.driver != Some(driver) {
            return Step::Answer { created: false };
        }
        self.driver = None;
        if self.status == Some(at) {
            self.record(event, events);
        }
        Step::Answer { created }
    }

    /// Takes up a step that no request is carrying out (one cut short, or
    /// begun before a restart).
    fn resume(&mut self, driver: Driver, step: Step) -> Result<Step, GroupError> {
        if self.driver.is_some() {
            return Err(GroupError::InProgress(self.id.clone()));
        }
        Ok(self.drive(driver, step))
    }

    fn drive(&mut self, driver: Driver, step: Step) -> Step {
        self.driver = Some(driver);
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
        (can_expire && self.driver.is_none()).then_some(self.expires_at)
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
            GroupEvent::ReturnStarted { sold } => {
                self.returns = sold.clone();
                GroupStatus::Returning
            }
            GroupEvent::Returned => GroupStatus::Unsold,
        });
    }
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
