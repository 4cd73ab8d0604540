//! The scripted shop session every events-out test runs: register, checkout,
//! ship, deliver, a price change, a cancelled order, a refused checkout, an
//! archived product. What it should publish, per subject, is in [`Session`].

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{access, Api};
use crate::orders::{checkout, checkout_body, guest_cart_with};

/// What the session made.
pub struct Session {
    pub category_id: u64,
    pub empty_category_id: u64,
    pub product_id: u64,
    pub customer_id: String,
    pub shipped_order: String,
    pub cancelled_order: String,
    pub rejected_order: String,
}

impl Session {
    /// The event types each subject must receive, in order.
    pub fn expected(&self) -> Vec<(String, Vec<&'static str>)> {
        vec![
            (
                format!("products/{}", self.product_id),
                vec![
                    "product.created",
                    "product.updated",
                    "price.changed",
                    "product.updated",
                    "product.archived",
                ],
            ),
            (
                format!("customers/{}", self.customer_id),
                vec!["customer.registered", "customer.updated", "customer.deleted"],
            ),
            (
                format!("categories/{}", self.category_id),
                vec!["category.created", "category.updated"],
            ),
            (
                format!("categories/{}", self.empty_category_id),
                vec!["category.created", "category.deleted"],
            ),
            (
                format!("orders/{}", self.shipped_order),
                vec![
                    "order.placed",
                    "payment.started",
                    "payment.succeeded",
                    "order.confirmed",
                    "order.shipped",
                    "order.delivered",
                ],
            ),
            (
                format!("orders/{}", self.cancelled_order),
                vec![
                    "order.placed",
                    "payment.started",
                    "payment.succeeded",
                    "order.confirmed",
                    "order.refund_requested",
                    "order.refunded",
                ],
            ),
            (
                format!("orders/{}", self.rejected_order),
                vec!["order.placed", "order.rejected"],
            ),
            (
                "skus/TEA-1".to_string(),
                vec![
                    "stock.adjusted",
                    "stock.reserved",
                    "stock.sold",
                    "stock.low",
                    "stock.reserved",
                    "stock.sold",
                    "stock.returned",
                    "stock.reserved",
                    "stock.released",
                ],
            ),
        ]
    }
}

async fn admin(api: &Api, method: Method, path: &str, body: Value) -> Value {
    let response = api.admin(method, path, Some(body)).await;
    assert!(response.status().is_success(), "{path}: {}", response.status());
    response.json().await.unwrap()
}

async fn buy(api: &Api, token: &str, qty: u32, key: &str) -> String {
    let cart = api.my_cart(token).await["id"].as_str().unwrap().to_string();
    let path = format!("/v1/carts/{cart}/items");
    let added = api
        .as_user(token, Method::POST, &path, Some(json!({"sku": "TEA-1", "qty": qty})))
        .await;
    assert_eq!(added.status(), StatusCode::OK);
    let placed = checkout(api, &cart, Some(key), &checkout_body("ines@example.com"), Some(token)).await;
    assert_eq!(placed.status(), StatusCode::CREATED);
    let order: Value = placed.json().await.unwrap();
    assert_eq!(order["status"], "confirmed");
    order["id"].as_str().unwrap().to_string()
}

/// `n` guest checkouts of one TEA-2 each, one after another; answers the
/// orders confirmed.
pub async fn buy_more(api: &Api, n: usize) -> Vec<String> {
    let mut orders = Vec::new();
    for _ in 0..n {
        let cart = guest_cart_with(api, &[("TEA-2", 1)]).await;
        let placed = checkout(api, &cart, Some("k"), &checkout_body("gus@example.com"), None).await;
        assert_eq!(placed.status(), StatusCode::CREATED);
        orders.push(
            placed.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    orders
}

/// Runs the session.
pub async fn run(api: &Api) -> Session {
    let category = api.create_category("Tea", "tea", None).await["id"].as_u64().unwrap();
    let product = api
        .create_product(
            json!({"sku": "TEA-1", "name": "Sencha", "category_id": category, "price": 500, "currency": "EUR"}),
        )
        .await;
    let product_id = product["id"].as_u64().unwrap();
    api.set_on_hand("TEA-1", 10).await;
    api.create_product(
        json!({"sku": "TEA-2", "name": "Genmaicha", "category_id": category, "price": 300, "currency": "EUR"}),
    )
    .await;
    api.set_on_hand("TEA-2", 100_000).await;

    let session = api.register("ines@example.com").await;
    let token = access(&session);
    let me = api
        .as_user(&token, Method::PATCH, "/v1/me", Some(json!({"name": "Ines"})))
        .await;
    assert_eq!(me.status(), StatusCode::OK);
    let customer_id = me.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();

    // Six of ten: four left, low on stock.
    let shipped_order = buy(api, &token, 6, "k1").await;
    let transition = format!("/v1/admin/orders/{shipped_order}/transition");
    admin(
        api,
        Method::POST,
        &transition,
        json!({"to": "shipped", "tracking": "DHL-1"}),
    )
    .await;
    admin(api, Method::POST, &transition, json!({"to": "delivered"})).await;

    admin(
        api,
        Method::PATCH,
        &format!("/v1/products/{product_id}"),
        json!({"price": 450}),
    )
    .await;

    let cancelled_order = buy(api, &token, 1, "k2").await;
    let cancelled = api
        .as_user(
            &token,
            Method::POST,
            &format!("/v1/orders/{cancelled_order}/cancel"),
            None,
        )
        .await;
    assert_eq!(cancelled.json::<Value>().await.unwrap()["status"], "refunded");

    let guest = guest_cart_with(api, &[("TEA-1", 9)]).await;
    let refused = checkout(api, &guest, Some("k3"), &checkout_body("gus@example.com"), None).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let rejected_order = refused.json::<Value>().await.unwrap()["error"]["order_id"]
        .as_str()
        .expect("the refusal names its order")
        .to_string();

    admin(
        api,
        Method::PATCH,
        &format!("/v1/products/{product_id}"),
        json!({"status": "archived"}),
    )
    .await;

    // Another service holds two units, then gives them back.
    let held = api
        .reserve("TEA-1", json!({"qty": 2, "ttl_secs": 60, "reservation_id": "hold-1"}))
        .await;
    assert_eq!(held.status(), StatusCode::CREATED);
    assert!(api.release("TEA-1", "hold-1").await.status().is_success());

    admin(
        api,
        Method::PATCH,
        &format!("/v1/categories/{category}"),
        json!({"name": "Green tea"}),
    )
    .await;
    let empty_category_id = api.create_category("Empty", "empty", None).await["id"]
        .as_u64()
        .unwrap();
    let deleted = api
        .admin(Method::DELETE, &format!("/v1/categories/{empty_category_id}"), None)
        .await;
    assert!(deleted.status().is_success());
    let gone = api
        .admin(Method::DELETE, &format!("/v1/admin/users/{customer_id}"), None)
        .await;
    assert!(gone.status().is_success());
    Session {
        category_id: category,
        empty_category_id,
        product_id,
        customer_id,
        shipped_order,
        cancelled_order,
        rejected_order,
    }
}
