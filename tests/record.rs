//! The recorder end to end: a scripted Okta and a scripted Entra sequence drive the reference server through
//! the real `scimcheck record` binary; the scenarios it writes load, validate against the JSON Schema, replay
//! green against a fresh reference server and against the recorded upstream, fail against the fault layer where
//! the flow exercises the fault, and no file holds the token. Also `scimcheck import --har` from a HAR made here.

mod support;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use scim_reference_server::{spawn, RunningServer, ServerConfig};
use scimcheck::runner::{Against, Credential, RunOptions, Runner, ScenarioResult, StepVerdict, Target, Verdict};
use scimcheck::scenario::{self, Scenario};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;

/// A token nobody would write by accident: found anywhere in a written file, it leaked.
const TOKEN: &str = "rec-T0KEN-5f1e9a7c3b2d4e60-leakcheck";

struct TempDir(PathBuf);
impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("scimcheck-record-{tag}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}
impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("SCIMCHECK_KEEP_RECORDINGS").is_some() {
            eprintln!("kept {}", self.0.display());
            return;
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn upstream() -> RunningServer {
    spawn(ServerConfig::default().with_token(TOKEN)).await.expect("reference server starts")
}

/// A running `scimcheck record` process and the address it listens on.
struct Recording {
    child: tokio::process::Child,
    addr: String,
    stdout: BufReader<tokio::process::ChildStdout>,
    first_line: String,
}

async fn start_recording(upstream: &str, out: &Path, stop_after: usize) -> Recording {
    let mut child = Command::new(env!("CARGO_BIN_EXE_scimcheck"))
        .args(["record", "--upstream", upstream, "--listen", "127.0.0.1:0", "--out"])
        .arg(out)
        .args(["--stop-after", &stop_after.to_string(), "--idle", "60s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("scimcheck starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    tokio::time::timeout(Duration::from_secs(30), stdout.read_line(&mut line))
        .await
        .expect("prints its address")
        .unwrap();
    let addr = line
        .split("listening on ")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .expect(&line)
        .trim_start_matches("http://")
        .to_string();
    Recording { child, addr, stdout, first_line: line }
}

/// Waits for the recorder to stop by itself; returns everything it printed.
async fn finish_recording(mut r: Recording) -> String {
    let status = tokio::time::timeout(Duration::from_secs(30), r.child.wait()).await.expect("stops").unwrap();
    let mut out = r.first_line.clone();
    r.stdout.read_to_string(&mut out).await.unwrap();
    let mut err = String::new();
    r.child.stderr.take().unwrap().read_to_string(&mut err).await.unwrap();
    assert!(status.success(), "record failed: {status}\n{out}\n{err}");
    format!("{out}{err}")
}

/// A tiny scripted IdP: sends requests with fixed headers and counts them.
struct Idp {
    client: reqwest::Client,
    base: String,
    headers: Vec<(&'static str, String)>,
    sent: usize,
}

impl Idp {
    fn new(base: String, headers: Vec<(&'static str, String)>) -> Idp {
        Idp { client: reqwest::Client::new(), base, headers, sent: 0 }
    }

    async fn send(&mut self, method: &str, path_and_query: &str, body: Option<Value>) -> (u16, Value) {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.client.request(m, format!("{}{path_and_query}", self.base));
        for (k, v) in &self.headers {
            req = req.header(*k, v);
        }
        if let Some(b) = body {
            req = req.body(b.to_string());
        }
        let resp = req.send().await.expect("proxy answers");
        self.sent += 1;
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

/// Okta's provisioning of one user and a pushed group, then an import (docs/okta.md §2).
async fn drive_okta(idp: &mut Idp) {
    let (s, _) = idp.send("GET", "/Users?startIndex=1&count=2", None).await;
    assert_eq!(s, 200);
    let lookup = "/Users?filter=userName%20eq%20%22tina.erickson%40example.com%22&startIndex=1&count=100";
    assert_eq!(idp.send("GET", lookup, None).await.0, 200);
    let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "tina.erickson@example.com",
        "name": {"givenName": "Tina", "familyName": "Erickson"},
        "emails": [{"primary": true, "value": "tina.erickson@example.com", "type": "work"}],
        "displayName": "Tina Erickson", "locale": "en-US", "externalId": "00u5hwkpq7IC0H7IS0h7", "groups": [],
        "password": "y25bA4W3", "active": true});
    let (s, created) = idp.send("POST", "/Users", Some(user)).await;
    assert_eq!(s, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let (_, mut current) = idp.send("GET", &format!("/Users/{id}"), None).await;
    current["name"]["givenName"] = json!("Tine");
    assert_eq!(idp.send("PUT", &format!("/Users/{id}"), Some(current)).await.0, 200);
    let deactivate = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": false}}]});
    assert!(matches!(idp.send("PATCH", &format!("/Users/{id}"), Some(deactivate)).await.0, 200 | 204));
    assert_eq!(idp.send("GET", &format!("/Users/{id}"), None).await.0, 200);
    let group =
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Sales Team", "members": []});
    let (s, g) = idp.send("POST", "/Groups", Some(group)).await;
    assert_eq!(s, 201);
    let gid = g["id"].as_str().unwrap().to_string();
    let push = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "replace", "value": {"id": gid, "displayName": "Sales Team EMEA"}},
        {"op": "add", "path": "members", "value": [{"value": id, "display": "tina.erickson@example.com"}]}]});
    assert!(matches!(idp.send("PATCH", &format!("/Groups/{gid}"), Some(push)).await.0, 200 | 204));
    assert_eq!(idp.send("GET", &format!("/Groups/{gid}"), None).await.0, 200);
    // import: two users exist by now (the one above and one made before the recording); pages of one
    let (_, p1) = idp.send("GET", "/Users?startIndex=1&count=1", None).await;
    assert_eq!(p1["totalResults"], 2, "{p1}");
    idp.send("GET", "/Users?startIndex=2&count=1", None).await;
}

/// Entra's test connection, a user and a group with membership, a manager on a user that existed before the
/// recording, disable, member removal and deletes, in the default PATCH dialect (docs/entra.md §1–§3).
async fn drive_entra(idp: &mut Idp, existing_user_name: &str) {
    let probe = "/Users?filter=userName+eq+%22cf4d78e8-cc4f-4d5d-b8b9-183561c0104a%22";
    assert_eq!(idp.send("GET", probe, None).await.1["totalResults"], 0);
    let name = "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee";
    idp.send("GET", &format!("/Users?filter=userName+eq+%22{name}%22"), None).await;
    let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef", "userName": name, "active": true,
        "emails": [{"primary": true, "type": "work", "value": "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "Ahmed Okafor", "familyName": "Okafor", "givenName": "Ahmed"}, "roles": []});
    let (s, u) = idp.send("POST", "/Users", Some(user)).await;
    assert_eq!(s, 201, "{u}");
    let uid = u["id"].as_str().unwrap().to_string();
    let (_, found) = idp.send("GET", &format!("/Users?filter=userName+eq+%22{existing_user_name}%22"), None).await;
    let mid = found["Resources"][0]["id"].as_str().expect("the user made before the recording").to_string();
    let manager = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": uid}]});
    assert!(matches!(idp.send("PATCH", &format!("/Users/{mid}"), Some(manager)).await.0, 200 | 204));
    idp.send("GET", &format!("/Users/{mid}"), None).await;
    let group_lookup = "/Groups?excludedAttributes=members&filter=displayName+eq+%22Field+Engineering%22";
    idp.send("GET", group_lookup, None).await;
    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", "displayName": "Field Engineering", "meta": {"resourceType": "Group"}});
    let (s, g) = idp.send("POST", "/Groups", Some(group)).await;
    assert_eq!(s, 201);
    let gid = g["id"].as_str().unwrap().to_string();
    let add = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "Add", "path": "members", "value": [{"$ref": null, "value": uid}, {"$ref": null, "value": mid}]}]});
    assert_eq!(idp.send("PATCH", &format!("/Groups/{gid}"), Some(add)).await.0, 204);
    idp.send("GET", &format!("/Groups/{gid}?excludedAttributes=members"), None).await;
    let disable = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "Replace", "path": "active", "value": "False"}]});
    assert!(matches!(idp.send("PATCH", &format!("/Users/{uid}"), Some(disable)).await.0, 200 | 204));
    let (_, after) = idp.send("GET", &format!("/Users/{uid}"), None).await;
    assert_eq!(after["active"], false);
    let remove = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "Remove", "path": "members", "value": [{"$ref": null, "value": uid}]}]});
    assert_eq!(idp.send("PATCH", &format!("/Groups/{gid}"), Some(remove)).await.0, 204);
    let (_, g) = idp.send("GET", &format!("/Groups/{gid}"), None).await;
    assert_eq!(g["members"].as_array().map(Vec::len), Some(1), "{g}");
    assert_eq!(idp.send("DELETE", &format!("/Groups/{gid}"), None).await.0, 204);
    assert_eq!(idp.send("DELETE", &format!("/Users/{uid}"), None).await.0, 204);
}

fn files_below(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files_below(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn load(dir: &Path) -> Vec<Scenario> {
    scenario::load_dir(dir)
        .unwrap_or_else(|e| panic!("{}", e.iter().map(|x| x.to_string()).collect::<Vec<_>>().join("\n")))
}

fn describe(r: &ScenarioResult) -> String {
    let steps: Vec<String> = r
        .steps
        .iter()
        .filter(|s| s.verdict != StepVerdict::Pass)
        .map(|s| {
            let why: Vec<String> =
                s.failures.iter().map(|f| format!("{}: expected {}, got {}", f.check, f.expected, f.actual)).collect();
            format!("  {} [{:?}] {} {}", s.name, s.verdict, why.join("; "), s.error.clone().unwrap_or_default())
        })
        .collect();
    format!("{} {:?} {}\n{}", r.id, r.verdict, r.reason.clone().unwrap_or_default(), steps.join("\n"))
}

async fn replay(target: Against, scenarios: &[Scenario]) -> Vec<ScenarioResult> {
    let runner = Runner::new(target, RunOptions { jobs: 1, ..RunOptions::default() }).unwrap();
    let mut out = Vec::new();
    for s in scenarios {
        out.push(runner.run_scenario(s).await);
    }
    out
}

fn assert_all_pass(results: &[ScenarioResult], against: &str) {
    let bad: Vec<String> = results.iter().filter(|r| r.verdict != Verdict::Pass).map(describe).collect();
    assert!(bad.is_empty(), "replay against {against} is not green:\n{}", bad.join("\n"));
}

fn assert_no_token(dir: &Path, printed: &str) {
    let mut files = Vec::new();
    files_below(dir, &mut files);
    assert!(!files.is_empty());
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(!text.contains(TOKEN) && !text.contains("Bearer"), "{} holds the credential", f.display());
    }
    assert!(!printed.contains(TOKEN), "the recorder printed the token");
}

/// Validates a generated file against scenarios/scenario.schema.json.
fn assert_schema_valid(dir: &Path) {
    let schema_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/scenario.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let mut files = Vec::new();
    files_below(dir, &mut files);
    for f in files.iter().filter(|f| f.extension().is_some_and(|e| e == "json")) {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        let errors: Vec<String> =
            validator.iter_errors(&doc).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "{} does not validate:\n{}", f.display(), errors.join("\n"));
    }
}

/// Runs the scenarios against a reference server with `fault`, after creating `seed` users on it (a recorded
/// import only pages when there is something to page through).
async fn fault_results(scenarios: &[Scenario], fault: &str, seed: usize) -> Vec<ScenarioResult> {
    let fault = support::faults::find(fault).unwrap_or_else(|| panic!("no fault {fault}"));
    let server = support::faults::spawn_faulty(fault).await;
    for i in 0..seed {
        let made = reqwest::Client::new()
            .post(format!("{}/Users", server.base_url))
            .bearer_auth(&server.token)
            .header("Content-Type", "application/scim+json")
            .body(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": format!("seed{i}@example.com")}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(made.status(), 201);
    }
    let target = Against::Target(Target::new(server.base_url.clone(), Credential::Token(server.token.clone())));
    let results = replay(target, scenarios).await;
    server.shutdown().await;
    results
}

/// Every listed fault makes at least one recorded scenario fail; returns nothing, panics with the misses.
async fn assert_faults_caught(scenarios: &[Scenario], faults: &[&str], seed: usize) {
    let mut misses = Vec::new();
    for f in faults {
        let results = fault_results(scenarios, f, seed).await;
        if !results.iter().any(|r| r.verdict == Verdict::Fail) {
            misses.push(format!("{f}: {:?}", results.iter().map(|r| (&r.id, r.verdict)).collect::<Vec<_>>()));
        }
    }
    assert!(misses.is_empty(), "faults no recorded scenario caught:\n{}", misses.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_traffic_recorded_replays_green_and_catches_faults() {
    let up = upstream().await;
    // a user that exists before the recording, so the import has two pages of one
    let made = reqwest::Client::new()
        .post(format!("{}/Users", up.base_url))
        .bearer_auth(TOKEN)
        .header("Content-Type", "application/scim+json")
        .body(
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "before@example.com"})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 201);
    let out = TempDir::new("okta");
    let rec = start_recording(&up.base_url, &out.0, 12).await;
    let mut idp = Idp::new(
        format!("http://{}", rec.addr),
        vec![
            ("Accept", "application/scim+json".into()),
            ("Accept-Charset", "utf-8".into()),
            ("Content-Type", "application/scim+json; charset=utf-8".into()),
            ("User-Agent", "Okta SCIM Client 1.0.0".into()),
            ("Authorization", format!("Bearer {TOKEN}")),
        ],
    );
    drive_okta(&mut idp).await;
    assert_eq!(idp.sent, 12);
    let printed = finish_recording(rec).await;
    assert!(printed.contains("IdP: Okta; dialect: Okta (OIN app, PATCH)"), "{printed}");

    let scenarios = load(&out.0);
    assert!(scenarios
        .iter()
        .all(|s| s.idp == scimcheck::idp::Idp::Okta && s.tags.contains(&"credential-bearer".to_string())));
    assert_schema_valid(&out.0);
    assert_no_token(&out.0, &printed);
    // one flow for the user and its group; the credentials check and the import (lists without a filter) are
    // the other
    let ids: Vec<&str> = scenarios.iter().map(|s| s.id.rsplit("::").next().unwrap()).collect();
    // named by what the flow does and whom: Okta's Group Push of "Sales Team" (with Tina, its member), and the
    // import that pages
    assert!(ids.iter().any(|i| i.ends_with("_push_group_sales_team")), "{ids:?}");
    assert!(ids.iter().any(|i| i.ends_with("_import_users_pages")), "{ids:?}");
    // Tina's lifecycle is a flow of its own; the group's flow creates her as its fixture
    let user_flow = scenarios.iter().find(|s| s.id.ends_with("_tina_erickson"));
    let user_flow = user_flow.unwrap_or_else(|| panic!("{ids:?}"));
    // generated values are variables with generators of the same shape, ids are captures
    assert_eq!(user_flow.variables["user1.externalId"], "{{$okta.userId}}");
    assert_eq!(user_flow.variables["user1.password"], "{{$okta.password}}");
    assert_eq!(
        user_flow.variables["user1.userName"],
        "{{user1.givenName|lower}}.{{user1.familyName|lower}}@example.com"
    );
    let text = std::fs::read_to_string(&user_flow.file).unwrap();
    assert!(!text.contains("tina.erickson") && !text.contains("00u5hwkpq7IC0H7IS0h7"), "recorded values left:\n{text}");
    let push = scenarios.iter().find(|s| s.id.ends_with("_push_group_sales_team")).unwrap();
    assert!(push.steps[0].name.starts_with("Setup: user1 exists"), "{}", push.steps[0].name);
    let text = std::fs::read_to_string(&push.file).unwrap();
    assert!(!text.contains("tina.erickson") && !text.contains("00u5hwkpq7IC0H7IS0h7"), "recorded values left:\n{text}");
    assert!(text.contains("\"value\": \"{{user1.id}}\""), "member value refers to the capture:\n{text}");
    let import = scenarios.iter().find(|s| s.id.contains("import_users")).unwrap();
    assert_eq!(import.steps.len(), 2, "the credentials check and the two import pages as one loop");
    assert!(import.steps.iter().all(|s| s.pages));
    assert_eq!(
        import.steps[1].request.query.0,
        vec![("startIndex".to_string(), "1".to_string()), ("count".to_string(), "1".to_string())]
    );

    assert_all_pass(&replay(Against::Reference, &scenarios).await, "a fresh reference server");
    let recorded = Against::Target(Target::new(up.base_url.clone(), Credential::Token(TOKEN.into())));
    let results = replay(recorded, &scenarios).await;
    assert_all_pass(&results, "the recorded upstream");
    let pages: Vec<&str> =
        results.iter().flat_map(|r| &r.steps).filter(|s| s.name.contains("[page")).map(|s| s.name.as_str()).collect();
    assert!(pages.len() >= 2, "the import follows pages on the upstream: {pages:?}");
    assert_faults_caught(
        &scenarios,
        &[
            "ignore-pathless-patch",
            "put-not-persisted",
            "deactivated-user-404",
            "group-rename-ignored",
            "count-ignored",
            "zero-based-start-index",
            "paging-fields-as-strings",
        ],
        3,
    )
    .await;
    up.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_traffic_recorded_replays_green_and_catches_faults() {
    let up = upstream().await;
    let existing = "Existing.Manager@example.com";
    let made = reqwest::Client::new()
        .post(format!("{}/Users", up.base_url))
        .bearer_auth(TOKEN)
        .header("Content-Type", "application/scim+json")
        .body(
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": existing,
                     "name": {"givenName": "Olga", "familyName": "Lindqvist"}, "active": true})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 201);
    let out = TempDir::new("entra");
    let rec = start_recording(&up.base_url, &out.0, 16).await;
    let mut idp = Idp::new(
        format!("http://{}", rec.addr),
        vec![
            ("Accept", "application/scim+json".into()),
            ("Content-Type", "application/scim+json; charset=utf-8".into()),
            ("Authorization", format!("Bearer {TOKEN}")),
        ],
    );
    drive_entra(&mut idp, existing).await;
    assert_eq!(idp.sent, 16);
    let printed = finish_recording(rec).await;
    assert!(printed.contains("IdP: Microsoft Entra ID; dialect: Entra ID (default dialect)"), "{printed}");

    let scenarios = load(&out.0);
    assert_schema_valid(&out.0);
    assert_no_token(&out.0, &printed);
    assert!(scenarios.iter().all(|s| s.idp == scimcheck::idp::Idp::Entra));
    // the group's flow: its lifecycle and membership steps, after the two member users as its fixtures (one
    // made before the recording, one by the user's own flow)
    let flow = scenarios.iter().find(|s| s.id.ends_with("_create_and_update_and_delete_group_field_engineering"));
    let flow = flow.unwrap_or_else(|| panic!("{:?}", scenarios.iter().map(|s| &s.id).collect::<Vec<_>>()));
    assert!(flow.steps[0].name.starts_with("Setup: user"), "the member users are set up first");
    assert!(flow.steps[1].name.starts_with("Setup: user"), "the member users are set up first");
    // the manager assignment stays in the manager's flow, with the new user as its fixture
    assert!(
        scenarios.iter().any(|s| s.id.ends_with("_update_existing_manager")),
        "{:?}",
        scenarios.iter().map(|s| &s.id).collect::<Vec<_>>()
    );
    let text = std::fs::read_to_string(&flow.file).unwrap();
    assert!(text.contains("\"{{$uuid}}\"") && text.contains("{{$azure.userName}}"), "{text}");
    assert!(!text.contains("0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef") && !text.contains(existing), "{text}");
    assert!(text.contains("\"path\": \"/Groups/{{group1.id}}\""), "{text}");

    assert_all_pass(&replay(Against::Reference, &scenarios).await, "a fresh reference server");
    let recorded = Against::Target(Target::new(up.base_url.clone(), Credential::Token(TOKEN.into())));
    assert_all_pass(&replay(recorded, &scenarios).await, "the recorded upstream");
    assert_faults_caught(
        &scenarios,
        &[
            "string-boolean-rejected",
            "capitalised-op-rejected",
            "excluded-members-ignored",
            "manager-bare-id-rejected",
            "no-match-404",
        ],
        0,
    )
    .await;
    up.shutdown().await;
}

/// A HAR 1.2 file written here — the exchanges of an Okta-style flow sent straight to a reference server, as
/// mitmproxy's HAR export would hold them — imports into scenarios that replay green and hold no credential.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn har_import_replays_green() {
    let up = upstream().await;
    let client = reqwest::Client::new();
    let mut entries = Vec::new();
    let call = |method: &str, url: String, body: Option<Value>| {
        let client = client.clone();
        let method = method.to_string();
        async move {
            let started = chrono::Utc::now();
            let mut req = client
                .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), &url)
                .header("Authorization", format!("Bearer {TOKEN}"))
                .header("User-Agent", "Okta SCIM Client 1.0.0")
                .header("Content-Type", "application/scim+json; charset=utf-8");
            if let Some(b) = &body {
                req = req.body(b.to_string());
            }
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let headers: Vec<Value> = resp
                .headers()
                .iter()
                .map(|(k, v)| json!({"name": k.as_str(), "value": v.to_str().unwrap_or("")}))
                .collect();
            let text = resp.text().await.unwrap();
            let mut request = json!({"method": method, "url": url, "httpVersion": "HTTP/1.1",
                "headers": [{"name": "Authorization", "value": format!("Bearer {TOKEN}")},
                            {"name": "User-Agent", "value": "Okta SCIM Client 1.0.0"},
                            {"name": "Content-Type", "value": "application/scim+json; charset=utf-8"}],
                "queryString": [], "cookies": [], "headersSize": -1, "bodySize": -1});
            if let Some(b) = &body {
                request["postData"] = json!({"mimeType": "application/scim+json", "text": b.to_string()});
            }
            let entry = json!({"startedDateTime": started.to_rfc3339(), "time": 3.2, "request": request,
                "response": {"status": status, "statusText": "", "httpVersion": "HTTP/1.1", "headers": headers, "cookies": [],
                             "content": {"size": text.len(), "mimeType": "application/scim+json", "text": text},
                             "redirectURL": "", "headersSize": -1, "bodySize": -1},
                "cache": {}, "timings": {"send": 0, "wait": 3, "receive": 0}});
            (entry, serde_json::from_str::<Value>(&text).unwrap_or(Value::Null))
        }
    };
    let base = up.base_url.clone();
    let (e, _) = call(
        "GET",
        format!("{base}/Users?filter=userName%20eq%20%22har.user%40example.com%22&startIndex=1&count=100"),
        None,
    )
    .await;
    entries.push(e);
    let (e, created) = call(
        "POST",
        format!("{base}/Users"),
        Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "har.user@example.com",
                    "name": {"givenName": "Priya", "familyName": "Haddad"}, "externalId": "00uabcdefghij0123456",
                    "password": "Qw3rTy12", "active": true})),
    )
    .await;
    entries.push(e);
    let id = created["id"].as_str().unwrap().to_string();
    let (e, _) = call(
        "PATCH",
        format!("{base}/Users/{id}"),
        Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "value": {"active": false}}]})),
    )
    .await;
    entries.push(e);
    let (e, _) = call("GET", format!("{base}/Users/{id}"), None).await;
    entries.push(e);
    let har = json!({"log": {"version": "1.2", "creator": {"name": "mitmproxy", "version": "11.0.0"}, "pages": [], "entries": entries}});
    let dir = TempDir::new("har");
    let har_path = dir.0.join("capture.har");
    std::fs::write(&har_path, serde_json::to_string_pretty(&har).unwrap()).unwrap();
    let out = dir.0.join("recorded");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_scimcheck"))
        .args(["import", "--har"])
        .arg(&har_path)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let printed = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{printed}");
    assert!(printed.contains("4 SCIM exchange(s) from mitmproxy 11.0.0"), "{printed}");
    assert_no_token(&out, &printed);
    assert_schema_valid(&out);
    let scenarios = load(&out);
    assert_eq!(scenarios.len(), 1, "{:?}", scenarios.iter().map(|s| &s.id).collect::<Vec<_>>());
    let s = &scenarios[0];
    assert!(s.source.contains("capture.har") && s.source.contains("mitmproxy 11.0.0"), "{}", s.source);
    assert_eq!(s.steps.len(), 4);
    let last = serde_json::to_value(&s.steps[3].expect.body).unwrap();
    assert!(last.as_array().unwrap().iter().any(|a| a == &json!({"pointer": "/active", "equals": false})), "{last}");
    assert_all_pass(&replay(Against::Reference, &scenarios).await, "a fresh reference server");
    assert_faults_caught(&scenarios, &["ignore-pathless-patch"], 0).await;
    up.shutdown().await;
}

/// The proxy itself: what the IdP sends reaches the upstream unchanged (query encoding, headers, credential,
/// body), the upstream's status, headers and body come back unchanged (a large body too), a body over the
/// limit is answered 413 without reaching the upstream, and the capture keeps the credential's style only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_forwards_unchanged_and_refuses_oversized_bodies() {
    use axum::extract::Request;
    use scimcheck::record::proxy::{ProxyConfig, RunningProxy, Upstream};
    use scimcheck::record::{CapturedBody, CredentialStyle};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = axum::Router::new().fallback(move |req: Request| {
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            let (parts, body) = req.into_parts();
            let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
            if parts.uri.path().ends_with("/big") {
                let big = "x".repeat(3 << 20);
                return axum::response::Response::builder().status(200).body(axum::body::Body::from(big)).unwrap();
            }
            let headers: serde_json::Map<String, Value> =
                parts.headers.iter().map(|(k, v)| (k.as_str().to_string(), json!(v.to_str().unwrap()))).collect();
            let echo = json!({"method": parts.method.as_str(), "path": parts.uri.path(), "query": parts.uri.query(),
                              "headers": headers, "body": String::from_utf8_lossy(&body)});
            axum::response::Response::builder()
                .status(418)
                .header("X-Upstream", "yes")
                .header("Content-Type", "application/scim+json")
                .body(axum::body::Body::from(echo.to_string()))
                .unwrap()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let up = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let proxy = RunningProxy::start(ProxyConfig {
        upstream: Upstream::parse(&format!("http://{up}/base")).unwrap(),
        listen: "127.0.0.1:0".parse().unwrap(),
        body_limit: 1024,
        tls: Default::default(),
        limits: Default::default(),
        upstream_timeout: Duration::from_secs(60),
    })
    .await
    .unwrap();
    let client = reqwest::Client::new();
    let resp = client
        .post(format!("http://{}/Users?filter=userName+eq+%22a%20b%22", proxy.addr))
        .header("Authorization", format!("Bearer {TOKEN}"))
        .header("X-Custom", "kept")
        .header("Content-Type", "application/scim+json; charset=utf-8")
        .body(r#"{"userName":"a b"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 418);
    assert_eq!(resp.headers()["x-upstream"], "yes");
    let echo: Value = resp.json().await.unwrap();
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["path"], "/base/Users");
    assert_eq!(echo["query"], "filter=userName+eq+%22a%20b%22", "the query reaches the upstream as encoded");
    assert_eq!(echo["headers"]["authorization"], format!("Bearer {TOKEN}"));
    assert_eq!(echo["headers"]["x-custom"], "kept");
    assert_eq!(echo["headers"]["content-type"], "application/scim+json; charset=utf-8");
    assert_eq!(echo["body"], r#"{"userName":"a b"}"#);

    let big = client.get(format!("http://{}/big", proxy.addr)).send().await.unwrap();
    assert_eq!(big.status(), 200);
    assert_eq!(big.bytes().await.unwrap().len(), 3 << 20, "a body over the capture limit is still forwarded whole");

    let before = hits.load(Ordering::SeqCst);
    let refused = client
        .post(format!("http://{}/Users", proxy.addr))
        .header("Content-Type", "application/scim+json")
        .body("y".repeat(2048))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 413);
    let err: Value = refused.json().await.unwrap();
    assert_eq!(err["status"], "413");
    assert!(err["detail"].as_str().unwrap().contains("--body-limit"), "{err}");
    assert_eq!(hits.load(Ordering::SeqCst), before, "the upstream never saw the oversized request");

    let (flows, secrets) = proxy.finish().await;
    assert_eq!(flows.len(), 3);
    assert_eq!(flows[0].credential, Some(CredentialStyle::Bearer));
    assert!(flows.iter().all(|f| f.request_headers.iter().all(|(n, _)| n != "authorization")));
    for f in &flows {
        let sent = format!("{:?}{:?}{}", f.request_headers, f.request_body, f.query);
        assert!(!sent.contains(TOKEN), "no captured request holds the token");
    }
    // the upstream echoed the token in a body: what is written is scrubbed all the same
    let out = TempDir::new("proxy");
    let options = scimcheck::record::ConvertOptions { idp: None, origin: "test".into(), now: chrono::Utc::now() };
    scimcheck::record::convert::write_all(&flows, &options, &out.0, &secrets).unwrap();
    assert_no_token(&out.0, "");
    assert!(secrets.contains(&TOKEN.to_string()));
    assert_eq!(flows[0].status, 418);
    assert_eq!(flows[0].request_body, CapturedBody::Text(r#"{"userName":"a b"}"#.into()));
    assert_eq!(flows[1].response_body, CapturedBody::Truncated);
    assert_eq!(flows[2].status, 413);
    assert!(flows[2].error.as_deref().unwrap().contains("not forwarded"));
}

/// Ctrl-C is the ordinary way to stop a recording: the proxy stops, and what was captured is still written
/// and replays (issue: "On stop (Ctrl-C, …) the capture becomes scenario files").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_recording_and_writes_what_was_captured() {
    let up = upstream().await;
    let before = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "before@example.com"});
    let made = reqwest::Client::new()
        .post(format!("{}/Users", up.base_url))
        .bearer_auth(TOKEN)
        .header("Content-Type", "application/scim+json")
        .body(before.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 201);
    let out = TempDir::new("ctrl-c");
    // neither --stop-after nor --idle can end this recording before the interrupt
    let rec = start_recording(&up.base_url, &out.0, 100_000).await;
    let mut idp = Idp::new(
        format!("http://{}", rec.addr),
        vec![
            ("Accept", "application/scim+json".into()),
            ("Content-Type", "application/scim+json; charset=utf-8".into()),
            ("User-Agent", "Okta SCIM Client 1.0.0".into()),
            ("Authorization", format!("Bearer {TOKEN}")),
        ],
    );
    drive_okta(&mut idp).await;
    let pid = rec.child.id().expect("the recorder runs").to_string();
    let sent = std::process::Command::new("kill").args(["-INT", &pid]).status().expect("kill runs");
    assert!(sent.success(), "SIGINT delivered");
    let printed = finish_recording(rec).await;
    assert!(printed.contains("Stopped (Ctrl-C)") && printed.contains("12 exchange(s) captured"), "{printed}");
    let scenarios = load(&out.0);
    assert!(
        scenarios.iter().any(|s| s.id.ends_with("_push_group_sales_team")),
        "{:?}",
        scenarios.iter().map(|s| &s.id)
    );
    assert_schema_valid(&out.0);
    assert_no_token(&out.0, &printed);
    assert_all_pass(&replay(Against::Reference, &scenarios).await, "a fresh reference server");
    up.shutdown().await;
}
