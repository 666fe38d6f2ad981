//! A failed Okta or Entra step is explained in the IdP's terms in the terminal, JSON and HTML reports
//! (`src/idp/errors.rs`, docs/idp-errors.md): a 404 for Entra's no-match query is the job's quarantine; a 400 on
//! Okta's deactivation PATCH is a failed task Okta does not retry.

mod support;

use axum::http::{Method, StatusCode};
use scimcheck::library;
use scimcheck::report::model::ScenarioReport;
use scimcheck::report::Policy;
use scimcheck::runner::{RunOptions, ScenarioResult};
use serde_json::{json, Value};
use support::faults::{pass, spawn_faulty, Before, Fault, Seen};

fn no_match_404(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    let empty = body.as_ref().and_then(|b| b.get("totalResults")).and_then(Value::as_u64) == Some(0);
    if seen.is(Method::GET, "/Users") && seen.param("filter").is_some() && empty {
        *status = StatusCode::NOT_FOUND;
        *body = Some(
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "404", "detail": "not found"}),
        );
    }
}

static NO_MATCH_404: Fault = Fault {
    name: "no-match-404",
    description: "a user query matching nothing answers 404",
    before: pass,
    after: no_match_404,
};

fn patch_400(seen: &Seen) -> Before {
    if seen.is(Method::PATCH, "/Users/") {
        return Before::Respond(
            StatusCode::BAD_REQUEST,
            Some(
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "400", "scimType": "invalidValue"}),
            ),
        );
    }
    Before::Pass
}

static PATCH_400: Fault = Fault {
    name: "patch-400",
    description: "every user PATCH answers 400",
    before: patch_400,
    after: support::faults::keep,
};

async fn run(id: &str, fault: &'static Fault) -> ScenarioResult {
    let server = spawn_faulty(fault).await;
    let s = library::built_in().unwrap().into_iter().find(|s| s.id == id).expect("library scenario");
    let outcome = support::apps::run_on_idp_apps(&server, &[s], RunOptions::default()).await;
    server.shutdown().await;
    outcome.results.into_iter().next().expect("one result")
}

#[tokio::test]
async fn entras_no_match_query_answered_404_reads_as_quarantine_in_every_report() {
    let r = run("azure::test_connection::user_query_random_guid", &NO_MATCH_404).await;
    let report = ScenarioReport::build(&r, &Policy::default(), 1000);
    let view = report.steps.iter().find_map(|s| s.idp_view.clone()).expect("the failed step is explained");
    assert_eq!((view.idp.as_str(), view.action.as_str()), ("entra", "quarantine"));
    assert!(view.source.contains("quarantine"), "{}", view.source);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["steps"][0]["idpView"]["action"], "quarantine");
    let mut text = String::new();
    scimcheck::report::details_text(&mut text, &r);
    assert!(text.contains("Entra provisioning log:"), "{text}");
}

#[tokio::test]
async fn oktas_view_of_a_400_says_it_is_not_retried() {
    let r = run("okta::deactivation::pathless_patch_oin", &PATCH_400).await;
    let report = ScenarioReport::build(&r, &Policy::default(), 1000);
    let view = report.steps.iter().find_map(|s| s.idp_view.clone()).expect("the failed step is explained");
    assert_eq!(view.idp, "okta");
    assert!(!view.retried, "Okta does not retry a 400");
    assert!(view.customer_sees.contains("does not retry a 400"), "{}", view.customer_sees);
}
