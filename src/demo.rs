//! `mercato serve --demo`: an empty data dir becomes a shop a newcomer can
//! try at once: the demo catalog with stock (see [`crate::seed`]), a coupon,
//! an automatic promotion, a customer and an admin whose credentials are
//! printed (and written in the README). A data dir that already holds a
//! catalog is left as it is.

use std::collections::BTreeMap;

use anyhow::Context as _;
use mercato_actors::account::Role;
use mercato_actors::promotion::state::{Amount, Coupon, Promotion, PromotionRule, Scope, Tier, Window};
use mercato_actors::promotion::RulesCommand;

use crate::core::Core;

/// Products in the demo shop.
const DEMO_PRODUCTS: usize = 240;
/// The generator seed of the demo catalog.
const DEMO_SEED: u64 = 42;

/// The demo's coupon: 10 % off the whole cart.
pub const DEMO_COUPON: &str = "WELCOME10";
/// The demo customer's sign-in.
pub const DEMO_CUSTOMER: (&str, &str) = ("shopper@example.com", "demo-shopper-pass");
/// The demo admin's sign-in.
pub const DEMO_ADMIN: (&str, &str) = ("admin@example.com", "demo-admin-pass");

/// Fills `core` with the demo shop if it holds no catalog yet; answers
/// whether it did.
pub async fn fill(core: &Core) -> anyhow::Result<bool> {
    let categories = core.catalog.categories().await.context("cannot read the catalog")?;
    if !categories.is_empty() {
        return Ok(false);
    }
    crate::seed::seed(&core.catalog, &core.inventory, DEMO_PRODUCTS, DEMO_SEED).await?;
    let coupon = Coupon {
        code: DEMO_COUPON.to_string(),
        amount: Amount::Percent(10),
        scope: Scope::Cart,
        min_subtotal: 0,
        window: Window::default(),
        max_uses: None,
        max_uses_per_customer: None,
        uses: 0,
        uses_by_customer: BTreeMap::new(),
    };
    core.promotions
        .call(RulesCommand::CreateCoupon(coupon))
        .await
        .context("cannot create the demo coupon")?;
    let promotion = Promotion {
        id: 0,
        name: "Spend €250, save 5 %".to_string(),
        rule: PromotionRule::TieredPercent {
            tiers: vec![Tier {
                min_subtotal: 25_000,
                percent: 5,
            }],
        },
        window: Window::default(),
    };
    core.promotions
        .call(RulesCommand::CreatePromotion(promotion))
        .await
        .context("cannot create the demo promotion")?;
    for ((email, password), name, role) in [
        (DEMO_CUSTOMER, "Demo Shopper", Role::Customer),
        (DEMO_ADMIN, "Demo Admin", Role::Admin),
    ] {
        core.accounts
            .create(email, password.to_string(), Some(name.to_string()), role)
            .await
            .with_context(|| format!("cannot create the demo account {email}"))?;
    }
    Ok(true)
}
