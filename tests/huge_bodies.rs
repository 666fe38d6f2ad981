//! Bounded memory, the part a test can judge: a server that answers every request with a 2 MiB JSON body (an RFC
//! 7644 §3.4.2 ListResponse) gets a verdict for every scenario of the Okta library, and the reports stay small —
//! the JSON report under 20 MB, every body in it cut at the report body limit with its original size.
//! The peak memory of the same run is measured by `scimcheck bench --huge-bodies` (README: Bounded memory).

use std::path::PathBuf;

use scimcheck::cli::huge;
use scimcheck::idp::Idp;
use serde_json::Value;

fn bodies(report: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    for s in report["scenarios"].as_array().unwrap() {
        for st in s["steps"].as_array().unwrap().iter().chain(s["cleanup"].as_array().unwrap()) {
            if let Some(b) = st["response"].get("body") {
                out.push(b);
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_mib_answers_to_the_okta_library_give_verdicts_and_small_reports() {
    let body = huge::huge_body(2 * 1024 * 1024);
    let body_len = body.len();
    assert!(body_len >= 2 * 1024 * 1024);
    let (addr, server) = huge::serve(body).await.unwrap();
    let dir =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("scimcheck-huge-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = |n: &str| -> PathBuf { dir.join(n) };
    let base = format!("http://{addr}/scim/v2");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_scimcheck"))
        .args(["run", "--base-url", &base, "--token", "huge-token", "--idp", "okta", "--no-preflight"])
        .args(["--json", path("r.json").to_str().unwrap(), "--html", path("r.html").to_str().unwrap()])
        .args(["--junit", path("r.xml").to_str().unwrap()])
        .env_remove("SCIMCHECK_TOKEN")
        .output()
        .await
        .unwrap();
    server.abort();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // the same list for every request: scenarios fail, none crashes the run
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");

    let json_len = std::fs::metadata(path("r.json")).unwrap().len();
    assert!(json_len < 20_000_000, "JSON report of {json_len} bytes (target: under 20 MB)");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(path("r.json")).unwrap()).unwrap();
    let okta = scimcheck::cli::load(&[], false).unwrap().iter().filter(|s| s.idp == Idp::Okta).count();
    assert_eq!(report["counts"]["total"], okta, "every Okta scenario has a verdict");
    assert_eq!(report["scenarios"].as_array().unwrap().len(), okta);
    let limit = report["bodyLimit"].as_u64().unwrap() as usize;
    let huge: Vec<&Value> = bodies(&report).into_iter().filter(|b| b["size"] == body_len).collect();
    // every scenario that ran shows at least one 2 MiB answer (one whose fixture failed stops there: setupFailed)
    for sc in report["scenarios"].as_array().unwrap().iter().filter(|sc| sc["verdict"] != "skip") {
        let one =
            Value::Object(serde_json::Map::from_iter([("scenarios".to_string(), Value::Array(vec![sc.clone()]))]));
        let shown = bodies(&one).into_iter().filter(|b| b["size"] == body_len).count();
        assert!(shown >= 1, "{}: no 2 MiB answer shown", sc["id"]);
    }
    assert!(!huge.is_empty());
    for b in &huge {
        assert_eq!(b["truncated"], true, "{b}");
        let text = b["text"].as_str().unwrap();
        assert!(text.len() <= limit && text.starts_with("{\n  \"Resources\""), "{}", text.len());
    }
    let html_len = std::fs::metadata(path("r.html")).unwrap().len();
    assert!(html_len < 2 * json_len + 1_000_000, "HTML report of {html_len} bytes");
    let xml = std::fs::read_to_string(path("r.xml")).unwrap();
    assert_eq!(xml.matches("<testcase ").count(), okta);
    let _ = std::fs::remove_dir_all(&dir);
}
