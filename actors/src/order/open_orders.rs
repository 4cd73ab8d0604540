//! The orders whose saga is not settled, as a pure map, so that a restart finds
//! them (the `order-index/open` entity). Each listing has a generation: listing
//! an order again (it took on new work, such as a refund) bumps it, and a
//! close names the generation its saga was driven under, so a close that was
//! decided before the new work arrived changes nothing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The open orders and their listing generations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenOrders {
    /// Order id → generation.
    ids: BTreeMap<String, u64>,
}

/// A change of the open-order set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpenOrdersEvent {
    /// An order was listed, or listed again (its generation moves on).
    Opened(String),
    /// An order's saga settled.
    Closed(String),
}

impl OpenOrders {
    /// The open ids and their generations.
    pub fn listed(&self) -> impl Iterator<Item = (&String, u64)> {
        self.ids.iter().map(|(id, generation)| (id, *generation))
    }

    /// The generation `id` is listed under.
    pub fn generation(&self, id: &str) -> Option<u64> {
        self.ids.get(id).copied()
    }

    /// Decides listing `id` (again).
    pub fn open(&self, id: &str) -> OpenOrdersEvent {
        OpenOrdersEvent::Opened(id.to_string())
    }

    /// Decides closing `id` if it is still listed under `generation`.
    pub fn close(&self, id: &str, generation: u64) -> Option<OpenOrdersEvent> {
        (self.generation(id) == Some(generation)).then(|| OpenOrdersEvent::Closed(id.to_string()))
    }

    /// Applies one event.
    pub fn apply(&mut self, event: &OpenOrdersEvent) {
        match event {
            OpenOrdersEvent::Opened(id) => *self.ids.entry(id.clone()).or_default() += 1,
            OpenOrdersEvent::Closed(id) => {
                self.ids.remove(id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_close_decided_before_a_relisting_changes_nothing() {
        let mut open = OpenOrders::default();
        open.apply(&open.open("o"));
        let first = open.generation("o").expect("listed");
        open.apply(&open.open("o"));
        assert_eq!(open.close("o", first), None, "listed again since");
        let second = open.generation("o").expect("listed");
        let close = open.close("o", second).expect("current generation");
        open.apply(&close);
        assert_eq!(open.listed().count(), 0);
    }
}
