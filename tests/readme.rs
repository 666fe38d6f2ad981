//! The README's figures about the scenario library are checked here, so they cannot go stale: the number of
//! scenarios per IdP in its library table, and the number of distinct faults the scenarios are proven against.

use std::collections::{BTreeMap, BTreeSet};

use scimcheck::idp::Idp;

const README: &str = include_str!("../README.md");
const LIBRARY_README: &str = include_str!("../scenarios/README.md");

/// `| [`okta`](scenarios/okta/README.md) | 15 | …` → ("okta", 15).
fn table_counts() -> BTreeMap<String, usize> {
    idp_counts(README)
}

/// The IdP rows of a library table in `text`: `| [`okta`](…) | 15 | …` → ("okta", 15).
fn idp_counts(text: &str) -> BTreeMap<String, usize> {
    text.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("| [`")?;
            let (idp, rest) = rest.split_once('`')?;
            let count = rest.split('|').nth(1)?.trim().parse().ok()?;
            Some((idp.to_string(), count))
        })
        .collect()
}

#[test]
fn the_library_table_counts_every_scenario_of_each_idp() {
    let library = scimcheck::library::built_in().expect("the built-in library loads");
    let mut actual: BTreeMap<String, usize> = BTreeMap::new();
    for s in &library {
        *actual.entry(s.idp.folder().to_string()).or_default() += 1;
    }
    let stated = table_counts();
    assert_eq!(stated.len(), Idp::ALL.len(), "the README's library table has one row per IdP: {stated:?}");
    assert_eq!(stated, actual, "README.md's library table (left) against the built-in library (right)");
}

/// `scenarios/README.md`'s library table states the scenarios of each IdP and, as `` `group` (N) ``, of groups;
/// both are checked against the built-in library, and a group the table names without a count must exist.
#[test]
fn the_scenario_readmes_library_table_counts_each_idp_and_group() {
    let library = scimcheck::library::built_in().expect("the built-in library loads");
    let mut per_idp: BTreeMap<String, usize> = BTreeMap::new();
    let mut per_group: BTreeMap<(String, String), usize> = BTreeMap::new();
    for s in &library {
        let mut parts = s.id.split("::");
        let (idp, group) = (parts.next().unwrap().to_string(), parts.next().unwrap().to_string());
        *per_idp.entry(idp.clone()).or_default() += 1;
        *per_group.entry((idp, group)).or_default() += 1;
    }
    let start = LIBRARY_README.find("## The library").expect("scenarios/README.md has its library section");
    let section = &LIBRARY_README[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    assert_eq!(idp_counts(section), per_idp, "scenarios/README.md's library table (left) against the library");
    let group_count = regex::Regex::new(r"`([a-z0-9_]+)` \((\d+)").unwrap();
    let mut idp = String::new();
    let mut checked = 0;
    for line in section.lines().filter(|l| l.starts_with('|')) {
        if let Some((name, _)) = line.strip_prefix("| [`").and_then(|r| r.split_once('`')) {
            idp = name.to_string();
        }
        let groups = line.split('|').nth(3).unwrap_or("");
        for c in group_count.captures_iter(groups) {
            let stated: usize = c[2].parse().unwrap();
            let actual = per_group.get(&(idp.clone(), c[1].to_string())).copied().unwrap_or(0);
            assert_eq!(stated, actual, "scenarios/README.md: `{}` in {idp}", &c[1]);
            checked += 1;
        }
    }
    assert!(checked >= 20, "the table's group counts are read ({checked})");
    assert!(
        !regex::Regex::new(r"\d+ scenarios in").unwrap().is_match(LIBRARY_README),
        "no total that goes stale: the table's counts are checked instead"
    );
}

#[test]
fn the_fault_count_is_the_number_of_distinct_faults_the_libraries_list() {
    let mut faults = BTreeSet::new();
    for idp in ["okta", "azure", "rfc"] {
        let path = format!("{}/scenarios/{idp}/faults.json", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).expect("faults.json");
        let map: BTreeMap<String, Vec<String>> = serde_json::from_str(&text).expect("faults.json is a map");
        faults.extend(map.into_values().flatten());
    }
    let stated = README
        .split("faults.json` (")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse::<usize>().ok())
        .expect("README.md states the number of faults as \"faults.json` (N faults)\"");
    assert_eq!(stated, faults.len(), "README.md's fault count against the distinct faults in scenarios/*/faults.json");
}

/// The example run against the reference server shows the library's real size, in its first and last lines and
/// in the per-IdP summary rows it sums to.
#[test]
fn the_example_run_shows_the_librarys_size() {
    let total = scimcheck::library::built_in().expect("the built-in library loads").len();
    assert!(
        README.contains(&format!("scimcheck: {total} scenario(s) against the bundled reference server")),
        "README.md's example run names another number of scenarios than the library's {total}"
    );
    assert!(README.contains(&format!("\n{total} passed, 0 failed in ")), "README.md's example run's last line");
    let start = README.find("summary by IdP, kind and level:").expect("the example's summary");
    let summed: usize = README[start..]
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().nth(3)?.parse::<usize>().ok())
        .sum();
    assert_eq!(summed, total, "README.md's example summary rows against the library");
}
