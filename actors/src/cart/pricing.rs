//! Cart pricing, pure: lines and rules in, totals, applied discounts and
//! warnings out.
//!
//! Money is integer minor units. `line_total = qty × unit_price`;
//! `subtotal = Σ line_total`; `total = subtotal − discount`, never negative.
//!
//! **Stacking rule**, in this order, each step on what the earlier ones left:
//! 1. every buy-X-get-Y promotion in force takes its free units off its line;
//! 2. of the tiered promotions in force, the one worth most takes its percent
//!    off the remaining subtotal (tiers are chosen by the original subtotal);
//! 3. the cart's coupon (at most one) takes its percent, or its fixed amount,
//!    off the remaining amount of the lines in its scope, and at most what the
//!    cart has left.
//!
//! **Rounding**: a percentage discount is rounded down to the minor unit, so a
//! discount never exceeds its stated percentage.

use super::state::Line;
use crate::promotion::state::{Amount, Coupon, PricingRules, PromotionRule, Scope};
use crate::runtime::UnixMillis;

/// A line with its total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedLine {
    /// The SKU.
    pub sku: String,
    /// Product name.
    pub name: String,
    /// Units.
    pub qty: u32,
    /// Price of one unit, minor units.
    pub unit_price: u64,
    /// `qty × unit_price`.
    pub line_total: u64,
}

/// A discount that applies, and how much it takes off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedDiscount {
    /// `promotion` or `coupon`.
    pub kind: &'static str,
    /// Promotion name or coupon code.
    pub label: String,
    /// Minor units taken off.
    pub amount: u64,
}

/// Something the customer should know about the cart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Stable code: `insufficient_stock`, `unavailable`, `coupon_not_applicable`.
    pub code: &'static str,
    /// The line it concerns, if any.
    pub sku: Option<String>,
    /// For people.
    pub message: String,
}

/// A priced cart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    /// Lines in cart order.
    pub lines: Vec<PricedLine>,
    /// Σ line totals.
    pub subtotal: u64,
    /// Σ applied discounts, at most `subtotal`.
    pub discount: u64,
    /// `subtotal − discount`.
    pub total: u64,
    /// What took the discount off.
    pub applied: Vec<AppliedDiscount>,
}

/// Why a coupon does not apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CouponError {
    /// No coupon has this code.
    #[error("no coupon has this code")]
    Unknown,
    /// Before its validity window.
    #[error("the coupon is not valid yet")]
    NotStarted,
    /// After its validity window.
    #[error("the coupon has expired")]
    Expired,
    /// Used as often as it may be.
    #[error("the coupon has been used up")]
    UsedUp,
    /// This customer used it as often as they may.
    #[error("you have used this coupon as often as it allows")]
    UsedUpByCustomer,
    /// Limited per customer, so it needs a signed-in customer.
    #[error("this coupon needs a signed-in customer")]
    NeedsAccount,
    /// The subtotal is too low.
    #[error("the coupon needs a subtotal of at least {min_subtotal}")]
    BelowMinimum { min_subtotal: u64 },
    /// No line is in its scope.
    #[error("no item in the cart is eligible for this coupon")]
    NothingEligible,
    /// A fixed amount in another currency.
    #[error("the coupon is in another currency than the cart")]
    CurrencyMismatch,
}

impl CouponError {
    /// Stable code for the API.
    pub fn code(&self) -> &'static str {
        match self {
            CouponError::Unknown => "coupon_unknown",
            CouponError::NotStarted => "coupon_not_started",
            CouponError::Expired => "coupon_expired",
            CouponError::UsedUp => "coupon_used_up",
            CouponError::UsedUpByCustomer => "coupon_used_up_by_customer",
            CouponError::NeedsAccount => "coupon_needs_account",
            CouponError::BelowMinimum { .. } => "coupon_below_minimum",
            CouponError::NothingEligible => "coupon_not_applicable",
            CouponError::CurrencyMismatch => "coupon_currency_mismatch",
        }
    }
}

fn in_scope(scope: &Scope, line: &Line) -> bool {
    match scope {
        Scope::Cart => true,
        Scope::Categories(ids) => line.category_path.iter().any(|id| ids.contains(id)),
        Scope::Skus(skus) => skus.contains(&line.sku),
    }
}

fn percent_of(amount: u64, percent: u8) -> u64 {
    (u128::from(amount) * u128::from(percent) / 100) as u64
}

/// Whether `customer` may use `coupon` at `now` at all: its window and its
/// use limits (what an order's claim checks again, one claim at a time).
pub fn check_coupon_use(coupon: &Coupon, customer: Option<&str>, now: UnixMillis) -> Result<(), CouponError> {
    if coupon.window.starts_at.is_some_and(|start| now < start) {
        return Err(CouponError::NotStarted);
    }
    if coupon.window.ends_at.is_some_and(|end| now >= end) {
        return Err(CouponError::Expired);
    }
    if coupon.max_uses.is_some_and(|max| coupon.uses >= max) {
        return Err(CouponError::UsedUp);
    }
    if let Some(max) = coupon.max_uses_per_customer {
        let customer = customer.ok_or(CouponError::NeedsAccount)?;
        if coupon.uses_by_customer.get(customer).copied().unwrap_or(0) >= max {
            return Err(CouponError::UsedUpByCustomer);
        }
    }
    Ok(())
}

/// Whether `coupon` may be used now on `lines` by `customer`.
pub fn check_coupon(
    coupon: &Coupon,
    lines: &[Line],
    customer: Option<&str>,
    now: UnixMillis,
) -> Result<(), CouponError> {
    check_coupon_use(coupon, customer, now)?;
    let subtotal: u64 = lines.iter().map(Line::total).sum();
    if subtotal < coupon.min_subtotal {
        return Err(CouponError::BelowMinimum {
            min_subtotal: coupon.min_subtotal,
        });
    }
    if !lines.iter().any(|line| in_scope(&coupon.scope, line)) {
        return Err(CouponError::NothingEligible);
    }
    if let Amount::Fixed { currency, .. } = &coupon.amount {
        if lines.first().is_some_and(|line| &line.currency != currency) {
            return Err(CouponError::CurrencyMismatch);
        }
    }
    Ok(())
}

/// Prices `lines` with the promotions in force and `coupon` (its code), for
/// `customer`. A coupon that does not apply (any more) prices as nothing and
/// comes back as the error.
pub fn price(
    lines: &[Line],
    coupon: Option<&str>,
    customer: Option<&str>,
    rules: &PricingRules,
    now: UnixMillis,
) -> (Totals, Option<CouponError>) {
    let mut remaining: Vec<u64> = lines.iter().map(Line::total).collect();
    let subtotal: u64 = remaining.iter().sum();
    let mut applied = Vec::new();
    let in_force = || rules.promotions.values().filter(|p| p.window.contains(now));

    for promotion in in_force() {
        if let PromotionRule::BuyXGetY { sku, buy, get } = &promotion.rule {
            for (line, left) in lines.iter().zip(remaining.iter_mut()) {
                if &line.sku != sku {
                    continue;
                }
                let free_units = u64::from(line.qty / (buy + get) * get);
                let amount = (free_units * line.unit_price).min(*left);
                if amount > 0 {
                    *left -= amount;
                    applied.push(AppliedDiscount {
                        kind: "promotion",
                        label: promotion.name.clone(),
                        amount,
                    });
                }
            }
        }
    }

    let after_lines: u64 = remaining.iter().sum();
    let best_tier = in_force()
        .filter_map(|promotion| match &promotion.rule {
            PromotionRule::TieredPercent { tiers } => tiers
                .iter()
                .filter(|tier| subtotal >= tier.min_subtotal)
                .map(|tier| percent_of(after_lines, tier.percent))
                .max()
                .map(|amount| (amount, promotion)),
            PromotionRule::BuyXGetY { .. } => None,
        })
        .max_by_key(|(amount, promotion)| (*amount, std::cmp::Reverse(promotion.id)));
    let mut left_in_cart = after_lines;
    if let Some((amount, promotion)) = best_tier.filter(|(amount, _)| *amount > 0) {
        left_in_cart -= amount;
        applied.push(AppliedDiscount {
            kind: "promotion",
            label: promotion.name.clone(),
            amount,
        });
    }

    let mut coupon_error = None;
    if let Some(code) = coupon {
        let checked = rules
            .coupons
            .get(code)
            .ok_or(CouponError::Unknown)
            .and_then(|found| check_coupon(found, lines, customer, now).map(|()| found));
        match checked {
            Err(err) => coupon_error = Some(err),
            Ok(found) => {
                let eligible: u64 = lines
                    .iter()
                    .zip(&remaining)
                    .filter(|(line, _)| in_scope(&found.scope, line))
                    .map(|(_, left)| left)
                    .sum();
                let amount = match &found.amount {
                    Amount::Percent(percent) => percent_of(eligible, *percent),
                    Amount::Fixed { amount, .. } => (*amount).min(eligible),
                }
                .min(left_in_cart);
                if amount > 0 {
                    applied.push(AppliedDiscount {
                        kind: "coupon",
                        label: found.code.clone(),
                        amount,
                    });
                }
            }
        }
    }

    let discount: u64 = applied.iter().map(|applied| applied.amount).sum();
    let totals = Totals {
        lines: lines
            .iter()
            .map(|line| PricedLine {
                sku: line.sku.clone(),
                name: line.name.clone(),
                qty: line.qty,
                unit_price: line.unit_price,
                line_total: line.total(),
            })
            .collect(),
        subtotal,
        discount,
        total: subtotal - discount,
        applied,
    };
    (totals, coupon_error)
}

#[cfg(test)]
mod tests;
