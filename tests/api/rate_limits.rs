//! Rate limits on the account routes, in process and shared through Redis.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{error_code, spawn_app_with, PASSWORD};

/// The Redis every machine of this project runs (CI starts or installs it).
const REDIS_URL: &str = "redis://127.0.0.1:6379";

#[actix_web::test]
async fn logins_past_the_per_account_limit_get_429_with_retry_after() {
    let app = spawn_app_with(|settings| {
        settings.rate_limit.login.per_account = 3;
        settings.rate_limit.login.per_ip = 100;
    })
    .await;
    app.api.register("kim@example.com").await;
    for _ in 0..3 {
        assert_eq!(
            app.api.login("KIM@example.com", "wrong password!").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let limited = app.api.login("kim@example.com", PASSWORD).await;
    assert_eq!(
        limited.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the right password waits too"
    );
    let retry_after: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(error_code(limited).await, "rate_limited");
    let other = app.api.login("someone@example.com", "wrong password!").await;
    assert_eq!(
        other.status(),
        StatusCode::UNAUTHORIZED,
        "other accounts are not limited"
    );
}

#[actix_web::test]
async fn registrations_past_the_per_ip_limit_get_429_and_create_nothing() {
    let app = spawn_app_with(|settings| settings.rate_limit.register.per_ip = 2).await;
    app.api.register("one@example.com").await;
    app.api.register("two@example.com").await;
    let third = app
        .api
        .post(
            "/v1/auth/register",
            json!({"email": "three@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(third.headers().contains_key("retry-after"));
    assert_eq!(
        app.api.login("three@example.com", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[actix_web::test]
async fn a_window_ends_and_attempts_are_allowed_again() {
    let app = spawn_app_with(|settings| {
        settings.rate_limit.window = std::time::Duration::from_secs(1);
        settings.rate_limit.refresh.per_ip = 2;
    })
    .await;
    for _ in 0..2 {
        assert_eq!(app.api.refresh("nonsense").await.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        app.api.refresh("nonsense").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    actix_web::rt::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(app.api.refresh("nonsense").await.status(), StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn two_nodes_with_redis_share_the_counters() {
    let prefix = format!("mercato-test:{}:", mercato_actors::account::tokens::random_id());
    let configure = |settings: &mut mercato::settings::Settings| {
        settings.redis.url = REDIS_URL.to_string().into();
        settings.redis.key_prefix = prefix.clone();
        settings.rate_limit.login.per_account = 3;
    };
    let node_a = spawn_app_with(configure).await;
    let node_b = spawn_app_with(configure).await;
    node_a.api.register("lee@example.com").await;

    assert_eq!(
        node_a.api.login("lee@example.com", "wrong password!").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        node_b.api.login("lee@example.com", "wrong password!").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        node_a.api.login("lee@example.com", "wrong password!").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let limited = node_b.api.login("lee@example.com", PASSWORD).await;
    assert_eq!(
        limited.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "node B saw node A's attempts"
    );

    let client = redis::Client::open(REDIS_URL).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let key = format!("{prefix}login:account:lee@example.com");
    let (attempts, ttl_ms): (u64, i64) = redis::pipe()
        .get(&key)
        .pttl(&key)
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(attempts, 4, "every attempt counted in Redis");
    assert!(ttl_ms > 0 && ttl_ms <= 60_000, "the window expires: {ttl_ms}");
}
