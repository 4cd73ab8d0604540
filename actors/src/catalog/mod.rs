//! The catalog: the category tree and the products.
//!
//! - [`state`]: the pure state machine and its rules;
//! - [`messages`]: commands and replies;
//! - `actor`: how the runtime runs it (one entity, `catalog/main`);
//! - [`prices`]: products by SKU as carts see them, without a message;
//! - [`product_map`]: every product by id, for reads, without a message;
//! - [`Catalog`]: the typed front door the HTTP layer uses; it forwards every
//!   product change to the search index and the price table.

mod actor;
pub mod messages;
pub mod prices;
pub mod product_map;
pub mod state;

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;

use self::prices::PriceTable;
use self::product_map::ProductMap;
use crate::runtime::{ActorError, Registry, Runtime};
use crate::search::{SearchError, SearchIndex};

pub use self::messages::{CatalogCommand, CatalogOutcome, CatalogReply, IndexedProduct};
pub use self::state::{
    CatalogError, CatalogEvent, CatalogState, Category, CategoryId, CategoryPatch, Product, ProductFields, ProductId,
    ProductPatch, ProductStatus,
};

/// The id of the one catalog entity.
const CATALOG_ID: &str = "main";

/// Why a catalog call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CatalogCallError {
    /// The catalog refused the change.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// The catalog actor could not answer.
    #[error(transparent)]
    Actor(#[from] ActorError),
    /// The search index failed.
    #[error(transparent)]
    Search(#[from] SearchError),
}

/// A category and its path from the root (the category last).
pub type CategoryWithPath = (Category, Vec<Category>);

/// Every category at one catalog version, indexed for the search path.
#[derive(Debug, Default)]
pub struct CategoryTable {
    /// Catalog version the table was read at.
    pub version: u64,
    /// Category id by slug.
    pub ids: HashMap<String, CategoryId>,
    /// Category slug by id.
    pub slugs: HashMap<CategoryId, String>,
    /// Every category, as the catalog lists them (for pages: names, roots).
    pub categories: Vec<Category>,
}

/// Typed access to the catalog actor, keeping the search index (and a table of
/// the categories, so a search needs no message to resolve them) in step with it.
#[derive(Clone)]
pub struct Catalog {
    /// The registry holding the one catalog entity.
    entities: Registry<CatalogState>,
    /// The read model every product change is sent to.
    search: SearchIndex,
    /// Categories as of the last category change this front door saw.
    table: Arc<RwLock<Arc<CategoryTable>>>,
    /// Products by SKU, for carts.
    prices: Arc<PriceTable>,
    /// Products by id, for every read.
    products: Arc<ProductMap>,
}

fn category_of(outcome: CatalogOutcome) -> CategoryWithPath {
    match outcome {
        CatalogOutcome::Category { category, path } => (category, path),
        other => unreachable!("category commands answer with a category, got {other:?}"),
    }
}

fn product_of(outcome: CatalogOutcome) -> IndexedProduct {
    match outcome {
        CatalogOutcome::Product(product) => product,
        other => unreachable!("product commands answer with a product, got {other:?}"),
    }
}

fn products_of(outcome: CatalogOutcome) -> (Vec<IndexedProduct>, u64) {
    match outcome {
        CatalogOutcome::Products { products, version } => (products, version),
        other => unreachable!("listing commands answer with products, got {other:?}"),
    }
}

impl Catalog {
    /// The catalog on `runtime`, feeding `search`.
    pub fn new(runtime: &Runtime, search: SearchIndex) -> Self {
        Catalog {
            entities: Registry::new(runtime),
            search,
            table: Arc::default(),
            prices: Arc::default(),
            products: Arc::default(),
        }
    }

    /// The registry, for the admin API.
    pub fn registry(&self) -> &Registry<CatalogState> {
        &self.entities
    }

    /// The search index.
    pub fn search(&self) -> &SearchIndex {
        &self.search
    }

    async fn call(&self, command: CatalogCommand) -> Result<CatalogOutcome, CatalogCallError> {
        Ok(self.entities.call(CATALOG_ID, command).await??)
    }

    /// Loads the category and price tables, then rebuilds the search index
    /// unless it holds exactly the catalog's version. Returns whether it rebuilt.
    pub async fn sync_search(&self) -> Result<bool, CatalogCallError> {
        self.load_categories().await?;
        let (products, version) = products_of(self.call(CatalogCommand::Export).await?);
        self.prices.load(&products);
        self.products.load(&products);
        if self.search.opened_at_version() == Some(version) {
            return Ok(false);
        }
        self.search.rebuild(products, version).await?;
        Ok(true)
    }

    /// Rebuilds the search index from the catalog; returns the products indexed.
    pub async fn rebuild_search(&self) -> Result<usize, CatalogCallError> {
        let (products, version) = products_of(self.call(CatalogCommand::Export).await?);
        let count = products.len();
        self.search.rebuild(products, version).await?;
        Ok(count)
    }

    /// Products by SKU as carts see them.
    pub fn prices(&self) -> &Arc<PriceTable> {
        &self.prices
    }

    /// Sends a product's new state to the search index and the price table.
    fn publish(&self, product: &IndexedProduct) {
        self.prices.update(product);
        self.products.update(product);
        self.search.upsert(product.clone());
    }

    /// Every category (refreshing the category table).
    pub async fn categories(&self) -> Result<Vec<Category>, CatalogCallError> {
        Ok(self.load_categories().await?.0)
    }

    /// Every category and the catalog version; refreshes the category table
    /// unless a newer one is already there.
    async fn load_categories(&self) -> Result<(Vec<Category>, u64), CatalogCallError> {
        let (categories, version) = match self.call(CatalogCommand::ListCategories).await? {
            CatalogOutcome::Categories { categories, version } => (categories, version),
            other => unreachable!("listing categories answers with categories, got {other:?}"),
        };
        let mut table = self.table.write();
        if version >= table.version {
            *table = Arc::new(CategoryTable {
                version,
                ids: categories.iter().map(|c| (c.slug.clone(), c.id)).collect(),
                slugs: categories.iter().map(|c| (c.id, c.slug.clone())).collect(),
                categories: categories.clone(),
            });
        }
        drop(table);
        Ok((categories, version))
    }

    /// The category table as of the last category change seen (no message).
    pub fn category_table(&self) -> Arc<CategoryTable> {
        Arc::clone(&self.table.read())
    }

    /// One category by id.
    pub async fn category(&self, id: CategoryId) -> Result<CategoryWithPath, CatalogCallError> {
        Ok(category_of(self.call(CatalogCommand::GetCategory(id)).await?))
    }

    /// One category by slug.
    pub async fn category_by_slug(&self, slug: String) -> Result<CategoryWithPath, CatalogCallError> {
        Ok(category_of(self.call(CatalogCommand::GetCategoryBySlug(slug)).await?))
    }

    /// Creates a category.
    pub async fn create_category(
        &self,
        name: String,
        slug: String,
        parent_id: Option<CategoryId>,
    ) -> Result<CategoryWithPath, CatalogCallError> {
        let created = category_of(
            self.call(CatalogCommand::CreateCategory { name, slug, parent_id })
                .await?,
        );
        self.categories().await?;
        Ok(created)
    }

    /// Renames or moves a category; a move reindexes the products below it.
    pub async fn update_category(
        &self,
        id: CategoryId,
        patch: CategoryPatch,
    ) -> Result<CategoryWithPath, CatalogCallError> {
        let moved = patch.parent_id.is_some();
        self.detached(move |catalog| async move {
            let updated = category_of(catalog.call(CatalogCommand::UpdateCategory { id, patch }).await?);
            catalog.categories().await?;
            if moved {
                let (products, _) = products_of(catalog.call(CatalogCommand::ProductsUnder(id)).await?);
                for product in &products {
                    catalog.publish(product);
                }
            }
            Ok(updated)
        })
        .await
    }

    /// Runs a write and its publishing in a task of its own: a caller that
    /// goes away (a client hanging up drops its handler) cannot stop it
    /// between the catalog's answer and the read side's update.
    async fn detached<T, F, Fut>(&self, write: F) -> Result<T, CatalogCallError>
    where
        T: Send + 'static,
        F: FnOnce(Catalog) -> Fut,
        Fut: std::future::Future<Output = Result<T, CatalogCallError>> + Send + 'static,
    {
        let written = tokio::spawn(write(self.clone())).await;
        written.unwrap_or(Err(CatalogCallError::Actor(ActorError::Restarting)))
    }

    /// Runs a product write and publishes the product it answers, detached.
    async fn write_product(&self, command: CatalogCommand) -> Result<IndexedProduct, CatalogCallError> {
        self.detached(move |catalog| async move {
            let product = product_of(catalog.call(command).await?);
            catalog.publish(&product);
            Ok(product)
        })
        .await
    }

    /// Deletes an empty category.
    pub async fn delete_category(&self, id: CategoryId) -> Result<(), CatalogCallError> {
        self.call(CatalogCommand::DeleteCategory(id)).await?;
        self.categories().await?;
        Ok(())
    }

    /// One product, from the product map (no message).
    pub async fn product(&self, id: ProductId) -> Result<IndexedProduct, CatalogCallError> {
        let product = self.products.get(id).ok_or(CatalogError::ProductNotFound(id))?;
        Ok(IndexedProduct::clone(&product))
    }

    /// Several products, in the order asked; unknown ids are left out. From
    /// the product map (no message).
    pub async fn products(&self, ids: Vec<ProductId>) -> Result<Vec<IndexedProduct>, CatalogCallError> {
        let products = self.products.get_many(&ids);
        Ok(products.iter().map(|product| IndexedProduct::clone(product)).collect())
    }

    /// Creates a product and indexes it.
    pub async fn create_product(&self, fields: ProductFields) -> Result<IndexedProduct, CatalogCallError> {
        self.write_product(CatalogCommand::CreateProduct(fields)).await
    }

    /// Changes a product (archiving it removes it from search) and reindexes it.
    pub async fn update_product(&self, id: ProductId, patch: ProductPatch) -> Result<IndexedProduct, CatalogCallError> {
        self.write_product(CatalogCommand::UpdateProduct { id, patch }).await
    }
}
