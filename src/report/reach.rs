//! Which IdP a failed request would break, read from the IdP requirements list
//! ([`crate::requirements::REQUIREMENTS`]): a step of an `rfc` scenario that sends the very request an IdP cannot
//! provision without — Okta's and Entra's `userName eq` lookup, Entra's `externalId eq` and group `displayName eq`
//! lookups, Entra's PATCH of users and groups, Okta's PATCH of `active` and of groups — fails that IdP too, so the
//! fix-first list ([`super::causes`]) names the IdP and ranks the cause with the IdPs' own.
//!
//! Only requirements every run holds the server to are read (not a suite's, such as Okta's entitlements): the
//! capability must be the one the request exercises, not merely one the scenario declares.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use crate::exchange::{Method, SentRequest};
use crate::idp::Idp;
use crate::requirements::{IdpRequirement, REQUIREMENTS};
use crate::runner::StepResult;
use crate::scenario::Feature;

/// The IdPs a failed step breaks by their requirements ([`REQUIREMENTS`]), in `okta`, `azure` order: its request
/// is one an IdP cannot provision without ([`sent_by`]) and the step wanted it to succeed — it was refused (a
/// `status` check expecting a 2xx got something else) or it succeeded with a wrong answer (a 2xx whose body
/// failed a check, such as a lookup missing its user). A step that expected a refusal (RFC 7644 §3.5.2.3's
/// `noTarget` for a replace through an unmatched filter) and got a success is the RFC's rule, not the IdP's:
/// Entra itself expects that replace to succeed. Empty when no request was sent.
pub fn needed_by(step: &StepResult) -> Vec<Idp> {
    let Some(req) = step.request.as_ref() else { return vec![] };
    let success = |status: u16| (200..300).contains(&status);
    let wanted_success = match (step.failures.iter().find(|f| f.check == "status"), &step.response) {
        (Some(f), Some(o)) => f.expected.trim_start().starts_with('2') && !success(o.status),
        (None, Some(o)) => success(o.status),
        (_, None) => false,
    };
    if wanted_success {
        sent_by(req)
    } else {
        vec![]
    }
}

/// The IdPs whose requirement ([`REQUIREMENTS`]) the request is, in `okta`, `azure` order; empty when none.
pub fn sent_by(req: &SentRequest) -> Vec<Idp> {
    let mut idps: Vec<Idp> =
        REQUIREMENTS.iter().filter(|r| r.suite.is_none() && exercises(r, req)).map(|r| r.idp).collect();
    idps.sort();
    idps.dedup();
    idps
}

/// Whether `req` is a request `r` says its IdP sends.
fn exercises(r: &IdpRequirement, req: &SentRequest) -> bool {
    let resource = resource_of(&req.path);
    match r.feature {
        // Okta: filter=userName eq "…" before it creates a user (Okta's SCIM 2.0 guide, Create users); Entra:
        // users by userName or externalId, groups by displayName (Microsoft's endpoint requirements)
        // — always a GET with filter, startIndex and count: neither sends POST /.search (Okta's SCIM FAQ) nor asks
        // for a projection or an order (`attributes`, `excludedAttributes`, `sortBy`, `sortOrder`, RFC 7644
        // §3.4.2.3, §3.4.2.5), so a request with them tests the RFC's option, not the IdP's lookup
        Feature::Filter => {
            if req.method != Method::GET
                || req.query.iter().any(|(k, _)| IDP_NEVER_SENDS.iter().any(|n| k.eq_ignore_ascii_case(n)))
            {
                return false;
            }
            let Some(filter) = crate::decline::filter_of(req.method, &req.path, &req.query, req.body.as_ref()) else {
                return false;
            };
            let Some(attr) = eq_attribute(&filter) else { return false };
            let attr = attr.to_ascii_lowercase();
            match (r.idp, resource) {
                (Idp::Okta, Some(Resource::Users)) => attr == "username",
                (Idp::Entra, Some(Resource::Users)) => attr == "username" || attr == "externalid",
                (Idp::Entra, Some(Resource::Groups)) => attr == "displayname",
                _ => false,
            }
        }
        // Entra updates users and groups and disables users with PATCH; Okta deactivates and reactivates users
        // (a PATCH of `active`) and pushes groups with PATCH (the documents in REQUIREMENTS)
        Feature::Patch if req.method == Method::PATCH && is_one_resource(&req.path) => match (r.idp, resource) {
            (Idp::Entra, Some(_)) => true,
            (Idp::Okta, Some(Resource::Groups)) => true,
            (Idp::Okta, Some(Resource::Users)) => touches_active(req.body.as_ref()),
            _ => false,
        },
        _ => false,
    }
}

/// Query parameters neither Okta's nor Entra's lookups carry (RFC 7644 §3.4.2.3 sorting, §3.4.2.5 projection).
const IDP_NEVER_SENDS: [&str; 4] = ["attributes", "excludedAttributes", "sortBy", "sortOrder"];

#[derive(Clone, Copy, PartialEq)]
enum Resource {
    Users,
    Groups,
}

/// `/Users…` or `/Groups…` (any case).
fn resource_of(path: &str) -> Option<Resource> {
    let first = path.trim_start_matches('/').split(['/', '?']).next().unwrap_or("");
    if first.eq_ignore_ascii_case("Users") {
        Some(Resource::Users)
    } else if first.eq_ignore_ascii_case("Groups") {
        Some(Resource::Groups)
    } else {
        None
    }
}

/// `/Users/{id}` or `/Groups/{id}`: one resource, not the collection.
fn is_one_resource(path: &str) -> bool {
    path.trim_matches('/').split('/').filter(|s| !s.is_empty()).count() == 2
}

/// The attribute of a filter that is one `attr eq "…"` comparison (RFC 7644 §3.4.2.2), else `None`.
fn eq_attribute(filter: &str) -> Option<&str> {
    static EQ: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"(?i)^\s*([A-Za-z][\w.:-]*)\s+eq\s+"(?:[^"\\]|\\.)*"\s*$"#).expect("regex"));
    EQ.captures(filter).and_then(|c| c.get(1)).map(|m| m.as_str())
}

/// Whether a PATCH body (RFC 7644 §3.5.2) changes `active`: an operation whose path is `active`, or a path-less
/// operation whose value object carries it.
fn touches_active(body: Option<&Value>) -> bool {
    let ops = body.and_then(|b| b.get("Operations")).and_then(Value::as_array);
    ops.into_iter().flatten().any(|op| match op.get("path").and_then(Value::as_str) {
        Some(p) => p.trim().eq_ignore_ascii_case("active"),
        None => op.get("value").and_then(Value::as_object).is_some_and(|v| v.keys().any(|k| k == "active")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sent(method: Method, path: &str, query: &[(&str, &str)], body: Option<Value>) -> SentRequest {
        SentRequest {
            method,
            url: format!("http://h{path}"),
            path: path.into(),
            query: query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            headers: vec![],
            step_headers: vec![],
            body,
            body_text: None,
            auth: crate::exchange::AuthMode::Default,
            spaces: None,
        }
    }

    #[test]
    fn the_lookups_the_idps_send_are_theirs() {
        let get = |path: &str, f: &str| sent_by(&sent(Method::GET, path, &[("filter", f)], None));
        assert_eq!(get("/Users", r#"userName eq "a@b.c""#), [Idp::Okta, Idp::Entra]);
        assert_eq!(get("/Users", r#"externalId eq "x""#), [Idp::Entra]);
        assert_eq!(get("/Groups", r#"displayName eq "Sales""#), [Idp::Entra]);
        // another operator or attribute is the RFC's alone
        assert!(get("/Users", r#"userName sw "a""#).is_empty());
        assert!(get("/Users", r#"userName eq "a" and active eq true"#).is_empty());
        assert!(get("/Users", r#"name.givenName eq "a""#).is_empty());
        // the IdPs look up with GET only, and never ask for a projection or an order
        let search = sent(Method::POST, "/Users/.search", &[], Some(json!({"filter": "userName eq \"a\""})));
        assert!(sent_by(&search).is_empty());
        for extra in ["attributes", "excludedAttributes", "sortBy", "sortOrder"] {
            let projected = sent(Method::GET, "/Users", &[("filter", r#"userName eq "a""#), (extra, "userName")], None);
            assert!(sent_by(&projected).is_empty(), "{extra}");
        }
    }

    #[test]
    fn patches_the_idps_send_are_theirs() {
        let patch = |path: &str, ops: Value| sent_by(&sent(Method::PATCH, path, &[], Some(ops)));
        let active = json!({"Operations": [{"op": "replace", "path": "active", "value": false}]});
        let pathless = json!({"Operations": [{"op": "replace", "value": {"active": false}}]});
        let nick = json!({"Operations": [{"op": "add", "path": "nickName", "value": "x"}]});
        assert_eq!(patch("/Users/1", active), [Idp::Okta, Idp::Entra]);
        assert_eq!(patch("/Users/1", pathless), [Idp::Okta, Idp::Entra]);
        assert_eq!(patch("/Users/1", nick.clone()), [Idp::Entra]);
        assert_eq!(patch("/Groups/1", nick.clone()), [Idp::Okta, Idp::Entra]);
        assert!(patch("/Users", nick.clone()).is_empty());
        assert!(patch("/Schemas/1", nick).is_empty());
        assert!(sent_by(&sent(Method::PUT, "/Users/1", &[], None)).is_empty());
    }

    #[test]
    fn only_a_request_that_should_have_succeeded_breaks_the_idp() {
        use crate::check::Failure;
        use crate::exchange::Observed;
        use crate::runner::StepVerdict;
        let lookup = sent(Method::GET, "/Users", &[("filter", "userName eq \"a\"")], None);
        let step = |status: u16, failures: Vec<Failure>| StepResult {
            request: Some(lookup.clone()),
            response: Some(Observed::status_only(status)),
            failures,
            ..StepResult::new("s", crate::scenario::Level::Must, crate::scenario::Kind::Rfc, StepVerdict::Fail)
        };
        let both = [Idp::Okta, Idp::Entra];
        // refused, or answered 200 with the wrong body: the IdP's lookup is broken
        assert_eq!(needed_by(&step(500, vec![Failure::new("status", "200", "500")])), both);
        assert_eq!(needed_by(&step(200, vec![Failure::new("/totalResults equals", "1", "0")])), both);
        // a refusal the RFC asks for, answered with a success: not the IdP's rule
        assert!(needed_by(&step(200, vec![Failure::new("status", "400", "200")])).is_empty());
        assert!(needed_by(&step(404, vec![Failure::new("/detail notEmpty", "x", "absent")])).is_empty());
        assert!(needed_by(&StepResult { response: None, ..step(200, vec![]) }).is_empty());
    }
}
