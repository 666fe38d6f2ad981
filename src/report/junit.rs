//! The JUnit XML report (quick-junit): one suite per IdP, one test case per scenario.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::{details, verdict_text, Policy};
use crate::runner::{RunOutcome, ScenarioResult, StepVerdict, Verdict};
use crate::scenario::Idp;
use crate::snapshot::SnapshotOutcome;

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
    xml
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
