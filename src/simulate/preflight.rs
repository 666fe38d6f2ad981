//! Before a simulation sends anything: the same connection test as `scimcheck run` ([`crate::preflight`], one
//! implementation), a line naming the target, and a count of what the server already holds.
//!
//! A wrong port, token or base URL fails the test with one line naming the cause (exit 2) before any
//! provisioning request. Objects already on the server are counted cheaply with `count=0` (RFC 7644 §3.4.2.4:
//! a `count` of 0 returns no resources, only `totalResults`) so the summary can say that strangers were left
//! out of the reconciliation.

use std::time::Duration;

use serde_json::Value;

use crate::credential::Credential;
use crate::exchange::{TransportError, TransportKind};
use crate::profile::AuthStyle;

/// Bytes of a `count=0` answer read at most: it carries no resources, so a larger body is not a count.
const COUNT_READ: usize = 64 * 1024;

/// `<base>/<collection>?startIndex=1&count=0`, keeping the base URI's own query (Entra's `?aadOptscim062020`).
pub fn count_url(base_url: &str, collection: &str) -> String {
    crate::exchange::BaseUri::new(base_url).join(&format!("/{collection}"), "startIndex=1&count=0")
}

/// The `totalResults` of a ListResponse body (RFC 7644 §3.4.2), when it is a non-negative integer.
pub fn total_results(body: &[u8]) -> Option<u64> {
    let v: Value = serde_json::from_slice(body).ok()?;
    crate::idp::get_ci(&v, "totalResults")?.as_u64()
}

/// How many objects `collection` holds: `GET <base>/<collection>?startIndex=1&count=0` and its `totalResults`,
/// sent through the one exchange ([`crate::exchange::stream`]) with `credential`'s `Authorization` (written as
/// `style`).
///
/// `Ok(None)` when the server answers, but not 200 with a readable count within [`COUNT_READ`] bytes (the
/// warning is then left out, nothing else depends on it).
///
/// Errors: the request failed below HTTP ([`TransportError`] by kind: connect, DNS, TLS, timeout, reset), or an
/// OAuth access token could not be had ([`TransportKind::Other`], its one-line message, no secret).
pub async fn count(
    client: &reqwest::Client,
    base_url: &str,
    collection: &str,
    credential: &Credential,
    style: AuthStyle,
    timeout: Duration,
) -> Result<Option<u64>, TransportError> {
    let authorization = credential
        .authorization(style)
        .await
        .map_err(|e| TransportError { kind: TransportKind::Other, message: e.message })?;
    let mut req =
        client.get(count_url(base_url, collection)).header("Accept", "application/scim+json, application/json");
    if let Some(a) = authorization {
        req = req.header(reqwest::header::AUTHORIZATION, a);
    }
    let mut body = Vec::new();
    let mut too_large = false;
    let answer = crate::exchange::stream(req, timeout, |chunk| {
        body.extend_from_slice(chunk);
        too_large = body.len() > COUNT_READ;
        !too_large
    })
    .await?;
    if answer.status != 200 || too_large {
        return Ok(None);
    }
    Ok(total_results(&body))
}

/// The warning printed before provisioning when the server already holds objects; `None` when it holds none
/// (or could not be counted).
pub fn existing_warning(users: Option<u64>, groups: Option<u64>, strict_extra: bool) -> Option<String> {
    let (u, g) = (users.unwrap_or(0), groups.unwrap_or(0));
    if u == 0 && g == 0 {
        return None;
    }
    let scope = if strict_extra {
        "--strict-extra: any of them the source directory does not hold is reported as extra"
    } else {
        "only the simulator's own objects are reconciled; the others are counted and left out (--strict-extra \
         reports them)"
    };
    Some(format!("warning: the server already holds {u} user(s) and {g} group(s) before this run; {scope}"))
}

/// The line naming the target, printed before the progress bars: where, which IdP and dialect, what sizes.
pub fn target_line(target: &str, dialect: crate::idp::Dialect, source: &super::Source, cycles: u16) -> String {
    use clap::ValueEnum;
    let idp = super::reconcile::idp_name(dialect);
    let variant = match dialect {
        crate::idp::Dialect::Entra(d) => d.to_possible_value(),
        crate::idp::Dialect::Okta(k) => k.to_possible_value(),
    };
    let variant = variant.map(|v| v.get_name().to_string()).unwrap_or_default();
    let sizes = match source {
        super::Source::Generated { seed, users, groups } => {
            format!("{users} generated user(s) and {groups} group(s) (seed {seed})")
        }
        super::Source::File(p) => format!("the directory export {}", p.display()),
    };
    format!("simulating {idp} ({variant}) against {target}: {sizes}, 1 initial cycle and {cycles} incremental")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_line_names_target_idp_dialect_and_sizes() {
        let src = crate::simulate::Source::Generated { seed: 7, users: 40, groups: 3 };
        let d = crate::idp::Dialect::Entra(crate::idp::EntraDialect::AadOptscim062020);
        let line = target_line("https://scim.example.test/scim", d, &src, 2);
        assert_eq!(
            line,
            "simulating entra (aadOptscim062020) against https://scim.example.test/scim: 40 generated user(s) and \
             3 group(s) (seed 7), 1 initial cycle and 2 incremental"
        );
    }

    #[test]
    fn the_count_url_keeps_the_base_query() {
        assert_eq!(count_url("http://h/scim/", "Users"), "http://h/scim/Users?startIndex=1&count=0");
        assert_eq!(
            count_url("http://h/scim?aadOptscim062020", "Groups"),
            "http://h/scim/Groups?aadOptscim062020&startIndex=1&count=0"
        );
    }

    #[test]
    fn only_a_numeric_total_is_a_count() {
        assert_eq!(total_results(br#"{"totalResults": 438, "Resources": []}"#), Some(438));
        assert_eq!(total_results(br#"{"totalResults": "many"}"#), None);
        assert_eq!(total_results(b"<html>"), None);
        assert_eq!(existing_warning(Some(0), None, false), None);
        let w = existing_warning(Some(438), Some(2), false).unwrap();
        assert!(w.contains("438 user(s) and 2 group(s)") && w.contains("--strict-extra"), "{w}");
    }

    /// The warning's count comes from `totalResults` of a `count=0` page; a body that is no count (too large,
    /// not a number, not 200) gives no count rather than an error.
    #[tokio::test]
    async fn counts_come_from_total_results_and_a_hostile_answer_gives_none() {
        use wiremock::matchers::{path, query_param};
        use wiremock::{Mock, MockServer, ResponseTemplate};
        let server = MockServer::start().await;
        let list = r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 438}"#;
        Mock::given(path("/a/Users"))
            .and(query_param("count", "0"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(list, "application/scim+json"))
            .mount(&server)
            .await;
        let huge = format!(r#"{{"totalResults": 1, "pad": "{}"}}"#, "x".repeat(1 << 20));
        Mock::given(path("/b/Users"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(huge, "application/scim+json"))
            .mount(&server)
            .await;
        Mock::given(path("/c/Users")).respond_with(ResponseTemplate::new(401)).mount(&server).await;
        let client = reqwest::Client::new();
        let t = Duration::from_secs(10);
        let at = |p: &str| format!("{}/{p}", server.uri());
        let none = Credential::None;
        assert_eq!(count(&client, &at("a"), "Users", &none, AuthStyle::Bearer, t).await, Ok(Some(438)));
        assert_eq!(count(&client, &at("b"), "Users", &none, AuthStyle::Bearer, t).await, Ok(None));
        assert_eq!(count(&client, &at("c"), "Users", &none, AuthStyle::Bearer, t).await, Ok(None));
    }

    /// The count goes out with the credential's `Authorization` (in the style asked for), and a request that
    /// fails below HTTP is that transport error by kind, not a silent "no count".
    #[tokio::test]
    async fn the_count_sends_the_credential_and_reports_a_transport_error() {
        use wiremock::matchers::{header, path};
        use wiremock::{Mock, MockServer, ResponseTemplate};
        let server = MockServer::start().await;
        Mock::given(path("/Users"))
            .and(header("authorization", "tok-12345"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(r#"{"totalResults": 3}"#, "application/scim+json"))
            .mount(&server)
            .await;
        let client = reqwest::Client::new();
        let t = Duration::from_secs(10);
        let token = Credential::Token("tok-12345".into());
        assert_eq!(count(&client, &server.uri(), "Users", &token, AuthStyle::Raw, t).await, Ok(Some(3)));
        assert_eq!(count(&client, &server.uri(), "Users", &token, AuthStyle::Bearer, t).await, Ok(None));
        // a port nothing listens on: bound, then closed
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let e = count(&client, &format!("http://{closed}"), "Users", &token, AuthStyle::Raw, t).await.unwrap_err();
        assert_eq!(e.kind, TransportKind::Connect, "{e}");
        assert!(!e.message.contains("tok-12345"), "{e}");
    }
}
