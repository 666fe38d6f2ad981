//! One tenant's users and groups with SCIM semantics: uniqueness (RFC 7643 §2.2), membership integrity,
//! versions (RFC 7644 §3.14), soft deletion of users, and list queries with filtering, sorting and paging
//! (RFC 7644 §3.4.2). Free of HTTP types; every write runs under the tenant's lock, so it is atomic.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use indexmap::IndexSet;
use parking_lot::RwLock;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::clock::{format_datetime, SharedClock, SystemClock};
use crate::error::{ScimError, ScimResult};
use crate::filter::{self, CompareOp, Filter};
use crate::patch::{PatchOpKind, PatchOperation};
use crate::schema::{ResourceKind, GROUP_URN};
use crate::store::{Index, IndexKeys, Member, MemoryStore, Record, Store};
use crate::{patch, resource};

mod prescreen;
mod rollback;
use rollback::WriteTxn;

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
    /// Set when the response leaves out the membership attribute — a user's derived `groups` (RFC 7643
    /// §4.1.2), a group's `members` (§4.2) — through `attributes`/`excludedAttributes` (RFC 7644 §3.4.2.5),
    /// so the page is rendered without it. Ignored when the filter or `sortBy` names that attribute.
    pub omit_membership: bool,
}

impl ListQuery {
    /// Whether the filter pins `id`, `externalId` or the kind's name attribute (`userName`, `displayName`)
    /// with `eq`, so that the store answers it from an index (RFC 7644 §3.4.2.2) and the work is bounded
    /// by the few matches rather than by the collection. A filter that does not parse is not indexed.
    pub fn is_indexed_lookup(&self, kind: ResourceKind) -> bool {
        let Some(Ok(f)) = self.filter.as_deref().map(filter::parse) else { return false };
        ["id", name_attribute(kind), "externalId"].iter().any(|a| filter::indexed_eq(&f, a).is_some())
    }

    /// Whether the filter or `sortBy` may name `attr`: a case-insensitive search of their text, so a false
    /// "yes" costs only rendering what was not needed.
    fn names(&self, attr: &str) -> bool {
        let attr = attr.to_ascii_lowercase();
        [&self.filter, &self.sort_by].into_iter().flatten().any(|t| t.to_ascii_lowercase().contains(&attr))
    }
}

/// One page of results with the total number of matches.
#[derive(Debug, Clone)]
pub struct ListPage {
    pub total_results: usize,
    pub start_index: usize,
    pub resources: Vec<(ResourceKind, Value)>,
}

/// The weak entity tag of a version (RFC 7644 §3.14); defined with the stored record it versions.
pub use crate::store::etag;

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
    /// Whether a user may be provisioned (created, or restored) at all, asked under the directory's write lock
    /// before anything changes; an error is the request's answer. Default: always.
    fn admit(&self, _user: &Value, _source_app: Option<&str>) -> ScimResult<()> {
        Ok(())
    }
    /// Which of `members`, who joined or left the groups named `group_names` (or whose group was renamed from
    /// one of the names to another), the portal must be told about ([`UserEvent::MembershipChanged`]) because
    /// the change may alter what it decides for them. Asked once per write, not once per member. Default: all.
    fn membership_watchers(&self, _group_names: &[&str], members: &[Uuid]) -> Vec<Uuid> {
        members.to_vec()
    }
    /// Read-only attributes the portal adds to the user's SCIM representation, as `(schema URN, object)`.
    fn user_extension(&self, id: Uuid) -> Option<(&'static str, Value)>;
    /// A write failed after the hooks were told of it: the portal's per-user state is read back from the data
    /// file (module `rollback`). Default: nothing to undo. Errors: the file could not be read.
    fn reload(&self) -> ScimResult<()> {
        Ok(())
    }
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

/// How many times [`Directory::write`] computes a user's new body outside the write lock before it computes it
/// under the lock (each retry follows a change to the same user that landed in between).
const OPTIMISTIC_WRITE_ATTEMPTS: usize = 3;

/// How long a call made through [`Directory::without_waiting`] waits for its tenant's lock, at most, each time
/// it takes the lock. The holder is usually another short call, done in tens of microseconds, and handing the
/// call to the blocking pool costs more than that; long work is announced before it is queued, so a short call
/// is not started behind it, though the holder may still be an unannounced read or a call re-run on the pool.
/// A call stops at its first wait that times out, having changed nothing; one that never times out can still
/// wait several times (an optimistic user write takes the lock up to seven times).
pub const SHORT_WAIT: std::time::Duration = std::time::Duration::from_micros(200);

thread_local! {
    /// Set by [`Directory::without_waiting`] for the call it runs on this thread.
    static NO_WAIT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// Set when such a call found the lock taken.
    static BLOCKED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn would_block() -> ScimError {
    BLOCKED.set(true);
    ScimError::Internal("the tenant's lock is taken".into())
}

/// The announcement of a long call ([`Directory::announce_long_work`]); it ends when this is dropped.
#[derive(Debug)]
pub struct LongWork(Arc<Directory>);

impl Drop for LongWork {
    fn drop(&mut self) {
        self.0.long_work.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A directory: users and groups of one tenant.
#[derive(Debug)]
pub struct Directory {
    state: RwLock<State>,
    clock: SharedClock,
    config: DirectoryConfig,
    /// Calls announced as long ([`Directory::long_work`]) that have not returned.
    long_work: AtomicUsize,
    /// Whether a write's commit reaches a durable store (does I/O).
    durable: bool,
}

#[derive(Debug)]
struct State {
    store: Box<dyn Store>,
    version: u64,
    /// member id (user or group) → ids of the groups it is a direct member of (the reverse of the store's
    /// member lists, rebuilt from them at start).
    memberships: HashMap<Uuid, IndexSet<Uuid>>,
    /// group id → displayName, for rendering a user's `groups`.
    group_names: HashMap<Uuid, String>,
    /// user id → its `display` as a group member ([`user_display`]), for a member a client names by id alone.
    user_displays: HashMap<Uuid, Box<str>>,
    hooks: Option<Arc<dyn PortalHooks>>,
    /// Set when a failed write could not be undone: why. Every request then answers 500.
    damaged: Option<String>,
}

fn parse_id(id: &str) -> Option<Uuid> {
    Uuid::parse_str(id).ok()
}

fn not_found(kind: ResourceKind, id: &str) -> ScimError {
    let shown: String = id.chars().take(80).collect();
    ScimError::NotFound(format!("{} {shown} not found", kind.resource_type().name))
}

fn body_of(record: &Record) -> ScimResult<Value> {
    record.json().map_err(|e| ScimError::Internal(format!("stored body unreadable: {e}")))
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

/// The `display` of a user as a group member when the client gave none (RFC 7643 §4.2): its `displayName`,
/// else its `userName`. A group member's is its `displayName`.
fn user_display(body: &Value) -> Option<Box<str>> {
    str_at(body, "displayName").or_else(|| str_at(body, "userName")).map(Into::into)
}

/// A member as a client asked for it: its id as sent, the `type` it declared, the `display` it gave.
#[derive(Debug, Clone)]
struct MemberRequest {
    raw: String,
    declared: Option<String>,
    display: Option<String>,
}

impl MemberRequest {
    fn from_element(m: &Value) -> ScimResult<MemberRequest> {
        let Value::Object(m) = m else {
            return Err(ScimError::InvalidValue("each member must be an object with a 'value'".into()));
        };
        let text = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
        Ok(MemberRequest { raw: text("value").unwrap_or_default(), declared: text("type"), display: text("display") })
    }

    /// The members of an `add` when every element is already in canonical form — an object with a string
    /// `value` and at most a string `display` — which is what normalising would leave unchanged; `None`
    /// otherwise (the caller then normalises, with its checks and errors).
    fn plain_list(items: &[Value]) -> Option<Vec<MemberRequest>> {
        items
            .iter()
            .map(|m| {
                let m = m.as_object()?;
                let raw = m.get("value")?.as_str()?.to_string();
                let display = match m.get("display") {
                    None => None,
                    Some(d) => Some(d.as_str()?.to_string()),
                };
                (m.len() == 1 + usize::from(display.is_some())).then_some(MemberRequest {
                    raw,
                    declared: None,
                    display,
                })
            })
            .collect()
    }
}

/// One step of a PATCH that only changes a group's membership (see [`membership_ops`]).
#[derive(Debug)]
enum MemberOp {
    Add(Vec<MemberRequest>),
    Remove(Vec<Uuid>),
}

/// A UUID in exactly the form the server writes it (lowercase, hyphenated), so that matching it by id
/// agrees with matching the stored `value` text.
fn canonical_id(s: &str) -> Option<Uuid> {
    parse_id(s).filter(|u| u.to_string() == s)
}

/// Recognises a PATCH whose every operation only adds or removes group members, in the shapes Okta and Entra
/// send: `add` on `members` with a list of `{"value": id}`; `remove` on `members` with such a list (Entra);
/// `remove` on `members[value eq "id"]` (Okta). Such a request is applied to the membership set directly, in
/// time proportional to the members named rather than the size of the group. Any other shape returns `None`
/// and takes the general path, which has the same result.
fn membership_ops(ops: &[PatchOperation]) -> ScimResult<Option<Vec<MemberOp>>> {
    let members_def = ResourceKind::Group
        .resource_type()
        .schema
        .attributes
        .iter()
        .find(|a| a.name == "members")
        .ok_or_else(|| ScimError::Internal("the Group schema has no members".into()))?;
    let mut out = Vec::with_capacity(ops.len());
    for op in ops {
        let Some(path) = &op.path else { return Ok(None) };
        let names_members = path.attr.name.eq_ignore_ascii_case("members")
            && path.attr.sub.is_none()
            && path.sub_attr.is_none()
            && path.attr.urn.as_deref().is_none_or(|u| u.eq_ignore_ascii_case(GROUP_URN));
        if !names_members {
            return Ok(None);
        }
        let step = match (op.op, &path.value_filter, &op.value) {
            (PatchOpKind::Add, None, Some(v @ Value::Array(items))) => match MemberRequest::plain_list(items) {
                // What Okta and Entra send ({"value": id}, perhaps with a display) needs no normalising.
                Some(list) => MemberOp::Add(list),
                None => {
                    let Some(Value::Array(items)) = crate::resource::normalize_attr(members_def, "members", v.clone())?
                    else {
                        return Ok(None);
                    };
                    MemberOp::Add(items.iter().map(MemberRequest::from_element).collect::<ScimResult<_>>()?)
                }
            },
            (PatchOpKind::Remove, None, Some(Value::Array(items))) => {
                let ids = items.iter().map(|i| i.get("value").and_then(Value::as_str).and_then(canonical_id));
                match ids.collect::<Option<Vec<Uuid>>>() {
                    Some(ids) => MemberOp::Remove(ids),
                    None => return Ok(None),
                }
            }
            (
                PatchOpKind::Remove,
                Some(Filter::Compare { path: p, op: CompareOp::Eq, value: Value::String(v) }),
                None,
            ) if p.name.eq_ignore_ascii_case("value") && p.sub.is_none() && p.urn.is_none() => match canonical_id(v) {
                Some(id) => MemberOp::Remove(vec![id]),
                None => return Ok(None),
            },
            _ => return Ok(None),
        };
        out.push(step);
    }
    Ok(Some(out))
}

/// The result of a PATCH: the new entity tag, and the resource when it was asked for.
#[derive(Debug, Clone)]
pub struct Patched {
    /// `meta.version` after the PATCH (RFC 7644 §3.14).
    pub version: String,
    /// The whole resource, when the caller asked for it.
    pub body: Option<Value>,
}

/// Whether an `If-Match` / `If-None-Match` header value names the current entity tag (RFC 7644 §3.14, RFC 9110
/// §13.1): `*` matches any; otherwise one of the comma-separated tags must equal it under weak comparison
/// (`W/` prefixes and quotes ignored).
pub fn etag_matches(header: &str, current: &str) -> bool {
    let opaque = |t: &str| t.trim().trim_start_matches("W/").trim_matches('"').to_string();
    let current = opaque(current);
    header.split(',').map(str::trim).any(|tag| tag == "*" || opaque(tag) == current)
}

/// Checks an `If-Match` header value against a record's current version (RFC 7644 §3.14: "If the version does not
/// match, the service provider returns 412 Precondition Failed"): no header, or a match ([`etag_matches`]), is
/// `Ok`. The one check every write (PUT, PATCH, the membership path of PATCH, DELETE) makes.
///
/// Errors: [`ScimError::PreconditionFailed`] (412, no `scimType`: RFC 7644 §3.12 defines none for it), naming
/// the header's value and the current version.
pub fn check_if_match(if_match: Option<&str>, version: u64) -> ScimResult<()> {
    match if_match {
        Some(h) if !etag_matches(h, &etag(version)) => Err(ScimError::PreconditionFailed(format!(
            "If-Match {h} does not match the current version {}",
            etag(version)
        ))),
        _ => Ok(()),
    }
}

impl State {
    fn visible(&self, kind: ResourceKind, id: &str) -> ScimResult<&Record> {
        parse_id(id).and_then(|u| self.store.get(kind, &u)).filter(|r| !r.hidden).ok_or_else(|| not_found(kind, id))
    }

    /// A record a SCIM write may target: protected accounts are refused with 403.
    /// The record a PUT or PATCH (or, with `admin`, a portal edit) may change, with `If-Match` checked
    /// against its current version (RFC 7644 §3.14).
    fn write_target(&self, kind: ResourceKind, id: &str, if_match: Option<&str>, admin: bool) -> ScimResult<&Record> {
        let rec = match admin {
            true => parse_id(id).and_then(|u| self.store.get(kind, &u)).ok_or_else(|| not_found(kind, id))?,
            false => self.writable(kind, id)?,
        };
        check_if_match(if_match, rec.version)?;
        Ok(rec)
    }

    /// The rest of [`Directory::write`] once the new body is known, under the write lock: uniqueness, the
    /// members of a group, the stored record and its new version, the portal's notice, the rendered answer.
    /// `flags` are the record's `(hidden, protected)`.
    #[allow(clippy::too_many_arguments)]
    fn finish_write(
        &mut self,
        kind: ResourceKind,
        id: &str,
        uid: Uuid,
        flags: (bool, bool),
        old: Value,
        mut body: Value,
        now: &str,
        admin: bool,
    ) -> ScimResult<Value> {
        let st = self;
        let (hidden, protected) = flags;
        st.check_unique(kind, Some(uid), &body).map_err(|e| admin_conflict(e, admin))?;
        let members = match kind {
            ResourceKind::Group => Some(st.resolve_members(uid, &mut body)?),
            ResourceKind::User => None,
        };
        if let Some(obj) = body.as_object_mut() {
            obj.insert("id".into(), Value::String(uid.to_string()));
            if let Some(meta) = old.get("meta") {
                obj.insert("meta".into(), meta.clone());
            }
        }
        let mut old_stored = old;
        if let Some(o) = old_stored.as_object_mut() {
            o.remove("members");
        }
        let members_same = members.as_ref().is_none_or(|m| st.same_members(&uid, m));
        if members_same && same_content(&old_stored, &body) {
            let rec = st.store.get(kind, &uid).ok_or_else(|| not_found(kind, id))?;
            return st.render(kind, rec);
        }
        let version = st.next_version();
        set_meta(&mut body, None, now, version);
        let keys = index_keys(kind, &body);
        let mut affected = Vec::new();
        if let Some(members) = members {
            let before: Vec<Uuid> = st.store.members(&uid).map(|ms| ms.keys().copied().collect()).unwrap_or_default();
            let changed = st.set_members(uid, members);
            let renamed = str_at(&old_stored, "displayName") != str_at(&body, "displayName");
            affected = match renamed {
                true => {
                    let mut all: IndexSet<Uuid> = before.into_iter().collect();
                    all.extend(
                        st.store.members(&uid).map(|ms| ms.keys().copied().collect::<Vec<_>>()).unwrap_or_default(),
                    );
                    all.extend(changed);
                    all.into_iter().collect()
                }
                false => changed,
            };
            st.group_names.insert(uid, str_at(&body, "displayName").unwrap_or_default().to_string());
        }
        if kind == ResourceKind::User {
            st.set_user_display(uid, &body);
        }
        st.store.update(kind, Record::new(uid, version, hidden, protected, body.to_string()), keys);
        match kind {
            ResourceKind::User if !hidden => st.notify_written(uid, &body, UserEvent::Updated, None),
            ResourceKind::User => {}
            ResourceKind::Group => {
                let names = [str_at(&old_stored, "displayName"), str_at(&body, "displayName")];
                st.members_changed(affected, now, &names.map(Option::unwrap_or_default))?
            }
        }
        Ok(st.render_body(kind, &uid, body))
    }

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
        if self.hooks.is_none() {
            return Ok(());
        }
        let Some(rec) = self.store.get(ResourceKind::User, &id) else { return Ok(()) };
        self.notify_body(id, body_of(rec)?, event, source_app);
        Ok(())
    }

    /// Tells the portal hooks about a user the caller has just written (`body` as stored), without reading
    /// it back from the store.
    fn notify_written(&self, id: Uuid, body: &Value, event: UserEvent, source_app: Option<&str>) {
        let Some(hooks) = &self.hooks else { return };
        match self.memberships.get(&id).is_none_or(|g| g.is_empty()) {
            // Without groups the stored body is what the hooks see: no copy.
            true => hooks.user_changed(id, body, &self.group_names_of(&id), source_app, event),
            false => self.notify_body(id, body.clone(), event, source_app),
        }
    }

    /// Tells the portal hooks about a user whose stored body the caller already has. The hooks see the user
    /// with its `groups` but without the portal's own extension, which they are the source of.
    fn notify_body(&self, id: Uuid, body: Value, event: UserEvent, source_app: Option<&str>) {
        let Some(hooks) = &self.hooks else { return };
        let body = self.with_group_list(&id, body);
        hooks.user_changed(id, &body, &self.group_names_of(&id), source_app, event);
    }

    /// Users whose group memberships (or their groups' names) changed: their derived `groups` attribute is part
    /// of their representation, so each gets a new version and `lastModified` (RFC 7644 §3.14), and the portal
    /// hooks are told.
    ///
    /// The stored JSON is not rewritten (the `groups` attribute is derived when rendering): each user is
    /// touched, a version bump in place. `groups` names the group(s) concerned (old and new name on a
    /// rename); the portal is told, and a user's body read, only for the members it says it must re-evaluate
    /// ([`PortalHooks::membership_watchers`]).
    fn members_changed(&mut self, ids: impl IntoIterator<Item = Uuid>, now: &str, groups: &[&str]) -> ScimResult<()> {
        let mut touched = Vec::new();
        for id in ids {
            if self.store.get(ResourceKind::User, &id).is_none_or(|r| r.hidden) {
                continue;
            }
            let version = self.next_version();
            self.store.touch(ResourceKind::User, &id, version, now);
            touched.push(id);
        }
        let tell = match &self.hooks {
            Some(h) if !touched.is_empty() => h.membership_watchers(groups, &touched),
            _ => Vec::new(),
        };
        for id in tell {
            self.notify(id, UserEvent::MembershipChanged, None)?;
        }
        Ok(())
    }

    fn next_version(&mut self) -> u64 {
        self.version += 1;
        self.version
    }

    /// Adds the derived `groups` attribute to a user body (RFC 7643 §4.1.2: read-only, from membership).
    fn with_groups(&self, id: &Uuid, body: Value) -> Value {
        self.with_user_extension(id, self.with_group_list(id, body))
    }

    /// The portal's extension of a user, from its hooks (see [`PortalHooks::user_extension`]).
    fn with_user_extension(&self, id: &Uuid, mut body: Value) -> Value {
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

    /// The derived `groups` attribute alone (see [`State::with_groups`]).
    fn with_group_list(&self, id: &Uuid, mut body: Value) -> Value {
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
        body
    }

    /// Adds a group's `members` (RFC 7643 §4.2) from the membership set; `$ref` is added by the HTTP layer.
    fn with_members(&self, id: &Uuid, mut body: Value) -> Value {
        if let (Some(ms), Some(obj)) = (self.store.members(id), body.as_object_mut()) {
            let list: Vec<Value> = ms
                .iter()
                .map(|(mid, m)| {
                    let mut e = Map::new();
                    e.insert("value".into(), Value::String(mid.to_string()));
                    e.insert("type".into(), Value::String(m.kind.resource_type().name.to_string()));
                    if let Some(d) = &m.display {
                        e.insert("display".into(), Value::String(d.to_string()));
                    }
                    Value::Object(e)
                })
                .collect();
            obj.insert("members".into(), Value::Array(list));
        }
        body
    }

    fn render(&self, kind: ResourceKind, record: &Record) -> ScimResult<Value> {
        Ok(self.render_body(kind, &record.id, body_of(record)?))
    }

    /// [`State::render`] minus the membership attribute (`groups`, `members`): see [`ListQuery::omit_membership`].
    fn render_without_membership(&self, kind: ResourceKind, record: &Record) -> ScimResult<Value> {
        let body = body_of(record)?;
        Ok(match kind {
            ResourceKind::User => self.with_user_extension(&record.id, body),
            ResourceKind::Group => body,
        })
    }

    /// Whether `rec` may match `f`, judged from its stored text before parsing it (module `prescreen`):
    /// `false` only when neither the text nor what rendering puts in it — a touched record's
    /// `meta.lastModified` and `meta.version`, a user's portal extension — holds what `f` needs. The caller
    /// must not use it when `f` may name the membership attribute, which rendering derives.
    fn may_match(&self, kind: ResourceKind, rec: &Record, f: &Filter) -> bool {
        if !prescreen::screenable(&rec.body) {
            return true;
        }
        let version = rec.touched.as_ref().map(|_| etag(rec.version));
        let mut texts: Vec<&str> = vec![&rec.body];
        if let (Some(modified), Some(version)) = (&rec.touched, &version) {
            texts.extend([&**modified, version.as_str()]);
        }
        let extension = match kind {
            ResourceKind::User => self.hooks.as_ref().and_then(|h| h.user_extension(rec.id)),
            ResourceKind::Group => None,
        };
        let extension = extension.map(|(urn, v)| (urn, v.to_string()));
        if let Some((urn, text)) = &extension {
            if !prescreen::screenable(text) {
                return true;
            }
            texts.extend([*urn, text.as_str()]);
        }
        prescreen::may_match(f, &texts)
    }

    fn render_body(&self, kind: ResourceKind, id: &Uuid, body: Value) -> Value {
        match kind {
            ResourceKind::User => self.with_groups(id, body),
            ResourceKind::Group => self.with_members(id, body),
        }
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

    /// Validates group members (RFC 7643 §4.2) and takes them out of `body`: each must be an existing, visible
    /// user or group other than the group itself, of the `type` declared if any; `display` defaults to the
    /// member's name. Duplicates collapse (the first wins). Hash lookups only: linear in the members given.
    fn resolve_members(&self, group_id: Uuid, body: &mut Value) -> ScimResult<Vec<(Uuid, Member)>> {
        let Some(Value::Array(members)) = body.as_object_mut().and_then(|o| o.remove("members")) else {
            return Ok(Vec::new());
        };
        let mut seen = HashSet::with_capacity(members.len());
        let mut out = Vec::with_capacity(members.len());
        for m in &members {
            let request = MemberRequest::from_element(m)?;
            if let Some(resolved) = self.resolve_member(group_id, &request, &mut seen)? {
                out.push(resolved);
            }
        }
        Ok(out)
    }

    /// Checks one requested member; `None` when it repeats one already in `seen`.
    fn resolve_member(
        &self,
        group_id: Uuid,
        m: &MemberRequest,
        seen: &mut HashSet<Uuid>,
    ) -> ScimResult<Option<(Uuid, Member)>> {
        let raw = &m.raw;
        let shown = || raw.chars().take(80).collect::<String>();
        let id =
            parse_id(raw).ok_or_else(|| ScimError::InvalidValue(format!("member '{}' does not exist", shown())))?;
        if id == group_id {
            return Err(ScimError::InvalidValue("a group cannot be a member of itself".into()));
        }
        if !seen.insert(id) {
            return Ok(None);
        }
        let user = self.store.get(ResourceKind::User, &id);
        if user.is_some_and(|r| r.protected) {
            return Err(protected_error());
        }
        let (kind, record) = if let Some(r) = user.filter(|r| !r.hidden) {
            (ResourceKind::User, r)
        } else if let Some(r) = self.store.get(ResourceKind::Group, &id) {
            (ResourceKind::Group, r)
        } else {
            return Err(ScimError::InvalidValue(format!("member '{}' does not exist", shown())));
        };
        let actual = kind.resource_type().name;
        if let Some(t) = m.declared.as_deref().filter(|t| !t.eq_ignore_ascii_case(actual)) {
            return Err(ScimError::InvalidValue(format!("member '{}' is a {actual}, not a {t}", shown())));
        }
        let display = match (&m.display, kind) {
            (Some(d), _) => Some(d.clone().into_boxed_str()),
            (None, ResourceKind::User) => self.user_displays.get(&record.id).cloned(),
            (None, ResourceKind::Group) => self.group_names.get(&record.id).map(|n| n.as_str().into()),
        };
        Ok(Some((id, Member { kind, display })))
    }

    fn set_user_display(&mut self, id: Uuid, body: &Value) {
        match user_display(body) {
            Some(d) => self.user_displays.insert(id, d),
            None => self.user_displays.remove(&id),
        };
    }

    fn add_member(&mut self, group: Uuid, member: Uuid, entry: Member) {
        self.store.add_member(group, member, entry);
        self.memberships.entry(member).or_default().insert(group);
    }

    fn remove_member(&mut self, group: &Uuid, member: &Uuid) -> bool {
        if !self.store.remove_member(group, member) {
            return false;
        }
        if let Some(gs) = self.memberships.get_mut(member) {
            gs.shift_remove(group);
            if gs.is_empty() {
                self.memberships.remove(member);
            }
        }
        true
    }

    /// Makes `new` the group's members: removed ones go, kept ones keep their place (and take a new
    /// `display` if one was given), new ones are appended in order. Returns the ids that joined or left.
    fn set_members(&mut self, group: Uuid, new: Vec<(Uuid, Member)>) -> Vec<Uuid> {
        let wanted: HashSet<Uuid> = new.iter().map(|(id, _)| *id).collect();
        let gone: Vec<Uuid> = self
            .store
            .members(&group)
            .map(|ms| ms.keys().filter(|m| !wanted.contains(m)).copied().collect())
            .unwrap_or_default();
        let mut changed = Vec::new();
        for m in gone {
            self.remove_member(&group, &m);
            changed.push(m);
        }
        for (id, entry) in new {
            match self.store.members(&group).and_then(|ms| ms.get(&id)) {
                Some(current) if *current == entry => {}
                Some(_) => self.store.add_member(group, id, entry),
                None => {
                    self.add_member(group, id, entry);
                    changed.push(id);
                }
            }
        }
        changed
    }

    /// Whether the stored members are exactly `new`, in the same order.
    fn same_members(&self, group: &Uuid, new: &[(Uuid, Member)]) -> bool {
        match self.store.members(group) {
            None => new.is_empty(),
            Some(ms) => ms.len() == new.len() && ms.iter().zip(new).all(|((a, am), (b, bm))| a == b && am == bm),
        }
    }

    /// Removes `member` from every group that lists it (used when a user or group disappears); each such group
    /// gets a new version.
    fn drop_member_everywhere(&mut self, member: Uuid, now: &str) -> ScimResult<()> {
        let groups = self.memberships.remove(&member).unwrap_or_default();
        for g in groups {
            self.store.remove_member(&g, &member);
            self.touch_group(g, now)?;
        }
        Ok(())
    }

    /// Gives a group a new version and `lastModified` after a change to its members alone.
    fn touch_group(&mut self, g: Uuid, now: &str) -> ScimResult<String> {
        if self.store.get(ResourceKind::Group, &g).is_none() {
            return Ok(String::new());
        }
        let version = self.next_version();
        self.store.touch(ResourceKind::Group, &g, version, now);
        Ok(etag(version))
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
    match (a.as_object(), b.as_object()) {
        (Some(a), Some(b)) => {
            let rest = |o: &'_ Map<String, Value>| o.iter().filter(|(k, _)| *k != "meta").count();
            rest(a) == rest(b) && a.iter().filter(|(k, _)| *k != "meta").all(|(k, v)| b.get(k) == Some(v))
        }
        _ => a == b,
    }
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
        Self::with_store(config, clock, hooks, Box::new(MemoryStore::new()))
            .expect("an empty memory store holds nothing unreadable")
    }

    /// A directory over `store`, which may already hold resources (a persistent store opened again): the
    /// version counter, the member → groups index and the group names are rebuilt from it.
    pub fn with_store(
        config: DirectoryConfig,
        clock: SharedClock,
        hooks: Option<Arc<dyn PortalHooks>>,
        store: Box<dyn Store>,
    ) -> ScimResult<Self> {
        let mut st = State {
            store,
            version: 0,
            memberships: HashMap::new(),
            group_names: HashMap::new(),
            user_displays: HashMap::new(),
            hooks,
            damaged: None,
        };
        rollback::rebuild_indexes(&mut st)?;
        let durable = st.store.is_durable();
        Ok(Directory { state: RwLock::new(st), clock, config, long_work: AtomicUsize::new(0), durable })
    }

    /// The paging limits.
    pub fn config(&self) -> DirectoryConfig {
        self.config
    }

    /// Announces a call whose time grows with a group's members or a whole collection (a member list written,
    /// a page of resources rendered, an unindexed filter) from before it is queued until the returned guard is
    /// dropped (also by a panic), so that [`Directory::long_work_in_progress`] tells callers a short call may
    /// wait behind it.
    pub fn announce_long_work(self: &Arc<Self>) -> LongWork {
        self.long_work.fetch_add(1, Ordering::SeqCst);
        LongWork(self.clone())
    }

    /// Whether an announced call ([`Directory::announce_long_work`]) is queued, running or waiting for the lock.
    pub fn long_work_in_progress(&self) -> bool {
        self.long_work.load(Ordering::SeqCst) > 0
    }

    /// Runs `call` (one call of this directory's API) without waiting for the tenant's lock longer than
    /// [`SHORT_WAIT`] at a time: when the lock stays taken, the call stops where it would have waited and `None`
    /// is returned. Every call takes the lock before
    /// it changes anything, so a `None` left nothing changed and the call can be made again elsewhere.
    pub fn without_waiting<R>(&self, call: impl FnOnce() -> ScimResult<R>) -> Option<ScimResult<R>> {
        struct Reset;
        impl Drop for Reset {
            fn drop(&mut self) {
                NO_WAIT.set(false);
                BLOCKED.set(false);
            }
        }
        NO_WAIT.set(true);
        BLOCKED.set(false);
        let _reset = Reset;
        let out = call();
        (!BLOCKED.get()).then_some(out)
    }

    fn read_state(&self) -> ScimResult<parking_lot::RwLockReadGuard<'_, State>> {
        let st = match NO_WAIT.get() {
            true => self.state.try_read_for(SHORT_WAIT).ok_or_else(would_block)?,
            false => self.state.read(),
        };
        rollback::check_damaged(&st)?;
        Ok(st)
    }

    fn write_state(&self) -> ScimResult<WriteTxn<'_>> {
        WriteTxn::begin(match NO_WAIT.get() {
            true => self.state.try_write_for(SHORT_WAIT).ok_or_else(would_block)?,
            false => self.state.write(),
        })
    }

    /// Whether a write ends with I/O (the store is durable, [`Store::is_durable`]); a read never does.
    pub fn commits_to_disk(&self) -> bool {
        self.durable
    }

    fn now(&self) -> String {
        format_datetime(self.clock.now())
    }

    /// Reads one visible resource (RFC 7644 §3.4.1).
    pub fn get(&self, kind: ResourceKind, id: &str) -> ScimResult<Value> {
        let st = self.read_state()?;
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
        self.insert_new(kind, body, source_app, None)
    }

    /// Creates a protected local account (owner or administrator): never listed by SCIM, never writable
    /// through SCIM. Its userName is unique together with the SCIM users'. `registered` is called with its id
    /// before the write commits, so what the portal records about it (its role) is in the same transaction.
    pub fn create_protected_with(&self, body: Value, registered: &dyn Fn(Uuid)) -> ScimResult<Value> {
        self.insert_new(ResourceKind::User, body, None, Some(registered))
    }

    fn insert_new(
        &self,
        kind: ResourceKind,
        body: Value,
        source_app: Option<&str>,
        registered: Option<&dyn Fn(Uuid)>,
    ) -> ScimResult<Value> {
        let protected = registered.is_some();
        let rt = kind.resource_type();
        let mut body = resource::normalize(rt, body)?;
        resource::seal_password(&mut body, None);
        let now = self.now();
        let mut st = self.write_state()?;
        let restore = st.check_unique(kind, None, &body).map_err(|e| admin_conflict(e, protected))?;
        if protected && restore.is_some() {
            return Err(ScimError::Uniqueness("userName is held by a user deleted through SCIM".into()));
        }
        let id = restore.unwrap_or_else(Uuid::new_v4);
        let members = match kind {
            ResourceKind::Group => st.resolve_members(id, &mut body)?,
            ResourceKind::User => Vec::new(),
        };
        if let Some(obj) = body.as_object_mut() {
            obj.insert("id".into(), Value::String(id.to_string()));
            obj.insert("meta".into(), json!({"resourceType": rt.name}));
            if restore.is_some() {
                obj.insert("active".into(), Value::Bool(true));
            }
        }
        // Asked once the body is final (a restored user comes back active), before anything changes.
        if let (ResourceKind::User, false, Some(hooks)) = (kind, protected, &st.hooks) {
            hooks.admit(&body, source_app)?;
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
        match kind {
            ResourceKind::Group => {
                st.group_names.insert(id, str_at(&body, "displayName").unwrap_or_default().to_string());
            }
            ResourceKind::User => st.set_user_display(id, &body),
        }
        let record = Record::new(id, version, protected, protected, body.to_string());
        st.store.insert(kind, record, keys);
        match kind {
            ResourceKind::User if !protected => {
                let event = if restore.is_some() { UserEvent::Restored } else { UserEvent::Created };
                st.notify_written(id, &body, event, source_app);
            }
            ResourceKind::User => registered.into_iter().for_each(|f| f(id)),
            ResourceKind::Group => {
                let joined = st.set_members(id, members);
                let name = str_at(&body, "displayName").unwrap_or_default();
                st.members_changed(joined, &now, &[name])?;
            }
        }
        let out = st.render_body(kind, &id, body);
        st.commit()?;
        Ok(out)
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
            let mut body = body.clone();
            if let Some(obj) = body.as_object_mut() {
                // Write-only: clients cannot echo it. And a PUT that omits `active` must not suspend the user
                // (docs/okta.md §4.5): both keep their stored value.
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
        let patched = self.patch_with(kind, id, request.clone(), if_match, true)?;
        patched.body.ok_or_else(|| ScimError::Internal("a PATCH asked for its body got none".into()))
    }

    /// `error` for a request about `id`, unless `id` names no writable resource: an unknown id is a 404 even
    /// when the request is also malformed (or the lock is taken, for a call made without waiting).
    fn missing_first(&self, kind: ResourceKind, id: &str, error: ScimError) -> ScimError {
        match self.read_state().and_then(|st| st.writable(kind, id).map(|_| ())) {
            Ok(()) => error,
            Err(missing) => missing,
        }
    }

    /// Like [`Directory::patch`], rendering the resource only when `want_body` (a group PATCH answers 204,
    /// and rendering a 100,000-member group for nothing would cost more than the change). The request is
    /// parsed and checked before the tenant's write lock is taken; a PATCH that only adds or removes group
    /// members touches just the members it names.
    pub fn patch_with(
        &self,
        kind: ResourceKind,
        id: &str,
        request: Value,
        if_match: Option<&str>,
        want_body: bool,
    ) -> ScimResult<Patched> {
        self.patch_as(kind, id, request, if_match, want_body, patch::UnmatchedReplace::NoTarget)
    }

    /// [`Directory::patch_with`], choosing what a `replace` through an unmatched value filter does
    /// ([`patch::UnmatchedReplace`]: 400 `noTarget` per RFC 7644 §3.5.2.3, or Entra's created element).
    pub fn patch_as(
        &self,
        kind: ResourceKind,
        id: &str,
        request: Value,
        if_match: Option<&str>,
        want_body: bool,
        unmatched: patch::UnmatchedReplace,
    ) -> ScimResult<Patched> {
        let rt = kind.resource_type();
        let ops = patch::parse_request_owned(request).map_err(|e| self.missing_first(kind, id, e))?;
        if kind == ResourceKind::Group {
            if let Some(steps) = membership_ops(&ops).map_err(|e| self.missing_first(kind, id, e))? {
                return self.patch_members(id, steps, if_match, want_body);
            }
        }
        let body = self.write(kind, id, if_match, false, |rid, old| {
            let patched = patch::apply_with(rt, old, rid, &ops, unmatched)?;
            // RFC 7644 §3.5.2.2: a required attribute that is removed or becomes unassigned is a mutability error.
            for def in rt.schema.attributes.iter().filter(|a| a.required) {
                let present = |v: &Value| v.get(def.name).is_some_and(|x| !x.is_null() && x != "");
                if present(old) && !present(&patched) {
                    return Err(ScimError::Mutability(format!("'{}' is required and cannot be removed", def.name)));
                }
            }
            resource::normalize(rt, patched)
        })?;
        let version = body.pointer("/meta/version").and_then(Value::as_str).unwrap_or_default().to_string();
        Ok(Patched { version, body: want_body.then_some(body) })
    }

    /// The membership fast path of [`Directory::patch_with`]: every member to add is checked first (so a bad
    /// one changes nothing), then the steps are applied in order to the group's member set. Costs grow with
    /// the members named, not with the group.
    fn patch_members(
        &self,
        id: &str,
        steps: Vec<MemberOp>,
        if_match: Option<&str>,
        want_body: bool,
    ) -> ScimResult<Patched> {
        let now = self.now();
        let mut st = self.write_state()?;
        let rec = st.writable(ResourceKind::Group, id)?;
        check_if_match(if_match, rec.version)?;
        let (gid, mut version) = (rec.id, etag(rec.version));
        // Check every member to add before changing anything.
        let mut resolved: Vec<Vec<(Uuid, Member)>> = Vec::with_capacity(steps.len());
        for step in &steps {
            let mut seen = HashSet::new();
            let mut out = Vec::new();
            if let MemberOp::Add(items) = step {
                for m in items {
                    if let Some(r) = st.resolve_member(gid, m, &mut seen)? {
                        out.push(r);
                    }
                }
            }
            resolved.push(out);
        }
        // Apply in order; remember who was a member before, to tell who really joined or left.
        let mut before: HashMap<Uuid, bool> = HashMap::new();
        for (step, adds) in steps.iter().zip(resolved) {
            match step {
                MemberOp::Add(_) => {
                    for (m, entry) in adds {
                        let was = st.store.members(&gid).is_some_and(|ms| ms.contains_key(&m));
                        before.entry(m).or_insert(was);
                        if !was {
                            st.add_member(gid, m, entry);
                        }
                    }
                }
                MemberOp::Remove(ids) => {
                    for m in ids {
                        let was = st.store.members(&gid).is_some_and(|ms| ms.contains_key(m));
                        before.entry(*m).or_insert(was);
                        if was {
                            st.remove_member(&gid, m);
                        }
                    }
                }
            }
        }
        let changed: Vec<Uuid> = before
            .into_iter()
            .filter(|(m, was)| *was != st.store.members(&gid).is_some_and(|ms| ms.contains_key(m)))
            .map(|(m, _)| m)
            .collect();
        if !changed.is_empty() {
            version = st.touch_group(gid, &now)?;
            let name = st.group_names.get(&gid).cloned().unwrap_or_default();
            st.members_changed(changed, &now, &[&name])?;
        }
        let body = match want_body {
            true => {
                let rec = st.store.get(ResourceKind::Group, &gid).ok_or_else(|| not_found(ResourceKind::Group, id))?;
                Some(st.render(ResourceKind::Group, rec)?)
            }
            false => None,
        };
        st.commit()?;
        Ok(Patched { version, body })
    }

    /// The shared read-modify-write of PUT and PATCH: `change` computes the new body from the stored one
    /// (it may be called more than once, each time with the then-current body).
    ///
    /// A user's new body is computed outside the tenant's write lock — `change` (PATCH operations, schema
    /// normalisation) and the password hash are the costly part — and written only if the user's version is
    /// still the one `change` saw; otherwise it is computed again from the newer body (RFC 7644 §3.14: the
    /// version changes with every change). After [`OPTIMISTIC_WRITE_ATTEMPTS`] such races, and always for a
    /// group (whose members are part of what `change` sees), the whole change runs under the write lock.
    fn write(
        &self,
        kind: ResourceKind,
        id: &str,
        if_match: Option<&str>,
        admin: bool,
        change: impl Fn(&str, &Value) -> ScimResult<Value>,
    ) -> ScimResult<Value> {
        if kind == ResourceKind::User {
            for _ in 0..OPTIMISTIC_WRITE_ATTEMPTS {
                let (uid, version, old) = {
                    let st = self.read_state()?;
                    let rec = st.write_target(kind, id, if_match, admin)?;
                    (rec.id, rec.version, body_of(rec)?)
                };
                let mut body = change(&uid.to_string(), &old)?;
                resource::seal_password(&mut body, str_at(&old, "password"));
                let now = self.now();
                let mut st = self.write_state()?;
                let rec = st.write_target(kind, id, if_match, admin)?;
                if rec.version != version {
                    continue;
                }
                let (hidden, protected) = (rec.hidden, rec.protected);
                let out = st.finish_write(kind, id, uid, (hidden, protected), old, body, &now, admin)?;
                st.commit()?;
                return Ok(out);
            }
        }
        let now = self.now();
        let mut st = self.write_state()?;
        let rec = st.write_target(kind, id, if_match, admin)?;
        let (uid, flags) = (rec.id, (rec.hidden, rec.protected));
        // A group's members are part of what PUT and PATCH see; a user's derived `groups` is not.
        let old = match kind {
            ResourceKind::Group => st.render(kind, rec)?,
            ResourceKind::User => body_of(rec)?,
        };
        let mut body = change(&uid.to_string(), &old)?;
        resource::seal_password(&mut body, str_at(&old, "password"));
        let out = st.finish_write(kind, id, uid, flags, old, body, &now, admin)?;
        st.commit()?;
        Ok(out)
    }

    /// Deletes a resource (RFC 7644 §3.6). Users are never erased: they become inactive and hidden (GET
    /// answers 404, lists omit them) and leave their groups; a later POST with the same userName or
    /// externalId restores them. Groups are removed.
    pub fn delete(&self, kind: ResourceKind, id: &str, if_match: Option<&str>) -> ScimResult<()> {
        let now = self.now();
        let mut st = self.write_state()?;
        let rec = st.writable(kind, id)?;
        check_if_match(if_match, rec.version)?;
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
                let record = Record::new(uid, version, true, false, body.to_string());
                st.store.update(kind, record, keys);
                st.drop_member_everywhere(uid, &now)?;
                st.notify(uid, UserEvent::Deleted, None)?;
            }
            ResourceKind::Group => {
                let members: Vec<Uuid> =
                    st.store.members(&uid).map(|ms| ms.keys().copied().collect()).unwrap_or_default();
                st.set_members(uid, Vec::new());
                let name = st.group_names.remove(&uid).unwrap_or_default();
                st.store.remove(kind, &uid);
                st.drop_member_everywhere(uid, &now)?;
                st.members_changed(members, &now, &[&name])?;
            }
        }
        st.commit()
    }

    /// Lists resources of one or more kinds (RFC 7644 §3.4.2): filter, then sort, then page.
    /// Without `sortBy` the order is creation order, so `startIndex` paging never skips or repeats.
    pub fn list(&self, kinds: &[ResourceKind], query: &ListQuery) -> ScimResult<ListPage> {
        let parsed = match &query.filter {
            Some(f) if !f.trim().is_empty() => Some(filter::parse(f).map_err(|e| e.into_filter_error())?),
            _ => None,
        };
        let filters: Vec<Option<&Filter>> = match &parsed {
            Some(parsed) => {
                let mut out = Vec::new();
                let mut first_err = None;
                for k in kinds {
                    match filter::validate(parsed, k.resource_type()) {
                        Ok(()) => out.push(Some(parsed)),
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

        let st = self.read_state()?;
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
            let names_membership = query.names(membership_attribute(*kind));
            let membership = !query.omit_membership || names_membership;
            for rec in candidates.filter(|r| !r.hidden) {
                if f.is_none() && sort.is_none() && !window.contains(&total) {
                    // Unfiltered and unsorted: count without parsing what is outside the page.
                    total += 1;
                    continue;
                }
                if let Some(f) = f.filter(|_| !names_membership) {
                    if !st.may_match(*kind, rec, f) {
                        continue;
                    }
                }
                let body = match membership {
                    true => st.render(*kind, rec)?,
                    false => st.render_without_membership(*kind, rec)?,
                };
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

/// The attribute that lists a resource's memberships: a user's derived `groups` (RFC 7643 §4.1.2), a group's
/// `members` (§4.2).
pub fn membership_attribute(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::User => "groups",
        ResourceKind::Group => "members",
    }
}

/// The attribute the store indexes as a resource's name: `userName` (RFC 7643 §4.1.1), `displayName` (§4.2).
fn name_attribute(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::User => "userName",
        ResourceKind::Group => "displayName",
    }
}

/// Uses a secondary index when the filter pins an indexed attribute with `eq` (RFC 7644 §3.4.2.2); the
/// full filter is still evaluated on the candidates.
fn planned<'s>(st: &'s State, kind: ResourceKind, f: &Filter) -> Option<Vec<&'s Record>> {
    let name_attr = name_attribute(kind);
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

    fn clocked(store: Box<dyn Store>) -> (Directory, crate::clock::ManualClock) {
        let start = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().to_utc();
        let clock = crate::clock::ManualClock::new(start);
        let dir = Directory::with_store(DirectoryConfig::default(), Arc::new(clock.clone()), None, store).unwrap();
        (dir, clock)
    }

    fn ids(page: ListPage) -> Vec<String> {
        page.resources.iter().map(|(_, r)| r["id"].as_str().unwrap().to_string()).collect()
    }

    /// RFC 7644 §3.14: joining a group changes the user's representation (its derived `groups`), so the user
    /// gets a new version and `lastModified` — kept beside the stored JSON, which is not rewritten.
    #[test]
    fn joining_a_group_gives_the_member_a_new_version_without_changing_its_attributes() {
        let (dir, clock) = clocked(Box::new(MemoryStore::new()));
        let user = dir.create(ResourceKind::User, json!({"userName": "ada", "title": "Eng"})).unwrap();
        let other = dir.create(ResourceKind::User, json!({"userName": "bob"})).unwrap();
        let uid = user["id"].as_str().unwrap();
        clock.advance(chrono::Duration::seconds(60));
        let group = dir.create(ResourceKind::Group, json!({"displayName": "g", "members": [{"value": uid}]})).unwrap();
        let after = dir.get(ResourceKind::User, uid).unwrap();
        assert_ne!(after["meta"]["version"], user["meta"]["version"]);
        assert_eq!(after["meta"]["lastModified"], "2026-01-01T00:01:00.000Z");
        assert_eq!(after["meta"]["created"], user["meta"]["created"]);
        assert_eq!(after["title"], "Eng");
        assert_eq!(after["groups"][0]["value"], group["id"]);
        // filters and sorting see the new lastModified; the user not touched keeps its own
        let q = |f: &str| ListQuery { filter: Some(f.into()), ..Default::default() };
        let found = dir.list(&[ResourceKind::User], &q("meta.lastModified gt \"2026-01-01T00:00:30Z\"")).unwrap();
        assert_eq!(ids(found), vec![uid.to_string()]);
        assert_eq!(dir.get(ResourceKind::User, other["id"].as_str().unwrap()).unwrap()["meta"], other["meta"]);
        // the new version is the one If-Match compares with
        let stale = user["meta"]["version"].as_str().unwrap();
        let err = dir.replace(ResourceKind::User, uid, json!({"userName": "ada"}), Some(stale)).unwrap_err();
        assert!(matches!(err, ScimError::PreconditionFailed(_)), "{err:?}");
        assert_eq!(dir.get(ResourceKind::User, uid).unwrap()["title"], "Eng", "a refused PUT changed nothing");
        let current = after["meta"]["version"].as_str().unwrap();
        let put = dir.replace(ResourceKind::User, uid, json!({"userName": "ada"}), Some(current)).unwrap();
        assert!(put.get("title").is_none());
        assert_ne!(put["meta"]["version"], after["meta"]["version"]);
        // leaving bumps it again, and the group's version moves with its members
        clock.advance(chrono::Duration::seconds(60));
        let gid = group["id"].as_str().unwrap();
        let ops = json!({"Operations": [{"op": "remove", "path": format!("members[value eq \"{uid}\"]")}]});
        let patched = dir.patch_with(ResourceKind::Group, gid, ops, None, false).unwrap();
        assert_eq!(dir.get(ResourceKind::Group, gid).unwrap()["meta"]["version"], patched.version);
        assert_ne!(patched.version, group["meta"]["version"]);
        let left = dir.get(ResourceKind::User, uid).unwrap();
        assert_eq!(left["meta"]["lastModified"], "2026-01-01T00:02:00.000Z");
        assert!(left.get("groups").is_none());
    }

    /// Another request's change to the user, made while a write computes (no lock is held there).
    fn set_title(dir: &Directory, uid: &str, title: &str) {
        let ops = json!({"Operations": [{"op": "replace", "path": "title", "value": title}]});
        dir.patch(ResourceKind::User, uid, &ops, None).unwrap();
    }

    /// The change a racing write makes: `old` with a nickName.
    fn with_nick(old: &Value, nick: &str) -> ScimResult<Value> {
        let mut new = old.clone();
        new["nickName"] = json!(nick);
        Ok(new)
    }

    /// A user's new body is computed outside the write lock; when another change to the same user lands in
    /// between, it is computed again from the newer body, so neither change is lost (RFC 7644 §3.14 versions).
    #[test]
    fn a_write_that_races_another_change_to_the_same_user_is_computed_again_and_loses_nothing() {
        let (dir, _) = clocked(Box::new(MemoryStore::new()));
        let user = dir.create(ResourceKind::User, json!({"userName": "ada", "title": "Eng"})).unwrap();
        let uid = user["id"].as_str().unwrap().to_string();
        let calls = std::cell::Cell::new(0);
        let out = dir
            .write(ResourceKind::User, &uid, None, false, |_, old| {
                calls.set(calls.get() + 1);
                if calls.get() == 1 {
                    set_title(&dir, &uid, "CTO");
                }
                with_nick(old, "Countess")
            })
            .unwrap();
        assert_eq!(calls.get(), 2, "computed again after the race");
        assert_eq!(out["title"], "CTO", "the other change is kept");
        assert_eq!(out["nickName"], "Countess");
        let stored = dir.get(ResourceKind::User, &uid).unwrap();
        assert_eq!((stored["title"].clone(), stored["nickName"].clone()), (json!("CTO"), json!("Countess")));
    }

    /// After OPTIMISTIC_WRITE_ATTEMPTS lost races the change is computed under the write lock, so a user
    /// changed continuously is still written, once.
    #[test]
    fn a_write_that_keeps_losing_races_finishes_under_the_lock() {
        let (dir, _) = clocked(Box::new(MemoryStore::new()));
        let user = dir.create(ResourceKind::User, json!({"userName": "ada"})).unwrap();
        let uid = user["id"].as_str().unwrap().to_string();
        let calls = std::cell::Cell::new(0);
        let out = dir
            .write(ResourceKind::User, &uid, None, false, |_, old| {
                calls.set(calls.get() + 1);
                if calls.get() <= OPTIMISTIC_WRITE_ATTEMPTS {
                    set_title(&dir, &uid, &calls.get().to_string());
                }
                with_nick(old, "last")
            })
            .unwrap();
        assert_eq!(calls.get(), OPTIMISTIC_WRITE_ATTEMPTS + 1);
        assert_eq!(out["title"], OPTIMISTIC_WRITE_ATTEMPTS.to_string());
        assert_eq!(out["nickName"], "last");
    }

    /// A failing change leaves the user as it was, whichever attempt it fails in.
    #[test]
    fn a_write_whose_change_fails_after_a_race_changes_nothing_of_its_own() {
        let (dir, _) = clocked(Box::new(MemoryStore::new()));
        let user = dir.create(ResourceKind::User, json!({"userName": "ada", "title": "Eng"})).unwrap();
        let uid = user["id"].as_str().unwrap().to_string();
        let calls = std::cell::Cell::new(0);
        let err = dir
            .write(ResourceKind::User, &uid, None, false, |_, old| {
                calls.set(calls.get() + 1);
                if calls.get() == 1 {
                    set_title(&dir, &uid, "CTO");
                    return with_nick(old, "lost");
                }
                Err(ScimError::InvalidValue("refused on the second look".into()))
            })
            .unwrap_err();
        assert!(matches!(err, ScimError::InvalidValue(_)), "{err:?}");
        let stored = dir.get(ResourceKind::User, &uid).unwrap();
        assert_eq!(stored["title"], "CTO");
        assert!(stored.get("nickName").is_none(), "the first, raced result was never written");
    }

    /// RFC 7643 §4.2: a member named by `value` alone is displayed by the user's current displayName (else its
    /// userName), or the group's displayName.
    #[test]
    fn a_member_named_by_id_alone_is_displayed_by_its_current_name() {
        let (dir, _) = clocked(Box::new(MemoryStore::new()));
        let ada = dir.create(ResourceKind::User, json!({"userName": "ada"})).unwrap();
        let bob = dir.create(ResourceKind::User, json!({"userName": "bob", "displayName": "Bob"})).unwrap();
        let (aid, bid) = (ada["id"].as_str().unwrap(), bob["id"].as_str().unwrap());
        let ops = json!({"Operations": [{"op": "replace", "path": "displayName", "value": "Ada L"}]});
        dir.patch(ResourceKind::User, aid, &ops, None).unwrap();
        dir.replace(ResourceKind::User, bid, json!({"userName": "bob"}), None).unwrap();
        let inner = dir.create(ResourceKind::Group, json!({"displayName": "inner"})).unwrap();
        let members = json!([{"value": aid}, {"value": bid}, {"value": inner["id"]}]);
        let g = dir.create(ResourceKind::Group, json!({"displayName": "outer", "members": members})).unwrap();
        let shown: HashMap<String, String> = g["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["value"].as_str().unwrap().to_string(), m["display"].as_str().unwrap().to_string()))
            .collect();
        assert_eq!(shown[aid], "Ada L");
        assert_eq!(shown[bid], "bob", "a displayName removed by PUT falls back to userName");
        assert_eq!(shown[inner["id"].as_str().unwrap()], "inner");
    }

    /// The checks that depend on the current state run again on the state the write lands on: If-Match against
    /// a version bumped by a group join (412), a userName taken meanwhile (409), a user deleted meanwhile (404).
    /// Each leaves the user as the other change left it.
    #[test]
    fn a_raced_write_is_checked_against_the_state_it_lands_on() {
        let (dir, _) = clocked(Box::new(MemoryStore::new()));
        let ada = dir.create(ResourceKind::User, json!({"userName": "ada"})).unwrap();
        let uid = ada["id"].as_str().unwrap().to_string();
        let seen = ada["meta"]["version"].as_str().unwrap().to_string();
        // If-Match: a group join bumps the version while the PATCH computes
        let joined = std::cell::Cell::new(false);
        let err = dir
            .write(ResourceKind::User, &uid, Some(&seen), false, |_, old| {
                if !joined.replace(true) {
                    dir.create(ResourceKind::Group, json!({"displayName": "g", "members": [{"value": uid}]})).unwrap();
                }
                with_nick(old, "Countess")
            })
            .unwrap_err();
        assert!(matches!(err, ScimError::PreconditionFailed(_)), "{err:?}");
        assert!(dir.get(ResourceKind::User, &uid).unwrap().get("nickName").is_none());
        // uniqueness: another user takes the new userName meanwhile
        let taken = std::cell::Cell::new(false);
        let err = dir
            .write(ResourceKind::User, &uid, None, false, |_, old| {
                if !taken.replace(true) {
                    dir.create(ResourceKind::User, json!({"userName": "lovelace"})).unwrap();
                }
                let mut new = old.clone();
                new["userName"] = json!("Lovelace");
                Ok(new)
            })
            .unwrap_err();
        assert!(matches!(err, ScimError::Uniqueness(_)), "{err:?}");
        assert_eq!(dir.get(ResourceKind::User, &uid).unwrap()["userName"], "ada");
        // deletion meanwhile
        let deleted = std::cell::Cell::new(false);
        let err = dir
            .write(ResourceKind::User, &uid, None, false, |_, old| {
                if !deleted.replace(true) {
                    dir.delete(ResourceKind::User, &uid, None).unwrap();
                }
                with_nick(old, "Countess")
            })
            .unwrap_err();
        assert!(matches!(err, ScimError::NotFound(_)), "{err:?}");
        assert!(matches!(dir.get(ResourceKind::User, &uid), Err(ScimError::NotFound(_))));
    }

    /// A user restored by a re-POST (deleted through SCIM, same userName) is displayed by its new name.
    #[test]
    fn a_restored_user_is_displayed_as_a_member_by_its_new_name() {
        let (dir, _) = clocked(Box::new(MemoryStore::new()));
        let ada = dir.create(ResourceKind::User, json!({"userName": "ada", "displayName": "Old"})).unwrap();
        let uid = ada["id"].as_str().unwrap();
        dir.delete(ResourceKind::User, uid, None).unwrap();
        let back = dir.create(ResourceKind::User, json!({"userName": "ada", "displayName": "New"})).unwrap();
        assert_eq!(back["id"], ada["id"], "restored, not duplicated");
        let g = dir.create(ResourceKind::Group, json!({"displayName": "g", "members": [{"value": uid}]})).unwrap();
        assert_eq!(g["members"][0]["display"], "New");
    }

    /// RFC 7644 §3.12 order kept: an unknown group is a 404 even when its membership PATCH is also malformed.
    #[test]
    fn a_malformed_membership_patch_on_an_unknown_group_is_not_found() {
        let (dir, _) = clocked(Box::new(MemoryStore::new()));
        let bad = json!({"Operations": [{"op": "add", "path": "members", "value": [{"value": 42}]}]});
        let missing = "2819c223-7f76-453a-919d-413861904646";
        let err = dir.patch_with(ResourceKind::Group, missing, bad.clone(), None, false).unwrap_err();
        assert!(matches!(err, ScimError::NotFound(_)), "{err:?}");
        let g = dir.create(ResourceKind::Group, json!({"displayName": "g"})).unwrap();
        let err = dir.patch_with(ResourceKind::Group, g["id"].as_str().unwrap(), bad, None, false).unwrap_err();
        assert_eq!(err.status(), 400, "{err:?}");
        assert!(dir.get(ResourceKind::Group, g["id"].as_str().unwrap()).unwrap().get("members").is_none());
    }

    #[test]
    fn long_work_is_announced_until_its_guard_is_dropped() {
        let (dir, _) = clocked(Box::new(MemoryStore::new()));
        let dir = Arc::new(dir);
        assert!(!dir.long_work_in_progress());
        let first = dir.announce_long_work();
        let second = dir.announce_long_work();
        drop(first);
        assert!(dir.long_work_in_progress(), "one announcement is still open");
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            let _held = second;
            panic!("boom")
        }));
        assert!(panicked.is_err());
        assert!(!dir.long_work_in_progress(), "the announcement ends with the panic");
        assert!(!dir.commits_to_disk(), "a memory store does no I/O");
    }

    /// A call made without waiting stops where it would wait for the lock, having changed nothing, and the same
    /// call made afterwards (elsewhere, waiting) does the work.
    #[test]
    fn a_call_without_waiting_stops_at_a_taken_lock_and_changes_nothing() {
        let (dir, _) = clocked(Box::new(MemoryStore::new()));
        let user = dir.create(ResourceKind::User, json!({"userName": "ada"})).unwrap();
        let uid = user["id"].as_str().unwrap().to_string();
        let ops = json!({"Operations": [{"op": "replace", "path": "title", "value": "CTO"}]});
        {
            let _held = dir.state.read();
            let out = dir.without_waiting(|| dir.patch(ResourceKind::User, &uid, &ops, None));
            assert!(out.is_none(), "a write waits for a reader: it must not run");
            let created = dir.without_waiting(|| dir.create(ResourceKind::User, json!({"userName": "bob"})));
            assert!(created.is_none());
            let read = dir.without_waiting(|| dir.get(ResourceKind::User, &uid)).expect("readers share the lock");
            assert!(read.unwrap().get("title").is_none());
        }
        {
            let _held = dir.state.write();
            assert!(dir.without_waiting(|| dir.get(ResourceKind::User, &uid)).is_none());
        }
        assert!(dir.get(ResourceKind::User, &uid).unwrap().get("title").is_none(), "nothing changed");
        let q = ListQuery { filter: Some("userName eq \"bob\"".into()), ..Default::default() };
        assert_eq!(dir.list(&[ResourceKind::User], &q).unwrap().total_results, 0);
        let done = dir.without_waiting(|| dir.patch(ResourceKind::User, &uid, &ops, None)).expect("the lock is free");
        assert_eq!(done.unwrap()["title"], "CTO");
        // errors of the call itself are answers, not a taken lock
        let missing = dir.without_waiting(|| dir.get(ResourceKind::User, "nope")).expect("answered");
        assert!(matches!(missing, Err(ScimError::NotFound(_))));
    }

    #[test]
    fn indexed_lookups_are_the_eq_filters_on_id_name_and_external_id() {
        let q = |f: &str| ListQuery { filter: Some(f.into()), ..Default::default() };
        let user = ResourceKind::User;
        for f in [
            "userName eq \"ada\"",
            "USERNAME eq \"ada\"",
            "externalId eq \"7\"",
            "id eq \"2819c223-7f76-453a-919d-413861904646\"",
            "userName eq \"ada\" and active eq true",
            "urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"ada\"",
        ] {
            assert!(q(f).is_indexed_lookup(user), "{f}");
        }
        for f in [
            "userName co \"ad\"",
            "userName eq \"a\" or title eq \"b\"",
            "title eq \"CTO\"",
            "userName eq",
            "displayName eq \"g\"",
        ] {
            assert!(!q(f).is_indexed_lookup(user), "{f}");
        }
        assert!(q("displayName eq \"g\"").is_indexed_lookup(ResourceKind::Group));
        assert!(!ListQuery::default().is_indexed_lookup(user), "no filter scans the collection");
    }

    /// Okta's and Entra's plain member lists skip normalising (`MemberRequest::plain_list`); any other shape is
    /// normalised first. Both must give the same members, and the normalising path keeps its checks.
    #[test]
    fn plain_and_other_member_shapes_add_the_same_members() {
        let (dir, _) = clocked(Box::new(MemoryStore::new()));
        let user = |n: &str, extra: Value| {
            let mut body = json!({"userName": n});
            body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            dir.create(ResourceKind::User, body).unwrap()["id"].as_str().unwrap().to_string()
        };
        let (a, b, c) = (user("a", json!({"displayName": "Ann"})), user("b", json!({})), user("c", json!({})));
        let group = |n: &str| dir.create(ResourceKind::Group, json!({"displayName": n})).unwrap()["id"].clone();
        let (g1, g2) = (group("g1"), group("g2"));
        let add = |g: &Value, members: Value| {
            let ops = json!({"Operations": [{"op": "add", "path": "members", "value": members}]});
            dir.patch_with(ResourceKind::Group, g.as_str().unwrap(), ops, None, false)
        };
        add(&g1, json!([{"value": a}, {"value": b, "display": "Bee"}])).unwrap();
        add(&g2, json!([{"Value": a, "type": "User"}, {"value": b, "display": "Bee", "$ref": null}])).unwrap();
        let members = |g: &Value| dir.get(ResourceKind::Group, g.as_str().unwrap()).unwrap()["members"].clone();
        assert_eq!(members(&g1), members(&g2));
        assert_eq!(members(&g1)[0]["display"], "Ann", "display taken from the member");
        assert_eq!(members(&g1)[1]["display"], "Bee", "display as given");
        let before = dir.get(ResourceKind::Group, g2.as_str().unwrap()).unwrap();
        let err = add(&g2, json!([{"value": c, "type": "Group"}])).unwrap_err();
        assert!(matches!(err, ScimError::InvalidValue(_)), "{err:?}");
        assert_eq!(dir.get(ResourceKind::Group, g2.as_str().unwrap()).unwrap(), before, "nothing changed");
    }

    /// The data file keeps a touched record with its meta current, so a restart shows the same version.
    #[test]
    fn a_touch_survives_reopening_the_data_file() {
        let dir_path = tempfile::tempdir().unwrap();
        let path = dir_path.path().join("data.sqlite");
        let open = || {
            let db = crate::sqlite::Db::open(&path, crate::sqlite::SyncMode::Normal).unwrap();
            let journal = crate::sqlite::Journal::new(db, "t");
            Box::new(crate::sqlite::SqliteStore::load(journal).unwrap()) as Box<dyn Store>
        };
        let (before, uid) = {
            let (dir, clock) = clocked(open());
            let user = dir.create(ResourceKind::User, json!({"userName": "ada"})).unwrap();
            let uid = user["id"].as_str().unwrap().to_string();
            clock.advance(chrono::Duration::seconds(5));
            dir.create(ResourceKind::Group, json!({"displayName": "g", "members": [{"value": uid}]})).unwrap();
            (dir.get(ResourceKind::User, &uid).unwrap(), uid)
        };
        let (dir, _) = clocked(open());
        let again = dir.get(ResourceKind::User, &uid).unwrap();
        assert_eq!(again["meta"], before["meta"]);
        assert_eq!(again["meta"]["lastModified"], "2026-01-01T00:00:05.000Z");
        assert_eq!(again["groups"], before["groups"]);
    }

    /// A page asked without the membership attribute is rendered without it, unless the filter or `sortBy`
    /// names it: then the filter must still see it (RFC 7644 §3.4.2.2), and the projection drops it later.
    #[test]
    fn a_page_without_membership_leaves_it_out_unless_the_filter_or_sort_names_it() {
        let (dir, _) = clocked(Box::new(MemoryStore::new()));
        let uid =
            dir.create(ResourceKind::User, json!({"userName": "ada"})).unwrap()["id"].as_str().unwrap().to_string();
        let g = dir.create(ResourceKind::Group, json!({"displayName": "g", "members": [{"value": uid}]})).unwrap();
        let gid = g["id"].as_str().unwrap().to_string();
        let page = |kind: ResourceKind, filter: Option<String>, sort: Option<&str>| {
            let q =
                ListQuery { filter, sort_by: sort.map(str::to_string), omit_membership: true, ..Default::default() };
            dir.list(&[kind], &q).unwrap()
        };
        let users = page(ResourceKind::User, None, None);
        assert_eq!(users.total_results, 1);
        assert!(users.resources[0].1.get("groups").is_none());
        assert_eq!(users.resources[0].1["userName"], "ada", "everything else is there");
        let groups = page(ResourceKind::Group, None, None);
        assert!(groups.resources[0].1.get("members").is_none());
        let by_group = page(ResourceKind::User, Some(format!("groups.value eq \"{gid}\"")), None);
        assert_eq!(by_group.total_results, 1, "the filter sees the user's groups");
        assert_eq!(by_group.resources[0].1["groups"][0]["value"], gid.as_str());
        let by_member = page(ResourceKind::Group, Some(format!("Members[value eq \"{uid}\"]")), None);
        assert_eq!(by_member.total_results, 1, "the filter sees the group's members, named in any case");
        let sorted = page(ResourceKind::Group, None, Some("members.value"));
        assert!(sorted.resources[0].1.get("members").is_some(), "sortBy names them");
        let full = dir.list(&[ResourceKind::User], &ListQuery::default()).unwrap();
        assert_eq!(full.resources[0].1["groups"][0]["value"], gid.as_str(), "rendered by default");
    }
}
