//! Reports: human text, JUnit XML (quick-junit) and JSON, plus the exit-code policy.
//!
//! One file per format: [`text`] (the terminal report), [`junit`], [`json`] and [`html`]; all four are rendered
//! from one [`model`] (the JSON report's contract, also read back by `scimcheck report`), the terminal's live lines
//! too (`cli::output`). This module holds what they share — the exit policy and what the terminal shows.
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

use serde::Serialize;

use crate::runner::{RunOutcome, ScenarioResult, Verdict};
use crate::scenario::Level;

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
pub mod success;
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
pub use text::human;

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
/// response), under the default policy: [`text::details`] of its [`model::ScenarioReport`].
pub fn details_text(out: &mut String, r: &ScenarioResult) {
    let report = model::ScenarioReport::build(r, &Policy::default(), crate::exchange::DEFAULT_REPORT_BODY_LIMIT);
    text::details(
        out,
        &report,
        &Policy::default(),
        Shown { observations: false, new_snapshots: false, pending_kept: true },
    );
}

/// A scenario's title with the file it comes from in brackets, `Create a user (scenarios/okta/…json)`; the title
/// alone for a result no file stands behind (an IdP requirement checked from discovery, [`crate::requirements`]).
pub fn titled(title: &str, file: &str) -> String {
    match file {
        "" => title.to_string(),
        f => format!("{title} ({f})"),
    }
}
