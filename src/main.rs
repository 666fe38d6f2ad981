//! `scimcheck` command line entry point.

fn main() {
    std::process::exit(scimcheck::cli::main());
}
