//! Before a simulation sends anything: the same connection test as `scimcheck run` ([`crate::preflight`], one
//! implementation), a line naming the target, and a count of what the server already holds.
//!
//! A wrong port, token or base URL fails the test with one line naming the cause (exit 2) before any
//! provisioning request. Objects already on the server are counted cheaply with `count=0` (RFC 7644 §3.4.2.4:
//! a `count` of 0 returns no resources, only `totalResults`) so the summary can say that strangers were left
//! out of the reconciliation.

use std::time::Duration;

use serde_json::Value;

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

/// How many objects `collection` holds: `GET <base>/<collection>?startIndex=1&count=0` and its `totalResults`.
/// `None` when the server does not answer 200 with a readable count (the warning is then left out, nothing
/// else depends on it).
pub async fn count(
    client: &reqwest::Client,
    base_url: &str,
    collection: &str,
    authorization: Option<&str>,
    timeout: Duration,
) -> Option<u64> {
    let mut req = client
        .get(count_url(base_url, collection))
        .header("Accept", "application/scim+json, application/json")
        .timeout(timeout);
    if let Some(a) = authorization {
        req = req.header(reqwest::header::AUTHORIZATION, a);
    }
    let mut resp = req.send().await.ok()?;
    if resp.status().as_u16() != 200 {
        return None;
    }
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() > COUNT_READ {
            return None;
        }
    }
    total_results(&body)
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
        assert_eq!(count(&client, &at("a"), "Users", Some("Bearer x"), t).await, Some(438));
        assert_eq!(count(&client, &at("b"), "Users", None, t).await, None);
        assert_eq!(count(&client, &at("c"), "Users", None, t).await, None);
    }
}
