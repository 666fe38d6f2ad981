//! `scimcheck simulate` on the command line: arguments, the in-process reference server, output and exit code.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::credential::{self, Credential, Given};
use crate::idp::{Dialect, EntraDialect, Idp, OktaAppKind};
use crate::profile::AuthStyle;

use super::{EngineOptions, SimOptions, Source};
use crate::target::Target;

/// `scimcheck simulate`.
#[derive(Debug, Clone, Args)]
pub struct SimulateArgs {
    /// Settings file (default: ./scimcheck.toml when it exists): its `base-url`, `token-env`, `auth-style`,
    /// `timeout`, `idp` and `ca-cert` apply when the flags do not give them.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The IdP whose engine to reproduce (`azure` is an alias of `entra`; any case); default: the one IdP named
    /// by `idp` in the settings file.
    #[arg(long, value_enum, ignore_case = true)]
    pub idp: Option<Idp>,
    /// Source users to generate.
    #[arg(long, default_value_t = 1000, conflicts_with = "directory", value_parser = crate::options::objects)]
    pub users: usize,
    /// Source groups to generate.
    #[arg(long, default_value_t = 20, conflicts_with = "directory", value_parser = crate::options::objects)]
    pub groups: usize,
    /// Seed of the generated directory (the same seed gives the same directory).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Load the source directory from a JSON or CSV export instead (format: docs/simulator.md, `--directory FILE`).
    #[arg(long)]
    pub directory: Option<PathBuf>,
    /// SCIM base URI of the server under test (Entra's `?aadOptscim062020` may be on it); default: `base-url` of
    /// the settings file.
    #[arg(long, conflicts_with = "reference")]
    pub base_url: Option<String>,
    /// Start the bundled reference server in-process (127.0.0.1, port 0) and simulate against it. Provisioning
    /// and read-back requests are handed to its router directly (same handlers, status, headers and bodies,
    /// without TCP and HTTP/1.1 framing); the checks before provisioning go over loopback HTTP.
    #[arg(long)]
    pub reference: bool,
    /// With --reference: send every request over loopback HTTP (TCP, HTTP/1.1) instead of calling the in-process
    /// server directly, to measure the exchange over the wire.
    #[arg(long, requires = "reference")]
    pub loopback_http: bool,
    /// Token, sent as `Authorization: Bearer <token>` (or raw with --auth-style raw). Prefer an environment
    /// variable: SCIMCHECK_TOKEN, or the one named by --token-env (or `token-env` in the settings file), as `run`.
    #[arg(long)]
    pub token: Option<String>,
    /// Read the token from this environment variable (overrides SCIMCHECK_TOKEN and the settings file's
    /// `token-env`, not --token).
    #[arg(long, value_name = "NAME")]
    pub token_env: Option<String>,
    /// The whole Authorization header value (overrides --token).
    #[arg(long, env = "SCIMCHECK_AUTH_HEADER", hide_env_values = true)]
    pub auth_header: Option<String>,
    /// Credential style for --token [default: bearer, or `auth-style` of the settings file].
    #[arg(long, value_enum, ignore_case = true)]
    pub auth_style: Option<AuthStyle>,
    /// OAuth client credentials instead of a fixed token (flags over the settings file's `oauth-*` keys).
    #[command(flatten)]
    pub oauth: crate::oauth::config::OAuthArgs,
    /// The settings file's `oauth-*` keys, which [`SimulateArgs::oauth`] overrides (read from the file with the
    /// other settings; not a flag).
    #[arg(skip)]
    pub oauth_keys: crate::oauth::config::OAuthKeys,
    /// Entra's PATCH dialect (default: aadOptscim062020 when the base URI carries that flag, else default).
    #[arg(long, value_enum, ignore_case = true)]
    pub dialect: Option<EntraDialect>,
    /// Okta app kind: oin (PATCH) or aiw (PUT).
    #[arg(long, value_enum, ignore_case = true, default_value = "oin")]
    pub app_kind: OktaAppKind,
    /// Membership changes per group request (Okta's default is 100; Entra publishes none).
    #[arg(long, default_value_t = crate::idp::OKTA_DEFAULT_CHUNK, value_parser = |s: &str| crate::options::count_in(s, 1, 100_000))]
    pub chunk: usize,
    /// Incremental cycles after the initial one.
    #[arg(long, default_value_t = 0)]
    pub cycles: u16,
    /// Okta Identity Governance: give the IdP a catalogue of N roles and N entitlements, assign one or two of
    /// each to every user and reassign them to the churn's share of users every cycle; the reconciliation checks
    /// each user's roles and entitlements. Okta only; with --reference the server's SCIMOkta app lists them
    /// (`sim-role-1…N`, `sim-license-1…N`), a server of your own must list the same ids.
    #[arg(long, default_value_t = 0, value_parser = |s: &str| crate::options::count_in(s, 0, 10_000))]
    pub entitlements: usize,
    /// Users changed per incremental cycle, as a percentage (`5%`) or a fraction (`0.05`).
    #[arg(long, default_value = "5%", value_parser = super::parse_churn)]
    pub churn: f64,
    /// Requests in flight at most, 1 to 1,024.
    #[arg(long, default_value_t = 16, value_parser = crate::options::parallelism)]
    pub concurrency: usize,
    /// Requests per second at most, one per hour to 1,000,000 (default: unlimited, as Entra for custom apps).
    #[arg(long, value_parser = crate::options::rate)]
    pub rate: Option<f64>,
    /// Per-request timeout in seconds (or `500ms`, `2m`), 1 ms to 1 day [default: 60 as Okta, or `timeout` of the
    /// settings file].
    #[arg(long, value_parser = crate::options::timeout_secs)]
    pub timeout: Option<f64>,
    /// Report every server object the source directory does not hold as extra; by default only the
    /// simulator's own objects are reconciled and the others are counted and left out.
    #[arg(long)]
    pub strict_extra: bool,
    /// Skip the connection test (`GET /Users?startIndex=1&count=2`, as `run`) before provisioning.
    #[arg(long)]
    pub no_preflight: bool,
    /// Attempts of one request answered 429, 1 to 1,000 (Okta: 10).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_attempts: u32,
    /// Cap of one back-off wait in seconds (or `5m`), 0 to 1 day [default: 15 min] (the IdPs wait minutes
    /// without Retry-After; a server may ask for more than any run can wait).
    #[arg(long, value_parser = crate::options::wait_secs)]
    pub max_wait: Option<f64>,
    /// Retry-only cycles after the last cycle while failures remain (Entra retries failed objects next cycle).
    #[arg(long, default_value_t = 3)]
    pub escrow_retries: u16,
    /// Differences of each kind printed at most (missing, extra, duplicate, attribute drift, membership,
    /// manager; each kind is counted in full, the JSON lists up to 10,000).
    #[arg(long, default_value_t = 5)]
    pub show: usize,
    /// Extra trusted CA certificate, PEM (repeatable), besides the platform trust store and webpki roots.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Vec<PathBuf>,
    /// Do not verify TLS certificates (test setups only; warned about on every run).
    #[arg(long)]
    pub insecure: bool,
    /// Write the JSON report here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write an HTML page here: throughput and latency over time and latency per request kind as charts
    /// (`report::simulation`).
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// No progress bars.
    #[arg(long)]
    pub quiet: bool,
    /// Only build the source directory and print its size and memory, without sending anything (the model's
    /// memory benchmark: `--reference --users 1000000 --model-only`).
    #[arg(long)]
    pub model_only: bool,
}

/// The dialect of the engine to reproduce: Entra's from `--dialect` or the Tenant URL's flag, Okta's from
/// `--app-kind`. Errors: `rfc`, which has no provisioning engine.
fn dialect_of(args: &SimulateArgs, idp: Idp) -> Result<Dialect, String> {
    match idp {
        Idp::Entra => {
            Ok(Dialect::Entra(args.dialect.unwrap_or_else(|| {
                args.base_url.as_deref().map_or(EntraDialect::Default, EntraDialect::of_tenant_url)
            })))
        }
        Idp::Okta => Ok(Dialect::Okta(args.app_kind)),
        Idp::Rfc => Err("--idp rfc has no provisioning engine to reproduce: give --idp okta or --idp entra".into()),
    }
}

/// A reference-server seed with licences for every simulated user.
fn reference_seed(users: usize) -> scim_reference_server::config::Config {
    let mut seed = scim_reference_server::config::Config::builtin();
    for t in &mut seed.tenants {
        for c in &mut t.cals {
            c.seats = c.seats.max(u32::try_from(users.saturating_mul(2) + 1000).unwrap_or(u32::MAX));
        }
    }
    seed
}

/// Runs `scimcheck simulate`; returns the exit code (0 clean, 1 drift or quarantine).
pub async fn simulate(args: SimulateArgs) -> Result<i32, String> {
    let timeout = args.timeout.unwrap_or(super::DEFAULT_TIMEOUT.as_secs_f64());
    if !timeout.is_finite() || timeout <= 0.0 {
        return Err("--timeout must be a positive number of seconds".into());
    }
    if args.concurrency == 0 || args.chunk == 0 || args.max_attempts == 0 {
        return Err("--concurrency, --chunk and --max-attempts must be at least 1".into());
    }
    if args.rate.is_some_and(|r| !r.is_finite() || r <= 0.0) {
        return Err("--rate must be a positive number of requests per second".into());
    }
    if args.max_wait.is_some_and(|r| !r.is_finite() || r < 0.0) {
        return Err("--max-wait must be a number of seconds".into());
    }
    if args.directory.is_none() && args.users == 0 {
        return Err("--users must be at least 1".into());
    }
    let idp = args.idp.ok_or("no IdP: give --idp okta or --idp entra (or one IdP as idp in scimcheck.toml)")?;
    if idp == Idp::Okta && args.dialect.is_some() {
        return Err("--dialect is Entra's; Okta apps differ by --app-kind".into());
    }
    let dialect = dialect_of(&args, idp)?;
    if args.entitlements > 0 && dialect.is_entra() {
        return Err("--entitlements is Okta's (Okta Identity Governance): use it with --idp okta".into());
    }
    let engine = EngineOptions {
        dialect,
        concurrency: args.concurrency,
        rate: args.rate,
        timeout: Duration::from_secs_f64(timeout),
        chunk: args.chunk,
        max_attempts: args.max_attempts,
        max_wait: Some(args.max_wait.map_or(super::backoff::DEFAULT_MAX_WAIT, Duration::from_secs_f64)),
        progress: !args.quiet,
        tls: crate::http::TlsOptions { ca_certs: args.ca_cert.clone(), insecure: args.insecure },
    };
    if args.insecure {
        eprintln!("{}", crate::http::INSECURE_WARNING);
    }
    let source = match &args.directory {
        Some(p) => Source::File(p.clone()),
        None => Source::Generated { seed: args.seed, users: args.users, groups: args.groups },
    };
    let mut opts = SimOptions {
        source,
        engine,
        cycles: args.cycles,
        churn: args.churn,
        entitlements: args.entitlements,
        escrow_retries: args.escrow_retries,
        max_differences: 10_000,
        target_label: String::new(),
        strict_extra: args.strict_extra,
    };
    if args.model_only {
        return model_only(&opts);
    }
    let mut server = None;
    let target = if args.reference {
        let mut seed = reference_seed(args.users);
        if args.entitlements > 0 {
            let types = super::entitlements::SimCatalogue::generated(args.entitlements).reference_types();
            for app in
                seed.tenants.iter_mut().filter_map(|t| t.apps.get_mut(&scim_reference_server::tenant::AppKind::Okta))
            {
                app.resource_types = types.clone();
            }
        }
        let config = scim_reference_server::ServerConfig::default().with_seed(seed);
        let s = scim_reference_server::spawn(config)
            .await
            .map_err(|e| format!("cannot start the reference server: {e}"))?;
        let app = crate::reference_app::app_of(dialect.idp());
        let ep = s.endpoint("acme", app).cloned().ok_or("the reference server has no such app")?;
        let mut base = ep.base_url.clone();
        if dialect == Dialect::Entra(EntraDialect::AadOptscim062020) {
            base.push('?');
            base.push_str(EntraDialect::FLAG);
        }
        opts.target_label = format!("the bundled reference server (in-process, {base})");
        let mut t = Target::new(base, ep.token.map(Credential::Token).unwrap_or_default().styled(AuthStyle::Bearer));
        if !args.loopback_http {
            t.transport = crate::exchange::Transport::InProcess(s.service());
        }
        server = Some(s);
        t
    } else {
        let base = args.base_url.clone().unwrap_or_default();
        // the same message as run's, with the URL it probably meant
        if let Some(problem) = crate::preflight::hints::scheme_problem(&base) {
            return Err(problem);
        }
        opts.target_label = base.clone();
        let oauth = args.oauth.source(&args.oauth_keys, &opts.engine.tls, opts.engine.timeout)?;
        // the one precedence of run's: --token, else the variable --token-env or the settings file's token-env
        // names, else SCIMCHECK_TOKEN
        let token = credential::read_token(args.token.as_deref(), args.token_env.as_deref())?;
        let fixed = [
            ("--token", args.token.is_some()),
            ("--token-env (or token-env in the settings file)", args.token_env.is_some()),
            ("--auth-header (or SCIMCHECK_AUTH_HEADER)", args.auth_header.is_some()),
            (credential::TOKEN_ENV, token.is_some()),
        ];
        let given = Given { oauth, auth_header: args.auth_header.as_deref(), token, fixed: &fixed };
        // every request goes in one style (the engine does not switch profiles), settled here
        Target::new(base, credential::resolve(given)?.styled(args.auth_style.unwrap_or(AuthStyle::Bearer)))
    };
    if server.is_none() {
        if let Some(code) = before_provisioning(&args, &target, &opts).await? {
            return Ok(code);
        }
    }
    if !args.quiet {
        eprintln!("{}", super::preflight::target_line(&opts.target_label, dialect, &opts.source, opts.cycles));
    }
    let interrupt = super::interrupt::Interrupt::default();
    // kept for the whole command: a second Ctrl-C while the reports are written still quits at once
    let _watcher = interrupt.watch_ctrl_c();
    let result = super::run_interruptible(target, opts, interrupt).await;
    if let Some(s) = server {
        s.shutdown().await;
    }
    let mut report = result?;
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if let Some(path) = &args.html {
        let summary = serde_json::to_value(&report).map_err(|e| e.to_string())?;
        let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
        crate::report::simulation::write(&summary, file).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    report.examples_per_kind = args.show;
    crate::out!("{}", report.human());
    Ok(report.exit_code)
}

/// The checks of a remote target before any provisioning request: the connection test of `run` (exit 2 with
/// one line naming the cause, unless `--no-preflight`) and the warning when the server already holds objects.
/// `Some(code)` ends the command with that code.
async fn before_provisioning(args: &SimulateArgs, target: &Target, opts: &SimOptions) -> Result<Option<i32>, String> {
    if let Some(Some(a)) = target.credential.fixed(AuthStyle::Bearer) {
        // the message names the header, never the credential
        reqwest::header::HeaderValue::from_str(&a)
            .map_err(|_| "the credential (--token or --auth-header) is not a valid header value".to_string())?;
    }
    let client = crate::http::client(&crate::http::ClientOptions {
        tls: opts.engine.tls.clone(),
        connect_timeout: opts.engine.timeout,
        pool_max_idle_per_host: 1,
        ..Default::default()
    })?;
    let redactor = target.credential.redactor();
    // a credential that cannot be had (an OAuth token refused) ends the command before any request
    if let Err(e) = target.credential.authorization(AuthStyle::Bearer).await {
        eprintln!("error: preflight: {}", redactor.scrub(&e.message));
        eprintln!("(the connection test runs before any provisioning request; --no-preflight skips it)");
        return Ok(Some(2));
    }
    if !args.no_preflight {
        if let Err(f) = crate::preflight::check(&client, target, AuthStyle::Bearer, opts.engine.timeout).await {
            eprintln!("error: preflight: {}", redactor.scrub(&f.message));
            eprintln!("(the connection test runs before any provisioning request; --no-preflight skips it)");
            return Ok(Some(2));
        }
    }
    let count = |collection| {
        let (credential, timeout) = (&target.credential, opts.engine.timeout);
        super::preflight::count(&client, &target.base_url, collection, credential, AuthStyle::Bearer, timeout)
    };
    let (users, groups) = tokio::join!(count("Users"), count("Groups"));
    let [users, groups] = [("Users", users), ("Groups", groups)].map(|(collection, counted)| {
        counted.unwrap_or_else(|e| {
            eprintln!("warning: the server's {collection} could not be counted: {}", redactor.scrub(&e.message));
            None
        })
    });
    if let Some(w) = super::preflight::existing_warning(users, groups, opts.strict_extra) {
        eprintln!("{w}");
    }
    Ok(None)
}

/// `--model-only`: builds the model and prints its size, build time, heap estimate and the process's peak RSS.
fn model_only(opts: &SimOptions) -> Result<i32, String> {
    let started = std::time::Instant::now();
    let model = super::build_model(opts)?;
    let took = started.elapsed().as_secs_f64();
    let memberships: usize = model.groups.iter().map(|g| g.members.len()).sum();
    let mib = |b: usize| b as f64 / (1024.0 * 1024.0);
    crate::outln!(
        "model: {} users, {} groups, {} memberships, built in {took:.2} s; heap {:.1} MiB ({:.0} B per user)",
        model.users.len(),
        model.groups.len(),
        memberships,
        mib(model.heap_bytes()),
        model.heap_bytes() as f64 / model.users.len().max(1) as f64
    );
    if let Some(kib) = peak_rss_kib() {
        crate::outln!("process peak RSS: {:.1} MiB", kib as f64 / 1024.0);
    }
    Ok(0)
}

/// The process's peak resident set (Linux `VmHWM`), in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
