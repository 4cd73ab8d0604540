//! Links to an order's page: a guest's carries the order token, an HMAC of
//! the order id (nothing is stored), which lets a guest read the order
//! without an account. The API checks the same token (`X-Order-Token`).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Makes order tokens and order-page links.
#[derive(Clone)]
pub struct OrderLinks {
    /// Key of the token HMAC.
    key: [u8; 32],
    /// Where the shop is served, e.g. `https://shop.example`, without a
    /// trailing slash.
    base_url: String,
}

impl OrderLinks {
    /// Links under `base_url` with tokens keyed by `key`.
    pub fn new(key: [u8; 32], base_url: &str) -> Self {
        OrderLinks {
            key,
            base_url: base_url.trim_end_matches('/').to_string(),
        }
    }

    /// The order token of order `id`.
    pub fn token(&self, id: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(id.as_bytes());
        mac.finalize().into_bytes()[..16]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    /// The order page of order `id`; a guest's carries the token.
    pub fn page(&self, id: &str, guest: bool) -> String {
        match guest {
            true => format!("{}/orders/{id}?token={}", self.base_url, self.token(id)),
            false => format!("{}/orders/{id}", self.base_url),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::OrderLinks;

    #[test]
    fn a_guests_link_carries_the_token_of_that_order_only() {
        let links = OrderLinks::new([7; 32], "https://shop.example/");
        let token = links.token("a1");
        assert_eq!(token.len(), 32);
        assert_ne!(token, links.token("a2"));
        assert_ne!(token, OrderLinks::new([8; 32], "x").token("a1"), "the key matters");
        assert_eq!(
            links.page("a1", true),
            format!("https://shop.example/orders/a1?token={token}")
        );
        assert_eq!(links.page("a1", false), "https://shop.example/orders/a1");
    }
}
