//! The runner against misbehaving servers (wiremock on 127.0.0.1, port 0): every problem becomes the right
//! verdict with a clear reason, the run continues, and the token appears in no report.

use std::path::Path;
use std::time::Duration;

use scimcheck::exchange::Body;
use scimcheck::report::{self, Policy};
use scimcheck::runner::{
    Against, Credential, RunOptions, RunOutcome, Runner, ScenarioResult, StepVerdict, Target, Verdict,
};
use scimcheck::scenario::{self, Scenario};
use serde_json::json;
use wiremock::matchers::{header, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "tok_9f8e7d6c5b4a39281706f5e4d3c2b1a0";

fn scenario(rel: &str, v: serde_json::Value) -> Scenario {
    scenario::parse(rel, Path::new(rel), &v.to_string()).unwrap_or_else(|e| panic!("{e:?}"))
}

/// A one-step GET scenario expecting 200 and a JSON body with `id`, then a second step that must still run.
fn get_scenario(name: &str, p: &str) -> Scenario {
    scenario(
        &format!("rfc/misbehaving/{name}.json"),
        json!({
            "title": name, "source": "test", "level": "must",
            "steps": [
                {"name": "get", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "GET", "path": p},
                 "expect": {"status": 200, "body": [{"pointer": "/id", "exists": true}]}},
                {"name": "after", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "GET", "path": "/ok"}, "expect": {"status": 200}}
            ]
        }),
    )
}

fn remote(base: &str, timeout: Duration) -> Runner {
    Runner::new(
        Against::Target(Target::new(base.to_string(), Credential::Token(TOKEN.into()))),
        RunOptions { timeout, ..RunOptions::default() },
    )
    .unwrap()
}

fn result<'a>(o: &'a RunOutcome, id: &str) -> &'a ScenarioResult {
    o.results.iter().find(|r| r.id == id).unwrap_or_else(|| panic!("no result {id}"))
}

fn first_failure(r: &ScenarioResult) -> String {
    let f = &r.steps[0].failures;
    f.iter().map(|f| format!("{}: expected {}, got {}", f.check, f.expected, f.actual)).collect::<Vec<_>>().join("; ")
}

fn assert_no_token(outcome: &RunOutcome) {
    let policy = Policy::default();
    let html = report::html::render(&report::Report::build(outcome, &policy, &report::ReportMeta::default())).unwrap();
    for (what, text) in [
        ("human", report::human(outcome, &policy, &[])),
        ("junit", report::junit(outcome, &policy)),
        ("json", report::json(outcome, &policy, &[])),
        ("html", html),
    ] {
        assert!(!text.contains(TOKEN), "{what} report leaks the token:\n{text}");
        assert!(!text.contains("9f8e7d6c5b4a"), "{what} report leaks part of the token");
    }
}

#[tokio::test]
async fn misbehaving_server_verdicts_and_reasons() {
    let server = MockServer::start().await;
    let json_ok = || ResponseTemplate::new(200).set_body_raw(r#"{"id":"1"}"#, "application/scim+json");
    Mock::given(path("/scim/v2/ok")).respond_with(json_ok()).mount(&server).await;
    // every request must carry the token (so the secret really was in play)
    Mock::given(path("/scim/v2/auth-check"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(json_ok())
        .mount(&server)
        .await;
    Mock::given(path("/scim/v2/non-json"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(format!("Internal oops; you sent Bearer {TOKEN}"), "text/plain"),
        )
        .mount(&server)
        .await;
    Mock::given(path("/scim/v2/wrong-ct"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(r#"{"id":"1"}"#, "text/html"))
        .mount(&server)
        .await;
    Mock::given(path("/scim/v2/error"))
        .respond_with(ResponseTemplate::new(500).set_body_raw(
            format!(r#"{{"detail":"token {TOKEN} rejected by backend","status":"500"}}"#),
            "application/scim+json",
        ))
        .mount(&server)
        .await;
    // the token echoed as JSON object keys, nested and in a `Bearer` form
    Mock::given(path("/scim/v2/key-echo"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            format!(r#"{{"id":"1","{TOKEN}":{{"Bearer {TOKEN}":[{{"{TOKEN}":1}}]}}}}"#),
            "application/scim+json",
        ))
        .mount(&server)
        .await;
    Mock::given(path("/scim/v2/slow")).respond_with(json_ok().set_delay(Duration::from_secs(5))).mount(&server).await;
    Mock::given(path("/scim/v2/huge"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(vec![b' '; 50 * 1024 * 1024], "application/scim+json"))
        .mount(&server)
        .await;
    Mock::given(path("/scim/v2/redirect"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", "https://login.example.invalid/sso"))
        .mount(&server)
        .await;

    let scenarios = vec![
        get_scenario("auth", "/auth-check"),
        get_scenario("non_json", "/non-json"),
        get_scenario("wrong_ct", "/wrong-ct"),
        get_scenario("error500", "/error"),
        get_scenario("slow", "/slow"),
        get_scenario("huge", "/huge"),
        get_scenario("redirect", "/redirect"),
        get_scenario("key_echo", "/key-echo"),
        get_scenario("zz_fine", "/ok"),
    ];
    let runner = remote(&format!("{}/scim/v2", server.uri()), Duration::from_millis(800));
    let outcome = runner.run(&scenarios).await;
    assert_eq!(outcome.results.len(), scenarios.len(), "the run continues past every problem");

    let auth = result(&outcome, "rfc::misbehaving::auth");
    assert_eq!(auth.verdict, Verdict::Pass, "{} {:?}", first_failure(auth), auth.steps[0].response);

    let r = result(&outcome, "rfc::misbehaving::non_json");
    assert_eq!(r.verdict, Verdict::Fail);
    let why = first_failure(r);
    assert!(why.contains("not JSON") && why.contains("text/plain"), "{why}");
    assert_eq!(r.steps[1].verdict, StepVerdict::Pass, "a failed step does not stop the scenario");

    let r = result(&outcome, "rfc::misbehaving::wrong_ct");
    assert_eq!(r.verdict, Verdict::Fail);
    let why = first_failure(r);
    assert!(why.contains("header content-type") && why.contains("text/html"), "{why}");

    let r = result(&outcome, "rfc::misbehaving::error500");
    assert_eq!(r.verdict, Verdict::Fail);
    let why = first_failure(r);
    assert!(why.starts_with("status: expected 200, got 500"), "{why}");

    let r = result(&outcome, "rfc::misbehaving::slow");
    assert_eq!(r.verdict, Verdict::Error);
    assert!(r.steps[0].error.as_deref().unwrap().contains("timed out after 800 ms"), "{:?}", r.steps[0].error);
    assert_eq!(r.steps[1].verdict, StepVerdict::NotRun, "steps after a transport error do not run");
    assert!(r.duration_ms < 3000.0, "the timeout bounds the wait: {} ms", r.duration_ms);

    let r = result(&outcome, "rfc::misbehaving::huge");
    assert_eq!(r.verdict, Verdict::Fail, "{:?}", r.steps.iter().map(|s| (&s.verdict, &s.error)).collect::<Vec<_>>());
    assert!(matches!(r.steps[0].response.as_ref().unwrap().body, Body::TooLarge { .. }));
    assert!(first_failure(r).contains("body exceeds limit"), "{}", first_failure(r));

    let r = result(&outcome, "rfc::misbehaving::redirect");
    assert_eq!(r.verdict, Verdict::Fail);
    let why = first_failure(r);
    assert!(why.contains("302") && why.contains("not followed") && why.contains("login.example.invalid"), "{why}");

    assert_eq!(result(&outcome, "rfc::misbehaving::key_echo").verdict, Verdict::Pass);
    assert_eq!(result(&outcome, "rfc::misbehaving::zz_fine").verdict, Verdict::Pass);
    assert_eq!(Policy::default().exit_code(&outcome), 1);

    // the token was echoed by the server in two bodies; it must appear in no report
    assert_no_token(&outcome);
    let human = report::human(&outcome, &Policy::default(), &[]);
    assert!(human.contains("[redacted]"), "{human}");
}

/// A 10 MiB body of 3.4 million empty arrays is not parsed (its structure, not its bytes, is
/// bounded: `json_bound::MAX_JSON_VALUES`); the step's verdict names the bound, and the run goes on.
#[tokio::test]
async fn a_body_of_millions_of_values_is_refused_by_the_parsing_bound() {
    let server = MockServer::start().await;
    let mut body = String::with_capacity(10 << 20);
    body.push('[');
    body.push_str(&"[],".repeat(3_400_000));
    body.push_str("[]]");
    Mock::given(path("/scim/v2/arrays"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/scim+json"))
        .mount(&server)
        .await;
    Mock::given(path("/scim/v2/ok"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(r#"{"id":"1"}"#, "application/scim+json"))
        .mount(&server)
        .await;
    let runner = remote(&format!("{}/scim/v2", server.uri()), Duration::from_secs(20));
    let outcome = runner.run(&[get_scenario("arrays", "/arrays")]).await;
    let r = result(&outcome, "rfc::misbehaving::arrays");
    assert_eq!(r.verdict, Verdict::Fail);
    let why = first_failure(r);
    assert!(why.contains("at most 1000000 values") && why.contains("not parsed"), "{why}");
    assert_eq!(r.steps[1].verdict, StepVerdict::Pass, "the run goes on");
}

#[tokio::test]
async fn connection_refused_is_an_error_and_the_run_continues() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    }; // listener dropped: nothing listens there now
    let runner = remote(&format!("http://127.0.0.1:{port}/scim/v2"), Duration::from_secs(2));
    let scenarios = vec![get_scenario("refused_a", "/Users"), get_scenario("refused_b", "/Users")];
    let outcome = runner.run(&scenarios).await;
    assert_eq!(outcome.results.len(), 2);
    for r in &outcome.results {
        assert_eq!(r.verdict, Verdict::Error);
        let e = r.steps[0].error.as_deref().unwrap();
        assert!(e.starts_with("connection failed"), "{e}");
    }
    assert!(
        outcome.capabilities.notes.iter().any(|n| n.contains("ServiceProviderConfig")),
        "{:?}",
        outcome.capabilities.notes
    );
    assert_eq!(Policy::default().exit_code(&outcome), 1);
    assert_no_token(&outcome);
}

/// A server that reads each request and answers it (`Connection: close`), except that it hangs up without an
/// answer on the first GET of `/Users/flaky` and on every POST; it counts the requests per request line.
async fn closing_server() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/scim/v2", l.local_addr().unwrap());
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let line = String::from_utf8_lossy(&buf).lines().next().unwrap_or("").to_string();
                let earlier = {
                    let mut log = log.lock().unwrap();
                    log.push(line.clone());
                    log.iter().filter(|l| **l == line).count() - 1
                };
                let hang_up = line.starts_with("POST ") || (line.contains("/Users/flaky ") && earlier == 0);
                if hang_up {
                    return; // closed without an answer
                }
                let (status, body) = match line.contains("/Users/") {
                    true => ("200 OK", r#"{"id":"1"}"#),
                    false => ("404 Not Found", "{}"),
                };
                let answer = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/scim+json\r\nContent-Length: {}\r\nConnection: \
                     close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(answer.as_bytes()).await;
            });
        }
    });
    (base, seen)
}

#[tokio::test]
async fn a_get_closed_before_its_answer_is_sent_once_more_and_a_post_is_not() {
    let (base, seen) = closing_server().await;
    let post = scenario(
        "rfc/misbehaving/closed_post.json",
        json!({
            "title": "closed post", "source": "test", "level": "must",
            "steps": [{"name": "create", "basis": {"rfc": "RFC 7644 §3.3"},
                       "request": {"method": "POST", "path": "/Users/once", "body": {"userName": "x"}},
                       "expect": {"status": 201}}]
        }),
    );
    let scenarios = vec![get_scenario("closed_get", "/Users/flaky"), post];
    let outcome = remote(&base, Duration::from_secs(5)).run(&scenarios).await;
    let get = result(&outcome, "rfc::misbehaving::closed_get");
    assert_eq!(get.steps[0].verdict, StepVerdict::Pass, "RFC 9112 §9.3.1: {:?}", get.steps[0].error);
    let post = result(&outcome, "rfc::misbehaving::closed_post");
    assert_eq!(post.verdict, Verdict::Error);
    let seen = seen.lock().unwrap();
    let count = |l: &str| seen.iter().filter(|s| s.starts_with(l)).count();
    assert_eq!(count("GET /scim/v2/Users/flaky "), 2, "{seen:?}");
    assert_eq!(count("POST /scim/v2/Users/once "), 1, "a POST must not be sent twice: {seen:?}");
}
