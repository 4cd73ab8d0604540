//! Order mails through SMTP, against the fake relay: a mail the relay refuses
//! for good (550) is set aside and later mails go on; a mail it refuses for now
//! (451) is retried from that mail on, so the mails of the same batch that went
//! out before it are not sent again; a relay that is down holds every mail back
//! until it is up, then each goes out once.

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use crate::carts::shop;
use crate::helpers::{eventually, spawn_app_with};
use crate::notifications::order_one;
use crate::smtp_sink::smtp_sink;

#[actix_web::test]
async fn each_mail_goes_out_once_and_a_refused_one_is_set_aside() {
    let (relay_address, relay) = smtp_sink().await;
    let app = spawn_app_with(|settings| {
        settings.mail.smtp_relay = relay_address;
        settings.mail.poll_interval = Duration::from_millis(50);
    })
    .await;
    shop(&app.api, &[("TEE", 1_000)], 50).await;

    // Down while three orders confirm, so that their mails form one batch.
    relay.lock().unwrap().down = true;
    relay.lock().unwrap().fail_once = vec!["b@example.com".into()];
    let mut orders = Vec::new();
    for (n, email) in ["a@example.com", "b@example.com", "refuse@example.com", "c@example.com"]
        .iter()
        .enumerate()
    {
        orders.push(order_one(&app.api, email, &format!("k{n}")).await);
    }
    relay.lock().unwrap().down = false;

    eventually(Duration::from_secs(20), || async {
        let delivered = relay.lock().unwrap().delivered.clone();
        delivered.contains(&"c@example.com".to_string()).then_some(())
    })
    .await;
    // Give a wrongly resent mail the time to arrive.
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    let delivered = relay.lock().unwrap().delivered.clone();
    assert_eq!(
        delivered,
        ["a@example.com", "b@example.com", "c@example.com"],
        "each once, in order"
    );

    let dead: Value = app
        .api
        .admin(Method::GET, "/v1/admin/dead-letters", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(dead["total"], 1, "{dead}");
    assert_eq!(dead["letters"][0]["subject"], format!("order/{}", orders[2]));
    assert!(dead["letters"][0]["reason"].as_str().unwrap().contains("550"), "{dead}");
}
