//! `scim-reference-server`: runs the reference SCIM 2.0 server until Ctrl-C (the same options as `scimcheck serve`).

use std::process::ExitCode;

use clap::Parser;
use scim_reference_server::cli::{init_logging, serve, ServeArgs};

/// mimalloc, as in `scimcheck serve`: JSON values are many small allocations made from several threads.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A complete, multi-tenant SCIM 2.0 reference server speaking Okta's and Entra's dialects.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    #[command(flatten)]
    serve: ServeArgs,
}

/// Exits with status 1 and one readable line on stderr when the server cannot start (an address in use, a
/// data file another server holds or that is no SQLite file, a configuration that is refused).
#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    init_logging();
    match serve(args.serve).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("scim-reference-server: {e}");
            ExitCode::FAILURE
        }
    }
}
