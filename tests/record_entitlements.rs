//! `scimcheck import --har` recognises Okta's entitlement traffic: the role and entitlement endpoints the recorded
//! `/ResourceTypes` declared are kept (they are no standard SCIM endpoint), and the scenarios that use them or
//! assign roles and entitlements are tagged `entitlements` and `requires: oktaEntitlements` — replayed green on
//! the server they were recorded from, skipped with the reason on a server without the types.
//! Source: Okta, "Build a SCIM 2.0 server with entitlements",
//! https://developer.okta.com/docs/guides/scim-with-entitlements/main/#endpoint-call-sequence

use std::path::{Path, PathBuf};

use scim_reference_server::tenant::AppKind;
use scim_reference_server::{spawn, ServerConfig};
use serde_json::{json, Value};

async fn exchange(base: &str, token: &str, method: &str, path: &str, body: Option<Value>) -> (Value, Value) {
    let url = format!("{base}{path}");
    let mut req = reqwest::Client::new()
        .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), &url)
        .header("Authorization", format!("Bearer {token}"))
        .header("User-Agent", "Okta SCIM Client 1.0.0")
        .header("Content-Type", "application/scim+json; charset=utf-8");
    if let Some(b) = &body {
        req = req.body(b.to_string());
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let mut request = json!({"method": method, "url": url, "httpVersion": "HTTP/1.1",
        "headers": [{"name": "Authorization", "value": format!("Bearer {token}")},
                    {"name": "User-Agent", "value": "Okta SCIM Client 1.0.0"}],
        "queryString": [], "cookies": [], "headersSize": -1, "bodySize": -1});
    if let Some(b) = &body {
        request["postData"] = json!({"mimeType": "application/scim+json", "text": b.to_string()});
    }
    let entry = json!({"startedDateTime": chrono::Utc::now().to_rfc3339(), "time": 2.0, "request": request,
        "response": {"status": status, "statusText": "", "httpVersion": "HTTP/1.1",
                     "headers": [{"name": "Content-Type", "value": "application/scim+json"}], "cookies": [],
                     "content": {"size": text.len(), "mimeType": "application/scim+json", "text": text},
                     "redirectURL": "", "headersSize": -1, "bodySize": -1},
        "cache": {}, "timings": {"send": 0, "wait": 2, "receive": 0}});
    (entry, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn scenario_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            scenario_files(&e.path(), out);
        } else if e.path().extension().is_some_and(|x| x == "json") {
            out.push(e.path());
        }
    }
}

fn scimcheck(args: &[&str], token: &str) -> (bool, String) {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_scimcheck"))
        .args(args)
        .env("SCIMCHECK_TOKEN", token)
        .output()
        .unwrap();
    (o.status.success(), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
}

// the server answers while the binary runs: a blocking child process needs a second worker
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_okta_entitlement_capture_becomes_entitlement_scenarios() {
    let server = spawn(ServerConfig::default()).await.unwrap();
    let (base, token) = (server.base_url.clone(), server.token.clone());
    let mut entries = Vec::new();
    for path in ["/ResourceTypes", "/Roles?startIndex=1&count=100", "/Entitlements?startIndex=1&count=100"] {
        entries.push(exchange(&base, &token, "GET", path, None).await.0);
    }
    let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ent.har@example.com",
        "name": {"givenName": "Ent", "familyName": "Har"}, "externalId": "00uabcdefghij0123456", "active": true,
        "roles": [{"value": "role-editor", "display": "Editor"}],
        "entitlements": [{"value": "license-pro", "display": "Professional licence", "type": "License"}]});
    let (e, created) = exchange(&base, &token, "POST", "/Users", Some(user)).await;
    entries.push(e);
    let id = created["id"].as_str().expect("created").to_string();
    entries.push(exchange(&base, &token, "GET", &format!("/Users/{id}"), None).await.0);
    let har = json!({"log": {"version": "1.2", "creator": {"name": "mitmproxy", "version": "11.0.0"}, "pages": [], "entries": entries}});
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("scimcheck-record-ent-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let har_path = dir.join("capture.har");
    std::fs::write(&har_path, har.to_string()).unwrap();
    let out = dir.join("recorded");
    let (ok, printed) = scimcheck(&["import", "--har", har_path.to_str().unwrap(), "--out", out.to_str().unwrap()], "");
    assert!(ok, "{printed}");
    assert!(printed.contains("5 SCIM exchange(s)"), "the /Roles and /Entitlements reads are kept: {printed}");
    assert!(!printed.contains(&token));
    let mut files = Vec::new();
    scenario_files(&out, &mut files);
    let docs: Vec<Value> =
        files.iter().map(|f| serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap()).collect();
    let paths: Vec<String> = docs
        .iter()
        .flat_map(|d| d["steps"].as_array().unwrap().iter().map(|s| s["request"]["path"].as_str().unwrap().to_string()))
        .collect();
    assert!(paths.contains(&"/Roles".to_string()) && paths.contains(&"/Entitlements".to_string()), "{paths:?}");
    assert!(!docs.is_empty());
    for d in &docs {
        assert_eq!(d["requires"], json!(["oktaEntitlements"]), "{}", d["title"]);
        assert!(d["tags"].as_array().unwrap().contains(&json!("entitlements")));
    }

    // replayed green on the server they were recorded from, as the okta-entitlements suite
    let (ok, printed) = scimcheck(
        &[
            "run",
            "--no-library",
            "--scenarios",
            out.to_str().unwrap(),
            "--base-url",
            &base,
            "--suite",
            "okta-entitlements",
        ],
        &token,
    );
    assert!(ok, "{printed}");
    assert!(printed.contains(&format!("{} passed, 0 failed", docs.len())), "{printed}");
    // skipped with the reason on an app without the types
    let azure = server.endpoints.iter().find(|e| e.app == AppKind::Azure).unwrap();
    let azure_token = azure.token.clone().unwrap();
    let (ok, printed) = scimcheck(
        &["run", "--no-library", "--scenarios", out.to_str().unwrap(), "--base-url", &azure.base_url],
        &azure_token,
    );
    assert!(ok, "{printed}");
    assert!(printed.contains("oktaEntitlements (/ResourceTypes lists no resource type"), "{printed}");
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
