//! `scimcheck bench`: wall time, requests per second and the runner's own overhead per request for the whole
//! built-in suite against the in-process reference server.
//!
//! Method. Each iteration runs the suite through the runner (one fresh reference server per scenario, as in
//! `run --reference`), then replays the very requests the runner sent with a bare reqwest loop (same method,
//! path, query, headers and body, sequentially, against fresh servers): that loop measures what the server plus
//! a minimal HTTP client cost. Per iteration, the runner's time per request is (scenario wall time − in-process
//! server start/stop) / requests; the overhead is that minus the bare loop's time per request. Runs alternate so
//! background load hits both alike, and medians are reported. The runner's own split — time outside the HTTP
//! exchange (building requests, judging, captures; variables, normalisation, snapshot text) — is a direct
//! measurement that does not depend on the subtraction.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;

use crate::exchange::{AuthMode, SentRequest};
use crate::library::load_described as load;
use crate::profile::Profile;
use crate::runner::{Against, RunOptions, Runner, Verdict};
use crate::scenario::Scenario;

/// Bytes of an answer a bench reads at most (64 MiB): more than any answer of its requests.
const BENCH_BODY_LIMIT: usize = 64 << 20;

/// Time a bench waits for one exchange (60 s): a stuck server ends the bench with an error, not a hang.
const BENCH_TIMEOUT: Duration = Duration::from_secs(60);

/// `scimcheck bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// How many times to run the suite.
    #[arg(long, default_value_t = 20, value_parser = |s: &str| crate::options::count_in(s, 1, 1_000_000))]
    pub iterations: usize,
    /// Scenarios run at once, 1 to 1,024.
    #[arg(long, default_value_t = 1, value_parser = crate::options::parallelism)]
    pub jobs: usize,
    /// Scenario folder (repeatable) instead of the built-in library.
    #[arg(long, value_name = "DIR")]
    pub scenarios: Vec<PathBuf>,
    /// Measure instead the latency `scimcheck record` adds per request on loopback (median and p99).
    #[arg(long)]
    pub proxy: bool,
    /// With --proxy: rounds of 4 requests per path.
    #[arg(long, default_value_t = 2500, value_name = "N", value_parser = |s: &str| crate::options::count_in(s, 1, 10_000_000))]
    pub rounds: usize,
    /// Measure memory instead of time: the Okta library with every report against a local server that answers
    /// every request with a huge JSON body; prints the peak RSS and the report sizes
    /// (see `cli::huge`). `--jobs` applies (`run` uses 4).
    #[arg(long)]
    pub huge_bodies: bool,
    /// Size of that body in MiB (with `--huge-bodies`), above 0 and at most 1,024.
    #[arg(long, default_value_t = 2.0, requires = "huge_bodies", value_parser = |s: &str| crate::options::number_in(s, 1.0 / 1024.0, 1024.0))]
    pub body_mib: f64,
}

/// One iteration's figures, in microseconds per request unless named otherwise.
struct Sample {
    wall: Duration,
    requests: usize,
    runner: f64,
    http: f64,
    judging: f64,
    transcript: f64,
    server_start_stop_per_scenario: f64,
    bare: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Runs the benchmark and prints its figures; returns the exit code.
pub async fn bench(args: BenchArgs) -> Result<i32, String> {
    let scenarios = load(&args.scenarios, !args.scenarios.is_empty())?;
    if scenarios.is_empty() {
        return Err("no scenarios to benchmark".into());
    }
    let iterations = args.iterations.max(1);
    let runner = Runner::new(Against::Reference, RunOptions { jobs: args.jobs.max(1), ..RunOptions::default() })?;
    // warm-up (connection pool, allocator, lazy statics); keep the requests for the bare replay
    let warm = runner.run(&scenarios).await;
    for bad in warm.results.iter().filter(|r| r.verdict != Verdict::Pass) {
        crate::outln!(
            "warning: {} is {:?} against the reference server; figures are still measured",
            bad.id,
            bad.verdict
        );
    }
    let recorded: Vec<(Scenario, Vec<SentRequest>)> = warm
        .results
        .iter()
        .filter_map(|r| {
            let s = scenarios.iter().find(|s| s.id == r.id)?.clone();
            Some((s, r.steps.iter().chain(&r.cleanup).filter_map(|s| s.request.clone()).collect()))
        })
        .collect();
    let client = crate::http::client(&crate::http::ClientOptions::default())?;
    bare_replay(&client, &recorded).await?; // warm the bare client too

    let mut samples = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let started = Instant::now();
        let outcome = runner.run(&scenarios).await;
        let wall = started.elapsed();
        let (mut requests, mut scenario_ms, mut server_ms, mut http_ms, mut step_ms) = (0, 0.0, 0.0, 0.0, 0.0);
        for r in &outcome.results {
            requests += r.requests();
            scenario_ms += r.duration_ms;
            server_ms += r.server_ms;
            http_ms += r.steps.iter().chain(&r.cleanup).map(|s| s.http_ms).sum::<f64>();
            step_ms += r.steps.iter().chain(&r.cleanup).map(|s| s.duration_ms).sum::<f64>();
        }
        let (bare_requests, bare_ms) = bare_replay(&client, &recorded).await?;
        let per = |ms: f64, n: usize| ms * 1000.0 / n.max(1) as f64;
        samples.push(Sample {
            wall,
            requests,
            runner: per(scenario_ms - server_ms, requests),
            http: per(http_ms, requests),
            judging: per(step_ms - http_ms, requests),
            transcript: per(scenario_ms - server_ms - step_ms, requests),
            server_start_stop_per_scenario: server_ms * 1000.0 / outcome.results.len().max(1) as f64,
            bare: per(bare_ms, bare_requests),
        });
    }

    let wall: Duration = samples.iter().map(|s| s.wall).sum();
    let requests: usize = samples.iter().map(|s| s.requests).sum();
    let m = |f: fn(&Sample) -> f64| median(samples.iter().map(f).collect());
    let runner_us = m(|s| s.runner);
    let bare_us = m(|s| s.bare);
    let overhead = m(|s| s.runner - s.bare);
    let own = m(|s| s.judging + s.transcript);
    crate::outln!("suite: {} scenario(s), {iterations} iteration(s), jobs {}", scenarios.len(), args.jobs.max(1));
    crate::outln!(
        "wall time: {:.1} ms total, {:.2} ms per suite run (median {:.2} ms)",
        wall.as_secs_f64() * 1000.0,
        wall.as_secs_f64() * 1000.0 / iterations as f64,
        m(|s| s.wall.as_secs_f64() * 1000.0)
    );
    crate::outln!(
        "requests: {requests} in total, {:.0} requests/s over the runner's wall time (a fresh server per scenario included)",
        requests as f64 / wall.as_secs_f64()
    );
    crate::outln!(
        "in-process server start+stop: {:.0} µs per scenario (median)",
        m(|s| s.server_start_stop_per_scenario)
    );
    crate::outln!("per request, medians over iterations:");
    crate::outln!("  runner, whole step:               {runner_us:8.1} µs");
    crate::outln!("    inside the HTTP exchange:       {:8.1} µs", m(|s| s.http));
    crate::outln!("    building requests and judging:  {:8.1} µs", m(|s| s.judging));
    crate::outln!("    variables, normalisation, snapshot text: {:.1} µs", m(|s| s.transcript));
    crate::outln!("  bare reqwest replay, same requests: {bare_us:6.1} µs");
    crate::outln!(
        "runner overhead over the server's own time: {overhead:.1} µs per request (runner − bare loop); \
         measured directly outside the HTTP exchange: {own:.1} µs (target: under 100 µs)"
    );
    crate::outln!(
        "method: each iteration runs the suite through the runner, then replays the identical requests with a \
         plain reqwest client against fresh servers; the difference per request is the runner's overhead."
    );
    Ok(0)
}

/// Replays recorded requests with a bare client against fresh servers; returns (requests, total ms excluding
/// server start/stop).
async fn bare_replay(
    client: &reqwest::Client,
    recorded: &[(Scenario, Vec<SentRequest>)],
) -> Result<(usize, f64), String> {
    let mut count = 0;
    let mut total = Duration::ZERO;
    for (scenario, requests) in recorded {
        let server = scim_reference_server::spawn(scim_reference_server::ServerConfig::default())
            .await
            .map_err(|e| format!("cannot start the reference server: {e}"))?;
        let profile = Profile::of(scenario.idp);
        let auth = crate::credential::Credential::Token(server.token.clone())
            .authorization(crate::profile::AuthStyle::Bearer)
            .await
            .map_err(|e| e.message)?
            .unwrap_or_default();
        let started = Instant::now();
        for req in requests {
            let url =
                crate::exchange::BaseUri::new(&server.base_url).join(&req.path, &profile.encode_query(&req.query));
            let method = reqwest::Method::from(req.method);
            let mut b = client.request(method, url);
            for (k, v) in &req.headers {
                b = b.header(k, v);
            }
            if req.auth == AuthMode::Default {
                b = b.header("Authorization", &auth);
            }
            if let Some(body) = &req.body {
                b = b.body(serde_json::to_vec(body).expect("JSON serialises"));
            }
            // the bench times the exchanges, whatever they answer
            let _ = crate::exchange::receive(b, BENCH_BODY_LIMIT, BENCH_TIMEOUT).await;
            count += 1;
        }
        total += started.elapsed();
        server.shutdown().await;
    }
    Ok((count, total.as_secs_f64() * 1000.0))
}
