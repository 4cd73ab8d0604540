//! Password hashing under a burst: 200 parallel logins for unknown e-mails from
//! 200 client addresses, at the OWASP cost (19 MiB a hash). At most one hash
//! per core runs; the rest wait their turn or get 503 `busy` with Retry-After.
//! The server's memory stays bounded during the burst and comes back after it,
//! every login is answered, and none is let in.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{eventually, ServerProcess, PASSWORD};

const MIB: u64 = 1 << 20;

#[actix_web::test]
async fn two_hundred_parallel_logins_keep_memory_bounded_and_are_all_answered() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("MERCATO__RATE_LIMIT__TRUST_FORWARDED_FOR", "true")];
    let server = Arc::new(ServerProcess::start(dir.path(), &env));
    let before = server.rss_bytes();

    let (peak, done) = (Arc::new(AtomicU64::new(before)), Arc::new(AtomicBool::new(false)));
    let sampler = std::thread::spawn({
        let (server, peak, done) = (Arc::clone(&server), Arc::clone(&peak), Arc::clone(&done));
        move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(server.rss_bytes(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    });
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let logins = (0..200).map(|n| {
        let (client, url) = (client.clone(), server.api.url("/v1/auth/login"));
        async move {
            let answer = client
                .post(url)
                .header("x-forwarded-for", format!("10.0.{}.{}", n / 250, n % 250 + 1))
                .json(&json!({"email": format!("nobody{n}@example.com"), "password": PASSWORD}))
                .send()
                .await
                .expect("answered within 30 s");
            let retry_after = answer.headers().contains_key("retry-after");
            (answer.status(), retry_after)
        }
    });
    let answers = join_all(logins).await;
    done.store(true, Ordering::Relaxed);
    sampler.join().unwrap();

    let unauthorized = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::UNAUTHORIZED)
        .count();
    let busy = answers
        .iter()
        .filter(|(status, retry_after)| *status == StatusCode::SERVICE_UNAVAILABLE && *retry_after)
        .count();
    assert_eq!(
        unauthorized + busy,
        200,
        "only 401 or 503 busy with Retry-After: {answers:?}"
    );
    assert!(unauthorized > 0, "some logins were checked");
    let peak = peak.load(Ordering::Relaxed);
    assert!(
        peak < 300 * MIB,
        "peak RSS {} MiB (before: {} MiB)",
        peak / MIB,
        before / MIB
    );
    eprintln!(
        "RSS before {} MiB, peak {} MiB; {unauthorized} × 401, {busy} × 503",
        before / MIB,
        peak / MIB
    );

    // The hashes' memory goes back to the system once the burst is over.
    eventually(Duration::from_secs(10), || async {
        (server.rss_bytes() < before + 64 * MIB).then_some(())
    })
    .await;
}
