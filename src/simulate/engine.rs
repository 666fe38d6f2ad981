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
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use hdrhistogram::Histogram;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION};
use serde_json::{json, Value};

use crate::idp::{self, changed_attrs, Dialect, Member, OktaAppKind, ScimRequest, UserAttr, UserAttrs};
use crate::profile::{AuthStyle, Profile};
use crate::scenario::Method;

use super::model::{Model, NO_MANAGER};
use super::packed_attrs::PackedAttrs;
use plan::Planned;

mod plan;

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
}

impl Answer {
    /// The answer `body` as far as it is read: `None` for no JSON (or nothing read); for [`Answer::Id`] an
    /// object holding at most `id`.
    fn parse(self, body: &[u8]) -> Option<Value> {
        match self {
            Answer::Nothing => None,
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

pub use super::target::Target;

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
    /// Every request.
    pub journal: Mutex<Vec<JournalEntry>>,
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
    /// The JSON body, owned.
    pub fn into_json(self) -> Option<Value> {
        match self {
            Outcome::Answer { json, .. } => json,
            Outcome::NoAnswer => None,
        }
    }
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
        let mut profile = Profile::of(opts.dialect.idp());
        profile.space = opts.dialect.space_encoding();
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
        let now = Instant::now();
        Ok(Http {
            client,
            target,
            profile,
            headers,
            body_headers,
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

    fn url(&self, req: &ScimRequest) -> String {
        crate::exchange::BaseUri::new(&self.target.base_url).join(&req.path, &self.profile.encode_query(&req.query))
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

    /// Sends one request with the IdP's 429 handling; records latency, errors and the journal.
    pub async fn send(&self, kind: OpKind, obj: ObjRef, req: &ScimRequest) -> Outcome {
        let shaped = self.scope.shape(req);
        let req = shaped.as_ref().unwrap_or(req);
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
            let method = reqwest::Method::from_bytes(req.method.as_str().as_bytes()).expect("valid method");
            let mut b = self.client.request(method, self.url(req)).headers(self.headers.clone());
            // an OAuth credential's token changes as it is refreshed; a fixed one is in `headers`
            let Ok(oauth) = self.target.credential.changing_authorization().await else {
                self.record(kind, obj, req, 0, Duration::ZERO, None);
                return Outcome::NoAnswer;
            };
            if let Some(a) = &oauth {
                b = b.header(AUTHORIZATION, a);
            }
            if let Some(body) = &req.body {
                b = b.headers(self.body_headers.clone()).body(serde_json::to_vec(body).expect("JSON serialises"));
            }
            self.stats.own(own_start);
            let sent = Instant::now();
            let result =
                self.interrupt.or_stop(crate::exchange::receive(b, MAX_RESPONSE_BODY, self.opts.timeout)).await;
            let Some(result) = result else {
                super::interrupt::mark_stopped();
                return Outcome::NoAnswer;
            };
            let latency = sent.elapsed();
            let own_start = Instant::now();
            let (status, retry_after, json, too_large) = match result {
                Ok(answer) => {
                    let status = answer.status;
                    let retry_after = answer.header("retry-after").map(str::to_string);
                    // RFC 6750 §3.1: an expired or revoked OAuth token is replaced once, as Entra does
                    if !refreshed
                        && self
                            .target
                            .credential
                            .reject(oauth.as_deref(), status, answer.header("www-authenticate"))
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
                        true => kind.reads_answer(),
                        false => Answer::Whole,
                    };
                    let json = bytes.filter(|b| !b.is_empty()).and_then(|b| read.parse(&b));
                    (status, retry_after, json, too_large)
                }
                Err(_) => (0, None, None, false),
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
            return if status == 0 { Outcome::NoAnswer } else { Outcome::Answer { status, json, too_large } };
        }
    }

    fn record(
        &self,
        kind: OpKind,
        obj: ObjRef,
        req: &ScimRequest,
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
        self.stats.journal.lock().expect("not poisoned").push(JournalEntry {
            seq,
            cycle,
            kind,
            obj,
            method: req.method,
            path: req.path.as_str().into(),
            status,
            error: error.filter(|e| !e.is_empty()),
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
type MemberJob = (u32, Vec<u32>, Vec<u32>, ScimRequest, Option<String>);

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
        self.http.opts.dialect
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
    pub fn created_ids(&self) -> std::collections::HashSet<String> {
        let users = self.users.iter().flatten().map(|u| u.id.clone());
        users.chain(self.groups.iter().flatten().map(|g| g.id.clone())).collect()
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
        let pb = progress(self.http.opts.progress, jobs.len(), &format!("cycle {n}: users"));
        let http = self.http.clone();
        let mut results = futures::stream::iter(jobs)
            .map(|planned| {
                let (http, job) = (http.clone(), planned.into_job(model));
                tokio::spawn(super::interrupt::tracked(async move { user_job(&http, job).await }))
            })
            .buffer_unordered(self.http.opts.concurrency.max(1));
        while let Some(r) = results.next().await {
            pb.inc(1);
            let (r, stopped) = r.expect("user job does not panic");
            if stopped {
                fig.not_sent += 1;
                continue;
            }
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
        let pb = progress(self.http.opts.progress, jobs.len(), &format!("cycle {n}: groups"));
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
            .buffer_unordered(self.http.opts.concurrency.max(1));
        while let Some(r) = results.next().await {
            pb.inc(1);
            let (r, stopped) = r.expect("group job does not panic");
            if stopped {
                fig.not_sent += 1;
                continue;
            }
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
        let pb = progress(self.http.opts.progress, jobs.len(), &format!("cycle {n}: managers"));
        let http = self.http.clone();
        let mut results = futures::stream::iter(jobs)
            .map(|(i, id, want, want_id)| {
                let http = http.clone();
                tokio::spawn(super::interrupt::tracked(async move {
                    let Some(req) = d.manager_set(&id, want_id.as_deref()) else { return (i, want, true) };
                    let out = http.send(OpKind::ManagerUpdate, ObjRef::User(i), &req).await;
                    (i, want, out.ok())
                }))
            })
            .buffer_unordered(self.http.opts.concurrency.max(1));
        while let Some(r) = results.next().await {
            pb.inc(1);
            let ((i, want, ok), stopped) = r.expect("manager job does not panic");
            if stopped {
                fig.not_sent += 1;
                continue;
            }
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
        let chunk = self.http.opts.chunk;
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
                let req = d.group_rename(&p.id, &name, &all);
                jobs.push((g as u32, add, remove, req, Some(name)));
                continue;
            }
            let step = chunk.max(1);
            // Pair each request with the changes it carries, so success updates exactly those.
            if d.is_entra() {
                for c in remove.chunks(step) {
                    let ms: Vec<Member> = c.iter().filter_map(|&u| member(&self.users, u)).collect();
                    for r in d.membership_updates(&p.id, &name, &[], &ms, &all, step) {
                        jobs.push((g as u32, Vec::new(), c.to_vec(), r, None));
                    }
                }
                for c in add.chunks(step) {
                    let ms: Vec<Member> = c.iter().filter_map(|&u| member(&self.users, u)).collect();
                    for r in d.membership_updates(&p.id, &name, &ms, &[], &all, step) {
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
                    for req in d.membership_updates(&p.id, &name, &am, &rm, &all, step) {
                        jobs.push((g as u32, a.clone(), r.clone(), req, None));
                    }
                }
            }
        }
        if jobs.is_empty() {
            return;
        }
        let pb = progress(self.http.opts.progress, jobs.len(), &format!("cycle {n}: memberships"));
        let http = self.http.clone();
        let mut results = futures::stream::iter(jobs)
            .map(|(g, add, remove, req, rename)| {
                let http = http.clone();
                tokio::spawn(super::interrupt::tracked(async move {
                    let out = http.send(OpKind::GroupMembers, ObjRef::Group(g), &req).await;
                    (g, add, remove, out.ok(), rename)
                }))
            })
            .buffer_unordered(self.http.opts.concurrency.max(1));
        while let Some(r) = results.next().await {
            pb.inc(1);
            let ((g, add, remove, ok, rename), stopped) = r.expect("membership job does not panic");
            if stopped {
                fig.not_sent += 1;
                continue;
            }
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
            let pb = progress(self.http.opts.progress, 0, &format!("cycle {n}: import {collection}"));
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
    let d = http.opts.dialect;
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
                let out = http.send(OpKind::UserCreate, obj, &d.user_create(&attrs)).await;
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

#[cfg(test)]
mod tests {
    use super::*;

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
