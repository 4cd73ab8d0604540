use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::*;
use crate::promotion::state::{Promotion, Tier, Window};

fn line(sku: &str, qty: u32, price: u64, category: u64) -> Line {
    Line {
        sku: sku.into(),
        name: sku.into(),
        qty,
        unit_price: price,
        currency: "EUR".into(),
        category_path: vec![1, category],
    }
}

fn coupon(code: &str, amount: Amount, scope: Scope) -> Coupon {
    Coupon {
        code: code.into(),
        amount,
        scope,
        min_subtotal: 0,
        window: Window::default(),
        max_uses: None,
        max_uses_per_customer: None,
        uses: 0,
        uses_by_customer: BTreeMap::new(),
    }
}

fn rules(coupons: Vec<Coupon>, promotions: Vec<Promotion>) -> PricingRules {
    let mut rules = PricingRules::default();
    rules.coupons = coupons.into_iter().map(|c| (c.code.clone(), c)).collect();
    rules.promotions = promotions.into_iter().map(|p| (p.id, p)).collect();
    rules
}

#[test]
fn a_percent_coupon_rounds_down_and_a_fixed_one_is_capped() {
    let lines = [line("A", 3, 333, 2)];
    let ten = coupon("TEN", Amount::Percent(10), Scope::Cart);
    let (totals, error) = price(&lines, Some("TEN"), None, &rules(vec![ten], vec![]), 0);
    assert_eq!(error, None);
    assert_eq!((totals.subtotal, totals.discount, totals.total), (999, 99, 900));

    let big = coupon(
        "BIG",
        Amount::Fixed {
            amount: 5_000,
            currency: "EUR".into(),
        },
        Scope::Cart,
    );
    let (totals, _) = price(&lines, Some("BIG"), None, &rules(vec![big], vec![]), 0);
    assert_eq!((totals.discount, totals.total), (999, 0), "never below zero");
}

#[test]
fn a_scoped_coupon_only_discounts_its_lines() {
    let lines = [line("A", 1, 1_000, 2), line("B", 1, 4_000, 3)];
    let shoes = coupon("SHOES", Amount::Percent(50), Scope::Categories(BTreeSet::from([3])));
    let (totals, _) = price(&lines, Some("SHOES"), None, &rules(vec![shoes], vec![]), 0);
    assert_eq!(totals.discount, 2_000);
    let sku = coupon(
        "ONLYA",
        Amount::Percent(50),
        Scope::Skus(BTreeSet::from(["A".to_string()])),
    );
    let (totals, _) = price(&lines, Some("ONLYA"), None, &rules(vec![sku], vec![]), 0);
    assert_eq!(totals.discount, 500);
}

#[test]
fn coupon_rules_give_reasons() {
    let lines = [line("A", 1, 1_000, 2)];
    let mut limited = coupon("LIM", Amount::Percent(10), Scope::Cart);
    limited.window = Window {
        starts_at: Some(100),
        ends_at: Some(200),
    };
    assert_eq!(check_coupon(&limited, &lines, None, 50), Err(CouponError::NotStarted));
    assert_eq!(check_coupon(&limited, &lines, None, 200), Err(CouponError::Expired));
    assert_eq!(check_coupon(&limited, &lines, None, 150), Ok(()));
    limited.window = Window::default();
    limited.min_subtotal = 2_000;
    assert_eq!(
        check_coupon(&limited, &lines, None, 0),
        Err(CouponError::BelowMinimum { min_subtotal: 2_000 })
    );
    limited.min_subtotal = 0;
    limited.max_uses = Some(3);
    limited.uses = 3;
    assert_eq!(check_coupon(&limited, &lines, None, 0), Err(CouponError::UsedUp));
    limited.max_uses = None;
    limited.max_uses_per_customer = Some(1);
    assert_eq!(check_coupon(&limited, &lines, None, 0), Err(CouponError::NeedsAccount));
    limited.uses_by_customer.insert("u1".into(), 1);
    assert_eq!(
        check_coupon(&limited, &lines, Some("u1"), 0),
        Err(CouponError::UsedUpByCustomer)
    );
    assert_eq!(check_coupon(&limited, &lines, Some("u2"), 0), Ok(()));
    let other = coupon(
        "SKU",
        Amount::Percent(10),
        Scope::Skus(BTreeSet::from(["Z".to_string()])),
    );
    assert_eq!(check_coupon(&other, &lines, None, 0), Err(CouponError::NothingEligible));
    let dollars = coupon(
        "USD",
        Amount::Fixed {
            amount: 1,
            currency: "USD".into(),
        },
        Scope::Cart,
    );
    assert_eq!(
        check_coupon(&dollars, &lines, None, 0),
        Err(CouponError::CurrencyMismatch)
    );
}

#[test]
fn promotions_stack_in_the_documented_order() {
    let lines = [line("A", 3, 1_000, 2), line("B", 1, 2_000, 3)];
    let three_for_two = Promotion {
        id: 1,
        name: "3 for 2".into(),
        rule: PromotionRule::BuyXGetY {
            sku: "A".into(),
            buy: 2,
            get: 1,
        },
        window: Window::default(),
    };
    let tiered = Promotion {
        id: 2,
        name: "spend more".into(),
        rule: PromotionRule::TieredPercent {
            tiers: vec![
                Tier {
                    min_subtotal: 1_000,
                    percent: 5,
                },
                Tier {
                    min_subtotal: 5_000,
                    percent: 10,
                },
            ],
        },
        window: Window::default(),
    };
    let fixed = coupon(
        "FIVE",
        Amount::Fixed {
            amount: 500,
            currency: "EUR".into(),
        },
        Scope::Cart,
    );
    let (totals, _) = price(
        &lines,
        Some("FIVE"),
        None,
        &rules(vec![fixed], vec![three_for_two, tiered]),
        0,
    );
    // subtotal 5,000: one A free (1,000); 10 % tier (by the original subtotal) of
    // the 4,000 left = 400; then the 500 coupon.
    let amounts: Vec<u64> = totals.applied.iter().map(|a| a.amount).collect();
    assert_eq!(amounts, vec![1_000, 400, 500]);
    assert_eq!((totals.subtotal, totals.discount, totals.total), (5_000, 1_900, 3_100));
}

fn arb_lines() -> impl Strategy<Value = Vec<Line>> {
    prop::collection::vec((0u8..6, 1u32..=999, 0u64..100_000, 2u64..5), 0..8).prop_map(|raw| {
        let mut seen = BTreeSet::new();
        raw.into_iter()
            .filter(|(sku, ..)| seen.insert(*sku))
            .map(|(sku, qty, price, category)| line(&format!("S{sku}"), qty, price, category))
            .collect()
    })
}

fn arb_coupon() -> impl Strategy<Value = Coupon> {
    let amount = prop_oneof![
        (1u8..=100).prop_map(Amount::Percent),
        (1u64..10_000_000).prop_map(|amount| Amount::Fixed {
            amount,
            currency: "EUR".into()
        }),
    ];
    let scope = prop_oneof![
        Just(Scope::Cart),
        (2u64..5).prop_map(|c| Scope::Categories(BTreeSet::from([c]))),
        (0u8..6).prop_map(|s| Scope::Skus(BTreeSet::from([format!("S{s}")]))),
    ];
    (amount, scope, 0u64..200_000).prop_map(|(amount, scope, min_subtotal)| {
        let mut coupon = coupon("CODE", amount, scope);
        coupon.min_subtotal = min_subtotal;
        coupon
    })
}

fn arb_promotions() -> impl Strategy<Value = Vec<Promotion>> {
    let rule = prop_oneof![
        (0u8..6, 1u32..4, 1u32..3).prop_map(|(s, buy, get)| PromotionRule::BuyXGetY {
            sku: format!("S{s}"),
            buy,
            get
        }),
        prop::collection::vec((0u64..300_000, 1u8..=100), 1..4).prop_map(|tiers| PromotionRule::TieredPercent {
            tiers: tiers
                .into_iter()
                .map(|(min_subtotal, percent)| Tier { min_subtotal, percent })
                .collect(),
        }),
    ];
    prop::collection::vec(rule, 0..4).prop_map(|rules| {
        rules
            .into_iter()
            .enumerate()
            .map(|(i, rule)| Promotion {
                id: i as u64 + 1,
                name: format!("p{i}"),
                rule,
                window: Window::default(),
            })
            .collect()
    })
}

#[test]
fn totals_add_up_and_no_discount_exceeds_what_it_applies_to() {
    // Over every case: how many priced a coupon in, so that a generator whose
    // coupons never apply cannot pass for a test of them.
    let (cases, with_coupon) = (std::cell::Cell::new(0u32), std::cell::Cell::new(0u32));
    let mut runner = proptest::test_runner::TestRunner::default();
    let strategy = (arb_lines(), arb_coupon(), arb_promotions());
    let ran = runner.run(&strategy, |(lines, coupon, promotions)| {
        let eligible: u64 = lines
            .iter()
            .filter(|l| super::in_scope(&coupon.scope, l))
            .map(Line::total)
            .sum();
        let no_promotions = promotions.is_empty();
        let (amount, scope) = (coupon.amount.clone(), coupon.scope.clone());
        let rules = rules(vec![coupon], promotions);
        let (totals, error) = price(&lines, Some("CODE"), None, &rules, 0);
        let subtotal: u64 = lines.iter().map(Line::total).sum();
        prop_assert_eq!(totals.subtotal, subtotal);
        prop_assert!(totals.discount <= totals.subtotal);
        prop_assert_eq!(totals.total + totals.discount, totals.subtotal);
        prop_assert_eq!(totals.applied.iter().map(|a| a.amount).sum::<u64>(), totals.discount);
        prop_assert_eq!(totals.lines.iter().map(|l| l.line_total).sum::<u64>(), totals.subtotal);
        cases.set(cases.get() + 1);
        let coupons: Vec<_> = totals.applied.iter().filter(|a| a.kind == "coupon").collect();
        let Some(applied) = coupons.first() else {
            return Ok(());
        };
        with_coupon.set(with_coupon.get() + 1);
        prop_assert!(error.is_none());
        prop_assert_eq!(coupons.len(), 1);
        prop_assert!(
            applied.amount <= eligible,
            "coupon {} > eligible {}",
            applied.amount,
            eligible
        );
        // Stacking: promotions first, the coupon on what they leave.
        prop_assert_eq!(totals.applied.last().map(|a| a.kind), Some("coupon"));
        if let (true, Amount::Percent(percent), Scope::Cart) = (no_promotions, &amount, &scope) {
            // Rounded down: never a fraction of a cent more than the percentage.
            let exact = u128::from(subtotal) * u128::from(*percent);
            prop_assert_eq!(u128::from(applied.amount), exact / 100);
        }
        Ok(())
    });
    ran.unwrap();
    assert!(
        with_coupon.get() * 4 >= cases.get(),
        "the coupon applied in only {} of {} cases",
        with_coupon.get(),
        cases.get()
    );
}

proptest! {
    #[test]
    fn a_percentage_coupon_rounds_down_to_the_cent(lines in arb_lines(), percent in 1u8..=100) {
        let rules = rules(vec![coupon("CODE", Amount::Percent(percent), Scope::Cart)], Vec::new());
        let (totals, error) = price(&lines, Some("CODE"), None, &rules, 0);
        let subtotal: u64 = lines.iter().map(Line::total).sum();
        let expected = (u128::from(subtotal) * u128::from(percent) / 100) as u64;
        let applied: u64 = totals.applied.iter().filter(|a| a.kind == "coupon").map(|a| a.amount).sum();
        prop_assert_eq!(applied, expected, "{}% of {}", percent, subtotal);
        prop_assert_eq!(totals.total, subtotal - expected);
        prop_assert!(error.is_none() || subtotal == 0, "{:?}", error);
    }
}
