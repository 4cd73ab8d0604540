//! The order book: every order's summary, newest first, as the console lists
//! them, a read model of the domain event log (DESIGN §10, [`crate::read_model`])
//! rebuilt from it at start. Pure: [`OrderBook::apply`] takes one order's events
//! as the log holds them. Besides the summary, each order keeps where its
//! events are in the log (a few numbers), so that its timeline is read from
//! the log when a page asks ([`timeline`]), not kept in memory.

use rustc_hash::FxHashMap;

use super::state::{OrderEvent, OrderStatus};
use crate::read_model::{Book, Logged, ReadModel};
use crate::runtime::UnixMillis;
use crate::storage::StorageError;

/// One order as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderSummary {
    pub id: String,
    pub placed_at: UnixMillis,
    pub email: String,
    pub total: u64,
    pub currency: String,
    /// Units over all lines.
    pub units: u64,
    pub status: OrderStatus,
    /// `(first_seq, count)` of each log entry of this order, in order.
    pub log_entries: Vec<(u64, u32)>,
}

/// The statuses the console's status filter offers, in the order of a life.
pub const STATUSES: [OrderStatus; 12] = [
    OrderStatus::Pending,
    OrderStatus::AwaitingPayment,
    OrderStatus::Paid,
    OrderStatus::Confirmed,
    OrderStatus::Shipped,
    OrderStatus::Delivered,
    OrderStatus::RefundPending,
    OrderStatus::Refunded,
    OrderStatus::Cancelled,
    OrderStatus::Rejected,
    OrderStatus::PaymentFailed,
    OrderStatus::Expired,
];

/// How far out of placement order the log may hold two orders.
const PLACEMENT_SLACK_MS: UnixMillis = 5 * 60 * 1000;

/// Whether an order in `status` sold (counts as an order and as revenue).
pub fn sold(status: OrderStatus) -> bool {
    matches!(
        status,
        OrderStatus::Confirmed | OrderStatus::Shipped | OrderStatus::Delivered
    )
}

/// What a page asks the book for.
#[derive(Debug, Clone, Default)]
pub struct OrderQuery {
    /// Only orders in this status.
    pub status: Option<OrderStatus>,
    /// An order id, or (part of) an e-mail address; case-insensitive.
    pub search: String,
    /// 0-based page.
    pub page: usize,
    pub per_page: usize,
}

/// One page of the list.
#[derive(Debug, Clone)]
pub struct OrderPage {
    pub orders: Vec<OrderSummary>,
    /// Orders matching the query (not only this page).
    pub matching: usize,
}

/// Orders and revenue of a period, for one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sales {
    pub currency: String,
    pub orders: u64,
    pub revenue: u64,
}

/// Every order's summary, in log order.
#[derive(Debug, Default)]
pub struct OrderBook {
    orders: Vec<OrderSummary>,
    by_id: FxHashMap<String, usize>,
    /// Each e-mail address's orders, in log order.
    by_email: FxHashMap<String, Vec<usize>>,
    per_status: FxHashMap<&'static str, usize>,
}

impl Book for OrderBook {
    const KIND: &'static str = "order";
    const NAME: &'static str = "order book";
    type Event = OrderEvent;

    fn apply(&mut self, id: &str, first_seq: u64, events: Vec<OrderEvent>) {
        OrderBook::apply(self, id, first_seq, &events);
    }
}

/// Order `id`'s events in log order (empty if the book does not hold it).
pub async fn timeline(model: &ReadModel<OrderBook>, id: &str) -> Result<Vec<Logged<OrderEvent>>, StorageError> {
    let starts: Vec<u64> = match model.read().get(id) {
        Some(order) => order.log_entries.iter().map(|(first_seq, _)| *first_seq).collect(),
        None => return Ok(Vec::new()),
    };
    model.events_at(id, starts).await
}

impl OrderBook {
    /// Orders in the book.
    pub fn len(&self) -> usize {
        self.orders.len()
    }

    /// Whether the book holds no order.
    pub fn is_empty(&self) -> bool {
        self.orders.is_empty()
    }

    /// Orders now in `status`.
    pub fn count(&self, status: OrderStatus) -> usize {
        self.per_status.get(status.name()).copied().unwrap_or(0)
    }

    /// Applies the events of one log entry of order `id` (`first_seq`, in order).
    pub fn apply(&mut self, id: &str, first_seq: u64, events: &[OrderEvent]) {
        let index = match (self.by_id.get(id), events.first()) {
            (Some(&index), _) => index,
            (None, Some(OrderEvent::Placed(placement))) => {
                self.orders.push(OrderSummary {
                    id: id.to_string(),
                    placed_at: placement.placed_at,
                    email: placement.email.clone(),
                    total: placement.total,
                    currency: placement.currency.clone(),
                    units: placement.lines.iter().map(|line| u64::from(line.qty)).sum(),
                    status: OrderStatus::Pending,
                    log_entries: Vec::new(),
                });
                *self.per_status.entry(OrderStatus::Pending.name()).or_default() += 1;
                self.by_id.insert(id.to_string(), self.orders.len() - 1);
                self.by_email
                    .entry(placement.email.to_lowercase())
                    .or_default()
                    .push(self.orders.len() - 1);
                self.orders.len() - 1
            }
            // Events of an order whose placement the log does not hold: none
            // are written, but a damaged log must not panic the book.
            (None, _) => return,
        };
        let order = &mut self.orders[index];
        order.log_entries.push((first_seq, events.len() as u32));
        for status in events.iter().filter_map(OrderEvent::status_entered) {
            if status != order.status {
                if let Some(n) = self.per_status.get_mut(order.status.name()) {
                    *n = n.saturating_sub(1);
                }
                *self.per_status.entry(status.name()).or_default() += 1;
                order.status = status;
            }
        }
    }

    /// One order.
    pub fn get(&self, id: &str) -> Option<&OrderSummary> {
        self.by_id.get(id).map(|&index| &self.orders[index])
    }

    /// A page of the orders matching `query`, newest first. The search
    /// matches an order id (or the 8 or more hex digits it starts with, as
    /// pages show it) or part of an e-mail address.
    pub fn page(&self, query: &OrderQuery) -> OrderPage {
        let search = query.search.trim().to_lowercase();
        let id_prefix = search.len() >= 8 && search.chars().all(|c| c.is_ascii_hexdigit());
        let per_page = query.per_page.max(1);
        let skip = query.page.saturating_mul(per_page);
        let mut matching = 0;
        let mut orders = Vec::with_capacity(per_page);
        if let Some(order) = self.get(&search) {
            if query.status.is_none_or(|status| status == order.status) {
                return OrderPage {
                    orders: (query.page == 0).then(|| order.clone()).into_iter().collect(),
                    matching: 1,
                };
            }
        }
        let wanted = |order: &&OrderSummary| {
            query.status.is_none_or(|status| status == order.status)
                && (search.is_empty() || order.email.contains(&search) || (id_prefix && order.id.starts_with(&search)))
        };
        // Newest first: an address's own orders when the search is one, else all.
        let candidates: Box<dyn Iterator<Item = &OrderSummary>> = match self.by_email.get(&search) {
            Some(indexes) => Box::new(indexes.iter().rev().map(|&index| &self.orders[index])),
            None => Box::new(self.orders.iter().rev()),
        };
        // Without a search the count is known, and the walk stops at the page.
        let known = match (search.is_empty(), query.status) {
            (true, None) => Some(self.orders.len()),
            (true, Some(status)) => Some(self.count(status)),
            (false, _) => None,
        };
        for order in candidates.filter(wanted) {
            if matching >= skip && orders.len() < per_page {
                orders.push(order.clone());
            }
            matching += 1;
            if known.is_some() && orders.len() == per_page {
                break;
            }
        }
        let matching = known.unwrap_or(matching);
        OrderPage { orders, matching }
    }

    /// Sold orders and their revenue per currency, placed at `since` or later.
    pub fn sales_since(&self, since: UnixMillis) -> Vec<Sales> {
        let mut sales: Vec<Sales> = Vec::new();
        // The log holds orders nearly in placement order: checkouts in flight
        // together may land in another order, never minutes apart.
        let recent = self
            .orders
            .iter()
            .rev()
            .take_while(|order| order.placed_at >= since.saturating_sub(PLACEMENT_SLACK_MS))
            .filter(|order| order.placed_at >= since);
        for order in recent.filter(|order| sold(order.status)) {
            match sales.iter_mut().find(|sales| sales.currency == order.currency) {
                Some(sales) => {
                    sales.orders += 1;
                    sales.revenue += order.total;
                }
                None => sales.push(Sales {
                    currency: order.currency.clone(),
                    orders: 1,
                    revenue: order.total,
                }),
            }
        }
        sales.sort_by(|a, b| a.currency.cmp(&b.currency));
        sales
    }
}

#[cfg(test)]
#[path = "book/tests.rs"]
mod tests;
