//! The loader's check of the documents a scenario cites: a basis or `source` that names a `*.md` document must
//! name one the reader can open.
//!
//! A document reference is a path ending in `.md` outside a URL (`docs/okta.md §2`, `notes/acme.md`); a URL
//! (`https://…/x.md`) is a primary source and is not checked here. A reference resolves when it is:
//!
//! - `docs/<name>.md`, one of this repository's documents (`docs/`, compiled into the binary with the library, so a
//!   copied binary checks the same set), or one of the other documents of [`OTHER_DOCUMENTS`]
//!   (`reference-server/README.md`, the portal semantics the `portal` scenarios rest on), or
//! - for a scenario file on disk (a `--scenarios` folder), a file at that path relative to the scenario file's own
//!   folder — a user's folder may keep its own documents beside its scenarios (`acme-notes.md §3`,
//!   `../docs/acme.md`).
//!
//! Anything else — a document this repository does not have (`docs/nonexistent.md`) or a bare note name
//! (`okta.md §2`) — is refused: a reader of the verdict could not find the rule it rests on.

use std::path::Path;
use std::sync::OnceLock;

use include_dir::{include_dir, Dir};
use regex::Regex;

/// `docs/` as it was when the binary was built: the documents a scenario may cite as `docs/<name>.md`.
static DOCS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/docs");

/// Documents of this repository outside `docs/` a scenario may cite, by their path in the repository (a test
/// checks each exists).
pub(super) const OTHER_DOCUMENTS: &[&str] = &["reference-server/README.md"];

/// The `*.md` paths `text` names outside URLs, in order.
pub(super) fn document_references(text: &str) -> Vec<&str> {
    static URL: OnceLock<Regex> = OnceLock::new();
    static MD: OnceLock<Regex> = OnceLock::new();
    let url = URL.get_or_init(|| Regex::new(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s)>\]]+").unwrap());
    let md = MD.get_or_init(|| Regex::new(r"[A-Za-z0-9_./-]*[A-Za-z0-9_]\.md\b").unwrap());
    let urls: Vec<(usize, usize)> = url.find_iter(text).map(|m| (m.start(), m.end())).collect();
    md.find_iter(text)
        .filter(|m| !urls.iter().any(|(s, e)| m.start() >= *s && m.start() < *e))
        // `x.md` inside a longer word (`a-x.mdx` is not matched by `\b`; `foo@x.md` is a name, not a path)
        .filter(|m| !text[..m.start()].ends_with(|c: char| c.is_alphanumeric() || c == '@'))
        .map(|m| m.as_str())
        .collect()
}

/// Whether `docs/<name>` is one of the repository's documents.
fn is_repository_document(reference: &str) -> bool {
    OTHER_DOCUMENTS.contains(&reference)
        || reference.strip_prefix("docs/").is_some_and(|name| !name.contains('/') && DOCS.get_file(name).is_some())
}

/// The names of the repository's documents, for error messages: `docs/a.md, docs/b.md, …`.
fn repository_documents() -> String {
    let mut names: Vec<String> = DOCS
        .files()
        .filter_map(|f| f.path().to_str())
        .filter(|n| n.ends_with(".md"))
        .map(|n| format!("docs/{n}"))
        .collect();
    names.sort();
    names.join(", ")
}

/// Every document reference of `text` (a basis or `source` of the scenario file `file`) that resolves neither to
/// a repository document nor to a file beside `file`; each error is a sentence for the loader naming `what`
/// (`basis`, `source`, `check on /id`).
pub(super) fn unresolved_documents(what: &str, text: &str, file: &Path) -> Vec<String> {
    document_references(text)
        .into_iter()
        .filter(|r| !is_repository_document(r))
        .filter(|r| !file.parent().is_some_and(|dir| !r.starts_with('/') && dir.join(r).is_file()))
        .map(|r| {
            format!(
                "{what} cites `{r}`, which is neither a document of this repository ({}) nor a file relative to \
                 the scenario file; cite a docs/ document, a URL or the RFC section",
                repository_documents()
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_outside_urls_only() {
        assert_eq!(
            document_references(
                "docs/okta.md §2 and okta.md, see https://github.com/a/b/blob/0123/use-scim.md#x or (notes/acme.md)"
            ),
            ["docs/okta.md", "okta.md", "notes/acme.md"]
        );
        assert!(document_references("a.mdx, user@host.md, README").is_empty());
    }

    #[test]
    fn the_other_documents_exist() {
        for d in OTHER_DOCUMENTS {
            assert!(Path::new(env!("CARGO_MANIFEST_DIR")).join(d).is_file(), "{d}");
        }
    }

    #[test]
    fn repository_documents_resolve_and_others_do_not() {
        let nowhere = Path::new("(built-in) scenarios/okta/x/y.json");
        assert!(unresolved_documents("basis", "docs/okta.md §3", nowhere).is_empty());
        assert!(unresolved_documents("basis", "reference-server/README.md 'CALs'", nowhere).is_empty());
        assert_eq!(unresolved_documents("basis", "docs/nonexistent.md §9", nowhere).len(), 1);
        assert_eq!(unresolved_documents("basis", "okta.md §2", nowhere).len(), 1);
        assert_eq!(unresolved_documents("basis", "docs/sub/okta.md", nowhere).len(), 1);
    }
}
