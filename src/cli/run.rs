//! `scimcheck run`: settings (flags over `scimcheck.toml` over defaults), scenario selection, preflight, live
//! output, Ctrl-C, reports and the exit code.
//!
//! Exit codes: 0 nothing failed the run; 1 something did (see [`crate::report::Policy`]); 2 the run could not
//! be made (bad settings or scenarios, nothing selected, a report folder that cannot be made, preflight failed);
//! 130 interrupted by Ctrl-C (partial reports are still written). A closed or failing stdout (`| head`, a full
//! disk) changes none of these: the output is dropped, the run and its report files go on ([`crate::console`]).

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::output::Live;
pub use super::settings::{Settings, TOKEN_ENV};
use super::{load, select, DriftMode, RunArgs};
use crate::expectations::{self, Expectations};
use crate::http::{ClientOptions, INSECURE_WARNING};
use crate::idp::Idp;
use crate::profile::Profile;
use crate::report::model::ScenarioReport;
use crate::report::spool::Spool;
use crate::report::{self, Policy, Report, ReportMeta};
use crate::runner::{Against, Credential, RunOptions, Runner, ScenarioResult};
use crate::snapshot::SnapshotStore;

/// Exit code of an interrupted run (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: i32 = report::EXIT_INTERRUPTED;

/// Executes `scimcheck run`; returns the exit code.
pub async fn run(args: RunArgs) -> Result<i32, String> {
    if let Some(e) = super::filter_looks_like_url(args.select.pattern.as_deref()) {
        return Err(e);
    }
    let settings = Settings::resolve(&args)?;
    if args.report_body_limit == 0 {
        return Err("--report-body-limit must be at least 1".into());
    }
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let all = load(&settings.select.scenarios, settings.select.no_library)?;
    let (mut selected, excluded) = select(&all, &settings.select);
    let excluded_ids: std::collections::BTreeSet<String> = excluded.iter().map(|(s, _)| s.id.clone()).collect();
    if selected.is_empty() {
        let why = if all.is_empty() {
            "the scenario folders hold no scenarios".to_string()
        } else {
            format!(
                "the selection (--idp, --level, --kind, --tags, --filter) matches none of the {} scenarios",
                all.len()
            )
        };
        let list = super::checks::list_command(&args.select, args.config.as_deref());
        eprintln!("error: no scenario selected: {why}; `{list}` shows what there is");
        return Ok(2);
    }
    if !settings.payload.is_empty() {
        selected.iter_mut().for_each(|s| settings.payload.apply(s));
    }
    // a report that cannot be written is found now, not after the whole run
    super::checks::report_folders(&[args.json.as_deref(), args.junit.as_deref(), args.html.as_deref()])?;
    if settings.tls.insecure {
        eprintln!("{INSECURE_WARNING}");
    }
    let redactor = settings.target.redactor();
    if let Against::Target(target) = &settings.target {
        let credential = &target.credential;
        if credential.is_none() {
            eprintln!(
                "warning: no credential given (--token, {TOKEN_ENV}, token-env or --auth-header): requests carry no \
                 Authorization header"
            );
        }
        // with the gallery suite a token endpoint's failure is Microsoft's FAILED authentication test, not a stop
        let gallery_oauth = settings.suite.is_some() && matches!(credential, Credential::OAuth(_));
        if !args.no_preflight && !gallery_oauth {
            let client = crate::http::client(&ClientOptions {
                tls: settings.tls.clone(),
                connect_timeout: settings.timeout,
                pool_max_idle_per_host: 1,
                ..Default::default()
            })?;
            let style = settings.auth_style.unwrap_or(Profile::of(Idp::Rfc).auth_style);
            if let Err(f) = crate::preflight::check(&client, target, style, settings.timeout).await {
                eprintln!("error: preflight: {}", redactor.scrub(&f.message));
                eprintln!("(the connection test runs before any scenario; --no-preflight skips it)");
                return Ok(2);
            }
        }
    }

    if settings.suite.is_some() {
        return super::gallery::run(&settings, &args).await;
    }

    // the snapshot baseline: --snapshots DIR, else for the reference server the one built into the binary, in a
    // temporary folder removed however the run ends
    let mut extracted: Option<super::temp::TempFolder> = None;
    let snapshot_dir = match (&settings.snapshots, &settings.target) {
        (Some(dir), _) => Some(dir.clone()),
        (None, Against::Reference) => {
            if args.update_snapshots {
                return Err("--update-snapshots needs --snapshots DIR (the built-in baseline is read-only; in a \
                            checkout: --snapshots snapshots)"
                    .into());
            }
            let folder = super::temp::TempFolder::new("scimcheck-baseline")
                .map_err(|e| format!("cannot create a temporary folder for the built-in snapshots: {e}"))?;
            let dir = folder.path().to_path_buf();
            crate::library::extract_snapshots(&dir)
                .map_err(|e| format!("cannot unpack the built-in snapshots into {}: {e}", dir.display()))?;
            extracted = Some(folder);
            Some(dir)
        }
        (None, Against::Target(_)) => None,
    };
    let expectations_path =
        settings.expectations.clone().or_else(|| snapshot_dir.as_ref().map(|d| d.join(expectations::FILE_NAME)));
    let expectations = match &expectations_path {
        Some(p) => match Expectations::load(p)? {
            Some(e) => Some(e),
            None if settings.expectations.is_some() => return Err(format!("{}: no such file", p.display())),
            None => None,
        },
        None => None,
    };
    if args.update_snapshots && snapshot_dir.is_none() {
        return Err("--update-snapshots needs --snapshots DIR (or --reference)".into());
    }
    let options = RunOptions {
        jobs: settings.jobs,
        timeout: settings.timeout,
        body_limit: args.body_limit,
        auth_style: settings.auth_style,
        snapshots: snapshot_dir.map(|dir| SnapshotStore { dir, update: args.update_snapshots }),
        expectations,
        tls: settings.tls.clone(),
        report_body_limit: args.report_body_limit,
        okta_pauses: settings.okta_pauses,
    };
    let runner = Runner::new(settings.target.clone(), options)?.with_suites(settings.select.suite.clone());

    // Ctrl-C: the first stops new steps (cleanup and partial reports still happen), the second quits at once
    let interrupted = runner.interrupt_flag();
    let presses = Arc::new(AtomicUsize::new(0));
    let watcher = {
        let (interrupted, presses) = (interrupted.clone(), presses.clone());
        tokio::spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                if presses.fetch_add(1, Ordering::SeqCst) > 0 {
                    eprintln!("interrupted again: quitting without cleanup");
                    super::temp::remove_all();
                    std::process::exit(EXIT_INTERRUPTED);
                }
                interrupted.store(true, Ordering::SeqCst);
                eprintln!(
                    "interrupted: no new step starts; deleting what the scenarios created and writing partial \
                     reports (Ctrl-C again quits at once)"
                );
            }
        })
    };

    // discovered first, so the line announcing the run counts every row it lists: one per scenario and one per
    // IdP requirement the target fails (crate::requirements), each a result of its own in every report
    let run_started = std::time::Instant::now();
    let capabilities = runner.discover().await;
    let requirements = crate::requirements::failures(&capabilities, &selected, &settings.select.suite);
    let rows = selected.len() + requirements.len();
    let ids = selected.iter().map(|s| s.id.len()).chain(requirements.iter().map(|r| r.id.len()));
    let width = ids.max().unwrap_or(0);
    let target_text = match &settings.target {
        Against::Target(target) => redactor.scrub(&target.base_url),
        Against::Reference => "the bundled reference server (a fresh in-process instance per scenario)".into(),
    };
    let what = match requirements.len() {
        0 => format!("{} scenario(s)", selected.len()),
        n => format!("{} scenario(s) and {n} IdP requirement(s) the target fails", selected.len()),
    };
    crate::outln!("scimcheck: {what} against {target_text}, {} at a time", settings.jobs);
    if let Some(f) = &settings.config_file {
        crate::outln!("settings: {}", f.display());
    }
    if !excluded.is_empty() {
        crate::outln!(
            "{} scenario(s) not selected ({}); `{}` shows them",
            excluded.len(),
            super::checks::excluded_by(excluded.iter().map(|(_, why)| why.as_str())),
            super::checks::list_command(&args.select, args.config.as_deref())
        );
    }
    if settings.okta_pauses {
        crate::outln!("{}", super::checks::okta_pauses_line(&selected));
    }
    let policy = Policy { strict: settings.strict, drift_warn: args.drift == Some(DriftMode::Warn) };
    // each scenario goes to the report spool as it finishes; the run keeps only a short start of each body
    let mut spool = if args.junit.is_some() || args.json.is_some() || args.html.is_some() {
        Some(Spool::new().map_err(|e| format!("cannot create the report spool in the temporary folder: {e}"))?)
    } else {
        None
    };
    let mut spool_error: Option<std::io::Error> = None;
    let live = Live::new(rows, width, args.quiet);
    // the terminal renders from the report model, as the reports do: each scenario's part is built once, as it
    // finishes; its live line, its details after the run and its place in the summary come from it
    let shown = report::Shown { observations: args.verbose, new_snapshots: false, pending_kept: extracted.is_none() };
    let mut tally = report::text::Tally::default();
    let mut blocks: Vec<(String, String)> = Vec::new();
    let mut pending: Vec<(String, String, std::path::PathBuf)> = Vec::new();
    let outcome = {
        let (live, spool, spool_error) = (&live, &mut spool, &mut spool_error);
        let (tally, blocks, pending) = (&mut tally, &mut blocks, &mut pending);
        let body_limit = args.report_body_limit;
        runner
            .run_discovered(&selected, capabilities, &mut move |r| {
                let part = ScenarioReport::build(r, &policy, body_limit);
                live.scenario(&part);
                tally.add(&part);
                if let Some(block) = report::text::details_block(&part, &policy, shown) {
                    blocks.push((part.id.clone(), block));
                }
                if let Some(s) = part.snapshot.as_ref().filter(|s| matches!(s.status.as_str(), "missing" | "drift")) {
                    pending.push((part.id.clone(), s.status.clone(), s.path.clone().unwrap_or_default().into()));
                }
                if let Some(spool) = spool.as_mut() {
                    if let Err(e) = spool.push(&part) {
                        spool_error.get_or_insert(e);
                    }
                }
                shed(r);
            })
            .await
    };
    let mut outcome = outcome;
    outcome.duration_ms = run_started.elapsed().as_secs_f64() * 1000.0;
    live.finish();
    watcher.abort();
    let was_interrupted = interrupted.load(Ordering::SeqCst);

    let mut notes = Vec::new();
    if runner.options().snapshots.is_none() {
        notes.push("no snapshot baseline (--snapshots DIR): drift is not checked".to_string());
    }
    notes.extend(outcome.notes.iter().cloned());
    if was_interrupted {
        notes.push("interrupted by Ctrl-C: the results are partial".to_string());
    }
    let meta = ReportMeta { started_at, notes, excluded: excluded_ids, body_limit: args.report_body_limit };
    let mut header = Report::header(&outcome, &policy, &meta);
    blocks.sort_by(|a, b| a.0.cmp(&b.0));
    let blocks: Vec<String> = blocks.into_iter().map(|(_, block)| block).collect();
    crate::outln!();
    crate::out!("{}", report::text::after_live(&header, &tally, &blocks, shown));
    if let Some(mut spool) = spool {
        if let Some(e) = spool_error {
            return Err(format!("cannot write the report spool in the temporary folder: {e}"));
        }
        for s in spool.summaries() {
            header.counts.add(s.verdict, s.reason.as_deref());
        }
        write_reports(&header, &mut spool, args.json.as_deref(), args.junit.as_deref(), args.html.as_deref())?;
    }
    pending.sort();
    snapshot_summary(&pending, extracted.is_some(), settings.config_file.as_deref());
    drop(extracted);
    if was_interrupted {
        return Ok(EXIT_INTERRUPTED);
    }
    Ok(policy.exit_code(&outcome))
}

/// After the summary: how many scenarios have no snapshot yet ("new") and how many differ from theirs
/// ("changed"), from the `pending` transcripts (scenario id, snapshot status `missing` or `drift`, path) sorted by
/// scenario id, and the commands that review or accept them — naming the folder, and the settings file when one
/// was used (`config`), so the line can be copied as it is. Against the built-in baseline (`built_in`) nothing is
/// kept: the line says how to record a baseline of one's own instead.
fn snapshot_summary(pending: &[(String, String, std::path::PathBuf)], built_in: bool, config: Option<&Path>) {
    use crate::snapshot::{command_for, folder_of};
    let new = pending.iter().filter(|(_, status, _)| status == "missing").count();
    let changed = pending.len() - new;
    let folder = pending.first().map(|(_, _, path)| folder_of(path).to_path_buf());
    let Some(folder) = folder else { return };
    let counts = format!("{new} new (no snapshot yet), {changed} changed");
    if built_in {
        crate::outln!(
            "snapshots: {counts} against the built-in baseline; it is read-only and its temporary copy is removed: `--snapshots DIR --update-snapshots` records a baseline of your own"
        );
    } else {
        crate::outln!(
            "snapshots: {counts}, pending in {}: review with `{}`, or accept all with `{}`",
            folder.display(),
            command_for("review", &folder, config),
            command_for("accept", &folder, config)
        );
    }
}

/// Characters of a response body a run keeps once its scenario is reported (its live line, its details and its
/// spooled report part are made as it finishes): enough for what reads the whole run at its end (fix first).
pub const KEEP_AFTER_SPOOL: usize = 1000;

/// Drops what nothing needs once the scenario is judged, snapshotted and spooled: each response body keeps its
/// first [`KEEP_AFTER_SPOOL`] characters.
fn shed(r: &mut ScenarioResult) {
    for step in r.steps.iter_mut().chain(r.cleanup.iter_mut()) {
        if let Some(obs) = step.response.as_mut() {
            obs.shrink(KEEP_AFTER_SPOOL);
        }
    }
}

/// Writes the reports asked for, each straight to its file, the scenarios read back from `spool`.
fn write_reports(
    header: &Report,
    spool: &mut Spool,
    json: Option<&Path>,
    junit: Option<&Path>,
    html: Option<&Path>,
) -> Result<(), String> {
    let create = |p: &Path| std::fs::File::create(p).map_err(|e| format!("{}: {e}", p.display()));
    if let Some(p) = json {
        report::json::write(header, spool, create(p)?).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    if let Some(p) = junit {
        let xml = report::junit::render(header, spool).map_err(|e| format!("{}: {e}", p.display()))?;
        std::fs::write(p, xml).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    if let Some(p) = html {
        report::html::write(header, spool, create(p)?).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    Ok(())
}

/// `scimcheck report` for a simulate JSON: its HTML page; JUnit has no form for it.
fn render_saved_simulation(args: &super::ReportArgs, summary: &serde_json::Value) -> Result<i32, String> {
    if let Some(j) = &args.junit {
        return Err(format!(
            "{}: a simulate report has no JUnit form (its verdict is the reconciliation); give --html only, not --junit {}",
            args.json.display(),
            j.display()
        ));
    }
    let Some(path) = &args.html else { return Err("nothing to write: give --html FILE".into()) };
    let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    report::simulation::write(summary, file).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(0)
}

/// `scimcheck report`: renders a saved JSON report (a run's, a gallery suite's, or a simulate report's HTML page).
pub fn render_saved(args: &super::ReportArgs) -> Result<i32, String> {
    if args.html.is_none() && args.junit.is_none() {
        return Err("nothing to write: give --html FILE and/or --junit FILE".into());
    }
    let text = std::fs::read_to_string(&args.json).map_err(|e| format!("{}: {e}", args.json.display()))?;
    let mut saved = match report::json::read(&text) {
        Ok(saved) => saved,
        // not a run report: a simulate report (`scimcheck simulate --json`) is rendered as its own page
        Err(e) => match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(v) if report::simulation::is_simulation(&v) => return render_saved_simulation(args, &v),
            Ok(v) if crate::gallery::saved::is_gallery(&v) => return super::gallery::render_saved(args, &text),
            _ => return Err(format!("{}: {e}", args.json.display())),
        },
    };
    drop(text);
    let scenarios = std::mem::take(&mut saved.scenarios);
    let mut spool = Spool::from_reports(&scenarios)
        .map_err(|e| format!("cannot create the report spool in the temporary folder: {e}"))?;
    drop(scenarios);
    write_reports(&saved, &mut spool, None, args.junit.as_deref(), args.html.as_deref())?;
    Ok(0)
}
