//! `scimcheck bench`: wall time, requests per second and the runner's own overhead per request for the whole
//! built-in suite against the in-process reference server.
//!
//! Method. The suite runs `iterations` times through the runner (one fresh reference server per scenario, as in
//! `run --reference`). Then the very requests the runner sent are replayed with a bare reqwest loop (same method,
//! path, query, headers and body, sequentially, against fresh servers) — that loop measures the client-observed
//! cost of the server plus a minimal HTTP client. The runner's overhead per request is the runner's time per
//! request (scenario wall time minus in-process server start/stop, divided by requests) minus the bare loop's
//! time per request. The in-runner split (time outside the HTTP exchange: substitution, checks, captures,
//! normalisation, snapshot text) is printed too.

use std::time::{Duration, Instant};

use crate::cli::{load, BenchArgs};
use crate::exchange::SentRequest;
use crate::profile::Profile;
use crate::runner::{RunOptions, Runner, Target};
use crate::scenario::Scenario;

struct Totals {
    wall: Duration,
    requests: usize,
    scenario_ms: f64,
    server_ms: f64,
    http_ms: f64,
}

/// Runs the benchmark and prints its figures; returns the exit code.
pub async fn bench(args: BenchArgs) -> Result<i32, String> {
    let scenarios = load(args.scenarios.as_deref())?;
    if scenarios.is_empty() {
        return Err("no scenarios to benchmark".into());
    }
    let iterations = args.iterations.max(1);
    let runner = Runner::new(
        Target::Reference,
        RunOptions {
            jobs: args.jobs.max(1),
            ..RunOptions::default()
        },
    )?;
    // warm-up (connection pool, allocator, lazy statics)
    let warm = runner.run(&scenarios, vec![]).await;
    if let Some(bad) = warm.results.iter().find(|r| r.verdict != crate::runner::Verdict::Pass) {
        println!("warning: {} is {:?} against the reference server; figures still measured", bad.id, bad.verdict);
    }
    let mut t = Totals {
        wall: Duration::ZERO,
        requests: 0,
        scenario_ms: 0.0,
        server_ms: 0.0,
        http_ms: 0.0,
    };
    let mut recorded: Vec<(Scenario, Vec<SentRequest>)> = Vec::new();
    for i in 0..iterations {
        let started = Instant::now();
        let outcome = runner.run(&scenarios, vec![]).await;
        t.wall += started.elapsed();
        for r in &outcome.results {
            t.requests += r.requests();
            t.scenario_ms += r.duration_ms;
            t.server_ms += r.server_ms;
            t.http_ms += r.steps.iter().chain(&r.cleanup).map(|s| s.http_ms).sum::<f64>();
            if i == 0 {
                let s = scenarios.iter().find(|s| s.id == r.id).cloned().expect("result of a loaded scenario");
                let reqs = r.steps.iter().chain(&r.cleanup).filter_map(|s| s.request.clone()).collect();
                recorded.push((s, reqs));
            }
        }
    }
    let (bare_requests, bare_ms) = bare_replay(&recorded, iterations).await?;

    let per_req = |ms: f64, n: usize| ms * 1000.0 / n.max(1) as f64;
    let runner_us = per_req(t.scenario_ms - t.server_ms, t.requests);
    let http_us = per_req(t.http_ms, t.requests);
    let bare_us = per_req(bare_ms, bare_requests);
    println!(
        "suite: {} scenario(s), {} iteration(s), jobs {}",
        scenarios.len(),
        iterations,
        args.jobs.max(1)
    );
    println!(
        "wall time: {:.1} ms total, {:.2} ms per suite run",
        t.wall.as_secs_f64() * 1000.0,
        t.wall.as_secs_f64() * 1000.0 / iterations as f64
    );
    println!(
        "requests: {} ({:.0} requests/s over the wall time, including a fresh server per scenario)",
        t.requests,
        t.requests as f64 / t.wall.as_secs_f64()
    );
    println!("in-process server start+stop: {:.1} µs per scenario", t.server_ms * 1000.0 / (scenarios.len() * iterations) as f64);
    println!("runner, per request: {runner_us:.1} µs (of which {http_us:.1} µs inside the HTTP exchange)");
    println!("bare reqwest replay of the same requests: {bare_us:.1} µs per request ({bare_requests} requests)");
    println!(
        "runner overhead over the server's own time: {:.1} µs per request (target: under 100 µs)",
        runner_us - bare_us
    );
    println!(
        "method: runner time per request = (scenario wall time - server start/stop) / requests; the bare loop \
         replays the identical requests with a plain reqwest client; overhead = the difference."
    );
    Ok(0)
}

/// Replays recorded requests with a bare client against fresh servers; returns (requests, total ms).
async fn bare_replay(recorded: &[(Scenario, Vec<SentRequest>)], iterations: usize) -> Result<(usize, f64), String> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let mut count = 0;
    let mut total = Duration::ZERO;
    for _ in 0..iterations {
        for (scenario, requests) in recorded {
            let server = scim_reference_server::spawn(scim_reference_server::ServerConfig::default())
                .await
                .map_err(|e| format!("cannot start the reference server: {e}"))?;
            let profile = Profile::of(scenario.idp);
            let auth = format!("Bearer {}", server.token);
            let started = Instant::now();
            for req in requests {
                let mut url = format!("{}{}", server.base_url, req.path);
                if !req.query.is_empty() {
                    url.push('?');
                    url.push_str(&profile.encode_query(&req.query));
                }
                let method = reqwest::Method::from_bytes(req.method.as_str().as_bytes()).expect("valid method");
                let mut b = client.request(method, url);
                for (k, v) in &req.headers {
                    b = b.header(k, v);
                }
                if req.auth == crate::scenario::AuthMode::Default {
                    b = b.header("Authorization", &auth);
                }
                if let Some(body) = &req.body {
                    b = b.body(serde_json::to_vec(body).expect("JSON serialises"));
                }
                if let Ok(resp) = b.send().await {
                    let _ = resp.bytes().await;
                }
                count += 1;
            }
            total += started.elapsed();
            server.shutdown().await;
        }
    }
    Ok((count, total.as_secs_f64() * 1000.0))
}
