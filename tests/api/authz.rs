//! Who may call what: forged tokens, deleted users, and every role against every
//! protected route family.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::{json, Value};

use crate::helpers::{access, error_code, refresh_token, spawn_app, spawn_app_with, Api, TOKEN};

const SECRET: &str = "a-test-signing-secret-of-32-bytes-or-more";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn claims(sub: &str, sid: &str, role: &str, exp: u64) -> Value {
    json!({"sub": sub, "sid": sid, "role": role, "iat": now() - 10, "exp": exp, "jti": "j1"})
}

fn sign(claims: &Value, secret: &str) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

pub async fn me_status(api: &Api, token: &str) -> (StatusCode, String) {
    let response = api.as_user(token, Method::GET, "/v1/me", None).await;
    let status = response.status();
    let code = if status.is_success() {
        String::new()
    } else {
        error_code(response).await
    };
    (status, code)
}

#[actix_web::test]
async fn forged_unsigned_and_expired_tokens_are_401() {
    let app = spawn_app_with(|settings| settings.auth.jwt_secret = SecretString::from(SECRET)).await;
    let session = app.api.register("gina@example.com").await;
    let id = session["user"]["id"].as_str().unwrap();
    let refresh = refresh_token(&session);
    let sid = refresh.split('.').next().unwrap();
    let valid = sign(&claims(id, sid, "customer", now() + 600), SECRET);
    assert_eq!(
        me_status(&app.api, &valid).await.0,
        StatusCode::OK,
        "the configured secret signs"
    );

    let forged = sign(
        &claims(id, sid, "admin", now() + 600),
        "another-secret-that-is-long-enough!!",
    );
    assert_eq!(
        me_status(&app.api, &forged).await,
        (StatusCode::UNAUTHORIZED, "unauthorized".into())
    );

    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims(id, sid, "admin", now() + 600).to_string());
    for unsigned in [format!("{header}.{payload}."), format!("{header}.{payload}")] {
        assert_eq!(me_status(&app.api, &unsigned).await.0, StatusCode::UNAUTHORIZED);
    }
    let (valid_header, rest) = valid.split_once('.').unwrap();
    let (_, signature) = rest.split_once('.').unwrap();
    let tampered = format!("{valid_header}.{payload}.{signature}");
    assert_eq!(me_status(&app.api, &tampered).await.0, StatusCode::UNAUTHORIZED);

    let expired = sign(&claims(id, sid, "customer", now() - 60), SECRET);
    assert_eq!(
        me_status(&app.api, &expired).await,
        (StatusCode::UNAUTHORIZED, "token_expired".into())
    );
    let unknown_user = sign(
        &claims("0123456789abcdef0123456789abcdef", sid, "admin", now() + 600),
        SECRET,
    );
    assert_eq!(me_status(&app.api, &unknown_user).await.0, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn a_deleted_users_tokens_stop_working_and_the_email_is_free_again() {
    let app = spawn_app().await;
    let session = app.api.register("hank@example.com").await;
    let id = session["user"]["id"].as_str().unwrap();
    assert_eq!(me_status(&app.api, &access(&session)).await.0, StatusCode::OK);

    let path = format!("/v1/admin/users/{id}");
    assert_eq!(
        app.api.admin(Method::DELETE, &path, None).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(me_status(&app.api, &access(&session)).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.api.refresh(&refresh_token(&session)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.api.admin(Method::GET, &path, None).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.api.admin(Method::DELETE, &path, None).await.status(),
        StatusCode::NOT_FOUND
    );
    let again = app.api.register("hank@example.com").await;
    assert_ne!(again["user"]["id"], session["user"]["id"]);
}

/// One protected route of a family: who may call it, the call, and what an
/// allowed caller gets.
struct Protected {
    needs: &'static str,
    method: Method,
    path: String,
    /// The body of the `n`th call: valid every time (a new name or code each time).
    body: Box<dyn Fn(usize) -> Option<Value>>,
    success: StatusCode,
}

/// One protected route per family, and every route that creates or changes
/// coupons, promotions, products, categories, stock and users; `category` and
/// `product` exist.
fn protected_routes(user_id: &str, category: u64, product: u64) -> Vec<Protected> {
    let route = |needs, method, path: String, body: Box<dyn Fn(usize) -> Option<Value>>, success| Protected {
        needs,
        method,
        path,
        body,
        success,
    };
    let none = || -> Box<dyn Fn(usize) -> Option<Value>> { Box::new(|_| None) };
    vec![
        route(
            "operator",
            Method::PUT,
            "/v1/inventory/SKU-1".into(),
            Box::new(|_| Some(json!({"on_hand": 5}))),
            StatusCode::OK,
        ),
        route(
            "operator",
            Method::POST,
            "/v1/inventory/SKU-1/adjust".into(),
            Box::new(|_| Some(json!({"delta": 1, "reason": "count"}))),
            StatusCode::OK,
        ),
        route(
            "operator",
            Method::POST,
            "/v1/inventory/SKU-1/reservations".into(),
            Box::new(|_| Some(json!({"qty": 1, "ttl_secs": 60}))),
            StatusCode::CREATED,
        ),
        route(
            "operator",
            Method::POST,
            "/v1/categories".into(),
            Box::new(|n| Some(json!({"name": format!("Tools {n}"), "slug": format!("tools-{n}")}))),
            StatusCode::CREATED,
        ),
        route(
            "operator",
            Method::PATCH,
            format!("/v1/categories/{category}"),
            Box::new(|n| Some(json!({"name": format!("Renamed {n}")}))),
            StatusCode::OK,
        ),
        route(
            "operator",
            Method::POST,
            "/v1/products".into(),
            Box::new(move |n| {
                Some(json!({
                    "sku": format!("P-{n}"), "name": format!("Product {n}"), "category_id": category,
                    "price": 100, "currency": "EUR"
                }))
            }),
            StatusCode::CREATED,
        ),
        route(
            "operator",
            Method::PATCH,
            format!("/v1/products/{product}"),
            Box::new(|n| Some(json!({"price": 100 + n}))),
            StatusCode::OK,
        ),
        route(
            "operator",
            Method::GET,
            "/v1/admin/actors".into(),
            none(),
            StatusCode::OK,
        ),
        route(
            "admin",
            Method::POST,
            "/v1/admin/coupons".into(),
            Box::new(|n| Some(json!({"code": format!("CODE{n}"), "percent": 10}))),
            StatusCode::CREATED,
        ),
        route("admin", Method::GET, "/v1/admin/coupons".into(), none(), StatusCode::OK),
        route(
            "admin",
            Method::POST,
            "/v1/admin/promotions".into(),
            Box::new(|n| {
                Some(json!({"name": format!("Promotion {n}"), "buy_x_get_y": {"sku": "SKU-1", "buy": 2, "get": 1}}))
            }),
            StatusCode::CREATED,
        ),
        route(
            "admin",
            Method::GET,
            format!("/v1/admin/users/{user_id}"),
            none(),
            StatusCode::OK,
        ),
        route(
            "admin",
            Method::PATCH,
            format!("/v1/admin/users/{user_id}"),
            Box::new(|_| Some(json!({"role": "customer"}))),
            StatusCode::OK,
        ),
    ]
}

pub async fn status(api: &Api, token: Option<&str>, method: &Method, path: &str, body: &Option<Value>) -> StatusCode {
    let mut request = api.client.request(method.clone(), api.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    request.send().await.unwrap().status()
}

/// An operator's and an admin's access tokens (registered, then promoted).
pub async fn staff_tokens(api: &Api) -> Vec<(&'static str, String)> {
    let mut staff = Vec::new();
    for role in ["operator", "admin"] {
        let session = api.register(&format!("{role}@example.com")).await;
        let path = format!("/v1/admin/users/{}", session["user"]["id"].as_str().unwrap());
        let promoted = api.admin(Method::PATCH, &path, Some(json!({ "role": role }))).await;
        assert_eq!(promoted.status(), StatusCode::OK);
        assert_eq!(promoted.json::<Value>().await.unwrap()["role"], role);
        staff.push((role, access(&session)));
    }
    staff
}

#[actix_web::test]
async fn every_role_meets_every_protected_route_family() {
    let app = spawn_app().await;
    let customer = app.api.register("ivy@example.com").await;
    let customer_id = customer["user"]["id"].as_str().unwrap().to_string();
    let customer_token = access(&customer);
    let staff = staff_tokens(&app.api).await;

    let category = app.api.create_category("Owned", "owned", None).await["id"]
        .as_u64()
        .unwrap();
    let product = app
        .api
        .create_product(json!({
            "sku": "OWNED-1", "name": "Owned", "category_id": category, "price": 100, "currency": "EUR"
        }))
        .await["id"]
        .as_u64()
        .unwrap();
    let mut calls = 0;
    for route in protected_routes(&customer_id, category, product) {
        let Protected {
            needs,
            method,
            path,
            body,
            success,
        } = route;
        let mut next_body = || {
            calls += 1;
            body(calls)
        };
        let denied_body = next_body();
        let anonymous = status(&app.api, None, &method, &path, &denied_body).await;
        assert_eq!(anonymous, StatusCode::UNAUTHORIZED, "{method} {path} without a token");
        let as_customer = status(&app.api, Some(&customer_token), &method, &path, &denied_body).await;
        assert_eq!(as_customer, StatusCode::FORBIDDEN, "{method} {path} as a customer");
        for (role, token) in &staff {
            let got = status(&app.api, Some(token), &method, &path, &next_body()).await;
            let allowed = *role == "admin" || needs == "operator";
            let expected = if allowed { success } else { StatusCode::FORBIDDEN };
            assert_eq!(got, expected, "{method} {path} as {role} (needs {needs})");
        }
        let as_service = status(&app.api, Some(TOKEN), &method, &path, &next_body()).await;
        assert_eq!(as_service, success, "{method} {path} with the operator token");
    }
}

#[actix_web::test]
async fn a_role_change_applies_to_the_next_request_with_the_same_token() {
    let app = spawn_app().await;
    let session = app.api.register("jack@example.com").await;
    let token = access(&session);
    let path = format!("/v1/admin/users/{}", session["user"]["id"].as_str().unwrap());
    let actors = || app.api.as_user(&token, Method::GET, "/v1/admin/actors", None);
    assert_eq!(actors().await.status(), StatusCode::FORBIDDEN);
    app.api
        .admin(Method::PATCH, &path, Some(json!({"role": "operator"})))
        .await;
    assert_eq!(actors().await.status(), StatusCode::OK);
    app.api
        .admin(Method::PATCH, &path, Some(json!({"role": "customer"})))
        .await;
    assert_eq!(actors().await.status(), StatusCode::FORBIDDEN);
    let bad_role = app.api.admin(Method::PATCH, &path, Some(json!({"role": "root"}))).await;
    assert_eq!(bad_role.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let service_me = app.api.admin(Method::GET, "/v1/me", None).await;
    assert_eq!(
        service_me.status(),
        StatusCode::FORBIDDEN,
        "the service token has no account"
    );
}
