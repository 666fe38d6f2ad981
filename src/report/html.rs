//! The HTML report: one self-contained file (inline CSS and a little JavaScript, no network access, no external
//! assets), rendered with minijinja from the [`Report`] model — for a live run (`--html`) or a saved JSON report
//! (`scimcheck report --json … --html …`).
//!
//! Layout, after Autobahn|Testsuite's report: a header (target, time, version, advertised capabilities, counts),
//! a matrix IdP × level × kind with the count of each verdict, then every scenario as a row that opens into its
//! steps: request and response (headers, pretty bodies cut at the report body limit with a note), failed
//! expectations (expected vs actual), the cited sources (linked where public) and the snapshot drift as a diff.
//! Filters by verdict, IdP, level and kind, and a search box, work offline.

use std::collections::BTreeMap;
use std::io::{self, Write};

use minijinja::{context, Environment};
use serde::Serialize;

use std::sync::{Arc, Mutex};

use minijinja::value::{Enumerator, Object, ObjectRepr, Value};

use super::model::{Counts, Report};
use super::spool::{Reader, Spool, Summary};
use crate::scenario::Kind;
use crate::verdict::Verdict;

const TEMPLATE: &str = include_str!("report.html.j2");

/// One cell of the matrix: the verdict counts of the scenarios of one IdP, level and kind.
#[derive(Debug, Default, Serialize)]
struct Cell {
    kind: String,
    counts: Counts,
}

#[derive(Debug, Serialize)]
struct Row {
    idp: String,
    level: String,
    cells: Vec<Cell>,
}

/// The matrix: one row per IdP and level, one cell per kind. A failed scenario is counted at the kind of the
/// step it failed at (like the terminal summary); every other scenario at its own kind.
fn matrix(summaries: &[Summary]) -> (Vec<String>, Vec<Row>) {
    let mut kinds: Vec<Kind> = summaries.iter().map(|s| s.kind).collect();
    kinds.sort();
    kinds.dedup();
    let mut by: BTreeMap<(crate::idp::Idp, crate::scenario::Level), BTreeMap<Kind, Counts>> = BTreeMap::new();
    for s in summaries {
        by.entry((s.idp, s.level)).or_default().entry(s.kind).or_default().add(s.verdict, s.reason.as_deref());
    }
    let rows = by
        .into_iter()
        .map(|((idp, level), mut cells)| Row {
            idp: idp.as_str().to_string(),
            level: level.as_str().to_string(),
            cells: kinds
                .iter()
                .map(|k| Cell { kind: k.as_str().to_string(), counts: cells.remove(k).unwrap_or_default() })
                .collect(),
        })
        .collect();
    (kinds.iter().map(|k| k.as_str().to_string()).collect(), rows)
}

/// The scenarios as the template iterates them: read from the spool one at a time while the page is written, so
/// the whole run is never in memory. A read error ends the loop and is reported after rendering.
#[derive(Debug)]
struct Scenarios {
    reader: Reader,
    error: Arc<Mutex<Option<io::Error>>>,
}

impl Object for Scenarios {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Iterable
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let error = self.error.clone();
        let fail = move |e: io::Error| {
            if let Ok(mut slot) = error.lock() {
                slot.get_or_insert(e);
            }
        };
        match self.reader.iter() {
            Ok(iter) => Enumerator::Iter(Box::new(iter.map_while(move |r| match r {
                Ok(s) => Some(Value::from_serialize(&s)),
                Err(e) => {
                    fail(e);
                    None
                }
            }))),
            Err(e) => {
                fail(e);
                Enumerator::Empty
            }
        }
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.reader.len())
    }
}

fn human_size(n: usize) -> String {
    let n = n as f64;
    if n < 1024.0 {
        format!("{n} B")
    } else if n < 1024.0 * 1024.0 {
        format!("{:.1} KiB", n / 1024.0)
    } else {
        format!("{:.1} MiB", n / 1024.0 / 1024.0)
    }
}

/// The diff's lines with their kind: `add`, `del`, `hunk` or `ctx`.
fn diff_lines(diff: &str) -> Vec<(String, String)> {
    diff.lines()
        .map(|l| {
            let class = if l.starts_with("+++") || l.starts_with("---") {
                "file"
            } else if l.starts_with('+') {
                "add"
            } else if l.starts_with('-') {
                "del"
            } else if l.starts_with("@@") {
                "hunk"
            } else {
                "ctx"
            };
            (class.to_string(), l.to_string())
        })
        .collect()
}

fn environment() -> Result<Environment<'static>, minijinja::Error> {
    let mut env = Environment::new();
    env.add_filter("pretty", |v: minijinja::Value| serde_json::to_string_pretty(&v).unwrap_or_default());
    env.add_filter("size", |n: usize| human_size(n));
    env.add_filter("difflines", |d: String| minijinja::Value::from_serialize(diff_lines(&d)));
    env.add_filter("ms", |v: f64| format!("{v:.1} ms"));
    // a response body that is not JSON (a proxy's error page) as one line: media type, size, title
    env.add_filter("describe", |text: String, size: usize, headers: minijinja::Value| {
        let attr = |h: &minijinja::Value, k: &str| h.get_attr(k).ok().and_then(|v| v.as_str().map(str::to_string));
        let ct = headers.try_iter().ok().into_iter().flatten().find_map(|h| {
            attr(&h, "name").filter(|n| n.eq_ignore_ascii_case("content-type")).and_then(|_| attr(&h, "value"))
        });
        crate::exchange::summary::describe(ct.as_deref(), &text, size)
    });
    env.add_template("report.html", TEMPLATE)?;
    Ok(env)
}

/// Writes the HTML report to `w`: the header, matrix and filters from `header` and the spool's summaries, then
/// every scenario of `spool`, read back one at a time.
///
/// Errors: the template fails, the spool cannot be read, or `w` cannot be written.
pub fn write(header: &Report, spool: &mut Spool, w: impl Write) -> io::Result<()> {
    let env = environment().map_err(io::Error::other)?;
    let tmpl = env.get_template("report.html").map_err(io::Error::other)?;
    let summaries: Vec<Summary> = spool.summaries().cloned().collect();
    let (kinds, rows) = matrix(&summaries);
    let mut idps: Vec<&str> = summaries.iter().map(|s| s.idp.as_str()).collect();
    idps.sort();
    idps.dedup();
    let mut levels: Vec<crate::scenario::Level> = summaries.iter().map(|s| s.level).collect();
    levels.sort();
    levels.dedup();
    let verdicts: Vec<&str> = [
        Verdict::Fail,
        Verdict::Error,
        Verdict::SetupFailed,
        Verdict::Drift,
        Verdict::KnownDeviation,
        Verdict::Skip,
        Verdict::Pass,
    ]
    .iter()
    .filter(|v| summaries.iter().any(|s| s.verdict == **v))
    .map(|v| verdict_key(*v))
    .collect();
    let error = Arc::new(Mutex::new(None));
    let scenarios = Value::from_object(Scenarios { reader: spool.reader()?, error: error.clone() });
    let mut w = io::BufWriter::new(w);
    tmpl.render_captured_to(
        context! {
            r => header,
            scenarios => scenarios,
            kinds => kinds,
            matrix => rows,
            idps => idps,
            levels => levels.iter().map(|l| l.as_str()).collect::<Vec<_>>(),
            verdicts => verdicts,
        },
        &mut w,
    )
    .map_err(io::Error::other)?;
    if let Some(e) = error.lock().ok().and_then(|mut e| e.take()) {
        return Err(e);
    }
    w.flush()
}

/// The HTML report of a whole [`Report`] (a saved one) as a string.
pub fn render(report: &Report) -> Result<String, String> {
    let fail = |e: io::Error| format!("cannot render the HTML report: {e}");
    let mut spool = Spool::from_reports(&report.scenarios).map_err(fail)?;
    let mut out = Vec::new();
    write(&report.header_only(), &mut spool, &mut out).map_err(fail)?;
    String::from_utf8(out).map_err(|e| e.to_string())
}

fn verdict_key(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::KnownDeviation => "knownDeviation",
        Verdict::Skip => "skip",
        Verdict::Drift => "drift",
        Verdict::Fail => "fail",
        Verdict::Error => "error",
        Verdict::SetupFailed => "setupFailed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_lines_are_classified() {
        let d = diff_lines("--- snapshot\n+++ this run\n@@ -1 +1 @@\n-a\n+b\n c");
        let classes: Vec<&str> = d.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(classes, ["file", "file", "hunk", "del", "add", "ctx"]);
        assert_eq!(human_size(2 * 1024 * 1024), "2.0 MiB");
        assert_eq!(human_size(100), "100 B");
    }
}
