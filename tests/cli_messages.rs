//! The states and messages a new user meets, one test each: a green run without long observation lines, a report
//! folder made before the run, a closed pipe on stdout, https to a plain-HTTP port, a URL without a scheme, a URL
//! given as the FILTER, a base URL ending in /Users, a token with its own `Bearer ` prefix, and `--okta-pauses` saying how long it waits.

mod binary;

use binary::*;
use serde_json::json;
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn answering(status: u16) -> MockServer {
    let server = MockServer::start().await;
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": status.to_string()});
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(status).set_body_raw(body.to_string(), "application/scim+json"))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_green_run_counts_observations_and_v_lists_them() {
    let dir = TempDir::new();
    let (code, stdout, stderr) =
        output(scimcheck_in(&dir.0, &["run", "--reference", "tutorial::provisioning_examples"])).await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let long: Vec<&str> = stdout.lines().filter(|l| l.chars().count() > 300).collect();
    assert!(long.is_empty(), "no long observation lines by default: {long:#?}");
    assert!(stdout.contains("observation(s)") && stdout.contains("(-v lists them)"), "{stdout}");
    let (code, stdout, _) =
        output(scimcheck_in(&dir.0, &["run", "--reference", "tutorial::provisioning_examples", "-v"])).await;
    assert_eq!(code, Some(0));
    assert!(stdout.contains("observation: status: expected 200, got 400"), "{stdout}");
}

#[tokio::test]
async fn a_missing_report_folder_is_made_before_the_run_or_stops_it_before_any_request() {
    let dir = TempDir::new();
    let (code, stdout, stderr) =
        output(scimcheck_in(&dir.0, &["run", "--reference", "spec_suite", "--json", "out/sub/r.json"])).await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("made the report folder out/sub"), "{stdout}");
    assert!(dir.join("out/sub/r.json").is_file());

    let server = answering(200).await;
    std::fs::write(dir.join("a-file"), "x").unwrap();
    let base = format!("{}/scim", server.uri());
    let (code, _, stderr) =
        output(scimcheck_in(&dir.0, &["run", "--base-url", &base, "--junit", "a-file/r.xml"])).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("cannot make the folder a-file for the report a-file/r.xml"), "{stderr}");
    assert!(server.received_requests().await.unwrap().is_empty(), "no request before the usage error");
}

/// `scimcheck list | head`: a closed stdout drops the rest of the output quietly, with no panic and no
/// "Broken pipe"; the command's exit code is its own (0), not a signal's.
#[tokio::test]
async fn a_closed_stdout_ends_quietly() {
    let dir = TempDir::new();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut cmd = scimcheck_in(&dir.0, &["list"]);
    cmd.stdout(writer).stderr(std::process::Stdio::piped());
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{stderr}");
}

/// `scimcheck run … --json out.json | head -2`: the run goes on after its stdout's reader has gone (the read end
/// is closed before the first line, so every line meets a closed pipe), writes every report file, and exits with
/// the run's verdict.
#[tokio::test]
async fn a_run_whose_stdout_is_closed_still_writes_its_reports() {
    let dir = TempDir::new();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut cmd = scimcheck_in(
        &dir.0,
        &["run", "--reference", "spec_suite", "--json", "out.json", "--junit", "out.xml", "--html", "out.html"],
    );
    cmd.stdout(writer).stderr(std::process::Stdio::piped());
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "the run's verdict, not a signal's: {stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{stderr}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("out.json")).unwrap()).unwrap();
    assert!(report["scenarios"].as_array().is_some_and(|s| !s.is_empty()), "{report}");
    assert!(dir.join("out.xml").is_file() && dir.join("out.html").is_file());
}

/// A failing stdout that is not a closed pipe (a full disk: `/dev/full`) never panics (exit 101): one line on
/// stderr names the failure, the run goes on, writes its reports and exits with its verdict.
#[tokio::test]
async fn a_full_disk_on_stdout_is_a_clear_message_not_a_panic() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else { return };
    let dir = TempDir::new();
    let mut cmd = scimcheck_in(&dir.0, &["run", "--reference", "spec_suite", "--json", "out.json"]);
    cmd.stdout(full).stderr(std::process::Stdio::piped());
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.matches("cannot write to stdout (No space left on device").count(), 1, "{stderr}");
    assert!(dir.join("out.json").is_file());
}

#[tokio::test]
async fn https_to_a_plain_http_port_says_to_use_http() {
    let server = answering(200).await;
    let dir = TempDir::new();
    let base = format!("{}/scim", server.uri().replacen("http://", "https://", 1));
    let (code, _, stderr) = output(scimcheck_in(&dir.0, &["run", "--base-url", &base])).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("the server answered plain HTTP, not TLS"), "{stderr}");
    assert!(stderr.contains(&format!("use http:// in the base URL ({}/scim)", server.uri())), "{stderr}");
    assert!(!stderr.contains("InvalidContentType"), "{stderr}");
}

#[tokio::test]
async fn https_to_a_plain_http_server_that_hangs_up_says_to_try_http() {
    // a plain-HTTP server in python's http.server style: it reads the TLS hello as a bad request line and closes
    // the connection without answering, so the TLS client sees an end of file during the handshake
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepting = tokio::spawn(async move {
        use tokio::io::AsyncReadExt;
        loop {
            let Ok((mut stream, _)) = listener.accept().await else { return };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf).await;
            drop(stream);
        }
    });
    let dir = TempDir::new();
    let base = format!("https://127.0.0.1:{port}/scim");
    let (code, _, stderr) = output(scimcheck_in(&dir.0, &["run", "--base-url", &base])).await;
    accepting.abort();
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("closed the connection during the TLS handshake"), "{stderr}");
    assert!(stderr.contains(&format!("try http:// in the base URL (http://127.0.0.1:{port}/scim)")), "{stderr}");
    assert!(!stderr.contains("--ca-cert"), "{stderr}");
}

#[tokio::test]
async fn a_url_without_a_scheme_says_so_with_the_fix() {
    let dir = TempDir::new();
    // run and simulate say it in the same words
    for command in [&["run"][..], &["simulate", "--idp", "entra"]] {
        let args = [command, &["--base-url", "localhost:8080/scim/v2"]].concat();
        let (code, _, stderr) = output(scimcheck_in(&dir.0, &args)).await;
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stderr.contains("has no scheme") && stderr.contains("https://localhost:8080/scim/v2"), "{stderr}");
        assert!(!stderr.contains("relative URL without a base"), "{stderr}");
    }
}

/// `scimcheck run http://… --token x`: the URL lands in the FILTER positional; the error says it is a base URI
/// to give as `--base-url`, in one line, before any request.
#[tokio::test]
async fn a_url_given_as_the_filter_says_to_give_it_as_base_url() {
    let server = answering(200).await;
    let dir = TempDir::new();
    let base = format!("{}/scim", server.uri());
    let (code, stdout, stderr) = output(scimcheck_in(&dir.0, &["run", &base, "--token", "x"])).await;
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    let line = format!("`{base}` looks like a base URI: give it as --base-url {base}");
    assert!(stderr.contains(&line), "{stderr}");
    assert!(!stderr.contains("no target"), "{stderr}");
    assert!(server.received_requests().await.unwrap().is_empty(), "no request before the usage error");
}

#[tokio::test]
async fn a_base_url_ending_in_users_gets_the_hint_to_drop_it() {
    let server = answering(404).await;
    let dir = TempDir::new();
    let base = format!("{}/scim/v2/Users", server.uri());
    let (code, _, stderr) = output(scimcheck_in(&dir.0, &["run", "--base-url", &base])).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "the base URL ends in /Users: give the SCIM base without it ({}/scim/v2)",
            server.uri()
        )),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_token_with_its_own_bearer_prefix_gets_a_hint_on_401() {
    let server = answering(401).await;
    let dir = TempDir::new();
    let base = format!("{}/scim", server.uri());
    let token = "Bearer doubled-prefix-token-0123456789";
    let (code, stdout, stderr) = output(scimcheck_in(&dir.0, &["run", "--base-url", &base, "--token", token])).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("the token already starts with `Bearer `") && stderr.contains("give the bare token"),
        "{stderr}"
    );
    assert!(!stderr.contains("doubled-prefix-token") && !stdout.contains("doubled-prefix-token"), "{stderr}");
    // a bare token that is rejected gets no such hint
    let (_, _, stderr) =
        output(scimcheck_in(&dir.0, &["run", "--base-url", &base, "--token", "bare-token-0123456789"])).await;
    assert!(stderr.contains("401") && !stderr.contains("already starts with"), "{stderr}");
}

#[tokio::test]
async fn okta_pauses_says_that_it_waits_and_how_long() {
    let dir = TempDir::new();
    let mut scenario = list_users("paused");
    scenario["steps"][0]["pause"] = json!(0.3);
    write_scenario(&dir.join("mine"), "okta/paced/x.json", &scenario);
    let args = ["run", "--reference", "--no-library", "--scenarios", "mine", "--okta-pauses"];
    let (code, stdout, stderr) = output(scimcheck_in(&dir.0, &args)).await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains(
            "--okta-pauses: waiting between steps as Okta's suites do: 1 pause(s), 0.3 s in all, in 1 scenario(s)"
        ),
        "{stdout}"
    );
}

#[tokio::test]
async fn the_list_hint_names_the_folders_and_settings_file_and_works() {
    let dir = TempDir::new();
    write_scenario(&dir.join("mine"), "rfc/own/x.json", &list_users("own"));
    std::fs::write(dir.join("ci.toml"), "jobs = 1\n").unwrap();
    let args = ["run", "--reference", "--config", "ci.toml", "--no-library", "--scenarios", "mine", "nothing-matches"];
    let (code, _, stderr) = output(scimcheck_in(&dir.0, &args)).await;
    assert_eq!(code, Some(2), "{stderr}");
    let hint = "scimcheck list --config ci.toml --scenarios mine --no-library";
    assert!(stderr.contains(&format!("`{hint}` shows what there is")), "{stderr}");
    let words: Vec<&str> = hint.split(' ').skip(1).collect();
    let (code, stdout, stderr) = output(scimcheck_in(&dir.0, &words)).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("rfc::own::x") && stdout.contains("1 scenario(s)"), "{stdout}");
}

/// A SCIM server behind a proxy or framework that answers everything but discovery and the preflight's list with
/// its HTML error page (a `<style>` block, a title, 60 paragraphs): the terminal shows each such body as its media
/// type, size and title, never the markup, under every step, in fix first, in JUnit and atop the HTML report's
/// response (the page folded under it); the JSON report keeps the body.
#[tokio::test]
async fn an_html_error_page_is_summarised_in_the_terminal_and_kept_in_the_json_report() {
    use wiremock::matchers::{method, path};
    let server = MockServer::start().await;
    let page = format!(
        "<!DOCTYPE html><html><head><title>404 Not Found</title><style>{}</style></head><body><h1>Whitelabel Error \
         Page</h1>{}</body></html>",
        "body{color:red}".repeat(100),
        "<p>There was an unexpected error (type=Not Found, status=404).</p>\n".repeat(60)
    );
    Mock::given(method("GET"))
        .and(path("/scim/Users"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(empty_list().to_string(), "application/scim+json"))
        .mount(&server)
        .await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(404).set_body_raw(page.clone(), "text/html;charset=UTF-8"))
        .mount(&server)
        .await;
    let dir = TempDir::new();
    let base = format!("{}/scim", server.uri());
    let args = [
        "run",
        "--base-url",
        &base,
        "--token",
        "t0ken-0123456789",
        "-q",
        "--json",
        "r.json",
        "--junit",
        "r.xml",
        "--html",
        "r.html",
        "rfc::s3_12",
    ];
    let (code, stdout, stderr) = output(scimcheck_in(&dir.0, &args)).await;
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    let summary = format!("text/html, {} bytes, title \"404 Not Found\"", thousands(page.len()));
    assert!(stdout.contains(&format!("got not JSON ({summary})")), "{stdout}");
    assert!(stdout.contains(&format!("body: {summary}")), "{stdout}");
    for markup in ["<!DOCTYPE", "<html", "<style", "body{color", "<p>"] {
        assert!(!stdout.contains(markup) && !stderr.contains(markup), "{markup} printed:\n{stdout}");
    }
    let fix_first = &stdout[stdout.find("\nfix first:").expect("fix first")..];
    assert!(fix_first.contains("got not JSON (text/html, "), "{fix_first}");
    let longest = stdout.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    assert!(longest < 700, "a line of {longest} characters");
    // JUnit's text is read by people in CI: summarised there too
    let junit = std::fs::read_to_string(dir.join("r.xml")).unwrap();
    assert!(junit.contains("text/html, ") && !junit.contains("DOCTYPE") && !junit.contains("color:red"), "{junit}");
    // the HTML report names it in one line and keeps the page (escaped) folded away under it
    let html = std::fs::read_to_string(dir.join("r.html")).unwrap();
    let folded = format!(
        "<div class=\"note\">{}</div><details><summary>The body as received</summary><pre>&lt;!DOCTYPE html&gt;",
        summary.replace('"', "&quot;").replace('/', "&#x2f;")
    );
    assert!(html.contains(&folded), "{folded}");
    assert!(!html.contains("<style>body{color:red}"), "the page's markup is escaped");
    // the JSON report keeps the page (bounded by --report-body-limit, 32 KiB by default)
    let report = std::fs::read_to_string(dir.join("r.json")).unwrap();
    assert!(report.contains("<title>404 Not Found</title>"), "the JSON report lost the body");
}

fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A SCIM server that dies on `PATCH`: before answering it (`answer_first: false`) or right after
/// (`answer_first: true`). It runs on a runtime of its own in its own thread; dying drops that runtime, which
/// closes the listener and every open connection at once, as the end of a process does. It keeps users in memory
/// (POST answers 201 with an `id`, GET /Users/{id} the user, the list an empty page, DELETE 204).
fn dying_on_patch(answer_first: bool) -> String {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (die, mut dead) = tokio::sync::mpsc::unbounded_channel::<()>();
        let users: Arc<Mutex<HashMap<String, serde_json::Value>>> = Arc::default();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let stream = tokio::select! {
                    _ = dead.recv() => return,
                    accepted = listener.accept() => accepted.unwrap().0,
                };
                let (die, users) = (die.clone(), users.clone());
                tokio::spawn(async move {
                    let (read, mut out) = stream.into_split();
                    let mut reader = BufReader::new(read);
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let mut length = 0;
                        loop {
                            let mut h = String::new();
                            reader.read_line(&mut h).await.unwrap();
                            if h.trim().is_empty() {
                                break;
                            }
                            if let Some((k, v)) = h.split_once(':') {
                                if k.eq_ignore_ascii_case("content-length") {
                                    length = v.trim().parse().unwrap();
                                }
                            }
                        }
                        let mut body = vec![0; length];
                        reader.read_exact(&mut body).await.unwrap();
                        let mut parts = line.split_whitespace();
                        let (verb, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                        let path = target.split('?').next().unwrap_or("");
                        let id = path.rsplit('/').next().unwrap_or("").to_string();
                        if verb == "PATCH" && !answer_first {
                            let _ = die.send(());
                            return std::future::pending().await;
                        }
                        let (status, answer) = match verb {
                            "POST" => {
                                let mut user: serde_json::Value = serde_json::from_slice(&body).unwrap();
                                let id = uuid::Uuid::new_v4().to_string();
                                user["id"] = json!(id);
                                users.lock().unwrap().insert(id, user.clone());
                                ("201 Created", Some(user))
                            }
                            "GET" if path.ends_with("/Users") => ("200 OK", Some(empty_list())),
                            "GET" => match users.lock().unwrap().get(&id) {
                                Some(u) => ("200 OK", Some(u.clone())),
                                None => ("404 Not Found", Some(json!({"status": "404"}))),
                            },
                            "PATCH" => ("200 OK", users.lock().unwrap().get(&id).cloned()),
                            _ => ("204 No Content", None),
                        };
                        let text = answer.map(|a| a.to_string()).unwrap_or_default();
                        let head = format!(
                            "HTTP/1.1 {status}\r\ncontent-type: application/scim+json\r\ncontent-length: {}\r\n\r\n",
                            text.len()
                        );
                        let _ = out.write_all(format!("{head}{text}").as_bytes()).await;
                        let _ = out.flush().await;
                        if verb == "PATCH" {
                            let _ = die.send(());
                            return std::future::pending().await;
                        }
                    }
                });
            }
        });
        // the runtime and every connection it holds end here: the process "exits"
        drop(rt);
    });
    format!("http://127.0.0.1:{port}/scim")
}

/// Three steps on one user, the third a PATCH, then a read.
fn patch_then_read() -> serde_json::Value {
    let step = |name: &str, method: &str, path: &str, body: Option<serde_json::Value>, status: u16| {
        let mut request = json!({"method": method, "path": path});
        if let Some(b) = body {
            request["body"] = b;
        }
        json!({"name": name, "basis": {"rfc": "RFC 7644 §3"}, "request": request, "expect": {"status": status}})
    };
    let mut create = step(
        "create",
        "POST",
        "/Users",
        Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "{{user}}"})),
        201,
    );
    create["capture"] = json!({"id": "/id"});
    let ops = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                     "Operations": [{"op": "replace", "path": "displayName", "value": "Jane"}]});
    json!({"title": "patch then read", "source": "test", "level": "must", "idp": "rfc",
           "variables": {"user": "{{$uuid}}@example.com"}, "steps": [
        create,
        step("read", "GET", "/Users/{{id}}", None, 200),
        step("rename", "PATCH", "/Users/{{id}}", Some(ops), 200),
        step("read again", "GET", "/Users/{{id}}", None, 200),
    ]})
}

/// A server that dies in the middle of a run: fix first shows one cause pointing at the request it died on (its
/// connection cut before an answer) or, when it died after answering, at the last request it answered — its
/// scenario, step and request line — instead of a transport error per later step; the JSON report says the same
/// in the cause's `stoppedAfter`.
#[tokio::test]
async fn a_server_that_stops_answering_is_pointed_at_the_request_it_stopped_on() {
    for (answer_first, word, step, name) in [(false, "at", 3, "rename"), (true, "after", 3, "rename")] {
        let dir = TempDir::new();
        let mut list = list_users("list after");
        list["idp"] = json!("rfc");
        write_scenario(&dir.join("mine"), "crash/a_patch.json", &patch_then_read());
        write_scenario(&dir.join("mine"), "crash/b_list.json", &list);
        let mut later = patch_then_read();
        later["steps"].as_array_mut().unwrap().truncate(1);
        write_scenario(&dir.join("mine"), "crash/c_create.json", &later);
        let base = dying_on_patch(answer_first);
        let args = [
            "run",
            "--base-url",
            &base,
            "--token",
            "t0ken-0123456789",
            "--no-library",
            "--scenarios",
            "mine",
            "--jobs",
            "1",
            "--json",
            "r.json",
        ];
        let (code, stdout, stderr) = output(scimcheck_in(&dir.0, &args)).await;
        assert_eq!(code, Some(1), "{stdout}{stderr}");
        let fix_first = &stdout[stdout.find("\nfix first:").unwrap_or_else(|| panic!("{stdout}"))..];
        let sentence = format!("the server stopped answering {word} `PATCH /Users/");
        let first = fix_first.lines().nth(2).unwrap_or("");
        assert!(first.starts_with("  1. ") && first.contains("transport: got no answer"), "{fix_first}");
        let at = fix_first.lines().nth(3).unwrap_or("");
        assert!(at.trim_start().starts_with(&sentence), "{fix_first}");
        assert!(at.contains(&format!("in scenario rfc::crash::a_patch step {step} \"{name}\"")), "{fix_first}");
        assert!(at.ends_with("every later step failed to connect"), "{fix_first}");
        assert_eq!(at.contains("cut before an answer"), !answer_first, "{fix_first}");
        assert_eq!(fix_first.matches("transport").count(), 1, "one transport cause:\n{fix_first}");
        let report: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("r.json")).unwrap()).unwrap();
        let causes = report["causes"].as_array().unwrap();
        assert!(causes[0]["stoppedAfter"].as_str().is_some_and(|s| s.starts_with(&sentence)), "{causes:#?}");
        assert_eq!(causes.iter().filter(|c| c["check"] == "transport").count(), 1, "{causes:#?}");
        // the report with its new field still follows the published schema
        let schema = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemas/report.schema.json");
        let schema: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(schema).unwrap()).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let errors: Vec<String> =
            validator.iter_errors(&report).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{errors:#?}");
        // the scenario run after the crash failed to connect: one cause with it
        assert_eq!(causes[0]["scenarioIds"], json!(["rfc::crash::a_patch", "rfc::crash::c_create"]), "{causes:#?}");
    }
}
