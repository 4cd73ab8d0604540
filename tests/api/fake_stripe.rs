//! A fake Stripe for the tests: a local HTTP server speaking the part of the
//! API Mercato uses (PaymentIntents with idempotency keys, retrieval, refunds
//! with idempotency keys, which it can be told to refuse), and helpers that
//! place Stripe orders and deliver signed webhooks.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use mercato_actors::payment::webhook::sign;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::carts::{add, new_cart};
use crate::helpers::{spawn_app_with, Api, ServerProcess, TestApp};

pub const WEBHOOK_SECRET: &str = "whsec_test_secret";

#[derive(Default)]
pub struct FakeStripe {
    /// Intent id → (amount, currency, order id, status).
    pub intents: HashMap<String, (i64, String, String, String)>,
    /// Idempotency key → intent id.
    pub keys: HashMap<String, String>,
    /// Refunds made, in order.
    pub refunds: Vec<Refund>,
    /// While set, every refund is refused (a 500 from Stripe).
    pub refuse_refunds: bool,
    /// Refund requests seen, refused ones included.
    pub refund_requests: usize,
    /// How long the answer to a new PaymentIntent takes, once it is made (a
    /// long one cuts the caller between Stripe making the intent and hearing of it).
    pub create_delay: Duration,
}

/// A refund the fake made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    /// The PaymentIntent refunded.
    pub intent: String,
    /// Minor units.
    pub amount: i64,
    /// The request's `Idempotency-Key`.
    pub key: String,
}

pub type Shared = Arc<Mutex<FakeStripe>>;

fn intent_json(id: &str, (amount, currency, order, status): &(i64, String, String, String)) -> Value {
    json!({
        "id": id, "object": "payment_intent", "amount": amount, "amount_capturable": 0, "amount_received": 0,
        "capture_method": "automatic", "confirmation_method": "automatic", "created": 1_700_000_000,
        "currency": currency, "livemode": false, "metadata": {"order_id": order},
        "payment_method_types": ["card"], "status": status, "client_secret": format!("{id}_secret_abc"),
    })
}

async fn create_intent(req: HttpRequest, body: web::Bytes, fake: web::Data<Shared>) -> HttpResponse {
    let (answer, delay) = make_intent(&url_decode(&body), idempotency_key(&req), &mut fake.lock().unwrap());
    actix_web::rt::time::sleep(delay).await;
    answer
}

/// Makes an intent (or finds the one made under `key`); answers the reply and
/// how long it takes.
fn make_intent(form: &HashMap<String, String>, key: String, fake: &mut FakeStripe) -> (HttpResponse, Duration) {
    // Like Stripe: only a request with a key is deduplicated.
    if let Some(id) = fake.keys.get(&key).filter(|_| !key.is_empty()).cloned() {
        return (
            HttpResponse::Ok().json(intent_json(&id, &fake.intents[&id])),
            Duration::ZERO,
        );
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
    (
        HttpResponse::Ok().json(intent_json(&id, &fake.intents[&id])),
        fake.create_delay,
    )
}

async fn get_intent(path: web::Path<String>, fake: web::Data<Shared>) -> HttpResponse {
    let fake = fake.lock().unwrap();
    match fake.intents.get(path.as_str()) {
        Some(intent) => HttpResponse::Ok().json(intent_json(&path, intent)),
        None => HttpResponse::NotFound()
            .json(json!({"error": {"type": "invalid_request_error", "message": "no such intent"}})),
    }
}

async fn create_refund(req: HttpRequest, body: web::Bytes, fake: web::Data<Shared>) -> HttpResponse {
    let form = url_decode(&body);
    let intent = form["payment_intent"].clone();
    let key = idempotency_key(&req);
    let mut fake = fake.lock().unwrap();
    fake.refund_requests += 1;
    if fake.refuse_refunds {
        return HttpResponse::InternalServerError()
            .json(json!({"error": {"type": "api_error", "message": "refunds are down"}}));
    }
    // Like Stripe: a repeated key answers the first refund instead of making
    // another; another key for a refunded payment is refused.
    let number = match fake.refunds.iter().position(|refund| refund.key == key) {
        Some(index) => index + 1,
        None if fake.refunds.iter().any(|refund| refund.intent == intent) => {
            return HttpResponse::BadRequest().json(json!({"error": {
                "type": "invalid_request_error", "code": "charge_already_refunded",
                "message": format!("Charge for {intent} has already been refunded."),
            }}))
        }
        None => {
            let amount = fake.intents[&intent].0;
            fake.refunds.push(Refund {
                intent: intent.clone(),
                amount,
                key,
            });
            fake.refunds.len()
        }
    };
    let amount = fake.refunds[number - 1].amount;
    HttpResponse::Ok().json(json!({
        "id": format!("re_{number}"), "object": "refund", "amount": amount, "created": 1_700_000_000,
        "currency": "eur", "payment_intent": intent, "status": "succeeded", "metadata": {}
    }))
}

fn idempotency_key(req: &HttpRequest) -> String {
    req.headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

fn url_decode(body: &[u8]) -> HashMap<String, String> {
    serde_urlencoded::from_bytes(body).expect("a form body")
}

/// Starts the fake Stripe; answers its base URL and state.
pub fn fake_stripe() -> (String, Shared) {
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

/// The environment that points a server process at the fake on `url`.
pub fn stripe_env(url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("MERCATO__PAYMENTS__GATEWAY", "stripe".into()),
        ("MERCATO__STRIPE__API_BASE", url.into()),
        ("MERCATO__STRIPE__SECRET_KEY", "sk_test_123".into()),
        ("MERCATO__STRIPE__WEBHOOK_SECRET", WEBHOOK_SECRET.into()),
        ("MERCATO__CHECKOUT__SWEEP_INTERVAL", "100ms".into()),
        ("MERCATO__CHECKOUT__REFUND_RETRY_MIN", "50ms".into()),
    ]
}

/// Starts the binary on `dir` with `env`.
pub fn start(dir: &std::path::Path, env: &[(&'static str, String)]) -> ServerProcess {
    let env: Vec<(&str, &str)> = env.iter().map(|(key, value)| (*key, value.as_str())).collect();
    ServerProcess::start(dir, &env)
}

pub async fn stripe_app(configure: impl FnOnce(&mut mercato::settings::Settings)) -> (TestApp, Shared) {
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

pub async fn place_order(api: &Api, sku: &str, qty: u32) -> Value {
    let cart = new_cart(api).await["id"].as_str().unwrap().to_string();
    add(api, &cart, sku, qty).await;
    let response = crate::orders::checkout(
        api,
        &cart,
        Some("k"),
        &crate::orders::checkout_body("yan@example.com"),
        None,
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

pub fn event(id: &str, kind: &str, intent: &str, order: &str) -> String {
    json!({
        "id": id, "object": "event", "type": kind, "created": now(),
        "data": {"object": {"id": intent, "object": "payment_intent", "metadata": {"order_id": order},
            "last_payment_error": {"message": "card declined"}}}
    })
    .to_string()
}

pub async fn deliver(api: &Api, body: &str, signature: &str) -> reqwest::Response {
    api.client
        .post(api.url("/v1/payments/stripe/webhook"))
        .header("stripe-signature", signature)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

pub async fn webhook(api: &Api, body: &str) -> reqwest::Response {
    deliver(api, body, &sign(body.as_bytes(), WEBHOOK_SECRET.as_bytes(), now())).await
}

pub async fn order_status(api: &Api, id: &str) -> String {
    let order = api.order(id).await;
    order["status"].as_str().unwrap().to_string()
}
