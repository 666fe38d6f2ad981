//! Reading this repository's Rust sources for tests over them (import cycles, stdout writes, file sizes): which
//! part of a file is code outside its test module, and how many lines of it are code.
#![allow(dead_code)]

/// `text` up to its test module: the first `#[cfg(test)]` that is followed (after other attributes) by an inline
/// `mod <name> {`. A `#[cfg(test)]` on any other item (a test-only helper function, a `use`, `mod tests;` naming
/// a file) does not end the code: what follows it is still read. The whole `text` when it has no test module.
pub fn before_test_module(text: &str) -> &str {
    let re = regex::Regex::new(
        r"#\[cfg\(test\)\]\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+[A-Za-z_][A-Za-z0-9_]*\s*\{",
    )
    .expect("valid pattern");
    re.find(text).map_or(text, |m| &text[..m.start()])
}

/// The lines of `text` that are code: not blank, not a line comment (`//`, `///`, `//!`), not inside a block
/// comment that starts its line (`/* … */`).
pub fn code_lines(text: &str) -> usize {
    let mut in_block = false;
    let mut n = 0;
    for line in text.lines().map(str::trim) {
        if in_block {
            in_block = !line.contains("*/");
            continue;
        }
        if line.starts_with("/*") {
            in_block = !line.contains("*/");
            continue;
        }
        if !line.is_empty() && !line.starts_with("//") {
            n += 1;
        }
    }
    n
}

/// Every `.rs` file under `dir` (recursively), sorted.
pub fn rust_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut entries: Vec<std::path::PathBuf> =
        std::fs::read_dir(dir).expect("a source folder").map(|e| e.expect("an entry").path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
    out
}
