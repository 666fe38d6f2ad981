//! Every document a scenario or the code cites is in this repository: users have `docs/`, not the notes the
//! project was researched from. A citation of `docs/<name>.md` must name a file that exists, and a bare note name
//! (`okta.md §2`, `azure.md`, `vendors.md`, `simulator.md`) without `docs/` is refused.

use std::path::{Path, PathBuf};

use regex::Regex;

fn files(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, exts, out);
        } else if path.extension().and_then(|e| e.to_str()).is_some_and(|e| exts.contains(&e)) {
            out.push(path);
        }
    }
}

#[test]
fn every_cited_document_is_in_the_repository() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut all = Vec::new();
    for dir in ["scenarios", "src", "tests", "reference-server/src", "reference-server/tests", "docs"] {
        files(&root.join(dir), &["json", "rs", "md"], &mut all);
    }
    all.push(root.join("README.md"));
    let cited = Regex::new(r"docs/([A-Za-z0-9_-]+\.md)").unwrap();
    let bare =
        Regex::new(r"(^|[^/\w])((okta|azure|vendors|simulator|certification-2026|real-server-defects)\.md)").unwrap();
    let this = root.join("tests/citations.rs");
    let mut problems = Vec::new();
    for path in all.iter().filter(|p| **p != this) {
        let text = std::fs::read_to_string(path).unwrap();
        for c in cited.captures_iter(&text) {
            if !root.join("docs").join(&c[1]).is_file() {
                problems.push(format!("{}: cites docs/{}, which does not exist", path.display(), &c[1]));
            }
        }
        // a markdown file inside docs/ may link a sibling by its bare name
        let in_docs = path.parent() == Some(root.join("docs").as_path());
        for c in bare.captures_iter(&text).filter(|_| !in_docs) {
            problems.push(format!("{}: cites {} outside the repository (use docs/…)", path.display(), &c[2]));
        }
        if text.contains("/work/shared") || text.contains("../shared/research") {
            problems.push(format!("{}: cites the research folder, which users do not have", path.display()));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
