//! The server's command-line options and its run-until-Ctrl-C loop, shared by the `scim-reference-server` binary
//! and `scimcheck serve` so both always offer the same options.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::config::Config;
use crate::serve::Limits;
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
    /// Seconds a request head may take to arrive (from connect, or from its first byte); slower clients are
    /// disconnected.
    #[arg(long, default_value_t = 10.0, value_parser = seconds)]
    pub header_timeout: f64,
    /// Seconds a request body may take to arrive once it is read; slower bodies answer 408.
    #[arg(long, default_value_t = 30.0, value_parser = seconds)]
    pub body_timeout: f64,
    /// Seconds an idle keep-alive connection stays open.
    #[arg(long, default_value_t = 60.0, value_parser = seconds)]
    pub idle_timeout: f64,
    /// The most connections open at once; a new one takes the place of the longest idle one, or waits until
    /// a request ends.
    #[arg(long, default_value_t = 512)]
    pub max_connections: usize,
    /// The most connections open at once from one IP address (behind a reverse proxy: --max-connections).
    #[arg(long, default_value_t = 128)]
    pub max_connections_per_peer: usize,
    /// Seconds shutdown (Ctrl-C, SIGTERM) waits for in-flight requests before closing their connections.
    #[arg(long, default_value_t = 10.0, value_parser = seconds)]
    pub shutdown_grace: f64,
    /// The server's public base URL (e.g. `https://scim.example.com`), used for Location, meta.location and
    /// $ref instead of the request's Host.
    #[arg(long)]
    pub public_url: Option<String>,
    /// A SQLite file that keeps tenants, apps, hashed tokens, CAL ledgers and resources across restarts
    /// (created when missing; a file that already holds tenants is served as it is and the seed is ignored).
    /// Without it everything lives in memory.
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// With --data, also sync the write-ahead log to disk at every commit, so acknowledged writes survive power
    /// loss too (by default they survive the death of the process).
    #[arg(long, requires = "data")]
    pub data_sync_full: bool,
}

fn seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 86_400.0 => Ok(v),
        _ => Err(format!("'{s}' is not a number of seconds between 0 and 86400")),
    }
}

/// Prints a line of the start-up banner to stdout, ignoring a write error: a server whose stdout's reader has gone
/// (`… | head -3` to read the token, a test that stops reading) keeps serving instead of dying of a broken pipe.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
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
    config.public_url = args.public_url;
    config.data = args.data;
    if args.data_sync_full {
        config.data_sync = crate::sqlite::SyncMode::Full;
    }
    config.limits = Limits {
        header_timeout: Duration::from_secs_f64(args.header_timeout),
        body_timeout: Duration::from_secs_f64(args.body_timeout),
        idle_timeout: Duration::from_secs_f64(args.idle_timeout),
        max_connections: args.max_connections.max(1),
        max_connections_per_peer: args.max_connections_per_peer.max(1),
        shutdown_grace: Duration::from_secs_f64(args.shutdown_grace),
    };
    let server = spawn(config).await?;
    say!("SCIM base URI: {}", server.base_url);
    match server.token.is_empty() {
        true => say!("Bearer token:  (stored in the data file; shown only when it was made)"),
        false => say!("Bearer token:  {}", server.token),
    }
    for e in &server.endpoints {
        say!(
            "tenant {} app {}: {} token {}",
            e.tenant,
            e.app.name(),
            e.base_url,
            e.token.as_deref().unwrap_or("(configured, or stored in the data file)")
        );
    }
    match server.admin_key.is_empty() {
        true => say!(
            "Admin API: {} key (stored in the data file as a digest; shown only when it was made)",
            server.admin_url
        ),
        false => say!("Admin API: {} key {}", server.admin_url, server.admin_key),
    }
    say!("Ctrl-C stops the server.");
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {}
    }
    tracing::info!("shutting down");
    server.shutdown().await;
    Ok(())
}

/// Sends the server's log to stderr, filtered by `RUST_LOG` (default `info`), coloured only when stderr is a
/// terminal. Used by both binaries (`scim-reference-server` and `scimcheck serve`); a second call does nothing.
pub fn init_logging() {
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
