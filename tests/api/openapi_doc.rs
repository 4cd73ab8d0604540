//! `/openapi.json` is a valid OpenAPI 3.1 document (checked by
//! `openapi-spec-validator`, from PyPI), each operation has its own id, every
//! error answer has the error schema, and a route is listed only where it exists.

use std::collections::HashSet;
use std::process::Command;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{spawn_app, spawn_app_with};

const FAULT: &str = "/v1/admin/actors/{kind}/{id}/fault";

/// Every operation of `doc`: (path, method, operation).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            all.push((path.clone(), method.clone(), operation.clone()));
        }
    }
    all
}

/// Validates `doc` with openapi-spec-validator; `None` when it is not installed here.
fn validator_verdict(doc: &Value) -> Option<Result<(), String>> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let script =
        "import json, sys\nfrom openapi_spec_validator import validate\nvalidate(json.load(open(sys.argv[1])))";
    let output = Command::new("python3").args(["-c", script]).arg(&file).output().ok()?;
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    if stderr.contains("No module named 'openapi_spec_validator'") {
        return None;
    }
    Some(if output.status.success() { Ok(()) } else { Err(stderr) })
}

#[actix_web::test]
async fn the_openapi_document_validates_and_every_error_has_the_error_schema() {
    let app = spawn_app().await;
    let doc: Value = app.api.get("/openapi.json").await.json().await.unwrap();
    let mut ids = HashSet::new();
    for (path, method, operation) in operations(&doc) {
        let id = operation["operationId"].as_str().unwrap_or_default().to_string();
        assert!(
            ids.insert(id.clone()),
            "operationId {id:?} of {method} {path} is not unique"
        );
        for (status, response) in operation["responses"].as_object().unwrap() {
            if status.as_str() >= "400" {
                let schema = &response["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(schema, "#/components/schemas/Error", "{method} {path} {status}");
            }
        }
        for status in ["431", "500", "503"] {
            assert!(
                operation["responses"].get(status).is_some(),
                "{method} {path} lacks {status}"
            );
        }
    }
    match validator_verdict(&doc) {
        Some(verdict) => verdict.expect("a valid OpenAPI 3.1 document"),
        None if std::env::var_os("MERCATO_REQUIRE_ALL_TESTS").is_some() => {
            panic!("openapi-spec-validator is required here: pip install openapi-spec-validator")
        }
        None => eprintln!("openapi-spec-validator not installed: the document was not validated"),
    }
}

#[actix_web::test]
async fn the_fault_route_is_listed_only_where_it_exists() {
    let with = spawn_app().await;
    let doc: Value = with.api.get("/openapi.json").await.json().await.unwrap();
    assert!(doc["paths"].get(FAULT).is_some());

    let without = spawn_app_with(|settings| settings.testing.fault_injection = false).await;
    let doc: Value = without.api.get("/openapi.json").await.json().await.unwrap();
    assert!(doc["paths"].get(FAULT).is_none(), "listed while it answers 404");
    let fault = without
        .api
        .admin(Method::POST, "/v1/admin/actors/sku/A/fault", None)
        .await;
    assert_eq!(fault.status(), StatusCode::NOT_FOUND);
}
