//! Stripe payments against the fake Stripe: PaymentIntents keyed by order id,
//! webhooks with signatures, replays, out-of-order and late events,
//! reconciliation, refunds, and a `kill -9` between Stripe making an intent
//! and Mercato recording it.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::carts::shop;
use mercato_actors::payment::webhook::sign;

use crate::fake_stripe::{
    deliver, event, fake_stripe, now, order_status, place_order, start, stripe_app, stripe_env, webhook, Refund,
    WEBHOOK_SECRET,
};
use crate::helpers::{error_code, eventually};
use crate::orders::{checkout, checkout_body, guest_cart_with, level};
use futures_util::future::{select, Either};

#[actix_web::test]
async fn a_stripe_payment_confirms_by_webhook_once() {
    let (app, fake) = stripe_app(|_| {}).await;
    shop(&app.api, &[("TEE", 1_250)], 5).await;
    let order = place_order(&app.api, "TEE", 2).await;
    let id = order["id"].as_str().unwrap();
    assert_eq!(order["status"], "awaiting_payment");
    assert_eq!(order["payment"]["gateway"], "stripe");
    let intent = order["payment"]["id"].as_str().unwrap();
    assert_eq!(order["payment"]["client_secret"], format!("{intent}_secret_abc"));
    {
        let fake = fake.lock().unwrap();
        assert_eq!(
            fake.keys.keys().collect::<Vec<_>>(),
            vec![&format!("order-{id}")],
            "the order id is the idempotency key"
        );
        assert_eq!(fake.intents[intent].0, 2_500);
    }
    assert_eq!(level(&app.api, "TEE").await, (5, 2, 0));

    let body = event("evt_1", "payment_intent.succeeded", intent, id);
    let first = webhook(&app.api, &body).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.json::<Value>().await.unwrap()["outcome"], "applied");
    assert_eq!(order_status(&app.api, id).await, "confirmed");
    assert_eq!(level(&app.api, "TEE").await, (3, 0, 2));
    let replay = webhook(&app.api, &body).await;
    assert_eq!(replay.json::<Value>().await.unwrap()["outcome"], "duplicate");
    let failed_late = webhook(&app.api, &event("evt_2", "payment_intent.payment_failed", intent, id)).await;
    assert_eq!(
        failed_late.json::<Value>().await.unwrap()["outcome"],
        "ignored",
        "an older failure arriving late changes nothing"
    );
    assert_eq!(order_status(&app.api, id).await, "confirmed");
    assert_eq!(level(&app.api, "TEE").await, (3, 0, 2), "sold once");
}

#[actix_web::test]
async fn bad_and_stale_signatures_are_400_and_change_nothing() {
    let (app, _fake) = stripe_app(|_| {}).await;
    shop(&app.api, &[("TEE", 1_000)], 5).await;
    let order = place_order(&app.api, "TEE", 1).await;
    let (id, intent) = (order["id"].as_str().unwrap(), order["payment"]["id"].as_str().unwrap());
    let body = event("evt_9", "payment_intent.succeeded", intent, id);
    let cases = [
        ("", "invalid_signature"),
        ("t=1,v1=00", "invalid_signature"),
        (
            &sign(body.as_bytes(), b"another secret", now()) as &str,
            "invalid_signature",
        ),
        (
            &sign(body.as_bytes(), WEBHOOK_SECRET.as_bytes(), now() - 301),
            "stale_signature",
        ),
    ];
    for (signature, code) in cases {
        let response = deliver(&app.api, &body, signature).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{signature}");
        assert_eq!(error_code(response).await, code);
    }
    assert_eq!(order_status(&app.api, id).await, "awaiting_payment");
    let tampered = body.replace("evt_9", "evt_10");
    let response = deliver(
        &app.api,
        &tampered,
        &sign(body.as_bytes(), WEBHOOK_SECRET.as_bytes(), now()),
    )
    .await;
    assert_eq!(
        response.status(),
        StatusCode::BAD_REQUEST,
        "the signature covers the body"
    );
}

/// The `Stripe-Signature` header as Stripe documents it, computed here rather
/// than by the code under test: `t=<unix time>,v1=<hex HMAC-SHA256 of
/// "<t>.<raw body>" under the endpoint secret>`, with a scheme Mercato does not
/// check (`v0`) beside it, as Stripe may send.
fn stripes_signature(body: &str, secret: &str, at: u64) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{at}.{body}").as_bytes());
    let v1: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("t={at},v1={v1},v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39")
}

#[actix_web::test]
async fn a_webhook_signed_by_stripes_documented_scheme_is_applied() {
    let (app, _fake) = stripe_app(|_| {}).await;
    shop(&app.api, &[("TEE", 1_000)], 5).await;
    let order = place_order(&app.api, "TEE", 1).await;
    let (id, intent) = (order["id"].as_str().unwrap(), order["payment"]["id"].as_str().unwrap());
    let body = event("evt_doc", "payment_intent.succeeded", intent, id);
    let signature = stripes_signature(&body, WEBHOOK_SECRET, now());
    let response = deliver(&app.api, &body, &signature).await;
    assert_eq!(response.status(), StatusCode::OK, "{signature}");
    assert_eq!(response.json::<Value>().await.unwrap()["outcome"], "applied");
    assert_eq!(order_status(&app.api, id).await, "confirmed");

    let other = event("evt_doc_2", "payment_intent.succeeded", intent, id);
    let wrong_secret = stripes_signature(&other, "whsec_not_this_endpoints", now());
    let refused = deliver(&app.api, &other, &wrong_secret).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(refused).await, "invalid_signature");
}

#[actix_web::test]
async fn a_webhook_for_another_payment_of_the_order_changes_nothing() {
    let (app, _fake) = stripe_app(|_| {}).await;
    shop(&app.api, &[("TEE", 1_000)], 5).await;
    let order = place_order(&app.api, "TEE", 1).await;
    let id = order["id"].as_str().unwrap();
    let foreign = event("evt_foreign", "payment_intent.succeeded", "pi_not_this_orders", id);
    let response = webhook(&app.api, &foreign).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap()["outcome"], "ignored");
    assert_eq!(order_status(&app.api, id).await, "awaiting_payment");
    assert_eq!(level(&app.api, "TEE").await, (5, 1, 0), "still held, not sold");
}

#[actix_web::test]
async fn a_failed_payment_releases_the_stock() {
    let (app, _fake) = stripe_app(|_| {}).await;
    shop(&app.api, &[("TEE", 1_000)], 5).await;
    let order = place_order(&app.api, "TEE", 3).await;
    let (id, intent) = (order["id"].as_str().unwrap(), order["payment"]["id"].as_str().unwrap());
    let response = webhook(&app.api, &event("evt_f", "payment_intent.payment_failed", intent, id)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let failed = app.api.order(id).await;
    assert_eq!(
        (failed["status"].as_str(), failed["reason"].as_str()),
        (Some("payment_failed"), Some("card declined"))
    );
    assert_eq!(level(&app.api, "TEE").await, (5, 0, 0));
    let mail = eventually(Duration::from_secs(10), || async {
        let mails = crate::notifications::mails(app._dir.path());
        let suffix = format!("{id}-payment_failed");
        mails
            .into_iter()
            .find(|(name, _)| name.ends_with(&suffix))
            .map(|(_, text)| text)
    })
    .await;
    assert!(mail.contains("(card declined)"), "{mail}");
}

#[actix_web::test]
async fn a_lost_webhook_is_reconciled_and_a_late_payment_refunded() {
    let (app, fake) = stripe_app(|settings| {
        settings.checkout.reconcile_after = Duration::from_millis(200);
        settings.checkout.payment_window = Duration::from_secs(2);
    })
    .await;
    shop(&app.api, &[("TEE", 1_000)], 5).await;
    let order = place_order(&app.api, "TEE", 1).await;
    let (id, intent) = (
        order["id"].as_str().unwrap().to_string(),
        order["payment"]["id"].as_str().unwrap().to_string(),
    );
    // The customer pays; the webhook never arrives: the sweeper asks Stripe.
    fake.lock().unwrap().intents.get_mut(&intent).unwrap().3 = "succeeded".into();
    eventually(Duration::from_secs(10), || async {
        (order_status(&app.api, &id).await == "confirmed").then_some(())
    })
    .await;
    assert_eq!(level(&app.api, "TEE").await, (4, 0, 1));

    // Another order runs out of time; its payment lands afterwards.
    let late = place_order(&app.api, "TEE", 1).await;
    let (late_id, late_intent) = (
        late["id"].as_str().unwrap().to_string(),
        late["payment"]["id"].as_str().unwrap().to_string(),
    );
    eventually(Duration::from_secs(10), || async {
        (order_status(&app.api, &late_id).await == "expired").then_some(())
    })
    .await;
    let response = webhook(
        &app.api,
        &event("evt_late", "payment_intent.succeeded", &late_intent, &late_id),
    )
    .await;
    assert_eq!(response.json::<Value>().await.unwrap()["outcome"], "applied");
    assert_eq!(order_status(&app.api, &late_id).await, "refunded");
    let refunds = fake.lock().unwrap().refunds.clone();
    assert_eq!(
        refunds,
        vec![Refund {
            intent: late_intent.clone(),
            amount: 1_000,
            key: format!("refund-{late_id}"),
        }],
        "one full refund, keyed by the order"
    );
    eventually(Duration::from_secs(10), || async {
        (level(&app.api, "TEE").await == (4, 0, 1)).then_some(())
    })
    .await;
}

#[actix_web::test]
async fn a_kill_9_after_stripe_made_the_intent_but_before_it_was_recorded_charges_once() {
    let (url, fake) = fake_stripe();
    let dir = tempfile::tempdir().unwrap();
    let env = stripe_env(&url);
    let server = start(dir.path(), &env);
    shop(&server.api, &[("TEE", 1_250)], 5).await;
    let cart = guest_cart_with(&server.api, &[("TEE", 2)]).await;
    let body = checkout_body("ivy@example.com");
    fake.lock().unwrap().create_delay = Duration::from_secs(600);
    let in_flight = Box::pin(checkout(&server.api, &cart, Some("k"), &body, None));
    let intent_made = Box::pin(eventually(Duration::from_secs(15), || async {
        (fake.lock().unwrap().intents.len() == 1).then_some(())
    }));
    if let Either::Left((answer, _)) = select(in_flight, intent_made).await {
        panic!("answered before Stripe did: {}", answer.status());
    }
    server.kill();
    fake.lock().unwrap().create_delay = Duration::ZERO;

    let server = start(dir.path(), &env);
    // The client retries with its key (409 `checkout_in_progress` while the
    // sweeper resumes the order); the order asks Stripe again under its
    // idempotency key and gets the intent already made.
    let retried = eventually(Duration::from_secs(15), || async {
        let answer = checkout(&server.api, &cart, Some("k"), &body, None).await;
        (answer.status() != StatusCode::CONFLICT).then_some(answer)
    })
    .await;
    assert_eq!(retried.status(), StatusCode::CREATED);
    let order: Value = retried.json().await.unwrap();
    let (id, intent) = (order["id"].as_str().unwrap(), order["payment"]["id"].as_str().unwrap());
    assert_eq!(intent, "pi_1");
    assert_eq!(fake.lock().unwrap().intents.len(), 1, "no second PaymentIntent");
    let paid = event("evt_paid", "payment_intent.succeeded", intent, id);
    assert_eq!(webhook(&server.api, &paid).await.status(), StatusCode::OK);
    assert_eq!(order_status(&server.api, id).await, "confirmed");
    assert_eq!(level(&server.api, "TEE").await, (3, 0, 2));
    assert_eq!(fake.lock().unwrap().intents.len(), 1);
}
