//! The command line: `run`, `list`, `serve`, `bench`, `snapshots`, `report`.
//!
//! `run` lives in [`run`]: configuration (`scimcheck.toml`, [`config`]), preflight, live output ([`output`]),
//! Ctrl-C and reports. `snapshots review|accept` lives in [`snapshots`].

pub mod checks;
pub mod config;
pub mod gallery;
pub mod huge;
pub mod output;
pub mod run;
pub mod settings;
pub mod snapshots;
pub mod suggest;
pub mod temp;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::idp::Idp;
use crate::profile::AuthStyle;
use crate::runner::DEFAULT_BODY_LIMIT;
use crate::scenario::{Kind, Level, Scenario};

pub use crate::bench::BenchArgs;
pub use crate::library::load_described as load;
pub use run::run;

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
    Run(Box<RunArgs>),
    /// List the scenarios with their source and level (`--format json`: one machine-readable document).
    List(ListArgs),
    /// Run the bundled reference server until Ctrl-C (every option of `scim-reference-server`).
    Serve(scim_reference_server::cli::ServeArgs),
    /// Time the built-in suite against the in-process reference server.
    Bench(BenchArgs),
    /// Review or accept pending snapshots (`.snap.new`) in a snapshot folder; no Rust toolchain needed.
    #[command(subcommand)]
    Snapshots(snapshots::SnapshotsCommand),
    /// Drive a server the way Okta's or Entra's provisioning engine does, then reconcile it with the source.
    Simulate(Box<crate::simulate::cli::SimulateArgs>),
    /// Record an IdP's traffic through a reverse proxy into replayable scenarios.
    Record(crate::record::RecordArgs),
    /// Turn a HAR 1.2 capture of an IdP's traffic into replayable scenarios.
    Import(crate::record::ImportArgs),
    /// Render the HTML or JUnit report of a saved JSON report (`run --json`).
    Report(ReportArgs),
}

/// `scimcheck report`.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// The JSON report to read, written by `scimcheck run --json` (with or without `--suite`) or `scimcheck
    /// simulate --json` (which kind is detected; a simulate report has an HTML page, no JUnit form).
    #[arg(long)]
    pub json: PathBuf,
    /// Write the HTML report here.
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Write the JUnit XML report here.
    #[arg(long)]
    pub junit: Option<PathBuf>,
}

/// Which scenarios to use.
#[derive(Debug, Clone, Default, Args)]
pub struct SelectArgs {
    /// Scenario folder to add (repeatable): its scenarios join the built-in library, replacing library
    /// scenarios with the same id. A `scenarios/` folder in the working directory is used only when named here.
    #[arg(long, value_name = "DIR")]
    pub scenarios: Vec<PathBuf>,
    /// Use only the `--scenarios` folders, not the built-in library.
    #[arg(long, requires = "scenarios")]
    pub no_library: bool,
    /// Only these IdPs (okta, entra, rfc; `azure` is an alias of `entra`; any case).
    #[arg(long, value_delimiter = ',', value_parser = parse_idp)]
    pub idp: Vec<Idp>,
    /// Only scenarios whose id contains this text (as the positional FILTER).
    #[arg(long)]
    pub filter: Option<String>,
    /// Only scenarios whose id contains this text, as `cargo test NAME` (`scimcheck run spec_suite`).
    #[arg(value_name = "FILTER", conflicts_with = "filter")]
    pub pattern: Option<String>,
    /// Only scenarios with at least one of these tags.
    #[arg(long, value_delimiter = ',')]
    pub tags: Vec<String>,
    /// A certification suite: `okta-entitlements` runs only the library's Okta entitlement scenarios, whose
    /// capability then becomes required (a target without it fails once, citing Okta's document, instead of
    /// skipping them); `entra-gallery` runs Microsoft's gallery validation instead of the library (its 25 tests
    /// under Microsoft's names, docs/entra-gallery.md), alone and without scenario selection flags.
    #[arg(long, value_delimiter = ',', value_parser = crate::suites::parse)]
    pub suite: Vec<String>,
    /// Only these levels (must, should, may; any case).
    #[arg(long, value_delimiter = ',', value_parser = parse_level)]
    pub level: Vec<Level>,
    /// Only scenarios with steps of these kinds (rfc, interop, portal).
    #[arg(long, value_delimiter = ',', value_parser = parse_kind)]
    pub kind: Vec<Kind>,
}

fn parse_kind(s: &str) -> Result<Kind, String> {
    Kind::parse(s).ok_or_else(|| format!("unknown kind `{s}` (rfc, interop, portal)"))
}

fn parse_idp(s: &str) -> Result<Idp, String> {
    Idp::parse(s).ok_or_else(|| format!("unknown IdP `{s}` ({})", Idp::NAMES))
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

/// The format of `scimcheck list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ListFormat {
    /// Lines for people.
    #[default]
    Text,
    /// One JSON document: `{"scenarios": [{id, title, idp, group, kind, level, tags, requires, file, steps}], "count"}`.
    Json,
}

/// `scimcheck list`.
#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Settings file (default: ./scimcheck.toml when it exists); its scenario folders and selection apply, flags win.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Which scenarios.
    #[command(flatten)]
    pub select: SelectArgs,
    /// Output format.
    #[arg(long, value_enum, ignore_case = true, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}

/// `scimcheck run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Settings file (default: ./scimcheck.toml when it exists); flags win over it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// SCIM base URI of the server under test (ids and paths are appended to it).
    #[arg(long, conflicts_with = "reference")]
    pub base_url: Option<String>,
    /// Start the bundled reference server in-process (127.0.0.1, port 0) and run against it.
    #[arg(long)]
    pub reference: bool,
    /// Token, sent in each profile's style (Bearer by default). Prefer an environment variable: SCIMCHECK_TOKEN,
    /// or the one named by --token-env.
    #[arg(long)]
    pub token: Option<String>,
    /// The whole Authorization header value, sent as given (overrides --token).
    #[arg(long, env = "SCIMCHECK_AUTH_HEADER", hide_env_values = true)]
    pub auth_header: Option<String>,
    /// Read the token from this environment variable (overrides SCIMCHECK_TOKEN, not --token).
    #[arg(long, value_name = "NAME")]
    pub token_env: Option<String>,
    /// Credential style for every profile: bearer, or raw (Okta's "Header" auth).
    #[arg(long, value_enum, ignore_case = true)]
    pub auth_style: Option<AuthStyle>,
    /// OAuth client credentials instead of a fixed token.
    #[command(flatten)]
    pub oauth: crate::oauth::config::OAuthArgs,
    /// Which scenarios.
    #[command(flatten)]
    pub select: SelectArgs,
    /// Scenarios run at once, 1 to 1,024 [default: 4].
    #[arg(long, value_parser = crate::options::parallelism)]
    pub jobs: Option<usize>,
    /// Per-request timeout in seconds (or `500ms`, `2m`), 1 ms to 1 day [default: 30].
    #[arg(long, value_parser = crate::options::timeout_secs)]
    pub timeout: Option<f64>,
    /// Extra trusted CA certificate, PEM (repeatable), besides the platform trust store and webpki roots.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Vec<PathBuf>,
    /// Do not verify TLS certificates (test setups only; warned about on every run).
    #[arg(long)]
    pub insecure: bool,
    /// Skip the connection test (GET /Users) that runs before the scenarios.
    #[arg(long)]
    pub no_preflight: bool,
    /// Wait between the steps of Okta's suites as their exports do (SPEC: 5 s, 10 s before the duplicate create,
    /// about 1 min in all; CRUD: 20-40 s), for servers whose writes become visible only after a while.
    #[arg(long)]
    pub okta_pauses: bool,
    /// Quieter: as they finish, only scenarios that failed, erred, drifted or deviate as known are printed (not
    /// passes or skips), and no progress bar; the details and the summary follow as usual.
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Louder: every observation (a check that cannot fail the run) is printed under its step; by default they
    /// are counted.
    #[arg(short, long)]
    pub verbose: bool,
    /// Response body limit in bytes, 1 byte to 1 GiB.
    #[arg(long, default_value_t = DEFAULT_BODY_LIMIT, value_parser = crate::options::body_limit)]
    pub body_limit: usize,
    /// Snapshot baseline folder (default with --reference: the shipped snapshots/; otherwise none).
    #[arg(long)]
    pub snapshots: Option<PathBuf>,
    /// Record missing snapshots and accept changed ones.
    #[arg(long)]
    pub update_snapshots: bool,
    /// Whether drift fails the run [default: fail].
    #[arg(long, value_enum, ignore_case = true)]
    pub drift: Option<DriftMode>,
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
    /// Write a self-contained HTML report here.
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Characters of each request and response body the JSON and HTML reports show (pretty-printed); the
    /// original size is recorded.
    #[arg(long, default_value_t = crate::exchange::DEFAULT_REPORT_BODY_LIMIT, value_parser = clap::value_parser!(usize))]
    pub report_body_limit: usize,
    /// With `--suite entra-gallery`: the attribute mapping `Schema_Discoverability_Test` compares `/Schemas` with,
    /// the schema JSON the Entra portal downloads (default: Entra's default mapping).
    #[arg(long, value_name = "FILE")]
    pub attribute_mapping: Option<PathBuf>,
    /// With `--suite entra-gallery`: how long the paced 25 requests/s run lasts, 1 s to 10 min [default: 10s].
    #[arg(long, value_name = "DURATION", value_parser = |s: &str| crate::options::duration_in(s, std::time::Duration::from_secs(1), std::time::Duration::from_secs(600)))]
    pub rate_window: Option<std::time::Duration>,
}

/// A certification suite `run --suite` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Suite {
    /// Microsoft's Entra app gallery validation (the Logic App template's 25 tests).
    EntraGallery,
}

/// Parses a `scimcheck run …` command line (program name first), as a benchmark runs it in-process.
///
/// Errors: the arguments are not a valid `run` command.
pub fn parse_run_args<I, T>(argv: I) -> Result<RunArgs, String>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    match Cli::try_parse_from(argv).map_err(|e| e.to_string())?.command {
        Command::Run(args) => Ok(*args),
        _ => Err("not a `run` command line".into()),
    }
}

/// The error for a positional FILTER that is a base URI (`scimcheck run http://… --token x`): no scenario id has
/// a scheme, so `http://` or `https://` there means the target was meant; `None` for any other filter.
pub(crate) fn filter_looks_like_url(pattern: Option<&str>) -> Option<String> {
    let p = pattern?;
    let lower = p.to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://")).then(|| {
        format!("`{p}` looks like a base URI: give it as --base-url {p} (the positional is a scenario FILTER)")
    })
}

/// Splits scenarios into selected and excluded (with the reason).
pub fn select<'a>(all: &'a [Scenario], args: &SelectArgs) -> (Vec<Scenario>, Vec<(&'a Scenario, String)>) {
    let mut selected = Vec::new();
    let mut excluded = Vec::new();
    for s in all {
        let why = if !args.idp.is_empty() && !args.idp.contains(&s.idp) {
            Some(format!("excluded by --idp (it is {})", s.idp))
        } else if args.filter.as_ref().or(args.pattern.as_ref()).is_some_and(|f| !s.id.contains(f.as_str())) {
            Some("excluded by the filter".to_string())
        } else if !args.suite.is_empty()
            && !args.suite.iter().filter_map(|n| crate::suites::find(n)).any(|suite| suite.selects(s))
        {
            Some(format!("excluded by --suite {}", args.suite.join(",")))
        } else if !args.tags.is_empty() && !s.tags.iter().any(|t| args.tags.contains(t)) {
            Some("excluded by --tags".to_string())
        } else if !args.level.is_empty() && !args.level.contains(&s.level) {
            Some(format!("excluded by --level (it is {})", s.level))
        } else if !args.kind.is_empty() && !s.kinds().iter().any(|k| args.kind.contains(k)) {
            Some(format!("excluded by --kind (it is {})", s.kind))
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
        Command::Run(args) => rt.block_on(run(*args)),
        Command::List(args) => list(&args),
        Command::Serve(args) => rt.block_on(serve(args)),
        Command::Bench(args) if args.proxy => rt.block_on(crate::record::bench::bench_command(args.rounds)),
        Command::Bench(args) if args.huge_bodies => rt.block_on(huge::bench(args.body_mib, args.jobs)),
        Command::Bench(args) => rt.block_on(crate::bench::bench(args)),
        Command::Snapshots(cmd) => snapshots::main(cmd),
        Command::Simulate(mut args) => rt.block_on(async {
            config::apply_to_simulate(&mut args)?;
            tokio::spawn(crate::simulate::cli::simulate(*args))
                .await
                .unwrap_or_else(|e| Err(format!("the simulation stopped: {e}")))
        }),
        Command::Record(mut args) => rt.block_on(async {
            config::apply_to_record(&mut args)?;
            crate::record::record_command(args).await
        }),
        Command::Import(args) => crate::record::har::import_command(args),
        Command::Report(args) => run::render_saved(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

fn list(args: &ListArgs) -> Result<i32, String> {
    let (config, _) = config::Config::load(args.config.as_deref())?;
    let select_args = config.select(&args.select);
    let all = load(&select_args.scenarios, select_args.no_library)?;
    let (selected, _) = select(&all, &select_args);
    if args.format == ListFormat::Json {
        let scenarios: Vec<serde_json::Value> = selected.iter().map(list_entry).collect();
        let doc = serde_json::json!({ "count": scenarios.len(), "scenarios": scenarios });
        crate::outln!("{}", serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?);
        return Ok(0);
    }
    for s in &selected {
        let steps = s.steps.len();
        crate::outln!("{}  [{}, {}] {} ({} steps)", s.id, s.level, s.kind, s.title, steps);
        crate::outln!("    source: {}", s.source);
        if !s.tags.is_empty() || !s.requires.is_empty() {
            let req: Vec<&str> = s.requires.iter().map(|f| f.as_str()).collect();
            crate::outln!(
                "    tags: {}  requires: {}",
                s.tags.join(", "),
                if req.is_empty() { "-".into() } else { req.join(", ") }
            );
        }
    }
    crate::outln!("{} scenario(s)", selected.len());
    Ok(0)
}

/// One scenario in `list --format json`: id, title, idp, group, kind (every kind of its steps in `kinds`),
/// level, tags, requires, file (the path a user can open; `scenarios/…` for the built-in library) and steps.
fn list_entry(s: &Scenario) -> serde_json::Value {
    let group = s.id.split("::").nth(1).unwrap_or_default();
    serde_json::json!({
        "id": s.id,
        "title": s.title,
        "idp": s.idp.as_str(),
        "group": group,
        "kind": s.kind.as_str(),
        "kinds": s.kinds().iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        "level": s.level.as_str(),
        "tags": s.tags,
        "requires": s.requires.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
        "file": crate::library::source_name(s),
        "source": s.source,
        "steps": s.steps.len(),
    })
}

async fn serve(args: scim_reference_server::cli::ServeArgs) -> Result<i32, String> {
    let listen = args.listen;
    scim_reference_server::cli::init_logging();
    scim_reference_server::cli::serve(args).await.map_err(|e| format!("reference server on {listen}: {e}"))?;
    Ok(0)
}

#[cfg(test)]
mod tests;
