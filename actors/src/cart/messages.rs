//! What callers send to a cart actor and what they get back.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use super::pricing::{Totals, Warning};
use super::state::{CartError, CartStatus, Line};
use crate::promotion::state::PricingRules;

/// A request to one cart.
#[derive(Debug, Clone)]
pub struct CartCommand {
    /// The signed-in customer making it; `None` for a guest or the system.
    pub caller: Option<String>,
    /// `If-Match`: the version the caller saw.
    pub if_match: Option<u64>,
    /// The discount rules to price with from now on.
    pub rules: Arc<PricingRules>,
    /// Current stock of SKUs: `(sku, available, listed)`, for warnings.
    pub stock: Vec<(String, u64, bool)>,
    /// What to do.
    pub op: CartOp,
}

/// What a cart command does.
#[derive(Debug, Clone)]
pub enum CartOp {
    /// Create the cart for `owner` (idempotent for the same owner).
    Create { owner: Option<String> },
    /// Read it.
    Get,
    /// Add `line.qty` units of `line.sku`.
    Add(Line),
    /// Set a line's quantity.
    SetQty { sku: String, qty: u32 },
    /// Remove a line.
    Remove { sku: String },
    /// Apply a coupon code (already upper-cased).
    ApplyCoupon { code: String },
    /// Remove the coupon.
    RemoveCoupon,
    /// New catalog data for a SKU (system only: no owner or version check).
    Reprice {
        sku: String,
        name: String,
        unit_price: u64,
        currency: String,
    },
    /// Merge a guest cart's lines in (once per guest cart).
    Merge { from: String, lines: Vec<Line> },
    /// Close this guest cart after merging it into `into`.
    Close { into: String },
    /// Freeze the cart for order `order_id` (its checkout).
    BeginCheckout { order_id: String },
    /// Order `order_id` ended (system only): `sold` closes the cart, else it reopens.
    EndCheckout { order_id: String, sold: bool },
}

/// A cart as clients see it: published after every change.
#[derive(Debug)]
pub struct CartView {
    /// The customer it belongs to.
    pub owner: Option<String>,
    /// Changes so far.
    pub version: u64,
    /// Raw lines (for merging).
    pub lines: Vec<Line>,
    /// Priced lines and totals.
    pub totals: Totals,
    /// Currency of the cart, once it has a line.
    pub currency: Option<String>,
    /// Applied coupon code.
    pub coupon: Option<String>,
    /// Stock, listing and coupon warnings.
    pub warnings: Vec<Warning>,
    /// Open, merged, being checked out or checked out.
    pub status: CartStatus,
    /// When this view was priced (push latency is measured from here).
    pub priced_at: Instant,
    /// The client JSON of this view, made once by whoever needs it first.
    pub json: OnceLock<Arc<str>>,
}

impl CartView {
    /// Whether both show clients the same thing (the cached JSON aside).
    pub fn same_as(&self, other: &CartView) -> bool {
        (
            &self.owner,
            self.version,
            &self.lines,
            &self.totals,
            &self.coupon,
            &self.warnings,
            &self.status,
        ) == (
            &other.owner,
            other.version,
            &other.lines,
            &other.totals,
            &other.coupon,
            &other.warnings,
            &other.status,
        )
    }
}

/// The reply to a [`CartCommand`].
pub type CartReply = Result<Arc<CartView>, CartError>;
