//! The complex-filter full scan alone (the `complex_scan` case of the `directory` bench, without criterion and
//! the other cases, so it takes seconds): `(name.familyName sw "Sm" or emails[type eq "work" and value co
//! "@corp"]) and active eq true` over N Okta-shaped users seeded through [`Directory::create`], a 100-item
//! page with every match counted. No index answers it: every user is read from the users' column of the
//! members filters read most (`name`, `emails`, `active`; module `store::hot`), each member's bytes screened
//! for the filter's needles before its tokens are walked, and the page's 100 are rendered.
//!
//! `SCIM_BENCH_SIZES=100000 cargo bench -p scim-reference-server --bench complex_scan` (default sizes 1k, 100k);
//! it prints the time of the first scan (which switches the column on, building it from every user), then the
//! median, fastest and slowest of the 31 scans after it per size (a shared VM drifts between runs, so the
//! median of many is the figure), and the CPU time of a scan, averaged over the 31 (the thread's time on a
//! processor, `/proc/thread-self/schedstat`, which waiting for a processor on a loaded machine does not
//! inflate; the kernel may count it in ticks, hence the average). As a test (`cargo test --benches`) 1k users
//! are scanned once.

#[allow(dead_code)]
mod common;

use std::time::{Duration, Instant};

use scim_reference_server::directory::{Directory, DirectoryConfig, ListQuery};
use scim_reference_server::schema::ResourceKind;

use common::{bench_mode, seed, sizes_for};

const COMPLEX_FILTER: &str =
    r#"(name.familyName sw "Sm" or emails[type eq "work" and value co "@corp"]) and active eq true"#;

fn main() {
    let rounds = if bench_mode() { 31 } else { 1 };
    println!("| users | matches | first scan (builds the column) | median | fastest | slowest | CPU per scan (mean) |");
    println!("|---|---|---|---|---|---|---|");
    for n in sizes_for(&[1_000, 100_000]) {
        let directory = Directory::new(DirectoryConfig::default());
        seed(&directory, n);
        let scan = ListQuery { filter: Some(COMPLEX_FILTER.into()), count: Some(100), ..ListQuery::default() };
        // the first unindexed scan switches on the users' column (`store::hot`); timed on its own
        let started = Instant::now();
        directory.list(&[ResourceKind::User], &scan).expect("scan succeeds");
        let first = started.elapsed();
        let mut times: Vec<Duration> = Vec::with_capacity(rounds);
        let mut matches = 0;
        let on_cpu = thread_cpu();
        for _ in 0..rounds {
            let started = Instant::now();
            let page = directory.list(&[ResourceKind::User], &scan).expect("scan succeeds");
            times.push(started.elapsed());
            assert_eq!(page.resources.len(), 100.min(page.total_results));
            matches = page.total_results;
        }
        assert!(matches > n / 10, "{matches} of {n} match");
        let cpu = thread_cpu().zip(on_cpu).map(|(after, before)| after.saturating_sub(before) / rounds as u32);
        let cpu = cpu.map_or("unknown".to_string(), |d| format!("{d:.2?}"));
        times.sort();
        println!(
            "| {n} | {matches} | {first:.2?} | {:.2?} | {:.2?} | {:.2?} | {cpu} |",
            times[rounds / 2],
            times[0],
            times[rounds - 1]
        );
    }
}

/// This thread's time on a processor so far (the first field of `/proc/thread-self/schedstat`, in
/// nanoseconds; Linux only, `None` elsewhere).
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok().map(Duration::from_nanos)
}
