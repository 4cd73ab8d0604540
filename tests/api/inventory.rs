//! Inventory over HTTP: levels, the reservation life cycle, and no oversell under
//! real concurrency.

use std::time::Duration;

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{error_code, eventually, spawn_app, Api, TOKEN};

#[actix_web::test]
async fn a_sku_never_stocked_reads_as_zero() {
    let app = spawn_app().await;
    let level = app.api.level("NEW-1").await;
    assert_eq!(
        level,
        json!({"sku": "NEW-1", "on_hand": 0, "reserved": 0, "available": 0, "sold": 0})
    );
}

#[actix_web::test]
async fn reserve_commit_and_release_move_the_figures() {
    let app = spawn_app().await;
    app.api.set_on_hand("TEE-M", 10).await;

    let first = app
        .api
        .reserve("TEE-M", json!({"qty": 3, "ttl_secs": 600, "reservation_id": "order-1"}))
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["reservation_id"], "order-1");
    assert_eq!(first["qty"], 3);
    assert!(first["expires_at"].as_str().unwrap().ends_with('Z'));
    let second = app.api.reserve("TEE-M", json!({"qty": 2, "ttl_secs": 600})).await;
    assert_eq!(second.status(), StatusCode::CREATED);
    let second_id = second.json::<Value>().await.unwrap()["reservation_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(app.api.level("TEE-M").await["available"], 5);

    let committed = app.api.commit("TEE-M", "order-1").await;
    assert_eq!(committed.status(), StatusCode::OK);
    assert_eq!(
        committed.json::<Value>().await.unwrap(),
        json!({"sku": "TEE-M", "on_hand": 7, "reserved": 2, "available": 5, "sold": 3})
    );
    let released = app.api.release("TEE-M", &second_id).await;
    assert_eq!(released.status(), StatusCode::OK);
    assert_eq!(
        released.json::<Value>().await.unwrap(),
        json!({"sku": "TEE-M", "on_hand": 7, "reserved": 0, "available": 7, "sold": 3})
    );
    let again = app.api.release("TEE-M", &second_id).await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(again).await, "reservation_not_found");
    let sold = app.api.release("TEE-M", "order-1").await;
    assert_eq!(
        sold.status(),
        StatusCode::CONFLICT,
        "a sold reservation is not released"
    );
    assert_eq!(error_code(sold).await, "reservation_committed");
    let held_again = app
        .api
        .reserve("TEE-M", json!({"qty": 3, "ttl_secs": 60, "reservation_id": "order-1"}))
        .await;
    assert_eq!(error_code(held_again).await, "reservation_committed", "nor held again");
    assert_eq!(app.api.level("TEE-M").await["sold"], 3);
}

#[actix_web::test]
async fn reserving_again_with_the_same_id_replays_the_first_grant() {
    let app = spawn_app().await;
    app.api.set_on_hand("MUG", 5).await;
    let body = json!({"qty": 2, "ttl_secs": 60, "reservation_id": "r-42"});
    let first = app.api.reserve("MUG", body.clone()).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let replay = app.api.reserve("MUG", body).await;
    assert_eq!(replay.status(), StatusCode::OK);
    assert_eq!(replay.json::<Value>().await.unwrap(), first);
    assert_eq!(app.api.level("MUG").await["reserved"], 2);

    let other_qty = app
        .api
        .reserve("MUG", json!({"qty": 3, "ttl_secs": 60, "reservation_id": "r-42"}))
        .await;
    assert_eq!(other_qty.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(other_qty).await, "reservation_conflict");
}

#[actix_web::test]
async fn refusals_name_what_is_available() {
    let app = spawn_app().await;
    app.api.set_on_hand("CAP", 2).await;
    let refused = app.api.reserve("CAP", json!({"qty": 3, "ttl_secs": 60})).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "out_of_stock");
    assert_eq!(body["error"]["available"], 2);
    assert_eq!(body["error"]["requested"], 3);
}

#[actix_web::test]
async fn on_hand_cannot_be_set_below_what_is_reserved() {
    let app = spawn_app().await;
    app.api.set_on_hand("BAG", 5).await;
    app.api.reserve("BAG", json!({"qty": 4, "ttl_secs": 60})).await;
    let response = app
        .api
        .admin(Method::PUT, "/v1/inventory/BAG", Some(json!({"on_hand": 3})))
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(response).await, "below_reserved");
    let adjust = app
        .api
        .admin(
            Method::POST,
            "/v1/inventory/BAG/adjust",
            Some(json!({"delta": -2, "reason": "damaged"})),
        )
        .await;
    assert_eq!(adjust.status(), StatusCode::CONFLICT);
    let adjust = app
        .api
        .admin(
            Method::POST,
            "/v1/inventory/BAG/adjust",
            Some(json!({"delta": 7, "reason": "receipt"})),
        )
        .await;
    assert_eq!(adjust.status(), StatusCode::OK);
    assert_eq!(adjust.json::<Value>().await.unwrap()["on_hand"], 12);
}

#[actix_web::test]
async fn an_expired_reservation_gives_its_units_back() {
    let app = spawn_app().await;
    app.api.set_on_hand("SOCK", 4).await;
    let response = app.api.reserve("SOCK", json!({"qty": 4, "ttl_secs": 1})).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(app.api.level("SOCK").await["available"], 0);
    let level = eventually(Duration::from_secs(5), || async {
        let level = app.api.level("SOCK").await;
        (level["available"] == 4).then_some(level)
    })
    .await;
    assert_eq!(level["reserved"], 0);
    assert_eq!(level["on_hand"], 4);
}

/// Each client owns its own connection pool, so the load spreads over at least
/// as many connections as there are clients.
fn clients(count: usize) -> Vec<reqwest::Client> {
    (0..count)
        .map(|_| reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap())
        .collect()
}

#[actix_web::test]
async fn one_hot_sku_grants_exactly_its_stock_under_concurrent_load() {
    let app = spawn_app().await;
    app.api.set_on_hand("HOT", 500).await;
    let url = app.api.url("/v1/inventory/HOT/reservations");
    let per_client = 25;
    let requests = clients(80).into_iter().enumerate().flat_map(|(c, client)| {
        let url = url.clone();
        (0..per_client).map(move |i| {
            let (client, url) = (client.clone(), url.clone());
            async move {
                let body = json!({"qty": 1, "ttl_secs": 600, "reservation_id": format!("c{c}-{i}")});
                client
                    .post(url)
                    .bearer_auth(TOKEN)
                    .json(&body)
                    .send()
                    .await
                    .map(|r| r.status())
            }
        })
    });
    let statuses = join_all(requests).await;
    assert_eq!(statuses.len(), 2000);
    let count = |wanted: StatusCode| statuses.iter().filter(|s| matches!(s, Ok(s) if *s == wanted)).count();
    assert_eq!(count(StatusCode::CREATED), 500, "granted");
    assert_eq!(count(StatusCode::CONFLICT), 1500, "refused");
    assert!(statuses.iter().all(|s| s.is_ok()), "every request was answered");
    assert_eq!(
        app.api.level("HOT").await,
        json!({"sku": "HOT", "on_hand": 500, "reserved": 500, "available": 0, "sold": 0})
    );
    assert_eq!(reservation_metric(&app.api, "granted").await, 500.0);
    assert_eq!(reservation_metric(&app.api, "refused").await, 1500.0);
}

async fn reservation_metric(api: &Api, result: &str) -> f64 {
    api.metric(&format!("mercato_reservations_total{{result=\"{result}\"}}"))
        .await
}
