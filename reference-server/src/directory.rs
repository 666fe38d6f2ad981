//! One tenant's users and groups with SCIM semantics: uniqueness (RFC 7643 §2.2), membership integrity,
//! versions (RFC 7644 §3.14), soft deletion of users, and list queries with filtering, sorting and paging
//! (RFC 7644 §3.4.2). Free of HTTP types; every write runs under the tenant's lock, so it is atomic.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::clock::{format_datetime, SharedClock, SystemClock};
use crate::error::{ScimError, ScimResult};
use crate::filter::{self, Filter};
use crate::schema::ResourceKind;
use crate::store::{Index, IndexKeys, MemoryStore, Record, Store};
use crate::{patch, resource};

/// Paging limits advertised in `/ServiceProviderConfig` (RFC 7643 §5 `filter.maxResults`).
#[derive(Debug, Clone, Copy)]
pub struct DirectoryConfig {
    /// The largest page the server returns; larger `count`s are capped (RFC 7644 §3.4.2.4).
    pub max_results: usize,
}

impl Default for DirectoryConfig {
    fn default() -> Self {
        DirectoryConfig { max_results: 1000 }
    }
}

/// A list request, shared by GET on a resource endpoint and POST `.search` (RFC 7644 §3.4.2, §3.4.3).
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub filter: Option<String>,
    /// 1-based; values below 1 are treated as 1 (RFC 7644 §3.4.2.4).
    pub start_index: Option<i64>,
    /// Negative values are treated as 0; values above `max_results` are capped.
    pub count: Option<i64>,
    pub sort_by: Option<String>,
    pub descending: bool,
}

/// One page of results with the total number of matches.
#[derive(Debug, Clone)]
pub struct ListPage {
    pub total_results: usize,
    pub start_index: usize,
    pub resources: Vec<(ResourceKind, Value)>,
}

/// The weak entity tag of a version (RFC 7644 §3.14).
pub fn etag(version: u64) -> String {
    format!("W/\"{version}\"")
}

/// What happened to a user, as told to [`PortalHooks`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserEvent {
    /// Created through SCIM.
    Created,
    /// A user deleted through SCIM was provisioned again and restored.
    Restored,
    /// Its attributes changed (PUT, PATCH, profile edit).
    Updated,
    /// Its group memberships, or the names of its groups, changed.
    MembershipChanged,
    /// Deleted through SCIM: deactivated and hidden.
    Deleted,
}

/// Portal logic that rides along with directory writes (licences, access state). Hooks are called under the
/// directory's write lock, so they run one at a time per tenant and see writes in order.
pub trait PortalHooks: Send + Sync + std::fmt::Debug {
    /// A user changed. `user` is its SCIM body with derived `groups`; `group_names` are its groups' names;
    /// `source_app` is the provisioning app of the request (None outside SCIM).
    fn user_changed(&self, id: Uuid, user: &Value, group_names: &[String], source_app: Option<&str>, event: UserEvent);
    /// Read-only attributes the portal adds to the user's SCIM representation, as `(schema URN, object)`.
    fn user_extension(&self, id: Uuid) -> Option<(&'static str, Value)>;
}

/// A stored user with its portal flags, for the admin API.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub body: Value,
    /// Deleted through SCIM (hidden, inactive).
    pub deleted: bool,
    /// A protected local account (owner, administrator).
    pub protected: bool,
}

fn protected_error() -> ScimError {
    ScimError::Forbidden("protected accounts (the owner and administrators) cannot be managed through SCIM".into())
}

/// For writes made through the admin API (local accounts, profile edits), a userName held by a protected
/// account is a plain uniqueness conflict, not a refusal of SCIM management.
fn admin_conflict(e: ScimError, admin: bool) -> ScimError {
    match e {
        ScimError::Forbidden(_) if admin => {
            ScimError::Uniqueness("userName is already in use by a local account".into())
        }
        e => e,
    }
}

/// A directory: users and groups of one tenant.
#[derive(Debug)]
pub struct Directory {
    state: RwLock<State>,
    clock: SharedClock,
    config: DirectoryConfig,
}

#[derive(Debug)]
struct State {
    store: Box<dyn Store>,
    version: u64,
    /// member id (user or group) → ids of the groups it is a direct member of.
    memberships: HashMap<Uuid, Vec<Uuid>>,
    /// group id → displayName, for rendering a user's `groups`.
    group_names: HashMap<Uuid, String>,
    hooks: Option<Arc<dyn PortalHooks>>,
}

fn parse_id(id: &str) -> Option<Uuid> {
    Uuid::parse_str(id).ok()
}

fn not_found(kind: ResourceKind, id: &str) -> ScimError {
    let shown: String = id.chars().take(80).collect();
    ScimError::NotFound(format!("{} {shown} not found", kind.resource_type().name))
}

fn body_of(record: &Record) -> ScimResult<Value> {
    serde_json::from_str(&record.body).map_err(|e| ScimError::Internal(format!("stored body unreadable: {e}")))
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn index_keys(kind: ResourceKind, body: &Value) -> IndexKeys {
    let name_attr = match kind {
        ResourceKind::User => "userName",
        ResourceKind::Group => "displayName",
    };
    IndexKeys {
        name: str_at(body, name_attr).map(str::to_string),
        external_id: str_at(body, "externalId").map(str::to_string),
    }
}

fn member_ids(body: &Value) -> Vec<Uuid> {
    let mut ids = Vec::new();
    if let Some(members) = body.get("members").and_then(Value::as_array) {
        for m in members {
            if let Some(id) = m.get("value").and_then(Value::as_str).and_then(parse_id) {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
    }
    ids
}

/// Whether an `If-Match` / `If-None-Match` header value names the current entity tag (RFC 7644 §3.14, RFC 9110
/// §13.1): `*` matches any; otherwise one of the comma-separated tags must equal it under weak comparison
/// (`W/` prefixes and quotes ignored).
pub fn etag_matches(header: &str, current: &str) -> bool {
    let opaque = |t: &str| t.trim().trim_start_matches("W/").trim_matches('"').to_string();
    let current = opaque(current);
    header.split(',').map(str::trim).any(|tag| tag == "*" || opaque(tag) == current)
}

impl State {
    fn visible(&self, kind: ResourceKind, id: &str) -> ScimResult<&Record> {
        parse_id(id).and_then(|u| self.store.get(kind, &u)).filter(|r| !r.hidden).ok_or_else(|| not_found(kind, id))
    }

    /// A record a SCIM write may target: protected accounts are refused with 403.
    fn writable(&self, kind: ResourceKind, id: &str) -> ScimResult<&Record> {
        let rec = parse_id(id).and_then(|u| self.store.get(kind, &u)).ok_or_else(|| not_found(kind, id))?;
        if rec.protected {
            return Err(protected_error());
        }
        if rec.hidden {
            return Err(not_found(kind, id));
        }
        Ok(rec)
    }

    fn group_names_of(&self, id: &Uuid) -> Vec<String> {
        self.memberships
            .get(id)
            .map(|gs| gs.iter().filter_map(|g| self.group_names.get(g).cloned()).collect())
            .unwrap_or_default()
    }

    /// Tells the portal hooks about a user.
    fn notify(&self, id: Uuid, event: UserEvent, source_app: Option<&str>) -> ScimResult<()> {
        let Some(hooks) = &self.hooks else { return Ok(()) };
        let Some(rec) = self.store.get(ResourceKind::User, &id) else { return Ok(()) };
        let body = self.with_groups(&id, body_of(rec)?);
        hooks.user_changed(id, &body, &self.group_names_of(&id), source_app, event);
        Ok(())
    }

    /// Users whose group memberships (or their groups' names) changed: their derived `groups` attribute is part
    /// of their representation, so each gets a new version and `lastModified` (RFC 7644 §3.14), and the portal
    /// hooks are told.
    fn members_changed(&mut self, ids: impl IntoIterator<Item = Uuid>, now: &str) -> ScimResult<()> {
        for id in ids {
            let Some(rec) = self.store.get(ResourceKind::User, &id).filter(|r| !r.hidden) else { continue };
            let mut body = body_of(rec)?;
            let version = self.next_version();
            set_meta(&mut body, None, now, version);
            let keys = index_keys(ResourceKind::User, &body);
            let record = Record { id, version, hidden: false, protected: false, body: body.to_string().into() };
            self.store.update(ResourceKind::User, record, keys);
            self.notify(id, UserEvent::MembershipChanged, None)?;
        }
        Ok(())
    }

    fn next_version(&mut self) -> u64 {
        self.version += 1;
        self.version
    }

    /// Adds the derived `groups` attribute to a user body (RFC 7643 §4.1.2: read-only, from membership).
    fn with_groups(&self, id: &Uuid, mut body: Value) -> Value {
        if let Some(groups) = self.memberships.get(id).filter(|g| !g.is_empty()) {
            let list: Vec<Value> = groups
                .iter()
                .map(|g| {
                    let mut e = json!({"value": g.to_string(), "type": "direct"});
                    if let Some(name) = self.group_names.get(g) {
                        e["display"] = Value::String(name.clone());
                    }
                    e
                })
                .collect();
            if let Some(obj) = body.as_object_mut() {
                obj.insert("groups".into(), Value::Array(list));
            }
        }
        if let Some((urn, ext)) = self.hooks.as_ref().and_then(|h| h.user_extension(*id)) {
            if let Some(obj) = body.as_object_mut() {
                let target = obj.entry(urn.to_string()).or_insert_with(|| json!({}));
                if let (Some(t), Value::Object(ext)) = (target.as_object_mut(), ext) {
                    t.extend(ext);
                }
                if let Some(schemas) = obj.get_mut("schemas").and_then(Value::as_array_mut) {
                    if !schemas.iter().any(|s| s == urn) {
                        schemas.push(Value::String(urn.to_string()));
                    }
                }
            }
        }
        body
    }

    fn render(&self, kind: ResourceKind, record: &Record) -> ScimResult<Value> {
        let body = body_of(record)?;
        Ok(match kind {
            ResourceKind::User => self.with_groups(&record.id, body),
            ResourceKind::Group => body,
        })
    }

    /// Enforces server uniqueness of userName / group displayName (case-insensitive). Returns a hidden
    /// user with the same userName or externalId, if any, which a create restores instead of duplicating.
    fn check_unique(&self, kind: ResourceKind, self_id: Option<Uuid>, body: &Value) -> ScimResult<Option<Uuid>> {
        let keys = index_keys(kind, body);
        let mut hidden_match = None;
        if let Some(name) = &keys.name {
            for r in self.store.lookup(kind, Index::Name, name) {
                if Some(r.id) == self_id {
                    continue;
                }
                if r.protected {
                    return Err(protected_error());
                }
                if r.hidden {
                    hidden_match = Some(r.id);
                    continue;
                }
                let what = match kind {
                    ResourceKind::User => "userName",
                    ResourceKind::Group => "displayName",
                };
                return Err(ScimError::Uniqueness(format!("{what} '{name}' is already in use")));
            }
        }
        if hidden_match.is_none() && kind == ResourceKind::User {
            if let Some(ext) = &keys.external_id {
                // Only users deleted through SCIM are restored; protected accounts are hidden too, but a
                // create must never take one over.
                hidden_match = self
                    .store
                    .lookup(kind, Index::ExternalId, ext)
                    .into_iter()
                    .find(|r| Some(r.id) != self_id && r.hidden && !r.protected)
                    .map(|r| r.id);
            }
        }
        Ok(hidden_match)
    }

    /// Validates group members (RFC 7643 §4.2): each must be an existing, visible user or group other than
    /// the group itself; fills `type` and, when absent, `display`. Duplicates collapse.
    fn resolve_members(&self, group_id: Uuid, body: &mut Value) -> ScimResult<()> {
        let Some(members) = body.get_mut("members").and_then(Value::as_array_mut) else {
            return Ok(());
        };
        let mut seen = Vec::new();
        let mut out = Vec::with_capacity(members.len());
        for m in members.drain(..) {
            let Value::Object(mut m) = m else {
                return Err(ScimError::InvalidValue("each member must be an object with a 'value'".into()));
            };
            let raw = m.get("value").and_then(Value::as_str).unwrap_or_default().to_string();
            let id = parse_id(&raw).ok_or_else(|| ScimError::InvalidValue(format!("member '{raw}' does not exist")))?;
            if id == group_id {
                return Err(ScimError::InvalidValue("a group cannot be a member of itself".into()));
            }
            if seen.contains(&id) {
                continue;
            }
            seen.push(id);
            if self.store.get(ResourceKind::User, &id).is_some_and(|r| r.protected) {
                return Err(protected_error());
            }
            let (kind, record) = if let Some(r) = self.store.get(ResourceKind::User, &id).filter(|r| !r.hidden) {
                (ResourceKind::User, r)
            } else if let Some(r) = self.store.get(ResourceKind::Group, &id) {
                (ResourceKind::Group, r)
            } else {
                return Err(ScimError::InvalidValue(format!("member '{raw}' does not exist")));
            };
            let declared = m.get("type").and_then(Value::as_str).map(str::to_string);
            let actual = kind.resource_type().name;
            if let Some(t) = declared.filter(|t| !t.eq_ignore_ascii_case(actual)) {
                return Err(ScimError::InvalidValue(format!("member '{raw}' is a {actual}, not a {t}")));
            }
            m.insert("value".into(), Value::String(id.to_string()));
            m.insert("type".into(), Value::String(actual.to_string()));
            if !m.contains_key("display") {
                let b = body_of(record)?;
                let display = match kind {
                    ResourceKind::User => str_at(&b, "displayName").or_else(|| str_at(&b, "userName")),
                    ResourceKind::Group => str_at(&b, "displayName"),
                };
                if let Some(d) = display {
                    m.insert("display".into(), Value::String(d.to_string()));
                }
            }
            m.remove("$ref");
            out.push(Value::Object(m));
        }
        *members = out;
        if members.is_empty() {
            if let Some(o) = body.as_object_mut() {
                o.remove("members");
            }
        }
        Ok(())
    }

    fn set_memberships(&mut self, group: Uuid, old: &[Uuid], new: &[Uuid]) {
        for m in old.iter().filter(|m| !new.contains(m)) {
            if let Some(gs) = self.memberships.get_mut(m) {
                gs.retain(|g| *g != group);
                if gs.is_empty() {
                    self.memberships.remove(m);
                }
            }
        }
        for m in new.iter().filter(|m| !old.contains(m)) {
            self.memberships.entry(*m).or_default().push(group);
        }
    }

    /// Removes `member` from every group that lists it (used when a user or group disappears).
    fn drop_member_everywhere(&mut self, member: Uuid, now: &str) -> ScimResult<()> {
        let groups = self.memberships.remove(&member).unwrap_or_default();
        for g in groups {
            let Some(rec) = self.store.get(ResourceKind::Group, &g) else { continue };
            let mut body = body_of(rec)?;
            if let Some(ms) = body.get_mut("members").and_then(Value::as_array_mut) {
                let m = member.to_string();
                ms.retain(|e| e.get("value").and_then(Value::as_str) != Some(m.as_str()));
                if ms.is_empty() {
                    body.as_object_mut().map(|o| o.remove("members"));
                }
            }
            let hidden = rec.hidden;
            let rec_protected = rec.protected;
            let version = self.next_version();
            set_meta(&mut body, None, now, version);
            let keys = index_keys(ResourceKind::Group, &body);
            self.store.update(
                ResourceKind::Group,
                Record { id: g, version, hidden, protected: rec_protected, body: body.to_string().into() },
                keys,
            );
        }
        Ok(())
    }
}

fn set_meta(body: &mut Value, created: Option<&str>, now: &str, version: u64) {
    let Some(obj) = body.as_object_mut() else { return };
    let meta = obj.entry("meta").or_insert_with(|| Value::Object(Map::new()));
    if let Some(m) = meta.as_object_mut() {
        if let Some(c) = created {
            m.insert("created".into(), Value::String(c.to_string()));
        }
        m.insert("lastModified".into(), Value::String(now.to_string()));
        m.insert("version".into(), Value::String(etag(version)));
    }
}

/// Compares two bodies ignoring `meta`, to avoid bumping versions on no-op writes.
fn same_content(a: &Value, b: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(o) = v.as_object_mut() {
            o.remove("meta");
        }
        v
    };
    strip(a) == strip(b)
}

impl Directory {
    /// An empty directory on the system clock.
    pub fn new(config: DirectoryConfig) -> Self {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// An empty directory reading time from `clock`.
    pub fn with_clock(config: DirectoryConfig, clock: SharedClock) -> Self {
        Self::with_hooks(config, clock, None)
    }

    /// An empty directory whose user writes are reported to portal hooks.
    pub fn with_hooks(config: DirectoryConfig, clock: SharedClock, hooks: Option<Arc<dyn PortalHooks>>) -> Self {
        Directory {
            state: RwLock::new(State {
                store: Box::new(MemoryStore::new()),
                version: 0,
                memberships: HashMap::new(),
                group_names: HashMap::new(),
                hooks,
            }),
            clock,
            config,
        }
    }

    /// The paging limits.
    pub fn config(&self) -> DirectoryConfig {
        self.config
    }

    fn now(&self) -> String {
        format_datetime(self.clock.now())
    }

    /// Reads one visible resource (RFC 7644 §3.4.1).
    pub fn get(&self, kind: ResourceKind, id: &str) -> ScimResult<Value> {
        let st = self.state.read();
        let rec = st.visible(kind, id)?;
        st.render(kind, rec)
    }

    /// Creates a resource (RFC 7644 §3.3). A user whose userName or externalId matches a user deleted
    /// through SCIM restores that user, active, instead of creating a duplicate.
    pub fn create(&self, kind: ResourceKind, body: Value) -> ScimResult<Value> {
        self.create_from(kind, body, None)
    }

    /// Creates a resource on behalf of a provisioning app (the portal's CAL rules are the app's).
    pub fn create_from(&self, kind: ResourceKind, body: Value, source_app: Option<&str>) -> ScimResult<Value> {
        self.insert_new(kind, body, source_app, false)
    }

    /// Creates a protected local account (owner or administrator): never listed by SCIM, never writable
    /// through SCIM. Its userName is unique together with the SCIM users'.
    pub fn create_protected(&self, body: Value) -> ScimResult<Value> {
        self.insert_new(ResourceKind::User, body, None, true)
    }

    fn insert_new(
        &self,
        kind: ResourceKind,
        body: Value,
        source_app: Option<&str>,
        protected: bool,
    ) -> ScimResult<Value> {
        let rt = kind.resource_type();
        let mut body = resource::normalize(rt, body)?;
        let now = self.now();
        let mut st = self.state.write();
        let restore = st.check_unique(kind, None, &body).map_err(|e| admin_conflict(e, protected))?;
        if protected && restore.is_some() {
            return Err(ScimError::Uniqueness("userName is held by a user deleted through SCIM".into()));
        }
        let id = restore.unwrap_or_else(Uuid::new_v4);
        if kind == ResourceKind::Group {
            st.resolve_members(id, &mut body)?;
        }
        if let Some(obj) = body.as_object_mut() {
            obj.insert("id".into(), Value::String(id.to_string()));
            obj.insert("meta".into(), json!({"resourceType": rt.name}));
            if restore.is_some() {
                obj.insert("active".into(), Value::Bool(true));
            }
        }
        let created = match restore.and_then(|r| st.store.get(kind, &r)) {
            Some(old) => body_of(old)?
                .pointer("/meta/created")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| now.clone()),
            None => now.clone(),
        };
        let version = st.next_version();
        set_meta(&mut body, Some(&created), &now, version);
        let keys = index_keys(kind, &body);
        if kind == ResourceKind::Group {
            let members = member_ids(&body);
            st.set_memberships(id, &[], &members);
            st.group_names.insert(id, str_at(&body, "displayName").unwrap_or_default().to_string());
        }
        let members = member_ids(&body);
        let record = Record { id, version, hidden: protected, protected, body: body.to_string().into() };
        st.store.insert(kind, record, keys);
        match kind {
            ResourceKind::User if !protected => {
                let event = if restore.is_some() { UserEvent::Restored } else { UserEvent::Created };
                st.notify(id, event, source_app)?;
            }
            ResourceKind::User => {}
            ResourceKind::Group => st.members_changed(members, &now)?,
        }
        Ok(match kind {
            ResourceKind::User => st.with_groups(&id, body),
            ResourceKind::Group => body,
        })
    }

    /// Replaces a resource (RFC 7644 §3.5.1). Read-only attributes echoed back (id, meta, groups) are
    /// ignored when they match; an `id` that differs is a `mutability` error. A PUT without `password`
    /// keeps the stored one (it is write-only, so clients cannot echo it), and a PUT without `active` keeps
    /// the user's state rather than suspending it.
    pub fn replace(&self, kind: ResourceKind, id: &str, body: Value, if_match: Option<&str>) -> ScimResult<Value> {
        if let Some(given) = body.get("id") {
            if given.as_str() != Some(id) {
                return Err(ScimError::Mutability("'id' is read-only and cannot be changed".into()));
            }
        }
        let rt = kind.resource_type();
        let body = resource::normalize(rt, body)?;
        self.write(kind, id, if_match, false, move |_, old| {
            let mut body = body;
            if let Some(obj) = body.as_object_mut() {
                // Write-only: clients cannot echo it. And a PUT that omits `active` must not suspend the user
                // (research okta.md §4.5): both keep their stored value.
                for kept in ["password", "active"] {
                    if let Some(v) = old.get(kept) {
                        obj.entry(kept).or_insert_with(|| v.clone());
                    }
                }
            }
            Ok(body)
        })
    }

    /// Applies a PatchOp request atomically (RFC 7644 §3.5.2): on any failure nothing changes.
    pub fn patch(&self, kind: ResourceKind, id: &str, request: &Value, if_match: Option<&str>) -> ScimResult<Value> {
        let rt = kind.resource_type();
        {
            // An unknown id is a 404 even when the request is also malformed.
            self.state.read().writable(kind, id)?;
        }
        let ops = patch::parse_request(request)?;
        self.write(kind, id, if_match, false, |rid, old| {
            let patched = patch::apply(rt, old, rid, &ops)?;
            // RFC 7644 §3.5.2.2: a required attribute that is removed or becomes unassigned is a mutability error.
            for def in rt.schema.attributes.iter().filter(|a| a.required) {
                let present = |v: &Value| v.get(def.name).is_some_and(|x| !x.is_null() && x != "");
                if present(old) && !present(&patched) {
                    return Err(ScimError::Mutability(format!("'{}' is required and cannot be removed", def.name)));
                }
            }
            resource::normalize(rt, patched)
        })
    }

    /// The shared read-modify-write of PUT and PATCH, under the write lock.
    fn write(
        &self,
        kind: ResourceKind,
        id: &str,
        if_match: Option<&str>,
        admin: bool,
        change: impl FnOnce(&str, &Value) -> ScimResult<Value>,
    ) -> ScimResult<Value> {
        let now = self.now();
        let mut st = self.state.write();
        let rec = match admin {
            true => parse_id(id).and_then(|u| st.store.get(kind, &u)).ok_or_else(|| not_found(kind, id))?,
            false => st.writable(kind, id)?,
        };
        let (hidden, protected) = (rec.hidden, rec.protected);
        if let Some(h) = if_match {
            if !etag_matches(h, &etag(rec.version)) {
                return Err(ScimError::PreconditionFailed(format!(
                    "If-Match {h} does not match the current version {}",
                    etag(rec.version)
                )));
            }
        }
        let uid = rec.id;
        let old = body_of(rec)?;
        let mut body = change(&uid.to_string(), &old)?;
        st.check_unique(kind, Some(uid), &body).map_err(|e| admin_conflict(e, admin))?;
        if kind == ResourceKind::Group {
            st.resolve_members(uid, &mut body)?;
        }
        if let Some(obj) = body.as_object_mut() {
            obj.insert("id".into(), Value::String(uid.to_string()));
            if let Some(meta) = old.get("meta") {
                obj.insert("meta".into(), meta.clone());
            }
        }
        if same_content(&old, &body) {
            return match kind {
                ResourceKind::User => Ok(st.with_groups(&uid, old)),
                ResourceKind::Group => Ok(old),
            };
        }
        let version = st.next_version();
        set_meta(&mut body, None, &now, version);
        let mut affected = Vec::new();
        if kind == ResourceKind::Group {
            let (before, after) = (member_ids(&old), member_ids(&body));
            st.set_memberships(uid, &before, &after);
            let renamed = str_at(&old, "displayName") != str_at(&body, "displayName");
            affected = before
                .iter()
                .chain(after.iter())
                .filter(|m| renamed || before.contains(m) != after.contains(m))
                .copied()
                .collect();
            st.group_names.insert(uid, str_at(&body, "displayName").unwrap_or_default().to_string());
        }
        let keys = index_keys(kind, &body);
        st.store.update(kind, Record { id: uid, version, hidden, protected, body: body.to_string().into() }, keys);
        match kind {
            ResourceKind::User if !hidden => st.notify(uid, UserEvent::Updated, None)?,
            ResourceKind::User => {}
            ResourceKind::Group => st.members_changed(affected, &now)?,
        }
        Ok(match kind {
            ResourceKind::User => st.with_groups(&uid, body),
            ResourceKind::Group => body,
        })
    }

    /// Deletes a resource (RFC 7644 §3.6). Users are never erased: they become inactive and hidden (GET
    /// answers 404, lists omit them) and leave their groups; a later POST with the same userName or
    /// externalId restores them. Groups are removed.
    pub fn delete(&self, kind: ResourceKind, id: &str, if_match: Option<&str>) -> ScimResult<()> {
        let now = self.now();
        let mut st = self.state.write();
        let rec = st.writable(kind, id)?;
        if let Some(h) = if_match {
            if !etag_matches(h, &etag(rec.version)) {
                return Err(ScimError::PreconditionFailed(format!("If-Match {h} does not match the current version")));
            }
        }
        let uid = rec.id;
        match kind {
            ResourceKind::User => {
                let mut body = body_of(rec)?;
                if let Some(o) = body.as_object_mut() {
                    o.insert("active".into(), Value::Bool(false));
                }
                let version = st.next_version();
                set_meta(&mut body, None, &now, version);
                let keys = index_keys(kind, &body);
                let record = Record { id: uid, version, hidden: true, protected: false, body: body.to_string().into() };
                st.store.update(kind, record, keys);
                st.drop_member_everywhere(uid, &now)?;
                st.notify(uid, UserEvent::Deleted, None)?;
            }
            ResourceKind::Group => {
                let old = body_of(rec)?;
                let members = member_ids(&old);
                st.set_memberships(uid, &members, &[]);
                st.group_names.remove(&uid);
                st.store.remove(kind, &uid);
                st.drop_member_everywhere(uid, &now)?;
                st.members_changed(members, &now)?;
            }
        }
        Ok(())
    }

    /// Lists resources of one or more kinds (RFC 7644 §3.4.2): filter, then sort, then page.
    /// Without `sortBy` the order is creation order, so `startIndex` paging never skips or repeats.
    pub fn list(&self, kinds: &[ResourceKind], query: &ListQuery) -> ScimResult<ListPage> {
        let filters: Vec<Option<Filter>> = match &query.filter {
            Some(f) if !f.trim().is_empty() => {
                let parsed = filter::parse(f).map_err(|e| e.into_filter_error())?;
                let mut out = Vec::new();
                let mut first_err = None;
                for k in kinds {
                    match filter::validate(&parsed, k.resource_type()) {
                        Ok(()) => out.push(Some(parsed.clone())),
                        Err(e) => {
                            first_err.get_or_insert(e);
                            out.push(None);
                        }
                    }
                }
                if out.iter().all(Option::is_none) {
                    return Err(first_err.unwrap_or_else(|| ScimError::InvalidFilter("invalid filter".into())));
                }
                out
            }
            _ => kinds.iter().map(|_| None).collect(),
        };
        let unfiltered = query.filter.as_ref().is_none_or(|f| f.trim().is_empty());
        let sort = match &query.sort_by {
            Some(s) if !s.trim().is_empty() => {
                let path = filter::parse_attr_path(s.trim()).map_err(|e| {
                    ScimError::InvalidValue(format!("sortBy: {} at position {}", e.message, e.position))
                })?;
                let known = kinds
                    .iter()
                    .any(|k| k.resource_type().resolve(path.urn.as_deref(), &path.name, path.sub.as_deref()).is_some());
                if !known {
                    return Err(ScimError::InvalidValue(format!("sortBy: unknown attribute '{s}'")));
                }
                Some(path)
            }
            _ => None,
        };
        let start = query.start_index.unwrap_or(1).max(1) as usize;
        let count =
            query.count.unwrap_or(self.config.max_results as i64).clamp(0, self.config.max_results as i64) as usize;

        let st = self.state.read();
        let mut total = 0usize;
        let mut page: Vec<(ResourceKind, Value)> = Vec::new();
        let mut all: Vec<(ResourceKind, Value)> = Vec::new();
        let window = (start - 1)..(start - 1).saturating_add(count);
        for (kind, f) in kinds.iter().zip(filters.iter()) {
            let rt = kind.resource_type();
            if f.is_none() && !unfiltered {
                continue;
            }
            let candidates: Box<dyn Iterator<Item = &Record>> = match f.as_ref().and_then(|f| planned(&st, *kind, f)) {
                Some(records) => Box::new(records.into_iter()),
                None => st.store.scan(*kind),
            };
            for rec in candidates.filter(|r| !r.hidden) {
                if f.is_none() && sort.is_none() && !window.contains(&total) {
                    // Unfiltered and unsorted: count without parsing what is outside the page.
                    total += 1;
                    continue;
                }
                let body = st.render(*kind, rec)?;
                if let Some(f) = f {
                    if !filter::matches(f, &body, rt) {
                        continue;
                    }
                }
                if sort.is_some() {
                    all.push((*kind, body));
                } else if window.contains(&total) {
                    page.push((*kind, body));
                }
                total += 1;
            }
        }
        if let Some(path) = &sort {
            all.sort_by(|(ka, a), (kb, b)| {
                let ord = match ka.resource_type().resolve(path.urn.as_deref(), &path.name, path.sub.as_deref()) {
                    Some(r) => {
                        let va = filter::select(a, ka.resource_type(), path);
                        let vb = filter::select(b, kb.resource_type(), path);
                        filter::compare_for_sort(r.leaf(), va.first().copied(), vb.first().copied())
                    }
                    None => std::cmp::Ordering::Equal,
                };
                if query.descending {
                    ord.reverse()
                } else {
                    ord
                }
            });
            page = all.into_iter().skip(start - 1).take(count).collect();
        }
        Ok(ListPage { total_results: total, start_index: start, resources: page })
    }

    /// Any stored user, deleted and protected ones included (for the admin API's access view).
    pub fn user_record(&self, id: &str) -> ScimResult<UserRecord> {
        let st = self.state.read();
        let rec = parse_id(id)
            .and_then(|u| st.store.get(ResourceKind::User, &u))
            .ok_or_else(|| not_found(ResourceKind::User, id))?;
        let deleted = rec.hidden && !rec.protected;
        Ok(UserRecord { body: st.with_groups(&rec.id, body_of(rec)?), deleted, protected: rec.protected })
    }

    /// A profile edit made in the portal (not through SCIM): a path-less replace of the given attributes,
    /// allowed on protected accounts. Whether the user may edit its profile is the portal's decision.
    pub fn edit_profile(&self, id: &str, changes: Value) -> ScimResult<Value> {
        let rt = ResourceKind::User.resource_type();
        let ops = patch::parse_request(&json!({"Operations": [{"op": "replace", "value": changes}]}))?;
        self.write(ResourceKind::User, id, None, true, |rid, old| {
            resource::normalize(rt, patch::apply(rt, old, rid, &ops)?)
        })
    }

    /// How many visible resources of a kind exist.
    pub fn count(&self, kind: ResourceKind) -> usize {
        let st = self.state.read();
        st.store.scan(kind).filter(|r| !r.hidden).count()
    }
}

/// Uses a secondary index when the filter pins an indexed attribute with `eq` (RFC 7644 §3.4.2.2); the
/// full filter is still evaluated on the candidates.
fn planned<'s>(st: &'s State, kind: ResourceKind, f: &Filter) -> Option<Vec<&'s Record>> {
    let name_attr = match kind {
        ResourceKind::User => "userName",
        ResourceKind::Group => "displayName",
    };
    if let Some(v) = filter::indexed_eq(f, "id") {
        return Some(parse_id(v).and_then(|id| st.store.get(kind, &id)).into_iter().collect());
    }
    if let Some(v) = filter::indexed_eq(f, name_attr) {
        return Some(st.store.lookup(kind, Index::Name, v));
    }
    if let Some(v) = filter::indexed_eq(f, "externalId") {
        return Some(st.store.lookup(kind, Index::ExternalId, v));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_tags_compare_weakly_in_lists_and_star_matches_any() {
        let current = etag(42);
        assert!(etag_matches("W/\"42\"", &current));
        assert!(etag_matches("\"42\"", &current), "weak comparison ignores W/");
        assert!(etag_matches("W/\"7\", W/\"42\"", &current));
        assert!(etag_matches("*", &current));
        assert!(!etag_matches("W/\"41\"", &current));
        assert!(!etag_matches("W/\"420\"", &current));
        assert!(!etag_matches("", &current));
    }
}
