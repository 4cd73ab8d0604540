//! What carts need of each product, by SKU, readable without a message: name,
//! price, currency, category path, whether it is listed. The catalog front door
//! fills it at start and keeps it in step with every product change, and
//! announces changes that affect a cart (price, currency, name, listing) to
//! subscribers, which re-price the carts holding the SKU.

use std::sync::Arc;

use parking_lot::RwLock;
use rustc_hash::FxHashMap;
use tokio::sync::broadcast;

use super::messages::IndexedProduct;
use super::state::{CategoryId, ProductId, ProductStatus};

/// Price changes buffered per subscriber before the slowest one lags (it then
/// re-reads what it missed from the table; see [`PriceTable::subscribe`]).
const CHANGE_BUFFER: usize = 4096;

/// A product as a cart sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceEntry {
    /// The product.
    pub product_id: ProductId,
    /// Display name.
    pub name: String,
    /// Unit price in minor units.
    pub price: u64,
    /// ISO 4217 code.
    pub currency: String,
    /// Category and its ancestors, root first (for discount scopes).
    pub category_path: Vec<CategoryId>,
    /// Whether it can be bought (archived products cannot).
    pub active: bool,
}

impl PriceEntry {
    fn of(product: &IndexedProduct) -> Self {
        let fields = &product.product.fields;
        PriceEntry {
            product_id: product.product.id,
            name: fields.name.clone(),
            price: fields.price,
            currency: fields.currency.clone(),
            category_path: product.category_path.clone(),
            active: fields.status == ProductStatus::Active,
        }
    }
}

/// A SKU whose cart-relevant fields changed.
pub type PriceChange = (String, Arc<PriceEntry>);

/// Every product by SKU.
pub struct PriceTable {
    entries: RwLock<FxHashMap<String, Arc<PriceEntry>>>,
    /// Each product's SKU (recommendation pins name products).
    skus: RwLock<FxHashMap<ProductId, String>>,
    changes: broadcast::Sender<PriceChange>,
}

impl Default for PriceTable {
    fn default() -> Self {
        PriceTable {
            entries: RwLock::default(),
            skus: RwLock::default(),
            changes: broadcast::channel(CHANGE_BUFFER).0,
        }
    }
}

impl PriceTable {
    /// Replaces the whole table (at start), announcing nothing.
    pub fn load(&self, products: &[IndexedProduct]) {
        let entries = products
            .iter()
            .map(|product| (product.product.fields.sku.clone(), Arc::new(PriceEntry::of(product))))
            .collect();
        *self.entries.write() = entries;
        *self.skus.write() = (products.iter())
            .map(|product| (product.product.id, product.product.fields.sku.clone()))
            .collect();
    }

    /// Records a product as it is now; announces it if a cart would see a change.
    pub fn update(&self, product: &IndexedProduct) {
        let sku = &product.product.fields.sku;
        self.skus.write().insert(product.product.id, sku.clone());
        let entry = PriceEntry::of(product);
        let mut entries = self.entries.write();
        let changed = entries.get(sku).is_some_and(|old| {
            (old.price, &old.currency, &old.name, old.active)
                != (entry.price, &entry.currency, &entry.name, entry.active)
        });
        let entry = Arc::new(entry);
        entries.insert(sku.clone(), Arc::clone(&entry));
        drop(entries);
        if changed {
            // No subscriber is fine: no cart is live to re-price.
            let _ = self.changes.send((sku.clone(), entry));
        }
    }

    /// The product sold under `sku`.
    pub fn get(&self, sku: &str) -> Option<Arc<PriceEntry>> {
        self.entries.read().get(sku).cloned()
    }

    /// The SKU product `id` is sold under.
    pub fn sku_of(&self, id: ProductId) -> Option<String> {
        self.skus.read().get(&id).cloned()
    }

    /// Changes from now on. A subscriber that falls more than the buffer behind
    /// gets `Lagged` and should treat every SKU it watches as changed.
    pub fn subscribe(&self) -> broadcast::Receiver<PriceChange> {
        self.changes.subscribe()
    }
}
