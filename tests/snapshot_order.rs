//! A snapshot records behaviour, not what RFC 7644 leaves to the server: without `sortBy` the order of a list's
//! `Resources` is unspecified (§3.4.2.3), and so is which resources a page of it holds (§3.4.2.4). A server whose
//! unsorted lists come back in another order (and so with other members on a partial page) on the second run does
//! not drift; a real change — an attribute missing from the listed resources — still does.

mod support;

use axum::http::{Method, StatusCode};
use scimcheck::runner::{Against, Credential, RunOptions, Runner, Target};
use scimcheck::scenario;
use scimcheck::snapshot::{SnapshotOutcome, SnapshotStore};
use serde_json::Value;
use support::faults::{keep, pass, spawn_faulty, Before, Fault, Seen};

/// The scenarios: Okta's Test API Credentials (a page of 2 of its 3 users) and a filter whose answer lists several
/// users (a whole list).
const IDS: [&str; 2] = ["okta::credentials::test_api_credentials", "rfc::s3_4_2_2_filtering::logical_operators"];

fn is_list(seen: &Seen) -> bool {
    seen.method == Method::GET && matches!(seen.path.trim_end_matches('/'), "/Users" | "/Groups")
}

/// Every unsorted list answered in descending `userName` order instead of the reference server's own order.
fn other_order(seen: &Seen) -> Before {
    if is_list(seen) && seen.param("sortBy").is_none() {
        let attribute = if seen.path.starts_with("/Groups") { "displayName" } else { "userName" };
        return Before::Query(
            seen.query_with(&[("sortBy", Some(attribute.to_string())), ("sortOrder", Some("descending".to_string()))]),
        );
    }
    Before::Pass
}

/// The same, and the listed resources lose `userName` (RFC 7643 §4.1.1: REQUIRED).
fn without_user_name(seen: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    if !is_list(seen) {
        return;
    }
    if let Some(Value::Array(rs)) = body.as_mut().and_then(|b| b.get_mut("Resources")) {
        for r in rs.iter_mut().filter_map(Value::as_object_mut) {
            r.remove("userName");
        }
    }
}

static AS_IS: Fault = Fault { name: "as-is", description: "the reference server", before: pass, after: keep };
static OTHER_ORDER: Fault =
    Fault { name: "other-order", description: "unsorted lists in another order", before: other_order, after: keep };
static OTHER_ORDER_WITHOUT_USER_NAME: Fault = Fault {
    name: "other-order-without-user-name",
    description: "unsorted lists in another order, their resources without userName",
    before: other_order,
    after: without_user_name,
};

async fn run(fault: &'static Fault, dir: &std::path::Path, update: bool) -> Vec<(String, SnapshotOutcome)> {
    let all = scenario::load_dir(&std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios"))
        .unwrap_or_else(|e| panic!("{}", e.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")));
    let selected: Vec<scenario::Scenario> = all.into_iter().filter(|s| IDS.contains(&s.id.as_str())).collect();
    assert_eq!(selected.len(), IDS.len());
    let server = spawn_faulty(fault).await;
    let target = Against::Target(Target::new(server.base_url.clone(), Credential::Token(server.token.clone())));
    let options =
        RunOptions { snapshots: Some(SnapshotStore { dir: dir.to_path_buf(), update }), ..Default::default() };
    let outcome = Runner::new(target, options).expect("client").run(&selected).await;
    server.shutdown().await;
    outcome.results.into_iter().map(|r| (r.id, r.snapshot.expect("a snapshot outcome"))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsorted_lists_in_another_order_do_not_drift_and_a_missing_attribute_does() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("snapshot-order-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    for (id, o) in run(&AS_IS, &dir, true).await {
        assert!(matches!(o, SnapshotOutcome::Written { .. }), "{id}: {o:?}");
    }
    // the same server behaviour, other orders and other members on the page: no drift
    let drifted: Vec<String> = run(&OTHER_ORDER, &dir, false)
        .await
        .into_iter()
        .filter(|(_, o)| *o != SnapshotOutcome::Matched)
        .map(|(id, o)| format!("{id}: {o:?}"))
        .collect();
    assert!(drifted.is_empty(), "{drifted:#?}");
    // a real change still drifts, on the partial page and on the whole list
    for (id, o) in run(&OTHER_ORDER_WITHOUT_USER_NAME, &dir, false).await {
        match o {
            SnapshotOutcome::Drift { diff, .. } => assert!(diff.contains("\"userName\""), "{id}: {diff}"),
            other => panic!("{id}: no drift: {other:?}"),
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
