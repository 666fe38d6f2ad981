//! Okta's role and entitlement resource types: an app's catalogue of the roles and entitlements the portal
//! offers, the read-only endpoints that list them, and the check that a user's `roles` and `entitlements`
//! reference values of the catalogue.
//!
//! Okta Identity Governance discovers an app's entitlements from the SCIM server: it reads `/ResourceTypes`,
//! reads `/Schemas` only for extensions it does not know, then lists every resource type whose `schema` is
//! `urn:okta:scim:schemas:core:1.0:Role` or `urn:okta:scim:schemas:core:1.0:Entitlement` at the endpoint that
//! type declares; users then carry `roles` and `entitlements` (RFC 7643 §4.1.2) whose `value` is a listed `id`.
//! Source: Okta, "Build a SCIM 2.0 server with entitlements",
//! <https://developer.okta.com/docs/guides/scim-with-entitlements/main/#endpoint-call-sequence>; the Required and
//! Multi-valued flags: Okta Integration Wizard, entitlement management settings,
//! <https://help.okta.com/en-us/Content/Topics/Apps/oiw/entitlement-management-settings.htm>.
//!
//! No HTTP types here: the handlers call [`Catalogue::list`], [`Catalogue::get`], [`Catalogue::check_user`] and
//! [`Catalogue::check_patch`].

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::error::{ScimError, ScimResult};
use crate::schema::{LIST_RESPONSE_URN, RESOURCE_TYPE_URN, SCHEMA_URN};
use crate::values::get_ci;

/// Okta's schema URN of a role resource type.
pub const ROLE_URN: &str = "urn:okta:scim:schemas:core:1.0:Role";
/// Okta's schema URN of an entitlement resource type.
pub const ENTITLEMENT_URN: &str = "urn:okta:scim:schemas:core:1.0:Entitlement";

/// Endpoints an entitlement type may not take: the server's own.
const RESERVED: &[&str] = &["users", "groups", "serviceproviderconfig", "resourcetypes", "schemas", "me", "bulk"];

/// Which of Okta's two schemas a type uses, and so which User attribute carries its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntitlementSchema {
    /// `urn:okta:scim:schemas:core:1.0:Role`: values go in the user's `roles`.
    #[serde(rename = "urn:okta:scim:schemas:core:1.0:Role")]
    Role,
    /// `urn:okta:scim:schemas:core:1.0:Entitlement`: values go in the user's `entitlements`.
    #[serde(rename = "urn:okta:scim:schemas:core:1.0:Entitlement")]
    Entitlement,
}

impl EntitlementSchema {
    /// The schema URN.
    pub fn urn(self) -> &'static str {
        match self {
            EntitlementSchema::Role => ROLE_URN,
            EntitlementSchema::Entitlement => ENTITLEMENT_URN,
        }
    }

    /// The User attribute that carries values of this schema (RFC 7643 §4.1.2).
    pub fn user_attribute(self) -> &'static str {
        match self {
            EntitlementSchema::Role => "roles",
            EntitlementSchema::Entitlement => "entitlements",
        }
    }
}

/// One value a type offers (a role, a licence, a profile).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EntitlementValue {
    /// The value's `id`, which users carry as `roles[].value` / `entitlements[].value`. Not empty.
    pub id: String,
    /// The name Okta shows on the app's Governance tab. Not empty.
    pub display_name: String,
    /// Optional description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// One resource type of roles or entitlements, as an app's seed (`resourceTypes`) declares it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EntitlementType {
    /// The resource type's `id` and `name` (`Role`, `License`); also the `type` of its values on a user.
    pub name: String,
    /// Where it is listed, relative to the base URI: `/Roles`, `/Entitlements`, `/Licenses`.
    pub endpoint: String,
    /// Okta's schema URN.
    pub schema: EntitlementSchema,
    /// Description for `/ResourceTypes`.
    #[serde(default)]
    pub description: String,
    /// The wizard's Multi-valued flag: whether a user may hold more than one value of this type. Default true.
    #[serde(default = "yes")]
    pub multi_valued: bool,
    /// The wizard's Required flag: whether a user must hold at least one value of this type. Okta enforces it
    /// when it assigns users; the server keeps it as configuration and does not refuse writes without one.
    #[serde(default)]
    pub required: bool,
    /// The values offered, in list order.
    #[serde(default)]
    pub values: Vec<EntitlementValue>,
}

fn yes() -> bool {
    true
}

/// An app's role and entitlement types; empty for an app that offers none (then users' `roles` and
/// `entitlements` are stored as sent, unchecked).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalogue {
    types: Vec<EntitlementType>,
}

/// The longest filter accepted on a catalogue endpoint, in bytes.
const MAX_FILTER: usize = 1024;

impl Catalogue {
    /// A catalogue of `types`, checked: names and endpoints unique (case-insensitively) and well formed
    /// (`/` and letters or digits; not an endpoint of the server), value ids unique per type, ids and display
    /// names not empty.
    ///
    /// # Errors
    /// 400 `invalidValue` naming the offending type or value.
    pub fn new(types: Vec<EntitlementType>) -> ScimResult<Catalogue> {
        let bad = |m: String| Err(ScimError::InvalidValue(m));
        for (i, t) in types.iter().enumerate() {
            let seg = t.endpoint.strip_prefix('/').unwrap_or("");
            if seg.is_empty() || !seg.chars().all(|c| c.is_ascii_alphanumeric()) {
                return bad(format!(
                    "resource type '{}': endpoint '{}' must be '/' and letters or digits",
                    t.name, t.endpoint
                ));
            }
            if RESERVED.contains(&seg.to_ascii_lowercase().as_str()) {
                return bad(format!(
                    "resource type '{}': endpoint '{}' is one of the server's own",
                    t.name, t.endpoint
                ));
            }
            if t.name.trim().is_empty() || !t.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                return bad(format!("resource type name '{}' must be letters, digits, '-' or '_'", t.name));
            }
            if ["user", "group"].contains(&t.name.to_ascii_lowercase().as_str()) {
                return bad(format!("resource type name '{}' is one of the server's own", t.name));
            }
            for other in &types[..i] {
                if other.name.eq_ignore_ascii_case(&t.name) || other.endpoint.eq_ignore_ascii_case(&t.endpoint) {
                    return bad(format!(
                        "resource types '{}' and '{}' share a name or an endpoint",
                        other.name, t.name
                    ));
                }
            }
            for (j, v) in t.values.iter().enumerate() {
                if v.id.trim().is_empty() || v.display_name.trim().is_empty() {
                    return bad(format!("resource type '{}': every value needs an id and a displayName", t.name));
                }
                if t.values[..j].iter().any(|o| o.id == v.id) {
                    return bad(format!("resource type '{}': value id '{}' appears twice", t.name, v.id));
                }
            }
        }
        Ok(Catalogue { types })
    }

    /// The types, in declaration order.
    pub fn types(&self) -> &[EntitlementType] {
        &self.types
    }

    /// Whether the app offers no types.
    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }

    /// The type listed at `endpoint` (`/Roles`; the leading `/` included), compared case-insensitively.
    pub fn by_endpoint(&self, endpoint: &str) -> Option<&EntitlementType> {
        self.types.iter().find(|t| t.endpoint.eq_ignore_ascii_case(endpoint))
    }

    /// The type whose resource type id is `id` (case-sensitive, as ids are).
    pub fn by_id(&self, id: &str) -> Option<&EntitlementType> {
        self.types.iter().find(|t| t.name == id)
    }

    /// Whether any type uses `schema`.
    pub fn declares(&self, schema: EntitlementSchema) -> bool {
        self.types.iter().any(|t| t.schema == schema)
    }

    /// The `/ResourceTypes` entries of the types (RFC 7643 §6), with the wizard's flags as Okta names them.
    pub fn resource_types(&self, base: &str) -> Vec<Value> {
        self.types.iter().map(|t| resource_type(t, base)).collect()
    }

    /// The `/Schemas` entries of the schemas the types use (RFC 7643 §7), Role before Entitlement.
    pub fn schemas(&self, base: &str) -> Vec<Value> {
        [EntitlementSchema::Role, EntitlementSchema::Entitlement]
            .into_iter()
            .filter(|s| self.declares(*s))
            .map(|s| schema(s, base))
            .collect()
    }

    /// A list of one type's values (RFC 7644 §3.4.2): `startIndex` (1-based, below 1 read as 1) and `count`
    /// (negative read as 0; absent: all) page it; `filter` may be `id`, `displayName` or `type` `eq` a quoted
    /// string (attribute and operator in any case, `displayName` compared ignoring case, RFC 7643 §2.2).
    ///
    /// # Errors
    /// 400 `invalidFilter` for any other filter (RFC 7644 §3.4.2.2).
    pub fn list(
        &self,
        t: &EntitlementType,
        filter: Option<&str>,
        start_index: Option<i64>,
        count: Option<i64>,
        base: &str,
    ) -> ScimResult<Value> {
        let matching: Vec<&EntitlementValue> = match filter {
            None => t.values.iter().collect(),
            Some(f) => {
                let (attr, wanted) = parse_eq(f)?;
                t.values
                    .iter()
                    .filter(|v| match attr {
                        FilterAttr::Id => v.id == wanted,
                        FilterAttr::DisplayName => v.display_name.to_lowercase() == wanted.to_lowercase(),
                        FilterAttr::Type => t.name.eq_ignore_ascii_case(&wanted),
                    })
                    .collect()
            }
        };
        let start = start_index.unwrap_or(1).max(1) as usize;
        let count = count.map(|c| c.max(0) as usize).unwrap_or(usize::MAX);
        let page: Vec<Value> =
            matching.iter().skip(start - 1).take(count).map(|v| value_resource(t, v, base)).collect();
        Ok(json!({
            "schemas": [LIST_RESPONSE_URN],
            "totalResults": matching.len(),
            "startIndex": start,
            "itemsPerPage": page.len(),
            "Resources": page,
        }))
    }

    /// One value of a type as a resource.
    ///
    /// # Errors
    /// 404 when the type has no value with that id.
    pub fn get(&self, t: &EntitlementType, id: &str, base: &str) -> ScimResult<Value> {
        t.values
            .iter()
            .find(|v| v.id == id)
            .map(|v| value_resource(t, v, base))
            .ok_or_else(|| ScimError::NotFound(format!("{} '{id}' not found", t.name)))
    }

    /// Checks a User body (POST, PUT): every `roles[].value` is the id of a value of a Role type and every
    /// `entitlements[].value` of an Entitlement type (a `type`, when sent, names the type that holds it); a type
    /// whose Multi-valued flag is off is held at most once. A catalogue without types checks nothing.
    ///
    /// # Errors
    /// 400 `invalidValue` naming the value and the endpoint that lists the valid ones.
    pub fn check_user(&self, body: &Value) -> ScimResult<()> {
        if self.is_empty() {
            return Ok(());
        }
        let Some(obj) = body.as_object() else { return Ok(()) };
        for schema in [EntitlementSchema::Role, EntitlementSchema::Entitlement] {
            if let Some(v) = get_ci(obj, schema.user_attribute()) {
                self.check_values(schema, v, true)?;
            }
        }
        Ok(())
    }

    /// Checks the values a PATCH (RFC 7644 §3.5.2) adds or replaces in `roles` / `entitlements`: by a path
    /// (`roles`, `entitlements`, `roles[…].value`) or in a path-less value object. Removals are not checked.
    ///
    /// # Errors
    /// As [`Catalogue::check_user`].
    pub fn check_patch(&self, body: &Value) -> ScimResult<()> {
        if self.is_empty() {
            return Ok(());
        }
        let ops = body
            .as_object()
            .and_then(|o| get_ci(o, "Operations"))
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for op in ops.iter().filter_map(Value::as_object) {
            let name = get_ci(op, "op").and_then(Value::as_str).unwrap_or_default();
            if name.eq_ignore_ascii_case("remove") {
                continue;
            }
            let Some(value) = get_ci(op, "value") else { continue };
            let path = get_ci(op, "path").and_then(Value::as_str).map(str::trim).unwrap_or_default();
            if path.is_empty() {
                self.check_user(value)?;
                continue;
            }
            let lower = path.to_ascii_lowercase();
            let lower = lower.strip_prefix("urn:ietf:params:scim:schemas:core:2.0:user:").unwrap_or(&lower);
            for schema in [EntitlementSchema::Role, EntitlementSchema::Entitlement] {
                let attr = schema.user_attribute();
                if lower == attr {
                    self.check_values(schema, value, false)?;
                } else if lower.starts_with(attr) && (lower.ends_with("].value") || lower.ends_with(".value")) {
                    let as_element = json!([{"value": value}]);
                    self.check_values(schema, &as_element, false)?;
                }
            }
        }
        Ok(())
    }

    fn check_values(&self, schema: EntitlementSchema, v: &Value, whole: bool) -> ScimResult<()> {
        let elements: Vec<&Value> = match v {
            Value::Null => return Ok(()),
            Value::Array(a) => a.iter().collect(),
            other => vec![other],
        };
        let attr = schema.user_attribute();
        let endpoints: Vec<&str> =
            self.types.iter().filter(|t| t.schema == schema).map(|t| t.endpoint.as_str()).collect();
        let mut held: Vec<&str> = Vec::new();
        for e in elements {
            let Some(o) = e.as_object() else {
                return Err(ScimError::InvalidValue(format!("each of '{attr}' must be an object with a 'value'")));
            };
            let Some(value) = get_ci(o, "value").and_then(Value::as_str) else {
                return Err(ScimError::InvalidValue(format!("each of '{attr}' needs a string 'value'")));
            };
            let ty = get_ci(o, "type").and_then(Value::as_str);
            let holder = self.types.iter().filter(|t| t.schema == schema).find(|t| {
                t.values.iter().any(|x| x.id == value) && ty.is_none_or(|ty| t.name.eq_ignore_ascii_case(ty))
            });
            let Some(holder) = holder else {
                let listed = if endpoints.is_empty() {
                    format!("this app offers no {attr}")
                } else {
                    format!("the valid values are listed at {}", endpoints.join(", "))
                };
                let typed = ty.map(|t| format!(" of type '{t}'")).unwrap_or_default();
                return Err(ScimError::InvalidValue(format!("{attr}: '{value}'{typed} does not exist; {listed}")));
            };
            if whole && !holder.multi_valued && held.contains(&holder.name.as_str()) {
                return Err(ScimError::InvalidValue(format!(
                    "{attr}: a user holds at most one {} (its resource type is not multi-valued)",
                    holder.name
                )));
            }
            held.push(&holder.name);
        }
        Ok(())
    }
}

enum FilterAttr {
    Id,
    DisplayName,
    Type,
}

fn parse_eq(filter: &str) -> ScimResult<(FilterAttr, String)> {
    let unsupported = || {
        ScimError::InvalidFilter(format!(
            "only 'id eq \"…\"', 'displayName eq \"…\"' and 'type eq \"…\"' are supported here, not '{}'",
            filter.chars().take(100).collect::<String>()
        ))
    };
    if filter.len() > MAX_FILTER {
        return Err(unsupported());
    }
    let f = filter.trim();
    let (attr, rest) = f.split_once(char::is_whitespace).ok_or_else(unsupported)?;
    let (op, literal) = rest.trim_start().split_once(char::is_whitespace).ok_or_else(unsupported)?;
    if !op.eq_ignore_ascii_case("eq") {
        return Err(unsupported());
    }
    let attr = match attr.to_ascii_lowercase().as_str() {
        "id" => FilterAttr::Id,
        "displayname" => FilterAttr::DisplayName,
        "type" => FilterAttr::Type,
        _ => return Err(unsupported()),
    };
    let wanted: String = serde_json::from_str(literal.trim()).map_err(|_| unsupported())?;
    Ok((attr, wanted))
}

fn value_resource(t: &EntitlementType, v: &EntitlementValue, base: &str) -> Value {
    let mut r = json!({
        "schemas": [t.schema.urn()],
        "id": v.id,
        "displayName": v.display_name,
        "type": t.name,
        "meta": {"resourceType": t.name, "location": format!("{base}{}/{}", t.endpoint, v.id)},
    });
    if let Some(d) = &v.description {
        r["description"] = json!(d);
    }
    r
}

fn resource_type(t: &EntitlementType, base: &str) -> Value {
    json!({
        "schemas": [RESOURCE_TYPE_URN],
        "id": t.name,
        "name": t.name,
        "endpoint": t.endpoint,
        "description": t.description,
        "schema": t.schema.urn(),
        "schemaExtensions": [],
        "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/{}", t.name)}
    })
}

fn string_attr(name: &str, description: &str, required: bool, case_exact: bool, mutability: &str) -> Value {
    json!({
        "name": name, "type": "string", "multiValued": false, "description": description, "required": required,
        "caseExact": case_exact, "mutability": mutability, "returned": "default", "uniqueness": "none"
    })
}

/// RFC 7643 §7: Okta's Role or Entitlement schema, as this server implements it (read-only values).
fn schema(s: EntitlementSchema, base: &str) -> Value {
    let (name, what) = match s {
        EntitlementSchema::Role => ("Role", "A role the app grants (Okta Identity Governance)."),
        EntitlementSchema::Entitlement => ("Entitlement", "An entitlement the app grants (Okta Identity Governance)."),
    };
    json!({
        "schemas": [SCHEMA_URN],
        "id": s.urn(),
        "name": name,
        "description": what,
        "attributes": [
            string_attr("displayName", "The name shown on the app's Governance tab.", true, false, "readOnly"),
            string_attr("type", "The resource type the value belongs to.", false, false, "readOnly"),
            string_attr("description", "A description of the value.", false, false, "readOnly"),
        ],
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{}", s.urn())}
    })
}

/// The catalogue the built-in seed gives the `SCIMOkta` app: a `Role` type at `/Roles` (administrator, editor,
/// viewer) and a single-valued `License` entitlement type at `/Entitlements` (basic, professional, enterprise).
pub fn builtin_types() -> Vec<EntitlementType> {
    let v = |id: &str, name: &str| EntitlementValue { id: id.into(), display_name: name.into(), description: None };
    vec![
        EntitlementType {
            name: "Role".into(),
            endpoint: "/Roles".into(),
            schema: EntitlementSchema::Role,
            description: "Roles in the portal".into(),
            multi_valued: true,
            required: false,
            values: vec![v("role-admin", "Administrator"), v("role-editor", "Editor"), v("role-viewer", "Viewer")],
        },
        EntitlementType {
            name: "License".into(),
            endpoint: "/Entitlements".into(),
            schema: EntitlementSchema::Entitlement,
            description: "Portal licences".into(),
            multi_valued: true,
            required: false,
            values: vec![
                v("license-basic", "Basic licence"),
                v("license-pro", "Professional licence"),
                v("license-enterprise", "Enterprise licence"),
            ],
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat() -> Catalogue {
        Catalogue::new(builtin_types()).unwrap()
    }

    #[test]
    fn users_reference_existing_values_only() {
        let c = cat();
        let ok =
            json!({"roles": [{"value": "role-admin"}], "entitlements": [{"value": "license-pro", "type": "License"}]});
        c.check_user(&ok).unwrap();
        let unknown = json!({"entitlements": [{"value": "license-gold"}]});
        let e = c.check_user(&unknown).unwrap_err();
        assert_eq!(e.scim_type(), Some("invalidValue"));
        assert!(e.to_string().contains("/Entitlements"), "{e}");
        // a role id is no entitlement, and a type must be the one holding the value
        assert!(c.check_user(&json!({"entitlements": [{"value": "role-admin"}]})).is_err());
        assert!(c.check_user(&json!({"entitlements": [{"value": "license-pro", "type": "Role"}]})).is_err());
        assert!(c.check_user(&json!({"roles": ["role-admin"]})).is_err());
        // no catalogue: nothing is checked
        Catalogue::default().check_user(&unknown).unwrap();
    }

    #[test]
    fn patches_are_checked_on_add_and_replace_not_remove() {
        let c = cat();
        let add = |path: &str, value: Value| json!({"Operations": [{"op": "add", "path": path, "value": value}]});
        c.check_patch(&add("roles", json!([{"value": "role-viewer"}]))).unwrap();
        assert!(c.check_patch(&add("roles", json!([{"value": "nope"}]))).is_err());
        assert!(c.check_patch(&add("entitlements[type eq \"License\"].value", json!("nope"))).is_err());
        let pathless = json!({"Operations": [{"op": "Replace", "value": {"roles": [{"value": "nope"}]}}]});
        assert!(c.check_patch(&pathless).is_err());
        let remove = json!({"Operations": [{"op": "remove", "path": "roles[value eq \"nope\"]"}]});
        c.check_patch(&remove).unwrap();
    }

    #[test]
    fn a_single_valued_type_is_held_once() {
        let mut types = builtin_types();
        types[1].multi_valued = false;
        let c = Catalogue::new(types).unwrap();
        let two = json!({"entitlements": [{"value": "license-basic"}, {"value": "license-pro"}]});
        assert!(c.check_user(&two).unwrap_err().to_string().contains("at most one License"));
    }

    #[test]
    fn lists_page_and_filter_by_eq() {
        let c = cat();
        let t = c.by_endpoint("/roles").unwrap();
        let page = c.list(t, None, Some(2), Some(1), "http://x").unwrap();
        assert_eq!((page["totalResults"].clone(), page["itemsPerPage"].clone()), (json!(3), json!(1)));
        assert_eq!(page["Resources"][0]["id"], "role-editor");
        assert_eq!(page["Resources"][0]["meta"]["location"], "http://x/Roles/role-editor");
        let f = c.list(t, Some("displayName EQ \"viewer\""), None, None, "http://x").unwrap();
        assert_eq!(f["Resources"][0]["id"], "role-viewer");
        let e = c.list(t, Some("displayName co \"v\""), None, None, "x").unwrap_err();
        assert_eq!(e.scim_type(), Some("invalidFilter"));
        assert_eq!(c.get(t, "nope", "x").unwrap_err().status(), 404);
    }

    #[test]
    fn bad_catalogues_are_refused() {
        let mut t = builtin_types();
        t[1].endpoint = "/Roles".into();
        assert!(Catalogue::new(t).is_err());
        let mut t = builtin_types();
        t[0].endpoint = "/Users".into();
        assert!(Catalogue::new(t).is_err());
        let mut t = builtin_types();
        let twice = t[0].values[0].clone();
        t[0].values.push(twice);
        assert!(Catalogue::new(t).is_err());
    }
}
