//! Reading this repository's Rust sources for tests over them (import cycles, stdout writes, file sizes): which
//! part of a file is code outside its test module, and how many lines of it are code.
#![allow(dead_code)]

/// `text` without its test modules: each `#[cfg(test)]` that is followed (after other attributes) by an inline
/// `mod <name> {` is left out up to the brace that closes that module, wherever it stands in the file, and what
/// follows it is read again. A `#[cfg(test)]` on any other item (a test-only helper function, a `use`, `mod
/// tests;` naming a file) leaves the code alone. Braces inside string and character literals and comments do not
/// count; a test module whose closing brace cannot be found ends the code there.
pub fn without_test_modules(text: &str) -> String {
    let re = regex::Regex::new(
        r"#\[cfg\(test\)\]\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+[A-Za-z_][A-Za-z0-9_]*\s*\{",
    )
    .expect("valid pattern");
    let mut out = String::new();
    let mut at = 0;
    while let Some(m) = re.find_at(text, at) {
        out.push_str(&text[at..m.start()]);
        match closing_brace(text.as_bytes(), m.end()) {
            Some(end) => at = end + 1,
            None => return out,
        }
    }
    out.push_str(&text[at..]);
    out
}

/// The index of the `}` closing a block whose `{` ends just before `from`, skipping string literals (plain and
/// raw), character literals and comments; `None` when the text ends first.
fn closing_brace(b: &[u8], from: usize) -> Option<usize> {
    let (mut depth, mut i) = (1usize, from);
    while i < b.len() {
        match b[i] {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b'r' if matches!(b.get(i + 1), Some(b'#') | Some(b'"')) && (i == 0 || !is_ident(b[i - 1])) => {
                let hashes = b[i + 1..].iter().take_while(|c| **c == b'#').count();
                if b.get(i + 1 + hashes) == Some(&b'"') {
                    let close: Vec<u8> = std::iter::once(b'"').chain(std::iter::repeat_n(b'#', hashes)).collect();
                    i += 2 + hashes;
                    while i < b.len() && !b[i..].starts_with(&close) {
                        i += 1;
                    }
                    i += close.len() - 1;
                }
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            // a character literal ('{', '\''), not a lifetime ('a)
            b'\'' if b.get(i + 2) == Some(&b'\'') => i += 2,
            b'\'' if b.get(i + 1) == Some(&b'\\') => {
                i += 2;
                while i < b.len() && b[i] != b'\'' {
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
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
