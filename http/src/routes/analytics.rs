//! `GET /v1/admin/analytics`: what the orders placed over a range came to.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::{get, web, HttpResponse};
use mercato_actors::analytics::book::{Bucket, Money, ProductSales};
use mercato_actors::analytics::{CategorySales, Granularity};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Operator;
use crate::errors::ApiError;
use crate::format::rfc3339;
use crate::AppState;

/// Most buckets one report draws.
const MAX_BUCKETS: u64 = 1_000;
/// The range when `from` is not given: 30 days before `to`.
const DEFAULT_RANGE: Duration = Duration::from_secs(30 * 24 * 3600);

/// `GET /v1/admin/analytics` query.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AnalyticsQuery {
    /// Start, included: RFC 3339 or `YYYY-MM-DD` (UTC midnight); default 30 days before `to`.
    pub from: Option<String>,
    /// End, excluded: RFC 3339 or `YYYY-MM-DD`; default now.
    pub to: Option<String>,
    /// `day` (default) or `hour`: the size of a `series` bucket, aligned to UTC.
    pub granularity: Option<String>,
}

/// The figures of one currency.
#[derive(Serialize, ToSchema)]
pub struct MoneyBody {
    pub currency: String,
    /// Sold orders: confirmed, shipped or delivered.
    pub orders: u64,
    /// Σ their totals, minor units.
    pub revenue: u64,
    /// `revenue / orders`, rounded down; 0 without orders.
    pub average_order_value: u64,
    /// Orders refunded or owed a refund.
    pub refunds: u64,
    /// Σ their totals.
    pub refunded: u64,
}

impl From<Money> for MoneyBody {
    fn from(money: Money) -> Self {
        MoneyBody {
            average_order_value: money.revenue.checked_div(money.orders).unwrap_or(0),
            currency: money.currency,
            orders: money.orders,
            revenue: money.revenue,
            refunds: money.refunds,
            refunded: money.refunded,
        }
    }
}

/// The whole range.
#[derive(Serialize, ToSchema)]
pub struct TotalsBody {
    /// Orders placed, whatever became of them.
    pub placed: u64,
    /// Orders cancelled before they sold.
    pub cancelled: u64,
    /// Units of the sold orders.
    pub units_sold: u64,
    pub by_currency: Vec<MoneyBody>,
}

/// One bucket of the series.
#[derive(Serialize, ToSchema)]
pub struct BucketBody {
    /// Its start, RFC 3339.
    pub start: String,
    /// Sold orders, every currency.
    pub orders: u64,
    pub by_currency: Vec<MoneyBody>,
}

/// An amount in one currency.
#[derive(Serialize, ToSchema)]
pub struct AmountBody {
    pub currency: String,
    pub amount: u64,
}

/// A best-selling product.
#[derive(Serialize, ToSchema)]
pub struct ProductSalesBody {
    pub sku: String,
    pub units: u64,
    /// Σ line totals before order discounts.
    pub revenue: Vec<AmountBody>,
}

/// A best-selling category (the category a product is in now).
#[derive(Serialize, ToSchema)]
pub struct CategorySalesBody {
    pub id: u64,
    pub slug: String,
    pub name: String,
    pub units: u64,
}

/// Shoppers (guest sessions and customers) whose first product view fell in
/// the range, and how far they went.
#[derive(Serialize, ToSchema)]
pub struct FunnelBody {
    pub sessions_with_view: u64,
    /// Of those, the ones that filled a cart.
    pub with_cart: u64,
    /// Of those, the ones with a sold order.
    pub with_order: u64,
    /// `with_cart - with_order`: carts filled and not bought.
    pub abandoned_carts: u64,
}

/// Orders placed in `[from, to)`, counted with the status they have now.
#[derive(Serialize, ToSchema)]
pub struct AnalyticsBody {
    pub from: String,
    pub to: String,
    /// `day` or `hour`.
    pub granularity: &'static str,
    pub totals: TotalsBody,
    /// One bucket per day or hour, empty ones included.
    pub series: Vec<BucketBody>,
    /// Up to 10, most units first.
    pub top_products: Vec<ProductSalesBody>,
    /// Up to 10, most units first.
    pub top_categories: Vec<CategorySalesBody>,
    pub funnel: FunnelBody,
}

/// An instant given as RFC 3339 or as a UTC date.
fn instant(field: &str, value: &str) -> Result<u64, ApiError> {
    let text = match value.len() {
        10 => format!("{value}T00:00:00Z"),
        _ => value.to_string(),
    };
    let at = humantime::parse_rfc3339_weak(&text)
        .ok()
        .and_then(|at| at.duration_since(UNIX_EPOCH).ok())
        .ok_or_else(|| ApiError::invalid_field(field, format!("{field} must be RFC 3339 or YYYY-MM-DD")))?;
    Ok(at.as_millis() as u64)
}

/// The range, the granularity and its name, checked.
fn range(query: &AnalyticsQuery) -> Result<(u64, u64, Granularity, &'static str), ApiError> {
    let (granularity, name) = match query.granularity.as_deref() {
        None | Some("day") => (Granularity::Day, "day"),
        Some("hour") => (Granularity::Hour, "hour"),
        Some(_) => {
            return Err(ApiError::invalid_field(
                "granularity",
                "granularity must be day or hour",
            ))
        }
    };
    let to = match &query.to {
        Some(to) => instant("to", to)?,
        None => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |now| now.as_millis() as u64),
    };
    let from = match &query.from {
        Some(from) => instant("from", from)?,
        None => to.saturating_sub(DEFAULT_RANGE.as_millis() as u64),
    };
    if from >= to {
        return Err(ApiError::invalid_field("from", "from must be before to"));
    }
    let step = granularity.millis();
    if (to - (from - from % step)).div_ceil(step) > MAX_BUCKETS {
        return Err(ApiError::invalid_field(
            "to",
            format!("at most {MAX_BUCKETS} buckets: shorten the range or use a day granularity"),
        ));
    }
    Ok((from, to, granularity, name))
}

fn bucket_body(bucket: Bucket) -> BucketBody {
    BucketBody {
        start: rfc3339(bucket.start),
        orders: bucket.orders,
        by_currency: bucket.money.into_iter().map(MoneyBody::from).collect(),
    }
}

fn product_body(product: ProductSales) -> ProductSalesBody {
    ProductSalesBody {
        sku: product.sku,
        units: product.units,
        revenue: (product.revenue.into_iter())
            .map(|(currency, amount)| AmountBody { currency, amount })
            .collect(),
    }
}

fn category_body(category: CategorySales) -> CategorySalesBody {
    CategorySalesBody {
        id: category.id,
        slug: category.slug,
        name: category.name,
        units: category.units,
    }
}

/// Orders, revenue per currency, average order value, units sold, refunds,
/// cancellations and the best-selling products and categories of the orders
/// placed in `[from, to)`, with a series per day or hour; a read model of the
/// order events, so the figures add up to the orders the orders API shows.
/// The funnel follows the shoppers whose first view fell in the range: to a
/// cart (`session_id` on add-item for guests of other front ends), to an order.
#[utoipa::path(get, path = "/v1/admin/analytics", tag = "orders", security(("operator_token" = [])),
    params(AnalyticsQuery),
    responses((status = 200, body = AnalyticsBody), (status = 401),
        (status = 422, description = "`invalid_field` (from, to, granularity)")))]
#[get("/analytics")]
pub async fn analytics(
    _: Operator,
    state: web::Data<AppState>,
    query: web::Query<AnalyticsQuery>,
) -> Result<HttpResponse, ApiError> {
    let (from, to, granularity, name) = range(&query)?;
    let analysis = state.analytics.analyse(from, to, granularity).await;
    let report = analysis.report;
    Ok(HttpResponse::Ok().json(AnalyticsBody {
        from: rfc3339(from),
        to: rfc3339(to),
        granularity: name,
        totals: TotalsBody {
            placed: report.placed,
            cancelled: report.cancelled,
            units_sold: report.units,
            by_currency: report.money.into_iter().map(MoneyBody::from).collect(),
        },
        series: report.buckets.into_iter().map(bucket_body).collect(),
        top_products: analysis.top_products.into_iter().map(product_body).collect(),
        top_categories: analysis.top_categories.into_iter().map(category_body).collect(),
        funnel: FunnelBody {
            sessions_with_view: analysis.funnel.viewed,
            with_cart: analysis.funnel.carted,
            with_order: analysis.funnel.ordered,
            abandoned_carts: analysis.funnel.carted - analysis.funnel.ordered,
        },
    }))
}
