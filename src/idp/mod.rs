//! How Okta and Microsoft Entra ID shape their SCIM requests: the one definition of each IdP's provisioning
//! dialect, used by the simulator to speak it and by the recorder to recognise it.
//!
//! Every builder is pure: it takes the directory's view of a user or group and returns a [`ScimRequest`]
//! (method, path below the base URI, decoded query, JSON body). Sources, by document
//! (`docs/`): Entra = docs/entra.md and docs/engines.md §A; Okta = docs/okta.md and docs/engines.md §B.
//!
//! - Entra, default dialect (job template `scim`): PATCH ops spelled `Add`/`Replace`/`Remove`, one `Replace` per
//!   changed attribute, disable as `"False"` (a string), member removal as `Remove` with a value list
//!   (docs/entra.md §2 table, left column).
//! - Entra with `aadOptscim062020` in the Tenant URL: lower-case ops, boolean `false`, several attributes in one
//!   path-less `replace` whose value has dotted keys and URN keys, member removal by `members[value eq "…"]`
//!   (docs/entra.md §2 table, right column).
//! - Okta OIN apps: profile push is GET then PUT of the server's own body with the edits; (de)activation is a
//!   path-less PATCH `replace {"active": …}`; group push PATCHes carry a rename op with every membership update
//!   (docs/okta.md §2).
//! - Okta App Integration Wizard (AIW) apps: PUT for everything, users and groups (docs/okta.md §2, docs/engines.md §B).

use serde_json::{json, Map, Value};

use crate::exchange::Method;

mod bodies;
pub mod errors;
mod recognise;
mod vocabulary;

use bodies::{Body, CreateBy, DisplayMembers, OpValue, Operation, PatchOp, RefMembers, UserResource, ValueMembers};
pub use bodies::{BodyRef, Encoded, RequestRef, MANAGER_PATH};
pub use recognise::{recognise, recognise_capture, sent_by_idp, CapturedRequest, Evidence, Recognized};
pub use vocabulary::Idp;

/// RFC 7643 §8.7.1 core User schema URN.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// RFC 7643 §8.7.1 core Group schema URN.
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// RFC 7643 §4.3 enterprise User extension URN.
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// RFC 7644 §3.5.2 PatchOp message URN.
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// The extra schema URN on Entra's POST /Groups (docs/entra.md §1 body B).
pub const ENTRA_GROUP_SCHEMA: &str = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";
/// The placeholder password Okta always sends on create (docs/okta.md §2: "password is always sent as a placeholder").
pub const OKTA_PLACEHOLDER_PASSWORD: &str = "1mz050nq";
/// Okta's page size for lookups and imports (docs/okta.md §2: `startIndex=1&count=100`).
pub const OKTA_PAGE: usize = 100;
/// Okta's default number of membership changes per group PATCH (docs/engines.md §B: 100–1000, default 100).
pub const OKTA_DEFAULT_CHUNK: usize = 100;

/// Entra's PATCH dialect (docs/entra.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum EntraDialect {
    /// The default (`scim` job template without the flag): capitalised ops, string booleans.
    Default,
    /// `?aadOptscim062020` on the Tenant URL: RFC-shaped ops.
    #[value(name = "aadOptscim062020")]
    #[serde(rename = "aadOptscim062020")]
    AadOptscim062020,
}

impl EntraDialect {
    /// The query flag on the Tenant URL that switches Entra to the RFC-compliant PATCH dialect (docs/entra.md §2):
    /// the one spelling of `aadOptscim062020` (the clap and serde names above are pinned to it by a test).
    pub const FLAG: &'static str = "aadOptscim062020";

    /// The dialect a Tenant URL selects: [`EntraDialect::AadOptscim062020`] when its query carries
    /// [`EntraDialect::FLAG`], else [`EntraDialect::Default`].
    pub fn of_tenant_url(url: &str) -> EntraDialect {
        let query = url.split_once('?').map_or("", |(_, q)| q);
        if query.split('&').any(|p| p.split('=').next() == Some(Self::FLAG)) {
            EntraDialect::AadOptscim062020
        } else {
            EntraDialect::Default
        }
    }

    /// One PATCH operation (RFC 7644 §3.5.2) as this dialect spells it: the operation name capitalised (`Add`,
    /// `Replace`, `Remove`) in the default dialect, lower case with `aadOptscim062020` (docs/entra.md §2 table);
    /// `path` as given and `value` when there is one.
    pub fn op(self, op: Op, path: &str, value: Option<Value>) -> Value {
        let name = self.op_name(op);
        match value {
            Some(value) => json!({"op": name, "path": path, "value": value}),
            None => json!({"op": name, "path": path}),
        }
    }

    /// A path-less operation (RFC 7644 §3.5.2.3: the value's members name the attributes), spelled as
    /// [`EntraDialect::op`] spells it: how `aadOptscim062020` replaces several attributes at once (docs/entra.md §2).
    pub fn pathless_op(self, op: Op, value: Value) -> Value {
        json!({"op": self.op_name(op), "value": value})
    }

    /// The operation's name in this dialect: `Add`, `Replace`, `Remove` by default, lower case with
    /// `aadOptscim062020` (docs/entra.md §2 table): the one place Entra's op casing is defined.
    pub fn op_name(self, op: Op) -> &'static str {
        match (self, op) {
            (EntraDialect::Default, Op::Add) => "Add",
            (EntraDialect::Default, Op::Replace) => "Replace",
            (EntraDialect::Default, Op::Remove) => "Remove",
            (EntraDialect::AadOptscim062020, Op::Add) => "add",
            (EntraDialect::AadOptscim062020, Op::Replace) => "replace",
            (EntraDialect::AadOptscim062020, Op::Remove) => "remove",
        }
    }
}

/// A PATCH operation's `op` (RFC 7644 §3.5.2: `add`, `remove` or `replace`), spelled by the dialect that sends it
/// ([`EntraDialect::op`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `add` (RFC 7644 §3.5.2.1).
    Add,
    /// `replace` (RFC 7644 §3.5.2.3).
    Replace,
    /// `remove` (RFC 7644 §3.5.2.2).
    Remove,
}

/// Okta's app kind (docs/okta.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum OktaAppKind {
    /// An OIN catalogue app: PATCH for (de)activation and group push.
    Oin,
    /// An App Integration Wizard app: PUT for everything.
    Aiw,
}

/// One IdP dialect: how its provisioning engine shapes every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "idp", content = "variant", rename_all = "camelCase")]
pub enum Dialect {
    /// Microsoft Entra ID.
    Entra(EntraDialect),
    /// Okta.
    Okta(OktaAppKind),
}

impl std::fmt::Display for Dialect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dialect::Entra(EntraDialect::Default) => f.write_str("Entra ID (default dialect)"),
            Dialect::Entra(EntraDialect::AadOptscim062020) => f.write_str("Entra ID (aadOptscim062020)"),
            Dialect::Okta(OktaAppKind::Oin) => f.write_str("Okta (OIN app, PATCH)"),
            Dialect::Okta(OktaAppKind::Aiw) => f.write_str("Okta (App Integration Wizard app, PUT)"),
        }
    }
}

/// A request an IdP sends, relative to the SCIM base URI.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimRequest {
    /// Method.
    pub method: Method,
    /// Path below the base URI (`/Users`, `/Groups/{id}`).
    pub path: String,
    /// Query parameters, not encoded (the profile encodes them in the IdP's style).
    pub query: Vec<(String, String)>,
    /// JSON body.
    pub body: Option<Value>,
}

impl ScimRequest {
    fn new(method: Method, path: String) -> Self {
        ScimRequest { method, path, query: Vec::new(), body: None }
    }
    /// Adds a query parameter (not encoded: the profile encodes it).
    pub fn query(mut self, k: &str, v: impl Into<String>) -> Self {
        self.query.push((k.to_string(), v.into()));
        self
    }
    fn body(mut self, v: Value) -> Self {
        self.body = Some(v);
        self
    }

    /// `PATCH resource` (`/Users/{id}`, `/Groups/{id}`) with `ops` in a PatchOp message (RFC 7644 §3.5.2), the
    /// request every PATCH of both IdPs is.
    pub fn patch(resource: String, ops: Vec<Value>) -> Self {
        ScimRequest::new(Method::PATCH, resource).body(patch(ops))
    }
}

/// A user as the IdP's source directory holds it (the attributes both IdPs map by default).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserAttrs {
    /// `userName` (the matching attribute of both IdPs' default mappings).
    pub user_name: String,
    /// `externalId`: Entra's objectId / Okta's user id.
    pub external_id: String,
    /// `name.givenName`.
    pub given_name: String,
    /// `name.familyName`.
    pub family_name: String,
    /// `emails[type eq "work"].value`.
    pub email: String,
    /// `title`.
    pub title: String,
    /// Enterprise `department`.
    pub department: String,
    /// Enterprise `employeeNumber`.
    pub employee_number: String,
    /// `phoneNumbers[type eq "work"].value`.
    pub phone: String,
    /// `addresses[type eq "work"].streetAddress`.
    pub street: String,
    /// `addresses[type eq "work"].locality`.
    pub locality: String,
    /// `addresses[type eq "work"].postalCode`.
    pub postal_code: String,
    /// `addresses[type eq "work"].country`.
    pub country: String,
    /// `active`.
    pub active: bool,
    /// Okta Identity Governance: the roles and entitlements the user is granted (`None`: the app has none, and
    /// users carry neither attribute).
    pub grants: Option<Grants>,
}

/// A user's roles and entitlements (Okta, "Build a SCIM 2.0 server with entitlements",
/// <https://developer.okta.com/docs/guides/scim-with-entitlements/main/#user-with-entitlements-and-roles>).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Grants {
    /// Role ids (`roles[].value`), sorted.
    pub roles: Vec<String>,
    /// Entitlement ids with their resource type's name (`entitlements[].value`, `.type`), sorted.
    pub entitlements: Vec<(String, String)>,
}

impl UserAttrs {
    /// `displayName`: given and family name.
    pub fn display_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
    }
}

/// A mapped user attribute, with the SCIM path Entra uses for it (docs/entra.md §1–§2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UserAttr {
    /// `userName`.
    UserName,
    /// `displayName`.
    DisplayName,
    /// `name.givenName`.
    GivenName,
    /// `name.familyName`.
    FamilyName,
    /// `emails[type eq "work"].value`.
    Email,
    /// `title`.
    Title,
    /// Enterprise `department`.
    Department,
    /// Enterprise `employeeNumber`.
    EmployeeNumber,
    /// `phoneNumbers[type eq "work"].value`.
    Phone,
    /// `addresses[type eq "work"].streetAddress`.
    Street,
    /// `addresses[type eq "work"].locality`.
    Locality,
    /// `addresses[type eq "work"].postalCode`.
    PostalCode,
    /// `addresses[type eq "work"].country`.
    Country,
    /// `active`.
    Active,
    /// `roles` (their values; only for users with [`UserAttrs::grants`]).
    Roles,
    /// `entitlements` (their values; only for users with [`UserAttrs::grants`]).
    Entitlements,
}

impl UserAttr {
    /// The attributes mapped for `u`: [`UserAttr::ALL`], then `roles` and `entitlements` when it has grants.
    pub fn of(u: &UserAttrs) -> Vec<UserAttr> {
        let mut all = UserAttr::ALL.to_vec();
        if u.grants.is_some() {
            all.extend([UserAttr::Roles, UserAttr::Entitlements]);
        }
        all
    }

    /// [`UserAttr::ALL`], then `roles` and `entitlements`: every attribute a server's user is read for.
    pub const WITH_GRANTS: [UserAttr; 16] = [
        UserAttr::UserName,
        UserAttr::DisplayName,
        UserAttr::GivenName,
        UserAttr::FamilyName,
        UserAttr::Email,
        UserAttr::Title,
        UserAttr::Department,
        UserAttr::EmployeeNumber,
        UserAttr::Phone,
        UserAttr::Street,
        UserAttr::Locality,
        UserAttr::PostalCode,
        UserAttr::Country,
        UserAttr::Active,
        UserAttr::Roles,
        UserAttr::Entitlements,
    ];

    /// Every mapped attribute: [`UserAttr::WITH_GRANTS`] without `roles` and `entitlements`, which are mapped only
    /// for users with grants.
    pub const ALL: &[UserAttr] = UserAttr::WITH_GRANTS.split_at(14).0;

    /// The SCIM attribute path (RFC 7644 §3.10 notation, value filters for typed multi-valued attributes).
    pub fn path(self) -> &'static str {
        match self {
            UserAttr::UserName => "userName",
            UserAttr::DisplayName => "displayName",
            UserAttr::GivenName => "name.givenName",
            UserAttr::FamilyName => "name.familyName",
            UserAttr::Email => "emails[type eq \"work\"].value",
            UserAttr::Title => "title",
            UserAttr::Department => "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
            UserAttr::EmployeeNumber => "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
            UserAttr::Phone => "phoneNumbers[type eq \"work\"].value",
            UserAttr::Street => "addresses[type eq \"work\"].streetAddress",
            UserAttr::Locality => "addresses[type eq \"work\"].locality",
            UserAttr::PostalCode => "addresses[type eq \"work\"].postalCode",
            UserAttr::Country => "addresses[type eq \"work\"].country",
            UserAttr::Active => "active",
            UserAttr::Roles => "roles",
            UserAttr::Entitlements => "entitlements",
        }
    }

    /// The attribute's value in `u`, as JSON.
    pub fn value(self, u: &UserAttrs) -> Value {
        let s = |v: &str| Value::String(v.to_string());
        match self {
            UserAttr::UserName => s(&u.user_name),
            UserAttr::DisplayName => Value::String(u.display_name()),
            UserAttr::GivenName => s(&u.given_name),
            UserAttr::FamilyName => s(&u.family_name),
            UserAttr::Email => s(&u.email),
            UserAttr::Title => s(&u.title),
            UserAttr::Department => s(&u.department),
            UserAttr::EmployeeNumber => s(&u.employee_number),
            UserAttr::Phone => s(&u.phone),
            UserAttr::Street => s(&u.street),
            UserAttr::Locality => s(&u.locality),
            UserAttr::PostalCode => s(&u.postal_code),
            UserAttr::Country => s(&u.country),
            UserAttr::Active => Value::Bool(u.active),
            // compared as the sorted list of values, the way [`UserAttr::read`] reads them
            UserAttr::Roles => u.grants.as_ref().map_or(Value::Null, |g| json!(g.roles)),
            UserAttr::Entitlements => u.grants.as_ref().map_or(Value::Null, |g| {
                let mut v: Vec<&str> = g.entitlements.iter().map(|(id, _)| id.as_str()).collect();
                v.sort_unstable();
                json!(v)
            }),
        }
    }

    /// Reads the attribute from a server's User representation (`None` when absent). Names and typed
    /// multi-valued entries are matched case-insensitively (RFC 7643 §2.1).
    pub fn read(self, user: &Value) -> Option<Value> {
        let typed = |attr: &str, sub: &str| -> Option<Value> {
            let list = get_ci(user, attr)?.as_array()?;
            let entry = list
                .iter()
                .find(|e| get_ci(e, "type").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case("work")))
                .or_else(|| (list.len() == 1).then(|| &list[0]))?;
            get_ci(entry, sub).cloned()
        };
        let ext = |sub: &str| get_ci(user, ENTERPRISE).and_then(|e| get_ci(e, sub)).cloned();
        match self {
            UserAttr::UserName => get_ci(user, "userName").cloned(),
            UserAttr::DisplayName => get_ci(user, "displayName").cloned(),
            UserAttr::GivenName => get_ci(user, "name").and_then(|n| get_ci(n, "givenName")).cloned(),
            UserAttr::FamilyName => get_ci(user, "name").and_then(|n| get_ci(n, "familyName")).cloned(),
            UserAttr::Email => typed("emails", "value"),
            UserAttr::Title => get_ci(user, "title").cloned(),
            UserAttr::Department => ext("department"),
            UserAttr::EmployeeNumber => ext("employeeNumber"),
            UserAttr::Phone => typed("phoneNumbers", "value"),
            UserAttr::Street => typed("addresses", "streetAddress"),
            UserAttr::Locality => typed("addresses", "locality"),
            UserAttr::PostalCode => typed("addresses", "postalCode"),
            UserAttr::Country => typed("addresses", "country"),
            UserAttr::Active => get_ci(user, "active").cloned(),
            UserAttr::Roles | UserAttr::Entitlements => {
                let list = get_ci(user, self.path())?.as_array()?;
                let mut v: Vec<&str> = list.iter().filter_map(|e| get_ci(e, "value").and_then(Value::as_str)).collect();
                v.sort_unstable();
                Some(json!(v))
            }
        }
    }

    /// Whether Entra can carry it as a key of a path-less `replace` value (no value filter in the path).
    fn pathless(self) -> bool {
        !self.path().contains('[')
    }
}

/// Case-insensitive member of a JSON object (RFC 7643 §2.1: attribute names are case-insensitive).
pub fn get_ci<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    let o = v.as_object()?;
    o.get(key).or_else(|| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

/// The attributes whose values differ between two versions of a user.
pub fn changed_attrs(old: &UserAttrs, new: &UserAttrs) -> Vec<UserAttr> {
    UserAttr::of(new).into_iter().filter(|a| a.value(old) != a.value(new)).collect()
}

/// A member of a group as the IdP sends it: the server's id and a display text.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// The server's id of the user.
    pub id: String,
    /// The user's userName (Okta sends it as `display`).
    pub display: String,
}

fn patch(ops: Vec<Value>) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": ops})
}

fn user_path(id: &str) -> String {
    format!("/Users/{id}")
}

fn group_path(id: &str) -> String {
    format!("/Groups/{id}")
}

/// The full SCIM User body from the source attributes, as Okta's PUT writes it over the server's body
/// ([`UserResource`], also Entra's and Okta's POST).
fn user_body(u: &UserAttrs) -> Map<String, Value> {
    match Body::User(UserResource::of(u, CreateBy::Nobody)).value() {
        Value::Object(o) => o,
        _ => unreachable!("a resource is an object"),
    }
}

impl Dialect {
    /// Every dialect: Entra's two, then Okta's two.
    pub const ALL: [Dialect; 4] = [
        Dialect::Entra(EntraDialect::Default),
        Dialect::Entra(EntraDialect::AadOptscim062020),
        Dialect::Okta(OktaAppKind::Oin),
        Dialect::Okta(OktaAppKind::Aiw),
    ];

    /// Whether this is an Entra dialect.
    pub fn is_entra(self) -> bool {
        matches!(self, Dialect::Entra(_))
    }

    /// The scenario IdP whose headers this dialect sends.
    pub fn idp(self) -> Idp {
        match self {
            Dialect::Entra(_) => Idp::Entra,
            Dialect::Okta(_) => Idp::Okta,
        }
    }

    /// The tag a recorded scenario in this dialect carries (`entra-default-dialect`, `aadOptscim062020`,
    /// `okta-oin`, `okta-aiw`).
    pub fn tag(self) -> &'static str {
        match self {
            Dialect::Entra(EntraDialect::Default) => "entra-default-dialect",
            Dialect::Entra(EntraDialect::AadOptscim062020) => EntraDialect::FLAG,
            Dialect::Okta(OktaAppKind::Oin) => "okta-oin",
            Dialect::Okta(OktaAppKind::Aiw) => "okta-aiw",
        }
    }

    /// Lookup before create, on the matching attribute `userName`. Entra: `filter` only (docs/entra.md §1 "Get User
    /// by query"); Okta: `filter`, `startIndex=1`, `count=100` (docs/okta.md §2 "Lookup before create").
    pub fn user_lookup(self, user_name: &str) -> ScimRequest {
        let r = ScimRequest::new(Method::GET, "/Users".into()).query("filter", eq_filter("userName", user_name));
        match self {
            Dialect::Entra(_) => r,
            Dialect::Okta(_) => r.query("startIndex", "1").query("count", OKTA_PAGE.to_string()),
        }
    }

    /// POST /Users. Entra: externalId, `active`, `meta.resourceType`, `roles: []` (docs/entra.md §1 body A).
    /// Okta: placeholder `password`, `locale`, `groups: []` (docs/okta.md §2 "Create user").
    pub fn user_create(self, u: &UserAttrs) -> ScimRequest {
        ScimRequest::new(Method::POST, "/Users".into()).body(self.user_create_body(u).value())
    }

    /// [`Dialect::user_create`] with its body as the bytes sent ([`Encoded`]).
    pub fn user_create_encoded(self, u: &UserAttrs) -> Encoded {
        Encoded::new(Method::POST, "/Users".into(), &self.user_create_body(u))
    }

    fn user_create_body(self, u: &UserAttrs) -> Body<'_> {
        let by = match self {
            Dialect::Entra(_) => CreateBy::Entra,
            Dialect::Okta(_) => CreateBy::Okta,
        };
        Body::User(UserResource::of(u, by))
    }

    /// Whether a profile update first reads the user (Okta: GET /Users/{id}, then PUT its body; docs/okta.md §2).
    pub fn update_reads_first(self) -> bool {
        matches!(self, Dialect::Okta(_))
    }

    /// A profile update of the changed attributes `attrs` of `u` (`active` included or not).
    ///
    /// Entra default: one `Replace` per attribute, each with its path; `active` as `"True"`/`"False"`
    /// (docs/entra.md §2 default-mode multi-replace). Entra `aadOptscim062020`: value-filter paths as their own
    /// `replace` ops, every other attribute in one path-less `replace` with dotted and URN keys (docs/entra.md §2).
    /// Okta (both kinds): PUT of the server's current body (`current`, from the preceding GET) with the source
    /// attributes written over it, read-only fields echoed (docs/okta.md §2 "Profile update").
    pub fn user_update(self, id: &str, u: &UserAttrs, attrs: &[UserAttr], current: Option<&Value>) -> ScimRequest {
        match self {
            Dialect::Entra(EntraDialect::Default) => {
                let ops = attrs
                    .iter()
                    .map(|a| {
                        let v = match a {
                            UserAttr::Active => json!(if u.active { "True" } else { "False" }),
                            _ => a.value(u),
                        };
                        EntraDialect::Default.op(Op::Replace, a.path(), Some(v))
                    })
                    .collect();
                ScimRequest::new(Method::PATCH, user_path(id)).body(patch(ops))
            }
            Dialect::Entra(d @ EntraDialect::AadOptscim062020) => {
                let mut ops: Vec<Value> = attrs
                    .iter()
                    .filter(|a| !a.pathless())
                    .map(|a| d.op(Op::Replace, a.path(), Some(a.value(u))))
                    .collect();
                let keyed: Map<String, Value> =
                    attrs.iter().filter(|a| a.pathless()).map(|a| (a.path().to_string(), a.value(u))).collect();
                if keyed.len() == 1 {
                    let (k, v) = keyed.into_iter().next().expect("one entry");
                    ops.push(d.op(Op::Replace, &k, Some(v)));
                } else if !keyed.is_empty() {
                    ops.push(d.pathless_op(Op::Replace, Value::Object(keyed)));
                }
                ScimRequest::new(Method::PATCH, user_path(id)).body(patch(ops))
            }
            Dialect::Okta(_) => {
                let mut body = current.and_then(Value::as_object).cloned().unwrap_or_default();
                for (k, v) in user_body(u) {
                    match (body.get_mut(&k), v) {
                        (Some(Value::Object(old)), Value::Object(new)) => old.extend(new),
                        (_, v) => {
                            body.insert(k, v);
                        }
                    }
                }
                body.insert("id".into(), json!(id));
                ScimRequest::new(Method::PUT, user_path(id)).body(Value::Object(body))
            }
        }
    }

    /// Soft delete or restore (`active` false/true) on unassignment, out-of-scope or reassignment.
    /// Entra default: `Replace active "False"`; `aadOptscim062020`: `replace active false` (docs/entra.md §2).
    /// Okta OIN: path-less `replace {"active": false}` (docs/okta.md §2 "Deactivate"); Okta AIW: PUT of the server's
    /// body with `active` changed (docs/okta.md §2: "AIW apps use PUT for everything").
    pub fn user_set_active(self, id: &str, active: bool, current: Option<&Value>) -> ScimRequest {
        let req = |ops| ScimRequest::new(Method::PATCH, user_path(id)).body(patch(ops));
        match self {
            Dialect::Entra(d @ EntraDialect::Default) => {
                req(vec![d.op(Op::Replace, "active", Some(json!(if active { "True" } else { "False" })))])
            }
            Dialect::Entra(d @ EntraDialect::AadOptscim062020) => {
                req(vec![d.op(Op::Replace, "active", Some(json!(active)))])
            }
            Dialect::Okta(OktaAppKind::Oin) => req(vec![json!({"op": "replace", "value": {"active": active}})]),
            Dialect::Okta(OktaAppKind::Aiw) => {
                let mut body = current.and_then(Value::as_object).cloned().unwrap_or_default();
                body.insert("active".into(), json!(active));
                body.insert("id".into(), json!(id));
                ScimRequest::new(Method::PUT, user_path(id)).body(Value::Object(body))
            }
        }
    }

    /// Whether a (de)activation first reads the user (Okta AIW PUTs the whole object).
    pub fn set_active_reads_first(self) -> bool {
        matches!(self, Dialect::Okta(OktaAppKind::Aiw))
    }

    /// Hard delete. Entra: DELETE /Users/{id} (docs/entra.md §1 "Delete User"; docs/engines.md §A: 30 days after soft
    /// delete). Okta never deletes users (docs/okta.md §2): `None`.
    pub fn user_delete(self, id: &str) -> Option<ScimRequest> {
        match self {
            Dialect::Entra(_) => Some(ScimRequest::new(Method::DELETE, user_path(id))),
            Dialect::Okta(_) => None,
        }
    }

    /// The manager reference update Entra sends after the users exist: `Add` (or `add`) on the enterprise
    /// `manager` path with the manager's id as a bare string (docs/entra.md §2 "Manager"); removal is `Remove` on the
    /// path. Okta pushes no manager reference by default: `None`.
    pub fn manager_set(self, id: &str, manager_id: Option<&str>) -> Option<ScimRequest> {
        Some(ScimRequest::new(Method::PATCH, user_path(id)).body(self.manager_body(manager_id)?.value()))
    }

    /// [`Dialect::manager_set`] with its body as the bytes sent ([`Encoded`]).
    pub fn manager_set_encoded(self, id: &str, manager_id: Option<&str>) -> Option<Encoded> {
        Some(Encoded::new(Method::PATCH, user_path(id), &self.manager_body(manager_id)?))
    }

    fn manager_body(self, manager_id: Option<&str>) -> Option<Body<'_>> {
        let Dialect::Entra(d) = self else { return None };
        let op = match manager_id {
            Some(m) => {
                Operation { op: d.op_name(Op::Add), path: Some(MANAGER_PATH.into()), value: Some(OpValue::Str(m)) }
            }
            None => Operation { op: d.op_name(Op::Remove), path: Some(MANAGER_PATH.into()), value: None },
        };
        Some(Body::Patch(PatchOp(vec![op])))
    }

    /// Group lookup by `displayName`. Entra always adds `excludedAttributes=members` (docs/entra.md §1 "Get Group by
    /// displayName"); Okta filters only when it does not know the id (docs/engines.md §B "Groups").
    pub fn group_lookup(self, display_name: &str) -> ScimRequest {
        let r = ScimRequest::new(Method::GET, "/Groups".into());
        match self {
            Dialect::Entra(_) => {
                r.query("excludedAttributes", "members").query("filter", eq_filter("displayName", display_name))
            }
            Dialect::Okta(_) => r.query("filter", eq_filter("displayName", display_name)),
        }
    }

    /// POST /Groups, created empty. Entra: the ADSCIM schema URN, externalId, `meta.resourceType` and no
    /// `members` (docs/entra.md §1 body B); Okta: `members: []` (docs/okta.md §2 "Group push").
    pub fn group_create(self, display_name: &str, external_id: &str) -> ScimRequest {
        let body = match self {
            Dialect::Entra(_) => json!({"schemas": [GROUP_SCHEMA, ENTRA_GROUP_SCHEMA], "externalId": external_id,
                                        "displayName": display_name, "meta": {"resourceType": "Group"}}),
            Dialect::Okta(_) => json!({"schemas": [GROUP_SCHEMA], "displayName": display_name, "members": []}),
        };
        ScimRequest::new(Method::POST, "/Groups".into()).body(body)
    }

    /// A group rename. Entra: `Replace displayName` (docs/entra.md §1 "Update Group [non-member]"). Okta OIN: the
    /// rename op whose value carries `id` (docs/okta.md §2). Okta AIW: PUT of the whole group (`members` given).
    pub fn group_rename(self, id: &str, display_name: &str, members: &[Member]) -> ScimRequest {
        match self {
            Dialect::Entra(d) => {
                ScimRequest::patch(group_path(id), vec![d.op(Op::Replace, "displayName", Some(json!(display_name)))])
            }
            Dialect::Okta(OktaAppKind::Oin) => ScimRequest::new(Method::PATCH, group_path(id))
                .body(Body::Patch(PatchOp(vec![okta_rename(id, display_name)])).value()),
            Dialect::Okta(OktaAppKind::Aiw) => self.group_put(id, display_name, members),
        }
    }

    /// Membership changes, split into requests of at most `chunk` changes (at least 1).
    ///
    /// Entra: additions as one `Add` on `members` with a value list of `{"$ref": null, "value": id}` per request;
    /// removals as `Remove` with a value list (default) or one `remove` per member with `members[value eq "…"]`
    /// (`aadOptscim062020`) (docs/entra.md §1 and §2). Microsoft does not publish how many members one PATCH carries
    /// (docs/engines.md §A); the simulator uses `chunk`.
    /// Okta OIN: per chunk, the rename op, the removals as `members[value eq "…"]`, then one `add` with
    /// `{value, display}` entries (docs/okta.md §2 "membership", docs/engines.md §B "a rename PATCH accompanies every
    /// membership update"). Okta AIW: one PUT of the whole group with its final `members` (`all_members`).
    pub fn membership_updates(
        self,
        id: &str,
        display_name: &str,
        add: &[Member],
        remove: &[Member],
        all_members: &[Member],
        chunk: usize,
    ) -> Vec<ScimRequest> {
        self.membership_bodies(id, display_name, add, remove, all_members, chunk)
            .into_iter()
            .map(|(method, body)| ScimRequest::new(method, group_path(id)).body(body.value()))
            .collect()
    }

    /// [`Dialect::membership_updates`] with their bodies as the bytes sent ([`Encoded`]).
    pub fn membership_updates_encoded(
        self,
        id: &str,
        display_name: &str,
        add: &[Member],
        remove: &[Member],
        all_members: &[Member],
        chunk: usize,
    ) -> Vec<Encoded> {
        self.membership_bodies(id, display_name, add, remove, all_members, chunk)
            .into_iter()
            .map(|(method, body)| Encoded::new(method, group_path(id), &body))
            .collect()
    }

    /// The method and body of each request of [`Dialect::membership_updates`], all on `/Groups/{id}`.
    fn membership_bodies<'a>(
        self,
        id: &'a str,
        display_name: &'a str,
        add: &'a [Member],
        remove: &'a [Member],
        all_members: &'a [Member],
        chunk: usize,
    ) -> Vec<(Method, Body<'a>)> {
        let chunk = chunk.max(1);
        let patch = |ops| (Method::PATCH, Body::Patch(PatchOp(ops)));
        let members = Some(std::borrow::Cow::Borrowed("members"));
        match self {
            Dialect::Entra(d) => {
                let mut out = Vec::new();
                for c in remove.chunks(chunk) {
                    if d == EntraDialect::Default {
                        let value = Some(OpValue::ValueMembers(ValueMembers(c)));
                        out.push(patch(vec![Operation { op: d.op_name(Op::Remove), path: members.clone(), value }]));
                    } else {
                        let remove_one = |m: &Member| Operation {
                            op: d.op_name(Op::Remove),
                            path: Some(member_path(&m.id).into()),
                            value: None,
                        };
                        out.push(patch(c.iter().map(remove_one).collect()));
                    }
                }
                for c in add.chunks(chunk) {
                    let value = Some(OpValue::RefMembers(RefMembers(c)));
                    out.push(patch(vec![Operation { op: d.op_name(Op::Add), path: members.clone(), value }]));
                }
                out
            }
            Dialect::Okta(OktaAppKind::Oin) => {
                let changes: Vec<(bool, &Member)> =
                    remove.iter().map(|m| (false, m)).chain(add.iter().map(|m| (true, m))).collect();
                changes
                    .chunks(chunk)
                    .map(|c| {
                        let mut ops = vec![okta_rename(id, display_name)];
                        ops.extend(c.iter().filter(|(a, _)| !a).map(|(_, m)| Operation {
                            op: "remove",
                            path: Some(member_path(&m.id).into()),
                            value: None,
                        }));
                        let adds: Vec<&Member> = c.iter().filter(|(a, _)| *a).map(|(_, m)| *m).collect();
                        if !adds.is_empty() {
                            let value = Some(OpValue::DisplayMembers(DisplayMembers(adds)));
                            ops.push(Operation { op: "add", path: members.clone(), value });
                        }
                        patch(ops)
                    })
                    .collect()
            }
            Dialect::Okta(OktaAppKind::Aiw) => {
                if add.is_empty() && remove.is_empty() {
                    Vec::new()
                } else {
                    vec![(Method::PUT, group_put_body(id, display_name, all_members))]
                }
            }
        }
    }

    fn group_put(self, id: &str, display_name: &str, members: &[Member]) -> ScimRequest {
        ScimRequest::new(Method::PUT, group_path(id)).body(group_put_body(id, display_name, members).value())
    }

    /// DELETE /Groups/{id} (docs/entra.md §1; Okta only when the admin unlinks and deletes the pushed group).
    pub fn group_delete(self, id: &str) -> ScimRequest {
        ScimRequest::new(Method::DELETE, group_path(id))
    }

    /// One page of an import or a read-back: `startIndex` (1-based) and `count` (docs/okta.md §2 "Import paging").
    /// Entra's group reads exclude members; a reconciliation that needs them asks for them explicitly.
    pub fn page(self, collection: &str, start_index: usize, count: usize) -> ScimRequest {
        ScimRequest::new(Method::GET, format!("/{collection}"))
            .query("startIndex", start_index.to_string())
            .query("count", count.to_string())
    }
}

/// `attr eq "value"` with `"` and `\` escaped (RFC 7644 §3.4.2.2, JSON string rules).
pub fn eq_filter(attr: &str, value: &str) -> String {
    format!("{attr} eq {}", Value::String(value.to_string()))
}

fn member_path(id: &str) -> String {
    format!("members[value eq {}]", Value::String(id.to_string()))
}

/// Okta's rename op, whose value carries `id` (docs/okta.md §2).
fn okta_rename<'a>(id: &'a str, display_name: &'a str) -> Operation<'a> {
    Operation { op: "replace", path: None, value: Some(OpValue::Rename { display_name, id }) }
}

/// Okta AIW's PUT of a whole group with `members` (docs/okta.md §2).
fn group_put_body<'a>(id: &'a str, display_name: &'a str, members: &'a [Member]) -> Body<'a> {
    Body::Group(bodies::GroupResource {
        display_name,
        id,
        members: DisplayMembers(members.iter().collect()),
        schemas: [GROUP_SCHEMA],
    })
}

#[cfg(test)]
mod tests;
