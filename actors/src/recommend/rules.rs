//! Operators' rules for one product's recommendations: pinned products come
//! first, in the order given; blocked ones never appear. One entity per product
//! (kind `recommendation-rules`, its event is the whole new rule set), and a
//! book of every product's rules that the serving path reads without a message.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::catalog::state::ProductId;
use crate::read_model::Book;
use crate::runtime::{Entity, UnixMillis};

/// Entity kind of the rules.
pub const KIND: &str = "recommendation-rules";
/// Most products one product may pin.
pub const MAX_PINNED: usize = 20;
/// Most products one product may block.
pub const MAX_BLOCKED: usize = 200;

/// One product's rules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rules {
    /// Shown first, in this order (when listed and in stock).
    pub pinned: Vec<ProductId>,
    /// Never shown.
    pub blocked: Vec<ProductId>,
}

/// Why rules are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    #[error("at most {MAX_PINNED} pinned products")]
    TooManyPinned,
    #[error("at most {MAX_BLOCKED} blocked products")]
    TooManyBlocked,
    #[error("product {0} is listed twice")]
    Repeated(ProductId),
    #[error("a product cannot recommend itself")]
    Itself,
}

impl Rules {
    /// Checks the rules of product `own`.
    pub fn check(&self, own: ProductId) -> Result<(), RulesError> {
        if self.pinned.len() > MAX_PINNED {
            return Err(RulesError::TooManyPinned);
        }
        if self.blocked.len() > MAX_BLOCKED {
            return Err(RulesError::TooManyBlocked);
        }
        let mut seen = std::collections::HashSet::new();
        for &id in self.pinned.iter().chain(&self.blocked) {
            if id == own {
                return Err(RulesError::Itself);
            }
            if !seen.insert(id) {
                return Err(RulesError::Repeated(id));
            }
        }
        Ok(())
    }
}

impl Entity for Rules {
    const KIND: &'static str = KIND;
    const KEEP_ALIVE: bool = false;
    /// The whole new rule set.
    type Event = Rules;
    /// `None` reads; `Some` replaces (already checked).
    type Command = Option<Rules>;
    type Reply = Rules;
    type View = Rules;

    fn new(_id: &str) -> Self {
        Rules::default()
    }

    fn apply(&mut self, event: &Rules) {
        *self = event.clone();
    }

    fn handle(&mut self, command: Option<Rules>, _now: UnixMillis, events: &mut Vec<Rules>) -> Rules {
        if let Some(rules) = command.filter(|rules| rules != self) {
            self.apply(&rules);
            events.push(rules);
        }
        self.clone()
    }

    fn settle(&mut self, _now: UnixMillis, _events: &mut Vec<Rules>) {}

    fn next_deadline(&self) -> Option<UnixMillis> {
        None
    }

    fn view(&self) -> Rules {
        self.clone()
    }
}

/// Every product's rules, by product id (as the entity id spells it).
#[derive(Debug, Default)]
pub struct RulesBook {
    by_product: FxHashMap<String, Rules>,
}

impl Book for RulesBook {
    const KIND: &'static str = KIND;
    const NAME: &'static str = "recommendation rules";
    type Event = Rules;

    fn apply(&mut self, id: &str, _first_seq: u64, events: Vec<Rules>) {
        if let Some(rules) = events.into_iter().last() {
            self.by_product.insert(id.to_string(), rules);
        }
    }
}

impl RulesBook {
    /// Product `id`'s rules (none set: empty).
    pub fn get(&self, id: ProductId) -> Rules {
        self.by_product.get(&id.to_string()).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_that_repeat_a_product_or_name_their_own_are_refused() {
        let rules = |pinned: Vec<u64>, blocked: Vec<u64>| Rules { pinned, blocked };
        assert_eq!(rules(vec![2, 3], vec![4]).check(1), Ok(()));
        assert_eq!(rules(vec![2], vec![2]).check(1), Err(RulesError::Repeated(2)));
        assert_eq!(rules(vec![1], vec![]).check(1), Err(RulesError::Itself));
        assert_eq!(
            rules((2..23).collect(), vec![]).check(1),
            Err(RulesError::TooManyPinned)
        );
    }

    #[test]
    fn the_book_keeps_the_latest_rules_of_each_product() {
        let mut book = RulesBook::default();
        let first = Rules {
            pinned: vec![2],
            blocked: vec![],
        };
        let second = Rules {
            pinned: vec![],
            blocked: vec![3],
        };
        book.apply("1", 1, vec![first]);
        book.apply("1", 2, vec![second.clone()]);
        assert_eq!(book.get(1), second);
        assert_eq!(book.get(9), Rules::default());
    }
}
