//! Who moved an order is in its own event log: each operator transition is
//! recorded with the operator in the same write as the transition, and a
//! refused one leaves no trace.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::carts::shop;
use crate::helpers::{error_code, spawn_app_with};
use crate::orders::{checkout, checkout_body, guest_cart_with};
use mercato_actors::order::book::timeline;
use mercato_actors::order::state::OrderEvent;

/// The `(by, action)` notes of order `id`, read from the log.
async fn notes(app: &crate::helpers::TestApp, id: &str) -> Vec<(String, String)> {
    app.orders.book().catch_up().await.unwrap();
    timeline(app.orders.book(), id)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|logged| match logged.event {
            OrderEvent::Noted { by, action, .. } => Some((by, action)),
            _ => None,
        })
        .collect()
}

#[actix_web::test]
async fn operator_transitions_are_noted_with_who_asked_and_a_refused_one_is_not() {
    let app = spawn_app_with(|settings| {
        settings.payments.manual.capture = mercato_actors::payment::Capture::Operator;
    })
    .await;
    shop(&app.api, &[("TEE", 1_000)], 5).await;
    let cart = guest_cart_with(&app.api, &[("TEE", 1)]).await;
    let placed: serde_json::Value = checkout(&app.api, &cart, Some("k"), &checkout_body("a@example.com"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(placed["status"], "awaiting_payment");
    let id = placed["id"].as_str().unwrap().to_string();
    let transition = format!("/v1/admin/orders/{id}/transition");
    let to = |status: &str| json!({"to": status, "tracking": "T-1"});

    let captured = app.api.admin(Method::POST, &transition, Some(to("paid"))).await;
    assert_eq!(
        captured.json::<serde_json::Value>().await.unwrap()["status"],
        "confirmed"
    );
    let shipped = app.api.admin(Method::POST, &transition, Some(to("shipped"))).await;
    assert_eq!(shipped.status(), StatusCode::OK);
    let refused = app.api.admin(Method::POST, &transition, Some(to("cancelled"))).await;
    assert_eq!(error_code(refused).await, "invalid_transition");

    let service = "the operator token".to_string();
    assert_eq!(
        notes(&app, &id).await,
        [(service.clone(), "paid".to_string()), (service, "shipped".to_string())],
        "the refused cancellation left no note"
    );
}
