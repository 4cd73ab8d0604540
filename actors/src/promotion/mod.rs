//! Discount rules: coupons and automatic promotions, held by one entity
//! (`promotions/main`, kept alive) so that codes stay unique and every change is
//! serialized. The front door keeps the latest rule set in memory: carts price
//! with it without a message.
//!
//! - [`state`]: the rules and their checks, pure;
//! - [`claims`]: the orders' coupon claims, pure;
//! - `actor`: the entity;
//! - [`Promotions`]: the front door.

mod actor;
pub mod claims;
pub mod state;

use std::sync::Arc;

use parking_lot::RwLock;

pub use self::actor::PromotionBook;
use self::state::{Coupon, PricingRules, Promotion, RulesError};
use crate::runtime::{ActorError, Registry, Runtime};

/// The id of the one rules entity.
const RULES_ID: &str = "main";

/// A request to the rules entity.
#[derive(Debug, Clone)]
pub enum RulesCommand {
    /// Read every rule.
    Get,
    /// Create a coupon.
    CreateCoupon(Coupon),
    /// Change a coupon: the present fields of the patch.
    UpdateCoupon { code: String, patch: CouponPatch },
    /// Delete a coupon.
    DeleteCoupon { code: String },
    /// Create a promotion (id assigned).
    CreatePromotion(Promotion),
    /// Delete a promotion.
    DeletePromotion { id: u64 },
    /// Order `order_id` (of `customer`) claims a use of coupon `code` before its
    /// payment; idempotent per order, refused when the coupon is used up.
    ClaimUse {
        order_id: String,
        code: String,
        customer: Option<String>,
    },
    /// Order `order_id` did not sell: its use, if it holds one, is given back.
    ReleaseUse { order_id: String },
}

/// A partial change of a coupon: absent fields stay; `Some(None)` clears.
#[derive(Debug, Clone, Default)]
pub struct CouponPatch {
    pub amount: Option<state::Amount>,
    pub scope: Option<state::Scope>,
    pub min_subtotal: Option<u64>,
    pub starts_at: Option<Option<u64>>,
    pub ends_at: Option<Option<u64>>,
    pub max_uses: Option<Option<u64>>,
    pub max_uses_per_customer: Option<Option<u64>>,
}

impl CouponPatch {
    /// Writes the present fields into `coupon`.
    pub fn apply_to(self, coupon: &mut Coupon) {
        fn set<T>(slot: &mut T, value: Option<T>) {
            if let Some(value) = value {
                *slot = value;
            }
        }
        set(&mut coupon.amount, self.amount);
        set(&mut coupon.scope, self.scope);
        set(&mut coupon.min_subtotal, self.min_subtotal);
        set(&mut coupon.window.starts_at, self.starts_at);
        set(&mut coupon.window.ends_at, self.ends_at);
        set(&mut coupon.max_uses, self.max_uses);
        set(&mut coupon.max_uses_per_customer, self.max_uses_per_customer);
    }
}

/// The reply: every rule after the command.
pub type RulesReply = Result<Arc<PricingRules>, RulesError>;

/// Why a rules call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PromotionsError {
    /// The change was refused.
    #[error(transparent)]
    Rules(#[from] RulesError),
    /// The entity could not answer.
    #[error(transparent)]
    Actor(#[from] ActorError),
}

/// Typed access to the rules, with the latest set cached.
#[derive(Clone)]
pub struct Promotions {
    entities: Registry<PromotionBook>,
    /// The newest rule set seen (by version).
    current: Arc<RwLock<Arc<PricingRules>>>,
}

impl Promotions {
    /// The rules on `runtime`; loads them.
    pub async fn open(runtime: &Runtime) -> Result<Self, PromotionsError> {
        let promotions = Promotions {
            entities: Registry::new(runtime),
            current: Arc::default(),
        };
        promotions.call(RulesCommand::Get).await?;
        Ok(promotions)
    }

    /// The registry, for the admin API.
    pub fn registry(&self) -> &Registry<PromotionBook> {
        &self.entities
    }

    /// The latest rules (no message).
    pub fn rules(&self) -> Arc<PricingRules> {
        Arc::clone(&self.current.read())
    }

    /// Sends a command; keeps the answer as the current rules if it is newer.
    pub async fn call(&self, command: RulesCommand) -> Result<Arc<PricingRules>, PromotionsError> {
        let rules = self.entities.call(RULES_ID, command).await??;
        let mut current = self.current.write();
        if rules.version >= current.version {
            *current = Arc::clone(&rules);
        }
        Ok(rules)
    }
}
