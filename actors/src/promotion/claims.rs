//! Coupon claims, pure: an order claims one use of its coupon before its
//! payment starts and gives it back if it does not sell. Both are idempotent
//! per order (a resuming saga repeats them), so claims are remembered by order
//! id for [`CLAIM_MEMORY_MS`], longer than any order stays unsettled.

use std::collections::BTreeSet;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::state::{PricingRules, RulesEvent};
use crate::cart::pricing::{check_coupon_use, CouponError};
use crate::runtime::UnixMillis;

/// How long a claim is remembered after it was made.
pub const CLAIM_MEMORY_MS: UnixMillis = 24 * 60 * 60 * 1000;

/// One order's claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// The coupon.
    pub code: String,
    /// The customer who used it, if signed in.
    pub customer: Option<String>,
    /// Whether the use was given back.
    pub released: bool,
    /// When the claim is forgotten.
    pub remember_until: UnixMillis,
}

/// The claims of the last [`CLAIM_MEMORY_MS`], by order id.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CouponClaims {
    claims: FxHashMap<String, Claim>,
    /// Claims by the end of their memory, rebuilt after a snapshot.
    #[serde(skip)]
    forget: BTreeSet<(UnixMillis, String)>,
}

impl CouponClaims {
    /// Rebuilds the forget index after a snapshot.
    pub fn rebuild_index(&mut self) {
        self.forget = self
            .claims
            .iter()
            .map(|(order, claim)| (claim.remember_until, order.clone()))
            .collect();
    }

    /// Decides order `order_id` claiming a use of `code` at `now` (nothing if it
    /// holds one already); refused when the coupon is unknown, out of its window
    /// or used up.
    pub fn claim(
        &self,
        rules: &PricingRules,
        order_id: &str,
        code: &str,
        customer: Option<&str>,
        now: UnixMillis,
    ) -> Result<Option<RulesEvent>, CouponError> {
        if self.claims.contains_key(order_id) {
            return Ok(None);
        }
        let coupon = rules.coupons.get(code).ok_or(CouponError::Unknown)?;
        check_coupon_use(coupon, customer, now)?;
        Ok(Some(RulesEvent::CouponClaimed {
            order_id: order_id.to_string(),
            code: code.to_string(),
            customer: customer.map(str::to_string),
            remember_until: now.saturating_add(CLAIM_MEMORY_MS),
        }))
    }

    /// Decides giving order `order_id`'s use back (nothing if it holds none).
    pub fn release(&self, order_id: &str) -> Option<RulesEvent> {
        let claim = self.claims.get(order_id).filter(|claim| !claim.released)?;
        Some(RulesEvent::CouponReleased {
            order_id: order_id.to_string(),
            code: claim.code.clone(),
            customer: claim.customer.clone(),
        })
    }

    /// Pushes the event that forgets claims remembered long enough by `now`.
    pub fn expire(&self, now: UnixMillis, events: &mut Vec<RulesEvent>) {
        if self.next_expiry().is_some_and(|until| until <= now) {
            events.push(RulesEvent::ClaimsForgotten { until: now });
        }
    }

    /// When the next claim is forgotten.
    pub fn next_expiry(&self) -> Option<UnixMillis> {
        self.forget.first().map(|(until, _)| *until)
    }

    /// Applies the claim events (others change nothing here).
    pub fn apply(&mut self, event: &RulesEvent) {
        match event {
            RulesEvent::CouponClaimed {
                order_id,
                code,
                customer,
                remember_until,
            } => {
                let claim = Claim {
                    code: code.clone(),
                    customer: customer.clone(),
                    released: false,
                    remember_until: *remember_until,
                };
                self.claims.insert(order_id.clone(), claim);
                self.forget.insert((*remember_until, order_id.clone()));
            }
            RulesEvent::CouponReleased { order_id, .. } => {
                if let Some(claim) = self.claims.get_mut(order_id) {
                    claim.released = true;
                }
            }
            RulesEvent::ClaimsForgotten { until } => {
                while self.forget.first().is_some_and(|(when, _)| when <= until) {
                    if let Some((_, order)) = self.forget.pop_first() {
                        self.claims.remove(&order);
                    }
                }
            }
            _ => {}
        }
    }
}
