//! Rules over the Rust sources: no write to stdout that bypasses [`scimcheck::out!`]/[`scimcheck::outln!`]
//! outside test modules.

#[path = "support/source.rs"]
mod source;

use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_cut_is_at_the_test_module_not_at_a_test_only_item() {
    let text = "use a::b;\n#[cfg(test)]\npub(crate) fn status_only() {}\nuse c::d;\n\n#[cfg(test)]\nmod tests;\n\
                fn after() {}\n#[cfg(test)]\n#[allow(unused)]\nmod tests {\n    use e::f;\n}\n";
    let code = source::before_test_module(text);
    assert!(code.contains("use c::d;") && code.contains("fn after()"), "{code}");
    assert!(!code.contains("use e::f;"), "{code}");
    assert_eq!(source::before_test_module("fn f() {}\n"), "fn f() {}\n");
}

/// Every write to stdout in `src/` goes through `out!`/`outln!` (`src/console.rs`): a `print!` or `println!`
/// outside a test module would panic on a closed pipe or a full disk.
#[test]
fn no_print_macro_writes_to_stdout_outside_tests() {
    let re = regex::Regex::new(r"(^|[^e\w])print(ln)?!\(").unwrap();
    let mut found = Vec::new();
    for p in source::rust_files(&root().join("src")) {
        let text = std::fs::read_to_string(&p).unwrap();
        for (n, line) in source::before_test_module(&text).lines().enumerate() {
            if re.is_match(line) && !line.trim_start().starts_with("//") {
                found.push(format!("{}:{}: {}", p.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "use crate::outln!/crate::out! instead:\n{}", found.join("\n"));
}
