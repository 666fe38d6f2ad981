//! The states and messages a new user meets, one test each: a green run without long observation lines, a report
//! folder made before the run, a closed pipe on stdout, https to a plain-HTTP port, a URL without a scheme, a base
//! URL ending in /Users, a token with its own `Bearer ` prefix, and `--okta-pauses` saying how long it waits.

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
    let (code, _, stderr) = output(scimcheck_in(&dir.0, &["run", "--base-url", "localhost:8080/scim/v2"])).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("has no scheme") && stderr.contains("https://localhost:8080/scim/v2"), "{stderr}");
    assert!(!stderr.contains("relative URL without a base"), "{stderr}");
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
