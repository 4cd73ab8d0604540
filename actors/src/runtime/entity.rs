//! What a kind of entity gives the runtime: a pure state machine with events.
//!
//! The runtime calls [`Entity::handle`], which decides, applies and reports the
//! events; the runtime journals them and replies once they are durable. On
//! activation it replays the journal through [`Entity::apply`]. Time enters only as
//! an argument, so implementations stay pure and testable.

use serde::{de::DeserializeOwned, Serialize};

/// Milliseconds since the Unix epoch.
pub type UnixMillis = u64;

/// The current wall-clock time in milliseconds since the Unix epoch.
pub fn now_millis() -> UnixMillis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as u64)
}

/// A kind of entity run by the runtime: its state is also its snapshot.
pub trait Entity: Serialize + DeserializeOwned + Unpin + Sized + 'static {
    /// Short stable name used in keys, metrics and the admin API.
    const KIND: &'static str;
    /// Whether idle actors of this kind stay alive instead of being passivated
    /// (for entities too large to reload on a request's path).
    const KEEP_ALIVE: bool = false;
    /// What changes the state; journaled and appended to the event log.
    type Event: Serialize + DeserializeOwned + Unpin;
    /// What callers ask.
    type Command: Send + 'static;
    /// What callers get back.
    type Reply: Send + Unpin + 'static;
    /// A small summary published after every change, readable without a message
    /// (see `Registry::peek`).
    /// Its `Debug` form is what the console's actor page shows.
    type View: Clone + std::fmt::Debug + Send + Sync + Unpin + 'static;

    /// The state of an entity that has never been written.
    fn new(id: &str) -> Self;

    /// Rebuilds indexes that a snapshot does not hold.
    fn restored(&mut self) {}

    /// Applies one event; must not fail for an event that `handle` or `settle` produced.
    fn apply(&mut self, event: &Self::Event);

    /// Decides a command, applies the events it causes, pushes them to `events`
    /// (in the order applied) and returns the reply.
    fn handle(&mut self, command: Self::Command, now: UnixMillis, events: &mut Vec<Self::Event>) -> Self::Reply;

    /// Applies and pushes the events that the passing of time alone causes
    /// (expiries) up to `now`.
    fn settle(&mut self, now: UnixMillis, events: &mut Vec<Self::Event>);

    /// When `settle` will next have something to do.
    fn next_deadline(&self) -> Option<UnixMillis>;

    /// The summary to publish.
    fn view(&self) -> Self::View;

    /// Whether entities of this kind may settle ([`Entity::settled`]); kinds
    /// that never do are swept at the pace of `runtime.idle_timeout`.
    const SETTLES: bool = false;

    /// Whether nothing more is expected of this entity soon (a checked-out
    /// cart, an order that has settled, an answered checkout key): its idle
    /// actor is then passivated after `runtime.settled_idle_timeout` instead of
    /// `runtime.idle_timeout`, unless someone watches its view.
    fn settled(&self) -> bool {
        false
    }

    /// Whether the console's actor page shows this kind's latest events (by
    /// default not: events may carry secrets, such as a password hash).
    const EVENTS_SHOWN: bool = false;

    /// `event` in words for the console's actor page (when [`Entity::EVENTS_SHOWN`]).
    fn describe(_event: &Self::Event) -> String {
        String::new()
    }
}
