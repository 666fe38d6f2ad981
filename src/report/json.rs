//! The JSON report: the [`Report`] model, written as it is serialised (no whole-report string in memory).
//! Its shape is `reportVersion` [`REPORT_VERSION`](super::REPORT_VERSION), described by `report.schema.json`.

use std::io::{self, Write};

use super::model::{Report, ReportMeta};
use super::Policy;
use crate::runner::RunOutcome;

/// Writes `report` as pretty JSON to `w`.
pub fn write(report: &Report, w: impl Write) -> io::Result<()> {
    let mut w = io::BufWriter::new(w);
    serde_json::to_writer_pretty(&mut w, report).map_err(io::Error::other)?;
    w.write_all(b"\n")?;
    w.flush()
}

/// Reads a JSON report written by [`write`]; an unknown `reportVersion` is an error.
pub fn read(text: &str) -> Result<Report, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not a JSON document: {e}"))?;
    match v.get("reportVersion").and_then(serde_json::Value::as_u64) {
        Some(n) if n == u64::from(super::REPORT_VERSION) => {}
        Some(n) => {
            return Err(format!("reportVersion {n} is not supported (this scimcheck reads {})", super::REPORT_VERSION))
        }
        None => return Err("not a scimcheck JSON report (no reportVersion)".into()),
    }
    serde_json::from_value(v).map_err(|e| format!("not a valid scimcheck report: {e}"))
}

/// The JSON report of a run as a string (every scenario listed; see [`Report::build`]).
pub fn json(outcome: &RunOutcome, policy: &Policy, run_notes: &[String]) -> String {
    let meta = ReportMeta { notes: run_notes.to_vec(), ..ReportMeta::default() };
    let report = Report::build(outcome, policy, &meta);
    let mut out = Vec::new();
    match write(&report, &mut out) {
        Ok(()) => String::from_utf8_lossy(&out).into_owned(),
        Err(e) => format!("{{\"error\": {}}}", serde_json::Value::String(e.to_string())),
    }
}
