//! The SKU stock actor: runs [`SkuStock`] on the entity runtime.
//!
//! Accepts [`SkuCommand`]s; persists [`SkuEvent`]s (one journal record per burst
//! of messages, snapshots now and then); talks to nobody else. Reservations that
//! expire, also while the entity was passivated or the process down, are settled
//! before any command is decided.

use super::messages::{ReservationGrant, SkuCommand, SkuOutcome, SkuReply};
use super::state::{Reservation, ReserveDecision, SkuEvent, SkuStock, StockLevel};
use super::stock_book::LOW_STOCK;
use crate::runtime::{Entity, UnixMillis};

impl SkuStock {
    fn emit(&mut self, event: SkuEvent, events: &mut Vec<SkuEvent>) {
        self.apply(&event);
        events.push(event);
    }

    /// Records [`SkuEvent::LowStock`] when `available` fell from above
    /// [`LOW_STOCK`] to it or below.
    fn note_low_stock(&mut self, before: u64, events: &mut Vec<SkuEvent>) {
        let available = self.level().available;
        if before > LOW_STOCK && available <= LOW_STOCK {
            self.emit(SkuEvent::LowStock { available }, events);
        }
    }

    fn decide(&mut self, command: SkuCommand, now: UnixMillis, events: &mut Vec<SkuEvent>) -> SkuReply {
        let event = match command {
            SkuCommand::Get => None,
            SkuCommand::Reservations { limit } => {
                let mut open: Vec<(String, Reservation)> = self
                    .open_reservations()
                    .map(|(id, hold)| (id.clone(), hold.clone()))
                    .collect();
                open.sort_by_key(|(id, hold)| (hold.expires_at, id.clone()));
                open.truncate(limit);
                return Ok(SkuOutcome::Reservations(open));
            }
            SkuCommand::SetOnHand { on_hand } => Some(self.set_on_hand(on_hand)?),
            SkuCommand::Adjust { delta, reason } => Some(self.adjust(delta, reason)?),
            SkuCommand::Commit { reservation_id } => self.commit(reservation_id)?,
            SkuCommand::Release { reservation_id } => Some(self.release(reservation_id)?),
            SkuCommand::Return { return_id, qty } => self.return_sold(return_id, qty, now)?,
            SkuCommand::Sell {
                reservation_id,
                qty,
                ttl_ms,
            } => {
                for event in self.sell(reservation_id, qty, now.saturating_add(ttl_ms))? {
                    self.emit(event, events);
                }
                None
            }
            SkuCommand::Reserve {
                reservation_id,
                qty,
                ttl_ms,
            } => {
                let expires_at = now.saturating_add(ttl_ms);
                let grant = match self.reserve(reservation_id.clone(), qty, expires_at)? {
                    ReserveDecision::New(event) => {
                        self.emit(event, events);
                        ReservationGrant {
                            reservation_id,
                            qty,
                            expires_at,
                            created: true,
                        }
                    }
                    ReserveDecision::Existing(existing) => ReservationGrant {
                        reservation_id,
                        qty,
                        expires_at: existing.expires_at,
                        created: false,
                    },
                };
                return Ok(SkuOutcome::Reserved(grant));
            }
        };
        if let Some(event) = event {
            self.emit(event, events);
        }
        Ok(SkuOutcome::Level(self.level()))
    }
}

impl Entity for SkuStock {
    const KIND: &'static str = "sku";
    type Event = SkuEvent;
    type Command = SkuCommand;
    type Reply = SkuReply;
    type View = StockLevel;

    fn new(_id: &str) -> Self {
        SkuStock::default()
    }

    fn apply(&mut self, event: &SkuEvent) {
        SkuStock::apply(self, event);
    }

    fn handle(&mut self, command: SkuCommand, now: UnixMillis, events: &mut Vec<SkuEvent>) -> SkuReply {
        let before = self.level().available;
        let reply = self.decide(command, now, events);
        self.note_low_stock(before, events);
        reply
    }

    fn settle(&mut self, now: UnixMillis, events: &mut Vec<SkuEvent>) {
        let start = events.len();
        self.expire(now, events);
        for event in &events[start..] {
            SkuStock::apply(self, event);
        }
    }

    fn next_deadline(&self) -> Option<UnixMillis> {
        self.next_expiry()
    }

    fn view(&self) -> StockLevel {
        self.level()
    }

    const EVENTS_SHOWN: bool = true;

    fn describe(event: &SkuEvent) -> String {
        format!("{event:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(stock: &mut SkuStock, command: SkuCommand) -> Vec<SkuEvent> {
        let mut events = Vec::new();
        Entity::handle(stock, command, 0, &mut events).unwrap();
        events
    }

    fn reserve(id: &str, qty: u64) -> SkuCommand {
        SkuCommand::Reserve {
            reservation_id: id.into(),
            qty,
            ttl_ms: 60_000,
        }
    }

    #[test]
    fn low_stock_is_recorded_once_per_fall_to_the_threshold() {
        let mut stock = SkuStock::default();
        run(&mut stock, SkuCommand::SetOnHand { on_hand: 8 });
        assert!(!run(&mut stock, reserve("a", 2)).contains(&SkuEvent::LowStock { available: 6 }));
        let events = run(&mut stock, reserve("b", 3));
        assert_eq!(events.last(), Some(&SkuEvent::LowStock { available: 3 }));
        let events = run(&mut stock, reserve("c", 1));
        assert!(
            events.iter().all(|event| !matches!(event, SkuEvent::LowStock { .. })),
            "already low"
        );
        run(&mut stock, SkuCommand::SetOnHand { on_hand: 20 });
        let events = run(&mut stock, reserve("d", 12));
        assert_eq!(events.last(), Some(&SkuEvent::LowStock { available: 2 }));
    }
}
