//! A sink's place in the event log as an entity (`event-sink/<sink>`, kept
//! alive): where delivery resumes after a restart. The same pure cursor as the
//! notifier's ([`Cursor`]); its moves are in the log too, so followers do not
//! count them as news.

use mercato_actors::notify::state::{Advanced, Cursor};
use mercato_actors::runtime::{Entity, UnixMillis};
use serde::{Deserialize, Serialize};

/// The entity kind of sinks' cursors.
pub const KIND: &str = "event-sink";

/// Kinds whose log entries are bookkeeping of log readers, never news.
pub const READERS: [&str; 2] = [KIND, "notifier"];

/// One sink's cursor.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SinkCursor(Cursor);

impl Entity for SinkCursor {
    const KIND: &'static str = KIND;
    const KEEP_ALIVE: bool = true;
    type Event = Advanced;
    /// Move to this sequence number (`None`: just read).
    type Command = Option<u64>;
    /// The first sequence number not yet delivered.
    type Reply = u64;
    type View = u64;

    fn new(_id: &str) -> Self {
        SinkCursor::default()
    }

    fn apply(&mut self, event: &Advanced) {
        self.0.apply(event);
    }

    fn handle(&mut self, command: Option<u64>, _now: UnixMillis, events: &mut Vec<Advanced>) -> u64 {
        if let Some(event) = command.and_then(|to| self.0.advance(to)) {
            self.0.apply(&event);
            events.push(event);
        }
        self.0.next_seq
    }

    fn settle(&mut self, _now: UnixMillis, _events: &mut Vec<Advanced>) {}

    fn next_deadline(&self) -> Option<UnixMillis> {
        None
    }

    fn view(&self) -> u64 {
        self.0.next_seq
    }
}
