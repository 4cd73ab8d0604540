use mercato_actors::catalog::state::{CatalogEvent, Product, ProductFields, ProductStatus};
use mercato_actors::order::state::OrderEvent;
use mercato_actors::sku::SkuEvent;
use mercato_actors::storage::codec;
use mercato_actors::storage::event_log::LoggedEvents;

use super::*;

fn entry<E: Serialize>(kind: &str, id: &str, first_seq: u64, events: &[E]) -> LoggedEvents {
    let mut bytes = Vec::new();
    for event in events {
        codec::encode_into(event, &mut bytes).unwrap();
    }
    LoggedEvents {
        first_seq,
        count: events.len() as u32,
        kind: kind.into(),
        id: id.into(),
        events: bytes,
        written_at: Some(1_700_000_000_000),
    }
}

#[test]
fn internal_bookkeeping_is_left_out_and_the_rest_keeps_its_sequence() {
    let events = [
        OrderEvent::Reserved,
        OrderEvent::Paid,
        OrderEvent::Confirmed,
        OrderEvent::Released,
        OrderEvent::Shipped {
            tracking: "TRK1".into(),
        },
    ];
    let published = publish(&entry("order", "ord_1", 40, &events)).unwrap();
    let seen: Vec<_> = published
        .iter()
        .map(|e| (e.id.as_str(), e.event_type, e.sequence))
        .collect();
    assert_eq!(
        seen,
        [
            ("evt_41", "payment.succeeded", 41),
            ("evt_42", "order.confirmed", 42),
            ("evt_44", "order.shipped", 44)
        ]
    );
    assert!(published.iter().all(|e| e.subject == "orders/ord_1"));
    assert_eq!(published[0].occurred_at, "2023-11-14T22:13:20.000Z");
    assert_eq!(
        published[2].data,
        serde_json::json!({"order_id": "ord_1", "tracking": "TRK1"})
    );
}

#[test]
fn a_price_change_and_an_archiving_are_their_own_events() {
    let product = Product {
        id: 7,
        fields: ProductFields {
            sku: "TEA-1".into(),
            name: "Tea".into(),
            description: String::new(),
            category_id: 1,
            price: 450,
            currency: "EUR".into(),
            attributes: Default::default(),
            seller_id: None,
            images: Vec::new(),
            status: ProductStatus::Archived,
        },
        created_at: 0,
        updated_at: 0,
    };
    let events = [
        CatalogEvent::ProductUpdated(product),
        CatalogEvent::PriceChanged {
            id: 7,
            from: 500,
            to: 450,
            currency: "EUR".into(),
        },
        CatalogEvent::ProductArchived { id: 7 },
    ];
    let published = publish(&entry("catalog", "catalog", 1, &events)).unwrap();
    let types: Vec<_> = published.iter().map(|e| e.event_type).collect();
    assert_eq!(types, ["product.updated", "price.changed", "product.archived"]);
    assert_eq!(published[0].data["status"], "archived");
    assert_eq!(published[1].data["from"], 500);
    assert!(published.iter().all(|e| e.subject == "products/7"));
}

#[test]
fn stock_events_name_their_sku_and_low_stock_its_threshold() {
    let events = [
        SkuEvent::ReservationExpired {
            reservation_id: "r1".into(),
        },
        SkuEvent::CommitsForgotten { until: 5 },
        SkuEvent::LowStock { available: 2 },
    ];
    let published = publish(&entry("sku", "TEA-1", 9, &events)).unwrap();
    assert_eq!(published.len(), 2);
    assert_eq!(published[0].data["reason"], "expired");
    assert_eq!(published[1].sequence, 11);
    assert_eq!(
        published[1].data,
        serde_json::json!({"sku": "TEA-1", "available": 2, "threshold": 5})
    );
}

#[test]
fn kinds_without_public_events_publish_nothing() {
    let published = publish(&entry("checkout-key", "k", 1, &[1u8, 2])).unwrap();
    assert!(published.is_empty());
}

#[test]
fn every_type_name_is_unique_and_has_a_schema() {
    let mut names = std::collections::HashSet::new();
    let mut schemas = Schemas::new();
    for event_type in event_types() {
        assert!(names.insert(event_type.name), "{} twice", event_type.name);
        let data = (event_type.data)(&mut schemas);
        assert!(schemas.iter().any(|(name, _)| *name == data));
    }
}

#[test]
fn what_a_failing_payment_causes_is_published_too() {
    let events = [
        OrderEvent::PaymentFailed {
            reason: "card declined".into(),
        },
        OrderEvent::Expired,
        OrderEvent::Cancelled {
            reason: "customer".into(),
        },
        OrderEvent::RefundFailed {
            error: "gateway down".into(),
            retry_at: 1_700_000_060_000,
        },
    ];
    let published = publish(&entry("order", "ord_2", 1, &events)).unwrap();
    let types: Vec<_> = published.iter().map(|e| e.event_type).collect();
    assert_eq!(
        types,
        [
            "payment.failed",
            "order.expired",
            "order.cancelled",
            "order.refund_failed"
        ]
    );
    assert_eq!(published[0].data["reason"], "card declined");
    assert_eq!(published[3].data["retry_at"], "2023-11-14T22:14:20.000Z");
}
