//! Reports: human text, JUnit XML (quick-junit) and JSON, plus the exit-code policy.
//!
//! Every report is passed through the run's [`Redactor`](crate::normalize::Redactor) before it is returned, so a
//! token can never reach a terminal, a CI artefact or a file.
//!
//! Exit policy: a run fails when a scenario erred, when a MUST-level step failed, or when a transcript drifted
//! (unless drift is only a warning). SHOULD/MAY-level failures are reported at their level and fail the run only
//! in strict mode — the graded outcome of Autobahn|Testsuite rather than a flat pass/fail.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use serde::Serialize;

use crate::exchange::{truncate, Body};
use crate::runner::{RunOutcome, ScenarioResult, StepResult, StepVerdict, Verdict};
use crate::scenario::{Idp, Level};
use crate::snapshot::SnapshotOutcome;

/// How results turn into an exit code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
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
            Verdict::Pass | Verdict::KnownDeviation | Verdict::Skip => false,
        }
    }

    /// 0 when nothing failed the run, 1 otherwise.
    pub fn exit_code(&self, outcome: &RunOutcome) -> i32 {
        i32::from(outcome.results.iter().any(|r| self.fails_run(r)))
    }
}

fn verdict_text(r: &ScenarioResult) -> String {
    match (r.verdict, r.failed_level) {
        (Verdict::Fail, Some(level)) if level != Level::Must => format!("FAIL({})", level.as_str().to_uppercase()),
        (v, _) => v.label().to_string(),
    }
}

/// The human report: one line per scenario, details for problems, a summary by IdP and level.
pub fn human(outcome: &RunOutcome, policy: &Policy, run_notes: &[String]) -> String {
    let mut out = String::new();
    let ran = outcome.results.iter().filter(|r| r.verdict != Verdict::Skip).count();
    let _ = writeln!(out, "scimcheck: {ran} scenario(s) against {}", outcome.target);
    for note in outcome.capabilities.notes.iter().chain(run_notes) {
        let _ = writeln!(out, "note: {note}");
    }
    let _ = writeln!(out);
    let width = outcome.results.iter().map(|r| r.id.len()).max().unwrap_or(0);
    for r in &outcome.results {
        let time = if r.verdict == Verdict::Skip { String::new() } else { format!("{:>8.1} ms", r.duration_ms) };
        let _ = writeln!(out, "{:<9} {:<width$}  [{}] {time}", verdict_text(r), r.id, r.level);
        details(&mut out, r, policy);
    }
    summary(&mut out, outcome, policy);
    outcome.redactor.scrub(&out)
}

fn details(out: &mut String, r: &ScenarioResult, policy: &Policy) {
    let ind = "    ";
    if let Some(reason) = &r.reason {
        let _ = writeln!(out, "{ind}{}", reason);
    }
    if matches!(r.verdict, Verdict::Fail | Verdict::Error) {
        let _ = writeln!(out, "{ind}scenario: {} ({})", r.title, r.file);
        let _ = writeln!(out, "{ind}source: {}", r.source);
    }
    for (i, s) in r.steps.iter().enumerate() {
        match s.verdict {
            StepVerdict::Fail | StepVerdict::Error => step_details(out, i + 1, s),
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
            let _ = writeln!(
                out,
                "{ind}new transcript written to {} (review with `cargo insta review`, or accept with --update-snapshots)",
                pending.display()
            );
        }
        Some(SnapshotOutcome::Missing { pending }) => {
            let _ = writeln!(
                out,
                "{ind}no snapshot recorded yet; transcript written to {} (accept with `cargo insta review` or record with --update-snapshots)",
                pending.display()
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

fn step_details(out: &mut String, n: usize, s: &StepResult) {
    let ind = "    ";
    let _ = writeln!(out, "{ind}step {n} \"{}\" [{}]:", s.name, s.level);
    if let Some(e) = &s.error {
        let _ = writeln!(out, "{ind}  error: {e}");
    }
    for f in &s.failures {
        let _ = writeln!(out, "{ind}  {}: expected {}, got {}", f.check, f.expected, f.actual);
    }
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
            Body::Text(t) => Some(truncate(t, 600)),
            Body::TooLarge { limit } => Some(format!("[more than {limit} bytes; not read further]")),
        };
        if let Some(body) = body {
            let _ = writeln!(out, "{ind}    body: {body}");
        }
    }
}

#[derive(Default)]
struct Counts {
    pass: usize,
    fail: usize,
    error: usize,
    drift: usize,
    skip: usize,
    known: usize,
}

impl Counts {
    fn add(&mut self, v: Verdict) {
        match v {
            Verdict::Pass => self.pass += 1,
            Verdict::Fail => self.fail += 1,
            Verdict::Error => self.error += 1,
            Verdict::Drift => self.drift += 1,
            Verdict::Skip => self.skip += 1,
            Verdict::KnownDeviation => self.known += 1,
        }
    }

    fn text(&self) -> String {
        let mut parts = vec![format!("{} passed", self.pass), format!("{} failed", self.fail)];
        for (n, what) in
            [(self.error, "errors"), (self.drift, "drifted"), (self.known, "known deviations"), (self.skip, "skipped")]
        {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        }
        parts.join(", ")
    }
}

fn summary(out: &mut String, outcome: &RunOutcome, policy: &Policy) {
    let mut by: BTreeMap<(Idp, Level), Counts> = BTreeMap::new();
    let mut total = Counts::default();
    for r in &outcome.results {
        // a failure is counted at the level it failed at
        let level = r.failed_level.unwrap_or(r.level);
        by.entry((r.idp, level)).or_default().add(r.verdict);
        total.add(r.verdict);
    }
    let _ = writeln!(out, "\nsummary by IdP and level:");
    for ((idp, level), c) in &by {
        let _ = writeln!(out, "  {:<6} {:<7} {}", idp.as_str(), level.as_str(), c.text());
    }
    let failing = outcome.results.iter().filter(|r| policy.fails_run(r)).count();
    let _ = writeln!(
        out,
        "\n{} in {:.2} s{}",
        total.text(),
        outcome.duration_ms / 1000.0,
        if failing == 0 { String::from(": OK") } else { format!(": {failing} scenario(s) fail the run") }
    );
}

/// The JUnit XML report: one suite per IdP, one test case per scenario.
pub fn junit(outcome: &RunOutcome, policy: &Policy) -> String {
    let mut report = Report::new("scimcheck");
    report.set_time(Duration::from_secs_f64(outcome.duration_ms / 1000.0));
    for idp in Idp::ALL {
        let results: Vec<&ScenarioResult> = outcome.results.iter().filter(|r| r.idp == idp).collect();
        if results.is_empty() {
            continue;
        }
        let mut suite = TestSuite::new(idp.as_str());
        for r in results {
            let mut detail = String::new();
            details(&mut detail, r, policy);
            let status = match r.verdict {
                Verdict::Skip => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(r.reason.clone().unwrap_or_default());
                    s
                }
                v if policy.fails_run(r) => {
                    let kind = if v == Verdict::Error { NonSuccessKind::Error } else { NonSuccessKind::Failure };
                    let mut s = TestCaseStatus::non_success(kind);
                    s.set_type(verdict_text(r));
                    s.set_message(first_problem(r));
                    s.set_description(detail.clone());
                    s
                }
                _ => TestCaseStatus::success(),
            };
            let mut case = TestCase::new(r.id.clone(), status);
            case.set_classname(format!("{}.{}", idp.as_str(), r.level.as_str()));
            case.set_time(Duration::from_secs_f64(r.duration_ms / 1000.0));
            if !policy.fails_run(r) && !detail.trim().is_empty() {
                case.set_system_out(format!("{}\n{detail}", verdict_text(r)));
            }
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    let xml = report.to_string().unwrap_or_else(|e| format!("<!-- cannot serialise JUnit report: {e} -->"));
    outcome.redactor.scrub(&xml)
}

fn first_problem(r: &ScenarioResult) -> String {
    if let Some(reason) = &r.reason {
        return reason.clone();
    }
    for s in &r.steps {
        if let Some(f) = s.failures.first() {
            return format!("{}: {}: expected {}, got {}", s.name, f.check, f.expected, f.actual);
        }
        if s.verdict == StepVerdict::Error {
            return format!("{}: {}", s.name, s.error.as_deref().unwrap_or("error"));
        }
    }
    if matches!(r.snapshot, Some(SnapshotOutcome::Drift { .. })) {
        return "the transcript differs from its snapshot".into();
    }
    if matches!(r.snapshot, Some(SnapshotOutcome::Missing { .. })) {
        return "no snapshot recorded".into();
    }
    verdict_text(r)
}

#[derive(Serialize)]
struct JsonReport<'a> {
    tool: &'static str,
    version: &'static str,
    policy: &'a Policy,
    exit_code: i32,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    notes: &'a [String],
    #[serde(flatten)]
    outcome: &'a RunOutcome,
}

/// The JSON report: every scenario with every step's verdict, request, response and the normalised transcript.
pub fn json(outcome: &RunOutcome, policy: &Policy, run_notes: &[String]) -> String {
    let report = JsonReport {
        tool: "scimcheck",
        version: env!("CARGO_PKG_VERSION"),
        policy,
        exit_code: policy.exit_code(outcome),
        notes: run_notes,
        outcome,
    };
    let text = serde_json::to_string_pretty(&report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    outcome.redactor.scrub(&text)
}
