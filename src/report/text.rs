//! The human report printed to the terminal: one line per scenario, details for problems, a summary by IdP and
//! level.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{details, verdict_text, Counts, Policy};
use crate::runner::{RunOutcome, Verdict};
use crate::scenario::{Idp, Level};

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
    out
}

/// The report printed after the live per-scenario lines of `scimcheck run` (`cli::output`): run notes, the
/// details of every scenario that has any (failures, errors, drift, known deviations, cleanup notes) under its
/// verdict and id, and the summary — without listing every scenario a second time.
pub fn human_after_live(outcome: &RunOutcome, policy: &Policy, run_notes: &[String]) -> String {
    let mut out = String::new();
    for note in outcome.capabilities.notes.iter().chain(run_notes) {
        let _ = writeln!(out, "note: {note}");
    }
    for r in outcome.results.iter().filter(|r| r.verdict != Verdict::Skip) {
        let mut d = String::new();
        details(&mut d, r, policy);
        if !d.is_empty() {
            let _ = writeln!(out, "\n{} {} [{}]", verdict_text(r), r.id, r.level);
            out.push_str(&d);
        }
    }
    summary(&mut out, outcome, policy);
    out
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
