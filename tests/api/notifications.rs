//! Order mails from the event log: written once to the outbox, and not again
//! after a restart.

use std::path::Path;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::carts::{add, new_cart, shop};
use crate::helpers::{eventually, ServerProcess};

fn mails(data_dir: &Path) -> Vec<(String, String)> {
    let Ok(entries) = std::fs::read_dir(data_dir.join("outbox")) else {
        return Vec::new();
    };
    let mut mails: Vec<(String, String)> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".eml"))
        .map(|name| {
            let text = std::fs::read_to_string(data_dir.join("outbox").join(&name)).unwrap();
            (name, text)
        })
        .collect();
    mails.sort();
    mails
}

#[actix_web::test]
async fn order_mails_are_sent_once_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path(), &[]);
    shop(&server.api, &[("TEE", 1_250)], 5).await;
    let cart = new_cart(&server.api).await["id"].as_str().unwrap().to_string();
    add(&server.api, &cart, "TEE", 2).await;
    let body = json!({
        "email": "xena@example.com",
        "shipping_address": {"name": "Xena", "line1": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "DE"}
    });
    let placed = server
        .api
        .client
        .post(server.api.url(&format!("/v1/carts/{cart}/checkout")))
        .header("idempotency-key", "k")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(placed.status(), StatusCode::CREATED);
    let order = placed.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    let confirmed = eventually(Duration::from_secs(10), || async {
        (mails(dir.path()).len() == 1).then(|| mails(dir.path()))
    })
    .await;
    let (name, text) = &confirmed[0];
    assert!(name.ends_with(&format!("-{order}-order_confirmed.eml")), "{name}");
    assert!(text.contains("To: xena@example.com"), "{text}");
    assert!(
        text.contains(&format!("Subject: Your order {order} is confirmed")),
        "{text}"
    );
    assert!(text.contains("2 x Product TEE (TEE)  2500 EUR"), "{text}");

    let transition = format!("/v1/admin/orders/{order}/transition");
    let shipped = server
        .api
        .admin(
            Method::POST,
            &transition,
            Some(json!({"to": "shipped", "tracking": "DHL-42"})),
        )
        .await;
    assert_eq!(shipped.status(), StatusCode::OK);
    let both = eventually(Duration::from_secs(10), || async {
        (mails(dir.path()).len() == 2).then(|| mails(dir.path()))
    })
    .await;
    assert!(both[1].0.ends_with("-order_shipped.eml"));
    assert!(both[1].1.contains("Tracking number: DHL-42"));
    // Once the mails are out an idle server writes nothing: the notifier's own
    // cursor moves are not news to it.
    let settled = eventually(Duration::from_secs(10), || async {
        let before = server.api.metric("mercato_storage_flush_seconds_count").await;
        actix_web::rt::time::sleep(Duration::from_millis(600)).await;
        (server.api.metric("mercato_storage_flush_seconds_count").await == before).then_some(before)
    })
    .await;
    assert!(settled > 0.0);

    assert!(server.terminate().success());
    let server = ServerProcess::start(dir.path(), &[]);
    // Let the notifier run a few polls over the whole log.
    actix_web::rt::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(mails(dir.path()), both, "no mail again after a restart");
    assert_eq!(server.api.metric("mercato_mails_sent_total").await, 0.0);
    server.kill();
    let server = ServerProcess::start(dir.path(), &[]);
    actix_web::rt::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(mails(dir.path()), both, "nor after a kill -9");
    assert_eq!(server.api.metric("mercato_mails_sent_total").await, 0.0);
}
