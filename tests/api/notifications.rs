//! Order mails from the event log: written once to the outbox, and not again
//! after a restart. Absence is shown by counting: after a restart a new order's
//! mail is awaited, and the notifier, which follows the log in order, has then
//! passed every older event; the sent-mails counter must read exactly one.

use std::path::{Path, PathBuf};
use std::time::Duration;

use mercato_actors::notify::mbox;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::carts::{add, new_cart, shop};
use crate::helpers::{eventually, Api, ServerProcess};

/// Checks out a new cart of one TEE for `email` and answers the order id.
pub async fn order_one(api: &Api, email: &str, key: &str) -> String {
    let cart = new_cart(api).await["id"].as_str().unwrap().to_string();
    add(api, &cart, "TEE", 1).await;
    let body = json!({
        "email": email,
        "shipping_address": {"name": "Xena", "line1": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "DE"}
    });
    let placed = api
        .client
        .post(api.url(&format!("/v1/carts/{cart}/checkout")))
        .header("idempotency-key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(placed.status(), StatusCode::CREATED);
    placed.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// After a restart: one new order's mail goes out, and it is the only mail
/// sent (nothing older was sent again before it).
async fn only_a_new_orders_mail_goes_out(api: &Api, data_dir: &Path, key: &str) -> String {
    let order = order_one(api, "yuri@example.com", key).await;
    // The file is written before the counter moves: wait for both.
    let name = eventually(Duration::from_secs(10), || async {
        let counted = api.metric("mercato_mails_sent_total").await >= 1.0;
        let written = mails(data_dir)
            .into_iter()
            .map(|(name, _)| name)
            .find(|name| name.ends_with(&format!("-{order}-order_confirmed")));
        written.filter(|_| counted)
    })
    .await;
    assert_eq!(api.metric("mercato_mails_sent_total").await, 1.0, "only {name}");
    name
}

/// The outbox's mbox files: path and text.
fn outbox_files(data_dir: &Path) -> Vec<(PathBuf, String)> {
    let Ok(entries) = std::fs::read_dir(data_dir.join("outbox")) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "mbox"))
        .filter_map(|path| Some((path.clone(), std::fs::read_to_string(path).ok()?)))
        .collect()
}

/// The event a mail answers, from its Message-ID.
fn mail_name(message: &str) -> String {
    let id = message.lines().find_map(|line| line.strip_prefix("Message-ID: <"));
    id.and_then(|id| id.strip_suffix("@mercato>"))
        .unwrap_or_default()
        .to_string()
}

/// Every mail in the outbox: the event it answers and the message, by name.
pub fn mails(data_dir: &Path) -> Vec<(String, String)> {
    let mut mails: Vec<(String, String)> = outbox_files(data_dir)
        .iter()
        .flat_map(|(_, text)| mbox::messages(text))
        .map(|message| (mail_name(&message), message))
        .collect();
    mails.sort();
    mails
}

/// The outbox file that holds mail `name`.
fn file_of(data_dir: &Path, name: &str) -> PathBuf {
    let id = format!("Message-ID: <{name}@mercato>");
    let (path, _) = (outbox_files(data_dir).into_iter())
        .find(|(_, text)| text.contains(&id))
        .unwrap_or_else(|| panic!("no outbox file holds {name}"));
    path
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
    let placed: Value = placed.json().await.unwrap();
    let order = placed["id"].as_str().unwrap().to_string();
    let placed_token = placed["order_token"].as_str().unwrap().to_string();

    let confirmed = eventually(Duration::from_secs(10), || async {
        (mails(dir.path()).len() == 1).then(|| mails(dir.path()))
    })
    .await;
    let (name, text) = &confirmed[0];
    assert!(name.ends_with(&format!("-{order}-order_confirmed")), "{name}");
    assert!(text.contains("To: xena@example.com"), "{text}");
    assert!(
        text.contains(&format!("Subject: Your order {order} is confirmed")),
        "{text}"
    );
    // "€25.00", quoted-printable as the mail is sent.
    assert!(
        text.contains("2 x Product TEE (TEE)  =E2=82=AC25.00"),
        "amounts in euros: {text}"
    );
    assert!(text.contains("Total:    =E2=82=AC25.00"), "{text}");
    assert!(
        !text.contains("Discount"),
        "no discount line without a discount: {text}"
    );
    // Quoted-printable: soft line breaks ("=\r\n") and "=" as "=3D".
    let unfolded = text.replace("=\r\n", "").replace("=\n", "");
    assert!(
        unfolded.contains(&format!("/orders/{order}?token=3D{placed_token}")),
        "the guest's link to the order page: {text}"
    );

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
    assert!(both[1].0.ends_with("-order_shipped"));
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

    // A resend replaces a file (a new one renamed over it): its time changes.
    let written_at = || {
        both.iter()
            .map(|(name, _)| {
                let path = file_of(dir.path(), name);
                std::fs::metadata(path).unwrap().modified().unwrap()
            })
            .collect::<Vec<_>>()
    };
    let first_written = written_at();

    assert!(server.terminate().success());
    let server = ServerProcess::start(dir.path(), &[]);
    let after_restart = only_a_new_orders_mail_goes_out(&server.api, dir.path(), "k2").await;
    server.kill();
    let server = ServerProcess::start(dir.path(), &[]);
    let after_kill = only_a_new_orders_mail_goes_out(&server.api, dir.path(), "k3").await;
    assert_eq!(written_at(), first_written, "the first two mails were never sent again");
    let names: Vec<String> = mails(dir.path()).into_iter().map(|(name, _)| name).collect();
    let mut expected = vec![both[0].0.clone(), both[1].0.clone(), after_restart, after_kill];
    expected.sort();
    assert_eq!(names, expected, "one mail per mail-worthy event");
}
