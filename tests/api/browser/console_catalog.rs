//! The console's catalog pages in a real browser: a product created (a typo
//! first), its price changed while a cart holds it (the cart is re-priced and
//! the page says so), archived; a SKU's stock set and adjusted with a reason
//! (and refused without one), its open reservations listed.

use serde_json::json;

use super::console::console_in_browser;
use crate::carts::{add, new_cart};
use crate::helpers::eventually;

#[actix_web::test]
async fn an_operator_creates_reprices_and_archives_a_product_and_keeps_its_stock() {
    let Some((app, browser)) = console_in_browser((1280, 900)).await else {
        return;
    };
    app.api.create_category("Kitchen", "kitchen", None).await;

    browser.goto("/admin/products").await;
    browser.click("a[href='/admin/products/new']").await;
    browser.wait_for_text("h1", "New product").await;
    browser.fill("#sku", "MUG-BLUE").await;
    browser.fill("#name", "Blue mug").await;
    browser.fill("#price", "12,5.0.1").await;
    browser.fill("#attributes", "colour: blue\nmaterial: stoneware").await;
    browser.click(".product-form button[type=submit]").await;
    browser.wait_for_text(".error-summary", "Choose a category").await;
    browser.wait_for_text("#price-error", "Enter an amount").await;
    assert_eq!(
        browser.eval("return document.querySelector('#sku').value").await,
        "MUG-BLUE",
        "kept"
    );
    browser.screenshot("console-09-product-errors").await;
    browser
        .eval("const s = document.querySelector('#category_id'); s.value = s.options[1].value; return s.value")
        .await;
    browser.fill("#price", "12.50").await;
    browser.click(".product-form button[type=submit]").await;
    browser.wait_for_text(".notice", "Created").await;
    let product = browser.path().await;
    let product = product
        .trim_start_matches("/admin/products/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let found = app
        .api
        .get(&format!("/v1/products/{product}"))
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(found["price"], 1250);
    assert_eq!(found["attributes"]["material"], "stoneware");

    browser.click("a[href='/admin/inventory?sku=MUG-BLUE']").await;
    browser.wait_for_text("h1", "Stock of MUG-BLUE").await;
    browser.fill("#on_hand", "10").await;
    browser
        .click("form[action='/admin/inventory/MUG-BLUE/set'] button")
        .await;
    browser.wait_for_text(".notice", "Stock set").await;
    browser.fill("#delta", "-2").await;
    browser
        .click("form[action='/admin/inventory/MUG-BLUE/adjust'] button")
        .await;
    browser.wait_for_text("#reason-error", "Reason").await;
    browser.fill("#reason", "two broke in the stockroom").await;
    browser
        .click("form[action='/admin/inventory/MUG-BLUE/adjust'] button")
        .await;
    browser.wait_for_text(".notice", "Stock adjusted").await;
    let cart = new_cart(&app.api).await["id"].as_str().unwrap().to_string();
    add(&app.api, &cart, "MUG-BLUE", 3).await;
    let held = app
        .api
        .reserve(
            "MUG-BLUE",
            json!({"qty": 2, "ttl_secs": 600, "reservation_id": "hold-for-b2b"}),
        )
        .await;
    assert!(held.status().is_success());
    browser.goto("/admin/inventory?sku=MUG-BLUE").await;
    browser.wait_for_text(".levels", "8").await;
    browser.wait_for_text("main table", "hold-for-b2b").await;
    let level = app.api.level("MUG-BLUE").await;
    assert_eq!(
        (level["on_hand"].as_u64(), level["reserved"].as_u64()),
        (Some(8), Some(2))
    );
    browser.screenshot("console-10-inventory").await;

    browser.goto(&format!("/admin/products/{product}")).await;
    browser.fill("#price", "9.90").await;
    browser.click(".product-form button[type=submit]").await;
    browser
        .wait_for_text(".notice", "applies to the 1 open cart holding it")
        .await;
    eventually(std::time::Duration::from_secs(5), || {
        let api = app.api.clone();
        let cart = cart.clone();
        async move {
            let body: serde_json::Value = api.get(&format!("/v1/carts/{cart}")).await.json().await.ok()?;
            (body["total"] == 2_970).then_some(())
        }
    })
    .await;

    browser
        .click(&format!("a[href='/admin/products/{product}/archive']"))
        .await;
    browser.wait_for_text("h1", "Archive Blue mug (MUG-BLUE)?").await;
    browser.click("main form button[type=submit]").await;
    browser.wait_for_text(".notice", "Archived").await;
    browser.screenshot("console-11-product-archived").await;
    eventually(std::time::Duration::from_secs(5), || {
        let api = app.api.clone();
        async move { api.search_ids("q=mug").await.is_empty().then_some(()) }
    })
    .await;
    browser.close().await;
}

#[actix_web::test]
async fn an_operator_arranges_categories_and_an_admin_runs_coupons_and_promotions() {
    let Some((app, browser)) = console_in_browser((1280, 900)).await else {
        return;
    };
    let clothing = app.api.create_category("Clothing", "clothing", None).await["id"]
        .as_u64()
        .unwrap();
    let shirts = app.api.create_category("Shirts", "shirts", Some(clothing)).await["id"]
        .as_u64()
        .unwrap();
    app.api
        .create_product(json!({"sku": "TEE", "name": "Tee", "category_id": shirts, "price": 1_000, "currency": "EUR"}))
        .await;

    browser.goto("/admin/categories").await;
    browser.fill("#name", "Shoes").await;
    browser.fill("#slug", "Shoes!").await;
    browser.click(".category-form button[type=submit]").await;
    browser.wait_for_text("#slug-error", "Address (slug)").await;
    browser.fill("#slug", "shoes").await;
    browser.click(".category-form button[type=submit]").await;
    browser.wait_for_text(".notice", "Category created").await;
    browser.wait_for_text(".category-tree", "Shoes").await;

    // Moving Clothing under its own child is refused in words.
    browser.goto(&format!("/admin/categories/{clothing}")).await;
    browser
        .eval(&format!(
            "document.querySelector('#parent_id').value = '{shirts}'; return null"
        ))
        .await;
    browser.click(".category-form button[type=submit]").await;
    browser
        .wait_for_text("#parent_id-error", "cannot move under itself")
        .await;
    // Deleting a category that holds a product is refused in words.
    browser.goto(&format!("/admin/categories/{shirts}/delete")).await;
    browser.click("main form button[type=submit]").await;
    browser
        .wait_for_text(".error-summary", "move or delete them first")
        .await;
    browser.goto(&format!("/admin/categories/{shirts}")).await;
    browser.fill("#name", "T-shirts").await;
    browser.click(".category-form button[type=submit]").await;
    browser.wait_for_text(".notice", "Category saved").await;
    browser.wait_for_text(".category-tree", "T-shirts").await;
    browser.screenshot("console-13-categories").await;
    let tree: serde_json::Value = app.api.get("/v1/categories").await.json().await.unwrap();
    assert!(tree.to_string().contains("T-shirts"), "{tree}");

    // Coupons are the admins' (as in the API): an operator gets no page and no link.
    assert!(!browser.text(".console-nav").await.contains("Coupons"));
    browser.goto("/admin/coupons").await;
    browser.wait_for_text("main", "Only admins manage coupons").await;
    browser.goto("/admin").await;
    browser.click("form[action='/admin/logout'] button").await;
    browser.wait_for_text("h1", "Sign in to the console").await;
    super::console::account(&app.api, "boss@example.com", "admin").await;
    browser.goto("/admin/coupons").await;
    super::console::sign_in(&browser, "boss@example.com").await;
    browser.wait_for_text("h1", "Coupons and promotions").await;
    browser.fill("#code", "SPRING").await;
    browser.fill("#percent", "150").await;
    browser.click("form[action='/admin/coupons'] button").await;
    browser.wait_for_text("#percent-error", "from 1 to 100").await;
    browser.fill("#percent", "15").await;
    browser.fill("#max_uses", "100").await;
    browser.click("form[action='/admin/coupons'] button").await;
    browser.wait_for_text(".notice", "Coupon created").await;
    browser.wait_for_text(".coupons-table", "15 % off").await;
    browser.click("a[href='/admin/coupons/SPRING']").await;
    browser.wait_for_text("h1", "Coupon SPRING").await;
    browser.fill("#percent", "20").await;
    browser.fill("#max_uses", "").await;
    browser.click(".coupon-form button").await;
    browser.wait_for_text(".notice", "Coupon changed").await;
    browser.wait_for_text(".coupons-table", "20 % off").await;
    browser.fill("#name", "Big basket").await;
    browser.fill("#min_subtotal", "100.00").await;
    browser.fill("#currency", "EUR").await;
    browser.fill("#tier_percent", "5").await;
    browser.click("form[action='/admin/promotions'] button").await;
    browser.wait_for_text(".notice", "Promotion created").await;
    browser.wait_for_text(".promotions", "Big basket").await;
    browser.screenshot("console-14-coupons").await;

    let cart = new_cart(&app.api).await["id"].as_str().unwrap().to_string();
    add(&app.api, &cart, "TEE", 1).await;
    let applied = app
        .api
        .post(&format!("/v1/carts/{cart}/coupons"), json!({"code": "SPRING"}))
        .await;
    assert!(applied.status().is_success(), "the new coupon applies");
    browser.click("a[href='/admin/coupons/SPRING/end']").await;
    browser.wait_for_text("h1", "End the coupon SPRING now?").await;
    browser.click("main form button[type=submit]").await;
    browser.wait_for_text(".notice", "Coupon ended").await;
    let again = app
        .api
        .post(&format!("/v1/carts/{cart}/coupons"), json!({"code": "SPRING"}))
        .await;
    assert!(again.status().is_client_error(), "an ended coupon no longer applies");
    browser.click(".promotions a").await;
    browser.wait_for_text("h1", "End the promotion Big basket?").await;
    browser.click("main form button[type=submit]").await;
    browser.wait_for_text(".notice", "Promotion ended").await;
    assert!(!browser.text("main").await.contains("Big basket"));
    browser.close().await;
}
