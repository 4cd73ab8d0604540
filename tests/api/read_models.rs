//! Every read model is rebuilt from its log at start: after a `kill -9` the
//! recommendations, the analytics and the recently-viewed lists answer what
//! they answered before.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::analytics::day;
use crate::carts::shop;
use crate::helpers::{eventually, Api, ServerProcess};
use crate::orders::{checkout, checkout_body, guest_cart_with};

const SESSION: &str = "rebuild-session-0123456789";

/// The answers of the three read models.
async fn answers(api: &Api, product: u64) -> [Value; 3] {
    let get = |path: String| async move {
        let response = api.admin(reqwest::Method::GET, &path, None).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        response.json::<Value>().await.unwrap()
    };
    [
        get(format!("/v1/products/{product}/recommendations")).await,
        get(format!("/v1/admin/analytics?from={}&to={}", day(-1), day(1))).await,
        get(format!("/v1/sessions/{SESSION}/recently-viewed")).await,
    ]
}

#[actix_web::test]
async fn read_models_answer_the_same_after_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path(), &[]);
    let api = &server.api;
    shop(api, &[("A", 1_000), ("B", 500), ("C", 250)], 20).await;
    for (n, lines) in [[("A", 1), ("B", 2)], [("A", 2), ("B", 1)], [("A", 1), ("C", 1)]]
        .iter()
        .enumerate()
    {
        let cart = guest_cart_with(api, lines).await;
        let placed = checkout(
            api,
            &cart,
            Some(&format!("r{n}")),
            &checkout_body("r@example.com"),
            None,
        )
        .await;
        assert_eq!(placed.status(), StatusCode::CREATED);
    }
    let a: Value = api.get("/v1/products/A").await.json().await.unwrap();
    let a = a["id"].as_u64().unwrap();
    for sku in ["C", "B", "A"] {
        let product: Value = api.get(&format!("/v1/products/{sku}")).await.json().await.unwrap();
        let path = format!("/v1/products/{}/views", product["id"]);
        assert_eq!(
            api.post(&path, json!({ "session_id": SESSION })).await.status(),
            StatusCode::ACCEPTED
        );
    }
    let before = eventually(Duration::from_secs(5), || async {
        let answers = answers(api, a).await;
        let complete = answers[0]["items"].as_array().unwrap().len() == 2
            && api.metric("mercato_views_queued").await == 0.0
            && api.metric("mercato_views_kept").await == 3.0;
        complete.then_some(answers)
    })
    .await;
    assert_eq!(before[0]["items"][0]["product"]["sku"], "B", "{}", before[0]);
    assert_eq!(before[1]["totals"]["by_currency"][0]["orders"], 3);
    assert_eq!(before[2]["items"].as_array().unwrap().len(), 3);
    server.kill();

    let server = ServerProcess::start(dir.path(), &[]);
    // The books catch up with the log in the background: give them a moment.
    let mut after = answers(&server.api, a).await;
    for _ in 0..50 {
        if after == before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        after = answers(&server.api, a).await;
    }
    assert_eq!(after, before);
}
