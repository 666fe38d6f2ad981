//! Discovery documents (RFC 7644 §4; RFC 7643 §5–7), generated from the static schemas so they describe
//! exactly what the server implements.

use serde_json::{json, Value};

use crate::directory::DirectoryConfig;
use crate::schema::{
    AttrDef, ResourceType, SchemaDef, RESOURCE_TYPES, RESOURCE_TYPE_URN, SCHEMAS, SCHEMA_URN, SPC_URN,
};

/// What the service provider supports, as advertised in `/ServiceProviderConfig`.
#[derive(Debug, Clone, Copy)]
pub struct Features {
    /// `filter.maxResults`: the most resources a page returns (RFC 7643 §5).
    pub max_results: usize,
    /// The largest accepted request body, in bytes.
    pub max_payload_bytes: usize,
}

impl Features {
    /// Features of a directory with the given limits.
    pub fn new(config: DirectoryConfig, max_payload_bytes: usize) -> Self {
        Features { max_results: config.max_results, max_payload_bytes }
    }
}

/// RFC 7643 §5: the ServiceProviderConfig resource. Bulk is advertised as unsupported (it answers 501).
pub fn service_provider_config(f: Features, base: &str) -> Value {
    json!({
        "schemas": [SPC_URN],
        "documentationUri": "https://github.com/scimcheck/scimcheck/tree/main/reference-server",
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": f.max_results},
        "changePassword": {"supported": true},
        "sort": {"supported": true},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication with a per-app API token sent as 'Authorization: Bearer <token>' (RFC 6750) or as the raw header value.",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base}/ServiceProviderConfig")
        }
    })
}

/// RFC 7643 §6: one ResourceType resource.
pub fn resource_type(rt: &ResourceType, base: &str) -> Value {
    let extensions: Vec<Value> =
        rt.extensions.iter().map(|(s, required)| json!({"schema": s.id, "required": required})).collect();
    json!({
        "schemas": [RESOURCE_TYPE_URN],
        "id": rt.id,
        "name": rt.name,
        "endpoint": rt.endpoint,
        "description": rt.description,
        "schema": rt.schema.id,
        "schemaExtensions": extensions,
        "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/{}", rt.id)}
    })
}

/// All resource types.
pub fn resource_types(base: &str) -> Vec<Value> {
    RESOURCE_TYPES.iter().map(|rt| resource_type(rt, base)).collect()
}

/// Looks a resource type up by id (case-sensitive, as ids are).
pub fn find_resource_type(id: &str) -> Option<&'static ResourceType> {
    RESOURCE_TYPES.iter().copied().find(|rt| rt.id == id)
}

fn attribute(a: &AttrDef) -> Value {
    let mut v = json!({
        "name": a.name,
        "type": a.ty.as_str(),
        "multiValued": a.multi_valued,
        "description": a.description,
        "required": a.required,
        "caseExact": a.case_exact,
        "mutability": a.mutability.as_str(),
        "returned": a.returned.as_str(),
        "uniqueness": a.uniqueness.as_str(),
    });
    if !a.canonical_values.is_empty() {
        v["canonicalValues"] = json!(a.canonical_values);
    }
    if !a.reference_types.is_empty() {
        v["referenceTypes"] = json!(a.reference_types);
    }
    if !a.sub_attributes.is_empty() {
        v["subAttributes"] = Value::Array(a.sub_attributes.iter().map(attribute).collect());
    }
    v
}

/// RFC 7643 §7: one Schema resource.
pub fn schema(s: &SchemaDef, base: &str) -> Value {
    json!({
        "schemas": [SCHEMA_URN],
        "id": s.id,
        "name": s.name,
        "description": s.description,
        "attributes": s.attributes.iter().map(attribute).collect::<Vec<_>>(),
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{}", s.id)}
    })
}

/// All schemas.
pub fn schemas(base: &str) -> Vec<Value> {
    SCHEMAS.iter().map(|s| schema(s, base)).collect()
}

/// Looks a schema up by its URN.
pub fn find_schema(id: &str) -> Option<&'static SchemaDef> {
    SCHEMAS.iter().copied().find(|s| s.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_describe_password_as_write_only_and_groups_as_read_only() {
        let user = schema(&crate::schema::USER_SCHEMA, "http://x");
        let attrs = user["attributes"].as_array().unwrap();
        let pw = attrs.iter().find(|a| a["name"] == "password").unwrap();
        assert_eq!(pw["mutability"], "writeOnly");
        assert_eq!(pw["returned"], "never");
        let groups = attrs.iter().find(|a| a["name"] == "groups").unwrap();
        assert_eq!(groups["mutability"], "readOnly");
        assert_eq!(groups["subAttributes"].as_array().unwrap().len(), 4);
    }

    #[test]
    fn resource_types_point_at_known_schemas() {
        for rt in resource_types("http://x") {
            let id = rt["schema"].as_str().unwrap();
            assert!(find_schema(id).is_some(), "{id}");
            for ext in rt["schemaExtensions"].as_array().unwrap() {
                assert!(find_schema(ext["schema"].as_str().unwrap()).is_some());
            }
        }
    }
}
