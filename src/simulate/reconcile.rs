//! Reconciliation — nothing lost: reads the server's users and groups back (paging /Users and /Groups, GET by
//! id where a page omits members) and compares them with the source directory. Every difference names the
//! object, the attribute, what was expected, what the server holds, and the requests that touched the object.
//!
//! Matching: a source user is found by `externalId` and by `userName` (case-insensitive, RFC 7643 §4.1.1); two
//! server users for one source user are a duplicate. A group is found by `displayName`.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use futures::StreamExt;
use serde::Serialize;
use serde_json::{json, Value};

use crate::idp::{self, get_ci, Dialect, ScimRequest, UserAttr};
use crate::scenario::Method;

use super::http::{Answer, Http, JournalEntry, ObjRef, OpKind};
use super::journal::Journal;
use super::model::Model;
use super::server_user::ServerUser;

/// What kind of difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum DiffKind {
    /// In the source, not on the server.
    Missing,
    /// On the server, not (or no longer) in the source.
    Extra,
    /// More than one server object for one source object.
    Duplicate,
    /// An attribute differs.
    Attribute,
    /// `active` differs.
    Active,
    /// A member is missing from a group.
    MissingMember,
    /// A group has a member it should not have.
    ExtraMember,
    /// The manager differs.
    Manager,
}

/// One difference between the source and the server.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Difference {
    /// Its kind.
    pub kind: DiffKind,
    /// `User ada.lovelace@example.test` or `Group Sales EMEA`.
    pub object: String,
    /// The server id, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The attribute (a SCIM path).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    /// Expected value.
    pub expected: Value,
    /// Actual value.
    pub actual: Value,
    /// The requests that touched the object (most recent last, at most 20).
    pub requests: Vec<String>,
    #[serde(skip)]
    obj: ObjRef,
}

/// The reconciliation result.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reconciliation {
    /// Objects compared (source users and groups expected, plus server objects read): the sum of `counted`.
    pub checked: usize,
    /// What `checked` is made of, per side and kind.
    #[serde(default)]
    pub counted: Counted,
    /// Number of differences found among the objects that could be read (a failed read is none of them).
    pub drift: usize,
    /// The differences (at most the display limit; `drift` counts all).
    pub differences: Vec<Difference>,
    /// Every difference counted by group (`missing`, `extra`, `duplicate`, `attribute drift`, `membership`,
    /// `manager`; [`group_of`]), before the display limit.
    pub by_kind: std::collections::BTreeMap<String, usize>,
    /// Source objects that could not be verified because reading them back failed: every user or group of a
    /// collection whose paging failed, and the members of a group whose `GET /Groups/{id}` failed. Counted
    /// apart from `drift`: a failed read says nothing about the server's state.
    pub unverified: usize,
    /// Set when the read-back itself failed (the server could not be read completely): the verdict is "could
    /// not read back", whatever `drift` says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_error: Option<String>,
    /// Server objects that are not the simulator's (no source object matches them and this run never created
    /// them): left out of the differences unless `--strict-extra`, counted here.
    #[serde(default)]
    pub strangers: usize,
}

/// The objects a reconciliation compared, per side and kind: the users and groups of the source directory it
/// judged the server against, and the users and groups read back from the server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counted {
    /// Users of the source directory.
    pub source_users: usize,
    /// Of the source users, those not expected on the server: out of scope (unassigned or deleted) and never
    /// provisioned, or deleted by an engine that deletes users (Entra).
    pub expected_absent: usize,
    /// Groups of the source directory.
    pub source_groups: usize,
    /// Users read back from the server.
    pub server_users: usize,
    /// Groups read back from the server.
    pub server_groups: usize,
}

/// Which server objects "extra" is judged for.
#[derive(Debug, Clone, Default)]
pub struct ExtraScope<'a> {
    /// `--strict-extra`: every server object the source does not hold is extra.
    pub strict: bool,
    /// Ids this run's creates were answered with: an object with one of them is the simulator's even when no
    /// source object matches it any more.
    pub created: HashSet<&'a str>,
}

impl ExtraScope<'_> {
    /// Whether an unmatched server object with `id` is judged as extra.
    fn judges(&self, id: Option<&str>) -> bool {
        self.strict || id.is_some_and(|id| self.created.contains(id))
    }
}

/// A server group as the comparison needs it.
struct ServerGroup {
    id: Option<String>,
    display_name: Option<String>,
    /// Member ids; `None` when the representation left `members` out.
    members: Option<Vec<String>>,
}

impl ServerGroup {
    fn from_json(g: Value) -> ServerGroup {
        ServerGroup {
            id: s(get_ci(&g, "id")),
            display_name: s(get_ci(&g, "displayName")),
            members: get_ci(&g, "members").map(|ms| {
                ms.as_array().map(|ms| ms.iter().filter_map(|m| s(get_ci(m, "value"))).collect()).unwrap_or_default()
            }),
        }
    }
}

/// A spawned page read that is aborted when dropped unfinished (an early return of [`read_all`]), so no read
/// goes on after the reading stopped.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> std::future::Future for AbortOnDrop<T> {
    type Output = Result<T, tokio::task::JoinError>;
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0).poll(cx)
    }
}

/// One collection's paging: where, how many per page, extra query parameters, and what each resource becomes.
struct Paging<T> {
    collection: &'static str,
    count: usize,
    /// Added to every page request (for example `excludedAttributes`).
    extra: Option<(&'static str, &'static str)>,
    take: fn(Value) -> T,
}

impl<T> Clone for Paging<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Paging<T> {}

/// Why a page could not be read: the message, and the HTTP status when the server answered with an error.
struct PageError {
    status: Option<u16>,
    message: String,
}

impl From<String> for PageError {
    fn from(message: String) -> Self {
        PageError { status: None, message }
    }
}

/// One page: its resources, each turned into a `T`, and the server's `totalResults`.
async fn read_page<T>(http: &Http, p: Paging<T>, start: usize, count: usize) -> Result<(Vec<T>, usize), PageError> {
    let d = http.options().dialect;
    let collection = p.collection;
    let mut req = d.page(collection, start, count);
    if let Some((k, v)) = p.extra {
        req = req.query(k, v);
    }
    let out_page = http.send_reading(OpKind::ReconcileRead, ObjRef::None, &req, Answer::Raw).await;
    if !out_page.ok() {
        let status = out_page.status();
        let answer = match status {
            0 => "got no response".to_string(),
            s => format!("answered {s}"),
        };
        let message = format!("GET /{collection}?startIndex={start}&count={count} {answer}");
        return Err(PageError { status: Some(status), message });
    }
    if out_page.too_large() {
        return Err(format!(
            "GET /{collection}?startIndex={start}&count={count}: the answer is larger than {} MiB; reading stopped",
            super::http::MAX_RESPONSE_BODY >> 20
        )
        .into());
    }
    // read as it streams, one resource at a time (a page holds up to 500)
    let body = out_page.into_raw().unwrap_or_default();
    let (res, total) = super::page::parse(&body, p.take)
        .ok_or_else(|| format!("GET /{collection}: the answer is not a JSON ListResponse"))?;
    Ok((res, total))
}

/// Pages a collection; returns its resources, or why reading stopped. Bounded: at most `limit` resources and
/// a page count derived from it, so a hostile server cannot make the simulator loop or grow without end.
///
/// The first page tells `totalResults` and the page size the server really uses (it may lower `count`, RFC 7644
/// §3.4.2.4); the remaining pages are then read `--concurrency` at a time. When those pages do not add up to
/// `totalResults` (a short page, a collection that changed), the collection is read again one page at a time.
///
/// A first page refused with 400 or 501 because of `p.extra` (a server without `excludedAttributes`, RFC 7644
/// §3.4.2.5) is asked again without it, and so is every later page; any other error stops the reading.
async fn read_all<T: Send + 'static>(http: &Arc<Http>, mut p: Paging<T>, limit: usize) -> Result<Vec<T>, String> {
    let (collection, count) = (p.collection, p.count);
    let max_pages = limit / count.max(1) + 100;
    let (first, total) = match read_page(http, p, 1, count).await {
        Err(PageError { status: Some(400 | 501), .. }) if p.extra.is_some() => {
            p.extra = None;
            read_page(http, p, 1, count).await.map_err(|e| e.message)?
        }
        read => read.map_err(|e| e.message)?,
    };
    if first.len() > limit || total > limit {
        return Err(format!("/{collection} holds more than {limit} resources; reading stopped"));
    }
    let stride = first.len();
    let mut out = first;
    if stride > 0 && total > stride {
        let pages = (total - stride).div_ceil(stride).min(max_pages);
        let starts: Vec<usize> = (1..=pages).map(|k| 1 + k * stride).collect();
        let concurrency = http.options().concurrency.max(1);
        // Each page is read and taken apart in its own task, so that work spreads over the runtime's workers.
        // Reading stops at the first error; the pages still in flight are then aborted (`AbortOnDrop`).
        let mut read = futures::stream::iter(starts)
            .map(|start| {
                let http = http.clone();
                AbortOnDrop(tokio::spawn(async move { read_page(&http, p, start, stride).await }))
            })
            .buffered(concurrency);
        let mut whole = true;
        while let Some(joined) = read.next().await {
            let (res, _) = joined.map_err(|e| format!("reading a page stopped: {e}"))?.map_err(|e| e.message)?;
            whole &= res.len() == stride || out.len() + res.len() == total;
            out.extend(res);
            if out.len() > limit {
                return Err(format!("/{collection} holds more than {limit} resources; reading stopped"));
            }
        }
        if whole && out.len() == total {
            return Ok(out);
        }
        // One page at a time below, from the first page again.
        out.truncate(stride);
        out.shrink_to_fit();
    }
    // One page at a time, following what each page answered.
    let mut start = 1 + out.len();
    let mut total = total;
    if out.is_empty() || start > total {
        return Ok(out);
    }
    for _ in 0..max_pages {
        let (res, t) = read_page(http, p, start, count).await.map_err(|e| e.message)?;
        total = t;
        if res.is_empty() {
            break;
        }
        start += res.len();
        out.extend(res);
        if out.len() > limit {
            return Err(format!("/{collection} holds more than {limit} resources; reading stopped"));
        }
        if start > total {
            break;
        }
    }
    Ok(out)
}

/// Server users by one key (`userName` lowercased, or `externalId`): every user with each key, in the order
/// the users were read. Keys are borrowed from the users read back, and a lowercased `userName` is copied only
/// when it is not lowercase already. A sorted `Vec` of (key, index) pairs, 32 bytes a user, looked up by
/// binary search: the hash map it replaces (with a second map for shared keys) held about 70 MB a key at a
/// million users, at the moment the read-back's memory peaks (everything read, and these indexes beside it).
struct ByKey<'a> {
    /// Sorted by key; a stable sort, so users of one key keep their reading order.
    entries: Vec<(Cow<'a, str>, u32)>,
}

impl<'a> ByKey<'a> {
    /// The index of `keys`: each a key and the position of its user in the reading order (below 2^32, as the
    /// read-back stops at its `limit` long before).
    fn new(capacity: usize, keys: impl IntoIterator<Item = (Cow<'a, str>, usize)>) -> ByKey<'a> {
        let mut entries = Vec::with_capacity(capacity);
        entries.extend(keys.into_iter().map(|(key, k)| (key, k as u32)));
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        entries.shrink_to_fit();
        ByKey { entries }
    }

    /// The users with `key`, in the order they were read.
    fn get(&self, key: &str) -> impl Iterator<Item = usize> + '_ {
        let start = self.entries.partition_point(|(k, _)| &**k < key);
        let end = self.entries.partition_point(|(k, _)| &**k <= key);
        self.entries[start..end].iter().map(|&(_, k)| k as usize)
    }
}

/// `s` lowercased (as `str::to_lowercase`), borrowed when it is lowercase already.
fn lowercase(s: &str) -> Cow<'_, str> {
    let unchanged = |c: char| {
        let mut lower = c.to_lowercase();
        lower.next() == Some(c) && lower.next().is_none()
    };
    match s.chars().all(unchanged) {
        true => Cow::Borrowed(s),
        false => Cow::Owned(s.to_lowercase()),
    }
}

fn s(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_string)
}

/// Reads the server back and compares it with `model`.
///
/// `scope` says which unmatched server objects are judged as extra: by default only those this run created
/// (objects of other origin are counted in `strangers`), with `--strict-extra` all of them.
/// `ever_provisioned(i)` says whether the engine ever provisioned model user `i`. A user out of scope
/// (unassigned or deleted) that it never provisioned (its create failed, then it left scope) is not judged:
/// the engine neither creates nor disables it (docs/engines.md "Deprovisioning"), and a server may hold it if it
/// applied a create it answered with an error. At most `max_listed` differences are listed; `drift` counts
/// them all.
pub async fn reconcile(
    http: &Arc<Http>,
    model: &Model,
    ever_provisioned: &(dyn Fn(u32) -> bool + Sync),
    max_listed: usize,
    scope: &ExtraScope<'_>,
) -> Reconciliation {
    let d = http.options().dialect;
    let users_expected = model.users.len();
    let limit = (users_expected + model.groups.len()) * 4 + 10_000;
    let mut diffs: Vec<Difference> = Vec::new();
    let mut read_error = None;
    // The users' derived `groups` are not compared (memberships are read from the groups), so the pages leave
    // them out (RFC 7644 §3.4.2.5), which spares the server rendering them. A server that refuses the
    // parameter (400 or 501 on the first page) is read without it.
    let users = Paging {
        collection: "Users",
        count: 500,
        extra: Some(("excludedAttributes", "groups")),
        take: ServerUser::from_json,
    };
    let groups = Paging { collection: "Groups", count: 50, extra: None, take: ServerGroup::from_json };
    // Users and groups are read at the same time, so the end of one overlaps the other.
    // a target without a Groups endpoint got no group (super::scope): there is nothing to read back
    let read_groups = async {
        match http.scope.groups {
            true => read_all(http, groups, limit).await,
            false => Ok(Vec::new()),
        }
    };
    let (server_users, server_groups) = tokio::join!(read_all(http, users, limit), read_groups);
    let (users_read, groups_read) = (server_users.is_ok(), server_groups.is_ok());
    let mut unverified = 0usize;
    let mut expected_absent = 0usize;
    let mut strangers = 0usize;
    let server_users = server_users.unwrap_or_else(|e| {
        read_error = Some(e);
        Vec::new()
    });
    let mut server_groups = server_groups.unwrap_or_else(|e| {
        read_error.get_or_insert(e);
        Vec::new()
    });
    // A page may leave out members (Entra's own reads exclude them); read such groups by id, concurrently.
    let without_members: Vec<(usize, String)> = server_groups
        .iter()
        .enumerate()
        .filter(|(_, g)| g.members.is_none())
        .filter_map(|(k, g)| g.id.clone().map(|id| (k, id)))
        .collect();
    let full: Vec<(usize, Option<ServerGroup>)> = futures::stream::iter(without_members)
        .map(|(k, id)| async move {
            let req = ScimRequest { method: Method::GET, path: format!("/Groups/{id}"), query: vec![], body: None };
            let out = http.send(OpKind::ReconcileRead, ObjRef::None, &req).await;
            (k, out.ok().then(|| out.into_json()).flatten().map(ServerGroup::from_json))
        })
        .buffer_unordered(http.options().concurrency.max(1))
        .collect()
        .await;
    // a group whose read by id failed: its members are unknown, not empty
    let mut unreadable: HashSet<usize> = HashSet::new();
    for (k, g) in full {
        match g {
            Some(g) => server_groups[k] = g,
            None => {
                unreadable.insert(k);
            }
        }
    }

    // Users.
    let by_name = ByKey::new(
        server_users.len(),
        server_users.iter().enumerate().filter_map(|(k, u)| u.user_name().map(|n| (lowercase(n), k))),
    );
    let by_ext = ByKey::new(
        server_users.len(),
        server_users.iter().enumerate().filter_map(|(k, u)| u.external_id().map(|e| (Cow::Borrowed(e), k))),
    );
    let deletes_users = d.user_delete("x").is_some();
    // claimed[k]: server user k is some source user's
    let mut claimed: Vec<bool> = vec![false; server_users.len()];
    // matched[i]: the server user source user i was compared with, when it has an id
    let mut matched: Vec<Option<u32>> = vec![None; model.users.len()];
    let matched_id = |m: Option<u32>| m.and_then(|k| server_users[k as usize].id());
    let user_label = |i: usize| format!("User {}", model.users[i].user_name);
    for (i, u) in model.users.iter().enumerate() {
        let mut found: Vec<usize> = by_ext.get(&u.external_id).collect();
        for k in by_name.get(&lowercase(&u.user_name)) {
            if !found.contains(&k) {
                found.push(k);
            }
        }
        for &k in &found {
            claimed[k] = true;
        }
        let out_of_scope = !u.assigned || u.deleted;
        if out_of_scope && !ever_provisioned(i as u32) {
            expected_absent += 1;
            continue;
        }
        if !users_read {
            unverified += 1;
            continue;
        }
        // Okta never deletes users (docs/okta.md §2): a deleted source user stays on the server, inactive.
        let expected = u.ever_assigned && (!u.deleted || !deletes_users);
        let obj = ObjRef::User(i as u32);
        let id_at = |k: usize| server_users[k].id().map(str::to_string);
        if !expected {
            expected_absent += 1;
            for &k in &found {
                diffs.push(diff(DiffKind::Extra, user_label(i), id_at(k), None, json!(null), json!("present"), obj));
            }
            continue;
        }
        match found.len() {
            0 => {
                diffs.push(diff(DiffKind::Missing, user_label(i), None, None, json!("present"), json!(null), obj));
                continue;
            }
            1 => {}
            _ => {
                let ids: Vec<Value> = found.iter().map(|&k| json!(id_at(k))).collect();
                diffs.push(diff(DiffKind::Duplicate, user_label(i), None, None, json!(1), Value::Array(ids), obj));
                // Compare the one that carries the current userName, if any.
            }
        }
        let k = found
            .iter()
            .copied()
            .find(|&k| server_users[k].user_name().is_some_and(|n| n.eq_ignore_ascii_case(&u.user_name)))
            .unwrap_or(found[0]);
        let su = &server_users[k];
        if let Some(slot) = matched.get_mut(i) {
            *slot = su.id().is_some().then_some(k as u32);
        }
        let mut attrs = model.attrs(i as u32);
        if u.deleted {
            attrs.active = false;
        }
        // A user out of scope is disabled and then left alone (docs/engines.md "Deprovisioning": "unassigned users
        // are disabled then unmanaged"): what changed in the source before its disable is not pushed, so only
        // `active` is compared.
        // roles and entitlements only where the source grants them (`UserAttr::of`)
        // (`UserAttr::of` is a prefix of `UserAttr::WITH_GRANTS`, the order `su.attrs` keeps.)
        for (n, a) in UserAttr::of(&attrs).into_iter().enumerate() {
            if out_of_scope && a != UserAttr::Active {
                continue;
            }
            let want = a.value(&attrs);
            if !su.attrs.same(n, &want, a == UserAttr::UserName) {
                let kind = if a == UserAttr::Active { DiffKind::Active } else { DiffKind::Attribute };
                let path = Some(a.path().to_string());
                let got = su.attrs.value(n).unwrap_or(Value::Null);
                diffs.push(diff(kind, user_label(i), id_at(k), path, want, got, obj));
            }
        }
    }
    // the indexes by name and externalId are not needed any more: freed before the next ones are built
    drop((by_name, by_ext));
    // Managers (Entra sends them; Okta's default mapping does not: docs/okta.md §2).
    if d.is_entra() && users_read && http.scope.enterprise {
        let by_id: HashMap<&str, usize> =
            server_users.iter().enumerate().filter_map(|(k, u)| u.id().map(|id| (id, k))).collect();
        for i in 0..model.users.len() {
            let Some(id) = matched_id(matched[i]) else { continue };
            if model.users[i].deleted || !model.users[i].assigned {
                continue; // out of scope: not managed any more (above)
            }
            let want = model.expected_manager(i as u32).and_then(|m| matched_id(matched[m as usize]));
            if model.expected_manager(i as u32).is_some() && want.is_none() {
                // The manager is not on the server: reported on its own, or never provisioned (its create failed and
                // it left scope), so the engine sends no manager for this user either.
                continue;
            }
            let got = by_id.get(id).and_then(|&k| server_users[k].manager());
            if got != want {
                let path = Some(format!("{}:manager", idp::ENTERPRISE));
                diffs.push(diff(
                    DiffKind::Manager,
                    user_label(i),
                    Some(id.to_string()),
                    path,
                    json!(want),
                    json!(got),
                    ObjRef::User(i as u32),
                ));
            }
        }
    }
    for (k, su) in server_users.iter().enumerate() {
        if !claimed[k] && !scope.judges(su.id()) {
            strangers += 1;
        } else if !claimed[k] {
            let name = su.user_name().unwrap_or_default();
            diffs.push(diff(
                DiffKind::Extra,
                format!("User {name}"),
                su.id().map(str::to_string),
                None,
                json!(null),
                json!("present, unknown to the source"),
                ObjRef::None,
            ));
        }
    }

    // Groups.
    let mut groups_by_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (k, g) in server_groups.iter().enumerate() {
        if let Some(n) = &g.display_name {
            groups_by_name.entry(n.to_lowercase()).or_default().push(k);
        }
    }
    let mut gclaimed: HashSet<usize> = HashSet::new();
    let id_to_user: HashMap<&str, usize> =
        matched.iter().enumerate().filter_map(|(i, m)| matched_id(*m).map(|id| (id, i))).collect();
    for (g, src) in model.groups.iter().enumerate() {
        let label = format!("Group {}", src.name);
        let obj = ObjRef::Group(g as u32);
        if !groups_read {
            unverified += usize::from(!src.deleted);
            continue;
        }
        let found = groups_by_name.get(&src.name.to_lowercase()).cloned().unwrap_or_default();
        gclaimed.extend(found.iter().copied());
        if src.deleted {
            for &k in &found {
                let id = server_groups[k].id.clone();
                diffs.push(diff(DiffKind::Extra, label.clone(), id, None, json!(null), json!("present"), obj));
            }
            continue;
        }
        let Some(&k) = found.first() else {
            diffs.push(diff(DiffKind::Missing, label, None, None, json!("present"), json!(null), obj));
            continue;
        };
        if !users_read || unreadable.contains(&k) {
            // the members cannot be compared: the users or this group could not be read
            unverified += 1;
            continue;
        }
        let sg = &server_groups[k];
        let gid = sg.id.clone();
        let actual: &[String] = sg.members.as_deref().unwrap_or_default();
        let actual_set: HashSet<&str> = actual.iter().map(String::as_str).collect();
        let mut want_set: HashSet<&str> = HashSet::new();
        for u in model.expected_members(g as u32) {
            if u as usize >= matched.len() || model.users[u as usize].deleted {
                continue;
            }
            let Some(uid) = matched_id(matched[u as usize]) else { continue };
            want_set.insert(uid);
            if !actual_set.contains(uid) {
                diffs.push(diff(
                    DiffKind::MissingMember,
                    label.clone(),
                    gid.clone(),
                    Some("members".into()),
                    json!({"value": uid, "display": &*model.users[u as usize].user_name}),
                    json!(null),
                    obj,
                ));
            }
        }
        for m in actual {
            if !want_set.contains(m.as_str()) {
                let who = id_to_user.get(m.as_str()).map(|&i| model.users[i].user_name.to_string());
                diffs.push(diff(
                    DiffKind::ExtraMember,
                    label.clone(),
                    gid.clone(),
                    Some("members".into()),
                    json!(null),
                    json!({"value": m, "display": who}),
                    obj,
                ));
            }
        }
    }
    for (k, sg) in server_groups.iter().enumerate() {
        if !gclaimed.contains(&k) && !scope.judges(sg.id.as_deref()) {
            strangers += 1;
        } else if !gclaimed.contains(&k) {
            diffs.push(diff(
                DiffKind::Extra,
                format!("Group {}", sg.display_name.as_deref().unwrap_or_default()),
                sg.id.clone(),
                None,
                json!(null),
                json!("present, unknown to the source"),
                ObjRef::None,
            ));
        }
    }

    let drift = diffs.len();
    let by_kind = count(&diffs);
    diffs.truncate(max_listed);
    attach_requests(&mut diffs, &http.stats.journal.lock().expect("not poisoned"));
    Reconciliation {
        checked: model.users.len() + model.groups.len() + server_users.len() + server_groups.len(),
        counted: Counted {
            source_users: model.users.len(),
            expected_absent,
            source_groups: model.groups.len(),
            server_users: server_users.len(),
            server_groups: server_groups.len(),
        },
        drift,
        differences: diffs,
        by_kind,
        unverified,
        strangers,
        read_error: read_error.or_else(|| {
            (!unreadable.is_empty()).then(|| format!("{} group(s) could not be read by id", unreadable.len()))
        }),
    }
}

/// A difference with no requests attached yet.
pub(crate) fn diff(
    kind: DiffKind,
    object: String,
    id: Option<String>,
    attribute: Option<String>,
    expected: Value,
    actual: Value,
    obj: ObjRef,
) -> Difference {
    Difference { kind, object, id, attribute, expected, actual, requests: Vec::new(), obj }
}

/// Fills each difference's `requests` from the journal: every request about its object (at most the last 20).
fn attach_requests(diffs: &mut [Difference], journal: &Journal<OpKind, ObjRef>) {
    let wanted: HashSet<ObjRef> = diffs.iter().map(|d| d.obj).filter(|o| *o != ObjRef::None).collect();
    let about: Vec<JournalEntry> = journal.about(&wanted).into_iter().map(JournalEntry::from).collect();
    let mut by_obj: HashMap<ObjRef, Vec<&JournalEntry>> = HashMap::new();
    for e in &about {
        by_obj.entry(e.obj).or_default().push(e);
    }
    for d in diffs {
        if let Some(list) = by_obj.get(&d.obj) {
            let mut list = list.clone();
            list.sort_by_key(|e| e.seq);
            let skip = list.len().saturating_sub(20);
            d.requests = list[skip..].iter().map(|e| e.describe()).collect();
        }
    }
}

/// The dialect's IdP name for reports.
pub fn idp_name(d: Dialect) -> &'static str {
    if d.is_entra() {
        "entra"
    } else {
        "okta"
    }
}

/// The group of a difference kind: `missing`, `extra`, `duplicate`, `attribute drift` (attributes and `active`),
/// `membership` (missing and extra members) or `manager`.
pub fn group_of(kind: DiffKind) -> &'static str {
    match kind {
        DiffKind::Missing => "missing",
        DiffKind::Extra => "extra",
        DiffKind::Duplicate => "duplicate",
        DiffKind::Attribute | DiffKind::Active => "attribute drift",
        DiffKind::MissingMember | DiffKind::ExtraMember => "membership",
        DiffKind::Manager => "manager",
    }
}

/// Counts `diffs` per group (every difference, before any listing limit).
pub fn count(diffs: &[Difference]) -> std::collections::BTreeMap<String, usize> {
    let mut by = std::collections::BTreeMap::new();
    for d in diffs {
        *by.entry(group_of(d.kind).to_string()).or_default() += 1;
    }
    by
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lowercasing borrows exactly when `str::to_lowercase` would give the same text.
    #[test]
    fn lowercase_is_to_lowercase_and_borrows_only_an_unchanged_text() {
        for s in ["ada@example.com", "Ada@Example.com", "ǅemal", "ⅰ", "Ⅰ", "ΟΔΟΣ", "οδος", "İstanbul", "ß", ""]
        {
            let got = lowercase(s);
            assert_eq!(got, s.to_lowercase(), "{s}");
            assert_eq!(matches!(got, Cow::Borrowed(_)), s.to_lowercase() == s, "{s}");
        }
    }

    /// The users of one key come back in the order they were read, the duplicates after the first.
    #[test]
    fn users_by_key_keep_their_reading_order() {
        let keys = ["a", "b", "a", "c", "a", "a", "b", "a"];
        let by = ByKey::new(0, keys.into_iter().enumerate().map(|(k, key)| (Cow::Borrowed(key), k)));
        assert_eq!(by.get("a").collect::<Vec<_>>(), vec![0, 2, 4, 5, 7]);
        assert_eq!(by.get("b").collect::<Vec<_>>(), vec![1, 6]);
        assert_eq!(by.get("c").collect::<Vec<_>>(), vec![3]);
        assert_eq!((by.get("z").count(), by.get("").count(), by.get("aa").count()), (0, 0, 0));
    }
}
