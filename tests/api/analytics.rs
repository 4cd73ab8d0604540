//! `GET /v1/admin/analytics` over the real server: its figures add up to the
//! orders the orders API shows, refunds and rejections included.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::carts::{new_cart, shop};
use crate::helpers::{access, spawn_app, Api, TOKEN};
use crate::orders::{checkout, checkout_body, guest_cart_with};

/// Places an order of `lines`; answers the order as checkout returned it.
async fn order(api: &Api, lines: &[(&str, u32)], key: &str) -> (StatusCode, Value) {
    let cart = guest_cart_with(api, lines).await;
    let placed = checkout(api, &cart, Some(key), &checkout_body("ana@example.com"), None).await;
    (placed.status(), placed.json().await.unwrap())
}

async fn analytics(api: &Api, query: &str) -> reqwest::Response {
    api.admin(Method::GET, &format!("/v1/admin/analytics{query}"), None)
        .await
}

/// The UTC date `offset_days` from today, `YYYY-MM-DD`.
pub fn day(offset_days: i64) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let at = UNIX_EPOCH + Duration::from_secs((now + offset_days * 86_400) as u64);
    humantime::format_rfc3339_seconds(at).to_string()[..10].to_string()
}

#[actix_web::test]
async fn the_figures_add_up_to_the_orders_the_orders_api_shows() {
    let app = spawn_app().await;
    let api = &app.api;
    shop(api, &[("A", 1_000), ("B", 250)], 5).await;
    let mut ids = Vec::new();
    for (lines, key) in [
        (&[("A", 2), ("B", 1)][..], "k1"),
        (&[("B", 3)][..], "k2"),
        (&[("A", 1)][..], "k3"),
    ] {
        let (status, placed) = order(api, lines, key).await;
        assert_eq!(status, StatusCode::CREATED);
        ids.push(placed["id"].as_str().unwrap().to_string());
    }
    let refund = api
        .client
        .post(api.url(&format!("/v1/orders/{}/cancel", ids[2])))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(refund.status(), StatusCode::OK);
    let (status, _) = order(api, &[("A", 50)], "k4").await;
    assert_eq!(status, StatusCode::CONFLICT, "out of stock: placed, then rejected");

    let (mut orders, mut revenue, mut units, mut refunds, mut refunded) = (0, 0, 0, 0, 0);
    for id in &ids {
        let shown = api.order(id).await;
        let total = shown["total"].as_u64().unwrap();
        match shown["status"].as_str().unwrap() {
            "confirmed" => {
                orders += 1;
                revenue += total;
                units += (shown["items"].as_array().unwrap().iter())
                    .map(|item| item["qty"].as_u64().unwrap())
                    .sum::<u64>();
            }
            "refunded" => {
                refunds += 1;
                refunded += total;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    let response = analytics(api, &format!("?from={}&to={}&granularity=hour", day(-1), day(1))).await;
    assert_eq!(response.status(), StatusCode::OK);
    let report: Value = response.json().await.unwrap();

    let eur = &report["totals"]["by_currency"][0];
    assert_eq!(eur["currency"], "EUR");
    assert_eq!(
        [
            eur["orders"].as_u64(),
            eur["revenue"].as_u64(),
            eur["refunds"].as_u64(),
            eur["refunded"].as_u64()
        ],
        [Some(orders), Some(revenue), Some(refunds), Some(refunded)]
    );
    assert_eq!(eur["average_order_value"].as_u64(), Some(revenue / orders));
    assert_eq!(report["totals"]["units_sold"].as_u64(), Some(units));
    assert_eq!(
        report["totals"]["placed"].as_u64(),
        Some(4),
        "three sold or refunded, one rejected"
    );
    let series = report["series"].as_array().unwrap();
    assert_eq!(series.len(), 48);
    let in_series: u64 = series.iter().map(|bucket| bucket["orders"].as_u64().unwrap()).sum();
    assert_eq!(in_series, orders);
    let top: Vec<(&str, u64)> = (report["top_products"].as_array().unwrap().iter())
        .map(|product| (product["sku"].as_str().unwrap(), product["units"].as_u64().unwrap()))
        .collect();
    assert_eq!(top, vec![("B", 4), ("A", 2)]);
    assert_eq!(report["top_categories"][0]["slug"], "shop");
    assert_eq!(report["top_categories"][0]["units"].as_u64(), Some(6));

    let before: Value = analytics(api, &format!("?from={}&to={}", day(-30), day(-1)))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(before["totals"]["placed"].as_u64(), Some(0));
    assert_eq!(before["series"].as_array().unwrap().len(), 29);
}

#[actix_web::test]
async fn a_report_needs_an_operator_and_a_sane_range() {
    let app = spawn_app().await;
    let api = &app.api;
    let anonymous = api.get("/v1/admin/analytics").await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    for (query, field) in [
        ("?granularity=week", "granularity"),
        ("?from=2026-12-07&to=2026-12-01", "from"),
        ("?from=yesterday", "from"),
        ("?from=2020-01-01&to=2026-01-01&granularity=hour", "to"),
        // 1,000 hours from half past: 1,001 buckets, as buckets start on the hour.
        (
            "?from=2026-01-01T00:30:00Z&to=2026-02-11T16:30:00Z&granularity=hour",
            "to",
        ),
    ] {
        let refused = analytics(api, query).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["error"]["field"], field, "{query}");
    }
    let default = analytics(api, "").await;
    assert_eq!(default.status(), StatusCode::OK);
    let body: Value = default.json().await.unwrap();
    assert_eq!(body["granularity"], "day");
    assert!(matches!(body["series"].as_array().unwrap().len(), 30 | 31));
}

/// A guest session's view, then what it puts in a new cart; answers the cart.
async fn guest_visit(api: &Api, session: &str, product: u64, buys: bool) -> Option<String> {
    let view = api
        .post(
            &format!("/v1/products/{product}/views"),
            json!({ "session_id": session }),
        )
        .await;
    assert_eq!(view.status(), StatusCode::ACCEPTED);
    if !buys {
        return None;
    }
    let cart = new_cart(api).await["id"].as_str().unwrap().to_string();
    let added = api
        .post(
            &format!("/v1/carts/{cart}/items"),
            json!({ "sku": "A", "qty": 1, "session_id": session }),
        )
        .await;
    assert_eq!(added.status(), StatusCode::OK);
    Some(cart)
}

#[actix_web::test]
async fn the_funnel_follows_scripted_shoppers_from_a_view_to_an_order() {
    let app = spawn_app().await;
    let api = &app.api;
    shop(api, &[("A", 1_000)], 50).await;
    let product: Value = api.get("/v1/products/A").await.json().await.unwrap();
    let product = product["id"].as_u64().unwrap();

    let bought = guest_visit(api, "shopper-one-0123456789", product, true).await.unwrap();
    let placed = checkout(api, &bought, Some("f1"), &checkout_body("one@example.com"), None).await;
    assert_eq!(placed.status(), StatusCode::CREATED);
    guest_visit(api, "shopper-two-0123456789", product, true).await;
    guest_visit(api, "shopper-three-012345678", product, false).await;

    let customer = access(&api.register("cleo@example.com").await);
    let path = format!("/v1/products/{product}/views");
    let viewed = api.as_user(&customer, Method::POST, &path, Some(json!({}))).await;
    assert_eq!(viewed.status(), StatusCode::ACCEPTED);
    let cart = api.my_cart(&customer).await["id"].as_str().unwrap().to_string();
    let item = json!({ "sku": "A", "qty": 2 });
    let added = (api.as_user(&customer, Method::POST, &format!("/v1/carts/{cart}/items"), Some(item))).await;
    assert_eq!(added.status(), StatusCode::OK);
    let placed = checkout(
        api,
        &cart,
        Some("f2"),
        &checkout_body("cleo@example.com"),
        Some(&customer),
    )
    .await;
    assert_eq!(placed.status(), StatusCode::CREATED);

    let report: Value = analytics(api, "").await.json().await.unwrap();
    let funnel = &report["funnel"];
    let counts = ["sessions_with_view", "with_cart", "with_order", "abandoned_carts"].map(|key| funnel[key].as_u64());
    assert_eq!(counts, [Some(4), Some(3), Some(2), Some(1)], "{funnel}");
}
