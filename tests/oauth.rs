//! scimcheck as an OAuth client (client credentials with a secret, JWT-bearer assertions) against the reference
//! server's token endpoint and against scripted servers: a run that outlives its tokens, a token endpoint that
//! refuses, a 401 `invalid_token` answered by one refresh, the gallery credential checks
//! (`scimcheck::oauth::validate`), and no secret in any output.

mod binary;

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use binary::*;
use scim_reference_server::{spawn_with, RunningServer, ServerConfig};
use scimcheck::credential::Credential;
use scimcheck::oauth::validate::{validate_credentials, Verdict};
use scimcheck::oauth::{AssertionKey, ClientAuth, OAuthConfig, TokenSource};
use scimcheck::profile::AuthStyle;
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The reference server, counting the requests to its token endpoint.
async fn counted_server() -> (RunningServer, Arc<AtomicUsize>) {
    let grants = Arc::new(AtomicUsize::new(0));
    let g = grants.clone();
    let server = spawn_with(ServerConfig::default(), move |router| {
        router.layer(axum::middleware::from_fn(move |req: axum::extract::Request, next: axum::middleware::Next| {
            let g = g.clone();
            async move {
                if req.uri().path().ends_with("/oauth2/token") {
                    g.fetch_add(1, Ordering::SeqCst);
                }
                next.run(req).await
            }
        }))
    })
    .await
    .unwrap();
    (server, grants)
}

/// Registers an OAuth client of the SCIMOkta app; returns its answer (client id, secret, token endpoint).
async fn register(server: &RunningServer, body: Value) -> Value {
    support::apps::register_oauth_client(server, "acme", "SCIMOkta", body).await
}

fn field(v: &Value, k: &str) -> String {
    v[k].as_str().unwrap().to_string()
}

/// Every file under `dir`, as text.
fn all_text(dir: &std::path::Path) -> String {
    let mut out = String::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.push_str(&all_text(&p));
        } else if let Ok(t) = std::fs::read_to_string(&p) {
            out.push_str(&t);
        }
    }
    out
}

/// No client secret (`scs_…`) or reference-server access token (`sat_…`) in `text`.
fn assert_no_secret(text: &str, secret: &str, what: &str) {
    assert!(!text.contains(secret), "{what} holds the client secret");
    assert!(!text.contains("sat_"), "{what} holds an access token");
    assert!(!text.contains("scs_"), "{what} holds a client secret");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_outliving_its_tokens_keeps_going_with_refreshed_ones_and_writes_no_secret() {
    let (server, grants) = counted_server().await;
    // tokens live one second: the run crosses many expiries
    let client = register(&server, json!({"tokenLifetime": 1})).await;
    let (id, secret, token_url) =
        (field(&client, "clientId"), field(&client, "clientSecret"), field(&client, "tokenEndpoint"));
    let dir = TempDir::new();
    // a scenario that pauses 1.2 s between its reads (waited with --okta-pauses): the run outlives at least
    // three tokens however fast the machine is
    let read = |name: &str, pause: f64| {
        json!({"name": name, "basis": {"rfc": "RFC 7644 §4"}, "pause": pause,
               "request": {"method": "GET", "path": "/ServiceProviderConfig"}, "expect": {"status": 200}})
    };
    let paced = json!({"title": "reads across token lifetimes", "source": "RFC 6749 §5.1 expires_in", "level": "must",
        "steps": [read("first", 0.0), read("second", 1.2), read("third", 1.2), read("fourth", 1.2)]});
    std::fs::create_dir_all(dir.join("mine/okta/oauth")).unwrap();
    std::fs::write(dir.join("mine/okta/oauth/paced.json"), paced.to_string()).unwrap();
    let (json_report, junit, html) = (dir.arg("out/report.json"), dir.arg("out/junit.xml"), dir.arg("out/report.html"));
    let snapshots = dir.arg("out/snapshots");
    let mine = dir.arg("mine");
    let mut cmd = scimcheck_in(
        &dir.0,
        &[
            "run",
            "--base-url",
            &server.base_url,
            "--idp",
            "okta",
            "--no-library",
            "--scenarios",
            &mine,
            "--okta-pauses",
            "--jobs",
            "1",
            "--oauth-token-url",
            &token_url,
            "--oauth-client-id",
            &id,
            "--json",
            &json_report,
            "--junit",
            &junit,
            "--html",
            &html,
            "--snapshots",
            &snapshots,
            "--update-snapshots",
        ],
    );
    cmd.env("SCIMCHECK_OAUTH_CLIENT_SECRET", &secret);
    let started = std::time::Instant::now();
    let (code, stdout, stderr) = output(cmd).await;
    let took = started.elapsed();
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(took > Duration::from_secs(3), "the paced scenario did not pause ({took:?}): it proves nothing");
    let fetched = grants.load(Ordering::SeqCst);
    assert!(fetched >= 3, "the run outlived three tokens but fetched {fetched}");
    assert!(stdout.contains("oauth::paced") || stdout.contains("paced"), "the paced scenario did not run: {stdout}");
    eprintln!("run of {took:?} with tokens of 1 s: {fetched} tokens fetched");
    assert_no_secret(&format!("{stdout}{stderr}"), &secret, "the terminal output");
    let reports = all_text(&dir.join("out"));
    assert!(reports.contains("okta::"), "the reports are empty");
    assert!(
        std::fs::read_dir(dir.join("out/snapshots")).is_ok_and(|mut d| d.next().is_some()),
        "no snapshot written: {stdout}"
    );
    assert_no_secret(&reports, &secret, "a report");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwt_bearer_assertion_gets_tokens_for_simulate_and_a_wrong_key_is_refused() {
    let (server, grants) = counted_server().await;
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let client = register(&server, json!({"publicKey": key.public_key_pem()})).await;
    assert_eq!(client["publicKeyAlgorithm"], "ES256");
    let (id, token_url) = (field(&client, "clientId"), field(&client, "tokenEndpoint"));
    let dir = TempDir::new();
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
    let key_file = dir.arg("key.pem");
    let args = [
        "simulate",
        "--base-url",
        &server.base_url,
        "--idp",
        "okta",
        "--users",
        "20",
        "--groups",
        "2",
        "--oauth-token-url",
        &token_url,
        "--oauth-client-id",
        &id,
        "--oauth-private-key",
        &key_file,
    ];
    let (code, stdout, stderr) = output(scimcheck_in(&dir.0, &args)).await;
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(grants.load(Ordering::SeqCst) >= 1);
    let pem = key.serialize_pem();
    let body = pem.lines().find(|l| !l.starts_with("-----")).unwrap();
    assert!(!stdout.contains(body) && !stderr.contains(body), "the private key was printed");
    assert_no_secret(&format!("{stdout}{stderr}"), body, "simulate's output");

    // another key: the token endpoint refuses (invalid_client), a preflight failure with one line, exit 2
    let other = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    std::fs::write(dir.join("other.pem"), other.serialize_pem()).unwrap();
    let other_file = dir.arg("other.pem");
    let args = [
        "run",
        "--base-url",
        &server.base_url,
        "--idp",
        "okta",
        "--oauth-token-url",
        &token_url,
        "--oauth-client-id",
        &id,
        "--oauth-private-key",
        &other_file,
    ];
    let (code, stdout, stderr) = output(scimcheck_in(&dir.0, &args)).await;
    assert_eq!(code, Some(2), "{stdout}\n{stderr}");
    let line = stderr.lines().find(|l| l.starts_with("error: preflight:")).unwrap_or_default();
    assert!(line.contains("HTTP 401") && line.contains("invalid_client"), "{stderr}");
    server.shutdown().await;
}

#[tokio::test]
async fn an_rs256_assertion_from_a_pkcs1_key_gets_a_token_and_a_tampered_one_is_refused() {
    let (server, grants) = counted_server().await;
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/oauth/");
    let public = std::fs::read_to_string(format!("{fixtures}test-only-rsa-key.pub.pem")).unwrap();
    let private = std::fs::read_to_string(format!("{fixtures}test-only-rsa-key.pem")).unwrap();
    let created = register(&server, json!({"publicKey": public})).await;
    assert_eq!(created["publicKeyAlgorithm"], "RS256");
    let key = AssertionKey::from_pem(&private, Some("test-kid".into())).unwrap();
    assert_eq!(key.algorithm(), jsonwebtoken::Algorithm::RS256);
    let (id, token_url) = (field(&created, "clientId"), field(&created, "tokenEndpoint"));
    let key = Arc::new(key);
    let config = OAuthConfig {
        token_url: token_url.clone(),
        client_id: id.clone(),
        auth: ClientAuth::Assertion(key.clone()),
        scope: None,
    };
    let src = TokenSource::new(config, reqwest::Client::new(), Duration::from_secs(10));
    let issued = src.fetch().await.unwrap();
    assert_eq!(issued.expires_in, Some(3600));
    // an assertion for another audience, or with its signature changed, is invalid_client (RFC 7523 §3)
    let http = reqwest::Client::new();
    let wrong_aud = key.sign(&id, "http://elsewhere.test/token").unwrap();
    let good = key.sign(&id, &token_url).unwrap();
    // one character in the middle of the signature changed
    let (signed, sig) = good.rsplit_once('.').unwrap();
    let swapped = if sig.as_bytes()[10] == b'A' { "B" } else { "A" };
    let tampered = format!("{signed}.{}{swapped}{}", &sig[..10], &sig[11..]);
    for jwt in [wrong_aud, tampered] {
        let res = http
            .post(&token_url)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", id.as_str()),
                ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                ("client_assertion", jwt.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
        assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_client");
    }
    assert_eq!(grants.load(Ordering::SeqCst), 3);
    assert!(!format!("{key:?}").contains(private.lines().nth(1).unwrap()), "Debug shows the key");
    server.shutdown().await;
}

async fn scripted_token_endpoint(server: &MockServer, status: u16, body: Value) {
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(server)
        .await;
}

fn scim_ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(empty_list().to_string(), "application/scim+json")
}

#[tokio::test]
async fn a_token_endpoint_answering_400_is_a_preflight_failure_naming_the_rfc_6749_error_never_the_secret() {
    let server = MockServer::start().await;
    let secret = "cs-very-secret-value-123456";
    scripted_token_endpoint(
        &server,
        400,
        json!({"error": "invalid_client", "error_description": format!("secret {secret} is wrong")}),
    )
    .await;
    Mock::given(path("/scim/Users")).respond_with(scim_ok()).mount(&server).await;
    let dir = TempDir::new();
    let (base, token_url) = (format!("{}/scim", server.uri()), format!("{}/token", server.uri()));
    let mut cmd = scimcheck_in(
        &dir.0,
        &["run", "--base-url", &base, "--oauth-token-url", &token_url, "--oauth-client-id", "scimcheck"],
    );
    cmd.env("SCIMCHECK_OAUTH_CLIENT_SECRET", secret);
    let (code, stdout, stderr) = output(cmd).await;
    assert_eq!(code, Some(2), "{stdout}\n{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("HTTP 400") && errors[0].contains("\"invalid_client\""), "{stderr}");
    assert!(!stderr.contains(secret) && !stdout.contains(secret), "the secret was printed: {stderr}");
    // no SCIM request was sent without a token
    let scim_requests = server.received_requests().await.unwrap().iter().filter(|r| r.url.path() != "/token").count();
    assert_eq!(scim_requests, 0);
}

#[tokio::test]
async fn the_settings_file_names_the_token_endpoint_and_the_variable_holding_the_secret() {
    let server = MockServer::start().await;
    scripted_token_endpoint(&server, 401, json!({"error": "invalid_client"})).await;
    let dir = TempDir::new();
    let toml = format!(
        "base-url = \"{uri}/scim\"\noauth-token-url = \"{uri}/token\"\noauth-client-id = \"from-file\"\n\
         oauth-client-secret-env = \"ACME_OAUTH_SECRET\"\noauth-scope = \"scim.write\"\n",
        uri = server.uri()
    );
    std::fs::write(dir.join("scimcheck.toml"), toml).unwrap();
    // the variable is not set: a clear error naming it, exit 2, nothing sent
    let (code, _, stderr) = output(scimcheck_in(&dir.0, &["run"])).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("ACME_OAUTH_SECRET") && stderr.contains("not set"), "{stderr}");
    assert!(server.received_requests().await.unwrap().is_empty());
    let mut cmd = scimcheck_in(&dir.0, &["run"]);
    cmd.env("ACME_OAUTH_SECRET", "file-secret-value-0123");
    let (code, stdout, stderr) = output(cmd).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("HTTP 401") && stderr.contains("invalid_client"), "{stderr}");
    assert!(!stderr.contains("file-secret-value-0123") && !stdout.contains("file-secret-value-0123"));
    let requests = server.received_requests().await.unwrap();
    let form = String::from_utf8_lossy(&requests[0].body).into_owned();
    assert!(form.contains("grant_type=client_credentials") && form.contains("scope=scim.write"), "{form}");
    let basic = requests[0].headers.get("authorization").unwrap().to_str().unwrap().to_string();
    use base64::Engine;
    let decoded = base64::engine::general_purpose::STANDARD.decode(basic.trim_start_matches("Basic ")).unwrap();
    assert_eq!(String::from_utf8(decoded).unwrap(), "from-file:file-secret-value-0123", "RFC 6749 §2.3.1");
}

#[tokio::test]
async fn a_401_invalid_token_is_answered_by_one_refresh_and_the_request_sent_again() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": "tok-first-aaaaaaaaaaaa", "token_type": "Bearer", "expires_in": 3600}),
        ))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    scripted_token_endpoint(
        &server,
        200,
        json!({"access_token": "tok-second-bbbbbbbbbbb", "token_type": "bearer", "expires_in": 3600}),
    )
    .await;
    // the first token is refused once the preflight used it (a revoked token, as after a rotation)
    Mock::given(path("/scim/Users"))
        .and(wiremock::matchers::header("authorization", "Bearer tok-first-aaaaaaaaaaaa"))
        .respond_with(scim_ok())
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/scim/Users"))
        .and(wiremock::matchers::header("authorization", "Bearer tok-first-aaaaaaaaaaaa"))
        .respond_with(ResponseTemplate::new(401).insert_header("WWW-Authenticate", "Bearer error=\"invalid_token\""))
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(path("/scim/Users"))
        .and(wiremock::matchers::header("authorization", "Bearer tok-second-bbbbbbbbbbb"))
        .respond_with(scim_ok())
        .mount(&server)
        .await;
    let dir = TempDir::new();
    write_scenario(&dir.0, "rfc/oauth/list.json", &list_users("list"));
    let (base, token_url) = (format!("{}/scim", server.uri()), format!("{}/token", server.uri()));
    let scenarios = dir.arg("");
    let mut cmd = scimcheck_in(
        &dir.0,
        &[
            "run",
            "--base-url",
            &base,
            "--oauth-token-url",
            &token_url,
            "--oauth-client-id",
            "c",
            "--no-library",
            "--scenarios",
            &scenarios,
        ],
    );
    cmd.env("SCIMCHECK_OAUTH_CLIENT_SECRET", "s3cret-s3cret");
    let (code, stdout, stderr) = output(cmd).await;
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let requests = server.received_requests().await.unwrap();
    let tokens = requests.iter().filter(|r| r.url.path() == "/token").count();
    assert_eq!(tokens, 2, "one refresh after the 401");
    assert!(!stdout.contains("tok-") && !stderr.contains("tok-"));
}

fn source(token_url: String, secret: &str) -> TokenSource {
    let config = OAuthConfig { token_url, client_id: "c".into(), auth: ClientAuth::Secret(secret.into()), scope: None };
    TokenSource::new(config, reqwest::Client::new(), Duration::from_secs(10))
}

#[tokio::test]
async fn access_tokens_fetched_after_the_redactor_was_made_are_redacted_too() {
    let server = MockServer::start().await;
    let token = "tok-late-zzzzzzzzzzzzzzzz";
    scripted_token_endpoint(&server, 200, json!({"access_token": token, "token_type": "Bearer", "expires_in": 3600}))
        .await;
    let credential = Credential::OAuth(Arc::new(source(format!("{}/token", server.uri()), "client-secret-value")));
    let redactor = credential.redactor();
    assert_eq!(redactor.scrub("client-secret-value"), "[redacted]");
    let header = credential.authorization(AuthStyle::Raw).await.unwrap().unwrap();
    assert_eq!(header, format!("Bearer {token}"), "an OAuth token is always sent as Bearer (RFC 6750 §2.1)");
    let echoed = format!("{{\"detail\": \"bad token {token}\"}}");
    assert_eq!(redactor.scrub(&echoed), "{\"detail\": \"bad token [redacted]\"}");
}

#[tokio::test]
async fn the_gallery_credential_checks_flag_short_lifetimes_ignored_expiry_and_refusals() {
    // tokens living 30 minutes, and a SCIM server that takes any token forever
    let server = MockServer::start().await;
    scripted_token_endpoint(
        &server,
        200,
        json!({"access_token": "tok-30-minutes-xxxxxx", "token_type": "Bearer", "expires_in": 1800}),
    )
    .await;
    Mock::given(path("/scim/Users")).respond_with(scim_ok()).mount(&server).await;
    let client = reqwest::Client::new();
    let base = format!("{}/scim", server.uri());
    let v = validate_credentials(
        &source(format!("{}/token", server.uri()), "client-secret-value"),
        &client,
        &base,
        Duration::from_secs(5),
        None,
    )
    .await;
    assert!(!v.passed());
    let lifetime = v.check("token-lifetime").unwrap();
    assert_eq!(lifetime.verdict, Verdict::Fail);
    assert!(lifetime.detail.contains("30 minutes") && lifetime.detail.contains("60 to 360"), "{}", lifetime.detail);
    assert_eq!(v.check("scim-with-token").unwrap().verdict, Verdict::Pass);

    let ignoring = MockServer::start().await;
    scripted_token_endpoint(
        &ignoring,
        200,
        json!({"access_token": "tok-1s-yyyyyyyyyyyy", "token_type": "Bearer", "expires_in": 1}),
    )
    .await;
    Mock::given(path("/scim/Users")).respond_with(scim_ok()).mount(&ignoring).await;
    let base = format!("{}/scim", ignoring.uri());
    let src = source(format!("{}/token", ignoring.uri()), "client-secret-value");
    let v = validate_credentials(&src, &client, &base, Duration::from_secs(5), Some(Duration::from_secs(5))).await;
    let expiry = v.check("expiry-enforced").unwrap();
    assert_eq!(expiry.verdict, Verdict::Fail, "{expiry:?}");
    assert!(expiry.detail.contains("ignores the token's expiry"), "{}", expiry.detail);
    assert!(!format!("{v:?}").contains("tok-1s"), "a token in the findings");

    let refusing = MockServer::start().await;
    scripted_token_endpoint(&refusing, 400, json!({"error": "invalid_scope"})).await;
    let v = validate_credentials(
        &source(format!("{}/token", refusing.uri()), "client-secret-value"),
        &client,
        &base,
        Duration::from_secs(5),
        None,
    )
    .await;
    let first = v.check("token-endpoint").unwrap();
    assert_eq!(first.verdict, Verdict::Fail);
    assert!(first.detail.contains("invalid_scope") && first.detail.contains("HTTP 400"), "{}", first.detail);
    assert!(!v.passed());
}

/// A port nothing listens on (the listener is dropped at once).
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test]
async fn the_gallery_credential_checks_describe_transport_failures_as_the_exchange_does() {
    // the SCIM request: sent through the exchange, its failure named by kind and cause
    let server = MockServer::start().await;
    scripted_token_endpoint(
        &server,
        200,
        json!({"access_token": "tok-transport-xxxxxx", "token_type": "Bearer", "expires_in": 3600}),
    )
    .await;
    let client = reqwest::Client::new();
    let nowhere = format!("http://127.0.0.1:{}/scim", closed_port());
    let src = source(format!("{}/token", server.uri()), "client-secret-value");
    let v = validate_credentials(&src, &client, &nowhere, Duration::from_secs(5), None).await;
    let scim = v.check("scim-with-token").unwrap();
    assert_eq!(scim.verdict, Verdict::Fail);
    assert!(scim.detail.starts_with("GET /Users with the new access token: connection failed: "), "{}", scim.detail);

    // the token request: the same exchange, the same description
    let src = source(format!("http://127.0.0.1:{}/token", closed_port()), "client-secret-value");
    let v = validate_credentials(&src, &client, &nowhere, Duration::from_secs(5), None).await;
    let token = v.check("token-endpoint").unwrap();
    assert_eq!(token.verdict, Verdict::Fail);
    assert!(token.detail.contains("could not be reached: connection failed: "), "{}", token.detail);
    assert!(!token.detail.contains("client-secret-value"), "{}", token.detail);
}

#[tokio::test]
async fn the_reference_server_passes_the_gallery_credential_checks_with_both_client_authentications() {
    let (server, _) = counted_server().await;
    let client = reqwest::Client::new();
    let created = register(&server, json!({})).await;
    let src = source(field(&created, "tokenEndpoint"), &field(&created, "clientSecret"));
    let src = TokenSource::new(
        OAuthConfig { client_id: field(&created, "clientId"), ..src.config().clone() },
        client.clone(),
        Duration::from_secs(10),
    );
    let v = validate_credentials(&src, &client, &server.base_url, Duration::from_secs(10), None).await;
    assert!(v.passed(), "{v:?}");
    assert_eq!(v.check("token-lifetime").unwrap().verdict, Verdict::Pass);

    // JWT bearer, and a server that enforces expiry (tokens of 1 s)
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let created = register(&server, json!({"publicKey": key.public_key_pem(), "tokenLifetime": 1})).await;
    let assertion = AssertionKey::from_pem(&key.serialize_pem(), None).unwrap();
    let config = OAuthConfig {
        token_url: field(&created, "tokenEndpoint"),
        client_id: field(&created, "clientId"),
        auth: ClientAuth::Assertion(Arc::new(assertion)),
        scope: None,
    };
    let src = TokenSource::new(config, client.clone(), Duration::from_secs(10));
    let v =
        validate_credentials(&src, &client, &server.base_url, Duration::from_secs(10), Some(Duration::from_secs(5)))
            .await;
    assert_eq!(v.check("token-endpoint").unwrap().verdict, Verdict::Pass, "{v:?}");
    assert_eq!(v.check("scim-with-token").unwrap().verdict, Verdict::Pass, "{v:?}");
    assert_eq!(v.check("expiry-enforced").unwrap().verdict, Verdict::Pass, "{v:?}");
    assert_eq!(v.check("token-lifetime").unwrap().verdict, Verdict::Fail, "1 s is below Microsoft's 60 minutes");
    server.shutdown().await;
}

/// A fixed credential beside the OAuth options is refused, never silently dropped: `--token`, `SCIMCHECK_TOKEN`,
/// `--auth-header` or `token-env` with `--oauth-token-url` is exit 2 with one line naming both, for `run` and
/// `simulate`, before any request. A client secret beside a private key is two clients, which only the gallery
/// suite uses (one authentication test each): `run` and `simulate` refuse them together the same way.
#[tokio::test]
async fn a_fixed_token_or_a_second_client_beside_oauth_is_refused_naming_both_before_any_request() {
    let server = MockServer::start().await;
    scripted_token_endpoint(&server, 200, json!({"access_token": "at-1", "token_type": "Bearer", "expires_in": 3600}))
        .await;
    Mock::given(path("/scim/Users")).respond_with(scim_ok()).mount(&server).await;
    let dir = TempDir::new();
    let (base, token_url) = (format!("{}/scim", server.uri()), format!("{}/token", server.uri()));
    let key = format!("{}/tests/fixtures/oauth/test-only-rsa-key.pem", env!("CARGO_MANIFEST_DIR"));
    let oauth = ["--base-url", &base, "--oauth-token-url", &token_url, "--oauth-client-id", "scimcheck"];
    // (arguments before the OAuth ones, environment, what the one error line names)
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (vec!["run", "--token", "fixed-token-1"], vec![], "--token and --oauth-token-url"),
        (vec!["run"], vec![("SCIMCHECK_TOKEN", "fixed-token-1")], "SCIMCHECK_TOKEN and --oauth-token-url"),
        (
            vec!["run", "--auth-header", "SSWS abc"],
            vec![],
            "--auth-header (or SCIMCHECK_AUTH_HEADER) and --oauth-token-url",
        ),
        (vec!["run", "--token-env", "ACME_T"], vec![("ACME_T", "fixed-token-1")], "--token-env and --oauth-token-url"),
        (
            vec!["simulate", "--idp", "entra", "--users", "1", "--token", "fixed-token-1"],
            vec![],
            "--token and --oauth-token-url",
        ),
        // simulate names the credential as run does
        (
            vec!["simulate", "--idp", "entra", "--users", "1"],
            vec![("SCIMCHECK_TOKEN", "fixed-token-1")],
            "SCIMCHECK_TOKEN and --oauth-token-url",
        ),
        (
            vec!["simulate", "--idp", "entra", "--users", "1", "--token-env", "ACME_T"],
            vec![("ACME_T", "fixed-token-1")],
            "--token-env (or token-env in the settings file) and --oauth-token-url",
        ),
        (vec!["simulate", "--idp", "entra", "--users", "1", "--auth-header", "SSWS abc"], vec![], "--auth-header"),
        (vec!["run", "--oauth-private-key", &key], vec![], "only --suite entra-gallery uses both"),
        (
            vec!["simulate", "--idp", "entra", "--users", "1", "--oauth-private-key", &key],
            vec![],
            "only --suite entra-gallery uses both",
        ),
    ];
    for (args, env, named) in cases {
        let mut cmd = scimcheck_in(&dir.0, &[args.clone(), oauth.to_vec()].concat());
        cmd.env("SCIMCHECK_OAUTH_CLIENT_SECRET", "cs-secret-value-0123456");
        cmd.envs(env);
        let (code, stdout, stderr) = output(cmd).await;
        assert_eq!(code, Some(2), "{args:?}: {stdout}\n{stderr}");
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(errors.len(), 1, "{args:?}: {stderr}");
        assert!(errors[0].contains(named), "{args:?}: {stderr}");
        assert!(!format!("{stdout}{stderr}").contains("cs-secret-value-0123456"), "{args:?}: the secret was printed");
        assert!(!format!("{stdout}{stderr}").contains("fixed-token-1"), "{args:?}: the token was printed");
        assert!(server.received_requests().await.unwrap().is_empty(), "{args:?}: a request was sent");
    }
    // the same secret alone runs (the refusals above are the combinations, not the options)
    let mut cmd =
        scimcheck_in(&dir.0, &[&["run", "--idp", "okta", "--filter", "test_api_credentials"][..], &oauth].concat());
    cmd.env("SCIMCHECK_OAUTH_CLIENT_SECRET", "cs-secret-value-0123456");
    let (code, stdout, stderr) = output(cmd).await;
    assert_ne!(code, Some(2), "{stdout}\n{stderr}");
    assert!(server.received_requests().await.unwrap().iter().any(|r| r.url.path() == "/token"));
}
