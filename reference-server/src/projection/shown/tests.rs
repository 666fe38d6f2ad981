//! [`Shown`] against what it replaces: `project(decorate(resource))` serialised, over seeded resources of every
//! shape the two rules distinguish (known, unknown and `returned: never` attributes and sub-attributes, extensions
//! left empty, `meta` and `groups`/`members` in and out of shape, `$ref` and `location` already present).

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{json, Map, Value};

use super::*;
use crate::directory::membership_attribute;
use crate::projection::{decorate, Projection};
use crate::resource::project;
use crate::schema::{ENTERPRISE_URN, GROUP_URN, PORTAL_URN, USER_URN};

/// A seeded generator, so every run checks the same resources.
struct Seeded(StdRng);

impl Seeded {
    fn new(seed: u64) -> Self {
        Seeded(StdRng::seed_from_u64(seed))
    }
    fn below(&mut self, n: usize) -> usize {
        self.0.random_range(0..n)
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }
}

const SUB_KEYS: &[&str] =
    &["value", "display", "type", "primary", "$ref", "location", "version", "created", "givenName", "Unknown", "a"];
const SCALARS: &[&str] = &["x", "", "User", "Group", "group", "é\"\\\n"];

fn scalar(r: &mut Seeded) -> Value {
    match r.below(5) {
        0 => Value::Bool(r.below(2) == 0),
        1 => json!(r.below(100)),
        2 => Value::Null,
        _ => Value::String(r.pick(SCALARS).to_string()),
    }
}

fn object(r: &mut Seeded) -> Value {
    let mut m = Map::new();
    for _ in 0..r.below(5) {
        let v = scalar(r);
        m.insert(r.pick(SUB_KEYS).to_string(), v);
    }
    Value::Object(m)
}

fn value(r: &mut Seeded, depth: usize) -> Value {
    match r.below(if depth == 0 { 4 } else { 6 }) {
        0 | 1 => scalar(r),
        2 => object(r),
        3 => Value::Array((0..r.below(4)).map(|_| if r.below(4) == 0 { scalar(r) } else { object(r) }).collect()),
        _ => {
            let mut m = Map::new();
            for _ in 0..r.below(4) {
                let k = r.pick(&["department", "manager", "employeeNumber", "accessStatus", "other", "cal"]);
                m.insert(k.to_string(), value(r, depth - 1));
            }
            Value::Object(m)
        }
    }
}

fn resource(r: &mut Seeded, kind: ResourceKind) -> Value {
    let rt = kind.resource_type();
    let mut keys: Vec<&str> = rt.schema.attributes.iter().map(|a| a.name).collect();
    keys.extend(["id", "externalId", "meta", "schemas", "groups", "members", "password", "unknownAttr", "Meta"]);
    keys.extend([ENTERPRISE_URN, PORTAL_URN, "urn:example:other"]);
    let mut m = Map::new();
    for _ in 0..r.below(12) {
        let k = r.pick(&keys);
        let v = match k {
            "schemas" => Value::Array(
                (0..r.below(4))
                    .map(|_| json!(r.pick(&[USER_URN, GROUP_URN, ENTERPRISE_URN, PORTAL_URN, "u"])))
                    .collect(),
            ),
            _ => value(r, 2),
        };
        m.insert(k.to_string(), v);
    }
    Value::Object(m)
}

fn before(kind: ResourceKind, v: &Value, base: &str) -> (String, Option<String>) {
    let mut d = v.clone();
    decorate(kind, &mut d, base);
    let location = d.pointer("/meta/location").and_then(Value::as_str).map(str::to_string);
    (serde_json::to_string(&project(kind.resource_type(), d, &[], &[])).unwrap(), location)
}

#[test]
fn a_shown_resource_is_the_decorated_and_projected_one_byte_for_byte() {
    let mut r = Seeded::new(0x5eed_cafe_f00d_0001);
    let base = "http://acme.localhost:8080/api/v1/SCIM/SCIMOkta";
    for round in 0..20_000 {
        let kind = if round % 3 == 0 { ResourceKind::Group } else { ResourceKind::User };
        let v = resource(&mut r, kind);
        let (want, location) = before(kind, &v, base);
        let shown = Shown::new(kind, &v, base);
        assert_eq!(serde_json::to_string(&shown).unwrap(), want, "{kind:?} {v}");
        if v.get("meta").is_some_and(Value::is_object) {
            assert_eq!(shown.location(), location.as_deref(), "{v}");
        }
    }
}

#[test]
fn typical_users_and_groups_are_shown_as_before() {
    let base = "https://t.example/scim";
    let user = json!({
        "id": "u1", "userName": "ada@example.com", "active": true, "password": "$argon2id$…",
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"value": "ada@example.com", "type": "work", "primary": true}],
        "groups": [{"value": "g1", "display": "Eng", "type": "direct"}, {"value": "g2", "type": "direct"}],
        ENTERPRISE_URN: {"department": "R&D", "manager": {"value": "u0", "$ref": "../Users/u0"}},
        PORTAL_URN: {"accessStatus": "active", "federated": true},
        "schemas": [USER_URN, ENTERPRISE_URN, PORTAL_URN],
        "meta": {"resourceType": "User", "created": "2026-01-01T00:00:00Z", "version": "W/\"3\""}
    });
    let group = json!({
        "id": "g1", "displayName": "Eng", "schemas": [GROUP_URN],
        "members": [{"value": "u1", "type": "User", "display": "Ada"}, {"value": "g2", "type": "Group"}],
        "meta": {"resourceType": "Group", "version": "W/\"4\""}
    });
    for (kind, v) in [(ResourceKind::User, user), (ResourceKind::Group, group)] {
        let shown = serde_json::to_string(&Shown::new(kind, &v, base)).unwrap();
        assert_eq!(shown, before(kind, &v, base).0);
        assert!(!shown.contains("password"), "returned: never");
        assert!(shown.contains(&format!("\"location\":\"{base}{}/", kind.resource_type().endpoint)));
    }
}

#[test]
fn a_shown_list_is_the_list_response_the_handlers_built() {
    let mut r = Seeded::new(7);
    let base = "http://localhost/scim";
    let resources: Vec<(ResourceKind, Value)> = (0..50)
        .map(|i| if i % 2 == 0 { ResourceKind::User } else { ResourceKind::Group })
        .map(|k| (k, resource(&mut r, k)))
        .collect();
    let p = Projection::default();
    let projected: Vec<Value> = resources.iter().map(|(k, v)| p.apply(*k, v.clone(), base)).collect();
    let mut want = Map::new();
    want.insert("schemas".into(), json!([LIST_RESPONSE_URN]));
    want.insert("totalResults".into(), json!(120));
    want.insert("startIndex".into(), json!(51));
    want.insert("itemsPerPage".into(), json!(projected.len()));
    want.insert("Resources".into(), Value::Array(projected));
    let list = ShownList { total_results: 120, start_index: 51, resources: &resources, base };
    assert_eq!(serde_json::to_string(&list).unwrap(), Value::Object(want).to_string());
}

#[test]
fn the_default_projection_keeps_the_membership_attributes() {
    // what lets a list without `attributes`/`excludedAttributes` skip asking the projection
    let p = Projection::default();
    assert!(p.keeps(ResourceKind::User, "groups"));
    assert!(p.keeps(ResourceKind::Group, "members"));
}

#[test]
fn excluding_only_an_absent_membership_attribute_is_shown_as_the_default() {
    let mut r = Seeded::new(0x5eed_cafe_f00d_0002);
    let base = "http://acme.localhost:8080/api/v1/SCIM/SCIMAzure";
    let default_like = [
        (ResourceKind::User, "groups"),
        (ResourceKind::User, "GROUPS, groups"),
        (ResourceKind::User, "urn:ietf:params:scim:schemas:core:2.0:User:groups"),
        (ResourceKind::User, "groups,schemas"),
        (ResourceKind::Group, "members"),
        (ResourceKind::Group, "Members"),
    ];
    for round in 0..4_000 {
        let (kind, excluded) = default_like[round % default_like.len()];
        let mut v = resource(&mut r, kind);
        let attr = membership_attribute(kind);
        v.as_object_mut().unwrap().retain(|k, _| !k.eq_ignore_ascii_case(attr));
        let p = Projection::parse(None, Some(excluded), &[kind]).unwrap();
        assert!(p.is_default_without(kind, attr), "{excluded}");
        let want = serde_json::to_string(&p.apply(kind, v.clone(), base)).unwrap();
        assert_eq!(serde_json::to_string(&Shown::new(kind, &v, base)).unwrap(), want, "{kind:?} {excluded} {v}");
    }
    let others = [
        (ResourceKind::User, None, Some("groups.value")),
        (ResourceKind::User, None, Some("groups,emails")),
        (ResourceKind::User, Some("userName"), None),
        (ResourceKind::User, Some("groups"), None),
        (ResourceKind::User, None, Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager")),
        (ResourceKind::Group, None, Some("members.value")),
        (ResourceKind::Group, None, Some("displayName")),
        (ResourceKind::Group, Some("members"), Some("members")),
    ];
    for (kind, attributes, excluded) in others {
        let p = Projection::parse(attributes, excluded, &[kind]).unwrap();
        assert!(!p.is_default_without(kind, membership_attribute(kind)), "{attributes:?} {excluded:?}");
    }
    assert!(Projection::default().is_default_without(ResourceKind::User, "groups"));
}
