//! `scim-reference-server`: runs the reference SCIM 2.0 server until Ctrl-C.

use std::net::SocketAddr;

use clap::Parser;
use scim_reference_server::{spawn, ServerConfig};

/// A complete SCIM 2.0 reference server speaking Okta's and Entra's dialects.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Bearer token clients must send; generated and printed when absent.
    #[arg(long, env = "SCIM_REFERENCE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Largest accepted request body in bytes.
    #[arg(long, default_value_t = 1 << 20)]
    body_limit: usize,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let mut config = ServerConfig::default().with_listen(args.listen);
    config.token = args.token;
    config.body_limit = args.body_limit;
    let server = spawn(config).await?;
    println!("SCIM base URI: {}", server.base_url);
    println!("Bearer token:  {}", server.token);
    tokio::signal::ctrl_c().await?;
    tracing::info!("shutting down");
    server.shutdown().await;
    Ok(())
}
