//! The real binary while it runs: a line per scenario as soon as it finishes (against a server that takes 1 s per
//! answer), and Ctrl-C (SIGINT) — no new steps, created resources deleted, partial JUnit written, exit 130.

mod binary;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use binary::*;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn scim(status: u16, body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.to_string(), "application/scim+json")
}

#[tokio::test]
async fn each_scenario_is_printed_as_soon_as_it_finishes() {
    let server = MockServer::start().await;
    Mock::given(path("/scim/Users"))
        .respond_with(scim(200, empty_list()).set_delay(Duration::from_secs(1)))
        .mount(&server)
        .await;
    let dir = TempDir::new();
    for name in ["a", "b", "c"] {
        write_scenario(&dir.0, &format!("rfc/slow/{name}.json"), &list_users(name));
    }
    let base = format!("{}/scim", server.uri());
    let scenarios = dir.arg("");
    let mut cmd = scimcheck_in(
        &dir.0,
        &["run", "--base-url", &base, "--token", "slow-token", "--no-library", "--scenarios", &scenarios],
    );
    cmd.args(["--jobs", "1", "--no-preflight", "--timeout", "10"]).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    // read lines on a thread; when the first scenario line arrives, the process must still be running
    let (first_line, still_running, rest) = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stdout).lines();
        let mut first = None;
        let mut running = false;
        let mut rest = String::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            if first.is_none() && line.contains("rfc::slow::") {
                running = child.try_wait().unwrap().is_none();
                first = Some(line);
            } else {
                rest.push_str(&line);
                rest.push('\n');
            }
        }
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "{rest}");
        (first, running, rest)
    })
    .await
    .unwrap();
    let first_line = first_line.expect("a scenario line");
    assert!(still_running, "the first line came only when the run had ended: {first_line}");
    assert!(first_line.starts_with("PASS") && first_line.contains("rfc::slow::a"), "{first_line}");
    // aligned columns, no colour codes when stdout is not a terminal
    assert!(!first_line.contains('\u{1b}'), "{first_line:?}");
    let col = |l: &str| l.find("[must]").unwrap();
    let others: Vec<&str> = rest.lines().filter(|l| l.starts_with("PASS") && l.contains("rfc::slow::")).collect();
    assert!(others.len() >= 2, "{rest}");
    assert!(others.iter().all(|l| col(l) == col(&first_line)), "{first_line}\n{rest}");
}

#[tokio::test]
async fn colours_follow_clicolor_force_and_no_color() {
    let cwd = TempDir::new();
    let mut forced = scimcheck_in(&cwd.0, &["run", "--reference", "--filter", "okta::spec::spec_suite"]);
    forced.env("CLICOLOR_FORCE", "1");
    let (code, stdout, _) = output(forced).await;
    assert_eq!(code, Some(0));
    assert!(stdout.contains("\u{1b}["), "CLICOLOR_FORCE colours even a pipe: {stdout:?}");
    let mut none = scimcheck_in(&cwd.0, &["run", "--reference", "--filter", "okta::spec::spec_suite"]);
    none.env("CLICOLOR_FORCE", "1").env("NO_COLOR", "1");
    let (_, stdout, _) = output(none).await;
    assert!(!stdout.contains("\u{1b}["), "NO_COLOR wins: {stdout:?}");
}

#[tokio::test]
async fn ctrl_c_stops_new_steps_deletes_created_resources_and_writes_partial_reports() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/scim/Users"))
        .respond_with(scim(201, json!({"id": "u-created-1", "userName": "x"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/scim/Users/u-created-1"))
        .respond_with(scim(200, json!({"id": "u-created-1", "userName": "x"})).set_delay(Duration::from_secs(2)))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/scim/Users/u-created-1"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    Mock::given(method("PATCH")).respond_with(scim(200, json!({}))).mount(&server).await;
    let dir = TempDir::new();
    let steps = json!([
        {"name": "create", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "POST", "path": "/Users", "body": {"userName": "x"}},
         "expect": {"status": 201}, "capture": {"id": "/id"}},
        {"name": "slow read", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "GET", "path": "/Users/{{id}}"}, "expect": {"status": 200}},
        {"name": "never", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "PATCH", "path": "/Users/{{id}}", "body": {"Operations": []}},
         "expect": {"status": 200}}
    ]);
    write_scenario(
        &dir.0,
        "rfc/int/a_create.json",
        &json!({"title": "create", "source": "t", "level": "must", "steps": steps}),
    );
    let later = json!({"title": "later", "source": "t", "level": "must", "steps": [
        {"name": "read", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "GET", "path": "/Users/u-other"}, "expect": {"status": 200}}]});
    write_scenario(&dir.0, "rfc/int/b_later.json", &later);
    let junit = dir.join("junit.xml");
    let base = format!("{}/scim", server.uri());
    let scenarios = dir.arg("");
    let mut cmd = scimcheck_in(
        &dir.0,
        &["run", "--base-url", &base, "--token", "int-token", "--no-library", "--scenarios", &scenarios],
    );
    let (json_path, html_path) = (dir.join("report.json"), dir.join("report.html"));
    cmd.args(["--jobs", "1", "--no-preflight", "--junit", junit.to_str().unwrap()]);
    cmd.args(["--json", json_path.to_str().unwrap(), "--html", html_path.to_str().unwrap()]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    let pid = child.id();
    // once the user exists (the slow read is in flight), interrupt
    let created = eventually(Duration::from_secs(20), || {
        futures::executor::block_on(server.received_requests())
            .unwrap_or_default()
            .iter()
            .any(|r| r.method.as_str() == "POST")
    })
    .await;
    assert!(created, "the create step never ran");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let status = std::process::Command::new("kill").args(["-INT", &pid.to_string()]).status().unwrap();
    assert!(status.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stdout}{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    let received = server.received_requests().await.unwrap();
    let seen = |m: &str| received.iter().any(|r| r.method.as_str() == m);
    assert!(seen("DELETE"), "the created user was deleted");
    assert!(!seen("PATCH"), "no step started after Ctrl-C");
    assert!(!received.iter().any(|r| r.url.path() == "/scim/Users/u-other"), "b never ran\n{stdout}\n{received:?}");
    let xml = std::fs::read_to_string(&junit).expect("a partial JUnit report");
    assert!(xml.contains("rfc::int::a_create") && xml.contains("rfc::int::b_later"), "{xml}");
    // the JSON and HTML reports are written too, and say the run was cut short
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).expect("a partial JSON report")).unwrap();
    assert_eq!(report["counts"]["total"], 2, "{report}");
    assert!(
        report["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().contains("interrupted")),
        "{report}"
    );
    let html = std::fs::read_to_string(&html_path).expect("a partial HTML report");
    assert!(html.contains("rfc::int::a_create") && html.contains("interrupted by Ctrl-C"), "partial HTML report");
    assert!(stdout.contains("interrupted"), "{stdout}");
    assert_interrupted_everywhere(&stdout, &report, &xml, &html, 2);
}

/// An interrupted run is its own outcome in every report, never "OK" or exit code 0 — the
/// terminal's last line says INTERRUPTED, the JSON report `"interrupted": true` with the real exit code 130, the
/// JUnit report marks each unfinished scenario as an error of type `interrupted`, the HTML report's result is
/// not green.
fn assert_interrupted_everywhere(stdout: &str, report: &serde_json::Value, xml: &str, html: &str, unfinished: usize) {
    let last = stdout.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
    assert!(last.contains("INTERRUPTED") && !last.ends_with(": OK"), "{stdout}");
    assert_eq!(report["interrupted"], true, "{report}");
    assert_eq!(report["exitCode"], 130, "{report}");
    let errors = xml.matches("type=\"interrupted\"").count();
    assert_eq!(errors, unfinished, "each unfinished scenario is an error in JUnit:\n{xml}");
    assert!(html.contains("INTERRUPTED") && !html.contains("badge v-pass\">OK"), "the HTML result is not green");
    // the scenarios the interruption left unfinished are "not run", never skips (a skip says the server lacks
    // something)
    assert_eq!(report["counts"]["notRun"], unfinished, "{report}");
    assert_eq!(report["counts"]["skip"], 0, "{report}");
    assert!(last.contains(&format!("{unfinished} not run (interrupted)")) && !last.contains("skipped"), "{stdout}");
    assert!(xml.contains("message=\"not run: interrupted (Ctrl-C)\""), "{xml}");
    assert!(html.contains(&format!("{unfinished} not run (interrupted)</span>")), "the HTML counts");
    assert!(!html.contains("skipped</span>"), "the HTML counts no skip");
}

/// Ctrl-C during discovery (`/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`) abandons
/// the request in flight and starts no other: the run ends at once (before, each of them ran to its
/// `--timeout`), exit 130, with reports that say it was interrupted.
#[tokio::test]
async fn ctrl_c_during_discovery_ends_the_run_at_once() {
    let server = MockServer::start().await;
    // every discovery endpoint hangs far beyond the test's patience
    Mock::given(method("GET"))
        .respond_with(scim(200, json!({"Resources": []})).set_delay(Duration::from_secs(120)))
        .mount(&server)
        .await;
    let dir = TempDir::new();
    let one = json!({"title": "read", "source": "t", "level": "must", "steps": [
        {"name": "read", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "GET", "path": "/Users/u-1"}, "expect": {"status": 200}}]});
    write_scenario(&dir.0, "rfc/int/a_read.json", &one);
    let base = format!("{}/scim", server.uri());
    let scenarios = dir.arg("");
    let (json_path, junit, html_path) = (dir.join("report.json"), dir.join("junit.xml"), dir.join("report.html"));
    let mut cmd = scimcheck_in(
        &dir.0,
        &["run", "--base-url", &base, "--token", "int-token", "--no-library", "--scenarios", &scenarios],
    );
    cmd.args(["--timeout", "100", "--no-preflight", "--json", json_path.to_str().unwrap()]);
    cmd.args(["--junit", junit.to_str().unwrap(), "--html", html_path.to_str().unwrap()]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    let pid = child.id();
    let asked = eventually(Duration::from_secs(20), || {
        !futures::executor::block_on(server.received_requests()).unwrap_or_default().is_empty()
    })
    .await;
    assert!(asked, "discovery never started");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let status = std::process::Command::new("kill").args(["-INT", &pid.to_string()]).status().unwrap();
    assert!(status.success());
    // a bound on a hang, not a speed target: the delayed answers would take 120 s each
    let waited = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()),
    )
    .await;
    let out = match waited {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = std::process::Command::new("kill").args(["-KILL", &pid.to_string()]).status();
            panic!("the run did not end after Ctrl-C during discovery");
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(130), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 1, "no request started after Ctrl-C: {received:?}");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let xml = std::fs::read_to_string(&junit).unwrap();
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert_interrupted_everywhere(&stdout, &report, &xml, &html, 1);
}

/// `scimcheck serve` logs each request to stderr like `scim-reference-server` does, without colour codes
/// when stderr is not a terminal.
#[tokio::test]
async fn serve_logs_requests_to_stderr_without_colour_codes_when_redirected() {
    let dir = TempDir::new();
    let mut cmd = scimcheck_in(&dir.0, &["serve", "--listen", "127.0.0.1:0"]);
    cmd.env_remove("RUST_LOG").stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (base, token) = tokio::task::spawn_blocking(move || {
        let (mut base, mut token) = (String::new(), String::new());
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(b) = line.strip_prefix("SCIM base URI: ") {
                base = b.trim().to_string();
            }
            if let Some(t) = line.strip_prefix("Bearer token:") {
                token = t.trim().to_string();
                break;
            }
        }
        (base, token)
    })
    .await
    .unwrap();
    assert!(!base.is_empty() && !token.is_empty(), "the server printed its base URI and token");
    let r = reqwest::Client::new().get(format!("{base}/Users")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    tokio::time::sleep(Duration::from_millis(200)).await;
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("request method=GET") && log.contains("status=200"), "{log}");
    assert!(!log.contains('\u{1b}'), "colour codes in a redirected log: {log:?}");
    assert!(!log.contains(&token), "the token reached the log");
}

/// `scimcheck serve` keeps serving when its stdout's reader has gone (`scimcheck serve | head -2` to read the
/// token, a wrapper that stops reading): the start-up banner is written with errors ignored, never a broken-pipe
/// panic that ends the server. Deterministic: the pipe's read end is closed before the server prints anything, so
/// every banner line meets a closed pipe.
#[tokio::test]
async fn serve_keeps_serving_when_its_stdout_is_closed() {
    let dir = TempDir::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let token = "stdout-closed-test-token-0123456789";
    let mut cmd = scimcheck_in(&dir.0, &["serve", "--listen", &listen, "--token", token]);
    cmd.env_remove("RUST_LOG").stdout(Stdio::piped()).stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    drop(child.stdout.take());
    let url = format!("http://{listen}/t/acme/api/v1/SCIM/SCIMOkta/Users");
    let client = reqwest::Client::new();
    let mut answered = None;
    for _ in 0..100 {
        if let Ok(r) = client.get(&url).bearer_auth(token).send().await {
            answered = Some(r.status());
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let exited = child.try_wait().unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(exited, None, "the server ended when its stdout was closed");
    assert_eq!(answered.map(|s| s.as_u16()), Some(200), "the server answered with its stdout closed");
}
