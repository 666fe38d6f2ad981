//! The whole scenario library, twenty times in a row, against ONE long-running reference server with its
//! built-in seed (1,000 `standard` seats): the portal must not exhaust itself. Every scenario deletes what it
//! creates, and a deleted user releases its licence seat, so run 20 sees the same server state as run 1.
//! Scenarios run one at a time (`--jobs 1`), so they cannot disturb each other on the shared tenant.

#[path = "support/apps.rs"]
mod apps;

use std::path::PathBuf;

use scim_reference_server::{spawn, ServerConfig};
use scimcheck::runner::{RunOptions, Verdict};
use scimcheck::scenario;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_library_runs_against_one_server_all_pass() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let scenarios = scenario::load_dir(&root.join("scenarios")).expect("the scenario library loads");
    let server = spawn(ServerConfig::default()).await.expect("server starts");
    let options = RunOptions { jobs: 1, ..RunOptions::default() };
    let acme = server.tenants.get("acme").expect("the built-in tenant");
    for run in 1..=20 {
        let outcome = apps::run_on_idp_apps(&server, &scenarios, options.clone()).await;
        let bad: Vec<String> = outcome
            .results
            .iter()
            .filter(|r| !matches!(r.verdict, Verdict::Pass | Verdict::KnownDeviation | Verdict::Skip))
            .map(|r| format!("{} ({})", r.id, r.verdict.label()))
            .collect();
        let seats: Vec<String> =
            acme.portal.cal_usage().iter().map(|c| format!("{} {}/{}", c.id, c.used, c.seats)).collect();
        assert!(bad.is_empty(), "run {run}: {} scenario(s) did not pass: {bad:?}; seats {seats:?}", bad.len());
        let skipped = outcome.results.iter().filter(|r| r.verdict == Verdict::Skip).count();
        assert!(skipped < outcome.results.len(), "run {run}: everything was skipped");
        eprintln!("run {run}: {} scenarios, {skipped} skipped, seats {seats:?}", outcome.results.len());
    }
    // Nothing accumulates: every seat taken during the runs was given back.
    assert!(acme.portal.cal_usage().iter().all(|c| c.used == 0), "{:?}", acme.portal.cal_usage());
    server.shutdown().await;
}
