//! What callers send to the catalog actor and what they get back.

use super::state::CatalogError;
use super::state::{Category, CategoryId, CategoryPatch, Product, ProductFields, ProductId, ProductPatch};

/// A request to the catalog.
#[derive(Debug, Clone)]
pub enum CatalogCommand {
    /// Every category.
    ListCategories,
    /// One category by id, with its path from the root.
    GetCategory(CategoryId),
    /// One category by slug, with its path from the root.
    GetCategoryBySlug(String),
    /// Create a category.
    CreateCategory {
        name: String,
        slug: String,
        parent_id: Option<CategoryId>,
    },
    /// Rename or move a category.
    UpdateCategory { id: CategoryId, patch: CategoryPatch },
    /// Delete an empty category.
    DeleteCategory(CategoryId),
    /// Every product listed under a category or its descendants, for reindexing.
    ProductsUnder(CategoryId),
    /// Every product and the catalog version, for rebuilding the search index.
    Export,
    /// Create a product.
    CreateProduct(ProductFields),
    /// Change a product (archive it with `status`).
    UpdateProduct { id: ProductId, patch: ProductPatch },
}

/// What the catalog answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatalogOutcome {
    /// Every category, by id, at a catalog version.
    Categories { categories: Vec<Category>, version: u64 },
    /// One category and its path from the root (the category last).
    Category { category: Category, path: Vec<Category> },
    /// A category was deleted.
    Deleted,
    /// One product.
    Product(IndexedProduct),
    /// Several products.
    Products {
        products: Vec<IndexedProduct>,
        version: u64,
    },
}

/// A product with what the search index needs besides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedProduct {
    /// The product.
    pub product: Product,
    /// Its category and the category's ancestors, root first.
    pub category_path: Vec<CategoryId>,
    /// The catalog version this view was taken at.
    pub version: u64,
}

/// The reply to a [`CatalogCommand`].
pub type CatalogReply = Result<CatalogOutcome, CatalogError>;
