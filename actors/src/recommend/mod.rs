//! Recommendations (DESIGN §10): "customers also bought" from the confirmed
//! orders in the event log, with operators' pins and blocks, falling back to
//! the best sellers of the product's category when the orders say too little.
//!
//! - [`co_bought`]: the co-occurrence read model, pure;
//! - [`rules`]: pinned and blocked products per product (an entity, and a book).
//!
//! Serving reads the two books, the catalog's price table (listed or
//! archived, category) and the stock book (in stock): no actor is asked but
//! the catalog, once, for the chosen products.

pub mod co_bought;
pub mod rules;

use crate::catalog::messages::IndexedProduct;
use crate::catalog::state::{CatalogError, ProductId};
use crate::catalog::{Catalog, CatalogCallError};
use crate::read_model::ReadModel;
use crate::runtime::{ActorError, BackgroundTask, Registry, Runtime};
use crate::sku::Inventory;

use self::co_bought::CoBought;
use self::rules::{Rules, RulesBook, RulesError};

/// Most items one answer holds.
pub const MAX_LIMIT: usize = 20;

/// Why an item is recommended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// An operator pinned it.
    Pinned,
    /// Bought in the same orders.
    AlsoBought,
    /// A best seller of the same category (the orders said too little).
    BestSeller,
}

impl Source {
    /// The name the API uses.
    pub fn name(self) -> &'static str {
        match self {
            Source::Pinned => "pinned",
            Source::AlsoBought => "also_bought",
            Source::BestSeller => "best_seller",
        }
    }
}

/// One recommended product.
#[derive(Debug, Clone)]
pub struct Recommended {
    pub product: IndexedProduct,
    /// In [0, 1]: cosine similarity for `also_bought`; orders relative to the
    /// category's best seller for `best_seller`; 1 for `pinned`.
    pub score: f64,
    pub source: Source,
}

/// Why recommendations cannot be given or rules set.
#[derive(Debug, thiserror::Error)]
pub enum RecommendError {
    #[error(transparent)]
    Catalog(#[from] CatalogCallError),
    #[error(transparent)]
    Rules(#[from] RulesError),
    #[error(transparent)]
    Actor(#[from] ActorError),
}

/// The recommendations front door; cheap to clone.
#[derive(Clone)]
pub struct Recommendations {
    co_bought: ReadModel<CoBought>,
    rules_book: ReadModel<RulesBook>,
    rules: Registry<Rules>,
    catalog: Catalog,
    inventory: Inventory,
}

impl Recommendations {
    /// Recommendations over `runtime`'s log; [`Recommendations::start`] fills them.
    pub fn new(runtime: &Runtime, catalog: Catalog, inventory: Inventory) -> Self {
        Recommendations {
            co_bought: ReadModel::new(runtime.storage().clone()),
            rules_book: ReadModel::new(runtime.storage().clone()),
            rules: Registry::new(runtime),
            catalog,
            inventory,
        }
    }

    /// Starts following the log (both books).
    pub fn start(&self, lag: &prometheus::IntGaugeVec) -> [BackgroundTask; 2] {
        [self.co_bought.start(lag), self.rules_book.start(lag)]
    }

    /// The rules entities, for the admin API.
    pub fn registry(&self) -> &Registry<Rules> {
        &self.rules
    }

    /// The co-occurrence model (for its lag and size).
    pub fn co_bought(&self) -> &ReadModel<CoBought> {
        &self.co_bought
    }

    /// Product `id`'s rules.
    pub async fn rules(&self, id: ProductId) -> Result<Rules, RecommendError> {
        self.catalog.product(id).await?;
        Ok(self.rules.call(&id.to_string(), None).await?)
    }

    /// Replaces product `id`'s rules; every product named must exist.
    pub async fn set_rules(&self, id: ProductId, rules: Rules) -> Result<Rules, RecommendError> {
        rules.check(id)?;
        self.catalog.product(id).await?;
        let named: Vec<ProductId> = rules.pinned.iter().chain(&rules.blocked).copied().collect();
        let found = self.catalog.products(named.clone()).await?;
        if let Some(missing) = named
            .iter()
            .find(|id| !found.iter().any(|product| product.product.id == **id))
        {
            return Err(CatalogCallError::from(CatalogError::ProductNotFound(*missing)).into());
        }
        let set = self.rules.call(&id.to_string(), Some(rules)).await?;
        self.rules_book.catch_up().await.ok();
        Ok(set)
    }

    /// Up to `limit` products to show beside product `id`: listed, in stock,
    /// not the product itself, not one of `in_cart` (SKUs), not blocked.
    pub async fn for_product(
        &self,
        id: ProductId,
        limit: usize,
        in_cart: &[String],
    ) -> Result<Vec<Recommended>, RecommendError> {
        let product = self.catalog.product(id).await?;
        self.beside(&product, limit, in_cart).await
    }

    /// [`Recommendations::for_product`] for a product the caller holds
    /// already (a product page): one catalog call fewer.
    pub async fn beside(
        &self,
        product: &IndexedProduct,
        limit: usize,
        in_cart: &[String],
    ) -> Result<Vec<Recommended>, RecommendError> {
        let chosen = self.choose(product, limit.min(MAX_LIMIT), in_cart);
        let ids: Vec<ProductId> = chosen.iter().map(|(id, _, _)| *id).collect();
        let mut products = self.catalog.products(ids).await?.into_iter();
        let mut recommended = Vec::with_capacity(chosen.len());
        for (id, score, source) in chosen {
            // `products` keeps the order asked and leaves out unknown ids.
            if let Some(product) = products
                .as_slice()
                .first()
                .filter(|product| product.product.id == id)
                .cloned()
            {
                products.next();
                recommended.push(Recommended { product, score, source });
            }
        }
        Ok(recommended)
    }

    /// The product ids to show, with score and source, best first.
    fn choose(&self, product: &IndexedProduct, limit: usize, in_cart: &[String]) -> Vec<(ProductId, f64, Source)> {
        let own = product.product.id;
        let rules = self.rules_book.read().get(own);
        let prices = self.catalog.prices();
        let stock = self.inventory.stock_book().read();
        let mut chosen: Vec<(ProductId, f64, Source)> = Vec::with_capacity(limit);
        // A SKU that may be shown, and its product.
        let eligible = |sku: &str, chosen: &[(ProductId, f64, Source)]| -> Option<ProductId> {
            let entry = prices.get(sku)?;
            let id = entry.product_id;
            let in_stock = stock.level(sku).is_some_and(|level| level.available > 0);
            let shown = id != own
                && entry.active
                && in_stock
                && !in_cart.iter().any(|held| held == sku)
                && !rules.blocked.contains(&id)
                && !chosen.iter().any(|(taken, _, _)| *taken == id);
            shown.then_some(id)
        };
        let model = self.co_bought.read();
        for &pinned in &rules.pinned {
            if chosen.len() >= limit {
                break;
            }
            if let Some(sku) = prices.sku_of(pinned) {
                if eligible(&sku, &chosen).is_some() {
                    chosen.push((pinned, 1.0, Source::Pinned));
                }
            }
        }
        let own_sku = &product.product.fields.sku;
        let wanted = limit - chosen.len();
        let snapshot = chosen.clone();
        for neighbour in model.neighbours(own_sku, wanted, |sku| eligible(sku, &snapshot).is_some()) {
            if let Some(id) = prices.get(&neighbour.sku).map(|entry| entry.product_id) {
                chosen.push((id, neighbour.score, Source::AlsoBought));
            }
        }
        let Some(&category) = product.category_path.last() else {
            return chosen;
        };
        let wanted = limit - chosen.len();
        let snapshot = chosen.clone();
        let in_category = |sku: &str| {
            prices
                .get(sku)
                .is_some_and(|entry| entry.category_path.contains(&category))
                && eligible(sku, &snapshot).is_some()
        };
        let sellers = model.best_sellers(wanted, in_category);
        let top = sellers.first().map_or(1, |(_, orders)| (*orders).max(1));
        for (sku, orders) in sellers {
            if let Some(id) = prices.get(&sku).map(|entry| entry.product_id) {
                chosen.push((id, f64::from(orders) / f64::from(top), Source::BestSeller));
            }
        }
        chosen
    }
}
