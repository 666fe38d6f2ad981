//! What the target implements, read before the first provisioning request, so that the simulator provisions and
//! reconciles only that — as an IdP administrator would map only what the application supports.
//!
//! The server's `/ResourceTypes` and `/Schemas` are read with the same discovery as `scimcheck run`
//! ([`crate::runner::Runner::discover`], one implementation):
//! - a server whose `/ResourceTypes` lists no `Group` resource type (RFC 7643 §6) gets no group: no group is
//!   created, looked up, changed or read back, and Okta's import reads `/Users` only;
//! - a server whose User resource type lists no enterprise extension in `schemaExtensions` (RFC 7643 §6, §4.3)
//!   gets no enterprise attribute: `manager`, `department` and `employeeNumber` are neither sent nor reconciled,
//!   and the extension's URN is left out of `schemas` (RFC 7643 §3: `schemas` names only the schemas the
//!   resource uses).
//!
//! A server that does not answer discovery keeps everything (the assumption of a full server), with a note.
//! The summary and the reports say once what was left out and why.

use serde_json::Value;

use crate::idp::ENTERPRISE;
use crate::runner::{Capabilities, RunOptions, Runner};
use crate::scenario::Feature;

use crate::target::Target;

/// What the simulator provisions on this target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// Whether the target has a Groups endpoint (RFC 7643 §6 resource type `Group`).
    pub groups: bool,
    /// Whether the target's User resource type carries the enterprise extension (RFC 7643 §4.3, §6).
    pub enterprise: bool,
    /// What discovery left out, in words, for the summary and the reports.
    pub notes: Vec<String>,
}

impl Default for Scope {
    fn default() -> Scope {
        Scope { groups: true, enterprise: true, notes: Vec::new() }
    }
}

impl Scope {
    /// The scope `caps` describe: a feature is left out only when the target declares it absent (`Some(false)`);
    /// unknown keeps it. `source_groups` is the number of groups in the source directory, for the note.
    pub fn from_capabilities(caps: &Capabilities, source_groups: usize) -> Scope {
        let groups = caps.supports(Feature::Groups) != Some(false);
        let enterprise = caps.supports(Feature::EnterpriseUser) != Some(false);
        let mut notes = Vec::new();
        if !groups {
            notes.push(format!(
                "groups not provisioned: the server's /ResourceTypes lists no Group resource type (RFC 7643 §6), so \
                 the {source_groups} group(s) of the source directory were neither sent nor reconciled"
            ));
        }
        if !enterprise {
            notes.push(
                "enterprise attributes not provisioned: the server's User resource type lists no enterprise \
                 extension (RFC 7643 §4.3, §6 schemaExtensions), so manager, department and employeeNumber were \
                 neither sent nor reconciled"
                    .to_string(),
            );
        }
        notes.extend(caps.notes.iter().map(|n| format!("discovery: {n}")));
        Scope { groups, enterprise, notes }
    }

    /// The body of a request as this target gets it, or `None` when it gets it as it is: without the enterprise
    /// extension, its URN leaves `schemas`, its object leaves the body, its attributes leave a path-less
    /// `replace` value, and operations whose path names it are dropped.
    pub fn shape_body(&self, body: &Value) -> Option<Value> {
        if self.enterprise {
            return None;
        }
        let mut b = body.clone();
        strip_enterprise(&mut b);
        if let Some(ops) = b.get_mut("Operations").and_then(Value::as_array_mut) {
            ops.retain(|op| !op.get("path").and_then(Value::as_str).is_some_and(is_enterprise));
            for op in ops.iter_mut() {
                if let Some(v) = op.get_mut("value") {
                    strip_enterprise(v);
                }
            }
        }
        (b != *body).then_some(b)
    }

    /// [`Scope::shape_body`] of a body given as its bytes: the bytes this target gets, or `None` when it gets
    /// them as they are (a body that is not JSON included).
    pub fn shape_bytes(&self, body: &[u8]) -> Option<Vec<u8>> {
        if self.enterprise {
            return None;
        }
        let shaped = self.shape_body(&serde_json::from_slice(body).ok()?)?;
        Some(serde_json::to_vec(&shaped).expect("JSON serialises"))
    }
}

/// Whether an attribute path or key is in the enterprise extension (`urn:…:enterprise:2.0:User:department`,
/// `urn:…:enterprise:2.0:User`), compared ignoring case (RFC 7643 §2.1).
fn is_enterprise(path: &str) -> bool {
    path.get(..ENTERPRISE.len()).is_some_and(|p| p.eq_ignore_ascii_case(ENTERPRISE))
}

/// Removes the enterprise extension from a resource or a path-less value: its members and its URN in `schemas`.
fn strip_enterprise(v: &mut Value) {
    let Some(o) = v.as_object_mut() else { return };
    o.retain(|k, _| !is_enterprise(k));
    if let Some(schemas) = o.get_mut("schemas").and_then(Value::as_array_mut) {
        schemas.retain(|s| !s.as_str().is_some_and(is_enterprise));
    }
}

/// Reads the target's capabilities with `scimcheck run`'s discovery (`/ServiceProviderConfig`, `/ResourceTypes`,
/// `/Schemas`), each request bounded by `timeout` and sent with the engine's `tls` settings, and turns them into a
/// scope; `source_groups` is for the note.
pub async fn discover(
    target: &Target,
    timeout: std::time::Duration,
    tls: &crate::http::TlsOptions,
    source_groups: usize,
) -> Scope {
    let options = RunOptions { timeout, tls: tls.clone(), ..RunOptions::default() };
    match Runner::new(crate::runner::Against::Target(target.clone()), options) {
        Ok(runner) => Scope::from_capabilities(&runner.discover().await, source_groups),
        Err(e) => Scope { notes: vec![format!("discovery: not run ({e}); every feature assumed")], ..Scope::default() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::Method;
    use crate::idp::ScimRequest;
    use serde_json::json;

    fn req(body: Value) -> ScimRequest {
        ScimRequest { method: Method::PATCH, path: "/Users/1".into(), query: vec![], body: Some(body) }
    }

    #[test]
    fn without_the_extension_no_enterprise_attribute_is_sent() {
        let scope = Scope { enterprise: false, ..Scope::default() };
        let create = req(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
            "userName": "a", ENTERPRISE: {"department": "IT"}}));
        let out = scope.shape_body(create.body.as_ref().unwrap()).unwrap();
        assert_eq!(out, json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a"}));

        let patch = req(json!({"Operations": [
            {"op": "replace", "path": format!("{ENTERPRISE}:manager"), "value": "7"},
            {"op": "replace", "value": {"displayName": "A", format!("{ENTERPRISE}:department"): "IT"}}
        ]}));
        let out = scope.shape_body(patch.body.as_ref().unwrap()).unwrap();
        assert_eq!(out, json!({"Operations": [{"op": "replace", "value": {"displayName": "A"}}]}));

        let plain = req(json!({"Operations": [{"op": "replace", "path": "active", "value": false}]}));
        assert_eq!(scope.shape_body(plain.body.as_ref().unwrap()), None, "nothing to change");
        assert_eq!(
            Scope::default().shape_body(create.body.as_ref().unwrap()),
            None,
            "a server with the extension gets it"
        );

        // a body given as bytes is shaped as its value is
        let bytes = serde_json::to_vec(create.body.as_ref().unwrap()).unwrap();
        let shaped: Value = serde_json::from_slice(&scope.shape_bytes(&bytes).unwrap()).unwrap();
        assert_eq!(shaped, json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a"}));
        assert_eq!(Scope::default().shape_bytes(&bytes), None);
        assert_eq!(scope.shape_bytes(&serde_json::to_vec(plain.body.as_ref().unwrap()).unwrap()), None);
    }

    #[test]
    fn only_a_declared_absence_leaves_a_feature_out() {
        let caps = Capabilities { groups: Some(false), user_extensions: Some(vec![]), ..Default::default() };
        let s = Scope::from_capabilities(&caps, 6);
        assert!(!s.groups && !s.enterprise);
        assert!(s.notes[0].contains("6 group(s)") && s.notes[0].contains("RFC 7643 §6"), "{:?}", s.notes);
        assert!(s.notes[1].contains("manager, department and employeeNumber"), "{:?}", s.notes);
        let unknown = Scope::from_capabilities(&Capabilities::default(), 6);
        assert!(unknown.groups && unknown.enterprise && unknown.notes.is_empty());
    }
}
