//! What callers send to an order and to the open-order set.

use super::state::{OrderError, OrderEvent, OrderState, Placement};

/// A request to one order.
#[derive(Debug, Clone)]
pub enum OrderCommand {
    /// Place the order unless it exists (a checkout retried with its key).
    Place(Box<Placement>),
    /// Record saga steps or an operator's transition, all or none (refused if
    /// one is illegal).
    Record(Vec<OrderEvent>),
    /// Read it.
    Get,
}

/// What an order answers: whether this command placed it, and its state.
#[derive(Debug, Clone)]
pub struct OrderOutcome {
    /// `true` only for the `Place` that created it.
    pub placed_now: bool,
    /// The order after the command.
    pub order: OrderState,
}

/// The reply to an [`OrderCommand`].
pub type OrderReply = Result<OrderOutcome, OrderError>;

/// A request to the open-order set.
#[derive(Debug, Clone)]
pub enum OpenOrdersCommand {
    /// List an order (again); answers its generation.
    Open(String),
    /// Unlist an order if it is still listed under `generation`.
    Close { id: String, generation: u64 },
    /// List them with their generations.
    List,
}

/// What the open-order set answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenOrdersReply {
    /// The generation an order is listed under now.
    Listed(u64),
    /// Every open order and its generation.
    All(Vec<(String, u64)>),
    /// A close was decided.
    Done,
}
