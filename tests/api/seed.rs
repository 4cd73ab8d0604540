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
