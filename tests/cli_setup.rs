//! The real binary before any scenario runs: the embedded library (a moved binary, a stray `scenarios/`), zero
//! selection, the preflight connection test for each setup mistake, and TLS trust (`--ca-cert`, `--insecure`).

mod binary;

use binary::*;
use serde_json::json;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn a_copied_binary_runs_its_embedded_library_from_any_folder() {
    let install = TempDir::new();
    let copy = install.join("scimcheck");
    std::fs::copy(env!("CARGO_BIN_EXE_scimcheck"), &copy).unwrap();
    // a stray, broken scenarios/ folder in the working directory must not replace (or break) the library
    let cwd = TempDir::new();
    std::fs::create_dir_all(cwd.join("scenarios/okta/x")).unwrap();
    std::fs::write(cwd.join("scenarios/okta/x/broken.json"), "{ not json").unwrap();

    let mut cmd = std::process::Command::new(&copy);
    cmd.args(["run", "--reference", "--filter", "okta::spec::spec_suite"]).current_dir(&cwd.0);
    let (code, stdout, stderr) = output(cmd).await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("PASS") && stdout.contains("okta::spec::spec_suite"), "{stdout}");
    assert!(!stderr.contains("broken.json"), "{stderr}");

    let mut cmd = std::process::Command::new(&copy);
    cmd.args(["list"]).current_dir(&cwd.0);
    let (code, stdout, _) = output(cmd).await;
    assert_eq!(code, Some(0));
    for id in ["okta::spec::spec_suite", "azure::", "rfc::"] {
        assert!(stdout.contains(id), "{id} missing from the embedded library:\n{stdout}");
    }

    // named with --scenarios, the folder is read (and its error reported)
    let mut cmd = std::process::Command::new(&copy);
    cmd.args(["list", "--scenarios", "scenarios"]).current_dir(&cwd.0);
    let (code, _, stderr) = output(cmd).await;
    assert_eq!(code, Some(2));
    assert!(stderr.contains("broken.json"), "{stderr}");
}

#[tokio::test]
async fn scenarios_folders_add_to_and_override_the_library_by_id() {
    let dir = TempDir::new();
    write_scenario(&dir.0, "okta/spec/spec_suite.json", &list_users("my replacement"));
    write_scenario(&dir.0, "rfc/mine/extra.json", &list_users("mine"));
    let (code, stdout, stderr) = output(scimcheck_in(&dir.0, &["list", "--scenarios", &dir.arg("")])).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("okta::spec::spec_suite  [must, interop] my replacement"), "{stdout}");
    assert!(stdout.contains("rfc::mine::extra") && stdout.contains("azure::"), "{stdout}");
}

#[tokio::test]
async fn selecting_no_scenario_exits_2_with_a_message() {
    let cwd = TempDir::new();
    let (code, stdout, stderr) =
        output(scimcheck_in(&cwd.0, &["run", "--reference", "--filter", "no-such-scenario"])).await;
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(stderr.contains("no scenario selected"), "{stderr}");
    assert!(!stdout.contains("OK"), "{stdout}");

    std::fs::create_dir_all(cwd.join("empty")).unwrap();
    let (code, _, stderr) =
        output(scimcheck_in(&cwd.0, &["run", "--reference", "--no-library", "--scenarios", &cwd.arg("empty")])).await;
    assert_eq!(code, Some(2));
    assert!(stderr.contains("no scenario selected") && stderr.contains("hold no scenarios"), "{stderr}");
}

/// Runs one list-users scenario against `base` with `extra` arguments.
async fn run_against(base: &str, extra: &[&str]) -> (Option<i32>, String, String) {
    let dir = TempDir::new();
    write_scenario(&dir.0, "rfc/t/list.json", &list_users("list"));
    let scenarios = dir.arg("");
    let mut args = vec!["run", "--base-url", base, "--no-library", "--scenarios", &scenarios, "--timeout", "5"];
    args.extend_from_slice(extra);
    output(scimcheck_in(&dir.0, &args)).await
}

#[tokio::test]
async fn preflight_names_a_closed_port() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let base = format!("http://127.0.0.1:{port}/scim/v2");
    let (code, stdout, stderr) = run_against(&base, &["--token", "t0ken-for-closed-port"]).await;
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(stderr.contains("preflight") && stderr.contains("connection refused"), "{stderr}");
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");
    assert_eq!(stderr.matches("error:").count(), 1, "one line, not one per scenario:\n{stderr}");
    assert!(!stdout.contains("ERROR"), "no scenario ran:\n{stdout}");
}

#[tokio::test]
async fn preflight_names_a_wrong_token_and_quotes_the_server() {
    let server = scim_reference_server::spawn(scim_reference_server::ServerConfig::default()).await.unwrap();
    let (code, stdout, stderr) = run_against(&server.base_url, &["--token", "wrong-token-0123456789"]).await;
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(stderr.contains("401") && stderr.contains("token was rejected"), "{stderr}");
    assert!(stderr.contains("server says \""), "the SCIM error detail is quoted: {stderr}");
    assert!(!stderr.contains("wrong-token-0123456789"), "{stderr}");
    // the right token passes preflight and runs the scenario
    let (code, stdout, stderr) = run_against(&server.base_url, &["--token", &server.token]).await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("PASS") && stdout.contains("rfc::t::list"), "{stdout}");
    server.shutdown().await;
}

#[tokio::test]
async fn preflight_names_a_wrong_base_path_and_no_preflight_skips_it() {
    let server = scim_reference_server::spawn(scim_reference_server::ServerConfig::default()).await.unwrap();
    let origin = server.base_url.split('/').take(3).collect::<Vec<_>>().join("/");
    let wrong = format!("{origin}/not-scim");
    let (code, stdout, stderr) = run_against(&wrong, &["--token", &server.token]).await;
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(stderr.contains("404") && stderr.contains("base URL is probably wrong"), "{stderr}");
    // without preflight the scenario itself runs and fails
    let (code, stdout, stderr) = run_against(&wrong, &["--token", &server.token, "--no-preflight"]).await;
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("FAIL") && stdout.contains("expected 200, got 404"), "{stdout}");
    server.shutdown().await;
}

#[tokio::test]
async fn preflight_prints_a_redirect_location_and_names_a_web_page() {
    let server = MockServer::start().await;
    Mock::given(path("/moved/Users"))
        .respond_with(ResponseTemplate::new(301).insert_header("Location", "https://scim.example.test/v2/Users"))
        .mount(&server)
        .await;
    Mock::given(path("/page/Users"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("<html><body>Sign in</body></html>", "text/html"))
        .mount(&server)
        .await;
    Mock::given(path("/json/Users"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"users": []})))
        .mount(&server)
        .await;
    let (code, _, stderr) = run_against(&format!("{}/moved", server.uri()), &["--token", "tok-redirect"]).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("redirected (301) to https://scim.example.test/v2/Users"), "{stderr}");
    let (code, _, stderr) = run_against(&format!("{}/page", server.uri()), &["--token", "tok-page"]).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("a web page") && stderr.contains("not a SCIM ListResponse"), "{stderr}");
    let (code, _, stderr) = run_against(&format!("{}/json", server.uri()), &["--token", "tok-json"]).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("not a SCIM ListResponse"), "{stderr}");
}

#[tokio::test]
async fn a_missing_credential_is_warned_about_once() {
    let server = MockServer::start().await;
    Mock::given(path("/scim/Users"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(empty_list().to_string(), "application/scim+json"))
        .mount(&server)
        .await;
    let (code, stdout, stderr) = run_against(&format!("{}/scim", server.uri()), &[]).await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(stderr.matches("no credential given").count(), 1, "{stderr}");
    let (_, _, stderr) = run_against(&format!("{}/scim", server.uri()), &["--token", "tok"]).await;
    assert!(!stderr.contains("no credential given"), "{stderr}");
}

#[tokio::test]
async fn tls_with_a_private_ca_needs_ca_cert_or_insecure() {
    let certs = make_certs();
    let base = tls_server(&certs).await;
    let dir = TempDir::new();
    std::fs::write(dir.join("ca.pem"), &certs.ca_pem).unwrap();
    let ca = dir.arg("ca.pem");

    let (code, stdout, stderr) = run_against(&base, &["--token", "tls-token"]).await;
    assert_eq!(code, Some(2), "an untrusted certificate fails preflight\n{stdout}{stderr}");
    assert!(stderr.contains("TLS with 127.0.0.1") && stderr.contains("--ca-cert"), "{stderr}");

    let (code, stdout, stderr) = run_against(&base, &["--token", "tls-token", "--ca-cert", &ca]).await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("PASS") && stdout.contains("rfc::t::list"), "{stdout}");
    assert!(!stderr.contains("--insecure"), "{stderr}");

    let (code, stdout, stderr) = run_against(&base, &["--token", "tls-token", "--insecure"]).await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stderr.contains("warning: --insecure"), "warned on every run: {stderr}");

    std::fs::write(dir.join("bad.pem"), "no certificate here").unwrap();
    let (code, _, stderr) = run_against(&base, &["--token", "tls-token", "--ca-cert", &dir.arg("bad.pem")]).await;
    assert_eq!(code, Some(2));
    assert!(stderr.contains("bad.pem"), "{stderr}");
}
