//! The scenario library and snapshot baseline compiled into the binary, and how `--scenarios DIR` adds to them.
//!
//! The binary never reads its source tree at run time: a copied or `cargo install`ed binary carries the whole
//! library (`scenarios/`) and the reference server's snapshot baseline (`snapshots/`). A `scenarios/` folder in the
//! working directory is ignored unless named with `--scenarios`. Each `--scenarios DIR` (repeatable, later wins)
//! adds its scenarios and replaces library scenarios with the same id.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use include_dir::{include_dir, Dir};

use crate::scenario::{self, LoadError, Scenario};

/// `scenarios/` as it was when the binary was built.
pub static SCENARIOS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/scenarios");

/// `snapshots/` (the reference server's transcripts and `expectations.json`) as it was when the binary was built.
pub static SNAPSHOTS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/snapshots");

/// How a library scenario's file is named in messages and reports.
pub const BUILT_IN: &str = "(built-in) scenarios";

/// How a scenario's file is named in snapshot headers: `scenarios/<idp>/<group>/<name>.json` for the library
/// (its path in the repository); otherwise the file, relative to the working directory when it lies below it.
pub fn source_name(s: &Scenario) -> String {
    if s.file.starts_with(BUILT_IN) {
        return format!("scenarios/{}", s.rel_path);
    }
    let file = std::env::current_dir()
        .ok()
        .and_then(|cwd| s.file.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| s.file.clone());
    file.to_string_lossy().replace('\\', "/")
}

/// Parses the embedded library, sorted by id.
///
/// Errors: every invalid scenario file (only possible when the binary was built from a broken checkout).
pub fn built_in() -> Result<Vec<Scenario>, Vec<LoadError>> {
    let mut files = Vec::new();
    collect(&SCENARIOS, &mut files);
    files.sort_by(|a, b| a.path().cmp(b.path()));
    let mut scenarios = Vec::new();
    let mut errors = Vec::new();
    for f in files {
        let rel = f.path().to_string_lossy().replace('\\', "/");
        let shown = PathBuf::from(format!("{BUILT_IN}/{rel}"));
        let Some(text) = f.contents_utf8() else {
            errors.push(LoadError { file: shown, step: None, reason: "not UTF-8".into() });
            continue;
        };
        match scenario::parse(&rel, &shown, text) {
            Ok(s) => scenarios.push(s),
            Err(e) => errors.extend(e),
        }
    }
    scenario::sorted_or_errors(scenarios, errors)
}

/// Scenario files: `<idp>/<group>/…/<name>.json` (files directly in the root or an IdP folder are metadata).
fn collect<'a>(dir: &'a Dir<'static>, out: &mut Vec<&'a include_dir::File<'static>>) {
    for f in dir.files() {
        if f.path().extension().is_some_and(|e| e == "json") && f.path().components().count() >= 3 {
            out.push(f);
        }
    }
    for d in dir.dirs() {
        collect(d, out);
    }
}

/// The scenarios a run uses: the library (unless `without_library`), then each folder in order, a folder's
/// scenario replacing any earlier one with the same id. Sorted by id.
///
/// Errors: every load error of every folder, each naming its file.
pub fn load(dirs: &[PathBuf], without_library: bool) -> Result<Vec<Scenario>, Vec<LoadError>> {
    let mut by_id: BTreeMap<String, Scenario> = BTreeMap::new();
    let mut errors = Vec::new();
    if !without_library {
        match built_in() {
            Ok(list) => by_id.extend(list.into_iter().map(|s| (s.id.clone(), s))),
            Err(e) => errors.extend(e),
        }
    }
    for dir in dirs {
        match scenario::load_dir(dir) {
            Ok(list) => by_id.extend(list.into_iter().map(|s| (s.id.clone(), s))),
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() {
        Ok(by_id.into_values().collect())
    } else {
        Err(errors)
    }
}

/// Loads the built-in library plus `dirs` (or only `dirs` when `without_library`), reporting every loader error.
pub fn load_described(dirs: &[PathBuf], without_library: bool) -> Result<Vec<Scenario>, String> {
    load(dirs, without_library).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        format!("{} scenario error(s):\n{}", errors.len(), lines.join("\n"))
    })
}

/// Writes the embedded snapshot baseline into `dir` (created if needed), so it can be compared against like any
/// snapshot folder; pending `.snap.new` files then land there too.
///
/// Errors: the folder or a file cannot be written.
pub fn extract_snapshots(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for f in SNAPSHOTS.files() {
        let name = f.path().to_string_lossy();
        if name.ends_with(".snap") || name.ends_with(".json") {
            std::fs::write(dir.join(f.path()), f.contents())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_library_is_embedded_and_valid() {
        let all = built_in().unwrap_or_else(|e| panic!("{e:?}"));
        assert!(all.iter().any(|s| s.id == "okta::spec::spec_suite"), "{}", all.len());
        assert!(all.iter().all(|s| s.file.starts_with(BUILT_IN)));
    }

    #[test]
    fn a_folder_overrides_a_library_scenario_by_id_and_adds_new_ones() {
        let dir = std::env::temp_dir().join(format!("scimcheck-lib-{}", uuid::Uuid::new_v4()));
        let body = |title: &str| {
            format!(
                r#"{{"title": "{title}", "source": "test", "level": "must",
                "steps": [{{"name": "list", "basis": {{"rfc": "RFC 7644 §3.4.2"}}, "request": {{"method": "GET", "path": "/Users"}}, "expect": {{"status": 200}}}}]}}"#
            )
        };
        std::fs::create_dir_all(dir.join("okta/spec")).unwrap();
        std::fs::create_dir_all(dir.join("rfc/mine")).unwrap();
        std::fs::write(dir.join("okta/spec/spec_suite.json"), body("mine")).unwrap();
        std::fs::write(dir.join("rfc/mine/extra.json"), body("extra")).unwrap();
        let library = built_in().unwrap();
        let all = load(std::slice::from_ref(&dir), false).unwrap();
        assert_eq!(all.len(), library.len() + 1);
        assert_eq!(all.iter().find(|s| s.id == "okta::spec::spec_suite").unwrap().title, "mine");
        assert!(all.iter().any(|s| s.id == "rfc::mine::extra"));
        let only = load(std::slice::from_ref(&dir), true).unwrap();
        assert_eq!(only.len(), 2);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
