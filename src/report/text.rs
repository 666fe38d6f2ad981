//! The human report printed to the terminal, rendered from the [`super::model`] every other report is rendered
//! from: one line per scenario, details for problems, a summary by IdP, kind (rfc, interop, portal) and level,
//! and what to fix first.
//!
//! Two forms: [`human`], the whole report of a finished run (one line per scenario, each followed by its
//! details); and the one `scimcheck run` prints after its live lines ([`details_block`] per scenario as it
//! finishes, then [`after_live`] with the run's notes, those blocks and the [`Tally`]'s summary), which does not
//! list every scenario a second time.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use super::model::{BodyReport, Counts, FailureReport, Report, ReportMeta, ScenarioReport, StepReport};
use super::{titled, Policy, Shown};
use crate::exchange::truncate;
use crate::idp::Idp;
use crate::runner::{RunOutcome, StepVerdict, Verdict};
use crate::scenario::{Kind, Level};

/// Characters of a request or response body the terminal shows.
const BODY_CHARS: usize = 600;

/// The human report of a finished run: a header, one line per scenario followed by its details (observations
/// and new snapshots included), the summary and what to fix first. Rendered from the run's [`Report`] model.
pub fn human(outcome: &RunOutcome, policy: &Policy, run_notes: &[String]) -> String {
    let meta = ReportMeta { notes: run_notes.to_vec(), ..ReportMeta::default() };
    let report = Report::build(outcome, policy, &meta);
    let mut out = String::new();
    // the header counts what the summary counts: every loaded scenario is selected or excluded (the model
    // counts the excluded ones by id and never lists them), and every selected one is skipped (the target lacks
    // a feature), not run (interrupted) or run
    let scenarios = &report.scenarios;
    let Counts { excluded, skip: skipped, not_run, .. } = report.counts;
    let loaded = scenarios.len() + excluded;
    let ran = loaded - excluded - skipped - not_run;
    let not_run = if not_run > 0 { format!(", {not_run} not run (interrupted)") } else { String::new() };
    let _ = writeln!(
        out,
        "scimcheck: {loaded} scenario(s) loaded, {} selected, {skipped} skipped{not_run}, {ran} run against {}",
        loaded - excluded,
        report.target
    );
    for note in report.capabilities.notes.iter().chain(&report.notes) {
        let _ = writeln!(out, "note: {note}");
    }
    let _ = writeln!(out);
    let width = scenarios.iter().map(|r| r.id.len()).max().unwrap_or(0);
    let mut tally = Tally::default();
    for r in scenarios {
        tally.add(r);
        let time = if r.verdict == Verdict::Skip { String::new() } else { format!("{:>8.1} ms", r.duration_ms) };
        let _ = writeln!(out, "{:<9} {:<width$}  [{}, {}] {time}", verdict_text(r), r.id, r.level, r.counted_kind());
        details(&mut out, r, policy, Shown { observations: true, new_snapshots: true, pending_kept: true });
    }
    tally.summary(&mut out, &report, true);
    out.push_str(&super::causes::fix_first(&report.causes, FIX_FIRST_TOP));
    out
}

/// One scenario's part of the report `scimcheck run` prints after its live lines: its verdict, id and level,
/// then its details (failures, errors, drift, known deviations, cleanup notes; observations with `-v`); `None`
/// for a skip or a scenario with nothing to say.
pub fn details_block(r: &ScenarioReport, policy: &Policy, shown: Shown) -> Option<String> {
    if r.verdict == Verdict::Skip {
        return None;
    }
    let mut d = String::new();
    details(&mut d, r, policy, shown);
    (!d.is_empty()).then(|| format!("\n{} {} [{}]\n{d}", verdict_text(r), r.id, r.level))
}

/// The report printed after the live per-scenario lines of `scimcheck run` (`cli::output`): the run's notes
/// (from `header`, the run's [`Report`] without its scenarios), the `blocks` of [`details_block`] in scenario-id
/// order, the summary of `tally`, and what to fix first. `shown.observations` (`run -v`) says whether the
/// observations were listed; otherwise the summary counts them and points to `-v`.
pub fn after_live(header: &Report, tally: &Tally, blocks: &[String], shown: Shown) -> String {
    let mut out = String::new();
    for note in header.capabilities.notes.iter().chain(&header.notes) {
        let _ = writeln!(out, "note: {note}");
    }
    for block in blocks {
        out.push_str(block);
    }
    tally.summary(&mut out, header, shown.observations);
    out.push_str(&super::causes::fix_first(&header.causes, FIX_FIRST_TOP));
    out
}

/// Causes the terminal's "fix first" section lists (the JSON and HTML reports list them all).
pub const FIX_FIRST_TOP: usize = 10;

/// What the terminal summary counts, added up one scenario at a time as the run reports them: scenarios per
/// IdP, kind and level (a failure at the level and kind of the step it failed at), in all, the observations, and
/// the scenarios that fail the run or did not run to their end.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    by: BTreeMap<(Idp, Kind, Level), Counts>,
    total: Counts,
    observed: usize,
    failing: usize,
    unfinished: usize,
}

impl Tally {
    /// Counts one scenario.
    pub fn add(&mut self, r: &ScenarioReport) {
        // a failure is counted at the level and kind of the step it failed at
        let level = r.failed_level.unwrap_or(r.level);
        self.by.entry((r.idp, r.counted_kind(), level)).or_default().add(r.verdict, r.reason.as_deref());
        self.total.add(r.verdict, r.reason.as_deref());
        self.observed += r.steps.iter().map(|s| s.observations.len()).sum::<usize>();
        self.failing += usize::from(r.fails_run);
        self.unfinished += usize::from(super::unfinished(r.reason.as_deref()));
    }

    /// The summary lines: per IdP, kind and level, the observations, and the run's verdict with its counts and
    /// wall time (from `report`).
    fn summary(&self, out: &mut String, report: &Report, observations_shown: bool) {
        let _ = writeln!(out, "\nsummary by IdP, kind and level:");
        for ((idp, kind, level), c) in &self.by {
            let _ = writeln!(out, "  {:<6} {:<8} {:<7} {}", idp.as_str(), kind.as_str(), level.as_str(), c.text());
        }
        if self.observed > 0 {
            let _ = writeln!(
                out,
                "\n{} observation(s): checks whose basis is only an example (`shown`) or a SHOULD of the IdP; they never fail the run{}",
                self.observed,
                if observations_shown { "" } else { " (-v lists them)" }
            );
        }
        let failing = self.failing;
        let verdict = if report.interrupted {
            let failed = if failing == 0 { String::new() } else { format!(", {failing} scenario(s) fail the run") };
            format!(
                ": INTERRUPTED (Ctrl-C): partial results, {} scenario(s) did not run to their end{failed}",
                self.unfinished
            )
        } else if failing == 0 {
            String::from(": OK")
        } else {
            format!(": {failing} scenario(s) fail the run")
        };
        let _ = writeln!(out, "\n{} in {:.2} s{verdict}", self.total.text(), report.duration_ms / 1000.0);
    }
}

/// The verdict as the report's lines give it (`FAIL(SHOULD)` for a failure below MUST).
fn verdict_text(r: &ScenarioReport) -> String {
    match (r.verdict, r.failed_level) {
        (Verdict::Fail, Some(level)) if level != Level::Must => format!("FAIL({})", level.as_str().to_uppercase()),
        (v, _) => v.label().to_string(),
    }
}

/// The detail lines of one scenario: why it was skipped or erred, its failed steps with their checks, the IdP's
/// view, request and response, its known deviations, its snapshot state and its notes.
pub fn details(out: &mut String, r: &ScenarioReport, policy: &Policy, shown: Shown) {
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
            StepVerdict::Fail | StepVerdict::Error => step_details(out, i + 1, s),
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
    if let Some(snapshot) = &r.snapshot {
        let path = snapshot.path.as_deref().map(Path::new);
        let review = |p: &Path| crate::snapshot::command_for("review", crate::snapshot::folder_of(p), None);
        match (snapshot.status.as_str(), path) {
            ("drift", Some(pending)) => {
                let what = if policy.drift_warn { "drift (warning)" } else { "drift" };
                let _ = writeln!(out, "{ind}{what}: the transcript differs from its snapshot");
                for line in snapshot.diff.as_deref().unwrap_or_default().lines() {
                    let _ = writeln!(out, "{ind}  {line}");
                }
                if shown.pending_kept {
                    let _ = writeln!(
                        out,
                        "{ind}new transcript written to {} (review with `{}`, or accept with --update-snapshots)",
                        pending.display(),
                        review(pending)
                    );
                } else {
                    let _ = writeln!(
                        out,
                        "{ind}(against the built-in baseline, which is read-only: the new transcript is not kept; \
                         `--snapshots DIR --update-snapshots` records a baseline of your own)"
                    );
                }
            }
            ("missing", Some(pending)) if shown.new_snapshots => {
                let _ = writeln!(
                    out,
                    "{ind}new: no snapshot recorded yet; transcript written to {} (accept with `{}` or record with --update-snapshots)",
                    pending.display(),
                    review(pending)
                );
            }
            ("written", Some(path)) => {
                let _ = writeln!(out, "{ind}snapshot written: {}", path.display());
            }
            _ => {}
        }
    }
    for note in &r.notes {
        let _ = writeln!(out, "{ind}note: {note}");
    }
}

/// ` (basis rfc: RFC 7644 §3.12)`: why the failed check exists (its own basis, else its step's).
fn basis_text(f: &FailureReport, s: &StepReport) -> String {
    match f.basis.as_ref().or(s.basis.as_ref()) {
        Some(b) => format!(" (basis {b})"),
        None => String::new(),
    }
}

/// Observations: checks that did not hold but cannot fail the run (a `shown` basis, a SHOULD-level rule).
fn observations(out: &mut String, s: &StepReport) {
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

fn step_details(out: &mut String, n: usize, s: &StepReport) {
    let ind = "    ";
    let _ = writeln!(out, "{ind}step {n} \"{}\" [{}, {}]:", s.name, s.level, s.kind);
    if let Some(e) = &s.error {
        let _ = writeln!(out, "{ind}  error: {e}");
    }
    for f in &s.failures {
        let _ = writeln!(out, "{ind}  {}: expected {}, got {}{}", f.check, f.expected, f.actual, basis_text(f, s));
    }
    if let Some(view) = &s.idp_view {
        let _ = writeln!(out, "{ind}  {}", view.line);
    }
    observations(out, s);
    if let Some(req) = &s.request {
        let _ = writeln!(out, "{ind}  request: {} {}", req.method, req.url);
        for h in &req.headers {
            let _ = writeln!(out, "{ind}    {}: {}", h.name, h.value);
        }
        // the JSON body sent (a raw text body is in the JSON and HTML reports)
        if let Some(b) = req.body.as_ref().filter(|b| b.kind == "json") {
            let _ = writeln!(out, "{ind}    body: {}", body_text(b, None));
        }
    }
    if let Some(resp) = &s.response {
        let content_type =
            resp.headers.iter().find(|h| h.name.eq_ignore_ascii_case("content-type")).map(|h| h.value.as_str());
        let _ = writeln!(
            out,
            "{ind}  response: {} ({}, {:.1} ms)",
            resp.status,
            content_type.unwrap_or("no content-type"),
            resp.elapsed_ms
        );
        if let Some(b) = &resp.body {
            let _ = writeln!(out, "{ind}    body: {}", body_text(b, content_type));
        }
    }
}

/// A body in one line of at most [`BODY_CHARS`] characters, saying how much more there is: compact JSON; the
/// start of a JSON body the report keeps only the start of, with its size; a summary of a text body (media type,
/// size, an HTML page's title: a proxy's or a framework's error page is never printed); a body over the limit.
fn body_text(b: &BodyReport, content_type: Option<&str>) -> String {
    match (b.kind.as_str(), &b.json, &b.text) {
        ("json", Some(v), _) => truncate(&v.to_string(), BODY_CHARS),
        ("json", None, Some(start)) => {
            // the report keeps the pretty-printed start: shown on one line, without its indentation
            let line: String = start.lines().map(str::trim).collect();
            let shown = match line.char_indices().nth(BODY_CHARS) {
                Some((i, _)) => format!("{}…", &line[..i]),
                None => line,
            };
            format!("{shown} [{} bytes in all]", b.size)
        }
        ("tooLarge", ..) => format!("[more than {} bytes; not read further]", b.size),
        (_, _, Some(text)) => crate::exchange::summary::describe(content_type, text, b.size),
        _ => String::new(),
    }
}
