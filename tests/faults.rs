//! Every library scenario can fail: each is run against the reference server with the fault(s) it exists to
//! catch (listed in `scenarios/<idp>/faults.json`) and must be reported as `fail`; first, as a control, it must pass
//! through the fault layer with no fault in it. Scenarios listed nowhere, faults that do not exist and faults no
//! scenario catches are errors too. `SCIMCHECK_FAULTS_VERBOSE=1 cargo test --test faults -- --nocapture` prints which
//! steps each fault makes fail.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use scimcheck::runner::{Credential, RunOptions, Runner, StepVerdict, Target, Verdict};
use scimcheck::scenario::{self, Scenario};
use support::faults::{self, spawn_faulty};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `scenario id → fault names`, from every `scenarios/<idp>/faults.json`.
fn mapping() -> BTreeMap<String, Vec<String>> {
    let mut all = BTreeMap::new();
    for idp in ["okta", "azure", "rfc"] {
        let path = root().join("scenarios").join(idp).join("faults.json");
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let map: BTreeMap<String, Vec<String>> =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        all.extend(map);
    }
    all
}

fn scenarios() -> Vec<Scenario> {
    scenario::load_dir(&root().join("scenarios"))
        .unwrap_or_else(|errors| panic!("{}", errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")))
}

#[test]
fn every_library_scenario_names_existing_faults_and_every_fault_is_used() {
    let map = mapping();
    let ids: BTreeSet<String> = scenarios().into_iter().map(|s| s.id).collect();
    let libraries = ["okta::", "azure::", "rfc::"];
    for id in &ids {
        let in_library_with_mapping = libraries.iter().any(|p| {
            id.starts_with(p) && root().join("scenarios").join(&p[..p.len() - 2]).join("faults.json").exists()
        });
        if in_library_with_mapping {
            assert!(map.get(id).is_some_and(|f| !f.is_empty()), "{id} lists no fault it catches");
        }
    }
    let mut used = BTreeSet::new();
    for (id, names) in &map {
        assert!(ids.contains(id), "faults.json names unknown scenario {id}");
        for n in names {
            assert!(faults::find(n).is_some(), "{id}: unknown fault {n}");
            used.insert(n.clone());
        }
    }
    let mut names = BTreeSet::new();
    for f in faults::catalogue() {
        assert!(names.insert(f.name), "fault {} is defined twice (names are shared by all libraries)", f.name);
        assert!(used.contains(f.name), "fault {} is caught by no scenario", f.name);
    }
}

/// The fault layer with no fault in it: a scenario must pass through it, so that a failure against a fault is the
/// fault's doing and not the layer's.
static NO_FAULT: faults::Fault =
    faults::Fault { name: "none", description: "no fault (control run)", before: faults::pass, after: faults::keep };

async fn run_against(s: &Scenario, fault: &'static faults::Fault) -> scimcheck::runner::ScenarioResult {
    let server = spawn_faulty(fault).await;
    let target =
        Target::Remote { base_url: server.base_url.clone(), credential: Credential::Token(server.token.clone()) };
    let runner = Runner::new(target, RunOptions::default()).expect("client");
    let result = runner.run_scenario(s).await;
    server.shutdown().await;
    result
}

/// The steps that did not pass, for messages.
fn failed_steps(result: &scimcheck::runner::ScenarioResult) -> String {
    let failed: Vec<String> = result
        .steps
        .iter()
        .filter(|st| st.verdict != StepVerdict::Pass)
        .map(|st| {
            let why: Vec<String> =
                st.failures.iter().map(|f| format!("{}: expected {}, got {}", f.check, f.expected, f.actual)).collect();
            format!("    {} [{:?}] {}{}", st.name, st.verdict, why.join("; "), st.error.clone().unwrap_or_default())
        })
        .collect();
    failed.join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_fails_against_the_fault_it_exists_to_catch() {
    let map = mapping();
    let all = scenarios();
    let mut misses = Vec::new();
    for (id, names) in &map {
        let Some(s) = all.iter().find(|s| &s.id == id) else { continue };
        let control = run_against(s, &NO_FAULT).await;
        if control.verdict != Verdict::Pass {
            misses.push(format!(
                "{id} does not pass through the fault layer without a fault: {:?}\n{}",
                control.verdict,
                failed_steps(&control)
            ));
            continue;
        }
        for name in names {
            let Some(fault) = faults::find(name) else { continue };
            let result = run_against(s, fault).await;
            if std::env::var_os("SCIMCHECK_FAULTS_VERBOSE").is_some() {
                eprintln!("{id} against {name}: {:?}\n{}", result.verdict, failed_steps(&result));
            }
            if result.verdict != Verdict::Fail {
                misses.push(format!("{id} against {name}: {:?}\n{}", result.verdict, failed_steps(&result)));
            }
        }
    }
    assert!(misses.is_empty(), "scenarios that did not catch their fault:\n{}", misses.join("\n"));
}
