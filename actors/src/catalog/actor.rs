//! The catalog actor: runs [`CatalogState`] on the entity runtime as the single
//! entity `catalog/main`, so that global rules (unique names, slugs and SKUs, no
//! cycles) are checked one command at a time without locks.
//!
//! Accepts [`CatalogCommand`]s; persists [`CatalogEvent`]s (each carries the one
//! category or product it changes); talks to nobody else. Catalog writes are rare
//! operator actions, so one actor is not a throughput limit; reads of single
//! products are cheap messages.

use super::messages::{CatalogCommand, CatalogOutcome, CatalogReply};
use super::state::{CatalogError, CatalogEvent, CatalogState};
use crate::runtime::{Entity, UnixMillis};

impl CatalogState {
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
    type Event = CatalogEvent;
    type Command = CatalogCommand;
    type Reply = CatalogReply;

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
                return Ok(CatalogOutcome::Categories(self.categories().cloned().collect()))
            }
            CatalogCommand::GetCategory(id) => return self.category_outcome(id),
            CatalogCommand::GetCategoryBySlug(slug) => {
                let id = self
                    .category_by_slug(&slug)
                    .ok_or(CatalogError::CategoryNotFound(slug))?
                    .id;
                return self.category_outcome(id);
            }
            CatalogCommand::GetProduct(id) => {
                let product = self.product(id).ok_or(CatalogError::ProductNotFound(id))?;
                return Ok(CatalogOutcome::Product(product.clone()));
            }
            CatalogCommand::CreateCategory { name, slug, parent_id } => self.create_category(name, slug, parent_id)?,
            CatalogCommand::UpdateCategory { id, patch } => self.update_category(id, patch)?,
            CatalogCommand::DeleteCategory(id) => self.delete_category(id)?,
            CatalogCommand::CreateProduct(fields) => self.create_product(fields, now)?,
            CatalogCommand::UpdateProduct { id, patch } => self.update_product(id, patch, now)?,
        };
        self.apply(&event);
        let outcome = match &event {
            CatalogEvent::CategoryCreated(category) | CatalogEvent::CategoryUpdated(category) => {
                self.category_outcome(category.id)
            }
            CatalogEvent::CategoryDeleted { .. } => Ok(CatalogOutcome::Deleted),
            CatalogEvent::ProductCreated(product) | CatalogEvent::ProductUpdated(product) => {
                Ok(CatalogOutcome::Product(product.clone()))
            }
        };
        events.push(event);
        outcome
    }

    fn settle(&mut self, _now: UnixMillis, _events: &mut Vec<CatalogEvent>) {}

    fn next_deadline(&self) -> Option<UnixMillis> {
        None
    }
}
