//! Accounts across restarts of the real binary, and `mercato users add`.

use std::io::Write as _;
use std::process::{Command, Stdio};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{access, error_code, refresh_token, ServerProcess, PASSWORD};

#[actix_web::test]
async fn a_kill_9_keeps_users_tokens_and_refresh_state() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path(), &[]);
    let session = server.api.register("mia@example.com").await;
    let r1 = refresh_token(&session);
    let rotated: Value = server.api.refresh(&r1).await.json().await.unwrap();
    let r2 = refresh_token(&rotated);
    let token = access(&rotated);
    server.kill();

    let server = ServerProcess::start(dir.path(), &[]);
    let me = server.api.as_user(&token, Method::GET, "/v1/me", None).await;
    assert_eq!(me.status(), StatusCode::OK, "the signing key survived the restart");
    assert_eq!(
        server.api.login("mia@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );
    let replay = server.api.refresh(&r1).await;
    assert_eq!(
        error_code(replay).await,
        "refresh_token_reused",
        "the rotation survived the restart"
    );
    assert_eq!(
        server.api.refresh(&r2).await.status(),
        StatusCode::UNAUTHORIZED,
        "so did the revocation"
    );
    let taken = server
        .api
        .post(
            "/v1/auth/register",
            json!({"email": "mia@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        taken.status(),
        StatusCode::CONFLICT,
        "the e-mail claim survived the restart"
    );
}

fn users_add(data_dir: &std::path::Path, email: &str, role: &str, password: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mercato"))
        .args(["users", "add", "--email", email, "--role", role, "--data-dir"])
        .arg(data_dir)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mercato users add starts");
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    child.wait_with_output().unwrap()
}

#[actix_web::test]
async fn users_add_creates_the_first_admin_offline() {
    let dir = tempfile::tempdir().unwrap();
    let created = users_add(dir.path(), "Root@Example.com", "admin", PASSWORD);
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    assert!(String::from_utf8_lossy(&created.stdout).contains("created admin root@example.com"));
    let weak = users_add(dir.path(), "weak@example.com", "admin", "short");
    assert!(!weak.status.success());
    let stderr = String::from_utf8_lossy(&weak.stderr);
    assert!(stderr.contains("passwords must be"));
    assert!(
        !stderr.contains("actors still running"),
        "the background loops stop before the actors, so none is woken again and it exits at once: {stderr}"
    );
    let duplicate = users_add(dir.path(), "root@example.com", "admin", PASSWORD);
    assert!(!duplicate.status.success());

    let server = ServerProcess::start(dir.path(), &[]);
    let login = server.api.login("root@example.com", PASSWORD).await;
    assert_eq!(login.status(), StatusCode::OK);
    let session: Value = login.json().await.unwrap();
    assert_eq!(session["user"]["role"], "admin");
    let path = format!("/v1/admin/users/{}", session["user"]["id"].as_str().unwrap());
    let admin_route = server.api.as_user(&access(&session), Method::GET, &path, None).await;
    assert_eq!(admin_route.status(), StatusCode::OK);
}
