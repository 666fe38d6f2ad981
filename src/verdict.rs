//! What a run gives: each step's verdict and transcript entry ([`StepResult`]), each scenario's ([`ScenarioResult`])
//! and the scenario verdict computed from its steps.

use serde::Serialize;

use crate::check::Failure;
use crate::exchange::{Observed, SentRequest};
use crate::idp::Idp;
use crate::scenario::{Basis, Kind, Level, Scenario, Step};
use crate::snapshot::SnapshotOutcome;

/// Verdict of one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StepVerdict {
    /// Every expectation held.
    Pass,
    /// An expectation did not hold.
    Fail,
    /// A listed known deviation failed as expected.
    ExpectedFail,
    /// Transport error (connection, timeout, …).
    Error,
    /// Not run (an earlier transport error, or a capture it needs is missing).
    NotRun,
}

/// Result of one step (or cleanup request).
#[derive(Debug, Clone, Serialize)]
pub struct StepResult {
    /// Step name.
    pub name: String,
    /// Level it is judged at.
    pub level: Level,
    /// What the verdict rests on: the RFC, an IdP's behaviour, or the portal's semantics.
    pub kind: Kind,
    /// The step's note: why it exists or what it cites.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Verdict.
    pub verdict: StepVerdict,
    /// Why the step's checks exist (`required`, `shown`, `rfc` with the quote or section); `None` for cleanup.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basis: Option<Basis>,
    /// Expectations that did not hold.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<Failure>,
    /// Expectations that did not hold but cannot fail the run (a `shown` basis, a SHOULD-level Content-Type, …).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub observations: Vec<Failure>,
    /// Transport error, or why it did not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The known-deviation reason, when one applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known_deviation: Option<String>,
    /// What was sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<SentRequest>,
    /// What came back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<Observed>,
    /// Wall time of the step in milliseconds.
    pub duration_ms: f64,
    /// Time spent inside the HTTP exchange in milliseconds.
    pub http_ms: f64,
    /// The indices in the step's `expect.body` of the conditional assertions (`when`) whose condition held on the
    /// response, with the run's variables and captures ([`check::Judgement::conditions_held`]); not reported.
    #[serde(skip)]
    pub conditions_held: Vec<usize>,
    /// When the step's exchange ended, in the order of the process's exchanges ([`crate::exchange::tick`]);
    /// `None` for a step that sent nothing. With `transport`, what tells the step a server crashed at
    /// ([`crate::report::stopped`]). Not reported.
    #[serde(skip)]
    pub ended: Option<u64>,
    /// The kind of the step's transport error, when it had one. Not reported.
    #[serde(skip)]
    pub transport: Option<crate::exchange::TransportKind>,
}

impl StepResult {
    /// A result named `name` at `level` and `kind` with `verdict`, and nothing else yet: no basis, failures,
    /// observations, error, request, response or timing. Callers fill in what they know with struct update syntax.
    pub fn new(name: impl Into<String>, level: Level, kind: Kind, verdict: StepVerdict) -> StepResult {
        StepResult {
            name: name.into(),
            level,
            kind,
            note: None,
            verdict,
            basis: None,
            failures: vec![],
            observations: vec![],
            error: None,
            known_deviation: None,
            request: None,
            response: None,
            duration_ms: 0.0,
            http_ms: 0.0,
            conditions_held: vec![],
            ended: None,
            transport: None,
        }
    }

    /// The result of `step` of scenario `s` at `level` with `verdict`, before anything is known: its name, note,
    /// basis, and its kind ([`Scenario::step_kind`]: the step's own `kind`, else the scenario's). The one place a
    /// step's result gets its kind, whether the step runs (once, per page, in a group) or not.
    pub fn of_step(s: &Scenario, step: &Step, level: Level, verdict: StepVerdict) -> StepResult {
        StepResult {
            note: step.note.clone(),
            basis: step.basis.clone(),
            ..StepResult::new(step.name.clone(), level, s.step_kind(step), verdict)
        }
    }
}

/// Verdict of one scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Verdict {
    /// All steps passed and the transcript matches its snapshot (or none is kept).
    Pass,
    /// Only listed known deviations failed.
    KnownDeviation,
    /// Not run: a required feature is missing or the user excluded it.
    Skip,
    /// The transcript differs from its snapshot.
    Drift,
    /// A step failed.
    Fail,
    /// A transport error.
    Error,
    /// A fixture step (`setup`) failed: the rule under test was not reached and is not judged ([`crate::setup`]).
    SetupFailed,
}

impl Verdict {
    /// Short upper-case label.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::KnownDeviation => "KNOWN",
            Verdict::Skip => "SKIP",
            Verdict::Drift => "DRIFT",
            Verdict::Fail => "FAIL",
            Verdict::Error => "ERROR",
            Verdict::SetupFailed => "SETUP",
        }
    }
}

/// Result of one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    /// Scenario id.
    pub id: String,
    /// Title.
    pub title: String,
    /// What it reproduces.
    pub source: String,
    /// The scenario file as a user finds it ([`crate::library::source_name`]): `scenarios/…` for the library, else
    /// its path (relative to the working directory when below it).
    pub file: String,
    /// IdP.
    pub idp: Idp,
    /// Scenario level.
    pub level: Level,
    /// Verdict.
    pub verdict: Verdict,
    /// Scenario kind (steps may override it).
    pub kind: Kind,
    /// Most severe level among failed steps (for `fail`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_level: Option<Level>,
    /// The kind of the most severe failed step (RFC before interop at the same level).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_kind: Option<Kind>,
    /// Why it was skipped or erred.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Step results.
    pub steps: Vec<StepResult>,
    /// Cleanup requests.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cleanup: Vec<StepResult>,
    /// Notes: failed cleanups, known deviations that now pass, …
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Snapshot comparison.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<SnapshotOutcome>,
    /// The normalised transcript rendered as snapshot text.
    #[serde(skip)]
    pub transcript_text: Option<String>,
    /// The index in `steps` of the fixture step whose failure stopped the scenario ([`crate::setup`]); its
    /// failure is the scenario's cause, not a failure of the rule.
    #[serde(skip)]
    pub setup_step: Option<usize>,
    /// Wall time in milliseconds.
    pub duration_ms: f64,
    /// Of which starting and stopping an in-process reference server, in milliseconds.
    #[serde(skip_serializing_if = "is_zero")]
    pub server_ms: f64,
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

impl ScenarioResult {
    /// A result for a scenario that did not run.
    pub fn skipped(s: &Scenario, reason: impl Into<String>) -> ScenarioResult {
        ScenarioResult { reason: Some(reason.into()), ..ScenarioResult::new(s, Verdict::Skip) }
    }

    /// An empty result with this verdict, to be filled in.
    pub(super) fn new(s: &Scenario, verdict: Verdict) -> ScenarioResult {
        ScenarioResult {
            id: s.id.clone(),
            title: s.title.clone(),
            source: s.source.clone(),
            file: crate::library::source_name(s),
            idp: s.idp,
            level: s.level,
            verdict,
            kind: s.kind,
            failed_level: None,
            failed_kind: None,
            reason: None,
            steps: vec![],
            cleanup: vec![],
            notes: vec![],
            snapshot: None,
            transcript_text: None,
            setup_step: None,
            duration_ms: 0.0,
            server_ms: 0.0,
        }
    }

    /// Recomputes `verdict` and `failed_level` from the steps and the snapshot outcome. A skip stays a skip and an
    /// error stays an error: neither is decided by the steps alone.
    pub fn recompute_verdict(&mut self) {
        if self.verdict == Verdict::Skip {
            return;
        }
        // a failed fixture is the scenario's cause (setupFailed), not a failure of its rule
        let failed: Vec<&StepResult> = (self.steps.iter().enumerate())
            .filter(|(i, s)| s.verdict == StepVerdict::Fail && Some(*i) != self.setup_step)
            .map(|(_, s)| s)
            .collect();
        let worst = failed.iter().map(|s| (s.level, s.kind)).min();
        self.failed_level = worst.map(|(l, _)| l);
        self.failed_kind = worst.map(|(_, k)| k);
        // An error of the scenario itself (its target could not be started before any step ran) is in no step:
        // it stays, whatever the steps say. A step's error stays in its step, so an error is never recomputed away.
        let erred = self.verdict == Verdict::Error;
        self.verdict = if erred || self.steps.iter().any(|s| s.verdict == StepVerdict::Error) {
            Verdict::Error
        } else if !failed.is_empty() {
            Verdict::Fail
        } else if self.setup_step.is_some() {
            Verdict::SetupFailed
        } else if matches!(self.snapshot, Some(SnapshotOutcome::Drift { .. })) {
            // a scenario with no snapshot yet is new, not drifted (insta's convention): its checks decide
            Verdict::Drift
        } else if self.steps.iter().any(|s| s.verdict == StepVerdict::ExpectedFail) {
            Verdict::KnownDeviation
        } else {
            Verdict::Pass
        };
    }

    /// Number of HTTP requests made (steps and cleanup).
    pub fn requests(&self) -> usize {
        self.steps
            .iter()
            .chain(&self.cleanup)
            .filter(|s| s.response.is_some() || s.verdict == StepVerdict::Error)
            .count()
    }
}
