//! One libtest-mimic trial per scenario file, against a fresh in-process reference server each, named by the
//! scenario id (`okta::spec::spec_suite`), so `cargo test -- okta` filters and nextest runs them. The transcript
//! is checked with insta against `snapshots/`, so `INSTA_UPDATE` and `cargo insta review` work natively; the CLI
//! writes byte-identical files (see `scimcheck::snapshot::file_text`).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};
use scimcheck::expectations::{self, Expectations};
use scimcheck::report::{self, Policy};
use scimcheck::runner::{Capabilities, RunOptions, RunOutcome, Runner, Target};
use scimcheck::scenario::{self, Scenario};

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
        Ok(e) => Arc::new(e),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(101);
        }
    };
    let rt = Arc::new(tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime"));
    let runner = Arc::new(Runner::new(Target::Reference, RunOptions::default()).expect("HTTP client"));
    let caps = Arc::new(rt.block_on(runner.discover()));
    let trials = scenarios
        .into_iter()
        .map(|s| {
            let (rt, runner, caps, exp, root) =
                (rt.clone(), runner.clone(), caps.clone(), expectations.clone(), root.clone());
            Trial::test(s.id.clone(), move || run_trial(&rt, &runner, &caps, exp.as_ref().as_ref(), &root, &s))
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

fn run_trial(
    rt: &tokio::runtime::Runtime,
    runner: &Runner,
    caps: &Capabilities,
    expectations: Option<&Expectations>,
    root: &Path,
    s: &Scenario,
) -> Result<(), Failed> {
    if let Some(reason) = caps.skip_reason(s) {
        return Err(format!("the reference server must support every scenario: {reason}").into());
    }
    let mut result = rt.block_on(runner.run_scenario(s));
    if let Some(e) = expectations {
        e.apply(std::slice::from_mut(&mut result));
    }
    let policy = Policy { strict: true, drift_warn: false };
    if policy.fails_run(&result) {
        let outcome = RunOutcome {
            target: "reference server".into(),
            capabilities: caps.clone(),
            results: vec![result],
            duration_ms: 0.0,
            redactor: Default::default(),
        };
        return Err(report::human(&outcome, &policy, &[]).into());
    }
    let transcript = result.transcript_text.ok_or("no transcript recorded")?;
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root.join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_input_file(&s.file);
    let name = s.snapshot_name();
    catch_unwind(AssertUnwindSafe(|| {
        settings.bind(|| insta::assert_snapshot!(name.as_str(), transcript));
    }))
    .map_err(|panic| {
        let msg = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "snapshot assertion failed".into());
        Failed::from(msg)
    })
}
