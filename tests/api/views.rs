//! Product views and recently viewed over the real server: order, one entry
//! per product, the cap, the guest-to-customer merge at sign-in, crawlers,
//! rate limits, retention, and the lists rebuilt from the view log after a
//! `kill -9`.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::carts::shop;
use crate::helpers::{access, error_code, eventually, spawn_app, spawn_app_with, Api, ServerProcess, PASSWORD};

const SESSION: &str = "guest-session-0123456789";

/// Product ids of SKUs `P1`..`Pn` (created by [`products`]).
async fn products(api: &Api, count: usize) -> Vec<u64> {
    let skus: Vec<(String, u64)> = (1..=count).map(|n| (format!("P{n}"), 100)).collect();
    let named: Vec<(&str, u64)> = skus.iter().map(|(sku, price)| (sku.as_str(), *price)).collect();
    shop(api, &named, 10).await;
    let mut ids = Vec::new();
    for (sku, _) in &skus {
        let product: Value = api.get(&format!("/v1/products/{sku}")).await.json().await.unwrap();
        ids.push(product["id"].as_u64().unwrap());
    }
    ids
}

/// A guest's view of `product`; answers the response.
async fn view_as_guest(api: &Api, product: u64, session: &str) -> reqwest::Response {
    api.post(
        &format!("/v1/products/{product}/views"),
        json!({ "session_id": session }),
    )
    .await
}

async fn viewed(api: &Api, product: u64, session: &str) {
    let response = view_as_guest(api, product, session).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["recorded"], true, "{body}");
}

/// The product ids of a recently-viewed answer, in order.
fn ids(body: &Value) -> Vec<u64> {
    (body["items"].as_array().expect("items").iter())
        .map(|item| item["product"]["id"].as_u64().unwrap())
        .collect()
}

async fn guest_list(api: &Api, session: &str) -> Vec<u64> {
    let response = api.get(&format!("/v1/sessions/{session}/recently-viewed")).await;
    assert_eq!(response.status(), StatusCode::OK);
    ids(&response.json().await.unwrap())
}

#[actix_web::test]
async fn recently_viewed_is_newest_first_once_each_and_capped_at_twenty() {
    let app = spawn_app().await;
    let api = &app.api;
    let p = products(api, 22).await;
    for product in &p {
        viewed(api, *product, SESSION).await;
    }
    viewed(api, p[2], SESSION).await;

    let list = guest_list(api, SESSION).await;
    let mut expected = vec![p[2]];
    expected.extend(p[3..].iter().rev());
    assert_eq!(
        list, expected,
        "P3 again first, then P22 down to P4; P1 and P2 fell off"
    );
    assert!(guest_list(api, "another-session-0123456789").await.is_empty());

    let archived = api
        .admin(Method::DELETE, &format!("/v1/products/{}", p[21]), None)
        .await;
    assert!(archived.status().is_success());
    assert!(
        !guest_list(api, SESSION).await.contains(&p[21]),
        "archived products are left out"
    );
}

#[actix_web::test]
async fn a_guests_views_join_the_account_at_sign_in() {
    let app = spawn_app().await;
    let api = &app.api;
    let p = products(api, 3).await;
    let session = api.register("vera@example.com").await;
    let token = access(&session);
    let signed_in_view = api
        .as_user(
            &token,
            Method::POST,
            &format!("/v1/products/{}/views", p[2]),
            Some(json!({})),
        )
        .await;
    assert_eq!(signed_in_view.status(), StatusCode::ACCEPTED);
    // Views are ordered by their millisecond; two in the same one have no order.
    let next_millisecond = || actix_web::rt::time::sleep(Duration::from_millis(2));
    next_millisecond().await;
    viewed(api, p[0], SESSION).await;
    next_millisecond().await;
    viewed(api, p[1], SESSION).await;

    let login = api
        .post(
            "/v1/auth/login",
            json!({ "email": "vera@example.com", "password": PASSWORD, "view_session": SESSION }),
        )
        .await;
    assert_eq!(login.status(), StatusCode::OK);
    let token = access(&login.json().await.unwrap());

    let mine = api.as_user(&token, Method::GET, "/v1/me/recently-viewed", None).await;
    assert_eq!(mine.status(), StatusCode::OK);
    let mine: Value = mine.json().await.unwrap();
    assert_eq!(ids(&mine), vec![p[1], p[0], p[2]], "{mine}");
    assert!(mine["items"][0]["viewed_at"].as_str().unwrap().ends_with('Z'));
    assert!(guest_list(api, SESSION).await.is_empty(), "the session's list moved");
    let bad = api
        .post(
            "/v1/auth/login",
            json!({ "email": "vera@example.com", "password": PASSWORD, "view_session": "short" }),
        )
        .await;
    assert_eq!(error_code(bad).await, "invalid_field");
}

#[actix_web::test]
async fn views_are_checked_crawlers_ignored_and_each_viewer_limited() {
    let app = spawn_app_with(|settings| settings.rate_limit.views.per_account = 3).await;
    let api = &app.api;
    let p = products(api, 1).await;

    assert_eq!(
        view_as_guest(api, 999_999, SESSION).await.status(),
        StatusCode::NOT_FOUND
    );
    let anonymous = api.post(&format!("/v1/products/{}/views", p[0]), json!({})).await;
    assert_eq!(anonymous.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["error"]["field"], "session_id");
    assert_eq!(
        error_code(view_as_guest(api, p[0], "not a session id!").await).await,
        "invalid_field"
    );

    let crawler = api
        .client
        .post(api.url(&format!("/v1/products/{}/views", p[0])))
        .header("user-agent", "Mozilla/5.0 (compatible; Googlebot/2.1)")
        .json(&json!({ "session_id": SESSION }))
        .send()
        .await
        .unwrap();
    assert_eq!(crawler.status(), StatusCode::ACCEPTED);
    let body: Value = crawler.json().await.unwrap();
    assert_eq!(
        (body["recorded"].as_bool(), body["ignored"].as_str()),
        (Some(false), Some("bot"))
    );
    assert!(guest_list(api, SESSION).await.is_empty());

    for _ in 0..3 {
        viewed(api, p[0], SESSION).await;
    }
    let limited = view_as_guest(api, p[0], SESSION).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key("retry-after"));
    viewed(api, p[0], "other-session-0123456789").await;
    assert_eq!(api.metric("mercato_views_total{result=\"bot\"}").await, 1.0);
    assert_eq!(api.metric("mercato_views_total{result=\"rate_limited\"}").await, 1.0);
    assert_eq!(api.metric("mercato_views_total{result=\"recorded\"}").await, 4.0);
}

#[actix_web::test]
async fn views_older_than_the_retention_leave_the_log_and_the_lists() {
    let app = spawn_app_with(|settings| settings.views.retention = Duration::from_secs(2)).await;
    let api = &app.api;
    let p = products(api, 2).await;
    viewed(api, p[0], SESSION).await;
    viewed(api, p[1], SESSION).await;
    eventually(Duration::from_secs(5), || async {
        (api.metric("mercato_views_kept").await == 2.0).then_some(())
    })
    .await;

    eventually(Duration::from_secs(10), || async {
        (api.metric("mercato_views_kept").await == 0.0).then_some(())
    })
    .await;
    assert!(guest_list(api, SESSION).await.is_empty());
}

#[actix_web::test]
async fn recently_viewed_is_rebuilt_from_the_view_log_after_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path(), &[]);
    let api = &server.api;
    let p = products(api, 4).await;
    for product in [p[0], p[1], p[2], p[0], p[3]] {
        viewed(api, product, SESSION).await;
    }
    let before = guest_list(api, SESSION).await;
    assert_eq!(before, vec![p[3], p[0], p[2], p[1]]);
    eventually(Duration::from_secs(5), || async {
        let written = api.metric("mercato_views_queued").await == 0.0 && api.metric("mercato_views_kept").await == 5.0;
        written.then_some(())
    })
    .await;
    server.kill();

    let server = ServerProcess::start(dir.path(), &[]);
    assert_eq!(guest_list(&server.api, SESSION).await, before);
    assert_eq!(server.api.metric("mercato_views_kept").await, 5.0);
}
