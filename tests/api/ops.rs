//! Operations routes: health, readiness, metrics, OpenAPI, request ids.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::spawn_app;

#[actix_web::test]
async fn health_and_readiness_answer_ok() {
    let app = spawn_app().await;
    assert_eq!(
        app.api.get("/healthz").await.json::<Value>().await.unwrap()["status"],
        "ok"
    );
    let ready = app.api.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(ready.json::<Value>().await.unwrap()["status"], "ready");
}

/// Metrics label each request with the pattern of its route (never the path,
/// whose ids would make a label per request), `unmatched` when no route served it.
#[actix_web::test]
async fn request_metrics_name_the_route_pattern_not_the_path() {
    let app = spawn_app().await;
    app.api.set_on_hand("PAT-1", 3).await;
    let held = app
        .api
        .reserve(
            "PAT-1",
            serde_json::json!({"qty": 1, "ttl_secs": 60, "reservation_id": "r-pat"}),
        )
        .await;
    assert_eq!(held.status(), StatusCode::CREATED);
    assert_eq!(app.api.commit("PAT-1", "r-pat").await.status(), StatusCode::OK);
    let cart = app.api.post("/v1/carts", serde_json::json!({})).await;
    let cart: Value = cart.json().await.unwrap();
    let cart_id = cart["id"].as_str().unwrap();
    assert_eq!(
        app.api.get(&format!("/v1/carts/{cart_id}")).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.api.get("/v1/no/such/route/42").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.api.get("/p/999999").await.status(), StatusCode::NOT_FOUND);
    let huge = "x".repeat(17 * 1024);
    let refused = app
        .api
        .client
        .get(app.api.url("/v1/huge/headers/path"))
        .header("x-padding", huge)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);

    let text = app.api.get("/metrics").await.text().await.unwrap();
    for line in [
        r#"{method="POST",route="/v1/inventory/{sku}/reservations",status="201"} 1"#,
        r#"{method="POST",route="/v1/inventory/{sku}/reservations/{reservation_id}/commit",status="200"} 1"#,
        r#"{method="GET",route="/v1/carts/{id}",status="200"} 1"#,
        r#"{method="GET",route="unmatched",status="404"} 1"#,
        r#"{method="GET",route="/p/{id}",status="404"} 1"#,
        r#"{method="GET",route="unmatched",status="431"} 1"#,
    ] {
        let family = format!("mercato_http_requests_total{line}");
        assert!(text.contains(&family), "missing {family} in\n{text}");
    }
    for id in ["PAT-1", "r-pat", cart_id, "/v1/no/such", "/v1/huge"] {
        let labelled = text
            .lines()
            .filter(|l| l.starts_with("mercato_http"))
            .any(|l| l.contains(id));
        assert!(!labelled, "{id} appears in a label");
    }
}

#[actix_web::test]
async fn metrics_expose_the_runtime_storage_and_http_families() {
    let app = spawn_app().await;
    app.api.set_on_hand("M-1", 3).await;
    let text = app.api.get("/metrics").await.text().await.unwrap();
    for family in [
        "mercato_http_requests_total{method=\"PUT\",route=\"/v1/inventory/{sku}\",status=\"200\"} 1",
        "mercato_http_request_duration_seconds_bucket",
        "mercato_actors_active{kind=\"sku\"} 1",
        "mercato_actor_activations_total{kind=\"sku\"} 1",
        "mercato_actor_restarts_total{cause=\"panic\",kind=\"sku\"} 0",
        "mercato_actor_restarts_total{cause=\"storage\",kind=\"sku\"} 0",
        "mercato_actor_restarts_total{cause=\"operator\",kind=\"sku\"} 0",
        "mercato_actor_passivations_total{kind=\"sku\"} 0",
        "mercato_storage_flush_seconds_count",
        "mercato_storage_batch_records_count",
    ] {
        assert!(text.contains(family), "missing {family} in\n{text}");
    }
    assert!(app.api.metric("mercato_storage_flush_seconds_count").await >= 1.0);
}

#[actix_web::test]
async fn openapi_lists_every_public_route() {
    let app = spawn_app().await;
    let doc: Value = app.api.get("/openapi.json").await.json().await.unwrap();
    let expected: [(&str, &str); 78] = [
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/metrics", "get"),
        ("/openapi.json", "get"),
        ("/v1/inventory/{sku}", "get"),
        ("/v1/inventory/{sku}/events", "get"),
        ("/v1/inventory/{sku}", "put"),
        ("/v1/inventory/{sku}/adjust", "post"),
        ("/v1/inventory/{sku}/reservations", "post"),
        ("/v1/inventory/{sku}/reservations/{reservation_id}/commit", "post"),
        ("/v1/inventory/{sku}/reservations/{reservation_id}", "delete"),
        ("/v1/inventory/reservations", "post"),
        ("/v1/inventory/reservations/{reservation_id}", "get"),
        ("/v1/inventory/reservations/{reservation_id}/commit", "post"),
        ("/v1/inventory/reservations/{reservation_id}", "delete"),
        ("/v1/categories", "get"),
        ("/v1/categories", "post"),
        ("/v1/categories/{id}", "get"),
        ("/v1/categories/{id}", "patch"),
        ("/v1/categories/{id}", "delete"),
        ("/v1/products", "get"),
        ("/v1/products", "post"),
        ("/v1/products/{id}", "get"),
        ("/v1/products/{id}", "patch"),
        ("/v1/products/{id}", "delete"),
        ("/v1/products/{id}/recommendations", "get"),
        ("/v1/products/{id}/views", "post"),
        ("/v1/admin/analytics", "get"),
        ("/v1/me/recently-viewed", "get"),
        ("/v1/sessions/{session_id}/recently-viewed", "get"),
        ("/v1/admin/products/{id}/recommendations", "put"),
        ("/v1/admin/actors", "get"),
        ("/v1/admin/actors/{kind}/{id}/restart", "post"),
        ("/v1/admin/actors/{kind}/{id}/fault", "post"),
        ("/v1/admin/dead-letters", "get"),
        ("/v1/auth/register", "post"),
        ("/v1/auth/login", "post"),
        ("/v1/auth/refresh", "post"),
        ("/v1/auth/logout", "post"),
        ("/v1/me", "get"),
        ("/v1/me", "patch"),
        ("/v1/me/addresses", "get"),
        ("/v1/me/addresses", "post"),
        ("/v1/me/addresses/{id}", "patch"),
        ("/v1/me/addresses/{id}", "delete"),
        ("/v1/admin/users/{id}", "get"),
        ("/v1/admin/users/{id}", "patch"),
        ("/v1/admin/users/{id}", "delete"),
        ("/v1/carts", "post"),
        ("/v1/me/cart", "get"),
        ("/v1/carts/{id}", "get"),
        ("/v1/carts/{id}/items", "post"),
        ("/v1/carts/{id}/items/{sku}", "patch"),
        ("/v1/carts/{id}/items/{sku}", "delete"),
        ("/v1/carts/{id}/coupons", "post"),
        ("/v1/carts/{id}/coupons", "delete"),
        ("/v1/carts/{id}/ws", "get"),
        ("/v1/admin/coupons", "get"),
        ("/v1/admin/coupons", "post"),
        ("/v1/admin/coupons/{code}", "patch"),
        ("/v1/admin/coupons/{code}", "delete"),
        ("/v1/admin/promotions", "post"),
        ("/v1/admin/promotions/{id}", "delete"),
        ("/v1/carts/{id}/checkout", "post"),
        ("/v1/orders/{id}", "get"),
        ("/v1/me/orders", "get"),
        ("/v1/orders/{id}/cancel", "post"),
        ("/v1/admin/orders/{id}/transition", "post"),
        ("/v1/payments/stripe/webhook", "post"),
        ("/asyncapi.json", "get"),
        ("/v1/admin/webhooks", "get"),
        ("/v1/admin/webhooks", "post"),
        ("/v1/admin/webhooks/{id}", "get"),
        ("/v1/admin/webhooks/{id}", "patch"),
        ("/v1/admin/webhooks/{id}", "delete"),
        ("/v1/admin/webhooks/{id}/rotate-secret", "post"),
        ("/v1/admin/webhooks/{id}/deliveries", "get"),
        ("/v1/admin/webhooks/{id}/replay", "post"),
    ];
    for (path, method) in expected {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} missing from /openapi.json"
        );
    }
    let documented: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p.as_object().unwrap().len())
        .sum();
    assert_eq!(documented, expected.len(), "a documented route is not in this list");
}

#[actix_web::test]
async fn request_ids_are_echoed_or_generated() {
    let app = spawn_app().await;
    let echoed = app
        .api
        .client
        .get(app.api.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "abc-123");
    let generated = app.api.get("/healthz").await;
    let id = generated.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(id.len(), 32, "a generated id: {id}");
    let other = app.api.get("/healthz").await;
    assert_ne!(other.headers()["x-request-id"].to_str().unwrap(), id);
}
