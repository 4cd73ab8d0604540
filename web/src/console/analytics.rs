//! The console home's analytics: the chosen range's orders, revenue,
//! average order value, refunds and best sellers, and a chart of revenue
//! (bars) and orders (line) per day or hour, drawn by the server as SVG.
//! From the analytics front door, as `GET /v1/admin/analytics` reads it.

use mercato_actors::analytics::book::Bucket;
use mercato_actors::analytics::{Analysis, Granularity};
use mercato_actors::money::format_money;
use mercato_actors::runtime::now_millis;
use serde::Deserialize;

/// The ranges the home page offers: query value, words, length, granularity.
const RANGES: [Range; 4] = [
    ("24h", "Last 24 hours", 24 * HOUR, Granularity::Hour),
    ("7d", "Last 7 days", 7 * DAY, Granularity::Day),
    ("30d", "Last 30 days", 30 * DAY, Granularity::Day),
    ("90d", "Last 90 days", 90 * DAY, Granularity::Day),
];
const HOUR: u64 = 3_600_000;
const DAY: u64 = 24 * HOUR;
/// The chart's drawing area, in SVG units.
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 180.0;
/// Rows of the best-seller lists.
const TOP_SHOWN: usize = 5;

/// `/admin?range=`.
#[derive(Deserialize)]
pub struct RangeQuery {
    pub range: Option<String>,
}

/// One bar: geometry and what it says.
pub struct Bar {
    pub x: String,
    pub y: String,
    pub width: String,
    pub height: String,
    pub label: String,
}

/// A currency's figures, written for people.
pub struct MoneyRow {
    pub revenue: String,
    pub orders: u64,
    pub average: String,
    pub refunds: u64,
    pub refunded: String,
}

/// What the analytics section shows.
pub struct AnalyticsView {
    /// `(value, words, chosen)` of each range.
    pub ranges: Vec<(&'static str, &'static str, bool)>,
    pub range_words: &'static str,
    pub money: Vec<MoneyRow>,
    pub placed: u64,
    pub cancelled: u64,
    pub units: u64,
    /// The charted currency's revenue per bucket.
    pub bars: Vec<Bar>,
    /// The orders line, as SVG polyline points.
    pub orders_line: String,
    /// The chart's words: currency and highest values.
    pub chart_summary: String,
    /// The first and last buckets' labels (the axis).
    pub axis: (String, String),
    pub top_products: Vec<(String, u64)>,
    pub top_categories: Vec<(String, String, u64)>,
    /// Shoppers who first viewed in the range, with a cart, with an order.
    pub funnel: (u64, u64, u64),
}

/// A range the page offers: query value, words, length in ms, granularity.
pub type Range = (&'static str, &'static str, u64, Granularity);

/// The range asked for (30 days when none or an unknown one).
pub fn chosen(query: &RangeQuery) -> Range {
    let wanted = query.range.as_deref().unwrap_or("30d");
    RANGES
        .into_iter()
        .find(|(value, ..)| *value == wanted)
        .unwrap_or(RANGES[2])
}

/// The `[from, to)` of a range ending now: whole buckets, the current one last.
pub fn bounds(length: u64, granularity: Granularity) -> (u64, u64) {
    let step = granularity.millis();
    let to = now_millis() / step * step + step;
    (to.saturating_sub(length), to)
}

fn bucket_label(start: u64, granularity: Granularity) -> String {
    let text = mercato_http::format::rfc3339(start);
    match granularity {
        Granularity::Day => text[..10].to_string(),
        Granularity::Hour => format!("{} {}", &text[..10], &text[11..16]),
    }
}

/// Fills the view from an analysis of `range`.
pub fn view(analysis: Analysis, (value, words, _, granularity): Range) -> AnalyticsView {
    let report = analysis.report;
    let funnel = (analysis.funnel.viewed, analysis.funnel.carted, analysis.funnel.ordered);
    // The chart shows the currency that sold most.
    let charted = (report.money.iter().max_by_key(|money| money.revenue)).map(|money| money.currency.clone());
    let revenue_of = |bucket: &Bucket| -> u64 {
        (bucket.money.iter())
            .find(|money| Some(&money.currency) == charted.as_ref())
            .map_or(0, |money| money.revenue)
    };
    let buckets = &report.buckets;
    let most_revenue = buckets.iter().map(revenue_of).max().unwrap_or(0).max(1);
    let most_orders = buckets.iter().map(|bucket| bucket.orders).max().unwrap_or(0).max(1);
    let slot = WIDTH / buckets.len().max(1) as f64;
    let currency = charted.clone().unwrap_or_default();
    let bars = (buckets.iter().enumerate())
        .map(|(n, bucket)| {
            let height = revenue_of(bucket) as f64 / most_revenue as f64 * HEIGHT;
            Bar {
                x: format!("{:.1}", n as f64 * slot + slot * 0.1),
                y: format!("{:.1}", HEIGHT - height),
                width: format!("{:.1}", slot * 0.8),
                height: format!("{height:.1}"),
                label: format!(
                    "{}: {} from {} orders",
                    bucket_label(bucket.start, granularity),
                    format_money(revenue_of(bucket), &currency),
                    bucket.orders
                ),
            }
        })
        .collect();
    let orders_line = (buckets.iter().enumerate())
        .map(|(n, bucket)| {
            let y = HEIGHT - bucket.orders as f64 / most_orders as f64 * HEIGHT;
            format!("{:.1},{y:.1}", n as f64 * slot + slot / 2.0)
        })
        .collect::<Vec<_>>()
        .join(" ");
    let chart_summary = match &charted {
        Some(currency) => format!(
            "Revenue in {currency} (bars, highest {}) and orders (line, highest {most_orders}) per {}",
            format_money(most_revenue, currency),
            if granularity == Granularity::Day { "day" } else { "hour" }
        ),
        None => "No orders in this range.".to_string(),
    };
    let axis = (
        buckets
            .first()
            .map(|b| bucket_label(b.start, granularity))
            .unwrap_or_default(),
        buckets
            .last()
            .map(|b| bucket_label(b.start, granularity))
            .unwrap_or_default(),
    );
    AnalyticsView {
        ranges: RANGES.iter().map(|(v, w, ..)| (*v, *w, *v == value)).collect(),
        range_words: words,
        money: (report.money.iter())
            .map(|money| MoneyRow {
                revenue: format_money(money.revenue, &money.currency),
                orders: money.orders,
                average: format_money(money.revenue.checked_div(money.orders).unwrap_or(0), &money.currency),
                refunds: money.refunds,
                refunded: format_money(money.refunded, &money.currency),
            })
            .collect(),
        placed: report.placed,
        cancelled: report.cancelled,
        units: report.units,
        bars,
        orders_line,
        chart_summary,
        axis,
        top_products: (analysis.top_products.into_iter().take(TOP_SHOWN))
            .map(|product| (product.sku, product.units))
            .collect(),
        top_categories: (analysis.top_categories.into_iter().take(TOP_SHOWN))
            .map(|category| (category.slug, category.name, category.units))
            .collect(),
        funnel,
    }
}
