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

use crate::exchange::SentRequest;
use crate::requirements::{IdpRequirement, REQUIREMENTS};
use crate::scenario::{Feature, Idp, Method};

/// The IdPs whose requirement ([`REQUIREMENTS`]) the request exercises, in `okta`, `azure` order; empty when
/// none does (or no request was sent).
pub fn needed_by(req: Option<&SentRequest>) -> Vec<Idp> {
    let Some(req) = req else { return vec![] };
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
        Feature::Filter => {
            let Some(filter) = crate::decline::filter_of(req.method, &req.path, &req.query, req.body.as_ref()) else {
                return false;
            };
            let Some(attr) = eq_attribute(&filter) else { return false };
            let attr = attr.to_ascii_lowercase();
            match (r.idp, resource) {
                (Idp::Okta, Some(Resource::Users)) => attr == "username",
                (Idp::Azure, Some(Resource::Users)) => attr == "username" || attr == "externalid",
                (Idp::Azure, Some(Resource::Groups)) => attr == "displayname",
                _ => false,
            }
        }
        // Entra updates users and groups and disables users with PATCH; Okta deactivates and reactivates users
        // (a PATCH of `active`) and pushes groups with PATCH (the documents in REQUIREMENTS)
        Feature::Patch if req.method == Method::PATCH && is_one_resource(&req.path) => match (r.idp, resource) {
            (Idp::Azure, Some(_)) => true,
            (Idp::Okta, Some(Resource::Groups)) => true,
            (Idp::Okta, Some(Resource::Users)) => touches_active(req.body.as_ref()),
            _ => false,
        },
        _ => false,
    }
}

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
            auth: crate::scenario::AuthMode::Default,
            spaces: None,
        }
    }

    #[test]
    fn the_lookups_the_idps_send_are_theirs() {
        let get = |path: &str, f: &str| needed_by(Some(&sent(Method::GET, path, &[("filter", f)], None)));
        assert_eq!(get("/Users", r#"userName eq "a@b.c""#), [Idp::Okta, Idp::Azure]);
        assert_eq!(get("/Users", r#"externalId eq "x""#), [Idp::Azure]);
        assert_eq!(get("/Groups", r#"displayName eq "Sales""#), [Idp::Azure]);
        // another operator or attribute is the RFC's alone
        assert!(get("/Users", r#"userName sw "a""#).is_empty());
        assert!(get("/Users", r#"userName eq "a" and active eq true"#).is_empty());
        assert!(get("/Users", r#"name.givenName eq "a""#).is_empty());
        assert!(needed_by(None).is_empty());
        let search = sent(Method::POST, "/Users/.search", &[], Some(json!({"filter": "userName eq \"a\""})));
        assert_eq!(needed_by(Some(&search)), [Idp::Okta, Idp::Azure]);
    }

    #[test]
    fn patches_the_idps_send_are_theirs() {
        let patch = |path: &str, ops: Value| needed_by(Some(&sent(Method::PATCH, path, &[], Some(ops))));
        let active = json!({"Operations": [{"op": "replace", "path": "active", "value": false}]});
        let pathless = json!({"Operations": [{"op": "replace", "value": {"active": false}}]});
        let nick = json!({"Operations": [{"op": "add", "path": "nickName", "value": "x"}]});
        assert_eq!(patch("/Users/1", active), [Idp::Okta, Idp::Azure]);
        assert_eq!(patch("/Users/1", pathless), [Idp::Okta, Idp::Azure]);
        assert_eq!(patch("/Users/1", nick.clone()), [Idp::Azure]);
        assert_eq!(patch("/Groups/1", nick.clone()), [Idp::Okta, Idp::Azure]);
        assert!(patch("/Users", nick.clone()).is_empty());
        assert!(patch("/Schemas/1", nick).is_empty());
        assert!(needed_by(Some(&sent(Method::PUT, "/Users/1", &[], None))).is_empty());
    }
}
