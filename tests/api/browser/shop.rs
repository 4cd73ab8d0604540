//! A small shop for the browser journeys, made through the JSON API: a
//! category tree, products with attributes, stock, a coupon, and one
//! product with a hostile name.

use reqwest::Method;
use serde_json::json;

use crate::helpers::Api;

/// A name that would run script if a page did not escape it.
pub const HOSTILE_NAME: &str = "<img src=x onerror=\"window.__xss=1\"><script>window.__xss=2</script>";

/// What the journeys look for.
pub struct Shop {
    /// Product id of the red rain jacket (12 in stock, €89.00).
    pub jacket: u64,
    pub jacket_sku: &'static str,
    /// Product id of the hostile-named product.
    pub hostile: u64,
}

pub async fn open_shop(api: &Api) -> Shop {
    let clothing = api.create_category("Clothing", "clothing", None).await["id"]
        .as_u64()
        .unwrap();
    let jackets = api.create_category("Jackets", "jackets", Some(clothing)).await["id"]
        .as_u64()
        .unwrap();
    let home = api.create_category("Home", "home", None).await["id"].as_u64().unwrap();
    let product = |sku: &str, name: &str, category: u64, price: u64, colour: &str, material: &str| {
        json!({
            "sku": sku, "name": name, "category_id": category, "price": price, "currency": "EUR",
            "description": format!("A {colour} {} made of {material}.", name.to_lowercase()),
            "attributes": {"colour": colour, "material": material},
        })
    };
    let jacket = api
        .create_product(product("JKT-RED", "Rain jacket", jackets, 8_900, "red", "nylon"))
        .await["id"]
        .as_u64()
        .unwrap();
    api.create_product(product("JKT-BLUE", "Rain jacket", jackets, 8_900, "blue", "nylon"))
        .await;
    api.create_product(product("JKT-WOOL", "Wool jacket", jackets, 12_900, "grey", "wool"))
        .await;
    api.create_product(product("MUG-1", "Stoneware mug", home, 1_450, "white", "ceramic"))
        .await;
    let hostile = api
        .create_product(product("ODD-1", HOSTILE_NAME, home, 999, "black", "steel"))
        .await["id"]
        .as_u64()
        .unwrap();
    for (sku, units) in [
        ("JKT-RED", 12),
        ("JKT-BLUE", 4),
        ("JKT-WOOL", 7),
        ("MUG-1", 30),
        ("ODD-1", 5),
    ] {
        api.set_on_hand(sku, units).await;
    }
    let coupon = api
        .admin(
            Method::POST,
            "/v1/admin/coupons",
            Some(json!({"code": "WELCOME10", "percent": 10})),
        )
        .await;
    assert!(coupon.status().is_success(), "coupon created");
    Shop {
        jacket,
        jacket_sku: "JKT-RED",
        hostile,
    }
}
