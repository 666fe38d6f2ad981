//! The request bodies the simulator sends at volume — a user's create, a manager reference update, a membership
//! update — as typed values that borrow the directory's text and serialize straight to the bytes sent
//! ([`Encoded`]), instead of a `serde_json::Value` tree built, serialized and dropped per request.
//!
//! The bytes are those the `Value` gave: `serde_json` writes an object's members in sorted key order (its `Map`
//! is a `BTreeMap`), so every struct here declares its fields in that order; `tests` compares both renderings
//! for every dialect and request kind. The shapes and their sources are documented on the builders in
//! [`super::Dialect`] (docs/entra.md, docs/okta.md).

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::{Member, ScimRequest, UserAttrs, ENTERPRISE, OKTA_PLACEHOLDER_PASSWORD, PATCH_OP, USER_SCHEMA};
use crate::exchange::Method;

/// The enterprise `manager` attribute's path (RFC 7643 §4.3), as Entra's manager update names it
/// (docs/entra.md §2 "Manager").
pub const MANAGER_PATH: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager";

/// A request whose body is already the bytes sent: what [`super::Dialect`]'s `*_encoded` builders give. The
/// bytes are shared ([`bytes::Bytes`]), so a retried request sends them again without a copy.
#[derive(Debug, Clone, PartialEq)]
pub struct Encoded {
    /// Method.
    pub method: Method,
    /// Path below the base URI (`/Users`, `/Groups/{id}`).
    pub path: String,
    /// Query parameters, not encoded (the profile encodes them in the IdP's style).
    pub query: Vec<(String, String)>,
    /// The JSON body's bytes (UTF-8), or none.
    pub body: Option<bytes::Bytes>,
}

impl Encoded {
    /// `method path` with `body` serialized (a typed body of this module, or a `Value`).
    pub(super) fn new(method: Method, path: String, body: &impl Serialize) -> Encoded {
        // a user's create is about 900 bytes: one allocation instead of growing from 128 bytes three times
        let mut bytes = Vec::with_capacity(1024);
        serde_json::to_writer(&mut bytes, body).expect("a body of strings, booleans and lists serialises");
        Encoded { method, path, query: Vec::new(), body: Some(bytes.into()) }
    }

    /// The body as a JSON value (`None` without a body): what the same builder's [`ScimRequest`] carries.
    #[cfg(test)]
    pub fn body_json(&self) -> Option<Value> {
        self.body.as_ref().map(|b| serde_json::from_slice(b).expect("an encoded body is JSON"))
    }
}

impl From<&ScimRequest> for Encoded {
    fn from(r: &ScimRequest) -> Encoded {
        Encoded {
            method: r.method,
            path: r.path.clone(),
            query: r.query.clone(),
            body: r.body.as_ref().map(|b| serde_json::to_vec(b).expect("JSON serialises").into()),
        }
    }
}

/// A request as the simulator's sender reads it, borrowed from a [`ScimRequest`] (its body a `Value`) or an
/// [`Encoded`] (its body the bytes).
#[derive(Debug, Clone, Copy)]
pub struct RequestRef<'a> {
    /// Method.
    pub method: Method,
    /// Path below the base URI.
    pub path: &'a str,
    /// Query parameters, not encoded.
    pub query: &'a [(String, String)],
    /// The body.
    pub body: BodyRef<'a>,
}

/// The body of a [`RequestRef`].
#[derive(Debug, Clone, Copy)]
pub enum BodyRef<'a> {
    /// No body.
    None,
    /// A JSON value, serialized when sent.
    Json(&'a Value),
    /// The bytes sent.
    Bytes(&'a bytes::Bytes),
}

impl<'a> From<&'a ScimRequest> for RequestRef<'a> {
    fn from(r: &'a ScimRequest) -> RequestRef<'a> {
        let body = r.body.as_ref().map_or(BodyRef::None, BodyRef::Json);
        RequestRef { method: r.method, path: &r.path, query: &r.query, body }
    }
}

impl<'a> From<&'a Encoded> for RequestRef<'a> {
    fn from(r: &'a Encoded) -> RequestRef<'a> {
        let body = r.body.as_ref().map_or(BodyRef::None, BodyRef::Bytes);
        RequestRef { method: r.method, path: &r.path, query: &r.query, body }
    }
}

/// A body of a request in this module: serialized to bytes for the engine ([`Encoded::new`]) or to a `Value`
/// for every other reader of [`ScimRequest`] ([`Body::value`]).
#[derive(Serialize)]
#[serde(untagged)]
// a body lives on the stack only while it is written; a box would be one more allocation per request
#[allow(clippy::large_enum_variant)]
pub(super) enum Body<'a> {
    /// A full User resource (POST /Users).
    User(UserResource<'a>),
    /// A PatchOp message (RFC 7644 §3.5.2).
    Patch(PatchOp<'a>),
    /// A full Group resource (Okta AIW's PUT /Groups/{id}).
    Group(GroupResource<'a>),
}

impl Body<'_> {
    /// The body as a `Value`, with the members the bytes carry.
    pub(super) fn value(&self) -> Value {
        serde_json::to_value(self).expect("a body of strings, booleans and lists serialises")
    }
}

/// The full SCIM User resource from the source attributes (Entra's POST, Okta's POST and Okta's PUT), with the
/// members each IdP adds on create; fields in sorted key order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UserResource<'a> {
    active: bool,
    addresses: [Address<'a>; 1],
    display_name: DisplayName<'a>,
    emails: [Email<'a>; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    entitlements: Option<Entitlements<'a>>,
    external_id: &'a str,
    /// Okta's create: `[]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    groups: Option<[(); 0]>,
    /// Okta's create: `en-US`.
    #[serde(skip_serializing_if = "Option::is_none")]
    locale: Option<&'static str>,
    /// Entra's create: `{"resourceType": "User"}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    meta: Option<Meta>,
    name: Name<'a>,
    /// Okta's create: the placeholder.
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<&'static str>,
    phone_numbers: [Phone<'a>; 1],
    /// The grants' roles; Entra's create sends `[]` instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    roles: Option<Roles<'a>>,
    schemas: [&'static str; 2],
    title: &'a str,
    #[serde(rename = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")]
    enterprise: Enterprise<'a>,
    user_name: &'a str,
}

/// Who adds what to the User resource on create.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum CreateBy {
    /// Not a create (Okta's PUT of the source attributes).
    Nobody,
    /// Entra: `meta.resourceType`, `roles: []` (docs/entra.md §1 body A).
    Entra,
    /// Okta: `locale`, `groups: []`, the placeholder `password` (docs/okta.md §2 "Create user").
    Okta,
}

impl<'a> UserResource<'a> {
    /// The resource for `u`, with what `by` adds on create.
    pub(super) fn of(u: &'a UserAttrs, by: CreateBy) -> UserResource<'a> {
        let grants = u.grants.as_ref();
        let okta = by == CreateBy::Okta;
        UserResource {
            active: u.active,
            addresses: [Address {
                country: &u.country,
                locality: &u.locality,
                postal_code: &u.postal_code,
                primary: true,
                street_address: &u.street,
                kind: "work",
            }],
            display_name: DisplayName(u),
            emails: [Email { primary: true, kind: "work", value: &u.email }],
            entitlements: grants.map(|g| Entitlements(&g.entitlements)),
            external_id: &u.external_id,
            groups: okta.then_some([]),
            locale: okta.then_some("en-US"),
            meta: (by == CreateBy::Entra).then_some(Meta { resource_type: "User" }),
            name: Name { family_name: &u.family_name, formatted: DisplayName(u), given_name: &u.given_name },
            password: okta.then_some(OKTA_PLACEHOLDER_PASSWORD),
            phone_numbers: [Phone { kind: "work", value: &u.phone }],
            roles: match by {
                CreateBy::Entra => Some(Roles(&[])),
                _ => grants.map(|g| Roles(&g.roles)),
            },
            schemas: [USER_SCHEMA, ENTERPRISE],
            title: &u.title,
            enterprise: Enterprise { department: &u.department, employee_number: &u.employee_number },
            user_name: &u.user_name,
        }
    }
}

/// `displayName` (and `name.formatted`): given and family name ([`UserAttrs::display_name`]), written without
/// an intermediate `String`.
struct DisplayName<'a>(&'a UserAttrs);

impl Serialize for DisplayName<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{} {}", self.0.given_name, self.0.family_name))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Address<'a> {
    country: &'a str,
    locality: &'a str,
    postal_code: &'a str,
    primary: bool,
    street_address: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct Email<'a> {
    primary: bool,
    #[serde(rename = "type")]
    kind: &'static str,
    value: &'a str,
}

#[derive(Serialize)]
struct Phone<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    value: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    resource_type: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Name<'a> {
    family_name: &'a str,
    formatted: DisplayName<'a>,
    given_name: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Enterprise<'a> {
    department: &'a str,
    employee_number: &'a str,
}

/// Roles as Okta's guide shapes them: `[{"value": id}, …]`.
struct Roles<'a>(&'a [String]);

impl Serialize for Roles<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|value| ValueOnly { value }))
    }
}

/// Entitlements as Okta's guide shapes them: `[{"type": type, "value": id}, …]`.
struct Entitlements<'a>(&'a [(String, String)]);

impl Serialize for Entitlements<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Entitlement<'a> {
            #[serde(rename = "type")]
            kind: &'a str,
            value: &'a str,
        }
        s.collect_seq(self.0.iter().map(|(value, kind)| Entitlement { kind, value }))
    }
}

/// `{"value": …}`.
#[derive(Serialize)]
struct ValueOnly<'a> {
    value: &'a str,
}

/// A PatchOp message (RFC 7644 §3.5.2): `{"Operations": […], "schemas": [PATCH_OP]}`.
pub(super) struct PatchOp<'a>(pub(super) Vec<Operation<'a>>);

impl Serialize for PatchOp<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("Operations", &self.0)?;
        m.serialize_entry("schemas", &[PATCH_OP])?;
        m.end()
    }
}

/// One PATCH operation: `op`, then `path` and `value` when given (sorted key order).
#[derive(Serialize)]
pub(super) struct Operation<'a> {
    /// The operation's name as the dialect spells it ([`super::EntraDialect::op_name`]).
    pub(super) op: &'static str,
    /// Its path, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) path: Option<std::borrow::Cow<'a, str>>,
    /// Its value, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) value: Option<OpValue<'a>>,
}

/// The value of a PATCH operation.
#[derive(Serialize)]
#[serde(untagged)]
pub(super) enum OpValue<'a> {
    /// A string (a manager's id).
    Str(&'a str),
    /// Members as Entra adds them: `[{"$ref": null, "value": id}, …]` (docs/entra.md §1).
    RefMembers(RefMembers<'a>),
    /// Members by `value` only, as Entra's default dialect removes them (docs/entra.md §2).
    ValueMembers(ValueMembers<'a>),
    /// Members with `display`, as Okta adds them (docs/okta.md §2).
    DisplayMembers(DisplayMembers<'a>),
    /// Okta's rename value `{"displayName": …, "id": …}` (docs/okta.md §2).
    Rename {
        /// `displayName`.
        #[serde(rename = "displayName")]
        display_name: &'a str,
        /// `id`.
        id: &'a str,
    },
}

/// See [`OpValue::RefMembers`].
pub(super) struct RefMembers<'a>(pub(super) &'a [Member]);

impl Serialize for RefMembers<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Ref<'a>(&'a str);
        impl Serialize for Ref<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("$ref", &())?;
                m.serialize_entry("value", self.0)?;
                m.end()
            }
        }
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for m in self.0 {
            seq.serialize_element(&Ref(&m.id))?;
        }
        seq.end()
    }
}

/// See [`OpValue::ValueMembers`].
pub(super) struct ValueMembers<'a>(pub(super) &'a [Member]);

impl Serialize for ValueMembers<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|m| ValueOnly { value: &m.id }))
    }
}

/// See [`OpValue::DisplayMembers`]: `[{"display": userName, "value": id}, …]`.
pub(super) struct DisplayMembers<'a>(pub(super) Vec<&'a Member>);

impl Serialize for DisplayMembers<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|m| WithDisplay { display: &m.display, value: &m.id }))
    }
}

/// `{"display": …, "value": …}`.
#[derive(Serialize)]
struct WithDisplay<'a> {
    display: &'a str,
    value: &'a str,
}

/// A whole group as Okta AIW PUTs it: `{"displayName", "id", "members": [{display, value}…], "schemas"}`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct GroupResource<'a> {
    /// `displayName`.
    pub(super) display_name: &'a str,
    /// `id`.
    pub(super) id: &'a str,
    /// `members`.
    pub(super) members: DisplayMembers<'a>,
    /// `schemas`.
    pub(super) schemas: [&'static str; 1],
}

#[cfg(test)]
mod tests {
    //! The typed bodies against the `Value` trees the builders built before them (kept here as the reference):
    //! the same bytes, for every dialect and request kind.

    use serde_json::{json, Map, Value};

    use super::super::*;

    /// The builders as they were, with `Value` trees (the reference).
    mod before {
        use super::*;

        pub fn patch(ops: Vec<Value>) -> Value {
            json!({"schemas": [PATCH_OP], "Operations": ops})
        }

        pub fn user_body(u: &UserAttrs) -> Map<String, Value> {
            let mut o = Map::new();
            o.insert("schemas".into(), json!([USER_SCHEMA, ENTERPRISE]));
            o.insert("userName".into(), json!(u.user_name));
            o.insert("externalId".into(), json!(u.external_id));
            o.insert("active".into(), json!(u.active));
            o.insert("displayName".into(), json!(u.display_name()));
            o.insert(
                "name".into(),
                json!({"formatted": u.display_name(), "givenName": u.given_name, "familyName": u.family_name}),
            );
            o.insert("emails".into(), json!([{"primary": true, "type": "work", "value": u.email}]));
            o.insert("title".into(), json!(u.title));
            o.insert("phoneNumbers".into(), json!([{"type": "work", "value": u.phone}]));
            o.insert(
                "addresses".into(),
                json!([{"type": "work", "primary": true, "streetAddress": u.street, "locality": u.locality,
                        "postalCode": u.postal_code, "country": u.country}]),
            );
            o.insert(ENTERPRISE.into(), json!({"department": u.department, "employeeNumber": u.employee_number}));
            if let Some(g) = &u.grants {
                let roles: Vec<Value> = g.roles.iter().map(|r| json!({"value": r})).collect();
                let ents: Vec<Value> = g.entitlements.iter().map(|(v, t)| json!({"value": v, "type": t})).collect();
                o.insert("roles".into(), Value::Array(roles));
                o.insert("entitlements".into(), Value::Array(ents));
            }
            o
        }

        pub fn user_create(d: Dialect, u: &UserAttrs) -> Value {
            let mut o = user_body(u);
            match d {
                Dialect::Entra(_) => {
                    o.insert("meta".into(), json!({"resourceType": "User"}));
                    o.insert("roles".into(), json!([]));
                }
                Dialect::Okta(_) => {
                    o.insert("locale".into(), json!("en-US"));
                    o.insert("groups".into(), json!([]));
                    o.insert("password".into(), json!(OKTA_PLACEHOLDER_PASSWORD));
                }
            }
            Value::Object(o)
        }

        pub fn manager_set(d: Dialect, manager_id: Option<&str>) -> Option<Value> {
            let path = format!("{ENTERPRISE}:manager");
            let op = match (d, manager_id) {
                (Dialect::Okta(_), _) => return None,
                (Dialect::Entra(d), Some(m)) => d.op(Op::Add, &path, Some(json!(m))),
                (Dialect::Entra(d), None) => d.op(Op::Remove, &path, None),
            };
            Some(patch(vec![op]))
        }

        fn member_path(id: &str) -> String {
            format!("members[value eq {}]", Value::String(id.to_string()))
        }

        fn okta_rename_op(id: &str, display_name: &str) -> Value {
            json!({"op": "replace", "value": {"id": id, "displayName": display_name}})
        }

        pub fn group_put(id: &str, display_name: &str, members: &[Member]) -> Value {
            let ms: Vec<Value> = members.iter().map(|m| json!({"value": m.id, "display": m.display})).collect();
            json!({"schemas": [GROUP_SCHEMA], "id": id, "displayName": display_name, "members": ms})
        }

        pub fn group_rename(d: Dialect, id: &str, display_name: &str, members: &[Member]) -> Value {
            match d {
                Dialect::Entra(d) => patch(vec![d.op(Op::Replace, "displayName", Some(json!(display_name)))]),
                Dialect::Okta(OktaAppKind::Oin) => patch(vec![okta_rename_op(id, display_name)]),
                Dialect::Okta(OktaAppKind::Aiw) => group_put(id, display_name, members),
            }
        }

        pub fn membership_updates(
            d: Dialect,
            id: &str,
            display_name: &str,
            add: &[Member],
            remove: &[Member],
            all_members: &[Member],
            chunk: usize,
        ) -> Vec<(Method, Value)> {
            let chunk = chunk.max(1);
            let req = |ops| (Method::PATCH, patch(ops));
            match d {
                Dialect::Entra(d) => {
                    let mut out = Vec::new();
                    for c in remove.chunks(chunk) {
                        if d == EntraDialect::Default {
                            let v: Vec<Value> = c.iter().map(|m| json!({"value": m.id})).collect();
                            out.push(req(vec![d.op(Op::Remove, "members", Some(Value::Array(v)))]));
                        } else {
                            out.push(req(c.iter().map(|m| d.op(Op::Remove, &member_path(&m.id), None)).collect()));
                        }
                    }
                    for c in add.chunks(chunk) {
                        let v: Vec<Value> = c.iter().map(|m| json!({"$ref": null, "value": m.id})).collect();
                        out.push(req(vec![d.op(Op::Add, "members", Some(Value::Array(v)))]));
                    }
                    out
                }
                Dialect::Okta(OktaAppKind::Oin) => {
                    let changes: Vec<(bool, &Member)> =
                        remove.iter().map(|m| (false, m)).chain(add.iter().map(|m| (true, m))).collect();
                    changes
                        .chunks(chunk)
                        .map(|c| {
                            let mut ops = vec![okta_rename_op(id, display_name)];
                            ops.extend(
                                c.iter()
                                    .filter(|(a, _)| !a)
                                    .map(|(_, m)| json!({"op": "remove", "path": member_path(&m.id)})),
                            );
                            let adds: Vec<Value> = c
                                .iter()
                                .filter(|(a, _)| *a)
                                .map(|(_, m)| json!({"value": m.id, "display": m.display}))
                                .collect();
                            if !adds.is_empty() {
                                ops.push(json!({"op": "add", "path": "members", "value": adds}));
                            }
                            req(ops)
                        })
                        .collect()
                }
                Dialect::Okta(OktaAppKind::Aiw) => {
                    if add.is_empty() && remove.is_empty() {
                        Vec::new()
                    } else {
                        vec![(Method::PUT, group_put(id, display_name, all_members))]
                    }
                }
            }
        }
    }

    /// Text that JSON escapes or that sorts oddly: quotes, backslashes, control characters, non-ASCII.
    const AWKWARD: [&str; 6] = ["plain", "", "quote\"back\\slash", "tab\tnew\nline\u{1}", "Zoë ΟΔΟΣ 🚀", "$ref"];

    fn users() -> Vec<UserAttrs> {
        let mut out = Vec::new();
        for (n, text) in AWKWARD.iter().enumerate() {
            let t = |field: &str| format!("{field}-{text}");
            let grants = match n % 3 {
                0 => None,
                1 => Some(Grants::default()),
                _ => Some(Grants {
                    roles: vec![t("r1"), t("r2")],
                    entitlements: vec![(t("e1"), t("type")), ("e2".into(), (*text).into())],
                }),
            };
            out.push(UserAttrs {
                user_name: t("user"),
                external_id: (*text).into(),
                given_name: (*text).into(),
                family_name: t("family"),
                email: t("mail"),
                title: (*text).into(),
                department: t("dept"),
                employee_number: (*text).into(),
                phone: t("+1"),
                street: t("street"),
                locality: (*text).into(),
                postal_code: t("pc"),
                country: (*text).into(),
                active: n % 2 == 0,
                grants,
            });
        }
        out
    }

    fn members(prefix: &str, n: usize) -> Vec<Member> {
        (0..n)
            .map(|k| Member {
                id: format!("{prefix}{k}-{}", AWKWARD[k % 6]),
                display: format!("{}{k}", AWKWARD[(k + 1) % 6]),
            })
            .collect()
    }

    fn bytes(v: &Value) -> String {
        serde_json::to_string(v).unwrap()
    }

    fn text(b: &[u8]) -> String {
        String::from_utf8(b.to_vec()).unwrap()
    }

    /// Every dialect's user create, Okta's PUT body, manager update, rename, and membership updates (additions,
    /// removals, both, none, in chunks of 1, 2 and more than all): the encoded bytes are the `Value` rendering's,
    /// and the `ScimRequest`'s body is the `Value` built before.
    #[test]
    fn typed_bodies_are_the_bytes_the_value_trees_gave() {
        let mut checked = 0;
        for d in Dialect::ALL {
            for u in users() {
                let want = before::user_create(d, &u);
                let e = d.user_create_encoded(&u);
                assert_eq!((e.method, e.path.as_str()), (Method::POST, "/Users"));
                assert_eq!(e.body.as_deref().map(text), Some(bytes(&want)), "{d} create {}", u.user_name);
                assert_eq!(d.user_create(&u).body, Some(want));
                assert_eq!(user_body(&u), before::user_body(&u));
                checked += 1;
            }
            for m in [Some("m-1"), Some("quote\"d\\ 🚀"), Some(""), None] {
                let want = before::manager_set(d, m);
                let e = d.manager_set_encoded("u\"1", m);
                assert_eq!(e.as_ref().and_then(|e| e.body.as_deref()).map(text), want.as_ref().map(bytes), "{d} {m:?}");
                assert_eq!(d.manager_set("u\"1", m).map(|r| r.body), want.map(Some));
                if let Some(e) = e {
                    assert_eq!((e.method, e.path.as_str()), (Method::PATCH, "/Users/u\"1"));
                }
                checked += 1;
            }
            let all = members("m", 7);
            for (add, remove) in [(5, 0), (0, 5), (3, 4), (0, 0), (1, 1)] {
                let (add, remove) = (members("a", add), members("r", remove));
                for chunk in [0, 1, 2, 100] {
                    for (id, name) in [("g1", "Sales"), ("g\"2", "Zoë \\ ΟΔΟΣ")] {
                        let want = before::membership_updates(d, id, name, &add, &remove, &all, chunk);
                        let got = d.membership_updates_encoded(id, name, &add, &remove, &all, chunk);
                        let got: Vec<(Method, String)> =
                            got.into_iter().map(|e| (e.method, text(&e.body.unwrap()))).collect();
                        let want_bytes: Vec<(Method, String)> = want.iter().map(|(m, v)| (*m, bytes(v))).collect();
                        assert_eq!(got, want_bytes, "{d} chunk {chunk}");
                        let reqs = d.membership_updates(id, name, &add, &remove, &all, chunk);
                        let reqs: Vec<(Method, Value)> =
                            reqs.into_iter().map(|r| (r.method, r.body.unwrap())).collect();
                        assert_eq!(reqs, want);
                        assert!(d
                            .membership_updates_encoded(id, name, &add, &remove, &all, chunk)
                            .iter()
                            .all(|e| e.path == format!("/Groups/{id}")));
                        checked += 1;
                    }
                }
            }
            for (id, name) in [("g1", "Sales"), ("g\"2", "Zoë \\ ΟΔΟΣ")] {
                assert_eq!(d.group_rename(id, name, &all).body, Some(before::group_rename(d, id, name, &all)), "{d}");
            }
        }
        assert_eq!(checked, 4 * (6 + 4 + 5 * 4 * 2));
        assert_eq!(MANAGER_PATH, format!("{ENTERPRISE}:manager"));
    }

    /// A request given as a `ScimRequest` is encoded as its `Value` serializes, and decoded back to it.
    #[test]
    fn an_encoded_request_carries_the_value_it_came_from() {
        let r = Dialect::Okta(OktaAppKind::Oin).user_lookup("a\"b");
        let e = Encoded::from(&r);
        assert_eq!((e.method, &e.path, &e.query, e.body.is_none()), (r.method, &r.path, &r.query, true));
        let c = Dialect::Entra(EntraDialect::Default).user_create(&users()[4]);
        assert_eq!(Encoded::from(&c).body_json(), c.body);
    }
}
