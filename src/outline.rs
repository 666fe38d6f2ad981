//! What a judged response body too large to keep whole ([`crate::exchange::RETAIN_WHOLE`]) still owes the
//! steps that follow it: its structure without the bulky attribute values.
//!
//! A `pages` step reads every page after judging it (RFC 7644 §3.4.2.4: `totalResults`, `startIndex`,
//! `itemsPerPage`, the number of `Resources` and each resource's `id`, to see that none is listed twice). A page
//! of 100 full user representations easily passes 128 KiB; without its outline the next page could not be
//! computed and the loop failed on an absent `totalResults` the server did send.

use serde_json::{Map, Value};

/// Members of a `ListResponse` resource kept in the outline: the identity of each listed resource
/// (RFC 7643 §3.1 `id`, `externalId`, `meta.resourceType`; §4.1.1 `userName`; §4.2 `displayName`) and its
/// `schemas`. Compared case-insensitively (RFC 7643 §2.1).
pub const RESOURCE_IDENTITY: &[&str] = &["schemas", "id", "externalId", "userName", "displayName"];

/// Top-level strings longer than this many bytes are left out of the outline (numbers, booleans, `null` and the
/// `schemas` array are always kept).
pub const MAX_KEPT_STRING: usize = 1024;

/// The outline of a JSON body: an object keeps its scalar members (strings up to [`MAX_KEPT_STRING`] bytes),
/// its `schemas`, and its `Resources` array with each element reduced to [`RESOURCE_IDENTITY`] and
/// `meta.resourceType`. `None` for a body that is not an object (nothing a later step reads from it).
///
/// The outline's size grows with the number of listed resources, not with their attributes.
pub fn outline(body: &Value) -> Option<Value> {
    let obj = body.as_object()?;
    let mut out = Map::new();
    for (k, v) in obj {
        let kept = match v {
            Value::Number(_) | Value::Bool(_) | Value::Null => Some(v.clone()),
            Value::String(s) if s.len() <= MAX_KEPT_STRING => Some(v.clone()),
            Value::Array(items) if k.eq_ignore_ascii_case("schemas") => Some(Value::Array(items.clone())),
            Value::Array(items) if k.eq_ignore_ascii_case("Resources") => {
                Some(Value::Array(items.iter().map(resource_identity).collect()))
            }
            _ => None,
        };
        if let Some(v) = kept {
            out.insert(k.clone(), v);
        }
    }
    Some(Value::Object(out))
}

fn resource_identity(item: &Value) -> Value {
    let Some(obj) = item.as_object() else { return Value::Null };
    let mut out = Map::new();
    for (k, v) in obj {
        if RESOURCE_IDENTITY.iter().any(|n| n.eq_ignore_ascii_case(k)) {
            out.insert(k.clone(), v.clone());
        } else if k.eq_ignore_ascii_case("meta") {
            let kind = v.as_object().and_then(|m| m.iter().find(|(n, _)| n.eq_ignore_ascii_case("resourceType")));
            if let Some((n, t)) = kind {
                out.insert(k.clone(), serde_json::json!({ n.clone(): t.clone() }));
            }
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_list_page_keeps_its_paging_members_and_each_resource_identity() {
        let page = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": 250, "StartIndex": 101, "itemsPerPage": 100,
            "Resources": [
                {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "a1", "userName": "jane@example.com",
                 "name": {"givenName": "Jane"}, "emails": [{"value": "jane@example.com"}], "notes": "x".repeat(5000),
                 "meta": {"resourceType": "User", "location": "https://h/Users/a1"}},
                {"id": "g1", "displayName": "Engineering", "members": [{"value": "a1"}]}
            ],
            "detail": "y".repeat(MAX_KEPT_STRING + 1)
        });
        let o = outline(&page).unwrap();
        assert_eq!(
            o,
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                "totalResults": 250, "StartIndex": 101, "itemsPerPage": 100,
                "Resources": [
                    {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "a1",
                     "userName": "jane@example.com", "meta": {"resourceType": "User"}},
                    {"id": "g1", "displayName": "Engineering"}
                ]
            })
        );
        assert_eq!(outline(&json!([1, 2])), None);
    }
}
