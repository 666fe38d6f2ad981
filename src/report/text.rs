//! The human report printed to the terminal: one line per scenario, details for problems, a summary by IdP,
//! kind (rfc, interop, portal) and level.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::model::Counts;
use super::{details, verdict_text, Policy, Shown};
use crate::runner::{RunOutcome, Verdict};
use crate::scenario::{Idp, Kind, Level};

/// The human report: one line per scenario, details for problems, a summary by IdP and level.
pub fn human(outcome: &RunOutcome, policy: &Policy, run_notes: &[String]) -> String {
    let mut out = String::new();
    // the header counts what the summary counts: every loaded scenario is selected or excluded, and every
    // selected one is skipped (the target lacks a feature) or run
    let loaded = outcome.results.len();
    let excluded = outcome.results.iter().filter(|r| r.reason.as_deref().is_some_and(is_exclusion)).count();
    let not_run = outcome.results.iter().filter(|r| super::unfinished(r.reason.as_deref())).count();
    let skipped = outcome.results.iter().filter(|r| r.verdict == Verdict::Skip).count() - excluded - not_run;
    let ran = loaded - excluded - skipped - not_run;
    let not_run = if not_run > 0 { format!(", {not_run} not run (interrupted)") } else { String::new() };
    let _ = writeln!(
        out,
        "scimcheck: {loaded} scenario(s) loaded, {} selected, {skipped} skipped{not_run}, {ran} run against {}",
        loaded - excluded,
        outcome.target
    );
    for note in outcome.capabilities.notes.iter().chain(run_notes) {
        let _ = writeln!(out, "note: {note}");
    }
    let _ = writeln!(out);
    let width = outcome.results.iter().map(|r| r.id.len()).max().unwrap_or(0);
    for r in &outcome.results {
        let time = if r.verdict == Verdict::Skip { String::new() } else { format!("{:>8.1} ms", r.duration_ms) };
        let kind = r.failed_kind.unwrap_or(r.kind);
        let _ = writeln!(out, "{:<9} {:<width$}  [{}, {kind}] {time}", verdict_text(r), r.id, r.level);
        details(&mut out, r, policy, Shown { observations: true, new_snapshots: true, pending_kept: true });
    }
    summary(&mut out, outcome, policy, true);
    out.push_str(&super::causes::fix_first(&super::causes::causes(&outcome.results), FIX_FIRST_TOP));
    out
}

/// The report printed after the live per-scenario lines of `scimcheck run` (`cli::output`): run notes, the
/// details of every scenario that has any (failures, errors, drift, known deviations, cleanup notes) under its
/// verdict and id, and the summary — without listing every scenario a second time. `shown.observations`
/// (`run -v`) lists the observations of steps that did not fail too; otherwise the summary counts them and points
/// to `-v`.
pub fn human_after_live(outcome: &RunOutcome, policy: &Policy, run_notes: &[String], shown: Shown) -> String {
    let mut out = String::new();
    for note in outcome.capabilities.notes.iter().chain(run_notes) {
        let _ = writeln!(out, "note: {note}");
    }
    for r in outcome.results.iter().filter(|r| r.verdict != Verdict::Skip) {
        let mut d = String::new();
        details(&mut d, r, policy, shown);
        if !d.is_empty() {
            let _ = writeln!(out, "\n{} {} [{}]", verdict_text(r), r.id, r.level);
            out.push_str(&d);
        }
    }
    summary(&mut out, outcome, policy, shown.observations);
    out.push_str(&super::causes::fix_first(&super::causes::causes(&outcome.results), FIX_FIRST_TOP));
    out
}

/// Causes the terminal's "fix first" section lists (the JSON and HTML reports list them all).
pub const FIX_FIRST_TOP: usize = 10;

fn summary(out: &mut String, outcome: &RunOutcome, policy: &Policy, observations_shown: bool) {
    let mut by: BTreeMap<(Idp, Kind, Level), Counts> = BTreeMap::new();
    let mut total = Counts::default();
    for r in &outcome.results {
        // a failure is counted at the level and kind of the step it failed at
        let level = r.failed_level.unwrap_or(r.level);
        let kind = r.failed_kind.unwrap_or(r.kind);
        by.entry((r.idp, kind, level)).or_default().add(r.verdict, r.reason.as_deref());
        total.add(r.verdict, r.reason.as_deref());
    }
    let _ = writeln!(out, "\nsummary by IdP, kind and level:");
    for ((idp, kind, level), c) in &by {
        let _ = writeln!(out, "  {:<6} {:<8} {:<7} {}", idp.as_str(), kind.as_str(), level.as_str(), c.text());
    }
    let observed: usize = outcome.results.iter().flat_map(|r| &r.steps).map(|s| s.observations.len()).sum();
    if observed > 0 {
        let _ = writeln!(
            out,
            "\n{observed} observation(s): checks whose basis is only an example (`shown`) or a SHOULD of the IdP; they never fail the run{}",
            if observations_shown { "" } else { " (-v lists them)" }
        );
    }
    let failing = outcome.results.iter().filter(|r| policy.fails_run(r)).count();
    let unfinished = outcome.results.iter().filter(|r| super::unfinished(r.reason.as_deref())).count();
    let verdict = if outcome.interrupted {
        let failed = if failing == 0 { String::new() } else { format!(", {failing} scenario(s) fail the run") };
        format!(": INTERRUPTED (Ctrl-C): partial results, {unfinished} scenario(s) did not run to their end{failed}")
    } else if failing == 0 {
        String::from(": OK")
    } else {
        format!(": {failing} scenario(s) fail the run")
    };
    let _ = writeln!(out, "\n{} in {:.2} s{verdict}", total.text(), outcome.duration_ms / 1000.0);
}

/// Whether a skip reason is the user's selection rather than the target's capabilities.
fn is_exclusion(reason: &str) -> bool {
    reason.starts_with("excluded by") || reason.starts_with("not selected")
}
