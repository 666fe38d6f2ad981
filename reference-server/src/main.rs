//! `scim-reference-server`: runs the reference SCIM 2.0 server until Ctrl-C (the same options as `scimcheck serve`).

use clap::Parser;
use scim_reference_server::cli::{serve, ServeArgs};

/// A complete, multi-tenant SCIM 2.0 reference server speaking Okta's and Entra's dialects.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    #[command(flatten)]
    serve: ServeArgs,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    serve(Args::parse().serve).await
}
