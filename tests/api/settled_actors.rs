//! What an order leaves live: the checked-out cart, the order and its
//! checkout key have settled and are passivated after
//! `runtime.settled_idle_timeout`; an open cart waits for `idle_timeout`, and
//! a checked-out cart someone watches stays live. Passivated, each still
//! answers from disk.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::cart_socket::{connect, next_json};
use crate::carts::{add, new_cart, shop};
use crate::helpers::{eventually, spawn_app_with, Api};
use crate::orders::{checkout, checkout_body};

/// Ids of the live actors of `kind`.
async fn live(api: &Api, kind: &str) -> Vec<String> {
    let response = api
        .admin(Method::GET, &format!("/v1/admin/actors?kind={kind}&limit=1000"), None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let actors: Value = response.json().await.unwrap();
    let mut ids: Vec<String> = (actors.as_array().unwrap().iter())
        .map(|actor| actor["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

/// A new cart holding one TEE.
async fn cart_with_a_tee(api: &Api) -> String {
    let id = new_cart(api).await["id"].as_str().unwrap().to_string();
    add(api, &id, "TEE", 1).await;
    id
}

/// Checks `cart` out; returns the order id.
async fn bought(api: &Api, cart: &str, key: &str) -> String {
    let placed = checkout(api, cart, Some(key), &checkout_body("sam@example.com"), None).await;
    assert_eq!(placed.status(), StatusCode::CREATED);
    let order: Value = placed.json().await.unwrap();
    assert_eq!(order["status"], "confirmed");
    order["id"].as_str().unwrap().to_string()
}

#[actix_web::test]
async fn settled_carts_orders_and_checkout_keys_leave_memory_soon_unless_watched() {
    let app = spawn_app_with(|settings| {
        settings.runtime.idle_timeout = Duration::from_secs(600);
        settings.runtime.settled_idle_timeout = Duration::from_millis(200);
    })
    .await;
    shop(&app.api, &[("TEE", 1_000)], 10).await;
    let open = cart_with_a_tee(&app.api).await;
    let bought_cart = cart_with_a_tee(&app.api).await;
    let watched = cart_with_a_tee(&app.api).await;
    let mut socket = connect(&app.api, &watched, None).await.unwrap();
    assert_eq!(next_json(&mut socket).await["cart"]["status"], "open");

    let order = bought(&app.api, &bought_cart, "settled-1").await;
    bought(&app.api, &watched, "settled-2").await;

    let mut expected = vec![open.clone(), watched.clone()];
    expected.sort();
    let carts = eventually(Duration::from_secs(10), || async {
        let carts = live(&app.api, "cart").await;
        (carts == expected).then_some(carts)
    })
    .await;
    assert_eq!(carts, expected, "the open cart and the watched one stay live");
    eventually(Duration::from_secs(10), || async {
        let (orders, keys) = (live(&app.api, "order").await, live(&app.api, "checkout-key").await);
        (orders.is_empty() && keys.is_empty()).then_some(())
    })
    .await;

    // Passivated is not gone: both answer from disk.
    let cart: Value = app
        .api
        .get(&format!("/v1/carts/{bought_cart}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cart["status"], "checked_out");
    assert_eq!(cart["order_id"], order.as_str());
    let replay = checkout(
        &app.api,
        &bought_cart,
        Some("settled-1"),
        &checkout_body("sam@example.com"),
        None,
    )
    .await;
    assert_eq!(replay.status(), StatusCode::CREATED, "the key replays its answer");
    let replayed: Value = replay.json().await.unwrap();
    assert_eq!(replayed["id"], order.as_str());
    assert_eq!(app.api.order(&order).await["status"], "confirmed");
    // The open cart took no message and waits its full idle timeout; the
    // watched one is still followed by its socket.
    let carts = live(&app.api, "cart").await;
    assert!(carts.contains(&open) && carts.contains(&watched), "{carts:?}");
}
