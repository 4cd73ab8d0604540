//! The checkout's idempotency record: the answer a key first got and the
//! request it answered (the body's digest and the caller), replayed to every
//! retry with the same key. One entity per order id (the id is a digest of the
//! cart and the key), written once, after the answer, and kept for as long as
//! the order; until then the order's placement holds the request's digest.

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
    /// The first answer was given, to this request.
    Answered {
        fingerprint: [u8; 32],
        caller: Option<String>,
        status: u16,
        body: String,
    },
}

/// A request to a record.
#[derive(Debug, Clone)]
pub enum IdempotencyCommand {
    /// Read it.
    Get,
    /// Keep the first answer and what it answered (nothing if kept).
    Answer {
        fingerprint: [u8; 32],
        caller: Option<String>,
        status: u16,
        body: String,
    },
}

impl IdempotencyRecord {
    /// Whether a request with `fingerprint` from `caller` repeats the one
    /// answered (a record with no answer yet takes any: the order's placement
    /// holds the digest until then).
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
            IdempotencyCommand::Answer {
                fingerprint,
                caller,
                status,
                body,
            } => self.answer.is_none().then_some(IdempotencyEvent::Answered {
                fingerprint,
                caller,
                status,
                body,
            }),
        }
    }

    /// Applies one event.
    pub fn apply(&mut self, event: &IdempotencyEvent) {
        let IdempotencyEvent::Answered {
            fingerprint,
            caller,
            status,
            body,
        } = event;
        self.fingerprint = Some(*fingerprint);
        self.caller = caller.clone();
        self.answer = Some((*status, body.clone()));
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

    const SETTLES: bool = true;

    /// Answered: only a retry with the same key reads it again.
    fn settled(&self) -> bool {
        self.answer.is_some()
    }

    fn view(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(fingerprint: u8, caller: Option<&str>, body: &str) -> IdempotencyCommand {
        IdempotencyCommand::Answer {
            fingerprint: [fingerprint; 32],
            caller: caller.map(str::to_string),
            status: 201,
            body: body.into(),
        }
    }

    #[test]
    fn the_first_answer_and_its_request_stay() {
        let mut record = IdempotencyRecord::default();
        assert!(
            record.matches(&[9; 32], Some("u")),
            "no answer yet: the placement decides"
        );
        for command in [answer(1, None, "first"), answer(2, Some("u"), "second")] {
            if let Some(event) = record.decide(command) {
                record.apply(&event);
            }
        }
        assert!(record.matches(&[1; 32], None));
        assert!(!record.matches(&[2; 32], None), "another body");
        assert!(!record.matches(&[1; 32], Some("u")), "another caller");
        assert_eq!(record.answer, Some((201, "first".into())));
    }
}
