//! No import cycle between the modules of `src/`: a cycle between two top-level modules (`crate::a` uses
//! `crate::b` and `crate::b` uses `crate::a`, directly or through others) or between sibling submodules
//! (`a::x` and `a::y`) makes each half impossible to understand, test or move alone.
//!
//! The graph comes from each module file's `use crate::…`/`use super::…` declarations and every other
//! `crate::…`/`super::…` path in its code (a path in an expression is as much a dependency as a `use`); comments
//! and test modules (`#[cfg(test)] mod … {`) are left out; code after a test-only item is read. Both crates are checked: `src/` and
//! `reference-server/src/`. [`KNOWN`] lists the cycles still to break, each named by its members; the test fails
//! on any other cycle, and on a listed one that is gone (so the list only shrinks).

#[path = "support/source.rs"]
mod source;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Cycles not broken yet, as sorted member lists joined by `, `.
const KNOWN: &[&str] = &[];

/// A module file: its module path (`runner`, `record::convert`) and its code before its test module
/// ([`source::without_test_modules`]).
fn module_files(src: &Path) -> Vec<(Vec<String>, String)> {
    fn visit(dir: &Path, src: &Path, out: &mut Vec<(Vec<String>, String)>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                visit(&p, src, out);
                continue;
            }
            if p.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = p.strip_prefix(src).unwrap().with_extension("");
            let mut path: Vec<String> = rel.iter().map(|c| c.to_string_lossy().into_owned()).collect();
            if path.last().is_some_and(|l| l == "mod") {
                path.pop();
            }
            if path == ["lib"] || path == ["main"] {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            out.push((path, without_comments(&source::without_test_modules(&text))));
        }
    }
    let mut out = Vec::new();
    visit(src, src, &mut out);
    out
}

/// `code` without its line comments (`//`, `///`, `//!`), which may name modules in doc links.
fn without_comments(code: &str) -> String {
    code.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

/// Every `crate::…` and `super::…` path written in `code` outside braces (`crate::runner::StepResult` in an
/// expression or a signature); grouped `use` trees are read by [`use_trees`].
fn inline_paths(code: &str) -> Vec<String> {
    let re = regex::Regex::new(r"\b(?:crate|super)(?:::[A-Za-z_][A-Za-z0-9_]*)+").unwrap();
    re.find_iter(code).map(|m| m.as_str().to_string()).collect()
}

/// The `use` declarations of `code`, each as one string without whitespace (`crate::{a::b,c}`).
fn use_trees(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("use ") {
        let before = &rest[..i];
        let line_start = before.rfind('\n').map_or(0, |n| n + 1);
        let prefix = before[line_start..].trim();
        let at_statement = prefix.is_empty() || prefix == "pub" || prefix.starts_with("pub(");
        rest = &rest[i + 4..];
        if !at_statement {
            continue;
        }
        let end = rest.find(';').unwrap_or(rest.len());
        out.push(rest[..end].chars().filter(|c| !c.is_whitespace()).collect());
        rest = &rest[end..];
    }
    out
}

/// The paths a use tree names, expanded from its braces (`crate::{a::b,c}` → `crate::a::b`, `crate::c`).
fn expand(tree: &str) -> Vec<String> {
    let Some(open) = tree.find('{') else { return vec![tree.to_string()] };
    let close = tree.rfind('}').unwrap_or(tree.len());
    let prefix = &tree[..open];
    let inner = &tree[open + 1..close];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts.into_iter().filter(|p| !p.is_empty()).flat_map(|p| expand(&format!("{prefix}{p}"))).collect()
}

/// The module graph: an edge from each module to each other top-level module its files use, and from each
/// submodule to each sibling it uses.
fn graph(files: &[(Vec<String>, String)]) -> BTreeMap<String, BTreeSet<String>> {
    let modules: BTreeSet<Vec<String>> = files.iter().map(|(p, _)| p.clone()).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, code) in files {
        let used_paths: Vec<String> =
            use_trees(code).iter().flat_map(|t| expand(t)).chain(inline_paths(code)).collect();
        {
            for used in used_paths {
                let segments: Vec<&str> = used.split("::").collect();
                // `super::` once per level up: in a submodule file `super::x` names a sibling of it (or the
                // parent's own items), `super::super::x` one level further; in a top-level module's file
                // `super::x` names the crate's module `x`
                let ups = segments.iter().take_while(|s| **s == "super").count();
                let target: Vec<String> = match segments.first() {
                    Some(&"crate") => segments[1..].iter().map(|s| s.to_string()).collect(),
                    Some(&"super") if path.len() >= ups => {
                        let mut t: Vec<String> = path[..path.len() - ups].to_vec();
                        t.extend(segments[ups..].iter().map(|s| s.to_string()));
                        t
                    }
                    _ => continue,
                };
                let Some(top) = target.first() else { continue };
                if *top != path[0] {
                    if modules.iter().any(|m| m[0] == *top) {
                        edges.entry(path[0].clone()).or_default().insert(top.clone());
                    }
                    continue;
                }
                // within the same top-level module: an edge between siblings (same parent, both modules)
                let parent = &path[..path.len() - 1];
                if target.len() > parent.len() && target[..parent.len()] == *parent && !parent.is_empty() {
                    let sibling: Vec<String> = target[..parent.len() + 1].to_vec();
                    if sibling != *path && modules.contains(&sibling) {
                        edges.entry(path.join("::")).or_default().insert(sibling.join("::"));
                    }
                }
            }
        }
    }
    edges
}

/// Strongly connected components of more than one module (Tarjan), each sorted.
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    impl<'a> T<'a> {
        fn visit(&mut self, v: &'a str) {
            let i = self.index.len();
            self.index.insert(v, i);
            self.low.insert(v, i);
            self.stack.push(v);
            self.on.insert(v);
            let edges: &'a BTreeMap<String, BTreeSet<String>> = self.edges;
            for w in edges.get(v).into_iter().flatten() {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let l = self.low[v].min(self.low[w]);
                    self.low.insert(v, l);
                } else if self.on.contains(w) {
                    let l = self.low[v].min(self.index[w]);
                    self.low.insert(v, l);
                }
            }
            if self.low[v] == self.index[v] {
                let mut comp = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on.remove(w);
                    comp.push(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if comp.len() > 1 {
                    comp.sort();
                    self.out.push(comp);
                }
            }
        }
    }
    let mut t = T {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    let nodes: BTreeSet<&str> =
        edges.iter().flat_map(|(k, vs)| std::iter::once(k.as_str()).chain(vs.iter().map(String::as_str))).collect();
    for n in nodes {
        if !t.index.contains_key(n) {
            t.visit(n);
        }
    }
    t.out.sort();
    t.out
}

#[test]
fn the_parser_sees_grouped_nested_and_super_imports() {
    let files = vec![
        (vec!["a".to_string()], "use crate::{b::{x, y}, c};\nfn f() {}".to_string()),
        (vec!["b".to_string()], "pub use crate::a::Thing;\n".to_string()),
        (vec!["c".to_string()], without_comments("/// [`crate::a`] in a doc link is no dependency\n")),
        (vec!["e".to_string()], "fn f() { crate::c::g(); }\n".to_string()),
        (vec!["c".to_string(), "z".to_string()], "fn g() -> crate::e::T {}\n".to_string()),
        (vec!["d".to_string(), "x".to_string()], "use super::y::Z;\n".to_string()),
        (vec!["d".to_string(), "y".to_string()], "use crate::d::x;\n#[cfg(test)]\nmod tests {\n    use crate::a;\n}".to_string()),
        // a `use` after a test-only helper is real code; the test module (however attributed) is not
        (
            vec!["f".to_string()],
            "#[cfg(test)]\npub(crate) fn status_only() {}\nuse crate::h;\n#[cfg(test)]\n#[allow(unused)]\npub(crate) mod tests {\n    use crate::g;\n}\n".to_string(),
        ),
        (vec!["g".to_string()], "use crate::f;\n".to_string()),
        (vec!["h".to_string()], "use crate::f;\n".to_string()),
        // `super::` from a top-level module's file, and `super::super::` from two levels down
        (vec!["i".to_string()], "use super::j::T;\n".to_string()),
        (vec!["j".to_string(), "k".to_string(), "l".to_string()], "use super::super::super::i;\n".to_string()),
        // a test module in the middle of a file hides only itself
        (vec!["m".to_string()], "#[cfg(test)]\nmod tests {\n    let s = \"}\";\n}\nuse crate::n;\n".to_string()),
        (vec!["n".to_string()], "use crate::m;\n".to_string()),
    ];
    let files: Vec<(Vec<String>, String)> =
        files.into_iter().map(|(p, c)| (p, source::without_test_modules(&c))).collect();
    let found = cycles(&graph(&files));
    let want = [vec!["a", "b"], vec!["c", "e"], vec!["d::x", "d::y"], vec!["f", "h"], vec!["i", "j"], vec!["m", "n"]];
    assert_eq!(found, want.map(|c| c.into_iter().map(String::from).collect::<Vec<_>>()));
}

#[test]
fn no_import_cycle_between_modules() {
    let mut found: Vec<String> = Vec::new();
    for (krate, root) in [("scimcheck", "src"), ("scim_reference_server", "reference-server/src")] {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(root);
        let g = graph(&module_files(&src));
        assert!(g.len() > 10, "{root}: the graph has edges");
        found.extend(cycles(&g).iter().map(|c| format!("{krate}: {}", c.join(", "))));
    }
    let new: Vec<&String> = found.iter().filter(|c| !KNOWN.contains(&c.as_str())).collect();
    let gone: Vec<&&str> = KNOWN.iter().filter(|k| !found.iter().any(|c| c == *k)).collect();
    assert!(new.is_empty(), "import cycles between modules of src/ (each line one cycle's members):\n{new:#?}");
    assert!(gone.is_empty(), "cycles listed as known that no longer exist: remove them from KNOWN: {gone:?}");
}
