//! The operator console in a real browser: sign-in by role, the live actors
//! page (a fault injected and its restart seen live, a restart by button
//! with the state kept), and what a customer or a signed-out browser gets.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::accessibility::AUDIT;
use super::{available, Browser};
use crate::carts::shop;
use crate::helpers::{eventually, spawn_app, Api, TestApp, PASSWORD};
use crate::notifications::mails;
use crate::orders::{checkout, checkout_body, guest_cart_with, level};

/// Registers `email` and gives it `role` (through the admin API).
pub(super) async fn account(api: &Api, email: &str, role: &str) {
    let session = api.register(email).await;
    let id = session["user"]["id"].as_str().unwrap().to_string();
    if role != "customer" {
        let changed = api
            .admin(
                Method::PATCH,
                &format!("/v1/admin/users/{id}"),
                Some(json!({ "role": role })),
            )
            .await;
        assert_eq!(changed.status(), StatusCode::OK);
    }
}

/// Signs in at the console's form (the browser must end up at `/admin...`).
pub(super) async fn sign_in(browser: &Browser, email: &str) {
    browser.fill("#email", email).await;
    browser.fill("#password", PASSWORD).await;
    browser.click(".account-form button[type=submit]").await;
}

/// The console and a browser at `size`, an operator signed in.
pub(super) async fn console_in_browser(size: (u32, u32)) -> Option<(TestApp, Browser)> {
    if !available() {
        return None;
    }
    let app = spawn_app().await;
    account(&app.api, "op@example.com", "operator").await;
    let browser = Browser::open(&app.api.base, true, size).await;
    browser.goto("/admin").await;
    browser.wait_for_text("h1", "Sign in to the console").await;
    assert!(
        browser.path().await.contains("next=%2Fadmin"),
        "back to the console afterwards"
    );
    sign_in(&browser, "op@example.com").await;
    browser.wait_for_text("h1", "Console").await;
    Some((app, browser))
}

/// A guest's order of `lines`: its id and order token.
pub(super) async fn guest_order(api: &Api, lines: &[(&str, u32)], email: &str, key: &str) -> (String, String) {
    let cart = guest_cart_with(api, lines).await;
    let placed: serde_json::Value = checkout(api, &cart, Some(key), &checkout_body(email), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(placed["status"], "confirmed", "{placed}");
    (
        placed["id"].as_str().unwrap().to_string(),
        placed["order_token"].as_str().unwrap().to_string(),
    )
}

#[actix_web::test]
async fn an_operator_ships_an_order_a_customer_just_placed_and_refunds_another_exactly_once() {
    let Some((app, browser)) = console_in_browser((1280, 900)).await else {
        return;
    };
    shop(&app.api, &[("TEE", 2_500), ("MUG", 1_200)], 10).await;
    let (shipped, token) = guest_order(&app.api, &[("TEE", 2)], "ada@example.com", "k1").await;
    let (refunded, _) = guest_order(&app.api, &[("MUG", 3)], "bob@example.com", "k2").await;
    assert_eq!(level(&app.api, "MUG").await, (7, 0, 3));

    // The home page shows both orders live, without a reload.
    browser.wait_for_text("live-region", "€86.00").await;
    browser.wait_for_text(".waiting li:nth-child(2) .count", "2").await;
    browser.screenshot("console-05-home-with-orders").await;

    browser.click(".console-nav a[href='/admin/orders']").await;
    browser.wait_for_text(".orders-table", "ada@example.com").await;
    browser.fill("#q", "ada@example.com").await;
    browser.click(".filter-row button").await;
    browser.wait_for_text(".shown", "1 order").await;
    browser.screenshot("console-06-orders").await;
    browser
        .click(&format!(".orders-table a[href='/admin/orders/{shipped}']"))
        .await;
    browser.wait_for_text("h1", &format!("Order {}", &shipped[..8])).await;
    browser.wait_for_text(".timeline", "Confirmed: the stock is sold").await;
    browser.click(&format!("a[href='/admin/orders/{shipped}/ship']")).await;
    browser.wait_for_text("h1", "Ship for order").await;
    browser.click("main form button[type=submit]").await;
    browser.wait_for_text(".error-summary", "tracking number").await;
    browser.fill("#tracking", "DHL-00012345").await;
    browser.click("main form button[type=submit]").await;
    browser.wait_for_text(".notice", "The order is now shipped").await;
    browser
        .wait_for_text(".timeline", "Shipped, tracking number DHL-00012345")
        .await;
    browser.wait_for_text(".timeline", "by op@example.com").await;
    browser.screenshot("console-07-order-shipped").await;

    let order = app.api.order(&shipped).await;
    assert_eq!(order["status"], "shipped");
    assert_eq!(order["tracking"], "DHL-00012345");
    browser.goto(&format!("/orders/{shipped}?token={token}")).await;
    browser.wait_for_text(".order-status", "Shipped").await;
    let dir = app._dir.path().to_path_buf();
    eventually(std::time::Duration::from_secs(10), || {
        let dir = dir.clone();
        async move {
            mails(&dir)
                .iter()
                .any(|(_, text)| text.contains("DHL-00012345") && text.contains("ada@example.com"))
                .then_some(())
        }
    })
    .await;

    browser.goto(&format!("/admin/orders/{refunded}")).await;
    browser
        .click(&format!("a[href='/admin/orders/{refunded}/refund']"))
        .await;
    browser.wait_for_text("h1", "Cancel and refund for order").await;
    browser.click("main form button[type=submit]").await;
    browser.wait_for_text(".notice", "Cancelled and refunded").await;
    browser.wait_for_text(".order-head", "refunded").await;
    browser
        .wait_for_text(".timeline", "The sold units are back in stock")
        .await;
    assert_eq!(level(&app.api, "MUG").await, (10, 0, 0), "the 3 units came back");
    // A second refund is not offered, and a forged one is refused: still once.
    assert!(!browser.text("main").await.contains("Cancel and refund…"));
    let again = browser
        .eval(&format!(
            "const csrf = document.querySelector('input[name=csrf]').value;
             return fetch('/admin/orders/{refunded}/refund', {{method: 'POST', body: new URLSearchParams({{csrf}})}})
               .then(r => r.status);"
        ))
        .await;
    assert_eq!(again, 404);
    assert_eq!(level(&app.api, "MUG").await, (10, 0, 0), "restocked exactly once");
    browser.screenshot("console-08-order-refunded").await;
    browser.close().await;
}

#[actix_web::test]
async fn an_operator_watches_a_fault_restart_an_actor_live_and_restarts_another_by_button() {
    let Some((app, browser)) = console_in_browser((1280, 900)).await else {
        return;
    };
    app.api.set_on_hand("K-FAULT", 5).await;
    app.api.set_on_hand("K-KEEP", 7).await;
    browser.wait_for_text(".console-nav [aria-current=page]", "Home").await;
    browser.wait_for_text("live-region", "Active actors").await;
    // 5 available is low (at most 5), 7 is not; the card updates live.
    browser.wait_for_text(".low-stock", "K-FAULT").await;
    assert!(!browser.text(".low-stock").await.contains("K-KEEP"));

    browser.goto("/admin/actors?kind=sku").await;
    browser.wait_for_text("live-region", "K-KEEP").await;
    browser.click("live-region a[href='/admin/actors/sku/K-FAULT']").await;
    browser.wait_for_text("h1", "sku/K-FAULT").await;
    browser.wait_for_text(".state-view", "on_hand: 5").await;
    browser
        .wait_for_text(".latest-events", "OnHandSet { on_hand: 5 }")
        .await;
    browser.click("a[href='/admin/actors/sku/K-FAULT/fault']").await;
    browser.wait_for_text("h1", "Arm the fault for sku/K-FAULT?").await;
    browser.click("main form button[type=submit]").await;
    browser
        .wait_for_text(".notice", "next message to this actor panics")
        .await;
    browser.wait_for_text("live-region[data-state=live]", "running").await;

    let refused = app.api.reserve("K-FAULT", json!({"qty": 1, "ttl_secs": 60})).await;
    assert_eq!(
        refused.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "the armed message panics"
    );
    browser.wait_for_text("live-region tbody", "panic").await;
    browser.wait_for_text("live-region", "K-FAULT panic").await;
    browser
        .wait_for_text("live-region tbody tr td:nth-child(3)", "running")
        .await;
    let cells = browser
        .eval("return [...document.querySelectorAll('live-region tbody tr td')].map(td => td.textContent.trim())")
        .await;
    // Kind, id, status, mailbox, restarts, last restart's cause.
    let first_six: Vec<&str> = cells
        .as_array()
        .unwrap()
        .iter()
        .take(6)
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(first_six, ["sku", "K-FAULT", "running", "0", "1", "panic"], "{cells}");
    browser.screenshot("console-01-actor-after-fault").await;
    assert_eq!(app.api.level("K-FAULT").await["on_hand"], 5, "its state came back");

    browser.goto("/admin/actors/sku/K-KEEP").await;
    browser.click("a[href='/admin/actors/sku/K-KEEP/restart']").await;
    browser.wait_for_text("h1", "Restart now for sku/K-KEEP?").await;
    browser.screenshot("console-02-confirm-restart").await;
    browser.click("main form button[type=submit]").await;
    browser.wait_for_text(".notice", "Restart requested").await;
    browser.wait_for_text("live-region tbody", "operator").await;
    assert_eq!(
        app.api.level("K-KEEP").await["on_hand"],
        7,
        "its state survived the restart"
    );
    assert_eq!(
        app.api
            .metric("mercato_actor_restarts_total{cause=\"operator\",kind=\"sku\"}")
            .await,
        1.0
    );
    // A user's events may carry its password hash: they stay off the page.
    browser.goto("/admin/actors?kind=user").await;
    browser.click("live-region tbody a").await;
    browser.wait_for_text("main", "keeps its events off the console").await;
    browser.goto("/admin/actors").await;
    browser.wait_for_text("live-region", "K-KEEP operator").await;
    browser.screenshot("console-03-actors").await;
    browser.close().await;
}

#[actix_web::test]
async fn a_customer_and_a_signed_out_browser_get_no_console_page_and_no_action() {
    if !available() {
        return;
    }
    let app = spawn_app().await;
    account(&app.api, "shopper@example.com", "customer").await;
    app.api.set_on_hand("K-SAFE", 3).await;
    let browser = Browser::open(&app.api.base, true, (1280, 900)).await;

    browser.goto("/admin/actors/sku/K-SAFE").await;
    browser.wait_for_text("h1", "Sign in to the console").await;
    sign_in(&browser, "shopper@example.com").await;
    browser.wait_for_text(".error-summary", "customer account").await;
    browser.screenshot("console-04-customer-refused").await;

    // Signed in to the shop, the customer still gets no console page.
    browser.goto("/login").await;
    browser.fill("#email", "shopper@example.com").await;
    browser.fill("#password", PASSWORD).await;
    browser.click(".account-form button[type=submit]").await;
    browser.wait_for_text("h1", "Your account").await;
    for path in ["/admin", "/admin/actors", "/admin/actors/sku/K-SAFE/restart"] {
        browser.goto(path).await;
        browser.wait_for_text("h1", "Not allowed").await;
    }
    browser.wait_for_text("main", "Back to the console").await;
    browser.screenshot("console-04b-not-allowed").await;
    // A forged form post with the customer's own valid CSRF token.
    browser.goto("/account").await;
    let forged = browser
        .eval(
            "const csrf = document.querySelector('input[name=csrf]').value;
             return fetch('/admin/actors/sku/K-SAFE/restart', {method: 'POST', body: new URLSearchParams({csrf})})
               .then(r => r.status);",
        )
        .await;
    assert_eq!(forged, 403);
    let listed = app.api.admin(Method::GET, "/v1/admin/actors?kind=sku", None).await;
    let actors: serde_json::Value = listed.json().await.unwrap();
    assert_eq!(actors[0]["restarts"], 0, "no restart happened: {actors}");

    // Signed out, a post is refused and a page sends to the sign-in.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let post = client
        .post(app.api.url("/admin/actors/sku/K-SAFE/restart"))
        .form(&[("csrf", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::FORBIDDEN);
    let page = client.get(app.api.url("/admin/actors")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(page.headers()["location"], "/admin/login?next=%2Fadmin%2Factors");
    let live = client.get(app.api.url("/admin/live")).send().await.unwrap();
    assert_eq!(live.status(), StatusCode::SEE_OTHER, "no live figures either");
    browser.close().await;
}

#[actix_web::test]
async fn console_pages_fit_1280_and_768_pixels_and_pass_the_audit() {
    for (width, height) in [(1280, 900), (768, 1024)] {
        let Some((app, browser)) = console_in_browser((width, height)).await else {
            return;
        };
        app.api
            .set_on_hand("A-VERY-LONG-SKU-IDENTIFIER-THAT-COULD-PUSH-THE-TABLE-WIDE", 1)
            .await;
        shop(&app.api, &[("TEE", 2_500)], 10).await;
        let customer = "a-rather-long-address-for-a-customer@example.com";
        let (id, _) = guest_order(&app.api, &[("TEE", 1)], customer, "k").await;
        let order = format!("/admin/orders/{id}");
        for path in [
            "/admin",
            "/admin/actors",
            "/admin/actors?kind=sku",
            "/admin/actors/sku/A-VERY-LONG-SKU-IDENTIFIER-THAT-COULD-PUSH-THE-TABLE-WIDE",
            "/admin/actors/sku/A-VERY-LONG-SKU-IDENTIFIER-THAT-COULD-PUSH-THE-TABLE-WIDE/restart",
            "/admin/orders",
            order.as_str(),
            &format!("{order}/ship"),
            "/admin/products",
            "/admin/products/new",
            "/admin/products/1",
            "/admin/categories",
            "/admin/inventory?sku=TEE",
            "/admin/customers",
        ] {
            browser.goto(path).await;
            browser.wait_for_text("h1", "").await;
            let problems = browser.eval(AUDIT).await;
            let name = path
                .trim_start_matches('/')
                .replace(['/', '?', '='], "-")
                .replace("A-VERY-LONG-SKU-IDENTIFIER-THAT-COULD-PUSH-THE-TABLE-WIDE", "long")
                .replace(&id, "one");
            browser.screenshot(&format!("console-{width}-{name}")).await;
            assert_eq!(problems, json!([]), "{path} at {width} px: {problems}");
        }
        // The admins' pages: the operator is made an admin (from the next request on).
        let session = app.api.login("op@example.com", PASSWORD).await;
        let user = session.json::<serde_json::Value>().await.unwrap()["user"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let promoted = app
            .api
            .admin(
                Method::PATCH,
                &format!("/v1/admin/users/{user}"),
                Some(json!({"role": "admin"})),
            )
            .await;
        assert_eq!(promoted.status(), StatusCode::OK);
        let coupon = json!({"code": "A-VERY-LONG-COUPON-CODE-12345", "percent": 10});
        let created = app.api.admin(Method::POST, "/v1/admin/coupons", Some(coupon)).await;
        assert_eq!(created.status(), StatusCode::CREATED);
        for path in ["/admin/coupons".to_string(), format!("/admin/customers/{user}")] {
            browser.goto(&path).await;
            browser.wait_for_text("h1", "").await;
            let problems = browser.eval(AUDIT).await;
            let name = path.trim_start_matches('/').replace('/', "-").replace(&user, "one");
            browser.screenshot(&format!("console-{width}-{name}")).await;
            assert_eq!(problems, json!([]), "{path} at {width} px: {problems}");
        }
        browser.goto("/admin/login").await;
        browser.wait_for_text("h1", "").await;
        assert_eq!(browser.eval(AUDIT).await, json!([]), "login at {width} px");
        browser.close().await;
    }
}
