//! `run --suite entra-gallery` against the reference server, a user-only variant of it (no Group schema) and one
//! that answers 404 to a query matching nothing: each gives the results Microsoft's validation template gives,
//! under Microsoft's test names (docs/entra-gallery.md).

mod support;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use scim_reference_server::RunningServer;
use scimcheck::gallery::mapping::AttributeMapping;
use scimcheck::gallery::{self, auth::AuthEvidence, output, GalleryReport, Status, Verdict, NO_GROUP_SCHEMA};
use scimcheck::idp::errors::EngineAction;
use scimcheck::idp::Idp;
use scimcheck::reference_app::endpoint_for;
use serde_json::{json, Value};
use support::faults::{pass, spawn_faulty, Before, Fault, Seen, USER_ONLY};

fn options(server: &RunningServer, mapping: AttributeMapping) -> gallery::Options {
    let (base_url, token) = endpoint_for(server, Idp::Entra);
    gallery::Options {
        base_url,
        credential: scimcheck::credential::Credential::Header(format!("Bearer {token}")),
        mapping,
        auth: AuthEvidence::default(),
        timeout: Duration::from_secs(30),
        tls: Default::default(),
        rate_window: Duration::from_secs(1),
    }
}

fn status(r: &GalleryReport, name: &str) -> Status {
    r.tests.iter().find(|t| t.name == name).unwrap_or_else(|| panic!("{name} is reported")).status
}

fn detail<'r>(r: &'r GalleryReport, name: &str) -> &'r str {
    &r.tests.iter().find(|t| t.name == name).expect("reported").detail
}

async fn user_count(server: &RunningServer) -> u64 {
    let (base_url, token) = endpoint_for(server, Idp::Entra);
    let v: Value = reqwest::Client::new()
        .get(format!("{base_url}/Users?startIndex=1&count=1"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["totalResults"].as_u64().unwrap()
}

const GROUP_TESTS: [&str; 7] = [
    "Create_Group_Test",
    "Update_Group_Test",
    "Group_Update_Add_Member_Test",
    "Group_Update_Remove_Member_Test",
    "POD_Group_Test",
    "SCIM_Group_Create_Test",
    "SCIM_Group_Update_Test",
];

#[tokio::test]
async fn the_reference_server_passes_every_mandatory_test_and_is_not_ready_until_oauth() {
    let server = scim_reference_server::spawn(Default::default()).await.unwrap();
    let before = user_count(&server).await;
    let r = gallery::run(&options(&server, AttributeMapping::entra_default())).await.unwrap();
    assert_eq!(r.tests.len(), 25);
    for t in &r.tests {
        let want = if t.group == "Authentication" { Status::Skipped } else { Status::Passed };
        assert_eq!(t.status, want, "{}: {}", t.name, t.detail);
    }
    assert!(detail(&r, "Validate_Credentials_Test").contains("scimTokenEndpoint is empty"));
    assert!(r.requirements.iter().all(|q| q.met), "{:?}", r.requirements);
    assert_eq!(r.verdict, Verdict::OauthRequired);
    assert!(r.verdict.sentence().contains("OAuth required"));
    // what the suite created is deleted
    assert_eq!(user_count(&server).await, before);

    // the JUnit report names each case as Microsoft does; skipped authentication tests are <skipped>
    let xml = output::junit(&r);
    for t in gallery::TESTS {
        assert!(xml.contains(&format!("<testcase name=\"{}\"", t.name)), "{}", t.name);
    }
    assert!(xml.contains("<testcase name=\"Validate_Credentials_Test\" classname=\"Authentication\"><skipped"));
    let json: Value = serde_json::from_str(&output::json(&r)).unwrap();
    assert_eq!(json["verdict"], "oauthRequired");
    assert_eq!(json["tests"][0]["name"], "Create_User_Test");
    assert!(!output::json(&r).contains("Bearer"), "no credential in the report");
    server.shutdown().await;
}

#[tokio::test]
async fn a_mapping_without_manager_skips_both_manager_tests_and_an_undeclared_attribute_fails_discovery() {
    let server = scim_reference_server::spawn(Default::default()).await.unwrap();
    let export = json!({"synchronizationRules": [{"objectMappings": [
        {"enabled": true, "targetObjectName": "User", "attributeMappings": [
            {"targetAttributeName": "userName"}, {"targetAttributeName": "ACTIVE"},
            {"targetAttributeName": "urn:ietf:params:scim:schemas:extension:acme:2.0:User:badgeColour"}]},
        {"enabled": true, "targetObjectName": "Group", "attributeMappings": [{"targetAttributeName": "displayName"}]}
    ]}]});
    let mapping = AttributeMapping::from_portal_export(&export.to_string(), "schema.json").unwrap();
    let r = gallery::run(&options(&server, mapping)).await.unwrap();
    assert_eq!(status(&r, "User_Update_Manager_Test"), Status::Skipped);
    assert_eq!(status(&r, "SCIM_Update_Manager_Test"), Status::Skipped);
    assert_eq!(status(&r, "Schema_Discoverability_Test"), Status::Failed);
    assert!(
        detail(&r, "Schema_Discoverability_Test").contains("badgeColour"),
        "{}",
        detail(&r, "Schema_Discoverability_Test")
    );
    assert_eq!(r.verdict, Verdict::Failed);
    server.shutdown().await;
}

#[tokio::test]
async fn without_the_group_schema_the_seven_group_tests_fail_as_microsofts_template_says() {
    let server = spawn_faulty(&USER_ONLY).await;
    let r = gallery::run(&options(&server, AttributeMapping::entra_default())).await.unwrap();
    assert!(!r.groups_supported);
    for name in GROUP_TESTS {
        assert_eq!(status(&r, name), Status::Failed, "{name}");
        let d = detail(&r, name);
        // Microsoft's initialisation message, under the test's name and the rule it holds the server to
        assert!(d.starts_with(&format!("Microsoft's {name} (test ")), "{d}");
        assert!(d.contains(NO_GROUP_SCHEMA.trim_end_matches('.')) && d.contains("Rule: "), "{d}");
    }
    // optional group tests are warnings, group pagination is skipped, user tests still pass
    assert_eq!(status(&r, "Delete_Group_Test"), Status::Warning);
    assert_eq!(status(&r, "Restore_Group_Test"), Status::Warning);
    assert_eq!(status(&r, "SCIM_Group_Pagination_Test"), Status::Skipped);
    for name in ["Create_User_Test", "Disable_User_Test", "SCIM_User_Create_Test", "Schema_Discoverability_Test"] {
        assert_eq!(status(&r, name), Status::Passed, "{name}: {}", detail(&r, name));
    }
    assert_eq!(r.verdict, Verdict::Failed);
    let xml = output::junit(&r);
    assert!(xml.contains("<testcase name=\"Create_Group_Test\" classname=\"Group Lifecycle\"><failure"), "{xml}");
    server.shutdown().await;
}

fn no_match_404(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    let empty = body.as_ref().and_then(|b| b.get("totalResults")).and_then(Value::as_u64) == Some(0);
    if seen.is(Method::GET, "/Users") && seen.param("filter").is_some() && empty {
        *status = StatusCode::NOT_FOUND;
        *body = Some(
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "404", "detail": "User not found"}),
        );
    }
}

/// Answers 404 to a user query that matches nothing.
static NO_MATCH_404: Fault = Fault {
    name: "no-match-404",
    description: "a user query matching nothing answers 404",
    before: pass,
    after: no_match_404,
};

#[tokio::test]
async fn a_404_for_a_query_matching_nothing_fails_create_user_with_entras_quarantine() {
    let server = spawn_faulty(&NO_MATCH_404).await;
    let r = gallery::run(&options(&server, AttributeMapping::entra_default())).await.unwrap();
    let create = r.tests.iter().find(|t| t.name == "Create_User_Test").unwrap();
    assert_eq!(create.status, Status::Failed, "{}", create.detail);
    assert!(create.detail.contains("answered 404"), "{}", create.detail);
    let entra = create.entra.as_ref().expect("the Entra view of the failure");
    assert_eq!(entra.action, EngineAction::Quarantine);
    let q = r.requirements.iter().find(|q| q.name == "noMatchQuery").unwrap();
    assert!(!q.met, "{}", q.detail);
    assert_eq!(q.entra.as_ref().map(|e| e.action), Some(EngineAction::Quarantine));
    // direct SCIM calls that do not query are unaffected
    assert_eq!(status(&r, "SCIM_User_Create_Test"), Status::Passed);
    assert_eq!(r.verdict, Verdict::Failed);
    server.shutdown().await;
}

#[test]
fn the_command_prints_the_readiness_table_and_writes_junit_under_microsofts_names() {
    let dir =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("scimcheck-gallery-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let junit = dir.join("gallery.xml");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_scimcheck"))
        .args(["run", "--reference", "--suite", "entra-gallery", "--rate-window", "1s", "--junit"])
        .arg(&junit)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "not ready until OAuth: {stdout}");
    assert!(stdout.contains("Create_User_Test") && stdout.contains("NOT READY: OAuth required"), "{stdout}");
    assert!(stdout.contains("23 passed, 0 failed, 0 warning(s), 2 skipped"), "{stdout}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<testcase name=\"SCIM_Update_Manager_Test\" classname=\"SCIM Direct Compliance\">"), "{xml}");

    // a mapping file that is not the portal's schema is refused before any request
    let bad = dir.join("mapping.json");
    std::fs::write(&bad, "{\"attributes\": []}").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_scimcheck"))
        .args(["run", "--reference", "--suite", "entra-gallery", "--attribute-mapping"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("synchronizationRules"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn suite_in_scimcheck_toml_runs_the_gallery_suite_and_refuses_a_scenario_selection() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("scimcheck-gallery-toml-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("scimcheck.toml");
    std::fs::write(&config, "suite = \"entra-gallery\"\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_scimcheck"))
        .args(["run", "--reference", "--rate-window", "1s", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("Create_User_Test") && stdout.contains("NOT READY: OAuth required"), "{stdout}");

    // a selection flag on the command line would be ignored by the file's suite: refused before any request
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_scimcheck"))
        .args(["run", "--reference", "--idp", "okta", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--idp selects scenarios, but suite in"), "{stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("Create_User_Test"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Registers an OAuth client of the tenant's SCIMAzure app (`body`: `tokenLifetime`, `publicKey`); returns the
/// client id, its secret (when one was issued) and the token endpoint.
async fn register_entra_client(server: &RunningServer, body: Value) -> (String, Option<String>, String) {
    let tenant = server.endpoints.iter().find(|e| e.base_url == server.base_url).unwrap().tenant.clone();
    let v = support::apps::register_oauth_client(server, &tenant, "SCIMAzure", body).await;
    let s = |k: &str| v[k].as_str().map(str::to_string);
    (s("clientId").unwrap(), s("clientSecret"), s("tokenEndpoint").unwrap())
}

/// Runs `scimcheck run --suite entra-gallery` with `args` (and `env`) off the async runtime.
async fn gallery_command(args: Vec<String>, env: Vec<(String, String)>) -> (Option<i32>, String, String) {
    tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_scimcheck"))
            .args(["run", "--suite", "entra-gallery", "--rate-window", "1s"])
            .args(&args)
            .envs(env)
            .env_remove("SCIMCHECK_TOKEN")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_oauth_the_reference_server_passes_both_authentication_tests_and_is_ready() {
    let server = scim_reference_server::spawn(Default::default()).await.unwrap();
    let (base_url, _) = endpoint_for(&server, Idp::Entra);

    // client credentials with a secret (RFC 6749 §4.4): Validate_Credentials_Test
    let (id, secret, token_url) = register_entra_client(&server, json!({"tokenLifetime": 3600})).await;
    let secret = secret.expect("a client secret");
    let args = vec!["--base-url".into(), base_url.clone(), "--oauth-token-url".into(), token_url.clone()];
    let (code, stdout, stderr) = gallery_command(
        [args.clone(), vec!["--oauth-client-id".into(), id]].concat(),
        vec![("SCIMCHECK_OAUTH_CLIENT_SECRET".into(), secret.clone())],
    )
    .await;
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("READY: Microsoft's validation would succeed"), "{stdout}");
    assert!(stdout.contains("24 passed, 0 failed, 0 warning(s), 1 skipped"), "{stdout}");
    assert!(!stdout.contains(&secret) && !stderr.contains(&secret), "the client secret was printed");

    // a JWT-bearer client assertion (RFC 7523 §2.2), the workload identity federation flow: Federated_Identity_Test
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let (id, _, token_url) =
        register_entra_client(&server, json!({"tokenLifetime": 3600, "publicKey": key.public_key_pem()})).await;
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("scimcheck-gallery-oauth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key_file = dir.join("key.pem");
    std::fs::write(&key_file, key.serialize_pem()).unwrap();
    let json_file = dir.join("gallery.json");
    let (code, stdout, stderr) = gallery_command(
        vec![
            "--base-url".into(),
            base_url.clone(),
            "--oauth-token-url".into(),
            token_url,
            "--oauth-client-id".into(),
            id,
            "--oauth-private-key".into(),
            key_file.display().to_string(),
            "--json".into(),
            json_file.display().to_string(),
        ],
        vec![],
    )
    .await;
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&json_file).unwrap()).unwrap();
    let status =
        |name: &str| json["tests"].as_array().unwrap().iter().find(|t| t["name"] == name).unwrap()["status"].clone();
    assert_eq!(status("Federated_Identity_Test"), "PASSED", "{json}");
    assert_eq!(status("Validate_Credentials_Test"), "SKIPPED", "{json}");
    assert_eq!(json["verdict"], "succeeded", "{json}");

    // a client secret the token endpoint refuses: Validate_Credentials_Test FAILED (not a stop at preflight), the SCIM
    // tests skipped for want of a token, Microsoft's verdict Failed; never the secret given
    let (id, _, token_url) = register_entra_client(&server, json!({"tokenLifetime": 3600})).await;
    let (code, stdout, stderr) = gallery_command(
        vec!["--base-url".into(), base_url, "--oauth-token-url".into(), token_url, "--oauth-client-id".into(), id],
        vec![("SCIMCHECK_OAUTH_CLIENT_SECRET".into(), "not-the-secret".into())],
    )
    .await;
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("invalid_client") && stdout.contains("Validate_Credentials_Test"), "{stdout}");
    assert!(!format!("{stdout}{stderr}").contains("not-the-secret"));
    std::fs::remove_dir_all(&dir).unwrap();
    server.shutdown().await;
}

#[test]
fn scimcheck_report_re_renders_a_saved_gallery_report_as_the_run_wrote_it() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("scimcheck-gallery-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = |f: &str| dir.join(f);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_scimcheck"))
        .args(["run", "--reference", "--suite", "entra-gallery", "--rate-window", "1s", "--json"])
        .arg(p("run.json"))
        .arg("--junit")
        .arg(p("run.xml"))
        .arg("--html")
        .arg(p("run.html"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    let report = |json: &std::path::Path, junit: &str, html: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_scimcheck"))
            .args(["report", "--json"])
            .arg(json)
            .arg("--junit")
            .arg(p(junit))
            .arg("--html")
            .arg(p(html))
            .output()
            .unwrap()
    };
    let again = report(&p("run.json"), "again.xml", "again.html");
    assert_eq!(again.status.code(), Some(0), "{}", String::from_utf8_lossy(&again.stderr));
    let read = |f: &str| std::fs::read_to_string(p(f)).unwrap();
    assert_eq!(read("again.xml"), read("run.xml"));
    assert_eq!(read("again.html"), read("run.html"));

    // a failure's Entra view written in the file is rendered; the failure reaches JUnit under Microsoft's name
    let mut v: Value = serde_json::from_str(&read("run.json")).unwrap();
    let t = v["tests"].as_array_mut().unwrap().iter_mut().find(|t| t["name"] == "Create_User_Test").unwrap();
    t["status"] = "FAILED".into();
    t["detail"] = "POST /Users answered 409".into();
    t["entra"] = json!({"idp": "entra", "code": "EntryConflict", "customerSees": "the create conflicts",
        "action": "escrow", "retried": true, "source": "https://learn.microsoft.com/x"});
    std::fs::write(p("failed.json"), v.to_string()).unwrap();
    let out = report(&p("failed.json"), "failed.xml", "failed.html");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let xml = read("failed.xml");
    assert!(xml.contains("Create_User_Test") && xml.contains("EntryConflict"), "{xml}");

    // a test Microsoft's template does not have is refused, nothing written
    let t = v["tests"].as_array_mut().unwrap().iter_mut().find(|t| t["name"] == "Create_User_Test").unwrap();
    t["name"] = "Invented_Test".into();
    std::fs::write(p("bad.json"), v.to_string()).unwrap();
    let out = report(&p("bad.json"), "bad.xml", "bad.html");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`Invented_Test` is not one of Microsoft's 25 tests"), "{stderr}");
    assert!(!p("bad.xml").exists() && !p("bad.html").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every PATCH the recording server saw (one test uses it, so the list holds only that test's requests).
static PATCHES: std::sync::Mutex<Vec<Seen>> = std::sync::Mutex::new(Vec::new());

fn record_patch(seen: &Seen) -> Before {
    if seen.method == Method::PATCH {
        PATCHES.lock().unwrap().push(seen.clone());
    }
    Before::Pass
}

static RECORD_PATCHES: Fault = Fault {
    name: "record-patches",
    description: "passes everything, recording each PATCH",
    before: record_patch,
    after: support::faults::keep,
};

#[tokio::test]
async fn the_suite_sends_entras_patch_dialects_as_docs_entra_md_describes() {
    let server = spawn_faulty(&RECORD_PATCHES).await;
    let ops = |s: &Seen| s.operations();

    // the default dialect (docs/entra.md §2): capitalised ops, one Replace per attribute with a path, "False" as a
    // string, member removal by Remove on members with a value list
    let r = gallery::run(&options(&server, AttributeMapping::entra_default())).await.unwrap();
    assert_eq!(status(&r, "Group_Update_Remove_Member_Test"), Status::Passed);
    let default: Vec<Seen> = std::mem::take(&mut *PATCHES.lock().unwrap());
    // (SCIM_Update_Manager_Test is a direct SCIM call that sends the manager as Microsoft's SCIM workflow does: `Add`
    // of the bare id, then `replace` with the other bare id and with "", lower case, on the enterprise manager path)
    let manager = |o: &Value| o["path"].as_str().is_some_and(|p| p.ends_with(":manager"));
    let direct: Vec<Value> = default.iter().flat_map(ops).filter(|o| manager(o) && o["op"] == "replace").collect();
    assert_eq!(direct.len(), 2, "the direct manager change and removal: {direct:?}");
    assert!(direct.iter().all(|o| o["value"].is_string()), "bare ids and \"\": {direct:?}");
    assert!(
        default.iter().flat_map(ops).filter(|o| manager(o) && o["op"] == "Add").all(|o| o["value"].is_string()),
        "the manager is set as a bare id"
    );
    let engine: Vec<Value> = default.iter().flat_map(ops).filter(|o| !(manager(o) && o["op"] == "replace")).collect();
    let names: Vec<&str> = engine.iter().filter_map(|o| o["op"].as_str()).collect();
    assert!(!names.is_empty() && names.iter().all(|o| ["Add", "Replace", "Remove"].contains(o)), "{names:?}");
    assert!(default.iter().flat_map(ops).filter(|o| o["op"] == "Replace").all(|o| o.get("path").is_some()));
    assert!(default.iter().flat_map(ops).any(|o| o["value"] == "False"), "no disable with the string \"False\"");
    assert!(default
        .iter()
        .flat_map(ops)
        .any(|o| o["op"] == "Remove" && o["path"] == "members" && o["value"].is_array()));

    // with ?aadOptscim062020 on the Tenant URL the cycle tests speak the RFC dialect (lower-case ops, booleans, member
    // removal through members[value eq "…"]), while provision on demand keeps the default dialect: its group
    // arrives with its 5 members (the on-demand limit) in one capitalised Add
    let mut o = options(&server, AttributeMapping::entra_default());
    o.base_url.push_str("?aadOptscim062020");
    let r = gallery::run(&o).await.unwrap();
    assert_eq!(status(&r, "POD_Group_Test"), Status::Passed, "{}", detail(&r, "POD_Group_Test"));
    let flagged: Vec<Seen> = std::mem::take(&mut *PATCHES.lock().unwrap());
    let lower: Vec<Value> = flagged
        .iter()
        .flat_map(ops)
        .filter(|o| o["op"].as_str().is_some_and(|s| s.chars().all(|c| c.is_ascii_lowercase())))
        .collect();
    assert!(lower.iter().any(|o| o["path"].as_str().is_some_and(|p| p.starts_with("members[value eq"))), "{lower:?}");
    assert!(
        lower.iter().any(|o| o["value"] == false || o["value"].get("active") == Some(&Value::Bool(false))),
        "{lower:?}"
    );
    assert!(!flagged.iter().flat_map(ops).any(|o| o["value"] == "False"), "a string boolean with the flag");
    let pod_adds: Vec<usize> = flagged
        .iter()
        .flat_map(ops)
        .filter(|o| o["op"] == "Add" && o["path"] == "members")
        .map(|o| o["value"].as_array().map_or(0, Vec::len))
        .collect();
    assert!(pod_adds.contains(&5), "{pod_adds:?}");
    let all_adds = default.iter().chain(&flagged).flat_map(ops).filter(|o| o["path"] == "members");
    assert!(all_adds.map(|o| o["value"].as_array().map_or(1, Vec::len)).all(|n| n <= 5), "a membership change over 5");
    server.shutdown().await;
}

/// Runs the suite in-process against `base_url` with an OAuth client (`id`, `secret`) of `token_url`, its evidence
/// gathered as `run --suite entra-gallery` gathers it; asserts that no client secret (`secret`, `scs_…`) or access
/// token (`sat_…`) is in the readiness table or the JSON, JUnit and HTML reports, and returns the report.
async fn oauth_gallery_run(base_url: &str, token_url: &str, id: &str, secret: &str) -> GalleryReport {
    use scimcheck::oauth::{ClientAuth, OAuthConfig, TokenSource};
    let config = OAuthConfig {
        token_url: token_url.into(),
        client_id: id.into(),
        auth: ClientAuth::Secret(secret.into()),
        scope: None,
    };
    let source = std::sync::Arc::new(TokenSource::new(config, reqwest::Client::new(), Duration::from_secs(10)));
    let sources = scimcheck::oauth::config::OAuthSources { secret: Some(source.clone()), assertion: None };
    let auth = gallery::auth::evidence(&sources, &reqwest::Client::new(), base_url, Duration::from_secs(10)).await;
    let o = gallery::Options {
        base_url: base_url.into(),
        credential: scimcheck::credential::Credential::OAuth(source),
        mapping: AttributeMapping::entra_default(),
        auth,
        timeout: Duration::from_secs(30),
        tls: Default::default(),
        rate_window: Duration::from_secs(1),
    };
    let r = gallery::run(&o).await.unwrap();
    let all = format!("{}{}{}{}", output::table(&r), output::json(&r), output::junit(&r), output::html(&r));
    assert!(!all.contains(secret), "the client secret was written: {all}");
    assert!(!all.contains("sat_") && !all.contains("scs_"), "a token or secret was written: {all}");
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_living_30_minutes_fail_validate_credentials_and_the_verdict() {
    let server = scim_reference_server::spawn(Default::default()).await.unwrap();
    let (base_url, _) = endpoint_for(&server, Idp::Entra);
    let (id, secret, token_url) = register_entra_client(&server, json!({"tokenLifetime": 1800})).await;
    let r = oauth_gallery_run(&base_url, &token_url, &id, &secret.unwrap()).await;
    assert_eq!(status(&r, "Validate_Credentials_Test"), Status::Failed);
    let d = detail(&r, "Validate_Credentials_Test");
    assert!(d.contains("Validate_Credentials_Test") && d.contains("30 minutes") && d.contains("60 to 360"), "{d}");
    // the SCIM tests ran with the token all the same
    assert_eq!(status(&r, "Create_User_Test"), Status::Passed, "{}", detail(&r, "Create_User_Test"));
    assert_eq!(r.verdict, Verdict::Failed);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_endpoint_answering_400_fails_validate_credentials_and_skips_the_scim_tests_with_the_reason() {
    use wiremock::matchers::{method, path};
    let server = scim_reference_server::spawn(Default::default()).await.unwrap();
    let (base_url, _) = endpoint_for(&server, Idp::Entra);
    let idp = wiremock::MockServer::start().await;
    wiremock::Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(wiremock::ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_request"})))
        .mount(&idp)
        .await;
    let secret = "scs_gallery-secret-never-printed";
    let r = oauth_gallery_run(&base_url, &format!("{}/token", idp.uri()), "client", secret).await;
    assert_eq!(status(&r, "Validate_Credentials_Test"), Status::Failed);
    let d = detail(&r, "Validate_Credentials_Test");
    assert!(d.contains("Validate_Credentials_Test") && d.contains("400") && d.contains("invalid_request"), "{d}");
    for name in ["Create_User_Test", "SCIM_User_Create_Test", "Schema_Discoverability_Test"] {
        assert_eq!(status(&r, name), Status::Skipped, "{name}");
        assert!(detail(&r, name).contains("the token endpoint failed"), "{}", detail(&r, name));
    }
    assert_eq!(status(&r, "Federated_Identity_Test"), Status::Skipped);
    assert_eq!(r.verdict, Verdict::Failed);
    server.shutdown().await;
}

/// Answers a refused `GET /Users` (an expired token's 401) with an empty list: a server that ignores token expiry.
fn accept_expired(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if seen.is(Method::GET, "/Users") && *status == StatusCode::UNAUTHORIZED {
        *status = StatusCode::OK;
        *body = Some(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []
        }));
    }
}

static IGNORES_EXPIRY: Fault = Fault {
    name: "ignores-expiry",
    description: "GET /Users with an expired token answers 200",
    before: pass,
    after: accept_expired,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_ignoring_token_expiry_fails_validate_credentials() {
    let server = spawn_faulty(&IGNORES_EXPIRY).await;
    let (base_url, _) = endpoint_for(&server, Idp::Entra);
    // tokens of 2 s: short enough for the suite to wait for one to expire
    let (id, secret, token_url) = register_entra_client(&server, json!({"tokenLifetime": 2})).await;
    let r = oauth_gallery_run(&base_url, &token_url, &id, &secret.unwrap()).await;
    assert_eq!(status(&r, "Validate_Credentials_Test"), Status::Failed);
    let d = detail(&r, "Validate_Credentials_Test");
    assert!(d.contains("ignores the token's expiry") && d.contains("RFC 6750 §3.1"), "{d}");
    assert_eq!(r.verdict, Verdict::Failed);
    server.shutdown().await;
}

fn error(status: u16, scim_type: Option<&str>, detail: &str) -> Option<Value> {
    let mut e = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": status.to_string(),
        "detail": detail});
    if let Some(t) = scim_type {
        e["scimType"] = t.into();
    }
    Some(e)
}

fn refuse_entra_group_schema(seen: &Seen) -> Before {
    let schemas = seen.body.as_ref().and_then(|b| b.get("schemas")).and_then(Value::as_array).cloned();
    let foreign = schemas.iter().flatten().any(|s| s != "urn:ietf:params:scim:schemas:core:2.0:Group");
    if seen.is(Method::POST, "/Groups") && foreign {
        return Before::Respond(StatusCode::BAD_REQUEST, error(400, Some("invalidValue"), "Unknown extension schemas"));
    }
    Before::Pass
}

/// Refuses a group create whose `schemas` lists anything but the core Group schema (as Entra's engine sends
/// Microsoft's own group schema URN beside it).
static ENTRA_GROUP_SCHEMA_REFUSED: Fault = Fault {
    name: "entra-group-schema-refused",
    description: "POST /Groups with a schema URN besides the core Group schema answers 400",
    before: refuse_entra_group_schema,
    after: |_, _, _| {},
};

/// The direct SCIM tests create their groups with a plain SCIM group body, as Microsoft's SCIM workflow does
/// (`scimGroupBody`), not with the provisioning engine's create: a server refusing the engine's extra schema URN
/// fails the engine's group tests only, and the direct group tests judge its PATCH and paging.
#[tokio::test]
async fn the_direct_group_tests_create_their_groups_directly_not_through_the_engine() {
    let server = spawn_faulty(&ENTRA_GROUP_SCHEMA_REFUSED).await;
    let r = gallery::run(&options(&server, AttributeMapping::entra_default())).await.unwrap();
    assert_eq!(status(&r, "Create_Group_Test"), Status::Failed);
    assert!(
        detail(&r, "Create_Group_Test").contains("POST /Groups answered 400"),
        "{}",
        detail(&r, "Create_Group_Test")
    );
    for name in ["SCIM_Group_Create_Test", "SCIM_Group_Update_Test", "SCIM_Group_Pagination_Test"] {
        assert_eq!(status(&r, name), Status::Passed, "{name}: {}", detail(&r, name));
    }
    server.shutdown().await;
}

fn filter_not_implemented(seen: &Seen) -> Before {
    if seen.method == Method::GET && seen.param("filter").is_some() {
        return Before::Respond(StatusCode::NOT_IMPLEMENTED, error(501, None, "Filtering is not supported"));
    }
    Before::Pass
}

/// Answers 501 to every filtered query (filtering not offered, RFC 7644 §3.4.2.2 lets a server say so).
static FILTER_501: Fault = Fault {
    name: "filter-501",
    description: "every filtered GET answers 501",
    before: filter_not_implemented,
    after: |_, _, _| {},
};

/// A server that refuses the engine's lookup itself fails the no-match requirement; the 25 requests/s requirement
/// is then measured on page reads, so it judges the rate rather than reporting the missing filter a second time.
#[tokio::test]
async fn a_server_refusing_lookups_is_held_to_the_rate_on_page_reads() {
    let server = spawn_faulty(&FILTER_501).await;
    let r = gallery::run(&options(&server, AttributeMapping::entra_default())).await.unwrap();
    let req = |name: &str| r.requirements.iter().find(|q| q.name == name).unwrap();
    assert!(!req("noMatchQuery").met, "{}", req("noMatchQuery").detail);
    assert!(req("noMatchQuery").detail.contains("answered 501"), "{}", req("noMatchQuery").detail);
    let rate = req("requestRate");
    assert!(rate.met, "{}", rate.detail);
    assert!(rate
        .detail
        .contains("page reads (GET /Users?startIndex=1&count=1: the server answers the engine's lookup 501"));
    assert_eq!(r.verdict, Verdict::Failed);
    server.shutdown().await;
}

/// One run takes both of Microsoft's authentication flows, as the validation template takes both parameter sets
/// (`scimClientId`/`scimClientSecret` and `federatedClientId`): a client with a secret and a client with a key,
/// each checked by its test; the SCIM tests go with the client-credentials token. Against the reference server
/// every test passes and the verdict is Microsoft's Succeeded, with no secret, key or access token written. When
/// the secret is refused, Validate_Credentials_Test fails and the SCIM tests go with the assertion's tokens: one
/// passing authentication test is enough for Succeeded (Microsoft's OR logic).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_run_with_a_secret_and_a_key_passes_both_authentication_tests_and_writes_no_secret() {
    let server = scim_reference_server::spawn(Default::default()).await.unwrap();
    let (base_url, _) = endpoint_for(&server, Idp::Entra);
    let (secret_id, secret, token_url) = register_entra_client(&server, json!({"tokenLifetime": 3600})).await;
    let secret = secret.expect("a client secret");
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let (key_id, _, key_token_url) =
        register_entra_client(&server, json!({"tokenLifetime": 3600, "publicKey": key.public_key_pem()})).await;
    assert_eq!(key_token_url, token_url, "one token endpoint per tenant");
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("scimcheck-gallery-two-flows-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key_file = dir.join("key.pem");
    let pem = key.serialize_pem();
    std::fs::write(&key_file, &pem).unwrap();
    let key_line = pem.lines().nth(1).expect("the key's first base64 line").to_string();
    let p = |f: &str| dir.join(f).display().to_string();
    let args = |tag: &str| -> Vec<String> {
        vec![
            "--base-url".into(),
            base_url.clone(),
            "--oauth-token-url".into(),
            token_url.clone(),
            "--oauth-client-id".into(),
            secret_id.clone(),
            "--oauth-private-key".into(),
            key_file.display().to_string(),
            "--oauth-federated-client-id".into(),
            key_id.clone(),
            "--json".into(),
            p(&format!("{tag}.json")),
            "--junit".into(),
            p(&format!("{tag}.xml")),
            "--html".into(),
            p(&format!("{tag}.html")),
        ]
    };
    let read = |tag: &str| {
        ["json", "xml", "html"].map(|ext| std::fs::read_to_string(dir.join(format!("{tag}.{ext}"))).unwrap()).join("")
    };
    let json_of = |tag: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{tag}.json"))).unwrap()).unwrap()
    };
    let status = |v: &Value, name: &str| -> String {
        v["tests"].as_array().unwrap().iter().find(|t| t["name"] == name).unwrap()["status"].as_str().unwrap().into()
    };
    let no_secret = |all: &str| {
        assert!(!all.contains(&secret), "the client secret was written");
        assert!(!all.contains(&key_line), "the private key was written");
        assert!(!all.contains("sat_") && !all.contains("scs_"), "an access token or secret was written: {all}");
    };

    let (code, stdout, stderr) =
        gallery_command(args("both"), vec![("SCIMCHECK_OAUTH_CLIENT_SECRET".into(), secret.clone())]).await;
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("25 passed, 0 failed, 0 warning(s), 0 skipped"), "{stdout}");
    assert!(stdout.contains("READY: Microsoft's validation would succeed"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "SCIM requests sent with the client credentials (client secret) token of client {secret_id}"
        )),
        "{stdout}"
    );
    let v = json_of("both");
    assert_eq!(v["verdict"], "succeeded");
    for name in ["Validate_Credentials_Test", "Federated_Identity_Test"] {
        assert_eq!(status(&v, name), "PASSED", "{name}: {v}");
    }
    assert!(v["tests"].as_array().unwrap().iter().all(|t| t["status"] == "PASSED"), "{v}");
    no_secret(&format!("{stdout}{stderr}{}", read("both")));

    // the secret refused: its test fails with the endpoint's answer, the assertion's tokens carry the SCIM tests
    let (code, stdout, stderr) =
        gallery_command(args("refused"), vec![("SCIMCHECK_OAUTH_CLIENT_SECRET".into(), "scs_not-the-secret".into())])
            .await;
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let v = json_of("refused");
    assert_eq!(status(&v, "Validate_Credentials_Test"), "FAILED", "{v}");
    assert_eq!(status(&v, "Federated_Identity_Test"), "PASSED", "{v}");
    assert_eq!(v["verdict"], "succeeded", "{v}");
    assert!(stdout.contains(&format!("SCIM requests sent with the JWT-bearer assertion token of client {key_id}")));
    assert!(stdout.contains("invalid_client"), "{stdout}");
    no_secret(&format!("{stdout}{stderr}{}", read("refused")));
    std::fs::remove_dir_all(&dir).unwrap();
    server.shutdown().await;
}

fn no_schemas(seen: &Seen) -> Before {
    if seen.method == Method::GET && seen.path.starts_with("/Schemas") {
        return Before::Respond(
            StatusCode::NOT_FOUND,
            Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "404"})),
        );
    }
    Before::Pass
}

/// A server without `/Schemas` (404).
static NO_SCHEMAS: Fault =
    Fault { name: "no-schemas", description: "GET /Schemas answers 404", before: no_schemas, after: |_, _, _| {} };

#[tokio::test]
async fn without_schemas_the_user_update_test_passes_as_microsofts_does_and_says_it_patched_nothing() {
    let server = spawn_faulty(&NO_SCHEMAS).await;
    let r = gallery::run(&options(&server, AttributeMapping::entra_default())).await.unwrap();
    // Microsoft's test 18 PATCHes what /Schemas declares: nothing here, so it passes; test 15 fails the run
    assert_eq!(status(&r, "SCIM_User_Update_Test"), Status::Passed);
    let d = detail(&r, "SCIM_User_Update_Test");
    assert!(d.contains("GET /Schemas answered 404, so nothing was PATCHed"), "{d}");
    assert_eq!(status(&r, "Schema_Discoverability_Test"), Status::Failed);
    assert_eq!(r.verdict, Verdict::Failed);
    server.shutdown().await;
}
