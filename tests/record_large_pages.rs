//! An Okta import page larger than the 128 KiB a judged body keeps whole
//! (`scimcheck::exchange::RETAIN_WHOLE`), recorded through the proxy and through a HAR import, replays green:
//! the next page is computed from the page's outline (`totalResults`, `startIndex`, the listed ids).

mod binary;
use binary::TempDir;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use scim_reference_server::{spawn, RunningServer, ServerConfig};
use scimcheck::runner::{Against, Credential, RunOptions, Runner, StepVerdict, Target, Verdict};
use scimcheck::scenario;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

const TOKEN: &str = "large-T0KEN-7c1e0b9a4d2f";
const OKTA_UA: &str = "Okta SCIM Client 1.0.0";
/// Users on the upstream: two pages of `count=100`.
const USERS: usize = 130;

/// A reference server holding [`USERS`] users of about 1.5 KB each, so a page of 100 is over 128 KiB.
async fn upstream() -> RunningServer {
    let up = spawn(ServerConfig::default().with_token(TOKEN)).await.expect("reference server starts");
    let client = reqwest::Client::new();
    for i in 0..USERS {
        let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": format!("bulk{i:03}@example.com"), "title": "t".repeat(1400)});
        let made = client
            .post(format!("{}/Users", up.base_url))
            .bearer_auth(TOKEN)
            .header("Content-Type", "application/scim+json")
            .body(user.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(made.status(), 201);
    }
    up
}

/// Okta's import: `GET /Users?startIndex=…&count=100` until `totalResults`; returns each page's body size.
async fn import_pages(base: &str) -> Vec<(String, String, usize)> {
    let client = reqwest::Client::new();
    let mut out = Vec::new();
    for start in [1, 101] {
        let url = format!("{base}/Users?startIndex={start}&count=100");
        let text = client
            .get(&url)
            .header("Authorization", format!("Bearer {TOKEN}"))
            .header("User-Agent", OKTA_UA)
            .header("Accept", "application/scim+json")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        out.push((url, text.clone(), text.len()));
    }
    out
}

fn load(dir: &Path) -> Vec<scenario::Scenario> {
    scenario::load_dir(dir)
        .unwrap_or_else(|e| panic!("{}", e.iter().map(|x| x.to_string()).collect::<Vec<_>>().join("\n")))
}

/// Replays `dir` against the upstream: every scenario passes and the import followed two pages.
async fn assert_replays_green(dir: &Path, up: &RunningServer) {
    let scenarios = load(dir);
    let import = scenarios.iter().find(|s| s.steps.iter().any(|s| s.pages)).expect("an import scenario");
    let step = import.steps.iter().find(|s| s.pages).unwrap();
    let asserted = serde_json::to_string(&step.expect.body).unwrap();
    assert!(asserted.contains("/totalResults"), "the page step asserts totalResults: {asserted}");
    let target = Against::Target(Target::new(up.base_url.clone(), Credential::Token(TOKEN.into())));
    let runner = Runner::new(target, RunOptions { jobs: 1, ..RunOptions::default() }).unwrap();
    for s in &scenarios {
        let r = runner.run_scenario(s).await;
        let bad: Vec<String> = r
            .steps
            .iter()
            .filter(|s| s.verdict != StepVerdict::Pass)
            .map(|s| format!("{}: {:?}", s.name, s.failures))
            .collect();
        assert_eq!(r.verdict, Verdict::Pass, "{} is not green:\n{}", r.id, bad.join("\n"));
        if s.id == import.id {
            let pages: Vec<&str> =
                r.steps.iter().filter(|s| s.name.contains("[page")).map(|s| s.name.as_str()).collect();
            assert_eq!(pages.len(), 2, "{pages:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_over_the_kept_size_imported_from_har_replays_green() {
    let up = upstream().await;
    let pages = import_pages(&up.base_url).await;
    assert!(pages[0].2 > scimcheck::exchange::RETAIN_WHOLE, "the first page is {} bytes", pages[0].2);
    let entries: Vec<Value> = pages
        .iter()
        .map(|(url, text, size)| {
            json!({"startedDateTime": chrono::Utc::now().to_rfc3339(), "time": 5.0,
                "request": {"method": "GET", "url": url, "httpVersion": "HTTP/1.1",
                    "headers": [{"name": "Authorization", "value": format!("Bearer {TOKEN}")},
                                {"name": "User-Agent", "value": OKTA_UA}],
                    "queryString": [], "cookies": [], "headersSize": -1, "bodySize": -1},
                "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1",
                    "headers": [{"name": "Content-Type", "value": "application/scim+json"}], "cookies": [],
                    "content": {"size": size, "mimeType": "application/scim+json", "text": text},
                    "redirectURL": "", "headersSize": -1, "bodySize": -1},
                "cache": {}, "timings": {"send": 0, "wait": 5, "receive": 0}})
        })
        .collect();
    let har =
        json!({"log": {"version": "1.2", "creator": {"name": "mitmproxy", "version": "11.0.0"}, "entries": entries}});
    let dir = TempDir::new();
    let har_path = dir.0.join("import.har");
    std::fs::write(&har_path, har.to_string()).unwrap();
    let out = dir.0.join("recorded");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_scimcheck"))
        .args(["import", "--har"])
        .arg(&har_path)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_replays_green(&out, &up).await;
    up.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_over_the_kept_size_recorded_through_the_proxy_replays_green() {
    let up = upstream().await;
    let dir = TempDir::new();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_scimcheck"))
        .args(["record", "--upstream", &up.base_url, "--listen", "127.0.0.1:0", "--out"])
        .arg(&dir.0)
        .args(["--stop-after", "2", "--idle", "60s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("scimcheck starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    tokio::time::timeout(Duration::from_secs(30), stdout.read_line(&mut line)).await.expect("address").unwrap();
    let addr = line.split("listening on ").nth(1).and_then(|r| r.split(',').next()).expect(&line).to_string();
    let pages = import_pages(&addr).await;
    assert!(pages[0].2 > scimcheck::exchange::RETAIN_WHOLE, "the first page is {} bytes", pages[0].2);
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait()).await.expect("stops").unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).await.unwrap();
    assert!(status.success(), "{err}");
    assert_replays_green(&dir.0, &up).await;
    up.shutdown().await;
}
