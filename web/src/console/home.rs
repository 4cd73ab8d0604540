//! `/admin`: what an operator checks first, live: sales today and this week
//! (per currency), orders waiting for an operator, SKUs low on stock, the runtime (actors by
//! kind, restarts in the last hour by cause), storage (writable, group-commit
//! flush latency since start); below, the analytics of a chosen range.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpResponse};
use askama::Template;
use mercato_actors::money::format_money;
use mercato_actors::order::book::Sales;
use mercato_actors::order::state::OrderStatus;
use mercato_actors::runtime::{now_millis, RestartCause, RECENT_RESTARTS};
use mercato_actors::sku::stock_book::LOW_STOCK;
use mercato_http::AppState;

use super::analytics::{self, bounds, chosen, AnalyticsView, RangeQuery};
use super::{live, ConsoleLayout, Staff};
use crate::page;

/// A kind and how many of its actors are live.
pub struct KindCount {
    pub kind: &'static str,
    pub live: i64,
}

/// Group-commit flushes since start.
pub struct Flushes {
    pub count: u64,
    /// Mean, in ms (two decimals).
    pub mean_ms: String,
    /// Bucket bound the 99th percentile is under, in ms.
    pub p99_ms: String,
}

/// Sold orders and revenue of a period in one currency.
pub struct SalesRow {
    pub orders: u64,
    pub revenue: String,
}

/// Orders that wait for an operator.
pub struct Waiting {
    pub awaiting_payment: usize,
    pub to_ship: usize,
    pub refunds_pending: usize,
}

/// SKUs low on stock: the first few, and how many there are.
pub struct LowStock {
    /// `(sku, available, on hand)`, fewest available first.
    pub first: Vec<(String, u64, u64)>,
    pub count: usize,
    /// The threshold, for the words.
    pub at_most: u64,
}

/// The figures of the home page; the page and its live stream render them alike.
pub struct Figures {
    pub low_stock: LowStock,
    pub today: Vec<SalesRow>,
    pub week: Vec<SalesRow>,
    pub waiting: Waiting,
    pub kinds: Vec<KindCount>,
    pub live_total: i64,
    /// Restarts in the last hour per cause, as `(cause, n)`.
    pub restarts: Vec<(&'static str, usize)>,
    pub restarts_total: usize,
    /// Whether a kind restarted more often than it remembers: the counts
    /// are a floor (`mercato_actor_restarts_total` has them all).
    pub restarts_capped: bool,
    /// `None` when writable; else why not.
    pub storage_failure: Option<String>,
    pub flushes: Flushes,
}

fn flushes(registry: &prometheus::Registry) -> Flushes {
    let histogram = registry
        .gather()
        .into_iter()
        .find(|family| family.name() == "mercato_storage_flush_seconds")
        .and_then(|family| family.get_metric().first().map(|metric| metric.get_histogram().clone()));
    let Some(histogram) = histogram.filter(|h| h.get_sample_count() > 0) else {
        return Flushes {
            count: 0,
            mean_ms: "–".into(),
            p99_ms: "–".into(),
        };
    };
    let count = histogram.get_sample_count();
    let wanted = (count as f64 * 0.99).ceil() as u64;
    let p99 = histogram
        .get_bucket()
        .iter()
        .find(|bucket| bucket.cumulative_count() >= wanted)
        .map_or("more than the largest bucket".to_string(), |bucket| {
            format!("≤ {}", bucket.upper_bound() * 1000.0)
        });
    Flushes {
        count,
        mean_ms: format!("{:.2}", histogram.get_sample_sum() * 1000.0 / count as f64),
        p99_ms: p99,
    }
}

const DAY_MS: u64 = 86_400_000;
/// Low-stock SKUs the home page lists (the rest: by SKU in Inventory).
const LOW_STOCK_SHOWN: usize = 8;

/// Midnight UTC today, and the Monday of this week.
fn day_and_week_start(now: u64) -> (u64, u64) {
    let days = now / DAY_MS;
    // 1970-01-01 was a Thursday: Monday is 3 days later in the cycle.
    let since_monday = (days + 3) % 7;
    (days * DAY_MS, (days - since_monday) * DAY_MS)
}

fn sales_rows(sales: Vec<Sales>) -> Vec<SalesRow> {
    sales
        .into_iter()
        .map(|sales| SalesRow {
            orders: sales.orders,
            revenue: format_money(sales.revenue, &sales.currency),
        })
        .collect()
}

/// The figures now.
pub fn figures(state: &AppState) -> Figures {
    let now = now_millis();
    let hour_ago = now.saturating_sub(3_600_000);
    let (today, week) = day_and_week_start(now);
    let book = state.orders.book().read();
    let (today, week, waiting) = (
        sales_rows(book.sales_since(today)),
        sales_rows(book.sales_since(week)),
        Waiting {
            awaiting_payment: book.count(OrderStatus::AwaitingPayment),
            to_ship: book.count(OrderStatus::Confirmed),
            refunds_pending: book.count(OrderStatus::RefundPending),
        },
    );
    drop(book);
    let (first, count) = state.inventory.stock_book().read().low(LOW_STOCK_SHOWN);
    let low_stock = LowStock {
        first: first
            .into_iter()
            .map(|(sku, level)| (sku, level.available, level.on_hand))
            .collect(),
        count,
        at_most: LOW_STOCK,
    };
    let mut per_cause = [0usize; 3];
    let mut restarts_capped = false;
    let mut kinds = Vec::new();
    for directory in &state.directories {
        kinds.push(KindCount {
            kind: directory.kind(),
            live: directory.live(),
        });
        let records = directory.recent_restarts();
        restarts_capped |= records.len() == RECENT_RESTARTS && records.last().is_some_and(|r| r.at >= hour_ago);
        for record in records.iter().filter(|record| record.at >= hour_ago) {
            per_cause[record.cause as usize - 1] += 1;
        }
    }
    Figures {
        low_stock,
        today,
        week,
        waiting,
        live_total: kinds.iter().map(|kind| kind.live).sum(),
        kinds,
        restarts: RestartCause::ALL
            .iter()
            .map(|cause| (cause.as_str(), per_cause[*cause as usize - 1]))
            .collect(),
        restarts_total: per_cause.iter().sum(),
        restarts_capped,
        storage_failure: state.storage.failure(),
        flushes: flushes(&state.prometheus),
    }
}

#[derive(Template)]
#[template(path = "console/home.html")]
struct HomePage {
    layout: ConsoleLayout,
    figures: Figures,
    analytics: AnalyticsView,
}

#[derive(Template)]
#[template(path = "console/home_region.html")]
struct HomeRegion {
    figures: Figures,
}

/// `GET /admin`.
#[get("/admin")]
pub async fn show(staff: Staff, state: web::Data<AppState>, query: web::Query<RangeQuery>) -> HttpResponse {
    let range @ (_, _, length, granularity) = chosen(&query);
    let (from, to) = bounds(length, granularity);
    let analysis = state.analytics.analyse(from, to, granularity).await;
    let page = HomePage {
        layout: ConsoleLayout::of(&staff, "home", "Console").live(),
        figures: figures(&state),
        analytics: analytics::view(analysis, range),
    };
    page::html(StatusCode::OK, &page, staff.visitor.cookies())
}

/// `GET /admin/live`: the home page's figures as server-sent events.
#[get("/admin/live")]
pub async fn live_figures(_: Staff, state: web::Data<AppState>) -> HttpResponse {
    live::stream(move || {
        HomeRegion {
            figures: figures(&state),
        }
        .render()
        .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_week_starts_on_monday_at_midnight_utc() {
        // 2026-12-07 (a Monday) 10:00 UTC, and the Sunday after at 23:00.
        let monday = 20_794 * DAY_MS + 10 * 3_600_000;
        assert_eq!(mercato_http::format::rfc3339(monday), "2026-12-07T10:00:00.000Z");
        let (day, week) = day_and_week_start(monday);
        assert_eq!(mercato_http::format::rfc3339(day), "2026-12-07T00:00:00.000Z");
        assert_eq!(week, day);
        let sunday = day + 6 * DAY_MS + 23 * 3_600_000;
        let (day, week) = day_and_week_start(sunday);
        assert_eq!(mercato_http::format::rfc3339(day), "2026-12-13T00:00:00.000Z");
        assert_eq!(mercato_http::format::rfc3339(week), "2026-12-07T00:00:00.000Z");
    }
}
