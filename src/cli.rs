//! The command line: `run`, `list`, `serve`, `bench`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::expectations::{self, Expectations};
use crate::profile::AuthStyle;
use crate::report::{self, Policy};
use crate::runner::{Credential, RunOptions, Runner, Target, DEFAULT_BODY_LIMIT};
use crate::scenario::{self, Idp, Level, Scenario};
use crate::snapshot::SnapshotStore;

/// Replays recorded Okta and Entra ID SCIM provisioning sequences against a SCIM 2.0 server.
#[derive(Debug, Parser)]
#[command(name = "scimcheck", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run scenarios against a server (`--base-url`) or the bundled reference server (`--reference`).
    Run(RunArgs),
    /// List the scenarios with their source and level.
    List(SelectArgs),
    /// Run the bundled reference server until Ctrl-C.
    Serve(ServeArgs),
    /// Time the built-in suite against the in-process reference server.
    Bench(BenchArgs),
}

/// Which scenarios to use.
#[derive(Debug, Clone, Args)]
pub struct SelectArgs {
    /// Scenario folder (default: ./scenarios, else the one shipped with scimcheck).
    #[arg(long)]
    pub scenarios: Option<PathBuf>,
    /// Only these IdPs (okta, azure, rfc).
    #[arg(long, value_delimiter = ',', value_parser = parse_idp)]
    pub idp: Vec<Idp>,
    /// Only scenarios whose id contains this text.
    #[arg(long)]
    pub filter: Option<String>,
    /// Only scenarios with at least one of these tags.
    #[arg(long, value_delimiter = ',')]
    pub tags: Vec<String>,
    /// Only these levels (must, should, may).
    #[arg(long, value_delimiter = ',', value_parser = parse_level)]
    pub level: Vec<Level>,
}

fn parse_idp(s: &str) -> Result<Idp, String> {
    Idp::parse(s).ok_or_else(|| format!("unknown IdP `{s}` (okta, azure, rfc)"))
}

fn parse_level(s: &str) -> Result<Level, String> {
    Level::parse(s).ok_or_else(|| format!("unknown level `{s}` (must, should, may)"))
}

/// Whether drift fails the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DriftMode {
    /// Drift fails the run.
    Fail,
    /// Drift is reported only.
    Warn,
}

/// `scimcheck run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// SCIM base URI of the server under test (ids and paths are appended to it).
    #[arg(long, required_unless_present = "reference", conflicts_with = "reference")]
    pub base_url: Option<String>,
    /// Start the bundled reference server in-process (127.0.0.1, port 0) and run against it.
    #[arg(long)]
    pub reference: bool,
    /// Token, sent in each profile's style (Bearer by default). Prefer the environment variable.
    #[arg(long, env = "SCIMCHECK_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The whole Authorization header value, sent as given (overrides --token).
    #[arg(long, env = "SCIMCHECK_AUTH_HEADER", hide_env_values = true)]
    pub auth_header: Option<String>,
    /// Credential style for every profile: bearer, or raw (Okta's "Header" auth).
    #[arg(long, value_enum)]
    pub auth_style: Option<AuthStyle>,
    /// Which scenarios.
    #[command(flatten)]
    pub select: SelectArgs,
    /// Scenarios run at once.
    #[arg(long, default_value_t = 4)]
    pub jobs: usize,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 30.0)]
    pub timeout: f64,
    /// Response body limit in bytes.
    #[arg(long, default_value_t = DEFAULT_BODY_LIMIT)]
    pub body_limit: usize,
    /// Snapshot baseline folder (default with --reference: the shipped snapshots/; otherwise none).
    #[arg(long)]
    pub snapshots: Option<PathBuf>,
    /// Record missing snapshots and accept changed ones.
    #[arg(long)]
    pub update_snapshots: bool,
    /// Whether drift fails the run.
    #[arg(long, value_enum, default_value = "fail")]
    pub drift: DriftMode,
    /// SHOULD and MAY failures fail the run too.
    #[arg(long)]
    pub strict: bool,
    /// Known deviations file (default: expectations.json in the snapshot folder, if present).
    #[arg(long)]
    pub expectations: Option<PathBuf>,
    /// Write a JUnit XML report here.
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Write a JSON report here.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// `scimcheck serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Bearer token clients must send; generated and printed when absent.
    #[arg(long, env = "SCIMCHECK_SERVE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// `scimcheck bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// How many times to run the suite.
    #[arg(long, default_value_t = 20)]
    pub iterations: usize,
    /// Scenarios run at once.
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
    /// Scenario folder.
    #[arg(long)]
    pub scenarios: Option<PathBuf>,
}

/// The crate's own folder (scenarios/ and snapshots/ ship there).
pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `./scenarios` when it exists, else the scenarios shipped with the crate.
pub fn default_scenario_dir() -> PathBuf {
    let local = PathBuf::from("scenarios");
    if local.is_dir() {
        local
    } else {
        crate_dir().join("scenarios")
    }
}

/// `./snapshots` when `./scenarios` exists (running from a checkout), else the crate's.
pub fn default_snapshot_dir() -> PathBuf {
    if Path::new("scenarios").is_dir() && Path::new("snapshots").is_dir() {
        PathBuf::from("snapshots")
    } else {
        crate_dir().join("snapshots")
    }
}

/// Loads scenarios, printing loader errors.
pub fn load(dir: Option<&Path>) -> Result<Vec<Scenario>, String> {
    let dir = dir.map(Path::to_path_buf).unwrap_or_else(default_scenario_dir);
    scenario::load_dir(&dir).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        format!("{} scenario error(s):\n{}", errors.len(), lines.join("\n"))
    })
}

/// Splits scenarios into selected and excluded (with the reason).
pub fn select<'a>(all: &'a [Scenario], args: &SelectArgs) -> (Vec<Scenario>, Vec<(&'a Scenario, String)>) {
    let mut selected = Vec::new();
    let mut excluded = Vec::new();
    for s in all {
        let why = if !args.idp.is_empty() && !args.idp.contains(&s.idp) {
            Some(format!("excluded by --idp (it is {})", s.idp))
        } else if args.filter.as_ref().is_some_and(|f| !s.id.contains(f.as_str())) {
            Some("excluded by --filter".to_string())
        } else if !args.tags.is_empty() && !s.tags.iter().any(|t| args.tags.contains(t)) {
            Some("excluded by --tags".to_string())
        } else if !args.level.is_empty() && !args.level.contains(&s.level) {
            Some(format!("excluded by --level (it is {})", s.level))
        } else {
            None
        };
        match why {
            Some(w) => excluded.push((s, w)),
            None => selected.push(s.clone()),
        }
    }
    (selected, excluded)
}

/// Parses the command line and runs; returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return 2;
        }
    };
    let result = match cli.command {
        Command::Run(args) => rt.block_on(run(args)),
        Command::List(args) => list(&args),
        Command::Serve(args) => rt.block_on(serve(args)),
        Command::Bench(args) => rt.block_on(crate::bench::bench(args)),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

fn list(args: &SelectArgs) -> Result<i32, String> {
    let all = load(args.scenarios.as_deref())?;
    let (selected, _) = select(&all, args);
    for s in &selected {
        let steps = s.steps.len();
        println!("{}  [{}] {} ({} steps)", s.id, s.level, s.title, steps);
        println!("    source: {}", s.source);
        if !s.tags.is_empty() || !s.requires.is_empty() {
            let req: Vec<&str> = s.requires.iter().map(|f| f.as_str()).collect();
            println!(
                "    tags: {}  requires: {}",
                s.tags.join(", "),
                if req.is_empty() { "-".into() } else { req.join(", ") }
            );
        }
    }
    println!("{} scenario(s)", selected.len());
    Ok(0)
}

/// Executes `scimcheck run`; returns the exit code.
pub async fn run(args: RunArgs) -> Result<i32, String> {
    let all = load(args.select.scenarios.as_deref())?;
    let (selected, excluded) = select(&all, &args.select);
    let snapshot_dir = match (&args.snapshots, args.reference) {
        (Some(dir), _) => Some(dir.clone()),
        (None, true) => Some(default_snapshot_dir()),
        (None, false) => None,
    };
    let expectations_path =
        args.expectations.clone().or_else(|| snapshot_dir.as_ref().map(|d| d.join(expectations::FILE_NAME)));
    let expectations = match &expectations_path {
        Some(p) => match Expectations::load(p)? {
            Some(e) => Some(e),
            None if args.expectations.is_some() => return Err(format!("{}: no such file", p.display())),
            None => None,
        },
        None => None,
    };
    if args.update_snapshots && snapshot_dir.is_none() {
        return Err("--update-snapshots needs --snapshots DIR (or --reference)".into());
    }
    if !args.timeout.is_finite() || args.timeout <= 0.0 {
        return Err("--timeout must be a positive number of seconds".into());
    }
    let target = if args.reference {
        Target::Reference
    } else {
        let credential = match (&args.auth_header, &args.token) {
            (Some(h), _) => Credential::Header(h.clone()),
            (None, Some(t)) => Credential::Token(t.clone()),
            (None, None) => Credential::None,
        };
        Target::Remote { base_url: args.base_url.clone().unwrap_or_default(), credential }
    };
    let options = RunOptions {
        jobs: args.jobs.max(1),
        timeout: Duration::from_secs_f64(args.timeout),
        body_limit: args.body_limit,
        auth_style: args.auth_style,
        snapshots: snapshot_dir.map(|dir| SnapshotStore { dir, update: args.update_snapshots }),
        tls: crate::http::TlsOptions::default(),
    };
    let runner = Runner::new(target, options)?;
    let mut outcome = runner.run(&selected, excluded).await;
    let mut notes = Vec::new();
    if runner.options().snapshots.is_none() {
        notes.push("no snapshot baseline (--snapshots DIR): drift is not checked".to_string());
    }
    if let Some(e) = &expectations {
        notes.extend(e.apply(&mut outcome.results));
    }
    let policy = Policy { strict: args.strict, drift_warn: args.drift == DriftMode::Warn };
    print!("{}", report::human(&outcome, &policy, &notes));
    if let Some(path) = &args.junit {
        std::fs::write(path, report::junit(&outcome, &policy)).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if let Some(path) = &args.json {
        std::fs::write(path, report::json(&outcome, &policy, &notes))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(policy.exit_code(&outcome))
}

async fn serve(args: ServeArgs) -> Result<i32, String> {
    let generated = args.token.is_none();
    let mut config = scim_reference_server::ServerConfig::default().with_listen(args.listen);
    if let Some(t) = args.token {
        config = config.with_token(t);
    }
    let server = scim_reference_server::spawn(config)
        .await
        .map_err(|e| format!("cannot start the reference server on {}: {e}", args.listen))?;
    println!("SCIM base URI: {}", server.base_url);
    if generated {
        println!("Bearer token:  {}", server.token);
    } else {
        println!("Bearer token:  (the one you passed)");
    }
    println!("Ctrl-C stops the server.");
    tokio::signal::ctrl_c().await.map_err(|e| e.to_string())?;
    server.shutdown().await;
    Ok(0)
}
