//! A cart after its checkout: closed and pushed once the order sold, refusing
//! changes and new keys; open and usable after a refused checkout; and coupon
//! uses claimed by racing checkouts, one at a time.

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::cart_socket::{connect, next_json, send};
use crate::carts::{add, cart_call, new_cart, shop};
use crate::helpers::{access, Api};
use crate::orders::{checkout, checkout_body, level};

async fn conflict_order_id(response: reqwest::Response) -> (String, String) {
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body: Value = response.json().await.unwrap();
    let error = &body["error"];
    (
        error["code"].as_str().unwrap().to_string(),
        error["order_id"].as_str().unwrap_or_default().to_string(),
    )
}

async fn cart(api: &Api, id: &str) -> Value {
    let response = cart_call(api, Method::GET, &format!("/v1/carts/{id}"), None, &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[actix_web::test]
async fn a_checkout_closes_the_cart_pushes_it_and_refuses_changes_and_new_keys() {
    let app = crate::helpers::spawn_app().await;
    shop(&app.api, &[("TEE", 1_000), ("CAP", 500)], 10).await;
    let id = new_cart(&app.api).await["id"].as_str().unwrap().to_string();
    add(&app.api, &id, "TEE", 2).await;
    let mut socket = connect(&app.api, &id, None).await.unwrap();
    assert_eq!(next_json(&mut socket).await["cart"]["status"], "open");
    let body = checkout_body("uma@example.com");

    let placed = checkout(&app.api, &id, Some("k1"), &body, None).await;
    assert_eq!(placed.status(), StatusCode::CREATED);
    let first: Value = placed.json().await.unwrap();
    assert_eq!(first["status"], "confirmed");
    let order_id = first["id"].as_str().unwrap().to_string();

    let pushed = loop {
        let message = next_json(&mut socket).await;
        if message["cart"]["status"] == "checked_out" {
            break message;
        }
    };
    assert_eq!(
        pushed["cart"]["order_id"],
        order_id.as_str(),
        "the socket is told which order"
    );
    let read = cart(&app.api, &id).await;
    assert_eq!(
        (read["status"].as_str(), read["order_id"].as_str()),
        (Some("checked_out"), Some(order_id.as_str()))
    );

    let items = format!("/v1/carts/{id}/items");
    let changes = [
        cart_call(
            &app.api,
            Method::POST,
            &items,
            Some(json!({"sku": "CAP", "qty": 1})),
            &[],
        )
        .await,
        cart_call(
            &app.api,
            Method::PATCH,
            &format!("{items}/TEE"),
            Some(json!({"qty": 5})),
            &[],
        )
        .await,
        cart_call(&app.api, Method::DELETE, &format!("{items}/TEE"), None, &[]).await,
        cart_call(
            &app.api,
            Method::POST,
            &format!("/v1/carts/{id}/coupons"),
            Some(json!({"code": "ANY"})),
            &[],
        )
        .await,
    ];
    for change in changes {
        assert_eq!(
            conflict_order_id(change).await,
            ("cart_checked_out".into(), order_id.clone())
        );
    }
    send(&mut socket, json!({"op": "add_item", "sku": "CAP", "qty": 1})).await;
    let refused = loop {
        let message = next_json(&mut socket).await;
        if message["type"] == "error" {
            break message;
        }
    };
    assert_eq!(refused["error"]["code"], "cart_checked_out");

    let second_key = checkout(&app.api, &id, Some("k2"), &body, None).await;
    assert_eq!(
        conflict_order_id(second_key).await,
        ("cart_checked_out".into(), order_id.clone())
    );
    let replay = checkout(&app.api, &id, Some("k1"), &body, None).await;
    assert_eq!(replay.status(), StatusCode::CREATED, "the first key still replays");
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert_eq!(replay.json::<Value>().await.unwrap(), first);
    assert_eq!(level(&app.api, "TEE").await, (8, 0, 2), "bought once");
}

#[actix_web::test]
async fn a_refused_checkout_leaves_the_cart_open_and_usable() {
    let app = crate::helpers::spawn_app().await;
    shop(&app.api, &[("TEE", 1_000)], 1).await;
    let session = app.api.register("rena@example.com").await;
    let token = access(&session);
    let mine = app.api.my_cart(&token).await;
    let id = mine["id"].as_str().unwrap().to_string();
    let items = format!("/v1/carts/{id}/items");
    let add = app
        .api
        .as_user(&token, Method::POST, &items, Some(json!({"sku": "TEE", "qty": 2})))
        .await;
    assert_eq!(add.status(), StatusCode::OK);
    let body = checkout_body("rena@example.com");

    let short = checkout(&app.api, &id, Some("k1"), &body, Some(&token)).await;
    assert_eq!(conflict_order_id(short).await.0, "out_of_stock");
    assert_eq!(
        app.api.my_cart(&token).await["id"],
        id.as_str(),
        "still the customer's cart"
    );
    let open: Value = app
        .api
        .as_user(&token, Method::GET, &format!("/v1/carts/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (open["status"].as_str(), &open["order_id"]),
        (Some("open"), &Value::Null)
    );
    let fixed = app
        .api
        .as_user(&token, Method::PATCH, &format!("{items}/TEE"), Some(json!({"qty": 1})))
        .await;
    assert_eq!(fixed.status(), StatusCode::OK, "the cart takes changes again");

    let bought = checkout(&app.api, &id, Some("k2"), &body, Some(&token)).await;
    assert_eq!(bought.status(), StatusCode::CREATED);
    assert_eq!(bought.json::<Value>().await.unwrap()["status"], "confirmed");
    assert_ne!(
        app.api.my_cart(&token).await["id"],
        id.as_str(),
        "a fresh cart once bought"
    );
    assert_eq!(level(&app.api, "TEE").await, (0, 0, 1));
}

async fn coupon_uses(api: &Api, code: &str) -> u64 {
    let coupons: Value = api
        .admin(Method::GET, "/v1/admin/coupons", None)
        .await
        .json()
        .await
        .unwrap();
    let coupon = coupons["coupons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|coupon| coupon["code"] == code)
        .expect("the coupon is listed");
    coupon["uses"].as_u64().unwrap()
}

async fn cart_with_coupon(api: &Api, sku: &str, qty: u32, code: &str) -> String {
    let id = new_cart(api).await["id"].as_str().unwrap().to_string();
    add(api, &id, sku, qty).await;
    let path = format!("/v1/carts/{id}/coupons");
    let applied = cart_call(api, Method::POST, &path, Some(json!({"code": code})), &[]).await;
    assert_eq!(applied.status(), StatusCode::OK, "coupon {code} applies");
    id
}

#[actix_web::test]
async fn twenty_racing_checkouts_with_a_single_use_coupon_get_one_discount() {
    let app = crate::helpers::spawn_app().await;
    shop(&app.api, &[("TEE", 1_000)], 100).await;
    let created = app
        .api
        .admin(
            Method::POST,
            "/v1/admin/coupons",
            Some(json!({"code": "ONCE", "percent": 50, "max_uses": 1})),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let mut carts = Vec::new();
    for _ in 0..20 {
        carts.push(cart_with_coupon(&app.api, "TEE", 1, "ONCE").await);
    }
    let body = checkout_body("ivy@example.com");

    let answers = join_all(
        carts
            .iter()
            .map(|cart| checkout(&app.api, cart, Some("k"), &body, None)),
    )
    .await;
    let mut confirmed = Vec::new();
    let mut refused = 0;
    for answer in answers {
        match answer.status() {
            StatusCode::CREATED => confirmed.push(answer.json::<Value>().await.unwrap()),
            StatusCode::CONFLICT => {
                // Claimed by another order in the saga, or seen used up when the
                // cart was priced for the checkout: never a silent full price.
                let (code, _) = conflict_order_id(answer).await;
                assert!(
                    ["coupon_used_up", "coupon_not_applicable"].contains(&code.as_str()),
                    "{code}"
                );
                refused += 1;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((confirmed.len(), refused), (1, 19), "one discount, nineteen refusals");
    assert_eq!(
        (
            &confirmed[0]["status"],
            &confirmed[0]["discount"],
            &confirmed[0]["total"]
        ),
        (&json!("confirmed"), &json!(500), &json!(500))
    );
    assert_eq!(coupon_uses(&app.api, "ONCE").await, 1);
    assert_eq!(level(&app.api, "TEE").await, (99, 0, 1), "the refused held nothing");
    let mut open = 0;
    for cart_id in &carts {
        open += usize::from(cart(&app.api, cart_id).await["status"] == "open");
    }
    assert_eq!(open, 19, "every refused cart is open again");
}

#[actix_web::test]
async fn an_order_that_does_not_sell_gives_its_coupon_use_back() {
    let app = crate::helpers::spawn_app().await;
    shop(&app.api, &[("TEE", 1_000)], 1).await;
    app.api
        .admin(
            Method::POST,
            "/v1/admin/coupons",
            Some(json!({"code": "ONCE", "percent": 50, "max_uses": 1})),
        )
        .await;
    let body = checkout_body("ivy@example.com");
    let short = cart_with_coupon(&app.api, "TEE", 2, "ONCE").await;
    let refused = checkout(&app.api, &short, Some("k"), &body, None).await;
    assert_eq!(conflict_order_id(refused).await.0, "out_of_stock");
    assert_eq!(
        coupon_uses(&app.api, "ONCE").await,
        0,
        "the claim went back with the stock"
    );

    let fits = cart_with_coupon(&app.api, "TEE", 1, "ONCE").await;
    let late = cart_with_coupon(&app.api, "TEE", 1, "ONCE").await;
    app.api.set_on_hand("TEE", 2).await;
    let bought = checkout(&app.api, &fits, Some("k"), &body, None).await;
    assert_eq!(bought.status(), StatusCode::CREATED);
    assert_eq!(bought.json::<Value>().await.unwrap()["discount"], 500);
    assert_eq!(coupon_uses(&app.api, "ONCE").await, 1);

    let used_up = checkout(&app.api, &late, Some("k"), &body, None).await;
    assert_eq!(
        conflict_order_id(used_up).await.0,
        "coupon_not_applicable",
        "no silent full price when the coupon ran out after it was applied"
    );
    assert_eq!(cart(&app.api, &late).await["status"], "open");
    assert_eq!(
        level(&app.api, "TEE").await,
        (1, 0, 1),
        "nothing held for the refused checkout"
    );
}

#[actix_web::test]
async fn a_checkout_that_cannot_list_its_order_leaves_the_cart_open() {
    let app = crate::helpers::spawn_app_with(|settings| {
        settings.checkout.sweep_interval = std::time::Duration::from_secs(3_600);
    })
    .await;
    shop(&app.api, &[("TEE", 1_000)], 10).await;
    let id = new_cart(&app.api).await["id"].as_str().unwrap().to_string();
    add(&app.api, &id, "TEE", 1).await;
    let body = checkout_body("uma@example.com");
    let fault = app
        .api
        .admin(Method::POST, "/v1/admin/actors/order-index/open/fault", None)
        .await;
    assert_eq!(fault.status(), StatusCode::ACCEPTED);

    let failed = checkout(&app.api, &id, Some("k1"), &body, None).await;
    assert_eq!(
        failed.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "the open-order set restarts"
    );
    let after = cart(&app.api, &id).await;
    assert_eq!(
        (after["status"].as_str(), &after["order_id"]),
        (Some("open"), &Value::Null),
        "not left frozen for an order nobody can see"
    );
    // The same key checks out once the set is back (eventually fails the test otherwise).
    crate::helpers::eventually(std::time::Duration::from_secs(5), || async {
        let answer = checkout(&app.api, &id, Some("k1"), &body, None).await;
        (answer.status() == StatusCode::CREATED).then_some(())
    })
    .await;
    assert_eq!(level(&app.api, "TEE").await, (9, 0, 1));
}
