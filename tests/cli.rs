//! The `scimcheck` binary end to end: exit codes, report files, and no token in any output.

mod binary;
use binary::TempDir;
use std::process::Command;

use serde_json::json;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "cli-secret-token-0123456789abcdef";

fn scimcheck(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_scimcheck"));
    c.args(args).env_remove("SCIMCHECK_TOKEN").env_remove("SCIMCHECK_AUTH_HEADER");
    c
}

#[tokio::test]
async fn run_against_a_server_writes_reports_without_the_token() {
    let server = MockServer::start().await;
    Mock::given(path("/scim/v2/Users"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_raw(format!("stack trace... Authorization: Bearer {TOKEN}"), "text/plain"),
        )
        .mount(&server)
        .await;
    let dir = TempDir::new();
    let scenarios = dir.0.join("scenarios/okta/cli");
    std::fs::create_dir_all(&scenarios).unwrap();
    std::fs::write(
        scenarios.join("list.json"),
        json!({"title": "list users", "source": "test", "level": "must",
               "steps": [{"name": "list", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "GET", "path": "/Users"}, "expect": {"status": 200}}]})
        .to_string(),
    )
    .unwrap();
    let junit = dir.0.join("junit.xml");
    let report = dir.0.join("report.json");
    let base = format!("{}/scim/v2", server.uri());
    let args = [
        "run",
        "--base-url",
        &base,
        "--scenarios",
        scenarios.parent().unwrap().parent().unwrap().to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
        "--json",
        report.to_str().unwrap(),
        "--timeout",
        "5",
        "--no-library",
        "--no-preflight",
    ];
    let mut cmd = scimcheck(&args);
    cmd.env("SCIMCHECK_TOKEN", TOKEN);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "a MUST failure fails the run\n{stdout}{stderr}");
    assert!(stdout.contains("FAIL") && stdout.contains("okta::cli::list"), "{stdout}");
    assert!(stdout.contains("status: expected 200, got 500"), "{stdout}");
    assert!(stdout.contains("no snapshot baseline"), "{stdout}");
    let junit_text = std::fs::read_to_string(&junit).unwrap();
    let json_text = std::fs::read_to_string(&report).unwrap();
    assert!(
        junit_text.contains("<testcase name=\"okta::cli::list\"") && junit_text.contains("<failure"),
        "{junit_text}"
    );
    let parsed: serde_json::Value = serde_json::from_str(&json_text).unwrap();
    assert_eq!(parsed["scenarios"][0]["verdict"], "fail");
    assert_eq!(parsed["exitCode"], 1);
    for (what, text) in [("stdout", &stdout), ("stderr", &stderr), ("junit", &junit_text), ("json", &json_text)] {
        assert!(!text.contains(TOKEN), "{what} leaks the token");
    }
    // the server really received the token
    let received = server.received_requests().await.unwrap();
    assert!(received
        .iter()
        .any(|r| r.headers.get("authorization").is_some_and(|v| v == format!("Bearer {TOKEN}").as_str())));
}

#[test]
fn run_reference_passes_and_list_shows_sources() {
    let out = scimcheck(&["run", "--reference", "--drift", "fail"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("PASS         okta::spec::spec_suite"), "{stdout}");

    let out = scimcheck(&["list", "--idp", "okta"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("okta::spec::spec_suite  [must, interop]")
            && stdout.contains("source: Okta SCIM 2.0 SPEC Test"),
        "{stdout}"
    );
}

#[test]
fn bad_scenarios_and_bad_arguments_exit_2() {
    let dir = TempDir::new();
    let f = dir.0.join("rfc/x/bad.json");
    std::fs::create_dir_all(f.parent().unwrap()).unwrap();
    std::fs::write(&f, r#"{"title": "t", "source": "s", "level": "sometimes", "steps": []}"#).unwrap();
    let out =
        scimcheck(&["run", "--reference", "--no-library", "--scenarios", dir.0.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.json") && stderr.contains("unknown variant `sometimes`"), "{stderr}");

    let out = scimcheck(&["run"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "--base-url or --reference is required");
}

/// Every numeric option is range-checked by the one shared parser; an out-of-range value is a
/// usage error (exit 2) naming the option, never a panic (exit 101) — `Duration` cannot hold `1e300` seconds.
#[test]
fn numeric_options_out_of_range_are_usage_errors_not_panics() {
    let out = TempDir::new();
    let o = out.0.to_str().unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["run", "--reference", "--timeout", "1e300"],
        vec!["run", "--reference", "--timeout=-1"],
        vec!["run", "--reference", "--timeout", "NaN"],
        vec!["run", "--reference", "--jobs", "100000000"],
        vec!["run", "--reference", "--body-limit", "0"],
        vec!["simulate", "--idp", "okta", "--reference", "--max-wait", "1e300"],
        vec!["simulate", "--idp", "okta", "--reference", "--timeout", "1e300"],
        vec!["simulate", "--idp", "okta", "--reference", "--rate", "1e-300"],
        vec!["simulate", "--idp", "okta", "--reference", "--rate", "0"],
        vec!["simulate", "--idp", "okta", "--reference", "--concurrency", "0"],
        vec!["simulate", "--idp", "okta", "--reference", "--chunk", "0"],
        vec!["simulate", "--idp", "okta", "--reference", "--users", "1000000000000"],
        vec!["simulate", "--idp", "okta", "--reference", "--max-attempts", "0"],
        vec!["record", "--upstream", "http://127.0.0.1:9/scim", "--out", o, "--idle", "100000000000000000000000h"],
        vec!["record", "--upstream", "http://127.0.0.1:9/scim", "--out", o, "--body-limit", "0"],
        vec!["bench", "--huge-bodies", "--body-mib", "1e300"],
    ];
    for args in cases {
        let res = scimcheck(&args).output().unwrap();
        let err = String::from_utf8_lossy(&res.stderr);
        assert_eq!(res.status.code(), Some(2), "{args:?}: {err}");
        let option = args.iter().rev().find(|a| a.starts_with("--")).unwrap().split('=').next().unwrap();
        assert!(err.contains(option) && !err.contains("panicked"), "{args:?}: {err}");
    }
}

/// `--suite` is one option for both kinds of suite: `okta-entitlements` (a selection of the library) and
/// `entra-gallery` (Microsoft's 25 tests, run instead of it). An unknown name lists both; the gallery refuses a
/// scenario selection flag or a second suite beside it, before any request, with one line naming the flag.
#[test]
fn one_suite_option_takes_both_suites_and_the_gallery_refuses_a_selection() {
    let out = scimcheck(&["run", "--reference", "--suite", "okta-spec"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("okta-entitlements") && stderr.contains("entra-gallery"), "{stderr}");

    let out = scimcheck(&["run", "--reference", "--suite", "Entra-Gallery", "--idp", "okta"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--idp selects scenarios, but --suite entra-gallery"), "{stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("Create_User_Test"));

    let out = scimcheck(&["run", "--reference", "--suite", "entra-gallery,okta-entitlements"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("give it alone"), "{stderr}");

    let out = scimcheck(&["run", "--reference", "--suite", "okta-entitlements", "-q"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(!stdout.contains("Create_User_Test"), "{stdout}");
}

/// A target whose `/ResourceTypes` lists no Okta Role or Entitlement: `--suite okta-entitlements` lists its six
/// scenarios (not run: Okta cannot provision the server) and the failed IdP requirement, a row of its own. The
/// line announcing the run counts every row it then lists, and so does the summary.
#[tokio::test]
async fn the_run_announces_every_row_it_lists_scenarios_and_idp_requirements() {
    let server = MockServer::start().await;
    let list = |resources: serde_json::Value| {
        let n = resources.as_array().map_or(0, Vec::len);
        ResponseTemplate::new(200).set_body_raw(
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": n,
                   "itemsPerPage": n, "startIndex": 1, "Resources": resources})
            .to_string(),
            "application/scim+json",
        )
    };
    let user_type = json!([{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"], "id": "User",
                            "name": "User", "endpoint": "/Users", "schema": "urn:ietf:params:scim:schemas:core:2.0:User"}]);
    Mock::given(path("/scim/v2/ResourceTypes")).respond_with(list(user_type)).mount(&server).await;
    Mock::given(path("/scim/v2/Users")).respond_with(list(json!([]))).mount(&server).await;
    let base = format!("{}/scim/v2", server.uri());
    let out = scimcheck(&["run", "--base-url", &base, "--suite", "okta-entitlements"])
        .env("SCIMCHECK_TOKEN", TOKEN)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let announce = stdout.lines().find(|l| l.starts_with("scimcheck: ")).unwrap_or_else(|| panic!("{stdout}"));
    let numbers: Vec<usize> = announce
        .split(" against ")
        .next()
        .unwrap_or_default()
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .take(2)
        .collect();
    assert!(announce.starts_with("scimcheck: 6 scenario(s) and 1 IdP requirement(s) the target fails"), "{announce}");
    let labels = ["PASS ", "FAIL ", "SKIP ", "ERROR ", "KNOWN ", "DRIFT ", "SETUP "];
    // the live rows: before the first blank line (the details after it start with a label too)
    let live = stdout.lines().take_while(|l| !l.is_empty());
    let rows: Vec<&str> = live.filter(|l| labels.iter().any(|p| l.starts_with(p))).collect();
    assert_eq!(rows.len(), numbers.iter().sum::<usize>(), "{stdout}");
    assert_eq!(rows.iter().filter(|l| l.starts_with("SKIP ")).count(), 6, "{stdout}");
    assert!(rows.iter().any(|l| l.starts_with("FAIL ") && l.contains("okta::requirements::")), "{stdout}");
    assert!(stdout.contains("0 passed, 1 failed, 6 skipped"), "{stdout}");
    assert!(!stdout.contains(TOKEN));
}
