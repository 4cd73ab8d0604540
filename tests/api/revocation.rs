//! Signing out reaches access tokens: after a logout, or a refresh-token reuse
//! that revokes the session, the session's access tokens are refused at once
//! (401 `session_revoked`) while the user's other sessions keep working — also
//! after a restart, for tokens issued before it.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::authz::me_status;
use crate::helpers::{access, error_code, refresh_token, spawn_app, Api, ServerProcess, PASSWORD};

async fn login(api: &Api, email: &str) -> Value {
    let response = api.login(email, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn revoked() -> (StatusCode, String) {
    (StatusCode::UNAUTHORIZED, "session_revoked".to_string())
}

#[actix_web::test]
async fn a_logout_ends_the_sessions_access_tokens_and_no_other() {
    let app = spawn_app().await;
    let first = app.api.register("rae@example.com").await;
    let second = login(&app.api, "rae@example.com").await;
    assert_eq!(me_status(&app.api, &access(&first)).await.0, StatusCode::OK);
    let logout = app
        .api
        .post("/v1/auth/logout", json!({"refresh_token": refresh_token(&first)}))
        .await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert_eq!(me_status(&app.api, &access(&first)).await, revoked());
    assert_eq!(
        me_status(&app.api, &access(&second)).await.0,
        StatusCode::OK,
        "the other session"
    );
}

#[actix_web::test]
async fn a_reused_refresh_token_ends_every_access_token_of_its_session() {
    let app = spawn_app().await;
    let session = app.api.register("sam@example.com").await;
    let rotated: Value = app.api.refresh(&refresh_token(&session)).await.json().await.unwrap();
    assert_eq!(me_status(&app.api, &access(&rotated)).await.0, StatusCode::OK);
    let replay = app.api.refresh(&refresh_token(&session)).await;
    assert_eq!(error_code(replay).await, "refresh_token_reused");
    assert_eq!(me_status(&app.api, &access(&session)).await, revoked());
    assert_eq!(
        me_status(&app.api, &access(&rotated)).await,
        revoked(),
        "the newest token too"
    );
}

#[actix_web::test]
async fn a_session_signed_out_before_a_restart_stays_signed_out() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path(), &[]);
    let out = server.api.register("tia@example.com").await;
    let kept = login(&server.api, "tia@example.com").await;
    let logout = server
        .api
        .post("/v1/auth/logout", json!({"refresh_token": refresh_token(&out)}))
        .await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert_eq!(server.terminate().code(), Some(0));

    let server = ServerProcess::start(dir.path(), &[]);
    assert_eq!(me_status(&server.api, &access(&out)).await, revoked());
    assert_eq!(me_status(&server.api, &access(&kept)).await.0, StatusCode::OK);
}
