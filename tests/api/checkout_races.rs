//! Checkouts racing each other through the real server: one key fired many
//! times at once makes one order; multi-line carts over the same few SKUs,
//! checked out at once, sell all of a cart's lines or none and conserve stock.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::Value;

use crate::carts::shop;
use crate::helpers::error_code;
use crate::helpers::spawn_app;
use crate::orders::{checkout, checkout_body, guest_cart_with, level};

#[actix_web::test]
async fn one_key_fired_at_once_makes_one_order() {
    let app = spawn_app().await;
    shop(&app.api, &[("TEE", 1_000)], 10).await;
    let cart = guest_cart_with(&app.api, &[("TEE", 2)]).await;
    let body = checkout_body("race@example.com");
    let attempts = (0..12).map(|_| async {
        let response = checkout(&app.api, &cart, Some("same-key"), &body, None).await;
        match response.status() {
            StatusCode::CREATED => Ok(response.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()),
            status => Err((status, error_code(response).await)),
        }
    });
    let mut orders = BTreeSet::new();
    for answer in join_all(attempts).await {
        match answer {
            Ok(id) => {
                orders.insert(id);
            }
            Err(refused) => assert_eq!(
                refused,
                (StatusCode::CONFLICT, "checkout_in_progress".to_string()),
                "a concurrent attempt either gets the order or is told it is running"
            ),
        }
    }
    assert_eq!(orders.len(), 1, "one order for one key: {orders:?}");
    assert_eq!(level(&app.api, "TEE").await, (8, 0, 2), "sold once");
    let again = checkout(&app.api, &cart, Some("same-key"), &body, None).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    let id = again.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    assert!(orders.contains(&id), "a later retry finds the same order");
}

#[actix_web::test]
async fn one_key_on_many_carts_at_once_makes_an_order_per_cart() {
    let app = spawn_app().await;
    shop(&app.api, &[("TEE", 1_000)], 10).await;
    let mut carts = Vec::new();
    for _ in 0..6 {
        carts.push(guest_cart_with(&app.api, &[("TEE", 1)]).await);
    }
    let body = checkout_body("race@example.com");
    let answers = join_all(
        carts
            .iter()
            .map(|cart| checkout(&app.api, cart, Some("shared-key"), &body, None)),
    )
    .await;
    let mut orders = BTreeSet::new();
    for response in answers {
        assert_eq!(response.status(), StatusCode::CREATED);
        orders.insert(
            response.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(orders.len(), carts.len(), "a key names an order per cart");
    assert_eq!(level(&app.api, "TEE").await, (4, 0, 6));
}

#[actix_web::test]
async fn overlapping_multi_line_checkouts_sell_all_lines_or_none() {
    let app = spawn_app().await;
    const SKUS: [&str; 3] = ["A", "B", "C"];
    const STOCK: u64 = 10;
    shop(&app.api, &[("A", 100), ("B", 200), ("C", 300)], STOCK).await;
    // 30 carts of two SKUs (one unit each, every pair ten times): 60 units wanted
    // of 30 on hand.
    let mut carts = Vec::new();
    for n in 0..30 {
        let (first, second) = (SKUS[n % 3], SKUS[(n + 1) % 3]);
        carts.push((
            guest_cart_with(&app.api, &[(first, 1), (second, 1)]).await,
            [first, second],
        ));
    }
    let body = checkout_body("race@example.com");
    let answers = join_all(
        carts
            .iter()
            .map(|(cart, _)| checkout(&app.api, cart, Some("k"), &body, None)),
    )
    .await;
    let mut sold: BTreeMap<&str, u64> = BTreeMap::new();
    let mut confirmed = 0;
    for (response, (_, skus)) in answers.into_iter().zip(&carts) {
        match response.status() {
            StatusCode::CREATED => {
                let order: Value = response.json().await.unwrap();
                assert_eq!(order["status"], "confirmed");
                assert_eq!(order["items"].as_array().unwrap().len(), 2, "all of its lines");
                confirmed += 1;
                for sku in skus {
                    *sold.entry(sku).or_default() += 1;
                }
            }
            StatusCode::CONFLICT => {
                let refusal: Value = response.json().await.unwrap();
                assert_eq!(refusal["error"]["code"], "out_of_stock", "{refusal}");
                let short: Vec<&str> = refusal["error"]["lines"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|line| line["sku"].as_str().unwrap())
                    .collect();
                assert!(
                    !short.is_empty() && short.iter().all(|sku| skus.contains(sku)),
                    "{refusal}"
                );
            }
            status => panic!("unexpected {status}"),
        }
    }
    assert!(
        confirmed > 0 && confirmed < carts.len(),
        "{confirmed} of 30 sold: the SKUs were contended"
    );
    for sku in SKUS {
        let units = sold.get(sku).copied().unwrap_or(0);
        assert_eq!(
            level(&app.api, sku).await,
            (STOCK - units, 0, units),
            "{sku}: exactly the confirmed orders' units sold, nothing held"
        );
    }
}
