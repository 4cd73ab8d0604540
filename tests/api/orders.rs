//! Checkout and orders: the saga end to end over HTTP, idempotency, all-or-nothing
//! reservation under concurrency, payment windows, cancellation, crash recovery.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::carts::{add, new_cart, shop};
use crate::helpers::{access, error_code, eventually, spawn_app, spawn_app_with, Api};

pub fn checkout_body(email: &str) -> Value {
    json!({
        "email": email,
        "shipping_address": {"name": "Uma", "line1": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "DE"}
    })
}

pub async fn checkout(
    api: &Api,
    cart: &str,
    key: Option<&str>,
    body: &Value,
    token: Option<&str>,
) -> reqwest::Response {
    let mut request = api
        .client
        .post(api.url(&format!("/v1/carts/{cart}/checkout")))
        .json(body);
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

pub async fn guest_cart_with(api: &Api, lines: &[(&str, u32)]) -> String {
    let id = new_cart(api).await["id"].as_str().unwrap().to_string();
    for (sku, qty) in lines {
        add(api, &id, sku, *qty).await;
    }
    id
}

/// `(on_hand, reserved, sold)` of a SKU.
pub async fn level(api: &Api, sku: &str) -> (u64, u64, u64) {
    let level = api.level(sku).await;
    (
        level["on_hand"].as_u64().unwrap(),
        level["reserved"].as_u64().unwrap(),
        level["sold"].as_u64().unwrap(),
    )
}

#[actix_web::test]
async fn a_checkout_confirms_sells_the_stock_and_replays_by_key() {
    let app = spawn_app().await;
    shop(&app.api, &[("TEE", 1_000)], 10).await;
    let cart = guest_cart_with(&app.api, &[("TEE", 2)]).await;
    let body = checkout_body("Uma@Example.com");

    let missing = checkout(&app.api, &cart, None, &body, None).await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(missing).await, "idempotency_key_required");

    let first = checkout(&app.api, &cart, Some("k-1"), &body, None).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first_text = first.text().await.unwrap();
    let order: Value = serde_json::from_str(&first_text).unwrap();
    assert_eq!(order["status"], "confirmed");
    assert_eq!(
        (order["total"].as_u64(), order["email"].as_str()),
        (Some(2_000), Some("uma@example.com"))
    );
    assert_eq!(level(&app.api, "TEE").await, (8, 0, 2));

    let replay = checkout(&app.api, &cart, Some("k-1"), &body, None).await;
    assert_eq!(replay.status(), StatusCode::CREATED);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert_eq!(
        replay.text().await.unwrap(),
        first_text,
        "the first answer, byte for byte"
    );
    assert_eq!(level(&app.api, "TEE").await, (8, 0, 2), "nothing sold twice");

    let reused = checkout(&app.api, &cart, Some("k-1"), &checkout_body("other@example.com"), None).await;
    assert_eq!(reused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(reused).await, "idempotency_key_reused");

    let empty = new_cart(&app.api).await["id"].as_str().unwrap().to_string();
    let nothing = checkout(&app.api, &empty, Some("k-2"), &body, None).await;
    assert_eq!(error_code(nothing).await, "cart_empty");
    let mut bad_address = checkout_body("uma@example.com");
    bad_address["shipping_address"]["country"] = json!("XX");
    let refused = checkout(&app.api, &cart, Some("k-3"), &bad_address, None).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let id = order["id"].as_str().unwrap();
    let token = order["order_token"].as_str().expect("a guest gets an order token");
    let anonymous = app.api.get(&format!("/v1/orders/{id}")).await;
    assert_eq!(anonymous.status(), StatusCode::NOT_FOUND);
    let with_token = app
        .api
        .client
        .get(app.api.url(&format!("/v1/orders/{id}")))
        .header("x-order-token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(with_token.status(), StatusCode::OK);
    assert_eq!(app.api.metric("mercato_orders_total{status=\"confirmed\"}").await, 1.0);
}

#[actix_web::test]
async fn thirty_buyers_of_ten_units_make_exactly_ten_orders() {
    let app = spawn_app().await;
    shop(&app.api, &[("HOT", 500)], 10).await;
    let mut carts = Vec::new();
    for _ in 0..30 {
        carts.push(guest_cart_with(&app.api, &[("HOT", 1)]).await);
    }
    let body = checkout_body("buyer@example.com");
    let attempts = carts.iter().enumerate().map(|(n, cart)| {
        let (api, body) = (app.api.clone(), body.clone());
        async move {
            let response = checkout(&api, cart, Some(&format!("key-{n}")), &body, None).await;
            let status = response.status();
            (status, response.json::<Value>().await.unwrap())
        }
    });
    let results = futures_util::future::join_all(attempts).await;
    let confirmed = results
        .iter()
        .filter(|(status, _)| *status == StatusCode::CREATED)
        .count();
    let refused: Vec<&Value> = results
        .iter()
        .filter(|(status, _)| *status == StatusCode::CONFLICT)
        .map(|(_, body)| body)
        .collect();
    assert_eq!((confirmed, refused.len()), (10, 20), "{results:?}");
    for body in refused {
        assert_eq!(body["error"]["code"], "out_of_stock");
        assert_eq!(body["error"]["lines"][0]["sku"], "HOT");
    }
    assert_eq!(level(&app.api, "HOT").await, (0, 0, 10));
}

#[actix_web::test]
async fn a_multi_line_order_is_all_or_nothing() {
    let app = spawn_app().await;
    shop(&app.api, &[("A", 100), ("B", 200)], 5).await;
    app.api.set_on_hand("B", 1).await;
    let cart = guest_cart_with(&app.api, &[("A", 2), ("B", 2)]).await;
    let refused = checkout(&app.api, &cart, Some("k"), &checkout_body("x@example.com"), None).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(
        body["error"]["lines"],
        json!([{"sku": "B", "requested": 2, "available": 1}])
    );
    assert_eq!(
        level(&app.api, "A").await,
        (5, 0, 0),
        "the line that fitted was released"
    );
    assert_eq!(level(&app.api, "B").await, (1, 0, 0));
}

#[actix_web::test]
async fn customers_list_cancel_and_staff_ship_orders() {
    let app = spawn_app().await;
    shop(&app.api, &[("TEE", 1_000)], 10).await;
    let token = access(&app.api.register("vera@example.com").await);
    let mine: Value = app.api.my_cart(&token).await;
    let cart = mine["id"].as_str().unwrap().to_string();
    let path = format!("/v1/carts/{cart}/items");
    app.api
        .as_user(&token, Method::POST, &path, Some(json!({"sku": "TEE", "qty": 3})))
        .await;
    let placed = checkout(
        &app.api,
        &cart,
        Some("k1"),
        &checkout_body("vera@example.com"),
        Some(&token),
    )
    .await;
    assert_eq!(placed.status(), StatusCode::CREATED);
    let order: Value = placed.json().await.unwrap();
    assert!(order.get("order_token").is_none(), "a customer's order needs no token");
    let id = order["id"].as_str().unwrap().to_string();
    let next_cart: Value = app.api.my_cart(&token).await;
    assert_ne!(next_cart["id"], mine["id"], "a fresh cart after checkout");

    let listed: Value = app
        .api
        .as_user(&token, Method::GET, "/v1/me/orders", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["id"], order["id"]);
    let stranger = access(&app.api.register("walt@example.com").await);
    let hidden = app
        .api
        .as_user(&stranger, Method::GET, &format!("/v1/orders/{id}"), None)
        .await;
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);

    let cancelled = app
        .api
        .as_user(&token, Method::POST, &format!("/v1/orders/{id}/cancel"), None)
        .await;
    assert_eq!(cancelled.status(), StatusCode::OK);
    assert_eq!(cancelled.json::<Value>().await.unwrap()["status"], "refunded");
    assert_eq!(
        level(&app.api, "TEE").await,
        (10, 0, 0),
        "a return: the units move from sold back to on hand"
    );

    // A second order, shipped by staff, cannot be cancelled any more.
    let cart = next_cart["id"].as_str().unwrap();
    app.api
        .as_user(
            &token,
            Method::POST,
            &format!("/v1/carts/{cart}/items"),
            Some(json!({"sku": "TEE", "qty": 1})),
        )
        .await;
    let second: Value = checkout(
        &app.api,
        cart,
        Some("k2"),
        &checkout_body("vera@example.com"),
        Some(&token),
    )
    .await
    .json()
    .await
    .unwrap();
    let second_id = second["id"].as_str().unwrap();
    let transition = format!("/v1/admin/orders/{second_id}/transition");
    let no_tracking = app
        .api
        .admin(Method::POST, &transition, Some(json!({"to": "shipped"})))
        .await;
    assert_eq!(no_tracking.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let customer_try = app
        .api
        .as_user(
            &token,
            Method::POST,
            &transition,
            Some(json!({"to": "shipped", "tracking": "T"})),
        )
        .await;
    assert_eq!(customer_try.status(), StatusCode::FORBIDDEN);
    let shipped = app
        .api
        .admin(
            Method::POST,
            &transition,
            Some(json!({"to": "shipped", "tracking": "DHL-123"})),
        )
        .await;
    assert_eq!(shipped.json::<Value>().await.unwrap()["tracking"], "DHL-123");
    let too_late = app
        .api
        .as_user(&token, Method::POST, &format!("/v1/orders/{second_id}/cancel"), None)
        .await;
    assert_eq!(too_late.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(too_late).await, "invalid_transition");
    let delivered = app
        .api
        .admin(Method::POST, &transition, Some(json!({"to": "delivered"})))
        .await;
    assert_eq!(delivered.json::<Value>().await.unwrap()["status"], "delivered");
}

#[actix_web::test]
async fn an_unpaid_order_expires_and_its_stock_comes_back() {
    let app = spawn_app_with(|settings| {
        settings.payments.manual.capture = mercato_actors::payment::Capture::Operator;
        // Long enough for the stock check below on a loaded CI machine, short enough to wait for.
        settings.checkout.payment_window = Duration::from_secs(2);
        settings.checkout.sweep_interval = Duration::from_millis(100);
    })
    .await;
    shop(&app.api, &[("TEE", 1_000)], 3).await;
    let cart = guest_cart_with(&app.api, &[("TEE", 2)]).await;
    let waiting: Value = checkout(&app.api, &cart, Some("k"), &checkout_body("x@example.com"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(waiting["status"], "awaiting_payment");
    assert_eq!(
        level(&app.api, "TEE").await,
        (3, 2, 0),
        "held while the payment is awaited"
    );
    let id = waiting["id"].as_str().unwrap().to_string();
    eventually(Duration::from_secs(10), || async {
        let order = app.api.order(&id).await;
        (order["status"] == "expired").then_some(())
    })
    .await;
    eventually(Duration::from_secs(10), || async {
        (level(&app.api, "TEE").await == (3, 0, 0)).then_some(())
    })
    .await;
    let late = app
        .api
        .admin(
            Method::POST,
            &format!("/v1/admin/orders/{id}/transition"),
            Some(json!({"to": "paid"})),
        )
        .await;
    assert_eq!(error_code(late).await, "invalid_transition");
}

#[actix_web::test]
async fn an_order_paid_within_its_window_confirms_and_sells() {
    let app = spawn_app_with(|settings| {
        settings.payments.manual.capture = mercato_actors::payment::Capture::Operator;
    })
    .await;
    shop(&app.api, &[("TEE", 1_000)], 3).await;
    let cart = guest_cart_with(&app.api, &[("TEE", 1)]).await;
    let waiting: Value = checkout(&app.api, &cart, Some("k"), &checkout_body("x@example.com"), None)
        .await
        .json()
        .await
        .unwrap();
    let id = waiting["id"].as_str().unwrap();
    let captured = app
        .api
        .admin(
            Method::POST,
            &format!("/v1/admin/orders/{id}/transition"),
            Some(json!({"to": "paid"})),
        )
        .await;
    assert_eq!(captured.json::<Value>().await.unwrap()["status"], "confirmed");
    assert_eq!(level(&app.api, "TEE").await, (2, 0, 1));
}

#[actix_web::test]
async fn a_confirmed_order_counts_a_use_of_its_coupon() {
    let app = spawn_app().await;
    shop(&app.api, &[("TEE", 1_000)], 10).await;
    let coupon = json!({"code": "ONCE", "percent": 10, "max_uses": 1});
    let created = app.api.admin(Method::POST, "/v1/admin/coupons", Some(coupon)).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let apply = |cart: String| {
        let api = app.api.clone();
        async move {
            api.client
                .post(api.url(&format!("/v1/carts/{cart}/coupons")))
                .json(&json!({"code": "ONCE"}))
                .send()
                .await
                .unwrap()
        }
    };
    let first = guest_cart_with(&app.api, &[("TEE", 1)]).await;
    assert_eq!(apply(first.clone()).await.status(), StatusCode::OK);
    let order: Value = checkout(&app.api, &first, Some("k"), &checkout_body("x@example.com"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (order["status"].as_str(), order["discount"].as_u64()),
        (Some("confirmed"), Some(100))
    );
    let rules: Value = app
        .api
        .admin(Method::GET, "/v1/admin/coupons", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rules["coupons"][0]["uses"], 1);
    let second = guest_cart_with(&app.api, &[("TEE", 1)]).await;
    assert_eq!(error_code(apply(second).await).await, "coupon_used_up");
}
