//! Setup is not the rule under test. A scenario's fixture steps (`"setup": true`: creating the users and groups
//! its rule needs, or bringing one into the state the rule starts from) only arrange the test. When one fails — a
//! create rejected for a reason unrelated to the rule — the scenario is **setup failed: <cause>**
//! ([`crate::verdict::Verdict::SetupFailed`]): the fixture's failure is reported once, under its own cause (see
//! [`crate::report::causes`]), the rule's steps after it are `notRun` naming that step, and the rule is not
//! counted as failed. So an unrelated defect cannot hide the rule, nor be reported as a failure of every rule
//! whose fixture met it.

use crate::check::{CheckId, Failure};
use crate::scenario::StatusSet;
use crate::verdict::{StepResult, StepVerdict};

/// The cause of a failed fixture step `r` (1-based `number`, `expected` the status set its scenario expects,
/// `None` meaning any 2xx): its first failed check, as the scenario's reason.
/// `None` when the step did not fail, or when every failure is one that leaves the fixture having done what the rule
/// needs — its body checks held and its captures were taken:
/// - a response header (a `Content-Type` of `application/json`, say);
/// - a status in the same class as expected: a success (2xx) where only a success was expected, such as a create
///   answered 200 instead of RFC 7644 §3.3's 201. The resource exists (the body carries its `id`, captured).
///
/// The rule's steps then still run and are judged, and the failure is reported on the fixture step under its own
/// cause. Otherwise one such defect of the server would leave every rule with a fixture unjudged. A fixture refused
/// (a 3xx, 4xx or 5xx where a 2xx was expected), or one whose body check or capture failed, still stops its scenario.
pub fn cause(number: usize, r: &StepResult, expected: Option<&StatusSet>) -> Option<String> {
    if r.verdict != StepVerdict::Fail {
        return None;
    }
    let observed = r.response.as_ref().map(|o| o.status);
    let harmless = |f: &Failure| {
        f.id.is_header() || (f.id == CheckId::Status && observed.is_some_and(|s| same_class(expected, s)))
    };
    if !r.failures.is_empty() && r.failures.iter().all(harmless) {
        return None;
    }
    let what = match r.failures.first() {
        Some(f) => format!("{}: expected {}, got {}", f.check, f.expected, f.actual),
        None => "failed".to_string(),
    };
    Some(format!("setup failed: step {number} \"{}\": {what}", r.name))
}

/// Whether `status` is a success where the `expected` set (`None`: any 2xx) holds only successes: RFC 7644 §3.3
/// names 201 for a create, but a 200 still created the resource the fixture is for.
fn same_class(expected: Option<&StatusSet>, status: u16) -> bool {
    let success = |s: u16| (200..300).contains(&s);
    let all_success = match expected {
        None => true,
        Some(StatusSet::One(s)) => success(*s),
        Some(StatusSet::Any(v)) => !v.is_empty() && v.iter().all(|s| success(*s)),
    };
    all_success && success(status)
}

/// Why a step after a failed fixture step (1-based `number`) is not run.
pub fn not_run_reason(number: usize) -> String {
    format!("not run: setup failed at step {number}; the rule under test was not reached")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Kind, Level};

    fn step(verdict: StepVerdict) -> StepResult {
        StepResult {
            failures: vec![Failure::new("status", "201", "400").with_id(CheckId::Status)],
            ..StepResult::new("Fixture: create user alice", Level::Must, Kind::Rfc, verdict)
        }
    }

    #[test]
    fn a_failed_fixture_names_its_step_and_first_failure() {
        assert_eq!(
            cause(2, &step(StepVerdict::Fail), Some(&StatusSet::One(201))).as_deref(),
            Some("setup failed: step 2 \"Fixture: create user alice\": status: expected 201, got 400")
        );
        assert_eq!(cause(2, &step(StepVerdict::Pass), Some(&StatusSet::One(201))), None);
        assert!(not_run_reason(2).contains("step 2"));
    }

    #[test]
    fn a_fixture_that_failed_only_on_a_header_does_not_stop_the_rule() {
        let header_only = StepResult {
            failures: vec![Failure::new("header content-type", "application/scim+json", "application/json")
                .with_id(CheckId::ContentType)],
            ..StepResult::new("Fixture: create user alice", Level::Must, Kind::Rfc, StepVerdict::Fail)
        };
        assert_eq!(cause(1, &header_only, None), None);
        let with_body = StepResult {
            failures: vec![
                Failure::new("header content-type", "application/scim+json", "application/json")
                    .with_id(CheckId::ContentType),
                Failure::new("/userName equals", "alice", "absent"),
            ],
            ..header_only.clone()
        };
        assert!(cause(1, &with_body, None).unwrap().contains("header content-type"));
    }

    fn answered(status: u16, failures: Vec<Failure>) -> StepResult {
        use crate::exchange::{Body, Observed};
        StepResult {
            failures,
            response: Some(Observed {
                status,
                headers: vec![],
                body: Body::Json(serde_json::json!({"id": "u1"})),
                size: 0,
                elapsed: std::time::Duration::ZERO,
            }),
            ..StepResult::new("Fixture: create user alice", Level::Must, Kind::Rfc, StepVerdict::Fail)
        }
    }

    #[test]
    fn a_fixture_answered_another_success_does_not_stop_the_rule() {
        let created = Some(StatusSet::One(201));
        let ok_200 = answered(200, vec![Failure::new("status", "201", "200").with_id(CheckId::Status)]);
        assert_eq!(cause(1, &ok_200, created.as_ref()), None);
        // with a header failure too: still only the class-preserving kinds
        let mut both = ok_200.clone();
        both.failures.push(
            Failure::new("header content-type", "application/scim+json", "application/json")
                .with_id(CheckId::ContentType),
        );
        assert_eq!(cause(1, &both, created.as_ref()), None);
        // no expected set: any 2xx was expected, so a status failure cannot be a success; a 3xx/4xx/5xx stops
        for refused in [302, 400, 409, 500] {
            let r =
                answered(refused, vec![Failure::new("status", "201", refused.to_string()).with_id(CheckId::Status)]);
            assert!(cause(1, &r, created.as_ref()).unwrap().contains("status: expected 201"), "{refused}");
        }
        // a success where a refusal was expected is not the same class
        let expected_refusal = Some(StatusSet::Any(vec![201, 409]));
        assert!(cause(1, &ok_200, expected_refusal.as_ref()).is_some());
        // a failed capture or body check still stops the scenario
        let mut no_id = ok_200.clone();
        no_id
            .failures
            .push(Failure::new("capture id", "a value at /id", "absent").with_id(CheckId::Capture("id".into())));
        assert!(cause(1, &no_id, created.as_ref()).unwrap().contains("status"));
        let mut body = ok_200;
        body.failures.push(Failure::new("/userName equals", "alice", "absent"));
        assert!(cause(1, &body, created.as_ref()).is_some());
    }

    #[test]
    fn what_a_failure_is_comes_from_its_check_id_not_its_label() {
        let created = Some(StatusSet::One(201));
        // a status check labelled otherwise is still the status: another success does not stop the rule
        let relabelled = answered(200, vec![Failure::new("answer code", "201", "200").with_id(CheckId::Status)]);
        assert_eq!(cause(1, &relabelled, created.as_ref()), None);
        // a label that reads like a status or a header check decides nothing: the failure stops the scenario
        for label in ["status", "header content-type"] {
            let look_alike = answered(200, vec![Failure::new(label, "201", "200")]);
            assert!(cause(1, &look_alike, created.as_ref()).is_some(), "{label}");
        }
    }
}
