//! Every product by id, readable without a message: what search results,
//! product pages and recommendations show. The catalog front door fills it at
//! start and records each product as the catalog answered it, so a read
//! never waits behind the catalog actor's writes (one actor serves the whole
//! catalog) and never costs a message.

use std::sync::Arc;

use parking_lot::RwLock;
use rustc_hash::FxHashMap;

use super::messages::IndexedProduct;
use super::state::ProductId;

/// Every product, by id, as of the latest catalog answer about it.
#[derive(Default)]
pub struct ProductMap {
    products: RwLock<FxHashMap<ProductId, Arc<IndexedProduct>>>,
}

impl ProductMap {
    /// Replaces the whole map (at start).
    pub fn load(&self, products: &[IndexedProduct]) {
        let products = products
            .iter()
            .map(|product| (product.product.id, Arc::new(product.clone())))
            .collect();
        *self.products.write() = products;
    }

    /// Records `product` unless the map holds a later version of it (two
    /// writers' answers may arrive in either order).
    pub fn update(&self, product: &IndexedProduct) {
        let mut products = self.products.write();
        let newer = products
            .get(&product.product.id)
            .is_none_or(|held| held.version <= product.version);
        if newer {
            products.insert(product.product.id, Arc::new(product.clone()));
        }
    }

    /// Product `id`.
    pub fn get(&self, id: ProductId) -> Option<Arc<IndexedProduct>> {
        self.products.read().get(&id).cloned()
    }

    /// The products of `ids` that exist, in that order.
    pub fn get_many(&self, ids: &[ProductId]) -> Vec<Arc<IndexedProduct>> {
        let products = self.products.read();
        ids.iter().filter_map(|id| products.get(id).cloned()).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::catalog::state::{Product, ProductFields, ProductStatus};

    fn product(id: ProductId, name: &str, version: u64) -> IndexedProduct {
        IndexedProduct {
            product: Product {
                id,
                fields: ProductFields {
                    sku: format!("SKU-{id}"),
                    name: name.into(),
                    description: String::new(),
                    category_id: 1,
                    price: 1_000,
                    currency: "EUR".into(),
                    attributes: BTreeMap::new(),
                    seller_id: None,
                    images: Vec::new(),
                    status: ProductStatus::Active,
                },
                created_at: 0,
                updated_at: 0,
            },
            category_path: vec![1],
            version,
        }
    }

    #[test]
    fn a_later_version_wins_whatever_the_order_of_arrival() {
        let map = ProductMap::default();
        map.load(&[product(1, "first", 1)]);
        map.update(&product(1, "third", 3));
        map.update(&product(1, "second", 2));
        assert_eq!(map.get(1).unwrap().product.fields.name, "third");
    }

    #[test]
    fn many_keeps_the_order_asked_and_leaves_out_unknown_ids() {
        let map = ProductMap::default();
        map.load(&[product(1, "a", 1), product(2, "b", 1)]);
        let names: Vec<_> = map
            .get_many(&[2, 9, 1])
            .iter()
            .map(|p| p.product.fields.name.clone())
            .collect();
        assert_eq!(names, ["b", "a"]);
    }
}
