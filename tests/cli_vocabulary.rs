//! One vocabulary and one settings file for every command: `entra` (with `azure` as an alias) and values in any
//! case, string-or-list keys in `scimcheck.toml`, `--config` for `list`, `simulate` and `record`, `run`'s
//! positional filter and `-q`/`-v`, `list --format json`.

mod binary;

use binary::*;
use serde_json::{json, Value};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

async fn list_json(dir: &TempDir, args: &[&str]) -> Value {
    let mut all = vec!["list", "--format", "json"];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = output(scimcheck_in(&dir.0, &all)).await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn ids(doc: &Value) -> Vec<String> {
    doc["scenarios"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn list_json_describes_each_scenario_and_entra_azure_and_case_agree() {
    let dir = TempDir::new();
    let entra = list_json(&dir, &["--idp", "Entra", "--level", "MUST"]).await;
    let azure = list_json(&dir, &["--idp", "azure", "--level", "must"]).await;
    assert_eq!(ids(&entra), ids(&azure));
    assert!(!ids(&entra).is_empty());
    assert_eq!(entra["count"], json!(ids(&entra).len()));
    for s in entra["scenarios"].as_array().unwrap() {
        assert_eq!(s["idp"], "entra", "{s}");
        assert_eq!(s["level"], "must", "{s}");
        let id = s["id"].as_str().unwrap();
        assert_eq!(s["group"], id.split("::").nth(1).unwrap(), "{s}");
        assert!(s["file"].as_str().unwrap().starts_with("scenarios/azure/"), "{s}");
        for key in ["title", "kind", "tags", "requires", "steps"] {
            assert!(s.get(key).is_some(), "{key} in {s}");
        }
    }
}

#[tokio::test]
async fn the_settings_file_takes_one_string_or_a_list_for_list_and_config_names_another_file() {
    let dir = TempDir::new();
    std::fs::write(dir.join("scimcheck.toml"), "idp = \"okta\"\nlevel = \"Must\"\n").unwrap();
    let okta = list_json(&dir, &[]).await;
    assert!(!ids(&okta).is_empty());
    assert!(ids(&okta).iter().all(|id| id.starts_with("okta::")), "{okta}");
    std::fs::write(dir.join("other.toml"), "idp = [\"rfc\"]\n").unwrap();
    let rfc = list_json(&dir, &["--config", "other.toml"]).await;
    assert!(!ids(&rfc).is_empty() && ids(&rfc).iter().all(|id| id.starts_with("rfc::")), "{rfc}");
    // the flag wins over the file
    let flagged = list_json(&dir, &["--idp", "entra"]).await;
    assert!(ids(&flagged).iter().all(|id| id.starts_with("azure::")), "{flagged}");
}

#[tokio::test]
async fn run_takes_a_positional_filter_and_quiet_leaves_out_passes() {
    let dir = TempDir::new();
    let (code, stdout, stderr) = output(scimcheck_in(&dir.0, &["run", "--reference", "spec_suite"])).await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("scimcheck: 1 scenario(s) against"), "{stdout}");
    assert!(stdout.contains("PASS") && stdout.contains("okta::spec::spec_suite"), "{stdout}");
    let (code, stdout, stderr) = output(scimcheck_in(&dir.0, &["run", "--reference", "spec_suite", "-q"])).await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(!stdout.contains("PASS "), "-q leaves passes out: {stdout}");
    assert!(stdout.contains("1 passed, 0 failed"), "the summary stays: {stdout}");
}

#[tokio::test]
async fn simulate_reads_the_target_and_token_from_the_settings_file() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(|req: &Request| {
            let mut body: Value = serde_json::from_slice(&req.body).unwrap_or(json!({}));
            body["id"] = json!(uuid::Uuid::new_v4().to_string());
            ResponseTemplate::new(201).set_body_raw(body.to_string(), "application/scim+json")
        })
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(empty_list().to_string(), "application/scim+json"))
        .mount(&server)
        .await;
    let dir = TempDir::new();
    std::fs::write(
        dir.join("scimcheck.toml"),
        format!("base-url = \"{}/scim/v2\"\ntoken-env = \"SIM_CONFIG_TOKEN\"\n", server.uri()),
    )
    .unwrap();
    let mut cmd = scimcheck_in(
        &dir.0,
        &["simulate", "--idp", "Azure", "--users", "2", "--groups", "0", "--quiet", "--escrow-retries", "0"],
    );
    cmd.env("SIM_CONFIG_TOKEN", "sim-config-token-1234567");
    let (code, stdout, stderr) = output(cmd).await;
    assert!(code.is_some(), "{stdout}{stderr}");
    assert!(stdout.contains("settings: scimcheck.toml"), "{stdout}");
    let requests = server.received_requests().await.unwrap();
    assert!(!requests.is_empty(), "{stdout}{stderr}");
    for r in &requests {
        assert!(r.url.path().starts_with("/scim/v2/"), "{}", r.url);
        assert_eq!(r.headers.get("authorization").unwrap(), "Bearer sim-config-token-1234567");
    }
    // without a target anywhere: a usage error naming both ways
    let empty = TempDir::new();
    let (code, _, stderr) = output(scimcheck_in(&empty.0, &["simulate", "--idp", "entra", "--users", "1"])).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("no target: give --base-url URL (or base-url in scimcheck.toml)"), "{stderr}");
}

/// `record` takes its upstream from the settings file's `base-url` (the server under test is where the IdP's
/// traffic goes): it prints the file, forwards to it, and records; with neither `--upstream` nor a settings file
/// it is a usage error naming both ways.
#[tokio::test]
async fn record_takes_its_upstream_from_the_settings_file() {
    use std::io::BufRead;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(empty_list().to_string(), "application/scim+json"))
        .mount(&server)
        .await;
    let dir = TempDir::new();
    std::fs::write(dir.join("scimcheck.toml"), format!("base-url = \"{}/scim/v2\"\n", server.uri())).unwrap();
    let mut cmd = scimcheck_in(&dir.0, &["record", "--listen", "127.0.0.1:0", "--out", "rec", "--stop-after", "1"]);
    cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert_eq!(first, "settings: scimcheck.toml");
    let listening = lines.next().unwrap().unwrap();
    assert!(listening.ends_with(&format!("forwarding to {}/scim/v2", server.uri())), "{listening}");
    let addr = listening.split("listening on ").nth(1).and_then(|r| r.split(',').next()).unwrap().to_string();
    let answer = reqwest::Client::new()
        .get(format!("{addr}/Users?filter=userName%20eq%20%22a%22"))
        .header("User-Agent", "Okta SCIM Client 1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let status = tokio::task::spawn_blocking(move || child.wait()).await.unwrap().unwrap();
    assert!(status.success(), "{status}");
    let forwarded = server.received_requests().await.unwrap();
    assert_eq!(forwarded.len(), 1);
    assert_eq!(forwarded[0].url.path(), "/scim/v2/Users");

    let empty = TempDir::new();
    let (code, _, stderr) = output(scimcheck_in(&empty.0, &["record", "--out", "rec"])).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("no upstream: give --upstream URL") && stderr.contains("base-url in scimcheck.toml"));
}
