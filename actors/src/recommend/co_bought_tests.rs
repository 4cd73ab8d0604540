//! The co-occurrence model against a brute-force count of the same orders.

use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::order::placement::Placement;
use crate::test_rng::xorshift;

fn placed(skus: &[String]) -> OrderEvent {
    let lines: Vec<(&str, u32, u64)> = skus.iter().map(|sku| (sku.as_str(), 1, 100)).collect();
    OrderEvent::Placed(Box::new(Placement::example(1, "EUR", &lines)))
}

/// 3,000 orders of 1–5 lines over 300 SKUs (a few popular ones), with a
/// seeded mix of fates, their entries interleaved as a busy log holds them.
/// Answers the model and the SKU sets of the confirmed orders.
fn generated() -> (CoBought, Vec<BTreeSet<String>>) {
    let mut next = xorshift(0x2545_f491_4f6c_dd1d);
    let mut model = CoBought::default();
    let mut confirmed = Vec::new();
    let mut in_flight: Vec<(String, Vec<Vec<OrderEvent>>)> = Vec::new();
    for n in 0..3_000u64 {
        let lines = 1 + next() % 5;
        // Squaring skews the pick towards low numbers: popular SKUs.
        let skus: Vec<String> = (0..lines)
            .map(|_| {
                let pick = next() % 300;
                format!("SKU-{:03}", pick * pick / 300)
            })
            .collect();
        let mut entries = vec![vec![placed(&skus)], vec![OrderEvent::Reserved]];
        match next() % 10 {
            0 => entries.push(vec![OrderEvent::Rejected {
                shortages: vec![],
                coupon: None,
            }]),
            1 => entries.push(vec![OrderEvent::Expired, OrderEvent::Released]),
            2 => {} // still awaiting payment
            3 => {
                entries.push(vec![OrderEvent::Paid, OrderEvent::Confirmed]);
                entries.push(vec![OrderEvent::Cancelled { reason: "r".into() }]);
                confirmed.push(skus.iter().cloned().collect());
            }
            _ => {
                entries.push(vec![OrderEvent::Paid, OrderEvent::Confirmed]);
                confirmed.push(skus.iter().cloned().collect());
            }
        }
        entries.reverse();
        in_flight.push((format!("order-{n}"), entries));
        // Apply one entry of a random order in flight, a few times per order.
        for _ in 0..2 {
            let pick = (next() % in_flight.len() as u64) as usize;
            let (id, entries) = &mut in_flight[pick];
            if let Some(events) = entries.pop() {
                model.apply(id, 0, events);
            }
            if entries.is_empty() {
                in_flight.swap_remove(pick);
            }
        }
    }
    for (id, mut entries) in in_flight {
        while let Some(events) = entries.pop() {
            model.apply(&id, 0, events);
        }
    }
    (model, confirmed)
}

/// The same ranking, counted from scratch.
fn brute_force(orders: &[BTreeSet<String>], sku: &str, limit: usize) -> Vec<Neighbour> {
    let mut orders_of: BTreeMap<&str, u32> = BTreeMap::new();
    let mut together: BTreeMap<&str, u32> = BTreeMap::new();
    for order in orders {
        for item in order {
            *orders_of.entry(item).or_default() += 1;
        }
        if order.contains(sku) {
            for other in order.iter().filter(|other| *other != sku) {
                *together.entry(other).or_default() += 1;
            }
        }
    }
    let own = f64::from(orders_of.get(sku).copied().unwrap_or(0));
    let mut ranked: Vec<Neighbour> = (together.into_iter())
        .map(|(other, count)| Neighbour {
            sku: other.to_string(),
            score: f64::from(count) / (own * f64::from(orders_of[other])).sqrt(),
            together: count,
        })
        .collect();
    ranked.sort_by(|a, b| {
        (b.score.total_cmp(&a.score))
            .then(b.together.cmp(&a.together))
            .then(a.sku.cmp(&b.sku))
    });
    ranked.truncate(limit);
    ranked
}

#[test]
fn every_skus_top_20_equals_a_brute_force_count_of_the_confirmed_orders() {
    let (model, confirmed) = generated();
    assert_eq!(model.confirmed_orders(), confirmed.len() as u64);
    assert!(confirmed.len() > 1_500, "most orders confirm: {}", confirmed.len());
    let mut with_neighbours = 0;
    for n in 0..300 {
        let sku = format!("SKU-{n:03}");
        let expected = brute_force(&confirmed, &sku, 20);
        with_neighbours += usize::from(!expected.is_empty());
        assert_eq!(model.neighbours(&sku, 20, |_| true), expected, "{sku}");
    }
    assert!(with_neighbours > 150, "the history makes neighbours: {with_neighbours}");
}

#[test]
fn a_filtered_neighbour_makes_room_for_the_next_best() {
    let (model, confirmed) = generated();
    let all = brute_force(&confirmed, "SKU-000", 21);
    let dropped = all[0].sku.clone();
    let kept = model.neighbours("SKU-000", 20, |sku| sku != dropped);
    assert_eq!(kept, all[1..].to_vec());
}

#[test]
fn an_order_counts_once_it_is_confirmed_and_never_if_it_is_not() {
    let mut model = CoBought::default();
    let skus = |list: &[&str]| list.iter().map(|sku| sku.to_string()).collect::<Vec<_>>();
    model.apply("o1", 1, vec![placed(&skus(&["A", "B"]))]);
    assert!(model.neighbours("A", 20, |_| true).is_empty(), "placed only");
    model.apply("o1", 2, vec![OrderEvent::Paid, OrderEvent::Confirmed]);
    assert_eq!(model.neighbours("A", 20, |_| true)[0].sku, "B");

    model.apply("o2", 3, vec![placed(&skus(&["A", "C"]))]);
    model.apply("o2", 4, vec![OrderEvent::Expired, OrderEvent::Released]);
    model.apply("o2", 5, vec![OrderEvent::Confirmed]);
    let neighbours = model.neighbours("A", 20, |_| true);
    assert_eq!(neighbours.len(), 1, "an expired order never counts: {neighbours:?}");
    assert_eq!((neighbours[0].score, neighbours[0].together), (1.0, 1));
}

#[test]
fn best_sellers_rank_by_confirmed_orders() {
    let (model, confirmed) = generated();
    let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
    for sku in confirmed.iter().flatten() {
        *counts.entry(sku).or_default() += 1;
    }
    let mut expected: Vec<(String, u32)> = counts.into_iter().map(|(sku, n)| (sku.to_string(), n)).collect();
    expected.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    expected.retain(|(sku, _)| sku.ends_with('7'));
    expected.truncate(5);
    assert_eq!(model.best_sellers(5, |sku| sku.ends_with('7')), expected);
}
