//! Each viewer's trail, pure: the products last viewed, most recent first,
//! each once, at most [`KEPT`] (recently viewed); when the viewer first
//! viewed and which carts it filled (the analytics funnel). A guest
//! session's trail moves into the customer's at sign-in. Fed the view log's
//! entries; a view older than what a list already holds of that product
//! changes nothing, so entries applied a little out of order give the same
//! lists.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::catalog::state::ProductId;
use crate::digest::digest16;

/// Products a list holds.
pub const KEPT: usize = 20;
/// Carts a trail remembers, the latest (a shopper fills a few at most).
pub const CARTS_KEPT: usize = 8;

/// Who viewed: a hash of a guest session id or of a customer's user id, so
/// that the view log holds neither in clear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ViewerKey([u8; 16]);

impl ViewerKey {
    /// A guest, by the session id its front end keeps.
    pub fn session(id: &str) -> Self {
        Self::of(b"session\n", id)
    }

    /// A signed-in customer, by user id.
    pub fn customer(user_id: &str) -> Self {
        Self::of(b"customer\n", user_id)
    }

    /// A cart, by id (what the funnel follows from a viewer to an order).
    pub fn cart(cart_id: &str) -> Self {
        Self::of(b"cart\n", cart_id)
    }

    fn of(domain: &[u8], id: &str) -> Self {
        ViewerKey(digest16(domain, id))
    }
}

impl std::fmt::Display for ViewerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

/// One entry of the view log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Entry {
    /// `viewer` looked at `product` at `at_ms` (Unix ms).
    Viewed {
        at_ms: u64,
        viewer: ViewerKey,
        product: ProductId,
    },
    /// Guest `session` signed in as `customer`: its views are the customer's now.
    Merged {
        at_ms: u64,
        session: ViewerKey,
        customer: ViewerKey,
    },
    /// `viewer` put something in `cart` (a [`ViewerKey::cart`]).
    Carted {
        at_ms: u64,
        viewer: ViewerKey,
        cart: ViewerKey,
    },
}

impl Entry {
    /// When it happened (Unix ms).
    pub fn at_ms(&self) -> u64 {
        match self {
            Entry::Viewed { at_ms, .. } | Entry::Merged { at_ms, .. } | Entry::Carted { at_ms, .. } => *at_ms,
        }
    }
}

/// A viewed product and when (Unix ms).
pub type Seen = (ProductId, u64);

/// What a viewer did.
#[derive(Debug, Clone, Default)]
pub struct Trail {
    /// Most recent first, each product once; never empty.
    pub seen: Vec<Seen>,
    /// When it first viewed a product (Unix ms).
    pub first_view: u64,
    /// The carts it filled.
    pub carts: Vec<ViewerKey>,
}

/// Adds `cart` to `carts` once, forgetting the oldest past [`CARTS_KEPT`].
fn remember_cart(carts: &mut Vec<ViewerKey>, cart: ViewerKey) {
    if !carts.contains(&cart) {
        if carts.len() >= CARTS_KEPT {
            carts.remove(0);
        }
        carts.push(cart);
    }
}

/// Every viewer's trail.
#[derive(Debug, Default)]
pub struct RecentBook {
    lists: HashMap<ViewerKey, Trail>,
}

impl RecentBook {
    /// Applies one log entry.
    pub fn apply(&mut self, entry: &Entry) {
        match *entry {
            Entry::Viewed { at_ms, viewer, product } => {
                let trail = self.lists.entry(viewer).or_insert_with(|| Trail {
                    first_view: at_ms,
                    ..Trail::default()
                });
                trail.first_view = trail.first_view.min(at_ms);
                let list = &mut trail.seen;
                if list.iter().any(|&(seen, at)| seen == product && at >= at_ms) {
                    return;
                }
                list.retain(|&(seen, _)| seen != product);
                let place = list.partition_point(|&(_, at)| at > at_ms);
                list.insert(place, (product, at_ms));
                list.truncate(KEPT);
            }
            Entry::Merged { session, customer, .. } => {
                let Some(guest) = self.lists.remove(&session) else {
                    return;
                };
                let trail = self.lists.entry(customer).or_insert_with(|| Trail {
                    first_view: guest.first_view,
                    ..Trail::default()
                });
                trail.first_view = trail.first_view.min(guest.first_view);
                for cart in guest.carts {
                    remember_cart(&mut trail.carts, cart);
                }
                let list = &mut trail.seen;
                list.extend(guest.seen);
                // Newest first; of one product, its newest view.
                list.sort_by_key(|seen| std::cmp::Reverse(seen.1));
                let mut kept: Vec<Seen> = Vec::with_capacity(KEPT);
                for seen in list.drain(..) {
                    if kept.len() < KEPT && !kept.iter().any(|(product, _)| *product == seen.0) {
                        kept.push(seen);
                    }
                }
                *list = kept;
            }
            Entry::Carted { viewer, cart, .. } => {
                // Only viewers are followed: the funnel starts at a view.
                if let Some(trail) = self.lists.get_mut(&viewer) {
                    remember_cart(&mut trail.carts, cart);
                }
            }
        }
    }

    /// `viewer`'s list, most recent first.
    pub fn get(&self, viewer: &ViewerKey) -> &[Seen] {
        self.lists.get(viewer).map_or(&[], |trail| trail.seen.as_slice())
    }

    /// Whether `viewer` is followed (it viewed) and has not filled `cart` yet:
    /// whether a `Carted` entry would change anything.
    pub fn would_follow_cart(&self, viewer: &ViewerKey, cart: &ViewerKey) -> bool {
        self.lists.get(viewer).is_some_and(|trail| !trail.carts.contains(cart))
    }

    /// The viewers that first viewed in `[from, to)`, and their trails.
    pub fn first_viewed_in(&self, from: u64, to: u64) -> impl Iterator<Item = (&ViewerKey, &Trail)> {
        self.lists
            .iter()
            .filter(move |(_, trail)| (from..to).contains(&trail.first_view))
    }

    /// Viewers with a list.
    pub fn viewers(&self) -> usize {
        self.lists.len()
    }

    /// Forgets the views before `cutoff_ms` (the log's retention), and then,
    /// while more than `max_viewers` have a list, the viewers whose last view
    /// is the oldest; answers how many viewers went.
    pub fn forget(&mut self, cutoff_ms: u64, max_viewers: usize) -> usize {
        let before = self.lists.len();
        self.lists.retain(|_, trail| {
            trail.seen.retain(|&(_, at)| at >= cutoff_ms);
            !trail.seen.is_empty()
        });
        if self.lists.len() > max_viewers {
            let mut latest: Vec<u64> = self.lists.values().map(|trail| trail.seen[0].1).collect();
            let drop = self.lists.len() - max_viewers;
            let (_, &mut boundary, _) = latest.select_nth_unstable(drop - 1);
            let mut dropped = 0;
            self.lists.retain(|_, trail| {
                let goes = dropped < drop && trail.seen[0].1 <= boundary;
                dropped += usize::from(goes);
                !goes
            });
        }
        before - self.lists.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewed(book: &mut RecentBook, viewer: ViewerKey, product: ProductId, at_ms: u64) {
        book.apply(&Entry::Viewed { at_ms, viewer, product });
    }

    fn products(book: &RecentBook, viewer: &ViewerKey) -> Vec<ProductId> {
        book.get(viewer).iter().map(|(product, _)| *product).collect()
    }

    #[test]
    fn lists_most_recent_first_each_product_once() {
        let (mut book, guest) = (RecentBook::default(), ViewerKey::session("s1"));
        for (product, at) in [(1, 10), (2, 20), (1, 30), (3, 40)] {
            viewed(&mut book, guest, product, at);
        }
        assert_eq!(products(&book, &guest), vec![3, 1, 2]);
    }

    #[test]
    fn keeps_the_twenty_latest() {
        let (mut book, guest) = (RecentBook::default(), ViewerKey::session("s1"));
        for product in 1..=30 {
            viewed(&mut book, guest, product, product * 10);
        }
        assert_eq!(products(&book, &guest), (11..=30).rev().collect::<Vec<_>>());
    }

    #[test]
    fn an_older_view_arriving_late_changes_nothing_it_should_not() {
        let (mut book, guest) = (RecentBook::default(), ViewerKey::session("s1"));
        viewed(&mut book, guest, 1, 50);
        viewed(&mut book, guest, 2, 40);
        viewed(&mut book, guest, 1, 10);
        viewed(&mut book, guest, 3, 45);
        assert_eq!(products(&book, &guest), vec![1, 3, 2]);
    }

    #[test]
    fn a_merge_interleaves_by_time_and_empties_the_session() {
        let mut book = RecentBook::default();
        let (guest, customer) = (ViewerKey::session("s1"), ViewerKey::customer("u1"));
        viewed(&mut book, customer, 1, 10);
        viewed(&mut book, customer, 2, 30);
        viewed(&mut book, guest, 3, 20);
        viewed(&mut book, guest, 1, 40);
        book.apply(&Entry::Merged {
            at_ms: 50,
            session: guest,
            customer,
        });
        assert_eq!(products(&book, &customer), vec![1, 2, 3]);
        assert!(book.get(&guest).is_empty());
    }

    #[test]
    fn forgets_old_views_then_the_least_recent_viewers() {
        let mut book = RecentBook::default();
        for n in 0..10u64 {
            let viewer = ViewerKey::session(&n.to_string());
            viewed(&mut book, viewer, 1, 100 + n);
            viewed(&mut book, viewer, 2, n);
        }
        assert_eq!(book.forget(50, 4), 6);
        assert_eq!(book.viewers(), 4);
        let newest = ViewerKey::session("9");
        assert_eq!(products(&book, &newest), vec![1]);
        assert!(book.get(&ViewerKey::session("5")).is_empty());
    }

    #[test]
    fn a_trail_keeps_the_first_view_and_the_carts_across_a_merge() {
        let mut book = RecentBook::default();
        let (guest, customer) = (ViewerKey::session("s1"), ViewerKey::customer("u1"));
        let cart = |id: &str| ViewerKey::cart(id);
        book.apply(&Entry::Carted {
            at_ms: 1,
            viewer: guest,
            cart: cart("c0"),
        });
        viewed(&mut book, guest, 1, 20);
        viewed(&mut book, guest, 2, 10);
        book.apply(&Entry::Carted {
            at_ms: 30,
            viewer: guest,
            cart: cart("c1"),
        });
        viewed(&mut book, customer, 3, 40);
        book.apply(&Entry::Merged {
            at_ms: 50,
            session: guest,
            customer,
        });
        let cohort: Vec<(&ViewerKey, &Trail)> = book.first_viewed_in(10, 11).collect();
        assert_eq!(cohort.len(), 1);
        assert_eq!(*cohort[0].0, customer);
        assert_eq!(
            cohort[0].1.carts,
            vec![cart("c1")],
            "a cart filled before any view is not followed"
        );
        assert!(!book.would_follow_cart(&customer, &cart("c1")), "filled already");
        assert!(book.would_follow_cart(&customer, &cart("c2")));
        assert!(!book.would_follow_cart(&ViewerKey::session("never viewed"), &cart("c2")));
        assert_eq!(book.first_viewed_in(11, 100).count(), 0);
    }

    #[test]
    fn a_trail_remembers_the_latest_carts_only() {
        let (mut book, guest) = (RecentBook::default(), ViewerKey::session("s1"));
        viewed(&mut book, guest, 1, 10);
        for n in 0..CARTS_KEPT + 2 {
            let cart = ViewerKey::cart(&n.to_string());
            book.apply(&Entry::Carted {
                at_ms: 20,
                viewer: guest,
                cart,
            });
            book.apply(&Entry::Carted {
                at_ms: 21,
                viewer: guest,
                cart,
            });
        }
        let (_, trail) = book.first_viewed_in(0, 100).next().unwrap();
        let expected: Vec<ViewerKey> = (2..CARTS_KEPT + 2).map(|n| ViewerKey::cart(&n.to_string())).collect();
        assert_eq!(trail.carts, expected);
    }

    #[test]
    fn sessions_and_customers_with_one_id_are_different_viewers() {
        assert_ne!(ViewerKey::session("x"), ViewerKey::customer("x"));
    }
}
