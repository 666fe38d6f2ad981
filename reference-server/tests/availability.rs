//! Availability: large memberships without quadratic work, other tenants served while one is busy, bounded
//! projections, header/idle/body timeouts, the connection limit, bounded shutdown, media types and hosts.
//! Figures (how long, how much) live in `benches/availability.rs`; these tests check the behaviour.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use scim_reference_server::config::{Config, TokenConfig};
use scim_reference_server::schema::ResourceKind;
use scim_reference_server::serve::Limits;
use scim_reference_server::tenant::AppKind;
use scim_reference_server::ServerConfig;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const OTHER_TOKEN: &str = "other-tenant-token-0123456789";

/// The built-in seed plus a second tenant `other` with a known SCIMOkta token.
fn two_tenants() -> Config {
    let mut seed = Config::builtin();
    let mut other = seed.tenants[0].clone();
    other.name = "other".into();
    other.accounts.clear();
    for app in other.apps.values_mut() {
        app.tokens.clear();
    }
    other.apps.get_mut(&AppKind::Okta).unwrap().tokens =
        vec![TokenConfig { token: OTHER_TOKEN.into(), expires_at: None, label: None }];
    other.apps.remove(&AppKind::Azure);
    seed.tenants.push(other);
    seed
}

fn short_limits() -> Limits {
    Limits {
        header_timeout: Duration::from_millis(300),
        body_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_millis(300),
        max_connections: 64,
        max_connections_per_peer: 64,
        shutdown_grace: Duration::from_millis(300),
    }
}

/// Reads until the server closes the connection (or 10 s pass, which fails the test).
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut out)).await;
    assert!(read.is_ok(), "the server kept the connection open; got so far: {}", String::from_utf8_lossy(&out));
    String::from_utf8_lossy(&out).into_owned()
}

fn users(s: &Server, n: usize) -> Vec<String> {
    let acme = s.server.tenants.get("acme").unwrap();
    (0..n)
        .map(|i| {
            let u = acme
                .directory
                .create(ResourceKind::User, json!({"userName": format!("member{i}@example.com")}))
                .unwrap();
            u["id"].as_str().unwrap().to_string()
        })
        .collect()
}

#[tokio::test]
async fn membership_patches_on_a_large_group_change_exactly_the_members_named() {
    let s = Server::start().await;
    let ids = users(&s, 2_003);
    let members: Vec<Value> = ids[..2_000].iter().map(|id| json!({"value": id})).collect();
    let g = s.post("/Groups", json!({"displayName": "Big", "members": members})).await;
    assert_eq!(g.status, 201, "{}", g.text);
    let gid = g.body["id"].as_str().unwrap().to_string();
    let v0 = g.body["meta"]["version"].as_str().unwrap().to_string();

    // Adding a member that is already there changes nothing, not even the version.
    let r = s
        .patch_ops(&format!("/Groups/{gid}"), json!([{"op": "add", "path": "members", "value": [{"value": ids[5]}]}]))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(r.header("etag"), Some(v0.as_str()));

    // Okta and Entra shapes in one request: add two, remove one by filter, remove one by value list.
    let ops = json!([
        {"op": "add", "path": "members", "value": [{"value": ids[2_000]}, {"value": ids[2_001]}]},
        {"op": "remove", "path": format!("members[value eq \"{}\"]", ids[0])},
        {"op": "Remove", "path": "members", "value": [{"value": ids[1]}]},
    ]);
    let r = s.patch_ops(&format!("/Groups/{gid}"), ops).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_ne!(r.header("etag"), Some(v0.as_str()));
    let mut expected: Vec<String> = ids[2..2_002].to_vec();
    expected.sort();
    assert_eq!(s.member_ids(&gid).await, expected);
    // The member's derived groups follow.
    let u = s.get(&format!("/Users/{}", ids[2_000])).await;
    assert_eq!(u.body["groups"][0]["value"], json!(gid));
    let u = s.get(&format!("/Users/{}", ids[0])).await;
    assert!(u.body.get("groups").is_none(), "{}", u.text);

    // One unknown id among valid ones: 400, and nothing changed.
    let before = s.get(&format!("/Groups/{gid}")).await;
    let bogus = uuid::Uuid::new_v4().to_string();
    let ops = json!([{"op": "add", "path": "members", "value": [{"value": ids[2_002]}, {"value": bogus}]}]);
    let r = s.patch_ops(&format!("/Groups/{gid}"), ops).await;
    r.assert_error(400, Some("invalidValue"));
    let after = s.get(&format!("/Groups/{gid}")).await;
    assert_eq!(after.body, before.body, "a failed PATCH changed the group");
    let u = s.get(&format!("/Users/{}", ids[2_002])).await;
    assert!(u.body.get("groups").is_none());

    // If-Match is honoured on the membership path too.
    let stale = s
        .send_with(reqwest::Method::PATCH, &format!("/Groups/{gid}"), Some(json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": [{"value": ids[2_002]}]}]})), &[("If-Match", v0.as_str())])
        .await;
    stale.assert_error(412, None);
    assert_eq!(s.get(&format!("/Groups/{gid}")).await.body, before.body);
}

#[tokio::test(flavor = "current_thread")]
async fn another_tenant_is_served_while_one_tenant_rewrites_a_large_group() {
    // One runtime thread: were the directory work done on it, the other tenant would wait for all of it.
    let s = Server::start_with(ServerConfig::default().with_seed(two_tenants())).await;
    let ids = users(&s, 5_000);
    let g = s.create_group("Everyone", &[]).await;
    let gid = g["id"].as_str().unwrap().to_string();
    let members: Vec<Value> = ids.iter().map(|id| json!({"value": id})).collect();
    let body = json!({"displayName": "Everyone", "members": members});
    let path = format!("/Groups/{gid}");
    let heavy = s.put(&path, body);
    let other_url = s.base().replace("/t/acme/", "/t/other/");
    let light = async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let r = s.client.get(format!("{other_url}/Users?count=1")).bearer_auth(OTHER_TOKEN).send().await.unwrap();
        (r.status(), std::time::Instant::now())
    };
    let (heavy, (light_status, light_done)) = tokio::join!(async { (heavy.await, std::time::Instant::now()) }, light);
    assert_eq!(heavy.0.status, 200, "{}", heavy.0.text);
    assert_eq!(light_status, 200);
    assert!(light_done < heavy.1, "the other tenant was only answered after the heavy request finished");
    assert_eq!(s.member_ids(&gid).await.len(), 5_000);
}

#[tokio::test]
async fn attribute_lists_are_bounded_and_parsed_once() {
    let s = Server::start().await;
    s.create_user("a@example.com").await;
    // Many repetitions of valid names within the bound: fine, and the projection is what they name.
    let list = vec!["userName"; 1_500].join(",");
    let r = s.get(&format!("/Users?attributes={list}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["Resources"][0]["userName"], "a@example.com");
    assert!(r.body["Resources"][0].get("emails").is_none());
    // Over the bound: 400 before any work.
    let list = vec!["userName"; 2_000].join(",");
    let r = s
        .post(
            "/Users/.search",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "attributes": list}),
        )
        .await;
    let detail = r.assert_error(400, Some("invalidValue"));
    assert!(detail.contains("attributes"), "{detail}");
    let r = s.get(&format!("/Users?excludedAttributes={}", vec!["emails"; 3_000].join(","))).await;
    r.assert_error(400, Some("invalidValue"));
}

#[tokio::test]
async fn a_content_type_that_is_not_header_text_is_415_and_creates_nothing() {
    let s = Server::start().await;
    let addr = s.server.addr;
    let body = json!({"userName": "ct@example.com"}).to_string();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut bytes = format!(
        "POST /t/acme/api/v1/SCIM/SCIMOkta/Users HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Type: application/scim+json",
        s.server.token
    )
    .into_bytes();
    // A raw 0xFF byte (obs-text: not visible ASCII) in the Content-Type value.
    bytes.push(0xFF);
    bytes.extend_from_slice(format!("\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).as_bytes());
    bytes.extend_from_slice(body.as_bytes());
    stream.write_all(&bytes).await.unwrap();
    let answer = read_until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 415"), "{answer}");
    assert_eq!(s.get("/Users").await.body["totalResults"], 0);
}

#[tokio::test]
async fn slow_headers_idle_connections_and_slow_bodies_are_cut_off() {
    let s = Server::start_with(ServerConfig::default().with_limits(short_limits())).await;
    let addr = s.server.addr;
    // A head that never completes (slowloris).
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /t/acme/api/v1/SCIM/SCIMOkta/Users HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    read_until_closed(&mut slow).await;
    // A connection that never sends anything.
    let mut silent = TcpStream::connect(addr).await.unwrap();
    read_until_closed(&mut silent).await;
    // A keep-alive connection left idle after its answer.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "GET /t/acme/api/v1/SCIM/SCIMOkta/ServiceProviderConfig HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\r\n",
        s.server.token
    );
    idle.write_all(req.as_bytes()).await.unwrap();
    let answer = read_until_closed(&mut idle).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // A body that stops halfway: 408, and nothing created.
    let mut body = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /t/acme/api/v1/SCIM/SCIMOkta/Users HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Type: application/scim+json\r\nContent-Length: 100\r\n\r\n{{\"userName\":",
        s.server.token
    );
    body.write_all(head.as_bytes()).await.unwrap();
    let answer = read_until_closed(&mut body).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"status\":\"408\""), "{answer}");
    assert_eq!(s.get("/Users").await.body["totalResults"], 0);
}

/// A POST whose body never arrives: the connection has a request in progress until the body timeout.
async fn busy_connection(s: &Server) -> TcpStream {
    let addr = s.server.addr;
    let mut c = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /t/acme/api/v1/SCIM/SCIMOkta/Users HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Type: application/scim+json\r\nContent-Length: 100\r\n\r\n{{",
        s.server.token
    );
    c.write_all(head.as_bytes()).await.unwrap();
    c
}

#[tokio::test]
async fn beyond_the_limit_a_new_connection_takes_the_place_of_an_idle_one_or_waits_for_a_request_to_end() {
    let limits = Limits {
        max_connections: 2,
        header_timeout: Duration::from_secs(30),
        body_timeout: Duration::from_secs(30),
        ..Limits::default()
    };
    let s = Server::start_with(ServerConfig::default().with_limits(limits)).await;
    let addr = s.server.addr;
    // Two connections that never send anything hold both places; a client with a request takes the place
    // of the older, which is closed.
    let mut first = TcpStream::connect(addr).await.unwrap();
    let _second = TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let client = reqwest::Client::new();
    let url = format!("{}/ServiceProviderConfig", s.base());
    let served = client.get(&url).bearer_auth(&s.server.token).timeout(Duration::from_secs(10)).send().await.unwrap();
    assert_eq!(served.status(), 200);
    read_until_closed(&mut first).await;
    drop(client);
    // Two connections with a request in progress are never given up: a third waits (in the accept queue)...
    let busy = busy_connection(&s).await;
    let _busy = busy_connection(&s).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let client = reqwest::Client::new();
    let waiting = client.get(&url).bearer_auth(&s.server.token).timeout(Duration::from_millis(500)).send().await;
    assert!(waiting.is_err(), "a connection with a request in progress was given up for a new one");
    // ...until one of them ends.
    drop(busy);
    let served = client.get(&url).bearer_auth(&s.server.token).timeout(Duration::from_secs(10)).send().await.unwrap();
    assert_eq!(served.status(), 200);
}

/// The README's "no client can hold the server": one peer holds more idle connections than the server
/// takes (200 against a limit of 64, 32 per peer) and opens each again as soon as the server closes it,
/// while a client on the same address (loopback) makes 50 requests, each on a new connection; every one is
/// answered.
#[tokio::test]
async fn a_client_reopening_idle_connections_cannot_keep_others_out() {
    let limits = Limits {
        max_connections: 64,
        max_connections_per_peer: 32,
        header_timeout: Duration::from_secs(30),
        ..Limits::default()
    };
    let s = Server::start_with(ServerConfig::default().with_limits(limits)).await;
    let addr = s.server.addr;
    let stop = Arc::new(AtomicBool::new(false));
    let opened = Arc::new(AtomicUsize::new(0));
    let mut attack = tokio::task::JoinSet::new();
    for _ in 0..200 {
        let (stop, opened) = (stop.clone(), opened.clone());
        attack.spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let Ok(mut c) = TcpStream::connect(addr).await else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                opened.fetch_add(1, Ordering::Relaxed);
                let mut buf = [0u8; 64];
                // Held until the server closes it (or the test ends), then opened again.
                let _ = tokio::time::timeout(Duration::from_secs(60), c.read(&mut buf)).await;
            }
        });
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let url = format!("{}/Users?count=1", s.base());
    for i in 0..50 {
        let r = client.get(&url).bearer_auth(&s.server.token).timeout(Duration::from_secs(10)).send().await;
        let status = r.map(|r| r.status().as_u16()).map_err(|e| e.to_string());
        assert_eq!(status, Ok(200), "request {i} of 50 while the idle connections are held");
    }
    stop.store(true, Ordering::Relaxed);
    let reopened = opened.load(Ordering::Relaxed);
    assert!(reopened > 200, "the idle connections were never closed and opened again ({reopened} opened)");
    attack.abort_all();
}

#[tokio::test]
async fn shutdown_ends_within_the_grace_period_despite_a_half_sent_body() {
    let limits = Limits { body_timeout: Duration::from_secs(600), ..short_limits() };
    let s = Server::start_with(ServerConfig::default().with_limits(limits)).await;
    let addr = s.server.addr;
    let mut stuck = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /t/acme/api/v1/SCIM/SCIMOkta/Users HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Type: application/scim+json\r\nContent-Length: 100\r\n\r\n{{",
        s.server.token
    );
    stuck.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let ended = tokio::time::timeout(Duration::from_secs(10), s.server.shutdown()).await;
    assert!(ended.is_ok(), "shutdown waited for the client's body beyond the grace period");
    read_until_closed(&mut stuck).await;
}

#[tokio::test]
async fn hosts_are_validated_and_a_public_url_decides_locations() {
    let s = Server::start().await;
    let addr = s.server.addr;
    let raw = |host: &str, target: String| {
        format!(
            "GET {target} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
            s.server.token
        )
    };
    for bad in ["evil.example/<script>", "a b", "user@evil.example", "evil.example:99999"] {
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.write_all(raw(bad, "/t/acme/api/v1/SCIM/SCIMOkta/Users".into()).as_bytes()).await.unwrap();
        let answer = read_until_closed(&mut c).await;
        assert!(answer.starts_with("HTTP/1.1 400"), "Host {bad}: {answer}");
    }
    // Absolute form: the target's authority routes (subdomain tenant) and builds locations; Host is ignored.
    let u = s.create_user("abs@example.com").await;
    let id = u["id"].as_str().unwrap();
    let mut c = TcpStream::connect(addr).await.unwrap();
    let target = format!("http://acme.localhost:{}/api/v1/SCIM/SCIMOkta/Users/{id}", addr.port());
    c.write_all(raw("ignored.example", target).as_bytes()).await.unwrap();
    let answer = read_until_closed(&mut c).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let expected = format!("\"location\":\"http://acme.localhost:{}/api/v1/SCIM/SCIMOkta/Users/{id}\"", addr.port());
    assert!(answer.contains(&expected), "{answer}");

    // With a public URL, the Host header no longer reaches Location, meta.location or $ref.
    let s = Server::start_with(ServerConfig::default().with_public_url("https://scim.example.com/portal/")).await;
    let user = s.create_user("pub@example.com").await;
    let uid = user["id"].as_str().unwrap().to_string();
    let r = s
        .send_with(
            reqwest::Method::POST,
            "/Groups",
            Some(json!({"displayName": "G", "members": [{"value": uid}]})),
            &[("Host", "attacker.example")],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let base = "https://scim.example.com/portal/t/acme/api/v1/SCIM/SCIMOkta";
    let gid = r.body["id"].as_str().unwrap();
    assert_eq!(r.header("location"), Some(format!("{base}/Groups/{gid}").as_str()));
    assert_eq!(r.body["meta"]["location"], json!(format!("{base}/Groups/{gid}")));
    assert_eq!(r.body["members"][0]["$ref"], json!(format!("{base}/Users/{uid}")));
}
