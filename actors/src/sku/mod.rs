//! SKU stock counters: `on_hand`, open reservations with a TTL, `sold`.
//!
//! - [`state`]: the pure state machine and its invariants; [`counts`]: its
//!   figures and how events move them, shared with [`stock_book`], every
//!   SKU's figures as a read model of the log (low stock for the console);
//! - [`messages`]: commands and replies;
//! - `actor`: how the runtime runs it;
//! - [`Inventory`]: the typed front door the HTTP layer uses.

mod actor;
pub mod counts;
mod ledger;
pub mod messages;
mod settled;
pub mod state;
pub mod stock_book;

use self::stock_book::StockBook;
use crate::read_model::ReadModel;
use crate::runtime::{ActorError, Registry, Runtime};

pub use self::messages::{ReservationGrant, SkuCommand, SkuOutcome, SkuReply};
pub use self::state::{SkuEvent, SkuStock, StockError, StockLevel};

/// Why an inventory call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum InventoryError {
    /// The SKU refused the operation.
    #[error(transparent)]
    Stock(#[from] StockError),
    /// The SKU's actor could not answer.
    #[error(transparent)]
    Actor(#[from] ActorError),
}

/// Typed access to every SKU's stock actor.
#[derive(Clone)]
pub struct Inventory {
    /// The SKU actors, by SKU id.
    skus: Registry<SkuStock>,
    /// Every SKU's figures, from the event log.
    book: ReadModel<StockBook>,
}

impl Inventory {
    /// Inventory on `runtime`.
    pub fn new(runtime: &Runtime) -> Self {
        Inventory {
            skus: Registry::new(runtime),
            book: ReadModel::new(runtime.storage().clone()),
        }
    }

    /// Every SKU's figures and the ones low on stock (the console's list),
    /// fed from the event log by the task of `stock_book().start()`.
    pub fn stock_book(&self) -> &ReadModel<StockBook> {
        &self.book
    }

    /// The registry of SKU actors, for the admin API.
    pub fn registry(&self) -> &Registry<SkuStock> {
        &self.skus
    }

    async fn call(&self, sku: &str, command: SkuCommand) -> Result<SkuOutcome, InventoryError> {
        Ok(self.skus.call(sku, command).await??)
    }

    async fn level_of(&self, sku: &str, command: SkuCommand) -> Result<StockLevel, InventoryError> {
        match self.call(sku, command).await? {
            SkuOutcome::Level(level) => Ok(level),
            SkuOutcome::Reserved(_) | SkuOutcome::Reservations(_) => {
                unreachable!("only reservations and their listing answer otherwise")
            }
        }
    }

    /// The open reservations of `sku`, soonest expiry first, at most `limit`.
    pub async fn reservations(
        &self,
        sku: &str,
        limit: usize,
    ) -> Result<Vec<(String, state::Reservation)>, InventoryError> {
        match self.call(sku, SkuCommand::Reservations { limit }).await? {
            SkuOutcome::Reservations(open) => Ok(open),
            _ => unreachable!("a listing answers with reservations"),
        }
    }

    /// Current figures.
    pub async fn level(&self, sku: &str) -> Result<StockLevel, InventoryError> {
        self.level_of(sku, SkuCommand::Get).await
    }

    /// Figures for display: the level a live SKU actor last published, read
    /// without a message, else asked of the actor (activating it).
    pub async fn displayed_level(&self, sku: &str) -> Result<StockLevel, InventoryError> {
        match self.skus.peek(sku) {
            Some(level) => Ok(level),
            None => self.level(sku).await,
        }
    }

    /// A feed of the levels `sku` publishes from now on, starting with the
    /// latest (activating the SKU actor); it closes when the actor is
    /// passivated: follow again to go on.
    pub fn follow(&self, sku: &str) -> tokio::sync::watch::Receiver<Option<StockLevel>> {
        self.skus.subscribe(sku)
    }

    /// Sets `on_hand`.
    pub async fn set_on_hand(&self, sku: &str, on_hand: u64) -> Result<StockLevel, InventoryError> {
        self.level_of(sku, SkuCommand::SetOnHand { on_hand }).await
    }

    /// Moves `on_hand` by `delta`.
    pub async fn adjust(&self, sku: &str, delta: i64, reason: String) -> Result<StockLevel, InventoryError> {
        self.level_of(sku, SkuCommand::Adjust { delta, reason }).await
    }

    /// Holds `qty` units for `ttl_ms`.
    pub async fn reserve(
        &self,
        sku: &str,
        reservation_id: String,
        qty: u64,
        ttl_ms: u64,
    ) -> Result<ReservationGrant, InventoryError> {
        match self
            .call(
                sku,
                SkuCommand::Reserve {
                    reservation_id,
                    qty,
                    ttl_ms,
                },
            )
            .await?
        {
            SkuOutcome::Reserved(grant) => Ok(grant),
            _ => unreachable!("a reservation answers with a grant"),
        }
    }

    /// Sells an open reservation.
    pub async fn commit(&self, sku: &str, reservation_id: String) -> Result<StockLevel, InventoryError> {
        self.level_of(sku, SkuCommand::Commit { reservation_id }).await
    }

    /// Gives an open reservation back.
    pub async fn release(&self, sku: &str, reservation_id: String) -> Result<StockLevel, InventoryError> {
        self.level_of(sku, SkuCommand::Release { reservation_id }).await
    }

    /// Reserves and sells `qty` units at once under `reservation_id` (idempotent).
    pub async fn sell(
        &self,
        sku: &str,
        reservation_id: String,
        qty: u64,
        ttl_ms: u64,
    ) -> Result<StockLevel, InventoryError> {
        let sell = SkuCommand::Sell {
            reservation_id,
            qty,
            ttl_ms,
        };
        self.level_of(sku, sell).await
    }

    /// Takes `qty` sold units back into stock, once per `return_id`.
    pub async fn return_sold(&self, sku: &str, return_id: String, qty: u64) -> Result<StockLevel, InventoryError> {
        self.level_of(sku, SkuCommand::Return { return_id, qty }).await
    }
}
