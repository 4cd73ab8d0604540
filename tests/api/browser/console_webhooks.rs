//! The console's webhooks in a real browser: an admin registers an endpoint
//! (a wrong URL first), copies the secret shown once to a receiver that
//! verifies signatures, watches a failed attempt and its retry land in the
//! delivery log, sends an event again and disables the endpoint, each after a
//! confirmation; both pages fit 1280 and 768 px and pass the audit; an
//! operator gets neither the link nor the page.

use std::time::Duration;

use serde_json::json;

use super::accessibility::AUDIT;
use super::console::{account, sign_in};
use super::{available, Browser};
use crate::carts::shop;
use crate::events::receiver;
use crate::helpers::{eventually, spawn_app_with};

#[actix_web::test]
async fn an_admin_registers_an_endpoint_watches_its_deliveries_sends_one_again_and_disables_it() {
    if !available() {
        return;
    }
    let app = spawn_app_with(|settings| {
        settings.webhooks.allow_private_targets = true;
        settings.webhooks.retry_delays = vec![humantime_serde::Serde::from(Duration::from_millis(300))];
    })
    .await;
    account(&app.api, "boss@example.com", "admin").await;
    account(&app.api, "op@example.com", "operator").await;
    let (url, received) = receiver::start();
    // The first delivery fails, so the log shows a failure and its retry.
    received.lock().unwrap().script.push_back((500, None));

    let browser = Browser::open(&app.api.base, true, (1280, 900)).await;
    browser.goto("/admin/webhooks").await;
    sign_in(&browser, "boss@example.com").await;
    browser.wait_for_text("h1", "Webhooks").await;
    browser.wait_for_text("main", "No endpoint yet.").await;
    browser.fill("#url", "ftp://example.com/hooks").await;
    browser
        .click("form[action='/admin/webhooks'] button[type=submit]")
        .await;
    browser.wait_for_text(".error-summary", "The URL is refused").await;
    browser.screenshot("console-webhooks-refused").await;

    let long_url = format!("{url}/a-long-path-that-an-erp-might-give-its-receiver/with-a-token-0123456789abcdef");
    browser.fill("#url", &long_url).await;
    browser.fill("#event_types", "product.created, price.changed").await;
    browser.fill("#description", "ERP <price feed>").await;
    browser
        .click("form[action='/admin/webhooks'] button[type=submit]")
        .await;
    browser.wait_for_text(".secret", "shown this once").await;
    let secret = browser.text(".secret code").await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    received.lock().unwrap().secrets.push(secret.clone());
    // Shown once: not on the endpoint's page again, nor on the actor's page.
    // The secret is the answer to the POST: the endpoint's own page is its links' base.
    let link = browser
        .eval("return document.querySelector('.actions-list a').getAttribute('href')")
        .await;
    let endpoint_page = link.as_str().unwrap().trim_end_matches("/disable").to_string();
    for path in [endpoint_page.as_str(), "/admin/actors/webhooks/all"] {
        browser.goto(path).await;
        browser.wait_for_text("h1", "").await;
        let html = browser.eval("return document.documentElement.outerHTML").await;
        assert!(!html.as_str().unwrap().contains(&secret), "the secret on {path}");
    }
    browser.goto(&endpoint_page).await;
    browser.wait_for_text("h1", "ERP <price feed>").await;
    browser.wait_for_text(".endpoint-url", "a-long-path").await;
    browser.screenshot("console-webhook-created").await;

    // A product is created: the endpoint gets it, after one failure.
    shop(&app.api, &[("TEE", 2_500)], 10).await;
    let shared = &received;
    let delivered = eventually(Duration::from_secs(20), || async move {
        let state = shared.lock().unwrap();
        state
            .accepted
            .first()
            .map(|delivery| (delivery.verified, delivery.event.clone()))
    })
    .await;
    assert!(delivered.0, "the receiver verifies the signature");
    assert_eq!(delivered.1["type"], "product.created");
    let event_id = delivered.1["id"].as_str().unwrap().to_string();
    browser.goto("/admin/webhooks").await;
    browser.click(".webhooks-table a").await;
    let page = browser.path().await;
    for _ in 0..50 {
        if browser.text(".facts").await.contains(", 0 behind") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        browser.goto(&page).await;
    }
    browser.wait_for_text(".deliveries-table", "delivered 200").await;
    browser.wait_for_text(".deliveries-table", "failed 500").await;
    browser.wait_for_text(".deliveries-table", "scripted 500").await;
    browser.wait_for_text(".facts", ", 0 behind").await;
    browser.screenshot("console-webhook-log").await;

    browser.click(".deliveries-table tbody tr:first-child a").await;
    browser.wait_for_text("h1", &format!("Send {event_id} to")).await;
    browser.click("main form button[type=submit]").await;
    browser.wait_for_text(".notice", "Sent again").await;
    browser.wait_for_text(".deliveries-table", "(sent again)").await;
    {
        let state = received.lock().unwrap();
        let ids: Vec<_> = state.accepted.iter().map(|d| d.event["id"].clone()).collect();
        assert_eq!(ids, vec![json!(event_id), json!(event_id)], "sent again, same id");
        assert!(state.accepted.iter().all(|d| d.verified));
    }

    browser.click(".actions-list a[href$='/disable']").await;
    browser.wait_for_text("h1", "Disable").await;
    browser.click("main form button[type=submit]").await;
    browser.wait_for_text(".notice", "Disabled").await;
    browser
        .wait_for_text(".facts", "disabled by boss@example.com in the console")
        .await;
    browser.goto("/admin/webhooks").await;
    browser.wait_for_text(".webhooks-table", "Disabled").await;
    browser.screenshot("console-webhooks-list").await;

    // Both pages at 1280 and 768 px: the audit (incl. the 64 KB budget).
    let endpoint = browser
        .eval("return document.querySelector('.webhooks-table a').getAttribute('href')")
        .await;
    let endpoint = endpoint.as_str().unwrap().to_string();
    for (width, height) in [(1280, 900), (768, 1024)] {
        browser.client.set_window_size(width, height).await.unwrap();
        for (path, name) in [("/admin/webhooks", "webhooks"), (endpoint.as_str(), "webhook")] {
            browser.goto(path).await;
            browser.wait_for_text("h1", "").await;
            let problems = browser.eval(AUDIT).await;
            browser.screenshot(&format!("console-{width}-{name}")).await;
            assert_eq!(problems, json!([]), "{path} at {width} px: {problems}");
        }
    }

    // An operator: no link, no page, no action.
    browser.click("form[action='/admin/logout'] button").await;
    browser.goto("/admin/orders").await;
    sign_in(&browser, "op@example.com").await;
    browser.wait_for_text("h1", "Orders").await;
    let links = browser
        .eval("return document.querySelectorAll(\"a[href='/admin/webhooks']\").length")
        .await;
    assert_eq!(links, json!(0));
    browser.goto("/admin/webhooks").await;
    browser.wait_for_text("main", "Only admins manage webhooks").await;
    browser.close().await;
}
