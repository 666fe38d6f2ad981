//! The rule a request broke when it succeeded with another success status than the one asked for: a create
//! answered 200 instead of 201 did create, so what it breaks is not the rule its step stands for (a filter, a
//! PATCH form, an IdP's flow) but the one naming the status of that operation. RFC 7644 names one per operation:
//!
//! | request | success status | rule |
//! |---|---|---|
//! | `POST` to a resource type (create) | 201 Created | RFC 7644 §3.3 |
//! | `GET` of one resource | 200 OK | RFC 7644 §3.4.1 |
//! | `GET` of a resource type (query) | 200 OK | RFC 7644 §3.4.2 |
//! | `GET` of `/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas` | 200 OK | RFC 7644 §4 |
//! | `POST` to `.search` | 200 OK | RFC 7644 §3.4.3 |
//! | `PUT` | 200 OK | RFC 7644 §3.5.1 |
//! | `PATCH` | 200 OK with the resource, or 204 No Content | RFC 7644 §3.5.2 |
//! | `DELETE` | 204 No Content | RFC 7644 §3.6 |
//! | `POST /Bulk` | 200 OK | RFC 7644 §3.7 |

use crate::check::{CheckId, Failure};
use crate::exchange::Method;
use crate::verdict::StepResult;

/// The RFC 7644 section naming the success status of `method` on `path` (below the base URI), with what it says,
/// e.g. `RFC 7644 §3.3: a create answers 201 Created`. See the module documentation for the table.
pub fn status_rule(method: Method, path: &str) -> &'static str {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let discovery = segments.first().is_some_and(|s| {
        ["ServiceProviderConfig", "ResourceTypes", "Schemas"].iter().any(|d| s.eq_ignore_ascii_case(d))
    });
    match method {
        Method::POST if segments.last().is_some_and(|s| *s == ".search") => {
            "RFC 7644 §3.4.3: a search with POST answers 200 OK"
        }
        Method::POST if segments.first().is_some_and(|s| s.eq_ignore_ascii_case("Bulk")) => {
            "RFC 7644 §3.7: a bulk request answers 200 OK"
        }
        Method::POST => "RFC 7644 §3.3: a create answers 201 Created",
        Method::GET if discovery => "RFC 7644 §4: a discovery endpoint answers 200 OK",
        Method::GET if segments.len() > 1 => "RFC 7644 §3.4.1: a retrieved resource is answered with 200 OK",
        Method::GET => "RFC 7644 §3.4.2: a query answers 200 OK",
        Method::PUT => "RFC 7644 §3.5.1: a replace answers 200 OK",
        Method::PATCH => "RFC 7644 §3.5.2: a modify answers 200 OK with the resource, or 204 No Content",
        Method::DELETE => "RFC 7644 §3.6: a delete answers 204 No Content",
    }
}

/// The rule a failed `status` check `f` of `step` breaks when the server answered a success where only successes
/// were expected (200 for a create's 201): [`status_rule`] of the step's request. `None` for any other failure —
/// a refusal breaks the rules its step stands for.
pub fn wrong_success_rule(step: &StepResult, f: &Failure) -> Option<&'static str> {
    if f.id != CheckId::Status {
        return None;
    }
    let got = step.response.as_ref()?.status;
    let expected: Vec<u16> = (f.expected.split(|c: char| !c.is_ascii_digit()))
        .filter(|s| s.len() == 3)
        .filter_map(|s| s.parse().ok())
        .collect();
    let success = |s: u16| (200..300).contains(&s);
    if !success(got) || expected.is_empty() || !expected.iter().all(|s| success(*s)) {
        return None;
    }
    let req = step.request.as_ref()?;
    Some(status_rule(req.method, &req.path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_operation_cites_the_section_naming_its_status() {
        let rfc = |m, p| status_rule(m, p).split(':').next().unwrap_or_default();
        assert_eq!(rfc(Method::POST, "/Users"), "RFC 7644 §3.3");
        assert_eq!(rfc(Method::POST, "/Groups/"), "RFC 7644 §3.3");
        assert_eq!(rfc(Method::POST, "/Users/.search"), "RFC 7644 §3.4.3");
        assert_eq!(rfc(Method::POST, "/.search"), "RFC 7644 §3.4.3");
        assert_eq!(rfc(Method::POST, "/Bulk"), "RFC 7644 §3.7");
        assert_eq!(rfc(Method::GET, "/Users/2819c223"), "RFC 7644 §3.4.1");
        assert_eq!(rfc(Method::GET, "/Users?filter=x"), "RFC 7644 §3.4.2");
        assert_eq!(rfc(Method::GET, "/ResourceTypes/User"), "RFC 7644 §4");
        assert_eq!(rfc(Method::PUT, "/Users/1"), "RFC 7644 §3.5.1");
        assert_eq!(rfc(Method::PATCH, "/Groups/1"), "RFC 7644 §3.5.2");
        assert_eq!(rfc(Method::DELETE, "/Users/1"), "RFC 7644 §3.6");
    }
}
