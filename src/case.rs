//! Which attribute values compare ignoring case (RFC 7643 §2.2 `caseExact`).
//!
//! A server may store a `caseExact: false` value in another case than it was sent (RFC 7643 §2.2: such values are
//! compared case-insensitively; §7 lets a server canonicalise them): `userName`, `emails.value`, `displayName`,
//! names, titles. A value assertion (`equals`) on such an attribute therefore compares strings ignoring case.
//! Where the server's `/Schemas` (RFC 7643 §7) declares `caseExact` for the attribute, that declaration decides;
//! otherwise the RFC's own schema does (RFC 7643 §8.7.1: `id`, `externalId`, `meta` and reference values are
//! `caseExact: true`; everything else takes the §2.2 default, `false`).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// RFC 7643 §8.2: the core User schema.
pub const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// RFC 7643 §8.2: the core Group schema.
pub const CORE_GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// Attribute paths (lower-case, sub-attributes joined by `.`) that RFC 7643 declares `caseExact: true`: `id` and
/// `meta` (§3.1), `externalId` (§3.1), `password` (§4.1.1), and values that are resource ids or references
/// (`members.value`, `groups.value`, `manager.value`, `$ref`: §4.1.2, §4.2, §4.3, §8.7.1).
const EXACT: &[&str] = &[
    "id",
    "externalid",
    "meta",
    "password",
    "members.value",
    "groups.value",
    "manager.value",
    "manager",
    "x509certificates.value",
];

/// `caseExact` as a server declares it in `/Schemas`, keyed by `<schema urn>|<attribute path>` (lower-case).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct CaseRules {
    declared: BTreeMap<String, bool>,
}

impl CaseRules {
    /// The rules a `/Schemas` answer declares: a ListResponse of schema resources, or one schema resource, each
    /// with an `id` (its URN) and `attributes` (with `subAttributes`) carrying `caseExact` (RFC 7643 §7). Anything
    /// unreadable is left out: the RFC defaults apply there.
    pub fn from_schemas(body: &Value) -> CaseRules {
        let mut rules = CaseRules::default();
        let resources: Vec<&Value> = match member(body, "Resources").and_then(Value::as_array) {
            Some(rs) => rs.iter().collect(),
            None => vec![body],
        };
        for schema in resources {
            let Some(urn) = member(schema, "id").and_then(Value::as_str) else { continue };
            rules.collect(&urn.to_ascii_lowercase(), "", member(schema, "attributes"));
        }
        rules
    }

    fn collect(&mut self, urn: &str, prefix: &str, attributes: Option<&Value>) {
        for a in attributes.and_then(Value::as_array).into_iter().flatten() {
            let Some(name) = member(a, "name").and_then(Value::as_str) else { continue };
            let path = format!("{prefix}{}", name.to_ascii_lowercase());
            if let Some(exact) = member(a, "caseExact").and_then(Value::as_bool) {
                self.declared.insert(format!("{urn}|{path}"), exact);
            }
            self.collect(urn, &format!("{path}."), member(a, "subAttributes"));
        }
    }

    /// Whether a string value at JSON pointer `pointer` of a response about `resource_path` (`/Users…`,
    /// `/Groups…`) compares ignoring case. The attribute is the pointer without a leading `/Resources/<n>` and
    /// without array indices (`/Resources/0/emails/1/value` → `emails.value`); a segment that is a schema URN
    /// (`/urn:…:enterprise:2.0:User/manager/value`) names the extension it belongs to. Pointers into other
    /// documents (ListResponse members, errors) are exact.
    pub fn ignores_case(&self, resource_path: &str, pointer: &str) -> bool {
        let mut segments: Vec<String> =
            pointer.split('/').skip(1).map(|s| s.replace("~1", "/").replace("~0", "~")).collect();
        if segments.first().is_some_and(|s| s.eq_ignore_ascii_case("Resources")) {
            segments.remove(0);
            if segments.first().is_some_and(|s| s.parse::<usize>().is_ok()) {
                segments.remove(0);
            }
        }
        let mut urn = if resource_path.starts_with("/Groups") { CORE_GROUP } else { CORE_USER }.to_ascii_lowercase();
        let mut names = Vec::new();
        for s in segments {
            if s.parse::<usize>().is_ok() {
                continue;
            }
            if s.contains(':') && names.is_empty() {
                urn = s.to_ascii_lowercase();
                continue;
            }
            names.push(s.to_ascii_lowercase());
        }
        if names.is_empty() {
            return false;
        }
        let path = names.join(".");
        if let Some(exact) = self.declared.get(&format!("{urn}|{path}")) {
            return !exact;
        }
        let top = &names[0];
        let exact = EXACT.contains(&path.as_str())
            || EXACT.contains(&top.as_str()) && (top == "meta" || top == "id" || names.len() == 1)
            || names.last().is_some_and(|n| n == "$ref")
            || !is_resource_attribute(top);
        !exact
    }
}

/// Members of a ListResponse or Error that share names with no resource attribute and are never case-folded.
fn is_resource_attribute(name: &str) -> bool {
    !matches!(
        name,
        "schemas" | "totalresults" | "itemsperpage" | "startindex" | "status" | "scimtype" | "detail" | "resources"
    )
}

fn member<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    v.as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc_defaults_fold_case_except_ids_references_and_meta() {
        let r = CaseRules::default();
        for p in ["/userName", "/Resources/0/userName", "/emails/0/value", "/name/givenName", "/displayName", "/title"]
        {
            assert!(r.ignores_case("/Users", p), "{p}");
        }
        assert!(r.ignores_case("/Groups/x", "/displayName"));
        for p in [
            "/id",
            "/Resources/2/id",
            "/externalId",
            "/meta/location",
            "/meta/version",
            "/members/0/value",
            "/groups/0/value",
            "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/manager/value",
            "/members/0/$ref",
            "/schemas/0",
            "/detail",
            "/scimType",
            "/totalResults",
            "",
        ] {
            assert!(!r.ignores_case("/Users", p), "{p}");
        }
    }

    #[test]
    fn a_declared_case_exact_decides() {
        let schemas = json!({"Resources": [{
            "id": CORE_USER,
            "attributes": [
                {"name": "userName", "caseExact": true},
                {"name": "externalId", "caseExact": false},
                {"name": "emails", "subAttributes": [{"name": "value", "caseExact": true}]}
            ]
        }]});
        let r = CaseRules::from_schemas(&schemas);
        assert!(!r.ignores_case("/Users", "/userName"));
        assert!(r.ignores_case("/Users", "/externalId"));
        assert!(!r.ignores_case("/Users", "/emails/0/value"));
        assert!(r.ignores_case("/Users", "/displayName"), "undeclared: the RFC default");
        assert!(r.ignores_case("/Groups", "/displayName"));
    }

    #[test]
    fn equals_and_contains_fold_case_only_where_the_attribute_allows_it() {
        use crate::check::evaluate_in;
        use crate::exchange::{Body, Observed};
        use crate::idp::Idp;
        use crate::profile::Profile;
        use crate::scenario::{Basis, Expect, Vars};
        let body = json!({
            "id": "abc", "externalId": "ext-a", "userName": "tina@example.com",
            "emails": [{"type": "work", "value": "tina@example.com"}],
            "members": [{"value": "abc"}]
        });
        let obs = Observed {
            status: 200,
            headers: vec![("content-type".into(), "application/scim+json".into())],
            body: Body::Json(body),
            size: 0,
            elapsed: std::time::Duration::ZERO,
        };
        let judge = |assertion: Value| {
            let expect: Expect = serde_json::from_value(json!({"body": [assertion]})).unwrap();
            let rules = CaseRules::default();
            let ignores = |p: &str| rules.ignores_case("/Users", p);
            let basis = Basis::Rfc("RFC 7643 §2.2".into());
            evaluate_in(&expect, &obs, &Vars::default(), &Profile::of(Idp::Rfc), &basis, &ignores).failures.len()
        };
        assert_eq!(judge(json!({"pointer": "/userName", "equals": "Tina@Example.com"})), 0);
        assert_eq!(judge(json!({"pointer": "/emails", "contains": {"value": "TINA@example.com", "type": "work"}})), 0);
        assert_eq!(judge(json!({"pointer": "/userName", "equals": "tina@example.org"})), 1);
        assert_eq!(judge(json!({"pointer": "/externalId", "equals": "EXT-A"})), 1);
        assert_eq!(judge(json!({"pointer": "/id", "equals": "ABC"})), 1);
        assert_eq!(judge(json!({"pointer": "/members", "contains": {"value": "ABC"}})), 1);
    }
}
