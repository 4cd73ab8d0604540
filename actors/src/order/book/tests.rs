//! The order book against a brute-force reading of the same orders.

use super::*;
use crate::order::placement::Placement;

fn placed(email: &str, total: u64, currency: &str, placed_at: UnixMillis) -> OrderEvent {
    OrderEvent::Placed(Box::new(Placement {
        email: email.into(),
        subtotal: total,
        total,
        payment_deadline: placed_at + 10,
        ..Placement::example(placed_at, currency, &[])
    }))
}

fn started() -> OrderEvent {
    OrderEvent::PaymentStarted {
        gateway: "manual".into(),
        payment_id: "p".into(),
        client_secret: None,
    }
}

/// 500 orders with a seeded mix of fates, applied as the log would hold them
/// (several entries per order, interleaved); answers the book and the truth.
/// What the generator made: id, e-mail, status, total, currency, placed at,
/// log entries.
type Truth = (String, String, OrderStatus, u64, String, u64, usize);

fn generated() -> (OrderBook, Vec<Truth>) {
    let mut book = OrderBook::default();
    let mut truth = Vec::new();
    let mut seq = 0;
    let mut next = crate::test_rng::xorshift(0x9e37_79b9_7f4a_7c15);
    for n in 0..500u64 {
        let id = format!("{:016x}{n:016x}", n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        // Addresses as shoppers type them: some in capitals.
        let email = match n % 2 {
            0 => format!("buyer{}@example.com", n % 37),
            _ => format!("Buyer{}@EXAMPLE.com", n % 37),
        };
        let currency = if n % 5 == 0 { "USD" } else { "EUR" };
        let total = 100 + next() % 10_000;
        let mut entries = vec![
            vec![placed(&email, total, currency, 1_000 + n)],
            vec![OrderEvent::Reserved, started()],
        ];
        let status = match next() % 5 {
            0 => OrderStatus::AwaitingPayment,
            1 => {
                entries.push(vec![OrderEvent::Paid, OrderEvent::Confirmed]);
                OrderStatus::Confirmed
            }
            2 => {
                entries.push(vec![OrderEvent::Paid, OrderEvent::Confirmed]);
                entries.push(vec![OrderEvent::Shipped { tracking: "T".into() }]);
                OrderStatus::Shipped
            }
            3 => {
                entries.push(vec![OrderEvent::Expired]);
                entries.push(vec![OrderEvent::Released]);
                OrderStatus::Expired
            }
            _ => {
                entries.push(vec![OrderEvent::Paid, OrderEvent::Confirmed]);
                entries.push(vec![OrderEvent::RefundRequested {
                    reason: "r".into(),
                    restock: vec![],
                }]);
                OrderStatus::RefundPending
            }
        };
        let count = entries.len();
        for events in entries {
            book.apply(&id, seq, &events);
            seq += events.len() as u64;
        }
        truth.push((id, email, status, total, currency.to_string(), 1_000 + n, count));
    }
    (book, truth)
}

#[test]
fn pages_filters_and_counts_match_a_brute_force_reading() {
    let (book, truth) = generated();
    assert_eq!(book.len(), 500);
    for status in STATUSES {
        let expected = truth.iter().filter(|order| order.2 == status).count();
        assert_eq!(book.count(status), expected, "{status:?}");
        let page = book.page(&OrderQuery {
            status: Some(status),
            page: 1,
            per_page: 7,
            ..OrderQuery::default()
        });
        let ids: Vec<&String> = truth
            .iter()
            .rev()
            .filter(|order| order.2 == status)
            .skip(7)
            .take(7)
            .map(|o| &o.0)
            .collect();
        assert_eq!(page.matching, expected);
        assert_eq!(page.orders.iter().map(|o| &o.id).collect::<Vec<_>>(), ids, "{status:?}");
    }
    let by_email = book.page(&OrderQuery {
        search: " Buyer3@Example.com ".into(),
        per_page: 1000,
        ..OrderQuery::default()
    });
    let expected: Vec<&String> = truth
        .iter()
        .rev()
        .filter(|o| o.1.to_lowercase() == "buyer3@example.com")
        .map(|o| &o.0)
        .collect();
    assert_eq!(by_email.orders.iter().map(|o| &o.id).collect::<Vec<_>>(), expected);
    assert!(expected.len() > 5, "the address placed orders in both cases");
    let by_part = book.page(&OrderQuery {
        search: "YER3".into(),
        per_page: 1000,
        ..OrderQuery::default()
    });
    let expected: Vec<&String> = (truth.iter().rev())
        .filter(|o| o.1.to_lowercase().contains("yer3"))
        .map(|o| &o.0)
        .collect();
    assert_eq!(by_part.matching, expected.len());
    assert_eq!(by_part.orders.iter().map(|o| &o.id).collect::<Vec<_>>(), expected);
    let (id, .., entries) = &truth[123];
    let by_id = book.page(&OrderQuery {
        search: id.to_uppercase(),
        per_page: 20,
        ..OrderQuery::default()
    });
    assert_eq!(by_id.matching, 1);
    assert_eq!(&by_id.orders[0].id, id);
    let by_short_id = book.page(&OrderQuery {
        search: id[..8].to_string(),
        per_page: 20,
        ..OrderQuery::default()
    });
    assert!(by_short_id.orders.iter().any(|order| &order.id == id));
    assert!(by_short_id.orders.iter().all(|order| order.id.starts_with(&id[..8])));
    assert_eq!(book.log_starts(id).unwrap().len(), *entries);
}

#[test]
fn sales_count_sold_orders_per_currency_since_a_time() {
    let (book, truth) = generated();
    let since = 1_250;
    for currency in ["EUR", "USD"] {
        let sold_orders: Vec<_> = truth
            .iter()
            .filter(|o| o.5 >= since && o.4 == currency && sold(o.2))
            .collect();
        let sales = book.sales_since(since);
        let found = sales.iter().find(|s| s.currency == currency).unwrap();
        assert_eq!(found.orders, sold_orders.len() as u64);
        assert_eq!(found.revenue, sold_orders.iter().map(|o| o.3).sum::<u64>());
    }
}

#[test]
fn events_of_an_order_never_placed_are_ignored() {
    let mut book = OrderBook::default();
    book.apply("ghost", 0, &[OrderEvent::Paid]);
    assert!(book.is_empty());
}

#[test]
fn ids_that_are_not_hex_are_found_listed_and_searched_like_hex_ones() {
    let mut book = OrderBook::default();
    book.apply("order-Seven", 0, &[placed("a@example.com", 700, "EUR", 1)]);
    book.apply(
        "0123456789abcdef0123456789abcdef",
        1,
        &[placed("b@example.com", 100, "EUR", 2)],
    );
    book.apply("order-Seven", 2, &[OrderEvent::Confirmed]);
    let found = book.get("order-Seven").expect("a non-hex id is kept as it is");
    assert_eq!(
        (found.id.as_str(), found.total, found.status),
        ("order-Seven", 700, OrderStatus::Confirmed)
    );
    assert_eq!(book.log_starts("order-Seven"), Some(vec![0, 2]));
    let listed = book.page(&OrderQuery {
        per_page: 10,
        ..OrderQuery::default()
    });
    let ids: Vec<&str> = listed.orders.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, ["0123456789abcdef0123456789abcdef", "order-Seven"]);
    let by_prefix = book.page(&OrderQuery {
        search: "0123456789".into(),
        per_page: 10,
        ..OrderQuery::default()
    });
    assert_eq!(by_prefix.matching, 1);
    assert!(book.get("0123456789ABCDEF0123456789ABCDEF").is_none(), "ids are exact");
}

#[test]
fn the_table_the_search_and_the_filter_lower_an_address_alike() {
    // `str::to_lowercase` makes a final capital sigma ς, `char::to_lowercase`
    // σ: the book uses the second everywhere, so these are two addresses.
    let mut book = OrderBook::default();
    book.apply("01", 0, &[placed("XΣ@y.gr", 100, "EUR", 1)]);
    book.apply("02", 1, &[placed("xς@y.gr", 100, "EUR", 2)]);
    for (search, id) in [("XΣ@Y.GR", "01"), ("xσ@y.gr", "01"), ("xς@y.gr", "02")] {
        let page = book.page(&OrderQuery {
            search: search.into(),
            per_page: 10,
            ..OrderQuery::default()
        });
        let ids: Vec<&str> = page.orders.iter().map(|o| o.id.as_str()).collect();
        assert_eq!(ids, [id], "{search}");
    }
}

#[test]
fn an_entry_stays_96_bytes() {
    assert_eq!(std::mem::size_of::<Entry>(), 96);
}
