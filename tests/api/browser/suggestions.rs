//! "Customers also bought" and "Recently viewed" on the product and cart
//! pages, as a shopper without JavaScript sees them.

use std::time::Duration;

use reqwest::StatusCode;

use super::shop::HOSTILE_NAME;
use super::{shop_in_browser, Browser};
use crate::carts::{add, new_cart};
use crate::helpers::Api;
use crate::orders::{checkout, checkout_body};

const DESKTOP: (u32, u32) = (1280, 1000);

/// Buys one of each SKU in one confirmed order.
async fn buy_together(api: &Api, skus: &[&str], key: &str) {
    let cart = new_cart(api).await["id"].as_str().unwrap().to_string();
    for sku in skus {
        add(api, &cart, sku, 1).await;
    }
    let placed = checkout(api, &cart, Some(key), &checkout_body("pair@example.com"), None).await;
    assert_eq!(placed.status(), StatusCode::CREATED);
}

/// Reloads `path` until the section `css` shows `expected` (the read model
/// follows the orders within a second).
async fn reload_until(browser: &Browser, path: &str, css: &str, expected: &str) {
    for _ in 0..50 {
        browser.goto(path).await;
        let shown = browser
            .eval(&format!(
                "const s = document.querySelector('{css}'); return s ? s.textContent : ''"
            ))
            .await;
        if shown.as_str().is_some_and(|text| text.contains(expected)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path} never showed '{expected}' in {css}");
}

#[actix_web::test]
async fn product_and_cart_pages_show_what_was_bought_together_and_viewed() {
    let Some((app, shop, browser)) = shop_in_browser(false, DESKTOP).await else {
        return;
    };
    buy_together(&app.api, &["JKT-RED", "MUG-1"], "pair-1").await;
    buy_together(&app.api, &["JKT-RED", "MUG-1"], "pair-2").await;

    let jacket_page = format!("/p/{}", shop.jacket);
    reload_until(&browser, &jacket_page, "[aria-labelledby=also-bought]", "Stoneware mug").await;
    let also_bought = browser.text("[aria-labelledby=also-bought]").await;
    assert!(
        !also_bought.contains("Rain jacket"),
        "never the product itself: {also_bought}"
    );
    assert!(
        browser
            .eval("return document.querySelector('[aria-labelledby=recently-viewed]')")
            .await
            .is_null(),
        "the first page viewed has nothing viewed before it"
    );
    browser.screenshot("product-also-bought").await;

    browser.goto(&format!("/p/{}", shop.hostile)).await;
    let recent = browser.text("[aria-labelledby=recently-viewed]").await;
    assert!(recent.contains("Rain jacket"), "{recent}");
    browser.screenshot("product-recently-viewed").await;

    browser.goto("/cart").await;
    let recent = browser.text("[aria-labelledby=recently-viewed]").await;
    assert!(recent.contains("Rain jacket"), "{recent}");
    assert!(
        recent.contains(HOSTILE_NAME),
        "the hostile name shows as text: {recent}"
    );
    assert_eq!(
        browser
            .eval("return document.querySelectorAll('img[src=x], .suggestions script').length")
            .await,
        0,
        "and makes no element"
    );
    browser.screenshot("cart-recently-viewed").await;
    browser.close().await;
}
