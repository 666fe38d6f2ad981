//! The recorder facing what it should not forward or keep: credentials in query strings
//! and credential-named headers never reach a written file; paths with dot segments that leave the upstream's
//! base path are refused with 400 and never forwarded; the proxy bounds header time, idle connections and the
//! number of connections, and answers 504 when the upstream does not answer in time.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Request;
use scimcheck::record::proxy::{ProxyConfig, RunningProxy, Upstream};
use serde_json::{json, Value};

/// An upstream that answers every request 200 with a SCIM ListResponse echoing the path and query it got,
/// counting requests and keeping their paths.
async fn echo_upstream() -> (String, Arc<AtomicUsize>, Arc<Mutex<Vec<String>>>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (h, s) = (hits.clone(), seen.clone());
    let app = axum::Router::new().fallback(move |req: Request| {
        let (h, s) = (h.clone(), s.clone());
        async move {
            h.fetch_add(1, Ordering::SeqCst);
            s.lock().unwrap().push(req.uri().to_string());
            let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 0,
                              "Resources": [], "echo": req.uri().to_string(),
                              "headers": format!("{:?}", req.headers())});
            axum::response::Response::builder()
                .status(200)
                .header("Content-Type", "application/scim+json")
                .body(axum::body::Body::from(body.to_string()))
                .unwrap()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let up = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{up}/base/scim"), hits, seen)
}

fn config(upstream: &str) -> ProxyConfig {
    ProxyConfig {
        upstream: Upstream::parse(upstream).unwrap(),
        listen: "127.0.0.1:0".parse().unwrap(),
        body_limit: 1 << 20,
        tls: Default::default(),
        limits: Default::default(),
        upstream_timeout: Duration::from_secs(60),
    }
}

fn files_text(dir: &std::path::Path) -> String {
    let mut text = String::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                text.push_str(&std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    text
}

/// Item 15: `access_token=…` and `api_key=…` in the query string and an `X-Auth-Token` header are forwarded
/// unchanged (the upstream needs them) but written nowhere — not in the recorded query, and not where the
/// upstream echoed them in its body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_in_the_query_string_are_forwarded_but_never_written() {
    let (token, key, header) = ("qtok-5f4e3d2c1b0a99", "akey-0a1b2c3d4e5f88", "htok-776655443322");
    let (upstream, _, seen) = echo_upstream().await;
    let proxy = RunningProxy::start(config(&upstream)).await.unwrap();
    let resp = reqwest::Client::new()
        .get(format!(
            "http://{}/Users?filter=userName+eq+%22a%40example.com%22&access_token={token}&api_key={key}",
            proxy.addr
        ))
        .header("User-Agent", "Okta SCIM Client 1.0.0")
        .header("X-Auth-Token", header)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let echoed: Value = resp.json().await.unwrap();
    assert!(echoed["echo"].as_str().unwrap().contains(token), "the upstream got the query as sent: {echoed}");
    assert!(seen.lock().unwrap()[0].contains(key));
    let (flows, secrets) = proxy.finish().await;
    assert_eq!(flows[0].query, "filter=userName+eq+%22a%40example.com%22");
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("scimcheck-hostile-query-{}", uuid::Uuid::new_v4()));
    let options = scimcheck::record::ConvertOptions { idp: None, origin: "test".into(), now: chrono::Utc::now() };
    scimcheck::record::convert::write_all(&flows, &options, &out, &secrets).unwrap();
    let text = files_text(&out);
    std::fs::remove_dir_all(&out).unwrap();
    assert!(text.contains("userName"), "a scenario was written:\n{text}");
    for secret in [token, key, header] {
        assert!(!text.contains(secret), "{secret} was written:\n{text}");
    }
}

/// Sends one raw HTTP/1.1 request (the path exactly as given, no client normalisation) and returns the status
/// and body of the answer.
async fn raw_get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: idp\r\nAuthorization: Bearer rec-hostile-token\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await.unwrap().unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

/// Item 14: a path whose dot segments climb out of the upstream's base path, in any spelling, is answered 400
/// with a SCIM error and never reaches the upstream nor the recording; dot segments that stay below the base
/// are removed before forwarding.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dot_segments_never_escape_the_upstream_base_path() {
    let (upstream, hits, seen) = echo_upstream().await;
    let proxy = RunningProxy::start(config(&upstream)).await.unwrap();
    for path in [
        "/../../../../admin/tenants",
        "/%2e%2e/%2e%2e/admin/tenants",
        "/%2E%2E/%2E%2E/admin",
        "/.%2e/x/.%2e/.%2e/admin",
        "/Users/..%2f..%2f..%2fadmin",
        "/Users/..%5c..%5c..%5cadmin",
        "/..;/..;/admin",
        "/Users/../../admin",
    ] {
        let (status, body) = raw_get(proxy.addr, path).await;
        assert!(status == 400, "{path}: {status} {body}");
        if !body.is_empty() {
            let err: Value = serde_json::from_str(body.trim()).unwrap_or_else(|e| panic!("{path}: {e}: {body}"));
            assert_eq!(err["status"], "400", "{path}: {err}");
            assert!(err.get("scimType").is_none(), "no SCIM scimType names a bad request path: {err}");
            assert!(err["detail"].as_str().unwrap().contains("not forwarded"), "{err}");
        }
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "nothing was forwarded: {:?}", seen.lock().unwrap());
    let (status, _) = raw_get(proxy.addr, "/Users/./x/../abc?count=1").await;
    assert_eq!(status, 200);
    assert_eq!(seen.lock().unwrap().as_slice(), ["/base/scim/Users/abc?count=1"]);
    let (flows, _) = proxy.finish().await;
    assert_eq!(flows.len(), 1, "only the forwarded request was recorded");
    assert_eq!(flows[0].path, "/Users/abc");
}

/// Reads from `s` until the peer closes it (or `within` passes): whether it was closed, and what was read.
async fn closed_within(s: &mut tokio::net::TcpStream, within: Duration) -> (bool, String) {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (true, String::from_utf8_lossy(&got).into_owned()),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return (false, String::from_utf8_lossy(&got).into_owned()),
        }
    }
}

/// Item 16: the proxy has the reference server's protections — a client dripping its request head is closed
/// at the header timeout, an idle keep-alive connection at the idle timeout — and an upstream that never
/// answers gets the IdP a 504 at the upstream timeout instead of holding it forever. Before, a dripped header
/// stayed open 45 s and a silent upstream held the client without end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_idle_and_upstream_timeouts_bound_every_connection() {
    use tokio::io::AsyncWriteExt;
    // an upstream that accepts and never answers
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_addr = silent.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            held.push(s);
        }
    });
    let mut cfg = config(&format!("http://{silent_addr}/scim"));
    cfg.limits.header_timeout = Duration::from_millis(300);
    cfg.limits.idle_timeout = Duration::from_millis(300);
    cfg.upstream_timeout = Duration::from_millis(500);
    let proxy = RunningProxy::start(cfg).await.unwrap();

    // a dripped request head: closed by the header timeout, long before the bound of this test
    let mut drip = tokio::net::TcpStream::connect(proxy.addr).await.unwrap();
    drip.write_all(b"GET /Users HTTP/1.1\r\nHost: idp\r\nX-Slow: ").await.unwrap();
    let (closed, _) = closed_within(&mut drip, Duration::from_secs(5)).await;
    assert!(closed, "a dripped header is not held");

    // the silent upstream: 504 with a SCIM error, and the flow records it
    let resp = reqwest::Client::new().get(format!("http://{}/Users", proxy.addr)).send().await.unwrap();
    assert_eq!(resp.status(), 504);
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["status"], "504", "{err}");
    assert!(err["detail"].as_str().unwrap().contains("--upstream-timeout"), "{err}");

    // an idle keep-alive connection after a complete exchange: closed by the idle timeout
    let mut idle = tokio::net::TcpStream::connect(proxy.addr).await.unwrap();
    idle.write_all(b"GET /Users HTTP/1.1\r\nHost: idp\r\n\r\n").await.unwrap();
    let (closed, answer) = closed_within(&mut idle, Duration::from_secs(5)).await;
    assert!(closed && answer.starts_with("HTTP/1.1 504"), "{answer}");

    let (flows, _) = proxy.finish().await;
    assert!(flows.iter().all(|f| f.status == 504), "{:?}", flows.iter().map(|f| f.status).collect::<Vec<_>>());
}
