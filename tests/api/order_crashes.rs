//! Orders across `kill -9` of the real binary: an order awaiting its payment
//! still expires and releases after a restart; checkouts cut mid-load lose no
//! acknowledged order and leak no stock.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::carts::shop;
use crate::helpers::{eventually, ServerProcess};
use crate::orders::{checkout, checkout_body, guest_cart_with, level};

#[actix_web::test]
async fn a_kill_9_while_awaiting_payment_expires_after_restart_and_releases() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("MERCATO__PAYMENTS__MANUAL__CAPTURE", "operator"),
        ("MERCATO__CHECKOUT__PAYMENT_WINDOW", "2s"),
        ("MERCATO__CHECKOUT__SWEEP_INTERVAL", "200ms"),
    ];
    let server = ServerProcess::start(dir.path(), &env);
    shop(&server.api, &[("TEE", 1_000)], 5).await;
    let cart = guest_cart_with(&server.api, &[("TEE", 4)]).await;
    let placed = checkout(&server.api, &cart, Some("k"), &checkout_body("x@example.com"), None).await;
    assert_eq!(placed.status(), StatusCode::CREATED);
    let id = placed.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(level(&server.api, "TEE").await, (5, 4, 0));
    server.kill();

    let server = ServerProcess::start(dir.path(), &env);
    eventually(Duration::from_secs(15), || async {
        let order = server.api.order(&id).await;
        let released = level(&server.api, "TEE").await == (5, 0, 0);
        (order["status"] == "expired" && released).then_some(())
    })
    .await;
}

#[actix_web::test]
async fn a_kill_9_mid_load_loses_no_acknowledged_order_and_leaks_no_stock() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("MERCATO__CHECKOUT__SWEEP_INTERVAL", "200ms"),
        ("MERCATO__CHECKOUT__RECONCILE_AFTER", "0s"),
    ];
    let server = ServerProcess::start(dir.path(), &env);
    shop(&server.api, &[("TEE", 1_000)], 1_000).await;
    let mut carts = Vec::new();
    for _ in 0..60 {
        carts.push(guest_cart_with(&server.api, &[("TEE", 1)]).await);
    }
    let body = checkout_body("x@example.com");
    let api = server.api.clone();
    let all_carts = carts.clone();
    let load = actix_web::rt::spawn(async move {
        let mut acknowledged = Vec::new();
        for cart in carts {
            let Ok(response) = api
                .client
                .post(api.url(&format!("/v1/carts/{cart}/checkout")))
                .header("idempotency-key", "k")
                .json(&body)
                .send()
                .await
            else {
                break;
            };
            if response.status() == StatusCode::CREATED {
                if let Ok(order) = response.json::<Value>().await {
                    acknowledged.push(order["id"].as_str().unwrap().to_string());
                }
            }
        }
        acknowledged
    });
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    server.kill();
    let acknowledged = load.await.unwrap();
    assert!(!acknowledged.is_empty(), "some checkouts finished before the kill");

    let server = ServerProcess::start(dir.path(), &env);
    for id in &acknowledged {
        let order = server.api.order(id).await;
        assert_eq!(order["status"], "confirmed", "acknowledged order {id}");
    }
    // Orders cut off mid-saga are resumed by the sweeper: in the end nothing is
    // held, and exactly the confirmed orders' units are sold.
    let confirmed = eventually(Duration::from_secs(20), || async {
        let mut confirmed = 0;
        for cart in &all_carts {
            let id = mercato_actors::order::order_id(cart, "k");
            let response = server.api.admin(Method::GET, &format!("/v1/orders/{id}"), None).await;
            if response.status() == StatusCode::NOT_FOUND {
                continue;
            }
            let order: Value = response.json().await.ok()?;
            match order["status"].as_str()? {
                "confirmed" => confirmed += 1,
                "pending" | "awaiting_payment" | "paid" => return None,
                _ => {}
            }
        }
        let (on_hand, reserved, sold) = level(&server.api, "TEE").await;
        (reserved == 0 && sold == confirmed && on_hand + sold == 1_000).then_some(confirmed)
    })
    .await;
    assert!(confirmed >= acknowledged.len() as u64);
}
