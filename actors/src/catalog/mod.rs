//! The catalog: the category tree and the products.
//!
//! - [`state`]: the pure state machine and its rules;
//! - [`messages`]: commands and replies;
//! - `actor`: how the runtime runs it (one entity, `catalog/main`);
//! - [`Catalog`]: the typed front door the HTTP layer uses.

mod actor;
pub mod messages;
pub mod state;

use crate::runtime::{ActorError, Registry, Runtime};

pub use self::messages::{CatalogCommand, CatalogOutcome, CatalogReply};
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
}

/// Typed access to the catalog actor.
#[derive(Clone)]
pub struct Catalog {
    /// The registry holding the one catalog entity.
    entities: Registry<CatalogState>,
}

impl Catalog {
    /// The catalog on `runtime`.
    pub fn new(runtime: &Runtime) -> Self {
        Catalog {
            entities: Registry::new(runtime),
        }
    }

    /// The registry, for the admin API.
    pub fn registry(&self) -> &Registry<CatalogState> {
        &self.entities
    }

    /// Sends a command to the catalog.
    pub async fn call(&self, command: CatalogCommand) -> Result<CatalogOutcome, CatalogCallError> {
        Ok(self.entities.call(CATALOG_ID, command).await??)
    }
}
