//! Reservation groups over HTTP: all lines held or none, commit and release of
//! the whole group, idempotency, expiry, and no oversell and no partial hold
//! under real concurrency.

use std::time::Duration;

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{error_code, eventually, spawn_app, Api};

const GROUPS: &str = "/v1/inventory/reservations";

async fn reserve_group(api: &Api, body: Value) -> reqwest::Response {
    api.admin(Method::POST, GROUPS, Some(body)).await
}

async fn group_call(api: &Api, method: Method, id: &str, action: &str) -> reqwest::Response {
    api.admin(method, &format!("{GROUPS}/{id}{action}"), None).await
}

/// `(reserved, sold)` of `sku`.
async fn held_and_sold(api: &Api, sku: &str) -> (u64, u64) {
    let level = api.level(sku).await;
    (level["reserved"].as_u64().unwrap(), level["sold"].as_u64().unwrap())
}

#[actix_web::test]
async fn a_group_with_a_short_line_holds_nothing_and_names_it() {
    let app = spawn_app().await;
    app.api.set_on_hand("TEE", 5).await;
    app.api.set_on_hand("CAP", 1).await;

    let refused = reserve_group(
        &app.api,
        json!({"reservation_id": "pos-1", "ttl_secs": 600, "lines": [
            {"sku": "TEE", "qty": 2}, {"sku": "CAP", "qty": 2}, {"sku": "NEVER", "qty": 1}]}),
    )
    .await;

    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "out_of_stock");
    assert_eq!(
        body["error"]["lines"],
        json!([{"sku": "CAP", "requested": 2, "available": 1}, {"sku": "NEVER", "requested": 1, "available": 0}])
    );
    for sku in ["TEE", "CAP", "NEVER"] {
        assert_eq!(held_and_sold(&app.api, sku).await, (0, 0), "{sku} holds nothing");
    }
    let status = group_call(&app.api, Method::GET, "pos-1", "").await;
    assert_eq!(status.status(), StatusCode::OK);
    assert_eq!(status.json::<Value>().await.unwrap()["status"], "released");
}

#[actix_web::test]
async fn a_group_is_held_replayed_committed_once_and_never_released_after() {
    let app = spawn_app().await;
    app.api.set_on_hand("TEE", 5).await;
    app.api.set_on_hand("CAP", 3).await;
    let body = json!({"reservation_id": "pos-2", "ttl_secs": 600, "lines": [
        {"sku": "TEE", "qty": 2}, {"sku": "CAP", "qty": 3}]});

    let held = reserve_group(&app.api, body.clone()).await;
    assert_eq!(held.status(), StatusCode::CREATED);
    let held: Value = held.json().await.unwrap();
    assert_eq!(held["status"], "held");
    assert_eq!(held["lines"], body["lines"]);
    assert!(held["expires_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(held_and_sold(&app.api, "TEE").await, (2, 0));
    assert_eq!(held_and_sold(&app.api, "CAP").await, (3, 0));

    let replay = reserve_group(&app.api, body.clone()).await;
    assert_eq!(replay.status(), StatusCode::OK);
    assert_eq!(replay.json::<Value>().await.unwrap(), held, "the same hold");
    let other = json!({"reservation_id": "pos-2", "ttl_secs": 600, "lines": [{"sku": "TEE", "qty": 1}]});
    assert_eq!(
        error_code(reserve_group(&app.api, other).await).await,
        "reservation_conflict"
    );
    assert_eq!(held_and_sold(&app.api, "TEE").await, (2, 0), "nothing more held");

    for _ in 0..2 {
        let committed = group_call(&app.api, Method::POST, "pos-2", "/commit").await;
        assert_eq!(committed.status(), StatusCode::OK);
        assert_eq!(committed.json::<Value>().await.unwrap()["status"], "committed");
    }
    assert_eq!(held_and_sold(&app.api, "TEE").await, (0, 2), "sold once");
    assert_eq!(held_and_sold(&app.api, "CAP").await, (0, 3));
    assert_eq!(app.api.level("TEE").await["on_hand"], 3);

    let release = group_call(&app.api, Method::DELETE, "pos-2", "").await;
    assert_eq!(release.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(release).await, "reservation_committed");
    assert_eq!(
        error_code(reserve_group(&app.api, body).await).await,
        "reservation_committed"
    );
}

#[actix_web::test]
async fn a_released_group_gives_every_line_back_and_cannot_be_committed() {
    let app = spawn_app().await;
    app.api.set_on_hand("TEE", 4).await;
    app.api.set_on_hand("CAP", 4).await;
    let held = reserve_group(
        &app.api,
        json!({"ttl_secs": 600, "lines": [{"sku": "TEE", "qty": 4}, {"sku": "CAP", "qty": 1}]}),
    )
    .await;
    assert_eq!(held.status(), StatusCode::CREATED);
    let id = held.json::<Value>().await.unwrap()["reservation_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!id.is_empty(), "an id is generated");

    for _ in 0..2 {
        let released = group_call(&app.api, Method::DELETE, &id, "").await;
        assert_eq!(released.status(), StatusCode::OK);
        assert_eq!(released.json::<Value>().await.unwrap()["status"], "released");
    }
    assert_eq!(held_and_sold(&app.api, "TEE").await, (0, 0));
    assert_eq!(held_and_sold(&app.api, "CAP").await, (0, 0));
    let commit = group_call(&app.api, Method::POST, &id, "/commit").await;
    assert_eq!(commit.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(commit).await, "reservation_not_found");
    assert_eq!(
        error_code(group_call(&app.api, Method::GET, "never-made", "").await).await,
        "reservation_not_found"
    );
}

#[actix_web::test]
async fn a_group_runs_out_with_its_ttl() {
    let app = spawn_app().await;
    app.api.set_on_hand("TEE", 2).await;
    app.api.set_on_hand("CAP", 2).await;
    let body = json!({"reservation_id": "short", "ttl_secs": 1, "lines": [{"sku": "TEE", "qty": 2}, {"sku": "CAP", "qty": 1}]});
    assert_eq!(reserve_group(&app.api, body).await.status(), StatusCode::CREATED);

    eventually(Duration::from_secs(5), || async {
        let status = group_call(&app.api, Method::GET, "short", "").await;
        let status: Value = status.json().await.unwrap();
        (status["status"] == "expired").then_some(())
    })
    .await;
    let commit = group_call(&app.api, Method::POST, "short", "/commit").await;
    assert_eq!(error_code(commit).await, "reservation_not_found");
    assert_eq!(held_and_sold(&app.api, "TEE").await, (0, 0));
    assert_eq!(held_and_sold(&app.api, "CAP").await, (0, 0));
}

#[actix_web::test]
async fn malformed_groups_are_refused_with_the_field() {
    let app = spawn_app().await;
    let line = json!({"sku": "TEE", "qty": 1});
    let cases = [
        (json!({"ttl_secs": 60, "lines": []}), "lines"),
        (json!({"ttl_secs": 60, "lines": [line, line]}), "lines"),
        (json!({"ttl_secs": 0, "lines": [line]}), "ttl_secs"),
        (json!({"ttl_secs": 60, "lines": [{"sku": "TEE", "qty": 0}]}), "qty"),
        (json!({"ttl_secs": 60, "lines": [{"sku": "bad sku", "qty": 1}]}), "sku"),
        (
            json!({"ttl_secs": 60, "reservation_id": "a:b", "lines": [line]}),
            "reservation_id",
        ),
    ];
    for (body, field) in cases {
        let response = reserve_group(&app.api, body.clone()).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["field"], field, "{body}: {error}");
    }
    let too_many: Vec<Value> = (0..101).map(|n| json!({"sku": format!("S{n}"), "qty": 1})).collect();
    let response = reserve_group(&app.api, json!({"ttl_secs": 60, "lines": too_many})).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let unauthenticated = reqwest::Client::new()
        .post(app.api.url(GROUPS))
        .json(&json!({"ttl_secs": 60, "lines": [line]}))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);
}

/// 120 groups of two or three lines over four SKUs of 10 units, all at once,
/// then half committed and half released at once: every SKU holds exactly
/// the lines of the groups granted (so a refused group held nothing), never
/// more than its stock, and sells exactly the committed groups' lines.
#[actix_web::test]
async fn concurrent_groups_hold_all_or_nothing_and_never_oversell() {
    let app = spawn_app().await;
    let skus = ["A", "B", "C", "D"];
    for sku in skus {
        app.api.set_on_hand(sku, 10).await;
    }
    let groups: Vec<(String, Vec<(&str, u64)>)> = (0..120usize)
        .map(|n| {
            let mut lines = vec![(skus[n % 4], 1 + (n % 3) as u64), (skus[(n + 1) % 4], 1)];
            if n % 5 == 0 {
                lines.push((skus[(n + 2) % 4], 2));
            }
            (format!("g-{n}"), lines)
        })
        .collect();

    let answers = join_all(groups.iter().map(|(id, lines)| {
        let lines: Vec<Value> = lines.iter().map(|(sku, qty)| json!({"sku": sku, "qty": qty})).collect();
        reserve_group(&app.api, json!({"reservation_id": id, "ttl_secs": 600, "lines": lines}))
    }))
    .await;
    let mut granted = Vec::new();
    for ((id, lines), answer) in groups.iter().zip(answers) {
        match answer.status() {
            StatusCode::CREATED => granted.push((id.clone(), lines.clone())),
            StatusCode::CONFLICT => assert_eq!(error_code(answer).await, "out_of_stock"),
            other => panic!("group {id}: unexpected {other}"),
        }
    }
    assert!(granted.len() >= 8, "some groups fit: {}", granted.len());
    assert!(granted.len() < groups.len(), "stock ran out for some");
    let held_by = |chosen: &[(String, Vec<(&str, u64)>)], sku: &str| -> u64 {
        chosen
            .iter()
            .flat_map(|(_, lines)| lines.iter())
            .filter(|(line_sku, _)| *line_sku == sku)
            .map(|(_, qty)| qty)
            .sum()
    };
    for sku in skus {
        let (reserved, _) = held_and_sold(&app.api, sku).await;
        assert_eq!(
            reserved,
            held_by(&granted, sku),
            "{sku} holds exactly the granted groups' lines"
        );
        assert!(reserved <= 10, "{sku} never holds more than its stock");
    }

    let (to_commit, to_release) = granted.split_at(granted.len() / 2);
    let commits = join_all(
        to_commit
            .iter()
            .map(|(id, _)| group_call(&app.api, Method::POST, id, "/commit")),
    );
    let releases = join_all(
        to_release
            .iter()
            .map(|(id, _)| group_call(&app.api, Method::DELETE, id, "")),
    );
    let (commits, releases) = futures_util::join!(commits, releases);
    assert!(commits
        .iter()
        .chain(&releases)
        .all(|answer| answer.status() == StatusCode::OK));
    for sku in skus {
        assert_eq!(
            held_and_sold(&app.api, sku).await,
            (0, held_by(to_commit, sku)),
            "{sku}"
        );
    }
}
