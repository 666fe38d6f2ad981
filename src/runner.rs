//! The runner: executes scenarios against a target with reqwest, judges each step and records transcripts.
//!
//! Steps of one scenario run in order; scenarios run concurrently (bounded by `jobs`). There are no retries and
//! no redirects are followed; bodies are read up to a limit; every transport problem becomes a verdict. After
//! the steps, resources the scenario created (a POST answered with an `id`, whatever its status) and did not delete
//! are deleted, and a failed cleanup is reported as a note naming what may be left on the server.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde::Serialize;
use serde_json::Value;

use crate::check::{self, Failure};
use crate::exchange::{AuthMode, Method, Observed, SentRequest, TransportError, TransportKind};
use crate::expectations::Expectations;
use crate::idp::Idp;
use crate::judge::Judge;
use crate::normalize::{self, Entry, Redactor};
use crate::profile::{AuthStyle, Profile};
use crate::scenario::{Basis, CaptureFrom, Level, Scenario, Step, Vars, CORE_USER, REPEAT_INDEX};
use crate::snapshot::SnapshotStore;

pub use crate::credential::Credential;
pub use crate::target::Target;

pub use crate::capabilities::Capabilities;
pub use crate::verdict::{ScenarioResult, StepResult, StepVerdict, Verdict};

/// What a run's scenarios are sent to.
#[derive(Debug, Clone)]
pub enum Against {
    /// One server ([`Target`]: base URI, credential, transport), shared by every scenario.
    Target(Target),
    /// A fresh in-process reference server per scenario (on 127.0.0.1, port 0).
    Reference,
}

impl Against {
    /// The redactor of every text derived from a run: the target's ([`Target::redactor`]); none for the
    /// reference server, which is sent no secret of the user's.
    pub fn redactor(&self) -> Redactor {
        match self {
            Against::Target(target) => target.redactor(),
            Against::Reference => Redactor::default(),
        }
    }
}

/// Run settings.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Scenarios run at once.
    pub jobs: usize,
    /// Per-request timeout (connect, send and read the whole body).
    pub timeout: Duration,
    /// Maximum response body size in bytes.
    pub body_limit: usize,
    /// Overrides every profile's credential style.
    pub auth_style: Option<AuthStyle>,
    /// Snapshot comparison, if any.
    pub snapshots: Option<SnapshotStore>,
    /// The target's known deviations (`expectations.json`), if any: listed failing steps are expected.
    pub expectations: Option<Expectations>,
    /// TLS trust (`--ca-cert`, `--insecure`), passed to the shared client builder [`crate::http::client`].
    pub tls: crate::http::TlsOptions,
    /// Characters of a judged response body over [`crate::exchange::RETAIN_WHOLE`] bytes that are kept for
    /// the reports (`--report-body-limit`); see [`Observed::retain`].
    pub report_body_limit: usize,
    /// Wait the `pause` an Okta scenario's step names before sending it, as Okta's Runscope suites do
    /// (`--okta-pauses`): for servers whose writes become visible only after a while.
    pub okta_pauses: bool,
}

/// Default response body limit: 10 MB.
pub const DEFAULT_BODY_LIMIT: usize = 10 * 1024 * 1024;

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            jobs: 4,
            timeout: Duration::from_secs(30),
            body_limit: DEFAULT_BODY_LIMIT,
            auth_style: None,
            snapshots: None,
            expectations: None,
            tls: crate::http::TlsOptions::default(),
            report_body_limit: crate::exchange::DEFAULT_REPORT_BODY_LIMIT,
            okta_pauses: false,
        }
    }
}

/// A whole run's results.
#[derive(Debug, Clone, Serialize)]
pub struct RunOutcome {
    /// Display form of the target (no secrets).
    pub target: String,
    /// What the target supports.
    pub capabilities: Capabilities,
    /// Results, sorted by scenario id.
    pub results: Vec<ScenarioResult>,
    /// Wall time in milliseconds.
    pub duration_ms: f64,
    /// Whether the run was interrupted (Ctrl-C): its results are partial, whatever their verdicts.
    pub interrupted: bool,
    /// Run-level notes of the judging ([`Judge::run_notes`]): known deviations naming no scenario or step of
    /// the run.
    pub notes: Vec<String>,
    /// Redactor for every text derived from this run.
    #[serde(skip)]
    pub redactor: Redactor,
}

/// Executes scenarios.
pub struct Runner {
    client: reqwest::Client,
    options: RunOptions,
    /// Judges every result ([`crate::judge`]), from the options' snapshots and expectations.
    judge: Judge,
    against: Against,
    interrupted: Arc<AtomicBool>,
    /// The suites selected (`--suite`, [`crate::suites`]): their capabilities are requirements of this run.
    suites: Vec<String>,
}

/// Why a step or scenario did not run after an interrupt.
pub const INTERRUPTED: &str = "interrupted (Ctrl-C)";

struct Resolved {
    target: Target,
    server: Option<scim_reference_server::RunningServer>,
}

/// What every step of one scenario is sent and judged with: the scenario, its resolved target, its IdP's
/// profile, the run's secret redactor and the target's case rules (RFC 7643 §2.2 `caseExact`).
#[derive(Clone, Copy)]
struct StepContext<'a> {
    s: &'a Scenario,
    resolved: &'a Resolved,
    profile: &'a Profile,
    redactor: &'a Redactor,
    case: &'a crate::case::CaseRules,
}

/// What a step sends before the base URI and the profile make it a request ([`Runner::build`]): the method,
/// the path below the base URI, the decoded query, the scenario's and the step's header overrides, the body
/// and the credential mode.
struct Outgoing<'a> {
    method: Method,
    path: &'a str,
    query: &'a [(String, String)],
    scenario_headers: &'a BTreeMap<String, Option<String>>,
    step_headers: &'a BTreeMap<String, Option<String>>,
    body: Option<Value>,
    auth: AuthMode,
}

impl Runner {
    /// A runner sending every scenario to `against`.
    pub fn new(against: Against, options: RunOptions) -> Result<Runner, String> {
        let client = crate::http::client(&crate::http::ClientOptions {
            tls: options.tls.clone(),
            connect_timeout: options.timeout,
            pool_max_idle_per_host: options.jobs.max(1) * 2,
            ..Default::default()
        })?;
        let judge = Judge { snapshots: options.snapshots.clone(), expectations: options.expectations.clone() };
        Ok(Runner { client, options, judge, against, interrupted: Arc::default(), suites: Vec::new() })
    }

    /// The runner with `suites` selected (canonical names, [`crate::suites`]): the capabilities they rest on become
    /// requirements of the run ([`crate::requirements::IdpRequirement::applies`]).
    pub fn with_suites(mut self, suites: Vec<String>) -> Self {
        self.suites = suites;
        self
    }

    /// The interrupt flag: once set, no scenario and no step starts any more; running scenarios still delete
    /// what they created, and their results say [`INTERRUPTED`].
    pub fn interrupt_flag(&self) -> Arc<AtomicBool> {
        self.interrupted.clone()
    }

    /// Waits `d`, or less when the run is interrupted (Ctrl-C ends a pause at once).
    async fn pause(&self, d: Duration) {
        let end = Instant::now() + d;
        while !self.is_interrupted() {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            tokio::time::sleep(left.min(Duration::from_millis(100))).await;
        }
    }

    /// Resolves once the run is interrupted (polls the flag every 20 ms).
    async fn until_interrupted(&self) {
        while !self.is_interrupted() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn is_interrupted(&self) -> bool {
        self.interrupted.load(Ordering::SeqCst)
    }

    /// The options.
    pub fn options(&self) -> &RunOptions {
        &self.options
    }

    fn describe_target(&self) -> String {
        match &self.against {
            Against::Target(target) => target.redactor().scrub(&target.base_url),
            Against::Reference => "bundled reference server (in-process, one fresh instance per scenario)".into(),
        }
    }

    /// The target for a scenario of `idp`. The in-process reference server answers each IdP's scenarios on the
    /// app that IdP provisions: Entra's on `SCIMAzure`, every other on `SCIMOkta` (the apps differ where Entra's
    /// documented behaviour departs from the RFC, e.g. a `replace` through an unmatched value filter).
    async fn resolve(&self, idp: Idp) -> Result<Resolved, String> {
        match &self.against {
            Against::Target(target) => Ok(Resolved { target: target.clone(), server: None }),
            Against::Reference => {
                let server = scim_reference_server::spawn(scim_reference_server::ServerConfig::default())
                    .await
                    .map_err(|e| format!("cannot start the reference server: {e}"))?;
                let (base_url, token) = crate::reference_app::endpoint_for(&server, idp);
                Ok(Resolved { target: Target::new(base_url, Credential::Token(token)), server: Some(server) })
            }
        }
    }

    /// Runs `scenarios` (already selected) and returns their results.
    pub async fn run(&self, scenarios: &[Scenario]) -> RunOutcome {
        self.run_with(scenarios, &mut |_| {}).await
    }

    /// [`Runner::run`], calling `on_result` with each scenario's result as soon as it finishes (in finishing
    /// order). `on_result` may shrink the result before it is kept (the CLI
    /// spools it to its reports, then drops most of each body: see `cli::run`).
    pub async fn run_with(
        &self,
        scenarios: &[Scenario],
        on_result: &mut (dyn FnMut(&mut ScenarioResult) + Send),
    ) -> RunOutcome {
        let started = Instant::now();
        let capabilities = self.discover().await;
        let mut outcome = self.run_discovered(scenarios, capabilities, on_result).await;
        outcome.duration_ms = ms(started.elapsed());
        outcome
    }

    /// [`Runner::run_with`] on a target whose capabilities were already discovered ([`Runner::discover`]), so the
    /// caller can say beforehand how many results the run gives: one per scenario and one per IdP requirement the
    /// target fails ([`crate::requirements::failures`]).
    pub async fn run_discovered(
        &self,
        scenarios: &[Scenario],
        capabilities: Capabilities,
        on_result: &mut (dyn FnMut(&mut ScenarioResult) + Send),
    ) -> RunOutcome {
        let started = Instant::now();
        // Scenarios that read global state run first, one at a time; then the others, `jobs` at once.
        let (alone, shared): (Vec<&Scenario>, Vec<&Scenario>) = scenarios.iter().partition(|s| s.reads_global_state());
        let mut results: Vec<ScenarioResult> = Vec::with_capacity(scenarios.len());
        for s in alone {
            let mut result = self.run_one(s, &capabilities).await;
            on_result(&mut result);
            results.push(result);
        }
        {
            let runs = futures::stream::iter(shared.into_iter().map(|s| self.run_one(s, &capabilities)))
                .buffer_unordered(self.options.jobs.max(1));
            let mut runs = std::pin::pin!(runs);
            while let Some(mut result) = runs.next().await {
                on_result(&mut result);
                results.push(result);
            }
        }
        // an IdP requirement the target declares unsupported: one failure per IdP, citing its document (reported
        // like a scenario's result, so every report lists it)
        for mut result in crate::requirements::failures(&capabilities, scenarios, &self.suites) {
            self.judge.not_executed(&mut result);
            on_result(&mut result);
            results.push(result);
        }
        results.sort_by(|a, b| a.id.cmp(&b.id));
        RunOutcome {
            notes: self.judge.run_notes(&results),
            target: self.describe_target(),
            capabilities,
            results,
            duration_ms: ms(started.elapsed()),
            interrupted: self.is_interrupted(),
            redactor: self.against.redactor(),
        }
    }

    /// Runs one scenario on a target with capabilities `caps` ([`Runner::discover`]) as [`Runner::run`] does,
    /// and judges its result ([`crate::judge`]): a skip when the run was interrupted, the target lacks a feature
    /// it requires or an IdP requirement blocks it; else its steps, judged on what the target declares.
    pub async fn run_one(&self, s: &Scenario, caps: &Capabilities) -> ScenarioResult {
        // not run under its IdP's requirement failure (crate::requirements), never a skip of its own
        let blocked = crate::requirements::blocking(caps, s, &self.suites).map(|r| r.not_run_reason());
        let skipped = |reason: String| {
            let mut r = ScenarioResult::skipped(s, reason);
            self.judge.not_executed(&mut r);
            r
        };
        match caps.skip_reason(s) {
            _ if self.is_interrupted() => skipped(INTERRUPTED.to_string()),
            _ if blocked.is_some() => skipped(blocked.unwrap_or_default()),
            Some(reason) => skipped(reason),
            None => {
                self.run_scenario_skipping(
                    s,
                    crate::optional_steps::StepSkips::for_target(caps, s),
                    caps.declared_user.as_ref(),
                    &caps.case_exact,
                )
                .await
            }
        }
    }

    /// Reads `/ServiceProviderConfig` and `/ResourceTypes` once; failures leave features unknown.
    pub async fn discover(&self) -> Capabilities {
        let mut caps = Capabilities::default();
        let resolved = match self.resolve(Idp::Rfc).await {
            Ok(r) => r,
            Err(e) => {
                caps.notes.push(format!("capabilities unknown: {e}"));
                return caps;
            }
        };
        let redactor = resolved.target.credential.redactor();
        let profile = Profile::of(Idp::Rfc);
        for (path, what) in [("/ServiceProviderConfig", "spc"), ("/ResourceTypes", "types"), ("/Schemas", "schemas")] {
            let req = self.bare(&resolved, &profile, Method::GET, path);
            // Ctrl-C: no discovery request starts, and the one in flight is abandoned (a GET changes nothing)
            let sent = tokio::select! {
                r = self.send(&resolved, &profile, &req), if !self.is_interrupted() => Some(r),
                _ = self.until_interrupted() => None,
            };
            let Some(sent) = sent else {
                caps.notes.push(format!("discovery stopped at GET {path}: {INTERRUPTED}"));
                break;
            };
            match sent {
                Ok(obs) if obs.status == 200 && obs.json().is_some() => {
                    let mut body = obs.json().cloned().unwrap_or(Value::Null);
                    redactor.scrub_json(&mut body);
                    let resources = body.get("Resources").and_then(Value::as_array).cloned().unwrap_or_default();
                    let str_of = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
                    let mut urns: Vec<String> = Vec::new();
                    if what == "spc" {
                        caps.service_provider_config = Some(body);
                    } else if what == "types" {
                        caps.groups = Some(resources.iter().any(|r| {
                            r.get("endpoint").and_then(Value::as_str) == Some("/Groups")
                                || r.get("name").and_then(Value::as_str) == Some("Group")
                        }));
                        caps.resource_type_schemas =
                            Some(resources.iter().filter_map(|r| str_of(r, "schema")).collect());
                        for r in &resources {
                            urns.extend(str_of(r, "schema"));
                            let ext = r.get("schemaExtensions").and_then(Value::as_array);
                            let ext: Vec<String> =
                                ext.into_iter().flatten().filter_map(|e| str_of(e, "schema")).collect();
                            if str_of(r, "schema").is_some_and(|u| u.eq_ignore_ascii_case(CORE_USER)) {
                                caps.user_extensions.get_or_insert_with(Vec::new).extend(ext.iter().cloned());
                            }
                            urns.extend(ext);
                        }
                    } else {
                        urns.extend(resources.iter().filter_map(|r| str_of(r, "id")));
                        caps.declared_user = crate::declared::DeclaredUser::from_schemas(&resources);
                        caps.case_exact = crate::case::CaseRules::from_schemas(&body);
                    }
                    if what != "spc" {
                        caps.schemas.get_or_insert_with(Vec::new).extend(urns);
                    }
                }
                Ok(obs) => caps.notes.push(format!(
                    "GET {path} answered {} without a JSON body: features it would describe are assumed supported",
                    obs.status
                )),
                Err(e) => caps.notes.push(
                    redactor
                        .scrub(&format!("GET {path} failed ({e}): features it would describe are assumed supported")),
                ),
            }
        }
        if let Some(server) = resolved.server {
            server.shutdown().await;
        }
        caps
    }

    /// Runs one scenario (no capability check) including cleanup and snapshot comparison.
    pub async fn run_scenario(&self, s: &Scenario) -> ScenarioResult {
        self.run_scenario_skipping(s, Default::default(), None, &crate::case::CaseRules::default()).await
    }

    /// Runs one scenario; with `skips`, the steps that use an optional capability the target lacks (the enterprise
    /// extension, Groups: [`crate::optional_steps`]) are not sent and
    /// are `notRun` with that reason; later steps that use their captures are `notRun (depends on step N)`.
    /// With `declared`, steps are judged only on the User attributes the target declares ([`crate::declared`]).
    /// `case` says which values compare ignoring case (the server's `/Schemas`, else the RFC defaults).
    async fn run_scenario_skipping(
        &self,
        s: &Scenario,
        skips: crate::optional_steps::StepSkips,
        declared: Option<&crate::declared::DeclaredUser>,
        case: &crate::case::CaseRules,
    ) -> ScenarioResult {
        let started = Instant::now();
        let mut result = ScenarioResult::new(s, Verdict::Pass);
        let resolved = match self.resolve(s.idp).await {
            Ok(r) => r,
            Err(e) => {
                result.verdict = Verdict::Error;
                result.reason = Some(e);
                self.judge.not_executed(&mut result);
                return result;
            }
        };
        if resolved.server.is_some() {
            result.server_ms = ms(started.elapsed());
        }
        let redactor = resolved.target.credential.redactor();
        let profile = Profile::of(s.idp);
        let cx = StepContext { s, resolved: &resolved, profile: &profile, redactor: &redactor, case };
        let mut vars = Vars::for_scenario(s);
        let mut created: Vec<String> = Vec::new();
        let mut transport_error: Option<String> = None;
        // Steps of a `withNext` group waiting for the group's last step (`crate::together`), as adapted to what
        // the server declares.
        let mut group: Vec<Step> = Vec::new();
        // the 1-based number of the fixture step that failed ([`crate::setup`])
        let mut setup_failed: Option<usize> = None;

        // A step with `repeat: n` runs n times with `{{index}}` = 1..=n, each run its own result.
        let runs = s.steps.iter().flat_map(|step| {
            let n = step.repeat.unwrap_or(1);
            (1..=n).map(move |i| (step, step.repeat.map(|n| (i, n))))
        });
        for (step, iteration) in runs {
            let level = s.step_level(step);
            if let Some((i, _)) = iteration {
                vars.set(REPEAT_INDEX, Value::String(i.to_string()));
            }
            let name_of = |mut r: StepResult| {
                if let Some((i, n)) = iteration {
                    r.name = format!("{} [{i}/{n}]", step.name);
                }
                r
            };
            // Okta's suites pause between steps; with --okta-pauses the run waits as they do (first run of a step only)
            if let (Some(secs), true, true) = (step.pause, self.options.okta_pauses, s.idp == Idp::Okta) {
                if iteration.is_none_or(|(i, _)| i == 1) {
                    self.pause(Duration::from_secs_f64(secs)).await;
                }
            }
            if self.is_interrupted() {
                result.steps.push(name_of(not_run(s, step, level, format!("not run: {INTERRUPTED}"))));
                continue;
            }
            if let Some(n) = setup_failed {
                result.steps.push(name_of(not_run(s, step, level, crate::setup::not_run_reason(n))));
                continue;
            }
            if let Some(err) = &transport_error {
                result.steps.push(name_of(not_run(
                    s,
                    step,
                    level,
                    format!("not run: an earlier step had a transport error ({err})"),
                )));
                continue;
            }
            if let Some(why) = skips.reason(step) {
                result.steps.push(name_of(not_run(s, step, level, why.clone())));
                continue;
            }
            let without_groups;
            let step = match skips.without_skipped_assertions(s, step) {
                Some((trimmed, note)) => {
                    result.notes.push(note);
                    without_groups = trimmed;
                    &without_groups
                }
                None => step,
            };
            // A step that uses a capture an earlier step failed to take does not run: its verdict would only
            // repeat that step's failure.
            let missing: Vec<String> =
                step.names_used().into_iter().filter(|n| !vars.is_defined(n) && n != REPEAT_INDEX).collect();
            if !missing.is_empty() {
                let names: Vec<String> = missing.iter().map(|m| format!("{{{{{m}}}}}")).collect();
                let mut from: Vec<usize> =
                    missing.iter().filter_map(|m| s.steps.iter().position(|st| st.capture.contains_key(m))).collect();
                from.sort();
                from.dedup();
                let steps: Vec<String> = from.iter().map(|i| format!("step {}", i + 1)).collect();
                result.steps.push(name_of(not_run(
                    s,
                    step,
                    level,
                    format!(
                        "not run (depends on {}): {} was not captured",
                        if steps.is_empty() { "an earlier step".to_string() } else { steps.join(", ") },
                        names.join(", ")
                    ),
                )));
                continue;
            }
            // judged only on what the server declares (crate::declared)
            let adapted;
            let step = match declared.map(|d| d.adapt(step, s.idp)) {
                Some(crate::declared::Adapted::NotRun(why)) => {
                    result.steps.push(name_of(not_run(s, step, level, why)));
                    continue;
                }
                Some(crate::declared::Adapted::Trimmed(trimmed, note)) => {
                    if !result.notes.contains(&note) {
                        result.notes.push(note);
                    }
                    adapted = *trimmed;
                    &adapted
                }
                _ => step,
            };
            if step.pages {
                let pages = self.run_pages(&cx, step, level, &mut vars, &mut created);
                for r in pages.await {
                    if r.verdict == StepVerdict::Error {
                        transport_error = r.error.clone();
                    }
                    result.steps.push(r);
                }
                continue;
            }
            if step.with_next || !group.is_empty() {
                group.push(step.clone());
                if step.with_next {
                    continue;
                }
                let pending = std::mem::take(&mut group);
                let runs = pending.iter().map(|st| {
                    let mut v = vars.clone();
                    let cx = &cx;
                    async move {
                        let mut c = Vec::new();
                        let r = self.run_step(cx, st, s.step_level(st), &mut v, &mut c).await;
                        (r, c)
                    }
                });
                for (mut r, c) in crate::together::at_once(runs.collect()).await {
                    if let Some(d) = declared {
                        d.annotate(s.idp, &mut r);
                    }
                    created.extend(c);
                    if r.verdict == StepVerdict::Error {
                        transport_error = r.error.clone();
                    }
                    result.steps.push(r);
                }
                continue;
            }
            let mut step_result = name_of(self.run_step(&cx, step, level, &mut vars, &mut created).await);
            if let Some(d) = declared {
                d.annotate(s.idp, &mut step_result);
            }
            if step_result.verdict == StepVerdict::Error {
                transport_error = step_result.error.clone();
            }
            if let Some(cause) = crate::setup::cause(result.steps.len() + 1, &step_result, step.expect.status.as_ref())
                .filter(|_| step.setup)
            {
                setup_failed = Some(result.steps.len() + 1);
                result.setup_step = Some(result.steps.len());
                result.reason = Some(cause);
            }
            result.steps.push(step_result);
        }

        // cleanup, newest first
        for path in created.iter().rev() {
            let started = Instant::now();
            let mut req = self.bare(&resolved, &profile, Method::DELETE, path);
            let outcome = self.send(&resolved, &profile, &req).await;
            redactor.scrub_request(&mut req);
            let mut r =
                StepResult { request: Some(req), ..StepResult::new("cleanup", s.level, s.kind, StepVerdict::Pass) };
            match outcome {
                Ok(mut obs) => {
                    redactor.scrub_observed(&mut obs);
                    obs.retain(self.options.report_body_limit);
                    r.http_ms = ms(obs.elapsed);
                    if !(200..300).contains(&obs.status) && obs.status != 404 {
                        r.verdict = StepVerdict::Fail;
                        result.notes.push(redactor.scrub(&format!(
                            "cleanup: DELETE {path} answered {}; the resource may be left on the server",
                            obs.status
                        )));
                    }
                    r.response = Some(obs);
                }
                Err(e) => {
                    r.verdict = StepVerdict::Error;
                    result.notes.push(redactor.scrub(&format!(
                        "cleanup: DELETE {path} failed ({e}); the resource may be left on the server"
                    )));
                    r.error = Some(redactor.scrub(&e.message));
                }
            }
            r.duration_ms = ms(started.elapsed());
            result.cleanup.push(r);
        }

        let interrupted = result
            .steps
            .iter()
            .any(|r| r.verdict == StepVerdict::NotRun && r.error.as_deref().is_some_and(|e| e.ends_with(INTERRUPTED)));
        if interrupted {
            // a partial transcript is no evidence of drift: no snapshot comparison
            result.reason = Some(INTERRUPTED.to_string());
        } else if transport_error.is_none() && setup_failed.is_none() {
            // (a transcript cut short by a failed fixture is no evidence of drift either)
            let entries: Vec<Entry<'_>> = result
                .steps
                .iter()
                .chain(&result.cleanup)
                .filter_map(|r| {
                    Some(Entry {
                        step: &r.name,
                        request: r.request.as_ref()?,
                        response: r.response.as_ref(),
                        error: r.error.as_deref(),
                    })
                })
                .collect();
            let ctx = normalize::Context {
                base_url: &resolved.target.base_url,
                redactor: &redactor,
                generated: vars.generated().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
            };
            let transcript = normalize::transcript(&entries, &ctx);
            // compared with its snapshot by the judge
            result.transcript_text = Some(normalize::render(&transcript));
        } else if let Some(e) = transport_error {
            result.reason = Some(redactor.scrub(&e));
        }
        if let Some(server) = resolved.server {
            let stopping = Instant::now();
            server.shutdown().await;
            result.server_ms += ms(stopping.elapsed());
        }
        self.judge.executed(s, &mut result, interrupted);
        result.duration_ms = ms(started.elapsed());
        result
    }

    /// Runs a `pages` step: one request per page, `startIndex` advanced by `count` while `totalResults` says
    /// more remain (see [`crate::paging`]); each page is a result named `name [page k]`.
    async fn run_pages(
        &self,
        cx: &StepContext<'_>,
        step: &Step,
        level: Level,
        vars: &mut Vars,
        created: &mut Vec<String>,
    ) -> Vec<StepResult> {
        let param =
            |name: &str| step.request.query.0.iter().find(|(k, _)| k == name).and_then(|(_, v)| v.parse::<u64>().ok());
        let mut cursor = crate::paging::PageCursor::new(param("startIndex").unwrap_or(1), param("count").unwrap_or(1));
        let mut out = Vec::new();
        loop {
            let mut page = step.clone();
            for (k, v) in &mut page.request.query.0 {
                if k == "startIndex" {
                    *v = cursor.start().to_string();
                }
            }
            let number = cursor.page();
            let mut r = self.run_step(cx, &page, level, vars, created).await;
            r.name = format!("{} [page {number}]", step.name);
            let more = match (&r.response, r.verdict) {
                (Some(obs), StepVerdict::Pass | StepVerdict::Fail) => {
                    let (mut failures, more) = cursor.observe(obs.status, obs.structure());
                    for f in &mut failures {
                        f.basis = step.basis.clone();
                    }
                    // a step whose basis is `shown` reports its cross-page checks, never fails on them
                    if step.basis.as_ref().is_some_and(Basis::observes_only) {
                        r.observations.extend(failures);
                    } else if !failures.is_empty() {
                        r.verdict = StepVerdict::Fail;
                        r.failures.extend(failures);
                    }
                    more
                }
                _ => false,
            };
            out.push(r);
            if !more {
                return out;
            }
        }
    }

    async fn run_step(
        &self,
        cx: &StepContext<'_>,
        step: &Step,
        level: Level,
        vars: &mut Vars,
        created: &mut Vec<String>,
    ) -> StepResult {
        let StepContext { s, resolved, profile, redactor, case } = *cx;
        let started = Instant::now();
        let r = &step.request;
        let mut path = vars.render(&r.path);
        if !path.starts_with('/') {
            // an endpoint captured from /ResourceTypes, declared without its slash (RFC 7643 §6 shows "/Users")
            path.insert(0, '/');
        }
        let query: Vec<(String, String)> = r.query.0.iter().map(|(k, v)| (k.clone(), vars.render(v))).collect();
        let render_map = |m: &BTreeMap<String, Option<String>>| -> BTreeMap<String, Option<String>> {
            m.iter().map(|(k, v)| (k.clone(), v.as_ref().map(|v| vars.render(v)))).collect()
        };
        let scenario_headers = render_map(&s.headers);
        let step_headers = render_map(&r.headers);
        let body = r.body.as_ref().map(|b| vars.render_value(b));
        let filter = crate::decline::filter_of(r.method, &path, &query, body.as_ref());
        let overridden;
        let profile = match r.spaces {
            Some(space) if space != profile.space => {
                overridden = Profile { space, ..profile.clone() };
                &overridden
            }
            _ => profile,
        };
        let out = Outgoing {
            method: r.method,
            path: &path,
            query: &query,
            scenario_headers: &scenario_headers,
            step_headers: &step_headers,
            body,
            auth: r.auth,
        };
        let mut req = self.build(resolved, profile, out);
        req.spaces = r.spaces;
        if let Some(text) = &r.body_text {
            req.body_text = Some(vars.render(text));
            req.headers = profile
                .headers_for(true, &scenario_headers, &step_headers)
                .into_iter()
                .filter(|(k, _)| !k.eq_ignore_ascii_case("authorization"))
                .collect();
        }
        req.step_headers = step_headers.into_iter().filter_map(|(k, v)| Some((k, v?))).collect();
        let mut result = StepResult::of_step(s, step, level, StepVerdict::Pass);
        let sent = self.send(resolved, profile, &req).await;
        result.ended = Some(crate::exchange::tick());
        match sent {
            Err(e) => {
                (result.verdict, result.transport) = (StepVerdict::Error, Some(e.kind));
                result.error = Some(redactor.scrub(&e.message));
            }
            Ok(mut obs) => {
                result.http_ms = ms(obs.elapsed);
                let judgement = self.judge.step(step, &obs, vars, profile, case, &path);
                let mut failures = judgement.failures;
                result.observations = judgement.observations;
                result.conditions_held = judgement.conditions_held;
                for (name, cap) in &step.capture {
                    let value = match cap.source() {
                        CaptureFrom::Pointer(p) | CaptureFrom::OptionalPointer(p) => {
                            obs.json().and_then(|b| check::resolve(b, &p)).cloned().or_else(|| {
                                // a 201 without a body: the new id is the end of its Location (RFC 7644 §3.3)
                                (p == "/id").then(|| obs.created_id_from_location()).flatten().map(Value::String)
                            })
                        }
                        CaptureFrom::Header(h) => obs.header(&h).map(|v| Value::String(v.to_string())),
                    };
                    match value {
                        Some(v) => vars.set(name, v),
                        None if matches!(cap.source(), CaptureFrom::OptionalPointer(_)) => vars.set_absent(name),
                        None => failures.push(
                            Failure::new(
                                format!("capture {name}"),
                                match cap.source() {
                                    CaptureFrom::Pointer(p) | CaptureFrom::OptionalPointer(p) => {
                                        format!("a value at {p}")
                                    }
                                    CaptureFrom::Header(h) => format!("a {h} header"),
                                },
                                "absent",
                            )
                            .with_id(check::CheckId::Capture(name.to_string())),
                        ),
                    }
                }
                crate::cleanup::track_created(r.method, &path, &obs, created);
                for f in failures.iter_mut().chain(result.observations.iter_mut()) {
                    f.actual = redactor.scrub(&f.actual);
                    f.expected = redactor.scrub(&f.expected);
                }
                if !failures.is_empty() {
                    result.verdict = StepVerdict::Fail;
                }
                result.failures = failures;
                redactor.scrub_observed(&mut obs);
                // judged: keep only what the transcript and the reports need
                obs.retain(self.options.report_body_limit);
                result.response = Some(obs);
            }
        }
        // RFC 7644 §3.4.2.2: a filter no IdP of the scenario sends may be declined (a skip, not a failure)
        crate::decline::judge(&mut result, s.idp, &path, filter.as_deref());
        redactor.scrub_request(&mut req);
        result.request = Some(req);
        result.duration_ms = ms(started.elapsed());
        result
    }

    /// Builds a request description: URL from the base URI (keeping its own query), profile headers.
    fn build(&self, resolved: &Resolved, profile: &Profile, out: Outgoing<'_>) -> SentRequest {
        let Outgoing { method, path, query, scenario_headers, step_headers, body, auth } = out;
        let url = resolved.target.base_uri().join(path, &profile.encode_query(query));
        let headers = profile.headers_for(body.is_some(), scenario_headers, step_headers);
        SentRequest {
            method,
            url,
            path: path.to_string(),
            query: query.to_vec(),
            headers: headers.into_iter().filter(|(k, _)| !k.eq_ignore_ascii_case("authorization")).collect(),
            step_headers: vec![],
            body,
            body_text: None,
            auth,
            spaces: None,
        }
    }

    /// A request the runner sends on its own (discovery, cleanup): no query, body or step headers.
    fn bare(&self, resolved: &Resolved, profile: &Profile, method: Method, path: &str) -> SentRequest {
        let none = BTreeMap::new();
        let out = Outgoing {
            method,
            path,
            query: &[],
            scenario_headers: &none,
            step_headers: &none,
            body: None,
            auth: AuthMode::Default,
        };
        self.build(resolved, profile, out)
    }

    async fn authorization(
        &self,
        resolved: &Resolved,
        profile: &Profile,
        auth: AuthMode,
    ) -> Result<Option<String>, crate::oauth::TokenError> {
        match auth {
            AuthMode::None => Ok(None),
            AuthMode::Invalid => Ok(Some(profile.invalid_credential.to_string())),
            AuthMode::Default => {
                resolved.target.credential.authorization(self.options.auth_style.unwrap_or(profile.auth_style)).await
            }
        }
    }

    /// Sends a request; an idempotent one (GET, PUT, DELETE — RFC 9110 §9.2.2) that dies because the server closed
    /// or reset a kept-alive connection before answering is sent once more, as RFC 9112 §9.3.1 allows. A
    /// server that keeps doing it still gets the transport error as its verdict.
    async fn send(
        &self,
        resolved: &Resolved,
        profile: &Profile,
        req: &SentRequest,
    ) -> Result<Observed, TransportError> {
        let mut first = self.send_once(resolved, profile, req).await;
        // RFC 6750 §3.1: an OAuth access token the server calls invalid (expired, revoked) is replaced once
        if let Ok((obs, sent)) = &first {
            if req.auth == AuthMode::Default
                && resolved.target.credential.reject(sent.as_deref(), obs.status, obs.header("www-authenticate")).await
            {
                first = self.send_once(resolved, profile, req).await;
            }
        }
        let first = first.map(|(obs, _)| obs);
        match &first {
            Err(e) if matches!(req.method, Method::GET | Method::PUT | Method::DELETE) && e.may_resend() => {
                self.send_once(resolved, profile, req).await.map(|(obs, _)| obs)
            }
            _ => first,
        }
    }

    /// Sends a request and reads the response within the timeout and body limit; also returns the
    /// `Authorization` value sent.
    async fn send_once(
        &self,
        resolved: &Resolved,
        profile: &Profile,
        req: &SentRequest,
    ) -> Result<(Observed, Option<String>), TransportError> {
        let method = reqwest::Method::from(req.method);
        let mut builder = self.client.request(method, &req.url);
        for (k, v) in &req.headers {
            builder = builder.header(k, v);
        }
        // a token endpoint that failed is never a reason to resend
        let authorization = self
            .authorization(resolved, profile, req.auth)
            .await
            .map_err(|e| TransportError { kind: TransportKind::Other, message: e.message })?;
        if let Some(auth) = &authorization {
            builder = builder.header(reqwest::header::AUTHORIZATION, auth);
        }
        if let Some(body) = &req.body {
            builder = builder.body(serde_json::to_vec(body).expect("JSON values serialise"));
        } else if let Some(text) = &req.body_text {
            builder = builder.body(text.clone());
        }
        let limit = self.options.body_limit;
        let observed = crate::exchange::receive_via(&resolved.target.transport, builder, limit, self.options.timeout)
            .await?
            .observed(limit);
        Ok((observed, authorization))
    }
}

fn not_run(s: &Scenario, step: &Step, level: Level, why: String) -> StepResult {
    StepResult { error: Some(why), ..StepResult::of_step(s, step, level, StepVerdict::NotRun) }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}
