//! One cart as a pure state machine: lines, coupon code, owner, version.
//!
//! Every change is one event and bumps `version` by one, so clients can order
//! what they see and make conditional writes. Prices and availability are given
//! by the caller (the front door reads them from the catalog's price table and
//! the SKU actors); the cart only keeps them with its lines.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::catalog::CategoryId;

/// Most units on one line.
pub const MAX_QTY: u32 = 999;
/// Most lines in one cart.
pub const MAX_LINES: usize = 100;

/// One line of a cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// The SKU (unique within the cart).
    pub sku: String,
    /// Product name when last priced.
    pub name: String,
    /// Units, 1..=999.
    pub qty: u32,
    /// Price of one unit in minor units, from the catalog.
    pub unit_price: u64,
    /// ISO 4217 code; one currency per cart.
    pub currency: String,
    /// The product's category and its ancestors (for discount scopes).
    pub category_path: Vec<CategoryId>,
}

impl Line {
    /// `qty × unit_price`.
    pub fn total(&self) -> u64 {
        u64::from(self.qty) * self.unit_price
    }
}

/// Whether the cart takes changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CartStatus {
    /// Takes changes.
    #[default]
    Open,
    /// Merged into a signed-in customer's cart at login; read-only.
    Merged { into: String },
    /// Frozen while order `order_id` is being placed and paid; read-only.
    CheckingOut { order_id: String },
    /// Bought as order `order_id`; read-only for good.
    CheckedOut { order_id: String },
}

impl CartStatus {
    /// The name in the API.
    pub fn name(&self) -> &'static str {
        match self {
            CartStatus::Open => "open",
            CartStatus::Merged { .. } => "merged",
            CartStatus::CheckingOut { .. } => "checking_out",
            CartStatus::CheckedOut { .. } => "checked_out",
        }
    }

    /// The order that holds the cart, if one does.
    pub fn order_id(&self) -> Option<&str> {
        match self {
            CartStatus::CheckingOut { order_id } | CartStatus::CheckedOut { order_id } => Some(order_id),
            CartStatus::Open | CartStatus::Merged { .. } => None,
        }
    }
}

/// A change of a cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CartEvent {
    /// The cart was created (for `owner`, or a guest cart).
    Created { owner: Option<String> },
    /// A line was added or replaced (matched by SKU).
    LineSet(Line),
    /// A line was removed.
    LineRemoved { sku: String },
    /// A coupon code was applied (replacing any other).
    CouponApplied { code: String },
    /// The coupon was removed.
    CouponRemoved,
    /// A guest cart's lines were merged in (once per guest cart).
    MergedIn { from: String, lines: Vec<Line> },
    /// The cart was merged into another and is closed.
    Closed { into: String },
    /// Order `order_id` froze the cart to check it out.
    CheckoutBegun { order_id: String },
    /// Order `order_id` ended: `sold` closes the cart for good, else it is open again.
    CheckoutEnded { order_id: String, sold: bool },
}

/// Why a cart refuses a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CartError {
    /// No cart has this id.
    #[error("no such cart")]
    NotFound,
    /// The cart belongs to another customer.
    #[error("this cart belongs to another customer")]
    Forbidden,
    /// The cart was merged into a customer's cart.
    #[error("this cart was merged into a customer's cart and takes no changes")]
    Closed,
    /// An order froze or bought the cart.
    #[error("this cart was checked out as order {order_id}")]
    CheckedOut { order_id: String },
    /// `If-Match` named another version.
    #[error("the cart is at version {current}")]
    VersionMismatch { current: u64 },
    /// A quantity outside 1..=999.
    #[error("qty must be between 1 and {MAX_QTY}")]
    QtyOutOfRange,
    /// Adding would take the line past 999 units.
    #[error("the line already holds {in_cart}; a line holds at most {MAX_QTY} units")]
    LineFull { in_cart: u32 },
    /// The cart is full.
    #[error("a cart holds at most {MAX_LINES} lines")]
    TooManyLines,
    /// No line for this SKU.
    #[error("no line for SKU {0}")]
    LineNotFound(String),
    /// The product is priced in another currency than the cart.
    #[error("the cart is in {cart}; this product is priced in {product}")]
    CurrencyMismatch { cart: String, product: String },
    /// The coupon does not apply.
    #[error(transparent)]
    Coupon(#[from] super::pricing::CouponError),
}

/// A cart's state; also its snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartState {
    /// Set by `Created`.
    created: bool,
    /// The customer it belongs to; `None`: a guest cart, open to whoever holds its id.
    owner: Option<String>,
    /// Events applied.
    version: u64,
    /// Lines in the order first added.
    lines: Vec<Line>,
    /// Applied coupon code.
    coupon: Option<String>,
    /// Guest carts already merged in (merging is idempotent).
    merged_from: BTreeSet<String>,
    /// Open or merged away.
    status: CartStatus,
}

impl CartState {
    /// Whether the cart exists.
    pub fn created(&self) -> bool {
        self.created
    }

    /// Its owner.
    pub fn owner(&self) -> Option<&str> {
        self.owner.as_deref()
    }

    /// Changes so far.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The lines.
    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    /// The applied coupon code.
    pub fn coupon(&self) -> Option<&str> {
        self.coupon.as_deref()
    }

    /// Open or merged.
    pub fn status(&self) -> &CartStatus {
        &self.status
    }

    /// The cart's currency (of its first line).
    pub fn currency(&self) -> Option<&str> {
        self.lines.first().map(|line| line.currency.as_str())
    }

    /// Decides a creation (idempotent for the same owner).
    pub fn create(&self, owner: Option<String>) -> Result<Option<CartEvent>, CartError> {
        match self.created {
            false => Ok(Some(CartEvent::Created { owner })),
            true if self.owner == owner => Ok(None),
            true => Err(CartError::Forbidden),
        }
    }

    /// Checks that `caller` may read the cart.
    pub fn check_reader(&self, caller: Option<&str>) -> Result<(), CartError> {
        if !self.created {
            return Err(CartError::NotFound);
        }
        match &self.owner {
            Some(owner) if Some(owner.as_str()) != caller => Err(CartError::Forbidden),
            _ => Ok(()),
        }
    }

    /// Checks that `caller` may change the cart at version `if_match`.
    pub fn check_writer(&self, caller: Option<&str>, if_match: Option<u64>) -> Result<(), CartError> {
        self.check_reader(caller)?;
        match &self.status {
            CartStatus::Open => {}
            CartStatus::Merged { .. } => return Err(CartError::Closed),
            CartStatus::CheckingOut { order_id } | CartStatus::CheckedOut { order_id } => {
                return Err(CartError::CheckedOut {
                    order_id: order_id.clone(),
                })
            }
        }
        match if_match {
            Some(expected) if expected != self.version => Err(CartError::VersionMismatch { current: self.version }),
            _ => Ok(()),
        }
    }

    fn line(&self, sku: &str) -> Option<&Line> {
        self.lines.iter().find(|line| line.sku == sku)
    }

    fn check_currency(&self, line: &Line) -> Result<(), CartError> {
        match self.currency() {
            Some(cart) if cart != line.currency && !(self.lines.len() == 1 && self.lines[0].sku == line.sku) => {
                Err(CartError::CurrencyMismatch {
                    cart: cart.to_string(),
                    product: line.currency.clone(),
                })
            }
            _ => Ok(()),
        }
    }

    /// Decides adding `line.qty` units (to an existing line, or as a new one).
    pub fn add(&self, mut line: Line) -> Result<CartEvent, CartError> {
        if line.qty == 0 || line.qty > MAX_QTY {
            return Err(CartError::QtyOutOfRange);
        }
        let in_cart = self.line(&line.sku).map_or(0, |existing| existing.qty);
        let qty = in_cart + line.qty;
        if qty > MAX_QTY {
            return Err(CartError::LineFull { in_cart });
        }
        if self.line(&line.sku).is_none() && self.lines.len() >= MAX_LINES {
            return Err(CartError::TooManyLines);
        }
        self.check_currency(&line)?;
        line.qty = qty;
        Ok(CartEvent::LineSet(line))
    }

    /// Decides a new quantity for the line of `sku`.
    pub fn set_qty(&self, sku: &str, qty: u32) -> Result<CartEvent, CartError> {
        if !(1..=MAX_QTY).contains(&qty) {
            return Err(CartError::QtyOutOfRange);
        }
        let mut line = self
            .line(sku)
            .cloned()
            .ok_or_else(|| CartError::LineNotFound(sku.to_string()))?;
        line.qty = qty;
        Ok(CartEvent::LineSet(line))
    }

    /// Decides removing the line of `sku`.
    pub fn remove(&self, sku: &str) -> Result<CartEvent, CartError> {
        self.line(sku).ok_or_else(|| CartError::LineNotFound(sku.to_string()))?;
        Ok(CartEvent::LineRemoved { sku: sku.to_string() })
    }

    /// Decides a new price (and name) for the line of `sku`, if it changed.
    pub fn reprice(&self, sku: &str, name: &str, unit_price: u64, currency: &str) -> Option<CartEvent> {
        let line = self.line(sku)?;
        if (line.unit_price, line.name.as_str(), line.currency.as_str()) == (unit_price, name, currency) {
            return None;
        }
        Some(CartEvent::LineSet(Line {
            name: name.to_string(),
            unit_price,
            currency: currency.to_string(),
            ..line.clone()
        }))
    }

    /// Decides freezing the cart for order `order_id` (nothing if that order
    /// holds it already); another order's hold is refused.
    pub fn begin_checkout(&self, caller: Option<&str>, order_id: &str) -> Result<Option<CartEvent>, CartError> {
        self.check_reader(caller)?;
        match &self.status {
            CartStatus::CheckingOut { order_id: held } | CartStatus::CheckedOut { order_id: held }
                if held == order_id =>
            {
                Ok(None)
            }
            _ => {
                self.check_writer(caller, None)?;
                Ok(Some(CartEvent::CheckoutBegun {
                    order_id: order_id.to_string(),
                }))
            }
        }
    }

    /// Decides the end of order `order_id`'s checkout (nothing unless that order
    /// holds the cart, or when it is already so).
    pub fn end_checkout(&self, order_id: &str, sold: bool) -> Option<CartEvent> {
        let held = self.status.order_id() == Some(order_id);
        let already = matches!(
            (&self.status, sold),
            (CartStatus::CheckedOut { .. }, true) | (CartStatus::Open, false)
        );
        (held && !already).then(|| CartEvent::CheckoutEnded {
            order_id: order_id.to_string(),
            sold,
        })
    }

    /// Decides merging a guest cart's `lines`: quantities add up to the line
    /// limit; new lines beyond the cart limit or in another currency are left out.
    pub fn merge(&self, from: &str, lines: &[Line]) -> Option<CartEvent> {
        if self.merged_from.contains(from) {
            return None;
        }
        let mut merged: Vec<Line> = Vec::new();
        let mut count = self.lines.len();
        let mut currency = self.currency().map(str::to_string);
        for guest in lines {
            if currency.as_deref().is_some_and(|c| c != guest.currency) {
                continue;
            }
            currency.get_or_insert_with(|| guest.currency.clone());
            match self.line(&guest.sku) {
                Some(existing) => merged.push(Line {
                    qty: (existing.qty + guest.qty).min(MAX_QTY),
                    ..existing.clone()
                }),
                None if count < MAX_LINES => {
                    count += 1;
                    merged.push(guest.clone());
                }
                None => {}
            }
        }
        Some(CartEvent::MergedIn {
            from: from.to_string(),
            lines: merged,
        })
    }

    /// Applies one event.
    pub fn apply(&mut self, event: &CartEvent) {
        self.version += 1;
        match event {
            CartEvent::Created { owner } => {
                self.created = true;
                self.owner = owner.clone();
            }
            CartEvent::LineSet(line) => self.set_line(line.clone()),
            CartEvent::LineRemoved { sku } => self.lines.retain(|line| &line.sku != sku),
            CartEvent::CouponApplied { code } => self.coupon = Some(code.clone()),
            CartEvent::CouponRemoved => self.coupon = None,
            CartEvent::MergedIn { from, lines } => {
                self.merged_from.insert(from.clone());
                for line in lines {
                    self.set_line(line.clone());
                }
            }
            CartEvent::Closed { into } => self.status = CartStatus::Merged { into: into.clone() },
            CartEvent::CheckoutBegun { order_id } => {
                self.status = CartStatus::CheckingOut {
                    order_id: order_id.clone(),
                }
            }
            CartEvent::CheckoutEnded { order_id, sold: true } => {
                self.status = CartStatus::CheckedOut {
                    order_id: order_id.clone(),
                }
            }
            CartEvent::CheckoutEnded { sold: false, .. } => self.status = CartStatus::Open,
        }
    }

    fn set_line(&mut self, line: Line) {
        match self.lines.iter_mut().find(|existing| existing.sku == line.sku) {
            Some(existing) => *existing = line,
            None => self.lines.push(line),
        }
    }
}

#[cfg(test)]
mod tests;
