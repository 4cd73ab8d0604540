//! Shop analytics (DESIGN §10): orders, revenue, refunds, units and the best
//! selling products and categories over a range, from a read model of the
//! order events ([`book`]). The categories are today's: a product's sales
//! count in the category it is in now.

pub mod book;

use crate::catalog::state::CategoryId;
use crate::catalog::Catalog;
use crate::read_model::ReadModel;
use crate::runtime::{BackgroundTask, UnixMillis};
use crate::views::{Funnel, Views};

use self::book::{AnalyticsBook, ProductSales, Report, HOUR_MS};

/// Products and categories a report names.
pub const TOP: usize = 10;

/// The size of a chart bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    Hour,
    Day,
}

impl Granularity {
    /// Its length in ms.
    pub fn millis(self) -> u64 {
        match self {
            Granularity::Hour => HOUR_MS,
            Granularity::Day => 24 * HOUR_MS,
        }
    }
}

/// A category's sales in a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategorySales {
    pub id: CategoryId,
    pub slug: String,
    pub name: String,
    pub units: u64,
}

/// A report with its best sellers and its funnel.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub report: Report,
    /// The viewers that first viewed in the range, to their orders.
    pub funnel: Funnel,
    /// Most units first, at most [`TOP`].
    pub top_products: Vec<ProductSales>,
    /// Most units first, at most [`TOP`].
    pub top_categories: Vec<CategorySales>,
}

/// The analytics front door; cheap to clone.
#[derive(Clone)]
pub struct Analytics {
    model: ReadModel<AnalyticsBook>,
    catalog: Catalog,
    views: Views,
}

impl Analytics {
    /// Analytics over `model`'s log; [`Analytics::start`] fills it.
    pub fn new(model: ReadModel<AnalyticsBook>, catalog: Catalog, views: Views) -> Self {
        Analytics { model, catalog, views }
    }

    /// Starts following the log.
    pub fn start(&self, lag: &prometheus::IntGaugeVec) -> BackgroundTask {
        self.model.start(lag)
    }

    /// What the orders placed in `[from, to)` came to. Reads the log first,
    /// so that an order just placed counts.
    pub async fn analyse(&self, from: UnixMillis, to: UnixMillis, granularity: Granularity) -> Analysis {
        if let Err(err) = self.model.catch_up().await {
            tracing::warn!(error = %err, "analytics may lag: the event log cannot be read");
        }
        let (mut report, funnel) = {
            let book = self.model.read();
            let funnel = (self.views).funnel(from, to, |viewer, carts| book.ordered(viewer, carts));
            (book.report(from, to, granularity.millis()), funnel)
        };
        let prices = self.catalog.prices();
        let table = self.catalog.category_table();
        let mut categories: Vec<CategorySales> = Vec::new();
        for product in &report.products {
            let Some(id) = (prices.get(&product.sku)).and_then(|entry| entry.category_path.last().copied()) else {
                continue;
            };
            match categories.iter_mut().find(|category| category.id == id) {
                Some(category) => category.units += product.units,
                None => {
                    let Some(category) = table.categories.iter().find(|category| category.id == id) else {
                        continue;
                    };
                    categories.push(CategorySales {
                        id,
                        slug: category.slug.clone(),
                        name: category.name.clone(),
                        units: product.units,
                    });
                }
            }
        }
        categories.sort_by(|a, b| b.units.cmp(&a.units).then_with(|| a.slug.cmp(&b.slug)));
        categories.truncate(TOP);
        let top_products = report.products.iter().take(TOP).cloned().collect();
        report.products.clear();
        Analysis {
            report,
            funnel,
            top_products,
            top_categories: categories,
        }
    }
}
