//! Judging a scenario's result once its steps ran — the one place every runner of scenarios goes through
//! (`scimcheck run`, `tests/scenarios.rs`, `scimcheck bench`, `simulate`'s scope check): the same response gets
//! the same verdict whoever asks.
//!
//! Each step's checks are evaluated as the step runs ([`Judge::step`], the checks of [`crate::check`]): a later
//! step uses its captures, and a failed fixture stops the scenario ([`crate::setup`]). Once the scenario has run,
//! [`Judge::executed`] turns its steps into the scenario's verdict, in this order:
//! 1. the normalised transcript against its snapshot ([`crate::snapshot`]), when the run produced one;
//! 2. the verdict from the steps and the snapshot ([`ScenarioResult::recompute_verdict`]);
//! 3. a scenario whose only unmet steps are filters the server may decline (RFC 7644 §3.4.2.2,
//!    [`crate::decline::settle`]) or whose rule never ran on this target ([`crate::optional_steps::settle_unjudged`])
//!    is a skip;
//! 4. an interrupted scenario that passed so far is a skip: it did not run to its end;
//! 5. the target's known deviations ([`crate::expectations`]): a listed step that fails is expected.
//!
//! A result that did not run (a skip, an IdP requirement checked from discovery, [`crate::requirements`]) goes
//! through [`Judge::not_executed`], which applies only step 5. [`Judge::run_notes`] says, once the run is over,
//! which known deviations name no scenario or step of it.

use crate::case::CaseRules;
use crate::check::Judgement;
use crate::exchange::Observed;
use crate::expectations::Expectations;
use crate::profile::Profile;
use crate::scenario::{Basis, Scenario, Step, Vars};
use crate::snapshot::SnapshotStore;
use crate::verdict::{ScenarioResult, Verdict};

/// What a scenario's result is judged against beyond its steps' checks: the snapshot baseline and the known
/// deviations of the target. Both absent by default (no drift check, no expected failures).
#[derive(Debug, Clone, Default)]
pub struct Judge {
    /// The snapshot baseline (`--snapshots DIR`, or the built-in one with `--reference`), if any.
    pub snapshots: Option<SnapshotStore>,
    /// The target's known deviations (`expectations.json`), if any.
    pub expectations: Option<Expectations>,
}

impl Judge {
    /// Evaluates `step`'s checks on `obs`, the response to the step's request to `path` (below the base URI), with
    /// the run's variables and captures `vars` and the IdP's `profile`: its failures and its observations. A check
    /// without a basis of its own rests on the step's, else on RFC 7644. A value whose attribute `case` says is not
    /// `caseExact` may come back in another case (RFC 7643 §2.2).
    pub fn step(
        &self,
        step: &Step,
        obs: &Observed,
        vars: &Vars,
        profile: &Profile,
        case: &CaseRules,
        path: &str,
    ) -> Judgement {
        let basis = step.basis.clone().unwrap_or_else(|| Basis::Rfc("RFC 7644".into()));
        let ignores_case = |pointer: &str| case.ignores_case(path, pointer);
        crate::check::evaluate_in(&step.expect, obs, vars, profile, &basis, &ignores_case)
    }

    /// Judges the result of scenario `s` whose steps ran (see the module documentation for the order);
    /// `interrupted` says the run was interrupted before the scenario's end. The transcript is compared only when
    /// the result holds one ([`ScenarioResult::transcript_text`]: not for a run cut short by a transport error, a
    /// failed fixture or the interrupt). A snapshot that cannot be read or written is a note on the result, not a
    /// verdict.
    pub fn executed(&self, s: &Scenario, result: &mut ScenarioResult, interrupted: bool) {
        if let (Some(store), Some(text)) = (&self.snapshots, &result.transcript_text) {
            match store.check(&s.snapshot_name(), &crate::library::source_name(s), text) {
                Ok(outcome) => result.snapshot = Some(outcome),
                Err(e) => result.notes.push(format!("snapshot not compared: {e}")),
            }
        }
        result.recompute_verdict();
        crate::decline::settle(result);
        crate::optional_steps::settle_unjudged(result, s);
        if interrupted && matches!(result.verdict, Verdict::Pass | Verdict::KnownDeviation) {
            // what ran passed, but the scenario did not run to its end
            result.verdict = Verdict::Skip;
        }
        self.not_executed(result);
    }

    /// Judges a result no step of which ran (a skip, an IdP requirement's failure): only the known deviations
    /// apply (a skip is never one).
    pub fn not_executed(&self, result: &mut ScenarioResult) {
        if let Some(e) = &self.expectations {
            e.apply_to(result);
        }
    }

    /// The run-level notes once every result is judged: known deviations that name no scenario of the run, or
    /// a step the scenario does not have (stale entries).
    pub fn run_notes(&self, results: &[ScenarioResult]) -> Vec<String> {
        self.expectations.as_ref().map(|e| e.stale(results)).unwrap_or_default()
    }
}
