//! The analytics book against the same figures summed by hand.

use super::*;
use crate::order::placement::Placement;

fn placement(placed_at: u64, currency: &str, lines: &[(&str, u32, u64)]) -> OrderEvent {
    OrderEvent::Placed(Box::new(Placement::example(placed_at, currency, lines)))
}

fn apply(book: &mut AnalyticsBook, id: &str, events: Vec<OrderEvent>) {
    Book::apply(book, id, 0, events);
}

#[test]
fn a_report_counts_sales_refunds_and_cancellations_by_placement_hour() {
    let mut book = AnalyticsBook::default();
    let t0 = 1_800_000_000_000 - 1_800_000_000_000 % HOUR_MS;
    apply(
        &mut book,
        "o1",
        vec![placement(t0 + 10, "EUR", &[("A", 2, 500), ("B", 1, 300)])],
    );
    apply(
        &mut book,
        "o1",
        vec![OrderEvent::Reserved, OrderEvent::Paid, OrderEvent::Confirmed],
    );
    apply(
        &mut book,
        "o2",
        vec![
            placement(t0 + HOUR_MS + 5, "EUR", &[("A", 1, 500)]),
            OrderEvent::Confirmed,
        ],
    );
    apply(&mut book, "o2", vec![OrderEvent::Shipped { tracking: "T".into() }]);
    apply(
        &mut book,
        "o3",
        vec![placement(t0 + 20, "USD", &[("B", 3, 400)]), OrderEvent::Confirmed],
    );
    apply(
        &mut book,
        "o3",
        vec![
            OrderEvent::RefundRequested {
                reason: "r".into(),
                restock: vec![0],
            },
            OrderEvent::Refunded,
        ],
    );
    apply(
        &mut book,
        "o4",
        vec![
            placement(t0 + 30, "EUR", &[("C", 1, 100)]),
            OrderEvent::Cancelled { reason: "c".into() },
        ],
    );
    apply(
        &mut book,
        "o5",
        vec![
            placement(t0 + 3 * HOUR_MS, "EUR", &[("A", 9, 500)]),
            OrderEvent::Confirmed,
        ],
    );

    let report = book.report(t0, t0 + 2 * HOUR_MS, HOUR_MS);

    assert_eq!((report.placed, report.cancelled, report.units), (4, 1, 4));
    let eur = Money {
        currency: "EUR".into(),
        orders: 2,
        revenue: 1_800,
        refunds: 0,
        refunded: 0,
    };
    let usd = Money {
        currency: "USD".into(),
        orders: 0,
        revenue: 0,
        refunds: 1,
        refunded: 1_200,
    };
    assert_eq!(report.money, vec![eur, usd]);
    assert_eq!(report.buckets.len(), 2);
    assert_eq!((report.buckets[0].start, report.buckets[0].orders), (t0, 1));
    assert_eq!((report.buckets[1].start, report.buckets[1].orders), (t0 + HOUR_MS, 1));
    assert_eq!(report.buckets[1].money[0].revenue, 500);
    let top: Vec<(&str, u64)> = report.products.iter().map(|p| (p.sku.as_str(), p.units)).collect();
    assert_eq!(top, vec![("A", 3), ("B", 1)]);
    assert_eq!(report.products[0].revenue, vec![("EUR".to_string(), 1_500)]);
}

#[test]
fn a_day_report_buckets_by_utc_day_and_leaves_out_what_is_outside() {
    let mut book = AnalyticsBook::default();
    let day = 24 * HOUR_MS;
    let d0 = 1_800_000_000_000 - 1_800_000_000_000 % day;
    for (n, at) in [d0 - 1, d0, d0 + day - 1, d0 + day, d0 + 3 * day]
        .into_iter()
        .enumerate()
    {
        apply(
            &mut book,
            &format!("o{n}"),
            vec![placement(at, "EUR", &[("A", 1, 100)]), OrderEvent::Confirmed],
        );
    }
    let report = book.report(d0, d0 + 2 * day, day);
    let per_day: Vec<u64> = report.buckets.iter().map(|b| b.orders).collect();
    assert_eq!(per_day, vec![2, 1]);
    assert_eq!(report.money[0].revenue, 300);
}

/// An order placed from cart `cart` by `owner` (none: a guest).
fn placed_from(cart: &str, owner: Option<&str>) -> OrderEvent {
    OrderEvent::Placed(Box::new(Placement {
        cart_id: cart.into(),
        owner: owner.map(Into::into),
        ..Placement::example(1_000, "EUR", &[("A", 1, 500)])
    }))
}

#[test]
fn the_funnel_knows_who_bought_and_keeps_placers_only_while_an_order_may_sell() {
    let mut book = AnalyticsBook::default();
    apply(&mut book, "sold", vec![placed_from("c-sold", Some("u-sold"))]);
    apply(
        &mut book,
        "cancelled",
        vec![placed_from("c-cancelled", Some("u-cancelled"))],
    );
    apply(&mut book, "waiting", vec![placed_from("c-waiting", None)]);
    assert_eq!(book.placers.len(), 3);
    apply(&mut book, "sold", vec![OrderEvent::Paid, OrderEvent::Confirmed]);
    apply(&mut book, "sold", vec![OrderEvent::Shipped { tracking: "T".into() }]);
    apply(
        &mut book,
        "cancelled",
        vec![OrderEvent::Cancelled { reason: "r".into() }],
    );
    apply(&mut book, "waiting", vec![OrderEvent::Reserved]);
    assert_eq!(
        book.placers.len(),
        1,
        "only the order that may still sell keeps its placer"
    );
    let nobody = ViewerKey::session("s");
    assert!(book.ordered(&ViewerKey::customer("u-sold"), &[]));
    assert!(book.ordered(&nobody, &[ViewerKey::cart("c-sold")]));
    assert!(!book.ordered(&ViewerKey::customer("u-cancelled"), &[ViewerKey::cart("c-cancelled")]));
    assert!(!book.ordered(&nobody, &[ViewerKey::cart("c-waiting")]));
    apply(&mut book, "waiting", vec![OrderEvent::Paid, OrderEvent::Confirmed]);
    assert!(
        book.ordered(&nobody, &[ViewerKey::cart("c-waiting")]),
        "a guest's cart sold later"
    );
    assert!(book.placers.is_empty());
}
