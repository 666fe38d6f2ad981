//! How list queries scale with the size of a tenant.
//!
//! For each size N in {1k, 100k, 1M} a fresh [`Directory`] is seeded once with N Okta-shaped users (userName,
//! name, a primary work email, displayName, locale, externalId, active, and for a third of them an
//! enterprise department), then reused by three benchmarks on the real code path minus HTTP — filter
//! parsing, planning, the secondary index or the scan, and rendering each resource from its stored JSON:
//!
//! - `eq_lookup/N`: `userName eq "<an existing user, upper-cased>"`, count 100, rotating over 65,536 users
//!   picked at random across the directory, so at 1M the lookups miss the CPU caches as a real IdP's would.
//!   It goes through the case-insensitive userName index, so it should barely grow with N (target: at 1M
//!   within 1.5× of 1k);
//! - `page_100/N`: an unfiltered page of 100 starting in the middle of the directory;
//! - `complex_scan/N`: `(name.familyName sw "Sm" or emails[type eq "work" and value co "@corp"]) and active eq
//!   true`, which no index answers: every user's stored text is screened, those that may match are matched on
//!   the attributes the filter reads, and the page's matches are rendered (a 100-item page, all matches
//!   counted; `--bench complex_scan` runs this case alone).
//!
//! `http_eq_lookup/1000` repeats `eq_lookup` through a real server ([`spawn`]) and reqwest on 127.0.0.1, to
//! show what HTTP, authentication and serialisation add. Client and server share one thread (a
//! current-thread tokio runtime), so the figure is the CPU cost of the round trip rather than the latency
//! of waking an idle CPU, which on a small VM varies from run to run by a factor of 2 to 4.
//!
//! At the end a table gathers criterion's estimates from this run. The speed of a shared VM also drifts by up
//! to ±30 % over seconds, which separate measurements of 1k and 1M inherit, so the `eq` target is also
//! checked side by side: 21 rounds alternating 10,000 lookups on each directory, median ratio.
//! `SCIM_BENCH_SIZES=1000,100000` restricts the sizes; as a test (`cargo test --benches`)
//! only 1k runs. Resident memory per user is measured by the `memory` bench.

#[allow(dead_code)]
mod common;

use std::cell::Cell;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, SamplingMode};
use scim_reference_server::directory::{Directory, DirectoryConfig, ListQuery};
use scim_reference_server::schema::ResourceKind;
use scim_reference_server::{spawn, ServerConfig};

use common::{mix, seed, size_label, user_body, user_name};

const USERS: [ResourceKind; 1] = [ResourceKind::User];
const COMPLEX_FILTER: &str =
    r#"(name.familyName sw "Sm" or emails[type eq "work" and value co "@corp"]) and active eq true"#;
/// How many lookups the benchmarks rotate over (users picked at random; more than fit in the caches at 1M).
const TARGETS: u64 = 65_536;
const HTTP_USERS: usize = 1_000;
/// The sizes the `eq` target compares.
const SMALL: usize = 1_000;
const LARGE: usize = 1_000_000;

/// `userName eq` filters for existing users spread over `0..n`, in a different case than stored.
fn lookup_filters(n: usize) -> Vec<String> {
    (0..TARGETS)
        .map(|k| {
            let i = (mix(k ^ 0xE9) % n as u64) as usize;
            format!("userName eq \"{}\"", user_name(i).to_uppercase())
        })
        .collect()
}

/// Keeps slow benchmarks (over 30 ms a run) to criterion's minimum of 10 samples of one iteration each, plus
/// the warm-up run: about 11 runs in all. (Criterion then warns that it cannot complete 10 samples in the
/// measurement time; that is expected.)
fn fit(group: &mut BenchmarkGroup<'_, WallTime>, one_run: Duration) {
    if one_run > Duration::from_millis(30) {
        group
            .sampling_mode(SamplingMode::Flat)
            .sample_size(10)
            .warm_up_time(Duration::from_millis(1))
            .measurement_time(one_run.mul_f64(9.0));
    }
}

/// The `eq_lookup` queries for a directory of `n` users, checked to find exactly their user.
fn lookup_queries(directory: &Directory, n: usize) -> Vec<ListQuery> {
    let lookups: Vec<ListQuery> = lookup_filters(n)
        .into_iter()
        .map(|f| ListQuery { filter: Some(f), count: Some(100), ..ListQuery::default() })
        .collect();
    for q in &lookups {
        let page = directory.list(&USERS, q).expect("lookup succeeds");
        assert_eq!((page.total_results, page.resources.len()), (1, 1), "{:?} finds its user", q.filter);
    }
    lookups
}

/// Per-lookup times of the small and the large directory, and their ratio, each the median over rounds that
/// alternate a block of lookups on one with a block on the other. Both then run on the same machine: on a
/// shared VM the speed of a given benchmark drifts by up to ±30 % between runs, which criterion's separate
/// measurements of 1k and 1M inherit.
fn interleaved_eq(small: (&Directory, usize), large: (&Directory, usize)) -> (f64, f64, f64) {
    const ROUNDS: usize = 21;
    const BLOCK: usize = 10_000;
    let queries = [lookup_queries(small.0, small.1), lookup_queries(large.0, large.1)];
    let mut next = [0usize; 2];
    let mut block = |which: usize, directory: &Directory| {
        let qs = &queries[which];
        let started = Instant::now();
        for _ in 0..BLOCK {
            next[which] = (next[which] + 1) % qs.len();
            std::hint::black_box(directory.list(&USERS, &qs[next[which]]).expect("lookup succeeds"));
        }
        started.elapsed().as_nanos() as f64 / BLOCK as f64
    };
    let (mut smalls, mut larges, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let s = block(0, small.0);
        let l = block(1, large.0);
        smalls.push(s);
        larges.push(l);
        ratios.push(l / s);
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (median(smalls), median(larges), median(ratios))
}

fn bench_size(c: &mut Criterion, directory: &Directory, n: usize) {
    let next = Cell::new(0usize);
    let lookups = lookup_queries(directory, n);
    c.benchmark_group("eq_lookup").bench_function(BenchmarkId::from_parameter(n), |b| {
        b.iter(|| {
            let k = next.get();
            next.set((k + 1) % lookups.len());
            directory.list(&USERS, &lookups[k]).expect("lookup succeeds")
        })
    });

    let page = ListQuery { start_index: Some(n as i64 / 2 + 1), count: Some(100), ..ListQuery::default() };
    let started = Instant::now();
    let first = directory.list(&USERS, &page).expect("page succeeds");
    let one_run = started.elapsed();
    assert_eq!((first.total_results, first.resources.len()), (n, 100.min(n)));
    let mut group = c.benchmark_group("page_100");
    fit(&mut group, one_run);
    group.bench_function(BenchmarkId::from_parameter(n), |b| {
        b.iter(|| directory.list(&USERS, &page).expect("page succeeds"))
    });
    group.finish();

    let scan = ListQuery { filter: Some(COMPLEX_FILTER.into()), count: Some(100), ..ListQuery::default() };
    let started = Instant::now();
    let first = directory.list(&USERS, &scan).expect("scan succeeds");
    let one_run = started.elapsed();
    assert!(first.total_results > n / 10 && first.resources.len() == 100.min(first.total_results));
    println!("complex_scan/{n}: {} of {n} users match", first.total_results);
    let mut group = c.benchmark_group("complex_scan");
    fit(&mut group, one_run);
    group.bench_function(BenchmarkId::from_parameter(n), |b| {
        b.iter(|| directory.list(&USERS, &scan).expect("scan succeeds"))
    });
    group.finish();
}

fn bench_http(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    let client = reqwest::Client::new();
    let server = runtime.block_on(async {
        let server = spawn(ServerConfig::default()).await.expect("server starts");
        for i in 0..HTTP_USERS {
            let res = client
                .post(format!("{}/Users", server.base_url))
                .bearer_auth(&server.token)
                .header("content-type", "application/scim+json")
                .body(user_body(i).to_string())
                .send()
                .await
                .expect("POST /Users");
            assert_eq!(res.status().as_u16(), 201, "seeding user {i}");
        }
        server
    });
    let urls: Vec<String> = lookup_filters(HTTP_USERS)
        .iter()
        .map(|f| {
            let query = form_urlencoded::Serializer::new(String::new())
                .append_pair("filter", f)
                .append_pair("count", "100")
                .finish();
            format!("{}/Users?{query}", server.base_url)
        })
        .collect();
    let get = |url: String| {
        let request = client.get(url).bearer_auth(&server.token);
        async move {
            let res = request.send().await.expect("GET /Users");
            assert_eq!(res.status().as_u16(), 200);
            res.bytes().await.expect("response body")
        }
    };
    let body = runtime.block_on(get(urls[0].clone()));
    let page: serde_json::Value = serde_json::from_slice(&body).expect("JSON list response");
    assert_eq!(page["totalResults"], 1, "{page}");

    let next = Cell::new(0usize);
    c.benchmark_group("http_eq_lookup").bench_function(BenchmarkId::from_parameter(HTTP_USERS), |b| {
        b.to_async(&runtime).iter(|| {
            let k = next.get();
            next.set((k + 1) % urls.len());
            get(urls[k].clone())
        })
    });
    runtime.block_on(server.shutdown());
}

/// Where criterion writes its results, resolved as criterion does when run by `cargo bench`.
fn criterion_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return home.into();
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    // target/<profile>/deps/<this binary>
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(|target| target.join("criterion")))
        .unwrap_or_else(|| PathBuf::from("target/criterion"))
}

/// Criterion's typical time per iteration (the slope when sampled linearly, else the mean) in nanoseconds,
/// if this run measured the benchmark.
fn estimate(group: &str, n: usize, since: SystemTime) -> Option<f64> {
    let path = criterion_home().join(group).join(n.to_string()).join("new").join("estimates.json");
    let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok()?;
    if modified < since {
        return None;
    }
    let estimates: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).ok()?).ok()?;
    let typical = if estimates["slope"].is_object() { &estimates["slope"] } else { &estimates["mean"] };
    typical["point_estimate"].as_f64()
}

fn show(ns: Option<f64>) -> String {
    match ns {
        None => "-".into(),
        Some(ns) if ns < 1e3 => format!("{ns:.0} ns"),
        Some(ns) if ns < 1e6 => format!("{:.2} µs", ns / 1e3),
        Some(ns) if ns < 1e9 => format!("{:.2} ms", ns / 1e6),
        Some(ns) => format!("{:.2} s", ns / 1e9),
    }
}

fn summary(sizes: &[usize], seeding: &[Duration], interleaved: Option<(f64, f64, f64)>, since: SystemTime) {
    println!("\n== Summary (criterion's typical time per operation, this run)");
    print!("{:<18}", "benchmark");
    for n in sizes {
        print!("{:>14}", size_label(*n));
    }
    println!();
    for group in ["eq_lookup", "page_100", "complex_scan"] {
        print!("{group:<18}");
        for n in sizes {
            print!("{:>14}", show(estimate(group, *n, since)));
        }
        println!();
    }
    print!("{:<18}", "http_eq_lookup");
    for n in sizes {
        let ns = if *n == HTTP_USERS { estimate("http_eq_lookup", *n, since) } else { None };
        print!("{:>14}", show(ns));
    }
    println!();
    print!("{:<18}", "seeding (create)");
    for d in seeding {
        print!("{:>14}", show(Some(d.as_nanos() as f64)));
    }
    println!();
    let small = estimate("eq_lookup", SMALL, since);
    let large = estimate("eq_lookup", LARGE, since);
    if let (Some(small), Some(large)) = (small, large) {
        let ratio = large / small;
        println!("eq_lookup 1M / 1k, criterion's estimates: {ratio:.2} (target <= 1.5: {})", verdict(ratio));
    }
    if let Some((small, large, ratio)) = interleaved {
        println!(
            "eq_lookup 1M / 1k, interleaved (median of 21 rounds): {} / {} = {ratio:.2} (target <= 1.5: {})",
            show(Some(large)),
            show(Some(small)),
            verdict(ratio)
        );
    }
}

fn verdict(ratio: f64) -> &'static str {
    if ratio <= 1.5 {
        "met"
    } else {
        "NOT met"
    }
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let since = SystemTime::now();
    let sizes = common::sizes();
    // Measured first, in a still small process, so that the large directories cannot affect it.
    bench_http(&mut c);
    let mut seeding = Vec::new();
    let mut small = None;
    let mut interleaved = None;
    for &n in &sizes {
        let directory = Directory::new(DirectoryConfig::default());
        let took = seed(&directory, n);
        println!(
            "seeded {n} users in {:.1} s ({:.1} µs per create)",
            took.as_secs_f64(),
            took.as_secs_f64() * 1e6 / n as f64
        );
        seeding.push(took);
        bench_size(&mut c, &directory, n);
        match (n, &small) {
            // The small directory is kept (a few MB) to compare with the large one side by side.
            (SMALL, _) => small = Some(directory),
            (LARGE, Some(s)) if common::bench_mode() => interleaved = Some(interleaved_eq((s, SMALL), (&directory, n))),
            _ => {}
        }
    }
    c.final_summary();
    if common::bench_mode() {
        summary(&sizes, &seeding, interleaved, since);
    }
}
