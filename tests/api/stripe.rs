//! Stripe payments against a fake Stripe (a local HTTP server speaking the part
//! of the API Mercato uses): PaymentIntents keyed by order id, webhooks with
//! signatures, replays, out-of-order and late events, reconciliation, refunds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use mercato_actors::payment::webhook::sign;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::carts::{add, new_cart, shop};
use crate::helpers::{error_code, eventually, spawn_app_with, Api, TestApp};
use crate::orders::level;

const WEBHOOK_SECRET: &str = "whsec_test_secret";

#[derive(Default)]
struct FakeStripe {
    /// Intent id → (amount, currency, order id, status).
    intents: HashMap<String, (i64, String, String, String)>,
    /// Idempotency key → intent id.
    keys: HashMap<String, String>,
    /// Refunded intent ids.
    refunds: Vec<String>,
}

type Shared = Arc<Mutex<FakeStripe>>;

fn intent_json(id: &str, (amount, currency, order, status): &(i64, String, String, String)) -> Value {
    json!({
        "id": id, "object": "payment_intent", "amount": amount, "amount_capturable": 0, "amount_received": 0,
        "capture_method": "automatic", "confirmation_method": "automatic", "created": 1_700_000_000,
        "currency": currency, "livemode": false, "metadata": {"order_id": order},
        "payment_method_types": ["card"], "status": status, "client_secret": format!("{id}_secret_abc"),
    })
}

async fn create_intent(req: HttpRequest, body: web::Bytes, fake: web::Data<Shared>) -> HttpResponse {
    let form: HashMap<String, String> = url_decode(&body);
    let key = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let mut fake = fake.lock().unwrap();
    if let Some(id) = fake.keys.get(&key).cloned() {
        return HttpResponse::Ok().json(intent_json(&id, &fake.intents[&id]));
    }
    let id = format!("pi_{}", fake.intents.len() + 1);
    let intent = (
        form["amount"].parse().unwrap(),
        form["currency"].clone(),
        form.get("metadata[order_id]").cloned().unwrap_or_default(),
        "requires_payment_method".to_string(),
    );
    fake.keys.insert(key, id.clone());
    fake.intents.insert(id.clone(), intent);
    HttpResponse::Ok().json(intent_json(&id, &fake.intents[&id]))
}

async fn get_intent(path: web::Path<String>, fake: web::Data<Shared>) -> HttpResponse {
    let fake = fake.lock().unwrap();
    match fake.intents.get(path.as_str()) {
        Some(intent) => HttpResponse::Ok().json(intent_json(&path, intent)),
        None => HttpResponse::NotFound()
            .json(json!({"error": {"type": "invalid_request_error", "message": "no such intent"}})),
    }
}

async fn create_refund(body: web::Bytes, fake: web::Data<Shared>) -> HttpResponse {
    let form = url_decode(&body);
    let intent = form["payment_intent"].clone();
    let mut fake = fake.lock().unwrap();
    let amount = fake.intents[&intent].0;
    fake.refunds.push(intent.clone());
    HttpResponse::Ok().json(json!({
        "id": format!("re_{}", fake.refunds.len()), "object": "refund", "amount": amount, "created": 1_700_000_000,
        "currency": "eur", "payment_intent": intent, "status": "succeeded", "metadata": {}
    }))
}

fn url_decode(body: &[u8]) -> HashMap<String, String> {
    serde_urlencoded::from_bytes(body).expect("a form body")
}

/// Starts the fake Stripe; answers its base URL and state.
fn fake_stripe() -> (String, Shared) {
    let shared: Shared = Arc::default();
    let data = web::Data::new(Arc::clone(&shared));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/v1/payment_intents", web::post().to(create_intent))
            .route("/v1/payment_intents/{id}", web::get().to(get_intent))
            .route("/v1/refunds", web::post().to(create_refund))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let url = format!("http://{}", server.addrs()[0]);
    actix_web::rt::spawn(server.run());
    (url, shared)
}

async fn stripe_app(configure: impl FnOnce(&mut mercato::settings::Settings)) -> (TestApp, Shared) {
    let (url, fake) = fake_stripe();
    let app = spawn_app_with(|settings| {
        settings.payments.gateway = mercato::settings::GatewayKind::Stripe;
        settings.stripe.api_base = url;
        settings.stripe.secret_key = "sk_test_123".to_string().into();
        settings.stripe.webhook_secret = WEBHOOK_SECRET.to_string().into();
        settings.checkout.sweep_interval = Duration::from_millis(100);
        configure(settings);
    })
    .await;
    (app, fake)
}

async fn place_order(api: &Api, sku: &str, qty: u32) -> Value {
    let cart = new_cart(api).await["id"].as_str().unwrap().to_string();
    add(api, &cart, sku, qty).await;
    let body = json!({
        "email": "yan@example.com",
        "shipping_address": {"name": "Yan", "line1": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "DE"}
    });
    let response = api
        .client
        .post(api.url(&format!("/v1/carts/{cart}/checkout")))
        .header("idempotency-key", "k")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn event(id: &str, kind: &str, intent: &str, order: &str) -> String {
    json!({
        "id": id, "object": "event", "type": kind, "created": now(),
        "data": {"object": {"id": intent, "object": "payment_intent", "metadata": {"order_id": order},
            "last_payment_error": {"message": "card declined"}}}
    })
    .to_string()
}

async fn deliver(api: &Api, body: &str, signature: &str) -> reqwest::Response {
    api.client
        .post(api.url("/v1/payments/stripe/webhook"))
        .header("stripe-signature", signature)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

async fn webhook(api: &Api, body: &str) -> reqwest::Response {
    deliver(api, body, &sign(body.as_bytes(), WEBHOOK_SECRET.as_bytes(), now())).await
}

async fn order_status(api: &Api, id: &str) -> String {
    let order = api.order(id).await;
    order["status"].as_str().unwrap().to_string()
}

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
    let outbox = app._dir.path().join("outbox");
    let mail = eventually(Duration::from_secs(10), || async {
        let entry = std::fs::read_dir(&outbox).ok()?.filter_map(Result::ok).find(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .ends_with(&format!("{id}-payment_failed.eml"))
        })?;
        std::fs::read_to_string(entry.path()).ok()
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
    assert_eq!(fake.lock().unwrap().refunds, vec![late_intent.clone()]);
    eventually(Duration::from_secs(10), || async {
        (level(&app.api, "TEE").await == (4, 0, 1)).then_some(())
    })
    .await;
}
