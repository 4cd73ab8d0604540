//! The notifier's cursor as an entity (`notifier/main`, kept alive): where in
//! the event log mailing resumes after a restart.

use super::state::{Advanced, Cursor};
use crate::runtime::{Entity, UnixMillis};

impl Entity for Cursor {
    const KIND: &'static str = "notifier";
    const KEEP_ALIVE: bool = true;
    type Event = Advanced;
    /// Move to this sequence number (`None`: just read).
    type Command = Option<u64>;
    /// The first sequence number not yet handled.
    type Reply = u64;
    type View = ();

    fn new(_id: &str) -> Self {
        Cursor::default()
    }

    fn apply(&mut self, event: &Advanced) {
        Cursor::apply(self, event);
    }

    fn handle(&mut self, command: Option<u64>, _now: UnixMillis, events: &mut Vec<Advanced>) -> u64 {
        if let Some(event) = command.and_then(|to| self.advance(to)) {
            Cursor::apply(self, &event);
            events.push(event);
        }
        self.next_seq
    }

    fn settle(&mut self, _now: UnixMillis, _events: &mut Vec<Advanced>) {}

    fn next_deadline(&self) -> Option<UnixMillis> {
        None
    }

    fn view(&self) {}
}
