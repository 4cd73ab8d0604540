//! Every SKU's figures as a read model of the `sku` events (DESIGN §10,
//! [`crate::read_model`]), rebuilt from the log at start: what the console
//! lists as low on stock without asking 100,000 SKU actors. Pure. It moves the
//! figures by the same rule as the SKU actor ([`Counts::apply`]), keeping only
//! the open reservations' quantities (to know what a commit or an expiry
//! frees), not the ids a SKU remembers.

use std::collections::BTreeSet;

use rustc_hash::FxHashMap;

use super::counts::{closes, Counts};
use super::state::{SkuEvent, StockLevel};
use crate::read_model::Book;

/// At or below this many units available a SKU is low on stock (the
/// storefront says "only N left" from the same number).
pub const LOW_STOCK: u64 = 5;

#[derive(Debug, Default)]
struct Sku {
    counts: Counts,
    /// Open reservations' quantities by id.
    open: FxHashMap<String, u64>,
}

/// Every SKU's figures, and the ones low on stock.
#[derive(Debug, Default)]
pub struct StockBook {
    skus: FxHashMap<String, Sku>,
    /// `(available, sku)` of the SKUs at or below [`LOW_STOCK`].
    low: BTreeSet<(u64, String)>,
}

impl Book for StockBook {
    const KIND: &'static str = "sku";
    const NAME: &'static str = "stock levels";
    type Event = SkuEvent;

    fn apply(&mut self, id: &str, _first_seq: u64, events: Vec<SkuEvent>) {
        let sku = self.skus.entry(id.to_string()).or_default();
        let before = sku.counts.level().available;
        for event in &events {
            let closed = closes(event).and_then(|reservation_id| sku.open.remove(reservation_id));
            if let SkuEvent::StockReserved {
                reservation_id, qty, ..
            } = event
            {
                sku.open.insert(reservation_id.clone(), *qty);
            }
            sku.counts.apply(event, closed);
        }
        let after = sku.counts.level().available;
        if before != after || before <= LOW_STOCK {
            self.low.remove(&(before, id.to_string()));
        }
        if after <= LOW_STOCK {
            self.low.insert((after, id.to_string()));
        }
    }
}

impl StockBook {
    /// A SKU's figures, if it ever had an event.
    pub fn level(&self, sku: &str) -> Option<StockLevel> {
        self.skus.get(sku).map(|sku| sku.counts.level())
    }

    /// The first `limit` SKUs low on stock (fewest available first) and how
    /// many are low.
    pub fn low(&self, limit: usize) -> (Vec<(String, StockLevel)>, usize) {
        let first = self
            .low
            .iter()
            .take(limit)
            .filter_map(|(_, sku)| Some((sku.clone(), self.level(sku)?)))
            .collect();
        (first, self.low.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sku::SkuStock;

    /// A seeded mix of every event kind over a few SKUs, as the SKU actors
    /// would log them (decided by the real state machine).
    #[test]
    fn the_book_agrees_with_the_sku_state_machine_and_lists_the_low_ones() {
        let mut rng = crate::test_rng::xorshift(0x2545_f491_4f6c_dd1d);
        let mut next = move |n: u64| rng() % n;
        let mut book = StockBook::default();
        let mut truth: Vec<SkuStock> = (0..8).map(|_| SkuStock::default()).collect();
        for step in 0..4_000u64 {
            let index = next(8) as usize;
            let sku = &mut truth[index];
            let open: Vec<String> = sku.open_reservations().map(|(id, _)| id.clone()).collect();
            let pick = |n: u64| open.get(n as usize % open.len().max(1)).cloned();
            let event = match next(7) {
                0 => sku.set_on_hand(next(20)).ok(),
                1 => sku.adjust(next(9) as i64 - 4, "count".into()).ok(),
                2 => match sku.reserve(format!("r{step}"), 1 + next(4), 1_000 + step) {
                    Ok(crate::sku::state::ReserveDecision::New(event)) => Some(event),
                    _ => None,
                },
                3 => pick(next(99)).and_then(|id| sku.commit(id).ok().flatten()),
                4 => pick(next(99)).and_then(|id| sku.release(id).ok()),
                5 => pick(next(99)).map(|id| SkuEvent::ReservationExpired { reservation_id: id }),
                _ => sku.return_sold(format!("ret{step}"), 1, step).ok().flatten(),
            };
            if let Some(event) = event {
                sku.apply(&event);
                Book::apply(&mut book, &format!("S{index}"), step, vec![event]);
            }
        }
        for (index, sku) in truth.iter().enumerate() {
            assert_eq!(book.level(&format!("S{index}")), Some(sku.level()), "S{index}");
        }
        let (low, count) = book.low(100);
        let expected: Vec<String> = {
            let mut low: Vec<(u64, String)> = truth
                .iter()
                .enumerate()
                .filter(|(_, sku)| sku.level().available <= LOW_STOCK)
                .map(|(index, sku)| (sku.level().available, format!("S{index}")))
                .collect();
            low.sort();
            low.into_iter().map(|(_, sku)| sku).collect()
        };
        assert_eq!(count, expected.len());
        assert_eq!(low.into_iter().map(|(sku, _)| sku).collect::<Vec<_>>(), expected);
    }
}
