//! The price a customer pays is the one the cart showed: a catalog price
//! change before checkout re-prices the cart, and the order, its total and its
//! confirmation mail all carry the new price.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{eventually, spawn_app};
use crate::orders::{checkout, checkout_body, guest_cart_with};

#[actix_web::test]
async fn a_price_change_before_checkout_is_the_price_of_the_order_and_its_mail() {
    let app = spawn_app().await;
    let category = app.api.create_category("Shop", "shop", None).await["id"]
        .as_u64()
        .unwrap();
    let product = app
        .api
        .create_product(json!({
            "sku": "TEE", "name": "Product TEE", "category_id": category, "price": 1_000, "currency": "EUR"
        }))
        .await["id"]
        .clone();
    app.api.set_on_hand("TEE", 10).await;
    let cart = guest_cart_with(&app.api, &[("TEE", 2)]).await;
    let changed = app
        .api
        .admin(
            Method::PATCH,
            &format!("/v1/products/{product}"),
            Some(json!({"price": 1_500})),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);

    // What the customer sees before paying.
    let seen: Value = eventually(Duration::from_secs(5), || async {
        let cart: Value = app.api.get(&format!("/v1/carts/{cart}")).await.json().await.ok()?;
        (cart["items"][0]["unit_price"] == 1_500).then_some(cart)
    })
    .await;
    assert_eq!(seen["total"], 3_000);

    let placed = checkout(&app.api, &cart, Some("k"), &checkout_body("pia@example.com"), None).await;
    assert_eq!(placed.status(), StatusCode::CREATED);
    let order: Value = placed.json().await.unwrap();
    assert_eq!(order["items"][0]["unit_price"], 1_500);
    assert_eq!(order["total"], seen["total"], "charged what the cart showed");
    let id = order["id"].as_str().unwrap();
    let mail = eventually(Duration::from_secs(10), || async {
        let mails = crate::notifications::mails(app._dir.path());
        mails
            .into_iter()
            .find(|(name, _)| name.contains(id))
            .map(|(_, text)| text)
    })
    .await;
    assert!(mail.contains("2 x Product TEE (TEE)  =E2=82=AC30.00"), "€30.00: {mail}");
}
