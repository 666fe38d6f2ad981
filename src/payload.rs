//! Per-target payload settings (`[payload]` in `scimcheck.toml`): what the scenarios send, adapted to a server
//! that needs more than the IdPs' defaults — a required `department`, a custom extension attribute, an e-mail
//! domain it accepts. Applied to the scenarios before they run, so the transcript shows what was really sent.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::exchange::Method;
use crate::scenario::Scenario;

/// Payload settings of one target.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Payload {
    /// Domain for generated e-mail addresses: every scenario variable whose template ends in `@<domain>` gets
    /// this domain instead (`{{given}}@example.com` → `{{given}}@acme.com`).
    pub email_domain: Option<String>,
    /// Attributes merged into the body of every `POST /Users` and `PUT /Users/{id}`; the scenario's own values
    /// win. A key that is a schema URN (`urn:…:enterprise:2.0:User`) is an extension: its attributes are merged
    /// under it and the URN is added to `schemas` (RFC 7643 §3.3).
    #[serde(default)]
    pub user: Map<String, Value>,
    /// The same for `POST /Groups` and `PUT /Groups/{id}`.
    #[serde(default)]
    pub group: Map<String, Value>,
    /// Variable templates replacing the scenario's own where a scenario defines a variable of that name.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
}

impl Payload {
    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        *self == Payload::default()
    }

    /// Applies the settings to one scenario.
    pub fn apply(&self, s: &mut Scenario) {
        for (name, template) in &self.variables {
            if let Some(t) = s.variables.get_mut(name) {
                *t = template.clone();
            }
        }
        if let Some(domain) = &self.email_domain {
            for t in s.variables.values_mut() {
                if let Some(at) = t.rfind('@') {
                    let host = &t[at + 1..];
                    if host.contains('.') && host.chars().all(|c| c.is_ascii_alphanumeric() || ".-".contains(c)) {
                        t.replace_range(at + 1.., domain);
                    }
                }
            }
        }
        for step in &mut s.steps {
            let r = &mut step.request;
            let collection = r.path.trim_start_matches('/').split(['/', '?']).next().unwrap_or("");
            let has_id = r.path.trim_start_matches('/').trim_end_matches('/').contains('/');
            let extra = match (r.method, collection, has_id) {
                (Method::POST, "Users", false) | (Method::PUT, "Users", true) => &self.user,
                (Method::POST, "Groups", false) | (Method::PUT, "Groups", true) => &self.group,
                _ => continue,
            };
            if let Some(Value::Object(body)) = &mut r.body {
                merge(body, extra);
            }
        }
    }
}

/// Adds the attributes of `extra` that `body` lacks; extension URNs are merged one level deep and listed in
/// `schemas`.
fn merge(body: &mut Map<String, Value>, extra: &Map<String, Value>) {
    for (k, v) in extra {
        if k.starts_with("urn:") {
            if let Some(Value::Array(schemas)) = body.get_mut("schemas") {
                if !schemas.iter().any(|s| s.as_str() == Some(k.as_str())) {
                    schemas.push(Value::String(k.clone()));
                }
            }
            match (body.get_mut(k), v) {
                (Some(Value::Object(have)), Value::Object(add)) => {
                    for (ak, av) in add {
                        have.entry(ak.clone()).or_insert_with(|| av.clone());
                    }
                }
                (Some(_), _) => {}
                (None, _) => {
                    body.insert(k.clone(), v.clone());
                }
            }
        } else {
            body.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    fn scenario() -> Scenario {
        let text = json!({"title": "t", "source": "s", "level": "must",
        "variables": {"email": "{{given}}@example.com", "given": "{{$name.given}}", "plain": "x"},
        "steps": [
            {"name": "create", "basis": {"rfc": "RFC 7644 §3.3"}, "request": {"method": "POST", "path": "/Users",
                "body": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "{{email}}",
                         "title": "theirs"}}, "expect": {"status": 201}},
            {"name": "patch", "basis": {"rfc": "RFC 7644 §3.5.2"}, "request": {"method": "PATCH", "path": "/Users/x", "body": {"Operations": []}},
             "expect": {"status": 200}},
            {"name": "group", "basis": {"rfc": "RFC 7644 §3.3"}, "request": {"method": "POST", "path": "/Groups", "body": {"displayName": "g"}},
             "expect": {"status": 201}}
        ]});
        crate::scenario::parse("okta/p/x.json", std::path::Path::new("x.json"), &text.to_string()).unwrap()
    }

    #[test]
    fn extra_attributes_domain_and_variables_are_applied() {
        let mut s = scenario();
        let payload = Payload {
            email_domain: Some("acme.com".into()),
            user: serde_json::from_value(json!({"title": "ours", "department": "R&D",
                                                ENTERPRISE: {"employeeNumber": "1"}}))
            .unwrap(),
            group: serde_json::from_value(json!({"urn:acme:Group": {"costCenter": "9"}})).unwrap(),
            variables: [("plain".to_string(), "y".to_string()), ("absent".to_string(), "z".to_string())].into(),
        };
        payload.apply(&mut s);
        assert_eq!(s.variables["email"], "{{given}}@acme.com");
        assert_eq!(s.variables["plain"], "y");
        assert!(!s.variables.contains_key("absent"));
        let user = s.steps[0].request.body.as_ref().unwrap();
        assert_eq!(user["title"], "theirs");
        assert_eq!(user["department"], "R&D");
        assert_eq!(user[ENTERPRISE]["employeeNumber"], "1");
        assert_eq!(user["schemas"][1], ENTERPRISE);
        assert_eq!(s.steps[1].request.body.as_ref().unwrap(), &json!({"Operations": []}));
        assert_eq!(s.steps[2].request.body.as_ref().unwrap()["urn:acme:Group"]["costCenter"], "9");
    }
}
