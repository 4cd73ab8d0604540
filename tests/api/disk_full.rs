//! A full disk: writes are refused with 503 `storage_unavailable` (answered at
//! once, none left hanging), `/readyz` says why, and once space is freed the
//! server writes again by itself — no restart — keeping what it acknowledged
//! before; SIGTERM then exits 0.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::disk::disk;
use crate::helpers::{eventually, Api, ServerProcess, TOKEN};

/// Reserves one unit of FULL as `id`: the status and the body.
async fn reserve(api: &Api, client: &reqwest::Client, id: &str) -> (StatusCode, Value) {
    let answer = client
        .post(api.url("/v1/inventory/FULL/reservations"))
        .bearer_auth(TOKEN)
        .json(&json!({"qty": 1, "ttl_secs": 3600, "reservation_id": id}))
        .send()
        .await
        .expect("answered within 5 s");
    let status = answer.status();
    (status, answer.json().await.unwrap_or_default())
}

#[actix_web::test]
async fn a_full_disk_refuses_writes_then_heals_without_a_restart() {
    let Some(disk) = disk(64) else { return };
    let server = ServerProcess::start(&disk.data_dir(), &[]);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    server.api.set_on_hand("FULL", 1_000_000).await;
    assert_eq!(reserve(&server.api, &client, "before").await.0, StatusCode::CREATED);

    let filler = disk.fill();
    let attempt = AtomicUsize::new(0);
    let refused = eventually(Duration::from_secs(30), || async {
        let id = format!("full-{}", attempt.fetch_add(1, Ordering::Relaxed));
        let (status, body) = reserve(&server.api, &client, &id).await;
        (status == StatusCode::SERVICE_UNAVAILABLE).then_some(body)
    })
    .await;
    assert_eq!(refused["error"]["code"], "storage_unavailable", "{refused}");
    let ready = server.api.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(ready["error"]["code"], "not_ready");
    assert!(
        !ready["error"]["reason"].as_str().unwrap_or_default().is_empty(),
        "{ready}"
    );
    assert_eq!(server.api.metric("mercato_storage_writable").await, 0.0);
    for n in 0..20 {
        let (status, body) = reserve(&server.api, &client, &format!("while-{n}")).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    }

    std::fs::remove_file(&filler).unwrap();
    let healed = eventually(Duration::from_secs(30), || async {
        let (status, _) = reserve(&server.api, &client, "after").await;
        (status == StatusCode::CREATED).then_some(())
    });
    healed.await;
    assert_eq!(server.api.get("/readyz").await.status(), StatusCode::OK);
    assert_eq!(server.api.metric("mercato_storage_writable").await, 1.0);
    assert!(server.api.metric("mercato_storage_write_failures_total").await >= 1.0);
    let (status, _) = reserve(&server.api, &client, "before").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the reservation acknowledged before the disk filled is kept"
    );
    assert_eq!(server.terminate().code(), Some(0), "SIGTERM after healing exits 0");
}
