//! Webhooks against a receiver that verifies signatures: the scripted
//! session once per endpoint in order; failures, 429 with Retry-After and
//! recovery; 410 and a spent schedule disable; rotation, replay; the SSRF
//! guard; `kill -9` mid-delivery.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::future::join;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::receiver::{self, events, verify, Shared};
use super::script::{self, Session};
use crate::carts::shop;
use crate::helpers::{access, error_code, eventually, spawn_app_with, Api, ServerProcess, TestApp};
use crate::order_crashes::{checkouts_until_killed, Attempt};
use crate::orders::guest_cart_with;

const WAIT: Duration = Duration::from_secs(30);

async fn app_with_fast_retries() -> TestApp {
    spawn_app_with(|settings| {
        settings.webhooks.allow_private_targets = true;
        settings.webhooks.retry_delays = ["100ms", "200ms", "300ms", "2s"]
            .map(|delay| humantime_serde::Serde::from(humantime::parse_duration(delay).unwrap()))
            .to_vec();
    })
    .await
}

/// Registers `url` for `types`; hands the secret to the receiver.
async fn register(api: &Api, url: &str, types: &[&str], receiver: &Shared) -> Value {
    let created = api
        .admin(
            Method::POST,
            "/v1/admin/webhooks",
            Some(json!({"url": url, "event_types": types})),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let body: Value = created.json().await.unwrap();
    let secret = body["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    receiver.lock().unwrap().secrets.push(secret);
    body
}

/// Waits until the receiver has every event `session` expects.
async fn wait_for_session(receiver: &Shared, session: &Session) -> Vec<Value> {
    let expected = session.expected();
    let wanted: usize = expected.iter().map(|(_, types)| types.len()).sum();
    eventually(WAIT, || async {
        let got = events(receiver);
        let of_session = got
            .iter()
            .filter(|event| expected.iter().any(|(subject, _)| event["subject"] == subject.as_str()))
            .count();
        (of_session >= wanted).then_some(got)
    })
    .await
}

/// Each event once, verified, its id in `webhook-id`, in log order; every
/// subject of the session got exactly its events.
fn check_deliveries(receiver: &Shared, session: &Session) {
    let state = receiver.lock().unwrap();
    let mut ids = HashSet::new();
    let mut last = 0;
    for delivery in &state.accepted {
        assert!(delivery.verified, "signature of {}", delivery.event);
        let id = delivery.event["id"].as_str().unwrap();
        assert_eq!(delivery.headers["webhook-id"], id);
        assert!(ids.insert(id.to_string()), "{id} delivered twice");
        let sequence = delivery.event["sequence"].as_u64().unwrap();
        assert!(sequence > last, "{sequence} after {last}");
        last = sequence;
    }
    for (subject, types) in session.expected() {
        let seen: Vec<&str> = state
            .accepted
            .iter()
            .filter(|d| d.event["subject"] == subject.as_str())
            .map(|d| d.event["type"].as_str().unwrap())
            .collect();
        assert_eq!(seen, types, "the events of {subject}");
    }
}

#[actix_web::test]
async fn the_session_arrives_signed_once_per_endpoint_in_order() {
    let app = app_with_fast_retries().await;
    let (all_url, all) = receiver::start();
    let (orders_url, orders) = receiver::start();
    register(&app.api, &all_url, &["*"], &all).await;
    let picky = register(&app.api, &orders_url, &["order.shipped", "order.placed"], &orders).await;
    assert_eq!(picky["event_types"], json!(["order.placed", "order.shipped"]));
    let session = script::run(&app.api).await;
    wait_for_session(&all, &session).await;
    check_deliveries(&all, &session);
    let picked = eventually(WAIT, || async {
        let got = events(&orders);
        (got.len() >= 4).then_some(got)
    })
    .await;
    let types: Vec<&str> = picked.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["order.placed", "order.shipped", "order.placed", "order.placed"]);
    let listed: Value = app
        .api
        .admin(Method::GET, "/v1/admin/webhooks", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert!(listed[0].get("secret").is_none(), "the secret is shown once");
}

#[actix_web::test]
async fn failures_then_429_with_retry_after_then_recovery_lose_nothing() {
    let app = app_with_fast_retries().await;
    let (url, receiver) = receiver::start();
    receiver.lock().unwrap().script = [(500, None), (503, None), (500, None), (429, Some("1"))]
        .into_iter()
        .collect();
    let endpoint = register(&app.api, &url, &["*"], &receiver).await;
    let id = endpoint["id"].as_str().unwrap();
    let session = script::run(&app.api).await;
    wait_for_session(&receiver, &session).await;
    check_deliveries(&receiver, &session);

    let log: Value = app
        .api
        .admin(
            Method::GET,
            &format!("/v1/admin/webhooks/{id}/deliveries?limit=1000"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let log = log.as_array().unwrap();
    let first_event = events(&receiver)[0]["id"].clone();
    let tries: Vec<(u64, u64, &str)> = log
        .iter()
        .rev()
        .filter(|attempt| attempt["event_id"] == first_event)
        .map(|a| {
            (
                a["attempt"].as_u64().unwrap(),
                a["http_status"].as_u64().unwrap(),
                a["result"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        tries,
        [
            (1, 500, "failed"),
            (2, 503, "failed"),
            (3, 500, "failed"),
            (4, 429, "failed"),
            (5, 200, "delivered")
        ],
        "one event, tried until it got through; the id stayed the same"
    );
    let waited = log
        .iter()
        .rev()
        .filter(|a| a["event_id"] == first_event)
        .collect::<Vec<_>>();
    let at = |n: usize| humantime::parse_rfc3339(waited[n]["at"].as_str().unwrap()).unwrap();
    assert!(
        at(4).duration_since(at(3)).unwrap() >= Duration::from_millis(950),
        "Retry-After: 1 was honoured"
    );
    assert_eq!(
        app.api
            .metric("mercato_webhook_deliveries_total{result=\"failed\"}")
            .await,
        4.0
    );
}

#[actix_web::test]
async fn gone_or_a_spent_schedule_disables_the_endpoint() {
    let app = app_with_fast_retries().await;
    let (gone_url, gone) = receiver::start();
    gone.lock().unwrap().script = [(410, None)].into_iter().collect();
    let (down_url, down) = receiver::start();
    down.lock().unwrap().script = std::iter::repeat_n((500, None), 50).collect();
    let gone_id = register(&app.api, &gone_url, &["*"], &gone).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let down_id = register(&app.api, &down_url, &["*"], &down).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.api.create_category("Tea", "tea", None).await;
    for (id, why) in [(gone_id, "410 Gone"), (down_id, "5 attempts failed")] {
        let disabled = eventually(WAIT, || async {
            let endpoint: Value = app
                .api
                .admin(Method::GET, &format!("/v1/admin/webhooks/{id}"), None)
                .await
                .json()
                .await
                .unwrap();
            (endpoint["status"] == "disabled").then_some(endpoint)
        })
        .await;
        let reason = disabled["disabled_reason"].as_str().unwrap();
        assert!(reason.contains(why), "{reason}");
    }
    assert_eq!(gone.lock().unwrap().requests, 1);
    assert_eq!(down.lock().unwrap().requests, 5, "one try and four retries");
    // Counted once the disabling is durable, a moment after the endpoint shows it.
    eventually(WAIT, || async {
        let disabled = app.api.metric("mercato_webhook_endpoints_disabled_total").await;
        let shown = app.api.metric("mercato_webhook_endpoints{status=\"disabled\"}").await;
        (disabled == 2.0 && shown == 2.0).then_some(())
    })
    .await;
}

#[actix_web::test]
async fn a_forged_tampered_or_stale_delivery_is_what_the_receiver_refuses() {
    let app = app_with_fast_retries().await;
    let (url, receiver) = receiver::start();
    let secret = register(&app.api, &url, &["category.created"], &receiver).await["secret"]
        .as_str()
        .unwrap()
        .to_string();
    app.api.create_category("Tea", "tea", None).await;
    eventually(WAIT, || async { (!events(&receiver).is_empty()).then_some(()) }).await;
    let delivery = receiver.lock().unwrap().accepted[0].clone();
    assert!(verify(&secret, &delivery.body, &delivery.headers).is_ok());
    let forged = "whsec_".to_string() + "A".repeat(32).as_str();
    assert!(
        verify(&forged, &delivery.body, &delivery.headers).is_err(),
        "another secret"
    );
    let mut tampered = delivery.body.clone();
    tampered[10] ^= 1;
    assert!(verify(&secret, &tampered, &delivery.headers).is_err(), "a changed body");
    let mut stale = delivery.headers.clone();
    let sent: i64 = stale["webhook-timestamp"].to_str().unwrap().parse().unwrap();
    stale.insert("webhook-timestamp", (sent - 600).to_string().parse().unwrap());
    assert!(verify(&secret, &delivery.body, &stale).is_err(), "ten minutes old");
}

#[actix_web::test]
async fn a_rotated_secret_and_the_old_one_both_sign_during_the_overlap() {
    let app = app_with_fast_retries().await;
    let (url, receiver) = receiver::start();
    let endpoint = register(&app.api, &url, &["category.created"], &receiver).await;
    let old = endpoint["secret"].as_str().unwrap().to_string();
    let id = endpoint["id"].as_str().unwrap();
    let rotated: Value = app
        .api
        .admin(Method::POST, &format!("/v1/admin/webhooks/{id}/rotate-secret"), None)
        .await
        .json()
        .await
        .unwrap();
    let new = rotated["secret"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    app.api.create_category("Tea", "tea", None).await;
    eventually(WAIT, || async { (!events(&receiver).is_empty()).then_some(()) }).await;
    let delivery = receiver.lock().unwrap().accepted[0].clone();
    let signatures = delivery.headers["webhook-signature"].to_str().unwrap().to_string();
    assert_eq!(signatures.split(' ').count(), 2, "{signatures}");
    assert!(verify(&new, &delivery.body, &delivery.headers).is_ok());
    assert!(verify(&old, &delivery.body, &delivery.headers).is_ok());
}

#[actix_web::test]
async fn one_event_or_a_range_can_be_replayed() {
    let app = app_with_fast_retries().await;
    let (url, receiver) = receiver::start();
    let id = register(&app.api, &url, &["category.created"], &receiver).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    for (name, slug) in [("Tea", "tea"), ("Coffee", "coffee")] {
        app.api.create_category(name, slug, None).await;
    }
    let first = eventually(WAIT, || async {
        let got = events(&receiver);
        (got.len() == 2).then_some(got)
    })
    .await;
    let path = format!("/v1/admin/webhooks/{id}/replay");
    let one = app
        .api
        .admin(Method::POST, &path, Some(json!({"event_id": first[1]["id"]})))
        .await;
    assert_eq!(one.status(), StatusCode::OK);
    let answer: Value = one.json().await.unwrap();
    assert_eq!(
        (
            answer["attempt"]["result"].as_str(),
            answer["attempt"]["replay"].as_bool()
        ),
        (Some("delivered"), Some(true))
    );
    let range = app
        .api
        .admin(
            Method::POST,
            &path,
            Some(json!({"from_sequence": first[0]["sequence"]})),
        )
        .await;
    assert_eq!(range.status(), StatusCode::ACCEPTED);
    let all = eventually(WAIT, || async {
        let got = events(&receiver);
        (got.len() == 5).then_some(got)
    })
    .await;
    let ids: Vec<&Value> = all.iter().map(|e| &e["id"]).collect();
    assert_eq!(
        ids,
        [
            &first[0]["id"],
            &first[1]["id"],
            &first[1]["id"],
            &first[0]["id"],
            &first[1]["id"]
        ]
    );
    let both = app
        .api
        .admin(
            Method::POST,
            &path,
            Some(json!({"event_id": "evt_1", "from_sequence": 1})),
        )
        .await;
    assert_eq!(both.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let unknown = app
        .api
        .admin(Method::POST, &path, Some(json!({"event_id": "evt_999999"})))
        .await;
    assert_eq!(error_code(unknown).await, "event_not_found");
}

#[actix_web::test]
async fn the_guard_refuses_private_and_metadata_targets_and_admins_only_manage_endpoints() {
    let app = spawn_app_with(|_| {}).await;
    for url in [
        "http://127.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8080/x",
        "http://10.0.0.1/",
    ] {
        let refused = app
            .api
            .admin(
                Method::POST,
                "/v1/admin/webhooks",
                Some(json!({"url": url, "event_types": ["*"]})),
            )
            .await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["error"]["field"], "url", "{url}: {body}");
    }
    for (body, field) in [
        (json!({"url": "ftp://example.com/", "event_types": ["*"]}), "url"),
        (
            json!({"url": "http://93.184.216.34/", "event_types": []}),
            "event_types",
        ),
        (
            json!({"url": "http://93.184.216.34/", "event_types": ["order.teleported"]}),
            "event_types",
        ),
    ] {
        let refused = app.api.admin(Method::POST, "/v1/admin/webhooks", Some(body)).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(refused.json::<Value>().await.unwrap()["error"]["field"], field);
    }
    let customer = access(&app.api.register("cleo@example.com").await);
    let forbidden = app
        .api
        .as_user(&customer, Method::GET, "/v1/admin/webhooks", None)
        .await;
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    let missing = app
        .api
        .admin(Method::GET, "/v1/admin/webhooks/wh_0000000000000000", None)
        .await;
    assert_eq!(error_code(missing).await, "webhook_not_found");
}

#[actix_web::test]
async fn an_endpoint_can_be_changed_disabled_enabled_and_deleted() {
    let app = app_with_fast_retries().await;
    let (url, receiver) = receiver::start();
    let id = register(&app.api, &url, &["category.created"], &receiver).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/v1/admin/webhooks/{id}");
    let unknown_type = app
        .api
        .admin(Method::PATCH, &path, Some(json!({"event_types": ["order.teleported"]})))
        .await;
    assert_eq!(
        unknown_type.json::<Value>().await.unwrap()["error"]["field"],
        "event_types"
    );
    let off: Value = app
        .api
        .admin(
            Method::PATCH,
            &path,
            Some(json!({"status": "disabled", "description": "ERP"})),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (off["status"].as_str(), off["description"].as_str()),
        (Some("disabled"), Some("ERP"))
    );
    app.api.create_category("Tea", "tea", None).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(events(&receiver).is_empty(), "nothing goes to a disabled endpoint");
    app.api
        .admin(Method::PATCH, &path, Some(json!({"status": "enabled"})))
        .await;
    let got = eventually(WAIT, || async {
        let got = events(&receiver);
        (!got.is_empty()).then_some(got)
    })
    .await;
    assert_eq!(got[0]["type"], "category.created", "delivery resumed where it stopped");
    assert_eq!(
        app.api.admin(Method::DELETE, &path, None).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.api.admin(Method::GET, &path, None).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn a_kill_9_mid_delivery_loses_nothing_and_keeps_the_order() {
    let (url, receiver) = receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("MERCATO__WEBHOOKS__ALLOW_PRIVATE_TARGETS", "true"),
        ("MERCATO__CHECKOUT__SWEEP_INTERVAL", "200ms"),
        ("MERCATO__CHECKOUT__RECONCILE_AFTER", "0s"),
    ];
    let server = ServerProcess::start(dir.path(), &env);
    register(&server.api, &url, &["order.placed", "order.confirmed"], &receiver).await;
    shop(&server.api, &[("TEE", 1_000)], 1_000).await;
    let mut carts = Vec::new();
    for _ in 0..150 {
        carts.push(guest_cart_with(&server.api, &[("TEE", 1)]).await);
    }
    let (api, answered) = (server.api.clone(), AtomicUsize::new(0));
    let killer = async {
        eventually(WAIT, || async {
            (answered.load(Ordering::Relaxed) >= 40).then_some(())
        })
        .await;
        server.kill();
    };
    let (attempts, ()) = join(checkouts_until_killed(&api, &carts, 8, &answered), killer).await;
    let acknowledged: Vec<String> = attempts
        .into_iter()
        .filter_map(|(_, attempt)| match attempt {
            Attempt::Answered(_, id) => id,
            Attempt::Cut => None,
        })
        .collect();
    let _server = ServerProcess::start(dir.path(), &env);
    let got = eventually(WAIT, || async {
        let got = events(&receiver);
        let confirmed: HashSet<&str> = got
            .iter()
            .filter(|e| e["type"] == "order.confirmed")
            .filter_map(|e| e["subject"].as_str()?.strip_prefix("orders/"))
            .collect();
        acknowledged
            .iter()
            .all(|id| confirmed.contains(id.as_str()))
            .then_some(got.clone())
    })
    .await;
    // At least once; after de-duplication by id, once each and in log order.
    let mut seen = HashSet::new();
    let firsts: Vec<u64> = got
        .iter()
        .filter(|e| seen.insert(e["id"].as_str().unwrap().to_string()))
        .map(|e| e["sequence"].as_u64().unwrap())
        .collect();
    assert!(
        firsts.windows(2).all(|pair| pair[0] < pair[1]),
        "first deliveries in log order"
    );
    assert!(receiver.lock().unwrap().accepted.iter().all(|d| d.verified));
}
