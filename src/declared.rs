//! The declared-schema model: which User attributes the target says it implements, read from `/Schemas`
//! (RFC 7643 §7), so that scimcheck judges only what the server declares.
//!
//! RFC 7643 §7 lets a service provider implement a subset of the core schema: a server that describes `User`
//! with only `userName`, `name`, `emails` and `active` conforms. A step that depends on an attribute outside that
//! subset cannot be judged against it:
//! - an assertion on a User attribute the server never declared (`/title`, `/Resources/0/nickName`,
//!   `/emails/0/type` when `emails` declares no `type`) is skipped with that reason (a note on the scenario);
//! - a query of an `rfc` scenario that filters, sorts or projects by such an attribute (`filter=userType eq …`,
//!   `sortBy=title`, `attributes=nickName`) is not sent: the step is `notRun` with that reason, and the steps that
//!   need its captures are not run after it. An IdP's own queries are sent as it sends them, and judged.
//!
//! Writes are still sent as the IdP sends them: what matters is how the server reacts. A server that ignores an
//! attribute it does not implement passes (the skipped assertions say what could not be judged); one that refuses
//! the write fails that step, and for Entra the failure names the default attribute mapping the vendor would
//! remove ([`ENTRA_DEFAULT_MAPPINGS`]).
//!
//! Common attributes (`id`, `externalId`, `meta`, `schemas`: RFC 7643 §3.1) are never skipped, nor are extension
//! attributes (the enterprise extension is judged per step through the User resource type's `schemaExtensions`,
//! see [`crate::capabilities::Capabilities::enterprise_step_skip`]). When `/Schemas` gives no usable description of the
//! core User schema, every core attribute counts as declared (today's assumption of the whole RFC schema).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;
use serde_json::Value;

use crate::exchange::Method;
use crate::idp::Idp;
use crate::scenario::{Assertion, Step, CORE_USER};

/// The User attributes the target declares: lower-cased names (`username`) and `attribute.sub` paths
/// (`name.givenname`, `emails.value`). An attribute declared without `subAttributes` declares every
/// sub-attribute.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeclaredUser {
    /// Top-level attribute names, lower case.
    pub attributes: BTreeSet<String>,
    /// For each complex attribute that lists them: its sub-attribute names, lower case.
    pub sub_attributes: BTreeMap<String, BTreeSet<String>>,
}

/// Attribute names every resource has (RFC 7643 §3.1), or that are not User attributes at all.
const COMMON: &[&str] = &["id", "externalid", "meta", "schemas"];

/// Where Microsoft documents Entra ID's default user attribute mapping of a SCIM app ("Develop and plan
/// provisioning for a SCIM endpoint", table "Default user attribute mapping").
pub const ENTRA_MAPPING_DOC: &str =
    "https://learn.microsoft.com/en-us/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups#design-your-user-and-group-schema";

/// The User attributes beyond the minimal core set that Entra ID's default attribute mapping sends (see
/// [`ENTRA_MAPPING_DOC`]), each with the Entra user attributes it maps from.
pub const ENTRA_DEFAULT_MAPPINGS: &[(&str, &str)] = &[
    ("displayName", "displayName"),
    ("title", "jobTitle"),
    ("preferredLanguage", "preferredLanguage"),
    ("addresses", "streetAddress, postalCode, physicalDeliveryOfficeName"),
    ("phoneNumbers", "telephoneNumber, mobile, facsimileTelephoneNumber"),
];

impl DeclaredUser {
    /// The declared User attributes from the `Resources` of `GET /Schemas`; `None` when they describe no core
    /// User schema with an `attributes` list (nothing usable: every attribute is assumed declared).
    pub fn from_schemas(resources: &[Value]) -> Option<DeclaredUser> {
        let user = resources.iter().find(|r| r.get("id").and_then(Value::as_str) == Some(CORE_USER))?;
        let attrs = user.get("attributes")?.as_array()?;
        let mut out = DeclaredUser::default();
        for a in attrs {
            let Some(name) = a.get("name").and_then(Value::as_str) else { continue };
            let name = name.to_ascii_lowercase();
            if let Some(subs) = a.get("subAttributes").and_then(Value::as_array) {
                let subs = subs.iter().filter_map(|s| s.get("name").and_then(Value::as_str));
                out.sub_attributes.insert(name.clone(), subs.map(str::to_ascii_lowercase).collect());
            }
            out.attributes.insert(name);
        }
        (!out.attributes.is_empty()).then_some(out)
    }

    /// Whether an attribute path (`title`, `name.givenName`, `emails.type`; any case) is declared. Common
    /// attributes and extension attributes (a URN) always are.
    pub fn declares(&self, path: &str) -> bool {
        let lower = path.to_ascii_lowercase();
        if lower.starts_with("urn:") {
            return true;
        }
        let (attr, sub) = match lower.split_once('.') {
            Some((a, s)) => (a.to_string(), Some(s.to_string())),
            None => (lower, None),
        };
        if COMMON.contains(&attr.as_str()) {
            return true;
        }
        if !self.attributes.contains(&attr) {
            return false;
        }
        match (sub, self.sub_attributes.get(&attr)) {
            (Some(sub), Some(subs)) => subs.contains(&sub),
            _ => true,
        }
    }

    /// The User attribute an assertion's pointer reads, if it reads one: `/title` → `title`,
    /// `/Resources/0/emails/1/type` → `emails.type`, `/name/givenName` → `name.givenName`. `None` for pointers
    /// outside a resource's attributes (`/totalResults`, `/Resources`, `/detail`).
    pub fn attribute_of_pointer(pointer: &str) -> Option<String> {
        let mut segs: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
        if segs.first().is_some_and(|s| s.eq_ignore_ascii_case("Resources")) {
            if segs.len() < 3 || segs[1].parse::<usize>().is_err() {
                return None;
            }
            segs.drain(..2);
        }
        let attr = *segs.first().filter(|s| !s.is_empty())?;
        if matches!(
            attr.to_ascii_lowercase().as_str(),
            "totalresults" | "itemsperpage" | "startindex" | "detail" | "status" | "scimtype" | "operations"
        ) {
            return None;
        }
        let sub = segs.iter().skip(1).find(|s| s.parse::<usize>().is_err() && !s.is_empty());
        Some(match sub {
            Some(sub) => format!("{attr}.{sub}"),
            None => attr.to_string(),
        })
    }

    /// The User attributes a query parameter names: the attribute paths of a `filter` (outside quoted values;
    /// a value filter's inner attributes as sub-attributes of its owner), or the comma-separated paths of
    /// `sortBy`, `attributes` and `excludedAttributes`.
    pub fn attributes_of_query(name: &str, value: &str) -> Vec<String> {
        static QUOTED: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#""(?:[^"\\]|\\.)*""#).expect("regex"));
        static COMPARE: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"(?i)([A-Za-z][\w$]*(?:\.[A-Za-z][\w$]*)?)(\[[^\]]*\])?(\.[A-Za-z][\w$]*)?\s+(eq|ne|co|sw|ew|gt|ge|lt|le|pr)\b")
                .expect("regex")
        });
        static INNER: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"(?i)([A-Za-z][\w$]*)\[([^\]]*)\]").expect("regex"));
        match name.to_ascii_lowercase().as_str() {
            "filter" => {
                let text = QUOTED.replace_all(value, "\"\"");
                let mut out = Vec::new();
                for c in COMPARE.captures_iter(&text) {
                    let attr = c[1].to_string();
                    match c.get(3) {
                        Some(sub) => out.push(format!("{attr}{}", sub.as_str())),
                        None => out.push(attr),
                    }
                }
                // inside a value filter `emails[type eq "work"]`, `type` is a sub-attribute of `emails`
                for c in INNER.captures_iter(&text) {
                    let owner = c[1].to_string();
                    for inner in COMPARE.captures_iter(&c[2]) {
                        let sub = inner[1].to_string();
                        out.retain(|a| a != &sub);
                        out.push(format!("{owner}.{sub}"));
                    }
                }
                out
            }
            "sortby" | "attributes" | "excludedattributes" => {
                value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
            }
            _ => vec![],
        }
    }

    /// Whether a step addresses Users: its path is `/Users`, `/Users/…` or `/Users/.search`.
    fn about_users(step: &Step) -> bool {
        let p = step.request.path.to_ascii_lowercase();
        p == "/users" || p.starts_with("/users/") || p.starts_with("/users?")
    }

    /// How `step` of a scenario of `idp` is judged against this declaration: run as it is, not sent (a query
    /// of an `rfc` scenario that depends on an undeclared attribute), or run without its assertions on undeclared
    /// attributes. An IdP's queries are sent whatever the server declares — the IdP sends them — and the server's
    /// answer is judged.
    pub fn adapt(&self, step: &Step, idp: Idp) -> Adapted {
        if !DeclaredUser::about_users(step) {
            return Adapted::AsIs;
        }
        if step.request.method == Method::GET && idp == Idp::Rfc {
            let undeclared: BTreeSet<String> = (step.request.query.0.iter())
                .flat_map(|(k, v)| DeclaredUser::attributes_of_query(k, v))
                .filter(|a| !a.contains("{{") && !self.declares(a))
                .collect();
            if !undeclared.is_empty() {
                return Adapted::NotRun(format!(
                    "skipped: the query uses {}, which the server's /Schemas does not declare (RFC 7643 §7: a \
                     service provider may implement a subset of the core schema)",
                    undeclared.into_iter().collect::<Vec<_>>().join(", ")
                ));
            }
        }
        let (kept, skipped): (Vec<Assertion>, Vec<Assertion>) = step.expect.body.iter().cloned().partition(|a| {
            let reads = |p: &str| DeclaredUser::attribute_of_pointer(p).is_none_or(|attr| self.declares(&attr));
            reads(&a.pointer) && a.when.as_deref().is_none_or(|w| reads(&w.pointer))
        });
        if skipped.is_empty() {
            return Adapted::AsIs;
        }
        let names: BTreeSet<String> =
            skipped.iter().filter_map(|a| DeclaredUser::attribute_of_pointer(&a.pointer)).collect();
        let mut trimmed = step.clone();
        trimmed.expect.body = kept;
        Adapted::Trimmed(
            Box::new(trimmed),
            format!(
                "step \"{}\": checks on {} skipped: the server's /Schemas does not declare {} (RFC 7643 §7: a \
                 service provider may implement a subset of the core schema)",
                step.name,
                skipped.iter().map(|a| a.pointer.as_str()).collect::<Vec<_>>().join(", "),
                names.into_iter().collect::<Vec<_>>().join(", ")
            ),
        )
    }

    /// For a write of an Entra scenario that the server refused: the undeclared attributes of its body that
    /// Entra's default mapping sends, as the sentence naming the mappings to remove. `None` when there are none.
    /// A create or replace names its body's keys; a PATCH its operations' paths and value keys.
    pub fn entra_mapping_hint(&self, idp: Idp, body: Option<&Value>) -> Option<String> {
        let obj = body?.as_object().filter(|_| idp == Idp::Entra)?;
        let mut keys: Vec<String> = obj.keys().cloned().collect();
        let ops = obj.iter().find(|(k, _)| k.eq_ignore_ascii_case("Operations")).and_then(|(_, v)| v.as_array());
        for op in ops.into_iter().flatten() {
            if let Some(p) = op.get("path").and_then(Value::as_str) {
                keys.push(p.split(['[', '.']).next().unwrap_or(p).to_string());
            }
            keys.extend(op.get("value").and_then(Value::as_object).into_iter().flat_map(|m| m.keys().cloned()));
        }
        let sent: Vec<String> = ENTRA_DEFAULT_MAPPINGS
            .iter()
            .filter(|(attr, _)| keys.iter().any(|k| k.eq_ignore_ascii_case(attr)) && !self.declares(attr))
            .map(|(attr, source)| format!("{attr} (from {source})"))
            .collect();
        (!sent.is_empty()).then(|| {
            format!(
                "Entra ID's default attribute mapping sends {}, which the server does not declare: accept and \
                 ignore them, or remove those mappings from the app's attribute mappings",
                sent.join(", ")
            )
        })
    }

    /// Adds to a refused write (400) on `/Users` of an Entra scenario the failure that names the default attribute
    /// mappings behind it ([`DeclaredUser::entra_mapping_hint`]): Entra sends them unless the vendor's app removes
    /// them, so the refusal is that IdP's interop failure.
    pub fn annotate(&self, idp: Idp, r: &mut crate::verdict::StepResult) {
        let refused =
            r.verdict == crate::verdict::StepVerdict::Fail && r.response.as_ref().is_some_and(|o| o.status == 400);
        let users = |url: &str| url.split('?').next().is_some_and(|p| p.contains("/Users"));
        let Some(req) = r.request.as_ref().filter(|q| refused && users(&q.url)) else { return };
        if let Some(hint) = self.entra_mapping_hint(idp, req.body.as_ref()) {
            let basis = crate::scenario::Basis::Required(format!(
                "Microsoft Entra, Develop and plan provisioning for a SCIM endpoint, default user attribute mapping: \
                 {ENTRA_MAPPING_DOC}"
            ));
            r.failures.push(crate::check::Failure {
                id: crate::check::CheckId::EntraMapping,
                check: MAPPING_CHECK.into(),
                expected: "the attributes Entra sends by default accepted (or ignored)".into(),
                actual: hint,
                basis: Some(basis),
                level: None,
            });
        }
    }
}

/// The check [`DeclaredUser::annotate`] adds to a refused Entra write.
pub const MAPPING_CHECK: &str = "Entra default attribute mapping";

/// How a step is judged against the declared schema ([`DeclaredUser::adapt`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Adapted {
    /// Run it as it is.
    AsIs,
    /// Do not send it: it depends on an undeclared attribute (the reason).
    NotRun(String),
    /// Run this copy, without the assertions on undeclared attributes (the note says which).
    Trimmed(Box<Step>, String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn minimal() -> DeclaredUser {
        let schemas = json!([{
            "id": CORE_USER,
            "attributes": [
                {"name": "userName"},
                {"name": "name", "subAttributes": [{"name": "givenName"}, {"name": "familyName"}]},
                {"name": "emails"},
                {"name": "active"}
            ]
        }]);
        DeclaredUser::from_schemas(schemas.as_array().unwrap()).expect("declared")
    }

    #[test]
    fn declares_what_schemas_lists_and_the_common_attributes() {
        let d = minimal();
        for yes in ["userName", "USERNAME", "name.givenName", "emails", "emails.type", "active", "id", "meta"] {
            assert!(d.declares(yes), "{yes}");
        }
        for no in ["title", "nickName", "name.middleName", "addresses", "userType", "displayName"] {
            assert!(!d.declares(no), "{no}");
        }
        assert!(d.declares("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"));
        // nothing usable: no core User schema, or one without attributes
        assert_eq!(DeclaredUser::from_schemas(&[json!({"id": CORE_USER})]), None);
        assert_eq!(DeclaredUser::from_schemas(&[json!({"id": "urn:x", "attributes": [{"name": "a"}]})]), None);
    }

    #[test]
    fn pointers_and_queries_name_their_attributes() {
        let of = DeclaredUser::attribute_of_pointer;
        assert_eq!(of("/title").as_deref(), Some("title"));
        assert_eq!(of("/Resources/0/emails/1/type").as_deref(), Some("emails.type"));
        assert_eq!(of("/name/givenName").as_deref(), Some("name.givenName"));
        assert_eq!(of("/totalResults"), None);
        assert_eq!(of("/Resources"), None);
        let q = DeclaredUser::attributes_of_query;
        assert_eq!(q("filter", "userType eq \"a b eq c\" and title co \"x\""), ["userType", "title"]);
        assert_eq!(q("filter", "emails[type eq \"work\" and value co \"@\"]"), ["emails.type", "emails.value"]);
        assert_eq!(q("filter", "name.givenName pr"), ["name.givenName"]);
        assert_eq!(q("sortBy", "title"), ["title"]);
        assert_eq!(q("attributes", "userName, nickName"), ["userName", "nickName"]);
        assert!(q("count", "5").is_empty());
    }

    #[test]
    fn entra_default_mappings_are_named_when_undeclared() {
        let d = minimal();
        let body = json!({"userName": "a", "title": "Boss", "addresses": [], "active": true});
        let hint = d.entra_mapping_hint(Idp::Entra, Some(&body)).expect("hint");
        assert!(hint.contains("title (from jobTitle)") && hint.contains("addresses"), "{hint}");
        assert_eq!(d.entra_mapping_hint(Idp::Okta, Some(&body)), None);
        assert_eq!(d.entra_mapping_hint(Idp::Entra, Some(&json!({"userName": "a"}))), None);
    }
}
