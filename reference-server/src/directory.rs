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

mod answers;
mod group_set;
mod list;
mod members;
mod prescreen;
mod render;
mod rollback;
mod scan;
mod textmatch;
use rollback::WriteTxn;

pub use answers::{patch_answers_with_body, Fetched};
use group_set::GroupSet;
pub use list::{membership_attribute, ListPage, ListQuery};
use members::{membership_ops, MemberOp};

#[cfg(test)]
mod tests;

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
    /// The user as SCIM renders it (RFC 7643 §4.1), with `meta`.
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
    memberships: HashMap<Uuid, GroupSet>,
    /// group id → displayName, for rendering a user's `groups`.
    group_names: HashMap<Uuid, String>,
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

/// The record a PUT or PATCH writes, as [`State::write_target`] found it: its kind, the id the request named,
/// its uid, its portal flags, and whether the portal's admin API (rather than SCIM) writes it.
#[derive(Clone, Copy)]
struct Written<'a> {
    kind: ResourceKind,
    id: &'a str,
    uid: Uuid,
    hidden: bool,
    protected: bool,
    admin: bool,
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
    /// `target` is the record written, as [`State::write_target`] found it.
    fn finish_write(&mut self, target: &Written<'_>, old: Value, mut body: Value, now: &str) -> ScimResult<Value> {
        let st = self;
        let Written { kind, id, uid, hidden, protected, admin } = *target;
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
        st.store.update(kind, Record::of_value(uid, version, hidden, protected, &body), keys);
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
        let mut st =
            State { store, version: 0, memberships: HashMap::new(), group_names: HashMap::new(), hooks, damaged: None };
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
        if kind == ResourceKind::Group {
            st.group_names.insert(id, str_at(&body, "displayName").unwrap_or_default().to_string());
        }
        let record = Record::of_value(id, version, protected, protected, &body);
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
            let (member_ops, same_name) = self.after_unchanged_rename(id, &ops)?;
            if let Some(steps) = membership_ops(member_ops).map_err(|e| self.missing_first(kind, id, e))? {
                // `None`: the group was renamed since the rename was set aside; the general path takes it all
                if let Some(done) = self.patch_members(id, steps, if_match, want_body, same_name.as_deref())? {
                    return Ok(done);
                }
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
        let version = crate::store::version_of(&body).unwrap_or_default().to_string();
        Ok(Patched { version, body: want_body.then_some(body) })
    }

    /// The membership fast path of [`Directory::patch_with`]: every member to add is checked first (so a bad
    /// one changes nothing), then the steps are applied in order to the group's member set. Costs grow with
    /// the members named, not with the group. `same_name`: the group's name an unchanged rename set aside
    /// expected ([`Directory::after_unchanged_rename`]); when the group has another one under the write lock,
    /// nothing is done and the answer is `None`, for the general path to apply the whole request.
    fn patch_members(
        &self,
        id: &str,
        steps: Vec<MemberOp>,
        if_match: Option<&str>,
        want_body: bool,
        same_name: Option<&str>,
    ) -> ScimResult<Option<Patched>> {
        let now = self.now();
        let mut st = self.write_state()?;
        let rec = st.writable(ResourceKind::Group, id)?;
        if same_name.is_some_and(|name| st.group_names.get(&rec.id).map(String::as_str) != Some(name)) {
            return Ok(None);
        }
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
                    // one pass over the group for the whole step, whatever the number removed
                    let members = st.store.members(&gid);
                    let mut gone = HashSet::with_capacity(ids.len());
                    for m in ids {
                        let was = members.is_some_and(|ms| ms.contains_key(m));
                        before.entry(*m).or_insert(was);
                        if was {
                            gone.insert(*m);
                        }
                    }
                    st.remove_members(&gid, &gone);
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
        Ok(Some(Patched { version, body }))
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
                let target = Written { kind, id, uid, hidden: rec.hidden, protected: rec.protected, admin };
                let out = st.finish_write(&target, old, body, &now)?;
                st.commit()?;
                return Ok(out);
            }
        }
        let now = self.now();
        let mut st = self.write_state()?;
        let rec = st.write_target(kind, id, if_match, admin)?;
        let target = Written { kind, id, uid: rec.id, hidden: rec.hidden, protected: rec.protected, admin };
        let uid = rec.id;
        // A group's members are part of what PUT and PATCH see; a user's derived `groups` is not.
        let old = match kind {
            ResourceKind::Group => st.render(kind, rec)?,
            ResourceKind::User => body_of(rec)?,
        };
        let mut body = change(&uid.to_string(), &old)?;
        resource::seal_password(&mut body, str_at(&old, "password"));
        let out = st.finish_write(&target, old, body, &now)?;
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
                let record = Record::of_value(uid, version, true, false, &body);
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
