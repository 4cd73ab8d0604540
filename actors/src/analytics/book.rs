//! The analytics book, pure: what each order placed, in which currency, and
//! where it stands now, by hour of placement, so that a report over any range
//! reads only the orders placed in it. An order counts in the hour it was
//! placed, with the status it has now: a sale confirmed and later refunded
//! is a refund of that hour, as the orders API shows the order.

use std::collections::BTreeMap;

use hashbrown::HashTable;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::digest::{digest16, table_hash};
use crate::order::state::{OrderEvent, OrderStatus};
use crate::read_model::Book;
use crate::runtime::UnixMillis;
use crate::views::recent::ViewerKey;

/// One hour, in ms.
pub const HOUR_MS: u64 = 3_600_000;

/// What the book keeps of one order.
#[derive(Debug, Clone)]
struct Facts {
    /// The order, by a digest of its id (16 bytes, where the id and its
    /// allocation took 48: the book holds every order ever placed).
    key: OrderKey,
    placed_at: UnixMillis,
    /// Index into `AnalyticsBook::currencies`.
    currency: u16,
    total: u64,
    /// `(index into skus, units, line total)`.
    lines: Box<[(u32, u32, u64)]>,
    status: OrderStatus,
}

/// Who placed an order not sold yet, as the view log knows them (for the
/// funnel): the cart it was placed from, and the customer (none for a guest).
#[derive(Debug, Clone, Copy)]
struct Placer {
    cart: ViewerKey,
    buyer: Option<ViewerKey>,
}

/// An order, by the first 16 bytes of the SHA-256 of its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct OrderKey([u8; 16]);

impl OrderKey {
    fn of(id: &str) -> Self {
        OrderKey(digest16(b"order\n", id))
    }

    fn hash(&self) -> u64 {
        table_hash(&self.0)
    }
}

/// Figures of one currency.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Money {
    pub currency: String,
    /// Sold orders (confirmed, shipped, delivered).
    pub orders: u64,
    /// Σ their totals.
    pub revenue: u64,
    /// Orders refunded or owed a refund.
    pub refunds: u64,
    /// Σ their totals.
    pub refunded: u64,
}

/// One bucket of the chart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bucket {
    /// Its start (Unix ms).
    pub start: UnixMillis,
    /// Sold orders, all currencies.
    pub orders: u64,
    /// Per currency, sorted.
    pub money: Vec<Money>,
}

/// A product's sales in a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductSales {
    pub sku: String,
    pub units: u64,
    /// Σ line totals (before order discounts), per currency.
    pub revenue: Vec<(String, u64)>,
}

/// What happened between two instants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Per currency, sorted.
    pub money: Vec<Money>,
    /// Units of the sold orders.
    pub units: u64,
    /// Orders placed, whatever became of them.
    pub placed: u64,
    /// Orders cancelled before they sold.
    pub cancelled: u64,
    /// One per `granularity`, oldest first, empty ones included.
    pub buckets: Vec<Bucket>,
    /// Every product sold, most units first.
    pub products: Vec<ProductSales>,
}

/// Every order's facts, indexed by hour of placement.
#[derive(Debug, Default)]
pub struct AnalyticsBook {
    orders: Vec<Facts>,
    /// Indexes into `orders`, by their key.
    by_key: HashTable<u32>,
    /// Orders placed in each hour (hour start → indexes into `orders`).
    by_hour: BTreeMap<u64, Vec<u32>>,
    currencies: Vec<String>,
    skus: Vec<String>,
    sku_index: FxHashMap<String, u32>,
    /// Who placed each order that may still sell (by index into `orders`):
    /// dropped once it sold or ended unsold, so that the book does not keep
    /// 33 bytes more an order for good.
    placers: FxHashMap<u32, Placer>,
    /// Carts a sold order was placed from.
    sold_carts: FxHashSet<ViewerKey>,
    /// Customers with a sold order.
    buyers: FxHashSet<ViewerKey>,
}

impl Book for AnalyticsBook {
    const KIND: &'static str = "order";
    const NAME: &'static str = "analytics";
    type Event = OrderEvent;

    fn apply(&mut self, id: &str, _first_seq: u64, events: Vec<OrderEvent>) {
        let key = OrderKey::of(id);
        for event in events {
            self.apply_event(key, &event);
        }
    }
}

impl AnalyticsBook {
    fn apply_event(&mut self, key: OrderKey, event: &OrderEvent) {
        if let OrderEvent::Placed(placement) = event {
            if self.index_of(key).is_some() {
                return;
            }
            let currency = match self.currencies.iter().position(|c| *c == placement.currency) {
                Some(index) => index,
                None => {
                    self.currencies.push(placement.currency.clone());
                    self.currencies.len() - 1
                }
            } as u16;
            let lines = (placement.lines.iter())
                .map(|line| (self.sku(&line.sku), line.qty, line.line_total))
                .collect();
            let index = self.orders.len() as u32;
            self.orders.push(Facts {
                key,
                placed_at: placement.placed_at,
                currency,
                total: placement.total,
                lines,
                status: OrderStatus::Pending,
            });
            let placer = Placer {
                cart: ViewerKey::cart(&placement.cart_id),
                buyer: placement.owner.as_deref().map(ViewerKey::customer),
            };
            self.placers.insert(index, placer);
            let orders = &self.orders;
            (self.by_key).insert_unique(key.hash(), index, |&other| orders[other as usize].key.hash());
            let hour = placement.placed_at - placement.placed_at % HOUR_MS;
            self.by_hour.entry(hour).or_default().push(index);
            return;
        }
        if let (Some(status), Some(index)) = (event.status_entered(), self.index_of(key)) {
            self.orders[index].status = status;
            if !(status.sold() || status.unsold()) {
                return;
            }
            if let Some(placer) = self.placers.remove(&(index as u32)) {
                if status.sold() {
                    self.sold_carts.insert(placer.cart);
                    self.buyers.extend(placer.buyer);
                }
            }
        }
    }

    fn index_of(&self, key: OrderKey) -> Option<usize> {
        let found = self
            .by_key
            .find(key.hash(), |&index| self.orders[index as usize].key == key);
        found.map(|&index| index as usize)
    }

    /// Whether `viewer`, who filled `carts`, has a sold order.
    pub fn ordered(&self, viewer: &ViewerKey, carts: &[ViewerKey]) -> bool {
        self.buyers.contains(viewer) || carts.iter().any(|cart| self.sold_carts.contains(cart))
    }

    fn sku(&mut self, sku: &str) -> u32 {
        if let Some(&index) = self.sku_index.get(sku) {
            return index;
        }
        self.skus.push(sku.to_string());
        let index = self.skus.len() as u32 - 1;
        self.sku_index.insert(sku.to_string(), index);
        index
    }

    /// The orders placed in `[from, to)`, in buckets of `bucket_ms` (an
    /// hour or a day) aligned to UTC.
    pub fn report(&self, from: UnixMillis, to: UnixMillis, bucket_ms: u64) -> Report {
        let first = from - from % bucket_ms;
        let mut report = Report {
            buckets: (0..)
                .map(|n| first + n * bucket_ms)
                .take_while(|start| *start < to)
                .map(|start| Bucket {
                    start,
                    ..Bucket::default()
                })
                .collect(),
            ..Report::default()
        };
        let mut products: FxHashMap<u32, (u64, FxHashMap<u16, u64>)> = FxHashMap::default();
        let hours = self.by_hour.range(from - from % HOUR_MS..to);
        let placed = hours.flat_map(|(_, orders)| orders.iter().map(|&index| &self.orders[index as usize]));
        for order in placed.filter(|order| (from..to).contains(&order.placed_at)) {
            report.placed += 1;
            let currency = &self.currencies[order.currency as usize];
            let bucket = &mut report.buckets[((order.placed_at - first) / bucket_ms) as usize];
            if order.status.sold() {
                let units: u64 = order.lines.iter().map(|(_, qty, _)| u64::from(*qty)).sum();
                report.units += units;
                bucket.orders += 1;
                for money in [&mut report.money, &mut bucket.money] {
                    let money = money_of(money, currency);
                    money.orders += 1;
                    money.revenue += order.total;
                }
                for &(sku, qty, line_total) in order.lines.iter() {
                    let (units, revenue) = products.entry(sku).or_default();
                    *units += u64::from(qty);
                    *revenue.entry(order.currency).or_default() += line_total;
                }
            }
            match order.status {
                OrderStatus::Refunded | OrderStatus::RefundPending => {
                    for money in [&mut report.money, &mut bucket.money] {
                        let money = money_of(money, currency);
                        money.refunds += 1;
                        money.refunded += order.total;
                    }
                }
                OrderStatus::Cancelled => report.cancelled += 1,
                _ => {}
            }
        }
        report.money.sort_by(|a, b| a.currency.cmp(&b.currency));
        for bucket in &mut report.buckets {
            bucket.money.sort_by(|a, b| a.currency.cmp(&b.currency));
        }
        report.products = (products.into_iter())
            .map(|(sku, (units, revenue))| {
                let mut revenue: Vec<(String, u64)> = (revenue.into_iter())
                    .map(|(currency, amount)| (self.currencies[currency as usize].clone(), amount))
                    .collect();
                revenue.sort();
                ProductSales {
                    sku: self.skus[sku as usize].clone(),
                    units,
                    revenue,
                }
            })
            .collect();
        report
            .products
            .sort_by(|a, b| b.units.cmp(&a.units).then_with(|| a.sku.cmp(&b.sku)));
        report
    }
}

/// The figures of `currency` in `money`, added when missing.
fn money_of<'a>(money: &'a mut Vec<Money>, currency: &str) -> &'a mut Money {
    let index = match money.iter().position(|m| m.currency == currency) {
        Some(index) => index,
        None => {
            money.push(Money {
                currency: currency.to_string(),
                ..Money::default()
            });
            money.len() - 1
        }
    };
    &mut money[index]
}

#[cfg(test)]
#[path = "book_tests.rs"]
mod tests;
