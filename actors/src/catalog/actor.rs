//! The catalog actor: runs [`CatalogState`] on the entity runtime as the single
//! entity `catalog/main`, so that global rules (unique names, slugs and SKUs, no
//! cycles) are checked one command at a time without locks.
//!
//! Accepts [`CatalogCommand`]s; persists [`CatalogEvent`]s (each carries the one
//! category or product it changes); talks to nobody else. Catalog writes are rare
//! operator actions, so one actor is not a throughput limit; reads of single
//! products are cheap messages.

use super::messages::{CatalogCommand, CatalogOutcome, CatalogReply, IndexedProduct};
use super::state::{CatalogError, CatalogEvent, CatalogState, Product};
use crate::runtime::{Entity, UnixMillis};

impl CatalogState {
    fn indexed(&self, product: &Product) -> IndexedProduct {
        let category_path = self.path_ids(product.fields.category_id);
        IndexedProduct {
            product: product.clone(),
            category_path,
            version: self.version(),
        }
    }

    fn products_outcome<'a>(&self, products: impl Iterator<Item = &'a Product>) -> CatalogReply {
        let products = products.map(|product| self.indexed(product)).collect();
        Ok(CatalogOutcome::Products {
            products,
            version: self.version(),
        })
    }

    fn category_outcome(&self, id: u64) -> CatalogReply {
        let category = self
            .category(id)
            .ok_or_else(|| CatalogError::CategoryNotFound(id.to_string()))?;
        let path = self.path(id).into_iter().cloned().collect();
        Ok(CatalogOutcome::Category {
            category: category.clone(),
            path,
        })
    }
}

impl Entity for CatalogState {
    const KIND: &'static str = "catalog";
    /// Reloading every product of a large catalog must not happen on a request's path.
    const KEEP_ALIVE: bool = true;
    type Event = CatalogEvent;
    type Command = CatalogCommand;
    type Reply = CatalogReply;
    type View = ();

    fn new(_id: &str) -> Self {
        CatalogState::default()
    }

    fn restored(&mut self) {
        self.rebuild_indexes();
    }

    fn apply(&mut self, event: &CatalogEvent) {
        CatalogState::apply(self, event);
    }

    fn handle(&mut self, command: CatalogCommand, now: UnixMillis, events: &mut Vec<CatalogEvent>) -> CatalogReply {
        let event = match command {
            CatalogCommand::ListCategories => {
                let categories = self.categories().cloned().collect();
                return Ok(CatalogOutcome::Categories {
                    categories,
                    version: self.version(),
                });
            }
            CatalogCommand::GetCategory(id) => return self.category_outcome(id),
            CatalogCommand::GetCategoryBySlug(slug) => {
                let id = self
                    .category_by_slug(&slug)
                    .ok_or(CatalogError::CategoryNotFound(slug))?
                    .id;
                return self.category_outcome(id);
            }
            CatalogCommand::ProductsUnder(id) => {
                self.category(id)
                    .ok_or_else(|| CatalogError::CategoryNotFound(id.to_string()))?;
                let under: std::collections::HashSet<_> = self.descendants(id).into_iter().collect();
                return self.products_outcome(self.products().filter(|p| under.contains(&p.fields.category_id)));
            }
            CatalogCommand::Export => return self.products_outcome(self.products()),
            CatalogCommand::CreateCategory { name, slug, parent_id } => self.create_category(name, slug, parent_id)?,
            CatalogCommand::UpdateCategory { id, patch } => self.update_category(id, patch)?,
            CatalogCommand::DeleteCategory(id) => self.delete_category(id)?,
            CatalogCommand::CreateProduct(fields) => self.create_product(fields, now)?,
            CatalogCommand::UpdateProduct { id, patch } => self.update_product(id, patch, now)?,
        };
        let facts = match &event {
            CatalogEvent::ProductUpdated(product) => self.facts_of_update(product),
            _ => Vec::new(),
        };
        self.apply(&event);
        let outcome = match &event {
            CatalogEvent::CategoryCreated(category) | CatalogEvent::CategoryUpdated(category) => {
                self.category_outcome(category.id)
            }
            CatalogEvent::CategoryDeleted { .. } => Ok(CatalogOutcome::Deleted),
            CatalogEvent::ProductCreated(product) | CatalogEvent::ProductUpdated(product) => {
                Ok(CatalogOutcome::Product(self.indexed(product)))
            }
            CatalogEvent::PriceChanged { id, .. } | CatalogEvent::ProductArchived { id } => self
                .product(*id)
                .map(|product| CatalogOutcome::Product(self.indexed(product)))
                .ok_or(CatalogError::ProductNotFound(*id)),
        };
        events.push(event);
        for fact in facts {
            self.apply(&fact);
            events.push(fact);
        }
        outcome
    }

    fn settle(&mut self, _now: UnixMillis, _events: &mut Vec<CatalogEvent>) {}

    fn next_deadline(&self) -> Option<UnixMillis> {
        None
    }

    fn view(&self) {}
}
