//! Carts over REST: pricing from the catalog, versions and If-Match, limits,
//! warnings, ownership, guest-cart merge, coupons and promotions, restarts.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{access, error_code, spawn_app, Api, ServerProcess, PASSWORD};

/// A category with products `(sku, price in cents)` in EUR, `stock` units each.
pub async fn shop(api: &Api, products: &[(&str, u64)], stock: u64) -> u64 {
    let category = api.create_category("Shop", "shop", None).await["id"].as_u64().unwrap();
    for (sku, price) in products {
        api.create_product(json!({
            "sku": sku, "name": format!("Product {sku}"), "category_id": category,
            "price": price, "currency": "EUR"
        }))
        .await;
        api.set_on_hand(sku, stock).await;
    }
    category
}

pub async fn new_cart(api: &Api) -> Value {
    let response = api.client.post(api.url("/v1/carts")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

pub async fn cart_call(
    api: &Api,
    method: Method,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = api.client.request(method, api.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

pub async fn add(api: &Api, cart: &str, sku: &str, qty: u32) -> Value {
    let path = format!("/v1/carts/{cart}/items");
    let response = cart_call(api, Method::POST, &path, Some(json!({"sku": sku, "qty": qty})), &[]).await;
    assert_eq!(response.status(), StatusCode::OK, "add {qty} x {sku}");
    response.json().await.unwrap()
}

fn items(cart: &Value) -> Vec<(String, u64)> {
    cart["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| (item["sku"].as_str().unwrap().to_string(), item["qty"].as_u64().unwrap()))
        .collect()
}

#[actix_web::test]
async fn lines_are_priced_from_the_catalog_and_every_change_bumps_the_version() {
    let app = spawn_app().await;
    shop(&app.api, &[("TEE", 1_250), ("CAP", 999)], 5).await;
    let cart = new_cart(&app.api).await;
    let id = cart["id"].as_str().unwrap();
    assert_eq!(id.len(), 32, "128 random bits");
    assert_eq!((cart["version"].as_u64(), cart["total"].as_u64()), (Some(1), Some(0)));

    let cart = add(&app.api, id, "TEE", 2).await;
    assert_eq!(cart["version"], 2);
    assert_eq!(cart["items"][0]["unit_price"], 1_250);
    assert_eq!(cart["items"][0]["line_total"], 2_500);
    let cart = add(&app.api, id, "CAP", 1).await;
    assert_eq!(
        (cart["subtotal"].as_u64(), cart["total"].as_u64()),
        (Some(3_499), Some(3_499))
    );
    assert_eq!(cart["currency"], "EUR");

    let path = format!("/v1/carts/{id}/items/TEE");
    let too_many = cart_call(&app.api, Method::PATCH, &path, Some(json!({"qty": 7})), &[]).await;
    assert_eq!(too_many.status(), StatusCode::OK, "stock is not reserved by a cart");
    let too_many: Value = too_many.json().await.unwrap();
    assert_eq!(too_many["warnings"][0]["code"], "insufficient_stock");
    assert_eq!(too_many["warnings"][0]["sku"], "TEE");

    let get = cart_call(&app.api, Method::GET, &format!("/v1/carts/{id}"), None, &[]).await;
    assert_eq!(get.headers()["etag"], "\"4\"");
    let stale = cart_call(
        &app.api,
        Method::PATCH,
        &path,
        Some(json!({"qty": 1})),
        &[("if-match", "\"3\"")],
    )
    .await;
    assert_eq!(stale.status(), StatusCode::PRECONDITION_FAILED);
    assert_eq!(stale.json::<Value>().await.unwrap()["error"]["version"], 4);
    let current = cart_call(
        &app.api,
        Method::PATCH,
        &path,
        Some(json!({"qty": 1})),
        &[("if-match", "\"4\"")],
    )
    .await;
    assert_eq!(current.status(), StatusCode::OK);
    let removed = cart_call(&app.api, Method::DELETE, &path, None, &[]).await;
    let removed: Value = removed.json().await.unwrap();
    assert_eq!(
        (removed["version"].as_u64(), items(&removed)),
        (Some(6), vec![("CAP".to_string(), 1)])
    );
}

#[actix_web::test]
async fn bad_cart_input_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    shop(&app.api, &[("TEE", 1_250)], 5).await;
    let id = new_cart(&app.api).await["id"].as_str().unwrap().to_string();
    let items_path = format!("/v1/carts/{id}/items");
    let cases = [
        (
            json!({"sku": "TEE", "qty": 0}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            json!({"sku": "TEE", "qty": 1000}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            json!({"sku": "NOPE", "qty": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_sku",
        ),
        (
            json!({"sku": "bad sku", "qty": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            json!({"sku": "TEE", "qty": -1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
    ];
    for (body, status, code) in cases {
        let response = cart_call(&app.api, Method::POST, &items_path, Some(body.clone()), &[]).await;
        assert_eq!(response.status(), status, "{body}");
        assert_eq!(error_code(response).await, code, "{body}");
    }
    add(&app.api, &id, "TEE", 999).await;
    let over = cart_call(
        &app.api,
        Method::POST,
        &items_path,
        Some(json!({"sku": "TEE", "qty": 1})),
        &[],
    )
    .await;
    assert_eq!(
        over.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a line holds at most 999"
    );
    let missing_line = cart_call(&app.api, Method::DELETE, &format!("{items_path}/CAP"), None, &[]).await;
    assert_eq!(error_code(missing_line).await, "line_not_found");
    let bad_if_match = cart_call(
        &app.api,
        Method::DELETE,
        &format!("{items_path}/TEE"),
        None,
        &[("if-match", "x")],
    )
    .await;
    assert_eq!(bad_if_match.status(), StatusCode::BAD_REQUEST);
    for path in ["/v1/carts/0123456789abcdef0123456789abcdef", "/v1/carts/not-a-cart"] {
        let response = cart_call(&app.api, Method::GET, path, None, &[]).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(error_code(response).await, "cart_not_found");
    }
    let cart: Value = cart_call(&app.api, Method::GET, &format!("/v1/carts/{id}"), None, &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (cart["version"].as_u64(), items(&cart)),
        (Some(2), vec![("TEE".to_string(), 999)])
    );
}

#[actix_web::test]
async fn a_customers_cart_is_theirs_alone() {
    let app = spawn_app().await;
    shop(&app.api, &[("TEE", 1_250)], 5).await;
    let owner = access(&app.api.register("nina@example.com").await);
    let other = access(&app.api.register("otto@example.com").await);
    let mine: Value = app.api.my_cart(&owner).await;
    let id = mine["id"].as_str().unwrap();
    let again: Value = app.api.my_cart(&owner).await;
    assert_eq!(again["id"], mine["id"], "one current cart");

    let path = format!("/v1/carts/{id}");
    let anonymous = cart_call(&app.api, Method::GET, &path, None, &[]).await;
    assert_eq!(anonymous.status(), StatusCode::FORBIDDEN);
    let stranger = app.api.as_user(&other, Method::GET, &path, None).await;
    assert_eq!(error_code(stranger).await, "cart_forbidden");
    let item = json!({"sku": "TEE", "qty": 1});
    let stranger_write = app
        .api
        .as_user(&other, Method::POST, &format!("{path}/items"), Some(item.clone()))
        .await;
    assert_eq!(stranger_write.status(), StatusCode::FORBIDDEN);
    let owner_write = app
        .api
        .as_user(&owner, Method::POST, &format!("{path}/items"), Some(item))
        .await;
    assert_eq!(owner_write.status(), StatusCode::OK);
    let bad_token = app.api.as_user("not-a-token", Method::GET, &path, None).await;
    assert_eq!(
        bad_token.status(),
        StatusCode::UNAUTHORIZED,
        "a bad token is not a guest"
    );
}

#[actix_web::test]
async fn a_guest_cart_merges_into_the_customers_cart_at_login_once() {
    let app = spawn_app().await;
    shop(&app.api, &[("TEE", 1_000), ("CAP", 500)], 50).await;
    let token = access(&app.api.register("pia@example.com").await);
    let mine: Value = app.api.my_cart(&token).await;
    let user_cart = mine["id"].as_str().unwrap();
    app.api
        .as_user(
            &token,
            Method::POST,
            &format!("/v1/carts/{user_cart}/items"),
            Some(json!({"sku": "TEE", "qty": 1})),
        )
        .await;
    let guest = new_cart(&app.api).await["id"].as_str().unwrap().to_string();
    add(&app.api, &guest, "TEE", 2).await;
    add(&app.api, &guest, "CAP", 1).await;

    let login = json!({"email": "pia@example.com", "password": PASSWORD, "cart_id": guest});
    let session: Value = app
        .api
        .post("/v1/auth/login", login.clone())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(session["cart_id"].as_str(), Some(user_cart));
    let merged: Value = app.api.my_cart(&token).await;
    assert_eq!(items(&merged), vec![("TEE".to_string(), 3), ("CAP".to_string(), 1)]);

    let closed = cart_call(&app.api, Method::GET, &format!("/v1/carts/{guest}"), None, &[]).await;
    assert_eq!(closed.json::<Value>().await.unwrap()["status"], "merged");
    let write = cart_call(
        &app.api,
        Method::POST,
        &format!("/v1/carts/{guest}/items"),
        Some(json!({"sku": "CAP", "qty": 1})),
        &[],
    )
    .await;
    assert_eq!(error_code(write).await, "cart_closed");

    let second = app.api.post("/v1/auth/login", login).await;
    assert_eq!(
        second.status(),
        StatusCode::OK,
        "a stale guest cart does not fail the login"
    );
    let unchanged: Value = app.api.my_cart(&token).await;
    assert_eq!(items(&unchanged), vec![("TEE".to_string(), 3), ("CAP".to_string(), 1)]);
    let malformed = app
        .api
        .post(
            "/v1/auth/login",
            json!({"email": "pia@example.com", "password": PASSWORD, "cart_id": "x"}),
        )
        .await;
    assert_eq!(malformed.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[actix_web::test]
async fn coupons_and_promotions_discount_with_reasons_when_they_do_not() {
    let app = spawn_app().await;
    let category = shop(&app.api, &[("TEE", 1_000), ("CAP", 500)], 50).await;
    let admin = |method: Method, path: &'static str, body: Value| app.api.admin(method, path, Some(body));
    let created = admin(
        Method::POST,
        "/v1/admin/coupons",
        json!({"code": "save10", "percent": 10, "min_subtotal": 2_000, "scope": {"categories": [category]}}),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(created.json::<Value>().await.unwrap()["code"], "SAVE10");
    let duplicate = admin(
        Method::POST,
        "/v1/admin/coupons",
        json!({"code": "SAVE10", "percent": 5}),
    )
    .await;
    assert_eq!(error_code(duplicate).await, "coupon_code_taken");
    let bad = admin(
        Method::POST,
        "/v1/admin/coupons",
        json!({"code": "BAD", "percent": 150}),
    )
    .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    admin(
        Method::POST,
        "/v1/admin/coupons",
        json!({"code": "OLD", "amount_off": 100, "currency": "EUR", "ends_at": 1_000}),
    )
    .await;

    let id = new_cart(&app.api).await["id"].as_str().unwrap().to_string();
    add(&app.api, &id, "TEE", 1).await;
    let coupons = format!("/v1/carts/{id}/coupons");
    for (code, reason) in [
        ("SAVE10", "coupon_below_minimum"),
        ("NOPE", "coupon_unknown"),
        ("OLD", "coupon_expired"),
    ] {
        let response = cart_call(&app.api, Method::POST, &coupons, Some(json!({"code": code})), &[]).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{code}");
        assert_eq!(error_code(response).await, reason, "{code}");
    }
    add(&app.api, &id, "TEE", 1).await;
    let applied = cart_call(&app.api, Method::POST, &coupons, Some(json!({"code": "save10"})), &[]).await;
    let applied: Value = applied.json().await.unwrap();
    assert_eq!(
        (
            applied["subtotal"].as_u64(),
            applied["discount"].as_u64(),
            applied["total"].as_u64()
        ),
        (Some(2_000), Some(200), Some(1_800))
    );
    assert_eq!(applied["coupon"], "SAVE10");

    let promotion = admin(
        Method::POST,
        "/v1/admin/promotions",
        json!({"name": "3 for 2 on tees", "buy_x_get_y": {"sku": "TEE", "buy": 2, "get": 1}}),
    )
    .await;
    assert_eq!(promotion.status(), StatusCode::CREATED);
    let cart = add(&app.api, &id, "TEE", 1).await;
    // 3 tees: one free (1,000), then 10 % of the 2,000 left.
    assert_eq!(
        (
            cart["subtotal"].as_u64(),
            cart["discount"].as_u64(),
            cart["total"].as_u64()
        ),
        (Some(3_000), Some(1_200), Some(1_800))
    );
    let labels: Vec<&str> = cart["discounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, vec!["3 for 2 on tees", "SAVE10"]);

    let path = format!("/v1/carts/{id}/items/TEE");
    let fewer: Value = cart_call(&app.api, Method::PATCH, &path, Some(json!({"qty": 1})), &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fewer["discount"], 0, "below the minimum the coupon takes nothing off");
    assert_eq!(fewer["warnings"][0]["code"], "coupon_not_applicable");
    let customer = access(&app.api.register("quinn@example.com").await);
    let forbidden = app.api.as_user(&customer, Method::GET, "/v1/admin/coupons", None).await;
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn a_kill_9_keeps_carts() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path(), &[]);
    shop(&server.api, &[("TEE", 1_000)], 5).await;
    let id = new_cart(&server.api).await["id"].as_str().unwrap().to_string();
    add(&server.api, &id, "TEE", 3).await;
    server.kill();
    let server = ServerProcess::start(dir.path(), &[]);
    let cart: Value = cart_call(&server.api, Method::GET, &format!("/v1/carts/{id}"), None, &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (cart["version"].as_u64(), cart["total"].as_u64()),
        (Some(2), Some(3_000))
    );
}
