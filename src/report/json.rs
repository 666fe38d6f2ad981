//! The JSON report: the [`Report`] model, written as a stream — the header's fields one per line, then every
//! scenario copied from the spool one per line (no whole report in memory). Its shape is `reportVersion`
//! [`REPORT_VERSION`](super::REPORT_VERSION), described by `report.schema.json`.

use std::io::{self, Write};

use super::model::{Report, ReportMeta};
use super::spool::Spool;
use super::Policy;
use crate::runner::RunOutcome;

/// Writes the JSON report to `w`: the fields of `header` (its `scenarios` are not used), then the scenarios of
/// `spool` in id order, copied as they were spooled.
///
/// Errors: the spool cannot be read or `w` cannot be written.
pub fn write(header: &Report, spool: &mut Spool, w: impl Write) -> io::Result<()> {
    let mut w = io::BufWriter::new(w);
    let mut fields = match serde_json::to_value(header).map_err(io::Error::other)? {
        serde_json::Value::Object(map) => map,
        _ => return Err(io::Error::other("the report header is not a JSON object")),
    };
    fields.remove("scenarios");
    w.write_all(b"{\n")?;
    for (name, value) in &fields {
        serde_json::to_writer(&mut w, name).map_err(io::Error::other)?;
        w.write_all(b": ")?;
        serde_json::to_writer(&mut w, value).map_err(io::Error::other)?;
        w.write_all(b",\n")?;
    }
    w.write_all(b"\"scenarios\": [\n")?;
    spool.copy_json(&mut w, b",\n")?;
    w.write_all(b"\n]\n}\n")?;
    w.flush()
}

/// Writes a whole [`Report`] (a saved one) as JSON to `w`, the same way as [`write`].
///
/// Errors: the temporary spool cannot be made or `w` cannot be written.
pub fn write_report(report: &Report, w: impl Write) -> io::Result<()> {
    let mut spool = Spool::from_reports(&report.scenarios)?;
    write(&report.header_only(), &mut spool, w)
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
    match write_report(&report, &mut out) {
        Ok(()) => String::from_utf8_lossy(&out).into_owned(),
        Err(e) => format!("{{\"error\": {}}}", serde_json::Value::String(e.to_string())),
    }
}
