//! Failures grouped by cause: a run against a server with two defects — every JSON answer labelled
//! `Content-Type: application/json` (RFC 7644 §8.1 asks for `application/scim+json`; Okta reads either) and every
//! path-less PATCH operation refused with 400 (RFC 7644 §3.5.2.1/§3.5.2.3 allow them; Okta and Entra send them) —
//! must end its terminal report with a "fix first" section that leads with the PATCH refusal (both IdPs hit it)
//! although the content type affects more scenarios, says which IdP each cause breaks, and carry the same causes
//! in the JSON report. And setup is not the rule under test: a fixture refused for an unrelated reason
//! makes its scenario `setupFailed`, reported once under its cause.

mod support;

use axum::http::{Method, StatusCode};
use scimcheck::report::{self, Policy};
use scimcheck::runner::{Against, Credential, RunOptions, Runner, StepVerdict, Target, Verdict};
use scimcheck::scenario;
use serde_json::{json, Value};
use support::faults::{spawn_faulty, with_content_type, Before, Fault, Seen};

fn pathless_patch_refused(seen: &Seen) -> Before {
    let pathless = seen.operations().iter().any(|op| op.get("path").is_none());
    if seen.method == Method::PATCH && pathless {
        return Before::Respond(
            StatusCode::BAD_REQUEST,
            Some(json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "status": "400",
                "scimType": "noTarget",
                "detail": "every operation needs a path"
            })),
        );
    }
    Before::Pass
}

fn json_content_type(_: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    if let Some(b) = body.take() {
        *body = Some(with_content_type(b, "application/json; charset=utf-8"));
    }
}

static TWO_DEFECTS: Fault = Fault {
    name: "json-content-type-and-pathless-patch-refused",
    description: "answers application/json and refuses path-less PATCH operations with 400",
    before: pathless_patch_refused,
    after: json_content_type,
};

/// Lines of a terminal's first screen.
const SCREEN: usize = 24;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fix_first_leads_with_what_an_idp_hits_and_says_which_idp_each_cause_breaks() {
    let all = scenario::load_dir(&std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios"))
        .unwrap_or_else(|e| panic!("{}", e.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")));
    let server = spawn_faulty(&TWO_DEFECTS).await;
    let outcome = support::apps::run_on_idp_apps(&server, &all, RunOptions::default()).await;
    server.shutdown().await;

    let text = report::human(&outcome, &Policy::default(), &[]);
    let start = text.find("\nfix first: ").unwrap_or_else(|| panic!("no fix-first section:\n{text}"));
    let section = &text[start + 1..];
    assert!(section.lines().count() > 2, "{section}");
    let screen: Vec<&str> = section.lines().take(SCREEN).collect();
    let screen = screen.join("\n");
    // the terminal report ends with the section
    assert!(text.trim_end().ends_with(section.trim_end()));

    let causes = report::causes::causes(&outcome.results);
    let content_type = causes
        .iter()
        .position(|c| c.check == "header content-type" && c.shape == "application/json")
        .unwrap_or_else(|| panic!("no content-type cause: {causes:#?}"));
    // the one PATCH defect is one cause, whatever rules its steps cite (RFC sections, Okta's, Entra's): its shape
    // is the refusal the server gives
    let refusal = "400 noTarget (detail: every operation needs a path) to PATCH";
    let refused: Vec<usize> = (0..causes.len()).filter(|&i| causes[i].shape.ends_with("to PATCH")).collect();
    assert_eq!(
        refused.len(),
        1,
        "one cause for the refused PATCH: {:#?}",
        refused.iter().map(|&i| &causes[i]).collect::<Vec<_>>()
    );
    let patch = refused[0];
    assert_eq!(causes[patch].check, "status");
    assert_eq!(causes[patch].shape, refusal);
    // its rule lists every section its steps cite (the 401 and 404 checks of the same PATCH cite RFC 7644 §2 and
    // §3.12), the path-less PATCH's among them
    assert!(causes[patch].rule.contains("RFC 7644 §3.5.2"), "{:?}", causes[patch].rule);
    assert!(causes[patch].rule.contains("Okta requirement"), "{:?}", causes[patch].rule);
    // both IdPs would hit the PATCH refusal (Okta deactivates, Entra updates with path-less operations)
    assert_eq!(causes[patch].idps, [scimcheck::idp::Idp::Okta, scimcheck::idp::Idp::Entra], "{:#?}", causes[patch]);
    assert!(!causes[patch].rfc_only);
    // the content-type defect is the one most scenarios share, but Okta reads application/json and Entra only
    // prefers application/scim+json: it is RFC-only, and one cause, not one per scenario
    assert!(causes[content_type].rfc_only, "{:#?}", causes[content_type]);
    assert!(causes[content_type].rule.contains("RFC 7644"), "{:?}", causes[content_type].rule);
    assert_eq!(causes.iter().filter(|c| c.check == "header content-type").count(), 1, "{causes:#?}");
    // what an IdP would hit comes first, however few scenarios it affects: the PATCH refusal, in fewer scenarios
    // than the content type, leads (most scenarios first would put the content type first)
    assert!(causes[content_type].scenarios > causes[patch].scenarios, "{causes:#?}");
    assert_eq!(patch, 0, "{screen}");
    assert!(content_type > patch);
    // then every IdP cause before every RFC-only one, and among RFC-only ones every MUST before every SHOULD
    let tiers: Vec<(bool, scenario::Level)> = causes.iter().map(|c| (c.rfc_only, c.level)).collect();
    let first_rfc = tiers.iter().position(|t| t.0).unwrap_or(tiers.len());
    assert!(tiers[first_rfc..].iter().all(|t| t.0), "an IdP cause after an RFC-only one: {tiers:?}");
    assert!(tiers[first_rfc..].windows(2).all(|w| w[0].1 <= w[1].1), "SHOULD before MUST: {tiers:?}");
    assert!(content_type >= first_rfc);
    // each line says which IdP the cause breaks
    let c = &causes[patch];
    let line = format!(
        "  1. {} scenario(s), {} step(s) [MUST; breaks Okta, Entra]: status: got {refusal}",
        c.scenarios, c.steps
    );
    assert!(screen.contains(&line), "{line:?} not on the first screen:\n{screen}");
    let all = report::causes::fix_first(&causes, causes.len());
    let c = &causes[content_type];
    let line = format!(
        "  {}. {} scenario(s), {} step(s) [MUST; RFC only]: header content-type: got application/json",
        content_type + 1,
        c.scenarios,
        c.steps
    );
    assert!(all.contains(&line), "{line:?} not in:\n{all}");
    // what a refused PATCH leaves for the steps after it to read (the old values) follows from the refusal and is
    // counted under it, not listed as causes of its own that push the second defect off the first screen
    assert!(screen.contains(&line), "{line:?} not on the first screen:\n{screen}");
    assert!(
        causes[patch].steps > causes[patch].scenarios,
        "the refused PATCHes' later steps count: {:#?}",
        causes[patch]
    );

    // the JSON report carries the same causes, in the same order
    let json: Value = serde_json::from_str(&report::json(&outcome, &Policy::default(), &[])).expect("JSON report");
    let listed = json["causes"].as_array().expect("causes array");
    assert_eq!(listed.len(), causes.len());
    assert_eq!(listed[0]["shape"], refusal);
    assert_eq!(listed[content_type]["check"], "header content-type");
    assert_eq!(listed[content_type]["scenarios"], causes[content_type].scenarios);

    // a header is not what a fixture is for: no scenario stops at its fixture because of the media type, so the
    // rules behind the fixtures (filters, paging, attributes) are still judged on this server
    let stopped: Vec<&str> = outcome
        .results
        .iter()
        .filter(|r| r.reason.as_deref().is_some_and(|why| why.starts_with("setup failed") && why.contains("header")))
        .map(|r| r.id.as_str())
        .collect();
    assert!(stopped.is_empty(), "setup failed on a header: {stopped:?}");
    let filters = outcome.results.iter().find(|r| r.id == "rfc::s3_4_2_2_filtering::equality_operators").unwrap();
    assert!(filters.steps.iter().skip(1).all(|st| st.verdict != StepVerdict::NotRun), "{:#?}", filters.steps);
}

/// A create refused for a reason unrelated to the rule under test: every user carrying `nickName` answers 400.
fn nickname_refused(seen: &Seen) -> Before {
    let nick = seen.body.as_ref().and_then(|b| b.get("nickName")).is_some();
    if seen.method == Method::POST && seen.path.trim_end_matches('/') == "/Users" && nick {
        return Before::Respond(
            StatusCode::BAD_REQUEST,
            Some(json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "status": "400",
                "scimType": "invalidValue",
                "detail": "nickName is not accepted"
            })),
        );
    }
    Before::Pass
}

static NICKNAME_REFUSED: Fault = Fault {
    name: "nickname-refused",
    description: "a create carrying nickName is refused with 400",
    before: nickname_refused,
    after: support::faults::keep,
};

/// Setup is not the rule under test: the filter scenario's first fixture (a user with a nickName) is refused,
/// so the scenario is `setupFailed` naming that step, its later steps are not run, the run is not failed by it, and
/// the refused create is one cause in the fix-first list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_fixture_makes_the_scenario_setup_failed_not_a_failure_of_its_rule() {
    let all = scenario::load_dir(&std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios"))
        .unwrap_or_else(|e| panic!("{}", e.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")));
    let selected: Vec<scenario::Scenario> =
        all.into_iter().filter(|s| s.id == "rfc::s3_4_2_2_filtering::equality_operators").collect();
    assert_eq!(selected.len(), 1);
    let server = spawn_faulty(&NICKNAME_REFUSED).await;
    let target = Against::Target(Target::new(server.base_url.clone(), Credential::Token(server.token.clone())));
    let runner = Runner::new(target, RunOptions::default()).expect("client");
    let outcome = runner.run(&selected).await;
    server.shutdown().await;

    let r = &outcome.results[0];
    assert_eq!(r.verdict, Verdict::SetupFailed, "{r:#?}");
    let reason = r.reason.as_deref().unwrap_or("");
    assert!(
        reason.starts_with("setup failed: step 1 \"Fixture: create user alice\": status: expected 201, got 400"),
        "{reason}"
    );
    assert_eq!(r.steps[0].verdict, StepVerdict::Fail);
    assert!(r.steps.len() > 1);
    for st in &r.steps[1..] {
        assert_eq!(st.verdict, StepVerdict::NotRun, "{}", st.name);
        assert!(st.error.as_deref().is_some_and(|e| e.contains("setup failed at step 1")), "{:?}", st.error);
        assert!(st.request.is_none(), "{} was sent", st.name);
    }
    assert_eq!(r.failed_level, None, "the rule is not counted as failed");
    assert_eq!(Policy::default().exit_code(&outcome), 0);
    let causes = report::causes::causes(&outcome.results);
    assert_eq!(causes.len(), 1, "{causes:#?}");
    assert_eq!(
        (causes[0].check.as_str(), causes[0].shape.as_str(), causes[0].scenarios),
        ("status", "400 invalidValue (detail: nickName is not accepted) to POST", 1)
    );
    let text = report::human(&outcome, &Policy::default(), &[]);
    assert!(text.contains("SETUP") && text.contains("1 setup failed"), "{text}");
}

/// Every create (`POST /Users`, `POST /Groups`) answered 200 instead of RFC 7644 §3.3's 201, with the created
/// resource and its `id` in the body; and every JSON answer labelled `application/json` (a second defect).
fn create_answered_200(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if seen.method == Method::POST && *status == StatusCode::CREATED {
        *status = StatusCode::OK;
    }
    json_content_type(seen, status, body);
}

static CREATE_ANSWERED_200: Fault = Fault {
    name: "create-answered-200",
    description: "a create succeeds but answers 200 instead of 201; JSON answers are labelled application/json",
    before: support::faults::pass,
    after: create_answered_200,
};

/// A fixture whose create succeeded (the body carries the new `id`, captured) but answered 200 did what the rule
/// needs: no scenario stops at setup because of it, its rule is judged, and the status defect is one cause in the
/// fix-first list, citing RFC 7644 §3.3.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fixture_answered_200_instead_of_201_does_not_stop_the_rule() {
    let all = scenario::load_dir(&std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios"))
        .unwrap_or_else(|e| panic!("{}", e.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")));
    let server = spawn_faulty(&CREATE_ANSWERED_200).await;
    let outcome = support::apps::run_on_idp_apps(&server, &all, RunOptions::default()).await;
    server.shutdown().await;

    let stopped: Vec<(&str, &str)> = outcome
        .results
        .iter()
        .filter(|r| r.verdict == Verdict::SetupFailed)
        .map(|r| (r.id.as_str(), r.reason.as_deref().unwrap_or("")))
        .collect();
    assert!(stopped.is_empty(), "setup failed: {stopped:#?}");
    let filters = outcome.results.iter().find(|r| r.id == "rfc::s3_4_2_2_filtering::equality_operators").unwrap();
    assert!(filters.steps.iter().all(|st| st.verdict != StepVerdict::NotRun), "{:#?}", filters.steps);
    assert_eq!(filters.steps[0].failures[0].check, "status", "{:#?}", filters.steps[0]);

    let causes = report::causes::causes(&outcome.results);
    let created: Vec<_> = causes.iter().filter(|c| c.check == "status" && c.shape.starts_with("200")).collect();
    assert_eq!(created.len(), 1, "the 200 is one cause: {causes:#?}");
    assert!(created[0].shape.contains("POST"), "{:#?}", created[0]);
    // the rule the 200 breaks is the one naming a create's status, not every rule the creating steps stand for
    assert_eq!(created[0].rule, "RFC 7644 §3.3", "{:#?}", created[0]);
    assert!(created[0].scenarios > 30, "{:#?}", created[0]);
    // the create did create: what its scenario finds later does not follow from its status, and the second defect
    // stays a cause of its own in the scenarios whose fixtures answered 200
    let content_type = causes.iter().find(|c| c.check == "header content-type").expect("the content-type cause");
    assert!(content_type.scenarios > 30, "{content_type:#?}");
}

/// `attributes` dropped from every request's query before the server sees it: the server answers as if it ignored
/// the parameter (RFC 7644 §3.4.2.5), returning the default set of attributes.
fn attributes_ignored(seen: &Seen) -> Before {
    match seen.param("attributes") {
        Some(_) => Before::Query(seen.query_with(&[("attributes", None)])),
        None => Before::Pass,
    }
}

static ATTRIBUTES_IGNORED: Fault = Fault {
    name: "attributes-ignored",
    description: "the `attributes` parameter is ignored: every attribute of the default set is returned",
    before: attributes_ignored,
    after: support::faults::keep,
};

/// A server ignoring `attributes` returns `emails`, `name`, `title`, … where RFC 7644 §3.4.2.5 leaves them out:
/// one defect, so one cause citing that rule, not one per attribute found present.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_ignoring_attributes_is_one_cause_citing_its_rule() {
    let all = scenario::load_dir(&std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios"))
        .unwrap_or_else(|e| panic!("{}", e.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")));
    let server = spawn_faulty(&ATTRIBUTES_IGNORED).await;
    let outcome = support::apps::run_on_idp_apps(&server, &all, RunOptions::default()).await;
    server.shutdown().await;

    let projection = outcome.results.iter().find(|r| r.id == "rfc::s3_4_2_5_attributes::attributes_parameter").unwrap();
    assert_eq!(projection.verdict, Verdict::Fail, "{projection:#?}");
    let failed: usize = projection.steps.iter().map(|st| st.failures.len()).sum();
    assert!(failed >= 5, "several attributes came back: {:#?}", projection.steps);
    let causes = report::causes::causes(&outcome.results);
    let projected: Vec<_> = causes.iter().filter(|c| c.rule == "RFC 7644 §3.4.2.5").collect();
    assert_eq!(projected.len(), 1, "one cause for the ignored parameter: {projected:#?}");
    assert!(projected[0].steps >= 3, "{:#?}", projected[0]);
    assert!(projected[0].check.starts_with("absent"), "{:#?}", projected[0]);
    let text = report::causes::fix_first(&causes, causes.len());
    let lines: Vec<&str> = text.lines().filter(|l| l.ends_with("— RFC 7644 §3.4.2.5")).collect();
    assert_eq!(lines.len(), 1, "{text}");
}
