//! Supervision and passivation seen from outside: an injected panic, an operator
//! restart, an idle actor that is stopped and comes back with its state, and a
//! full mailbox that refuses with 503 instead of queueing without bound.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{error_code, eventually, spawn_app, spawn_app_with, Api};

async fn listed(api: &Api, id: &str) -> Option<Value> {
    let actors: Value = api
        .admin(Method::GET, "/v1/admin/actors?kind=sku&limit=10000", None)
        .await
        .json()
        .await
        .unwrap();
    actors
        .as_array()
        .unwrap()
        .iter()
        .find(|actor| actor["id"] == id)
        .cloned()
}

#[actix_web::test]
async fn a_panicking_actor_restarts_with_its_state_while_others_keep_serving() {
    let app = spawn_app().await;
    app.api.set_on_hand("FRAGILE", 10).await;
    app.api
        .reserve(
            "FRAGILE",
            json!({"qty": 3, "ttl_secs": 600, "reservation_id": "keep-me"}),
        )
        .await;
    app.api.set_on_hand("STEADY", 7).await;

    // Another SKU is read continuously while the fragile one fails.
    let stop = Arc::new(AtomicBool::new(false));
    let steady_ok = Arc::new(AtomicUsize::new(0));
    let reader = {
        let (api, stop, steady_ok) = (app.api.clone(), Arc::clone(&stop), Arc::clone(&steady_ok));
        actix_web::rt::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let response = api.get("/v1/inventory/STEADY").await;
                assert_eq!(response.status(), StatusCode::OK, "the other SKU kept serving");
                steady_ok.fetch_add(1, Ordering::Relaxed);
            }
        })
    };

    let fault = app
        .api
        .admin(Method::POST, "/v1/admin/actors/sku/FRAGILE/fault", None)
        .await;
    assert_eq!(fault.status(), StatusCode::ACCEPTED);
    let failed = app.api.get("/v1/inventory/FRAGILE").await;
    assert_eq!(failed.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(failed.headers()["retry-after"], "1");
    assert_eq!(error_code(failed).await, "actor_restarting");

    let level = eventually(Duration::from_secs(5), || async {
        let response = app.api.get("/v1/inventory/FRAGILE").await;
        match response.status() {
            StatusCode::OK => Some(response.json::<Value>().await.unwrap()),
            _ => None,
        }
    })
    .await;
    assert_eq!(
        level,
        json!({"sku": "FRAGILE", "on_hand": 10, "reserved": 3, "available": 7, "sold": 0})
    );
    let replay = app
        .api
        .reserve(
            "FRAGILE",
            json!({"qty": 3, "ttl_secs": 600, "reservation_id": "keep-me"}),
        )
        .await;
    assert_eq!(replay.status(), StatusCode::OK, "the reservation survived the restart");

    stop.store(true, Ordering::Relaxed);
    reader.await.unwrap();
    assert!(steady_ok.load(Ordering::Relaxed) > 0);
    assert_eq!(
        app.api
            .metric("mercato_actor_restarts_total{cause=\"panic\",kind=\"sku\"}")
            .await,
        1.0
    );
    assert_eq!(
        app.api
            .metric("mercato_actor_restarts_total{cause=\"operator\",kind=\"sku\"}")
            .await,
        0.0
    );
    let actor = listed(&app.api, "FRAGILE").await.expect("listed");
    assert_eq!(actor["restarts"], 1);
    assert_eq!(actor["last_restart_cause"], "panic");
    assert_eq!(actor["status"], "running");
    assert_eq!(listed(&app.api, "STEADY").await.expect("listed")["restarts"], 0);
}

#[actix_web::test]
async fn an_operator_restart_reloads_the_persisted_state() {
    let app = spawn_app().await;
    app.api.set_on_hand("RELOAD", 9).await;
    let restart = app
        .api
        .admin(Method::POST, "/v1/admin/actors/sku/RELOAD/restart", None)
        .await;
    assert_eq!(restart.status(), StatusCode::ACCEPTED);
    assert_eq!(app.api.level("RELOAD").await["on_hand"], 9);
    let actor = listed(&app.api, "RELOAD").await.expect("listed");
    assert_eq!(actor["restarts"], 1);
    assert_eq!(actor["last_restart_cause"], "operator");
    assert_eq!(
        app.api
            .metric("mercato_actor_restarts_total{cause=\"operator\",kind=\"sku\"}")
            .await,
        1.0
    );
}

#[actix_web::test]
async fn fault_injection_does_not_exist_unless_enabled() {
    let app = spawn_app_with(|settings| settings.testing.fault_injection = false).await;
    let fault = app.api.admin(Method::POST, "/v1/admin/actors/sku/X/fault", None).await;
    assert_eq!(fault.status(), StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn an_idle_actor_is_passivated_and_comes_back_with_its_state() {
    let app = spawn_app_with(|settings| settings.runtime.idle_timeout = Duration::from_millis(300)).await;
    app.api.set_on_hand("SLEEPY", 12).await;
    app.api.reserve("SLEEPY", json!({"qty": 5, "ttl_secs": 600})).await;
    assert!(listed(&app.api, "SLEEPY").await.is_some());

    eventually(Duration::from_secs(5), || async {
        let gone = listed(&app.api, "SLEEPY").await.is_none();
        let stopped = app.api.metric("mercato_actors_active{kind=\"sku\"}").await == 0.0;
        (gone && stopped).then_some(())
    })
    .await;
    assert_eq!(
        app.api.metric("mercato_actor_passivations_total{kind=\"sku\"}").await,
        1.0
    );

    let catalog: Value = app
        .api
        .admin(Method::GET, "/v1/admin/actors?kind=catalog", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(catalog[0]["id"], "main", "the catalog is kept alive, never passivated");

    let level = app.api.level("SLEEPY").await;
    assert_eq!(
        level,
        json!({"sku": "SLEEPY", "on_hand": 12, "reserved": 5, "available": 7, "sold": 0})
    );
    assert_eq!(
        app.api.metric("mercato_actor_activations_total{kind=\"sku\"}").await,
        2.0
    );
}

#[actix_web::test]
async fn a_full_mailbox_answers_503_actor_overloaded_and_loses_nothing_it_accepted() {
    let app = spawn_app_with(|settings| settings.runtime.mailbox_capacity = 2).await;
    app.api.set_on_hand("BUSY", 1_000).await;
    let attempts = (0..64).map(|n| {
        let api = app.api.clone();
        async move {
            let body = json!({"qty": 1, "ttl_secs": 600, "reservation_id": format!("r{n}")});
            let response = api.reserve("BUSY", body).await;
            let status = response.status();
            let retry_after = response.headers().get("retry-after").cloned();
            let code = match status {
                StatusCode::CREATED => String::new(),
                _ => error_code(response).await,
            };
            (status, retry_after, code)
        }
    });
    let mut accepted = 0;
    let mut overloaded = 0;
    for (status, retry_after, code) in futures_util::future::join_all(attempts).await {
        match status {
            StatusCode::CREATED => accepted += 1,
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(code, "actor_overloaded");
                assert!(retry_after.is_some(), "503 says when to retry");
                overloaded += 1;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!(overloaded > 0, "64 at once overflowed a mailbox of 2");
    assert!(accepted > 0);
    let level = app.api.level("BUSY").await;
    assert_eq!(
        level["reserved"], accepted,
        "every accepted reservation is held, no refused one"
    );
}
