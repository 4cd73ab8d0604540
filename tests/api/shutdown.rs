//! SIGTERM drains: `/readyz` turns 503 at once while the server keeps serving
//! for `server.drain_delay`; then the listener closes, a checkout in flight
//! still gets its answer, the process exits 0, and the order is there after a
//! restart.

use std::time::Duration;

use futures_util::future::{select, Either};
use reqwest::StatusCode;
use serde_json::Value;

use crate::carts::shop;
use crate::fake_stripe::{fake_stripe, start, stripe_env};
use crate::helpers::eventually;
use crate::orders::{checkout, checkout_body, guest_cart_with, level};

#[actix_web::test]
async fn sigterm_says_not_ready_serves_through_the_delay_and_finishes_what_is_in_flight() {
    let (url, fake) = fake_stripe();
    let dir = tempfile::tempdir().unwrap();
    let mut env = stripe_env(&url);
    env.push(("MERCATO__SERVER__DRAIN_DELAY", "1s".into()));
    let server = start(dir.path(), &env);
    shop(&server.api, &[("TEE", 1_250)], 5).await;
    let cart = guest_cart_with(&server.api, &[("TEE", 2)]).await;
    let ready = server.api.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::OK);

    // A checkout that waits 3 s on Stripe, longer than the drain delay.
    fake.lock().unwrap().create_delay = Duration::from_secs(3);
    let body = checkout_body("lea@example.com");
    let in_flight = Box::pin(checkout(&server.api, &cart, Some("k"), &body, None));
    let at_stripe = Box::pin(eventually(Duration::from_secs(10), || async {
        (fake.lock().unwrap().intents.len() == 1).then_some(())
    }));
    let Either::Right(((), in_flight)) = select(in_flight, at_stripe).await else {
        panic!("the checkout answered before Stripe did");
    };
    server.signal_terminate();

    let not_ready = eventually(Duration::from_secs(1), || async {
        let response = server.api.get("/readyz").await;
        (response.status() == StatusCode::SERVICE_UNAVAILABLE).then_some(response)
    })
    .await;
    assert_eq!(not_ready.json::<Value>().await.unwrap()["error"]["code"], "not_ready");
    assert_eq!(
        level(&server.api, "TEE").await,
        (5, 2, 0),
        "still serving while not ready"
    );

    let fresh = reqwest::Client::new();
    let closed = eventually(Duration::from_secs(5), || async {
        let refused = fresh.get(server.api.url("/healthz")).send().await;
        refused.err().filter(reqwest::Error::is_connect)
    })
    .await;
    assert!(closed.is_connect(), "the listener closes after the delay");

    let answer = in_flight.await;
    assert_eq!(answer.status(), StatusCode::CREATED, "the in-flight checkout finished");
    let order: Value = answer.json().await.unwrap();
    assert_eq!(order["payment"]["id"], "pi_1");
    let status = server.exit_status();
    assert_eq!(status.code(), Some(0), "drained and exited 0");

    let server = start(dir.path(), &env);
    let kept = server.api.order(order["id"].as_str().unwrap()).await;
    assert_eq!(kept["status"], "awaiting_payment");
    assert_eq!(level(&server.api, "TEE").await, (5, 2, 0));
}
