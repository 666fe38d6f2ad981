//! The provisioning engine: sends the IdP's requests for each cycle, bounded in concurrency and rate, with the
//! IdP's retry rules, and remembers what it provisioned (the target ids and the last state it pushed), as the
//! real engines do (docs/engines.md §A "cache target id", §B "link").
//!
//! Retry rules (docs/engines.md §A "Errors, escrow, quarantine", §B "429"):
//! - 429 with `Retry-After` (seconds or an HTTP-date): Entra pauses the whole job for that long and retries only
//!   the failed request; Okta pauses the task: first wait = `Retry-After` (5 min without one), then doubling,
//!   at most 10 attempts, then the task fails. Entra without `Retry-After` treats the 429 as a failure.
//! - 5xx, timeouts and transport errors: the object fails this cycle and is retried in the next one (Entra:
//!   "retried in 40 minutes"; Okta documents no policy and surfaces the failed task for a retry). After the last
//!   cycle, retry-only cycles run while failures remain (`escrow_retries`).

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use serde_json::Value;

use crate::exchange::Method;
use crate::idp::{self, changed_attrs, Dialect, Member, OktaAppKind, ScimRequest, UserAttr, UserAttrs};

pub use super::http::{Answer, EngineOptions, Http, JournalEntry, ObjRef, OpKind, Outcome, Stats, MAX_RESPONSE_BODY};
use super::model::{Model, NO_MANAGER};
use super::packed_attrs::PackedAttrs;
use plan::Planned;

mod plan;

/// What the engine last pushed for a user.
#[derive(Debug, Clone)]
struct PushedUser {
    id: String,
    attrs: PackedAttrs,
    manager: u32,
}

/// What the engine last pushed for a group.
#[derive(Debug, Clone)]
struct PushedGroup {
    id: String,
    name: String,
    members: Vec<u32>,
}

/// Operations and failures of one cycle (for the escrow verdict).
#[derive(Debug, Clone, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CycleFigures {
    /// Cycle number (0 = initial).
    pub cycle: u16,
    /// Whether this cycle only retried earlier failures.
    pub retry_only: bool,
    /// Object operations (users and groups) attempted.
    pub object_operations: u64,
    /// Of which failed.
    pub object_failures: u64,
    /// Reference operations (manager, members) attempted.
    pub reference_operations: u64,
    /// Of which failed.
    pub reference_failures: u64,
    /// Operations (object and reference) Ctrl-C stopped before they completed: never sent, or abandoned in
    /// flight or in a back-off wait with their answer unknown. Counted neither as attempted nor as failed.
    pub not_sent: u64,
    /// Source changes by kind made before this cycle.
    pub changes: BTreeMap<String, u64>,
    /// Wall time in seconds.
    pub seconds: f64,
    /// Why Okta's import stopped early: the server's paging defect (RFC 7644 §3.4.2.4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paging_defect: Option<String>,
}

/// The engine.
pub struct Engine {
    /// HTTP side.
    pub http: Arc<Http>,
    users: Vec<Option<PushedUser>>,
    /// Per model user: whether a push of it was ever acknowledged ([`Engine::ever_provisioned`]).
    ever_provisioned: Vec<bool>,
    groups: Vec<Option<PushedGroup>>,
    /// Figures per cycle.
    pub cycles: Vec<CycleFigures>,
}

/// One membership request: group, the users it adds, the users it removes, the request, a new name (AIW PUT).
type MemberJob = (u32, Vec<u32>, Vec<u32>, idp::Encoded, Option<String>);

enum UserJob {
    Provision { i: u32, attrs: Box<UserAttrs>, known: Option<Box<PushedUser>>, lookup_name: String },
    Delete { i: u32, id: String },
}

enum UserResult {
    Pushed(u32, Box<PushedUser>),
    Deleted(u32),
    Failed,
}

fn id_of(v: Option<&Value>) -> Option<String> {
    v.and_then(|v| idp::get_ci(v, "id")).and_then(Value::as_str).map(str::to_string)
}

fn first_resource(v: Option<&Value>) -> Option<Value> {
    v.and_then(|v| idp::get_ci(v, "Resources")).and_then(Value::as_array).and_then(|r| r.first()).cloned()
}

fn progress(show: bool, len: usize, label: &str) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new(len as u64);
    pb.set_style(
        indicatif::ProgressStyle::with_template("{prefix:>28} [{bar:30}] {pos}/{len} {per_sec} {elapsed}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    pb.set_prefix(label.to_string());
    pb
}

impl Engine {
    /// A fresh engine (nothing provisioned yet).
    pub fn new(http: Http) -> Engine {
        Engine {
            http: Arc::new(http),
            users: Vec::new(),
            ever_provisioned: Vec::new(),
            groups: Vec::new(),
            cycles: Vec::new(),
        }
    }

    fn dialect(&self) -> Dialect {
        self.http.options().dialect
    }

    /// Runs one cycle: users, groups, managers (Entra), memberships, then (Okta, initial cycle) the import.
    pub async fn cycle(&mut self, model: &Model, n: u16, retry_only: bool, changes: BTreeMap<String, u64>) {
        let started = Instant::now();
        self.http.cycle.store(n as u64, Ordering::Relaxed);
        self.users.resize(model.users.len(), None);
        self.ever_provisioned.resize(model.users.len(), false);
        self.groups.resize(model.groups.len(), None);
        let mut fig = CycleFigures { cycle: n, retry_only, changes, ..Default::default() };
        if n == 0 {
            self.test_connection().await;
        }
        self.users_phase(model, n, &mut fig).await;
        let go = |e: &Engine| !e.http.interrupt.is_set();
        if go(self) {
            self.groups_phase(model, n, &mut fig).await;
        }
        if self.dialect().is_entra() && go(self) {
            self.managers_phase(model, n, &mut fig).await;
        }
        if go(self) {
            self.members_phase(model, n, &mut fig).await;
        }
        if n == 0 && !self.dialect().is_entra() && go(self) {
            fig.paging_defect = self.import(n, model.users.len() + model.groups.len()).await;
        }
        fig.seconds = started.elapsed().as_secs_f64();
        self.cycles.push(fig);
    }

    /// The server ids of the users and groups this run provisioned (created, or found by lookup and then
    /// pushed): these objects are the simulator's even when no source object matches them any more.
    /// Borrowed from the engine's own records, not copied: at a million users a copy was about 100 MB held
    /// through the whole read-back.
    pub fn created_ids(&self) -> std::collections::HashSet<&str> {
        let users = self.users.iter().flatten().map(|u| u.id.as_str());
        users.chain(self.groups.iter().flatten().map(|g| g.id.as_str())).collect()
    }

    /// Whether the engine ever provisioned user `i`: a create, or a lookup that found it, was acknowledged in
    /// some cycle (it may have been deleted since). A user whose create failed and that then left scope was
    /// never provisioned, and the engine will not provision it: both engines only disable or delete users they
    /// provisioned (docs/engines.md "Deprovisioning").
    pub fn ever_provisioned(&self, i: u32) -> bool {
        self.ever_provisioned.get(i as usize).is_some_and(|b| *b)
    }

    /// Whether the last cycle left failures to retry.
    pub fn has_escrow(&self) -> bool {
        self.cycles.last().is_some_and(|c| c.object_failures + c.reference_failures > 0)
    }

    async fn test_connection(&self) {
        // Entra: a filter on the matching attribute with a random GUID, expecting an empty list (docs/entra.md §3);
        // Okta: GET /Users?startIndex=1&count=2 (docs/okta.md §2 "Test API Credentials").
        let req = match self.dialect() {
            Dialect::Entra(_) => self.dialect().user_lookup(&uuid::Uuid::new_v4().to_string()),
            Dialect::Okta(_) => self.dialect().page("Users", 1, 2),
        };
        self.http.send(OpKind::TestConnection, ObjRef::None, &req).await;
    }

    async fn users_phase(&mut self, model: &Model, n: u16, fig: &mut CycleFigures) {
        let deletes = self.dialect().user_delete("x").is_some();
        let mut jobs = Vec::new();
        for i in 0..model.users.len() as u32 {
            let u = &model.users[i as usize];
            let pushed = self.users[i as usize].as_ref();
            if u.deleted {
                match pushed {
                    Some(p) if deletes => jobs.push(Planned::Job(UserJob::Delete { i, id: p.id.clone() })),
                    Some(p) if p.attrs.active() => {
                        let mut attrs = p.attrs.unpack();
                        attrs.active = false;
                        jobs.push(Planned::Job(UserJob::Provision {
                            i,
                            attrs: Box::new(attrs),
                            known: Some(Box::new(p.clone())),
                            lookup_name: String::new(),
                        }))
                    }
                    _ => {}
                }
                continue;
            }
            match pushed {
                None if u.assigned => jobs.push(Planned::FromModel(i)),
                None => {}
                Some(p) => {
                    let attrs = model.attrs(i);
                    if p.attrs != PackedAttrs::pack(&attrs) {
                        let (lookup_name, known) = (p.attrs.user_name().to_string(), Some(Box::new(p.clone())));
                        jobs.push(Planned::Job(UserJob::Provision { i, lookup_name, attrs: Box::new(attrs), known }));
                    }
                }
            }
        }
        if jobs.is_empty() {
            return;
        }
        let pb = progress(self.http.options().progress, jobs.len(), &format!("cycle {n}: users"));
        let http = self.http.clone();
        let mut results = futures::stream::iter(jobs)
            .map(|planned| {
                let (http, job) = (http.clone(), planned.into_job(model));
                tokio::spawn(super::interrupt::tracked(async move { user_job(&http, job).await }))
            })
            .buffer_unordered(self.http.options().concurrency.max(1));
        while let Some(r) = results.next().await {
            let (r, stopped) = r.expect("user job does not panic");
            if stopped {
                fig.not_sent += 1;
                continue;
            }
            pb.inc(1);
            fig.object_operations += 1;
            match r {
                UserResult::Pushed(i, p) => {
                    self.users[i as usize] = Some(*p);
                    self.ever_provisioned[i as usize] = true;
                }
                UserResult::Deleted(i) => self.users[i as usize] = None,
                UserResult::Failed => fig.object_failures += 1,
            }
        }
        pb.finish_and_clear();
    }

    async fn groups_phase(&mut self, model: &Model, n: u16, fig: &mut CycleFigures) {
        let d = self.dialect();
        let mut jobs = Vec::new();
        for (g, src) in model.groups.iter().enumerate() {
            let pushed = self.groups[g].clone();
            match (&pushed, src.deleted) {
                (Some(p), true) => jobs.push((
                    g as u32,
                    src.name.to_string(),
                    src.external_id.to_string(),
                    pushed.clone(),
                    true,
                    p.id.clone(),
                )),
                (None, false) => {
                    jobs.push((g as u32, src.name.to_string(), src.external_id.to_string(), None, false, String::new()))
                }
                // AIW apps rename by PUT of the whole group, sent in the members phase.
                (Some(p), false) if *p.name != *src.name && d != Dialect::Okta(OktaAppKind::Aiw) => jobs.push((
                    g as u32,
                    src.name.to_string(),
                    src.external_id.to_string(),
                    pushed.clone(),
                    false,
                    p.id.clone(),
                )),
                _ => {}
            }
        }
        if jobs.is_empty() {
            return;
        }
        let pb = progress(self.http.options().progress, jobs.len(), &format!("cycle {n}: groups"));
        let http = self.http.clone();
        let mut results = futures::stream::iter(jobs)
            .map(|(g, name, ext, pushed, delete, id)| {
                let http = http.clone();
                tokio::spawn(super::interrupt::tracked(async move {
                    let obj = ObjRef::Group(g);
                    if delete {
                        let ok = http.send(OpKind::GroupDelete, obj, &d.group_delete(&id)).await;
                        return (g, if ok.ok() || ok.status() == 404 { Ok(None) } else { Err(()) });
                    }
                    if let Some(mut p) = pushed {
                        let out = http.send(OpKind::GroupRename, obj, &d.group_rename(&p.id, &name, &[])).await;
                        if out.ok() {
                            p.name = name;
                            return (g, Ok(Some(p)));
                        }
                        return (g, Err(()));
                    }
                    // Entra looks the group up first (docs/entra.md §1); Okta creates and links on a conflict.
                    if d.is_entra() {
                        let found = http.send(OpKind::GroupLookup, obj, &d.group_lookup(&name)).await;
                        if !found.ok() {
                            return (g, Err(()));
                        }
                        if let Some(id) = id_of(first_resource(found.json()).as_ref()) {
                            return (g, Ok(Some(PushedGroup { id, name, members: Vec::new() })));
                        }
                    }
                    let created = http.send(OpKind::GroupCreate, obj, &d.group_create(&name, &ext)).await;
                    if let (true, Some(id)) = (created.ok(), id_of(created.json())) {
                        return (g, Ok(Some(PushedGroup { id, name, members: Vec::new() })));
                    }
                    if created.status() == 409 && !d.is_entra() {
                        let found = http.send(OpKind::GroupLookup, obj, &d.group_lookup(&name)).await;
                        if let Some(id) = id_of(first_resource(found.json()).as_ref()) {
                            return (g, Ok(Some(PushedGroup { id, name, members: Vec::new() })));
                        }
                    }
                    (g, Err(()))
                }))
            })
            .buffer_unordered(self.http.options().concurrency.max(1));
        while let Some(r) = results.next().await {
            let (r, stopped) = r.expect("group job does not panic");
            if stopped {
                fig.not_sent += 1;
                continue;
            }
            pb.inc(1);
            fig.object_operations += 1;
            match r {
                (g, Ok(p)) => self.groups[g as usize] = p,
                (_, Err(())) => fig.object_failures += 1,
            }
        }
        pb.finish_and_clear();
    }

    async fn managers_phase(&mut self, model: &Model, n: u16, fig: &mut CycleFigures) {
        let d = self.dialect();
        let mut jobs = Vec::new();
        for i in 0..model.users.len() {
            let Some(p) = &self.users[i] else { continue };
            let want = model.expected_manager(i as u32).unwrap_or(NO_MANAGER);
            // A manager the engine has not provisioned yet waits for a later cycle (docs/engines.md §A "Manager").
            let want_id = match want {
                NO_MANAGER => None,
                m => match &self.users[m as usize] {
                    Some(mp) => Some(mp.id.clone()),
                    None => continue,
                },
            };
            if p.manager != want {
                jobs.push((i as u32, p.id.clone(), want, want_id));
            }
        }
        if jobs.is_empty() {
            return;
        }
        let pb = progress(self.http.options().progress, jobs.len(), &format!("cycle {n}: managers"));
        let http = self.http.clone();
        let mut results = futures::stream::iter(jobs)
            .map(|(i, id, want, want_id)| {
                let http = http.clone();
                tokio::spawn(super::interrupt::tracked(async move {
                    let Some(req) = d.manager_set_encoded(&id, want_id.as_deref()) else { return (i, want, true) };
                    let out = http.send(OpKind::ManagerUpdate, ObjRef::User(i), &req).await;
                    (i, want, out.ok())
                }))
            })
            .buffer_unordered(self.http.options().concurrency.max(1));
        while let Some(r) = results.next().await {
            let ((i, want, ok), stopped) = r.expect("manager job does not panic");
            if stopped {
                fig.not_sent += 1;
                continue;
            }
            pb.inc(1);
            fig.reference_operations += 1;
            match (ok, self.users[i as usize].as_mut()) {
                (true, Some(p)) => p.manager = want,
                _ => fig.reference_failures += 1,
            }
        }
        pb.finish_and_clear();
    }

    async fn members_phase(&mut self, model: &Model, n: u16, fig: &mut CycleFigures) {
        let d = self.dialect();
        let chunk = self.http.options().chunk;
        let member = |users: &[Option<PushedUser>], u: u32| {
            users[u as usize].as_ref().map(|p| Member { id: p.id.clone(), display: p.attrs.user_name().to_string() })
        };
        // Every request of every group goes into one stream, so chunks of one group run concurrently (as
        // Entra's engine does after a group's GET: docs/engines.md §A "Concurrency").
        let mut jobs: Vec<MemberJob> = Vec::new();
        for g in 0..model.groups.len() {
            let Some(p) = &self.groups[g] else { continue };
            if model.groups[g].deleted {
                continue;
            }
            let want: Vec<u32> =
                model.expected_members(g as u32).into_iter().filter(|&u| self.users[u as usize].is_some()).collect();
            let add: Vec<u32> = want.iter().copied().filter(|u| p.members.binary_search(u).is_err()).collect();
            let remove: Vec<u32> = p.members.iter().copied().filter(|u| want.binary_search(u).is_err()).collect();
            let aiw = d == Dialect::Okta(OktaAppKind::Aiw);
            let aiw_rename = aiw && *p.name != *model.groups[g].name;
            if add.is_empty() && remove.is_empty() && !aiw_rename {
                continue;
            }
            let name = model.groups[g].name.to_string();
            let all: Vec<Member> = want.iter().filter_map(|&u| member(&self.users, u)).collect();
            if aiw {
                let req = idp::Encoded::from(&d.group_rename(&p.id, &name, &all));
                jobs.push((g as u32, add, remove, req, Some(name)));
                continue;
            }
            let step = chunk.max(1);
            // Pair each request with the changes it carries, so success updates exactly those.
            if d.is_entra() {
                for c in remove.chunks(step) {
                    let ms: Vec<Member> = c.iter().filter_map(|&u| member(&self.users, u)).collect();
                    for r in d.membership_updates_encoded(&p.id, &name, &[], &ms, &all, step) {
                        jobs.push((g as u32, Vec::new(), c.to_vec(), r, None));
                    }
                }
                for c in add.chunks(step) {
                    let ms: Vec<Member> = c.iter().filter_map(|&u| member(&self.users, u)).collect();
                    for r in d.membership_updates_encoded(&p.id, &name, &ms, &[], &all, step) {
                        jobs.push((g as u32, c.to_vec(), Vec::new(), r, None));
                    }
                }
            } else {
                let changes: Vec<(bool, u32)> =
                    remove.iter().map(|&u| (false, u)).chain(add.iter().map(|&u| (true, u))).collect();
                for c in changes.chunks(step) {
                    let a: Vec<u32> = c.iter().filter(|x| x.0).map(|x| x.1).collect();
                    let r: Vec<u32> = c.iter().filter(|x| !x.0).map(|x| x.1).collect();
                    let am: Vec<Member> = a.iter().filter_map(|&u| member(&self.users, u)).collect();
                    let rm: Vec<Member> = r.iter().filter_map(|&u| member(&self.users, u)).collect();
                    for req in d.membership_updates_encoded(&p.id, &name, &am, &rm, &all, step) {
                        jobs.push((g as u32, a.clone(), r.clone(), req, None));
                    }
                }
            }
        }
        if jobs.is_empty() {
            return;
        }
        let pb = progress(self.http.options().progress, jobs.len(), &format!("cycle {n}: memberships"));
        let http = self.http.clone();
        let mut results = futures::stream::iter(jobs)
            .map(|(g, add, remove, req, rename)| {
                let http = http.clone();
                tokio::spawn(super::interrupt::tracked(async move {
                    let out = http.send(OpKind::GroupMembers, ObjRef::Group(g), &req).await;
                    (g, add, remove, out.ok(), rename)
                }))
            })
            .buffer_unordered(self.http.options().concurrency.max(1));
        while let Some(r) = results.next().await {
            let ((g, add, remove, ok, rename), stopped) = r.expect("membership job does not panic");
            if stopped {
                fig.not_sent += 1;
                continue;
            }
            pb.inc(1);
            fig.reference_operations += 1;
            let Some(p) = self.groups[g as usize].as_mut() else { continue };
            if !ok {
                fig.reference_failures += 1;
                continue;
            }
            if let Some(name) = rename {
                p.name = name;
            }
            p.members.retain(|u| !remove.contains(u));
            for u in add {
                if let Err(pos) = p.members.binary_search(&u) {
                    p.members.insert(pos, u);
                }
            }
        }
        pb.finish_and_clear();
    }

    /// Okta's import: GET /Users and /Groups with `startIndex` and `count=100` until `totalResults`
    /// (docs/okta.md §2 "Import paging").
    /// Okta's import of both collections; returns the paging defect that stopped it, if any
    /// ([`super::import_paging`]).
    async fn import(&self, n: u16, objects: usize) -> Option<String> {
        use super::import_paging::{ImportGuard, Next};
        let d = self.dialect();
        for collection in ["Users", "Groups"].into_iter().filter(|c| *c == "Users" || self.http.scope.groups) {
            let pb = progress(self.http.options().progress, 0, &format!("cycle {n}: import {collection}"));
            let mut guard = ImportGuard::new(collection, objects, idp::OKTA_PAGE);
            let mut start = 1;
            loop {
                let out =
                    self.http.send(OpKind::ImportPage, ObjRef::None, &d.page(collection, start, idp::OKTA_PAGE)).await;
                if !out.ok() {
                    break;
                }
                pb.set_length(
                    out.json().and_then(|j| idp::get_ci(j, "totalResults")).and_then(Value::as_u64).unwrap_or(0),
                );
                match guard.after(start, out.json()) {
                    Next::Page(next) => {
                        pb.set_position(next as u64 - 1);
                        start = next;
                    }
                    Next::Done => break,
                    Next::Defect(why) => {
                        pb.finish_and_clear();
                        return Some(why);
                    }
                }
            }
            pb.finish_and_clear();
        }
        None
    }
}

/// Provisions one user: the lookup-then-write chain of the IdP.
async fn user_job(http: &Http, job: UserJob) -> UserResult {
    let d = http.options().dialect;
    match job {
        UserJob::Delete { i, id } => {
            let req = d.user_delete(&id).expect("only dialects that delete get delete jobs");
            let out = http.send(OpKind::UserDelete, ObjRef::User(i), &req).await;
            if out.ok() || out.status() == 404 {
                UserResult::Deleted(i)
            } else {
                UserResult::Failed
            }
        }
        UserJob::Provision { i, attrs, known, lookup_name } => {
            let obj = ObjRef::User(i);
            // Okta updates linked users by id (GET then PUT); Entra queries the matching attribute first
            // (docs/engines.md §A "a GET always precedes POST/PATCH/DELETE").
            let (id, current) = match (&known, d) {
                (Some(p), Dialect::Okta(_)) => (Some(p.id.clone()), None),
                _ => {
                    let found = http.send(OpKind::UserLookup, obj, &d.user_lookup(&lookup_name)).await;
                    if !found.ok() {
                        return UserResult::Failed;
                    }
                    let first = first_resource(found.json());
                    match id_of(first.as_ref()) {
                        Some(id) => (Some(id), first),
                        None => match &known {
                            // A renamed user is no longer found by its old name once a previous attempt
                            // landed; Entra then uses the id it cached.
                            Some(p) if p.attrs.user_name() != attrs.user_name => (Some(p.id.clone()), None),
                            _ => (None, None),
                        },
                    }
                }
            };
            let Some(id) = id else {
                let out = http.send(OpKind::UserCreate, obj, &d.user_create_encoded(&attrs)).await;
                return match (out.ok(), id_of(out.json())) {
                    (true, Some(id)) => UserResult::Pushed(
                        i,
                        Box::new(PushedUser { id, attrs: PackedAttrs::pack(&attrs), manager: NO_MANAGER }),
                    ),
                    _ => UserResult::Failed,
                };
            };
            let manager = known.as_ref().map_or(NO_MANAGER, |p| p.manager);
            // What to change: against what was pushed, or, on first link, against what the server holds.
            let changed: Vec<UserAttr> = match (&known, &current) {
                (Some(p), _) => changed_attrs(&p.attrs.unpack(), &attrs),
                (None, Some(cur)) => {
                    UserAttr::of(&attrs).into_iter().filter(|a| a.read(cur) != Some(a.value(&attrs))).collect()
                }
                (None, None) => UserAttr::of(&attrs),
            };
            if changed.is_empty() {
                return UserResult::Pushed(i, Box::new(PushedUser { id, attrs: PackedAttrs::pack(&attrs), manager }));
            }
            let only_active = changed == [UserAttr::Active];
            let kind = match (only_active, attrs.active) {
                (true, false) => OpKind::UserDisable,
                (true, true) => OpKind::UserEnable,
                _ => OpKind::UserUpdate,
            };
            let needs_read = if only_active { d.set_active_reads_first() } else { d.update_reads_first() };
            let mut current = current;
            if needs_read && current.is_none() {
                let read = http
                    .send(
                        OpKind::UserRead,
                        obj,
                        &ScimRequest {
                            method: Method::GET,
                            path: format!("/Users/{id}"),
                            query: Vec::new(),
                            body: None,
                        },
                    )
                    .await;
                if !read.ok() {
                    return UserResult::Failed;
                }
                current = read.json().cloned();
            }
            let req = if only_active {
                d.user_set_active(&id, attrs.active, current.as_ref())
            } else {
                d.user_update(&id, &attrs, &changed, current.as_ref())
            };
            let out = http.send(kind, obj, &req).await;
            if out.ok() {
                UserResult::Pushed(i, Box::new(PushedUser { id, attrs: PackedAttrs::pack(&attrs), manager }))
            } else {
                UserResult::Failed
            }
        }
    }
}
