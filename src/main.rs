//! `scimcheck` command line entry point.

use std::ffi::{c_int, c_long};

/// mimalloc instead of the platform allocator: the simulator and the in-process reference server allocate
/// small JSON values from many threads at once, where glibc's malloc spent about a third of all CPU time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

extern "C" {
    /// mimalloc's `void mi_option_set(mi_option_t option, long value)` (`mimalloc.h`), linked with the allocator
    /// above by `libmimalloc-sys`. `mi_option_t` is a C enum, passed as an `int`.
    fn mi_option_set(option: c_int, value: c_long);
}

/// `mi_option_purge_delay` in `mi_option_t` (`mimalloc.h`; 15 in mimalloc 3, which `libmimalloc-sys` builds
/// without its `v2` feature, and in mimalloc 2): how long, in milliseconds, freed memory stays committed
/// before it is returned to the system (10 by default; 0: at once).
const MI_OPTION_PURGE_DELAY: c_int = 15;

fn main() {
    // `simulate` frees a great deal from one thread that another allocated (the in-process reference server's
    // rendered pages, the simulator's parsed ones); purging freed pages at once lowers its peak resident memory
    // (docs/performance.md). `MIMALLOC_PURGE_DELAY` in the environment still decides.
    let simulate = std::env::args_os().nth(1).is_some_and(|a| a == "simulate");
    if simulate && std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: the declaration above matches the C signature (two integers, no pointer), and the option is
        // one of `mi_option_t` (mimalloc ignores one out of range). mimalloc stores the value with a plain,
        // non-atomic write that its allocating threads read, so the call must not race with another thread:
        // it runs at the start of `main`, before the program has started any thread.
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
    }
    std::process::exit(scimcheck::cli::main());
}
