//! Shopper journeys: with JavaScript (live cart across windows, live stock),
//! without it, and a double click on "Place order".

use reqwest::Method;
use serde_json::json;

use super::{shop_in_browser, Browser};

const DESKTOP: (u32, u32) = (1280, 1000);

/// Fills the checkout form with a valid address except `postal_code`.
async fn fill_checkout(browser: &Browser, postal_code: &str) {
    for (field, value) in [
        ("#email", "ada@example.com"),
        ("#name", "Ada Lovelace"),
        ("#line1", "12 Market Street"),
        ("#city", "Berlin"),
        ("#postal_code", postal_code),
        ("#country", "DE"),
    ] {
        browser.fill(field, value).await;
    }
}

#[actix_web::test]
async fn a_shopper_searches_filters_buys_and_sees_the_cart_live_in_a_second_window() {
    let Some((app, shop, browser)) = shop_in_browser(true, DESKTOP).await else {
        return;
    };

    browser.goto("/").await;
    browser.screenshot("shopper-01-home").await;
    let home_dcl = browser.dom_content_loaded_ms().await;
    browser.fill("#site-search", "jacket").await;
    browser.click(".search-form button").await;
    browser.wait_for_text("h1", "Results for").await;
    assert_eq!(
        browser
            .eval("return document.querySelectorAll('.product-card').length")
            .await,
        3
    );
    browser.click("input[name='attr.colour'][value='red']").await;
    browser.click(".filter-form button[type=submit]").await;
    browser.wait_for_text(".chosen-filters", "colour: red").await;
    assert_eq!(
        browser
            .eval("return document.querySelectorAll('.product-card').length")
            .await,
        1
    );
    assert!(
        browser.path().await.contains("attr.colour=red"),
        "the filter is in the URL"
    );
    browser.screenshot("shopper-02-search-filtered").await;

    browser.click(".product-card a").await;
    browser.wait_for_text("h1", "Rain jacket").await;
    assert_eq!(browser.path().await, format!("/p/{}", shop.jacket));
    assert_eq!(browser.text(".product-price").await, "€89.00");
    assert_eq!(browser.text("live-stock").await, "In stock");
    let product_dcl = browser.dom_content_loaded_ms().await;
    browser.screenshot("shopper-03-product").await;
    browser.click(".add-to-cart button[type=submit]").await;
    browser.wait_for_text("h1", "Your cart").await;
    assert_eq!(browser.text("live-cart-count").await, "1");
    let first = browser.client.window().await.unwrap();

    // A second window on the same cart.
    let second = browser.client.new_window(false).await.unwrap().handle;
    browser.client.switch_to_window(second.clone()).await.unwrap();
    browser.goto("/cart").await;
    assert_eq!(browser.eval("return document.querySelector('#qty-1').value").await, "1");

    browser.client.switch_to_window(first.clone()).await.unwrap();
    browser.fill("#qty-1", "3").await;
    browser.click(".qty-form button[type=submit]").await;
    browser.wait_for_text("dd.grand", "€267.00").await;

    browser.client.switch_to_window(second).await.unwrap();
    browser.wait_for_text("live-cart-count", "3").await;
    browser.wait_for_text("dd.grand", "€267.00").await;
    browser.screenshot("shopper-04-second-window-live").await;
    browser.client.close_window().await.unwrap();
    browser.client.switch_to_window(first).await.unwrap();

    browser.fill("#coupon", "NOPE").await;
    browser.click(".coupon-form button").await;
    browser.wait_for_text("#coupon-error", "No coupon has this code.").await;
    browser.fill("#coupon", "welcome10").await;
    browser.click(".coupon-form button").await;
    browser.wait_for_text(".coupon-remove", "WELCOME10").await;
    browser.wait_for_text("dd.grand", "€240.30").await;
    browser.screenshot("shopper-05-cart-coupon").await;

    browser.click(".checkout-link").await;
    browser.wait_for_text("h1", "Checkout").await;
    fill_checkout(&browser, "!!!").await;
    browser.click(".checkout-form button[type=submit]").await;
    browser.wait_for_text(".error-summary", "There is a problem").await;
    assert!(browser.text("#postal_code-error").await.contains("Postal code"));
    assert_eq!(
        browser.eval("return document.querySelector('#email').value").await,
        "ada@example.com"
    );
    browser.screenshot("shopper-06-checkout-error").await;
    browser.fill("#postal_code", "10115").await;
    browser.click(".checkout-form button[type=submit]").await;
    browser.wait_for_text("h1", "Thank you for your order").await;
    assert_eq!(browser.text(".order-status").await, "Confirmed");
    assert!(browser.text("dd.grand").await.contains("€240.30"));
    browser.screenshot("shopper-07-confirmation").await;

    // The order page stays reachable through its link, without the session.
    let link = browser.path().await.replace("&placed=1", "");
    browser.client.delete_all_cookies().await.unwrap();
    browser.goto(&link).await;
    browser.wait_for_text(".order-status", "Confirmed").await;
    browser.screenshot("shopper-08-order-page").await;
    assert_eq!(app.api.level(shop.jacket_sku).await["sold"], 3);
    eprintln!("DOMContentLoaded: home {home_dcl:.0} ms, product {product_dcl:.0} ms");
    browser.close().await;
}

#[actix_web::test]
async fn checkout_works_without_javascript() {
    let Some((app, shop, browser)) = shop_in_browser(false, DESKTOP).await else {
        return;
    };
    browser.goto(&format!("/p/{}", shop.jacket)).await;
    let enhanced = browser
        .client
        .find_all(fantoccini::Locator::Css("quantity-input button"))
        .await
        .unwrap();
    assert!(
        enhanced.is_empty(),
        "no script ran: the quantity field has no − and + buttons"
    );
    browser.fill("#qty", "2").await;
    browser.click(".add-to-cart button[type=submit]").await;
    browser.wait_for_text("dd.grand", "€178.00").await;
    browser.screenshot("nojs-01-cart").await;
    browser.goto("/checkout").await;
    fill_checkout(&browser, "").await;
    browser.click(".checkout-form button[type=submit]").await;
    browser.wait_for_text(".error-summary", "Enter the postal code").await;
    browser.fill("#postal_code", "10115").await;
    browser.click(".checkout-form button[type=submit]").await;
    browser.wait_for_text("h1", "Thank you for your order").await;
    browser.screenshot("nojs-02-confirmation").await;
    assert_eq!(app.api.level(shop.jacket_sku).await["sold"], 2);
    browser.close().await;
}

#[actix_web::test]
async fn a_double_click_on_place_order_makes_one_order() {
    let Some((app, shop, browser)) = shop_in_browser(true, DESKTOP).await else {
        return;
    };
    browser.goto(&format!("/p/{}", shop.jacket)).await;
    browser.click(".add-to-cart button[type=submit]").await;
    browser.wait_for_text("h1", "Your cart").await;
    browser.goto("/checkout").await;
    fill_checkout(&browser, "10115").await;
    // Two submits of the same form at once, as a double click sends them
    // (a click-click in script may be folded into one submission by the
    // browser, so the two posts go out with fetch, cookies and all).
    let landed = browser
        .eval(
            "const form = document.querySelector('.checkout-form');
             const send = () => fetch(form.action, {method: 'POST', body: new URLSearchParams(new FormData(form))})
                 .then(response => response.url);
             return Promise.all([send(), send()]);",
        )
        .await;
    let (first, second) = (landed[0].as_str().unwrap(), landed[1].as_str().unwrap());
    assert!(first.contains("/orders/"), "the first post shows its order: {landed}");
    assert_eq!(
        first.split('?').next(),
        second.split('?').next(),
        "both posts show the same order"
    );
    browser.client.goto(first).await.unwrap();
    browser.wait_for_text("h1", "Thank you for your order").await;
    browser.screenshot("double-click-confirmation").await;
    let level = app.api.level(shop.jacket_sku).await;
    assert_eq!(level["sold"], 1, "one order, one unit: {level}");
    assert_eq!(level["reserved"], 0, "nothing left held: {level}");
    browser.close().await;
}

#[actix_web::test]
async fn a_stock_change_made_over_the_api_shows_on_an_open_product_page() {
    let Some((app, shop, browser)) = shop_in_browser(true, DESKTOP).await else {
        return;
    };
    browser.goto(&format!("/p/{}", shop.jacket)).await;
    assert_eq!(browser.text("live-stock").await, "In stock");
    app.api.set_on_hand(shop.jacket_sku, 3).await;
    browser.wait_for_text("live-stock", "Only 3 left").await;
    browser.screenshot("live-stock-few").await;
    let sold_out = app
        .api
        .admin(
            Method::PUT,
            &format!("/v1/inventory/{}", shop.jacket_sku),
            Some(json!({"on_hand": 0})),
        )
        .await;
    assert!(sold_out.status().is_success());
    browser.wait_for_text("live-stock", "Out of stock").await;
    assert_eq!(
        browser
            .eval("return document.querySelector('.add-to-cart button[type=submit]').disabled")
            .await,
        true
    );
    browser.screenshot("live-stock-out").await;
    browser.close().await;
}
