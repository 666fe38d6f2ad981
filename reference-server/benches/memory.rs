//! Resident memory per user, which criterion cannot measure.
//!
//! For each size N in {1k, 100k, 1M} a fresh child process (this binary again, so memory freed by a previous
//! size cannot be reused and hide growth) creates an empty [`Directory`], reads its resident set size
//! (`VmRSS` in `/proc/self/status`), seeds N Okta-shaped users through [`Directory::create`] — the store keeps
//! each one as compact JSON text plus its index entries, all written, so all resident — and reads it again.
//! The table reports the difference per user, and, as a cross-check, the live heap bytes per user counted by
//! a global allocator wrapper (RSS minus heap is allocator overhead). Then one list whose filter no index
//! answers switches on the users' column of the members filters read most (`store::hot`), and the same two
//! figures are read again: the target (under 2 KB at 1M) is judged on that larger one.
//! `SCIM_BENCH_SIZES=1000,100000` restricts the sizes; as a test (`cargo test --benches`) only 1k runs.

#[allow(dead_code)]
mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use scim_reference_server::directory::{Directory, DirectoryConfig, ListQuery};
use scim_reference_server::schema::ResourceKind;

use common::{rss_bytes, seed, size_label};

/// Set on the child processes: the number of users to seed.
const CHILD_ENV: &str = "SCIM_MEMORY_BENCH_USERS";
const TARGET_BYTES_PER_USER: f64 = 2048.0;

/// The system allocator, counting the bytes currently allocated.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to `System`; the counter has no effect on the allocations.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` shares.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by this allocator, that is by `System`, with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` was allocated by `System` with `layout`; the caller upholds the rest.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            LIVE.fetch_add(new_size, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// One size's figures, as the child prints them: `rss_before rss_after heap_before heap_after seed_ns
/// rss_scanned heap_scanned`.
struct Figures {
    rss_before: u64,
    rss_after: u64,
    heap_before: u64,
    heap_after: u64,
    seed_ns: u64,
    /// After the first unindexed scan (the column kept).
    rss_scanned: u64,
    heap_scanned: u64,
}

fn child(n: usize) {
    let directory = Directory::new(DirectoryConfig::default());
    let rss_before = rss_bytes().expect("VmRSS in /proc/self/status");
    let heap_before = LIVE.load(Ordering::Relaxed);
    let took = seed(&directory, n);
    let rss_after = rss_bytes().expect("VmRSS in /proc/self/status");
    let heap_after = LIVE.load(Ordering::Relaxed);
    assert_eq!(directory.count(ResourceKind::User), n);
    let scan = ListQuery { filter: Some(r#"name.familyName sw "Sm""#.into()), count: Some(1), ..ListQuery::default() };
    directory.list(&[ResourceKind::User], &scan).expect("scan succeeds");
    let rss_scanned = rss_bytes().expect("VmRSS in /proc/self/status");
    let heap_scanned = LIVE.load(Ordering::Relaxed);
    println!("{rss_before} {rss_after} {heap_before} {heap_after} {} {rss_scanned} {heap_scanned}", took.as_nanos());
    drop(std::hint::black_box(directory));
}

fn run_child(n: usize) -> Figures {
    let exe = std::env::current_exe().expect("path of this benchmark binary");
    let out = Command::new(exe).env(CHILD_ENV, n.to_string()).output().expect("child process runs");
    assert!(out.status.success(), "memory child for {n} users failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Vec<u64> = text
        .lines()
        .last()
        .unwrap_or_default()
        .split_whitespace()
        .map(|x| x.parse().expect("numeric child output"))
        .collect();
    assert_eq!(v.len(), 7, "unexpected child output: {text}");
    Figures {
        rss_before: v[0],
        rss_after: v[1],
        heap_before: v[2],
        heap_after: v[3],
        seed_ns: v[4],
        rss_scanned: v[5],
        heap_scanned: v[6],
    }
}

fn main() {
    if let Some(n) = std::env::var(CHILD_ENV).ok().and_then(|v| v.parse().ok()) {
        child(n);
        return;
    }
    let sizes = common::sizes();
    println!("\n== Resident memory per user (a fresh process per size; VmRSS after seeding minus before)");
    println!(
        "{:<8}{:>12}{:>12}{:>14}{:>14}{:>16}{:>22}{:>22}",
        "users",
        "RSS before",
        "RSS after",
        "RSS B/user",
        "heap B/user",
        "create µs/user",
        "RSS B/user, column",
        "heap B/user, column"
    );
    let mut at_million = None;
    for &n in &sizes {
        let f = run_child(n);
        let rss_per_user = f.rss_after.saturating_sub(f.rss_before) as f64 / n as f64;
        let heap_per_user = f.heap_after.saturating_sub(f.heap_before) as f64 / n as f64;
        let rss_column = f.rss_scanned.saturating_sub(f.rss_before) as f64 / n as f64;
        let heap_column = f.heap_scanned.saturating_sub(f.heap_before) as f64 / n as f64;
        println!(
            "{:<8}{:>9.1} MB{:>9.1} MB{:>14.0}{:>14.0}{:>16.1}{:>22.0}{:>22.0}",
            size_label(n),
            f.rss_before as f64 / 1e6,
            f.rss_after as f64 / 1e6,
            rss_per_user,
            heap_per_user,
            f.seed_ns as f64 / 1e3 / n as f64,
            rss_column,
            heap_column
        );
        if n == 1_000_000 {
            at_million = Some(rss_per_user.max(rss_column));
        }
    }
    if let Some(per_user) = at_million {
        let verdict = if per_user < TARGET_BYTES_PER_USER { "met" } else { "NOT met" };
        println!("at 1M: {per_user:.0} B/user (target < 2048 B/user: {verdict})");
    }
}
