//! Small contract edges: a line past 999 units is refused and says why,
//! oversized headers get 431, passwords refuse control characters, and names
//! refuse bidi controls.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::carts::{add, cart_call, new_cart, shop};
use crate::helpers::{access, spawn_app, PASSWORD};

async fn error(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    (status, response.json::<Value>().await.unwrap()["error"].clone())
}

#[actix_web::test]
async fn a_line_at_999_refuses_more_and_says_how_many_it_holds() {
    let app = spawn_app().await;
    shop(&app.api, &[("TEE", 1_000)], 5).await;
    let cart = new_cart(&app.api).await["id"].as_str().unwrap().to_string();
    add(&app.api, &cart, "TEE", 998).await;
    let path = format!("/v1/carts/{cart}/items");
    let more = cart_call(
        &app.api,
        Method::POST,
        &path,
        Some(json!({"sku": "TEE", "qty": 2})),
        &[],
    )
    .await;
    let (status, body) = error(more).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        (body["code"].as_str(), body["in_cart"].as_u64(), body["max"].as_u64()),
        (Some("line_full"), Some(998), Some(999))
    );
    let one = add(&app.api, &cart, "TEE", 1).await;
    assert_eq!(one["items"][0]["qty"], 999, "up to 999 still goes in");
    let too_many = cart_call(
        &app.api,
        Method::POST,
        &path,
        Some(json!({"sku": "TEE", "qty": 1000})),
        &[],
    )
    .await;
    let (status, body) = error(too_many).await;
    assert_eq!(
        (status, body["code"].as_str(), body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_field"), Some("qty"))
    );
}

#[actix_web::test]
async fn headers_past_16_kib_get_431() {
    let app = spawn_app().await;
    let big = "x".repeat(100 * 1024);
    let response = app
        .api
        .client
        .get(app.api.url("/healthz"))
        .header("x-padding", &big)
        .send()
        .await
        .unwrap();
    let (status, body) = error(response).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, Some("headers_too_large"))
    );
    let fine = app
        .api
        .client
        .get(app.api.url("/healthz"))
        .header("x-padding", "x".repeat(8 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(fine.status(), StatusCode::OK);
}

#[actix_web::test]
async fn passwords_refuse_control_characters_and_names_bidi_controls() {
    let app = spawn_app().await;
    for password in ["\0".repeat(10), "correct\nhorse battery".to_string()] {
        let response = app
            .api
            .post(
                "/v1/auth/register",
                json!({"email": "nul@example.com", "password": password}),
            )
            .await;
        let (status, body) = error(response).await;
        assert_eq!(
            (status, body["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("password")),
            "{password:?}"
        );
    }
    let response = app
        .api
        .post(
            "/v1/auth/register",
            json!({"email": "rtl@example.com", "password": PASSWORD, "name": "Eve\u{202E}evE"}),
        )
        .await;
    let (status, body) = error(response).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("name"))
    );
    let session = app.api.register("ltr@example.com").await;
    let renamed = app
        .api
        .as_user(
            &access(&session),
            Method::PATCH,
            "/v1/me",
            Some(json!({"name": "A\u{2066}B"})),
        )
        .await;
    let (status, body) = error(renamed).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("name"))
    );
}
