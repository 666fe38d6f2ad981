//! The server's command-line options and its run-until-Ctrl-C loop, shared by the `scim-reference-server` binary
//! and `scimcheck serve` so both always offer the same options.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::config::Config;
use crate::{spawn, ServerConfig};

/// Options of `scim-reference-server` and `scimcheck serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Seed configuration (tenants, CALs, apps, rules, tokens, accounts) as JSON; see the README.
    /// Without it, one subdomain tenant `acme` with both apps enabled is created.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// A known token for the first tenant's SCIMOkta app (at least 16 characters) instead of a generated one.
    #[arg(long, env = "SCIM_REFERENCE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Largest accepted request body in bytes.
    #[arg(long, default_value_t = 1 << 20)]
    pub body_limit: usize,
}

/// Starts the server with `args`, prints its endpoints and credentials, and serves until Ctrl-C.
///
/// Errors: an unreadable or invalid seed file, or an address that cannot be bound.
pub async fn serve(args: ServeArgs) -> std::io::Result<()> {
    let mut config = ServerConfig::default().with_listen(args.listen);
    if let Some(path) = &args.config {
        let text = std::fs::read_to_string(path)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
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
    println!("Ctrl-C stops the server.");
    tokio::signal::ctrl_c().await?;
    tracing::info!("shutting down");
    server.shutdown().await;
    Ok(())
}
