//! The report spool: each finished scenario's [`ScenarioReport`] goes to a temporary file the moment it is
//! judged, so a run never holds every scenario's requests and responses for its reports. At the end the JSON,
//! HTML and JUnit reports are written by reading the scenarios back one at a time, sorted by id.
//!
//! Memory held per scenario: its id, offset and the few fields the matrix and counts need ([`Summary`]). The
//! file is created in the system temporary folder, unlinked at once where the platform allows (and removed on
//! drop otherwise).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::sync::Arc;

use super::model::ScenarioReport;
use crate::idp::Idp;
use crate::runner::Verdict;
use crate::scenario::{Kind, Level};

/// What the report's header, matrix and filters need of a scenario, kept in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Scenario id.
    pub id: String,
    /// IdP.
    pub idp: Idp,
    /// Scenario level.
    pub level: Level,
    /// The kind it is counted at ([`ScenarioReport::counted_kind`]).
    pub kind: Kind,
    /// Verdict.
    pub verdict: Verdict,
    /// Why it was skipped or erred, as its report gives it (`interrupted (Ctrl-C)` for one the run never reached).
    pub reason: Option<String>,
}

struct Entry {
    summary: Summary,
    offset: u64,
    len: u64,
}

/// Scenario reports on disk, one compact JSON document per line, with an in-memory index.
pub struct Spool {
    file: File,
    path: Option<PathBuf>,
    end: u64,
    entries: Vec<Entry>,
    sorted: bool,
}

impl Spool {
    /// A new, empty spool in the system temporary folder.
    ///
    /// Errors: the temporary file cannot be created.
    pub fn new() -> io::Result<Spool> {
        let path = std::env::temp_dir().join(format!("scimcheck-report-{}.spool", uuid::Uuid::new_v4()));
        let file = File::options().read(true).write(true).create_new(true).open(&path)?;
        // unlinked now where the platform allows it, so nothing is left behind even on a crash
        let path = match std::fs::remove_file(&path) {
            Ok(()) => None,
            Err(_) => Some(path),
        };
        Ok(Spool { file, path, end: 0, entries: Vec::new(), sorted: true })
    }

    /// A spool holding `scenarios` (a saved report's, for `scimcheck report`).
    pub fn from_reports<'a>(scenarios: impl IntoIterator<Item = &'a ScenarioReport>) -> io::Result<Spool> {
        let mut spool = Spool::new()?;
        for s in scenarios {
            spool.push(s)?;
        }
        Ok(spool)
    }

    /// Appends one scenario.
    ///
    /// Errors: the temporary file cannot be written.
    pub fn push(&mut self, s: &ScenarioReport) -> io::Result<()> {
        let mut line = serde_json::to_vec(s).map_err(io::Error::other)?;
        line.push(b'\n');
        self.file.seek(SeekFrom::Start(self.end))?;
        self.file.write_all(&line)?;
        let len = line.len() as u64;
        let summary = Summary {
            id: s.id.clone(),
            idp: s.idp,
            level: s.level,
            kind: s.counted_kind(),
            verdict: s.verdict,
            reason: s.reason.clone(),
        };
        if self.entries.last().is_some_and(|e| e.summary.id > summary.id) {
            self.sorted = false;
        }
        self.entries.push(Entry { summary, offset: self.end, len });
        self.end += len;
        Ok(())
    }

    /// Number of scenarios.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds no scenario.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn sort(&mut self) {
        if !self.sorted {
            self.entries.sort_by(|a, b| a.summary.id.cmp(&b.summary.id));
            self.sorted = true;
        }
    }

    /// The summaries, sorted by id.
    pub fn summaries(&mut self) -> impl Iterator<Item = &Summary> {
        self.sort();
        self.entries.iter().map(|e| &e.summary)
    }

    /// The scenarios read back one at a time, sorted by id; [`Reader::iter`] can be called again.
    ///
    /// Errors: the file cannot be flushed or its handle copied.
    pub fn reader(&mut self) -> io::Result<Reader> {
        self.sort();
        self.file.flush()?;
        let spans: Arc<[(u64, u64)]> = self.entries.iter().map(|e| (e.offset, e.len)).collect();
        Ok(Reader { file: self.file.try_clone()?, spans })
    }

    /// Copies every scenario's JSON, sorted by id, to `w`, separated by `sep` (no parsing).
    pub fn copy_json(&mut self, w: &mut dyn Write, sep: &[u8]) -> io::Result<()> {
        self.sort();
        let mut file = self.file.try_clone()?;
        for (i, e) in self.entries.iter().enumerate() {
            if i > 0 {
                w.write_all(sep)?;
            }
            file.seek(SeekFrom::Start(e.offset))?;
            // without the trailing newline
            let mut part = BufReader::new((&mut file).take(e.len - 1));
            loop {
                let buf = part.fill_buf()?;
                if buf.is_empty() {
                    break;
                }
                w.write_all(buf)?;
                let n = buf.len();
                part.consume(n);
            }
        }
        Ok(())
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        if let Some(p) = &self.path {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Reads the scenarios of a [`Spool`] back, in id order.
#[derive(Debug)]
pub struct Reader {
    file: File,
    spans: Arc<[(u64, u64)]>,
}

impl Reader {
    /// Number of scenarios.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether there is no scenario.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// A new pass over every scenario. Errors (per item): the file cannot be read, or a line is not a scenario.
    pub fn iter(&self) -> io::Result<ScenarioIter> {
        Ok(ScenarioIter { file: self.file.try_clone()?, spans: self.spans.clone(), next: 0 })
    }
}

/// One pass over the scenarios of a [`Spool`], in id order; each is read (and parsed) only when asked for.
#[derive(Debug)]
pub struct ScenarioIter {
    file: File,
    spans: Arc<[(u64, u64)]>,
    next: usize,
}

impl ScenarioIter {
    fn read(&mut self, offset: u64, len: u64) -> io::Result<ScenarioReport> {
        self.file.seek(SeekFrom::Start(offset))?;
        let mut buf = vec![0; usize::try_from(len).map_err(io::Error::other)?];
        self.file.read_exact(&mut buf)?;
        serde_json::from_slice(&buf).map_err(io::Error::other)
    }
}

impl Iterator for ScenarioIter {
    type Item = io::Result<ScenarioReport>;

    fn next(&mut self) -> Option<Self::Item> {
        let (offset, len) = *self.spans.get(self.next)?;
        self.next += 1;
        Some(self.read(offset, len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(id: &str, verdict: &str) -> ScenarioReport {
        serde_json::from_value(serde_json::json!({
            "id": id, "title": id, "source": "RFC 7644", "links": [], "file": "x.json", "idp": "okta",
            "group": "g", "level": "must", "kind": "rfc", "verdict": verdict, "failsRun": false,
            "durationMs": 1.0, "notes": [], "steps": [], "cleanup": []
        }))
        .unwrap()
    }

    #[test]
    fn scenarios_come_back_sorted_by_id_and_a_pass_can_be_repeated() {
        let mut spool = Spool::new().unwrap();
        for (id, v) in [("okta::b::y", "fail"), ("okta::a::x", "pass"), ("okta::c::z", "skip")] {
            spool.push(&scenario(id, v)).unwrap();
        }
        let ids: Vec<String> = spool.summaries().map(|s| s.id.clone()).collect();
        assert_eq!(ids, ["okta::a::x", "okta::b::y", "okta::c::z"]);
        let reader = spool.reader().unwrap();
        for _ in 0..2 {
            let back: Vec<(String, Verdict)> =
                reader.iter().unwrap().map(|s| s.unwrap()).map(|s| (s.id, s.verdict)).collect();
            assert_eq!(back[1], ("okta::b::y".to_string(), Verdict::Fail));
            assert_eq!(back.len(), 3);
        }
        let mut out = b"[".to_vec();
        spool.copy_json(&mut out, b",\n").unwrap();
        out.push(b']');
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v[2]["id"], "okta::c::z");
    }
}
