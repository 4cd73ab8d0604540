//! The catalog over HTTP: the category tree and its rules, products and their
//! validation, and stock shown on products.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{error_code, spawn_app, Api};

/// A valid product body in `category_id`.
pub fn product(sku: &str, category_id: u64) -> Value {
    json!({
        "sku": sku, "name": format!("Product {sku}"), "description": "", "category_id": category_id,
        "price": 1999, "currency": "EUR", "attributes": {"brand": "acme"},
    })
}

async fn tree_fixture(api: &Api) -> (u64, u64, u64) {
    let clothing = api.create_category("Clothing", "clothing", None).await["id"]
        .as_u64()
        .unwrap();
    let shirts = api.create_category("Shirts", "shirts", Some(clothing)).await["id"]
        .as_u64()
        .unwrap();
    let polo = api.create_category("Polo", "polo", Some(shirts)).await["id"]
        .as_u64()
        .unwrap();
    (clothing, shirts, polo)
}

#[actix_web::test]
async fn the_tree_nests_categories_and_a_node_shows_its_path() {
    let app = spawn_app().await;
    let (clothing, shirts, polo) = tree_fixture(&app.api).await;
    app.api.create_category("Accessories", "accessories", None).await;

    let tree: Value = app.api.get("/v1/categories").await.json().await.unwrap();
    let names: Vec<&str> = tree
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Accessories", "Clothing"], "roots by name");
    assert_eq!(tree[1]["children"][0]["id"], shirts);
    assert_eq!(tree[1]["children"][0]["children"][0]["id"], polo);

    for key in [polo.to_string(), "polo".to_string()] {
        let node: Value = app
            .api
            .get(&format!("/v1/categories/{key}"))
            .await
            .json()
            .await
            .unwrap();
        let path: Vec<u64> = node["path"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_u64().unwrap())
            .collect();
        assert_eq!(path, [clothing, shirts, polo]);
    }
    let missing = app.api.get("/v1/categories/no-such-thing").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(missing).await, "category_not_found");
}

#[actix_web::test]
async fn a_move_that_would_make_a_cycle_is_refused() {
    let app = spawn_app().await;
    let (clothing, _, polo) = tree_fixture(&app.api).await;
    let path = format!("/v1/categories/{clothing}");
    let response = app
        .api
        .admin(Method::PATCH, &path, Some(json!({"parent_id": polo})))
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(response).await, "category_cycle");

    let to_root = app
        .api
        .admin(
            Method::PATCH,
            &format!("/v1/categories/{polo}"),
            Some(json!({"parent_id": null})),
        )
        .await;
    assert_eq!(to_root.status(), StatusCode::OK);
    assert_eq!(to_root.json::<Value>().await.unwrap()["parent_id"], Value::Null);
    let renamed = app
        .api
        .admin(
            Method::PATCH,
            &format!("/v1/categories/{polo}"),
            Some(json!({"name": "Polo shirts"})),
        )
        .await;
    assert_eq!(
        renamed.json::<Value>().await.unwrap()["parent_id"],
        Value::Null,
        "absent parent_id leaves it"
    );
}

#[actix_web::test]
async fn names_and_slugs_are_unique_and_non_empty_categories_stay() {
    let app = spawn_app().await;
    let (clothing, shirts, polo) = tree_fixture(&app.api).await;
    let cases = [
        (json!({"name": "clothing", "slug": "other"}), "category_name_taken"),
        (json!({"name": "Other", "slug": "shirts"}), "slug_taken"),
    ];
    for (body, code) in cases {
        let response = app.api.admin(Method::POST, "/v1/categories", Some(body)).await;
        assert_eq!(response.status(), StatusCode::CONFLICT);
        assert_eq!(error_code(response).await, code);
    }
    let with_children = app
        .api
        .admin(Method::DELETE, &format!("/v1/categories/{clothing}"), None)
        .await;
    assert_eq!(with_children.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(with_children).await, "category_not_empty");
    app.api.create_product(product("POLO-1", polo)).await;
    let with_products = app
        .api
        .admin(Method::DELETE, &format!("/v1/categories/{polo}"), None)
        .await;
    assert_eq!(error_code(with_products).await, "category_not_empty");
    let empty = app.api.create_category("Empty", "empty", Some(shirts)).await["id"]
        .as_u64()
        .unwrap();
    let deleted = app
        .api
        .admin(Method::DELETE, &format!("/v1/categories/{empty}"), None)
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.api.get(&format!("/v1/categories/{empty}")).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn a_product_is_found_by_its_id_or_its_sku_and_an_unknown_one_is_404_in_words() {
    let app = spawn_app().await;
    let (_, _, polo) = tree_fixture(&app.api).await;
    let id = app.api.create_product(product("POLO-1", polo)).await["id"]
        .as_u64()
        .unwrap();
    for key in [id.to_string(), "POLO-1".to_string()] {
        let found: Value = app.api.get(&format!("/v1/products/{key}")).await.json().await.unwrap();
        assert_eq!(found["id"], id, "by {key}");
    }
    let unknown = app.api.get("/v1/products/DEMO-0005415").await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let body: Value = unknown.json().await.unwrap();
    assert_eq!(body["error"]["code"], "product_not_found");
    assert_eq!(body["error"]["message"], "no product has the id or SKU 'DEMO-0005415'");
}

#[actix_web::test]
async fn products_are_validated_and_skus_are_unique() {
    let app = spawn_app().await;
    let (_, _, polo) = tree_fixture(&app.api).await;
    app.api.create_product(product("POLO-1", polo)).await;

    let mut cases: Vec<(Value, StatusCode, &str)> = vec![
        (product("POLO-1", polo), StatusCode::CONFLICT, "sku_taken"),
        (product("POLO-2", 999), StatusCode::NOT_FOUND, "category_not_found"),
        (
            product("bad sku", polo),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
    ];
    let broken: [(&str, Value, &str); 8] = [
        ("name", json!("  "), "invalid_field"),
        ("price", json!(1_000_000_000_001u64), "invalid_field"),
        ("price", json!(-1), "invalid_body"),
        ("currency", json!("euro"), "invalid_field"),
        ("attributes", json!({"Bad Key": "x"}), "invalid_field"),
        ("images", json!(["ftp://files/x.png"]), "invalid_field"),
        ("seller_id", json!("a/b"), "invalid_field"),
        ("unknown", json!(1), "invalid_body"),
    ];
    for (field, value, code) in broken {
        let mut body = product("POLO-3", polo);
        body[field] = value;
        cases.push((body, StatusCode::UNPROCESSABLE_ENTITY, code));
    }
    for (body, status, code) in cases {
        let response = app.api.admin(Method::POST, "/v1/products", Some(body.clone())).await;
        assert_eq!(response.status(), status, "{body}");
        assert_eq!(error_code(response).await, code, "{body}");
    }
}

#[actix_web::test]
async fn a_product_shows_the_stock_of_its_sku_and_can_be_changed_and_archived() {
    let app = spawn_app().await;
    let (_, shirts, polo) = tree_fixture(&app.api).await;
    let created = app.api.create_product(product("POLO-9", polo)).await;
    let id = created["id"].as_u64().unwrap();
    assert_eq!(
        (created["available"].clone(), created["is_available"].clone()),
        (json!(0), json!(false))
    );
    app.api.set_on_hand("POLO-9", 4).await;
    let fetched: Value = app.api.get(&format!("/v1/products/{id}")).await.json().await.unwrap();
    assert_eq!(
        (fetched["available"].clone(), fetched["is_available"].clone()),
        (json!(4), json!(true))
    );

    let change = json!({"price": 2499, "category_id": shirts, "seller_id": "seller-7"});
    let changed = app
        .api
        .admin(Method::PATCH, &format!("/v1/products/{id}"), Some(change))
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    let changed: Value = changed.json().await.unwrap();
    assert_eq!(
        (changed["price"].clone(), changed["category_id"].clone()),
        (json!(2499), json!(shirts))
    );
    assert_eq!(changed["name"], "Product POLO-9", "fields left out stay");
    assert_eq!(changed["created_at"], created["created_at"]);

    let archived: Value = app
        .api
        .admin(Method::DELETE, &format!("/v1/products/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (archived["status"].clone(), archived["is_available"].clone()),
        (json!("archived"), json!(false))
    );
    let missing = app.api.get("/v1/products/424242").await;
    assert_eq!(error_code(missing).await, "product_not_found");
    let not_a_number = app.api.get("/v1/products/abc").await;
    assert_eq!(not_a_number.status(), StatusCode::NOT_FOUND);
}
