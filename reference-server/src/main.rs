//! `scim-reference-server`: runs the reference SCIM 2.0 server until Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use scim_reference_server::config::Config;
use scim_reference_server::{spawn, ServerConfig};

/// A complete, multi-tenant SCIM 2.0 reference server speaking Okta's and Entra's dialects.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Seed configuration (tenants, CALs, apps, rules, tokens, accounts) as JSON; see the README.
    /// Without it, one subdomain tenant `acme` with both apps enabled is created.
    #[arg(long)]
    config: Option<PathBuf>,
    /// A known token for the first tenant's SCIMOkta app (at least 16 characters) instead of a generated one.
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
    if let Some(path) = &args.config {
        let text = std::fs::read_to_string(path)?;
        let seed = Config::from_json(&text).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        config = config.with_seed(seed);
    }
    config.token = args.token;
    config.body_limit = args.body_limit;
    let server = spawn(config).await?;
    println!("SCIM base URI: {}", server.base_url);
    println!("Bearer token:  {}", server.token);
    for e in &server.endpoints {
        println!(
            "tenant {} app {}: {} token {}",
            e.tenant,
            e.app.name(),
            e.base_url,
            e.token.as_deref().unwrap_or("(configured)")
        );
    }
    println!("Admin API: {} key {}", server.admin_url, server.admin_key);
    tokio::signal::ctrl_c().await?;
    tracing::info!("shutting down");
    server.shutdown().await;
    Ok(())
}
