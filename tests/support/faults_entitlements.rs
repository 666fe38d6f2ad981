//! Faults the Okta entitlement scenarios (`scenarios/okta/entitlements/`) exist to catch: each breaks one part of
//! what Okta Identity Governance needs from the server ("Build a SCIM 2.0 server with entitlements",
//! `docs/okta.md` §5). The reference server's built-in `SCIMOkta` catalogue lists roles at `/Roles` and licences
//! at `/Entitlements`.

use axum::http::{Method, StatusCode};
use serde_json::Value;

use super::faults::{keep, pass, Before, Fault, Seen};

/// Every entitlement fault.
pub static FAULTS: &[Fault] = &[
    Fault {
        name: "entitlements-unpaged",
        description: "the role and entitlement endpoints ignore startIndex and count and list every value at once",
        before: entitlements_unpaged,
        after: keep,
    },
    Fault {
        name: "entitlement-types-undeclared",
        description:
            "/ResourceTypes lists no resource type with Okta's Role or Entitlement schema (the endpoints still answer)",
        before: pass,
        after: entitlement_types_undeclared,
    },
    Fault {
        name: "unknown-entitlement-accepted",
        description: "a user's roles and entitlements are stored whatever their values, listed or not",
        before: unknown_entitlement_accepted,
        after: keep,
    },
    Fault {
        name: "roles-dropped-on-put",
        description: "PUT /Users/{id} drops the user's roles (the PUT's roles are ignored and the stored ones removed)",
        before: roles_dropped_on_put,
        after: keep,
    },
];

fn catalogue_list(seen: &Seen) -> bool {
    seen.method == Method::GET && (seen.path == "/Roles" || seen.path == "/Entitlements")
}

fn entitlements_unpaged(seen: &Seen) -> Before {
    if catalogue_list(seen) {
        return Before::Query(seen.query_with(&[("startIndex", None), ("count", None)]));
    }
    Before::Pass
}

fn entitlement_types_undeclared(seen: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    if !(seen.method == Method::GET && seen.path == "/ResourceTypes") {
        return;
    }
    let Some(Value::Array(items)) = body.as_mut().and_then(|b| b.get_mut("Resources")) else { return };
    items.retain(|r| !r.get("schema").and_then(Value::as_str).is_some_and(|s| s.starts_with("urn:okta:")));
    let n = items.len();
    if let Some(b) = body.as_mut().and_then(Value::as_object_mut) {
        b.insert("totalResults".into(), n.into());
        b.insert("itemsPerPage".into(), n.into());
    }
}

/// The ids the reference server's built-in catalogue lists.
fn listed() -> Vec<String> {
    scim_reference_server::entitlements::builtin_types()
        .into_iter()
        .flat_map(|t| t.values.into_iter().map(|v| v.id))
        .collect()
}

/// The server would refuse an unlisted value: the fault takes the unlisted values out before it sees them and
/// answers as if it had stored them (the create succeeds, nothing unlisted is kept).
fn unknown_entitlement_accepted(seen: &Seen) -> Before {
    let writes_user = seen.path.starts_with("/Users") && matches!(seen.method, Method::POST | Method::PUT);
    let Some(mut body) = seen.body.clone().filter(|_| writes_user) else { return Before::Pass };
    let ids = listed();
    let mut changed = false;
    for attr in ["roles", "entitlements"] {
        if let Some(Value::Array(items)) = body.get_mut(attr) {
            let before = items.len();
            items.retain(|e| e.get("value").and_then(Value::as_str).is_some_and(|v| ids.iter().any(|i| i == v)));
            changed |= items.len() != before;
        }
    }
    if changed {
        Before::Rewrite(body)
    } else {
        Before::Pass
    }
}

fn roles_dropped_on_put(seen: &Seen) -> Before {
    if !(seen.method == Method::PUT && seen.path.starts_with("/Users/")) {
        return Before::Pass;
    }
    match seen.body.clone() {
        Some(Value::Object(mut o)) => {
            o.remove("roles");
            Before::Rewrite(Value::Object(o))
        }
        _ => Before::Pass,
    }
}
