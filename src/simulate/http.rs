//! The simulator's sender: one request at a time through [`Http::send`], paced to the run's rate and
//! concurrency, with the IdP's 429 handling, each timed into [`Stats`] and kept in the journal by the kind of
//! request it is ([`OpKind`]) and the object it is about ([`ObjRef`]). The engine ([`super::engine`]) decides
//! what to send and its retry rules are described there; this module only sends.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION};
use serde_json::{json, Value};

use crate::credential::Credential;
use crate::exchange::Method;
use crate::idp::{self, BodyRef, Dialect, RequestRef};
use crate::profile::{AuthStyle, Profile};

/// The kinds of request the report counts and times separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OpKind {
    /// Test Connection / Test API Credentials.
    TestConnection,
    /// User lookup on the matching attribute.
    UserLookup,
    /// POST /Users.
    UserCreate,
    /// GET /Users/{id} before a PUT (Okta).
    UserRead,
    /// Profile update (PATCH or PUT).
    UserUpdate,
    /// Soft delete (`active` false).
    UserDisable,
    /// Restore (`active` true).
    UserEnable,
    /// DELETE /Users/{id}.
    UserDelete,
    /// Manager reference update.
    ManagerUpdate,
    /// Group lookup by displayName.
    GroupLookup,
    /// POST /Groups.
    GroupCreate,
    /// Group rename.
    GroupRename,
    /// Membership PATCH or PUT.
    GroupMembers,
    /// DELETE /Groups/{id}.
    GroupDelete,
    /// Okta import page.
    ImportPage,
    /// Reconciliation read-back.
    ReconcileRead,
}

/// How much of a successful answer the engine reads ([`OpKind::reads_answer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Not parsed.
    Nothing,
    /// Only the top-level `id` (the exact key, else the key in another case, as `idp::get_ci`: RFC 7643 §2.1);
    /// the rest is skipped unparsed.
    Id,
    /// Parsed whole.
    Whole,
    /// Not parsed: the body's bytes are handed over ([`Outcome::into_raw`]) for the caller to read as it needs
    /// (a read-back page, [`super::page`]).
    Raw,
}

impl Answer {
    /// The answer `body` as far as it is read: `None` for no JSON (or nothing read); for [`Answer::Id`] an
    /// object holding at most `id`.
    pub(super) fn parse(self, body: &[u8]) -> Option<Value> {
        match self {
            Answer::Nothing | Answer::Raw => None,
            Answer::Whole => serde_json::from_slice::<Value>(body).ok(),
            Answer::Id => serde_json::from_slice::<IdOnly>(body).ok().map(|IdOnly(id)| match id {
                Some(id) => json!({ "id": id }),
                None => json!({}),
            }),
        }
    }
}

/// A JSON object's top-level `id` when it is a string; every other member is skipped without building it.
struct IdOnly(Option<String>);

/// An object key as [`IdOnly`] sees it, read without copying it.
enum IdKey {
    /// `id`.
    Exact,
    /// `id` in another case (`ID`, `Id`).
    OtherCase,
    /// Anything else.
    Other,
}

impl<'de> serde::Deserialize<'de> for IdKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = IdKey;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object key")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<IdKey, E> {
                Ok(match v {
                    "id" => IdKey::Exact,
                    _ if v.eq_ignore_ascii_case("id") => IdKey::OtherCase,
                    _ => IdKey::Other,
                })
            }
        }
        d.deserialize_str(Visit)
    }
}

impl<'de> serde::Deserialize<'de> for IdOnly {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = IdOnly;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<IdOnly, A::Error> {
                // As `idp::get_ci`: the exact key `id` wins, else the first key that is `id` in another case.
                let (mut exact, mut other): (Option<Option<String>>, Option<Option<String>>) = (None, None);
                while let Some(key) = map.next_key::<IdKey>()? {
                    let slot = match key {
                        IdKey::Exact if exact.is_none() => &mut exact,
                        IdKey::OtherCase if other.is_none() => &mut other,
                        _ => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                            continue;
                        }
                    };
                    *slot = Some(match map.next_value::<Value>()? {
                        Value::String(s) => Some(s),
                        _ => None,
                    });
                }
                Ok(IdOnly(exact.or(other).flatten()))
            }
        }
        d.deserialize_map(Visit)
    }
}

impl OpKind {
    /// Every kind, in report order.
    pub const ALL: [OpKind; 16] = [
        OpKind::TestConnection,
        OpKind::UserLookup,
        OpKind::UserCreate,
        OpKind::UserRead,
        OpKind::UserUpdate,
        OpKind::UserDisable,
        OpKind::UserEnable,
        OpKind::UserDelete,
        OpKind::ManagerUpdate,
        OpKind::GroupLookup,
        OpKind::GroupCreate,
        OpKind::GroupRename,
        OpKind::GroupMembers,
        OpKind::GroupDelete,
        OpKind::ImportPage,
        OpKind::ReconcileRead,
    ];

    /// What the engine reads of a successful answer's body: nothing, only the new resource's `id` (a create),
    /// or all of it (a page, the current resource). An error answer is always read whole, for its `scimType`
    /// and `detail`.
    pub fn reads_answer(self) -> Answer {
        match self {
            OpKind::UserUpdate
            | OpKind::UserDisable
            | OpKind::UserEnable
            | OpKind::UserDelete
            | OpKind::ManagerUpdate
            | OpKind::GroupRename
            | OpKind::GroupMembers
            | OpKind::GroupDelete => Answer::Nothing,
            OpKind::UserCreate | OpKind::GroupCreate => Answer::Id,
            _ => Answer::Whole,
        }
    }

    /// The camelCase name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            OpKind::TestConnection => "testConnection",
            OpKind::UserLookup => "userLookup",
            OpKind::UserCreate => "userCreate",
            OpKind::UserRead => "userRead",
            OpKind::UserUpdate => "userUpdate",
            OpKind::UserDisable => "userDisable",
            OpKind::UserEnable => "userEnable",
            OpKind::UserDelete => "userDelete",
            OpKind::ManagerUpdate => "managerUpdate",
            OpKind::GroupLookup => "groupLookup",
            OpKind::GroupCreate => "groupCreate",
            OpKind::GroupRename => "groupRename",
            OpKind::GroupMembers => "groupMembers",
            OpKind::GroupDelete => "groupDelete",
            OpKind::ImportPage => "importPage",
            OpKind::ReconcileRead => "reconcileRead",
        }
    }

    /// Reference updates (manager, members) do not count towards Entra's escrow proportion
    /// (docs/engines.md §A: "reference failures like manager/member excluded").
    pub fn is_reference(self) -> bool {
        matches!(self, OpKind::ManagerUpdate | OpKind::GroupMembers)
    }
}

/// The object a request is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjRef {
    /// None in particular (paging, test connection).
    None,
    /// A model user.
    User(u32),
    /// A model group.
    Group(u32),
}

/// One request as the journal keeps it.
#[derive(Debug, Clone)]
pub struct JournalEntry {
    /// Sequence number (1-based, in completion order).
    pub seq: u32,
    /// Cycle (0 = initial).
    pub cycle: u16,
    /// Kind.
    pub kind: OpKind,
    /// Object.
    pub obj: ObjRef,
    /// Method.
    pub method: Method,
    /// Path below the base URI.
    pub path: Box<str>,
    /// Status, or 0 for a timeout or transport error.
    pub status: u16,
    /// For an error answer: its `scimType` and `detail` (shortened).
    pub error: Option<Box<str>>,
}

impl From<super::journal::Record<'_, OpKind, ObjRef>> for JournalEntry {
    fn from(r: super::journal::Record<'_, OpKind, ObjRef>) -> JournalEntry {
        JournalEntry {
            seq: r.seq,
            cycle: r.cycle,
            kind: r.kind,
            obj: r.obj,
            method: r.method,
            path: r.path.into(),
            status: r.status,
            error: r.error.map(Into::into),
        }
    }
}

impl JournalEntry {
    /// `#12 cycle 0 PATCH /Users/abc → 204`.
    pub fn describe(&self) -> String {
        let status = if self.status == 0 { "no response".to_string() } else { self.status.to_string() };
        let error = self.error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default();
        format!("#{} cycle {} {} {} → {status}{error}", self.seq, self.cycle, self.method.as_str(), self.path)
    }
}

/// Engine settings.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// The dialect spoken.
    pub dialect: Dialect,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// Requests per second at most.
    pub rate: Option<f64>,
    /// Per-request timeout (connect, send, whole body).
    pub timeout: Duration,
    /// Membership changes per request.
    pub chunk: usize,
    /// Attempts of one request under 429 (Okta: 10).
    pub max_attempts: u32,
    /// Upper bound of one back-off wait (the IdPs' own waits are minutes; tests and impatient runs cap them);
    /// `None` is [`super::backoff::DEFAULT_MAX_WAIT`].
    pub max_wait: Option<Duration>,
    /// Show progress bars.
    pub progress: bool,
    /// TLS trust (`--ca-cert`, `--insecure`), applied by the shared client builder.
    pub tls: crate::http::TlsOptions,
}

use crate::target::Target;

/// Figures collected while running.
#[derive(Debug)]
pub struct Stats {
    hist: Vec<Mutex<Histogram<u64>>>,
    /// Non-2xx answers by status (0 = timeout or transport error), after retries or not.
    pub errors: Mutex<BTreeMap<u16, u64>>,
    /// Non-2xx answers by `scimType`.
    pub scim_types: Mutex<BTreeMap<String, u64>>,
    /// Retries by reason (`429`).
    pub retries: Mutex<BTreeMap<String, u64>>,
    /// Time spent waiting on `Retry-After`, in ms.
    pub backoff_ms: AtomicU64,
    /// Nanoseconds spent in the simulator's own code (building requests, reading answers, bookkeeping).
    pub own_ns: AtomicU64,
    /// Every request ([`super::journal`]).
    pub journal: Mutex<super::journal::Journal<OpKind, ObjRef>>,
    /// Requests and latency over time, in buckets whose width follows the run's length ([`super::timeline`]).
    pub timeline: Mutex<super::timeline::Timeline>,
    /// Immediate quarantine reasons seen (401, 404 on a query).
    pub compliance: Mutex<Vec<String>>,
}

impl Stats {
    fn new() -> Stats {
        Stats {
            hist: OpKind::ALL
                .iter()
                .map(|_| Mutex::new(Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds")))
                .collect(),
            errors: Mutex::default(),
            scim_types: Mutex::default(),
            retries: Mutex::default(),
            backoff_ms: AtomicU64::new(0),
            own_ns: AtomicU64::new(0),
            journal: Mutex::default(),
            timeline: Mutex::default(),
            compliance: Mutex::default(),
        }
    }

    /// The latency histogram (µs) of a kind.
    pub fn histogram(&self, kind: OpKind) -> Histogram<u64> {
        let i = OpKind::ALL.iter().position(|k| *k == kind).expect("every kind is listed");
        self.hist[i].lock().expect("not poisoned").clone()
    }

    fn own(&self, since: Instant) {
        self.own_ns.fetch_add(since.elapsed().as_nanos() as u64, Ordering::Relaxed);
    }
}

/// What one request ended with.
#[derive(Debug)]
pub enum Outcome {
    /// An answer other than 429 (or a 429 after the last attempt).
    Answer {
        /// Status.
        status: u16,
        /// JSON body, if any.
        json: Option<Value>,
        /// The body was longer than [`MAX_RESPONSE_BODY`] and was not read on.
        too_large: bool,
        /// A successful answer's body as received, when it was asked for unparsed ([`Answer::Raw`]).
        raw: Option<Vec<u8>>,
    },
    /// Timeout or transport error.
    NoAnswer,
}

impl Outcome {
    /// 2xx.
    pub fn ok(&self) -> bool {
        matches!(self, Outcome::Answer { status, .. } if (200..300).contains(status))
    }
    /// The status (0 for no answer).
    pub fn status(&self) -> u16 {
        match self {
            Outcome::Answer { status, .. } => *status,
            Outcome::NoAnswer => 0,
        }
    }
    /// The JSON body.
    pub fn json(&self) -> Option<&Value> {
        match self {
            Outcome::Answer { json, .. } => json.as_ref(),
            Outcome::NoAnswer => None,
        }
    }
    /// Whether the body was longer than [`MAX_RESPONSE_BODY`] (and so carries no JSON).
    pub fn too_large(&self) -> bool {
        matches!(self, Outcome::Answer { too_large: true, .. })
    }
    /// The body as received, when it was asked for unparsed ([`Answer::Raw`]) and the answer was a success.
    pub fn into_raw(self) -> Option<Vec<u8>> {
        match self {
            Outcome::Answer { raw, .. } => raw,
            Outcome::NoAnswer => None,
        }
    }
    /// The JSON body, owned.
    pub fn into_json(self) -> Option<Value> {
        match self {
            Outcome::Answer { json, .. } => json,
            Outcome::NoAnswer => None,
        }
    }
}

/// As reqwest's `RequestBuilder::headers`: each name of `src` replaces the values `dst` held for it, in place.
fn replace_headers(dst: &mut HeaderMap, src: &HeaderMap) {
    for name in src.keys() {
        let mut values = src.get_all(name).iter().cloned();
        let Some(first) = values.next() else { continue };
        match dst.entry(name) {
            reqwest::header::Entry::Occupied(mut e) => {
                e.insert(first);
                values.for_each(|v| e.append(v));
            }
            reqwest::header::Entry::Vacant(e) => {
                let mut e = e.insert_entry(first);
                values.for_each(|v| e.append(v));
            }
        }
    }
}

/// A request ready to go: built for the in-process router, or with reqwest for [`crate::exchange::receive_via`].
enum Outgoing<'a> {
    Direct(&'a axum::Router, axum::extract::Request),
    Built(reqwest::RequestBuilder),
}

/// The longest response body the simulator reads, in bytes (64 MiB: a page of 500 users is about 1 MiB, a
/// group of 100,000 members about 15 MiB). A longer body is not read on and counts as an answer without JSON.
pub const MAX_RESPONSE_BODY: usize = 64 << 20;

/// The HTTP side shared by every in-flight request.
#[derive(Debug)]
pub struct Http {
    client: reqwest::Client,
    target: Target,
    profile: Profile,
    /// The profile's headers and `Authorization`, checked once (the credential marked sensitive).
    headers: HeaderMap,
    /// The profile's headers of a request with a body.
    body_headers: HeaderMap,
    /// `headers` with `body_headers` over them ([`replace_headers`]): a request with a body and no OAuth
    /// credential, merged once instead of per request.
    headers_with_body: HeaderMap,
    /// For a target in this process: how its requests are built without reqwest.
    direct: Option<crate::exchange::in_process::Direct>,
    /// The target's base URI, split once ([`crate::exchange::BaseUri`]).
    base: crate::exchange::BaseUri,
    opts: EngineOptions,
    /// Statistics.
    pub stats: Stats,
    started: Instant,
    next_slot: Mutex<Instant>,
    paused_until: Mutex<Option<Instant>>,
    announcer: super::backoff::Announcer,
    /// Ctrl-C: once set, no request starts and the ones in flight are abandoned.
    pub interrupt: super::interrupt::Interrupt,
    /// What the target implements ([`super::scope`]): requests are shaped to it before they are sent.
    pub scope: super::scope::Scope,
    seq: AtomicU64,
    /// The current cycle.
    pub cycle: AtomicU64,
}

impl Http {
    /// A client for `target` speaking `opts.dialect`.
    pub fn new(target: Target, opts: EngineOptions) -> Result<Http, String> {
        let client = crate::http::client(&crate::http::ClientOptions {
            tls: opts.tls.clone(),
            pool_max_idle_per_host: opts.concurrency.max(1),
            ..Default::default()
        })?;
        // the profile of the dialect's IdP carries its space encoding (Idp::space_encoding)
        let profile = Profile::of(opts.dialect.idp());
        let header_map = |pairs: &[(&'static str, &'static str)]| -> Result<HeaderMap, String> {
            let mut map = HeaderMap::new();
            for (k, v) in pairs {
                let value = HeaderValue::from_str(v).map_err(|_| format!("the header {k} is not a valid value"))?;
                let name = HeaderName::from_bytes(k.as_bytes()).map_err(|_| format!("{k} is not a header name"))?;
                map.append(name, value);
            }
            Ok(map)
        };
        let mut headers = header_map(&profile.headers)?;
        if let Some(Some(a)) = target.credential.fixed(AuthStyle::Bearer) {
            // The message names the header, never the credential.
            let mut value = HeaderValue::from_str(&a)
                .map_err(|_| "the credential (--token or --auth-header) is not a valid header value".to_string())?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        let body_headers = header_map(&profile.body_headers)?;
        let mut headers_with_body = headers.clone();
        replace_headers(&mut headers_with_body, &body_headers);
        let base = crate::exchange::BaseUri::new(&target.base_url);
        let direct = match &target.transport {
            crate::exchange::Transport::InProcess(_) => crate::exchange::in_process::Direct::for_base(base.base()),
            crate::exchange::Transport::Network => None,
        };
        let now = Instant::now();
        Ok(Http {
            client,
            target,
            profile,
            headers,
            body_headers,
            headers_with_body,
            direct,
            base,
            opts,
            stats: Stats::new(),
            started: now,
            next_slot: Mutex::new(now),
            paused_until: Mutex::new(None),
            announcer: Default::default(),
            interrupt: Default::default(),
            scope: Default::default(),
            seq: AtomicU64::new(0),
            cycle: AtomicU64::new(0),
        })
    }

    /// The options.
    pub fn options(&self) -> &EngineOptions {
        &self.opts
    }

    fn url(&self, req: &RequestRef<'_>) -> String {
        self.base.join(req.path, &self.profile.encode_query(req.query))
    }

    async fn wait_turn(&self) {
        loop {
            let pause = *self.paused_until.lock().expect("not poisoned");
            match pause {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t.into()).await,
                _ => break,
            }
        }
        if let Some(rate) = self.opts.rate.filter(|r| *r > 0.0) {
            let slot = {
                let mut next = self.next_slot.lock().expect("not poisoned");
                let t = (*next).max(Instant::now());
                *next = super::backoff::deadline(t, Duration::from_secs_f64(1.0 / rate));
                t
            };
            tokio::time::sleep_until(slot.into()).await;
        }
    }

    /// Sends one request — a [`ScimRequest`](crate::idp::ScimRequest), or an [`Encoded`](crate::idp::Encoded)
    /// one whose body is already its bytes — with the IdP's 429 handling; records latency, errors and the
    /// journal. A successful answer is read as far as [`OpKind::reads_answer`] says.
    pub async fn send<'r>(&self, kind: OpKind, obj: ObjRef, req: impl Into<RequestRef<'r>>) -> Outcome {
        self.send_reading(kind, obj, req, kind.reads_answer()).await
    }

    /// [`Http::send`], with a successful answer read as `read` says instead of as its kind's.
    pub async fn send_reading<'r>(
        &self,
        kind: OpKind,
        obj: ObjRef,
        req: impl Into<RequestRef<'r>>,
        read: Answer,
    ) -> Outcome {
        // The sending future is a few kilobytes (a request, its exchange, the OAuth and back-off waits): boxed,
        // an operation awaiting several requests holds a pointer to each instead, so the engine's spawned
        // operations stay small and are not copied kilobytes at a time.
        Box::pin(self.send_boxed(kind, obj, req.into(), read)).await
    }

    async fn send_boxed(&self, kind: OpKind, obj: ObjRef, req: RequestRef<'_>, read: Answer) -> Outcome {
        let own_start = Instant::now();
        // the body's bytes as this target gets them (`Scope::shape_body`), made once for every attempt
        let body: Option<bytes::Bytes> = match req.body {
            BodyRef::None => None,
            BodyRef::Json(v) => {
                let shaped = self.scope.shape_body(v);
                Some(serde_json::to_vec(shaped.as_ref().unwrap_or(v)).expect("JSON serialises").into())
            }
            BodyRef::Bytes(b) => Some(self.scope.shape_bytes(b).map_or_else(|| b.clone(), Into::into)),
        };
        self.stats.own(own_start);
        let req = &req;
        let mut attempt = 0u32;
        let mut okta_wait: Option<Duration> = None;
        let mut refreshed = false;
        loop {
            attempt += 1;
            if self.interrupt.or_stop(self.wait_turn()).await.is_none() {
                super::interrupt::mark_stopped();
                return Outcome::NoAnswer;
            }
            let own_start = Instant::now();
            // an OAuth credential's token changes as it is refreshed; a fixed one is in `headers`
            // (the OAuth futures and the network's are boxed, and only awaited when taken: kept inline they made
            // every request's future, and every operation's that awaits it, several kilobytes, copied on each
            // spawn and move)
            let oauth = match &self.target.credential {
                Credential::OAuth(_) => Box::pin(self.target.credential.changing_authorization()).await,
                _ => Ok(None),
            };
            let Ok(oauth) = oauth else {
                self.record(kind, obj, req, 0, Duration::ZERO, None);
                return Outcome::NoAnswer;
            };
            let outgoing = self.outgoing(req, oauth.as_deref(), body.clone());
            self.stats.own(own_start);
            let sent = Instant::now();
            let (limit, timeout) = (MAX_RESPONSE_BODY, self.opts.timeout);
            let exchange = async move {
                match outgoing {
                    Outgoing::Direct(router, request) => {
                        crate::exchange::in_process::receive_direct(router, request, limit, timeout).await
                    }
                    Outgoing::Built(b) => {
                        Box::pin(crate::exchange::receive_via(&self.target.transport, b, limit, timeout)).await
                    }
                }
            };
            let result = self.interrupt.or_stop(exchange).await;
            let Some(result) = result else {
                super::interrupt::mark_stopped();
                return Outcome::NoAnswer;
            };
            let latency = sent.elapsed();
            let own_start = Instant::now();
            let (status, retry_after, json, too_large, raw) = match result {
                Ok(answer) => {
                    let status = answer.status;
                    let retry_after = answer.header("retry-after").map(str::to_string);
                    // RFC 6750 §3.1: an expired or revoked OAuth token is replaced once, as Entra does
                    if !refreshed
                        && matches!(self.target.credential, Credential::OAuth(_))
                        && Box::pin(self.target.credential.reject(
                            oauth.as_deref(),
                            status,
                            answer.header("www-authenticate"),
                        ))
                        .await
                    {
                        refreshed = true;
                        continue;
                    }
                    let bytes = answer.bytes;
                    let too_large = bytes.is_none();
                    // An empty body, one that is not JSON, and one over MAX_RESPONSE_BODY all carry no JSON; a
                    // successful answer the engine does not read is not parsed.
                    let read = match (200..300).contains(&status) {
                        true => read,
                        false => Answer::Whole,
                    };
                    let (json, raw) = match read {
                        Answer::Raw => (None, bytes),
                        _ => (bytes.filter(|b| !b.is_empty()).and_then(|b| read.parse(&b)), None),
                    };
                    (status, retry_after, json, too_large, raw)
                }
                Err(_) => (0, None, None, false, None),
            };
            self.record(kind, obj, req, status, latency, json.as_ref());
            if status == 429 && attempt < self.opts.max_attempts {
                let given = retry_after.as_deref().and_then(super::backoff::parse_retry_after);
                let cap = self.opts.max_wait.unwrap_or(super::backoff::DEFAULT_MAX_WAIT);
                let wait = super::backoff::wait_for(self.opts.dialect, given, okta_wait, cap);
                okta_wait = wait;
                if let Some(wait) = wait {
                    *self.stats.retries.lock().expect("not poisoned").entry("429".into()).or_default() += 1;
                    self.stats.backoff_ms.fetch_add(wait.as_millis() as u64, Ordering::Relaxed);
                    self.stats.own(own_start);
                    let until = super::backoff::deadline(Instant::now(), wait);
                    let what = format!("{} {}", req.method.as_str(), req.path);
                    self.announcer.announce(until, wait, &what, given, cap);
                    if self.opts.dialect.is_entra() {
                        // Entra pauses the whole job (docs/engines.md §A "429").
                        let mut p = self.paused_until.lock().expect("not poisoned");
                        *p = Some(p.map_or(until, |t| t.max(until)));
                    }
                    if self.interrupt.or_stop(tokio::time::sleep_until(until.into())).await.is_none() {
                        super::interrupt::mark_stopped();
                        return Outcome::NoAnswer;
                    }
                    continue;
                }
            }
            self.stats.own(own_start);
            return if status == 0 { Outcome::NoAnswer } else { Outcome::Answer { status, json, too_large, raw } };
        }
    }

    /// The request `req` with the run's headers, the OAuth `Authorization` when the credential changes, and
    /// `body`: built for the in-process router directly when [`Direct::request`](crate::exchange::in_process::Direct::request)
    /// can, otherwise with reqwest, exactly as before.
    fn outgoing(&self, req: &RequestRef<'_>, oauth: Option<&str>, body: Option<bytes::Bytes>) -> Outgoing<'_> {
        let url = self.url(req);
        if let (crate::exchange::Transport::InProcess(router), Some(direct)) = (&self.target.transport, &self.direct) {
            let auth = oauth.map(HeaderValue::from_str);
            if !matches!(auth, Some(Err(_))) {
                if let Some(target) = direct.target(req.method.as_str(), &url) {
                    let headers = match auth {
                        Some(Ok(a)) => {
                            let mut headers = self.headers.clone();
                            headers.append(AUTHORIZATION, a);
                            if body.is_some() {
                                replace_headers(&mut headers, &self.body_headers);
                            }
                            headers
                        }
                        // the same headers, merged once (`Http::new`)
                        _ if body.is_some() => self.headers_with_body.clone(),
                        _ => self.headers.clone(),
                    };
                    return Outgoing::Direct(router, direct.build(target, headers, body));
                }
            }
        }
        let mut b = self.client.request(reqwest::Method::from(req.method), url).headers(self.headers.clone());
        if let Some(a) = oauth {
            b = b.header(AUTHORIZATION, a);
        }
        if let Some(body) = body {
            b = b.headers(self.body_headers.clone()).body(body);
        }
        Outgoing::Built(b)
    }

    fn record(
        &self,
        kind: OpKind,
        obj: ObjRef,
        req: &RequestRef<'_>,
        status: u16,
        latency: Duration,
        json: Option<&Value>,
    ) {
        let i = OpKind::ALL.iter().position(|k| *k == kind).expect("every kind is listed");
        let us = (latency.as_micros() as u64).max(1);
        let _ = self.stats.hist[i].lock().expect("not poisoned").record(us);
        if !(200..300).contains(&status) {
            *self.stats.errors.lock().expect("not poisoned").entry(status).or_default() += 1;
            if let Some(t) = json.and_then(|j| idp::get_ci(j, "scimType")).and_then(Value::as_str) {
                *self.stats.scim_types.lock().expect("not poisoned").entry(t.to_string()).or_default() += 1;
            }
            if status == 401 {
                self.compliance("the server rejected the credentials (HTTP 401)".into());
            }
            let is_query = req.method == Method::GET && req.query.iter().any(|(k, _)| k == "filter");
            if status == 404 && is_query {
                self.compliance(format!(
                    "an HTTP/404 Not Found response was returned rather than the expected HTTP/200 OK to {} {}",
                    req.method.as_str(),
                    req.path
                ));
            }
        }
        let error = (!(200..300).contains(&status)).then(|| {
            let field = |k: &str| json.and_then(|j| idp::get_ci(j, k)).and_then(Value::as_str).unwrap_or("");
            let text = format!("{} {}", field("scimType"), field("detail"));
            crate::exchange::truncate(text.trim(), 120).into_boxed_str()
        });
        let seq = self.seq.fetch_add(1, Ordering::Relaxed) as u32 + 1;
        let cycle = self.cycle.load(Ordering::Relaxed) as u16;
        self.stats.journal.lock().expect("not poisoned").push(super::journal::Record {
            seq,
            cycle,
            kind,
            obj,
            method: req.method,
            path: req.path,
            status,
            error: error.as_deref().filter(|e| !e.is_empty()),
        });
        // The read-back's large pages are not provisioning traffic; they would set the latency chart's scale.
        let latency_us = (kind != OpKind::ReconcileRead).then_some(us);
        self.stats.timeline.lock().expect("not poisoned").record(self.started.elapsed(), latency_us);
    }

    fn compliance(&self, reason: String) {
        let mut c = self.stats.compliance.lock().expect("not poisoned");
        if !c.contains(&reason) && c.len() < 10 {
            c.push(reason);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A create's answer is read for its top-level `id` only (any case, escapes decoded); nothing else is kept.
    #[test]
    fn an_id_only_answer_keeps_the_top_level_id_and_nothing_else() {
        let body = br#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"meta":{"id":"inner"},
                        "userName":"ada","ID":"a\u0062c","id":"later"}"#;
        assert_eq!(Answer::Id.parse(body), Some(json!({"id": "later"})), "the exact key wins, as idp::get_ci");
        assert_eq!(Answer::Id.parse(br#"{"ID":"a\u0062c","Id":"x"}"#), Some(json!({"id": "abc"})), "else the first");
        assert_eq!(Answer::Id.parse(br#"{"id":7,"ID":"x"}"#), Some(json!({})), "an exact id that is no string");
        assert_eq!(Answer::Id.parse(br#"{"meta":{"id":"inner"}}"#), Some(json!({})), "a nested id is not the id");
        assert_eq!(Answer::Id.parse(br#"{"id":7}"#), Some(json!({})), "an id that is not a string is none");
        assert_eq!(Answer::Id.parse(b"[1,2]"), None, "not an object");
        assert_eq!(Answer::Id.parse(b"{\"id\":\"x\""), None, "truncated JSON is no JSON");
        assert_eq!(Answer::Nothing.parse(br#"{"id":"x"}"#), None);
        assert_eq!(Answer::Whole.parse(br#"{"id":"x","a":[1]}"#), Some(json!({"id": "x", "a": [1]})));
        assert_eq!(OpKind::UserCreate.reads_answer(), Answer::Id);
        assert_eq!(OpKind::UserLookup.reads_answer(), Answer::Whole, "a lookup's resource is compared");
        assert_eq!(OpKind::ManagerUpdate.reads_answer(), Answer::Nothing);
    }
}
