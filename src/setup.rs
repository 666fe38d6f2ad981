//! Setup is not the rule under test. A scenario's fixture steps (`"setup": true`: creating the users and groups
//! its rule needs, or bringing one into the state the rule starts from) only arrange the test. When one fails — a
//! create rejected for a reason unrelated to the rule — the scenario is **setup failed: <cause>**
//! ([`crate::verdict::Verdict::SetupFailed`]): the fixture's failure is reported once, under its own cause (see
//! [`crate::report::causes`]), the rule's steps after it are `notRun` naming that step, and the rule is not
//! counted as failed. So an unrelated defect cannot hide the rule, nor be reported as a failure of every rule
//! whose fixture met it.

use crate::verdict::{StepResult, StepVerdict};

/// The cause of a failed fixture step `r` (1-based `number`): its first failed check, as the scenario's reason.
/// `None` when the step did not fail, or when it failed only on response headers (a `Content-Type` of
/// `application/json`, say): the fixture did what the rule needs — its status and body were right — so the rule's
/// steps still run and are judged, and the header's failure is reported on the fixture step under its own cause.
/// Otherwise one header defect of the server would leave every rule with a fixture unjudged.
pub fn cause(number: usize, r: &StepResult) -> Option<String> {
    if r.verdict != StepVerdict::Fail {
        return None;
    }
    if !r.failures.is_empty() && r.failures.iter().all(|f| f.check.starts_with("header ")) {
        return None;
    }
    let what = match r.failures.first() {
        Some(f) => format!("{}: expected {}, got {}", f.check, f.expected, f.actual),
        None => "failed".to_string(),
    };
    Some(format!("setup failed: step {number} \"{}\": {what}", r.name))
}

/// Why a step after a failed fixture step (1-based `number`) is not run.
pub fn not_run_reason(number: usize) -> String {
    format!("not run: setup failed at step {number}; the rule under test was not reached")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Failure;
    use crate::scenario::{Kind, Level};

    fn step(verdict: StepVerdict) -> StepResult {
        StepResult {
            failures: vec![Failure::new("status", "201", "400")],
            ..StepResult::new("Fixture: create user alice", Level::Must, Kind::Rfc, verdict)
        }
    }

    #[test]
    fn a_failed_fixture_names_its_step_and_first_failure() {
        assert_eq!(
            cause(2, &step(StepVerdict::Fail)).as_deref(),
            Some("setup failed: step 2 \"Fixture: create user alice\": status: expected 201, got 400")
        );
        assert_eq!(cause(2, &step(StepVerdict::Pass)), None);
        assert!(not_run_reason(2).contains("step 2"));
    }

    #[test]
    fn a_fixture_that_failed_only_on_a_header_does_not_stop_the_rule() {
        let header_only = StepResult {
            failures: vec![Failure::new("header content-type", "application/scim+json", "application/json")],
            ..StepResult::new("Fixture: create user alice", Level::Must, Kind::Rfc, StepVerdict::Fail)
        };
        assert_eq!(cause(1, &header_only), None);
        let with_body = StepResult {
            failures: vec![
                Failure::new("header content-type", "application/scim+json", "application/json"),
                Failure::new("/userName equals", "alice", "absent"),
            ],
            ..header_only.clone()
        };
        assert!(cause(1, &with_body).unwrap().contains("header content-type"));
    }
}
