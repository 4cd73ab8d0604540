//! The catalog as a pure state machine: the category tree and the products.
//!
//! Global rules that need one place to be checked live here: category names and
//! slugs are unique, a move never makes a cycle, a category with children or
//! products cannot be deleted, a SKU belongs to one product. Decisions return
//! events; only [`CatalogState::apply`] changes the state.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::runtime::UnixMillis;

/// A category id.
pub type CategoryId = u64;
/// A product id.
pub type ProductId = u64;

/// A node of the category tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    /// Assigned by the catalog.
    pub id: CategoryId,
    /// Unique, case-insensitively.
    pub name: String,
    /// Unique, URL-safe, lower case.
    pub slug: String,
    /// `None` for a root.
    pub parent_id: Option<CategoryId>,
}

/// Whether a product can be found and bought.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProductStatus {
    /// Listed and searchable.
    Active,
    /// Kept for orders and history; not searchable.
    Archived,
}

/// What an operator says about a product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductFields {
    /// Stock keeping unit: names the SKU stock actor; unique.
    pub sku: String,
    /// Display name.
    pub name: String,
    /// Long text, searchable.
    pub description: String,
    /// Category it is listed in.
    pub category_id: CategoryId,
    /// Price in minor units of `currency`.
    pub price: u64,
    /// ISO 4217 code.
    pub currency: String,
    /// Facets such as brand, colour, size.
    pub attributes: BTreeMap<String, String>,
    /// Seller of a marketplace listing.
    pub seller_id: Option<String>,
    /// Image URLs.
    pub images: Vec<String>,
    /// Listed or archived.
    pub status: ProductStatus,
}

/// A product of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    /// Assigned by the catalog.
    pub id: ProductId,
    /// Everything an operator sets.
    pub fields: ProductFields,
    /// Creation time.
    pub created_at: UnixMillis,
    /// Last change.
    pub updated_at: UnixMillis,
}

/// What changes the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CatalogEvent {
    /// A category was created.
    CategoryCreated(Category),
    /// A category was renamed or moved (the whole new node).
    CategoryUpdated(Category),
    /// A category was deleted.
    CategoryDeleted { id: CategoryId },
    /// A product was created.
    ProductCreated(Product),
    /// A product changed (the whole new product).
    ProductUpdated(Product),
    /// Product `id`'s price moved (recorded after its `ProductUpdated`, for
    /// the published `price.changed`); changes nothing more.
    PriceChanged {
        id: ProductId,
        from: u64,
        to: u64,
        currency: String,
    },
    /// Product `id` was archived (recorded after its `ProductUpdated`, for
    /// the published `product.archived`); changes nothing more.
    ProductArchived { id: ProductId },
}

/// Why the catalog refuses a change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// No category with this id or slug.
    #[error("no category {0}")]
    CategoryNotFound(String),
    /// No product with this id.
    #[error("no product {0}")]
    ProductNotFound(ProductId),
    /// Another category has this name.
    #[error("a category named '{0}' exists")]
    DuplicateName(String),
    /// Another category has this slug.
    #[error("a category with slug '{0}' exists")]
    DuplicateSlug(String),
    /// Another product has this SKU.
    #[error("product {product_id} already has sku '{sku}'")]
    DuplicateSku { sku: String, product_id: ProductId },
    /// The move would put a category under itself.
    #[error("category {id} cannot move under {parent_id}: that is itself or one of its descendants")]
    Cycle { id: CategoryId, parent_id: CategoryId },
    /// The category still has children or products.
    #[error("category {id} has {children} children and {products} products")]
    NotEmpty {
        id: CategoryId,
        children: usize,
        products: usize,
    },
}

/// A category change: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CategoryPatch {
    /// New name.
    pub name: Option<String>,
    /// New slug.
    pub slug: Option<String>,
    /// New parent (`Some(None)`: make it a root).
    pub parent_id: Option<Option<CategoryId>>,
}

/// A product change: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductPatch {
    /// New SKU.
    pub sku: Option<String>,
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New category.
    pub category_id: Option<CategoryId>,
    /// New price.
    pub price: Option<u64>,
    /// New currency.
    pub currency: Option<String>,
    /// New attributes (replacing all of them).
    pub attributes: Option<BTreeMap<String, String>>,
    /// New seller (`Some(None)`: none).
    pub seller_id: Option<Option<String>>,
    /// New images (replacing all of them).
    pub images: Option<Vec<String>>,
    /// New status.
    pub status: Option<ProductStatus>,
}

impl From<ProductFields> for ProductPatch {
    /// A patch that sets every field.
    fn from(fields: ProductFields) -> Self {
        ProductPatch {
            sku: Some(fields.sku),
            name: Some(fields.name),
            description: Some(fields.description),
            category_id: Some(fields.category_id),
            price: Some(fields.price),
            currency: Some(fields.currency),
            attributes: Some(fields.attributes),
            seller_id: Some(fields.seller_id),
            images: Some(fields.images),
            status: Some(fields.status),
        }
    }
}

impl ProductPatch {
    /// `fields` with this patch applied.
    pub fn merged_into(self, mut fields: ProductFields) -> ProductFields {
        fields.sku = self.sku.unwrap_or(fields.sku);
        fields.name = self.name.unwrap_or(fields.name);
        fields.description = self.description.unwrap_or(fields.description);
        fields.category_id = self.category_id.unwrap_or(fields.category_id);
        fields.price = self.price.unwrap_or(fields.price);
        fields.currency = self.currency.unwrap_or(fields.currency);
        fields.attributes = self.attributes.unwrap_or(fields.attributes);
        fields.seller_id = self.seller_id.unwrap_or(fields.seller_id);
        fields.images = self.images.unwrap_or(fields.images);
        fields.status = self.status.unwrap_or(fields.status);
        fields
    }
}

/// The whole catalog.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CatalogState {
    categories: BTreeMap<CategoryId, Category>,
    products: BTreeMap<ProductId, Product>,
    next_category_id: CategoryId,
    next_product_id: ProductId,
    /// Number of events applied: tells a read model (the search index) whether it
    /// has seen every change.
    version: u64,
    /// Derived indexes, rebuilt after a snapshot.
    #[serde(skip)]
    index: Indexes,
}

#[derive(Debug, Clone, Default)]
struct Indexes {
    /// Lower-cased category name → id.
    names: HashMap<String, CategoryId>,
    /// Slug → id.
    slugs: HashMap<String, CategoryId>,
    /// SKU → product id.
    skus: HashMap<String, ProductId>,
    /// Category → number of products (any status) listed in it.
    products_in: HashMap<CategoryId, usize>,
}

impl CatalogState {
    /// Rebuilds the derived indexes from categories and products.
    pub fn rebuild_indexes(&mut self) {
        self.index = Indexes::default();
        for category in self.categories.values() {
            self.index.names.insert(category.name.to_lowercase(), category.id);
            self.index.slugs.insert(category.slug.clone(), category.id);
        }
        for product in self.products.values() {
            self.index.skus.insert(product.fields.sku.clone(), product.id);
            *self.index.products_in.entry(product.fields.category_id).or_default() += 1;
        }
    }

    /// A category by id.
    pub fn category(&self, id: CategoryId) -> Option<&Category> {
        self.categories.get(&id)
    }

    /// A category by slug.
    pub fn category_by_slug(&self, slug: &str) -> Option<&Category> {
        self.index.slugs.get(slug).and_then(|id| self.categories.get(id))
    }

    /// Every category, by id.
    pub fn categories(&self) -> impl Iterator<Item = &Category> {
        self.categories.values()
    }

    /// A product by id.
    pub fn product(&self, id: ProductId) -> Option<&Product> {
        self.products.get(&id)
    }

    /// Every product, by id.
    pub fn products(&self) -> impl Iterator<Item = &Product> {
        self.products.values()
    }

    /// The categories from the root down to `id` (inclusive). Bounded by the
    /// number of categories, so even a (refused, never applied) cycle ends.
    pub fn path(&self, id: CategoryId) -> Vec<&Category> {
        let mut path: Vec<&Category> = std::iter::successors(self.categories.get(&id), |category| {
            category.parent_id.and_then(|parent| self.categories.get(&parent))
        })
        .take(self.categories.len() + 1)
        .collect();
        path.reverse();
        path
    }

    /// Number of events applied so far.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The ids from the root category down to `id` (inclusive).
    pub fn path_ids(&self, id: CategoryId) -> Vec<CategoryId> {
        self.path(id).iter().map(|category| category.id).collect()
    }

    /// `id` and every category below it.
    pub fn descendants(&self, id: CategoryId) -> Vec<CategoryId> {
        let mut found = vec![id];
        let mut next = 0;
        while next < found.len() {
            let parent = found[next];
            found.extend(
                self.categories
                    .values()
                    .filter(|c| c.parent_id == Some(parent))
                    .map(|c| c.id),
            );
            next += 1;
        }
        found
    }

    fn require_category(&self, id: CategoryId) -> Result<&Category, CatalogError> {
        self.categories
            .get(&id)
            .ok_or_else(|| CatalogError::CategoryNotFound(id.to_string()))
    }

    fn check_unique(&self, name: &str, slug: &str, except: Option<CategoryId>) -> Result<(), CatalogError> {
        let other = |found: Option<&CategoryId>| found.is_some_and(|id| Some(*id) != except);
        if other(self.index.names.get(&name.to_lowercase())) {
            return Err(CatalogError::DuplicateName(name.to_string()));
        }
        if other(self.index.slugs.get(slug)) {
            return Err(CatalogError::DuplicateSlug(slug.to_string()));
        }
        Ok(())
    }

    /// Decides creating a category.
    pub fn create_category(
        &self,
        name: String,
        slug: String,
        parent_id: Option<CategoryId>,
    ) -> Result<CatalogEvent, CatalogError> {
        if let Some(parent) = parent_id {
            self.require_category(parent)?;
        }
        self.check_unique(&name, &slug, None)?;
        let id = self.next_category_id + 1;
        Ok(CatalogEvent::CategoryCreated(Category {
            id,
            name,
            slug,
            parent_id,
        }))
    }

    /// Decides renaming or moving a category.
    pub fn update_category(&self, id: CategoryId, patch: CategoryPatch) -> Result<CatalogEvent, CatalogError> {
        let current = self.require_category(id)?;
        let mut updated = current.clone();
        if let Some(name) = patch.name {
            updated.name = name;
        }
        if let Some(slug) = patch.slug {
            updated.slug = slug;
        }
        if let Some(parent_id) = patch.parent_id {
            if let Some(parent) = parent_id {
                self.require_category(parent)?;
                if self.path(parent).iter().any(|ancestor| ancestor.id == id) {
                    return Err(CatalogError::Cycle { id, parent_id: parent });
                }
            }
            updated.parent_id = parent_id;
        }
        self.check_unique(&updated.name, &updated.slug, Some(id))?;
        Ok(CatalogEvent::CategoryUpdated(updated))
    }

    /// Decides deleting an empty category.
    pub fn delete_category(&self, id: CategoryId) -> Result<CatalogEvent, CatalogError> {
        self.require_category(id)?;
        let children = self.categories.values().filter(|c| c.parent_id == Some(id)).count();
        let products = self.index.products_in.get(&id).copied().unwrap_or(0);
        if children > 0 || products > 0 {
            return Err(CatalogError::NotEmpty { id, children, products });
        }
        Ok(CatalogEvent::CategoryDeleted { id })
    }

    fn check_product(&self, fields: &ProductFields, except: Option<ProductId>) -> Result<(), CatalogError> {
        self.require_category(fields.category_id)?;
        match self.index.skus.get(&fields.sku) {
            Some(owner) if Some(*owner) != except => Err(CatalogError::DuplicateSku {
                sku: fields.sku.clone(),
                product_id: *owner,
            }),
            _ => Ok(()),
        }
    }

    /// Decides creating a product.
    pub fn create_product(&self, fields: ProductFields, now: UnixMillis) -> Result<CatalogEvent, CatalogError> {
        self.check_product(&fields, None)?;
        let id = self.next_product_id + 1;
        Ok(CatalogEvent::ProductCreated(Product {
            id,
            fields,
            created_at: now,
            updated_at: now,
        }))
    }

    /// Decides changing a product.
    pub fn update_product(
        &self,
        id: ProductId,
        patch: ProductPatch,
        now: UnixMillis,
    ) -> Result<CatalogEvent, CatalogError> {
        let current = self.products.get(&id).ok_or(CatalogError::ProductNotFound(id))?;
        let fields = patch.merged_into(current.fields.clone());
        self.check_product(&fields, Some(id))?;
        Ok(CatalogEvent::ProductUpdated(Product {
            id,
            fields,
            created_at: current.created_at,
            updated_at: now,
        }))
    }

    /// The facts an update of a product to `updated` records beside it: a
    /// price that moved, an archiving.
    pub fn facts_of_update(&self, updated: &Product) -> Vec<CatalogEvent> {
        let Some(current) = self.products.get(&updated.id) else {
            return Vec::new();
        };
        let (was, now) = (&current.fields, &updated.fields);
        let mut facts = Vec::new();
        if (was.price, &was.currency) != (now.price, &now.currency) {
            facts.push(CatalogEvent::PriceChanged {
                id: updated.id,
                from: was.price,
                to: now.price,
                currency: now.currency.clone(),
            });
        }
        if was.status != ProductStatus::Archived && now.status == ProductStatus::Archived {
            facts.push(CatalogEvent::ProductArchived { id: updated.id });
        }
        facts
    }

    /// Applies one event.
    pub fn apply(&mut self, event: &CatalogEvent) {
        self.version += 1;
        match event {
            CatalogEvent::CategoryCreated(category) | CatalogEvent::CategoryUpdated(category) => {
                if let Some(old) = self.categories.get(&category.id) {
                    self.index.names.remove(&old.name.to_lowercase());
                    self.index.slugs.remove(&old.slug);
                }
                self.index.names.insert(category.name.to_lowercase(), category.id);
                self.index.slugs.insert(category.slug.clone(), category.id);
                self.next_category_id = self.next_category_id.max(category.id);
                self.categories.insert(category.id, category.clone());
            }
            CatalogEvent::CategoryDeleted { id } => {
                if let Some(old) = self.categories.remove(id) {
                    self.index.names.remove(&old.name.to_lowercase());
                    self.index.slugs.remove(&old.slug);
                }
            }
            CatalogEvent::ProductCreated(product) | CatalogEvent::ProductUpdated(product) => {
                if let Some(old) = self.products.get(&product.id) {
                    self.index.skus.remove(&old.fields.sku);
                    if let Some(count) = self.index.products_in.get_mut(&old.fields.category_id) {
                        *count = count.saturating_sub(1);
                    }
                }
                self.index.skus.insert(product.fields.sku.clone(), product.id);
                *self.index.products_in.entry(product.fields.category_id).or_default() += 1;
                self.next_product_id = self.next_product_id.max(product.id);
                self.products.insert(product.id, product.clone());
            }
            CatalogEvent::PriceChanged { .. } | CatalogEvent::ProductArchived { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests;
