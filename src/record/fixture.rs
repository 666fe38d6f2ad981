//! Which resources seen in a recording may become fixtures: setup steps that create, on the replay target, a
//! resource that existed on the upstream before the recording.
//!
//! Only Users and Groups are created by clients (RFC 7644 §3.3 creates resources at a resource type's endpoint;
//! the IdPs provision only `/Users` and `/Groups`). Discovery resources — `/Schemas`, `/ResourceTypes`,
//! `/ServiceProviderConfig` (RFC 7644 §4) — are the server's own description and are read-only; one seen in
//! traffic is never turned into a setup step, and neither is anything whose `schemas` do not name the core
//! resource of its endpoint.

use serde_json::Value;

/// RFC 7643 §4.1: the core User schema.
pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// RFC 7643 §4.2: the core Group schema.
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// The resource types a recording turns into fixtures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FixtureType {
    /// A User (`/Users`, RFC 7643 §4.1).
    User,
    /// A Group (`/Groups`, RFC 7643 §4.2).
    Group,
}

/// The fixture type of `resource`, a representation returned by the endpoint `collection` (the first path
/// segment below the base URI: `Users`, `Groups`, `Schemas`, …): `User` or `Group` when the endpoint is
/// `/Users` or `/Groups` and the resource's `schemas`, when present, contain that endpoint's core schema URN
/// (compared case-insensitively, RFC 7643 §2.1); `None` for every other endpoint and for anything else.
pub fn fixture_type(collection: &str, resource: &Value) -> Option<FixtureType> {
    let (kind, urn) = match collection {
        "Users" => (FixtureType::User, USER_URN),
        "Groups" => (FixtureType::Group, GROUP_URN),
        _ => return None,
    };
    let schemas = resource.as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case("schemas")).map(|(_, v)| v);
    match schemas {
        None => Some(kind),
        Some(Value::Array(list)) => {
            list.iter().filter_map(Value::as_str).any(|s| s.eq_ignore_ascii_case(urn)).then_some(kind)
        }
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_users_and_groups_of_their_own_endpoint_are_fixtures() {
        let user =
            json!({"schemas": [USER_URN, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"], "id": "1"});
        assert_eq!(fixture_type("Users", &user), Some(FixtureType::User));
        assert_eq!(fixture_type("Users", &json!({"id": "1", "userName": "a"})), Some(FixtureType::User));
        assert_eq!(fixture_type("Groups", &json!({"SCHEMAS": [GROUP_URN.to_uppercase()]})), Some(FixtureType::Group));
        let schema = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"], "id": USER_URN});
        assert_eq!(fixture_type("Schemas", &schema), None);
        assert_eq!(fixture_type("ResourceTypes", &json!({"id": "User", "endpoint": "/Users"})), None);
        assert_eq!(fixture_type("ServiceProviderConfig", &json!({"patch": {"supported": true}})), None);
        assert_eq!(fixture_type("Users", &schema), None, "a Schema answered at /Users is still no user");
        assert_eq!(fixture_type("Users", &json!("x")), None);
    }
}
