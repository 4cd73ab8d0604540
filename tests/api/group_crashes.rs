//! Reservation groups across `kill -9` of the real binary: every acknowledged
//! hold and sale is kept, and once the steps cut short are repeated (as a
//! client repeats a request that got no answer) no group is half sold or
//! half held.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{Api, ServerProcess};

const SKUS: [&str; 4] = ["G-HOT", "G-1", "G-2", "G-3"];
const STOCK: u64 = 1_000_000;

/// The two SKUs of group `n` of a worker.
fn lines_of(worker: usize, n: usize) -> [&'static str; 2] {
    [SKUS[0], SKUS[1 + (worker + n) % 3]]
}

/// What a worker was told about its groups: `(id, lines, acknowledged
/// status)`, `None` where no answer came before the kill.
type Sent = Vec<(String, [&'static str; 2], Option<&'static str>)>;

async fn send(api: &Api, method: Method, path: &str, body: Option<Value>) -> Option<StatusCode> {
    let mut request = api
        .client
        .request(method, api.url(path))
        .bearer_auth(crate::helpers::TOKEN);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.ok().map(|response| response.status())
}

/// Groups of two lines from 16 workers, each held and then committed, until
/// the server is killed; answers what each worker was told.
async fn groups_until_killed(server: ServerProcess) -> Vec<Sent> {
    let api = server.api.clone();
    for sku in SKUS {
        api.set_on_hand(sku, STOCK).await;
    }
    let killing = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..16)
        .map(|worker| {
            let (api, killing) = (api.clone(), Arc::clone(&killing));
            actix_web::rt::spawn(async move {
                let mut sent: Sent = Vec::new();
                for n in 0.. {
                    let id = format!("w{worker}-{n}");
                    let lines = lines_of(worker, n);
                    let body = json!({"reservation_id": id, "ttl_secs": 3600,
                        "lines": lines.map(|sku| json!({"sku": sku, "qty": 1}))});
                    sent.push((id.clone(), lines, None));
                    let held = send(&api, Method::POST, "/v1/inventory/reservations", Some(body)).await;
                    match held {
                        Some(StatusCode::CREATED) => sent.last_mut().unwrap().2 = Some("held"),
                        _ if killing.load(Ordering::Acquire) => break,
                        other => panic!("group {id}: {other:?} before the kill"),
                    }
                    let path = format!("/v1/inventory/reservations/{id}/commit");
                    match send(&api, Method::POST, &path, None).await {
                        Some(StatusCode::OK) => sent.last_mut().unwrap().2 = Some("committed"),
                        _ if killing.load(Ordering::Acquire) => break,
                        other => panic!("commit {id}: {other:?} before the kill"),
                    }
                }
                sent
            })
        })
        .collect();
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    killing.store(true, Ordering::Release);
    server.kill();
    join_all(workers)
        .await
        .into_iter()
        .map(|worker| worker.unwrap())
        .collect()
}

async fn status_of(api: &Api, id: &str) -> Option<String> {
    let response = api
        .admin(Method::GET, &format!("/v1/inventory/reservations/{id}"), None)
        .await;
    if response.status() == StatusCode::NOT_FOUND {
        return None;
    }
    assert_eq!(response.status(), StatusCode::OK, "group {id}");
    let body: Value = response.json().await.unwrap();
    Some(body["status"].as_str().unwrap().to_string())
}

#[actix_web::test]
async fn acknowledged_groups_survive_kill_9_and_repeated_steps_finish_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let sent = groups_until_killed(ServerProcess::start(dir.path(), &[])).await;
    let committed_before = sent
        .iter()
        .flatten()
        .filter(|(_, _, ack)| *ack == Some("committed"))
        .count();
    assert!(committed_before > 20, "load ran: {committed_before} groups sold");

    let restarted = ServerProcess::start(dir.path(), &[]);
    let api = &restarted.api;
    let mut sold: HashMap<&str, u64> = HashMap::new();
    let mut held: HashMap<&str, u64> = HashMap::new();
    for (id, lines, acknowledged) in sent.iter().flatten() {
        let mut status = status_of(api, id).await;
        match acknowledged {
            Some("committed") => assert_eq!(status.as_deref(), Some("committed"), "sold group {id} kept"),
            Some(_) => assert!(
                matches!(status.as_deref(), Some("held" | "committing" | "committed")),
                "held group {id} kept: {status:?}"
            ),
            None => {}
        }
        // What a client does with a request that got no answer: repeat it.
        if status.as_deref() == Some("committing") {
            let path = format!("/v1/inventory/reservations/{id}/commit");
            assert_eq!(send(api, Method::POST, &path, None).await, Some(StatusCode::OK), "{id}");
            status = Some("committed".into());
        }
        if matches!(status.as_deref(), Some("reserving" | "releasing")) {
            let path = format!("/v1/inventory/reservations/{id}");
            assert_eq!(
                send(api, Method::DELETE, &path, None).await,
                Some(StatusCode::OK),
                "{id}"
            );
            status = Some("released".into());
        }
        let tally = match status.as_deref() {
            Some("committed") => &mut sold,
            Some("held") => &mut held,
            _ => continue,
        };
        for sku in lines {
            *tally.entry(sku).or_default() += 1;
        }
    }
    for sku in SKUS {
        let level = api.level(sku).await;
        let expected = (held.get(sku).copied().unwrap_or(0), sold.get(sku).copied().unwrap_or(0));
        assert_eq!(
            (level["reserved"].as_u64().unwrap(), level["sold"].as_u64().unwrap()),
            expected,
            "{sku}: exactly the held and sold groups' lines"
        );
        assert_eq!(level["on_hand"].as_u64().unwrap() + expected.1, STOCK, "{sku}");
    }
}
