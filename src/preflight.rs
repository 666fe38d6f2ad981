//! The connection test that runs before any scenario, like Okta's "Test API Credentials" (`GET
//! /Users?startIndex=1&count=2`, expecting 200 and a ListResponse) and Entra's "Test Connection" (a `GET /Users`
//! filter expecting 200 and a ListResponse; a 404 fails it).
//!
//! A wrong setup — host down, TLS not trusted, wrong token, wrong base path, a redirect, a web page instead of a
//! SCIM API — otherwise turns into dozens of identical scenario errors. Preflight turns it into one line naming
//! the likely cause, quoting the server's own SCIM error `detail` (RFC 7644 §3.12) when it sent one.

use std::time::Duration;

use serde_json::Value;

use crate::exchange::{truncate, Body};

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
    let (base, query) = match base_url.split_once('?') {
        Some((b, q)) => (b.trim_end_matches('/'), Some(q)),
        None => (base_url.trim_end_matches('/'), None),
    };
    match query {
        Some(q) if !q.is_empty() => format!("{base}/Users?{q}&startIndex=1&count=2"),
        _ => format!("{base}/Users?startIndex=1&count=2"),
    }
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
            with_detail(format!("GET {url} answered {status}: the server failed to list users"), body),
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

/// Classifies a transport error of the preflight request by its cause chain.
pub fn transport_failure(url: &str, e: &reqwest::Error, timeout: Duration) -> Failure {
    let mut chain = Vec::new();
    let mut cause: Option<&dyn std::error::Error> = Some(e);
    while let Some(c) = cause {
        chain.push(c.to_string());
        cause = c.source();
    }
    let innermost = chain.last().cloned().unwrap_or_default();
    let all = chain.join(": ").to_ascii_lowercase();
    let host = reqwest::Url::parse(url)
        .ok()
        .map(|u| format!("{}:{}", u.host_str().unwrap_or("?"), u.port_or_known_default().unwrap_or(0)))
        .unwrap_or_else(|| url.to_string());
    if e.is_timeout() {
        return Failure {
            cause: Cause::Timeout,
            message: format!(
                "GET {url}: no answer within {} s: is {host} the right host, and is it up? (--timeout)",
                timeout.as_secs_f64()
            ),
        };
    }
    if let Some(hint) = hints::plain_http(url, &all) {
        return Failure { cause: Cause::Tls, message: format!("TLS with {host} failed: {hint}") };
    }
    let tls = ["certificate", "tls", "handshake", "invalidcertificate", "unknownissuer", "peer"]
        .iter()
        .any(|w| all.contains(w));
    if tls {
        return Failure {
            cause: Cause::Tls,
            message: format!(
                "TLS with {host} failed ({innermost}): if the server uses a private CA pass --ca-cert FILE (PEM); \
                 --insecure skips verification for test setups"
            ),
        };
    }
    let message = if all.contains("refused") {
        format!(
            "cannot connect to {host}: connection refused — is the server running, and are the host and port right?"
        )
    } else if all.contains("dns") || all.contains("lookup") || all.contains("resolve") {
        format!("cannot resolve the host of {url} ({innermost}): check the base URL")
    } else {
        format!("cannot reach {host} ({innermost}): check the base URL and the network")
    };
    Failure { cause: Cause::Unreachable, message }
}

/// Sends the preflight request with `client` and judges the answer.
///
/// `authorization`: the `Authorization` header value to send, if any.
pub async fn check(
    client: &reqwest::Client,
    base_url: &str,
    authorization: Option<&str>,
    timeout: Duration,
) -> Result<(), Failure> {
    let url = url(base_url);
    let mut req = client.get(&url).header("Accept", "application/scim+json, application/json").timeout(timeout);
    if let Some(a) = authorization {
        req = req.header(reqwest::header::AUTHORIZATION, a);
    }
    let resp = req.send().await.map_err(|e| transport_failure(&url, &e, timeout))?;
    let status = resp.status().as_u16();
    let headers: Vec<(String, String)> = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    // a listing of two users is small; anything past 1 MB is not a ListResponse worth reading
    let body = match tokio::time::timeout(timeout, crate::http::read_body(resp, 1 << 20)).await {
        Ok(Ok(Some(b))) => Body::from_bytes(&b),
        Ok(Ok(None)) => Body::TooLarge { limit: 1 << 20 },
        Ok(Err(e)) => return Err(transport_failure(&url, &e, timeout)),
        Err(_) => {
            return Err(Failure {
                cause: Cause::Timeout,
                message: format!("GET {url}: the body did not arrive within {} s", timeout.as_secs_f64()),
            })
        }
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
}
