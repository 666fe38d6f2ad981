//! The data file (`--data`): the server binary runs as a child process, takes concurrent writes, is killed
//! with SIGKILL in the middle of them, and is started again on the same file. Every write it acknowledged
//! (201/200/204) must be there, and no write may be there in part: a group created with members has all of
//! them or does not exist, and every stored user holds the CAL seat its creation took in the same transaction.
//! Tokens (with their expiry, revocation and last use) survive too, and so does the admin key made at the first
//! start, which the second start cannot show (the file holds only its digest).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::{Client, Method};
use serde_json::{json, Value};

const TOKEN: &str = "durability-token-0123456789";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The server binary running on a data file.
struct Proc {
    child: Child,
    /// Kept open: the server prints to it, and a closed pipe would end it.
    _stdout: BufReader<ChildStdout>,
    base: String,
    admin: String,
    /// The admin key as printed, or `None` when the server only holds its digest.
    admin_key: Option<String>,
}

impl Proc {
    fn start(data: &Path) -> Proc {
        let mut child = Command::new(env!("CARGO_BIN_EXE_scim-reference-server"))
            .args(["--listen", "127.0.0.1:0", "--token", TOKEN, "--data"])
            .arg(data)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server binary starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let (mut base, mut admin, mut admin_key) = (String::new(), String::new(), String::new());
        let mut line = String::new();
        loop {
            line.clear();
            let n = stdout.read_line(&mut line).expect("server output");
            assert!(n > 0, "the server ended before it was ready");
            if let Some(rest) = line.strip_prefix("SCIM base URI: ") {
                base = rest.trim().to_string();
            }
            if let Some(rest) = line.strip_prefix("Admin API: ") {
                let (url, key) = rest.trim().split_once(" key ").expect("admin line");
                (admin, admin_key) = (url.to_string(), key.to_string());
            }
            if line.starts_with("Ctrl-C") {
                break;
            }
        }
        assert!(base.starts_with("http://127.0.0.1:") && !admin_key.is_empty());
        let admin_key = (!admin_key.starts_with('(')).then_some(admin_key);
        Proc { child, _stdout: stdout, base, admin, admin_key }
    }

    /// SIGKILL: no shutdown, no flush, nothing.
    fn kill9(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn call(client: &Client, method: Method, url: &str, token: &str, body: Option<Value>) -> Option<(u16, Value)> {
    let mut rb = client.request(method, url).bearer_auth(token).header("Accept", "application/scim+json");
    if let Some(b) = body {
        rb = rb.header("Content-Type", "application/scim+json").body(b.to_string());
    }
    let r = rb.send().await.ok()?;
    let status = r.status().as_u16();
    let text = r.text().await.ok()?;
    Some((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

/// What the clients were told was done.
#[derive(Default, Debug)]
struct Acked {
    /// user id → userName
    users: BTreeMap<String, String>,
    /// user id → displayName set by an acknowledged PATCH
    renamed: BTreeMap<String, String>,
    /// group id → the member ids it was created with
    groups: BTreeMap<String, BTreeSet<String>>,
    /// (group id, user id) added by an acknowledged PATCH
    added: Vec<(String, String)>,
    /// group displayName → the member ids its POST carried (acknowledged or not)
    group_attempts: BTreeMap<String, BTreeSet<String>>,
    writes: usize,
}

async fn worker(
    client: Client,
    base: String,
    w: usize,
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Acked>>,
    n: Arc<AtomicUsize>,
) {
    let mut mine: Vec<String> = Vec::new();
    let mut my_groups: Vec<String> = Vec::new();
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        let user_name = format!("u{w}-{i}@durable.test");
        let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": user_name,
            "displayName": format!("User {w}-{i}"), "active": true});
        let Some((201, created)) = call(&client, Method::POST, &format!("{base}/Users"), TOKEN, Some(body)).await
        else {
            continue;
        };
        let id = created["id"].as_str().expect("id").to_string();
        {
            let mut a = acked.lock().unwrap();
            a.users.insert(id.clone(), user_name);
            a.writes += 1;
        }
        n.fetch_add(1, Ordering::Relaxed);
        mine.push(id.clone());
        match i % 3 {
            0 if mine.len() >= 3 => {
                let members: BTreeSet<String> = mine[mine.len() - 3..].iter().cloned().collect();
                let name = format!("team-{w}-{i}");
                acked.lock().unwrap().group_attempts.insert(name.clone(), members.clone());
                let list: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
                let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name, "members": list});
                if let Some((201, g)) = call(&client, Method::POST, &format!("{base}/Groups"), TOKEN, Some(body)).await
                {
                    let gid = g["id"].as_str().expect("group id").to_string();
                    let mut a = acked.lock().unwrap();
                    a.groups.insert(gid.clone(), members);
                    a.writes += 1;
                    my_groups.push(gid);
                    n.fetch_add(1, Ordering::Relaxed);
                }
            }
            1 if !my_groups.is_empty() => {
                let gid = my_groups[i % my_groups.len()].clone();
                let body = json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": [{"value": id}]}]});
                let url = format!("{base}/Groups/{gid}");
                if let Some((204, _)) = call(&client, Method::PATCH, &url, TOKEN, Some(body)).await {
                    let mut a = acked.lock().unwrap();
                    a.added.push((gid, id.clone()));
                    a.writes += 1;
                    n.fetch_add(1, Ordering::Relaxed);
                }
            }
            _ => {
                let value = format!("Renamed {w}-{i}");
                let body = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "displayName", "value": value}]});
                let url = format!("{base}/Users/{id}");
                if let Some((200, _)) = call(&client, Method::PATCH, &url, TOKEN, Some(body)).await {
                    let mut a = acked.lock().unwrap();
                    a.renamed.insert(id.clone(), value);
                    a.writes += 1;
                    n.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
}

async fn list_all(client: &Client, base: &str, what: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut start = 1;
    loop {
        let url = format!("{base}/{what}?startIndex={start}&count=500");
        let (status, page) = call(client, Method::GET, &url, TOKEN, None).await.expect("list");
        assert_eq!(status, 200, "{page}");
        let items = page["Resources"].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            return out;
        }
        start += items.len();
        out.extend(items);
    }
}

fn member_ids(group: &Value) -> BTreeSet<String> {
    group["members"]
        .as_array()
        .map(|ms| ms.iter().filter_map(|m| m["value"].as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_write_survives_kill_9_and_nothing_is_half_applied() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("portal.db");
    let client = Client::builder().timeout(Duration::from_secs(20)).build().unwrap();

    let mut first = Proc::start(&data);
    let admin_key = first.admin_key.clone().expect("a new data file: the admin key is made and shown");
    // Tokens: one issued with an expiry, one issued and revoked.
    let admin_tokens = format!("{}/tenants/acme/apps/SCIMAzure/tokens", first.admin);
    let (status, kept) =
        call(&client, Method::POST, &admin_tokens, &admin_key, Some(json!({"expiresInDays": 7, "label": "kept"})))
            .await
            .expect("issue");
    assert_eq!(status, 201, "{kept}");
    let (status, revoked) =
        call(&client, Method::POST, &admin_tokens, &admin_key, Some(json!({"expiresInDays": 7}))).await.expect("issue");
    assert_eq!(status, 201);
    let revoke_url = format!("{admin_tokens}/{}", revoked["id"].as_str().unwrap());
    assert_eq!(call(&client, Method::DELETE, &revoke_url, &admin_key, None).await.map(|r| r.0), Some(204));
    let azure_base = first.base.replace("SCIMOkta", "SCIMAzure");
    let kept_token = kept["token"].as_str().unwrap().to_string();
    let probe = |token: String, base: String| {
        let client = client.clone();
        async move { call(&client, Method::GET, &format!("{base}/Users?count=1"), &token, None).await.map(|r| r.0) }
    };
    assert_eq!(probe(kept_token.clone(), azure_base.clone()).await, Some(200));
    // A first use is written behind within a second (later ones at most once a minute).
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(probe(revoked["token"].as_str().unwrap().to_string(), azure_base.clone()).await, Some(401));

    // Concurrent writers; SIGKILL once enough writes were acknowledged, while they are still running.
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Acked::default()));
    let n = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..8)
        .map(|w| tokio::spawn(worker(client.clone(), first.base.clone(), w, stop.clone(), acked.clone(), n.clone())))
        .collect();
    let began = Instant::now();
    while n.load(Ordering::Relaxed) < 300 && began.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.kill9();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.expect("worker");
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    assert!(acked.writes >= 300, "only {} writes were acknowledged before the kill", acked.writes);
    assert!(!acked.groups.is_empty() && !acked.added.is_empty() && !acked.renamed.is_empty(), "{acked:?}");

    let second = Proc::start(&data);
    assert_eq!(second.admin_key, None, "the stored admin key cannot be shown again");
    let base = second.base.clone();
    let users = list_all(&client, &base, "Users").await;
    let groups = list_all(&client, &base, "Groups").await;
    let user_by_id: BTreeMap<String, &Value> =
        users.iter().map(|u| (u["id"].as_str().unwrap().to_string(), u)).collect();
    let group_by_id: BTreeMap<String, &Value> =
        groups.iter().map(|g| (g["id"].as_str().unwrap().to_string(), g)).collect();

    // Every acknowledged write is there.
    for (id, user_name) in &acked.users {
        let u = user_by_id.get(id).unwrap_or_else(|| panic!("acknowledged user {user_name} lost"));
        assert_eq!(u["userName"], json!(user_name));
    }
    for (id, value) in &acked.renamed {
        assert_eq!(user_by_id[id]["displayName"], json!(value), "acknowledged PATCH of {id} lost");
    }
    for (gid, members) in &acked.groups {
        let g = group_by_id.get(gid).unwrap_or_else(|| panic!("acknowledged group {gid} lost"));
        assert!(members.is_subset(&member_ids(g)), "group {gid} lost members it was created with");
    }
    for (gid, uid) in &acked.added {
        assert!(member_ids(group_by_id[gid]).contains(uid), "acknowledged member {uid} of {gid} lost");
    }

    // Nothing half-applied: a stored group has every member its POST carried (acknowledged or not) ...
    for g in &groups {
        let name = g["displayName"].as_str().unwrap();
        let carried = acked.group_attempts.get(name).unwrap_or_else(|| panic!("unknown group {name}"));
        assert!(carried.is_subset(&member_ids(g)), "group {name} is stored without some of its members");
        for m in member_ids(g) {
            assert!(user_by_id.contains_key(&m), "group {name} lists a member {m} that is not stored");
        }
    }
    // ... and every stored user holds the seat its creation took in the same transaction.
    let cals_url = format!("{}/tenants/acme/cals", second.admin);
    let (status, cals) = call(&client, Method::GET, &cals_url, &admin_key, None).await.expect("cals");
    assert_eq!(status, 200, "{cals}");
    let used: u64 = cals.as_array().unwrap().iter().map(|c| c["used"].as_u64().unwrap()).sum();
    assert_eq!(used as usize, users.len(), "seats held {used} for {} users: {cals}", users.len());
    for u in users.iter().take(50) {
        let url = format!("{}/tenants/acme/users/{}/access", second.admin, u["id"].as_str().unwrap());
        let (status, access) = call(&client, Method::GET, &url, &admin_key, None).await.expect("access");
        assert_eq!(status, 200);
        assert_eq!(access["cal"], json!("standard"), "{access}");
        assert_eq!(access["federated"], json!(true), "{access}");
    }

    // Tokens: the issued one still works with its expiry, the revoked one is still revoked.
    assert_eq!(probe(kept_token, second.base.replace("SCIMOkta", "SCIMAzure")).await, Some(200));
    let (_, listed) = call(&client, Method::GET, &admin_tokens.replace(&first.admin, &second.admin), &admin_key, None)
        .await
        .expect("list tokens");
    let by_id = |id: &Value| listed.as_array().unwrap().iter().find(|t| &t["id"] == id).cloned().expect("token listed");
    assert_eq!(by_id(&kept["id"])["expiresAt"], kept["expiresAt"]);
    assert_eq!(by_id(&kept["id"])["status"], json!("active"));
    assert!(by_id(&kept["id"])["lastUsed"].is_string(), "the token's first use was lost: {listed}");
    assert_eq!(by_id(&revoked["id"])["lastUsed"], Value::Null, "a refused token was never used: {listed}");
    assert_eq!(by_id(&revoked["id"])["status"], json!("revoked"));
    let revoked_probe =
        probe(revoked["token"].as_str().unwrap().to_string(), second.base.replace("SCIMOkta", "SCIMAzure"));
    assert_eq!(revoked_probe.await, Some(401));

    // The restarted server keeps taking writes on the same file.
    let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "after@durable.test"});
    assert_eq!(call(&client, Method::POST, &format!("{base}/Users"), TOKEN, Some(body)).await.map(|r| r.0), Some(201));
    eprintln!(
        "acknowledged before SIGKILL: {} writes ({} users, {} groups, {} member adds, {} renames); stored after restart: {} users, {} groups",
        acked.writes,
        acked.users.len(),
        acked.groups.len(),
        acked.added.len(),
        acked.renamed.len(),
        users.len(),
        groups.len()
    );
}
