//! What the data file (`--data`) keeps besides the directory, as a SaaS portal keeps it across restarts:
//! the admin key — as a SHA-256 digest only, the key itself shown once when it is made — and each API
//! token's `lastUsed`, written behind (at most once per token per minute, and at graceful shutdown) instead
//! of at every request. The `kill -9` side is in `durability.rs`.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common::Res;
use reqwest::Method;
use scim_reference_server::clock::ManualClock;
use scim_reference_server::config::Config;
use scim_reference_server::{spawn, RunningServer, ServerConfig};
use serde_json::Value;
use sha2::{Digest, Sha256};

const TOKEN: &str = "persistence-token-0123456789";
const CONFIGURED_KEY: &str = "configured-admin-key-0123456789";

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().with_timezone(&Utc)
}

async fn admin(server: &RunningServer, key: &str, path: &str) -> Res {
    let client = reqwest::Client::new();
    common::Server::finish(client.request(Method::GET, format!("{}{path}", server.admin_url)).bearer_auth(key)).await
}

/// Every byte the data file and its write-ahead log hold.
fn file_bytes(dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        all.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn the_admin_key_survives_a_restart_as_a_digest_and_is_shown_only_when_made() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("portal.db");
    let config = || ServerConfig::default().with_data(&data);

    let first = spawn(config()).await.unwrap();
    let key = first.admin_key.clone();
    assert!(key.starts_with("admin_") && key.len() == 70, "a generated key is shown at the first start");
    assert_eq!(admin(&first, &key, "/tenants").await.status, 200);
    first.shutdown().await;
    let bytes = file_bytes(dir.path());
    assert!(!contains(&bytes, &key), "the admin key was written to the data file in clear");
    assert!(contains(&bytes, &hex::encode(Sha256::digest(key.as_bytes()))), "its digest is kept");

    let second = spawn(config()).await.unwrap();
    assert_eq!(second.admin_key, "", "a stored key cannot be shown again");
    let r = admin(&second, &key, "/tenants").await;
    assert_eq!(r.status, 200, "the key made at the first start still opens the admin API: {}", r.text);
    assert_eq!(r.body[0]["name"], "acme");
    let r = admin(&second, &format!("{key}x"), "/tenants").await;
    let detail = r.assert_error(401, None);
    assert!(!detail.contains(&key), "{detail}");
    second.shutdown().await;

    // A key named by the configuration replaces the stored one (how a lost key is replaced) and is kept.
    let mut seed = Config::builtin();
    seed.admin_key = Some(CONFIGURED_KEY.into());
    let third = spawn(config().with_seed(seed)).await.unwrap();
    assert_eq!(third.admin_key, CONFIGURED_KEY);
    assert_eq!(admin(&third, CONFIGURED_KEY, "/tenants").await.status, 200);
    admin(&third, &key, "/tenants").await.assert_error(401, None);
    third.shutdown().await;
    let fourth = spawn(config()).await.unwrap();
    assert_eq!(fourth.admin_key, "");
    assert_eq!(admin(&fourth, CONFIGURED_KEY, "/tenants").await.status, 200);
    admin(&fourth, &key, "/tenants").await.assert_error(401, None);
    fourth.shutdown().await;
    assert!(!contains(&file_bytes(dir.path()), CONFIGURED_KEY));
}

/// Rows the server wrote to its data file so far.
fn writes(server: &RunningServer) -> u64 {
    server.tenants.data_file().expect("a data file").total_changes()
}

/// Waits (up to 10 s) until the server has written more than `than` rows; returns how many it wrote.
async fn written_beyond(server: &RunningServer, than: u64) -> u64 {
    let began = Instant::now();
    while writes(server) <= than && began.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    writes(server)
}

async fn use_token(server: &RunningServer, times: usize) {
    let client = reqwest::Client::new();
    for _ in 0..times {
        let r = client.get(format!("{}/Users?count=1", server.base_url)).bearer_auth(TOKEN).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
}

fn listed_token<'a>(tokens: &'a Value, label: &str) -> &'a Value {
    tokens.as_array().unwrap().iter().find(|t| t["label"] == label).expect("token listed")
}

#[tokio::test]
async fn token_use_is_written_behind_at_most_once_a_minute_and_at_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("portal.db");
    let clock = ManualClock::new(t0());
    let config = || ServerConfig::default().with_data(&data).with_token(TOKEN).with_clock(Arc::new(clock.clone()));

    let first = spawn(config()).await.unwrap();
    let admin_key = first.admin_key.clone();
    let before = writes(&first);
    // Twenty requests: no write at any of them; the first use is written behind, once.
    use_token(&first, 20).await;
    let after_first_use = written_beyond(&first, before).await;
    assert_eq!(after_first_use, before + 1, "one row (the app's tokens) for the first use");
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(writes(&first), after_first_use, "twenty requests, one write");
    // 30 s later: used again, but the stored use is less than a minute old — nothing is written.
    clock.advance(chrono::Duration::seconds(30));
    use_token(&first, 20).await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(writes(&first), after_first_use, "a use within the minute is not written yet");
    // 61 s after the stored use: written behind again.
    clock.advance(chrono::Duration::seconds(31));
    use_token(&first, 1).await;
    assert_eq!(written_beyond(&first, after_first_use).await, after_first_use + 1);
    // The last use, 5 s later, is written by the graceful shutdown.
    clock.advance(chrono::Duration::seconds(5));
    use_token(&first, 1).await;
    first.shutdown().await;

    // An hour later, a new process on the same file. Finding the --token already stored is no use of it.
    clock.advance(chrono::Duration::hours(1));
    let second = spawn(config()).await.unwrap();
    let r = admin(&second, &admin_key, "/tenants/acme/apps/SCIMOkta/tokens").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(listed_token(&r.body, "given at start")["lastUsed"], "2026-01-01T00:01:06.000Z", "{}", r.text);
    let r = admin(&second, &admin_key, "/tenants/acme/apps/SCIMAzure/tokens").await;
    assert_eq!(listed_token(&r.body, "generated at start")["lastUsed"], Value::Null, "never used: {}", r.text);
    second.shutdown().await;
}

#[tokio::test]
async fn without_a_data_file_token_use_stays_in_memory() {
    let server = spawn(ServerConfig::default().with_token(TOKEN)).await.unwrap();
    assert!(server.tenants.data_file().is_none());
    use_token(&server, 1).await;
    assert_eq!(server.tenants.flush_token_use(chrono::Duration::zero()).unwrap(), 0);
    let r = admin(&server, &server.admin_key, "/tenants/acme/apps/SCIMOkta/tokens").await;
    assert!(listed_token(&r.body, "given at start")["lastUsed"].is_string(), "{}", r.text);
    server.shutdown().await;
}

#[tokio::test]
async fn a_second_server_on_a_data_file_in_use_is_refused_and_the_first_is_unaffected() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("portal.db");
    let first = spawn(ServerConfig::default().with_data(&data).with_token(TOKEN)).await.unwrap();
    let err = spawn(ServerConfig::default().with_data(&data)).await.expect_err("two servers on one data file");
    let message = err.to_string();
    assert!(message.contains("is in use by another server"), "{message}");
    assert!(message.contains("portal.db"), "{message}");
    use_token(&first, 1).await;
    let r = admin(&first, &first.admin_key, "/tenants").await;
    assert_eq!(r.status, 200, "{}", r.text);
    first.shutdown().await;
    // Stopped, the first gives the file up.
    let again = spawn(ServerConfig::default().with_data(&data).with_token(TOKEN)).await.unwrap();
    use_token(&again, 1).await;
    again.shutdown().await;
}

/// The binary's start-up failures: status 1 and one readable line on stderr — no debug dump, no HTTP status.
#[tokio::test]
async fn the_binary_refuses_a_data_file_in_use_or_unreadable_in_one_readable_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("portal.db");
    let not_sqlite = dir.path().join("notes.txt");
    std::fs::write(&not_sqlite, "these are not the droids you are looking for\n".repeat(100)).unwrap();
    let holder = spawn(ServerConfig::default().with_data(&data)).await.unwrap();
    for (file, expected) in [(&data, "is in use by another server"), (&not_sqlite, "is not a database")] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_scim-reference-server"))
            .args(["--listen", "127.0.0.1:0", "--data"])
            .arg(file)
            .env("RUST_LOG", "off")
            .output()
            .expect("the server binary runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(out.stdout.is_empty(), "nothing is announced: {}", String::from_utf8_lossy(&out.stdout));
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with("scim-reference-server: the data file "), "{stderr}");
        assert!(stderr.contains(expected) && !stderr.contains("Custom") && !stderr.contains("500"), "{stderr}");
    }
    // The file in use was not touched by the refused start: the holder serves on.
    assert_eq!(admin(&holder, &holder.admin_key, "/tenants").await.status, 200);
    holder.shutdown().await;
}

async fn admin_send(server: &RunningServer, key: &str, method: Method, path: &str, body: Option<Value>) -> Res {
    let client = reqwest::Client::new();
    let mut rb = client.request(method, format!("{}{path}", server.admin_url)).bearer_auth(key);
    if let Some(b) = body {
        rb = rb.header("Content-Type", "application/json").body(b.to_string());
    }
    common::Server::finish(rb).await
}

async fn scim_post(server: &RunningServer, base: &str, token: &str, user_name: &str) -> Res {
    let client = reqwest::Client::new();
    let rb = client
        .post(format!("{}/t/beta/api/v1/SCIM/SCIMAzure{base}", server.admin_url.trim_end_matches("/admin")))
        .bearer_auth(token)
        .header("Content-Type", "application/scim+json")
        .body(common::okta_user(user_name).to_string());
    common::Server::finish(rb).await
}

/// What the admin API shows of tenant `beta` and two of its users, with the listen address made neutral.
async fn beta_view(server: &RunningServer, key: &str, users: &[String]) -> String {
    let mut parts = Vec::new();
    for path in ["/tenants/beta", "/tenants/beta/apps/SCIMAzure/tokens", "/tenants/beta/apps/SCIMOkta/tokens"] {
        let r = admin(server, key, path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        parts.push(r.body);
    }
    for id in users {
        let r = admin(server, key, &format!("/tenants/beta/users/{id}/access")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        parts.push(r.body);
    }
    Value::Array(parts).to_string().replace(&server.addr.to_string(), "ADDR")
}

#[tokio::test]
async fn a_tenant_made_through_the_admin_api_comes_back_whole_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("portal.db");
    let clock = ManualClock::new(t0());
    let config = || ServerConfig::default().with_data(&data).with_clock(Arc::new(clock.clone()));
    let first = spawn(config()).await.unwrap();
    let key = first.admin_key.clone();
    let steps = [
        (
            Method::POST,
            "/tenants",
            serde_json::json!({"name": "beta", "settings": {"refuseWithoutSeat": false, "releaseSeatsOnDeactivation": true}}),
        ),
        (Method::PUT, "/tenants/beta/cals", serde_json::json!([{"id": "basic", "name": "Basic", "seats": 1}])),
        (
            Method::PUT,
            "/tenants/beta/apps/SCIMAzure",
            serde_json::json!({"enabled": true, "defaultCal": "basic", "rules": [
            {"attribute": "title", "condition": "equals", "value": "Boss", "cal": "basic"}]}),
        ),
        (Method::POST, "/tenants/beta/accounts", serde_json::json!({"userName": "owner@beta.test", "role": "owner"})),
    ];
    for (method, path, body) in steps {
        let r = admin_send(&first, &key, method, path, Some(body)).await;
        assert!(r.status.is_success(), "{path}: {}", r.text);
    }
    let r = admin_send(
        &first,
        &key,
        Method::POST,
        "/tenants/beta/apps/SCIMAzure/tokens",
        Some(serde_json::json!({"expiresInDays": 30, "label": "entra"})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let token = r.body["token"].as_str().unwrap().to_string();
    // One user takes the only seat; the next is provisioned without one and notified.
    let mut users = Vec::new();
    for name in ["one@beta.test", "two@beta.test"] {
        let r = scim_post(&first, "/Users", &token, name).await;
        assert_eq!(r.status, 201, "{}", r.text);
        users.push(common::id_of(&r.body));
    }
    let before = beta_view(&first, &key, &users).await;
    assert!(before.contains("noCalAvailable") && before.contains("\"used\":1"), "{before}");
    first.shutdown().await;

    clock.advance(chrono::Duration::days(1));
    let second = spawn(config()).await.unwrap();
    assert_eq!(beta_view(&second, &key, &users).await, before, "the tenant did not come back as it was");
    // The token made through the admin API still works, until its expiry date — not the process's end.
    let r = scim_post(&second, "/Users", &token, "three@beta.test").await;
    assert_eq!(r.status, 201, "{}", r.text);
    clock.advance(chrono::Duration::days(29));
    let r = scim_post(&second, "/Users", &token, "four@beta.test").await;
    let detail = r.assert_error(401, None);
    assert_eq!(detail, "the bearer token has expired");
    second.shutdown().await;
}
