//! A webhook receiver in the test suite: verifies every delivery's Standard
//! Webhooks signature as a real receiver would (the `standardwebhooks`
//! crate, with the endpoint's secrets), answers from a script of statuses
//! (then 200), and keeps what it got.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::Value;

/// One delivery as received.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
    pub event: Value,
    /// Whether the signature verified with one of the secrets.
    pub verified: bool,
}

#[derive(Default)]
pub struct State {
    /// Secrets a delivery may be signed with.
    pub secrets: Vec<String>,
    /// Answers to give, in order: `(status, Retry-After)`; then 200.
    pub script: VecDeque<(u16, Option<&'static str>)>,
    /// What was answered 2xx.
    pub accepted: Vec<Delivery>,
    /// Every request, accepted or not.
    pub requests: usize,
}

pub type Shared = Arc<Mutex<State>>;

/// Verifies `body` and `headers` with `secret` as a receiver would.
pub fn verify(secret: &str, body: &[u8], headers: &http::HeaderMap) -> Result<(), standardwebhooks::WebhookError> {
    standardwebhooks::Webhook::new(secret)?.verify(body, headers)
}

async fn receive(req: HttpRequest, body: web::Bytes, state: web::Data<Shared>) -> HttpResponse {
    let mut headers = http::HeaderMap::new();
    for (name, value) in req.headers() {
        headers.insert(
            http::HeaderName::from_bytes(name.as_str().as_bytes()).unwrap(),
            http::HeaderValue::from_bytes(value.as_bytes()).unwrap(),
        );
    }
    let mut state = state.lock().unwrap();
    state.requests += 1;
    if let Some((status, retry_after)) = state.script.pop_front() {
        let mut answer = HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
        if let Some(wait) = retry_after {
            answer.insert_header(("retry-after", wait));
        }
        return answer.body(format!("scripted {status}"));
    }
    let verified = state
        .secrets
        .iter()
        .any(|secret| verify(secret, &body, &headers).is_ok());
    let event = serde_json::from_slice(&body).unwrap_or(Value::Null);
    state.accepted.push(Delivery {
        headers,
        body: body.to_vec(),
        event,
        verified,
    });
    HttpResponse::Ok().body("thanks")
}

/// Starts a receiver; answers its URL and state.
pub fn start() -> (String, Shared) {
    let shared: Shared = Arc::default();
    let data = web::Data::new(Arc::clone(&shared));
    let server = HttpServer::new(move || App::new().app_data(data.clone()).default_service(web::to(receive)))
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
    let url = format!("http://{}/hooks", server.addrs()[0]);
    actix_web::rt::spawn(server.run());
    (url, shared)
}

/// The events accepted, in arrival order.
pub fn events(state: &Shared) -> Vec<Value> {
    state.lock().unwrap().accepted.iter().map(|d| d.event.clone()).collect()
}
