//! "Customers also bought" over the real server: what confirmed orders bought
//! together, pins first, blocks never, no archived, out-of-stock or in-cart
//! product, best sellers of the category when the orders say too little.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::carts::{add, new_cart, shop};
use crate::helpers::{eventually, spawn_app, Api};
use crate::orders::{checkout, checkout_body};

/// Checks out one unit of each SKU in one order.
async fn buy(api: &Api, skus: &[&str], key: &str) {
    let cart = new_cart(api).await["id"].as_str().unwrap().to_string();
    for sku in skus {
        add(api, &cart, sku, 1).await;
    }
    let placed = checkout(api, &cart, Some(key), &checkout_body("rec@example.com"), None).await;
    assert_eq!(placed.status(), StatusCode::CREATED);
    let order: Value = placed.json().await.unwrap();
    assert_eq!(order["status"], "confirmed");
}

/// Product id of `sku`.
async fn id_of(api: &Api, sku: &str) -> u64 {
    let product: Value = (api
        .client
        .get(api.url(&format!("/v1/products/{sku}")))
        .send()
        .await
        .unwrap())
    .json()
    .await
    .unwrap();
    product["id"].as_u64().unwrap()
}

/// `(sku, source)` of each recommended item, in order.
async fn recommended(api: &Api, product: u64, query: &str) -> Vec<(String, String)> {
    let path = format!("/v1/products/{product}/recommendations{query}");
    let response = api.client.get(api.url(&path)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let body: Value = response.json().await.unwrap();
    (body["items"].as_array().unwrap().iter())
        .map(|item| {
            let score = item["score"].as_f64().unwrap();
            assert!(score > 0.0 && score <= 1.0, "score in (0, 1]: {item}");
            (
                item["product"]["sku"].as_str().unwrap().to_string(),
                item["source"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn skus(items: &[(String, String)]) -> Vec<&str> {
    items.iter().map(|(sku, _)| sku.as_str()).collect()
}

#[actix_web::test]
async fn what_was_bought_together_comes_first_and_follows_new_orders() {
    let app = spawn_app().await;
    let api = &app.api;
    shop(api, &[("A", 100), ("B", 100), ("C", 100), ("D", 100), ("E", 100)], 50).await;
    for n in 0..3 {
        buy(api, &["A", "B"], &format!("ab{n}")).await;
    }
    buy(api, &["A", "C"], "ac").await;
    buy(api, &["C", "D"], "cd").await;
    let a = id_of(api, "A").await;

    let items = eventually(Duration::from_secs(5), || async {
        let items = recommended(api, a, "?limit=2").await;
        (skus(&items) == ["B", "C"]).then_some(items)
    })
    .await;
    assert!(items.iter().all(|(_, source)| source == "also_bought"), "{items:?}");

    // Four more of A with E: E now scores above B (4 / sqrt(8 * 4) > 3 / sqrt(8 * 3)).
    for n in 0..4 {
        buy(api, &["A", "E"], &format!("ae{n}")).await;
    }
    eventually(Duration::from_secs(5), || async {
        let items = recommended(api, a, "?limit=3").await;
        (skus(&items) == ["E", "B", "C"]).then_some(())
    })
    .await;

    // A cart holding E leaves it out; the next best fills its place.
    let cart = new_cart(api).await["id"].as_str().unwrap().to_string();
    add(api, &cart, "E", 1).await;
    let without_e = recommended(api, a, &format!("?limit=2&cart_id={cart}")).await;
    assert_eq!(skus(&without_e), ["B", "C"]);
}

#[actix_web::test]
async fn archived_out_of_stock_and_blocked_products_never_show_and_pins_come_first() {
    let app = spawn_app().await;
    let api = &app.api;
    shop(api, &[("A", 100), ("B", 100), ("C", 100), ("D", 100), ("P", 100)], 50).await;
    buy(api, &["A", "B", "C", "D"], "abcd").await;
    buy(api, &["A", "B"], "ab").await;
    let (a, b, d, p) = (
        id_of(api, "A").await,
        id_of(api, "B").await,
        id_of(api, "D").await,
        id_of(api, "P").await,
    );
    eventually(Duration::from_secs(5), || async {
        (skus(&recommended(api, a, "").await) == ["B", "C", "D"]).then_some(())
    })
    .await;

    let archived = api.admin(Method::DELETE, &format!("/v1/products/{b}"), None).await;
    assert_eq!(archived.status(), StatusCode::OK);
    api.set_on_hand("C", 0).await;
    let rules = json!({"pinned": [p], "blocked": [d]});
    let path = format!("/v1/admin/products/{a}/recommendations");
    let set = api.admin(Method::PUT, &path, Some(rules.clone())).await;
    assert_eq!(set.status(), StatusCode::OK);
    assert_eq!(set.json::<Value>().await.unwrap(), rules);

    let items = eventually(Duration::from_secs(5), || async {
        let items = recommended(api, a, "").await;
        (!skus(&items).contains(&"C")).then_some(items)
    })
    .await;
    assert_eq!(
        items,
        [("P".to_string(), "pinned".to_string())],
        "B archived, C out of stock, D blocked; P pinned though never bought"
    );

    // Rules that name the product itself or an unknown one are refused, and
    // leave the rules as they were.
    let own = api.admin(Method::PUT, &path, Some(json!({"pinned": [a]}))).await;
    assert_eq!(own.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let unknown = api.admin(Method::PUT, &path, Some(json!({"blocked": [999_999]}))).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(skus(&recommended(api, a, "").await), ["P"]);
    let anonymous = api.client.put(api.url(&path)).json(&rules).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn a_product_nobody_bought_shows_the_best_sellers_of_its_category() {
    let app = spawn_app().await;
    let api = &app.api;
    shop(api, &[("A", 100), ("B", 100), ("NEW", 100)], 50).await;
    let other = api.create_category("Other", "other", None).await["id"]
        .as_u64()
        .unwrap();
    api.create_product(json!({"sku": "X", "name": "X", "category_id": other, "price": 100, "currency": "EUR"}))
        .await;
    api.set_on_hand("X", 50).await;
    for n in 0..3 {
        buy(api, &["B", "X"], &format!("b{n}")).await;
    }
    buy(api, &["A"], "a").await;
    let new = id_of(api, "NEW").await;

    let items = eventually(Duration::from_secs(5), || async {
        let items = recommended(api, new, "").await;
        (items.len() == 2).then_some(items)
    })
    .await;
    let best_sellers = [("B", "best_seller"), ("A", "best_seller")].map(|(sku, source)| (sku.into(), source.into()));
    assert_eq!(items, best_sellers, "X sells best, but in another category");

    let too_many = api
        .client
        .get(api.url(&format!("/v1/products/{new}/recommendations?limit=21")));
    assert_eq!(
        too_many.send().await.unwrap().status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let unknown = api.client.get(api.url("/v1/products/999999/recommendations"));
    assert_eq!(unknown.send().await.unwrap().status(), StatusCode::NOT_FOUND);
}
