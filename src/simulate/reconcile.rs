//! Reconciliation — nothing lost: reads the server's users and groups back (paging /Users and /Groups, GET by
//! id where a page omits members) and compares them with the source directory. Every difference names the
//! object, the attribute, what was expected, what the server holds, and the requests that touched the object.
//!
//! Matching: a source user is found by `externalId` and by `userName` (case-insensitive, RFC 7643 §4.1.1); two
//! server users for one source user are a duplicate. A group is found by `displayName`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use futures::StreamExt;
use serde::Serialize;
use serde_json::{json, Value};

use crate::exchange::Method;
use crate::idp::{get_ci, Dialect, ScimRequest};

use super::http::{Answer, Http, JournalEntry, ObjRef, OpKind};
use super::journal::Journal;
use super::model::Model;
use super::server_user::ServerUser;
use super::user_match::{Rules, UserMatcher};

pub(crate) use super::difference::diff;
pub use super::difference::{DiffKind, Difference, ExtraScope};

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

/// A server group as the comparison needs it.
#[derive(Clone)]
pub(super) struct ServerGroup {
    pub(super) id: Option<String>,
    pub(super) display_name: Option<String>,
    /// Member ids; `None` when the representation left `members` out.
    pub(super) members: Option<Vec<String>>,
}

impl ServerGroup {
    /// Takes `id`, `displayName` and the members' `value`s from a Group representation (names matched
    /// case-insensitively, RFC 7643 §2.1).
    pub(super) fn from_json(g: Value) -> ServerGroup {
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
    /// The members of a resource that `take` reads ([`super::page::parse_kept`]).
    keep: fn(&str) -> bool,
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
    let (res, total) = super::page::parse_kept(&body, p.keep, p.take)
        .ok_or_else(|| format!("GET /{collection}: the answer is not a JSON ListResponse"))?;
    Ok((res, total))
}

/// Where a collection's resources go as their pages are read, in reading order.
trait Sink<T> {
    /// Takes the next page's resources.
    fn take(&mut self, page: Vec<T>);
    /// Forgets every resource taken: the collection is read again from its first page.
    fn restart(&mut self);
}

impl<T> Sink<T> for Vec<T> {
    fn take(&mut self, page: Vec<T>) {
        self.extend(page);
    }
    fn restart(&mut self) {
        *self = Vec::new();
    }
}

impl Sink<ServerUser> for UserMatcher<'_> {
    fn take(&mut self, page: Vec<ServerUser>) {
        for u in &page {
            self.feed(u);
        }
    }
    fn restart(&mut self) {
        UserMatcher::restart(self);
    }
}

/// Pages a collection into `sink`, in reading order; returns why reading stopped, if it did (what `sink` holds
/// then is partial). Bounded: at most `limit` resources and a page count derived from it, so a hostile server
/// cannot make the simulator loop or grow without end.
///
/// The first page tells `totalResults` and the page size the server really uses (it may lower `count`, RFC 7644
/// §3.4.2.4); the remaining pages are then read `--concurrency` at a time. When those pages do not add up to
/// `totalResults` (a short page, a collection that changed), the collection is read again one page at a time
/// after the first page (kept until then), and `sink` starts again from that page.
///
/// A first page refused with 400 or 501 because of `p.extra` (a server without `excludedAttributes`, RFC 7644
/// §3.4.2.5) is asked again without it, and so is every later page; any other error stops the reading.
async fn read_all<T: Clone + Send + 'static>(
    http: &Arc<Http>,
    mut p: Paging<T>,
    limit: usize,
    sink: &mut impl Sink<T>,
) -> Result<(), String> {
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
    // resources taken by `sink`
    let mut n = stride;
    if stride > 0 && total > stride {
        sink.take(first.clone());
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
            whole &= res.len() == stride || n + res.len() == total;
            n += res.len();
            if n > limit {
                return Err(format!("/{collection} holds more than {limit} resources; reading stopped"));
            }
            sink.take(res);
        }
        if whole && n == total {
            return Ok(());
        }
        // One page at a time below, from the first page again.
        sink.restart();
        n = stride;
    }
    sink.take(first);
    // One page at a time, following what each page answered.
    let mut start = 1 + n;
    let mut total = total;
    if n == 0 || start > total {
        return Ok(());
    }
    for _ in 0..max_pages {
        let (res, t) = read_page(http, p, start, count).await.map_err(|e| e.message)?;
        total = t;
        if res.is_empty() {
            break;
        }
        start += res.len();
        n += res.len();
        if n > limit {
            return Err(format!("/{collection} holds more than {limit} resources; reading stopped"));
        }
        sink.take(res);
        if start > total {
            break;
        }
    }
    Ok(())
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
    let mut read_error = None;
    // The users' derived `groups` are not compared (memberships are read from the groups), so the pages leave
    // them out (RFC 7644 §3.4.2.5), which spares the server rendering them. A server that refuses the
    // parameter (400 or 501 on the first page) is read without it.
    let users = Paging {
        collection: "Users",
        count: 500,
        extra: Some(("excludedAttributes", "groups")),
        keep: ServerUser::reads,
        take: ServerUser::from_json,
    };
    let groups = Paging { collection: "Groups", count: 50, extra: None, keep: |_| true, take: ServerGroup::from_json };
    // Users and groups are read at the same time, so the end of one overlaps the other.
    // a target without a Groups endpoint got no group (super::scope): there is nothing to read back
    let mut server_groups: Vec<ServerGroup> = Vec::new();
    let read_groups = async {
        match http.scope.groups {
            true => read_all(http, groups, limit, &mut server_groups).await,
            false => Ok(()),
        }
    };
    // Each page of users is compared as it arrives and dropped (`UserMatcher`): only ids are kept.
    let rules = Rules {
        ever_provisioned,
        deletes_users: d.user_delete("x").is_some(),
        managers: d.is_entra() && http.scope.enterprise,
        scope,
    };
    let mut matcher = UserMatcher::new(model, rules);
    let (users_read, groups_read) = tokio::join!(read_all(http, users, limit, &mut matcher), read_groups);
    let users_read = match users_read {
        Ok(()) => true,
        Err(e) => {
            read_error = Some(e);
            false
        }
    };
    let groups_read = match groups_read {
        Ok(()) => true,
        Err(e) => {
            read_error.get_or_insert(e);
            server_groups = Vec::new();
            false
        }
    };
    let users = matcher.finish(users_read);
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

    let mut diffs = users.diffs;
    let matched: Vec<Option<&str>> = (0..users.matched.len()).map(|i| users.matched.id(i)).collect();
    let (group_diffs, group_unverified, group_strangers) =
        compare_groups(model, &matched, &server_groups, &unreadable, users_read, groups_read, scope);
    diffs.extend(group_diffs);
    drop(matched);
    let unverified = users.unverified + group_unverified;
    let strangers = users.strangers + group_strangers;
    let drift = diffs.len();
    let by_kind = count(&diffs);
    diffs.truncate(max_listed);
    attach_requests(&mut diffs, &mut http.stats.journal.lock().expect("not poisoned"));
    Reconciliation {
        checked: model.users.len() + model.groups.len() + users.server_users + server_groups.len(),
        counted: Counted {
            source_users: model.users.len(),
            expected_absent: users.expected_absent,
            source_groups: model.groups.len(),
            server_users: users.server_users,
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

/// The groups' differences, unverified groups and strangers: each source group found by `displayName`
/// (case-insensitive) among `server_groups`, its members compared with the server ids its source members were
/// matched to (`matched`, per source user).
pub(super) fn compare_groups(
    model: &Model,
    matched: &[Option<&str>],
    server_groups: &[ServerGroup],
    unreadable: &HashSet<usize>,
    users_read: bool,
    groups_read: bool,
    scope: &ExtraScope<'_>,
) -> (Vec<Difference>, usize, usize) {
    let (mut diffs, mut unverified, mut strangers) = (Vec::new(), 0, 0);
    let mut groups_by_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (k, g) in server_groups.iter().enumerate() {
        if let Some(n) = &g.display_name {
            groups_by_name.entry(n.to_lowercase()).or_default().push(k);
        }
    }
    let mut gclaimed: HashSet<usize> = HashSet::new();
    // Server id → source user, to name an extra member: built at the first one (a million entries, about 50 MB
    // at a million users, that a reconciliation without extra members never needs).
    let mut id_to_user: Option<HashMap<&str, usize>> = None;
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
            let Some(uid) = matched[u as usize] else { continue };
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
                let id_to_user = id_to_user.get_or_insert_with(|| {
                    matched.iter().enumerate().filter_map(|(i, m)| m.map(|id| (id, i))).collect()
                });
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

    (diffs, unverified, strangers)
}

/// Fills each difference's `requests` from the journal: every request about its object (at most the last 20).
fn attach_requests(diffs: &mut [Difference], journal: &mut Journal<OpKind, ObjRef>) {
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
