//! Search over HTTP: text, filters, sorting, paging, facets checked against a
//! brute-force count, index updates, and parameter validation.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::catalog::product;
use crate::helpers::{error_code, eventually, spawn_app, Api};

/// Waits until the index holds `count` active products.
async fn indexed(api: &Api, count: u64) {
    eventually(Duration::from_secs(5), || async {
        (api.search("per_page=1").await["total"] == count).then_some(())
    })
    .await;
}

#[actix_web::test]
async fn words_are_found_in_descriptions_and_attributes_and_the_name_ranks_first() {
    let app = spawn_app().await;
    let home = app.api.create_category("Home", "home", None).await["id"]
        .as_u64()
        .unwrap();
    let mut kettle = product("KETTLE", home);
    kettle["name"] = json!("Steel kettle");
    kettle["description"] = json!("Boils water quickly; a whistling lid");
    let mut teapot = product("TEAPOT", home);
    teapot["name"] = json!("Teapot");
    teapot["description"] = json!("Pairs well with a kettle");
    teapot["attributes"] = json!({"material": "porcelain"});
    let kettle_id = app.api.create_product(kettle).await["id"].as_u64().unwrap();
    let teapot_id = app.api.create_product(teapot).await["id"].as_u64().unwrap();
    indexed(&app.api, 2).await;

    assert_eq!(
        app.api.search_ids("q=whistling").await,
        [kettle_id],
        "a description-only word"
    );
    assert_eq!(
        app.api.search_ids("q=porcelain").await,
        [teapot_id],
        "an attribute value"
    );
    assert_eq!(
        app.api.search_ids("q=kettle").await,
        [kettle_id, teapot_id],
        "name match ranks first"
    );
    assert_eq!(app.api.search_ids("q=kettles").await, [kettle_id, teapot_id], "stemmed");
    assert!(app.api.search_ids("q=nothing-like-this").await.is_empty());
}

#[actix_web::test]
async fn a_change_becomes_searchable_and_archiving_hides_the_product() {
    let app = spawn_app().await;
    let home = app.api.create_category("Home", "home", None).await["id"]
        .as_u64()
        .unwrap();
    let id = app.api.create_product(product("LAMP", home)).await["id"]
        .as_u64()
        .unwrap();
    indexed(&app.api, 1).await;
    assert!(app.api.search_ids("q=lantern").await.is_empty());

    let rename = json!({"name": "Brass lantern"});
    assert_eq!(
        app.api
            .admin(Method::PATCH, &format!("/v1/products/{id}"), Some(rename))
            .await
            .status(),
        StatusCode::OK
    );
    eventually(Duration::from_secs(5), || async {
        (app.api.search_ids("q=lantern").await == [id]).then_some(())
    })
    .await;

    assert_eq!(
        app.api
            .admin(Method::DELETE, &format!("/v1/products/{id}"), None)
            .await
            .status(),
        StatusCode::OK
    );
    indexed(&app.api, 0).await;
    assert!(app.api.search_ids("q=lantern").await.is_empty());
}

#[actix_web::test]
async fn filters_sort_and_pages_apply_to_the_whole_catalog() {
    let app = spawn_app().await;
    let clothing = app.api.create_category("Clothing", "clothing", None).await["id"]
        .as_u64()
        .unwrap();
    let shirts = app.api.create_category("Shirts", "shirts", Some(clothing)).await["id"]
        .as_u64()
        .unwrap();
    let shoes = app.api.create_category("Shoes", "shoes", None).await["id"]
        .as_u64()
        .unwrap();
    let mut ids = Vec::new();
    for (i, (category, price, colour)) in [
        (clothing, 500, "red"),
        (shirts, 3000, "blue"),
        (shirts, 1500, "red"),
        (shoes, 9000, "red"),
    ]
    .iter()
    .enumerate()
    {
        let mut body = product(&format!("P{i}"), *category);
        body["price"] = json!(price);
        body["attributes"] = json!({"colour": colour});
        ids.push(app.api.create_product(body).await["id"].as_u64().unwrap());
    }
    indexed(&app.api, 4).await;

    assert_eq!(
        app.api.search_ids("category=clothing&sort=price_asc").await,
        [ids[0], ids[2], ids[1]]
    );
    assert_eq!(
        app.api.search_ids("attr.colour=red&sort=price_desc").await,
        [ids[3], ids[2], ids[0]]
    );
    assert_eq!(
        app.api
            .search_ids("attr.colour=red&attr.colour=blue&min_price=1000&max_price=3000&sort=price_asc")
            .await,
        [ids[2], ids[1]]
    );
    assert_eq!(
        app.api.search_ids("sort=newest").await,
        [ids[3], ids[2], ids[1], ids[0]]
    );
    let without_q = app.api.search_ids("").await;
    assert_eq!(
        without_q,
        [ids[3], ids[2], ids[1], ids[0]],
        "relevance without q: newest first"
    );
    let second_page = app.api.search("sort=price_asc&per_page=3&page=2").await;
    assert_eq!(second_page["total"], 4, "total counts all pages");
    assert_eq!(second_page["items"].as_array().unwrap().len(), 1);
    assert_eq!(second_page["items"][0]["id"], ids[3]);
    let unknown = app.api.get("/v1/products?category=nowhere").await;
    assert_eq!(error_code(unknown).await, "category_not_found");
}

/// A tiny deterministic generator (the catalog and the filters are random but
/// reproducible).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

const PRICE_BOUNDS: [u64; 8] = [0, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000];
const COLOURS: [&str; 3] = ["red", "green", "blue"];
const SIZES: [&str; 4] = ["s", "m", "l", "xl"];

struct Generated {
    category: usize,
    price: u64,
    attributes: BTreeMap<String, String>,
}

/// The filters of one random search.
struct Filter {
    category: Option<usize>,
    min: Option<u64>,
    max: Option<u64>,
    attribute: Option<(&'static str, Vec<&'static str>)>,
}

/// Counts what a search with these filters must report, by looking at every product.
fn brute_force(products: &[Generated], slugs: &[String], parents: &[Option<usize>], filter: &Filter) -> Value {
    let ancestors = |mut category: usize| {
        let mut chain = vec![category];
        while let Some(parent) = parents[category] {
            chain.push(parent);
            category = parent;
        }
        chain
    };
    let Filter {
        category,
        min,
        max,
        attribute,
    } = filter;
    let matching: Vec<&Generated> = products
        .iter()
        .filter(|p| category.is_none_or(|c| ancestors(p.category).contains(&c)))
        .filter(|p| min.is_none_or(|m| p.price >= m) && max.is_none_or(|m| p.price <= m))
        .filter(|p| {
            attribute
                .as_ref()
                .is_none_or(|(key, values)| p.attributes.get(*key).is_some_and(|v| values.contains(&v.as_str())))
        })
        .collect();
    let mut categories: BTreeMap<String, u64> = BTreeMap::new();
    let mut attributes: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let mut buckets = [0u64; 8];
    for product in &matching {
        for category in ancestors(product.category) {
            *categories.entry(slugs[category].clone()).or_default() += 1;
        }
        for (key, value) in &product.attributes {
            *attributes
                .entry(key.clone())
                .or_default()
                .entry(value.clone())
                .or_default() += 1;
        }
        buckets[PRICE_BOUNDS.partition_point(|bound| *bound <= product.price) - 1] += 1;
    }
    let price: Vec<Value> = buckets
        .iter()
        .enumerate()
        .filter(|(_, count)| **count > 0)
        .map(|(i, count)| json!({"min": PRICE_BOUNDS[i], "max": PRICE_BOUNDS.get(i + 1), "count": count}))
        .collect();
    json!({"total": matching.len(), "facets": {"categories": categories, "attributes": attributes, "price": price}})
}

#[actix_web::test]
async fn facet_counts_equal_a_brute_force_count_for_random_filters() {
    let app = spawn_app().await;
    let mut rng = Lcg(7);
    // A tree of 8 categories: each one's parent is an earlier one, or none.
    let mut ids = Vec::new();
    let mut slugs = Vec::new();
    let mut parents = Vec::new();
    for i in 0..8usize {
        let parent = if i == 0 || rng.below(3) == 0 {
            None
        } else {
            Some(rng.below(i as u64) as usize)
        };
        let slug = format!("cat-{i}");
        let created = app
            .api
            .create_category(&format!("Cat {i}"), &slug, parent.map(|p| ids[p]))
            .await;
        ids.push(created["id"].as_u64().unwrap());
        slugs.push(slug);
        parents.push(parent);
    }
    let mut products = Vec::new();
    for n in 0..120 {
        let mut attributes = BTreeMap::new();
        attributes.insert("colour".to_string(), COLOURS[rng.below(3) as usize].to_string());
        if rng.below(2) == 0 {
            attributes.insert("size".to_string(), SIZES[rng.below(4) as usize].to_string());
        }
        let generated = Generated {
            category: rng.below(8) as usize,
            price: rng.below(120_000),
            attributes,
        };
        let mut body = product(&format!("G-{n}"), ids[generated.category]);
        body["price"] = json!(generated.price);
        body["attributes"] = json!(generated.attributes);
        app.api.create_product(body).await;
        products.push(generated);
    }
    indexed(&app.api, 120).await;

    for _ in 0..40 {
        let category = (rng.below(3) == 0).then(|| rng.below(8) as usize);
        let min = (rng.below(3) == 0).then(|| rng.below(60_000));
        let max = (rng.below(3) == 0).then(|| min.unwrap_or(0) + rng.below(80_000));
        let attribute = match rng.below(4) {
            0 => Some(("colour", vec![COLOURS[rng.below(3) as usize]])),
            1 => Some(("size", vec![SIZES[rng.below(4) as usize], SIZES[rng.below(4) as usize]])),
            _ => None,
        };
        let mut query = vec!["per_page=1".to_string()];
        query.extend(category.map(|c| format!("category={}", slugs[c])));
        query.extend(min.map(|m| format!("min_price={m}")));
        query.extend(max.map(|m| format!("max_price={m}")));
        if let Some((key, values)) = &attribute {
            query.extend(values.iter().map(|v| format!("attr.{key}={v}")));
        }
        let filter = Filter {
            category,
            min,
            max,
            attribute,
        };
        let expected = brute_force(&products, &slugs, &parents, &filter);
        let page = app.api.search(&query.join("&")).await;
        assert_eq!(page["total"], expected["total"], "{query:?}");
        assert_eq!(page["facets"], expected["facets"], "{query:?}");
    }
}

#[actix_web::test]
async fn bad_search_parameters_are_refused() {
    let app = spawn_app().await;
    for (query, code) in [
        ("colour=red", "invalid_query"),
        ("sort=cheapest", "invalid_query"),
        ("per_page=0", "invalid_field"),
        ("per_page=101", "invalid_field"),
        ("page=0", "invalid_field"),
        ("page=x", "invalid_query"),
        ("min_price=10&max_price=5", "invalid_query"),
        ("min_price=-1", "invalid_query"),
        ("attr.Bad%20Key=x", "invalid_field"),
        ("page=600&per_page=20", "invalid_query"),
        ("q=a&q=b", "invalid_query"),
        ("category=Not_A_Slug", "invalid_field"),
    ] {
        let response = app.api.get(&format!("/v1/products?{query}")).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(error_code(response).await, code, "{query}");
    }
}

#[actix_web::test]
async fn a_restart_keeps_catalog_and_index_consistent_even_when_the_index_is_lost() {
    use crate::helpers::ServerProcess;

    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path(), &[]);
    let home = server.api.create_category("Home", "home", None).await["id"]
        .as_u64()
        .unwrap();
    let mut ids = Vec::new();
    for sku in ["MUG", "BOWL", "PLATE"] {
        ids.push(
            server.api.create_product(product(sku, home)).await["id"]
                .as_u64()
                .unwrap(),
        );
    }
    server
        .api
        .admin(
            Method::PATCH,
            &format!("/v1/products/{}", ids[0]),
            Some(json!({"name": "Espresso cup"})),
        )
        .await;
    server
        .api
        .admin(Method::DELETE, &format!("/v1/products/{}", ids[2]), None)
        .await;
    // Killed at once: the last changes may not have reached the index yet.
    server.kill();

    let ids = &ids;
    let expect_consistent = |api: Api| async move {
        assert_eq!(api.search_ids("q=espresso").await, [ids[0]]);
        assert_eq!(api.search("per_page=1").await["total"], 2);
        let product: Value = api.get(&format!("/v1/products/{}", ids[2])).await.json().await.unwrap();
        assert_eq!(product["status"], "archived");
    };
    let restarted = ServerProcess::start(dir.path(), &[]);
    expect_consistent(restarted.api.clone()).await;
    restarted.kill();

    std::fs::remove_dir_all(dir.path().join("search")).unwrap();
    let without_index = ServerProcess::start(dir.path(), &[]);
    expect_consistent(without_index.api.clone()).await;
    without_index.kill();

    std::fs::write(dir.path().join("search").join("meta.json"), b"{ not json").unwrap();
    let damaged_index = ServerProcess::start(dir.path(), &[]);
    expect_consistent(damaged_index.api.clone()).await;
}
