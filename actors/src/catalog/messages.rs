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
    /// One product.
    GetProduct(ProductId),
    /// Create a product.
    CreateProduct(ProductFields),
    /// Change a product (archive it with `status`).
    UpdateProduct { id: ProductId, patch: ProductPatch },
}

/// What the catalog answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatalogOutcome {
    /// Every category, by id.
    Categories(Vec<Category>),
    /// One category and its path from the root (the category last).
    Category { category: Category, path: Vec<Category> },
    /// A category was deleted.
    Deleted,
    /// One product.
    Product(Product),
}

/// The reply to a [`CatalogCommand`].
pub type CatalogReply = Result<CatalogOutcome, CatalogError>;
