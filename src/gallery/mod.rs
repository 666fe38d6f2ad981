//! `scimcheck run --suite entra-gallery`: Microsoft's gallery validation (the Logic App template's 25 tests) run
//! offline against any SCIM base URI, under Microsoft's names, groups, categories, skip rules and overall result
//! logic, plus the gallery's other requirements (a no-match query answered 200 with zero results, 25 requests/s).
//!
//! - [`suite`]: the 25 test definitions;
//! - [`lifecycle`]: the tests that go through Entra's provisioning engine, sent with the engine's request shapes
//!   ([`crate::idp`], the simulator's HTTP layer [`crate::simulate::engine::Http`]);
//! - [`direct`]: the SCIM direct compliance tests and the gallery requirements;
//! - [`mapping`]: the attribute mapping `Schema_Discoverability_Test` compares `/Schemas` with;
//! - [`auth`]: the two authentication tests and the seam an OAuth client fills;
//! - [`output`]: the readiness table and the JSON, JUnit and HTML reports.
//!
//! Source of every rule: Microsoft's "SCIM Provisioning Validation — Test Overview" (docs/entra-gallery.md) and
//! the gallery requirements page ([`GALLERY_REQUIREMENTS`]).

pub mod auth;
pub mod direct;
pub mod lifecycle;
pub mod mapping;
pub mod output;
pub mod saved;
pub mod suite;

use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::exchange::Method;
use crate::idp::errors::{explain, Addressed, Explanation, Failure};
use crate::idp::{Dialect, EntraDialect, Idp, ScimRequest};
use crate::simulate::engine::{EngineOptions, Http, ObjRef, OpKind, Outcome};
use crate::target::Target;

pub use suite::{Category, Group, Needs, TestDef, TESTS};

/// Microsoft's gallery requirements page (OAuth, 25 requests/s, `/Schemas`, no-match queries).
pub const GALLERY_REQUIREMENTS: &str =
    "https://learn.microsoft.com/entra/identity/enterprise-apps/app-gallery-user-provisioning-requirements";
/// Microsoft's test overview, at the commit it was read.
pub const TEST_OVERVIEW: &str = "https://github.com/AzureAD/SCIMReferenceCode/blob/3372c7e824a1cb065370db0958d59a642cc89a61/Microsoft.SCIM.LogicAppValidationTemplate/StandardLogicApp/SCIM-Validation-Test-Overview.md";
/// The message Microsoft's template gives a group test when `/Schemas` has no Group schema.
pub const NO_GROUP_SCHEMA: &str =
    "[Initialization Phase] Schema_Discovery - /Schemas did not return Group schema. Group provisioning is mandatory.";

/// A test's result, as Microsoft's `testResult` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    /// Passed.
    Passed,
    /// A mandatory test failed.
    Failed,
    /// An optional test failed (never blocks the result).
    Warning,
    /// Not applicable (Microsoft's skip conditions).
    Skipped,
}

impl Status {
    /// `PASSED`, `FAILED`, `WARNING`, `SKIPPED`.
    pub fn label(self) -> &'static str {
        match self {
            Status::Passed => "PASSED",
            Status::Failed => "FAILED",
            Status::Warning => "WARNING",
            Status::Skipped => "SKIPPED",
        }
    }
}

/// One test's result.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestResult {
    /// Microsoft's number.
    pub number: u8,
    /// Microsoft's name.
    pub name: &'static str,
    /// Microsoft's group.
    pub group: &'static str,
    /// Mandatory or optional.
    pub category: Category,
    /// The result.
    pub status: Status,
    /// Why (the failed criterion, the skip condition, or what passed).
    pub detail: String,
    /// For a failure of an engine request: what the Entra customer would see and what the engine does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entra: Option<Explanation>,
}

/// One of the gallery's other requirements (not among the 25 tests).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Requirement {
    /// Short name: `noMatchQuery`, `requestRate`.
    pub name: &'static str,
    /// Whether it is met.
    pub met: bool,
    /// What was measured.
    pub detail: String,
    /// For a failure: the Entra view.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entra: Option<Explanation>,
}

/// Microsoft's overall result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Verdict {
    /// `Succeeded`: every mandatory test passed or was skipped, one authentication test passed, and the gallery
    /// requirements are met.
    Succeeded,
    /// Every mandatory test passed or was skipped, but no authentication test ran: the gallery requires OAuth 2.0
    /// client credentials or workload identity federation, so Microsoft's result would be `Failed`.
    OauthRequired,
    /// `Failed`: a mandatory test failed, an authentication test failed with none passing, or a gallery
    /// requirement is unmet.
    Failed,
}

impl Verdict {
    /// How the verdict reads at the end of a run.
    pub fn sentence(self) -> &'static str {
        match self {
            Verdict::Succeeded => "READY: Microsoft's validation would succeed (overallLogicAppResult Succeeded)",
            Verdict::OauthRequired => {
                "NOT READY: OAuth required. Every mandatory SCIM test passed, but neither authentication test ran: the \
                 gallery accepts only OAuth 2.0 client credentials or workload identity federation, and Microsoft's \
                 result is Failed unless Validate_Credentials_Test or Federated_Identity_Test passes"
            }
            Verdict::Failed => "NOT READY: Microsoft's validation would fail (overallLogicAppResult Failed)",
        }
    }
}

/// Microsoft's overall logic (overview, "Overall Result Logic" and "Authentication Model"): `Failed` when any
/// mandatory test FAILED or neither authentication test PASSED; here the second case is told apart
/// ([`Verdict::OauthRequired`]) when neither authentication test ran at all. Unmet gallery requirements fail too.
pub fn verdict(tests: &[TestResult], requirements: &[Requirement]) -> Verdict {
    let is_auth = |t: &TestResult| t.group == Group::Authentication.title();
    // the authentication tests count by OR: one passing is enough, a failed one beside a passing one does not block
    let mandatory_failed =
        tests.iter().any(|t| !is_auth(t) && t.category == Category::Mandatory && t.status == Status::Failed);
    if mandatory_failed || !requirements.iter().all(|r| r.met) {
        return Verdict::Failed;
    }
    let auth: Vec<&TestResult> = tests.iter().filter(|t| is_auth(t)).collect();
    if auth.iter().any(|t| t.status == Status::Passed) {
        Verdict::Succeeded
    } else if auth.iter().all(|t| t.status == Status::Skipped) {
        Verdict::OauthRequired
    } else {
        Verdict::Failed
    }
}

/// The whole result of a gallery run.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GalleryReport {
    /// `entra-gallery`.
    pub suite: &'static str,
    /// The target (base URI, no credential).
    pub target: String,
    /// Where the attribute mapping came from.
    pub attribute_mapping: String,
    /// Whether `/Schemas` returned the Group schema.
    pub groups_supported: bool,
    /// Whether `manager` is mapped.
    pub manager_mapped: bool,
    /// The 25 results in Microsoft's order.
    pub tests: Vec<TestResult>,
    /// The gallery's other requirements.
    pub requirements: Vec<Requirement>,
    /// The overall verdict.
    pub verdict: Verdict,
    /// Microsoft's test overview (source of the names and logic).
    pub source: &'static str,
    /// Wall time in ms.
    pub duration_ms: u64,
}

/// How a gallery run is made.
#[derive(Debug, Clone)]
pub struct Options {
    /// SCIM base URI (a `?aadOptscim062020` query selects that dialect for the cycle tests).
    pub base_url: String,
    /// The credential every request is sent with (never printed; an OAuth one is refreshed as it expires).
    pub credential: crate::credential::Credential,
    /// The attribute mapping.
    pub mapping: mapping::AttributeMapping,
    /// The token flows (both `None` until OAuth is configured).
    pub auth: auth::AuthEvidence,
    /// Per-request timeout.
    pub timeout: Duration,
    /// TLS trust.
    pub tls: crate::http::TlsOptions,
    /// How long the paced 25 requests/s run lasts (10 s by default).
    pub rate_window: Duration,
}

/// The gallery's sustained rate: 25 requests per second per tenant ([`GALLERY_REQUIREMENTS`]).
pub const REQUIRED_RATE: f64 = 25.0;

/// A failed check: what went wrong and, for an engine request, the Entra view.
#[derive(Debug, Clone)]
pub struct Fail {
    /// What went wrong.
    pub detail: String,
    /// The Entra view, when a request failed.
    pub entra: Option<Explanation>,
}

impl Fail {
    /// A failure that is not one request's answer (a value that does not read back).
    pub fn new(detail: impl Into<String>) -> Fail {
        Fail { detail: detail.into(), entra: None }
    }
    /// A value that was accepted but not applied.
    pub fn not_applied(detail: impl Into<String>) -> Fail {
        Fail { detail: detail.into(), entra: explain(Idp::Entra, Failure::NotApplied) }
    }
}

/// A check's result: what passed, or why not.
pub type Check = Result<String, Fail>;

/// One answer.
#[derive(Debug)]
pub struct Answer {
    /// Status.
    pub status: u16,
    /// JSON body.
    pub json: Option<Value>,
}

/// The dialect the cycle tests speak to `base_url`: Entra's one rule for its Tenant URL
/// ([`EntraDialect::of_tenant_url`]: the `aadOptscim062020` flag in the query, never a path segment named like
/// it), as Microsoft's known-issues page describes the flag (docs/entra.md §2,
/// <https://learn.microsoft.com/en-us/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility>).
fn engine_dialect(base_url: &str) -> EntraDialect {
    EntraDialect::of_tenant_url(base_url)
}

/// What the tests share: the HTTP layers and what they created (deleted at the end).
pub struct Ctx {
    /// The engine's dialect (default, or aadOptscim062020 when the base URI asks for it).
    pub engine: Http,
    /// Provision on demand: always the default dialect (`aadOptscim062020` does not apply to it).
    pub pod: Http,
    created: Mutex<Vec<String>>,
    seq: std::sync::atomic::AtomicU32,
}

impl Ctx {
    /// Builds the HTTP layers for `o`.
    ///
    /// Errors: the HTTP client cannot be built (TLS settings).
    pub fn new(o: &Options) -> Result<Ctx, String> {
        let http = |d: EntraDialect| {
            Http::new(
                Target::new(o.base_url.clone(), o.credential.clone()),
                EngineOptions {
                    dialect: Dialect::Entra(d),
                    concurrency: 4,
                    rate: None,
                    timeout: o.timeout,
                    chunk: crate::idp::OKTA_DEFAULT_CHUNK,
                    max_attempts: 1,
                    max_wait: Some(Duration::from_secs(1)),
                    progress: false,
                    tls: o.tls.clone(),
                },
            )
        };
        Ok(Ctx {
            engine: http(engine_dialect(&o.base_url))?,
            pod: http(EntraDialect::Default)?,
            created: Mutex::default(),
            seq: Default::default(),
        })
    }

    /// A name unique to this run: `gallery-<what>-<n>-<uuid>`.
    pub fn unique(&self, what: &str) -> String {
        let n = self.seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("gallery-{what}-{n}-{}", uuid::Uuid::new_v4().simple())
    }

    /// Sends `req` with `http` and requires a status in `ok`; anything else is a [`Fail`] with the Entra view.
    /// `kind` decides how much of a success body is read ([`OpKind::reads_answer`]).
    pub async fn send(&self, http: &Http, kind: OpKind, req: &ScimRequest, ok: &[u16]) -> Result<Answer, Fail> {
        let out = http.send(kind, ObjRef::None, req).await;
        let status = out.status();
        let too_large = out.too_large();
        let json = match out {
            Outcome::Answer { json, .. } => json,
            Outcome::NoAnswer => None,
        };
        let what = describe(req);
        if ok.contains(&status) {
            if let (Method::POST, Some(id)) =
                (req.method, json.as_ref().and_then(|j| j.get("id")).and_then(Value::as_str))
            {
                self.created.lock().expect("not poisoned").push(format!("{}/{id}", req.path));
            }
            return Ok(Answer { status, json });
        }
        let query = req.query.iter().any(|(k, _)| k == "filter");
        let addressed = Addressed::of(req.method, &req.path, query);
        let failure = Failure::of(req.method, addressed, status, !too_large).unwrap_or(Failure::Unreadable);
        let got = if status == 0 { "no answer (timeout or transport error)".to_string() } else { format!("{status}") };
        let scim = json
            .as_ref()
            .and_then(|j| crate::idp::get_ci(j, "detail").or_else(|| crate::idp::get_ci(j, "scimType")))
            .and_then(Value::as_str)
            .map(|d| format!(" ({})", one_line(d, 160)))
            .unwrap_or_default();
        Err(Fail {
            detail: format!("{what} answered {got}{scim}, expected {}", statuses(ok)),
            entra: explain(Idp::Entra, failure),
        })
    }

    /// Deletes everything the suite created, newest first; failures are ignored (the server may have deleted it).
    pub async fn cleanup(&self) {
        let created = std::mem::take(&mut *self.created.lock().expect("not poisoned"));
        for path in created.iter().rev() {
            let req = ScimRequest { method: Method::DELETE, path: path.clone(), query: Vec::new(), body: None };
            let _ = self.engine.send(OpKind::ReconcileRead, ObjRef::None, &req).await;
        }
    }
}

/// The server's text `s` as one line of at most `max` characters: runs of whitespace (line breaks included) become
/// one space and control characters are dropped, so a server's message cannot break the readiness table's lines.
pub fn one_line(s: &str, max: usize) -> String {
    let words: Vec<String> =
        s.split_whitespace().map(|w| w.chars().filter(|c| !c.is_control()).collect::<String>()).collect();
    words.join(" ").chars().take(max).collect()
}

/// `PATCH /Users/{id}` (no query string shown).
fn describe(req: &ScimRequest) -> String {
    let q = if req.query.is_empty() {
        String::new()
    } else {
        format!("?{}", req.query.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&"))
    };
    format!("{} {}{q}", req.method.as_str(), req.path)
}

fn statuses(ok: &[u16]) -> String {
    ok.iter().map(u16::to_string).collect::<Vec<_>>().join(" or ")
}

/// What `/Schemas` says, read once (Microsoft's initialisation phase).
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    /// The `/Schemas` answer's status (0: none).
    pub status: u16,
    /// Its `Resources`, when it had an array.
    pub resources: Option<Vec<Value>>,
    /// Whether the Group schema is among them.
    pub groups: bool,
}

/// Runs the suite: initialisation (`GET /Schemas`), the 25 tests, the gallery requirements, cleanup.
///
/// Errors: the HTTP client cannot be built.
pub async fn run(o: &Options) -> Result<GalleryReport, String> {
    let started = std::time::Instant::now();
    let ctx = Ctx::new(o)?;
    let schemas_req = ScimRequest { method: Method::GET, path: "/Schemas".into(), query: Vec::new(), body: None };
    let out = ctx.engine.send(OpKind::ReconcileRead, ObjRef::None, &schemas_req).await;
    let status = out.status();
    let resources = out.json().and_then(|j| crate::idp::get_ci(j, "Resources")).and_then(Value::as_array).cloned();
    let groups = resources.iter().flatten().any(|r| {
        r.get("id").and_then(Value::as_str).is_some_and(|id| id.eq_ignore_ascii_case(crate::idp::GROUP_SCHEMA))
    });
    let discovery = Discovery { status, resources, groups };
    let manager = o.mapping.maps_manager();

    // Microsoft's authentication tests fail on their own; the SCIM tests need a token the endpoint gave
    let no_token = o.auth.token_unavailable();
    let mut tests = Vec::with_capacity(TESTS.len());
    for def in &TESTS {
        let gated = match &no_token {
            Some(why) if !matches!(def.needs, Needs::TokenEndpoint | Needs::Federated) => Some((
                Status::Skipped,
                format!("no credential for the SCIM requests: the token endpoint failed ({why})"),
            )),
            _ => gate(def, &discovery, manager, &o.auth),
        };
        let (status, detail, entra) = match gated {
            Some((s, d)) => (s, d, None),
            None => match run_one(def, &ctx, o, &discovery).await {
                Ok(d) => (Status::Passed, d, None),
                Err(f) => {
                    let s = if def.category == Category::Optional { Status::Warning } else { Status::Failed };
                    (s, f.detail, f.entra)
                }
            },
        };
        let detail = match status {
            Status::Failed | Status::Warning => failed_message(def, &detail),
            _ => detail,
        };
        tests.push(TestResult {
            number: def.number,
            name: def.name,
            group: def.group.title(),
            category: def.category,
            status,
            detail,
            entra,
        });
    }
    // without a token the requirements cannot be measured: none is reported, and the failed authentication test
    // already makes the verdict Failed
    let requirements = match no_token {
        Some(_) => Vec::new(),
        None => vec![direct::no_match_query(&ctx).await, direct::request_rate(o, &ctx, o.rate_window).await],
    };
    ctx.cleanup().await;
    let verdict = verdict(&tests, &requirements);
    Ok(GalleryReport {
        suite: "entra-gallery",
        target: o.base_url.clone(),
        attribute_mapping: o.mapping.source.clone(),
        groups_supported: discovery.groups,
        manager_mapped: manager,
        tests,
        requirements,
        verdict,
        source: TEST_OVERVIEW,
        duration_ms: started.elapsed().as_millis() as u64,
    })
}

/// The message of a FAILED or WARNING test: Microsoft's test by name and number, what went wrong, and the rule the
/// test holds the server to (what it validates, from Microsoft's test overview, docs/entra-gallery.md).
pub fn failed_message(def: &TestDef, detail: &str) -> String {
    format!(
        "Microsoft's {} (test {} of the gallery validation) fails: {}. Rule: {} (Microsoft's test overview; \
         docs/entra-gallery.md)",
        def.name,
        def.number,
        detail.trim_end_matches('.'),
        def.validates
    )
}

/// Microsoft's capability rules before a test runs: the result when the test does not run, else `None`.
fn gate(def: &TestDef, d: &Discovery, manager: bool, auth: &auth::AuthEvidence) -> Option<(Status, String)> {
    match def.needs {
        Needs::Users => None,
        Needs::GroupsOrFail if !d.groups => {
            let s = if def.category == Category::Optional { Status::Warning } else { Status::Failed };
            Some((s, NO_GROUP_SCHEMA.into()))
        }
        Needs::GroupsOrSkip if !d.groups => {
            Some((Status::Skipped, "groups are not supported (no Group schema in /Schemas)".into()))
        }
        Needs::GroupsOrFail | Needs::GroupsOrSkip => None,
        Needs::Manager if !manager => Some((Status::Skipped, "manager is not in the attribute mapping".into())),
        Needs::Manager => None,
        Needs::TokenEndpoint => Some(auth::validate_credentials(auth.client_credentials.as_ref())),
        Needs::Federated => Some(auth::federated_identity(auth.federated.as_ref())),
    }
}

async fn run_one(def: &TestDef, ctx: &Ctx, o: &Options, d: &Discovery) -> Check {
    match def.name {
        "Create_User_Test" => lifecycle::create_user(ctx).await,
        "Update_User_Test" => lifecycle::update_user(ctx).await,
        "Disable_User_Test" => lifecycle::disable_user(ctx).await,
        "Delete_User_Test" => lifecycle::delete_user(ctx).await,
        "User_Update_Manager_Test" => lifecycle::user_update_manager(ctx).await,
        "Restore_User_Test" => lifecycle::restore_user(ctx).await,
        "POD_User_Test" => lifecycle::pod_user(ctx).await,
        "Create_Group_Test" => lifecycle::create_group(ctx).await,
        "Update_Group_Test" => lifecycle::update_group(ctx).await,
        "Delete_Group_Test" => lifecycle::delete_group(ctx).await,
        "Group_Update_Add_Member_Test" => lifecycle::add_member(ctx).await,
        "Group_Update_Remove_Member_Test" => lifecycle::remove_member(ctx).await,
        "POD_Group_Test" => lifecycle::pod_group(ctx).await,
        "Restore_Group_Test" => lifecycle::restore_group(ctx).await,
        "Schema_Discoverability_Test" => direct::schema_discoverability(d, &o.mapping),
        "SCIM_Null_Update_Test" => direct::null_update(ctx).await,
        "SCIM_User_Create_Test" => direct::user_create(ctx).await,
        "SCIM_User_Update_Test" => direct::user_update(ctx, d).await,
        "SCIM_Group_Create_Test" => direct::group_create(ctx).await,
        "SCIM_Group_Update_Test" => direct::group_update(ctx).await,
        "SCIM_User_Pagination_Test" => direct::pagination(ctx, "Users").await,
        "SCIM_Group_Pagination_Test" => direct::pagination(ctx, "Groups").await,
        "SCIM_Update_Manager_Test" => direct::update_manager(ctx).await,
        other => Err(Fail::new(format!("{other} has no implementation"))),
    }
}

#[cfg(test)]
mod tests;
