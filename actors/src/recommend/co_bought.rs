//! "Customers also bought": item-to-item co-occurrence over confirmed orders
//! (Linden, Smith and York, Amazon 2003), a read model of the `order` events
//! (DESIGN §10). Pure.
//!
//! For every pair of SKUs bought in one confirmed order it counts the orders
//! holding both; a SKU's neighbours are scored by cosine similarity,
//! `together(a, b) / sqrt(orders(a) · orders(b))`. A confirmation moves only
//! the counts of its own SKUs and pairs (no recompute of anything else); the
//! ranking of one SKU's neighbours is read from its row when asked, so it is
//! never stale. An order that is later cancelled or refunded still counts:
//! the two things were wanted together.

use std::cmp::Reverse;
use std::collections::BTreeSet;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::order::state::OrderEvent;
use crate::read_model::Book;

/// One neighbour of a SKU, as ranked.
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbour {
    pub sku: String,
    /// Cosine similarity, in (0, 1].
    pub score: f64,
    /// Confirmed orders holding both.
    pub together: u32,
}

/// Co-occurrence counts of every SKU sold.
#[derive(Debug, Default)]
pub struct CoBought {
    /// SKU → dense index.
    index: FxHashMap<Box<str>, u32>,
    /// Dense index → SKU.
    skus: Vec<Arc<str>>,
    /// Confirmed orders holding each SKU.
    orders: Vec<u32>,
    /// For each SKU, the orders it shares with each other SKU.
    together: Vec<FxHashMap<u32, u32>>,
    /// Placed, not yet confirmed orders: their SKUs.
    pending: FxHashMap<Box<str>, Vec<u32>>,
    /// Confirmed orders counted.
    confirmed: u64,
    /// Every SKU sold, most orders first, then by SKU: the best sellers,
    /// kept in order as orders are counted (a read never sorts them).
    ranking: BTreeSet<(Reverse<u32>, Arc<str>)>,
}

impl Book for CoBought {
    const KIND: &'static str = "order";
    const NAME: &'static str = "customers also bought";
    type Event = OrderEvent;

    fn apply(&mut self, id: &str, _first_seq: u64, events: Vec<OrderEvent>) {
        for event in events {
            match event {
                OrderEvent::Placed(placement) => {
                    let mut items: Vec<u32> = (placement.lines.iter()).map(|line| self.intern(&line.sku)).collect();
                    items.sort_unstable();
                    items.dedup();
                    self.pending.insert(id.into(), items);
                }
                OrderEvent::Confirmed => {
                    if let Some(items) = self.pending.remove(id) {
                        self.count_order(&items);
                    }
                }
                // Orders that will never be confirmed.
                OrderEvent::Rejected { .. }
                | OrderEvent::PaymentFailed { .. }
                | OrderEvent::Expired
                | OrderEvent::Cancelled { .. }
                | OrderEvent::Released => {
                    self.pending.remove(id);
                }
                _ => {}
            }
        }
    }
}

impl CoBought {
    fn intern(&mut self, sku: &str) -> u32 {
        if let Some(&item) = self.index.get(sku) {
            return item;
        }
        let item = u32::try_from(self.skus.len()).expect("fewer than 2^32 SKUs");
        self.index.insert(sku.into(), item);
        self.skus.push(Arc::from(sku));
        self.orders.push(0);
        self.together.push(FxHashMap::default());
        item
    }

    /// Counts one confirmed order of the distinct, sorted `items`.
    fn count_order(&mut self, items: &[u32]) {
        self.confirmed += 1;
        for (position, &a) in items.iter().enumerate() {
            let (orders, sku) = (self.orders[a as usize], Arc::clone(&self.skus[a as usize]));
            self.ranking.remove(&(Reverse(orders), Arc::clone(&sku)));
            self.ranking.insert((Reverse(orders + 1), sku));
            self.orders[a as usize] += 1;
            for &b in &items[position + 1..] {
                *self.together[a as usize].entry(b).or_default() += 1;
                *self.together[b as usize].entry(a).or_default() += 1;
            }
        }
    }

    /// Confirmed orders counted so far.
    pub fn confirmed_orders(&self) -> u64 {
        self.confirmed
    }

    /// Confirmed orders holding `sku`.
    pub fn orders_of(&self, sku: &str) -> u32 {
        self.index.get(sku).map_or(0, |&item| self.orders[item as usize])
    }

    /// Pairs counted (each pair once), for the memory gauge and the bench.
    pub fn pairs(&self) -> usize {
        self.together.iter().map(FxHashMap::len).sum::<usize>() / 2
    }

    /// Every neighbour of `sku` that `keep` accepts, best first (score, then
    /// orders together, then SKU), at most `limit`.
    pub fn neighbours(&self, sku: &str, limit: usize, mut keep: impl FnMut(&str) -> bool) -> Vec<Neighbour> {
        let Some(&item) = self.index.get(sku) else {
            return Vec::new();
        };
        let own = f64::from(self.orders[item as usize]);
        let mut ranked: Vec<(f64, u32, &str)> = (self.together[item as usize].iter())
            .map(|(&other, &together)| {
                let score = f64::from(together) / (own * f64::from(self.orders[other as usize])).sqrt();
                (score, together, &*self.skus[other as usize])
            })
            .collect();
        let best_first =
            |a: &(f64, u32, &str), b: &(f64, u32, &str)| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(b.2));
        // A popular SKU's row holds thousands: sort only the best few, and
        // more only when `keep` turns too many of them down.
        let mut sorted = 0;
        let mut chosen = Vec::with_capacity(limit);
        while chosen.len() < limit && sorted < ranked.len() {
            let wanted = (limit.max(1) * 2).max(sorted * 2).min(ranked.len());
            let rest = &mut ranked[sorted..];
            let take = wanted - sorted;
            if take < rest.len() {
                rest.select_nth_unstable_by(take - 1, best_first);
            }
            rest[..take].sort_unstable_by(best_first);
            for &(score, together, other) in &rest[..take] {
                if chosen.len() < limit && keep(other) {
                    chosen.push(Neighbour {
                        sku: other.to_string(),
                        score,
                        together,
                    });
                }
            }
            sorted = wanted;
        }
        chosen
    }

    /// SKUs by confirmed orders, most first (then by SKU), that `keep` accepts, at most `limit`.
    pub fn best_sellers(&self, limit: usize, mut keep: impl FnMut(&str) -> bool) -> Vec<(String, u32)> {
        (self.ranking.iter())
            .filter(|(_, sku)| keep(sku))
            .take(limit)
            .map(|(Reverse(orders), sku)| (sku.to_string(), *orders))
            .collect()
    }
}

#[cfg(test)]
#[path = "co_bought_tests.rs"]
mod tests;
