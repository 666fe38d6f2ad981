//! `scimcheck` command line entry point.

use std::ffi::{c_int, c_long};

/// mimalloc instead of the platform allocator: the simulator and the in-process reference server allocate
/// small JSON values from many threads at once, where glibc's malloc spent about a third of all CPU time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

extern "C" {
    /// mimalloc's `mi_option_set` (`mimalloc.h`), linked with the allocator above.
    fn mi_option_set(option: c_int, value: c_long);
}

/// `mi_option_purge_delay` in mimalloc 2's `mi_option_t` (`mimalloc.h`): how long, in milliseconds, freed
/// memory stays committed before it is returned to the system (10 by default; 0: at once).
const MI_OPTION_PURGE_DELAY: c_int = 15;

fn main() {
    // `simulate` frees a great deal from one thread that another allocated (the in-process reference server's
    // rendered pages, the simulator's parsed ones); purging freed pages at once lowers its peak resident memory
    // (docs/performance.md). `MIMALLOC_PURGE_DELAY` in the environment still decides.
    let simulate = std::env::args_os().nth(1).is_some_and(|a| a == "simulate");
    if simulate && std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one of mimalloc's options, an integer it reads atomically; no pointer is passed.
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
    }
    std::process::exit(scimcheck::cli::main());
}
