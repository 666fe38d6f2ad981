//! Scenario model, loader and variables.
//!
//! A scenario is one JSON file under `scenarios/<idp>/<group>/<name>.json`; its id is the path without the
//! extension, segments joined with `::` (`okta::spec::spec_suite`). The loader rejects unknown fields, malformed
//! placeholders and references to variables or captures that do not exist, naming the file, the step and the
//! reason. Variables substitute with `{{name}}` (optionally `{{name|upper}}` / `{{name|lower}}`); generators
//! (`{{$uuid}}`, `{{$okta.givenName}}`, …) may only appear in `variables`, so every generated value has a name
//! that normalisation can put back in the transcript.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rand::RngExt;
use regex::Regex;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::exchange::{AuthMode, Method, SpaceEncoding};
use crate::idp::Idp;

mod assertion;
mod cite;
mod file;
mod layout;
mod schema;
mod validate;
mod vars;

use assertion::value_strings;
pub use assertion::{Assertion, Check, Pattern};
pub use file::ScenarioFile;
pub use schema::{scenario_schema, scenario_schema_text};
use validate::validate;
pub use vars::{placeholders, CaseFilter, Placeholder, PlaceholderError, Vars, GENERATORS};

/// Requirement level (RFC 2119 keyword) of a scenario or step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "level")]
pub enum Level {
    /// MUST: a failure breaks provisioning.
    Must,
    /// SHOULD: a failure degrades provisioning or is a common IdP expectation.
    Should,
    /// MAY: optional behaviour.
    May,
}

impl Level {
    /// All levels, most severe first.
    pub const ALL: [Level; 3] = [Level::Must, Level::Should, Level::May];

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Must => "must",
            Level::Should => "should",
            Level::May => "may",
        }
    }

    /// Parses `must`, `should` or `may`, in any case (`MUST` as RFC 2119 writes it).
    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a step's verdict rests on, shown beside its level so "RFC-conformant, but Entra will break" can be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "kind")]
pub enum Kind {
    /// RFC 7643/7644 behaviour; the step or scenario cites the section.
    Rfc,
    /// What an IdP sends or expects beyond (or against) the RFC — Entra's bare-id manager, string booleans, Okta's
    /// path-less PATCH; it cites the IdP behaviour it reproduces.
    Interop,
    /// The reference portal's product semantics (CALs, restore on re-POST, protected accounts).
    Portal,
}

impl Kind {
    /// All kinds, in report order.
    pub const ALL: [Kind; 3] = [Kind::Rfc, Kind::Interop, Kind::Portal];

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Rfc => "rfc",
            Kind::Interop => "interop",
            Kind::Portal => "portal",
        }
    }

    /// Parses `rfc`, `interop` or `portal`, in any case.
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A server capability a scenario needs; checked against the target's ServiceProviderConfig.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Feature {
    /// A `/Groups` endpoint (checked through `/ResourceTypes`).
    Groups,
    /// `patch.supported`.
    Patch,
    /// `etag.supported`.
    Etag,
    /// `sort.supported`.
    Sort,
    /// `bulk.supported`.
    Bulk,
    /// `filter.supported`.
    Filter,
    /// `changePassword.supported`.
    ChangePassword,
    /// The enterprise User extension (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`) among the
    /// User resource type's `schemaExtensions` (RFC 7643 §6) or in `/Schemas`.
    EnterpriseUser,
    /// The reference portal's extension (`urn:scimcheck:params:scim:schemas:extension:portal:2.0:User`): product
    /// semantics (CALs, restore on re-POST, protected accounts) that no RFC requires. Runs only when declared.
    Portal,
    /// Okta's role and entitlement resource types: `/ResourceTypes` lists a type whose `schema` is
    /// [`OKTA_ROLE`] and one whose `schema` is [`OKTA_ENTITLEMENT`] (Okta Identity Governance, "Build a SCIM 2.0
    /// server with entitlements"). Optional: a server without them skips these scenarios, unless the
    /// `okta-entitlements` suite is selected ([`crate::suites`]).
    OktaEntitlements,
}

/// The core User schema URN (RFC 7643 §4.1).
pub const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

/// The enterprise User extension schema URN (RFC 7643 §4.3).
pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// Okta's schema URN of a role resource type (Okta Identity Governance).
pub const OKTA_ROLE: &str = "urn:okta:scim:schemas:core:1.0:Role";

/// Okta's schema URN of an entitlement resource type (Okta Identity Governance).
pub const OKTA_ENTITLEMENT: &str = "urn:okta:scim:schemas:core:1.0:Entitlement";

/// The reference portal's User extension schema URN.
pub const PORTAL_USER: &str = "urn:scimcheck:params:scim:schemas:extension:portal:2.0:User";

impl Feature {
    /// The name as written in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            Feature::Groups => "groups",
            Feature::Patch => "patch",
            Feature::Etag => "etag",
            Feature::Sort => "sort",
            Feature::Bulk => "bulk",
            Feature::Filter => "filter",
            Feature::ChangePassword => "changePassword",
            Feature::EnterpriseUser => "enterpriseUser",
            Feature::Portal => "portal",
            Feature::OktaEntitlements => "oktaEntitlements",
        }
    }

    /// Features a scenario's steps show by themselves (see [`Scenario::inferred_requirements`]); the others
    /// (`bulk`, `changePassword`, `portal`, `oktaEntitlements`) can only be declared in `requires`.
    pub const INFERRED: [Feature; 6] =
        [Feature::Filter, Feature::Groups, Feature::Patch, Feature::Etag, Feature::Sort, Feature::EnterpriseUser];
}

/// Query parameters in the order the file lists them (order matters to a faithful replay). Written and read as
/// one JSON object of names to string values, in that order, so a scenario serialises to the file it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query(pub Vec<(String, String)>);

impl Serialize for Query {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl JsonSchema for Query {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "query".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "object", "additionalProperties": {"type": "string"}})
    }
}

impl<'de> Deserialize<'de> for Query {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Query;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of query parameter names to string values")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Query, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = m.next_entry::<String, String>()? {
                    out.push((k, v));
                }
                Ok(Query(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// Expected status: one code or a set of acceptable codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
#[schemars(inline)]
pub enum StatusSet {
    /// Exactly this code.
    One(#[schemars(range(min = validate::MIN_STATUS, max = validate::MAX_STATUS))] u16),
    /// Any of these codes.
    Any(#[schemars(length(min = 1), inner(range(min = validate::MIN_STATUS, max = validate::MAX_STATUS)))] Vec<u16>),
}

impl StatusSet {
    /// Whether `status` is acceptable.
    pub fn accepts(&self, status: u16) -> bool {
        match self {
            StatusSet::One(s) => *s == status,
            StatusSet::Any(v) => v.contains(&status),
        }
    }
}

impl fmt::Display for StatusSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatusSet::One(s) => write!(f, "{s}"),
            StatusSet::Any(v) => {
                let s: Vec<String> = v.iter().map(u16::to_string).collect();
                write!(f, "one of {}", s.join(", "))
            }
        }
    }
}

/// Why a check exists — what a failure of it means. Written `{"required": "…"}`, `{"shown": "…"}` or
/// `{"rfc": "…"}` on a step (for all its checks) or on one assertion (overriding the step's).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(rename = "basis")]
pub enum Basis {
    /// The source requires it: the text quotes or cites the sentence of the IdP document, or names the suite
    /// assertion (`Okta SPEC step 4: detail is not empty`). A failure is a failure at the step's level.
    Required(#[schemars(length(min = 1))] String),
    /// It only appears in an example of the source (an example response, a captured flow) and is not stated as a
    /// requirement. A failure is reported as an observation and never fails the run.
    Shown(#[schemars(length(min = 1))] String),
    /// Our addition, from the RFC: the text names the section (`RFC 7644 §3.12`). A failure is a failure at the
    /// step's level.
    Rfc(#[schemars(regex(pattern = "RFC [0-9]+"))] String),
}

impl Basis {
    /// `required`, `shown` or `rfc`.
    pub fn kind(&self) -> &'static str {
        match self {
            Basis::Required(_) => "required",
            Basis::Shown(_) => "shown",
            Basis::Rfc(_) => "rfc",
        }
    }

    /// The quote or citation.
    pub fn citation(&self) -> &str {
        match self {
            Basis::Required(s) | Basis::Shown(s) | Basis::Rfc(s) => s,
        }
    }

    /// Whether a failure of a check with this basis is only an observation.
    pub fn observes_only(&self) -> bool {
        matches!(self, Basis::Shown(_))
    }

    /// The loader's check: a non-empty citation; an `rfc` basis names an RFC.
    fn validate(&self) -> Result<(), String> {
        if self.citation().trim().is_empty() {
            return Err(format!("the `{}` basis needs a quote or citation", self.kind()));
        }
        if matches!(self, Basis::Rfc(c) if !c.contains("RFC ")) {
            return Err(format!(
                "an `rfc` basis names the RFC and section (`RFC 7644 §3.12`), not {:?}",
                self.citation()
            ));
        }
        Ok(())
    }
}

impl fmt::Display for Basis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind(), self.citation())
    }
}

/// What a step's response must satisfy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(rename = "expect")]
pub struct Expect {
    /// Acceptable status code(s). Default: any 2xx.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusSet>,
    /// Response header name → regular expression its value must match (a `null` pattern: header absent).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(with = "schema::HeaderPatterns")]
    pub headers: BTreeMap<String, Option<String>>,
    /// Assertions on the JSON body.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub body: Vec<Assertion>,
    /// Upper bound on the response time in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = validate::MIN_TIME_MS))]
    pub max_time_ms: Option<u64>,
    /// Within the accepted `status` set, the status the source names; another accepted status is reported as an
    /// observation (e.g. a 403 where Entra's Test Connection expects a 401).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = validate::MIN_STATUS, max = validate::MAX_STATUS))]
    pub preferred_status: Option<u16>,
    /// The source checks the status only (Okta's SPEC step 8): the runner's own checks that the body is JSON with
    /// the profile's Content-Type are reported as observations for this step, never as failures.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub status_only: bool,
}

/// Where a capture takes its value from: a JSON pointer into the response body, or `{"pointer": …}` /
/// `{"header": …}` / `{"optionalPointer": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
#[schemars(inline)]
pub enum Capture {
    /// Shorthand: a JSON pointer into the response body.
    Pointer(#[schemars(with = "schema::JsonPointer")] String),
    /// Explicit form.
    From(CaptureFrom),
}

/// Explicit capture source: a body pointer or a response header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(inline)]
pub enum CaptureFrom {
    /// A JSON pointer into the response body.
    Pointer(#[schemars(with = "schema::JsonPointer")] String),
    /// A response header (case-insensitive name).
    Header(#[schemars(length(min = 1))] String),
    /// A JSON pointer to a value the server MAY leave out (an optional attribute such as `User.groups`). When
    /// it is absent the capture is not a failure: a body member whose value is exactly `{{name}}` is left
    /// out of later requests, and assertions that use it are skipped.
    OptionalPointer(#[schemars(with = "schema::JsonPointer")] String),
}

impl Capture {
    /// The normalised source.
    pub fn source(&self) -> CaptureFrom {
        match self {
            Capture::Pointer(p) => CaptureFrom::Pointer(p.clone()),
            Capture::From(f) => f.clone(),
        }
    }
}

/// The request a step sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(rename = "request")]
pub struct Request {
    /// HTTP method.
    pub method: Method,
    /// Path relative to the base URI, starting with `/` or with a captured endpoint (`{{roleEndpoint}}`); no
    /// query string: use `query`.
    #[schemars(regex(pattern = r"^(/|\{\{)[^?]*$"))]
    pub path: String,
    /// Query parameters in order, encoded by the IdP profile (`%20` or `+` for spaces).
    #[serde(default, skip_serializing_if = "is_empty_query")]
    pub query: Query,
    /// Overrides how the profile writes spaces in query values: `percent20` (`%20`) or `plus` (`+`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spaces: Option<SpaceEncoding>,
    /// Headers that override the profile's; `null` removes a profile header.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(with = "schema::HeaderOverrides")]
    pub headers: BTreeMap<String, Option<String>>,
    /// JSON body; strings may contain `{{placeholders}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// A body sent as raw text instead of `body` — for deliberately malformed JSON; may contain
    /// `{{placeholders}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_text: Option<String>,
    /// Credential to send.
    #[serde(default, skip_serializing_if = "AuthMode::is_default")]
    pub auth: AuthMode,
}

fn is_empty_query(q: &Query) -> bool {
    q.0.is_empty()
}

/// One request/expectation/capture step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(rename = "step", transform = schema::require_basis)]
pub struct Step {
    /// Step name (for Okta's suites: the exact name of the suite step).
    #[schemars(length(min = 1), regex(pattern = validate::NOT_BLANK))]
    pub name: String,
    /// Level of this step when it differs from the scenario's (e.g. an "Optional Test").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    /// Kind of this step when it differs from the scenario's (an RFC check inside an IdP flow, or an IdP quirk
    /// inside an RFC scenario).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    /// Why the step exists or what it cites (documentation only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Why its checks exist: `required` (the source requires them), `shown` (only in an example) or `rfc` (our
    /// addition from the RFC). Every step has one; an assertion may override it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<Basis>,
    /// The request.
    pub request: Request,
    /// The expectation.
    #[serde(default)]
    pub expect: Expect,
    /// Captures: variable name → JSON pointer into the response body, or `{"pointer": …}` / `{"header": …}` /
    /// `{"optionalPointer": …}`; usable as `{{name}}` in later steps.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("propertyNames" = {"pattern": schema::NAME_PATTERN}))]
    pub capture: BTreeMap<String, Capture>,
    /// Run the step this many times (2 to 1000), with `{{index}}` = 1, 2, … — e.g. to create enough users to
    /// page through. Each run is its own result and transcript entry, named `name [i/n]`; a repeated step cannot
    /// capture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 2, max = MAX_REPEAT))]
    pub repeat: Option<u32>,
    /// Follow a paged list the way Okta's import does (docs/okta.md §2): the step's `startIndex` advances by its
    /// `count` while the response's `totalResults` says more remain (RFC 7644 §3.4.2.4). Each page is its own
    /// result, named `name [page k]`; the runner also checks the pages agree with each other. Needs literal
    /// `startIndex` and `count` query parameters; cannot capture.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pages: bool,
    /// A fixture: the step creates or arranges what the scenario's rule needs (users, groups, a precondition) and
    /// is not the rule under test. When it fails, the scenario is `setupFailed` with that step's failure as its
    /// cause, its later steps are `notRun`, and nothing is counted as a failure of the rule
    /// ([`crate::setup`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[schemars(description = "A fixture: the step creates or arranges what the scenario's rule needs (users, \
        groups, a precondition) and is not the rule under test. When it fails the scenario is setupFailed (its \
        cause: this step's failure), its later steps are notRun and the rule is not counted as failed.")]
    pub setup: bool,
    /// Seconds the source suite waits before this step (a `pause` step of Okta's Runscope exports: 5 or 10 s in
    /// the SPEC suite, 20 or 40 s in the CRUD suite). Documentation unless the run asks for it
    /// (`--okta-pauses`), for servers that are only eventually consistent. 0 to [`MAX_PAUSE_SECS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        range(min = 0.0, max = MAX_PAUSE_SECS),
        description = "Seconds the source suite waits before this step (Okta's Runscope pause steps); waited only \
            with --okta-pauses in Okta scenarios."
    )]
    pub pause: Option<f64>,
    /// Send this step's request at the same time as the next step's (a chain of `withNext` steps and the step
    /// after it go out together), the way IdP engines write in parallel: Okta's membership chunks, Entra's
    /// concurrent updates. Each is judged on its own; rules in [`crate::together`].
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[schemars(description = "Send this step's request at the same time as the next step's (a chain of withNext \
        steps and the step after it go out together); no step of the group may capture, repeat or follow pages.")]
    pub with_next: bool,
}

impl Step {
    /// Whether the step uses the enterprise User extension (RFC 7643 §4.3): its URN in the path, a query value,
    /// a raw body, an attribute key or PATCH path of the body, or an assertion. The URN inside a `schemas` array
    /// alone does not count: Entra lists it on every user it creates, whatever its attribute mappings
    /// (docs/entra.md §1), and a server without the extension must still accept such a create to work with Entra.
    pub fn uses_enterprise_extension(&self) -> bool {
        fn without_schemas(v: &Value) -> Value {
            match v {
                Value::Object(m) => Value::Object(
                    m.iter()
                        .filter(|(k, _)| k.as_str() != "schemas")
                        .map(|(k, v)| (k.clone(), without_schemas(v)))
                        .collect(),
                ),
                Value::Array(a) => Value::Array(a.iter().map(without_schemas).collect()),
                other => other.clone(),
            }
        }
        let mentions = |t: &str| t.contains(ENTERPRISE_USER);
        let r = &self.request;
        mentions(&r.path)
            || r.query.0.iter().any(|(_, v)| mentions(v))
            || r.body.as_ref().is_some_and(|b| mentions(&without_schemas(b).to_string()))
            || r.body_text.as_deref().is_some_and(mentions)
            || serde_json::to_string(&self.expect).is_ok_and(|e| mentions(&e))
    }

    /// Every variable or capture name the step uses: in its request and in its expectations.
    pub fn names_used(&self) -> Vec<String> {
        let r = &self.request;
        let mut strings: Vec<&str> = vec![&r.path];
        strings.extend(r.query.0.iter().map(|(_, v)| v.as_str()));
        strings.extend(r.headers.values().flatten().map(String::as_str));
        if let Some(b) = &r.body {
            value_strings(b, &mut strings);
        }
        if let Some(t) = &r.body_text {
            strings.push(t);
        }
        for a in &self.expect.body {
            a.template_strings(&mut strings);
        }
        strings.extend(self.expect.headers.values().flatten().map(String::as_str));
        let mut names: Vec<String> =
            strings.into_iter().flat_map(|s| placeholders(s).unwrap_or_default()).map(|p| p.name).collect();
        names.sort();
        names.dedup();
        names
    }
}

/// The most pages a `pages` step follows.
pub const MAX_PAGES: u32 = 1000;

/// The longest `pause` a step may ask for, in seconds.
pub const MAX_PAUSE_SECS: f64 = 120.0;

/// The variable a repeated step's runs are numbered by (1-based).
pub const REPEAT_INDEX: &str = "index";

/// The most runs a repeated step may have.
pub const MAX_REPEAT: u32 = 1000;

/// A loaded, validated scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scenario {
    /// `idp::group::name`.
    pub id: String,
    /// The file it was loaded from.
    pub file: PathBuf,
    /// The file path relative to the scenario root, with `/` separators.
    pub rel_path: String,
    /// The IdP (first path segment).
    pub idp: Idp,
    /// Title.
    pub title: String,
    /// Longer description.
    pub description: Option<String>,
    /// What it reproduces (IdP document, suite step or captured flow).
    pub source: String,
    /// Requirement level.
    pub level: Level,
    /// Kind: as declared, else `portal` for a scenario that requires the portal extension, `rfc` for the `rfc`
    /// library and `interop` for the IdP libraries.
    pub kind: Kind,
    /// Tags.
    pub tags: Vec<String>,
    /// Required features: those the steps show ([`Scenario::inferred_requirements`]) and those declared in
    /// `requires` (only features that cannot be inferred: `bulk`, `changePassword`, `portal`).
    pub requires: Vec<Feature>,
    /// Headers applied to every step, over the profile's.
    pub headers: BTreeMap<String, Option<String>>,
    /// Variable templates.
    pub variables: BTreeMap<String, String>,
    /// Ordered steps.
    pub steps: Vec<Step>,
}

impl Scenario {
    /// The level a step is judged at.
    pub fn step_level(&self, step: &Step) -> Level {
        step.level.unwrap_or(self.level)
    }

    /// The kind of a step's verdict.
    pub fn step_kind(&self, step: &Step) -> Kind {
        step.kind.unwrap_or(self.kind)
    }

    /// Every kind among the scenario's steps.
    pub fn kinds(&self) -> Vec<Kind> {
        let mut k: Vec<Kind> = std::iter::once(self.kind).chain(self.steps.iter().filter_map(|s| s.kind)).collect();
        k.sort();
        k.dedup();
        k
    }

    /// The features the steps themselves need: a `filter` parameter (or a `.search` body with one) → `filter`;
    /// a path under `/Groups` → `groups`; a PATCH → `patch`; an `If-Match` / `If-None-Match` header → `etag`;
    /// `sortBy` → `sort`; a step that uses the enterprise extension ([`Step::uses_enterprise_extension`]) →
    /// `enterpriseUser`.
    pub fn inferred_requirements(&self) -> Vec<Feature> {
        let mut out = BTreeSet::new();
        for step in &self.steps {
            let r = &step.request;
            let query = |name: &str| r.query.0.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
            if query("filter")
                || r.body.as_ref().is_some_and(|b| b.get("filter").is_some() && r.path.ends_with(".search"))
            {
                out.insert(Feature::Filter);
            }
            if r.path == "/Groups" || r.path.starts_with("/Groups/") {
                out.insert(Feature::Groups);
            }
            if r.method == Method::PATCH {
                out.insert(Feature::Patch);
            }
            if r.headers.keys().any(|h| h.eq_ignore_ascii_case("if-match") || h.eq_ignore_ascii_case("if-none-match")) {
                out.insert(Feature::Etag);
            }
            if query("sortBy") {
                out.insert(Feature::Sort);
            }
            if step.uses_enterprise_extension() {
                out.insert(Feature::EnterpriseUser);
            }
        }
        out.into_iter().collect()
    }

    /// Whether the scenario reads state it did not create: a list of a whole resource type (`GET /Users` or
    /// `GET /Groups` without a `filter`, or such a `.search`), whose `totalResults`, order and pages other
    /// scenarios' resources would change. The runner runs such scenarios alone, so verdicts do not depend on
    /// `--jobs`; every other scenario only looks at what it created.
    pub fn reads_global_state(&self) -> bool {
        self.steps.iter().any(|step| {
            let r = &step.request;
            let path = r.path.trim_end_matches('/');
            let collection = matches!(path, "/Users" | "/Groups" | "");
            let filtered = r.query.0.iter().any(|(k, _)| k.eq_ignore_ascii_case("filter"));
            match r.method {
                Method::GET => collection && !filtered,
                Method::POST if path.ends_with("/.search") => r.body.as_ref().and_then(|b| b.get("filter")).is_none(),
                _ => false,
            }
        })
    }

    /// The snapshot name: the id with `::` replaced by `__`.
    pub fn snapshot_name(&self) -> String {
        self.id.replace("::", "__")
    }
}

/// A loader error: which file, which step, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The offending file.
    pub file: PathBuf,
    /// The step (`step 3 "name"`), when the problem is inside one.
    pub step: Option<String>,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(step) = &self.step {
            write!(f, ": {step}")?;
        }
        write!(f, ": {}", self.reason)
    }
}

impl std::error::Error for LoadError {}

/// Loads every scenario below `root`, in any folder layout ([`layout`]: the file's `idp` and `group` fields, else
/// its `<idp>/<group>/` folders), sorted by id; returns all errors found, a second file with the same id among them.
pub fn load_dir(root: &Path) -> Result<Vec<Scenario>, Vec<LoadError>> {
    let mut files = Vec::new();
    if let Err(e) = collect_json(root, &mut files) {
        return Err(vec![LoadError {
            file: root.to_path_buf(),
            step: None,
            reason: format!("cannot read scenario directory: {e}"),
        }]);
    }
    files.sort();
    let mut scenarios: Vec<Scenario> = Vec::new();
    let mut errors = Vec::new();
    let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
    for file in files {
        match load_file(root, &file) {
            Ok(Some(s)) => match seen.get(&s.id) {
                Some(first) => errors.push(LoadError {
                    file: file.clone(),
                    step: None,
                    reason: format!(
                        "same id `{}` as {}: give one of them another \"group\" or file name",
                        s.id,
                        first.display()
                    ),
                }),
                None => {
                    seen.insert(s.id.clone(), file.clone());
                    scenarios.push(s);
                }
            },
            Ok(None) => {}
            Err(e) => errors.extend(e),
        }
    }
    sorted_or_errors(scenarios, errors)
}

/// The end of every load: the scenarios sorted by id when no file had an error, otherwise every error found.
pub(crate) fn sorted_or_errors(
    mut scenarios: Vec<Scenario>,
    errors: Vec<LoadError>,
) -> Result<Vec<Scenario>, Vec<LoadError>> {
    if errors.is_empty() {
        scenarios.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(scenarios)
    } else {
        Err(errors)
    }
}

/// Collects every `*.json` file below `dir`.
fn collect_json(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_json(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

/// Loads one file of the scenario folder `root` (which its path is relative to); `None` when it is not a scenario
/// (a JSON Schema or metadata, see [`layout`]).
pub fn load_file(root: &Path, file: &Path) -> Result<Option<Scenario>, Vec<LoadError>> {
    let rel = file.strip_prefix(root).unwrap_or(file);
    let rel_path = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/");
    let text = std::fs::read_to_string(file)
        .map_err(|e| vec![LoadError { file: file.to_path_buf(), step: None, reason: format!("cannot read: {e}") }])?;
    if !layout::is_scenario(&rel_path, &text) {
        return Ok(None);
    }
    parse(&rel_path, file, &text).map(Some)
}

/// Parses scenario text; the file's `idp` and `group` fields, else `rel_path` (`okta/spec/x.json`, relative to
/// the scenario folder) give the id and IdP ([`layout`]); `file` is used in errors.
pub fn parse(rel_path: &str, file: &Path, text: &str) -> Result<Scenario, Vec<LoadError>> {
    let err = |step: Option<String>, reason: String| LoadError { file: file.to_path_buf(), step, reason };
    let rel_path = rel_path.to_string();
    let raw: Value = serde_json::from_str(text).map_err(|e| vec![err(None, format!("invalid JSON: {e}"))])?;
    // every malformed assertion is reported, with the file's other errors: those found without it
    let (mut errors, without_bad_assertions) = assertion::assertion_errors(&raw);
    let all =
        |errors: Vec<(Option<String>, String)>| errors.into_iter().map(|(step, reason)| err(step, reason)).collect();
    let parsed = match without_bad_assertions {
        // deserialise from the text, not from `raw`, so `query` keeps the file's parameter order
        None => serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(text)),
        // an error path: the scenario only shows the other errors, so `query`'s order does not matter
        Some(kept) => serde_path_to_error::deserialize(kept),
    };
    let parsed: ScenarioFile = match parsed {
        Ok(p) => p,
        Err(e) => {
            let path = e.path().to_string();
            let step = step_index_from_path(&path).map(|i| step_label(i, &raw));
            errors.push((step, format!("at `{path}`: {}", e.inner())));
            return Err(all(errors));
        }
    };
    let declared = layout::Declared { idp: parsed.idp.as_deref(), group: parsed.group.as_deref() };
    let layout::Placement { id, idp } = match layout::place(&rel_path, file, &declared) {
        Ok(p) => p,
        Err(e) => {
            errors.push((None, e.to_string()));
            return Err(all(errors));
        }
    };
    let scenario = Scenario {
        id,
        file: file.to_path_buf(),
        rel_path,
        idp,
        title: parsed.title,
        description: parsed.description,
        source: parsed.source,
        level: parsed.level,
        kind: parsed.kind.unwrap_or(if parsed.requires.contains(&Feature::Portal) {
            Kind::Portal
        } else if idp == Idp::Rfc {
            Kind::Rfc
        } else {
            Kind::Interop
        }),
        tags: parsed.tags,
        requires: parsed.requires,
        headers: parsed.headers,
        variables: parsed.variables,
        steps: parsed.steps,
    };
    let mut scenario = scenario;
    errors.extend(validate(&scenario));
    let inferred = scenario.inferred_requirements();
    for f in &scenario.requires {
        if Feature::INFERRED.contains(f) {
            errors.push((
                None,
                if inferred.contains(f) {
                    format!("`requires` lists `{}`, which the steps already show: remove it", f.as_str())
                } else {
                    format!(
                        "`requires` lists `{}`, but no step needs it (it is inferred from the steps: {})",
                        f.as_str(),
                        "filter parameter, /Groups path, PATCH, If-Match, sortBy, enterprise extension URN"
                    )
                },
            ));
        }
    }
    let mut requires: Vec<Feature> = scenario.requires.iter().copied().chain(inferred).collect();
    requires.sort();
    requires.dedup();
    scenario.requires = requires;
    if errors.is_empty() {
        Ok(scenario)
    } else {
        Err(all(errors))
    }
}

fn step_index_from_path(path: &str) -> Option<usize> {
    let rest = path.strip_prefix("steps[")?;
    rest[..rest.find(']')?].parse().ok()
}

fn step_label(i: usize, raw: &Value) -> String {
    match raw.pointer(&format!("/steps/{i}/name")).and_then(Value::as_str) {
        Some(name) => format!("step {} \"{name}\"", i + 1),
        None => format!("step {}", i + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::vars::variable_order;
    use super::*;

    #[test]
    fn placeholders_parse_filters_and_reject_garbage() {
        let p = placeholders("a {{x}} b {{ y | upper }}").unwrap();
        assert_eq!(p[0].name, "x");
        assert_eq!(p[1].filter, Some(CaseFilter::Upper));
        let e = placeholders("{{x|shout}}").unwrap_err();
        assert_eq!(e, PlaceholderError::UnknownFilter("shout".into(), "{{x|shout}}".into()));
        assert_eq!(e.to_string(), "unknown filter `shout` in \"{{x|shout}}\" (known: upper, lower)");
        assert_eq!(placeholders("a {{ x").unwrap_err().to_string(), "malformed placeholder in \"a {{ x\"");
        assert!(placeholders("{{ x").is_err());
        assert!(placeholders("{{a b}}").is_err());
    }

    #[test]
    fn generated_variables_are_tracked_through_references() {
        let mut s = Scenario {
            id: "okta::t::x".into(),
            file: PathBuf::new(),
            rel_path: String::new(),
            idp: Idp::Okta,
            title: String::new(),
            description: None,
            source: String::new(),
            level: Level::Must,
            kind: Kind::Interop,
            tags: vec![],
            requires: vec![],
            headers: BTreeMap::new(),
            variables: BTreeMap::new(),
            steps: vec![],
        };
        s.variables.insert("given".into(), "{{$okta.givenName}}".into());
        s.variables.insert("email".into(), "{{given}}@atko.com".into());
        s.variables.insert("caps".into(), "{{email|upper}}".into());
        s.variables.insert("constant".into(), "abc@atko.com".into());
        let v = Vars::for_scenario(&s);
        let given = v.get("given").unwrap().as_str().unwrap().to_string();
        assert!(given.starts_with("Runscope") && given.len() == 11, "{given}");
        assert_eq!(v.get("email").unwrap(), &Value::String(format!("{given}@atko.com")));
        assert_eq!(v.get("caps").unwrap(), &Value::String(format!("{given}@atko.com").to_uppercase()));
        let generated: Vec<&str> = v.generated().map(|(n, _)| n).collect();
        assert_eq!(generated, vec!["caps", "email", "given"]);
        // later executions generate fresh values: "Runscope" + 3 digits repeats once in 1,000 draws, so ten
        // executions that all repeat this one would mean the value is not regenerated (odds 1e-30 otherwise)
        let repeats = (0..10).filter(|_| Vars::for_scenario(&s).get("email") == v.get("email")).count();
        assert!(repeats < 10, "every execution reused {:?}", v.get("email"));
    }

    #[test]
    fn render_value_keeps_json_types_of_whole_placeholders() {
        let mut v = Vars::default();
        v.set("n", serde_json::json!(3));
        v.set("s", serde_json::json!("x"));
        let out = v.render_value(&serde_json::json!({"a": "{{n}}", "b": "id-{{n}}", "c": "{{s|upper}}"}));
        assert_eq!(out, serde_json::json!({"a": 3, "b": "id-3", "c": "X"}));
    }

    #[test]
    fn cycles_are_reported() {
        let mut vars = BTreeMap::new();
        vars.insert("a".to_string(), "{{b}}".to_string());
        vars.insert("b".to_string(), "{{a}}".to_string());
        assert!(variable_order(&vars).unwrap_err().contains("a → b → a"));
    }
}
