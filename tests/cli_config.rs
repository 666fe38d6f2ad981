//! The real binary with settings and secrets: `scimcheck.toml` found in the working directory (and `--config`),
//! flags winning over it, its errors; tokens that are one letter or a common word redacted only as tokens; no
//! drift on a second run against the same server; `scimcheck snapshots review|accept`.

mod binary;

use binary::*;
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn scim(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.to_string(), "application/scim+json")
}

/// A server accepting `POST /scim/Users` (201) and answering the preflight list.
async fn create_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/scim/Users"))
        .respond_with(|req: &Request| {
            let mut body: Value = serde_json::from_slice(&req.body).unwrap_or(json!({}));
            body["id"] = json!("u-1");
            scim(201, body)
        })
        .mount(&server)
        .await;
    Mock::given(method("DELETE")).respond_with(ResponseTemplate::new(204)).mount(&server).await;
    Mock::given(method("GET")).and(path("/scim/Users")).respond_with(scim(200, empty_list())).mount(&server).await;
    server
}

fn auth_of(r: &Request) -> String {
    r.headers.get("authorization").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
}

async fn posts(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap().into_iter().filter(|r| r.method.as_str() == "POST").collect()
}

fn create_scenario() -> Value {
    json!({"title": "create", "source": "test", "level": "must",
           "variables": {"email": "{{given}}@example.com", "given": "{{$name.given}}", "tag": "default-tag"},
           "steps": [{"name": "create", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "POST", "path": "/Users",
                      "body": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "{{email}}",
                               "nickName": "{{tag}}"}},
                      "expect": {"status": 201}}]})
}

#[tokio::test]
async fn the_config_file_sets_the_target_and_payload_and_flags_win() {
    let a = create_server().await;
    let b = create_server().await;
    let dir = TempDir::new();
    write_scenario(&dir.join("mine"), "rfc/cfg/create.json", &create_scenario());
    std::fs::write(
        dir.join("scimcheck.toml"),
        format!(
            r#"# the target
base-url = "{}/scim"
token-env = "SCIMCHECK_TEST_TARGET_TOKEN"
scenarios = ["mine"]
library = false
jobs = 2
timeout = 5

[payload]
email-domain = "acme.test"
variables = {{ tag = "from-config" }}

[payload.user]
department = "R&D"
"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User" = {{ employeeNumber = "42" }}
"#,
            a.uri()
        ),
    )
    .unwrap();

    let mut cmd = scimcheck_in(&dir.0, &["run"]);
    cmd.env("SCIMCHECK_TEST_TARGET_TOKEN", "token-from-config-env").env("SCIMCHECK_TOKEN", "default-env-token");
    let (code, stdout, stderr) = output(cmd).await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("settings: scimcheck.toml") && stdout.contains("rfc::cfg::create"), "{stdout}");
    let sent = posts(&a).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(auth_of(&sent[0]), "Bearer token-from-config-env", "token-env wins over SCIMCHECK_TOKEN");
    let body: Value = serde_json::from_slice(&sent[0].body).unwrap();
    assert_eq!(body["department"], "R&D");
    assert_eq!(body["nickName"], "from-config");
    assert!(body["userName"].as_str().unwrap().ends_with("@acme.test"), "{body}");
    let enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    assert_eq!(body[enterprise]["employeeNumber"], "42");
    assert!(body["schemas"].as_array().unwrap().iter().any(|s| s == enterprise), "{body}");

    // flags win: another server, another token
    let base_b = format!("{}/scim", b.uri());
    let mut cmd = scimcheck_in(&dir.0, &["run", "--base-url", &base_b, "--token", "flag-token"]);
    cmd.env("SCIMCHECK_TEST_TARGET_TOKEN", "token-from-config-env");
    let (code, stdout, stderr) = output(cmd).await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(posts(&a).await.len(), 1, "the file's base-url is not used");
    let sent = posts(&b).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(auth_of(&sent[0]), "Bearer flag-token");

    // --config names another file; relative paths are relative to it
    let other = dir.join("elsewhere");
    std::fs::create_dir_all(&other).unwrap();
    write_scenario(&other.join("more"), "rfc/cfg/other.json", &create_scenario());
    std::fs::write(
        other.join("target.toml"),
        format!("base-url = \"{base_b}\"\nscenarios = [\"more\"]\nlibrary = false\n"),
    )
    .unwrap();
    let mut cmd = scimcheck_in(&dir.0, &["run", "--config", other.join("target.toml").to_str().unwrap()]);
    cmd.env("SCIMCHECK_TOKEN", "default-env-token");
    let (code, stdout, stderr) = output(cmd).await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("rfc::cfg::other") && !stdout.contains("rfc::cfg::create"), "{stdout}");
    let sent = posts(&b).await;
    assert_eq!(auth_of(sent.last().unwrap()), "Bearer default-env-token");
}

#[tokio::test]
async fn config_errors_name_the_file_line_and_key() {
    let dir = TempDir::new();
    std::fs::write(dir.join("scimcheck.toml"), "jobs = 2\n\nbase_url = \"http://127.0.0.1:9/scim\"\n").unwrap();
    let (code, stdout, stderr) = output(scimcheck_in(&dir.0, &["run"])).await;
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(stderr.contains("scimcheck.toml:3:1: unknown field `base_url`"), "{stderr}");

    std::fs::write(dir.join("scimcheck.toml"), "[payload]\nemail-domain = \"x.test\"\nextra = 1\n").unwrap();
    let (code, _, stderr) = output(scimcheck_in(&dir.0, &["run", "--reference"])).await;
    assert_eq!(code, Some(2));
    assert!(stderr.contains("scimcheck.toml:3:1: unknown field `extra`"), "{stderr}");

    std::fs::write(
        dir.join("scimcheck.toml"),
        "base-url = \"http://127.0.0.1:9/scim\"\ntoken-env = \"NOT_SET_ANYWHERE_1\"\n",
    )
    .unwrap();
    let (code, _, stderr) = output(scimcheck_in(&dir.0, &["run"])).await;
    assert_eq!(code, Some(2));
    assert!(stderr.contains("NOT_SET_ANYWHERE_1") && stderr.contains("is not set"), "{stderr}");

    std::fs::write(dir.join("scimcheck.toml"), "level = [\"must\"]\nkind = [\"rfc\", \"vendor\"]\n").unwrap();
    let (code, _, stderr) = output(scimcheck_in(&dir.0, &["run", "--reference"])).await;
    assert_eq!(code, Some(2));
    assert!(stderr.contains("scimcheck.toml:2:") && stderr.contains("unknown kind `vendor`"), "{stderr}");

    let (code, _, stderr) = output(scimcheck_in(&dir.0, &["run", "--config", "missing.toml"])).await;
    assert_eq!(code, Some(2));
    assert!(stderr.contains("missing.toml"), "{stderr}");
}

/// A server that rejects listing with a 500 echoing the credential it got, in a header, JSON and a URL.
async fn echo_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path("/scim/Users"))
        .respond_with(|req: &Request| {
            let auth = auth_of(req);
            let token = auth.strip_prefix("Bearer ").unwrap_or_default().to_string();
            scim(
                500,
                json!({"detail": format!("rejected {auth}"), "token": token,
                             "see": format!("https://idp.test/help?token={token}")}),
            )
            .insert_header("x-echo", token.as_str())
        })
        .mount(&server)
        .await;
    server
}

async fn run_with_token(server: &MockServer, token: &str, dir: &TempDir) -> (Option<i32>, String, String) {
    write_scenario(&dir.0, "rfc/red/list.json", &list_users("list"));
    let base = format!("{}/scim", server.uri());
    let scenarios = dir.arg("");
    let (junit, json_report, snaps) = (dir.arg("junit.xml"), dir.arg("report.json"), dir.arg("snaps"));
    let args = [
        "run",
        "--base-url",
        &base,
        "--token",
        token,
        "--no-library",
        "--scenarios",
        &scenarios,
        "--no-preflight",
        "--junit",
        &junit,
        "--json",
        &json_report,
        "--snapshots",
        &snaps,
        "--update-snapshots",
    ];
    output(scimcheck_in(&dir.0, &args)).await
}

#[tokio::test]
async fn a_one_letter_token_is_redacted_as_a_token_not_inside_words() {
    let server = echo_server().await;
    let dir = TempDir::new();
    let (code, stdout, stderr) = run_with_token(&server, "e", &dir).await;
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    let report = std::fs::read_to_string(dir.join("report.json")).unwrap();
    let snap = std::fs::read_to_string(dir.join("snaps/rfc__red__list.snap")).unwrap();
    for (what, text) in [("stdout", &stdout), ("junit", &junit), ("json", &report), ("snapshot", &snap)] {
        assert!(!text.contains("pass[redacted]") && !text.contains("[redacted]xp"), "{what} prose mangled:\n{text}");
    }
    assert!(stdout.contains("0 passed, 1 failed") && stdout.contains("expected 200, got 500"), "{stdout}");
    assert!(junit.contains("expected 200, got 500"), "{junit}");
    // where the token stands as a token, it is gone
    let parsed: Value = serde_json::from_str(&report).unwrap();
    let response = &parsed["scenarios"][0]["steps"][0]["response"];
    assert_eq!(response["body"]["json"]["token"], "[redacted]", "{response}");
    assert_eq!(response["body"]["json"]["detail"], "rejected [redacted]", "{response}");
    assert_eq!(response["body"]["json"]["see"], "https://idp.test/help?token=[redacted]", "{response}");
    assert!(response["headers"].to_string().contains(r#"{"name":"x-echo","value":"[redacted]"}"#), "{response}");
    assert!(snap.contains("\"token\": \"[redacted]\""), "{snap}");
}

#[tokio::test]
async fn a_common_word_token_leaves_the_reports_prose_alone() {
    let server = echo_server().await;
    let dir = TempDir::new();
    let (code, stdout, stderr) = run_with_token(&server, "scenario", &dir).await;
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert!(stdout.contains("1 scenario(s) against"), "{stdout}");
    assert!(stdout.contains("scenario: list (rfc/red/list.json)"), "{stdout}");
    assert!(stdout.contains("\"token\":\"[redacted]\""), "the echoed token is redacted in the body:\n{stdout}");
    assert!(!stdout.contains("\"token\":\"scenario\""), "{stdout}");
    assert!(!junit.contains("\"scenario\""), "{junit}");
}

#[tokio::test]
async fn a_second_run_against_the_same_server_shows_no_drift() {
    let server = scim_reference_server::spawn(scim_reference_server::ServerConfig::default()).await.unwrap();
    let dir = TempDir::new();
    let snaps = dir.arg("snaps");
    // versioning (If-Match quoting a version in its error detail), CRUD and deletion (ids in details)
    let args = |update: bool| {
        let mut a: Vec<String> =
            ["run", "--base-url", &server.base_url, "--token", &server.token, "--snapshots", &snaps]
                .iter()
                .map(|s| s.to_string())
                .collect();
        a.extend(["--filter".into(), "s3_14_versioning".into()]);
        if update {
            a.push("--update-snapshots".into());
        }
        a
    };
    let first = args(true);
    let (code, stdout, stderr) =
        output(scimcheck_in(&dir.0, &first.iter().map(String::as_str).collect::<Vec<_>>())).await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let details: String = std::fs::read_dir(dir.join("snaps"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert!(details.contains("If-Match [version]"), "a version quoted in a detail is normalised:\n{details}");
    let second = args(false);
    let (code, stdout, stderr) =
        output(scimcheck_in(&dir.0, &second.iter().map(String::as_str).collect::<Vec<_>>())).await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(!stdout.contains("DRIFT"), "{stdout}");
    let pending = std::fs::read_dir(dir.join("snaps"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".snap.new"));
    assert_eq!(pending.count(), 0);
    server.shutdown().await;
}

#[tokio::test]
async fn snapshots_review_and_accept_work_on_any_folder() {
    let dir = TempDir::new();
    let snaps = dir.join("snaps");
    std::fs::create_dir_all(&snaps).unwrap();
    let file =
        |contents: &str| format!("---\nsource: scenarios/rfc/x/a.json\nexpression: transcript\n---\n{contents}\n");
    std::fs::write(snaps.join("rfc__x__a.snap"), file("[\n  1\n]")).unwrap();
    std::fs::write(snaps.join("rfc__x__a.snap.new"), file("[\n  2\n]")).unwrap();
    std::fs::write(snaps.join("rfc__x__b.snap.new"), file("[\n  3\n]")).unwrap();
    std::fs::write(snaps.join("rfc__x__c.snap.new"), file("[\n  4\n]")).unwrap();
    std::fs::write(snaps.join("okta__y__d.snap.new"), file("[\n  5\n]")).unwrap();
    let snaps_arg = snaps.to_str().unwrap();

    // review, answering from stdin: accept a, reject b, skip c (okta::y::d filtered out)
    let mut cmd = scimcheck_in(&dir.0, &["snapshots", "review", "--snapshots", snaps_arg, "--filter", "rfc::x"]);
    cmd.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(b"a\nr\ns\n").unwrap();
    }
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "something is left pending: {stdout}");
    assert!(stdout.contains("rfc::x::a") && stdout.contains("-  1") && stdout.contains("+  2"), "the diff: {stdout}");
    assert!(stdout.contains("accepted 1, rejected 1, skipped 1"), "{stdout}");
    assert!(std::fs::read_to_string(snaps.join("rfc__x__a.snap")).unwrap().contains("  2"));
    assert!(!snaps.join("rfc__x__a.snap.new").exists());
    assert!(!snaps.join("rfc__x__b.snap.new").exists() && !snaps.join("rfc__x__b.snap").exists());
    assert!(snaps.join("rfc__x__c.snap.new").exists());

    // accept with a filter, then everything
    let (code, stdout, _) =
        output(scimcheck_in(&dir.0, &["snapshots", "accept", "--snapshots", snaps_arg, "--filter", "okta::"])).await;
    assert_eq!(code, Some(0));
    assert!(stdout.contains("1 snapshot(s) accepted"), "{stdout}");
    assert!(snaps.join("okta__y__d.snap").exists() && snaps.join("rfc__x__c.snap.new").exists());
    let (code, _, _) = output(scimcheck_in(&dir.0, &["snapshots", "accept", "--snapshots", snaps_arg])).await;
    assert_eq!(code, Some(0));
    assert!(snaps.join("rfc__x__c.snap").exists() && !snaps.join("rfc__x__c.snap.new").exists());
}

#[tokio::test]
async fn the_config_file_selects_kinds_and_the_flag_wins() {
    let dir = TempDir::new();
    std::fs::write(dir.join("scimcheck.toml"), "idp = [\"okta\"]\nkind = [\"portal\"]\n").unwrap();
    let (code, stdout, stderr) = output(scimcheck_in(&dir.0, &["run", "--reference"])).await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("okta::portal::repost_deleted_user"), "{stdout}");
    assert!(!stdout.contains("okta::spec::spec_suite"), "only portal scenarios run: {stdout}");

    let (code, stdout, stderr) = output(scimcheck_in(&dir.0, &["run", "--reference", "--kind", "interop"])).await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("okta::spec::spec_suite"), "{stdout}");
    assert!(!stdout.contains("okta::portal::repost_deleted_user  "), "--kind wins over the file: {stdout}");
}

/// `suite` in the file takes every value `--suite` takes, through the same parser, in any case: `okta-entitlements`
/// selects the library's entitlement scenarios as `--suite okta-entitlements` does, `entra-gallery` runs Microsoft's
/// 25 tests instead of the library, and `--suite` on the command line wins over the file.
#[tokio::test]
async fn suite_in_the_file_takes_every_suite_of_the_suite_flag() {
    let dir = TempDir::new();
    std::fs::write(dir.join("scimcheck.toml"), "suite = \"Okta-Entitlements\"\n").unwrap();
    let (code, stdout, stderr) = output(scimcheck_in(&dir.0, &["run", "--reference"])).await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("okta::entitlements::"), "{stdout}");
    assert!(!stdout.contains("okta::spec::spec_suite") && !stdout.contains("Create_User_Test"), "{stdout}");

    // the flag wins over the file: the gallery runs, not the entitlement selection
    let (code, stdout, stderr) =
        output(scimcheck_in(&dir.0, &["run", "--reference", "--suite", "entra-gallery", "--rate-window", "1s"])).await;
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("Create_User_Test") && !stdout.contains("okta::entitlements::"), "{stdout}");

    std::fs::write(dir.join("scimcheck.toml"), "suite = \"ENTRA-gallery\"\n").unwrap();
    let (code, stdout, stderr) = output(scimcheck_in(&dir.0, &["run", "--reference", "--rate-window", "1s"])).await;
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("Create_User_Test") && stdout.contains("NOT READY: OAuth required"), "{stdout}");

    // an unknown suite names the file's line and every suite --suite knows, before any request
    std::fs::write(dir.join("scimcheck.toml"), "suite = \"okta-spec\"\n").unwrap();
    let (code, stdout, stderr) = output(scimcheck_in(&dir.0, &["run", "--reference"])).await;
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(stderr.contains("scimcheck.toml:1:") && stderr.contains("unknown suite `okta-spec`"), "{stderr}");
    assert!(stderr.contains("okta-entitlements") && stderr.contains("entra-gallery"), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
}

/// The gallery runs Microsoft's 25 tests, not a selection of the library: a selection key in the settings file
/// (`idp`, `tags`, `level`, `kind`) beside it is refused in one line naming the key and the file, as the same
/// flags are on the command line — whether the gallery comes from `--suite` or from the file (which is refused
/// as it is read) — before any test.
#[tokio::test]
async fn the_gallery_refuses_the_files_selection_keys_as_it_refuses_the_flags() {
    let dir = TempDir::new();
    for (key, line) in [
        ("idp", "idp = \"okta\""),
        ("tags", "tags = [\"users\"]"),
        ("level", "level = \"must\""),
        ("kind", "kind = \"rfc\""),
    ] {
        std::fs::write(dir.join("scimcheck.toml"), format!("{line}\n")).unwrap();
        let args = ["run", "--reference", "--suite", "entra-gallery", "--rate-window", "1s"];
        let (code, stdout, stderr) = output(scimcheck_in(&dir.0, &args)).await;
        assert_eq!(code, Some(2), "{key}: {stdout}{stderr}");
        let expected = format!(
            "{key} in scimcheck.toml selects scenarios, but --suite entra-gallery runs Microsoft's own 25 tests"
        );
        assert!(stderr.contains(&expected), "{key}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
        assert!(!stdout.contains("Create_User_Test"), "{key}: nothing ran: {stdout}");

        std::fs::write(dir.join("scimcheck.toml"), format!("suite = \"entra-gallery\"\n{line}\n")).unwrap();
        let (code, stdout, stderr) = output(scimcheck_in(&dir.0, &["run", "--reference", "--rate-window", "1s"])).await;
        assert_eq!(code, Some(2), "{key}: {stdout}{stderr}");
        assert!(
            stderr.contains(&format!("suite runs its own tests, not the scenario selection: remove {key}")),
            "{stderr}"
        );
        assert!(!stdout.contains("Create_User_Test"), "{key}: nothing ran: {stdout}");
    }
    // without the gallery, the file's selection still selects
    std::fs::write(dir.join("scimcheck.toml"), "idp = \"okta\"\n").unwrap();
    let (code, stdout, stderr) =
        output(scimcheck_in(&dir.0, &["run", "--reference", "--suite", "okta-entitlements"])).await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
}
