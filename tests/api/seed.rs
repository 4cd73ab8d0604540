//! `mercato seed` makes a working shop of an empty data dir, and can be rerun.

use std::process::Command;

use crate::helpers::ServerProcess;

fn seed(dir: &std::path::Path, products: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_mercato"))
        .args(["seed", "--products", products, "--data-dir"])
        .arg(dir)
        .env("RUST_LOG", "warn")
        .output()
        .expect("mercato seed runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("utf-8")
}

#[actix_web::test]
async fn a_seeded_data_dir_is_a_searchable_stocked_shop() {
    let dir = tempfile::tempdir().unwrap();
    assert!(seed(dir.path(), "60").contains("60 products (0 existed)"));
    assert!(
        seed(dir.path(), "60").contains("0 products (60 existed)"),
        "a rerun skips what exists"
    );

    let server = ServerProcess::start(dir.path(), &[]);
    let page = server.api.search("per_page=100").await;
    assert_eq!(page["total"], 60);
    let tree: serde_json::Value = server.api.get("/v1/categories").await.json().await.unwrap();
    assert_eq!(tree.as_array().unwrap().len(), 5, "five root categories");
    let items = page["items"].as_array().unwrap();
    assert!(items.iter().all(|item| item["attributes"]["brand"].is_string()));
    assert!(items.iter().any(|item| item["is_available"] == true), "stock was set");
    let clothing = server.api.search("category=clothing&per_page=1").await;
    assert!(
        clothing["facets"]["attributes"]["size"].is_object(),
        "clothing has sizes"
    );
}

#[actix_web::test]
async fn serve_demo_fills_an_empty_data_dir_once_with_a_shop_that_makes_sense() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path(), &[("MERCATO_DEMO", "true")]);
    assert_eq!(server.api.search("per_page=1").await["total"], 240);
    let jackets = server.api.search("category=jackets&per_page=100").await;
    for item in jackets["items"].as_array().unwrap() {
        let material = item["attributes"]["material"].as_str().unwrap();
        assert!(
            ["recycled polyester", "nylon", "waxed cotton"].contains(&material),
            "a jacket of {material}"
        );
    }
    let coupons: serde_json::Value = server
        .api
        .admin(reqwest::Method::GET, "/v1/admin/coupons", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(coupons["coupons"][0]["code"], "WELCOME10");
    assert_eq!(coupons["promotions"].as_array().unwrap().len(), 1, "and a promotion");
    for (email, password, role) in [
        ("shopper@example.com", "demo-shopper-pass", "customer"),
        ("admin@example.com", "demo-admin-pass", "admin"),
    ] {
        let session: serde_json::Value = server.api.login(email, password).await.json().await.unwrap();
        assert_eq!(session["user"]["role"], role, "{email} signs in");
    }
    // Seeding while the server holds the data dir: one line that says what to do.
    let refused = Command::new(env!("CARGO_BIN_EXE_mercato"))
        .args(["seed", "--products", "5", "--data-dir"])
        .arg(dir.path())
        .env("RUST_LOG", "off")
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("stop it first"), "{stderr}");
    assert!(!stderr.contains("backtrace"), "no backtrace: {stderr}");
    assert_eq!(stderr.lines().count(), 2, "{stderr}");
    assert_eq!(server.terminate().code(), Some(0));

    let again = ServerProcess::start(dir.path(), &[("MERCATO_DEMO", "true")]);
    assert_eq!(
        again.api.search("per_page=1").await["total"],
        240,
        "nothing added twice"
    );
}
