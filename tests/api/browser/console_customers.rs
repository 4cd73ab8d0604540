//! The console's customers in a real browser: an admin finds an account,
//! sees its orders, makes it an operator and deletes another after a
//! confirmation; an operator sees no such controls and a forged post is
//! refused.

use reqwest::StatusCode;

use super::console::{account, guest_order, sign_in};
use super::{available, Browser};
use crate::carts::shop;
use crate::helpers::{spawn_app, PASSWORD};
use crate::orders::checkout_body;

#[actix_web::test]
async fn an_admin_changes_a_role_and_deletes_an_account_and_an_operator_cannot() {
    if !available() {
        return;
    }
    let app = spawn_app().await;
    account(&app.api, "boss@example.com", "admin").await;
    account(&app.api, "grace@example.com", "customer").await;
    account(&app.api, "leaving@example.com", "customer").await;
    shop(&app.api, &[("TEE", 2_500)], 10).await;
    guest_order(&app.api, &[("TEE", 1)], "someone@example.com", "k").await;
    // Grace orders while signed in, so the order is hers.
    let session: serde_json::Value = app.api.login("grace@example.com", PASSWORD).await.json().await.unwrap();
    let token = session["access_token"].as_str().unwrap().to_string();
    let cart = crate::orders::guest_cart_with(&app.api, &[("TEE", 2)]).await;
    let mine = crate::orders::checkout(
        &app.api,
        &cart,
        Some("g1"),
        &checkout_body("grace@example.com"),
        Some(&token),
    )
    .await;
    assert_eq!(mine.status(), StatusCode::CREATED);

    let browser = Browser::open(&app.api.base, true, (1280, 900)).await;
    browser.goto("/admin/customers").await;
    sign_in(&browser, "boss@example.com").await;
    browser.wait_for_text("h1", "Customers").await;
    browser.wait_for_text(".shown", "3 accounts").await;
    browser.fill("#q", "GRACE").await;
    browser.click(".filter-row button").await;
    browser.wait_for_text(".shown", "1 account").await;
    browser.click(".customers-table a").await;
    browser.wait_for_text("h1", "grace@example.com").await;
    browser.wait_for_text("main table", "€50.00").await;
    browser
        .eval("document.querySelector('#role').value = 'operator'; return null")
        .await;
    browser.click(".manage form button").await;
    browser.wait_for_text("h1", "Make grace@example.com an operator?").await;
    browser.click("main form button[type=submit]").await;
    browser.wait_for_text(".notice", "Role changed").await;
    browser.wait_for_text(".role-now", "operator").await;
    browser.screenshot("console-12-customer").await;

    browser.goto("/admin/customers?q=leaving").await;
    browser.click(".customers-table a").await;
    browser.wait_for_text("h1", "leaving@example.com").await;
    browser.click(".manage a.button-secondary").await;
    browser
        .wait_for_text("h1", "Delete the account leaving@example.com?")
        .await;
    browser.click("main form button[type=submit]").await;
    browser.wait_for_text(".shown", "2 accounts").await;
    assert_eq!(
        app.api.login("leaving@example.com", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    browser.click("form[action='/admin/logout'] button").await;
    browser.wait_for_text("h1", "Sign in to the console").await;

    // Grace is an operator now: she sees accounts, but no role or delete control.
    browser.goto("/admin/customers").await;
    sign_in(&browser, "grace@example.com").await;
    browser.wait_for_text("h1", "Customers").await;
    browser.fill("#q", "boss").await;
    browser.click(".filter-row button").await;
    browser.click(".customers-table a").await;
    browser.wait_for_text("h1", "boss@example.com").await;
    assert!(!browser.text("main").await.contains("Change the role"));
    let boss_path = browser.path().await;
    let forged = browser
        .eval(&format!(
            "const csrf = document.querySelector('input[name=csrf]').value;
             return fetch('{boss_path}/role', {{method: 'POST', body: new URLSearchParams({{csrf, role: 'customer'}})}})
               .then(r => r.status);"
        ))
        .await;
    assert_eq!(forged, 403);
    browser.goto(&boss_path).await;
    browser.wait_for_text(".role-now", "admin").await;
    browser.close().await;
}
