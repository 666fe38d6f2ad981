//! Live output of `scimcheck run`: one aligned line per scenario as soon as it finishes, a progress bar when
//! stderr is a terminal, colours only where the stream and the environment allow them (`anstream` honours
//! `NO_COLOR`, `CLICOLOR`, `CLICOLOR_FORCE` and non-terminal output).

use std::io::{IsTerminal, Write};

use indicatif::{ProgressBar, ProgressStyle};
use owo_colors::OwoColorize;

use crate::exchange::truncate;
use crate::report::model::ScenarioReport;
use crate::runner::{StepVerdict, Verdict};
use crate::scenario::Level;

/// Prints results while the run goes on.
pub struct Live {
    bar: Option<ProgressBar>,
    width: usize,
    quiet: bool,
}

impl Live {
    /// Live output for `total` scenarios whose longest id is `width` characters; `quiet` (`run -q`) leaves out
    /// passed and skipped scenarios and shows no progress bar.
    pub fn new(total: usize, width: usize, quiet: bool) -> Live {
        let terminal = std::io::stderr().is_terminal() && std::io::stdout().is_terminal();
        let bar = (terminal && !quiet).then(|| {
            let bar = ProgressBar::new(total as u64);
            let style = ProgressStyle::with_template("{bar:30.cyan/blue} {pos}/{len} scenarios {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        Live { bar, width, quiet }
    }

    /// Prints one finished scenario (its part of the report model) and advances the bar.
    pub fn scenario(&self, r: &ScenarioReport) {
        if !(self.quiet && matches!(r.verdict, Verdict::Pass | Verdict::Skip)) {
            self.print(&line(r, self.width));
        }
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    /// Prints a line to stdout, above the bar when there is one.
    pub fn print(&self, line: &str) {
        let write = || crate::outln!("{line}");
        match &self.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }

    /// Prints a message to stderr, above the bar when there is one.
    pub fn warn(&self, line: &str) {
        let write = || {
            let mut err = anstream::stderr().lock();
            let _ = writeln!(err, "{line}");
        };
        match &self.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// One scenario's line: verdict, id, level, time, and for problems the first reason — columns aligned to `width`.
pub fn line(r: &ScenarioReport, width: usize) -> String {
    // NOT RUN for a scenario an interrupted run never reached or left unfinished: not a skip, which says the
    // server lacks something
    let padded = format!("{:<12}", r.label());
    let verdict = match r.verdict {
        Verdict::Pass => padded.green().to_string(),
        Verdict::KnownDeviation => padded.blue().to_string(),
        Verdict::Skip => padded.dimmed().to_string(),
        Verdict::SetupFailed => padded.yellow().to_string(),
        Verdict::Drift => padded.yellow().to_string(),
        Verdict::Fail if r.failed_level == Some(Level::Must) => padded.red().to_string(),
        Verdict::Fail => padded.yellow().to_string(),
        Verdict::Error => padded.red().bold().to_string(),
    };
    let level = format!("[{}]", r.level);
    let time = if r.verdict == Verdict::Skip { String::new() } else { format!("{:.0} ms", r.duration_ms) };
    let why = first_reason(r).map(|w| format!("  {}", truncate(&w, REASON).dimmed())).unwrap_or_default();
    format!("{verdict} {:<width$}  {level:<8} {time:>9}{why}", r.id)
}

/// Characters of a scenario line's reason.
const REASON: usize = 140;

/// A failed check as a scenario line gives it: what the server did before what was expected, so a long
/// expectation (a pattern with its basis) is what gets cut, never the actual value —
/// `header content-type: got application/json, expected matching ^application/scim\+json\b (RFC 7644 §3.1: …)`.
/// The check and the actual keep at most 48 characters each.
fn failed_check(check: &str, expected: &str, actual: &str) -> String {
    let cut = |s: &str, n: usize| match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    };
    format!("{}: got {}, expected {expected}", cut(check, 48), cut(actual, 48))
}

fn first_reason(r: &ScenarioReport) -> Option<String> {
    let snapshot = r.snapshot.as_ref().map(|s| s.status.as_str());
    match r.verdict {
        // the checks' verdict stays; the snapshot state is said beside it
        Verdict::Pass | Verdict::KnownDeviation if snapshot == Some("missing") => {
            Some("new: no snapshot recorded yet".into())
        }
        Verdict::Pass | Verdict::KnownDeviation => None,
        Verdict::Skip | Verdict::Drift | Verdict::SetupFailed if r.reason.is_some() => r.reason.clone(),
        // DRIFT is given only when every check held: say so, so the checks' verdict stays visible
        Verdict::Drift => Some("checks passed; the transcript differs from its snapshot".into()),
        Verdict::Skip | Verdict::SetupFailed => None,
        Verdict::Fail | Verdict::Error => {
            let (n, step) = r
                .steps
                .iter()
                .enumerate()
                .find(|(_, s)| matches!(s.verdict, StepVerdict::Fail | StepVerdict::Error))?;
            let what = match (step.failures.first(), &step.error) {
                (Some(f), _) => failed_check(&f.check, &f.expected, &f.actual),
                (None, Some(e)) => e.clone(),
                (None, None) => "failed".into(),
            };
            // the snapshot state beside the checks' verdict (a failed scenario's transcript may be new or changed)
            let snapshot = match snapshot {
                Some("missing") => "(snapshot: new) ",
                Some("drift") => "(snapshot: changed) ",
                _ => "",
            };
            Some(format!("{snapshot}step {} \"{}\": {what}", n + 1, step.name))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The line of a failed step shows what the server answered even when the expectation is long: the
    /// expectation is what is cut.
    #[test]
    fn the_actual_value_is_visible_before_a_long_expectation() {
        let expected =
            "matching ^application/scim\\+json\\b (RFC 7644 §3.1: SCIM responses use application/scim+json; \
                        RFC 7644 §8.1: the media type of SCIM messages)";
        let reason = format!(
            "step 1 \"No Authorization header\": {}",
            failed_check("header content-type", expected, "application/json")
        );
        let shown = truncate(&reason, REASON);
        assert!(shown.contains("header content-type: got application/json, expected matching"), "{shown}");
        let long_actual = "x".repeat(500);
        let shown = failed_check("/name/familyName equals", "\"a\"", &long_actual);
        assert!(shown.chars().count() < 120 && shown.ends_with("expected \"a\""), "{shown}");
    }
}
