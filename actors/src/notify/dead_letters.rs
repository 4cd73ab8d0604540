//! Events a consumer of the event log could never handle, set aside so that it
//! moves on (`dead-letters/<consumer>`, one entity per consumer): what, why and
//! when, the newest [`KEPT`] of them, and how many in all. Operators read them
//! at `GET /v1/admin/dead-letters`.

use serde::{Deserialize, Serialize};

use crate::runtime::{Entity, UnixMillis};

/// Dead letters kept per consumer (the count goes on).
pub const KEPT: usize = 1_000;

/// One event set aside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// Its sequence number in the event log.
    pub seq: u64,
    /// The entity it belongs to, e.g. `order/ab12…`.
    pub subject: String,
    /// What the consumer was doing, e.g. `order_confirmed` (a mail).
    pub action: String,
    /// Why it failed for good.
    pub reason: String,
    /// When it was set aside.
    pub at: UnixMillis,
}

/// A consumer's dead letters; also the snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetters {
    /// Newest last, at most [`KEPT`].
    pub letters: Vec<DeadLetter>,
    /// Set aside since the beginning.
    pub total: u64,
}

impl DeadLetters {
    /// Applies one event.
    pub fn apply(&mut self, letter: &DeadLetter) {
        if self
            .letters
            .iter()
            .any(|kept| kept.seq == letter.seq && kept.action == letter.action)
        {
            return;
        }
        self.letters.push(letter.clone());
        if self.letters.len() > KEPT {
            self.letters.remove(0);
        }
        self.total += 1;
    }
}

impl Entity for DeadLetters {
    const KIND: &'static str = "dead-letters";
    type Event = DeadLetter;
    /// Set these aside (none: just read).
    type Command = Vec<DeadLetter>;
    type Reply = DeadLetters;
    type View = ();

    fn new(_id: &str) -> Self {
        DeadLetters::default()
    }

    fn apply(&mut self, event: &DeadLetter) {
        DeadLetters::apply(self, event);
    }

    fn handle(&mut self, command: Vec<DeadLetter>, _now: UnixMillis, events: &mut Vec<DeadLetter>) -> DeadLetters {
        for letter in command {
            let before = self.total;
            DeadLetters::apply(self, &letter);
            if self.total > before {
                events.push(letter);
            }
        }
        self.clone()
    }

    fn settle(&mut self, _now: UnixMillis, _events: &mut Vec<DeadLetter>) {}

    fn next_deadline(&self) -> Option<UnixMillis> {
        None
    }

    fn view(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter(seq: u64) -> DeadLetter {
        DeadLetter {
            seq,
            subject: format!("order/{seq}"),
            action: "order_confirmed".into(),
            reason: "bad address".into(),
            at: 1,
        }
    }

    #[test]
    fn a_letter_is_kept_once_and_the_oldest_go_past_the_cap() {
        let mut letters = DeadLetters::default();
        letters.apply(&letter(1));
        letters.apply(&letter(1));
        assert_eq!(letters.total, 1, "a retried pass sets nothing aside twice");
        for seq in 2..=(KEPT as u64 + 5) {
            letters.apply(&letter(seq));
        }
        assert_eq!(letters.letters.len(), KEPT);
        assert_eq!(letters.letters[0].seq, 6);
        assert_eq!(letters.total, KEPT as u64 + 5);
    }
}
