//! The order book: every order's summary, newest first, as the console lists
//! them, a read model of the domain event log (DESIGN §10, [`crate::read_model`])
//! rebuilt from it at start. Pure: [`OrderBook::apply`] takes one order's events
//! as the log holds them. Besides the summary, each order keeps where its
//! events are in the log (a few numbers), so that its timeline is read from
//! the log when a page asks ([`timeline`]), not kept in memory.
//!
//! Every order ever placed is here, so each is kept small: an [`Entry`] of
//! boxed strings, an interned currency and its log positions inline (most
//! orders have two log entries), found by id through a table of indexes that
//! hashes the entry's own id (no second copy of it), and by e-mail address
//! through a table of each address's latest order, from which the entries
//! link to the address's earlier ones (no copy of the address, no list per
//! address: most guests order once). A [`OrderSummary`] is made of it when
//! asked.

use std::hash::{BuildHasher as _, Hasher as _};

use hashbrown::HashTable;
use rustc_hash::{FxBuildHasher, FxHashMap, FxHasher};
use smallvec::SmallVec;

use self::compact_id::CompactId;
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

/// One order as the book keeps it.
#[derive(Debug)]
struct Entry {
    id: CompactId,
    email: Box<str>,
    placed_at: UnixMillis,
    total: u64,
    units: u64,
    /// Index into [`OrderBook::currencies`].
    currency: u16,
    status: OrderStatus,
    /// The first sequence number of each of its log entries.
    log_entries: SmallVec<[u64; 2]>,
    /// The index of the previous order of the same address ([`NONE`] if
    /// this is its first).
    earlier_of_email: u32,
}

/// No order: the end of an address's chain of orders.
const NONE: u32 = u32::MAX;

/// Every order's summary, in log order.
#[derive(Debug, Default)]
pub struct OrderBook {
    orders: Vec<Entry>,
    /// Indexes into `orders`, hashed by the entry's id.
    by_id: HashTable<u32>,
    /// Each e-mail address's latest order, hashed by the address in lower case.
    by_email: HashTable<u32>,
    per_status: FxHashMap<&'static str, usize>,
    /// The currencies orders were placed in.
    currencies: Vec<String>,
}

fn hash_id(id: &CompactId) -> u64 {
    FxBuildHasher.hash_one(id)
}

/// A text in lower case, as the search compares addresses (one lowering for
/// the table, the search and the filter: `str::to_lowercase` treats a final
/// sigma apart).
fn lower_case(email: &str) -> impl Iterator<Item = char> + '_ {
    email.chars().flat_map(char::to_lowercase)
}

/// Whether `text` in lower case contains `lower` (a lower-case string).
fn contains_lower_case(text: &str, lower: &str) -> bool {
    if lower.is_empty() {
        return true;
    }
    if !text.is_ascii() {
        return lower_case(text).collect::<String>().contains(lower);
    }
    (text.as_bytes().windows(lower.len())).any(|window| window.eq_ignore_ascii_case(lower.as_bytes()))
}

fn hash_email(email: &str) -> u64 {
    let mut hasher = FxHasher::default();
    lower_case(email).for_each(|c| hasher.write_u32(u32::from(c)));
    hasher.finish()
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
    let Some(starts) = model.read().log_starts(id) else {
        return Ok(Vec::new());
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
        let index = match (self.index_of(id), events.first()) {
            (Some(index), _) => index,
            (None, Some(OrderEvent::Placed(placement))) => {
                let Ok(index) = u32::try_from(self.orders.len()) else {
                    tracing::error!(order = id, "the order book is full (2^32 orders): order left out");
                    return;
                };
                let mut entry = Entry {
                    id: CompactId::new(id),
                    email: placement.email.as_str().into(),
                    placed_at: placement.placed_at,
                    total: placement.total,
                    units: placement.lines.iter().map(|line| u64::from(line.qty)).sum(),
                    currency: self.currency_index(&placement.currency),
                    status: OrderStatus::Pending,
                    log_entries: SmallVec::new(),
                    earlier_of_email: NONE,
                };
                *self.per_status.entry(OrderStatus::Pending.name()).or_default() += 1;
                let orders = &self.orders;
                let hash = hash_id(&entry.id);
                self.by_id
                    .insert_unique(hash, index, |&other| hash_id(&orders[other as usize].id));
                match self
                    .latest_of_email(&entry.email)
                    .map(|latest| std::mem::replace(latest, index))
                {
                    Some(earlier) => entry.earlier_of_email = earlier,
                    None => {
                        let orders = &self.orders;
                        let rehash = |&other: &u32| hash_email(&orders[other as usize].email);
                        self.by_email.insert_unique(hash_email(&entry.email), index, rehash);
                    }
                }
                self.orders.push(entry);
                index as usize
            }
            // Events of an order whose placement the log does not hold: none
            // are written, but a damaged log must not panic the book.
            (None, _) => return,
        };
        let order = &mut self.orders[index];
        order.log_entries.push(first_seq);
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
    pub fn get(&self, id: &str) -> Option<OrderSummary> {
        self.index_of(id).map(|index| self.summary(&self.orders[index]))
    }

    fn index_of(&self, id: &str) -> Option<usize> {
        let orders = &self.orders;
        let id = CompactId::new(id);
        (self.by_id.find(hash_id(&id), |&index| orders[index as usize].id == id)).map(|&index| index as usize)
    }

    /// The first sequence number of each log entry of order `id`, in order.
    pub fn log_starts(&self, id: &str) -> Option<Vec<u64>> {
        self.index_of(id).map(|index| self.orders[index].log_entries.to_vec())
    }

    /// The table's slot holding the latest order of `email` (in any case).
    fn latest_of_email(&mut self, email: &str) -> Option<&mut u32> {
        let orders = &self.orders;
        let same = |&index: &u32| lower_case(&orders[index as usize].email).eq(lower_case(email));
        self.by_email.find_mut(hash_email(email), same)
    }

    /// The orders of `email` (in any case), newest first.
    fn orders_of_email<'a>(&'a self, email: &str) -> Option<impl Iterator<Item = &'a Entry> + 'a> {
        let orders = &self.orders;
        let same = |&index: &u32| lower_case(&orders[index as usize].email).eq(lower_case(email));
        let latest = *self.by_email.find(hash_email(email), same)?;
        let chain = std::iter::successors(Some(&orders[latest as usize]), move |entry| {
            (entry.earlier_of_email != NONE).then(|| &orders[entry.earlier_of_email as usize])
        });
        Some(chain)
    }

    fn currency_index(&mut self, currency: &str) -> u16 {
        let position = self.currencies.iter().position(|known| known == currency);
        let index = position.unwrap_or_else(|| {
            self.currencies.push(currency.to_string());
            self.currencies.len() - 1
        });
        u16::try_from(index).expect("currencies are three capital letters: fewer than 2^16")
    }

    fn currency(&self, entry: &Entry) -> &str {
        &self.currencies[usize::from(entry.currency)]
    }

    fn summary(&self, entry: &Entry) -> OrderSummary {
        OrderSummary {
            id: entry.id.to_string(),
            placed_at: entry.placed_at,
            email: entry.email.to_string(),
            total: entry.total,
            currency: self.currency(entry).to_string(),
            units: entry.units,
            status: entry.status,
        }
    }

    /// A page of the orders matching `query`, newest first. The search
    /// matches an order id (or the 8 or more hex digits it starts with, as
    /// pages show it) or part of an e-mail address.
    pub fn page(&self, query: &OrderQuery) -> OrderPage {
        let search: String = lower_case(query.search.trim()).collect();
        let id_prefix = search.len() >= 8 && search.chars().all(|c| c.is_ascii_hexdigit());
        let per_page = query.per_page.max(1);
        let skip = query.page.saturating_mul(per_page);
        let mut matching = 0;
        let mut orders = Vec::with_capacity(per_page);
        if let Some(order) = self.get(&search) {
            if query.status.is_none_or(|status| status == order.status) {
                return OrderPage {
                    orders: (query.page == 0).then_some(order).into_iter().collect(),
                    matching: 1,
                };
            }
        }
        let wanted = |order: &&Entry| {
            query.status.is_none_or(|status| status == order.status)
                && (search.is_empty()
                    || contains_lower_case(&order.email, &search)
                    || (id_prefix && order.id.starts_with(&search)))
        };
        // Newest first: an address's own orders when the search is one, else all.
        let candidates: Box<dyn Iterator<Item = &Entry>> = match self.orders_of_email(&search) {
            Some(orders) => Box::new(orders),
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
                orders.push(self.summary(order));
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
            let currency = self.currency(order);
            match sales.iter_mut().find(|sales| sales.currency == currency) {
                Some(sales) => {
                    sales.orders += 1;
                    sales.revenue += order.total;
                }
                None => sales.push(Sales {
                    currency: currency.to_string(),
                    orders: 1,
                    revenue: order.total,
                }),
            }
        }
        sales.sort_by(|a, b| a.currency.cmp(&b.currency));
        sales
    }
}

#[path = "book/compact_id.rs"]
mod compact_id;
#[cfg(test)]
#[path = "book/tests.rs"]
mod tests;
