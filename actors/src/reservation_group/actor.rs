//! How the runtime runs a reservation group: one actor per group id, which
//! persists [`GroupEvent`]s and answers each command with the step to take
//! next and the group as it stands.

use super::messages::{GroupCommand, GroupError, Step};
use super::state::{GroupEvent, ReservationGroup};
use crate::runtime::{Entity, UnixMillis};

/// The reply to a [`GroupCommand`]: the next step and the group after the command.
pub type GroupReply = Result<(Step, ReservationGroup), GroupError>;

impl Entity for ReservationGroup {
    const KIND: &'static str = "reservation-group";
    type Event = GroupEvent;
    type Command = GroupCommand;
    type Reply = GroupReply;
    type View = ();

    fn new(id: &str) -> Self {
        ReservationGroup::new(id)
    }

    fn apply(&mut self, event: &GroupEvent) {
        ReservationGroup::apply(self, event);
    }

    fn handle(&mut self, command: GroupCommand, now: UnixMillis, events: &mut Vec<GroupEvent>) -> GroupReply {
        let step = self.decide(command, now, events)?;
        Ok((step, self.clone()))
    }

    fn settle(&mut self, now: UnixMillis, events: &mut Vec<GroupEvent>) {
        ReservationGroup::settle(self, now, events);
    }

    fn next_deadline(&self) -> Option<UnixMillis> {
        ReservationGroup::next_deadline(self)
    }

    fn view(&self) {}
}
