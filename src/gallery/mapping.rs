//! The attribute mapping `Schema_Discoverability_Test` compares `/Schemas` with: Entra's default mapping of a
//! SCIM app, or the schema a customer downloads from the Entra portal (`--attribute-mapping FILE`).
//!
//! The portal's download ("Provisioning → Attribute mapping → Review your schema here", the Microsoft Graph
//! `synchronizationSchema` resource, https://learn.microsoft.com/graph/api/resources/synchronization-synchronizationschema)
//! is read for `synchronizationRules[].objectMappings[]`: each enabled mapping's `targetObjectName` (`User`,
//! `Group`, any case) and its `attributeMappings[].targetAttributeName`. Everything else in the file is ignored.
//! Attribute names are compared ignoring case, as Microsoft's test does (overview test 15).

use std::collections::BTreeSet;

use serde_json::Value;

use crate::idp::{ENTERPRISE, GROUP_SCHEMA, USER_SCHEMA};

/// The mapped target attributes, as Entra names them (`emails[type eq "work"].value`,
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeMapping {
    /// Where the mapping came from (`Entra's default mapping` or the file).
    pub source: String,
    /// User target attributes.
    pub user: Vec<String>,
    /// Group target attributes.
    pub group: Vec<String>,
}

/// Entra's default User attribute mapping of a SCIM app ("Develop and plan provisioning for a SCIM endpoint",
/// table "Default user attribute mapping", [`crate::declared::ENTRA_MAPPING_DOC`]).
pub const DEFAULT_USER: &[&str] = &[
    "userName",
    "active",
    "displayName",
    "title",
    "emails[type eq \"work\"].value",
    "preferredLanguage",
    "name.givenName",
    "name.familyName",
    "name.formatted",
    "addresses[type eq \"work\"].formatted",
    "addresses[type eq \"work\"].streetAddress",
    "addresses[type eq \"work\"].locality",
    "addresses[type eq \"work\"].region",
    "addresses[type eq \"work\"].postalCode",
    "addresses[type eq \"work\"].country",
    "phoneNumbers[type eq \"work\"].value",
    "phoneNumbers[type eq \"mobile\"].value",
    "phoneNumbers[type eq \"fax\"].value",
    "externalId",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
];

/// Entra's default Group attribute mapping (the same page, "Default group attribute mapping").
pub const DEFAULT_GROUP: &[&str] = &["displayName", "externalId", "members"];

impl AttributeMapping {
    /// Entra's default mapping.
    pub fn entra_default() -> AttributeMapping {
        AttributeMapping {
            source: "Entra's default attribute mapping".into(),
            user: DEFAULT_USER.iter().map(|s| s.to_string()).collect(),
            group: DEFAULT_GROUP.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// Reads a schema downloaded from the Entra portal (see the module docs).
    ///
    /// Errors: not JSON, no `synchronizationRules[].objectMappings[]`, or no User mapping with a target attribute.
    pub fn from_portal_export(text: &str, source: &str) -> Result<AttributeMapping, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| format!("{source}: not JSON: {e}"))?;
        let rules = v.get("synchronizationRules").and_then(Value::as_array).ok_or_else(|| {
            format!("{source}: no synchronizationRules array (expected the schema the Entra portal downloads)")
        })?;
        let mut out = AttributeMapping { source: source.to_string(), user: Vec::new(), group: Vec::new() };
        for m in rules.iter().filter_map(|r| r.get("objectMappings")).filter_map(Value::as_array).flatten() {
            if m.get("enabled").and_then(Value::as_bool) == Some(false) {
                continue;
            }
            let target = m.get("targetObjectName").and_then(Value::as_str).unwrap_or_default().to_ascii_lowercase();
            let list = match target.as_str() {
                "user" | "users" => &mut out.user,
                "group" | "groups" => &mut out.group,
                _ if target.ends_with(":user") => &mut out.user,
                _ if target.ends_with(":group") => &mut out.group,
                _ => continue,
            };
            for a in m.get("attributeMappings").and_then(Value::as_array).into_iter().flatten() {
                if let Some(name) = a.get("targetAttributeName").and_then(Value::as_str).filter(|n| !n.is_empty()) {
                    list.push(name.to_string());
                }
            }
        }
        if out.user.is_empty() {
            return Err(format!(
                "{source}: no enabled User object mapping with targetAttributeName entries under synchronizationRules[].objectMappings[]"
            ));
        }
        Ok(out)
    }

    /// Whether `manager` is mapped (Microsoft's `isManagerAttributeSupported`).
    pub fn maps_manager(&self) -> bool {
        self.user.iter().any(|a| normalise(a, USER_SCHEMA) == format!("{}:manager", ENTERPRISE.to_ascii_lowercase()))
    }
}

/// A target attribute name as compared: lower case, value filters (`[type eq "work"]`) dropped, the core schema's
/// URN prefix dropped (`urn:…:core:2.0:User:userName` is `username`).
pub fn normalise(name: &str, core: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut depth = 0usize;
    for c in name.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    let lower = out.to_ascii_lowercase();
    let prefix = format!("{}:", core.to_ascii_lowercase());
    lower.strip_prefix(&prefix).map(str::to_string).unwrap_or(lower)
}

/// `GET /Schemas` flattened into the names Microsoft compares: each attribute and `attribute.subAttribute`, an
/// extension schema's prefixed with its URN, all lower case. `core` is the resource's core schema URN.
pub fn flatten(resources: &[Value], core: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ext_of = |id: &str| id.to_ascii_lowercase().contains(":extension:") && is_extension_for(id, core);
    for r in resources {
        let Some(id) = r.get("id").and_then(Value::as_str) else { continue };
        let prefix = if id.eq_ignore_ascii_case(core) {
            String::new()
        } else if ext_of(id) {
            format!("{}:", id.to_ascii_lowercase())
        } else {
            continue;
        };
        for a in r.get("attributes").and_then(Value::as_array).into_iter().flatten() {
            let Some(name) = a.get("name").and_then(Value::as_str) else { continue };
            let name = format!("{prefix}{}", name.to_ascii_lowercase());
            for s in a.get("subAttributes").and_then(Value::as_array).into_iter().flatten() {
                if let Some(sub) = s.get("name").and_then(Value::as_str) {
                    out.insert(format!("{name}.{}", sub.to_ascii_lowercase()));
                }
            }
            out.insert(name);
        }
    }
    out
}

/// An extension schema belongs to the resource whose name ends its URN (`…:2.0:User` for User).
fn is_extension_for(id: &str, core: &str) -> bool {
    let kind = core.rsplit(':').next().unwrap_or_default();
    id.rsplit(':').next().is_some_and(|k| k.eq_ignore_ascii_case(kind))
}

/// The mapped attributes `/Schemas` does not declare. `externalId` (RFC 7643 §3.1, common to every resource) is
/// never missing. A multi-valued attribute's filtered path (`emails[type eq "work"].value`) is found as
/// `emails.value`.
pub fn missing(mapped: &[String], declared: &BTreeSet<String>, core: &str) -> Vec<String> {
    mapped
        .iter()
        .filter(|m| {
            let n = normalise(m, core);
            n != "externalid" && n != "id" && !declared.contains(&n)
        })
        .cloned()
        .collect()
}

/// The core schema URNs by resource.
pub const CORES: [(&str, &str); 2] = [("User", USER_SCHEMA), ("Group", GROUP_SCHEMA)];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_compare_ignoring_case_and_value_filters() {
        let schemas = vec![
            json!({"id": USER_SCHEMA, "attributes": [{"name": "userName"}, {"name": "emails", "subAttributes": [{"name": "value"}]}]}),
            json!({"id": ENTERPRISE, "attributes": [{"name": "Manager", "subAttributes": [{"name": "value"}]}]}),
        ];
        let declared = flatten(&schemas, USER_SCHEMA);
        let mapped: Vec<String> =
            ["USERNAME", "emails[type eq \"work\"].Value", &format!("{ENTERPRISE}:manager"), "title", "externalId"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        assert_eq!(missing(&mapped, &declared, USER_SCHEMA), vec!["title".to_string()]);
    }

    #[test]
    fn the_portal_export_is_read_and_bad_files_are_refused() {
        let text = json!({"id": "x", "synchronizationRules": [{"objectMappings": [
            {"enabled": true, "targetObjectName": "User", "attributeMappings": [{"targetAttributeName": "userName"},
                {"targetAttributeName": format!("{ENTERPRISE}:manager")}]},
            {"enabled": false, "targetObjectName": "Group", "attributeMappings": [{"targetAttributeName": "displayName"}]}
        ]}]})
        .to_string();
        let m = AttributeMapping::from_portal_export(&text, "schema.json").unwrap();
        assert_eq!(m.user.len(), 2);
        assert!(m.group.is_empty(), "a disabled mapping is not used");
        assert!(m.maps_manager());
        assert!(AttributeMapping::from_portal_export("{}", "s.json").unwrap_err().contains("synchronizationRules"));
        assert!(AttributeMapping::from_portal_export("nope", "s.json").unwrap_err().contains("not JSON"));
        assert!(AttributeMapping::entra_default().maps_manager());
    }
}
