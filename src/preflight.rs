//! The connection test that runs before any scenario, like Okta's "Test API Credentials" (`GET
//! /Users?startIndex=1&count=2`, expecting 200 and a ListResponse) and Entra's "Test Connection" (a `GET /Users`
//! filter expecting 200 and a ListResponse; a 404 fails it).
//!
//! A wrong setup — host down, TLS not trusted, wrong token, wrong base path, a redirect, a web page instead of a
//! SCIM API — otherwise turns into dozens of identical scenario errors. Preflight turns it into one line naming
//! the likely cause, quoting the server's own SCIM error `detail` (RFC 7644 §3.12) when it sent one.

use std::time::Duration;

use serde_json::Value;

use crate::exchange::{truncate, Body, TlsCause, TransportError, TransportKind};

pub mod hints;

/// Why preflight failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// Nothing answers at the host and port (refused, unresolvable, unroutable).
    Unreachable,
    /// The TLS handshake failed (untrusted or invalid certificate, or not TLS at all).
    Tls,
    /// No complete answer within the timeout.
    Timeout,
    /// 401: the credential is missing or wrong.
    Credential,
    /// 403: the credential is not allowed to list users.
    Forbidden,
    /// 404 on `/Users`: the base URL is not the SCIM base.
    BasePath,
    /// 3xx: the server redirects (scimcheck, like the IdPs, does not follow).
    Redirect,
    /// The server failed (5xx).
    ServerError,
    /// Some other answer that is not a SCIM ListResponse (HTML, other JSON, other status).
    NotScim,
    /// The OAuth token endpoint gave no access token (RFC 6749 §5.2), so no request was sent.
    TokenEndpoint,
}

/// A failed preflight: the cause and the one line to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The likely cause.
    pub cause: Cause,
    /// One line naming it.
    pub message: String,
}

/// The preflight request's URL: `<base>/Users?startIndex=1&count=2`, keeping the base URI's own query.
pub fn url(base_url: &str) -> String {
    crate::exchange::BaseUri::new(base_url).connection_test()
}

/// The `detail` of a SCIM error body (RFC 7644 §3.12), or a short excerpt of a text body.
fn server_says(body: &Body) -> Option<String> {
    match body {
        Body::Json(v) => v
            .get("detail")
            .or_else(|| v.get("message"))
            .or_else(|| v.get("error_description"))
            .or_else(|| v.get("error"))
            .and_then(Value::as_str)
            .map(|d| format!("\"{}\"", truncate(d.trim(), 200))),
        Body::Text(t) if !t.trim_start().starts_with('<') => {
            Some(format!("\"{}\"", truncate(t.trim().lines().next().unwrap_or(""), 120)))
        }
        _ => None,
    }
}

fn with_detail(what: String, body: &Body) -> String {
    match server_says(body) {
        Some(d) => format!("{what}, server says {d}"),
        None => what,
    }
}

/// For an answer that is not JSON, the one-line summary `run` shows of it ([`crate::exchange::summary::describe`]):
/// `; the answer is text/html, 2,345 bytes, title "502 Bad Gateway"`. Empty for JSON, no body, or plain text whose
/// first line [`server_says`] already quotes.
fn page(headers: &[(String, String)], body: &Body) -> String {
    let Body::Text(text) = body else { return String::new() };
    if server_says(body).is_some() {
        return String::new();
    }
    let content_type = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("content-type")).map(|(_, v)| v.as_str());
    format!("; the answer is {}", crate::exchange::summary::describe(content_type, text, text.len()))
}

/// Judges the answer to the preflight request.
///
/// `credential_given`: whether a token or header was sent (a 401 without one says so).
pub fn judge(
    url: &str,
    status: u16,
    headers: &[(String, String)],
    body: &Body,
    credential_given: bool,
) -> Result<(), Failure> {
    let header = |name: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
    let fail = |cause, message: String| Err(Failure { cause, message });
    let content_type = header("content-type").unwrap_or("no Content-Type");
    match status {
        200 => {
            let Body::Json(v) = body else {
                let what = if content_type.contains("html") { "a web page" } else { "something" };
                return fail(
                    Cause::NotScim,
                    format!(
                        "GET {url} answered 200 with {what} ({content_type}), not a SCIM ListResponse: the base URL \
                         probably points at a web application rather than its SCIM API"
                    ),
                );
            };
            let list_response = v.get("schemas").and_then(Value::as_array).is_some_and(|s| {
                s.iter().any(|x| x.as_str() == Some("urn:ietf:params:scim:api:messages:2.0:ListResponse"))
            }) || v.get("totalResults").is_some_and(Value::is_number);
            if list_response {
                Ok(())
            } else {
                fail(
                    Cause::NotScim,
                    format!(
                        "GET {url} answered 200 with JSON that is not a SCIM ListResponse (no totalResults, no \
                         ListResponse schema; RFC 7644 §3.4.2): is the base URL the SCIM base?"
                    ),
                )
            }
        }
        300..=399 => {
            let location = header("location").unwrap_or("(no Location header)");
            fail(
                Cause::Redirect,
                format!(
                    "GET {url} was redirected ({status}) to {location}: IdPs do not follow redirects; use the final \
                     SCIM base URL as --base-url"
                ),
            )
        }
        401 => {
            let hint = if credential_given {
                "the token was rejected: check --token / SCIMCHECK_TOKEN (or token-env in scimcheck.toml) and \
                 --auth-style"
            } else {
                "no credential was given: pass --token or set SCIMCHECK_TOKEN"
            };
            fail(Cause::Credential, with_detail(format!("GET {url} answered 401 Unauthorized: {hint}"), body))
        }
        403 => fail(
            Cause::Forbidden,
            with_detail(
                format!(
                    "GET {url} answered 403 Forbidden: the credential is valid but may not list users (check its \
                     permissions, or whether provisioning is enabled for it)"
                ),
                body,
            ),
        ),
        404 => fail(
            Cause::BasePath,
            with_detail(
                format!(
                    "GET {url} answered 404 Not Found: the base URL is probably wrong — it must be the SCIM base, \
                     the part before /Users (e.g. https://host/scim/v2)"
                ),
                body,
            ),
        ),
        500..=599 => fail(
            Cause::ServerError,
            with_detail(format!("GET {url} answered {status}: the server failed to list users"), body)
                + &page(headers, body),
        ),
        _ => fail(
            Cause::NotScim,
            with_detail(
                format!("GET {url} answered {status} ({content_type}); a SCIM server answers 200 with a ListResponse"),
                body,
            ),
        ),
    }
}

/// Classifies a transport error of the preflight request by its kind (the exchange's, read from the cause chain:
/// [`TransportError::from_reqwest`]) and names the likely fix.
pub fn transport_failure(url: &str, e: &TransportError, timeout: Duration) -> Failure {
    let innermost = e.cause();
    let host = reqwest::Url::parse(url)
        .ok()
        .map(|u| format!("{}:{}", u.host_str().unwrap_or("?"), u.port_or_known_default().unwrap_or(0)))
        .unwrap_or_else(|| url.to_string());
    let tls = |hint: String| Failure { cause: Cause::Tls, message: format!("TLS with {host} failed: {hint}") };
    let message = match e.kind {
        TransportKind::Timeout => {
            return Failure {
                cause: Cause::Timeout,
                message: format!(
                    "GET {url}: no answer within {} s: is {host} the right host, and is it up? (--timeout)",
                    timeout.as_secs_f64()
                ),
            }
        }
        TransportKind::Tls(TlsCause::PlainHttpPeer) if hints::plain_http(url).is_some() => {
            return tls(hints::plain_http(url).unwrap_or_default())
        }
        TransportKind::Tls(TlsCause::ClosedDuringHandshake) if hints::closed_during_handshake(url).is_some() => {
            return tls(hints::closed_during_handshake(url).unwrap_or_default())
        }
        TransportKind::Tls(_) => {
            return Failure {
                cause: Cause::Tls,
                message: format!(
                    "TLS with {host} failed ({innermost}): if the server uses a private CA pass --ca-cert FILE \
                     (PEM); --insecure skips verification for test setups"
                ),
            }
        }
        TransportKind::Connect => {
            // "Connection refused (os error 111)" → "connection refused"
            let why = innermost.split(" (os error").next().unwrap_or(innermost).to_lowercase();
            format!("cannot connect to {host}: {why} — is the server running, and are the host and port right?")
        }
        TransportKind::Dns => format!("cannot resolve the host of {url} ({innermost}): check the base URL"),
        TransportKind::NotHttp => {
            return Failure {
                cause: Cause::NotScim,
                message: format!(
                    "connected to {host}, but its answer is not HTTP ({innermost}): is the port that of the SCIM \
                     server, and its scheme (http or https) right?"
                ),
            }
        }
        TransportKind::Reset | TransportKind::Other => {
            format!("cannot reach {host} ({innermost}): check the base URL and the network")
        }
    };
    Failure { cause: Cause::Unreachable, message }
}

/// Bytes of the preflight answer kept whole (1 MiB): a page of two users is far smaller.
pub const PREFLIGHT_READ: usize = 1 << 20;

/// Bytes of a larger answer scanned (not kept) for the ListResponse's top-level members: 64 MiB.
pub const PREFLIGHT_SCAN: usize = 64 << 20;

/// What reading the preflight answer gave.
enum Read {
    /// The whole body (at most [`PREFLIGHT_READ`] bytes).
    Whole(Vec<u8>),
    /// A longer body, scanned: `Some(true)` a ListResponse, `Some(false)` JSON that is not one (or no JSON
    /// object), `None` still undecided after [`PREFLIGHT_SCAN`] bytes.
    Large(Option<bool>),
}

/// Reads the body as it streams ([`crate::exchange::stream`]): whole up to [`PREFLIGHT_READ`], then only scanned
/// ([`ListScan`]) up to [`PREFLIGHT_SCAN`], so a hostile server cannot make the preflight hold more than 1 MiB.
#[derive(Default)]
struct AnswerReader {
    bytes: Vec<u8>,
    scan: ListScan,
    seen: usize,
    /// Set once reading may stop: the scan decided, or [`PREFLIGHT_SCAN`] bytes were seen undecided.
    done: Option<Read>,
}

impl AnswerReader {
    /// Takes the next chunk; `false` once the rest of the body need not be read.
    fn feed(&mut self, chunk: &[u8]) -> bool {
        self.seen += chunk.len();
        self.scan.feed(chunk);
        if self.seen <= PREFLIGHT_READ {
            self.bytes.extend_from_slice(chunk);
            return true;
        }
        self.bytes = Vec::new();
        if let Some(verdict) = self.scan.verdict() {
            self.done = Some(Read::Large(Some(verdict)));
            return false;
        }
        if self.seen > PREFLIGHT_SCAN {
            self.done = Some(Read::Large(None));
            return false;
        }
        true
    }

    /// What was read, once the body ended or reading stopped.
    fn finish(self) -> Read {
        if let Some(read) = self.done {
            return read;
        }
        if self.seen <= PREFLIGHT_READ {
            return Read::Whole(self.bytes);
        }
        Read::Large(Some(self.scan.verdict().unwrap_or(false)))
    }
}

/// A streaming scan of a JSON text for what makes it a SCIM ListResponse (RFC 7644 §3.4.2): a top-level
/// `schemas` array holding the ListResponse URN, or a numeric top-level `totalResults` — in any member order,
/// without building the document (constant memory).
#[derive(Debug, Default)]
pub struct ListScan {
    depth: u32,
    started: bool,
    in_string: bool,
    escape: bool,
    /// The current string, its first 64 bytes.
    string: Vec<u8>,
    /// The current top-level member's name.
    key: Vec<u8>,
    /// At depth 1, after the member's `:`.
    in_value: bool,
    found: bool,
    not_object: bool,
}

const LIST_RESPONSE: &[u8] = b"urn:ietf:params:scim:api:messages:2.0:ListResponse";

impl ListScan {
    /// Scans the next bytes of the text.
    pub fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.found || self.not_object {
                return;
            }
            if self.in_string {
                if self.escape {
                    self.escape = false;
                } else if b == b'\\' {
                    self.escape = true;
                    continue;
                } else if b == b'"' {
                    self.in_string = false;
                    self.string_ended();
                    continue;
                }
                if self.string.len() < 64 {
                    self.string.push(b);
                }
                continue;
            }
            if !self.started && !b.is_ascii_whitespace() {
                self.started = true;
                if b != b'{' {
                    self.not_object = true;
                    return;
                }
            }
            match b {
                b'"' => {
                    self.in_string = true;
                    self.string.clear();
                }
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => self.depth = self.depth.saturating_sub(1),
                b':' if self.depth == 1 => self.in_value = true,
                b',' if self.depth == 1 => {
                    self.in_value = false;
                    self.key.clear();
                }
                b'0'..=b'9' if self.depth == 1 && self.in_value && self.key == b"totalResults" => self.found = true,
                _ => {}
            }
        }
    }

    fn string_ended(&mut self) {
        if self.depth == 1 && !self.in_value {
            self.key = std::mem::take(&mut self.string);
        } else if self.depth == 2 && self.key == b"schemas" && self.string == LIST_RESPONSE {
            self.found = true;
        }
    }

    /// `Some(true)` once the text showed a ListResponse, `Some(false)` when it is no JSON object, `None` while
    /// undecided.
    pub fn verdict(&self) -> Option<bool> {
        if self.found {
            Some(true)
        } else if self.not_object {
            Some(false)
        } else {
            None
        }
    }
}

/// Judges a 200 answer longer than [`PREFLIGHT_READ`] from its scan ([`AnswerReader`]): a ListResponse passes
/// however long the page (large user objects are allowed); an answer still undecided after
/// [`PREFLIGHT_SCAN`] bytes is said to be too large to check, not "not a SCIM ListResponse".
fn judge_large(url: &str, headers: &[(String, String)], verdict: Option<bool>) -> Result<(), Failure> {
    let content_type = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map_or("no Content-Type", |(_, v)| v.as_str());
    let what = if content_type.contains("html") { "a web page" } else { "a body" };
    let mib = PREFLIGHT_READ >> 20;
    let message = match verdict {
        Some(true) => return Ok(()),
        Some(false) => format!(
            "GET {url} answered 200 with {what} ({content_type}) of more than {mib} MiB that is not a SCIM \
             ListResponse (no ListResponse schema, no totalResults; RFC 7644 §3.4.2): is the base URL the SCIM base?"
        ),
        None => format!(
            "GET {url} answered 200 with {what} ({content_type}) of more than {} MiB: too large to check for a \
             SCIM ListResponse (RFC 7644 §3.4.2); --no-preflight skips the check",
            PREFLIGHT_SCAN >> 20
        ),
    };
    Err(Failure { cause: Cause::NotScim, message })
}

/// Sends the preflight request to `target` with `client`, its credential written in `style`, and judges the
/// answer.
///
/// Errors: the [`Failure`] naming the likely cause; [`Cause::TokenEndpoint`] (the token error's one line) when an
/// OAuth credential got no access token.
pub async fn check(
    client: &reqwest::Client,
    target: &crate::target::Target,
    style: crate::profile::AuthStyle,
    timeout: Duration,
) -> Result<(), Failure> {
    let authorization = target
        .credential
        .authorization(style)
        .await
        .map_err(|e| Failure { cause: Cause::TokenEndpoint, message: e.message })?;
    let authorization = authorization.as_deref();
    let base_url = target.base_url.as_str();
    let url = url(base_url);
    let mut req = client.get(&url).header("Accept", "application/scim+json, application/json");
    if let Some(a) = authorization {
        req = req.header(reqwest::header::AUTHORIZATION, a);
    }
    // a listing of two users is small; past PREFLIGHT_READ only the start is read, and judged
    let mut reader = AnswerReader::default();
    let answer = crate::exchange::stream(req, timeout, |chunk| reader.feed(chunk))
        .await
        .map_err(|e| transport_failure(&url, &e, timeout))?;
    let (status, headers) = (answer.status, answer.headers);
    let body = match reader.finish() {
        Read::Whole(b) => Body::from_bytes(&b),
        Read::Large(verdict) if status == 200 => return judge_large(&url, &headers, verdict),
        Read::Large(_) => Body::TooLarge { limit: PREFLIGHT_READ },
    };
    judge(&url, status, &headers, &body, authorization.is_some()).map_err(|mut f| {
        let hint = match f.cause {
            Cause::Credential => authorization.and_then(hints::doubled_prefix),
            Cause::BasePath | Cause::NotScim => hints::endpoint_suffix(base_url),
            _ => None,
        };
        if let Some(h) = hint {
            f.message = format!("{} — {h}", f.message);
        }
        f
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::Credential;
    use crate::profile::AuthStyle;
    use crate::target::Target;

    /// A target at `base_url` sent no credential.
    fn at(base_url: String) -> Target {
        Target::new(base_url, Credential::None)
    }
    use serde_json::json;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_url_keeps_the_base_query() {
        assert_eq!(url("http://h/scim/v2/"), "http://h/scim/v2/Users?startIndex=1&count=2");
        assert_eq!(url("http://h/scim?aadOptscim062020"), "http://h/scim/Users?aadOptscim062020&startIndex=1&count=2");
    }

    #[test]
    fn answers_are_judged_with_their_likely_cause() {
        let u = "http://h/scim/Users";
        let list = Body::Json(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                                      "totalResults": 0}));
        assert_eq!(judge(u, 200, &[], &list, true), Ok(()));
        let e = judge(u, 401, &[], &Body::Json(json!({"status": "401", "detail": "Token expired"})), true).unwrap_err();
        assert_eq!(e.cause, Cause::Credential);
        assert!(e.message.contains("\"Token expired\"") && e.message.contains("token was rejected"), "{}", e.message);
        let e = judge(u, 401, &[], &Body::Empty, false).unwrap_err();
        assert!(e.message.contains("no credential was given"), "{}", e.message);
        let e = judge(u, 302, &h(&[("Location", "https://login.example/")]), &Body::Empty, true).unwrap_err();
        assert_eq!(e.cause, Cause::Redirect);
        assert!(e.message.contains("https://login.example/"), "{}", e.message);
        let e = judge(u, 404, &[], &Body::Empty, true).unwrap_err();
        assert_eq!(e.cause, Cause::BasePath);
        let page = Body::Text("<html>hello</html>".into());
        let e = judge(u, 200, &h(&[("content-type", "text/html")]), &page, true).unwrap_err();
        assert_eq!(e.cause, Cause::NotScim);
        assert!(e.message.contains("a web page"), "{}", e.message);
        let e = judge(u, 200, &[], &Body::Json(json!({"users": []})), true).unwrap_err();
        assert_eq!(e.cause, Cause::NotScim);
        assert_eq!(judge(u, 403, &[], &Body::Empty, true).unwrap_err().cause, Cause::Forbidden);
        assert_eq!(judge(u, 503, &[], &Body::Empty, true).unwrap_err().cause, Cause::ServerError);
    }

    /// A server answering bytes that are not HTTP was reached: the line says it connected and the answer is not
    /// HTTP, never "cannot reach". An HTML 502 names its page by the summary `run` shows (its title).
    #[tokio::test]
    async fn an_answer_that_is_not_http_and_an_html_error_page_are_named_for_what_they_are() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let garbage = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                let _ = stream.write_all(b"\x16\x03\x01 garbage \xff\xfe not http\r\n\r\n").await;
            }
        });
        let client = reqwest::Client::new();
        let e =
            check(&client, &at(format!("http://127.0.0.1:{port}/scim")), AuthStyle::Bearer, Duration::from_secs(10))
                .await
                .unwrap_err();
        garbage.abort();
        assert_eq!(e.cause, Cause::NotScim, "{}", e.message);
        assert!(
            e.message.starts_with(&format!("connected to 127.0.0.1:{port}, but its answer is not HTTP")),
            "{}",
            e.message
        );
        assert!(!e.message.contains("cannot reach"), "{}", e.message);

        let page = Body::Text("<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>".into());
        let e = judge("http://h/scim/Users", 502, &h(&[("content-type", "text/html")]), &page, true).unwrap_err();
        assert_eq!(e.cause, Cause::ServerError);
        assert!(
            e.message.ends_with(
                "the server failed to list users; the answer is text/html, 74 bytes, title \"502 Bad Gateway\""
            ),
            "{}",
            e.message
        );
    }

    /// A valid ListResponse over 1 MiB passes (before: "not a SCIM ListResponse"); a large
    /// answer whose start shows no ListResponse is said to be too large to check.
    #[tokio::test]
    async fn a_list_response_over_one_mib_is_judged_whatever_its_member_order() {
        use wiremock::matchers::path;
        use wiremock::{Mock, MockServer, ResponseTemplate};
        let server = MockServer::start().await;
        let big = "x".repeat(3 << 20);
        let list = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 2,
                          "Resources": [{"id": "1", "userName": "a", "title": big}, {"id": "2", "userName": "b"}]});
        Mock::given(path("/ok/Users"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(list.to_string(), "application/scim+json"))
            .mount(&server)
            .await;
        let other = json!({"data": [{"blob": big}], "totalResults": 1});
        Mock::given(path("/other/Users"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(other.to_string(), "application/json"))
            .mount(&server)
            .await;
        let page = format!("<html>{big}</html>");
        Mock::given(path("/html/Users"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(page, "text/html"))
            .mount(&server)
            .await;
        let client = reqwest::Client::new();
        let t = Duration::from_secs(10);
        assert_eq!(check(&client, &at(format!("{}/ok", server.uri())), AuthStyle::Bearer, t).await, Ok(()));
        let e = check(&client, &at(format!("{}/html", server.uri())), AuthStyle::Bearer, t).await.unwrap_err();
        assert_eq!(e.cause, Cause::NotScim);
        assert!(e.message.contains("not a SCIM ListResponse") && e.message.contains("a web page"), "{}", e.message);
        // a totalResults after 3 MiB of other members still makes it a ListResponse: member order is free
        assert_eq!(check(&client, &at(format!("{}/other", server.uri())), AuthStyle::Bearer, t).await, Ok(()));
    }

    #[test]
    fn the_scan_finds_a_list_response_in_any_member_order_and_only_at_the_top() {
        let scan = |parts: &[&str]| {
            let mut s = ListScan::default();
            parts.iter().for_each(|p| s.feed(p.as_bytes()));
            s.verdict()
        };
        assert_eq!(
            scan(&[
                r#"{"Resources": [{"totalResults": 1, "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]}], "#
            ]),
            None
        );
        assert_eq!(scan(&[r#"{"Resources": [], "totalRes"#, r#"ults" :  12}"#]), Some(true));
        assert_eq!(
            scan(&[
                r#"{"a": "\"totalResults\": 1", "schemas": ["urn:ietf:params:scim:api:mes"#,
                r#"sages:2.0:ListResponse"]}"#
            ]),
            Some(true)
        );
        assert_eq!(scan(&[r#"  <html>"#]), Some(false));
        assert_eq!(scan(&[r#"{"totalResults": "many"}"#]), None);
    }
}
