//! Refunds that the gateway refuses: the order stays `refund_pending`, its
//! units come back exactly once, and one refund is paid out when the gateway
//! accepts — through retries, the sweeper, and a `kill -9` in between. And the
//! amounts: a discounted multi-line order is charged and refunded its total.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::carts::shop;
use crate::fake_stripe::{fake_stripe, order_status, place_order, start, stripe_env, webhook, Refund, Shared};
use crate::helpers::{eventually, Api};
use crate::orders::level;

/// A confirmed Stripe order of 2 × TEE at 1,250; answers its id and token.
async fn confirmed_order(api: &Api) -> (String, String) {
    shop(api, &[("TEE", 1_250)], 5).await;
    let order = place_order(api, "TEE", 2).await;
    let id = order["id"].as_str().unwrap().to_string();
    let intent = order["payment"]["id"].as_str().unwrap();
    let paid = crate::fake_stripe::event("evt_paid", "payment_intent.succeeded", intent, &id);
    assert_eq!(webhook(api, &paid).await.status(), StatusCode::OK);
    assert_eq!(order_status(api, &id).await, "confirmed");
    assert_eq!(level(api, "TEE").await, (3, 0, 2));
    (id, order["order_token"].as_str().unwrap().to_string())
}

async fn cancel(api: &Api, id: &str, token: &str) -> Value {
    let response = api
        .client
        .post(api.url(&format!("/v1/orders/{id}/cancel")))
        .header("x-order-token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn refunds(fake: &Shared) -> Vec<Refund> {
    fake.lock().unwrap().refunds.clone()
}

fn one_refund_of(id: &str, fake: &Shared) -> Vec<Refund> {
    let intent = fake.lock().unwrap().intents.keys().next().cloned().unwrap();
    vec![Refund {
        intent,
        amount: 2_500,
        key: format!("refund-{id}"),
    }]
}

#[actix_web::test]
async fn a_refused_refund_stays_pending_restocks_once_and_pays_out_once_when_stripe_accepts() {
    let (url, fake) = fake_stripe();
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &stripe_env(&url));
    let (id, token) = confirmed_order(&server.api).await;
    fake.lock().unwrap().refuse_refunds = true;

    for attempt in 1..=5 {
        let order = cancel(&server.api, &id, &token).await;
        assert_eq!(order["status"], "refund_pending", "attempt {attempt}");
        assert!(order["refund"]["failed_attempts"].as_u64().unwrap() >= attempt);
        assert!(order["refund"]["last_error"].as_str().unwrap().contains("gateway"));
        assert_eq!(
            level(&server.api, "TEE").await,
            (5, 0, 0),
            "restocked once, attempt {attempt}"
        );
    }
    assert!(fake.lock().unwrap().refund_requests >= 5);
    assert!(refunds(&fake).is_empty());

    fake.lock().unwrap().refuse_refunds = false;
    // Nobody asks again: the sweeper retries after the back-off.
    eventually(Duration::from_secs(15), || async {
        (order_status(&server.api, &id).await == "refunded").then_some(())
    })
    .await;
    assert_eq!(refunds(&fake), one_refund_of(&id, &fake));
    assert_eq!(level(&server.api, "TEE").await, (5, 0, 0), "still restocked once");
    let again = server
        .api
        .client
        .post(server.api.url(&format!("/v1/orders/{id}/cancel")))
        .header("x-order-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.status(),
        StatusCode::CONFLICT,
        "a refunded order cannot be cancelled"
    );
    assert_eq!(refunds(&fake).len(), 1);
}

#[actix_web::test]
async fn a_kill_9_between_restock_and_refund_neither_restocks_nor_refunds_twice() {
    let (url, fake) = fake_stripe();
    let dir = tempfile::tempdir().unwrap();
    let env = stripe_env(&url);
    let server = start(dir.path(), &env);
    let (id, token) = confirmed_order(&server.api).await;
    fake.lock().unwrap().refuse_refunds = true;
    let order = cancel(&server.api, &id, &token).await;
    assert_eq!(order["status"], "refund_pending");
    assert_eq!(level(&server.api, "TEE").await, (5, 0, 0));
    server.kill();

    let server = start(dir.path(), &env);
    assert_eq!(order_status(&server.api, &id).await, "refund_pending");
    assert_eq!(
        level(&server.api, "TEE").await,
        (5, 0, 0),
        "the resumed saga did not restock again"
    );
    fake.lock().unwrap().refuse_refunds = false;
    eventually(Duration::from_secs(15), || async {
        (order_status(&server.api, &id).await == "refunded").then_some(())
    })
    .await;
    assert_eq!(refunds(&fake), one_refund_of(&id, &fake));
    assert_eq!(level(&server.api, "TEE").await, (5, 0, 0));
}

#[actix_web::test]
async fn a_refund_stripe_already_made_under_a_forgotten_key_counts_as_made() {
    let (app, fake) = crate::fake_stripe::stripe_app(|_| {}).await;
    let (id, token) = confirmed_order(&app.api).await;
    let intent = fake.lock().unwrap().intents.keys().next().cloned().unwrap();
    // Refunded before under a key Stripe has forgotten (it keeps them ~24 h).
    fake.lock().unwrap().refunds.push(Refund {
        intent: intent.clone(),
        amount: 2_500,
        key: "forgotten".into(),
    });

    let order = cancel(&app.api, &id, &token).await;
    assert_eq!(
        order["status"], "refunded",
        "already refunded is refunded, not pending for ever"
    );
    assert_eq!(refunds(&fake).len(), 1, "no second refund");
    assert_eq!(level(&app.api, "TEE").await, (5, 0, 0));
}

#[actix_web::test]
async fn a_discounted_multi_line_order_is_charged_and_refunded_its_discounted_total() {
    let (app, fake) = crate::fake_stripe::stripe_app(|_| {}).await;
    shop(&app.api, &[("TEE", 1_250), ("CAP", 500)], 5).await;
    let coupon = app
        .api
        .admin(
            reqwest::Method::POST,
            "/v1/admin/coupons",
            Some(serde_json::json!({"code": "SAVE10", "percent": 10})),
        )
        .await;
    assert_eq!(coupon.status(), StatusCode::CREATED);
    let cart = crate::orders::guest_cart_with(&app.api, &[("TEE", 2), ("CAP", 3)]).await;
    let applied = app
        .api
        .post(
            &format!("/v1/carts/{cart}/coupons"),
            serde_json::json!({"code": "SAVE10"}),
        )
        .await;
    assert_eq!(applied.status(), StatusCode::OK);
    let body = crate::orders::checkout_body("dora@example.com");
    let placed = crate::orders::checkout(&app.api, &cart, Some("k"), &body, None).await;
    assert_eq!(placed.status(), StatusCode::CREATED);
    let order: Value = placed.json().await.unwrap();
    // 2 × 1,250 + 3 × 500 = 4,000, less 10 %.
    assert_eq!(
        (order["subtotal"].as_u64(), order["total"].as_u64()),
        (Some(4_000), Some(3_600))
    );
    let (id, intent) = (order["id"].as_str().unwrap(), order["payment"]["id"].as_str().unwrap());
    assert_eq!(
        fake.lock().unwrap().intents[intent].0,
        3_600,
        "charged the discounted total"
    );

    let paid = crate::fake_stripe::event("evt_paid", "payment_intent.succeeded", intent, id);
    assert_eq!(webhook(&app.api, &paid).await.status(), StatusCode::OK);
    assert_eq!(order_status(&app.api, id).await, "confirmed");
    let cancelled = cancel(&app.api, id, order["order_token"].as_str().unwrap()).await;
    assert_eq!(cancelled["status"], "refunded");
    assert_eq!(
        refunds(&fake),
        vec![Refund {
            intent: intent.to_string(),
            amount: 3_600,
            key: format!("refund-{id}"),
        }],
        "refunded what was charged, once"
    );
    assert_eq!(level(&app.api, "TEE").await, (5, 0, 0));
    assert_eq!(level(&app.api, "CAP").await, (5, 0, 0));
}
