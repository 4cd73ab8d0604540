//! Crash and restart claims, proved with the real binary: `kill -9` in the middle
//! of reservation load loses nothing that was acknowledged, SIGTERM exits 0 after
//! flushing, and reservations expire across a restart.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{eventually, Api, ServerProcess, TOKEN};

const SKUS: [&str; 4] = ["K-HOT", "K-1", "K-2", "K-3"];
const STOCK: u64 = 1_000_000;

/// Reservations on [`SKUS`] from 32 concurrent clients for 1.5 s, then `cut`
/// (which must end the server); answers the acknowledged ones (sku, id). Any
/// refusal before the cut fails the test.
pub async fn reservations_until(server: ServerProcess, cut: impl FnOnce(ServerProcess)) -> Vec<(&'static str, String)> {
    let api = &server.api.clone();
    for sku in SKUS {
        api.set_on_hand(sku, STOCK).await;
    }
    let cutting = Arc::new(AtomicBool::new(false));
    let workers = (0..32).map(|worker| {
        let (api, cutting) = (api.clone(), Arc::clone(&cutting));
        actix_web::rt::spawn(async move {
            let mut acknowledged = Vec::new();
            for n in 0.. {
                let sku = SKUS[(worker + n) % SKUS.len()];
                let id = format!("w{worker}-{n}");
                let body = json!({"qty": 1, "ttl_secs": 3600, "reservation_id": id});
                let sent = api
                    .client
                    .post(api.url(&format!("/v1/inventory/{sku}/reservations")))
                    .bearer_auth(TOKEN)
                    .json(&body)
                    .send()
                    .await;
                match sent {
                    Ok(response) if response.status() == StatusCode::CREATED => acknowledged.push((sku, id)),
                    // Under or after the cut: not acknowledged.
                    _ if cutting.load(Ordering::Acquire) => break,
                    Ok(response) => panic!("unexpected status {} before the cut", response.status()),
                    Err(err) => panic!("no answer before the cut: {err}"),
                }
            }
            acknowledged
        })
    });
    let workers: Vec<_> = workers.collect();
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    cutting.store(true, Ordering::Release);
    cut(server);
    let acknowledged: Vec<_> = join_all(workers)
        .await
        .into_iter()
        .flat_map(|worker| worker.unwrap())
        .collect();
    assert!(
        acknowledged.len() > 100,
        "load ran: {} acknowledged",
        acknowledged.len()
    );
    acknowledged
}

/// The acknowledged reservations the restarted server at `api` has lost:
/// reserving each again by id must replay it (200), not make it anew.
pub async fn lost(api: &Api, acknowledged: &[(&'static str, String)]) -> Vec<String> {
    let mut lost = Vec::new();
    for chunk in acknowledged.chunks(64) {
        let replays = chunk.iter().map(|(sku, id)| async move {
            let response = api
                .reserve(sku, json!({"qty": 1, "ttl_secs": 3600, "reservation_id": id}))
                .await;
            (id.clone(), response.status())
        });
        lost.extend(
            join_all(replays)
                .await
                .into_iter()
                .filter(|(_, status)| *status != StatusCode::OK)
                .map(|(id, _)| id),
        );
    }
    lost
}

/// Every SKU's figures after a crash: at least the acknowledged reservations
/// held, none beyond the stock.
pub async fn check_levels(api: &Api, acknowledged: &[(&'static str, String)]) {
    for sku in SKUS {
        let level = api.level(sku).await;
        let reserved = level["reserved"].as_u64().unwrap();
        let acked_here = acknowledged.iter().filter(|(s, _)| *s == sku).count() as u64;
        assert!(
            reserved >= acked_here,
            "{sku}: reserved {reserved} < acknowledged {acked_here}"
        );
        assert_eq!(level["on_hand"].as_u64().unwrap(), STOCK, "{sku}: on_hand kept");
        assert_eq!(level["available"].as_u64().unwrap() + reserved, STOCK);
    }
}

#[actix_web::test]
async fn acknowledged_reservations_survive_kill_9_mid_load() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path(), &[]);
    let acknowledged = reservations_until(server, ServerProcess::kill).await;

    let restarted = ServerProcess::start(dir.path(), &[]);
    check_levels(&restarted.api, &acknowledged).await;
    assert_eq!(lost(&restarted.api, &acknowledged).await, Vec::<String>::new());
}

#[actix_web::test]
async fn sigterm_flushes_and_reservations_expire_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path(), &[]);
    server.api.set_on_hand("TTL", 6).await;
    let short = server
        .api
        .reserve("TTL", json!({"qty": 4, "ttl_secs": 1, "reservation_id": "short"}))
        .await;
    assert_eq!(short.status(), StatusCode::CREATED);
    let long = server
        .api
        .reserve("TTL", json!({"qty": 1, "ttl_secs": 3600, "reservation_id": "long"}))
        .await;
    assert_eq!(long.status(), StatusCode::CREATED);
    let status = server.terminate();
    assert_eq!(status.code(), Some(0), "SIGTERM exits 0");

    actix_web::rt::time::sleep(Duration::from_millis(1200)).await;
    let restarted = ServerProcess::start(dir.path(), &[]);
    let level: Value = eventually(Duration::from_secs(5), || async {
        let level = restarted.api.level("TTL").await;
        (level["reserved"] == 1).then_some(level)
    })
    .await;
    assert_eq!(
        level,
        json!({"sku": "TTL", "on_hand": 6, "reserved": 1, "available": 5, "sold": 0})
    );
}

#[actix_web::test]
async fn many_snapshots_and_restarts_keep_the_figures() {
    let dir = tempfile::tempdir().unwrap();
    // Tiny snapshot threshold: nearly every journal record also writes a snapshot.
    let env = [("MERCATO__RUNTIME__SNAPSHOT_MIN_BYTES", "1")];
    let server = ServerProcess::start(dir.path(), &env);
    server.api.set_on_hand("SNAP", 100).await;
    for i in 0..30 {
        let response = server
            .api
            .reserve(
                "SNAP",
                json!({"qty": 2, "ttl_secs": 3600, "reservation_id": format!("s{i}")}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    for i in 0..10 {
        assert_eq!(
            server.api.commit("SNAP", &format!("s{i}")).await.status(),
            StatusCode::OK
        );
    }
    let before = server.api.level("SNAP").await;
    server.kill();
    let restarted = ServerProcess::start(dir.path(), &env);
    assert_eq!(restarted.api.level("SNAP").await, before);
    assert_eq!(
        before,
        json!({"sku": "SNAP", "on_hand": 80, "reserved": 40, "available": 40, "sold": 20})
    );
}

#[actix_web::test]
async fn sigterm_keeps_every_acknowledged_write_even_under_relaxed_durability() {
    let dir = tempfile::tempdir().unwrap();
    let relaxed = [
        ("MERCATO__STORAGE__DURABILITY", "relaxed"),
        ("MERCATO__STORAGE__FLUSH_EVERY_MS", "60000"),
    ];
    let server = ServerProcess::start(dir.path(), &relaxed);
    let writes = (0..50).map(|i| {
        let api = server.api.clone();
        async move {
            let sku = format!("R-{i}");
            api.set_on_hand(&sku, 10 + i).await;
            let response = api.reserve(&sku, json!({"qty": 1, "ttl_secs": 3600})).await;
            assert_eq!(response.status(), StatusCode::CREATED);
        }
    });
    join_all(writes).await;
    assert_eq!(server.terminate().code(), Some(0));

    let restarted = ServerProcess::start(dir.path(), &[]);
    for i in 0..50u64 {
        let level = restarted.api.level(&format!("R-{i}")).await;
        assert_eq!(level["on_hand"], 10 + i);
        assert_eq!(level["reserved"], 1);
    }
}
