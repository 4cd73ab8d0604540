//! The ids of orders whose saga is not settled, as a pure set, so that a restart
//! finds them (the `order-index/open` entity).

use serde::{Deserialize, Serialize};

/// The open orders.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenOrders {
    /// Order ids.
    ids: std::collections::BTreeSet<String>,
}

/// A change of the open-order set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpenOrdersEvent {
    /// An order's saga began.
    Opened(String),
    /// An order's saga settled.
    Closed(String),
}

impl OpenOrders {
    /// The open ids.
    pub fn ids(&self) -> impl Iterator<Item = &String> {
        self.ids.iter()
    }

    /// Decides opening `id` (nothing if open).
    pub fn open(&self, id: &str) -> Option<OpenOrdersEvent> {
        (!self.ids.contains(id)).then(|| OpenOrdersEvent::Opened(id.to_string()))
    }

    /// Decides closing `id` (nothing if not open).
    pub fn close(&self, id: &str) -> Option<OpenOrdersEvent> {
        self.ids.contains(id).then(|| OpenOrdersEvent::Closed(id.to_string()))
    }

    /// Applies one event.
    pub fn apply(&mut self, event: &OpenOrdersEvent) {
        match event {
            OpenOrdersEvent::Opened(id) => self.ids.insert(id.clone()),
            OpenOrdersEvent::Closed(id) => self.ids.remove(id),
        };
    }
}
