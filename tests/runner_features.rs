//! Runner behaviour against wiremock: drift with a readable diff, known deviations, capability skips,
//! cleanup, IdP query encoding, captures, and the level-aware exit policy.

mod binary;
use binary::TempDir;
use std::path::{Path, PathBuf};
use std::time::Duration;

use scimcheck::expectations::{Deviation, Expectations};
use scimcheck::report::{self, Policy};
use scimcheck::runner::{Against, Credential, RunOptions, Runner, StepVerdict, Target, Verdict};
use scimcheck::scenario::{self, Check, Level, Scenario};
use scimcheck::snapshot::{SnapshotOutcome, SnapshotStore};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn scenario(rel: &str, v: serde_json::Value) -> Scenario {
    scenario::parse(rel, Path::new(rel), &v.to_string()).unwrap_or_else(|e| panic!("{e:?}"))
}

fn scim(body: serde_json::Value) -> ResponseTemplate {
    scim_status(200, body)
}

fn scim_status(status: u16, body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.to_string(), "application/scim+json")
}

fn runner(server: &MockServer, snapshots: Option<SnapshotStore>) -> Runner {
    Runner::new(
        Against::Target(Target::new(
            format!("{}/scim/v2", server.uri()),
            Credential::Token("drift-test-token-123456".into()),
        )),
        RunOptions { timeout: Duration::from_secs(5), snapshots, ..RunOptions::default() },
    )
    .unwrap()
}

fn user_scenario() -> Scenario {
    scenario(
        "okta/drift/get_user.json",
        json!({"title": "get user", "source": "test", "level": "must",
               "steps": [{"name": "get", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "GET", "path": "/Users/u1"}, "expect": {"status": 200}}]}),
    )
}

#[tokio::test]
async fn a_changed_response_is_drift_with_a_readable_diff() {
    let dir = TempDir::new();
    let s = user_scenario();
    let server = MockServer::start().await;
    let user = json!({"id": "u1", "userName": "tina@example.com", "active": true,
                      "meta": {"created": "2024-01-01T00:00:00Z", "version": "W/\"1\""}});
    let mock = Mock::given(path("/scim/v2/Users/u1")).respond_with(scim(user.clone())).mount_as_scoped(&server).await;

    // record
    let update = SnapshotStore { dir: dir.0.clone(), update: true };
    let out = runner(&server, Some(update)).run(std::slice::from_ref(&s)).await;
    assert!(matches!(out.results[0].snapshot, Some(SnapshotOutcome::Written { .. })), "{:?}", out.results[0].snapshot);
    let snap = std::fs::read_to_string(dir.0.join("okta__drift__get_user.snap")).unwrap();
    assert!(
        snap.contains("\"id\": \"[user-1]\"") && snap.contains("[timestamp]") && !snap.contains("drift-test-token"),
        "{snap}"
    );

    // same behaviour, different volatile values: still a match
    drop(mock);
    let mut same = user.clone();
    same["meta"]["created"] = json!("2025-06-30T12:34:56.789Z");
    same["meta"]["version"] = json!("W/\"42\"");
    let mock = Mock::given(path("/scim/v2/Users/u1")).respond_with(scim(same)).mount_as_scoped(&server).await;
    let compare = SnapshotStore { dir: dir.0.clone(), update: false };
    let out = runner(&server, Some(compare.clone())).run(std::slice::from_ref(&s)).await;
    assert_eq!(out.results[0].snapshot, Some(SnapshotOutcome::Matched));
    assert_eq!(out.results[0].verdict, Verdict::Pass);

    // changed behaviour: drift
    drop(mock);
    let mut changed = user.clone();
    changed["active"] = json!(false);
    let _mock = Mock::given(path("/scim/v2/Users/u1")).respond_with(scim(changed)).mount_as_scoped(&server).await;
    let out = runner(&server, Some(compare)).run(std::slice::from_ref(&s)).await;
    let r = &out.results[0];
    assert_eq!(r.verdict, Verdict::Drift);
    let Some(SnapshotOutcome::Drift { diff, pending }) = &r.snapshot else { panic!("{:?}", r.snapshot) };
    assert!(diff.contains("-        \"active\": true,") && diff.contains("+        \"active\": false,"), "{diff}");
    assert!(diff.starts_with("--- snapshot\n+++ this run\n@@"), "{diff}");
    assert!(pending.exists() && pending.to_string_lossy().ends_with(".snap.new"));
    let human = report::human(&out, &Policy::default(), &[]);
    assert!(
        human.contains("DRIFT")
            && human.contains("+        \"active\": false,")
            && human.contains("scimcheck snapshots review"),
        "{human}"
    );
    assert_eq!(Policy::default().exit_code(&out), 1);
    assert_eq!(Policy { drift_warn: true, ..Policy::default() }.exit_code(&out), 0, "--drift warn");
}

/// A server that answers 200 `{}` for an unknown user id (RFC 7644 §3.12 wants 404) and lists no users: the
/// failing and the passing step of the known-deviation tests.
async fn unknown_id_answered_200() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path("/scim/v2/Users/missing"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("{}", "application/scim+json"))
        .mount(&server)
        .await;
    Mock::given(path("/scim/v2/Users")).respond_with(scim(json!({"totalResults": 0}))).mount(&server).await;
    server
}

#[tokio::test]
async fn known_deviations_are_expected_failures_and_passing_ones_are_reported() {
    let server = unknown_id_answered_200().await;
    let s = scenario(
        "okta/dev/known.json",
        json!({"title": "t", "source": "test", "level": "must", "steps": [
            {"name": "404 for unknown id", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "GET", "path": "/Users/missing"}, "expect": {"status": 404}},
            {"name": "list", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "GET", "path": "/Users"}, "expect": {"status": 200}}
        ]}),
    );
    let without = runner(&server, None).run(std::slice::from_ref(&s)).await;
    assert_eq!(without.results[0].verdict, Verdict::Fail);
    let expectations = Expectations {
        comment: None,
        deviations: vec![
            Deviation {
                scenario: s.id.clone(),
                step: Some("404 for unknown id".into()),
                reason: "tracked in VENDOR-12".into(),
            },
            Deviation { scenario: s.id.clone(), step: Some("list".into()), reason: "was broken".into() },
            Deviation { scenario: "okta::gone::x".into(), step: None, reason: "old".into() },
        ],
    };
    let runner = Runner::new(
        Against::Target(Target::new(
            format!("{}/scim/v2", server.uri()),
            Credential::Token("drift-test-token-123456".into()),
        )),
        RunOptions { timeout: Duration::from_secs(5), expectations: Some(expectations), ..RunOptions::default() },
    )
    .unwrap();
    let out = runner.run(std::slice::from_ref(&s)).await;
    let notes = &out.notes;
    let r = &out.results[0];
    assert_eq!(r.verdict, Verdict::KnownDeviation);
    assert_eq!(r.steps[0].verdict, StepVerdict::ExpectedFail);
    assert!(r.notes.iter().any(|n| n.contains("now passes") && n.contains("\"list\"")), "{:?}", r.notes);
    assert!(notes.iter().any(|n| n.contains("okta::gone::x")), "{notes:?}");
    assert_eq!(Policy { strict: true, ..Policy::default() }.exit_code(&out), 0);
    let human = report::human(&out, &Policy::default(), notes);
    assert!(human.contains("KNOWN") && human.contains("tracked in VENDOR-12"), "{human}");
}

/// The runner judges known deviations itself ([`scimcheck::judge`]), so `run`, `run_one` and `scimcheck run` give
/// one verdict for one response: a listed failing step is an expected failure, a listed passing step gets its
/// note, and the entries naming no scenario or step of the run are the outcome's notes.
#[tokio::test]
async fn the_runner_judges_known_deviations_the_same_for_every_caller() {
    let server = unknown_id_answered_200().await;
    let s = scenario(
        "okta/dev/judged.json",
        json!({"title": "t", "source": "test", "level": "must", "steps": [
            {"name": "404 for unknown id", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "GET", "path": "/Users/missing"}, "expect": {"status": 404}},
            {"name": "list", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "GET", "path": "/Users"}, "expect": {"status": 200}}
        ]}),
    );
    let expectations = Expectations {
        comment: None,
        deviations: vec![
            Deviation { scenario: s.id.clone(), step: Some("404 for unknown id".into()), reason: "VENDOR-12".into() },
            Deviation { scenario: s.id.clone(), step: Some("list".into()), reason: "was broken".into() },
            Deviation { scenario: s.id.clone(), step: Some("no such step".into()), reason: "typo".into() },
            Deviation { scenario: "okta::gone::x".into(), step: None, reason: "old".into() },
        ],
    };
    let runner = Runner::new(
        Against::Target(Target::new(
            format!("{}/scim/v2", server.uri()),
            Credential::Token("judge-test-token-123456".into()),
        )),
        RunOptions { timeout: Duration::from_secs(5), expectations: Some(expectations), ..RunOptions::default() },
    )
    .unwrap();
    let out = runner.run(std::slice::from_ref(&s)).await;
    let caps = runner.discover().await;
    let one = runner.run_one(&s, &caps).await;
    for r in [&out.results[0], &one] {
        assert_eq!(r.verdict, Verdict::KnownDeviation, "{:?}", r.steps);
        assert_eq!(r.steps[0].verdict, StepVerdict::ExpectedFail);
        assert_eq!(r.steps[0].known_deviation.as_deref(), Some("VENDOR-12"));
        let passes: Vec<&String> = r.notes.iter().filter(|n| n.contains("now passes")).collect();
        assert_eq!(passes.len(), 1, "one note for the passing entry: {:?}", r.notes);
    }
    assert_eq!(out.notes.len(), 2, "{:?}", out.notes);
    assert!(out.notes[0].contains("\"no such step\"") && out.notes[1].contains("okta::gone::x"), "{:?}", out.notes);
    assert_eq!(Policy::default().exit_code(&out), 0);
}

/// The human report's header tells the selection's exclusions from skips by the report model's counts (the
/// excluded scenarios, by id), never by how a skip reason is worded: a capability skip whose reason reads like
/// an exclusion is still a skip of a selected scenario.
#[test]
fn a_skip_reason_worded_like_an_exclusion_is_still_a_skip() {
    let s = scenario(
        "rfc/words/patch.json",
        json!({"title": "t", "source": "test", "level": "must", "steps": [
            {"name": "get", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "GET", "path": "/Users"}, "expect": {"status": 200}}
        ]}),
    );
    let outcome = scimcheck::runner::RunOutcome {
        target: "http://scim.example.test".into(),
        capabilities: Default::default(),
        results: vec![scimcheck::runner::ScenarioResult::skipped(&s, "excluded by the server: patch unsupported")],
        duration_ms: 0.0,
        interrupted: false,
        notes: vec![],
        redactor: Default::default(),
    };
    let human = report::human(&outcome, &Policy::default(), &[]);
    let header = human.lines().next().unwrap_or_default();
    assert_eq!(
        header, "scimcheck: 1 scenario(s) loaded, 1 selected, 1 skipped, 0 run against http://scim.example.test",
        "{human}"
    );
}

#[tokio::test]
async fn unsupported_features_skip_and_unknown_capabilities_run() {
    let server = MockServer::start().await;
    Mock::given(path("/scim/v2/ServiceProviderConfig"))
        .respond_with(scim(json!({"patch": {"supported": false}, "filter": {"supported": true}})))
        .mount(&server)
        .await;
    Mock::given(path("/scim/v2/Users")).respond_with(scim(json!({}))).mount(&server).await;
    // requirements are inferred from the steps: a PATCH needs patch, a filter needs filter, /Groups needs groups
    let mk = |name: &str, step: serde_json::Value| {
        scenario(
            &format!("rfc/caps/{name}.json"),
            json!({"title": name, "source": "test", "level": "must", "steps": [step]}),
        )
    };
    let scenarios = vec![
        mk(
            "needs_patch",
            json!({"name": "p", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "PATCH", "path": "/Users/x", "body": {}},
                                 "expect": {"status": 404}}),
        ),
        mk(
            "needs_filter",
            json!({"name": "f", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "GET", "path": "/Users",
                                                         "query": {"filter": "userName eq \"x\""}}}),
        ),
        mk(
            "needs_groups",
            json!({"name": "g", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "GET", "path": "/Groups/x"},
                                  "expect": {"status": 404}}),
        ),
    ];
    let out = runner(&server, None).run(&scenarios).await;
    let by = |id: &str| out.results.iter().find(|r| r.id == id).unwrap();
    let skipped = by("rfc::caps::needs_patch");
    assert_eq!(skipped.verdict, Verdict::Skip);
    assert_eq!(
        skipped.reason.as_deref(),
        Some("target does not support: patch (ServiceProviderConfig: supported false)")
    );
    assert_eq!(by("rfc::caps::needs_filter").verdict, Verdict::Pass);
    // /ResourceTypes answers 404 here: groups support is unknown, so the scenario runs (and it is noted)
    assert_eq!(by("rfc::caps::needs_groups").verdict, Verdict::Pass);
    assert!(
        out.capabilities.notes.iter().any(|n| n.contains("/ResourceTypes") && n.contains("404")),
        "{:?}",
        out.capabilities.notes
    );
    assert_eq!(Policy::default().exit_code(&out), 0);
}

#[tokio::test]
async fn created_resources_are_cleaned_up_and_failed_cleanup_is_only_a_note() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/scim/v2/Users"))
        .respond_with(scim_status(201, json!({"id": "new-1"})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/scim/v2/Groups"))
        .respond_with(scim_status(201, json!({"id": "g-1"})))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/scim/v2/Users/new-1"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/scim/v2/Groups/g-1"))
        .respond_with(ResponseTemplate::new(405))
        .expect(1)
        .mount(&server)
        .await;
    let s = scenario(
        "rfc/cleanup/create.json",
        json!({"title": "t", "source": "test", "level": "must", "steps": [
            {"name": "create user", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "POST", "path": "/Users", "body": {"userName": "x"}}, "expect": {"status": 201}},
            {"name": "create group", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "POST", "path": "/Groups", "body": {"displayName": "x"}}, "expect": {"status": 201}}
        ]}),
    );
    let out = runner(&server, None).run(std::slice::from_ref(&s)).await;
    let r = &out.results[0];
    assert_eq!(r.verdict, Verdict::Pass, "a failed cleanup is not fatal");
    assert_eq!(r.cleanup.len(), 2);
    assert_eq!(r.cleanup[0].request.as_ref().unwrap().path, "/Groups/g-1", "newest first");
    assert!(r.notes.iter().any(|n| n.contains("DELETE /Groups/g-1 answered 405")), "{:?}", r.notes);
    let transcript = r.transcript_text.as_deref().unwrap();
    assert!(
        transcript.contains("\"path\": \"/Users/[user-1]\"") && transcript.contains("\"path\": \"/Groups/[group-1]\""),
        "{transcript}"
    );
    server.verify().await;
}

#[tokio::test]
async fn a_create_answered_200_is_cleaned_up_and_a_search_is_not() {
    let server = MockServer::start().await;
    // RFC 7644 §3.3 asks for 201; a server answering 200 still created the user, so it must still be deleted
    Mock::given(method("POST"))
        .and(path("/scim/v2/Users"))
        .respond_with(scim_status(200, json!({"id": "made-200"})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/scim/v2/Users/.search"))
        .respond_with(scim_status(200, json!({"id": "not-a-resource", "totalResults": 0, "Resources": []})))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/scim/v2/Users/made-200"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/scim/v2/Users/.search/not-a-resource"))
        .respond_with(ResponseTemplate::new(204))
        .expect(0)
        .mount(&server)
        .await;
    let s = scenario(
        "rfc/cleanup/create200.json",
        json!({"title": "t", "source": "test", "level": "should", "steps": [
            {"name": "create user", "basis": {"rfc": "RFC 7644 §3.3"}, "request": {"method": "POST", "path": "/Users", "body": {"userName": "x"}}, "expect": {"status": 201}},
            {"name": "search", "basis": {"rfc": "RFC 7644 §3.4.3"}, "request": {"method": "POST", "path": "/Users/.search", "body": {}}, "expect": {"status": 200}}
        ]}),
    );
    let out = runner(&server, None).run(std::slice::from_ref(&s)).await;
    let r = &out.results[0];
    assert_eq!(r.verdict, Verdict::Fail, "the 200 is still judged against RFC 7644 §3.3");
    assert_eq!(r.cleanup.len(), 1, "{:?}", r.cleanup);
    assert_eq!(r.cleanup[0].request.as_ref().unwrap().path, "/Users/made-200");
    assert_eq!(r.cleanup[0].verdict, StepVerdict::Pass);
    server.verify().await;
}

#[tokio::test]
async fn profiles_encode_filters_and_send_their_credential_style() {
    let server = MockServer::start().await;
    Mock::given(path("/scim/v2/Users")).respond_with(scim(json!({"totalResults": 0}))).mount(&server).await;
    // written as text: a `json!` value would sort the query keys, and their order is what is tested
    let text = r#"{"title": "t", "source": "test", "level": "must", "variables": {"mail": "a.b@okta.local"},
        "steps": [{"name": "lookup", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "GET", "path": "/Users",
          "query": {"filter": "userName eq \"{{mail}}\"", "startIndex": "1", "count": "100"}}}]}"#;
    let mk = |idp: &str| {
        let rel = format!("{idp}/enc/filter.json");
        scenario::parse(&rel, Path::new(&rel), text).unwrap()
    };
    // a step may override its profile's space encoding (Okta's 2019 captures use `+`)
    let plus_text = text
        .replace("a.b@okta.local", "plus@okta.local")
        .replace("\"path\": \"/Users\",", "\"path\": \"/Users\", \"spaces\": \"plus\",");
    let plus = scenario::parse("okta/enc/plus.json", Path::new("okta/enc/plus.json"), &plus_text).unwrap();
    let scenarios = vec![mk("okta"), mk("azure"), plus];
    let runner = Runner::new(
        Against::Target(Target::new(
            format!("{}/scim/v2?aadOptscim062020", server.uri()),
            Credential::Token("raw-token-abcdef".into()),
        )),
        RunOptions { auth_style: Some(scimcheck::profile::AuthStyle::Raw), ..RunOptions::default() },
    )
    .unwrap();
    let out = runner.run(&scenarios).await;
    assert!(out.results.iter().all(|r| r.verdict == Verdict::Pass), "{}", report::human(&out, &Policy::default(), &[]));
    let received: Vec<Request> = server.received_requests().await.unwrap();
    let queries: Vec<(String, String, String)> = received
        .iter()
        .filter(|r| r.url.path() == "/scim/v2/Users")
        .map(|r| {
            let ua = r.headers.get("user-agent").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
            let auth = r.headers.get("authorization").unwrap().to_str().unwrap().to_string();
            (ua, r.url.query().unwrap().to_string(), auth)
        })
        .collect();
    let okta_plus = queries.iter().find(|q| q.1.contains("plus%40okta")).expect("okta request with + spaces");
    assert_eq!(okta_plus.1, "aadOptscim062020&filter=userName+eq+%22plus%40okta.local%22&startIndex=1&count=100");
    let okta = queries.iter().find(|q| q.0.starts_with("Okta") && !q.1.contains("plus%40")).expect("okta request");
    assert_eq!(okta.1, "aadOptscim062020&filter=userName%20eq%20%22a.b%40okta.local%22&startIndex=1&count=100");
    assert_eq!(okta.2, "raw-token-abcdef", "--auth-style raw sends the bare token");
    let azure = queries.iter().find(|q| !q.0.starts_with("Okta")).expect("azure request");
    assert_eq!(azure.1, "aadOptscim062020&filter=userName+eq+%22a.b%40okta.local%22&startIndex=1&count=100");
}

#[tokio::test]
async fn missing_capture_blocks_dependent_steps_and_should_failures_respect_policy() {
    let server = MockServer::start().await;
    Mock::given(path("/scim/v2/Users")).respond_with(scim(json!({"Resources": []}))).mount(&server).await;
    Mock::given(path("/scim/v2/Groups")).respond_with(ResponseTemplate::new(404)).mount(&server).await;
    let s = scenario(
        "okta/cap/missing.json",
        json!({"title": "t", "source": "test", "level": "must", "steps": [
            {"name": "list", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "GET", "path": "/Users"}, "capture": {"uid": "/Resources/0/id"}},
            {"name": "get it", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "GET", "path": "/Users/{{uid}}"}},
            {"name": "groups (optional)", "basis": {"rfc": "RFC 7644 §3"}, "level": "should", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "GET", "path": "/Groups"}, "expect": {"status": 200}}
        ]}),
    );
    let out = runner(&server, None).run(std::slice::from_ref(&s)).await;
    let r = &out.results[0];
    assert_eq!(r.steps[0].verdict, StepVerdict::Fail);
    assert_eq!(r.steps[0].failures[0].check, "capture uid");
    assert_eq!(r.steps[1].verdict, StepVerdict::NotRun);
    assert!(r.steps[1].error.as_deref().unwrap().contains("{{uid}} was not captured"), "{:?}", r.steps[1].error);
    assert_eq!(r.steps[2].verdict, StepVerdict::Fail);
    assert_eq!(r.failed_level, Some(Level::Must));

    // the same scenario with only the SHOULD step failing: reported at its level, fails only --strict runs
    let s2 = scenario(
        "okta/cap/should_only.json",
        json!({"title": "t", "source": "test", "level": "must", "steps": [
            {"name": "list", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "GET", "path": "/Users"}},
            {"name": "groups (optional)", "basis": {"rfc": "RFC 7644 §3"}, "level": "should", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "GET", "path": "/Groups"}, "expect": {"status": 200}}
        ]}),
    );
    let out = runner(&server, None).run(std::slice::from_ref(&s2)).await;
    assert_eq!(out.results[0].verdict, Verdict::Fail);
    assert_eq!(out.results[0].failed_level, Some(Level::Should));
    assert_eq!(Policy::default().exit_code(&out), 0);
    assert_eq!(Policy { strict: true, ..Policy::default() }.exit_code(&out), 1);
    let human = report::human(&out, &Policy::default(), &[]);
    assert!(human.contains("FAIL(SHOULD)") && human.contains("okta   interop  should  0 passed, 1 failed"), "{human}");
}

#[tokio::test]
async fn a_repeated_step_runs_once_per_index_and_names_each_run() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/scim/v2/Users"))
        .respond_with(scim_status(201, json!({"userName": "x"})))
        .mount(&server)
        .await;
    let s = scenario(
        "rfc/repeat/create_three.json",
        json!({"title": "t", "source": "test", "level": "must", "variables": {"batch": "{{$uuid}}"}, "steps": [
            {"name": "create", "basis": {"rfc": "RFC 7644 §3"}, "repeat": 3, "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "POST", "path": "/Users",
             "body": {"userName": "u{{index}}.{{batch}}"}}, "expect": {"status": 201}}
        ]}),
    );
    let out = runner(&server, None).run(std::slice::from_ref(&s)).await;
    let r = &out.results[0];
    assert_eq!(r.verdict, Verdict::Pass, "{}", report::human(&out, &Policy::default(), &[]));
    let names: Vec<&str> = r.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["create [1/3]", "create [2/3]", "create [3/3]"]);
    let received = server.received_requests().await.unwrap();
    let users: Vec<String> = received
        .iter()
        .filter_map(|r| serde_json::from_slice::<serde_json::Value>(&r.body).ok())
        .map(|b| b["userName"].as_str().unwrap().split('.').next().unwrap().to_string())
        .collect();
    assert_eq!(users, ["u1", "u2", "u3"]);
}

#[tokio::test]
async fn okta_pauses_wait_only_when_asked_and_only_in_okta_scenarios() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users/u1"))
        .respond_with(scim(json!({"id": "u1", "userName": "u"})))
        .mount(&server)
        .await;
    let steps = json!([
        {"name": "first", "basis": {"rfc": "RFC 7644 §3.4.1"}, "request": {"method": "GET", "path": "/Users/u1"}},
        {"name": "second", "basis": {"rfc": "RFC 7644 §3.4.1"}, "pause": 1.0, "request": {"method": "GET", "path": "/Users/u1"}}
    ]);
    let okta =
        scenario("okta/pause/two_reads.json", json!({"title": "t", "source": "s", "level": "must", "steps": steps}));
    let rfc =
        scenario("rfc/pause/two_reads.json", json!({"title": "t", "source": "s", "level": "must", "steps": steps}));
    let make = |okta_pauses: bool| {
        Runner::new(
            Against::Target(Target::new(
                format!("{}/scim/v2", server.uri()),
                Credential::Token("pause-test-token-123456".into()),
            )),
            RunOptions { timeout: Duration::from_secs(5), okta_pauses, ..RunOptions::default() },
        )
        .unwrap()
    };
    let timed = |runner: Runner, s: Scenario| async move {
        let started = std::time::Instant::now();
        let result = runner.run_scenario(&s).await;
        assert_eq!(result.verdict, Verdict::Pass, "{:?}", result.steps);
        started.elapsed()
    };
    let waited = timed(make(true), okta.clone()).await;
    assert!(waited >= Duration::from_secs(1), "--okta-pauses waits the step's pause: {waited:?}");
    let not_asked = timed(make(false), okta).await;
    assert!(not_asked < Duration::from_secs(1), "without --okta-pauses a pause is documentation: {not_asked:?}");
    let not_okta = timed(make(true), rfc).await;
    assert!(not_okta < Duration::from_secs(1), "pauses are Okta's: {not_okta:?}");
}

/// RFC 7643 §6: whether Users carry the enterprise extension is said by the User resource type's
/// `schemaExtensions`; a server that only describes the schema under /Schemas gets enterprise scenarios skipped.
#[tokio::test]
async fn enterprise_scenarios_follow_the_user_resource_types_schema_extensions() {
    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    let user_type = |extensions: serde_json::Value| {
        json!({"Resources": [{"id": "User", "name": "User", "endpoint": "/Users",
            "schema": "urn:ietf:params:scim:schemas:core:2.0:User", "schemaExtensions": extensions}]})
    };
    let s = scenario(
        "rfc/caps/needs_enterprise.json",
        json!({"title": "t", "source": "test", "level": "must", "steps": [
            {"name": "create", "basis": {"rfc": "RFC 7643 §4.3"}, "request": {"method": "POST", "path": "/Users",
             "body": {"userName": "x", ENTERPRISE: {"department": "Media"}}}, "expect": {"status": 201}}
        ]}),
    );
    for (extensions, skipped) in [(json!([]), true), (json!([{"schema": ENTERPRISE, "required": false}]), false)] {
        let server = MockServer::start().await;
        Mock::given(path("/scim/v2/ResourceTypes")).respond_with(scim(user_type(extensions))).mount(&server).await;
        Mock::given(path("/scim/v2/Schemas"))
            .respond_with(scim(
                json!({"Resources": [{"id": "urn:ietf:params:scim:schemas:core:2.0:User"}, {"id": ENTERPRISE}]}),
            ))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/scim/v2/Users"))
            .respond_with(scim_status(201, json!({"id": "u-1"})))
            .mount(&server)
            .await;
        let out = runner(&server, None).run(std::slice::from_ref(&s)).await;
        let r = &out.results[0];
        if skipped {
            assert_eq!(r.verdict, Verdict::Skip);
            assert_eq!(
                r.reason.as_deref(),
                Some("target does not support: enterpriseUser (the User resource type does not list the enterprise extension in schemaExtensions)")
            );
            assert!(r.steps.is_empty(), "nothing was sent");
        } else {
            assert_eq!(r.verdict, Verdict::Pass, "{:?}", r.steps);
        }
    }
}

/// RFC 7643 §6: a server whose User resource type declares no enterprise extension gets a scenario's enterprise
/// steps skipped with the reason, while its other steps are judged (a failure there is still a failure); a
/// scenario whose flow rests on an enterprise step is skipped whole.
#[tokio::test]
async fn enterprise_steps_are_skipped_alone_when_the_scenario_is_not_about_the_extension() {
    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    let types = json!({"Resources": [{"id": "User", "name": "User", "endpoint": "/Users",
        "schema": "urn:ietf:params:scim:schemas:core:2.0:User", "schemaExtensions": []}]});
    // The URN in `schemas` alone (as Entra sends on every create) is not a use of the extension.
    let create = json!({"name": "create", "basis": {"rfc": "RFC 7644 §3.3"}, "request": {"method": "POST",
        "path": "/Users", "body": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "userName": "x"}}, "expect": {"status": 201}, "capture": {"id": "/id"}});
    let department = json!({"name": "department", "basis": {"rfc": "RFC 7643 §4.3"}, "request": {"method": "GET",
        "path": "/Users/{{id}}"}, "expect": {"status": 200, "body": [{"pointer": format!("/{ENTERPRISE}/department"),
        "equals": "Media"}]}, "capture": {"dept": format!("/{ENTERPRISE}/department")}});
    let read = |expect: u16| {
        json!({"name": "read", "basis": {"rfc": "RFC 7644 §3.4.1"}, "request": {"method": "GET",
        "path": "/Users/{{id}}"}, "expect": {"status": expect}})
    };
    let uses_dept = json!({"name": "uses dept", "basis": {"rfc": "RFC 7644 §3.4.2.2"}, "request": {"method": "GET",
        "path": "/Users", "query": {"filter": "userName eq \"{{dept}}\""}}, "expect": {"status": 200}});
    let server = MockServer::start().await;
    Mock::given(path("/scim/v2/ResourceTypes")).respond_with(scim(types)).mount(&server).await;
    Mock::given(method("POST"))
        .and(path("/scim/v2/Users"))
        .respond_with(scim_status(201, json!({"id": "u-1"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users/u-1"))
        .respond_with(scim_status(200, json!({"id": "u-1"})))
        .mount(&server)
        .await;
    let judged = scenario(
        "rfc/caps/some_enterprise.json",
        json!({"title": "t", "source": "test", "level": "must", "steps": [create.clone(), department.clone(), read(200), read(404)]}),
    );
    let whole = scenario(
        "rfc/caps/rests_on_enterprise.json",
        json!({"title": "t", "source": "test", "level": "must",
            "steps": [create, department, read(200), read(200), uses_dept]}),
    );
    assert!(!judged.enterprise_skips_whole() && whole.enterprise_skips_whole());
    let out = runner(&server, None).run(&[judged, whole]).await;
    let r = out.results.iter().find(|r| r.id.ends_with("some_enterprise")).expect("judged scenario");
    let verdicts: Vec<StepVerdict> = r.steps.iter().map(|s| s.verdict).collect();
    assert_eq!(verdicts, [StepVerdict::Pass, StepVerdict::NotRun, StepVerdict::Pass, StepVerdict::Fail]);
    assert_eq!(
        r.steps[1].error.as_deref(),
        Some(
            "skipped: the server's User resource type declares no enterprise extension (RFC 7643 §6 schemaExtensions)"
        )
    );
    assert!(r.steps[1].request.is_none(), "the enterprise step was not sent");
    assert_eq!(r.verdict, Verdict::Fail, "the non-enterprise steps are judged");
    let w = out.results.iter().find(|r| r.id.ends_with("rests_on_enterprise")).expect("whole scenario");
    assert_eq!(w.verdict, Verdict::Skip);
    assert!(w.reason.as_deref().is_some_and(|r| r.contains("enterpriseUser")), "{:?}", w.reason);
    assert!(w.steps.is_empty(), "nothing was sent");
}

/// A server that does not clearly declare `sort.supported: true` (RFC 7643 §5) does not have
/// sorting judged, whatever shape its declaration takes; other features are read in the same tolerant shapes.
#[test]
fn sort_is_judged_only_where_the_server_clearly_declares_it() {
    use scimcheck::runner::Capabilities;
    use scimcheck::scenario::Feature;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let sort = scenario::load_file(&root, &root.join("rfc/s3_4_2_3_sorting/sort_by_username.json"))
        .expect("loads")
        .expect("a scenario");
    let caps = |spc: Option<serde_json::Value>| Capabilities { service_provider_config: spc, ..Default::default() };
    assert_eq!(caps(Some(json!({"sort": {"supported": true}}))).skip_reason(&sort), None);
    for spc in [
        Some(json!({"sort": false})),
        Some(json!({"sort": {"supported": "false"}})),
        Some(json!({"sort": {}})),
        Some(json!({"filter": {"supported": true}})),
        None,
    ] {
        let reason = caps(spc.clone()).skip_reason(&sort).unwrap_or_else(|| panic!("{spc:?}: sort judged"));
        assert!(reason.contains("sort") && reason.contains("RFC 7644 §3.4.2.3"), "{reason}");
    }
    assert_eq!(caps(Some(json!({"patch": false}))).supports(Feature::Patch), Some(false));
    assert_eq!(caps(Some(json!({"Patch": {"Supported": "true"}}))).supports(Feature::Patch), Some(true));
    assert_eq!(caps(Some(json!({}))).supports(Feature::Patch), None);
}

/// Every scenario that sorts (`sortBy`) is skipped on a server that does
/// not clearly declare `sort.supported: true`, in any shape (RFC 7643 §5, RFC 7644 §3.4.2.3: sorting is OPTIONAL);
/// and no step judges the storage order of a list it did not sort. An assertion on a position of `Resources`
/// compares a value there only when the step sorts, pins `totalResults` to 1 (the position is the only result),
/// judges it only while `totalResults` is unchanged (`when`: a comparison between pages of one collection), or
/// rests on an IdP's own documented requirement (Okta's import needs a stable order, docs/okta.md §2). Checks of
/// presence or type (`notEmpty`, `isNumber`…) hold for any element and need none of these.
#[test]
fn no_scenario_judges_storage_order_and_sorting_needs_a_clear_declaration() {
    use scimcheck::runner::Capabilities;
    use scimcheck::scenario::Basis;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let all = scenario::load_dir(&root).unwrap_or_else(|e| panic!("{}", e.len()));
    let positional = regex::Regex::new(r"^/Resources/\d+(/|$)").unwrap();
    let presence = ["exists", "absent", "notEmpty", "isNumber", "isString", "isArray", "isBoolean"];
    let caps = |spc: serde_json::Value| Capabilities { service_provider_config: Some(spc), ..Default::default() };
    let mut sorting = 0;
    for s in &all {
        let sorts = |st: &scenario::Step| st.request.query.0.iter().any(|(k, _)| k.eq_ignore_ascii_case("sortBy"));
        if s.steps.iter().any(sorts) {
            sorting += 1;
            for spc in [json!({"sort": false}), json!({"sort": {"supported": "false"}}), json!({"sort": {}}), json!({})]
            {
                let reason = caps(spc.clone()).skip_reason(s);
                assert!(
                    reason.as_deref().is_some_and(|r| r.contains("sort")),
                    "{}: judged with {spc}: {reason:?}",
                    s.id
                );
            }
        }
        for st in &s.steps {
            let pins_one =
                st.expect.body.iter().any(|a| a.pointer == "/totalResults" && a.check == Check::Equals(json!(1)));
            let idp_requirement = matches!(st.basis, Some(Basis::Required(_))) && s.idp != scimcheck::idp::Idp::Rfc;
            for a in &st.expect.body {
                if !positional.is_match(&a.pointer) || sorts(st) || pins_one || idp_requirement {
                    continue;
                }
                let v = serde_json::to_value(a).unwrap();
                let only_presence = presence.iter().any(|k| v.get(*k).is_some());
                let while_unchanged = a.when.as_ref().is_some_and(|w| w.pointer == "/totalResults");
                assert!(
                    only_presence || while_unchanged,
                    "{} step \"{}\": {} judges the order of a list it did not sort",
                    s.id,
                    st.name,
                    v
                );
            }
        }
    }
    assert!(sorting >= 1, "the library sorts somewhere");
}

/// A `pages` step's results (one per page) carry the step's kind like every other step's — here an interop
/// scenario's, as a recorded Okta import is — never a placeholder `rfc`; so do steps that do not run.
#[tokio::test]
async fn a_pages_step_reports_its_scenario_kind() {
    let server = MockServer::start().await;
    let list = |start: u64| {
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 2,
               "startIndex": start, "itemsPerPage": 1,
               "Resources": [{"id": format!("u{start}"), "userName": format!("u{start}@example.com"),
                              "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}]})
    };
    for start in [1, 2] {
        Mock::given(method("GET"))
            .and(path("/scim/v2/Users"))
            .and(wiremock::matchers::query_param("startIndex", start.to_string()))
            .respond_with(scim(list(start)))
            .mount(&server)
            .await;
    }
    let s = scenario(
        "okta/import/recorded_import.json",
        json!({"title": "import", "source": "test", "level": "must", "kind": "interop",
               "steps": [
                 {"name": "import", "pages": true, "basis": {"rfc": "RFC 7644 §3.4.2.4"},
                  "request": {"method": "GET", "path": "/Users", "query": {"startIndex": "1", "count": "1"}},
                  "expect": {"status": 200}},
                 {"name": "get a user the server lacks", "basis": {"rfc": "RFC 7644 §3.4.1"},
                  "request": {"method": "GET", "path": "/Users/u9"}, "expect": {"status": 200},
                  "capture": {"nobody.id": "/id"}},
                 {"name": "uses the capture", "basis": {"rfc": "RFC 7644 §3.4.1"},
                  "request": {"method": "GET", "path": "/Users/{{nobody.id}}"}, "expect": {"status": 200}}]}),
    );
    assert_eq!(s.kind, scenario::Kind::Interop);
    let r = runner(&server, None).run_scenario(&s).await;
    let pages: Vec<_> = r.steps.iter().filter(|st| st.name.contains("[page")).collect();
    assert_eq!(pages.len(), 2, "{:?}", r.steps.iter().map(|s| &s.name).collect::<Vec<_>>());
    for st in &r.steps {
        assert_eq!(st.kind, scenario::Kind::Interop, "{} says {:?}", st.name, st.kind);
    }
    assert!(r.steps.iter().any(|st| st.verdict == StepVerdict::NotRun));
}
