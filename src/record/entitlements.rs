//! Okta's entitlement traffic in a recording: the endpoints of the role and entitlement resource types the server
//! declared, and the flows that use them or assign roles and entitlements to users.
//!
//! Okta Identity Governance reads `/ResourceTypes`, then lists every resource type whose `schema` is
//! `urn:okta:scim:schemas:core:1.0:Role` or `…:Entitlement` at the endpoint that type declares (any name:
//! `/Roles`, `/Licenses`), and sends users with `roles` and `entitlements` (Okta, "Build a SCIM 2.0 server with
//! entitlements", <https://developer.okta.com/docs/guides/scim-with-entitlements/main/#endpoint-call-sequence>;
//! docs/okta.md §5). A HAR import keeps requests to those endpoints although they are no standard SCIM endpoint
//! ([`declared_endpoints_in_har`]); a written Okta scenario that uses them is tagged `entitlements` and
//! `requires: oktaEntitlements` ([`uses_entitlements`]), so it joins `--suite okta-entitlements` and is skipped, with the
//! reason, on a server without the types.

use serde_json::Value;

use super::Flow;
use crate::scenario::Step;

/// Okta's schema URNs of role and entitlement resource types start with this.
const OKTA_CORE: &str = "urn:okta:scim:schemas:core:1.0:";

/// The endpoints (`/Roles`) of the Okta role and entitlement types in one `/ResourceTypes` ListResponse body.
pub fn endpoints_in(resource_types: &Value) -> Vec<String> {
    let resources = resource_types.get("Resources").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    resources
        .iter()
        .filter(|r| {
            r.get("schema").and_then(Value::as_str).is_some_and(|s| s.to_ascii_lowercase().starts_with(OKTA_CORE))
        })
        .filter_map(|r| r.get("endpoint").and_then(Value::as_str))
        .map(|e| format!("/{}", e.trim_start_matches('/')))
        .filter(|e| e.len() > 1 && !e[1..].contains('/'))
        .collect()
}

/// The endpoint segments (`Roles`) declared by every `GET …/ResourceTypes` response among HAR 1.2 `entries`.
pub fn declared_endpoints_in_har(entries: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in entries {
        let is_types = e
            .pointer("/request/url")
            .and_then(Value::as_str)
            .and_then(|u| reqwest::Url::parse(u).ok())
            .is_some_and(|u| u.path().trim_end_matches('/').ends_with("/ResourceTypes"));
        let Some(text) = e.pointer("/response/content/text").and_then(Value::as_str).filter(|_| is_types) else {
            continue;
        };
        let Ok(body) = serde_json::from_str::<Value>(text) else { continue };
        for ep in endpoints_in(&body) {
            let seg = ep.trim_start_matches('/').to_string();
            if !out.contains(&seg) {
                out.push(seg);
            }
        }
    }
    out
}

/// The endpoints declared by the recorded `/ResourceTypes` responses among `flows`.
pub fn declared_endpoints(flows: &[Flow]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for f in flows.iter().filter(|f| f.method == "GET" && f.path.trim_end_matches('/') == "/ResourceTypes") {
        for ep in f.response_body.json().map(|b| endpoints_in(&b)).unwrap_or_default() {
            if !out.contains(&ep) {
                out.push(ep);
            }
        }
    }
    out
}

/// Whether a step of a generated scenario uses Okta's entitlements: it addresses one of `endpoints` (or an item
/// below it), or its body writes `roles` or `entitlements` (as attributes, path-less PATCH values or PATCH paths).
/// A written Okta scenario with such a step is tagged `entitlements` and `requires: oktaEntitlements`.
pub fn uses_entitlements(step: &Step, endpoints: &[String]) -> bool {
    let path = step.request.path.as_str();
    let at_endpoint = endpoints.iter().any(|e| path == e || path.starts_with(&format!("{e}/")));
    let body = step.request.body.as_ref();
    let names = |v: &Value| {
        v.as_object().is_some_and(|o| {
            o.keys().any(|k| k.eq_ignore_ascii_case("roles") || k.eq_ignore_ascii_case("entitlements"))
        })
    };
    let ops = body.and_then(|b| b.get("Operations")).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let in_ops = ops.iter().any(|op| {
        let p = op.get("path").and_then(Value::as_str).unwrap_or_default().to_ascii_lowercase();
        p.starts_with("roles") || p.starts_with("entitlements") || op.get("value").is_some_and(names)
    });
    at_endpoint || body.is_some_and(names) || in_ops
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn okta_types_give_their_endpoints_and_a_flow_using_them_is_marked() {
        let types = json!({"Resources": [
            {"schema": "urn:ietf:params:scim:schemas:core:2.0:User", "endpoint": "/Users"},
            {"schema": "urn:okta:scim:schemas:core:1.0:Role", "endpoint": "/Roles"},
            {"schema": "urn:okta:scim:schemas:core:1.0:Entitlement", "endpoint": "Licenses"}
        ]});
        assert_eq!(endpoints_in(&types), ["/Roles", "/Licenses"]);
        // the steps as the loader reads them from a written scenario
        let steps = |request: Value| {
            let text = json!({"title": "t", "source": "s", "level": "must", "steps": [{"name": "n",
                "basis": {"rfc": "RFC 7644 §3"}, "request": request, "expect": {"status": 200}}]});
            let file = std::path::Path::new("okta/recorded/x.json");
            crate::scenario::parse("okta/recorded/x.json", file, &text.to_string()).expect("loads").steps
        };
        let endpoints = endpoints_in(&types);
        let uses =
            |request: Value, endpoints: &[String]| steps(request).iter().any(|s| uses_entitlements(s, endpoints));
        assert!(uses(json!({"method": "GET", "path": "/Licenses"}), &endpoints));
        assert!(uses(json!({"method": "GET", "path": "/Licenses/l1"}), &endpoints));
        assert!(!uses(json!({"method": "GET", "path": "/LicensesX"}), &endpoints));
        assert!(uses(json!({"method": "POST", "path": "/Users", "body": {"roles": [{"value": "r"}]}}), &[]));
        let patch = json!({"method": "PATCH", "path": "/Users/u1", "body": {"Operations": [
            {"op": "add", "path": "entitlements", "value": [{"value": "e"}]}]}});
        assert!(uses(patch, &[]));
        assert!(!uses(json!({"method": "POST", "path": "/Users", "body": {"userName": "a"}}), &[]));
    }
}
