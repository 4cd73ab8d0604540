//! Carts: one actor per cart, priced from the catalog, discounted by the rules
//! of [`crate::promotion`], watched live.
//!
//! - [`state`]: the cart state machine, pure;
//! - [`pricing`]: totals, discounts and the stacking rule, pure;
//! - [`messages`], `actor`: the `cart` entity and the view it publishes;
//! - [`Carts`]: the front door. It fills each command with catalog prices, stock
//!   figures and the current rules, and re-prices the carts holding a SKU when
//!   the catalog changes it (those it has seen since start; any other cart is
//!   re-priced when it is next read).

mod actor;
pub mod messages;
pub mod pricing;
pub mod state;

use std::sync::Arc;

use parking_lot::Mutex;
use rustc_hash::{FxHashMap, FxHashSet};
use tokio::sync::{broadcast, watch};

pub use self::actor::Cart;
use self::messages::{CartCommand, CartOp, CartView};
pub use self::state::{CartError, Line};
use crate::catalog::prices::{PriceEntry, PriceTable};
use crate::catalog::Catalog;
use crate::promotion::Promotions;
use crate::runtime::{ActorError, BackgroundTask, Registry, Runtime, StopSignal};
use crate::sku::Inventory;

/// Why a cart call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CartsError {
    /// The cart refused.
    #[error(transparent)]
    Cart(#[from] CartError),
    /// The catalog has no product with this SKU.
    #[error("no product has SKU {0}")]
    UnknownSku(String),
    /// The product is archived.
    #[error("the product with SKU {0} is no longer sold")]
    Unavailable(String),
    /// An entity could not answer.
    #[error(transparent)]
    Actor(#[from] ActorError),
}

/// Every view a cart publishes (`None` before it is loaded or created); closes
/// when the cart actor is passivated.
pub type CartFeed = watch::Receiver<Option<Option<Arc<CartView>>>>;

/// The carts that hold each SKU, as far as this process has seen.
type Watchers = Mutex<FxHashMap<String, FxHashSet<Arc<str>>>>;

/// Typed access to the carts.
#[derive(Clone)]
pub struct Carts {
    carts: Registry<Cart>,
    prices: Arc<PriceTable>,
    inventory: Inventory,
    promotions: Promotions,
    watchers: Arc<Watchers>,
}

impl Carts {
    /// Carts on `runtime`; [`Carts::start_repricer`] keeps them priced.
    pub fn new(runtime: &Runtime, catalog: &Catalog, inventory: Inventory, promotions: Promotions) -> Self {
        Carts {
            carts: Registry::new(runtime),
            prices: Arc::clone(catalog.prices()),
            inventory,
            promotions,
            watchers: Arc::default(),
        }
    }

    /// Starts the task that re-prices carts on catalog changes (inside a tokio
    /// runtime), until stopped.
    pub fn start_repricer(&self) -> BackgroundTask {
        let (carts, changes) = (self.clone(), self.prices.subscribe());
        BackgroundTask::spawn("cart re-pricer", move |stop| carts.reprice_on_changes(changes, stop))
    }

    /// How many live carts hold `sku`: the ones a price change re-prices.
    pub fn holding(&self, sku: &str) -> usize {
        self.watchers.lock().get(sku).map_or(0, |ids| ids.len())
    }

    /// The registry, for the admin API.
    pub fn registry(&self) -> &Registry<Cart> {
        &self.carts
    }

    async fn stock_of(&self, skus: impl Iterator<Item = String>) -> Vec<(String, u64, bool)> {
        let mut stock = Vec::new();
        for sku in skus {
            let listed = self.prices.get(&sku).is_some_and(|entry| entry.active);
            // Stock figures are hints for warnings: an unreachable SKU shows none.
            if let Ok(level) = self.inventory.displayed_level(&sku).await {
                stock.push((sku, level.available, listed));
            }
        }
        stock
    }

    async fn send(
        &self,
        id: &str,
        caller: Option<&str>,
        if_match: Option<u64>,
        op: CartOp,
    ) -> Result<Arc<CartView>, CartsError> {
        let mut skus: FxHashSet<String> = match self.carts.peek(id) {
            Some(Some(view)) => view.lines.iter().map(|line| line.sku.clone()).collect(),
            _ => FxHashSet::default(),
        };
        if let CartOp::Add(line) = &op {
            skus.insert(line.sku.clone());
        }
        let command = CartCommand {
            caller: caller.map(str::to_string),
            if_match,
            rules: self.promotions.rules(),
            stock: self.stock_of(skus.into_iter()).await,
            op,
        };
        let view = self.carts.call(id, command).await??;
        self.watch(id, &view);
        self.refresh_stale(id, view).await
    }

    /// Remembers that cart `id` holds the SKUs of `view`.
    fn watch(&self, id: &str, view: &CartView) {
        let mut watchers = self.watchers.lock();
        let id: Arc<str> = Arc::from(id);
        for line in &view.lines {
            watchers.entry(line.sku.clone()).or_default().insert(Arc::clone(&id));
        }
    }

    /// Re-prices the lines of `view` whose catalog data changed since they were priced.
    async fn refresh_stale(&self, id: &str, mut view: Arc<CartView>) -> Result<Arc<CartView>, CartsError> {
        let stale: Vec<(String, Arc<PriceEntry>)> = view
            .lines
            .iter()
            .filter_map(|line| {
                let entry = self.prices.get(&line.sku)?;
                let current = (entry.price, entry.name.as_str(), entry.currency.as_str());
                (current != (line.unit_price, line.name.as_str(), line.currency.as_str()))
                    .then(|| (line.sku.clone(), entry))
            })
            .collect();
        for (sku, entry) in stale {
            view = self.reprice(id, &sku, &entry).await?;
        }
        Ok(view)
    }

    async fn reprice(&self, id: &str, sku: &str, entry: &PriceEntry) -> Result<Arc<CartView>, CartsError> {
        let op = CartOp::Reprice {
            sku: sku.to_string(),
            name: entry.name.clone(),
            unit_price: entry.price,
            currency: entry.currency.clone(),
        };
        let command = CartCommand {
            caller: None,
            if_match: None,
            rules: self.promotions.rules(),
            stock: Vec::new(),
            op,
        };
        Ok(self.carts.call(id, command).await??)
    }

    /// Re-prices every watched cart holding a changed SKU, until the catalog
    /// closes or it is told to stop.
    async fn reprice_on_changes(
        self,
        mut changes: broadcast::Receiver<(String, Arc<PriceEntry>)>,
        mut stop: StopSignal,
    ) {
        loop {
            let received = tokio::select! {
                received = changes.recv() => received,
                _ = stop.stopped() => return,
            };
            let changed: Vec<(String, Arc<PriceEntry>)> = match received {
                Ok(change) => vec![change],
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "price changes lagged; re-pricing every watched cart");
                    let skus: Vec<String> = self.watchers.lock().keys().cloned().collect();
                    skus.into_iter()
                        .filter_map(|sku| self.prices.get(&sku).map(|entry| (sku, entry)))
                        .collect()
                }
                Err(broadcast::error::RecvError::Closed) => return,
            };
            for (sku, entry) in changed {
                let holders: Vec<Arc<str>> = self
                    .watchers
                    .lock()
                    .get(&sku)
                    .map(|ids| ids.iter().cloned().collect())
                    .unwrap_or_default();
                let repriced = holders.iter().map(|id| self.reprice(id, &sku, &entry));
                let results = futures_util::future::join_all(repriced).await;
                let mut watchers = self.watchers.lock();
                for (id, result) in holders.iter().zip(results) {
                    let still_holds = match &result {
                        Ok(view) => view.lines.iter().any(|line| line.sku == sku),
                        Err(err) => {
                            tracing::warn!(cart = %id, error = %err, "cart not re-priced");
                            true
                        }
                    };
                    if !still_holds {
                        if let Some(ids) = watchers.get_mut(&sku) {
                            ids.remove(id);
                        }
                    }
                }
                watchers.retain(|_, ids| !ids.is_empty());
            }
        }
    }

    /// Creates a cart with a fresh id for `owner` (a guest cart if `None`).
    pub async fn create(&self, owner: Option<&str>) -> Result<(String, Arc<CartView>), CartsError> {
        let id = crate::account::tokens::random_id();
        let view = self.ensure(&id, owner).await?;
        Ok((id, view))
    }

    /// Creates cart `id` for `owner` unless it exists for that owner already.
    pub async fn ensure(&self, id: &str, owner: Option<&str>) -> Result<Arc<CartView>, CartsError> {
        let op = CartOp::Create {
            owner: owner.map(str::to_string),
        };
        self.send(id, owner, None, op).await
    }

    /// Reads a cart.
    pub async fn get(&self, id: &str, caller: Option<&str>) -> Result<Arc<CartView>, CartsError> {
        self.send(id, caller, None, CartOp::Get).await
    }

    /// Adds `qty` units of `sku` at the catalog's price.
    pub async fn add_item(
        &self,
        id: &str,
        caller: Option<&str>,
        if_match: Option<u64>,
        sku: &str,
        qty: u32,
    ) -> Result<Arc<CartView>, CartsError> {
        let entry = self
            .prices
            .get(sku)
            .ok_or_else(|| CartsError::UnknownSku(sku.to_string()))?;
        if !entry.active {
            return Err(CartsError::Unavailable(sku.to_string()));
        }
        let line = Line {
            sku: sku.to_string(),
            name: entry.name.clone(),
            qty,
            unit_price: entry.price,
            currency: entry.currency.clone(),
            category_path: entry.category_path.clone(),
        };
        self.send(id, caller, if_match, CartOp::Add(line)).await
    }

    /// Sets the quantity of a line.
    pub async fn set_qty(
        &self,
        id: &str,
        caller: Option<&str>,
        if_match: Option<u64>,
        sku: &str,
        qty: u32,
    ) -> Result<Arc<CartView>, CartsError> {
        let op = CartOp::SetQty {
            sku: sku.to_string(),
            qty,
        };
        self.send(id, caller, if_match, op).await
    }

    /// Removes a line.
    pub async fn remove_item(
        &self,
        id: &str,
        caller: Option<&str>,
        if_match: Option<u64>,
        sku: &str,
    ) -> Result<Arc<CartView>, CartsError> {
        self.send(id, caller, if_match, CartOp::Remove { sku: sku.to_string() })
            .await
    }

    /// Applies a coupon code (case-insensitive).
    pub async fn apply_coupon(
        &self,
        id: &str,
        caller: Option<&str>,
        if_match: Option<u64>,
        code: &str,
    ) -> Result<Arc<CartView>, CartsError> {
        let code = code.trim().to_ascii_uppercase();
        self.send(id, caller, if_match, CartOp::ApplyCoupon { code }).await
    }

    /// Removes the coupon.
    pub async fn remove_coupon(
        &self,
        id: &str,
        caller: Option<&str>,
        if_match: Option<u64>,
    ) -> Result<Arc<CartView>, CartsError> {
        self.send(id, caller, if_match, CartOp::RemoveCoupon).await
    }

    /// Merges guest cart `guest` into `user`'s cart `into` and closes it. A
    /// retry after a crash merges nothing twice.
    pub async fn merge(&self, guest: &str, into: &str, user: &str) -> Result<Arc<CartView>, CartsError> {
        let guest_view = self.get(guest, None).await?;
        if guest_view.owner.is_some() {
            return Err(CartError::Forbidden.into());
        }
        let op = CartOp::Merge {
            from: guest.to_string(),
            lines: guest_view.lines.clone(),
        };
        let merged = self.send(into, Some(user), None, op).await?;
        match self
            .send(guest, None, None, CartOp::Close { into: into.to_string() })
            .await
        {
            Ok(_) | Err(CartsError::Cart(CartError::Closed)) => Ok(merged),
            Err(err) => Err(err),
        }
    }

    /// Freezes the cart for order `order_id` and answers its priced view, the
    /// snapshot the order is placed from (idempotent for the same order).
    pub async fn begin_checkout(
        &self,
        id: &str,
        caller: Option<&str>,
        order_id: &str,
    ) -> Result<Arc<CartView>, CartsError> {
        let op = CartOp::BeginCheckout {
            order_id: order_id.to_string(),
        };
        self.send(id, caller, None, op).await
    }

    /// Ends order `order_id`'s hold on the cart: `sold` closes it for good,
    /// otherwise it is open again (nothing if another order holds it).
    pub async fn end_checkout(&self, id: &str, order_id: &str, sold: bool) -> Result<(), CartsError> {
        let op = CartOp::EndCheckout {
            order_id: order_id.to_string(),
            sold,
        };
        self.send(id, None, None, op).await.map(|_| ())
    }

    /// A feed of the cart's views (after checking `caller` may read it).
    pub async fn subscribe(&self, id: &str, caller: Option<&str>) -> Result<CartFeed, CartsError> {
        self.get(id, caller).await?;
        Ok(self.carts.subscribe(id))
    }
}
