//! The memory store against the SQLite store (`--data`), on the real code path minus HTTP ([`Directory`]).
//!
//! For each size N (`SCIM_BENCH_SIZES`, default 100,000; 1,000 as a test) two directories are seeded with
//! the same N Okta-shaped users through [`Directory::create`]: one over the in-memory store, one over a
//! SQLite data file in a temporary directory (WAL, `synchronous=NORMAL`, the server's default). Measured:
//!
//! - `userName eq` lookup: 21 rounds alternating 10,000 lookups on each directory (users picked at random,
//!   upper-cased), mean per lookup, median over the rounds and the median of the per-round ratios
//!   (target: SQLite within 2× of memory);
//! - create: 11 rounds alternating 500 new users on each, mean per create, medians as above (target within
//!   5×); then the same on a file with `--data-sync-full` (an fsync of the log at every commit), for
//!   reference;
//! - opening the data file again: loading the N users into a new directory (what a restart costs).
//!
//! Run: `cargo bench -p scim-reference-server --bench store` (`SCIM_BENCH_SIZES=1000,100000` for others).

#[allow(dead_code)]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use scim_reference_server::clock::SystemClock;
use scim_reference_server::directory::{Directory, DirectoryConfig, ListQuery};
use scim_reference_server::schema::ResourceKind;
use scim_reference_server::sqlite::{Db, Journal, SqliteStore, SyncMode};

use common::{bench_mode, mix, seed, size_label, user_body, user_name};

const USERS: [ResourceKind; 1] = [ResourceKind::User];

fn sizes() -> Vec<usize> {
    common::sizes_for(&[100_000])
}

/// Runs `rounds` rounds of `(memory µs, SQLite µs)`, the two stores alternating within each round so that the
/// machine's drift hits both alike; returns the medians of each and of the per-round ratios.
fn alternate(rounds: usize, mut round: impl FnMut() -> (f64, f64)) -> (f64, f64, f64) {
    let (mut mem_us, mut sql_us, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let (m, s) = round();
        mem_us.push(m);
        sql_us.push(s);
        ratios.push(s / m);
    }
    (median(&mem_us), median(&sql_us), median(&ratios))
}

fn report_ratio(label: &str, (memory, sqlite, ratio): (f64, f64, f64), target: f64) {
    let verdict = if ratio <= target { "met" } else { "NOT met" };
    println!("{label:<20} memory {memory:>8.2} µs   SQLite {sqlite:>8.2} µs   ratio {ratio:.2}× (target ≤ {target}×: {verdict})");
}

fn sqlite_directory(path: &std::path::Path, sync: SyncMode) -> Directory {
    let db = Db::open(path, sync).expect("the data file opens");
    let store = SqliteStore::load(Journal::new(db, "bench")).expect("the data file loads");
    Directory::with_store(DirectoryConfig::default(), Arc::new(SystemClock), None, Box::new(store))
        .expect("the stored users are readable")
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn micros(d: Duration, n: usize) -> f64 {
    d.as_secs_f64() * 1e6 / n as f64
}

fn lookups(directory: &Directory, queries: &[ListQuery]) -> Duration {
    let started = Instant::now();
    for q in queries {
        let page = directory.list(&USERS, q).expect("lookup");
        assert_eq!(page.total_results, 1, "{:?}", q.filter);
    }
    started.elapsed()
}

fn creates(directory: &Directory, from: usize, n: usize) -> Duration {
    let started = Instant::now();
    for i in from..from + n {
        directory.create(ResourceKind::User, user_body(i)).expect("create");
    }
    started.elapsed()
}

fn main() {
    for n in sizes() {
        run(n);
    }
}

fn run(n: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bench.db");
    let memory = Directory::new(DirectoryConfig::default());
    let sqlite = sqlite_directory(&path, SyncMode::Normal);
    let seeded_memory = seed(&memory, n);
    let seeded_sqlite = seed(&sqlite, n);
    println!("\nstore at {} users (seeding: memory {seeded_memory:?}, SQLite {seeded_sqlite:?})", size_label(n));

    let per_round = if bench_mode() { 10_000 } else { 500 };
    let queries: Vec<ListQuery> = (0..per_round as u64)
        .map(|k| {
            let i = (mix(k ^ 0x5107E) % n as u64) as usize;
            let filter = format!("userName eq \"{}\"", user_name(i).to_uppercase());
            ListQuery { filter: Some(filter), count: Some(100), ..ListQuery::default() }
        })
        .collect();
    let lookup_rounds = alternate(21, || {
        let m = micros(lookups(&memory, &queries), queries.len());
        (m, micros(lookups(&sqlite, &queries), queries.len()))
    });
    report_ratio("userName eq lookup", lookup_rounds, 2.0);

    let per_round = if bench_mode() { 500 } else { 50 };
    let mut next = n;
    let create_rounds = alternate(11, || {
        let m = micros(creates(&memory, next, per_round), per_round);
        let s = micros(creates(&sqlite, next, per_round), per_round);
        next += per_round;
        (m, s)
    });
    report_ratio("create", create_rounds, 5.0);
    drop(sqlite);

    let started = Instant::now();
    let reopened = sqlite_directory(&path, SyncMode::Full);
    let loaded = started.elapsed();
    assert_eq!(reopened.count(ResourceKind::User), memory.count(ResourceKind::User));
    let full: Vec<f64> = (0..5).map(|r| micros(creates(&reopened, next + r * 100, 100), 100)).collect();
    println!(
        "create with --data-sync-full (fsync per commit)  {:>8.2} µs   ({:.1}× memory)",
        median(&full),
        median(&full) / create_rounds.0
    );
    println!("opening the data file again: {} users loaded in {loaded:.2?}", memory.count(ResourceKind::User));
}
