//! Flows → scenario files: the one conversion `scimcheck record` and `scimcheck import --har` share.
//!
//! [`convert`] is pure. What it does, in order (docs/engines.md §D "Normalisation a replayable scenario
//! needs"):
//! 1. recognises the IdP and Entra's dialect ([`super::recognize`]);
//! 2. splits the capture into provisioning flows: every request is tied to the resources it names (by server
//!    id in the path, by the id a create or lookup answered, by the userName/displayName a lookup or create
//!    used); resources tied together form one flow, one scenario, its requests in their recorded order. A request
//!    whose body or filter names other resources (members, a manager) is a cross-object step: it stays in the
//!    flow of the object it addresses and the objects it names become that flow's fixtures, so each user's and
//!    group's lifecycle is a flow of its own. Lists without a filter (Okta's import) and discovery reads are
//!    flows of their own;
//! 3. turns every server-assigned id into a capture at the response that first returned it, and every later
//!    use (paths, `members[].value`, manager values, `$ref`, filters) into `{{capture}}`; a resource the flow
//!    did not create (it existed before the recording, or another flow created it) gets a setup step that
//!    creates it from its recorded representation, and the description lists these fixtures;
//! 4. turns values the IdP generated into variables with generators of the same shape ([`super::values`]);
//! 5. turns consecutive list requests that advance `startIndex` by `count` until `totalResults` into one step
//!    with `"pages": true`, which the runner repeats by following the responses;
//! 6. writes expectations from what was observed: the status; the attributes the request (or an earlier write
//!    of the flow) set and the response echoed; `totalResults` of lookups; members' count; error `scimType`;
//!    timings go into each step's `note`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::fixture::FixtureType;
use super::naming;
use super::recognize::{self, Recognized};
use super::values::{Collector, Plan, Role};
use super::{decode_query, CapturedBody, Flow};
use crate::exchange::{AuthMode, Method, SpaceEncoding};
use crate::idp::{Dialect, EntraDialect, Idp};
use crate::normalize::Redactor;
use crate::profile::Profile;
use crate::scenario::{self, Assertion, Basis, Capture, Expect, Query, ScenarioFile, StatusSet, Step};

mod checks;
mod exchange;
mod written;

use checks::{page_assertions, step};
use exchange::{parse, Ex, Kind};
use written::{apply_write, echoes, flatten, flatten_all, member_ids, role_of, written_values, Written};

/// Conversion settings.
#[derive(Debug, Clone)]
pub struct ConvertOptions {
    /// Which IdP sent the flows; `None` (the recorder's `--idp auto`): recognise it.
    pub idp: Option<Idp>,
    /// How the flows were obtained, for `source` (e.g. "`scimcheck record` from upstream https://…").
    pub origin: String,
    /// When the conversion runs (names the output group).
    pub now: DateTime<Utc>,
}

/// One scenario file produced by the conversion.
#[derive(Debug, Clone)]
pub struct GeneratedScenario {
    /// Path below the output folder: `<idp>/<group>/<name>.json`.
    pub rel_path: String,
    /// The file's text (pretty JSON; query parameters in recorded order).
    pub text: String,
}

/// The result of a conversion.
#[derive(Debug, Clone)]
pub struct Converted {
    /// The recognised (or forced) IdP and its evidence.
    pub recognized: Recognized,
    /// The scenarios, in the order their flows started.
    pub scenarios: Vec<GeneratedScenario>,
    /// Exchanges left out, and why.
    pub notes: Vec<String>,
}

const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const LIST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// Keys whose string values are SCIM vocabulary, never IdP data.
const VOCABULARY: &[&str] = &["schemas", "resourceType", "type", "op", "locale", "timezone", "preferredLanguage"];
/// Attributes not tracked for echo assertions: write-only, read-only or server-computed (RFC 7643 §3.1, §4.1).
const NOT_TRACKED: &[&str] = &["schemas", "password", "meta", "id", "members", "groups", "$ref"];

/// Union-find over the things requests name.
#[derive(Default)]
struct Links {
    index: HashMap<String, usize>,
    parent: Vec<usize>,
}

impl Links {
    fn node(&mut self, key: String) -> usize {
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        let i = self.parent.len();
        self.parent.push(i);
        self.index.insert(key, i);
        i
    }
    fn find(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }
    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            self.parent[b.max(a)] = a.min(b);
        }
    }
}

fn res_key(id: &str) -> String {
    format!("res:{id}")
}
fn name_key(kind: Kind, value: &str) -> String {
    format!("name:{kind:?}:{}", value.to_lowercase())
}

/// Every string in a JSON value.
fn strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

fn quoted(s: &str) -> Vec<String> {
    s.split('"').skip(1).step_by(2).map(str::to_string).collect()
}

/// Converts captured flows into scenarios. Pure: same flows and options, same scenarios.
pub fn convert(flows: &[Flow], options: &ConvertOptions) -> Converted {
    let mut notes = Vec::new();
    let mut exs: Vec<Ex<'_>> = Vec::new();
    for (i, f) in flows.iter().enumerate() {
        if f.error.is_some() && f.response_headers.is_empty() {
            notes.push(format!(
                "exchange {} ({} {}) left out: {}",
                i + 1,
                f.method,
                f.path,
                f.error.clone().unwrap_or_default()
            ));
            continue;
        }
        match parse(f) {
            Ok(ex) => exs.push(ex),
            Err(e) => notes.push(format!("exchange {} ({} {}) left out: {e}", i + 1, f.method, f.path)),
        }
    }
    let kept: Vec<Flow> = exs.iter().map(|e| e.flow.clone()).collect();
    let recognized = recognize::recognize(&kept, options.idp);
    let group = format!("recorded_{}", options.now.format("%Y%m%d_%H%M%S"));

    // which ids are server resources, what kind, and which were created during the recording
    let mut kinds: HashMap<String, Kind> = HashMap::new();
    let mut created: BTreeSet<String> = BTreeSet::new();
    for ex in &exs {
        if let Some(id) = &ex.id {
            if matches!(ex.kind, Kind::Users | Kind::Groups) {
                kinds.entry(id.clone()).or_insert(ex.kind);
            }
        }
        for (id, pointer) in ex.resource_ids_in_response() {
            kinds.entry(id.clone()).or_insert(ex.kind);
            if ex.method == Method::POST && pointer == "/id" && ex.flow.status == 201 {
                created.insert(id);
            }
        }
    }

    // tie requests to resources
    let mut links = Links::default();
    let mut primary: Vec<usize> = Vec::new();
    for (i, ex) in exs.iter().enumerate() {
        let own = match (&ex.id, ex.kind) {
            (Some(id), Kind::Users | Kind::Groups) => links.node(res_key(id)),
            (None, Kind::Users | Kind::Groups) if ex.method == Method::POST => {
                match ex.resource_ids_in_response().first() {
                    Some((id, _)) => links.node(res_key(id)),
                    None => match body_name(ex) {
                        Some(n) => links.node(name_key(ex.kind, &n)),
                        None => links.node(format!("solo:{i}")),
                    },
                }
            }
            (None, Kind::Users | Kind::Groups) if ex.is_list() => {
                let pairs = ex.filter_pairs();
                match pairs.first() {
                    Some((attr, v)) if attr.eq_ignore_ascii_case("id") => links.node(res_key(v)),
                    Some((_, v)) => links.node(name_key(ex.kind, v)),
                    None => links.node(format!("list:{:?}", ex.kind)),
                }
            }
            (_, Kind::Other) => links.node("discovery".into()),
            _ => links.node(format!("solo:{i}")),
        };
        primary.push(own);
        let is_list_without_filter = ex.is_list() && ex.filter_pairs().is_empty();
        if !is_list_without_filter {
            let ids = ex.resource_ids_in_response();
            if ids.len() <= 5 {
                for (id, _) in ids {
                    let n = links.node(res_key(&id));
                    links.union(own, n);
                }
            }
            // the first filter clause names the request's own object (above); another resource a filter names
            // (`members[value eq "…"]`) is a fixture of this flow, not a reason to merge flows
        }
        if ex.method == Method::POST {
            if let (Some(n), Some((id, _))) = (body_name(ex), ex.resource_ids_in_response().first()) {
                let a = links.node(name_key(ex.kind, &n));
                let b = links.node(res_key(id));
                links.union(a, b);
            }
        }
        // a request body naming other resources (group members, a manager) is a cross-object step: it stays in
        // the flow of the object it addresses, and the objects it names become that flow's fixtures, so one
        // group with many members does not pull every member's lifecycle into one catch-all flow
    }
    let mut components: Vec<(usize, Vec<usize>)> = Vec::new();
    for (i, own) in primary.iter().enumerate() {
        let root = links.find(*own);
        match components.iter_mut().find(|(r, _)| *r == root) {
            Some((_, members)) => members.push(i),
            None => components.push((root, vec![i])),
        }
    }

    let okta_endpoints = super::entitlements::declared_endpoints(flows);
    let ctx = Ctx {
        exs: &exs,
        kinds: &kinds,
        created: &created,
        recognized: &recognized,
        options,
        flows_total: flows.len(),
        okta_endpoints: &okta_endpoints,
    };
    let mut scenarios = Vec::new();
    for (n, (_, members)) in components.iter().enumerate() {
        let (name, text) = ctx.scenario(n + 1, members);
        scenarios
            .push(GeneratedScenario { rel_path: format!("{}/{group}/{name}.json", recognized.idp.folder()), text });
    }
    Converted { recognized, scenarios, notes }
}

/// The PATCH operations of a body (`Operations`, case-insensitively).
fn operations(body: &Value) -> Vec<Value> {
    crate::idp::get_ci(body, "Operations").and_then(Value::as_array).cloned().unwrap_or_default()
}

/// The name a create used (userName / displayName).
fn body_name(ex: &Ex<'_>) -> Option<String> {
    let b = ex.req.as_ref()?;
    let key = if ex.kind == Kind::Groups { "displayName" } else { "userName" };
    b.get(key).and_then(Value::as_str).map(str::to_string)
}

struct Ctx<'a, 'f> {
    exs: &'a [Ex<'f>],
    kinds: &'a HashMap<String, Kind>,
    created: &'a BTreeSet<String>,
    recognized: &'a Recognized,
    options: &'a ConvertOptions,
    flows_total: usize,
    /// The endpoints of the Okta role and entitlement types the recorded `/ResourceTypes` declared.
    okta_endpoints: &'a [String],
}

/// One step being built.
struct Draft {
    name: String,
    note: String,
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    spaces: Option<SpaceEncoding>,
    headers: BTreeMap<String, Option<String>>,
    body: Option<Value>,
    body_text: Option<String>,
    auth: AuthMode,
    status: u16,
    assertions: Vec<Assertion>,
    capture: BTreeMap<String, String>,
    pages: bool,
}

fn escape(s: &str) -> String {
    s.replace("{{", "{ {").replace("}}", "} }")
}

/// Ids and values → placeholders.
struct Templater<'a> {
    plan: &'a Plan,
    /// id → capture name, for ids whose capture is defined at this point.
    ids: BTreeMap<String, String>,
}

impl Templater<'_> {
    fn id_in_text(&self, s: &str) -> String {
        let mut out = s.to_string();
        for (id, name) in &self.ids {
            let ph = format!("{{{{{name}}}}}");
            out = out.replace(&format!("\"{id}\""), &format!("\"{ph}\""));
            if id.len() >= 8 || out.contains(&format!("/{id}")) {
                // path segments and URLs ($ref)
                let seg = format!("/{id}");
                let mut rebuilt = String::new();
                let mut rest = out.as_str();
                while let Some(pos) = rest.find(&seg) {
                    let after = &rest[pos + seg.len()..];
                    let boundary = after.is_empty() || after.starts_with(['/', '?', '#', '"']);
                    rebuilt.push_str(&rest[..pos]);
                    if boundary {
                        rebuilt.push('/');
                        rebuilt.push_str(&ph);
                    } else {
                        rebuilt.push_str(&seg);
                    }
                    rest = after;
                }
                rebuilt.push_str(rest);
                out = rebuilt;
            }
        }
        out
    }

    /// A string at a position that may hold IdP data.
    fn string(&self, s: &str) -> String {
        if let Some(name) = self.ids.get(s) {
            return format!("{{{{{name}}}}}");
        }
        if let Some(p) = self.plan.placeholder(s) {
            return p;
        }
        let escaped = escape(s);
        let with_values = self.plan.in_quotes(&escaped);
        self.id_in_text(&with_values)
    }

    fn value(&self, v: &Value, key: Option<&str>) -> Value {
        match v {
            Value::String(s) => {
                if key.is_some_and(|k| VOCABULARY.contains(&k)) {
                    Value::String(escape(s))
                } else if key == Some("path") {
                    Value::String(self.id_in_text(&self.plan.in_quotes(&escape(s))))
                } else {
                    Value::String(self.string(s))
                }
            }
            Value::Array(a) => Value::Array(a.iter().map(|x| self.value(x, key)).collect()),
            Value::Object(o) => Value::Object(o.iter().map(|(k, x)| (k.clone(), self.value(x, Some(k)))).collect()),
            other => other.clone(),
        }
    }
}

fn idp_name(idp: Idp) -> &'static str {
    match idp {
        Idp::Okta => "Okta",
        Idp::Entra => "Microsoft Entra ID",
        Idp::Rfc => "an unrecognised SCIM client",
    }
}

impl Ctx<'_, '_> {
    /// Builds one scenario from the flows at `members` (indices into `exs`); returns its file name and JSON.
    fn scenario(&self, number: usize, members: &[usize]) -> (String, String) {
        let idp = self.recognized.idp;
        let profile = Profile::of(idp);
        let exs: Vec<&Ex<'_>> = members.iter().map(|&i| &self.exs[i]).collect();
        let t0 = exs[0].flow.started;

        // labels for resources, in order of first mention
        let mut labels: BTreeMap<String, String> = BTreeMap::new();
        let mut counters: BTreeMap<Kind, usize> = BTreeMap::new();
        let mut order: Vec<String> = Vec::new();
        let mut label_of = |id: &str, kind: Kind, labels: &mut BTreeMap<String, String>| {
            if !labels.contains_key(id) {
                let n = counters.entry(kind).or_insert(0);
                *n += 1;
                labels.insert(id.to_string(), format!("{}{n}", kind.label()));
                order.push(id.to_string());
            }
        };
        let is_import = exs.iter().all(|e| e.is_list() && e.filter_pairs().is_empty());
        for ex in &exs {
            if let Some(id) = &ex.id {
                if let Some(k) = self.kinds.get(id) {
                    label_of(id, *k, &mut labels);
                }
            }
            if !is_import {
                for (id, _) in ex.resource_ids_in_response() {
                    if let Some(k) = self.kinds.get(&id) {
                        label_of(&id, *k, &mut labels);
                    }
                }
            }
            for (_, v) in ex.filter_pairs() {
                if let Some(k) = self.kinds.get(&v) {
                    label_of(&v, *k, &mut labels);
                }
            }
            if let Some(b) = &ex.req {
                let mut ss = Vec::new();
                strings(b, &mut ss);
                for s in ss {
                    let mut cands = vec![s.to_string()];
                    cands.extend(quoted(s));
                    for c in cands {
                        if let Some(k) = self.kinds.get(&c) {
                            label_of(&c, *k, &mut labels);
                        }
                    }
                }
            }
        }

        // resources this flow did not create (they existed before the recording, or another flow of the recording
        // created them): its fixtures, created by a setup step from their representation
        let created_here: BTreeSet<String> = exs
            .iter()
            .filter(|e| e.method == Method::POST && e.flow.status == 201)
            .flat_map(|e| e.resource_ids_in_response())
            .filter(|(id, pointer)| pointer == "/id" && self.created.contains(id))
            .map(|(id, _)| id)
            .collect();
        let mut description_notes: Vec<String> = Vec::new();
        let mut setups: Vec<(String, Value)> = Vec::new();
        for id in &order {
            if created_here.contains(id) {
                continue;
            }
            match self.representation(id) {
                Some(body) => setups.push((id.clone(), body)),
                None => description_notes.push(format!(
                    "{} ({}) existed before the recording and no response showed it whole, so the replay cannot \
                     create it: it must exist on the target.",
                    labels[id],
                    if self.kinds.get(id) == Some(&Kind::Groups) { "a group" } else { "a user" }
                )),
            }
        }

        // values the IdP generated → variables
        let mut collector = Collector::default();
        for (id, body) in &setups {
            let mut leaves = BTreeMap::new();
            flatten_all(body, "", &mut leaves);
            for (p, v) in leaves {
                if let (Some(role), Some(s)) = (role_of(&p), v.as_str()) {
                    collector.add(s, &labels[id], role);
                }
            }
        }
        for ex in &exs {
            let owner = ex
                .id
                .clone()
                .or_else(|| {
                    (ex.method == Method::POST)
                        .then(|| ex.resource_ids_in_response().first().map(|(id, _)| id.clone()))
                        .flatten()
                })
                .and_then(|id| labels.get(&id).cloned())
                .unwrap_or_else(|| "value".into());
            let mut vals = Vec::new();
            written_values(ex, &mut vals);
            for (v, role) in vals {
                if !self.kinds.contains_key(&v) {
                    collector.add(&v, &owner, role);
                }
            }
        }
        for ex in &exs {
            for (attr, v) in ex.filter_pairs() {
                if attr.eq_ignore_ascii_case("id") || self.kinds.contains_key(&v) || collector.contains(&v) {
                    continue;
                }
                let role = if attr.to_ascii_lowercase().contains("email") { Role::Email } else { Role::Lookup };
                collector.add(&v, "lookup", role);
            }
        }
        let plan = collector.plan();

        // steps
        let mut t = Templater { plan: &plan, ids: BTreeMap::new() };
        let mut state: HashMap<String, Written> = HashMap::new();
        let mut drafts: Vec<Draft> = Vec::new();
        for (id, body) in &setups {
            let label = &labels[id];
            let kind = self.kinds.get(id).copied().unwrap_or(Kind::Users);
            let collection = if kind == Kind::Groups { "/Groups" } else { "/Users" };
            let cap = format!("{label}.id");
            let mut w = Written::default();
            flatten(body, "", &mut w.attrs);
            state.insert(id.clone(), w);
            let mut capture = BTreeMap::new();
            capture.insert(cap.clone(), "/id".to_string());
            let (why, origin) = if self.created.contains(id) {
                ("another flow of this recording created it", "another flow of the recording created it")
            } else {
                ("it existed before the recording", "the resource existed on the upstream before the recording")
            };
            drafts.push(Draft {
                name: format!("Setup: {label} exists ({why})"),
                note: format!(
                    "Not sent by the IdP: {origin}; it is created here from its recorded representation (ids, \
                     meta, members and groups left out) so the flow can replay on its own on an empty server."
                ),
                method: Method::POST,
                path: collection.into(),
                query: vec![],
                spaces: None,
                headers: BTreeMap::new(),
                body: Some(t.value(body, None)),
                body_text: None,
                auth: AuthMode::Default,
                status: 201,
                assertions: vec![],
                capture,
                pages: false,
            });
            t.ids.insert(id.clone(), cap);
        }

        let mut i = 0;
        while i < exs.len() {
            let ex = exs[i];
            let pages = self.page_run(&exs[i..]);
            let mut d = self.draft(ex, &t, &profile, t0);
            if let Some(n) = pages {
                d.pages = true;
                d.name = format!("{} (every page, following totalResults)", d.name);
                let last = exs[i + n - 1];
                d.note = format!(
                    "{} Recorded as {n} page request(s) advancing startIndex by count (Okta's import rule, docs/okta.md §2); \
                     replayed as a loop that follows the responses.",
                    d.note
                );
                d.assertions = page_assertions(last);
                drafts.push(d);
                i += n;
                continue;
            }
            // writes first, so the response is compared with what the request wrote
            let target = ex.id.clone().or_else(|| {
                (ex.method == Method::POST)
                    .then(|| ex.resource_ids_in_response().first().map(|(id, _)| id.clone()))
                    .flatten()
            });
            if let Some(id) = &target {
                if matches!(ex.method, Method::POST | Method::PUT | Method::PATCH) && ex.ok() {
                    apply_write(ex, state.entry(id.clone()).or_default());
                }
            }
            d.assertions.extend(self.assertions(ex, &t, &state));
            // captures: ids this response shows first
            for (id, pointer) in ex.resource_ids_in_response() {
                if t.ids.contains_key(&id) || !labels.contains_key(&id) || is_import {
                    continue;
                }
                let cap = format!("{}.id", labels[&id]);
                d.capture.insert(cap.clone(), pointer);
                t.ids.insert(id, cap);
            }
            if ex.method == Method::DELETE && ex.ok() {
                if let Some(id) = &ex.id {
                    state.remove(id);
                }
            }
            drafts.push(d);
            i += 1;
        }

        // scenario fields
        let steps: Vec<Step> = drafts.iter().map(step).collect();
        let mut tags = vec!["recorded".to_string(), idp.folder().to_string()];
        let slug = if is_import {
            tags.push("import".into());
            let pages = if drafts.iter().any(|d| d.pages) { "_pages" } else { "" };
            format!("import_{}{pages}", exs[0].collection.to_lowercase())
        } else if exs.iter().all(|e| e.kind == Kind::Other) {
            tags.push("discovery".into());
            "discovery".into()
        } else if order.is_empty() {
            tags.push("lookup".into());
            let looked_up = exs.iter().flat_map(|e| e.filter_pairs()).find_map(|(_, v)| naming::slug(&v));
            looked_up.map_or_else(|| "lookup".into(), |who| format!("lookup_{who}"))
        } else {
            self.flow_name(&exs, &order, &labels)
        };
        if let Some(d) = self.recognized.dialect {
            tags.push(d.tag().to_string());
        }
        let credentials: BTreeSet<&str> = exs.iter().filter_map(|e| e.flow.credential).map(|c| c.as_str()).collect();
        for c in &credentials {
            tags.push(format!("credential-{c}"));
        }
        let verbs: Vec<String> = {
            let mut v: Vec<String> = Vec::new();
            for ex in &exs {
                let verb = verb(ex).to_string();
                if v.last() != Some(&verb) {
                    v.push(verb);
                }
            }
            v
        };
        let subject = if order.is_empty() {
            slug.replace('_', " ")
        } else {
            order.iter().map(|id| labels[id].clone()).collect::<Vec<_>>().join(", ")
        };
        let title = format!("Recorded {} flow {number}: {subject} — {}", idp_name(idp), verbs.join(", "));
        let last = exs.last().map(|e| e.flow.started).unwrap_or(t0);
        let user_agents: BTreeSet<&str> = exs.iter().filter_map(|e| e.flow.request_header("user-agent")).collect();
        let mut source = format!(
            "Captured {} by {} on {} – {} ({} of {} exchanges); IdP: {}",
            if self.options.origin.contains("HAR") { "traffic imported" } else { "traffic" },
            self.options.origin,
            t0.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            last.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            exs.len(),
            self.flows_total,
            idp_name(idp),
        );
        if !user_agents.is_empty() {
            let ua: Vec<String> = user_agents.iter().map(|u| format!("`{}`", escape(u))).collect();
            source.push_str(&format!(" (User-Agent {})", ua.join(", ")));
        }
        let mut description = vec![format!(
            "Recorded provisioning flow: {} request(s) in the order the IdP sent them{}.",
            exs.len(),
            if setups.is_empty() {
                String::new()
            } else {
                let fixtures: Vec<&str> = setups.iter().map(|(id, _)| labels[id].as_str()).collect();
                format!(", after {} setup step(s) creating its fixtures ({})", setups.len(), fixtures.join(", "))
            }
        )];
        if !self.recognized.evidence.is_empty() {
            description.push(format!("IdP recognised from: {}.", self.recognized.evidence.join("; ")));
        }
        if let Some(d) = self.recognized.dialect {
            description.push(match d {
                Dialect::Entra(EntraDialect::AadOptscim062020) => format!(
                    "Entra PATCH dialect: {flag} (docs/entra.md §2). The flag was removed from recorded queries; \
                     replay with it on the base URI (`--base-url '<base>?{flag}'`) when the server keys on it.",
                    flag = EntraDialect::FLAG
                ),
                Dialect::Entra(EntraDialect::Default) => {
                    "Entra PATCH dialect: default (capitalised ops, string booleans; docs/entra.md §2).".into()
                }
                Dialect::Okta(_) => format!("Dialect: {d} (docs/okta.md §2)."),
            });
        }
        if !credentials.is_empty() {
            description.push(format!(
                "Credential style: {} (the credential itself was not recorded).",
                credentials.iter().copied().collect::<Vec<_>>().join(", ")
            ));
        }
        let total_ms: f64 = exs.iter().map(|e| e.flow.elapsed_ms).sum();
        description.push(format!(
            "Timing: the flow spanned {:.3} s; the upstream took {:.1} ms in total (per-step figures in each note).",
            (last - t0).num_milliseconds() as f64 / 1000.0,
            total_ms
        ));
        description.extend(description_notes);

        // `requires` names only what the steps cannot show (the loader infers groups, PATCH, …): Okta's
        // entitlements, when a step uses the role or entitlement types the server declared
        let mut requires = vec![];
        if idp == Idp::Okta && steps.iter().any(|s| super::entitlements::uses_entitlements(s, self.okta_endpoints)) {
            tags.insert(0, "entitlements".into());
            requires.push(scenario::Feature::OktaEntitlements);
        }
        // the IdP's User-Agent when the profile's differs
        let mut headers = BTreeMap::new();
        if user_agents.len() == 1 {
            let ua = *user_agents.iter().next().expect("one");
            let profile_ua =
                profile.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("user-agent")).map(|(_, v)| *v);
            if profile_ua != Some(ua) {
                headers.insert("User-Agent".to_string(), Some(escape(ua)));
            }
        }
        let file = ScenarioFile {
            schema: None,
            title: escape(&title),
            description: Some(description.join(" ")),
            idp: None,
            group: None,
            source,
            level: scenario::Level::Must,
            kind: None,
            tags,
            requires,
            headers,
            variables: plan.variables.clone(),
            steps,
        };
        let mut text = serde_json::to_string_pretty(&file).expect("a scenario serialises");
        text.push('\n');
        (format!("{number:02}_{slug}"), text)
    }

    /// The file name of a flow about the resources `order` ([`naming::flow_name`]), named by their real
    /// `userName`/`displayName` when a request or response showed it.
    fn flow_name(&self, exs: &[&Ex<'_>], order: &[String], labels: &BTreeMap<String, String>) -> String {
        // the flow's subjects are the resources its requests address; the others are fixtures it names
        let addressed = |id: &String| {
            exs.iter().any(|e| {
                e.id.as_ref() == Some(id)
                    || (e.method == Method::POST && e.resource_ids_in_response().first().is_some_and(|(c, _)| c == id))
            })
        };
        let subjects_of = if order.iter().any(addressed) {
            order.iter().filter(|id| addressed(id)).collect()
        } else {
            order.iter().collect::<Vec<_>>()
        };
        let subjects: Vec<naming::Subject> = subjects_of
            .into_iter()
            .map(|id| {
                let group = self.kinds.get(id) == Some(&Kind::Groups);
                let kind = if group { FixtureType::Group } else { FixtureType::User };
                let created = exs.iter().find(|e| e.resource_ids_in_response().first().is_some_and(|(c, _)| c == id));
                let name =
                    [self.representation(id), created.and_then(|e| e.req.clone())].into_iter().flatten().find_map(
                        |b| ["userName", "displayName"].iter().find_map(|k| b.get(*k)?.as_str().map(String::from)),
                    );
                naming::Subject { kind, name: name.unwrap_or_else(|| labels[id].clone()) }
            })
            .collect();
        let verbs: Vec<(FixtureType, naming::Verb)> = exs
            .iter()
            .filter_map(|e| {
                let kind = match e.kind {
                    Kind::Users => FixtureType::User,
                    Kind::Groups => FixtureType::Group,
                    Kind::Other => return None,
                };
                Some((kind, naming::Verb::of(e.method.as_str(), e.req.as_ref())))
            })
            .collect();
        naming::flow_name(&verbs, &subjects, self.recognized.idp == Idp::Okta)
    }

    /// The earliest full representation of resource `id` any response showed.
    fn representation(&self, id: &str) -> Option<Value> {
        for ex in self.exs {
            if !ex.ok() {
                continue;
            }
            let Some(r) = &ex.resp else { continue };
            let candidates: Vec<&Value> =
                std::iter::once(r).chain(r.get("Resources").and_then(Value::as_array).into_iter().flatten()).collect();
            for c in candidates {
                if c.get("id").and_then(Value::as_str) == Some(id) {
                    let mut body = c.clone();
                    if let Some(o) = body.as_object_mut() {
                        for k in ["id", "meta", "members", "groups", "password"] {
                            o.remove(k);
                        }
                        for (_, ext) in o.iter_mut() {
                            if let Some(e) = ext.as_object_mut() {
                                e.remove("manager");
                            }
                        }
                    }
                    return Some(body);
                }
            }
        }
        None
    }

    /// How many requests from `exs[0]` form a complete page run (list requests advancing `startIndex` by
    /// `count` until the last page), if they do.
    fn page_run(&self, exs: &[&Ex<'_>]) -> Option<usize> {
        let first = exs[0];
        if !first.is_list() || !first.filter_pairs().is_empty() || !first.ok() {
            return None;
        }
        let num = |e: &Ex<'_>, k: &str| e.param(k).and_then(|v| v.trim().parse::<u64>().ok());
        let count = num(first, "count")?;
        let mut start = num(first, "startIndex")?;
        if count == 0 {
            return None;
        }
        let mut n = 0;
        for ex in exs {
            if !ex.is_list()
                || ex.collection != first.collection
                || num(ex, "count") != Some(count)
                || num(ex, "startIndex") != Some(start)
            {
                break;
            }
            n += 1;
            let total = ex.resp.as_ref().and_then(|r| r.get("totalResults")).and_then(Value::as_u64)?;
            if start + count > total {
                return Some(n);
            }
            start += count;
        }
        None
    }

    fn draft(&self, ex: &Ex<'_>, t: &Templater<'_>, profile: &Profile, t0: DateTime<Utc>) -> Draft {
        let f = ex.flow;
        let path = t.id_in_text(&escape(&f.path));
        let path = percent_encoding::percent_decode_str(&path).decode_utf8_lossy().into_owned();
        let query: Vec<(String, String)> = ex
            .params
            .iter()
            .filter(|(k, _)| k != EntraDialect::FLAG)
            .map(|(k, v)| (k.clone(), t.id_in_text(&t.plan.in_quotes(&escape(v)))))
            .collect();
        let recorded_space = if f.query.contains('+') {
            Some(SpaceEncoding::Plus)
        } else if f.query.contains("%20") {
            Some(SpaceEncoding::Percent20)
        } else {
            None
        };
        let spaces = recorded_space.filter(|s| *s != profile.space);
        let mut headers = BTreeMap::new();
        let (body, body_text) = match (&ex.req, &f.request_body) {
            (Some(v), _) => (Some(t.value(v, None)), None),
            (None, CapturedBody::Text(text)) => (None, Some(escape(text))),
            _ => (None, None),
        };
        if body.is_some() || body_text.is_some() {
            if let Some(ct) = f.request_header("content-type") {
                let profile_ct = profile
                    .headers
                    .iter()
                    .chain(&profile.body_headers)
                    .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
                    .map(|(_, v)| *v);
                if profile_ct != Some(ct) {
                    headers.insert("Content-Type".to_string(), Some(escape(ct)));
                }
            }
        }
        let auth = match (f.credential, f.status) {
            (None, _) => AuthMode::None,
            (Some(_), 401) => AuthMode::Invalid,
            _ => AuthMode::Default,
        };
        let offset = (f.started - t0).num_milliseconds() as f64 / 1000.0;
        let mut note = format!(
            "Recorded at {} (+{offset:.3} s into the flow); the upstream answered {} in {:.1} ms.",
            f.started.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            f.status,
            f.elapsed_ms
        );
        if auth == AuthMode::Invalid {
            note.push_str(
                " The recorded credential was refused (401); the replay sends the profile's invalid credential.",
            );
        }
        if f.response_body == CapturedBody::Truncated {
            note.push_str(" The response body was longer than the capture limit: only the status is checked.");
        }
        let display_path = match &ex.id {
            Some(id) => match t.ids.get(id) {
                Some(cap) => format!("/{}/{}", ex.collection, cap.trim_end_matches(".id")),
                None => format!("/{}/…", ex.collection),
            },
            None => f.path.clone(),
        };
        let shown_query: Vec<String> =
            query.iter().map(|(k, v)| format!("{k}={}", v.replace("{{", "").replace("}}", ""))).collect();
        let name = if shown_query.is_empty() {
            format!("{} {display_path}", ex.method.as_str())
        } else {
            format!("{} {display_path}?{}", ex.method.as_str(), shown_query.join("&"))
        };
        Draft {
            name,
            note,
            method: ex.method,
            path,
            query,
            spaces,
            headers,
            body,
            body_text,
            auth,
            status: f.status,
            assertions: vec![],
            capture: BTreeMap::new(),
            pages: false,
        }
    }
}

fn verb(ex: &Ex<'_>) -> &'static str {
    use Method::*;
    match (ex.method, ex.kind, ex.id.is_some()) {
        (_, Kind::Other, _) => "discovery",
        (GET, _, false) if ex.filter_pairs().is_empty() => "list",
        (GET, _, false) => "lookup",
        (GET, _, true) => "read",
        (POST, _, _) => "create",
        (PUT, _, _) => "replace (PUT)",
        (PATCH, _, _) => "update (PATCH)",
        (DELETE, _, _) => "delete",
    }
}

/// Converts, checks every scenario with the loader, scrubs secrets and writes the files below `out`; prints
/// what was written. Exit code 0, or an error when nothing could be written.
pub fn write_all(flows: &[Flow], options: &ConvertOptions, out: &Path, secrets: &[String]) -> Result<i32, String> {
    let converted = convert(flows, options);
    for n in &converted.notes {
        crate::outln!("note: {n}");
    }
    if converted.scenarios.is_empty() {
        crate::outln!("No SCIM exchange was captured: nothing written.");
        return Ok(1);
    }
    let redactor = Redactor::new(secrets.iter().cloned());
    // a name is a slug: a secret must not show in its slugged form either
    let slugs: Vec<String> = secrets.iter().filter_map(|x| naming::slug(x)).filter(|x| x.len() >= 4).collect();
    let mut written = Vec::new();
    for s in &converted.scenarios {
        let text = redactor.scrub(&s.text);
        let rel_path =
            naming::without_secrets(&s.rel_path, |p| redactor.scrub(p) != p || slugs.iter().any(|x| p.contains(x)));
        let file = out.join(&rel_path);
        if let Err(errors) = scenario::parse(&rel_path, &file, &text) {
            let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
            return Err(format!(
                "the generated scenario {} does not load (a recorder bug):\n{}",
                rel_path,
                lines.join("\n")
            ));
        }
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        std::fs::write(&file, text).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
        written.push(file);
    }
    crate::outln!(
        "IdP: {}{}; {} scenario(s) written:",
        idp_name(converted.recognized.idp),
        converted.recognized.dialect.map(|d| format!("; dialect: {d}")).unwrap_or_default(),
        written.len()
    );
    for f in &written {
        crate::outln!("  {}", f.display());
    }
    crate::outln!("Replay: scimcheck run --scenarios {} --base-url <SCIM base URI>", out.display());
    Ok(0)
}
