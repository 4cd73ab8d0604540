//! What an order is made of, pure data: the frozen cart it was placed from,
//! its lines, why it was refused, and the refund it owes.

use serde::{Deserialize, Serialize};

use crate::account::address::Address;
use crate::runtime::UnixMillis;

/// One line as it was bought.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    /// The SKU.
    pub sku: String,
    /// Product name at checkout.
    pub name: String,
    /// Units.
    pub qty: u32,
    /// Unit price at checkout, minor units.
    pub unit_price: u64,
    /// `qty × unit_price`.
    pub line_total: u64,
}

/// The frozen, priced cart an order was placed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// The cart checked out.
    pub cart_id: String,
    /// The customer, or `None` for a guest.
    pub owner: Option<String>,
    /// Where mails go.
    pub email: String,
    /// Where the parcel goes.
    pub shipping_address: Address,
    /// The lines.
    pub lines: Vec<OrderLine>,
    /// Σ line totals.
    pub subtotal: u64,
    /// Σ discounts.
    pub discount: u64,
    /// What is charged.
    pub total: u64,
    /// ISO 4217.
    pub currency: String,
    /// The coupon used.
    pub coupon: Option<String>,
    /// Digest of the checkout request's body: a retry with the same key and
    /// another body is refused (until the idempotency record holds it too).
    pub fingerprint: [u8; 32],
    /// When it was placed.
    pub placed_at: UnixMillis,
    /// When an unpaid order expires.
    pub payment_deadline: UnixMillis,
}

/// A line that could not be reserved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shortage {
    /// The SKU.
    pub sku: String,
    /// Units asked for.
    pub requested: u64,
    /// Units available then.
    pub available: u64,
}

/// Why the coupon's use could not be claimed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouponRefusal {
    /// The API's code (`coupon_used_up`, ...).
    pub code: String,
    /// In words.
    pub message: String,
}

/// A refund the order owes, recorded before any of its side effects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundDue {
    /// Why.
    pub reason: String,
    /// Lines whose sold units come back to stock first.
    pub restock: Vec<usize>,
    /// Whether they have.
    pub restocked: bool,
    /// Refund attempts the gateway refused or did not answer.
    pub failures: u32,
    /// The last gateway error.
    pub last_error: Option<String>,
    /// Not before then is the refund tried again.
    pub retry_at: UnixMillis,
}

impl Placement {
    /// A placement for tests and benchmarks: lines of `(sku, units, unit
    /// price)`, total = Σ lines.
    pub fn example(placed_at: UnixMillis, currency: &str, lines: &[(&str, u32, u64)]) -> Self {
        let lines: Vec<OrderLine> = (lines.iter())
            .map(|(sku, qty, unit_price)| OrderLine {
                sku: sku.to_string(),
                name: sku.to_string(),
                qty: *qty,
                unit_price: *unit_price,
                line_total: u64::from(*qty) * unit_price,
            })
            .collect();
        let total = lines.iter().map(|line| line.line_total).sum();
        Placement {
            cart_id: "c".into(),
            owner: None,
            email: "a@example.com".into(),
            shipping_address: crate::account::address::example_in("Berlin"),
            lines,
            subtotal: total,
            discount: 0,
            total,
            currency: currency.into(),
            coupon: None,
            fingerprint: [0; 32],
            placed_at,
            payment_deadline: placed_at + 60_000,
        }
    }
}
