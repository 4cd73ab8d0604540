//! The checkout's idempotency record: what a key was first used with (the
//! request's digest and the caller) and the answer it got, replayed to every
//! retry with the same key. One entity per order id (the id is a digest of the
//! cart and the key), kept for as long as the order.

use serde::{Deserialize, Serialize};

use crate::runtime::{Entity, UnixMillis};

/// A key's record; also its snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    /// Digest of the first request's body.
    pub fingerprint: Option<[u8; 32]>,
    /// The first request's caller.
    pub caller: Option<String>,
    /// The first answer: HTTP status and body.
    pub answer: Option<(u16, String)>,
}

/// A change of a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum IdempotencyEvent {
    /// The key was first used.
    Begun {
        fingerprint: [u8; 32],
        caller: Option<String>,
    },
    /// The first answer was given.
    Answered { status: u16, body: String },
}

/// A request to a record.
#[derive(Debug, Clone)]
pub enum IdempotencyCommand {
    /// Read it.
    Get,
    /// Note the first use (nothing if noted).
    Begin {
        fingerprint: [u8; 32],
        caller: Option<String>,
    },
    /// Keep the first answer (nothing if kept).
    Answer { status: u16, body: String },
}

impl IdempotencyRecord {
    /// Whether a request with `fingerprint` from `caller` repeats the first one
    /// (a record that never saw its first request takes any).
    pub fn matches(&self, fingerprint: &[u8; 32], caller: Option<&str>) -> bool {
        match &self.fingerprint {
            None => true,
            Some(first) => first == fingerprint && self.caller.as_deref() == caller,
        }
    }

    /// Decides a command's event.
    pub fn decide(&self, command: IdempotencyCommand) -> Option<IdempotencyEvent> {
        match command {
            IdempotencyCommand::Get => None,
            IdempotencyCommand::Begin { fingerprint, caller } => self
                .fingerprint
                .is_none()
                .then_some(IdempotencyEvent::Begun { fingerprint, caller }),
            IdempotencyCommand::Answer { status, body } => self
                .answer
                .is_none()
                .then_some(IdempotencyEvent::Answered { status, body }),
        }
    }

    /// Applies one event.
    pub fn apply(&mut self, event: &IdempotencyEvent) {
        match event {
            IdempotencyEvent::Begun { fingerprint, caller } => {
                self.fingerprint = Some(*fingerprint);
                self.caller = caller.clone();
            }
            IdempotencyEvent::Answered { status, body } => self.answer = Some((*status, body.clone())),
        }
    }
}

impl Entity for IdempotencyRecord {
    const KIND: &'static str = "checkout-key";
    type Event = IdempotencyEvent;
    type Command = IdempotencyCommand;
    type Reply = IdempotencyRecord;
    type View = ();

    fn new(_id: &str) -> Self {
        IdempotencyRecord::default()
    }

    fn apply(&mut self, event: &IdempotencyEvent) {
        IdempotencyRecord::apply(self, event);
    }

    fn handle(
        &mut self,
        command: IdempotencyCommand,
        _now: UnixMillis,
        events: &mut Vec<IdempotencyEvent>,
    ) -> IdempotencyRecord {
        if let Some(event) = self.decide(command) {
            IdempotencyRecord::apply(self, &event);
            events.push(event);
        }
        self.clone()
    }

    fn settle(&mut self, _now: UnixMillis, _events: &mut Vec<IdempotencyEvent>) {}

    fn next_deadline(&self) -> Option<UnixMillis> {
        None
    }

    fn view(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_use_and_the_first_answer_stay() {
        let mut record = IdempotencyRecord::default();
        for command in [
            IdempotencyCommand::Begin {
                fingerprint: [1; 32],
                caller: None,
            },
            IdempotencyCommand::Begin {
                fingerprint: [2; 32],
                caller: Some("u".into()),
            },
            IdempotencyCommand::Answer {
                status: 201,
                body: "first".into(),
            },
            IdempotencyCommand::Answer {
                status: 409,
                body: "second".into(),
            },
        ] {
            if let Some(event) = record.decide(command) {
                record.apply(&event);
            }
        }
        assert!(record.matches(&[1; 32], None));
        assert!(!record.matches(&[2; 32], None), "another body");
        assert!(!record.matches(&[1; 32], Some("u")), "another caller");
        assert_eq!(record.answer, Some((201, "first".into())));
        assert!(IdempotencyRecord::default().matches(&[9; 32], Some("u")));
    }
}
