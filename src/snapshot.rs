//! Snapshot files in insta's format: `<dir>/<idp>__<group>__<name>.snap`, pending changes as `.snap.new`.
//!
//! The CLI and `tests/scenarios.rs` read, write and compare these files through [`SnapshotStore`]; the header's
//! `source` names the scenario file. `scimcheck snapshots review|accept` handles pending files without a Rust
//! toolchain, and `cargo insta review` still reads them. Contents are compared the way insta does (trailing
//! whitespace and CRLF are ignored; the metadata header is not compared).

use std::io;
use std::path::{Path, PathBuf};

use similar::TextDiff;

/// Where snapshots live and whether to overwrite them.
#[derive(Debug, Clone)]
pub struct SnapshotStore {
    /// The snapshot folder.
    pub dir: PathBuf,
    /// Record missing snapshots and accept changed ones instead of reporting drift.
    pub update: bool,
}

/// What comparing a transcript with its snapshot found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", rename_all = "camelCase")]
pub enum SnapshotOutcome {
    /// Same contents.
    Matched,
    /// Written (missing or changed) because updating was requested.
    Written {
        /// The `.snap` file.
        path: PathBuf,
    },
    /// No snapshot exists; the transcript was written as pending.
    Missing {
        /// The `.snap.new` file.
        pending: PathBuf,
    },
    /// The transcript differs; the new one was written as pending.
    Drift {
        /// Unified diff, old snapshot → this run.
        diff: String,
        /// The `.snap.new` file.
        pending: PathBuf,
    },
}

impl SnapshotStore {
    /// The `.snap` path of a snapshot name.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.snap"))
    }

    /// Compares `contents` with the stored snapshot `name` and writes `.snap` or `.snap.new` as needed;
    /// `source` (the scenario file) goes into the metadata header.
    pub fn check(&self, name: &str, source: &str, contents: &str) -> io::Result<SnapshotOutcome> {
        let path = self.path(name);
        let pending = PathBuf::from(format!("{}.new", path.display()));
        let old = read_contents(&path)?;
        let file = file_text(source, contents);
        match old {
            Some(old) if normalise(&old) == normalise(contents) => {
                remove_if_exists(&pending)?;
                // when updating, a stale header (an older source line) is refreshed too
                if self.update && std::fs::read_to_string(&path)? != file {
                    std::fs::write(&path, file)?;
                }
                Ok(SnapshotOutcome::Matched)
            }
            _ if self.update => {
                std::fs::create_dir_all(&self.dir)?;
                std::fs::write(&path, file)?;
                remove_if_exists(&pending)?;
                Ok(SnapshotOutcome::Written { path })
            }
            None => {
                std::fs::create_dir_all(&self.dir)?;
                std::fs::write(&pending, file)?;
                Ok(SnapshotOutcome::Missing { pending })
            }
            Some(old) => {
                std::fs::write(&pending, file)?;
                Ok(SnapshotOutcome::Drift { diff: diff(&normalise(&old), &normalise(contents)), pending })
            }
        }
    }
}

/// The command that reviews the pending snapshots of `dir`, as a shell line to copy:
/// `scimcheck snapshots <verb> --snapshots DIR [--config FILE]` (`verb`: `review` or `accept`), each path quoted
/// when it holds anything but letters, digits and `_./-:`.
pub fn command_for(verb: &str, dir: &Path, config: Option<&Path>) -> String {
    let mut line = format!("scimcheck snapshots {verb} --snapshots {}", shell_word(dir));
    if let Some(c) = config {
        line.push_str(&format!(" --config {}", shell_word(c)));
    }
    line
}

fn shell_word(p: &Path) -> String {
    let s = p.to_string_lossy();
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "_./-:".contains(c)) {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The folder of a pending `.snap.new` file.
pub fn folder_of(pending: &Path) -> &Path {
    pending.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

fn remove_if_exists(p: &Path) -> io::Result<()> {
    match std::fs::remove_file(p) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// The text of a snapshot file: insta's format, its header naming the scenario file as the source.
pub fn file_text(source: &str, contents: &str) -> String {
    let plain = source.chars().all(|c| c.is_ascii_alphanumeric() || "_./-".contains(c));
    let source = if plain { source.to_string() } else { serde_json::to_string(source).expect("strings serialise") };
    format!("---\nsource: {source}\nexpression: transcript\n---\n{}\n", normalise(contents))
}

/// Reads the contents of a snapshot file (`None` when it does not exist), using insta's own parser.
pub fn read_contents(path: &Path) -> io::Result<Option<String>> {
    if !path.exists() {
        return Ok(None);
    }
    let snap = insta::Snapshot::from_file(path)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", path.display())))?;
    match snap.as_text() {
        Some(text) => Ok(Some(text.to_string())),
        None => Err(io::Error::new(io::ErrorKind::InvalidData, format!("{}: not a text snapshot", path.display()))),
    }
}

fn normalise(s: &str) -> String {
    s.trim_end().replace("\r\n", "\n")
}

/// A unified diff (3 lines of context) from the snapshot to this run; each hunk's `@@` line names the step its
/// first change is in (`@@ -70,7 +70,7 @@ step 2 "Hard delete"`), as `git diff` names the function.
pub fn diff(old: &str, new: &str) -> String {
    let text = TextDiff::from_lines(old, new);
    let (old_steps, new_steps) = (StepIndex::of(old), StepIndex::of(new));
    let mut out = String::new();
    for hunk in text.unified_diff().context_radius(3).iter_hunks() {
        if out.is_empty() {
            out.push_str("--- snapshot\n+++ this run\n");
        }
        let changed = hunk.ops().iter().find(|op| op.tag() != similar::DiffTag::Equal);
        let step =
            changed.and_then(|op| new_steps.at(op.new_range().start).or_else(|| old_steps.at(op.old_range().start)));
        let body = hunk.to_string();
        match (step, body.split_once('\n')) {
            (Some(step), Some((header, rest))) => {
                out.push_str(&format!("{header} {step}\n{rest}"));
            }
            _ => out.push_str(&body),
        }
    }
    out
}

/// Which transcript entry (`  {` … `  }` at the top level of the JSON array) each line belongs to, and its step.
struct StepIndex {
    /// Per line: the entry's label (`step 2 "Hard delete"`), if the line is inside an entry with a `step`.
    labels: Vec<Option<String>>,
}

impl StepIndex {
    fn of(text: &str) -> StepIndex {
        let lines: Vec<&str> = text.lines().collect();
        let mut labels = vec![None; lines.len()];
        let (mut start, mut n) = (None, 0);
        for (i, line) in lines.iter().enumerate() {
            if *line == "  {" {
                start = Some(i);
            } else if (*line == "  }" || *line == "  },") && start.is_some() {
                let from = start.take().unwrap_or(i);
                n += 1;
                let name = lines[from..=i].iter().find_map(|l| {
                    let rest = l.strip_prefix("    \"step\": ")?;
                    serde_json::from_str::<String>(rest.trim_end_matches(',')).ok()
                });
                if let Some(name) = name {
                    let label = format!("step {n} {}", serde_json::Value::from(name));
                    labels[from..=i].iter_mut().for_each(|l| *l = Some(label.clone()));
                }
            }
        }
        StepIndex { labels }
    }

    fn at(&self, line: usize) -> Option<String> {
        self.labels.get(line).cloned().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_hunk_names_its_step() {
        let entry = |step: &str, status: u16| {
            format!("  {{\n    \"response\": {{\n      \"status\": {status}\n    }},\n    \"step\": \"{step}\"\n  }}")
        };
        let old = format!("[\n{},\n{}\n]", entry("create", 201), entry("read \\\"it\\\"", 200));
        let new = format!("[\n{},\n{}\n]", entry("create", 201), entry("read \\\"it\\\"", 404));
        let d = diff(&old, &new);
        assert!(d.starts_with("--- snapshot\n+++ this run\n@@"), "{d}");
        assert!(d.contains(" @@ step 2 \"read \\\"it\\\"\"\n"), "{d}");
        assert!(d.contains("-      \"status\": 200") && d.contains("+      \"status\": 404"), "{d}");
        assert_eq!(diff(&old, &old), "");
    }

    #[test]
    fn the_review_command_names_the_folder_and_the_settings_file() {
        assert_eq!(
            command_for("review", Path::new("snaps/acme"), None),
            "scimcheck snapshots review --snapshots snaps/acme"
        );
        assert_eq!(
            command_for("accept", Path::new("/tmp/my snaps"), Some(Path::new("ci/scim.toml"))),
            "scimcheck snapshots accept --snapshots '/tmp/my snaps' --config ci/scim.toml"
        );
        assert_eq!(folder_of(Path::new("a.snap.new")), Path::new("."));
    }

    #[test]
    fn missing_then_match_then_drift_then_update() {
        let dir = std::env::temp_dir().join(format!("scimcheck-snap-{}", uuid::Uuid::new_v4()));
        let store = SnapshotStore { dir: dir.clone(), update: false };
        let name = "okta__spec__x";
        let out = store.check(name, "s.json", "[\n  1\n]").unwrap();
        assert!(matches!(out, SnapshotOutcome::Missing { .. }));
        assert!(dir.join("okta__spec__x.snap.new").exists());
        let update = SnapshotStore { dir: dir.clone(), update: true };
        assert!(matches!(update.check(name, "s.json", "[\n  1\n]").unwrap(), SnapshotOutcome::Written { .. }));
        assert!(!dir.join("okta__spec__x.snap.new").exists());
        assert_eq!(store.check(name, "s.json", "[\n  1\n]\n").unwrap(), SnapshotOutcome::Matched);
        match store.check(name, "s.json", "[\n  2\n]").unwrap() {
            SnapshotOutcome::Drift { diff, .. } => {
                assert!(diff.contains("-  1") && diff.contains("+  2"), "{diff}");
            }
            other => panic!("expected drift, got {other:?}"),
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
