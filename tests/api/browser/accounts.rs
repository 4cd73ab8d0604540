//! A customer in the storefront: registers with the guest cart (it comes
//! along), checks out with the e-mail filled in, finds the order in the
//! account, keeps an address, signs out and back in.

use super::accessibility::AUDIT;
use super::shop_in_browser;

#[actix_web::test]
async fn a_customer_registers_with_the_guest_cart_orders_and_finds_it_in_the_account() {
    let Some((_app, shop, browser)) = shop_in_browser(true, (1280, 1000)).await else {
        return;
    };
    browser.goto(&format!("/p/{}", shop.jacket)).await;
    browser.click(".add-to-cart button[type=submit]").await;
    browser.wait_for_text("h1", "Your cart").await;

    browser.click(".account-link").await;
    browser.wait_for_text("h1", "Sign in").await;
    browser.click("main a[href='/register']").await;
    browser.wait_for_text("h1", "Create an account").await;
    browser.fill("#name", "Grace Hopper").await;
    browser.fill("#email", "grace@example.com").await;
    browser.fill("#password", "short").await;
    browser.click(".account-form button[type=submit]").await;
    browser.wait_for_text("#password-error", "Password").await;
    assert_eq!(
        browser.eval("return document.querySelector('#name').value").await,
        "Grace Hopper"
    );
    browser.screenshot("account-01-register-error").await;
    browser.fill("#password", "a long enough password").await;
    browser.click(".account-form button[type=submit]").await;
    browser.wait_for_text("h1", "Your account").await;
    assert_eq!(browser.text(".account-link").await, "Account");
    assert_eq!(browser.text("live-cart-count").await, "1", "the guest cart came along");

    browser.goto("/checkout").await;
    assert_eq!(
        browser.eval("return document.querySelector('#email').value").await,
        "grace@example.com"
    );
    for (field, value) in [
        ("#name", "Grace Hopper"),
        ("#line1", "1 Navy Way"),
        ("#city", "Arlington"),
        ("#postal_code", "22202"),
        ("#country", "us"),
    ] {
        browser.fill(field, value).await;
    }
    browser.click(".checkout-form button[type=submit]").await;
    browser.wait_for_text("h1", "Thank you for your order").await;
    assert!(
        !browser.path().await.contains("token="),
        "a customer's order needs no token"
    );
    let order_page = browser.path().await.replace("?placed=1", "");

    browser.goto("/account").await;
    browser.wait_for_text(".order-history", "Confirmed").await;
    browser.click("summary").await;
    for (field, value) in [
        ("#name", "Grace Hopper"),
        ("#line1", "1 Navy Way"),
        ("#city", "Arlington"),
        ("#postal_code", "22202"),
        ("#country", "US"),
    ] {
        browser.fill(field, value).await;
    }
    browser.click("details .account-form button[type=submit]").await;
    browser.wait_for_text(".address-list", "1 Navy Way").await;
    assert_eq!(
        browser.eval(AUDIT).await,
        serde_json::json!([]),
        "the account page passes the audit"
    );
    browser.screenshot("account-02-account").await;

    browser.click("form[action='/logout'] button").await;
    browser.wait_for_text(".account-link", "Sign in").await;
    browser.goto(&order_page).await;
    browser.wait_for_text("h1", "Page not found").await;

    browser.goto("/login").await;
    browser.fill("#email", "grace@example.com").await;
    browser.fill("#password", "not the password").await;
    browser.click(".account-form button[type=submit]").await;
    browser.wait_for_text(".error-summary", "not right").await;
    browser.screenshot("account-03-login-error").await;
    browser.fill("#password", "a long enough password").await;
    browser.click(".account-form button[type=submit]").await;
    browser.wait_for_text("h1", "Your account").await;
    browser.goto(&order_page).await;
    browser.wait_for_text(".order-status", "Confirmed").await;
    browser.close().await;
}
