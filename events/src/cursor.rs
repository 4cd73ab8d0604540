//! A sink's place in the event log as an entity (`event-sink/<sink>`, kept
//! alive): where delivery resumes after a restart. Its moves are in the log
//! too, so followers do not count them as news.
//!
//! A follower moves it with [`CursorCommand::Advance`] from where its pass
//! began, so that an operator's replay ([`CursorCommand::MoveTo`]) made while
//! a pass is under way is not overwritten by the pass's end.

use mercato_actors::runtime::{Entity, UnixMillis};
use mercato_actors::storage::{Storage, StorageError};
use serde::{Deserialize, Serialize};

/// The entity kind of sinks' cursors.
pub const KIND: &str = "event-sink";

/// Kinds whose log entries are never news: log readers' bookkeeping and
/// the webhook endpoints' own changes (which carry their secrets).
pub const NOT_NEWS: [&str; 3] = [KIND, "notifier", crate::webhooks::actor::KIND];

/// Log entries a progress count looks at before it estimates the rest.
const COUNTED: usize = 1_000;

/// How many events from `next_seq` on are news (see [`NOT_NEWS`]): exact up to [`COUNTED`]
/// entries, beyond that every further log position counts.
pub fn news_behind(storage: &Storage, next_seq: u64) -> Result<u64, StorageError> {
    let entries = storage.read_event_log(next_seq, COUNTED)?;
    let news = entries
        .iter()
        .filter(|entry| !NOT_NEWS.contains(&entry.kind.as_str()))
        .map(|entry| entry.first_seq + u64::from(entry.count) - entry.first_seq.max(next_seq))
        .sum::<u64>();
    let seen_to = entries
        .last()
        .map_or(next_seq, |entry| entry.first_seq + u64::from(entry.count));
    let rest = match entries.len() < COUNTED {
        true => 0,
        false => (storage.last_event_seq()?.unwrap_or(0) + 1).saturating_sub(seen_to),
    };
    Ok(news + rest)
}

/// One sink's cursor: the first sequence number not yet delivered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SinkCursor {
    pub next_seq: u64,
}

/// The cursor moved to `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moved {
    pub to: u64,
}

/// What a cursor is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorCommand {
    /// Where it stands.
    Read,
    /// Forward from `from` to `to`; nothing if it no longer stands at `from`.
    Advance { from: u64, to: u64 },
    /// Anywhere: a new endpoint's start, a replay.
    MoveTo(u64),
}

impl SinkCursor {
    /// Decides a command.
    pub fn decide(&self, command: CursorCommand) -> Option<Moved> {
        match command {
            CursorCommand::Read => None,
            CursorCommand::Advance { from, to } => (from == self.next_seq && to > from).then_some(Moved { to }),
            CursorCommand::MoveTo(to) => (to != self.next_seq).then_some(Moved { to }),
        }
    }
}

impl Entity for SinkCursor {
    const KIND: &'static str = KIND;
    const KEEP_ALIVE: bool = true;
    type Event = Moved;
    type Command = CursorCommand;
    /// Where it stands after the command.
    type Reply = u64;
    type View = u64;

    fn new(_id: &str) -> Self {
        SinkCursor::default()
    }

    fn apply(&mut self, event: &Moved) {
        self.next_seq = event.to;
    }

    fn handle(&mut self, command: CursorCommand, _now: UnixMillis, events: &mut Vec<Moved>) -> u64 {
        if let Some(moved) = self.decide(command) {
            self.apply(&moved);
            events.push(moved);
        }
        self.next_seq
    }

    fn settle(&mut self, _now: UnixMillis, _events: &mut Vec<Moved>) {}

    fn next_deadline(&self) -> Option<UnixMillis> {
        None
    }

    fn view(&self) -> u64 {
        self.next_seq
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pass_does_not_undo_a_move_made_while_it_ran() {
        let mut cursor = SinkCursor { next_seq: 10 };
        assert_eq!(cursor.decide(CursorCommand::Advance { from: 10, to: 10 }), None);
        let moved = cursor.decide(CursorCommand::MoveTo(3)).unwrap();
        cursor.apply(&moved);
        assert_eq!(
            cursor.decide(CursorCommand::Advance { from: 10, to: 50 }),
            None,
            "the replay stands"
        );
        assert_eq!(
            cursor.decide(CursorCommand::Advance { from: 3, to: 50 }),
            Some(Moved { to: 50 })
        );
    }
}
