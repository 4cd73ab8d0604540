//! The order entity and the open-order set on the runtime.
//!
//! An order persists its [`OrderEvent`]s and expires itself when its payment
//! window passes before its payment started (a timer, also across restarts);
//! one awaiting its payment is expired by the saga after asking the gateway.
//! It talks to nobody: the [`Orders`](super::Orders) front door runs the saga
//! around it.
//! The open-order set (`order-index/open`, kept alive) lists the orders whose
//! saga has not settled.

use super::messages::{OpenOrdersCommand, OpenOrdersReply, OrderCommand, OrderOutcome, OrderReply};
use super::open_orders::{OpenOrders, OpenOrdersEvent};
use super::state::{OrderEvent, OrderState, OrderStatus};
use crate::runtime::{Entity, UnixMillis};

impl Entity for OrderState {
    const KIND: &'static str = "order";
    type Event = OrderEvent;
    type Command = OrderCommand;
    type Reply = OrderReply;
    type View = ();

    fn new(_id: &str) -> Self {
        OrderState::default()
    }

    fn apply(&mut self, event: &OrderEvent) {
        OrderState::apply(self, event);
    }

    fn handle(&mut self, command: OrderCommand, _now: UnixMillis, events: &mut Vec<OrderEvent>) -> OrderReply {
        let new = match command {
            OrderCommand::Get => Vec::new(),
            OrderCommand::Place(placement) => match self.status() {
                Some(_) => Vec::new(),
                None => vec![OrderEvent::Placed(placement)],
            },
            OrderCommand::Record(new) => {
                self.check_all(&new)?;
                new
            }
        };
        let placed_now = matches!(new.first(), Some(OrderEvent::Placed(_)));
        for event in new {
            OrderState::apply(self, &event);
            events.push(event);
        }
        if self.status().is_none() {
            return Err(super::state::OrderError::NotFound);
        }
        Ok(OrderOutcome {
            placed_now,
            order: self.clone(),
        })
    }

    fn settle(&mut self, now: UnixMillis, events: &mut Vec<OrderEvent>) {
        if self.next_deadline().is_some_and(|deadline| deadline <= now) {
            OrderState::apply(self, &OrderEvent::Expired);
            events.push(OrderEvent::Expired);
        }
    }

    fn next_deadline(&self) -> Option<UnixMillis> {
        // An order awaiting its payment is expired by its saga, after a last
        // word from the gateway: a timer cannot ask.
        match self.status() {
            Some(OrderStatus::Pending) => self.placement().map(|placement| placement.payment_deadline),
            _ => None,
        }
    }

    const SETTLES: bool = true;

    /// The saga is over; an operator shipping it or a customer cancelling it
    /// comes later, if at all.
    fn settled(&self) -> bool {
        self.saga_over()
    }

    fn view(&self) {}
}

impl Entity for OpenOrders {
    const KIND: &'static str = "order-index";
    const KEEP_ALIVE: bool = true;
    type Event = OpenOrdersEvent;
    type Command = OpenOrdersCommand;
    type Reply = OpenOrdersReply;
    type View = ();

    fn new(_id: &str) -> Self {
        OpenOrders::default()
    }

    fn apply(&mut self, event: &OpenOrdersEvent) {
        OpenOrders::apply(self, event);
    }

    fn handle(
        &mut self,
        command: OpenOrdersCommand,
        _now: UnixMillis,
        events: &mut Vec<OpenOrdersEvent>,
    ) -> OpenOrdersReply {
        let (event, reply) = match command {
            OpenOrdersCommand::Open(id) => {
                let event = self.open(&id);
                OpenOrders::apply(self, &event);
                events.push(event);
                return OpenOrdersReply::Listed(self.generation(&id).expect("just listed"));
            }
            OpenOrdersCommand::Close { id, generation } => (self.close(&id, generation), OpenOrdersReply::Done),
            OpenOrdersCommand::List => {
                let listed = self.listed().map(|(id, generation)| (id.clone(), generation)).collect();
                return OpenOrdersReply::All(listed);
            }
        };
        if let Some(event) = event {
            OpenOrders::apply(self, &event);
            events.push(event);
        }
        reply
    }

    fn settle(&mut self, _now: UnixMillis, _events: &mut Vec<OpenOrdersEvent>) {}

    fn next_deadline(&self) -> Option<UnixMillis> {
        None
    }

    fn view(&self) {}
}
