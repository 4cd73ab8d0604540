//! The promotions entity (`promotions/main`): the rules ([`PricingRules`]) and
//! the orders' coupon claims ([`CouponClaims`]) on the runtime; persists
//! [`RulesEvent`]s, answers every command with the whole rule set (claims
//! change use counts, which carts price with).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::claims::CouponClaims;
use super::state::{PricingRules, RulesEvent};
use super::{RulesCommand, RulesReply};
use crate::runtime::{Entity, UnixMillis};

/// The rules and the claims; the claims stay out of the rule set that is
/// handed to every cart.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct PromotionBook {
    /// Coupons and promotions.
    rules: PricingRules,
    /// Which orders hold a coupon use.
    claims: CouponClaims,
}

impl Entity for PromotionBook {
    const KIND: &'static str = "promotions";
    const KEEP_ALIVE: bool = true;
    type Event = RulesEvent;
    type Command = RulesCommand;
    type Reply = RulesReply;
    type View = ();

    fn new(_id: &str) -> Self {
        PromotionBook::default()
    }

    fn restored(&mut self) {
        self.claims.rebuild_index();
    }

    fn apply(&mut self, event: &RulesEvent) {
        self.rules.apply(event);
        self.claims.apply(event);
    }

    fn handle(&mut self, command: RulesCommand, now: UnixMillis, events: &mut Vec<RulesEvent>) -> RulesReply {
        let rules = &self.rules;
        let event = match command {
            RulesCommand::Get => None,
            RulesCommand::CreateCoupon(coupon) => Some(rules.create_coupon(coupon)?),
            RulesCommand::UpdateCoupon { code, patch } => {
                Some(rules.update_coupon(&code, |coupon| patch.apply_to(coupon))?)
            }
            RulesCommand::DeleteCoupon { code } => Some(rules.delete_coupon(&code)?),
            RulesCommand::CreatePromotion(promotion) => Some(rules.create_promotion(promotion)?),
            RulesCommand::DeletePromotion { id } => Some(rules.delete_promotion(id)?),
            RulesCommand::ClaimUse {
                order_id,
                code,
                customer,
            } => self.claims.claim(rules, &order_id, &code, customer.as_deref(), now)?,
            RulesCommand::ReleaseUse { order_id } => self.claims.release(&order_id),
        };
        if let Some(event) = event {
            Entity::apply(self, &event);
            events.push(event);
        }
        Ok(Arc::new(self.rules.clone()))
    }

    fn settle(&mut self, now: UnixMillis, events: &mut Vec<RulesEvent>) {
        let start = events.len();
        self.claims.expire(now, events);
        // As a replay applies them: to the rules too (their version counts it).
        for event in &events[start..] {
            self.rules.apply(event);
            self.claims.apply(event);
        }
    }

    fn next_deadline(&self) -> Option<UnixMillis> {
        self.claims.next_expiry()
    }

    fn view(&self) {}
}
