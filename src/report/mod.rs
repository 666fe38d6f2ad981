//! Reports: human text, JUnit XML (quick-junit) and JSON, plus the exit-code policy.
//!
//! One file per format: [`text`] (the terminal report), [`junit`], [`json`] and [`html`]; the JSON, JUnit and
//! HTML reports are rendered from one [`model`] (the JSON report's contract, also read back by `scimcheck report`).
//! This module holds what they share — the exit policy, verdict labels and the per-scenario detail text.
//!
//! Bounded memory: during `scimcheck run` each scenario's part of the model goes to a [`spool`] file as soon as it
//! finishes, and the run keeps only a short start of each body; the JSON, HTML and JUnit reports are written at
//! the end by reading the scenarios back one at a time. [`crate::cli::huge`] measures it (`scimcheck bench --huge-bodies`).
//!
//! Reports render results whose data is already redacted: the runner scrubs every request, response, error and
//! note it keeps with the run's [`Redactor`](crate::normalize::Redactor). Reports never scrub their own text, so a
//! token that is a common word or a single letter cannot mangle the report's prose (`0 pass[redacted]d`).
//!
//! Exit policy: a run fails when a scenario erred, when a MUST-level step failed, or when a transcript drifted
//! (unless drift is only a warning). SHOULD/MAY-level failures are reported at their level and fail the run only
//! in strict mode — the graded outcome of Autobahn|Testsuite rather than a flat pass/fail. Observations (checks whose
//! basis is `shown`, or a rule the IdP states at SHOULD) are listed under their step and never fail the run; every
//! failure and observation names its basis (`required`, `shown` or `rfc`, with the quote or section).

use std::fmt::Write as _;

use serde::Serialize;

use crate::exchange::{truncate, Body};
use crate::runner::{RunOutcome, ScenarioResult, StepResult, StepVerdict, Verdict};
use crate::scenario::Level;
use crate::snapshot::SnapshotOutcome;

pub mod causes;
pub mod cite;
pub mod html;
pub mod idp_view;
pub mod json;
pub mod junit;
pub mod model;
pub mod reach;
pub mod simulation;
pub mod spool;
pub mod stopped;
pub mod text;

pub use json::json;

/// Exit code of an interrupted run (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: i32 = 130;

/// Whether a scenario result is one the interrupt left unfinished (not started, or stopped between steps).
pub fn unfinished(reason: Option<&str>) -> bool {
    reason == Some(crate::runner::INTERRUPTED)
}
pub use junit::junit;
pub use model::{Report, ReportMeta, REPORT_VERSION};
pub use text::{human, human_after_live};

/// How results turn into an exit code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    /// SHOULD/MAY failures fail the run too.
    pub strict: bool,
    /// Drift is reported but does not fail the run.
    pub drift_warn: bool,
}

impl Policy {
    /// Whether this result fails the run.
    pub fn fails_run(&self, r: &ScenarioResult) -> bool {
        match r.verdict {
            Verdict::Error => true,
            Verdict::Fail => self.strict || r.failed_level == Some(Level::Must),
            Verdict::Drift => !self.drift_warn,
            // the failed fixture is reported under its cause; the rule itself was not judged
            Verdict::Pass | Verdict::KnownDeviation | Verdict::Skip | Verdict::SetupFailed => false,
        }
    }

    /// 0 when nothing failed the run, 1 otherwise; [`EXIT_INTERRUPTED`] (130) for an interrupted run, whatever
    /// its partial results say.
    pub fn exit_code(&self, outcome: &RunOutcome) -> i32 {
        if outcome.interrupted {
            return EXIT_INTERRUPTED;
        }
        i32::from(outcome.results.iter().any(|r| self.fails_run(r)))
    }
}

pub(crate) fn verdict_text(r: &ScenarioResult) -> String {
    match (r.verdict, r.failed_level) {
        (Verdict::Fail, Some(level)) if level != Level::Must => format!("FAIL({})", level.as_str().to_uppercase()),
        (v, _) => v.label().to_string(),
    }
}

/// What the terminal report shows besides failures, errors, drift and known deviations.
#[derive(Debug, Clone, Copy)]
pub struct Shown {
    /// Observations of steps that did not fail (otherwise counted in the summary; `run -v` shows them).
    pub observations: bool,
    /// A line per scenario with no snapshot yet (otherwise `run` sums them up after the summary).
    pub new_snapshots: bool,
    /// Whether pending transcripts stay where they were written; false for the built-in baseline's temporary copy,
    /// which is removed when the run ends, so no review command is offered for it.
    pub pending_kept: bool,
}

/// The detail lines `run` prints for one scenario (failed steps with their checks, the IdP's view, request and
/// response), under the default policy.
pub fn details_text(out: &mut String, r: &ScenarioResult) {
    details(out, r, &Policy::default(), Shown { observations: false, new_snapshots: false, pending_kept: true });
}

/// The detail lines of one scenario.
/// A scenario's title with the file it comes from in brackets, `Create a user (scenarios/okta/…json)`; the title
/// alone for a result no file stands behind (an IdP requirement checked from discovery, [`crate::requirements`]).
pub fn titled(title: &str, file: &str) -> String {
    match file {
        "" => title.to_string(),
        f => format!("{title} ({f})"),
    }
}

pub(crate) fn details(out: &mut String, r: &ScenarioResult, policy: &Policy, shown: Shown) {
    let ind = "    ";
    if let Some(reason) = &r.reason {
        let _ = writeln!(out, "{ind}{}", reason);
    }
    if matches!(r.verdict, Verdict::Fail | Verdict::Error) {
        let _ = writeln!(out, "{ind}scenario: {}", titled(&r.title, &r.file));
        let _ = writeln!(out, "{ind}source: {}", r.source);
    }
    for (i, s) in r.steps.iter().enumerate() {
        match s.verdict {
            StepVerdict::Fail | StepVerdict::Error => step_details(out, i + 1, s, r.idp),
            _ if shown.observations && !s.observations.is_empty() => {
                let _ = writeln!(out, "{ind}step {} \"{}\" [{}]:", i + 1, s.name, s.level);
                observations(out, s);
            }
            StepVerdict::ExpectedFail => {
                let _ = writeln!(
                    out,
                    "{ind}step {} \"{}\": known deviation ({})",
                    i + 1,
                    s.name,
                    s.known_deviation.as_deref().unwrap_or("")
                );
            }
            StepVerdict::NotRun if r.verdict == Verdict::Error || r.verdict == Verdict::Fail => {
                let _ =
                    writeln!(out, "{ind}step {} \"{}\": {}", i + 1, s.name, s.error.as_deref().unwrap_or("not run"));
            }
            _ => {}
        }
    }
    match &r.snapshot {
        Some(SnapshotOutcome::Drift { diff, pending }) => {
            let what = if policy.drift_warn { "drift (warning)" } else { "drift" };
            let _ = writeln!(out, "{ind}{what}: the transcript differs from its snapshot");
            for line in diff.lines() {
                let _ = writeln!(out, "{ind}  {line}");
            }
            if shown.pending_kept {
                let _ = writeln!(
                    out,
                    "{ind}new transcript written to {} (review with `{}`, or accept with --update-snapshots)",
                    pending.display(),
                    crate::snapshot::command_for("review", crate::snapshot::folder_of(pending), None)
                );
            } else {
                let _ = writeln!(
                    out,
                    "{ind}(against the built-in baseline, which is read-only: the new transcript is not kept;                      `--snapshots DIR --update-snapshots` records a baseline of your own)"
                );
            }
        }
        Some(SnapshotOutcome::Missing { pending }) if shown.new_snapshots => {
            let _ = writeln!(
                out,
                "{ind}new: no snapshot recorded yet; transcript written to {} (accept with `{}` or record with --update-snapshots)",
                pending.display(),
                crate::snapshot::command_for("review", crate::snapshot::folder_of(pending), None)
            );
        }
        Some(SnapshotOutcome::Written { path }) => {
            let _ = writeln!(out, "{ind}snapshot written: {}", path.display());
        }
        _ => {}
    }
    for note in &r.notes {
        let _ = writeln!(out, "{ind}note: {note}");
    }
}

/// ` (basis: rfc: RFC 7644 §3.12)`: why the failed check exists.
fn basis_text(f: &crate::check::Failure, s: &StepResult) -> String {
    match f.basis.as_ref().or(s.basis.as_ref()) {
        Some(b) => format!(" (basis {b})"),
        None => String::new(),
    }
}

/// Observations: checks that did not hold but cannot fail the run (a `shown` basis, a SHOULD-level rule).
fn observations(out: &mut String, s: &StepResult) {
    for f in &s.observations {
        let level = f.level.map(|l| format!(" at {}", l.as_str().to_uppercase())).unwrap_or_default();
        let _ = writeln!(
            out,
            "      observation{level}: {}: expected {}, got {}{}",
            f.check,
            f.expected,
            f.actual,
            basis_text(f, s)
        );
    }
}

fn step_details(out: &mut String, n: usize, s: &StepResult, idp: crate::scenario::Idp) {
    let ind = "    ";
    let _ = writeln!(out, "{ind}step {n} \"{}\" [{}, {}]:", s.name, s.level, s.kind);
    if let Some(e) = &s.error {
        let _ = writeln!(out, "{ind}  error: {e}");
    }
    for f in &s.failures {
        let _ = writeln!(out, "{ind}  {}: expected {}, got {}{}", f.check, f.expected, f.actual, basis_text(f, s));
    }
    if let Some(view) = idp_view::of_step(idp, s) {
        let _ = writeln!(out, "{ind}  {}", view.line);
    }
    observations(out, s);
    if let Some(req) = &s.request {
        let _ = writeln!(out, "{ind}  request: {} {}", req.method.as_str(), req.url);
        for (k, v) in &req.headers {
            let _ = writeln!(out, "{ind}    {k}: {v}");
        }
        if req.auth != crate::scenario::AuthMode::None {
            let _ = writeln!(out, "{ind}    Authorization: [redacted]");
        }
        if let Some(b) = &req.body {
            let _ = writeln!(out, "{ind}    body: {}", truncate(&b.to_string(), 600));
        }
    }
    if let Some(resp) = &s.response {
        let _ = writeln!(
            out,
            "{ind}  response: {} ({}, {:.1} ms)",
            resp.status,
            resp.header("content-type").unwrap_or("no content-type"),
            resp.elapsed.as_secs_f64() * 1000.0
        );
        let body = match &resp.body {
            Body::Empty => None,
            Body::Json(v) => Some(truncate(&v.to_string(), 600)),
            // a proxy's or a framework's error page is summarised, never printed (the JSON report keeps it)
            Body::Text(t) => Some(crate::exchange::summary::describe(resp.header("content-type"), t, resp.size)),
            Body::TooLarge { limit } => Some(format!("[more than {limit} bytes; not read further]")),
            Body::Truncated { text, .. } => Some(format!("{} [{} bytes in all]", truncate(text, 600), resp.size)),
        };
        if let Some(body) = body {
            let _ = writeln!(out, "{ind}    body: {body}");
        }
    }
}
