//! Known deviations: a per-target list of steps expected to fail, kept next to that target's snapshots
//! (`<snapshots>/expectations.json`), in the spirit of web-platform-tests' expectation metadata.
//!
//! A listed step that fails is reported as a known deviation and does not fail the run; a listed step that
//! passes is reported so the list shrinks; an entry naming no loaded scenario is reported as stale.
//!
//! Only the judge applies them ([`crate::judge::Judge`], from [`crate::runner::RunOptions::expectations`]), so a
//! result is judged once, the same way for every caller.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::verdict::{ScenarioResult, StepVerdict, Verdict};

/// The expectations file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectations {
    /// Free text for humans.
    #[serde(rename = "$comment", default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The deviations.
    #[serde(default)]
    pub deviations: Vec<Deviation>,
}

/// One step (or every step of a scenario) expected to fail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deviation {
    /// Scenario id (`okta::spec::spec_suite`).
    pub scenario: String,
    /// Step name; absent means any step of the scenario.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// Why the target deviates (a tracking issue, a decision).
    pub reason: String,
}

/// The file name looked for in a snapshot folder.
pub const FILE_NAME: &str = "expectations.json";

impl Expectations {
    /// Loads an expectations file; `Ok(None)` when it does not exist.
    pub fn load(path: &Path) -> Result<Option<Expectations>, String> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        serde_json::from_str(&text).map(Some).map_err(|e| format!("{}: {e}", path.display()))
    }

    fn matches(d: &Deviation, scenario: &str, step: &str) -> bool {
        // A repeated step's runs are named `name [i/n]`; naming the step covers every run.
        let base = step.rsplit_once(" [").filter(|(_, tail)| tail.ends_with(']')).map_or(step, |(b, _)| b);
        d.scenario == scenario && d.step.as_deref().is_none_or(|s| s == step || s == base)
    }

    /// Applies the deviations listed for `r`'s scenario to it: a listed step that fails is an expected failure
    /// with its reason, a listed step (or a listed whole scenario) that passes gets a note saying the entry can go,
    /// and the verdict is recomputed. A skipped scenario is left as it is. An entry only ever turns a failed step
    /// into an expected one: a scenario that did not run (an error before its first step) stays an error and never
    /// "now passes".
    pub(crate) fn apply_to(&self, r: &mut ScenarioResult) {
        let id = r.id.clone();
        for d in self.deviations.iter().filter(|d| d.scenario == id) {
            if r.verdict == Verdict::Skip {
                continue;
            }
            for step in r.steps.iter_mut().filter(|s| Self::matches(d, &d.scenario, &s.name)) {
                match step.verdict {
                    StepVerdict::Fail | StepVerdict::ExpectedFail => {
                        step.verdict = StepVerdict::ExpectedFail;
                        step.known_deviation = Some(d.reason.clone());
                    }
                    StepVerdict::Pass if d.step.is_some() => r.notes.push(format!(
                        "known deviation now passes: step \"{}\" ({}) — remove it from {FILE_NAME}",
                        step.name, d.reason
                    )),
                    _ => {}
                }
            }
            if d.step.is_none() && ran_and_passed(r) {
                r.notes.push(format!(
                    "known deviation now passes: the whole scenario passes ({}) — remove it from {FILE_NAME}",
                    d.reason
                ));
            }
            r.recompute_verdict();
        }
    }

    /// The entries that do not fit the run whose results are `results`: a scenario none of them has, or a step
    /// the (not skipped) scenario does not have. One note per entry, in the file's order.
    pub(crate) fn stale(&self, results: &[ScenarioResult]) -> Vec<String> {
        let mut notes = Vec::new();
        for d in &self.deviations {
            let Some(r) = results.iter().find(|r| r.id == d.scenario) else {
                notes.push(format!(
                    "known deviation for `{}` matches no scenario of this run (stale entry?)",
                    d.scenario
                ));
                continue;
            };
            if r.verdict == Verdict::Skip {
                continue;
            }
            let matched = r.steps.iter().any(|s| Self::matches(d, &d.scenario, &s.name));
            if d.step.is_some() && !matched {
                notes.push(format!(
                    "known deviation names step \"{}\" which `{}` does not have (stale entry?)",
                    d.step.as_deref().unwrap_or_default(),
                    d.scenario
                ));
            }
        }
        notes
    }
}

/// Whether the scenario of `r` ran and every one of its steps passed: what a whole-scenario entry needs before it
/// can be called obsolete. A result with no steps did not run (its target could not be started or reached), so
/// nothing of it passed.
fn ran_and_passed(r: &ScenarioResult) -> bool {
    r.verdict != Verdict::Error && !r.steps.is_empty() && r.steps.iter().all(|s| s.verdict == StepVerdict::Pass)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deviation(step: Option<&str>) -> Deviation {
        serde_json::from_value(serde_json::json!({"scenario": "okta::import::users", "step": step, "reason": "r"}))
            .expect("deviation")
    }

    #[test]
    fn a_deviation_naming_a_repeated_step_covers_every_run_and_only_that_scenario() {
        let d = deviation(Some("Setup: users exist"));
        assert!(Expectations::matches(&d, "okta::import::users", "Setup: users exist [3/105]"));
        assert!(Expectations::matches(&d, "okta::import::users", "Setup: users exist"));
        assert!(!Expectations::matches(&d, "okta::import::users", "Setup: users exist twice [3/105]"));
        assert!(!Expectations::matches(&d, "okta::import::groups", "Setup: users exist [3/105]"));
        assert!(Expectations::matches(&deviation(None), "okta::import::users", "anything"));
    }

    fn library(id: &str) -> crate::scenario::Scenario {
        let all = crate::library::built_in().expect("library");
        all.into_iter().find(|s| s.id == id).unwrap_or_else(|| panic!("{id} in the library"))
    }

    /// A scenario that did not run (its target could not be started: an error and no step) is not turned into a
    /// pass by a whole-scenario entry, and is not said to "now pass".
    #[test]
    fn a_whole_scenario_entry_leaves_a_scenario_that_did_not_run_an_error() {
        let s = library("okta::import::users_pages_of_100");
        let mut r = ScenarioResult::skipped(&s, "cannot start the reference server: address in use");
        r.verdict = Verdict::Error;
        let whole = Deviation { scenario: s.id.clone(), step: None, reason: "r".into() };
        let exp = Expectations { comment: None, deviations: vec![whole] };
        exp.apply_to(&mut r);
        assert_eq!(r.verdict, Verdict::Error);
        assert!(r.notes.is_empty(), "{:?}", r.notes);
        assert_eq!(r.reason.as_deref(), Some("cannot start the reference server: address in use"));
    }
}
