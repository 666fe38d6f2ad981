//! `scimcheck bench --proxy`: the latency `scimcheck record` adds to each request on loopback.
//!
//! Method. One in-process reference server is the upstream; one recorder proxy forwards to it. A single client
//! sends the same mix of IdP requests (a `userName eq` lookup, a create, a GET by id, a PATCH that deactivates)
//! alternately straight to the server and through the proxy, one request at a time, so background load hits both
//! paths alike. Each path's latencies go into a histogram (microsecond resolution); the added latency is reported
//! as the difference of the two paths' medians and of their 99th percentiles. The proxy's capture (bodies kept in
//! memory) is part of what is measured; converting the capture to scenarios happens after stopping and is not.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::{json, Value};

use super::proxy::{forwarding_client, ProxyConfig, RunningProxy, Upstream};

/// Bytes of an answer a bench reads at most (64 MiB): more than any answer of its requests.
const BENCH_BODY_LIMIT: usize = 64 << 20;

/// Time a bench waits for one exchange (60 s): a stuck server ends the bench with an error, not a hang.
const BENCH_TIMEOUT: Duration = Duration::from_secs(60);

/// Figures for one path, in microseconds.
#[derive(Debug, Clone, Copy)]
pub struct PathFigures {
    /// Median latency.
    pub p50: u64,
    /// 99th percentile latency.
    pub p99: u64,
}

/// The result: the direct path, the proxied path, and requests per path.
#[derive(Debug, Clone, Copy)]
pub struct ProxyOverhead {
    /// Straight to the upstream.
    pub direct: PathFigures,
    /// Through `scimcheck record`.
    pub proxied: PathFigures,
    /// Requests sent on each path.
    pub requests: usize,
}

impl ProxyOverhead {
    /// Added median latency in microseconds (negative when noise makes the proxy look faster).
    pub fn added_p50(&self) -> i64 {
        self.proxied.p50 as i64 - self.direct.p50 as i64
    }
    /// Added 99th-percentile latency in microseconds.
    pub fn added_p99(&self) -> i64 {
        self.proxied.p99 as i64 - self.direct.p99 as i64
    }
}

/// One IdP-shaped request: method, path below the base URL, body.
type Req = (reqwest::Method, String, Option<Value>);

/// The request mix of round `i`: Okta's lookup-then-create, a read and a deactivation of what was created.
fn round(i: usize, tag: &str) -> Vec<Req> {
    let name = format!("bench.{tag}.{i}@example.test");
    vec![
        (reqwest::Method::GET, format!("/Users?filter=userName%20eq%20%22{name}%22&startIndex=1&count=100"), None),
        (
            reqwest::Method::POST,
            "/Users".into(),
            Some(json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": name,
                "name": {"givenName": "Bench", "familyName": format!("User{i}")},
                "emails": [{"primary": true, "value": name, "type": "work"}],
                "displayName": format!("Bench User{i}"),
                "active": true
            })),
        ),
    ]
}

async fn send(client: &reqwest::Client, base: &str, auth: &str, req: &Req) -> Result<(Duration, Value), String> {
    let (method, path, body) = req;
    let url = crate::exchange::BaseUri::new(base).join(path, "");
    let mut b =
        client.request(method.clone(), url).header("Authorization", auth).header("Accept", "application/scim+json");
    if let Some(body) = body {
        b = b.header("Content-Type", "application/scim+json").body(body.to_string());
    }
    let answer = crate::exchange::receive(b, BENCH_BODY_LIMIT, BENCH_TIMEOUT)
        .await
        .map_err(|e| format!("{method} {path}: {e}"))?;
    if !(200..300).contains(&answer.status) {
        return Err(format!("{method} {path} answered {}", answer.status));
    }
    let json = answer.bytes.and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or(Value::Null);
    Ok((answer.elapsed, json))
}

/// Sends one round on one path: the mix, then a GET by id and a deactivating PATCH of the created user.
async fn one_round(
    client: &reqwest::Client,
    base: &str,
    auth: &str,
    reqs: &[Req],
    hist: &mut Histogram<u64>,
) -> Result<(), String> {
    let mut id = None;
    for r in reqs {
        let (took, body) = send(client, base, auth, r).await?;
        let _ = hist.record(took.as_micros().max(1) as u64);
        if let Some(i) = body.get("id").and_then(Value::as_str) {
            id = Some(i.to_string());
        }
    }
    let id = id.ok_or("the create answered no id")?;
    let follow = [
        (reqwest::Method::GET, format!("/Users/{id}"), None),
        (
            reqwest::Method::PATCH,
            format!("/Users/{id}"),
            Some(json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "value": {"active": false}}]
            })),
        ),
    ];
    for r in &follow {
        let (took, _) = send(client, base, auth, r).await?;
        let _ = hist.record(took.as_micros().max(1) as u64);
    }
    Ok(())
}

/// Measures the proxy's added latency over `rounds` rounds (4 requests per round and path).
///
/// Errors: the reference server or the proxy cannot start, or a request fails.
pub async fn measure(rounds: usize) -> Result<ProxyOverhead, String> {
    let server = scim_reference_server::spawn(scim_reference_server::ServerConfig::default())
        .await
        .map_err(|e| format!("cannot start the reference server: {e}"))?;
    let upstream = Upstream::parse(&server.base_url)?;
    let tls = crate::http::TlsOptions::default();
    let proxy = RunningProxy::start(ProxyConfig {
        upstream,
        listen: "127.0.0.1:0".parse().expect("a socket address"),
        body_limit: 1 << 20,
        tls: tls.clone(),
        limits: Default::default(),
        upstream_timeout: std::time::Duration::from_secs(60),
    })
    .await?;
    // The IdP's base URL is the proxy's root: every path is forwarded below the upstream's base URL.
    let via = format!("http://{}", proxy.addr);
    let client = forwarding_client(&tls)?;
    let auth = crate::credential::Credential::Token(server.token.clone())
        .authorization(crate::profile::AuthStyle::Bearer)
        .await
        .map_err(|e| e.message)?
        .unwrap_or_default();
    let new_hist = || Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("valid bounds");
    let (mut direct, mut proxied) = (new_hist(), new_hist());
    // Warm both paths (connection pools, allocator) before measuring.
    let mut scratch = new_hist();
    for i in 0..20 {
        one_round(&client, &server.base_url, &auth, &round(i, "warm-direct"), &mut scratch).await?;
        one_round(&client, &via, &auth, &round(i, "warm-proxied"), &mut scratch).await?;
    }
    for i in 0..rounds.max(1) {
        // Alternate which path goes first, so neither always meets a warmer cache.
        if i % 2 == 0 {
            one_round(&client, &server.base_url, &auth, &round(i, "direct"), &mut direct).await?;
            one_round(&client, &via, &auth, &round(i, "proxied"), &mut proxied).await?;
        } else {
            one_round(&client, &via, &auth, &round(i, "proxied"), &mut proxied).await?;
            one_round(&client, &server.base_url, &auth, &round(i, "direct"), &mut direct).await?;
        }
    }
    let _ = proxy.finish().await;
    let fig = |h: &Histogram<u64>| PathFigures { p50: h.value_at_quantile(0.5), p99: h.value_at_quantile(0.99) };
    Ok(ProxyOverhead { direct: fig(&direct), proxied: fig(&proxied), requests: direct.len() as usize })
}

/// `scimcheck bench --proxy`: prints the figures.
pub async fn bench_command(rounds: usize) -> Result<i32, String> {
    let r = measure(rounds).await?;
    let ms = |us: u64| us as f64 / 1000.0;
    crate::outln!("scimcheck record: added latency on loopback, {} requests per path, one at a time", r.requests);
    crate::outln!("                 median      p99");
    crate::outln!("direct        {:>8.3} ms {:>8.3} ms", ms(r.direct.p50), ms(r.direct.p99));
    crate::outln!("via record    {:>8.3} ms {:>8.3} ms", ms(r.proxied.p50), ms(r.proxied.p99));
    crate::outln!("added         {:>8.3} ms {:>8.3} ms", r.added_p50() as f64 / 1000.0, r.added_p99() as f64 / 1000.0);
    Ok(0)
}
