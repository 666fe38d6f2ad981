//! The JUnit XML report (quick-junit), rendered from the [`Report`] model: one `<testsuite>` per IdP (with `time`
//! and `timestamp`), one `<testcase>` per scenario with `time`, `classname` = `<idp>.<group>` and `file` = the
//! scenario file (CI systems annotate that file). A case that fails the run carries the first failed step's
//! message, and the full detail of its steps in `<system-out>`; a capability skip is `<skipped>` with its reason;
//! scenarios left out by the selection are not listed. The shape is described by `schemas/junit.xsd`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report as Junit, TestCase, TestCaseStatus, TestSuite, XmlString};

use super::model::{BodyReport, FailureReport, Report, ReportMeta, ScenarioReport, StepReport};
use super::spool::Spool;
use super::Policy;
use crate::idp::Idp;
use crate::runner::{RunOutcome, StepVerdict, Verdict};

/// Renders the JUnit XML: the run's time from `header`, one suite per IdP of the scenarios of `spool` (read back
/// one at a time; a case keeps only its message and, when it did not simply pass, its detail text).
///
/// Errors: the spool cannot be read.
pub fn render(header: &Report, spool: &mut Spool) -> io::Result<String> {
    let mut junit = Junit::new("scimcheck");
    let started = chrono::DateTime::parse_from_rfc3339(&header.started_at).ok();
    junit.set_time(secs(header.duration_ms));
    if let Some(t) = started {
        junit.set_timestamp(t);
    }
    let mut suites: BTreeMap<Idp, (TestSuite, f64)> = BTreeMap::new();
    for s in spool.reader()?.iter()? {
        let s = s?;
        let (suite, ms) = suites.entry(s.idp).or_insert_with(|| {
            let mut suite = TestSuite::new(s.idp.as_str());
            if let Some(t) = started {
                suite.set_timestamp(t);
            }
            (suite, 0.0)
        });
        *ms += s.duration_ms;
        suite.add_test_case(case(&s, header.policy.drift_warn));
    }
    for idp in Idp::ALL {
        if let Some((mut suite, ms)) = suites.remove(&idp) {
            suite.set_time(secs(ms));
            junit.add_test_suite(suite);
        }
    }
    Ok(junit.to_string().unwrap_or_else(|e| format!("<!-- cannot serialise the JUnit report: {e} -->")))
}

/// The JUnit XML of a whole [`Report`] (a saved one).
///
/// Errors: the temporary spool cannot be made or read.
pub fn render_report(report: &Report) -> io::Result<String> {
    let mut spool = Spool::from_reports(&report.scenarios)?;
    render(&report.header_only(), &mut spool)
}

fn case(s: &ScenarioReport, drift_warn: bool) -> TestCase {
    let detail = detail_text(s, drift_warn);
    let status = match s.verdict {
        // a scenario the interrupt left unfinished is no skip: the run did not judge it (an error, so CI is red)
        Verdict::Skip if super::unfinished(s.reason.as_deref()) => {
            let mut st = TestCaseStatus::non_success(NonSuccessKind::Error);
            st.set_type("interrupted");
            st.set_message(format!("not run: {}", s.reason.as_deref().unwrap_or_default()));
            st
        }
        // a failed fixture: the rule was not judged (the fixture's failure is reported under its own cause)
        Verdict::Skip | Verdict::SetupFailed => {
            let mut st = TestCaseStatus::skipped();
            st.set_message(s.reason.clone().unwrap_or_default());
            st
        }
        v if s.fails_run => {
            let kind = if v == Verdict::Error { NonSuccessKind::Error } else { NonSuccessKind::Failure };
            let mut st = TestCaseStatus::non_success(kind);
            st.set_type(s.label());
            st.set_message(s.first_problem());
            st
        }
        _ => TestCaseStatus::success(),
    };
    let mut case = TestCase::new(s.id.clone(), status);
    case.set_classname(format!("{}.{}", s.idp.as_str(), s.group));
    case.set_time(secs(s.duration_ms));
    case.extra.insert(XmlString::new("file"), XmlString::new(s.file.as_str()));
    // a passing case says nothing more; anything else carries the detail of its steps
    let observed = s.steps.iter().any(|st| !st.observations.is_empty());
    if s.verdict != Verdict::Skip && (s.verdict != Verdict::Pass || !s.notes.is_empty() || observed) {
        case.set_system_out(format!("{}\n{detail}", s.label()));
    }
    case
}

/// The JUnit XML of a run (every scenario listed; see [`Report::build`]).
pub fn junit(outcome: &RunOutcome, policy: &Policy) -> String {
    let report = Report::build(outcome, policy, &ReportMeta::default());
    render_report(&report).unwrap_or_else(|e| format!("<!-- cannot write the JUnit report: {e} -->"))
}

fn secs(ms: f64) -> Duration {
    Duration::try_from_secs_f64(ms / 1000.0).unwrap_or_default()
}

/// The plain-text detail of a scenario: source, reason, every step that did not pass with its request and
/// response, drift and notes.
pub fn detail_text(s: &ScenarioReport, drift_warn: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "scenario: {}", super::titled(&s.title, &s.file));
    let _ = writeln!(out, "source: {}", s.source);
    if let Some(reason) = &s.reason {
        let _ = writeln!(out, "{reason}");
    }
    for (i, st) in s.steps.iter().enumerate() {
        match st.verdict {
            StepVerdict::Pass if st.observations.is_empty() => {}
            StepVerdict::Pass => step_text(&mut out, i + 1, st),
            StepVerdict::ExpectedFail => {
                let _ = writeln!(
                    out,
                    "step {} \"{}\": known deviation ({})",
                    i + 1,
                    st.name,
                    st.known_deviation.as_deref().unwrap_or("")
                );
            }
            StepVerdict::NotRun => {
                let _ = writeln!(out, "step {} \"{}\": {}", i + 1, st.name, st.error.as_deref().unwrap_or("not run"));
            }
            StepVerdict::Fail | StepVerdict::Error => step_text(&mut out, i + 1, st),
        }
    }
    if let Some(snap) = &s.snapshot {
        if let Some(diff) = &snap.diff {
            let _ = writeln!(
                out,
                "{}: the transcript differs from its snapshot",
                if drift_warn { "drift (warning)" } else { "drift" }
            );
            out.push_str(diff);
        } else if snap.status == "missing" {
            let _ = writeln!(out, "no snapshot recorded yet");
        }
        if let Some(p) = &snap.path {
            if snap.status != "matched" {
                let _ = writeln!(out, "transcript: {p}");
            }
        }
    }
    for note in &s.notes {
        let _ = writeln!(out, "note: {note}");
    }
    out
}

fn step_text(out: &mut String, n: usize, s: &StepReport) {
    let _ = writeln!(out, "step {n} \"{}\" [{}]:", s.name, s.level);
    if let Some(note) = &s.note {
        let _ = writeln!(out, "  cites: {note}");
    }
    if let Some(e) = &s.error {
        let _ = writeln!(out, "  error: {e}");
    }
    if let Some(b) = &s.basis {
        let _ = writeln!(out, "  basis {b}");
    }
    for f in &s.failures {
        let _ = writeln!(out, "  {}: expected {}, got {}{}", f.check, f.expected, f.actual, basis_suffix(f));
    }
    for f in &s.observations {
        let level = f.level.map(|l| format!(" at {}", l.as_str().to_uppercase())).unwrap_or_default();
        let _ = writeln!(
            out,
            "  observation{level}: {}: expected {}, got {}{}",
            f.check,
            f.expected,
            f.actual,
            basis_suffix(f)
        );
    }
    if let Some(req) = &s.request {
        let _ = writeln!(out, "  request: {} {}", req.method, req.url);
        for h in &req.headers {
            let _ = writeln!(out, "    {}: {}", h.name, h.value);
        }
        body_text(out, req.body.as_ref());
    }
    if let Some(resp) = &s.response {
        let _ = writeln!(out, "  response: {} ({:.1} ms)", resp.status, resp.elapsed_ms);
        for h in &resp.headers {
            let _ = writeln!(out, "    {}: {}", h.name, h.value);
        }
        match resp.body.as_ref() {
            // a proxy's or a framework's error page is summarised, never printed (the JSON report keeps it)
            Some(b) if b.kind == "text" => {
                let ct = resp.headers.iter().find(|h| h.name.eq_ignore_ascii_case("content-type"));
                let text = b.text.as_deref().unwrap_or("");
                let _ = writeln!(
                    out,
                    "    {}",
                    crate::exchange::summary::describe(ct.map(|h| h.value.as_str()), text, b.size)
                );
            }
            body => body_text(out, body),
        }
    }
}

/// ` (basis rfc: RFC 7644 §3.12)` when the check has a basis of its own.
fn basis_suffix(f: &FailureReport) -> String {
    f.basis.as_ref().map(|b| format!(" (basis {b})")).unwrap_or_default()
}

fn body_text(out: &mut String, body: Option<&BodyReport>) {
    if let Some(b) = body {
        for line in b.display().lines() {
            let _ = writeln!(out, "    {line}");
        }
        if b.truncated {
            let _ = writeln!(out, "    [cut: {} bytes in all]", b.size);
        }
    }
}
