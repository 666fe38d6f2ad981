//! Verdicts do not depend on `--jobs`: scenarios that read global state run alone, the others only look at what
//! they created. Against one shared reference server, `jobs = 1` and `jobs = 16` give identical verdicts and
//! identical transcripts. `SCIMCHECK_JOBS_RUNS=20` repeats the comparison (CI: `.ci/jobs-equivalence`).

#[path = "support/apps.rs"]
mod apps;

use std::collections::BTreeMap;
use std::path::Path;

use scimcheck::runner::RunOptions;
use scimcheck::scenario::load_dir;

fn library() -> Vec<scimcheck::scenario::Scenario> {
    load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")).expect("the shipped library loads")
}

/// Runs the whole library against one fresh shared server; returns id → (verdict, step verdicts, transcript).
async fn run_shared(jobs: usize) -> BTreeMap<String, (String, Vec<String>, String)> {
    let scenarios = library();
    let server = scim_reference_server::spawn(scim_reference_server::ServerConfig::default()).await.expect("server");
    let outcome = apps::run_on_idp_apps(&server, &scenarios, RunOptions { jobs, ..RunOptions::default() }).await;
    server.shutdown().await;
    outcome
        .results
        .into_iter()
        .map(|r| {
            let steps = r.steps.iter().map(|s| format!("{} {:?}", s.name, s.verdict)).collect();
            (r.id, (format!("{:?}", r.verdict), steps, r.transcript_text.unwrap_or_default()))
        })
        .collect()
}

#[test]
fn scenarios_reading_global_state_are_recognised() {
    let lib = library();
    let alone: Vec<&str> = lib.iter().filter(|s| s.reads_global_state()).map(|s| s.id.as_str()).collect();
    for id in ["okta::import::users_pages_of_100", "okta::import::groups_pages_of_100", "okta::spec::spec_suite"] {
        assert!(alone.contains(&id), "{id} lists a whole resource type and must run alone: {alone:?}");
    }
    for id in ["azure::manager::add_bare_id", "okta::provisioning::lookup_ignores_case"] {
        assert!(!alone.contains(&id), "{id} only looks at what it created");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_one_and_sixteen_give_identical_verdicts_and_transcripts_on_a_shared_server() {
    let runs: usize = std::env::var("SCIMCHECK_JOBS_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    for run in 1..=runs {
        let one = run_shared(1).await;
        let sixteen = run_shared(16).await;
        assert_eq!(one.len(), sixteen.len());
        for (id, (verdict, steps, transcript)) in &one {
            let (v16, s16, t16) = &sixteen[id];
            assert_eq!(verdict, v16, "run {run}: {id} verdict with --jobs 1 vs --jobs 16");
            assert_eq!(steps, s16, "run {run}: {id} step verdicts with --jobs 1 vs --jobs 16");
            if transcript != t16 {
                let diff = similar::TextDiff::from_lines(transcript.as_str(), t16.as_str());
                panic!("run {run}: {id} transcript differs between --jobs 1 and --jobs 16:\n{}", diff.unified_diff());
            }
        }
    }
}
