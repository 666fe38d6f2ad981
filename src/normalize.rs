//! Transcript normalisation: every rule that makes a transcript stable across runs lives here.
//!
//! First, what RFC 7644 leaves unspecified is taken out: the `Resources` of a list answered to a request without
//! `sortBy` are put in a canonical order, and a partial page of such a list keeps only its resources' shapes
//! (`unordered`). Then applied to every string of the transcript, in this order (documented in
//! `scenarios/README.md`):
//! 1. secrets (the token, the whole `Authorization` value) → `[redacted]`; then a string equal to a version
//!    (`meta.version` values and `ETag` header values) → `[version]`, and such a quoted entity tag inside free
//!    text (an error `detail`) too;
//! 2. the base URI → `[base]`, then its origin (`http://host:port`) → `[origin]`;
//! 3. server ids → `[user-1]`, `[group-1]`, … numbered per transcript in order of first appearance; an id is the
//!    `id` of a response body or of a `Resources[]` element, typed by its `meta.resourceType` or else by the
//!    request path's collection (`/Users` → `user`); it is replaced where a string equals it, where a URL or path
//!    segment equals it, where it appears in double quotes (filters such as `members[value eq "…"]`), and —
//!    for ids of 8 characters or more — where it stands as a whole word in free text (`User <id> not found`);
//!    ids of discovery resources (schema URNs, resource type names) are vocabulary, not server ids;
//! 4. generated values → `{{variableName}}` (also `{{name|lower}}` / `{{name|upper}}` when the server changed
//!    their case);
//! 5. RFC 3339 timestamps → `[timestamp]`.
//!
//! Only the response headers `content-type`, `location` and `etag` (presence, as `[version]`) are kept; request
//! headers are recorded only when the step itself sets them, never `Authorization`. Keys are sorted.

use std::collections::BTreeMap;

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use std::sync::OnceLock;

use regex::Regex;
use serde_json::{Map, Value};

use crate::exchange::{AuthMode, Body, Observed, SentRequest};

mod unordered;

/// Replaces secrets (tokens, `Authorization` values) in data: header values, URLs, JSON string values, error
/// texts taken from the server or the transport. Never applied to the tool's own prose.
///
/// A secret of [`MIN_EMBEDDED_SECRET`] characters or more is replaced wherever it occurs, even inside a longer
/// string; a shorter one (a one-letter test token, a common word) only where it stands as a whole token — not
/// preceded or followed by a letter, digit, `-` or `_` — so `e` leaves `example` alone but `Bearer e`, `?token=e`
/// and the JSON value `"e"` are redacted.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
    /// Secrets learnt while the run goes on (OAuth access tokens fetched mid-run), shared with their sources.
    live: Vec<LiveSecrets>,
}

/// A list of secrets that grows while a run goes on (the access tokens a [`crate::oauth::TokenSource`] fetched),
/// shared between the source and every [`Redactor`] made with [`Redactor::with_live`].
pub type LiveSecrets = std::sync::Arc<std::sync::RwLock<Vec<String>>>;

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

/// What a secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Secrets at least this long are replaced even where they are part of a longer word.
pub const MIN_EMBEDDED_SECRET: usize = 12;

impl Redactor {
    /// A redactor for these secrets (empty strings are ignored).
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Redactor {
        let mut secrets: Vec<String> = secrets.into_iter().filter(|s| !s.is_empty()).collect();
        // also the forms a secret takes inside JSON text
        let escaped: Vec<String> = secrets
            .iter()
            .map(|s| serde_json::to_string(s).unwrap_or_default().trim_matches('"').to_string())
            .collect();
        secrets.extend(escaped);
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        secrets.dedup();
        Redactor { secrets, live: Vec::new() }
    }

    /// A redactor for `secrets` and, at every use, whatever `live` holds by then.
    pub fn with_live(secrets: impl IntoIterator<Item = String>, live: LiveSecrets) -> Redactor {
        Redactor { live: vec![live], ..Redactor::new(secrets) }
    }

    /// A redactor hiding what `self` and `other` hide (two credentials of one run, such as the two OAuth clients
    /// of the gallery suite's authentication tests).
    pub fn and(self, other: &Redactor) -> Redactor {
        let mut live = self.live;
        live.extend(other.live.iter().cloned());
        let mut secrets = self.secrets;
        secrets.extend(other.secrets.iter().cloned());
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        secrets.dedup();
        Redactor { secrets, live }
    }

    /// Whether there is nothing to redact.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty() && self.live.iter().all(|l| l.read().map_or(true, |l| l.is_empty()))
    }

    /// The fixed secrets and the live ones, longest first.
    fn all(&self) -> std::borrow::Cow<'_, [String]> {
        let live: Vec<String> =
            self.live.iter().flat_map(|l| l.read().map(|l| l.clone()).unwrap_or_default()).collect();
        if live.is_empty() {
            return std::borrow::Cow::Borrowed(&self.secrets);
        }
        let mut all = self.secrets.clone();
        all.extend(live.into_iter().filter(|s| !s.is_empty()));
        all.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        all.dedup();
        std::borrow::Cow::Owned(all)
    }

    /// `s` (a value: header, URL, JSON string, error text) with every secret replaced by [`REDACTED`].
    pub fn scrub(&self, s: &str) -> String {
        let mut out = s.to_string();
        for secret in self.all().iter() {
            if !out.contains(secret.as_str()) {
                continue;
            }
            out = if secret.chars().count() >= MIN_EMBEDDED_SECRET {
                out.replace(secret.as_str(), REDACTED)
            } else {
                replace_bounded(&out, secret, REDACTED)
            };
        }
        out
    }

    /// `key` (a JSON object key, a header or query parameter name) with every secret of [`MIN_EMBEDDED_SECRET`]
    /// characters or more replaced by [`REDACTED`].
    pub fn scrub_key(&self, key: &str) -> String {
        let mut out = key.to_string();
        for secret in self.all().iter().filter(|s| s.chars().count() >= MIN_EMBEDDED_SECRET) {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        out
    }

    /// Scrubs every string of a JSON document in place: values and object keys (a server may echo a token as a
    /// key, `{"<token>": …}`).
    pub fn scrub_json(&self, v: &mut Value) {
        if self.is_empty() {
            return;
        }
        match v {
            Value::String(s) => *s = self.scrub(s),
            Value::Array(a) => a.iter_mut().for_each(|x| self.scrub_json(x)),
            Value::Object(o) => {
                self.scrub_keys(o);
                o.values_mut().for_each(|x| self.scrub_json(x));
            }
            _ => {}
        }
    }

    /// Scrubs the keys of one JSON object in place (not its values). Two keys that scrub to the same text are
    /// both kept: the later ones get a ` #2`, ` #3`, … suffix, so no member of the body is lost.
    ///
    /// Only secrets of [`MIN_EMBEDDED_SECRET`] characters or more are looked for in keys: a shorter one (a test
    /// token such as `password`) would otherwise rename attributes (RFC 7643 §4.1.1 `password`) in every body.
    pub fn scrub_keys(&self, o: &mut Map<String, Value>) {
        if self.is_empty() || !o.keys().any(|k| self.scrub_key(k) != *k) {
            return;
        }
        let old = std::mem::take(o);
        for (k, v) in old {
            let scrubbed = self.scrub_key(&k);
            let mut key = scrubbed.clone();
            let mut n = 1;
            while o.contains_key(&key) {
                n += 1;
                key = format!("{scrubbed} #{n}");
            }
            o.insert(key, v);
        }
    }

    /// Scrubs a request as it is kept for reports: URL, path, query values, header values and body.
    pub fn scrub_request(&self, r: &mut SentRequest) {
        if self.is_empty() {
            return;
        }
        r.url = self.scrub(&r.url);
        r.path = self.scrub(&r.path);
        for (k, v) in r.query.iter_mut().chain(r.headers.iter_mut()).chain(r.step_headers.iter_mut()) {
            *k = self.scrub_key(k);
            *v = self.scrub(v);
        }
        if let Some(b) = &mut r.body {
            self.scrub_json(b);
        }
        if let Some(t) = &mut r.body_text {
            *t = self.scrub(t);
        }
    }

    /// Scrubs a response as it is kept for reports: header values and body.
    pub fn scrub_observed(&self, o: &mut Observed) {
        if self.is_empty() {
            return;
        }
        for (k, v) in o.headers.iter_mut() {
            *k = self.scrub_key(k);
            *v = self.scrub(v);
        }
        match &mut o.body {
            Body::Json(v) => self.scrub_json(v),
            Body::Text(t) | Body::Truncated { text: t, .. } => *t = self.scrub(t),
            Body::Empty | Body::TooLarge { .. } => {}
        }
    }
}

/// What normalisation needs to know about one scenario execution.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    /// The base URI the scenario ran against.
    pub base_url: &'a str,
    /// Secrets to scrub.
    pub redactor: &'a Redactor,
    /// Generated variables: (name, value).
    pub generated: Vec<(String, String)>,
}

/// One exchange of a transcript.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    /// Step name (`cleanup` for cleanup requests).
    pub step: &'a str,
    /// What was sent.
    pub request: &'a SentRequest,
    /// What came back, unless a transport error happened.
    pub response: Option<&'a Observed>,
    /// The transport error, if any.
    pub error: Option<&'a str>,
}

/// Builds the normalised transcript (a JSON array, one object per exchange, keys sorted).
pub fn transcript(entries: &[Entry<'_>], ctx: &Context<'_>) -> Value {
    let mut raw: Vec<Value> = entries.iter().map(raw_entry).collect();
    let versions = collect_versions(entries);
    // the order of an unsorted list is not recorded (`unordered`): canonical order before ids get placeholders
    let all_ids = collect_ids(&raw).into_iter().map(|(id, _)| (id, "[id]".to_string())).collect();
    let masking = Rules::new(ctx, all_ids, versions.clone());
    unordered::canonicalise(&mut raw, |resource| {
        let mut r = resource.clone();
        masking.apply(&mut r, None);
        render(&sort_keys(r))
    });
    let ids = collect_ids(&raw);
    let rules = Rules::new(ctx, ids, versions);
    let mut out = Value::Array(raw);
    rules.apply(&mut out, None);
    sort_keys(out)
}

/// Renders a transcript made by [`transcript`] (keys already sorted) as snapshot text: pretty JSON.
pub fn render(transcript: &Value) -> String {
    serde_json::to_string_pretty(transcript).expect("JSON values always serialise")
}

fn raw_entry(e: &Entry<'_>) -> Value {
    let mut req = Map::new();
    req.insert("method".into(), e.request.method.as_str().into());
    req.insert("path".into(), e.request.path.clone().into());
    if !e.request.query.is_empty() {
        let q: Map<String, Value> =
            e.request.query.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        req.insert("query".into(), Value::Object(q));
    }
    if let Some(space) = e.request.spaces {
        req.insert("spaces".into(), serde_json::to_value(space).unwrap_or(Value::Null));
    }
    if !e.request.step_headers.is_empty() {
        let h: Map<String, Value> = e
            .request
            .step_headers
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("authorization"))
            .map(|(k, v)| (k.to_ascii_lowercase(), Value::String(v.clone())))
            .collect();
        req.insert("headers".into(), Value::Object(h));
    }
    if let Some(b) = &e.request.body {
        req.insert("body".into(), b.clone());
    }
    if let Some(t) = &e.request.body_text {
        req.insert("bodyText".into(), Value::String(t.clone()));
    }
    match e.request.auth {
        AuthMode::Default => {}
        AuthMode::None => {
            req.insert("auth".into(), "none".into());
        }
        AuthMode::Invalid => {
            req.insert("auth".into(), "invalid".into());
        }
    }
    let mut entry = Map::new();
    entry.insert("step".into(), e.step.into());
    entry.insert("request".into(), Value::Object(req));
    if let Some(r) = e.response {
        let mut resp = Map::new();
        resp.insert("status".into(), r.status.into());
        let mut headers = Map::new();
        for name in ["content-type", "location"] {
            if let Some(v) = r.header(name) {
                headers.insert(name.into(), v.into());
            }
        }
        if r.header("etag").is_some() {
            headers.insert("etag".into(), "[version]".into());
        }
        if !headers.is_empty() {
            resp.insert("headers".into(), Value::Object(headers));
        }
        match &r.body {
            Body::Empty => {}
            Body::Json(v) => {
                resp.insert("body".into(), v.clone());
            }
            Body::Text(t) => {
                resp.insert("bodyText".into(), t.clone().into());
            }
            Body::TooLarge { limit } => {
                resp.insert("bodyText".into(), format!("[body exceeds {limit} bytes]").into());
            }
            Body::Truncated { .. } => {
                let note = format!("[JSON body over {} bytes: not kept]", crate::exchange::RETAIN_WHOLE);
                resp.insert("bodyText".into(), note.into());
            }
        }
        entry.insert("response".into(), Value::Object(resp));
    }
    if let Some(err) = e.error {
        entry.insert("error".into(), err.into());
    }
    Value::Object(entry)
}

/// The resource kind of a request path: `/Users/…` → `user`, `/Groups` → `group`.
fn kind_from_path(path: &str) -> String {
    let first = path.trim_start_matches('/').split(['/', '?']).next().unwrap_or("");
    let lower = first.to_ascii_lowercase();
    let kind = lower.strip_suffix('s').unwrap_or(&lower);
    if kind.is_empty() {
        "resource".into()
    } else {
        kind.into()
    }
}

fn id_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn resource_kind(resource: &Value, fallback: &str) -> String {
    resource
        .pointer("/meta/resourceType")
        .and_then(Value::as_str)
        .map(|t| t.to_ascii_lowercase())
        .unwrap_or_else(|| fallback.to_string())
}

/// Kinds (from a path or `meta.resourceType`, lower-cased, singular) whose `id`s are not server ids.
const DISCOVERY_KINDS: &[&str] = &["schema", "resourcetype", "serviceproviderconfig"];

/// Server ids in order of first appearance in the raw transcript entries, with their placeholders.
fn collect_ids(raw: &[Value]) -> Vec<(String, String)> {
    let mut ids: Vec<(String, String)> = Vec::new();
    let mut counters: BTreeMap<String, usize> = BTreeMap::new();
    for (id, kind) in raw.iter().flat_map(entry_ids) {
        if ids.iter().any(|(known, _)| *known == id) {
            continue;
        }
        let n = counters.entry(kind.clone()).or_insert(0);
        *n += 1;
        ids.push((id, format!("[{kind}-{n}]")));
    }
    ids
}

/// The server ids one raw transcript entry's response body shows, in order, with their kinds: the body's `id` and
/// each `Resources[]` element's.
fn entry_ids(entry: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Some(body) = entry.pointer("/response/body") else {
        return out;
    };
    let fallback = kind_from_path(entry.pointer("/request/path").and_then(Value::as_str).unwrap_or(""));
    if DISCOVERY_KINDS.contains(&fallback.as_str()) {
        // Schema URNs and resource type names are the server's published vocabulary, not ids to hide:
        // a renamed schema must show up as drift.
        return out;
    }
    let mut consider = |v: &Value| {
        let kind = resource_kind(v, &fallback);
        let server_id = |id: &String| !DISCOVERY_KINDS.contains(&kind.as_str()) && id != unordered::SHAPE_STRING;
        if let Some(id) = v.get("id").and_then(id_string).filter(server_id) {
            out.push((id, kind));
        }
    };
    consider(body);
    if let Some(Value::Array(items)) = body.get("Resources") {
        items.iter().for_each(&mut consider);
    }
    out
}

fn collect_versions(entries: &[Entry<'_>]) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(o) => {
                if let Some(Value::String(ver)) = o.get("meta").and_then(|m| m.get("version")) {
                    out.push(ver.clone());
                }
                o.values().for_each(|x| walk(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for e in entries {
        if let Some(r) = e.response {
            if let Some(etag) = r.header("etag") {
                out.push(etag.to_string());
            }
            if let Some(b) = r.json() {
                walk(b, &mut out);
            }
        }
    }
    out.retain(|v| !v.is_empty());
    out.sort();
    out.dedup();
    out
}

fn timestamp_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})?").expect("valid regex")
    })
}

struct Rules<'a> {
    ctx: &'a Context<'a>,
    /// The base URI without its query or trailing slashes ([`crate::exchange::BaseUri::base`]).
    base: String,
    origin: Option<String>,
    ids: Vec<(String, String)>,
    versions: Vec<String>,
    generated: Vec<(String, String)>,
    /// Finds, in one pass over a string, which ids and which generated values occur in it: a transcript
    /// has thousands of strings and may have a hundred ids, so testing each pair would be quadratic.
    id_finder: Option<AhoCorasick>,
    generated_finder: Option<AhoCorasick>,
}

/// An automaton over `patterns`, or `None` when there are none.
fn finder<'p>(patterns: impl Iterator<Item = &'p String>) -> Option<AhoCorasick> {
    let patterns: Vec<&String> = patterns.collect();
    if patterns.is_empty() {
        return None;
    }
    // A contiguous NFA: cheap to build for one transcript, and fast enough on short strings.
    AhoCorasick::builder().kind(Some(AhoCorasickKind::ContiguousNFA)).build(patterns).ok()
}

/// Indexes (ascending) of the patterns of `finder` that occur in `s`.
fn occurring(finder: &AhoCorasick, s: &str) -> Vec<usize> {
    let mut hits: Vec<usize> = finder.find_overlapping_iter(s).map(|m| m.pattern().as_usize()).collect();
    hits.sort_unstable();
    hits.dedup();
    hits
}

impl<'a> Rules<'a> {
    fn new(ctx: &'a Context<'a>, ids: Vec<(String, String)>, versions: Vec<String>) -> Rules<'a> {
        let base = crate::exchange::BaseUri::new(ctx.base_url).base().to_string();
        let origin = base
            .find("://")
            .map(|i| i + 3)
            .map(|start| match base[start..].find('/') {
                Some(slash) => base[..start + slash].to_string(),
                None => base.to_string(),
            })
            .filter(|o| *o != base);
        // generated values: longest first so `{{email}}` wins over `{{given}}`, exact forms before case variants
        let mut generated: Vec<(String, String)> = ctx
            .generated
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(n, v)| (v.clone(), format!("{{{{{n}}}}}")))
            .collect();
        let mut variants = Vec::new();
        for (n, v) in &ctx.generated {
            for (form, filter) in [(v.to_lowercase(), "lower"), (v.to_uppercase(), "upper")] {
                if !form.is_empty() && form != *v && !generated.iter().any(|(g, _)| *g == form) {
                    variants.push((form, format!("{{{{{n}|{filter}}}}}")));
                }
            }
        }
        generated.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.1.cmp(&b.1)));
        variants.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.1.cmp(&b.1)));
        generated.extend(variants);
        let id_finder = finder(ids.iter().map(|(id, _)| id));
        let generated_finder = finder(generated.iter().map(|(v, _)| v));
        Rules { ctx, base, origin, ids, versions, generated, id_finder, generated_finder }
    }

    fn apply(&self, v: &mut Value, key: Option<&str>) {
        match v {
            Value::String(s) => *s = self.string(s),
            Value::Number(n) if matches!(key, Some("id") | Some("value")) => {
                let text = n.to_string();
                if let Some((_, ph)) = self.ids.iter().find(|(id, _)| *id == text) {
                    *v = Value::String(ph.clone());
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| self.apply(x, None)),
            Value::Object(o) => {
                self.ctx.redactor.scrub_keys(o);
                for (k, x) in o.iter_mut() {
                    self.apply(x, Some(k));
                }
            }
            _ => {}
        }
    }

    fn string(&self, s: &str) -> String {
        let mut s = self.ctx.redactor.scrub(s);
        if self.versions.contains(&s) {
            return "[version]".into();
        }
        // an entity tag quoted in free text ("If-Match W/\"7\" does not match …"); its quotes keep it whole
        for v in self.versions.iter().filter(|v| v.contains('"')) {
            if s.contains(v.as_str()) {
                s = s.replace(v.as_str(), "[version]");
            }
        }
        let base = self.base.as_str();
        if !base.is_empty() && s.contains(base) {
            s = s.replace(base, "[base]");
        }
        if let Some(origin) = &self.origin {
            if s.contains(origin.as_str()) {
                s = s.replace(origin.as_str(), "[origin]");
            }
        }
        if let Some(f) = &self.id_finder {
            for i in occurring(f, &s) {
                let (id, ph) = &self.ids[i];
                s = replace_id(&s, id, ph);
            }
        }
        if let Some(f) = &self.generated_finder {
            // in the order of `generated` (longest first): a replaced value may no longer be there
            for i in occurring(f, &s) {
                let (value, name) = &self.generated[i];
                if s.contains(value.as_str()) {
                    s = s.replace(value.as_str(), name);
                }
            }
        }
        timestamp_re().replace_all(&s, "[timestamp]").into_owned()
    }
}

/// Replaces an id where the whole string equals it, where a path segment equals it, or where it is quoted.
fn replace_id(s: &str, id: &str, placeholder: &str) -> String {
    if s == id {
        return placeholder.to_string();
    }
    if !s.contains(id) {
        return s.to_string();
    }
    let mut out = s.to_string();
    if out.contains('/') {
        let (path, rest) = match out.find('?') {
            Some(i) => (out[..i].to_string(), out[i..].to_string()),
            None => (out.clone(), String::new()),
        };
        let replaced: Vec<&str> = path.split('/').map(|seg| if seg == id { placeholder } else { seg }).collect();
        out = format!("{}{rest}", replaced.join("/"));
    }
    let quoted = format!("\"{id}\"");
    if out.contains(&quoted) {
        out = out.replace(&quoted, &format!("\"{placeholder}\""));
    }
    if id.len() >= MIN_ID_IN_TEXT {
        out = replace_bounded(&out, id, placeholder);
    }
    out
}

/// Ids at least this long are also replaced inside free text (error details such as "User <id> not found").
const MIN_ID_IN_TEXT: usize = 8;

/// Replaces `id` where it stands as a whole word: not preceded or followed by a letter, digit, `-` or `_`.
fn replace_bounded(s: &str, id: &str, placeholder: &str) -> String {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(id) {
        let before = rest[..i].chars().next_back().or_else(|| out.chars().next_back());
        let after = &rest[i + id.len()..];
        out.push_str(&rest[..i]);
        let whole_word = !before.is_some_and(is_word) && !after.chars().next().is_some_and(is_word);
        out.push_str(if whole_word { placeholder } else { id });
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Rebuilds every object with its keys in sorted order (whatever map type serde_json is built with).
pub fn sort_keys(v: Value) -> Value {
    match v {
        Value::Object(o) => {
            let sorted: BTreeMap<String, Value> = o.into_iter().map(|(k, x)| (k, sort_keys(x))).collect();
            Value::Object(sorted.into_iter().collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(sort_keys).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::Method;
    use serde_json::json;
    use std::time::Duration;

    fn req(method: Method, path: &str, body: Option<Value>) -> SentRequest {
        SentRequest {
            method,
            url: format!("http://127.0.0.1:9/t/acme/scim{path}"),
            path: path.into(),
            query: vec![],
            headers: vec![("Authorization-ish".into(), "x".into())],
            step_headers: vec![],
            body,
            body_text: None,
            auth: AuthMode::Default,
            spaces: None,
        }
    }

    fn resp(status: u16, headers: &[(&str, &str)], body: Value) -> Observed {
        Observed {
            status,
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            body: Body::Json(body),
            size: 0,
            elapsed: Duration::from_millis(1),
        }
    }

    #[test]
    fn ids_versions_timestamps_base_generated_and_secrets_are_normalised() {
        let base = "http://127.0.0.1:9/t/acme/scim";
        let redactor = Redactor::new(["s3cr3t-token".to_string()]);
        let ctx = Context {
            base_url: base,
            redactor: &redactor,
            generated: vec![("email".into(), "Runscope123Abcdefgh456@atko.com".into())],
        };
        let create = req(Method::POST, "/Users", Some(json!({"userName": "Runscope123Abcdefgh456@atko.com"})));
        let created = resp(
            201,
            &[
                ("content-type", "application/scim+json"),
                ("location", "http://127.0.0.1:9/t/acme/scim/Users/abc-1"),
                ("etag", "W/\"7\""),
                ("x-other", "dropped"),
            ],
            json!({"id": "abc-1", "userName": "runscope123abcdefgh456@atko.com",
                   "meta": {"resourceType": "User", "created": "2024-05-01T10:00:00.123Z", "version": "W/\"7\"",
                            "location": "http://127.0.0.1:9/t/acme/scim/Users/abc-1"},
                   "echo": "token was s3cr3t-token", "other": "http://127.0.0.1:9/elsewhere"}),
        );
        let get = req(Method::GET, "/Users/abc-1", None);
        let group = req(Method::PATCH, "/Groups/g9", Some(json!({"path": "members[value eq \"abc-1\"]"})));
        let listed = resp(200, &[], json!({"Resources": [{"id": "g9"}, {"id": "abc-1"}]}));
        let entries = [
            Entry { step: "create", request: &create, response: Some(&created), error: None },
            Entry { step: "get", request: &get, response: None, error: Some("timed out") },
            Entry { step: "patch", request: &group, response: Some(&listed), error: None },
        ];
        let t = transcript(&entries, &ctx);
        let text = render(&t);
        assert!(!text.contains("s3cr3t"), "{text}");
        assert!(!text.contains("abc-1") && !text.contains("g9"), "{text}");
        assert!(!text.contains("x-other"), "{text}");
        assert_eq!(t[0]["request"]["body"]["userName"], "{{email}}");
        assert_eq!(t[0]["response"]["body"]["userName"], "{{email|lower}}");
        assert_eq!(t[0]["response"]["body"]["meta"]["created"], "[timestamp]");
        assert_eq!(t[0]["response"]["body"]["meta"]["version"], "[version]");
        assert_eq!(t[0]["response"]["body"]["meta"]["location"], "[base]/Users/[user-1]");
        assert_eq!(t[0]["response"]["body"]["other"], "[origin]/elsewhere");
        assert_eq!(t[0]["response"]["headers"]["etag"], "[version]");
        assert_eq!(t[0]["response"]["body"]["echo"], "token was [redacted]");
        assert_eq!(t[1]["request"]["path"], "/Users/[user-1]");
        assert_eq!(t[1]["error"], "timed out");
        assert_eq!(t[2]["request"]["path"], "/Groups/[group-1]");
        assert_eq!(t[2]["request"]["body"]["path"], "members[value eq \"[user-1]\"]");
        // keys sorted
        let keys: Vec<&String> = t[0]["response"]["body"].as_object().unwrap().keys().collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
    }

    #[test]
    fn short_ids_are_not_replaced_inside_other_text() {
        assert_eq!(replace_id("/Users?count=1&startIndex=1", "1", "[user-1]"), "/Users?count=1&startIndex=1");
        assert_eq!(replace_id("/Users/1", "1", "[user-1]"), "/Users/[user-1]");
        assert_eq!(replace_id("Runscope1", "1", "[user-1]"), "Runscope1");
    }

    #[test]
    fn long_ids_are_replaced_as_whole_words_in_free_text() {
        let id = "2819c223-7f76-453a-919d-413861904646";
        assert_eq!(replace_id(&format!("User {id} not found"), id, "[user-1]"), "User [user-1] not found");
        assert_eq!(replace_id(&format!("({id}), {id}."), id, "[user-1]"), "([user-1]), [user-1].");
        assert_eq!(replace_id(&format!("x{id}"), id, "[user-1]"), format!("x{id}"));
        assert_eq!(replace_id(&format!("{id}-2"), id, "[user-1]"), format!("{id}-2"));
        assert_eq!(replace_id(&format!("{id}{id}"), id, "[user-1]"), format!("{id}{id}"));
    }

    #[test]
    fn short_secrets_are_redacted_only_as_whole_tokens() {
        let r = Redactor::new(["e".to_string(), "Bearer e".to_string()]);
        assert_eq!(r.scrub("user@example.com"), "user@example.com");
        assert_eq!(r.scrub("0 passed"), "0 passed");
        assert_eq!(r.scrub("Bearer e"), REDACTED);
        assert_eq!(r.scrub("e"), REDACTED);
        assert_eq!(r.scrub("https://h/scim?token=e&x=1"), "https://h/scim?token=[redacted]&x=1");
        let word = Redactor::new(["password".to_string()]);
        assert_eq!(word.scrub("passwords are hashed"), "passwords are hashed");
        assert_eq!(word.scrub("the token is password."), "the token is [redacted].");
        let mut v = json!({"password": "password", "note": "password-less"});
        word.scrub_json(&mut v);
        assert_eq!(v, json!({"password": "[redacted]", "note": "password-less"}));
    }

    #[test]
    fn secrets_echoed_as_object_keys_are_redacted_and_no_member_is_lost() {
        let token = "tok-0123456789abcdef";
        let r = Redactor::new([token.to_string()]);
        let mut v = json!({token: 1, "nested": [{format!("x{token}"): {token: "a"}}], "[redacted]": 0});
        r.scrub_json(&mut v);
        let text = v.to_string();
        assert!(!text.contains(token), "{text}");
        assert_eq!(v.as_object().unwrap().len(), 3, "{text}");
        assert_eq!(v["nested"][0]["x[redacted]"]["[redacted]"], "a");
        let mut sent = req(Method::GET, "/Users", None);
        sent.query = vec![(token.into(), "1".into())];
        sent.headers = vec![(format!("x-{token}"), "1".into())];
        r.scrub_request(&mut sent);
        assert!(!format!("{:?}{:?}", sent.query, sent.headers).contains(token));
        // the transcript (snapshots) too
        let ctx = Context { base_url: "http://127.0.0.1:9/t/acme/scim", redactor: &r, generated: vec![] };
        let get = req(Method::GET, "/Users", None);
        let echoed = resp(200, &[], json!({token: {token: true}}));
        let t = transcript(&[Entry { step: "get", request: &get, response: Some(&echoed), error: None }], &ctx);
        assert!(!render(&t).contains(token), "{}", render(&t));
    }

    #[test]
    fn long_secrets_are_redacted_even_inside_words() {
        let r = Redactor::new(["0123456789abcdef".to_string()]);
        assert_eq!(r.scrub("x0123456789abcdefx"), "x[redacted]x");
    }

    #[test]
    fn redactor_scrubs_json_escaped_forms() {
        let r = Redactor::new(["a\"b".to_string()]);
        assert_eq!(r.scrub(r#"{"t":"a\"b"}"#), r#"{"t":"[redacted]"}"#);
    }
}
