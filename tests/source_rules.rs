//! Rules over the Rust sources of both crates (`src/`, `reference-server/src/`): no source file over 1,000 lines
//! of code, and no write to stdout that bypasses [`scimcheck::out!`]/[`scimcheck::outln!`] outside test modules.

#[path = "support/source.rs"]
mod source;

use std::path::Path;

/// Lines of code a source file may hold at most (blank lines and comments not counted): past it a file is
/// split into modules.
const MAX_CODE_LINES: usize = 1000;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_cut_is_at_the_test_module_not_at_a_test_only_item() {
    let text = "use a::b;\n#[cfg(test)]\npub(crate) fn status_only() {}\nuse c::d;\n\n#[cfg(test)]\nmod tests;\n\
                fn after() {}\n#[cfg(test)]\n#[allow(unused)]\nmod tests {\n    use e::f;\n}\n";
    let code = source::without_test_modules(text);
    assert!(code.contains("use c::d;") && code.contains("fn after()"), "{code}");
    assert!(!code.contains("use e::f;"), "{code}");
    assert_eq!(source::without_test_modules("fn f() {}\n"), "fn f() {}\n");
    // a test module in the middle of a file hides only itself, whatever braces its literals and comments hold
    let middle = "#[cfg(test)]\nmod tests {\n    use e::f;\n    let s = \"}\";\n    let r = r#\"}\"#;\n    \
                  let c = '}';\n    // }\n    fn g<'a>(x: &'a str) {}\n}\nuse g::h;\n";
    let code = source::without_test_modules(middle);
    assert!(code.contains("use g::h;") && !code.contains("use e::f;"), "{code}");
}

#[test]
fn blank_lines_and_comments_are_not_code() {
    let counted = "//! module\n\n/// item\nfn f() {\n    // inside\n    /* a\n       block */\n    g();\n}\n";
    assert_eq!(source::code_lines(counted), 3);
}

/// No `.rs` file of either crate holds more than [`MAX_CODE_LINES`] lines of code, its tests included: a large
/// file is split into modules by what it does.
#[test]
fn no_source_file_is_over_1000_code_lines() {
    let mut over = Vec::new();
    for dir in ["src", "reference-server/src"] {
        let files = source::rust_files(&root().join(dir));
        assert!(files.len() > 10, "{dir}: the sources are found");
        for p in files {
            let n = source::code_lines(&std::fs::read_to_string(&p).unwrap());
            if n > MAX_CODE_LINES {
                over.push(format!("{}: {n} lines of code", p.strip_prefix(root()).unwrap().display()));
            }
        }
    }
    assert!(over.is_empty(), "over {MAX_CODE_LINES} lines of code; split these into modules:\n{}", over.join("\n"));
}

/// Every write to stdout in `src/` goes through `out!`/`outln!` (`src/console.rs`): a `print!` or `println!`
/// outside a test module would panic on a closed pipe or a full disk.
#[test]
fn no_print_macro_writes_to_stdout_outside_tests() {
    let re = regex::Regex::new(r"(^|[^e\w])print(ln)?!\(").unwrap();
    let mut found = Vec::new();
    for p in source::rust_files(&root().join("src")) {
        let text = std::fs::read_to_string(&p).unwrap();
        for (n, line) in source::without_test_modules(&text).lines().enumerate() {
            if re.is_match(line) && !line.trim_start().starts_with("//") {
                found.push(format!("{}:{}: {}", p.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "use crate::outln!/crate::out! instead:\n{}", found.join("\n"));
}
