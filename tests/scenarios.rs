//! One libtest-mimic trial per scenario file, against a fresh in-process reference server each, named by the
//! scenario id (`okta::spec::spec_suite`), so `cargo test -- okta` filters and nextest runs them. The transcript
//! is checked against `snapshots/` by the same snapshot store the CLI uses (`scimcheck::snapshot::SnapshotStore`):
//! a difference fails the trial with its diff and leaves `<name>.snap.new` (`scimcheck snapshots review`, or
//! `cargo insta review`); `INSTA_UPDATE=always` records new and changed snapshots instead. Each scenario runs and is
//! judged as `scimcheck run --reference` runs and judges it ([`Runner::run_one`] on the discovered capabilities,
//! [`scimcheck::judge`]: snapshot, verdict rules and the known deviations of `snapshots/expectations.json`).

use std::path::PathBuf;
use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};
use scimcheck::expectations::{self, Expectations};
use scimcheck::report::{self, Policy};
use scimcheck::runner::{Against, Capabilities, RunOptions, RunOutcome, Runner};
use scimcheck::scenario::{self, Scenario};
use scimcheck::snapshot::SnapshotStore;

fn main() {
    let args = Arguments::from_args();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let scenarios = match scenario::load_dir(&root.join("scenarios")) {
        Ok(s) => s,
        Err(errors) => {
            for e in errors {
                eprintln!("{e}");
            }
            std::process::exit(101);
        }
    };
    let expectations = match Expectations::load(&root.join("snapshots").join(expectations::FILE_NAME)) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(101);
        }
    };
    let rt = Arc::new(tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime"));
    let update = std::env::var("INSTA_UPDATE").is_ok_and(|v| v == "always" || v == "1");
    let snapshots = SnapshotStore { dir: root.join("snapshots"), update };
    let options = RunOptions { snapshots: Some(snapshots), expectations, ..RunOptions::default() };
    let runner = Arc::new(Runner::new(Against::Reference, options).expect("HTTP client"));
    let caps = Arc::new(rt.block_on(runner.discover()));
    let trials = scenarios
        .into_iter()
        .map(|s| {
            let (rt, runner, caps) = (rt.clone(), runner.clone(), caps.clone());
            Trial::test(s.id.clone(), move || run_trial(&rt, &runner, &caps, &s))
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

fn run_trial(rt: &tokio::runtime::Runtime, runner: &Runner, caps: &Capabilities, s: &Scenario) -> Result<(), Failed> {
    if let Some(reason) = caps.skip_reason(s) {
        return Err(format!("the reference server must support every scenario: {reason}").into());
    }
    let result = rt.block_on(runner.run_one(s, caps));
    let policy = Policy { strict: true, drift_warn: false };
    if policy.fails_run(&result) {
        let outcome = RunOutcome {
            target: "reference server".into(),
            capabilities: caps.clone(),
            results: vec![result],
            duration_ms: 0.0,
            interrupted: false,
            notes: vec![],
            redactor: Default::default(),
        };
        return Err(report::human(&outcome, &policy, &[]).into());
    }
    result.transcript_text.as_ref().ok_or("no transcript recorded")?;
    // every library scenario has its snapshot: a new one is written as pending and fails here, as insta does
    if let Some(scimcheck::snapshot::SnapshotOutcome::Missing { pending }) = &result.snapshot {
        return Err(format!(
            "no snapshot recorded yet; the transcript is in {} (`scimcheck snapshots review --snapshots snapshots`, \
             or INSTA_UPDATE=always)",
            pending.display()
        )
        .into());
    }
    Ok(())
}
