//! The rules entity (`promotions/main`): runs [`PricingRules`] on the runtime,
//! persists [`RulesEvent`]s, answers every command with the whole rule set.

use std::sync::Arc;

use super::state::{PricingRules, RulesEvent};
use super::{RulesCommand, RulesReply};
use crate::runtime::{Entity, UnixMillis};

impl Entity for PricingRules {
    const KIND: &'static str = "promotions";
    const KEEP_ALIVE: bool = true;
    type Event = RulesEvent;
    type Command = RulesCommand;
    type Reply = RulesReply;
    type View = ();

    fn new(_id: &str) -> Self {
        PricingRules::default()
    }

    fn apply(&mut self, event: &RulesEvent) {
        PricingRules::apply(self, event);
    }

    fn handle(&mut self, command: RulesCommand, _now: UnixMillis, events: &mut Vec<RulesEvent>) -> RulesReply {
        let event = match command {
            RulesCommand::Get => None,
            RulesCommand::CreateCoupon(coupon) => Some(self.create_coupon(coupon)?),
            RulesCommand::UpdateCoupon { code, patch } => {
                Some(self.update_coupon(&code, |coupon| patch.apply_to(coupon))?)
            }
            RulesCommand::DeleteCoupon { code } => Some(self.delete_coupon(&code)?),
            RulesCommand::CreatePromotion(promotion) => Some(self.create_promotion(promotion)?),
            RulesCommand::DeletePromotion { id } => Some(self.delete_promotion(id)?),
            RulesCommand::RecordUse { code, customer } => Some(self.record_use(&code, customer)?),
        };
        if let Some(event) = event {
            PricingRules::apply(self, &event);
            events.push(event);
        }
        Ok(Arc::new(self.clone()))
    }

    fn settle(&mut self, _now: UnixMillis, _events: &mut Vec<RulesEvent>) {}

    fn next_deadline(&self) -> Option<UnixMillis> {
        None
    }

    fn view(&self) {}
}
