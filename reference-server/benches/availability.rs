//! Availability under heavy requests: how long one tenant's large membership and projection requests take,
//! and how long a small request to **another** tenant waits meanwhile.
//!
//! The server runs in its own two-worker runtime on its own thread (like the binary on a 2-core machine); the
//! client runs on the main thread, over real HTTP on 127.0.0.1. Tenant `acme` is seeded with N users (N from
//! `SCIM_BENCH_SIZES`, default 100,000; 1,000 as a test) and a group holding all of them. Measured, each once
//! per size (these are whole requests of tens of milliseconds to seconds, not micro-benchmarks):
//!
//! - `add 1 member to an N-member group`: PATCH `add members` with one new user, 21 times on a warm connection,
//!   median and slowest (target ≤ 1 ms at 100k);
//! - `add 10,000 members`: one PATCH adding 10,000 users to an empty group (target ≤ 50 ms);
//! - `10,000 unknown member ids`: the same PATCH with ids that do not exist, until its 400;
//! - `attributes= of 1 MB`: a POST `/Users/.search` over 1,000 users whose `attributes` list is 1 MB of names;
//!
//! and, during each, the worst latency of `GET /Users?count=1` sent back-to-back to tenant `other` (target
//! under 5 ms). A request that takes more than 60 s is reported as such and abandoned.
//!
//! Then, on a server with `--header-timeout 1 --shutdown-grace 1 --max-connections 256`: how long a slowloris
//! client (one header byte every 100 ms, never finishing) keeps its connection; how long a normal request
//! waits while 300 such clients hold more than the connections allowed (client and server share this
//! process's file descriptors, hence the lower limit); and how long shutdown takes while a client holds a
//! half-sent body.

#[allow(dead_code)]
mod common;

/// The allocator of the server binaries (`scim-reference-server`, `scimcheck serve`), so that the figures are theirs.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use scim_reference_server::config::{Config, TokenConfig};
use scim_reference_server::schema::ResourceKind;
use scim_reference_server::serve::Limits;
use scim_reference_server::tenant::AppKind;
use scim_reference_server::{spawn, ServerConfig};
use serde_json::{json, Value};

use common::{size_label, user_body};

const ACME_TOKEN: &str = "availability-acme-token-0123456789";
const OTHER_TOKEN: &str = "availability-other-token-0123456789";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// How many single-member adds are measured (each a different user, on one warm connection).
const SINGLES: usize = 21;

fn sizes() -> Vec<usize> {
    common::sizes_for(&[100_000])
}

fn seed_config() -> Config {
    let mut seed = Config::builtin();
    let mut other = seed.tenants[0].clone();
    other.name = "other".into();
    other.accounts.clear();
    for (tenant, token) in seed.tenants.iter_mut().chain(std::iter::once(&mut other)).zip([ACME_TOKEN, OTHER_TOKEN]) {
        for app in tenant.apps.values_mut() {
            app.tokens.clear();
        }
        if let Some(okta) = tenant.apps.get_mut(&AppKind::Okta) {
            okta.tokens =
                vec![TokenConfig { token: token.into(), expires_at: None, label: Some("availability bench".into()) }];
        }
        // Enough seats for every seeded user.
        for cal in &mut tenant.cals {
            cal.seats = 2_000_000;
        }
    }
    seed.tenants.push(other);
    seed
}

struct Figures {
    took: Option<Duration>,
    status: u16,
    worst_other: Duration,
    probes: usize,
    failed: usize,
}

/// Sends `req` and, until it answers, back-to-back small requests to the other tenant. The request runs as its
/// own task from the start, so its time is its own (the head start given below is not counted in it).
async fn measure(client: &reqwest::Client, other_url: &str, req: reqwest::RequestBuilder) -> Figures {
    let main = tokio::spawn(async move {
        let started = Instant::now();
        let res = tokio::time::timeout(Duration::from_secs(60), req.send()).await;
        (started.elapsed(), res.ok().and_then(Result::ok).map(|r| r.status().as_u16()))
    });
    tokio::pin!(main);
    let mut worst = Duration::ZERO;
    let mut probes = 0;
    // Give the heavy request a head start so that it is being processed when the probes run.
    tokio::time::sleep(Duration::from_millis(2)).await;
    let mut failed = 0;
    loop {
        if main.is_finished() {
            let (took, status) = main.await.unwrap_or((Duration::MAX, None));
            return Figures {
                took: status.map(|_| took),
                status: status.unwrap_or(0),
                worst_other: worst,
                probes,
                failed,
            };
        }
        let probe_started = Instant::now();
        let probe = async {
            let r = client.get(format!("{other_url}/Users?count=1")).bearer_auth(OTHER_TOKEN).send().await;
            r.map(|r| r.status().is_success()).unwrap_or(false)
        };
        tokio::select! {
            res = &mut main => {
                // A probe still waiting counts with the time it has waited so far.
                let worst = worst.max(probe_started.elapsed());
                let (took, status) = res.unwrap_or((Duration::MAX, None));
                return Figures { took: status.map(|_| took), status: status.unwrap_or(0), worst_other: worst, probes, failed };
            }
            ok = probe => {
                worst = worst.max(probe_started.elapsed());
                probes += 1;
                failed += usize::from(!ok);
            }
        }
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn report(name: &str, f: &Figures) {
    let took = f.took.map(ms).unwrap_or_else(|| "> 60 s (abandoned)".into());
    println!(
        "{name:<48} {took:>18}  status {:>3}  other tenant: worst {:>11} over {} probes ({} failed)",
        f.status,
        ms(f.worst_other),
        f.probes,
        f.failed
    );
}

fn main() {
    for n in sizes() {
        run(n);
    }
    connection_limits();
}

/// Slowloris, connection exhaustion and shutdown with a half-sent body, against 1 s limits.
fn connection_limits() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let limits = Limits {
            header_timeout: Duration::from_secs(1),
            shutdown_grace: Duration::from_secs(1),
            body_timeout: Duration::from_secs(600),
            max_connections: 256,
            ..Limits::default()
        };
        let config = ServerConfig::default().with_seed(seed_config()).with_limits(limits);
        let server = spawn(config).await.unwrap();
        let addr = server.addr;
        println!("
connection limits (--header-timeout 1 --shutdown-grace 1 --max-connections 256):");
        // One slowloris client: a header byte every 100 ms, never a complete head.
        let started = Instant::now();
        let mut slow = TcpStream::connect(addr).await.unwrap();
        let head = b"GET /t/acme/api/v1/SCIM/SCIMOkta/Users HTTP/1.1\r\nHost: x\r\nX-Slow: ";
        slow.write_all(head).await.unwrap();
        let mut held = None;
        for _ in 0..600 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if slow.write_all(b"a").await.is_err() {
                held = Some(started.elapsed());
                break;
            }
            let mut buf = [0u8; 256];
            // Anything but a timeout (end of stream, an error, or a 408 before closing) means the server let go.
            if tokio::time::timeout(Duration::from_millis(1), slow.read(&mut buf)).await.is_ok() {
                held = Some(started.elapsed());
                break;
            }
        }
        let held = held.map(ms).unwrap_or_else(|| "> 60 s".into());
        println!("{:<48} {held:>18}", "slowloris connection closed after");
        // 300 slowloris clients (more than --max-connections) and one normal request.
        let mut hogs = Vec::new();
        for _ in 0..300 {
            if let Ok(mut c) = TcpStream::connect(addr).await {
                let _ = c.write_all(head).await;
                hogs.push(c);
            }
        }
        let client = reqwest::Client::new();
        let started = Instant::now();
        let url = format!("http://{addr}/t/other/api/v1/SCIM/SCIMOkta/Users?count=1");
        let r = client.get(url).bearer_auth(OTHER_TOKEN).timeout(Duration::from_secs(60)).send().await;
        let status = r.map(|r| r.status().as_u16()).unwrap_or(0);
        println!("{:<48} {:>18}  status {status:>3}", "a request while 300 slowloris clients connect", ms(started.elapsed()));
        drop(hogs);
        // Shutdown while a client holds a half-sent body.
        let mut stuck = TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "POST /t/acme/api/v1/SCIM/SCIMOkta/Users HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {ACME_TOKEN}\r\nContent-Type: application/scim+json\r\nContent-Length: 100\r\n\r\n{{"
        );
        stuck.write_all(head.as_bytes()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = Instant::now();
        let ended = tokio::time::timeout(Duration::from_secs(60), server.shutdown()).await;
        let took = if ended.is_ok() { ms(started.elapsed()) } else { "> 60 s".into() };
        println!("{:<48} {took:>18}", "shutdown with a half-sent body took");
    });
}

fn run(n: usize) {
    let (tx, rx) = mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server_thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async move {
            let server = spawn(ServerConfig::default().with_seed(seed_config())).await.unwrap();
            let acme = server.tenants.get("acme").unwrap();
            let started = Instant::now();
            let mut ids = Vec::with_capacity(n);
            for i in 0..n + 10_000 + SINGLES {
                let u = acme.directory.create(ResourceKind::User, user_body(i)).unwrap();
                ids.push(u["id"].as_str().unwrap().to_string());
            }
            let members: Vec<Value> = ids[..n].iter().map(|id| json!({"value": id})).collect();
            let big = acme
                .directory
                .create(ResourceKind::Group, json!({"displayName": "Everyone", "members": members}))
                .unwrap();
            let empty = acme.directory.create(ResourceKind::Group, json!({"displayName": "Empty"})).unwrap();
            eprintln!("seeded {} users and a {n}-member group in {:?}", ids.len(), started.elapsed());
            let base = format!("http://{}/t", server.addr);
            tx.send((base, ids, big["id"].as_str().unwrap().to_string(), empty["id"].as_str().unwrap().to_string()))
                .unwrap();
            let _ = stop_rx.await;
            server.shutdown().await;
        });
    });
    let (base, ids, big, empty) = rx.recv().unwrap();
    let acme = format!("{base}/acme/api/v1/SCIM/SCIMOkta");
    let other = format!("{base}/other/api/v1/SCIM/SCIMOkta");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let client = reqwest::Client::new();
    println!("\navailability at {} users (acme), probes to tenant 'other':", size_label(n));
    rt.block_on(async {
        let patch = |group: &str, values: Vec<Value>| {
            client
                .patch(format!("{acme}/Groups/{group}"))
                .bearer_auth(ACME_TOKEN)
                .header("content-type", "application/scim+json")
                .body(
                    json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": values}]})
                        .to_string(),
                )
        };
        // A warm connection first: the figure is the PATCH, not the TCP handshake or a new blocking thread.
        let warm = client.get(format!("{acme}/Groups/{big}?excludedAttributes=members")).bearer_auth(ACME_TOKEN);
        let _ = warm.send().await.map(|r| r.status());
        let mut singles = Vec::with_capacity(SINGLES);
        for id in &ids[n..n + SINGLES] {
            singles.push(measure(&client, &other, patch(&big, vec![json!({"value": id})])).await);
        }
        singles.sort_by_key(|f| f.took.unwrap_or(Duration::MAX));
        let label = format!("add 1 member to a {}-member group", size_label(n));
        report(&format!("{label} (median of {SINGLES})"), &singles[SINGLES / 2]);
        report(&format!("{label} (slowest)"), &singles[SINGLES - 1]);
        let many: Vec<Value> = ids[n + SINGLES..n + SINGLES + 10_000].iter().map(|id| json!({"value": id})).collect();
        let f = measure(&client, &other, patch(&empty, many)).await;
        report("add 10,000 members to a group", &f);
        let unknown: Vec<Value> = (0..10_000).map(|_| json!({"value": uuid::Uuid::new_v4().to_string()})).collect();
        let f = measure(&client, &other, patch(&empty, unknown)).await;
        report("add 10,000 unknown member ids (400)", &f);
        // Valid names, repeated: a projection has to be worked out, not rejected.
        let names = ["name.givenName", "emails.value", "displayName", "externalId", "active", "locale"];
        let mut list = String::from("userName");
        for name in names.iter().cycle() {
            if list.len() > 1_000_000 {
                break;
            }
            list.push(',');
            list.push_str(name);
        }
        let search = client
            .post(format!("{acme}/Users/.search"))
            .bearer_auth(ACME_TOKEN)
            .header("content-type", "application/scim+json")
            .body(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "attributes": list, "count": 1000}).to_string());
        let f = measure(&client, &other, search).await;
        report("POST .search, attributes= of 1 MB, 1,000 users", &f);
    });
    let _ = stop_tx.send(());
    let _ = server_thread.join();
}
