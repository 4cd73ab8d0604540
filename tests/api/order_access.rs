//! Who may see an order and check out a cart: a guest order opens with its own
//! `X-Order-Token` only, never with another order's or a forged one; a
//! customer's order never with a token; a customer's cart checks out for its
//! owner only.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::carts::shop;
use crate::helpers::{access, error_code, spawn_app, Api};
use crate::orders::{checkout, checkout_body, guest_cart_with, level};

/// A guest order of one TEE: its id and order token.
async fn guest_order(api: &Api, key: &str) -> (String, String) {
    let cart = guest_cart_with(api, &[("TEE", 1)]).await;
    let placed = checkout(api, &cart, Some(key), &checkout_body("guest@example.com"), None).await;
    assert_eq!(placed.status(), StatusCode::CREATED);
    let order: Value = placed.json().await.unwrap();
    let token = order["order_token"].as_str().unwrap().to_string();
    (order["id"].as_str().unwrap().to_string(), token)
}

async fn read_with_token(api: &Api, id: &str, token: &str) -> StatusCode {
    api.client
        .get(api.url(&format!("/v1/orders/{id}")))
        .header("x-order-token", token)
        .send()
        .await
        .unwrap()
        .status()
}

#[actix_web::test]
async fn an_order_token_opens_its_own_guest_order_only() {
    let app = spawn_app().await;
    shop(&app.api, &[("TEE", 1_000)], 10).await;
    let (first, first_token) = guest_order(&app.api, "k1").await;
    let (second, second_token) = guest_order(&app.api, "k2").await;
    assert_eq!(read_with_token(&app.api, &first, &first_token).await, StatusCode::OK);
    assert_eq!(read_with_token(&app.api, &second, &second_token).await, StatusCode::OK);
    assert_eq!(
        read_with_token(&app.api, &first, &second_token).await,
        StatusCode::NOT_FOUND,
        "swapped tokens"
    );
    let mut forged = first_token.clone().into_bytes();
    let last = forged.len() - 1;
    forged[last] = if forged[last] == b'0' { b'1' } else { b'0' };
    let forged = String::from_utf8(forged).unwrap();
    assert_eq!(
        read_with_token(&app.api, &first, &forged).await,
        StatusCode::NOT_FOUND,
        "forged"
    );
    assert_eq!(
        read_with_token(&app.api, &first, "").await,
        StatusCode::NOT_FOUND,
        "empty"
    );

    // A customer's order is theirs: no guest token opens it.
    let owner = access(&app.api.register("owen@example.com").await);
    let cart: Value = app.api.my_cart(&owner).await;
    let cart = cart["id"].as_str().unwrap();
    let path = format!("/v1/carts/{cart}/items");
    app.api
        .as_user(&owner, Method::POST, &path, Some(json!({"sku": "TEE", "qty": 1})))
        .await;
    let placed = checkout(
        &app.api,
        cart,
        Some("k3"),
        &checkout_body("owen@example.com"),
        Some(&owner),
    )
    .await;
    assert_eq!(placed.status(), StatusCode::CREATED);
    let customers: Value = placed.json().await.unwrap();
    let customers = customers["id"].as_str().unwrap();
    assert_eq!(
        read_with_token(&app.api, customers, &first_token).await,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn a_customers_cart_checks_out_for_its_owner_only() {
    let app = spawn_app().await;
    shop(&app.api, &[("TEE", 1_000)], 10).await;
    let owner = access(&app.api.register("olga@example.com").await);
    let stranger = access(&app.api.register("stan@example.com").await);
    let cart: Value = app.api.my_cart(&owner).await;
    let cart = cart["id"].as_str().unwrap().to_string();
    let path = format!("/v1/carts/{cart}/items");
    app.api
        .as_user(&owner, Method::POST, &path, Some(json!({"sku": "TEE", "qty": 2})))
        .await;
    let body = checkout_body("stan@example.com");
    for (who, token) in [("a stranger", Some(stranger.as_str())), ("a guest", None)] {
        let refused = checkout(&app.api, &cart, Some("theirs"), &body, token).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{who}");
        assert_eq!(error_code(refused).await, "cart_forbidden", "{who}");
    }
    assert_eq!(level(&app.api, "TEE").await, (10, 0, 0), "nothing held or sold");
    let mine = checkout(
        &app.api,
        &cart,
        Some("mine"),
        &checkout_body("olga@example.com"),
        Some(&owner),
    )
    .await;
    assert_eq!(
        mine.status(),
        StatusCode::CREATED,
        "the cart is still the owner's to check out"
    );
    assert_eq!(level(&app.api, "TEE").await, (8, 0, 2));
}
