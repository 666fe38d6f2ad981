//! The report model: what the JSON report contains (its contract, `reportVersion` [`REPORT_VERSION`], schema in
//! `report.schema.json`), and what the HTML and JUnit reports are rendered from — for a live run and for a saved
//! JSON report (`scimcheck report --json`) alike.
//!
//! Field names are camelCase like the scenarios. The model is built from results the runner has already
//! redacted (requests, responses, errors, notes), so it never scrubs text itself. Bodies are cut per exchange at the report body limit
//! (`--report-body-limit`, characters of the pretty-printed body) and keep their original size in bytes.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Policy;
use crate::check::Failure;
use crate::exchange::{cut, pretty_start, AuthMode, Body, Observed, SentRequest};
use crate::idp::Idp;
use crate::runner::{RunOutcome, ScenarioResult, StepResult, StepVerdict, Verdict};
use crate::scenario::{Basis, Kind, Level};
use crate::snapshot::SnapshotOutcome;

/// Version of the JSON report's shape; raised on every incompatible change.
pub const REPORT_VERSION: u32 = 1;

/// What a report needs beyond the run outcome.
#[derive(Debug, Clone)]
pub struct ReportMeta {
    /// When the run started (RFC 3339).
    pub started_at: String,
    /// Run-level notes (no snapshot baseline, stale known deviations, …).
    pub notes: Vec<String>,
    /// Ids of scenarios left out by the selection (`--idp`, `--filter`, …): counted, not listed.
    pub excluded: BTreeSet<String>,
    /// Characters of a body a report shows.
    pub body_limit: usize,
}

impl Default for ReportMeta {
    fn default() -> Self {
        ReportMeta {
            started_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            notes: vec![],
            excluded: BTreeSet::new(),
            body_limit: crate::exchange::DEFAULT_REPORT_BODY_LIMIT,
        }
    }
}

/// A whole report (`reportVersion` 1).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// [`REPORT_VERSION`].
    pub report_version: u32,
    /// `scimcheck`.
    pub tool: String,
    /// The scimcheck version that ran.
    pub version: String,
    /// The server under test (no secrets).
    pub target: String,
    /// Start of the run, RFC 3339.
    pub started_at: String,
    /// Wall time of the run in milliseconds.
    pub duration_ms: f64,
    /// The exit policy.
    pub policy: Policy,
    /// The process exit code the run ended with (0, 1, or 130 when interrupted).
    pub exit_code: i32,
    /// Whether the run was interrupted (Ctrl-C): the results are partial; unfinished scenarios have the verdict
    /// skip with the `reason` `interrupted (Ctrl-C)`, counted in [`Counts::not_run`], not [`Counts::skip`].
    #[serde(default)]
    pub interrupted: bool,
    /// What the server advertised.
    pub capabilities: CapabilitiesReport,
    /// Run-level notes.
    #[serde(default)]
    pub notes: Vec<String>,
    /// Characters of a body shown per exchange.
    pub body_limit: usize,
    /// Scenarios per verdict.
    pub counts: Counts,
    /// The failed checks grouped by cause (check, rule, shape of the actual value), most scenarios affected
    /// first: what to fix first ([`super::causes`]). Empty when nothing failed.
    #[serde(default)]
    pub causes: Vec<super::causes::Cause>,
    /// Every scenario of the selection, sorted by id.
    pub scenarios: Vec<ScenarioReport>,
}

/// The server's advertised capabilities (RFC 7644 §4: `/ServiceProviderConfig`, `/ResourceTypes`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CapabilitiesReport {
    /// Feature → `supported` as the ServiceProviderConfig says (absent: not said). RFC 7643 §5.
    #[serde(default)]
    pub features: BTreeMap<String, bool>,
    /// Names of the advertised `authenticationSchemes`.
    #[serde(default)]
    pub authentication_schemes: Vec<String>,
    /// Whether `/ResourceTypes` lists `/Groups`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<bool>,
    /// Why a capability is unknown.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// Scenarios per verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// Scenarios listed.
    pub total: usize,
    /// Passed.
    pub pass: usize,
    /// A step failed.
    pub fail: usize,
    /// A transport error.
    pub error: usize,
    /// The transcript differs from its snapshot.
    pub drift: usize,
    /// Not run: a capability is missing, or the selection left it out and the runner listed it.
    pub skip: usize,
    /// Not run because the run was interrupted (Ctrl-C) before it reached them ([`super::unfinished`]): no
    /// statement about the server, unlike a skip.
    #[serde(default)]
    pub not_run: usize,
    /// Only known deviations failed.
    pub known_deviation: usize,
    /// A fixture step failed: the rule was not reached ([`crate::setup`]).
    #[serde(default)]
    pub setup_failed: usize,
    /// Left out by the selection (not listed).
    pub excluded: usize,
}

impl Counts {
    /// Counts one scenario by its verdict and `reason`: a skip whose reason is the interruption is [`Self::not_run`].
    pub fn add(&mut self, v: Verdict, reason: Option<&str>) {
        self.total += 1;
        match v {
            Verdict::Skip if super::unfinished(reason) => self.not_run += 1,
            Verdict::Pass => self.pass += 1,
            Verdict::Fail => self.fail += 1,
            Verdict::Error => self.error += 1,
            Verdict::Drift => self.drift += 1,
            Verdict::Skip => self.skip += 1,
            Verdict::KnownDeviation => self.known_deviation += 1,
            Verdict::SetupFailed => self.setup_failed += 1,
        }
    }

    /// The counts in words, as the terminal summary shows them: `3 passed, 1 failed, 2 skipped` (passed and
    /// failed always, the others when not zero).
    pub fn text(&self) -> String {
        let mut parts = vec![format!("{} passed", self.pass), format!("{} failed", self.fail)];
        for (n, what) in [
            (self.error, "errors"),
            (self.drift, "drifted"),
            (self.known_deviation, "known deviations"),
            (self.setup_failed, "setup failed"),
            (self.skip, "skipped"),
            (self.not_run, "not run (interrupted)"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        }
        parts.join(", ")
    }
}

/// One scenario's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScenarioReport {
    /// Scenario id (`okta::import::users_pages_of_100`).
    pub id: String,
    /// Title.
    pub title: String,
    /// What it reproduces (IdP document, suite step, RFC section).
    pub source: String,
    /// Public links for the sources the `source` text names (RFC sections, issues, Q&A threads).
    #[serde(default)]
    pub links: Vec<Link>,
    /// Scenario file: `scenarios/…` for the built-in library, else its path (relative to the working directory
    /// when below it).
    pub file: String,
    /// IdP.
    pub idp: Idp,
    /// The scenario group (second part of the id: `import`).
    pub group: String,
    /// Scenario level.
    pub level: Level,
    /// What the scenario's verdicts rest on: rfc, interop or portal (steps may override it).
    pub kind: Kind,
    /// The kind of the most severe failed step (rfc before interop at the same level).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_kind: Option<Kind>,
    /// Verdict.
    pub verdict: Verdict,
    /// Most severe level among failed steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_level: Option<Level>,
    /// Whether this result fails the run under the policy.
    pub fails_run: bool,
    /// Why it was skipped or erred.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Wall time in milliseconds.
    pub duration_ms: f64,
    /// Notes (failed cleanups, known deviations that now pass, …).
    #[serde(default)]
    pub notes: Vec<String>,
    /// Snapshot comparison.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<SnapshotReport>,
    /// Steps in order (a repeated step once per run).
    #[serde(default)]
    pub steps: Vec<StepReport>,
    /// Cleanup requests.
    #[serde(default)]
    pub cleanup: Vec<StepReport>,
}

/// A public link for a cited source ([`super::cite`], which makes them).
pub use super::cite::Link;

/// Snapshot comparison of a scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotReport {
    /// matched, written, missing or drift.
    pub status: String,
    /// Unified diff, snapshot → this run (drift only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// Where the new transcript was written (missing, drift) or the snapshot (written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// One step (or cleanup request).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepReport {
    /// Step name (`name [i/n]` for a repeated step's runs).
    pub name: String,
    /// Level it is judged at.
    pub level: Level,
    /// What the verdict rests on: rfc, interop or portal.
    pub kind: Kind,
    /// What the step cites or why it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Public links for what `note` cites.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    /// Verdict.
    pub verdict: StepVerdict,
    /// Why the step's checks exist: `{"required": quote}`, `{"shown": example}` or `{"rfc": section}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<Basis>,
    /// Expectations that did not hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<FailureReport>,
    /// Expectations that did not hold but never fail the run (a `shown` basis, a SHOULD the IdP states).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub observations: Vec<FailureReport>,
    /// Transport error, or why it did not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The known-deviation reason, when one applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_deviation: Option<String>,
    /// For a failed Okta or Entra interop step: what the IdP's customer sees and what its engine does next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp_view: Option<super::idp_view::IdpView>,
    /// What was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestReport>,
    /// What came back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<ResponseReport>,
    /// Wall time in milliseconds.
    pub duration_ms: f64,
}

/// An expectation that did not hold.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailureReport {
    /// What was checked.
    pub check: String,
    /// What the scenario expected.
    pub expected: String,
    /// What the server did.
    pub actual: String,
    /// Why the check exists, when it has a basis of its own or the step's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<Basis>,
    /// The level an observation is reported at when it is not the step's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
}

/// A header.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    /// Name as sent or received.
    pub name: String,
    /// Value.
    pub value: String,
}

/// A request as sent.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestReport {
    /// Method.
    pub method: String,
    /// Full URL.
    pub url: String,
    /// Headers sent; `Authorization` is shown as `[redacted]`.
    #[serde(default)]
    pub headers: Vec<Header>,
    /// The body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<BodyReport>,
}

/// A response as observed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseReport {
    /// Status code.
    pub status: u16,
    /// Headers, names lower-cased.
    #[serde(default)]
    pub headers: Vec<Header>,
    /// Time from sending to reading the whole body, milliseconds.
    pub elapsed_ms: f64,
    /// The body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<BodyReport>,
}

/// A body, cut at the report body limit.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BodyReport {
    /// json, text or tooLarge (reading stopped at the body limit).
    pub kind: String,
    /// Size in bytes as received or sent (for tooLarge: the limit reading stopped at).
    pub size: usize,
    /// Whether `text` is only the start of the body.
    pub truncated: bool,
    /// The whole JSON body (json bodies that fit the limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<Value>,
    /// The body as text: pretty-printed JSON cut at the limit, or a non-JSON body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl BodyReport {
    /// The body as it is displayed: pretty-printed JSON or the text.
    pub fn display(&self) -> String {
        match (&self.json, &self.text) {
            (Some(v), _) => serde_json::to_string_pretty(v).unwrap_or_default(),
            (None, Some(t)) => t.clone(),
            (None, None) => String::new(),
        }
    }
}

impl Report {
    /// Builds the report of a run: scenarios excluded by the selection are counted, not listed.
    pub fn build(outcome: &RunOutcome, policy: &Policy, meta: &ReportMeta) -> Report {
        let mut report = Report::header(outcome, policy, meta);
        for s in &outcome.results {
            // the runner may or may not list excluded scenarios (as skips): never list them, always count them
            if meta.excluded.contains(&s.id) {
                continue;
            }
            report.counts.add(s.verdict, s.reason.as_deref());
            report.scenarios.push(ScenarioReport::build(s, policy, meta.body_limit));
        }
        report
    }

    /// The report of a run without its scenarios: what the reports show beside the scenarios, which a run
    /// spools to disk as they finish ([`super::spool`]). `counts` holds only the excluded scenarios.
    pub fn header(outcome: &RunOutcome, policy: &Policy, meta: &ReportMeta) -> Report {
        let counts = Counts { excluded: meta.excluded.len(), ..Counts::default() };
        let caps = &outcome.capabilities;
        let mut features = BTreeMap::new();
        let mut schemes = Vec::new();
        if let Some(spc) = &caps.service_provider_config {
            for f in ["patch", "bulk", "filter", "changePassword", "sort", "etag"] {
                if let Some(b) = spc.get(f).and_then(|v| v.get("supported")).and_then(Value::as_bool) {
                    features.insert(f.to_string(), b);
                }
            }
            for s in spc.get("authenticationSchemes").and_then(Value::as_array).into_iter().flatten() {
                let name = s.get("name").or_else(|| s.get("type")).and_then(Value::as_str);
                if let Some(n) = name {
                    schemes.push(cut(n, 200).to_string());
                }
            }
        }
        Report {
            report_version: REPORT_VERSION,
            tool: "scimcheck".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            target: outcome.target.clone(),
            started_at: meta.started_at.clone(),
            duration_ms: outcome.duration_ms,
            policy: *policy,
            exit_code: policy.exit_code(outcome),
            interrupted: outcome.interrupted,
            capabilities: CapabilitiesReport {
                features,
                authentication_schemes: schemes,
                groups: caps.groups,
                notes: caps.notes.clone(),
            },
            notes: meta.notes.clone(),
            body_limit: meta.body_limit,
            counts,
            causes: super::causes::causes(&outcome.results),
            scenarios: Vec::new(),
        }
    }

    /// A copy of everything but the scenarios.
    pub fn header_only(&self) -> Report {
        Report {
            report_version: self.report_version,
            tool: self.tool.clone(),
            version: self.version.clone(),
            target: self.target.clone(),
            started_at: self.started_at.clone(),
            duration_ms: self.duration_ms,
            policy: self.policy,
            exit_code: self.exit_code,
            interrupted: self.interrupted,
            capabilities: self.capabilities.clone(),
            notes: self.notes.clone(),
            body_limit: self.body_limit,
            counts: self.counts.clone(),
            causes: self.causes.clone(),
            scenarios: Vec::new(),
        }
    }
}

impl ScenarioReport {
    /// One scenario's part of the report.
    pub fn build(s: &ScenarioResult, policy: &Policy, limit: usize) -> ScenarioReport {
        let snapshot = s.snapshot.as_ref().map(|o| match o {
            SnapshotOutcome::Matched => SnapshotReport { status: "matched".into(), diff: None, path: None },
            SnapshotOutcome::Written { path } => {
                SnapshotReport { status: "written".into(), diff: None, path: Some(path.display().to_string()) }
            }
            SnapshotOutcome::Missing { pending } => {
                SnapshotReport { status: "missing".into(), diff: None, path: Some(pending.display().to_string()) }
            }
            SnapshotOutcome::Drift { diff, pending } => SnapshotReport {
                status: "drift".into(),
                diff: Some(diff.clone()),
                path: Some(pending.display().to_string()),
            },
        });
        let steps = |list: &[StepResult]| list.iter().map(|st| StepReport::build(st, s.idp, limit)).collect();
        ScenarioReport {
            id: s.id.clone(),
            title: s.title.clone(),
            source: s.source.clone(),
            links: super::cite::links(&s.source),
            file: s.file.clone(),
            idp: s.idp,
            group: s.id.split("::").nth(1).unwrap_or_default().to_string(),
            level: s.level,
            kind: s.kind,
            failed_kind: s.failed_kind,
            verdict: s.verdict,
            failed_level: s.failed_level,
            fails_run: policy.fails_run(s),
            reason: s.reason.clone(),
            duration_ms: s.duration_ms,
            notes: s.notes.clone(),
            snapshot,
            steps: steps(&s.steps),
            cleanup: steps(&s.cleanup),
        }
    }

    /// The first failed step's message: its first failed expectation, or its error.
    pub fn first_problem(&self) -> String {
        if let Some(reason) = &self.reason {
            return reason.clone();
        }
        for s in &self.steps {
            if let Some(f) = s.failures.first() {
                if s.verdict == StepVerdict::Fail {
                    return format!("{}: {}: expected {}, got {}", s.name, f.check, f.expected, f.actual);
                }
            }
            if s.verdict == StepVerdict::Error {
                return format!("{}: {}", s.name, s.error.as_deref().unwrap_or("error"));
            }
        }
        match self.snapshot.as_ref().map(|s| s.status.as_str()) {
            Some("drift") => "the transcript differs from its snapshot".into(),
            Some("missing") => "no snapshot recorded".into(),
            _ => self.verdict.label().to_string(),
        }
    }

    /// The kind a scenario is counted at in the matrix and summary: the failed step's kind for a failure, else
    /// the scenario's.
    pub fn counted_kind(&self) -> Kind {
        self.failed_kind.unwrap_or(self.kind)
    }

    /// The verdict label (`FAIL(SHOULD)` for a failure below MUST).
    pub fn label(&self) -> String {
        match (self.verdict, self.failed_level) {
            (Verdict::Skip, _) if super::unfinished(self.reason.as_deref()) => "NOT RUN".to_string(),
            (Verdict::Fail, Some(level)) if level != Level::Must => {
                format!("FAIL({})", level.as_str().to_uppercase())
            }
            (v, _) => v.label().to_string(),
        }
    }
}

impl StepReport {
    fn build(s: &StepResult, idp: Idp, limit: usize) -> StepReport {
        StepReport {
            name: s.name.clone(),
            level: s.level,
            kind: s.kind,
            note: s.note.clone(),
            links: links_of(s),
            verdict: s.verdict,
            basis: s.basis.clone(),
            failures: s.failures.iter().map(FailureReport::from).collect(),
            observations: s.observations.iter().map(FailureReport::from).collect(),
            error: s.error.clone(),
            known_deviation: s.known_deviation.clone(),
            idp_view: super::idp_view::of_step(idp, s),
            request: s.request.as_ref().map(|q| request(q, limit)),
            response: s.response.as_ref().map(|o| response(o, limit)),
            duration_ms: s.duration_ms,
        }
    }
}

impl From<&Failure> for FailureReport {
    fn from(f: &Failure) -> FailureReport {
        FailureReport {
            check: f.check.clone(),
            expected: f.expected.clone(),
            actual: f.actual.clone(),
            basis: f.basis.clone(),
            level: f.level,
        }
    }
}

/// Public links for what a step's note and basis cite, each once.
fn links_of(s: &StepResult) -> Vec<Link> {
    let mut links: Vec<Link> = s.note.as_deref().map(super::cite::links).unwrap_or_default();
    for l in s.basis.as_ref().map(|b| super::cite::links(b.citation())).unwrap_or_default() {
        if !links.contains(&l) {
            links.push(l);
        }
    }
    links
}

fn headers(list: &[(String, String)]) -> Vec<Header> {
    list.iter().map(|(k, v)| Header { name: k.clone(), value: v.clone() }).collect()
}

fn request(q: &SentRequest, limit: usize) -> RequestReport {
    let mut hs = headers(&q.headers);
    if q.auth != AuthMode::None {
        hs.push(Header { name: "Authorization".into(), value: crate::normalize::REDACTED.into() });
    }
    let body = match (&q.body, &q.body_text) {
        (Some(v), _) => {
            let size = serde_json::to_vec(v).map(|b| b.len()).unwrap_or(0);
            Some(json_body(v, size, limit))
        }
        (None, Some(t)) => Some(text_body(t, t.len(), limit)),
        (None, None) => None,
    };
    RequestReport { method: q.method.as_str().to_string(), url: q.url.clone(), headers: hs, body }
}

fn response(o: &Observed, limit: usize) -> ResponseReport {
    let body = match &o.body {
        Body::Empty => None,
        Body::Json(v) => Some(json_body(v, o.size, limit)),
        Body::Text(t) => Some(text_body(t, o.size, limit)),
        Body::Truncated { text, .. } => {
            let mut b = text_body(text, o.size, limit);
            b.kind = "json".into();
            b.truncated = true;
            Some(b)
        }
        Body::TooLarge { limit: at } => Some(BodyReport {
            kind: "tooLarge".into(),
            size: *at,
            truncated: true,
            json: None,
            text: Some(format!("[more than {at} bytes; reading stopped at the body limit]")),
        }),
    };
    ResponseReport {
        status: o.status,
        headers: headers(&o.headers),
        elapsed_ms: o.elapsed.as_secs_f64() * 1000.0,
        body,
    }
}

fn json_body(v: &Value, size: usize, limit: usize) -> BodyReport {
    // printed only a little past the limit (a cut character drops at most 3 bytes): enough to tell whether it fits
    let pretty = pretty_start(v, limit.saturating_add(4));
    if pretty.len() <= limit {
        let v = v.clone();
        BodyReport { kind: "json".into(), size, truncated: false, json: Some(v), text: None }
    } else {
        BodyReport {
            kind: "json".into(),
            size,
            truncated: true,
            json: None,
            text: Some(cut(&pretty, limit).to_string()),
        }
    }
}

fn text_body(t: &str, size: usize, limit: usize) -> BodyReport {
    let shown = cut(t, limit);
    BodyReport {
        kind: "text".into(),
        size,
        truncated: shown.len() < t.len() || size > t.len(),
        json: None,
        text: Some(shown.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_over_the_limit_are_cut_and_keep_their_size() {
        let v = json!({"token": "[redacted]", "list": vec![1; 50]});
        let small = json_body(&v, 999, 10_000);
        assert!(!small.truncated);
        assert_eq!(small.json.as_ref().unwrap(), &v);
        assert_eq!(small.size, 999);
        let cut = json_body(&v, 999, 40);
        assert!(cut.truncated && cut.json.is_none());
        let text = cut.text.unwrap();
        assert!(text.len() <= 40 && text.starts_with("{\n  \"list\""), "{text}");
        assert_eq!(cut.size, 999);
        let t = text_body("abcdef", 10, 3);
        assert_eq!((t.text.as_deref(), t.truncated, t.size), (Some("abc"), true, 10));
    }
}
