//! Discount rules as pure data: coupons (with a code) and automatic promotions
//! (without one), and the one state that holds them all, so that codes stay
//! unique and a cart prices against one consistent set.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::catalog::CategoryId;
use crate::runtime::UnixMillis;

/// Longest coupon code.
pub const MAX_CODE_LEN: usize = 32;
/// Most tiers in a tiered promotion.
pub const MAX_TIERS: usize = 10;

/// What a discount applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scope {
    /// Every line.
    Cart,
    /// Lines whose product is in one of these categories or below them.
    Categories(BTreeSet<CategoryId>),
    /// Lines of these SKUs.
    Skus(BTreeSet<String>),
}

/// How much a coupon takes off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Amount {
    /// A whole percentage (1..=100) of what it applies to, rounded down.
    Percent(u8),
    /// A fixed amount in minor units of `currency`, at most what it applies to.
    Fixed { amount: u64, currency: String },
}

/// When a rule is in force: `[starts_at, ends_at)`; open ends are unbounded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// First moment it applies.
    pub starts_at: Option<UnixMillis>,
    /// First moment it no longer applies.
    pub ends_at: Option<UnixMillis>,
}

impl Window {
    /// Whether `now` is inside.
    pub fn contains(&self, now: UnixMillis) -> bool {
        self.starts_at.is_none_or(|start| now >= start) && self.ends_at.is_none_or(|end| now < end)
    }
}

/// A discount code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coupon {
    /// Upper case, `[A-Z0-9_-]`, unique.
    pub code: String,
    /// What it takes off.
    pub amount: Amount,
    /// What it applies to.
    pub scope: Scope,
    /// Cart subtotal needed, in minor units.
    pub min_subtotal: u64,
    /// When it can be used.
    pub window: Window,
    /// Uses across all customers; `None`: unlimited.
    pub max_uses: Option<u64>,
    /// Uses per customer; `None`: unlimited. Needs a signed-in customer.
    pub max_uses_per_customer: Option<u64>,
    /// Uses claimed by orders so far (given back by those that did not sell).
    pub uses: u64,
    /// Uses so far by customer id.
    pub uses_by_customer: BTreeMap<String, u64>,
}

/// The rule of an automatic promotion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PromotionRule {
    /// Of every `buy + get` units of `sku`, `get` are free.
    BuyXGetY { sku: String, buy: u32, get: u32 },
    /// The highest tier whose `min_subtotal` the cart reaches takes its percent off.
    TieredPercent { tiers: Vec<Tier> },
}

/// One step of a tiered promotion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tier {
    /// Subtotal needed, in minor units.
    pub min_subtotal: u64,
    /// Whole percent off, 1..=100.
    pub percent: u8,
}

/// A discount applied without a code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Promotion {
    /// Assigned at creation.
    pub id: u64,
    /// Shown to customers.
    pub name: String,
    /// What it does.
    pub rule: PromotionRule,
    /// When it applies.
    pub window: Window,
}

/// A change of the rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RulesEvent {
    /// A coupon was created or changed (the whole coupon).
    CouponSaved(Coupon),
    /// A coupon was deleted.
    CouponDeleted { code: String },
    /// A promotion was created.
    PromotionSaved(Promotion),
    /// A promotion was deleted.
    PromotionDeleted { id: u64 },
    /// Order `order_id` claimed a use of coupon `code` before its payment.
    CouponClaimed {
        order_id: String,
        code: String,
        customer: Option<String>,
        remember_until: UnixMillis,
    },
    /// Order `order_id` did not sell: its use of `code` is given back.
    CouponReleased {
        order_id: String,
        code: String,
        customer: Option<String>,
    },
    /// Claims remembered until `until` or earlier are forgotten.
    ClaimsForgotten { until: UnixMillis },
}

/// Why a rule change is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    /// An order's claim of a coupon use was refused.
    #[error(transparent)]
    Claim(#[from] crate::cart::pricing::CouponError),
    /// A coupon with this code exists.
    #[error("a coupon with code {0} exists")]
    CodeTaken(String),
    /// No such coupon.
    #[error("no coupon {0}")]
    CouponNotFound(String),
    /// No such promotion.
    #[error("no promotion {0}")]
    PromotionNotFound(u64),
    /// A field is out of range.
    #[error("{message}")]
    Invalid { field: &'static str, message: String },
}

fn invalid(field: &'static str, message: impl Into<String>) -> RulesError {
    RulesError::Invalid {
        field,
        message: message.into(),
    }
}

/// Upper-cases a coupon code and checks its alphabet.
pub fn normalize_code(raw: &str) -> Result<String, RulesError> {
    let code = raw.trim().to_ascii_uppercase();
    let valid = (3..=MAX_CODE_LEN).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'));
    if !valid {
        return Err(invalid(
            "code",
            format!("code must be 3 to {MAX_CODE_LEN} characters of A-Z, 0-9, '_' or '-'"),
        ));
    }
    Ok(code)
}

fn check_window(window: &Window) -> Result<(), RulesError> {
    match (window.starts_at, window.ends_at) {
        (Some(start), Some(end)) if start >= end => Err(invalid("ends_at", "ends_at must be after starts_at")),
        _ => Ok(()),
    }
}

fn check_percent(field: &'static str, percent: u8) -> Result<(), RulesError> {
    if !(1..=100).contains(&percent) {
        return Err(invalid(field, "percent must be between 1 and 100"));
    }
    Ok(())
}

impl Coupon {
    /// Checks the definition.
    pub fn check(&self) -> Result<(), RulesError> {
        match &self.amount {
            Amount::Percent(percent) => check_percent("percent", *percent)?,
            Amount::Fixed { amount: 0, .. } => return Err(invalid("amount", "amount must be positive")),
            Amount::Fixed { .. } => {}
        }
        let empty_scope = match &self.scope {
            Scope::Cart => false,
            Scope::Categories(ids) => ids.is_empty(),
            Scope::Skus(skus) => skus.is_empty(),
        };
        if empty_scope {
            return Err(invalid("scope", "a category or SKU scope needs at least one entry"));
        }
        check_window(&self.window)
    }
}

impl Promotion {
    /// Checks the definition.
    pub fn check(&self) -> Result<(), RulesError> {
        if self.name.trim().is_empty() || self.name.chars().count() > 100 {
            return Err(invalid("name", "name must be 1 to 100 characters"));
        }
        match &self.rule {
            PromotionRule::BuyXGetY { buy, get, .. } if *buy == 0 || *get == 0 => {
                return Err(invalid("rule", "buy and get must be at least 1"))
            }
            PromotionRule::BuyXGetY { .. } => {}
            PromotionRule::TieredPercent { tiers } => {
                if tiers.is_empty() || tiers.len() > MAX_TIERS {
                    return Err(invalid(
                        "rule",
                        format!("a tiered promotion has 1 to {MAX_TIERS} tiers"),
                    ));
                }
                for tier in tiers {
                    check_percent("rule", tier.percent)?;
                }
            }
        }
        check_window(&self.window)
    }
}

/// Every coupon and promotion; the rules a cart is priced with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricingRules {
    /// Coupons by code.
    pub coupons: BTreeMap<String, Coupon>,
    /// Promotions by id.
    pub promotions: BTreeMap<u64, Promotion>,
    /// Next promotion id.
    next_promotion_id: u64,
    /// Events applied; orders rule sets.
    pub version: u64,
}

impl PricingRules {
    /// Decides a new coupon.
    pub fn create_coupon(&self, coupon: Coupon) -> Result<RulesEvent, RulesError> {
        coupon.check()?;
        if self.coupons.contains_key(&coupon.code) {
            return Err(RulesError::CodeTaken(coupon.code));
        }
        Ok(RulesEvent::CouponSaved(coupon))
    }

    /// Decides a change of coupon `code`: `change` edits a copy, which must check.
    pub fn update_coupon(&self, code: &str, change: impl FnOnce(&mut Coupon)) -> Result<RulesEvent, RulesError> {
        let mut coupon = self
            .coupons
            .get(code)
            .cloned()
            .ok_or_else(|| RulesError::CouponNotFound(code.to_string()))?;
        change(&mut coupon);
        coupon.code = code.to_string();
        coupon.check()?;
        Ok(RulesEvent::CouponSaved(coupon))
    }

    /// Decides the deletion of a coupon.
    pub fn delete_coupon(&self, code: &str) -> Result<RulesEvent, RulesError> {
        if !self.coupons.contains_key(code) {
            return Err(RulesError::CouponNotFound(code.to_string()));
        }
        Ok(RulesEvent::CouponDeleted { code: code.to_string() })
    }

    /// Decides a new promotion (its id assigned here).
    pub fn create_promotion(&self, mut promotion: Promotion) -> Result<RulesEvent, RulesError> {
        promotion.id = self.next_promotion_id + 1;
        promotion.check()?;
        Ok(RulesEvent::PromotionSaved(promotion))
    }

    /// Decides the deletion of a promotion.
    pub fn delete_promotion(&self, id: u64) -> Result<RulesEvent, RulesError> {
        if !self.promotions.contains_key(&id) {
            return Err(RulesError::PromotionNotFound(id));
        }
        Ok(RulesEvent::PromotionDeleted { id })
    }

    /// Applies one event.
    pub fn apply(&mut self, event: &RulesEvent) {
        self.version += 1;
        match event {
            RulesEvent::CouponSaved(coupon) => {
                self.coupons.insert(coupon.code.clone(), coupon.clone());
            }
            RulesEvent::CouponDeleted { code } => {
                self.coupons.remove(code);
            }
            RulesEvent::PromotionSaved(promotion) => {
                self.next_promotion_id = self.next_promotion_id.max(promotion.id);
                self.promotions.insert(promotion.id, promotion.clone());
            }
            RulesEvent::PromotionDeleted { id } => {
                self.promotions.remove(id);
            }
            RulesEvent::CouponClaimed { code, customer, .. } => self.count_use(code, customer.as_deref(), true),
            RulesEvent::CouponReleased { code, customer, .. } => self.count_use(code, customer.as_deref(), false),
            RulesEvent::ClaimsForgotten { .. } => {}
        }
    }

    /// Counts a use of `code` (by `customer`) up or, given back, down.
    fn count_use(&mut self, code: &str, customer: Option<&str>, up: bool) {
        let Some(coupon) = self.coupons.get_mut(code) else {
            return;
        };
        let step = |count: &mut u64| *count = if up { *count + 1 } else { count.saturating_sub(1) };
        step(&mut coupon.uses);
        if let Some(customer) = customer {
            step(coupon.uses_by_customer.entry(customer.to_string()).or_default());
        }
    }
}
