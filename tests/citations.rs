//! Every document a scenario or the code cites is in this repository: users have `docs/`, not the notes the
//! project was researched from. A citation of `docs/<name>.md` must name a file that exists, and a bare note name
//! (`okta.md §2`, `azure.md`, `vendors.md`, `simulator.md`) without `docs/` is refused. Every basis of the library
//! names the rule it checks (an RFC section, a URL or a repository document) and is not cut off. Scenario files,
//! known-deviation files and code comments name another repository's `*.md` document only inside its URL.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

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
    // this test, the loader's check and its tests name bad references as their examples
    let examples = [root.join("tests/citations.rs"), root.join("src/scenario/cite.rs"), root.join("tests/loader.rs")];
    let mut problems = Vec::new();
    for path in all.iter().filter(|p| !examples.contains(p)) {
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

/// Every basis in the library (`{"required"|"shown"|"rfc": text}`, on a step or an assertion).
fn library_bases(root: &Path) -> Vec<(PathBuf, String)> {
    fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    match (k.as_str(), x) {
                        ("basis", serde_json::Value::Object(b)) => {
                            out.extend(b.values().filter_map(|t| t.as_str().map(str::to_string)))
                        }
                        _ => walk(x, out),
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    files(&root.join("scenarios"), &["json"], &mut all);
    let mut out = Vec::new();
    for path in all.into_iter().filter(|p| !p.to_string_lossy().ends_with(".schema.json")) {
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let mut texts = Vec::new();
        walk(&v, &mut texts);
        out.extend(texts.into_iter().map(|t| (path.clone(), t)));
    }
    out
}

/// Every basis names the rule it checks: an RFC section (`RFC 7644 §3.3`), a URL, or a repository document
/// (`docs/okta.md`, which carries the primary link) — and none is cut off inside a parenthesis.
#[test]
fn every_basis_cites_a_section_a_url_or_a_repository_document() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let cites = Regex::new(r"RFC \d+ ?§ ?\d|https?://\S+|docs/[A-Za-z0-9_-]+\.md|reference-server/README\.md").unwrap();
    let bases = library_bases(&root);
    assert!(bases.len() > 700, "the library's bases are found ({})", bases.len());
    let mut problems = Vec::new();
    for (path, text) in &bases {
        if !cites.is_match(text) {
            problems.push(format!("{}: basis names no RFC section, URL or docs/ document: {text:?}", path.display()));
        }
        let (mut depth, mut unbalanced) = (0i32, false);
        for c in text.chars() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            unbalanced |= depth < 0;
        }
        if depth != 0 || unbalanced || text.trim_end().ends_with('…') {
            problems.push(format!("{}: basis is cut off or has unbalanced parentheses: {text:?}", path.display()));
        }
    }
    assert!(problems.is_empty(), "{} problem(s):\n{}", problems.len(), problems.join("\n"));
}

/// The `*.md` names in `text` that a reader cannot find: outside a URL, not a file of the repository (from its
/// root, or beside `file`, or under `docs/`). A bare file name of another repository
/// (`use-scim-to-provision-users-and-groups.md`) or a path in one (`docs/reference/scim/index.md`,
/// `versions/1.2.md`) is cited by its URL instead.
fn unfindable_markdown(text: &str, file: &Path, root: &Path) -> Vec<String> {
    static URL: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"https?://[^\s)>\]]+").unwrap());
    static MD: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[A-Za-z0-9_./-]*[A-Za-z0-9_]\.md\b").unwrap());
    let without_urls = URL.replace_all(text, "");
    MD.find_iter(&without_urls)
        .map(|m| m.as_str().to_string())
        .filter(|name| {
            let here = file.parent().is_some_and(|d| d.join(name).is_file());
            !(here || root.join(name).is_file())
        })
        .collect()
}

#[test]
fn markdown_names_of_other_repositories_are_caught_and_repository_documents_are_not() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let file = root.join("src/profile.rs");
    let found = |t: &str| unfindable_markdown(t, &file, &root);
    assert_eq!(found("Entra's known issues (application-provisioning-config-problem-scim-compatibility.md)").len(), 1);
    assert_eq!(found("// docs/okta.md §2 (docs/reference/scim/index.md): headers"), ["docs/reference/scim/index.md"]);
    assert_eq!(found("//! HAR 1.2 (ahmadnassri/har-spec `versions/1.2.md`)"), ["versions/1.2.md"]);
    assert_eq!(found("docs/nonexistent.md"), ["docs/nonexistent.md"]);
    let fine = "docs/okta.md §2, README.md, reference-server/README.md, <https://github.com/a/b/blob/0123/x.md#y>, \
                https://learn.microsoft.com/x/use-scim.md";
    assert_eq!(found(fine), Vec::<String>::new());
}

/// A scenario file names an external `*.md` document only inside a URL: the loader refuses such references in a
/// basis or `source`, and this covers the other fields (`description`, `note`) too.
#[test]
fn scenario_files_name_markdown_documents_only_in_the_repository_or_in_urls() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut all = Vec::new();
    files(&root.join("scenarios"), &["json"], &mut all);
    let mut problems = Vec::new();
    for path in all.iter().filter(|p| !p.to_string_lossy().ends_with(".schema.json")) {
        let text = std::fs::read_to_string(path).unwrap();
        for name in unfindable_markdown(&text, path, &root) {
            problems.push(format!("{}: names `{name}` outside a URL and outside the repository", path.display()));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A known-deviation file (`*.expectations.json`, `expectations.json`, a peer's `*.gallery.json`) cites each rule
/// by RFC section, URL or repository document: a bare `*.md` name of another repository is caught.
#[test]
fn expectations_files_name_markdown_documents_only_in_the_repository_or_in_urls() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut all = Vec::new();
    for dir in ["tests", "snapshots", "reference-server/tests"] {
        files(&root.join(dir), &["json"], &mut all);
    }
    let is_expectations = |p: &Path| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        name.ends_with("expectations.json") || name.ends_with(".gallery.json")
    };
    let all: Vec<&PathBuf> = all.iter().filter(|p| is_expectations(p)).collect();
    assert!(all.len() >= 3, "the expectations files are found ({})", all.len());
    let mut problems = Vec::new();
    for path in all {
        let text = std::fs::read_to_string(path).unwrap();
        for name in unfindable_markdown(&text, path, &root) {
            problems.push(format!("{}: names `{name}` outside a URL and outside the repository", path.display()));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A comment in the code (`//`, `///`, `//!` lines of both crates and their tests) cites a document by URL or
/// as a repository path: a bare `*.md` name of another repository, or a path inside one, is caught.
#[test]
fn code_comments_name_markdown_documents_only_in_the_repository_or_in_urls() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut all = vec![root.join("build.rs")];
    for dir in ["src", "tests", "reference-server/src", "reference-server/tests"] {
        files(&root.join(dir), &["rs"], &mut all);
    }
    // this test and the loader's citation check name bad references as their examples
    let examples = [root.join("tests/citations.rs"), root.join("src/scenario/cite.rs")];
    let mut problems = Vec::new();
    for path in all.iter().filter(|p| !examples.contains(p)) {
        let text = std::fs::read_to_string(path).unwrap();
        for (n, line) in text.lines().enumerate().filter(|(_, l)| l.trim_start().starts_with("//")) {
            for name in unfindable_markdown(line, path, &root) {
                problems.push(format!("{}:{}: names `{name}` outside a URL and the repository", path.display(), n + 1));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
