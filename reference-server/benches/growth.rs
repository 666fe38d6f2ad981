//! Growth of the work a single request can ask for: a user PATCH of N `add emails` operations, and the same
//! with N value-filtered operations (`emails[value eq "…"].type`), through [`Directory::patch`] (the real code
//! path minus HTTP); then a group PATCH removing N of its 2N members, as Entra sends it (one `remove` with a
//! value list) and as Okta does (N `members[value eq "…"]` paths), which cost N × 2N when each removal shifted
//! the members after it (80,000 members removed: 17.6 s of server CPU). Linear work shows as a time ratio of about 4 between N and 4N; the N² application this
//! replaced gave about 16 (1k → 0.18 s, 8k → 16.7 s of server CPU, over HTTP). Absolute times on a shared VM
//! drift, so each size is the median of several runs and the bench prints the ratios.
//!
//! `cargo bench -p scim-reference-server --bench growth`; `SCIM_BENCH_SIZES=2000,8000` changes the sizes; as a
//! test (`cargo test --benches`) one small size runs once, checking that the requests succeed.

#[allow(dead_code)]
mod common;

use std::time::{Duration, Instant};

use scim_reference_server::directory::{Directory, DirectoryConfig};
use scim_reference_server::schema::ResourceKind;
use serde_json::{json, Value};

use common::{bench_mode, sizes_for, user_body};

const SIZES: [usize; 4] = [1_000, 2_000, 4_000, 8_000];

fn patch_request(ops: Vec<Value>) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
}

fn add_ops(n: usize) -> Value {
    patch_request(
        (0..n)
            .map(|i| json!({"op": "add", "path": "emails", "value": [{"value": format!("e{i}@example.com"), "type": "other"}]}))
            .collect(),
    )
}

/// N operations that each address one of the N emails `add_ops(n)` added, through a value filter.
fn filtered_ops(n: usize) -> Value {
    patch_request(
        (0..n)
            .map(|i| json!({"op": "replace", "path": format!("emails[value eq \"e{i}@example.com\"].type"), "value": "work"}))
            .collect(),
    )
}

/// The median time of `runs` fresh PATCHes of `request` on a user (after `setup`, when given), and the answer.
fn median(runs: usize, setup: Option<&Value>, request: &Value) -> (Duration, Result<(), String>) {
    let mut times = Vec::with_capacity(runs);
    let mut outcome = Ok(());
    for _ in 0..runs {
        let directory = Directory::new(DirectoryConfig::default());
        let user = directory.create(ResourceKind::User, user_body(0)).expect("seed user is valid");
        let id = user["id"].as_str().expect("created user has an id").to_string();
        if let Some(s) = setup {
            directory.patch(ResourceKind::User, &id, s, None).expect("setup patch succeeds");
        }
        let started = Instant::now();
        let r = directory.patch(ResourceKind::User, &id, request, None);
        times.push(started.elapsed());
        outcome = r.map(|_| ()).map_err(|e| e.to_string());
    }
    times.sort();
    (times[times.len() / 2], outcome)
}

/// The median time of `runs` group PATCHes removing the first half of a group of `2n` members, by a value list
/// (`by_paths` false) or by `members[value eq "…"]` paths; checks that the other half stays, in order.
fn removal_median(runs: usize, n: usize, shape: Removal) -> (Duration, Result<(), String>) {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let directory = Directory::new(DirectoryConfig::default());
        let ids: Vec<String> = (0..2 * n)
            .map(|i| directory.create(ResourceKind::User, user_body(i)).expect("seed user is valid")["id"].to_string())
            .map(|quoted| quoted.trim_matches('"').to_string())
            .collect();
        let members: Vec<Value> = ids.iter().map(|id| json!({"value": id})).collect();
        let group = directory
            .create(ResourceKind::Group, json!({"displayName": "big", "members": members}))
            .expect("seed group is valid");
        let gid = group["id"].as_str().expect("created group has an id").to_string();
        let by_path = |id: &String| json!({"op": "remove", "path": format!("members[value eq \"{id}\"]")});
        let ops: Vec<Value> = match shape {
            Removal::ValueList => vec![json!({"op": "remove", "path": "members",
                "value": ids[..n].iter().map(|id| json!({"value": id})).collect::<Vec<_>>()})],
            Removal::Paths => ids[..n].iter().map(by_path).collect(),
            Removal::RenameAndPaths => {
                let rename = json!({"op": "replace", "value": {"id": gid, "displayName": "big"}});
                std::iter::once(rename).chain(ids[..n].iter().map(by_path)).collect()
            }
        };
        let started = Instant::now();
        let r = directory.patch(ResourceKind::Group, &gid, &patch_request(ops), None);
        times.push(started.elapsed());
        if let Err(e) = r {
            return (times[0], Err(e.to_string()));
        }
        let left = directory.get(ResourceKind::Group, &gid).expect("group still there");
        let left: Vec<&str> =
            left["members"].as_array().map_or(Vec::new(), |ms| ms.iter().filter_map(|m| m["value"].as_str()).collect());
        assert_eq!(left, ids[n..].iter().map(String::as_str).collect::<Vec<_>>(), "the other half stays, in order");
    }
    times.sort();
    (times[times.len() / 2], Ok(()))
}

/// How a group PATCH names the members it removes.
#[derive(Clone, Copy)]
enum Removal {
    /// One `remove` of `members` with a value list (Entra).
    ValueList,
    /// One `remove` per member, `members[value eq "…"]`.
    Paths,
    /// Okta's membership update: a path-less `replace` "renaming" the group to its own name first, then the
    /// paths. The unchanged rename is set aside, so the rest takes the membership path; it used to send the
    /// whole request through the general PATCH path, whose value-filtered operations are bounded by the visit
    /// budget (`patch/work.rs`): 1,000 removals from a 2,000-member group were refused with 413.
    RenameAndPaths,
}

fn main() {
    user_patches();
    group_removals();
}

/// N members removed from a group of 2N in one request: linear shows as a ratio of about 2 between N and 2N.
fn group_removals() {
    let sizes = sizes_for(&[5_000, 10_000, 20_000, 40_000]);
    let runs = if bench_mode() { 3 } else { 1 };
    println!();
    println!(
        "| N members removed (of 2N) | value list | ratio to N/2 | N `members[value eq]` paths | ratio to N/2 | rename, then the N paths |"
    );
    println!("|---|---|---|---|---|---|");
    let mut previous: Option<(usize, Duration, Duration)> = None;
    for &n in &sizes {
        let linear = |shape| match removal_median(runs, n, shape) {
            (t, Ok(())) => t,
            (_, Err(e)) => panic!("{n} removals: {e}"),
        };
        let (list, paths) = (linear(Removal::ValueList), linear(Removal::Paths));
        let okta = match removal_median(1, n, Removal::RenameAndPaths) {
            (t, Ok(())) => format!("{t:.2?}"),
            (t, Err(e)) if e.starts_with("413") => format!("413 after {t:.2?}"),
            (_, Err(e)) => panic!("{n} removals after a rename: {e}"),
        };
        let ratio = |now: Duration, before: Duration, before_n: usize| {
            format!("{:.2} (×{} members)", now.as_secs_f64() / before.as_secs_f64(), n / before_n)
        };
        let (list_ratio, paths_ratio) = match previous {
            Some((pn, pl, pp)) => (ratio(list, pl, pn), ratio(paths, pp, pn)),
            None => (String::new(), String::new()),
        };
        println!("| {n} | {list:.2?} | {list_ratio} | {paths:.2?} | {paths_ratio} | {okta} |");
        previous = Some((n, list, paths));
    }
}

fn user_patches() {
    let sizes = sizes_for(&SIZES);
    let runs = if bench_mode() { 5 } else { 1 };
    println!("| N operations | add emails | ratio to N/2 | value-filtered replace (on N emails) | ratio to N/2 |");
    println!("|---|---|---|---|---|");
    let mut previous: Option<(usize, Duration, Duration)> = None;
    for &n in &sizes {
        let (add, r) = median(runs, None, &add_ops(n));
        assert!(r.is_ok(), "{n} adds: {r:?}");
        let setup = add_ops(n);
        let (filtered, r) = median(runs, Some(&setup), &filtered_ops(n));
        let filtered_cell = match &r {
            Ok(()) => format!("{filtered:.2?}"),
            Err(e) if e.starts_with("413") => format!("413 after {filtered:.2?}"),
            Err(e) => panic!("{n} filtered operations: {e}"),
        };
        let ratio = |now: Duration, before: Duration, before_n: usize| {
            format!("{:.2} (×{} ops)", now.as_secs_f64() / before.as_secs_f64(), n / before_n)
        };
        let (add_ratio, filtered_ratio) = match previous {
            Some((pn, pa, pf)) => (ratio(add, pa, pn), ratio(filtered, pf, pn)),
            None => (String::new(), String::new()),
        };
        println!("| {n} | {add:.2?} | {add_ratio} | {filtered_cell} | {filtered_ratio} |");
        previous = Some((n, add, filtered));
    }
}
