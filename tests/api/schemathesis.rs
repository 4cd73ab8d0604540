//! Property-based conformance of the whole API against its own description:
//! schemathesis (PyPI) generates requests from `/openapi.json` for every
//! operation and checks that each answer's status, content type and body are
//! the documented ones. Bounded (10 examples an operation, a fixed seed) so
//! that it takes seconds. Skips with a message where schemathesis is not
//! installed, unless `MERCATO_REQUIRE_ALL_TESTS` is set (CI sets it and installs it).

use std::process::Command;

use crate::helpers::{ServerProcess, TOKEN};

#[actix_web::test]
async fn every_answer_to_generated_requests_is_documented() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path(), &[("MERCATO__TESTING__FAULT_INJECTION", "false")]);
    let run = Command::new("schemathesis")
        .args(["run", &server.api.url("/openapi.json")])
        .args(["--header", &format!("Authorization: Bearer {TOKEN}")])
        .args([
            "--checks",
            "status_code_conformance,content_type_conformance,response_schema_conformance",
        ])
        .args([
            "--phases",
            "examples,fuzzing",
            "--max-examples",
            "10",
            "--seed",
            "1",
            "--workers",
            "2",
        ])
        .env("NO_COLOR", "1")
        .output();
    let output = match run {
        Ok(output) => output,
        Err(why) if std::env::var_os("MERCATO_REQUIRE_ALL_TESTS").is_none() => {
            eprintln!("schemathesis not run ({why}): pip install schemathesis");
            return;
        }
        Err(why) => panic!("schemathesis is required here: {why}"),
    };
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found failures:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // "Selected: 66/66" and "Tested: 66": every operation it found was tested.
    let after = |label: &str| -> Vec<u64> {
        let line = report
            .lines()
            .find_map(|line| line.trim().strip_prefix(label))
            .unwrap_or_default();
        line.split('/').filter_map(|n| n.trim().parse().ok()).collect()
    };
    let (selected, tested) = (after("Selected:"), after("Tested:"));
    assert!(
        selected.len() == 2 && selected[0] == selected[1] && tested == [selected[0]] && selected[0] > 60,
        "it tested every operation:\n{report}"
    );
}
