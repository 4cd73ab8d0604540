//! Every bad input gets a 4xx JSON error with a stable code, and admin routes
//! need the operator token.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TOKEN};

#[actix_web::test]
async fn bad_values_are_refused_with_a_json_error() {
    let app = spawn_app().await;
    let long_sku = "S".repeat(65);
    let cases: Vec<(Method, String, Option<Value>, StatusCode, &str)> = vec![
        (
            Method::GET,
            format!("/v1/inventory/{long_sku}"),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            Method::GET,
            "/v1/inventory/bad%20sku".into(),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            Method::PUT,
            "/v1/inventory/A".into(),
            Some(json!({"on_hand": 1_000_000_000_001u64})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            Method::PUT,
            "/v1/inventory/A".into(),
            Some(json!({"on_hand": -1})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            Method::PUT,
            "/v1/inventory/A".into(),
            Some(json!({"on_hand": 1.5})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            Method::PUT,
            "/v1/inventory/A".into(),
            Some(json!({"on_hand": 1, "extra": true})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            Method::PUT,
            "/v1/inventory/A".into(),
            Some(json!({})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            Method::POST,
            "/v1/inventory/A/reservations".into(),
            Some(json!({"qty": 0, "ttl_secs": 10})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            Method::POST,
            "/v1/inventory/A/reservations".into(),
            Some(json!({"qty": 1_000_001, "ttl_secs": 10})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            Method::POST,
            "/v1/inventory/A/reservations".into(),
            Some(json!({"qty": 1, "ttl_secs": 0})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            Method::POST,
            "/v1/inventory/A/reservations".into(),
            Some(json!({"qty": 1, "ttl_secs": 86_401})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            Method::POST,
            "/v1/inventory/A/reservations".into(),
            Some(json!({"qty": 1, "ttl_secs": 10, "reservation_id": "a/b"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            Method::POST,
            "/v1/inventory/A/adjust".into(),
            Some(json!({"delta": 0, "reason": "x"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            Method::POST,
            "/v1/inventory/A/adjust".into(),
            Some(json!({"delta": 1, "reason": "  "})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            Method::POST,
            "/v1/inventory/A/adjust".into(),
            Some(json!({"delta": i64::MIN, "reason": "x"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            Method::POST,
            "/v1/inventory/A/adjust".into(),
            Some(json!({"delta": -5, "reason": "x"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "on_hand_out_of_range",
        ),
        (
            Method::POST,
            "/v1/inventory/A/reservations/nope/commit".into(),
            None,
            StatusCode::NOT_FOUND,
            "reservation_not_found",
        ),
        (
            Method::GET,
            "/v1/admin/actors?limit=0".into(),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            Method::GET,
            "/v1/admin/actors?limit=x".into(),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_query",
        ),
        (
            Method::GET,
            "/v1/admin/actors?kind=unicorn".into(),
            None,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Method::POST,
            "/v1/admin/actors/sku/never-active/restart".into(),
            None,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Method::GET,
            "/v1/nothing-here".into(),
            None,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
    ];
    for (method, path, body, status, code) in cases {
        let response = app.api.admin(method.clone(), &path, body.clone()).await;
        assert_eq!(response.status(), status, "{method} {path} {body:?}");
        let error: Value = response
            .json()
            .await
            .unwrap_or_else(|_| panic!("{method} {path}: json error body"));
        assert_eq!(error["error"]["code"], code, "{method} {path} {body:?}: {error}");
        assert!(error["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

#[actix_web::test]
async fn malformed_oversized_and_non_json_bodies_are_refused() {
    let app = spawn_app().await;
    let url = app.api.url("/v1/inventory/A");
    let send = |body: Vec<u8>, content_type: &'static str| {
        app.api
            .client
            .put(url.clone())
            .bearer_auth(TOKEN)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let cases = [
        (
            send(b"{\"on_hand\": ".to_vec(), "application/json").await.unwrap(),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            send(vec![b' '; 70_000], "application/json").await.unwrap(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (
            send(b"on_hand=1".to_vec(), "text/plain").await.unwrap(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
    ];
    for (response, status, code) in cases {
        assert_eq!(response.status(), status);
        assert_eq!(response.json::<Value>().await.unwrap()["error"]["code"], code);
    }
    assert_eq!(app.api.level("A").await["on_hand"], 0, "nothing was written");
}

#[actix_web::test]
async fn operator_routes_refuse_missing_and_wrong_tokens() {
    let app = spawn_app().await;
    let routes: [(Method, &str, Option<Value>); 7] = [
        (Method::PUT, "/v1/inventory/A", Some(json!({"on_hand": 1}))),
        (
            Method::POST,
            "/v1/inventory/A/adjust",
            Some(json!({"delta": 1, "reason": "x"})),
        ),
        (
            Method::POST,
            "/v1/inventory/A/reservations",
            Some(json!({"qty": 1, "ttl_secs": 5})),
        ),
        (Method::POST, "/v1/inventory/A/reservations/r/commit", None),
        (Method::DELETE, "/v1/inventory/A/reservations/r", None),
        (Method::GET, "/v1/admin/actors", None),
        (Method::POST, "/v1/admin/actors/sku/A/restart", None),
    ];
    for (method, path, body) in routes {
        for token in [None, Some("wrong"), Some("")] {
            let mut request = app.api.client.request(method.clone(), app.api.url(path));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            if let Some(body) = &body {
                request = request.json(body);
            }
            let response = request.send().await.unwrap();
            assert_eq!(
                response.status(),
                StatusCode::UNAUTHORIZED,
                "{method} {path} with {token:?}"
            );
            assert_eq!(response.headers()["www-authenticate"], "Bearer");
            assert_eq!(response.json::<Value>().await.unwrap()["error"]["code"], "unauthorized");
        }
    }
    assert_eq!(app.api.level("A").await["on_hand"], 0, "nothing was written");
}
