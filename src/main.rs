//! `scimcheck` command line entry point.

/// mimalloc instead of the platform allocator: the simulator and the in-process reference server allocate
/// small JSON values from many threads at once, where glibc's malloc spent about a third of all CPU time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(scimcheck::cli::main());
}
