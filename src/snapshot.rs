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

/// A unified diff (3 lines of context) from the snapshot to this run.
pub fn diff(old: &str, new: &str) -> String {
    TextDiff::from_lines(old, new).unified_diff().context_radius(3).header("snapshot", "this run").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

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
