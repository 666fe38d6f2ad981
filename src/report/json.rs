//! The JSON report: the whole run outcome, every step's exchange and the normalised transcripts.

use serde::Serialize;

use super::Policy;
use crate::runner::RunOutcome;

#[derive(Serialize)]
struct JsonReport<'a> {
    tool: &'static str,
    version: &'static str,
    policy: &'a Policy,
    exit_code: i32,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    notes: &'a [String],
    #[serde(flatten)]
    outcome: &'a RunOutcome,
}

/// The JSON report: every scenario with every step's verdict, request, response and the normalised transcript.
pub fn json(outcome: &RunOutcome, policy: &Policy, run_notes: &[String]) -> String {
    let report = JsonReport {
        tool: "scimcheck",
        version: env!("CARGO_PKG_VERSION"),
        policy,
        exit_code: policy.exit_code(outcome),
        notes: run_notes,
        outcome,
    };
    let text = serde_json::to_string_pretty(&report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text
}
