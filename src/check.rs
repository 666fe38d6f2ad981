//! Judging one observed response against a step's expectation. Pure: no HTTP client types.

use regex::Regex;
use serde::Serialize;
use serde_json::Value;

use crate::exchange::{truncate, Body, Observed};
use crate::idp::Idp;
use crate::profile::Profile;
use crate::scenario::{Assertion, Basis, Check, Expect, Level, Vars};

/// What a check looked at: the typed identity of a [`Failure`], which decisions about it read (never its
/// [`Failure::check`] label, which is only shown).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CheckId {
    /// The status code (label `status`; RFC 7644 §3.12 for errors).
    Status,
    /// A status other than the step's preferred one (label `preferred status`).
    PreferredStatus,
    /// The body's form (label `body`): within the body limit and the JSON bound, and JSON (RFC 7644 §3.1, §8.1).
    Body,
    /// The runner's own media-type check of every body (label `header content-type`): RFC 7644 §8.1, or the
    /// IdP's Content-Type.
    ContentType,
    /// A header the step expects (label `header <name>`), by its name as the step writes it.
    Header(String),
    /// The response time (label `response time`).
    ResponseTime,
    /// A member of the JSON body at this JSON pointer (RFC 6901): a body assertion (label `<pointer> <check>`)
    /// or a check of a ListResponse page (labels `pages: …`, RFC 7644 §3.4.2).
    Pointer(String),
    /// The body a step's assertions need is not there (label `body assertions`).
    BodyAssertions,
    /// A capture the step names that found no value (label `capture <name>`), by the capture's name.
    Capture(String),
    /// Entra's default attribute mapping behind a refused user write (label
    /// [`crate::declared::MAPPING_CHECK`]): what to change in the mapping.
    EntraMapping,
    /// An IdP's filter the server declined (label `filter declined`, [`crate::decline`]).
    FilterDeclined,
    /// Another check, named by its label only (declared capabilities, IdP requirements).
    #[default]
    Other,
}

impl CheckId {
    /// Whether the check is of the response's `Content-Type` (the runner's own, or a header the step expects;
    /// header names are case-insensitive, RFC 9110 §5.1).
    pub fn is_content_type(&self) -> bool {
        match self {
            CheckId::ContentType => true,
            CheckId::Header(name) => name.eq_ignore_ascii_case("content-type"),
            _ => false,
        }
    }

    /// Whether the check is of a response header: one the step expects, or the runner's `Content-Type` check.
    pub fn is_header(&self) -> bool {
        matches!(self, CheckId::ContentType | CheckId::Header(_))
    }

    /// Whether the check is of the body member at `pointer` (compared ignoring case, as SCIM attribute names
    /// are, RFC 7643 §2.1).
    pub fn is_at(&self, pointer: &str) -> bool {
        matches!(self, CheckId::Pointer(p) if p.eq_ignore_ascii_case(pointer))
    }
}

/// One expectation that did not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// What was checked, typed: what decisions about the failure read.
    #[serde(skip)]
    pub id: CheckId,
    /// What was checked, for people (`status`, `header content-type`, `/totalResults equals`, …).
    pub check: String,
    /// What the scenario expected.
    pub expected: String,
    /// What the server did.
    pub actual: String,
    /// Why the check exists (the step's basis, or the assertion's own); `None` for the runner's own checks such as
    /// captures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basis: Option<Basis>,
    /// The level an observation is reported at when it is not the step's (Entra's Content-Type: SHOULD).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
}

impl Failure {
    /// A failure of a check with no basis of its own (the runner's checks, captures), of [`CheckId::Other`]
    /// ([`Failure::with_id`] types it).
    pub fn new(check: impl Into<String>, expected: impl Into<String>, actual: impl Into<String>) -> Failure {
        let (check, expected, actual) = (check.into(), expected.into(), actual.into());
        Failure { id: CheckId::Other, check, expected, actual, basis: None, level: None }
    }

    /// The failure with its check typed as `id`.
    pub fn with_id(self, id: CheckId) -> Failure {
        Failure { id, ..self }
    }
}

/// The outcome of judging one response: failures fail the step; observations are reported and never fail it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Judgement {
    /// Expectations whose basis is `required` or `rfc` that did not hold.
    pub failures: Vec<Failure>,
    /// Expectations that did not hold but cannot fail a run: a `shown` basis, a status other than the preferred
    /// one, the body checks of a status-only step, Entra's SHOULD-level Content-Type.
    pub observations: Vec<Failure>,
    /// The indices in `expect.body` of the conditional assertions (`when`) whose condition held on the response,
    /// evaluated with the run's variables and captures: the assertion was judged, not passed over.
    pub conditions_held: Vec<usize>,
}

impl Judgement {
    /// Files `f` as an observation when `observe` is set or its basis only observes (`shown`), else as a failure.
    pub fn push(&mut self, f: Failure, observe: bool) {
        if observe || f.basis.as_ref().is_some_and(Basis::observes_only) {
            self.observations.push(f);
        } else {
            self.failures.push(f);
        }
    }
}

/// Why a 201 without a body is an observation for RFC scenarios.
const CREATED_BODY_RULE: &str = "RFC 7644 §3.3: the response body SHOULD contain the created resource";

/// Where the runner's own checks on every body come from.
const BODY_RULE: &str = "RFC 7644 §3.1 and §8.1: SCIM bodies are JSON sent as application/scim+json";

/// Judges `obs` against `expect`, whose step has `basis`; an empty `failures` means the step passed. String
/// `equals` assertions compare exactly; [`evaluate_in`] folds case where the attribute allows it.
pub fn evaluate(expect: &Expect, obs: &Observed, vars: &Vars, profile: &Profile, basis: &Basis) -> Judgement {
    evaluate_in(expect, obs, vars, profile, basis, &|_| false)
}

/// [`evaluate`], where `ignores_case(pointer)` says whether the string value at an assertion's pointer is
/// `caseExact: false` (RFC 7643 §2.2; see [`crate::case::CaseRules`]): its `equals` then compares ignoring case.
pub fn evaluate_in(
    expect: &Expect,
    obs: &Observed,
    vars: &Vars,
    profile: &Profile,
    basis: &Basis,
    ignores_case: &dyn Fn(&str) -> bool,
) -> Judgement {
    let mut j = Judgement::default();
    let mut record = |basis: &Basis, observe: bool, id: CheckId, check: &str, expected: String, actual: String| {
        let f = Failure { id, check: check.to_string(), expected, actual, basis: Some(basis.clone()), level: None };
        j.push(f, observe);
    };

    let status_ok = match &expect.status {
        Some(set) => set.accepts(obs.status),
        None => (200..300).contains(&obs.status),
    };
    if !status_ok {
        let expected = match &expect.status {
            Some(set) => set.to_string(),
            None => "2xx".to_string(),
        };
        let mut actual = obs.status.to_string();
        if (300..400).contains(&obs.status) {
            let to = obs.header("location").unwrap_or("no Location");
            actual = format!("{actual} (redirect to {to}; redirects are not followed)");
        } else if let Some(detail) = obs.json().and_then(|b| b.get("detail")).and_then(Value::as_str) {
            actual = format!("{actual} (detail: {})", truncate(detail, 200));
        }
        record(basis, false, CheckId::Status, "status", expected, actual);
    } else if let Some(p) = expect.preferred_status.filter(|p| *p != obs.status) {
        record(basis, true, CheckId::PreferredStatus, "preferred status", p.to_string(), obs.status.to_string());
    }

    let body_rule = Basis::Rfc(BODY_RULE.into());
    match &obs.body {
        Body::TooLarge { limit } => record(
            &body_rule,
            false,
            CheckId::Body,
            "body",
            format!("a body of at most {limit} bytes"),
            "body exceeds limit; reading stopped".into(),
        ),
        // a body over scimcheck's parsing bound (json_bound): the text says so, it is not called "not JSON"
        Body::Text(text) if text.starts_with(crate::json_bound::REFUSED) => record(
            &body_rule,
            false,
            CheckId::Body,
            "body",
            format!("a JSON body of at most {} values (scimcheck's parsing bound)", crate::json_bound::MAX_JSON_VALUES),
            text.clone(),
        ),
        Body::Text(text) => record(
            &body_rule,
            expect.status_only,
            CheckId::Body,
            "body",
            "a JSON body".into(),
            format!("not JSON ({})", crate::exchange::summary::describe(obs.header("content-type"), text, obs.size)),
        ),
        Body::Empty | Body::Json(_) | Body::Truncated { .. } => {}
    }

    if !matches!(obs.body, Body::Empty) && !expect.headers.keys().any(|k| k.eq_ignore_ascii_case("content-type")) {
        let ct = obs.header("content-type");
        if !ct.is_some_and(|ct| profile.accepts_content_type(ct)) {
            let expected = format!("matching {} ({})", profile.response_content_type, profile.content_type_source);
            let actual = ct.unwrap_or("absent").to_string();
            let f = Failure {
                id: CheckId::ContentType,
                check: "header content-type".into(),
                expected,
                actual,
                basis: Some(body_rule.clone()),
                level: profile.content_type_level,
            };
            // the IdP states the media type at SHOULD: reported, never a failure
            j.push(f, expect.status_only || profile.content_type_level.is_some_and(|l| l != Level::Must));
        }
    }
    let mut record = |basis: &Basis, observe: bool, id: CheckId, check: &str, expected: String, actual: String| {
        let f = Failure { id, check: check.to_string(), expected, actual, basis: Some(basis.clone()), level: None };
        j.push(f, observe);
    };

    for (name, pattern) in &expect.headers {
        let actual = obs.header(name);
        match (pattern, actual) {
            (None, None) => {}
            (None, Some(v)) => record(
                basis,
                false,
                CheckId::Header(name.clone()),
                &format!("header {name}"),
                "absent".into(),
                v.to_string(),
            ),
            (Some(p), actual) => {
                let re = Regex::new(&vars.render(p));
                let ok = match (&re, actual) {
                    (Ok(re), Some(v)) => re.is_match(v),
                    _ => false,
                };
                if !ok {
                    record(
                        basis,
                        false,
                        CheckId::Header(name.clone()),
                        &format!("header {name}"),
                        format!("matching {p}"),
                        actual.unwrap_or("absent").to_string(),
                    );
                }
            }
        }
    }

    if let Some(max) = expect.max_time_ms {
        let ms = obs.elapsed.as_millis();
        if ms > u128::from(max) {
            record(basis, false, CheckId::ResponseTime, "response time", format!("under {max} ms"), format!("{ms} ms"));
        }
    }

    // RFC 7644 §3.5.2: a PATCH may answer 204 without a body; where the step accepts 204 (or a redirect such as
    // /Me's 308, RFC 7644 §3.11) its body assertions have nothing to check, and the scenario verifies the change
    // with a GET.
    let no_content = (obs.status == 204 || (300..400).contains(&obs.status))
        && expect.status.as_ref().is_some_and(|s| s.accepts(obs.status));
    let mut held = Vec::new();
    if !expect.body.is_empty() && !no_content {
        match obs.json() {
            Some(body) => {
                for (i, a) in expect.body.iter().enumerate() {
                    if a.when.as_deref().is_some_and(|c| assertion_holds(c, body, vars).is_ok()) {
                        held.push(i);
                    }
                    if let Err((expected, actual)) = holds(a, body, vars, ignores_case) {
                        let check = format!("{} {}", display_pointer(&a.pointer), a.check.name());
                        let id = CheckId::Pointer(a.pointer.clone());
                        record(a.basis.as_ref().unwrap_or(basis), false, id, &check, expected, actual);
                    }
                }
            }
            None if obs.status == 201 && matches!(obs.body, Body::Empty) && profile.idp == Idp::Rfc => {
                // RFC 7644 §3.3: the created resource in the body is a SHOULD (Okta and Entra need it, so only the
                // RFC profile observes it); the scenario takes the id from Location
                let f = Failure {
                    id: CheckId::BodyAssertions,
                    check: "body assertions".into(),
                    expected: format!("the created resource for {} assertion(s)", expect.body.len()),
                    actual: "no body".into(),
                    basis: Some(Basis::Rfc(CREATED_BODY_RULE.into())),
                    level: Some(Level::Should),
                };
                j.push(f, true);
            }
            None => {
                // only the assertions' own bases decide: all `shown` → an observation
                let b = expect.body.iter().map(|a| a.basis.as_ref().unwrap_or(basis)).find(|b| !b.observes_only());
                record(
                    b.unwrap_or(basis),
                    b.is_none(),
                    CheckId::BodyAssertions,
                    "body assertions",
                    format!("a JSON body for {} assertion(s)", expect.body.len()),
                    match &obs.body {
                        Body::Empty => "no body".into(),
                        _ => "no JSON body".into(),
                    },
                )
            }
        }
    }
    j.conditions_held = held;
    j
}

fn display_pointer(p: &str) -> &str {
    if p.is_empty() {
        "(body)"
    } else {
        p
    }
}

fn show(v: Option<&Value>) -> String {
    match v {
        None => "absent".into(),
        Some(v) => truncate(&v.to_string(), 300),
    }
}

fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// The value at JSON pointer `pointer` (RFC 6901) in `body`, reading object member names case-insensitively when no
/// member has the exact name: RFC 7643 §2.1 makes attribute names (and §3 schema URIs) case-insensitive, so a server
/// answering `UserName` or `totalresults` answers the same attribute. Array indices and exact names are used as
/// they are. An array token `[name=value]` selects the first element whose member `name` is the string `value`
/// (ignoring case: schema URIs and resource type names are case-insensitive), so a scenario can read "the resource
/// type whose schema is …" wherever the server lists it (`/Resources/[schema=urn:…:Role]/endpoint`). `None` when
/// nothing is there.
pub fn resolve<'a>(body: &'a Value, pointer: &str) -> Option<&'a Value> {
    if let Some(v) = body.pointer(pointer) {
        return Some(v);
    }
    if pointer.is_empty() {
        return Some(body);
    }
    let rest = pointer.strip_prefix('/')?;
    let mut at = body;
    for raw in rest.split('/') {
        let token = raw.replace("~1", "/").replace("~0", "~");
        at = match at {
            Value::Object(o) => match o.get(&token) {
                Some(v) => v,
                None => o.iter().find(|(k, _)| k.eq_ignore_ascii_case(&token)).map(|(_, v)| v)?,
            },
            Value::Array(a) => match select_element(a, &token) {
                Some(found) => found?,
                None => a.get(token.parse::<usize>().ok()?)?,
            },
            _ => return None,
        };
    }
    Some(at)
}

/// `Some(element)` for a `[name=value]` token (the element, if one matches); `None` for any other token.
fn select_element<'a>(a: &'a [Value], token: &str) -> Option<Option<&'a Value>> {
    let (name, value) = token.strip_prefix('[')?.strip_suffix(']')?.split_once('=')?;
    Some(a.iter().find(|e| {
        let member = e.as_object().and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)));
        member.and_then(|(_, v)| v.as_str()).is_some_and(|v| v.eq_ignore_ascii_case(value))
    }))
}

/// Whether one assertion holds on `body`; `Err((expected, actual))` when it does not.
pub fn assertion_holds(a: &Assertion, body: &Value, vars: &Vars) -> Result<(), (String, String)> {
    holds(a, body, vars, &|_| false)
}

/// [`assertion_holds`], where `ignores_case(pointer)` says whether the string at a pointer is `caseExact: false`
/// (RFC 7643 §2.2): there a string `equals`, and a `contains` object's member, hold when the strings differ only in
/// case.
fn holds(
    a: &Assertion,
    body: &Value,
    vars: &Vars,
    ignores_case: &dyn Fn(&str) -> bool,
) -> Result<(), (String, String)> {
    let fold_case = ignores_case(&a.pointer);
    if let Some(cond) = &a.when {
        if assertion_holds(cond, body, vars).is_err() {
            return Ok(());
        }
    }
    let v = resolve(body, &a.pointer);
    let actual = || show(v);
    let missing: Vec<String> = a.placeholders().into_iter().filter(|n| vars.get(n).is_none()).collect();
    // an assertion about an optional value the server left out has nothing to check
    if !missing.is_empty() && missing.iter().all(|m| vars.is_absent(m)) {
        return Ok(());
    }
    if !missing.is_empty() {
        let names: Vec<String> = missing.iter().map(|m| format!("{{{{{m}}}}}")).collect();
        return Err((format!("a value for {} (not captured by an earlier step)", names.join(", ")), actual()));
    }
    let check = |ok: bool, expected: String| if ok { Ok(()) } else { Err((expected, actual())) };
    // An object matches an element that has all its members (a member `{"value": id}` matches
    // `{"value": id, "display": …, "$ref": …}`: RFC 7643 §2.4 lets servers add sub-attributes such as `$ref`).
    // a member of an element of the array at the pointer, as a pointer (for its caseExact)
    let member_folds = |k: &str| ignores_case(&format!("{}/0/{}", a.pointer, k.replace('~', "~0").replace('/', "~1")));
    let includes = |item: &Value, want: &Value| -> bool {
        let same = |x: &Value, v: &Value, k: &str| {
            json_eq(x, v)
                || matches!((x, v), (Value::String(p), Value::String(q)) if p.to_lowercase() == q.to_lowercase() && member_folds(k))
        };
        match (item, want) {
            // member names are case-insensitive (RFC 7643 §2.1)
            (Value::Object(i), Value::Object(w)) => w.iter().all(|(k, v)| {
                i.get(k)
                    .or_else(|| i.iter().find(|(n, _)| n.eq_ignore_ascii_case(k)).map(|(_, x)| x))
                    .is_some_and(|x| same(x, v, k))
            }),
            _ => json_eq(item, want),
        }
    };
    match &a.check {
        Check::Equals(want) => {
            let want = vars.render_value(want);
            let folded = |v: &Value| match (v, &want) {
                (Value::String(x), Value::String(y)) => fold_case && x.to_lowercase() == y.to_lowercase(),
                _ => false,
            };
            let ok = v.is_some_and(|v| json_eq(v, &want) || folded(v));
            let expected =
                if fold_case && want.is_string() { format!("{want} (ignoring case)") } else { want.to_string() };
            check(ok, expected)
        }
        Check::EqualsIgnoreCase(want) => {
            let want = vars.render(want);
            let ok = v.and_then(Value::as_str).is_some_and(|s| s.to_lowercase() == want.to_lowercase());
            check(ok, format!("{want:?} ignoring case"))
        }
        Check::Exists => check(v.is_some(), "present".into()),
        Check::Absent => check(v.is_none(), "absent".into()),
        Check::NotEmpty => {
            let ok = match v {
                None | Some(Value::Null) => false,
                Some(Value::String(s)) => !s.is_empty(),
                Some(Value::Array(x)) => !x.is_empty(),
                Some(Value::Object(x)) => !x.is_empty(),
                Some(_) => true,
            };
            check(ok, "not empty".into())
        }
        Check::IsNumber => check(v.is_some_and(Value::is_number), "a number".into()),
        Check::IsString => check(v.is_some_and(Value::is_string), "a string".into()),
        Check::IsArray => check(v.is_some_and(Value::is_array), "an array".into()),
        Check::IsBoolean => check(v.is_some_and(Value::is_boolean), "a boolean".into()),
        Check::Contains(want) => {
            let want = vars.render_value(want);
            let ok = match (v, &want) {
                (Some(Value::Array(items)), w) => items.iter().any(|i| includes(i, w)),
                (Some(Value::String(s)), Value::String(w)) => s.contains(w.as_str()),
                _ => false,
            };
            check(ok, format!("containing {want}"))
        }
        Check::Length(n) => {
            let len = match v {
                Some(Value::Array(x)) => Some(x.len()),
                Some(Value::String(s)) => Some(s.chars().count()),
                Some(Value::Object(o)) => Some(o.len()),
                _ => None,
            };
            match len {
                Some(l) if l as u64 == *n => Ok(()),
                Some(l) => Err((format!("length {n}"), format!("length {l}: {}", actual()))),
                None => Err((format!("length {n}"), actual())),
            }
        }
        Check::AtLeast(min) => {
            let ok = v.and_then(Value::as_f64).is_some_and(|x| x >= *min);
            check(ok, format!("a number ≥ {min}"))
        }
        Check::Matches(re) => {
            let ok = v.and_then(Value::as_str).is_some_and(|s| re.is_match(s));
            check(ok, format!("a string matching {re}"))
        }
        Check::NotEquals(other) => {
            let other = vars.render_value(other);
            check(v.is_some_and(|v| !json_eq(v, &other)), format!("a value other than {other}"))
        }
        Check::NotBefore(floor) => {
            let floor = vars.render(floor);
            let ok = match (timestamp(&floor), v.and_then(Value::as_str).and_then(timestamp)) {
                (Some(f), Some(t)) => t >= f,
                _ => false,
            };
            check(ok, format!("an RFC 3339 timestamp at or after {floor}"))
        }
    }
}

/// An RFC 3339 timestamp (RFC 7643 §2.3.5 `dateTime`), as an instant; `None` when it is not one.
fn timestamp(s: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(s.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idp::Idp;
    use crate::scenario::StatusSet;
    use serde_json::json;
    use std::time::Duration;

    fn a(v: serde_json::Value) -> Assertion {
        serde_json::from_value(v).expect("assertion")
    }

    #[test]
    fn an_element_selector_finds_the_resource_type_of_a_schema_wherever_it_is_listed() {
        let body = json!({"Resources": [
            {"schema": "urn:ietf:params:scim:schemas:core:2.0:User", "endpoint": "/Users"},
            {"Schema": "URN:okta:scim:schemas:core:1.0:Role", "endpoint": "/AppRoles"}
        ]});
        let p = "/Resources/[schema=urn:okta:scim:schemas:core:1.0:Role]/endpoint";
        assert_eq!(resolve(&body, p), Some(&json!("/AppRoles")));
        assert_eq!(resolve(&body, "/Resources/[schema=urn:nope]/endpoint"), None);
        assert_eq!(resolve(&body, "/Resources/1/endpoint"), Some(&json!("/AppRoles")));
    }

    fn rfc() -> Basis {
        Basis::Rfc("RFC 7644 §3.12".into())
    }

    fn vars() -> Vars {
        let mut v = Vars::default();
        v.set("email", json!("Tina@Example.com"));
        v
    }

    #[test]
    fn an_assertion_on_a_value_never_captured_fails_and_says_so() {
        let body = json!({"id": "{{userId}}"});
        let err = assertion_holds(&a(json!({"pointer": "/id", "equals": "{{userId}}"})), &body, &vars()).unwrap_err();
        assert!(err.0.contains("{{userId}} (not captured by an earlier step)"), "{err:?}");
    }

    /// Every assertion kind holds on one body and fails on another: a check that cannot fail is a defect.
    #[test]
    fn every_assertion_kind_passes_and_fails() {
        let good = json!({"s": "Tina@Example.com", "n": 3, "arr": ["x", "urn:a"], "obj": {"k": 1}, "b": false,
                          "empty": "", "null": null, "total": 2,
                          "members": [{"value": "a", "display": "A", "$ref": "../Users/a"}],
                          "t": "2024-05-01T10:00:00Z"});
        // each check, and the value at its pointer that must make it fail (None: remove the value)
        let cases: Vec<(serde_json::Value, Option<serde_json::Value>)> = vec![
            (json!({"pointer": "/s", "equals": "{{email}}"}), Some(json!("tina@example.com"))),
            (json!({"pointer": "/n", "equals": 3.0}), Some(json!("3"))),
            (json!({"pointer": "/s", "equalsIgnoreCase": "tina@example.COM"}), Some(json!("tina@example.org"))),
            (json!({"pointer": "/null", "exists": true}), None),
            (json!({"pointer": "/missing", "absent": true}), Some(json!(null))),
            (json!({"pointer": "/arr", "notEmpty": true}), Some(json!([]))),
            (json!({"pointer": "/n", "isNumber": true}), Some(json!("3"))),
            (json!({"pointer": "/s", "isString": true}), Some(json!(42))),
            (json!({"pointer": "/arr", "isArray": true}), Some(json!({"0": "x"}))),
            (json!({"pointer": "/b", "isBoolean": true}), Some(json!("false"))),
            (json!({"pointer": "/arr", "contains": "urn:a"}), Some(json!(["urn:b"]))),
            (json!({"pointer": "/members", "contains": {"value": "a"}}), Some(json!([{"value": "b", "display": "a"}]))),
            (json!({"pointer": "/s", "contains": "@Example"}), Some(json!("tina@example.com"))),
            (json!({"pointer": "/arr", "length": 2}), Some(json!(["x"]))),
            (json!({"pointer": "/obj", "length": 1}), Some(json!({}))),
            (json!({"pointer": "/total", "atLeast": 1}), Some(json!(0))),
            (json!({"pointer": "/s", "matches": "^[A-Za-z]+@"}), Some(json!("@nobody"))),
            (json!({"pointer": "/s", "notEquals": "W/\"1\""}), Some(json!("W/\"1\""))),
            (json!({"pointer": "/s", "notEquals": "x"}), None),
            // 11:00+02:00 is 09:00Z: an earlier instant in another offset
            (json!({"pointer": "/t", "notBefore": "2024-05-01T11:00:00+02:00"}), Some(json!("2024-05-01T08:59:59Z"))),
            (json!({"pointer": "/t", "notBefore": "2024-05-01T10:00:00Z"}), Some(json!("yesterday"))),
        ];
        for (case, bad_value) in cases {
            let assertion = a(case.clone());
            assert_eq!(assertion_holds(&assertion, &good, &vars()), Ok(()), "{case} should hold on {good}");
            let mut bad = good.clone();
            let key = case["pointer"].as_str().unwrap().trim_start_matches('/').to_string();
            match bad_value {
                Some(v) => bad[&key] = v,
                None => {
                    bad.as_object_mut().unwrap().remove(&key);
                }
            }
            let err = assertion_holds(&assertion, &bad, &vars());
            assert!(err.is_err(), "{case} must fail on {bad}");
        }
        // notEmpty rejects "", null, {}, and absence
        for p in ["/empty", "/null", "/obj2", "/absent"] {
            let body = json!({"empty": "", "null": null, "obj2": {}});
            assert!(assertion_holds(&a(json!({"pointer": p, "notEmpty": true})), &body, &vars()).is_err(), "{p}");
        }
    }

    /// RFC 7643 §2.1: attribute names are case-insensitive, so a server's `UserName` or `Resources` in another case
    /// is the same attribute; an exact name still wins, and a value that is absent in every case stays absent.
    #[test]
    fn attribute_names_are_read_case_insensitively() {
        let body =
            json!({"UserName": "a", "totalresults": 1, "RESOURCES": [{"ID": "x", "Members": [{"Value": "u1"}]}]});
        assert!(assertion_holds(&a(json!({"pointer": "/userName", "equals": "a"})), &body, &vars()).is_ok());
        assert!(assertion_holds(&a(json!({"pointer": "/totalResults", "equals": 1})), &body, &vars()).is_ok());
        assert!(assertion_holds(&a(json!({"pointer": "/Resources/0/id", "equals": "x"})), &body, &vars()).is_ok());
        let member = json!({"pointer": "/Resources/0/members", "contains": {"value": "u1"}});
        assert!(assertion_holds(&a(member), &body, &vars()).is_ok());
        assert!(assertion_holds(&a(json!({"pointer": "/displayName", "absent": true})), &body, &vars()).is_ok());
        assert!(assertion_holds(&a(json!({"pointer": "/username", "absent": true})), &body, &vars()).is_err());
        let both = json!({"id": "exact", "ID": "other"});
        assert_eq!(resolve(&both, "/id"), Some(&json!("exact")));
        assert_eq!(resolve(&both, "/Resources/0"), None);
        assert_eq!(resolve(&json!({"a/b": 1}), "/A~1B"), Some(&json!(1)));
    }

    /// RFC 7644 §3.14 / RFC 7232 §2.3: an ETag may be weak or strong. The versioning scenario's steps pass with
    /// either form, as long as `meta.version` is the ETag the server sent.
    #[test]
    fn weak_and_strong_etags_pass_the_versioning_scenario() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let file = root.join("rfc/s3_14_versioning/etag_and_version.json");
        let s = crate::scenario::load_file(&root, &file).expect("scenario loads").expect("a scenario");
        let step = |name: &str| s.steps.iter().find(|st| st.name == name).expect("step").clone();
        let (get, version) = (step("GET returns the ETag header"), step("meta.version equals the ETag header"));
        let p = Profile::of(Idp::Rfc);
        for tag in ["W/\"3\"", "\"3\"", "W/\"a330bc54f0671c9\""] {
            let headers = [("content-type", "application/scim+json"), ("etag", tag)];
            let got = obs(200, &headers, Body::Json(json!({"id": "1", "meta": {"version": tag}})), 1);
            let mut v = vars();
            v.set("etag", json!(tag));
            let basis = get.basis.clone().expect("basis");
            assert_eq!(evaluate(&get.expect, &got, &v, &p, &basis), Judgement::default(), "{tag}");
            assert_eq!(evaluate(&version.expect, &got, &v, &p, &basis), Judgement::default(), "{tag}");
        }
        let bare = obs(200, &[("content-type", "application/scim+json"), ("etag", "3")], Body::Json(json!({})), 1);
        assert_eq!(evaluate(&get.expect, &bare, &vars(), &p, &rfc()).failures.len(), 1, "an unquoted ETag fails");
    }

    /// RFC 7644 §3.3: a 201 SHOULD carry the created resource. Without it, an RFC scenario's body assertions become
    /// one SHOULD observation and the id comes from Location; Okta and Entra need the body, so there it fails.
    #[test]
    fn a_created_resource_without_body_is_a_should_observation_for_rfc_scenarios_only() {
        let e = Expect {
            status: Some(StatusSet::Any(vec![201])),
            body: vec![a(json!({"pointer": "/id", "notEmpty": true}))],
            ..Expect::default()
        };
        let created = obs(201, &[("location", "https://scim.example.com/v2/Users/abc-1/")], Body::Empty, 1);
        let j = evaluate(&e, &created, &vars(), &Profile::of(Idp::Rfc), &rfc());
        assert!(j.failures.is_empty(), "{j:?}");
        assert_eq!(j.observations.len(), 1);
        assert_eq!(j.observations[0].level, Some(Level::Should));
        assert_eq!(created.created_id_from_location().as_deref(), Some("abc-1"));
        for idp in [Idp::Okta, Idp::Entra] {
            assert_eq!(evaluate(&e, &created, &vars(), &Profile::of(idp), &rfc()).failures.len(), 1, "{idp:?}");
        }
        let with_body = obs(201, &[("location", "/v2/Users/abc-1")], Body::Json(json!({"id": "x"})), 1);
        assert_eq!(with_body.created_id_from_location(), None, "a body's id wins");
        assert_eq!(obs(200, &[("location", "/v2/Users/abc-1")], Body::Empty, 1).created_id_from_location(), None);
    }

    #[test]
    fn when_makes_an_assertion_conditional() {
        let cond =
            a(json!({"pointer": "/Resources", "isArray": true, "when": {"pointer": "/totalResults", "atLeast": 1}}));
        assert!(assertion_holds(&cond, &json!({"totalResults": 0}), &vars()).is_ok());
        assert!(assertion_holds(&cond, &json!({"totalResults": 1, "Resources": {}}), &vars()).is_err());
        assert!(assertion_holds(&cond, &json!({"totalResults": 1, "Resources": []}), &vars()).is_ok());
    }

    #[test]
    fn conditions_held_lists_the_conditional_assertions_whose_condition_held_with_the_runs_captures() {
        let p = Profile::of(Idp::Rfc);
        let e = Expect {
            body: vec![
                a(json!({"pointer": "/email", "exists": true, "when": {"pointer": "/email", "equals": "{{email}}"}})),
                a(json!({"pointer": "/email", "exists": true})),
                a(json!({"pointer": "/email", "exists": true, "when": {"pointer": "/email", "equals": "other"}})),
            ],
            ..Expect::default()
        };
        let scim = [("content-type", "application/scim+json")];
        let body = obs(200, &scim, Body::Json(json!({"email": "Tina@Example.com"})), 1);
        assert_eq!(evaluate(&e, &body, &vars(), &p, &rfc()).conditions_held, [0]);
        // without the capture the condition cannot hold
        assert!(evaluate(&e, &body, &Vars::default(), &p, &rfc()).conditions_held.is_empty());
    }

    fn obs(status: u16, headers: &[(&str, &str)], body: Body, ms: u64) -> Observed {
        Observed {
            status,
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            body,
            size: 0,
            elapsed: Duration::from_millis(ms),
        }
    }

    #[test]
    fn status_headers_time_and_content_type_checks_fail_when_they_should() {
        let p = Profile::of(Idp::Rfc);
        let scim = [("content-type", "application/scim+json"), ("etag", "W/\"1\"")];
        let mut e = Expect { status: Some(StatusSet::Any(vec![200, 204])), ..Expect::default() };
        e.headers.insert("ETag".into(), Some("^W/".into()));
        e.headers.insert("Location".into(), None);
        e.max_time_ms = Some(600);
        let ok = obs(204, &scim, Body::Empty, 5);
        assert!(evaluate(&e, &ok, &vars(), &p, &rfc()).failures.is_empty());

        let slow_wrong = obs(
            201,
            &[("content-type", "application/json"), ("location", "/x")],
            Body::Json(json!({"detail": "made"})),
            700,
        );
        let f = evaluate(&e, &slow_wrong, &vars(), &p, &rfc()).failures;
        let checks: Vec<&str> = f.iter().map(|f| f.check.as_str()).collect();
        assert_eq!(
            checks,
            ["status", "header content-type", "header ETag", "header Location", "response time"],
            "{f:#?}"
        );
        assert_eq!(f[0].actual, "201 (detail: made)");
        // Okta accepts application/json; Entra states scim+json at SHOULD: an observation, not a failure; the RFC
        // profile fails it
        let json_ct = obs(200, &[("content-type", "application/json")], Body::Json(json!({})), 1);
        let okta = evaluate(&Expect::default(), &json_ct, &vars(), &Profile::of(Idp::Okta), &rfc());
        assert_eq!(okta, Judgement::default());
        let azure = evaluate(&Expect::default(), &json_ct, &vars(), &Profile::of(Idp::Entra), &rfc());
        assert!(azure.failures.is_empty(), "{azure:?}");
        assert_eq!(azure.observations.len(), 1);
        assert_eq!(azure.observations[0].level, Some(Level::Should));
        let plain = evaluate(&Expect::default(), &json_ct, &vars(), &p, &rfc());
        assert_eq!(plain.failures.len(), 1);
        // no expected status means 2xx
        assert_eq!(
            evaluate(&Expect::default(), &obs(404, &[], Body::Empty, 1), &vars(), &p, &rfc()).failures[0].expected,
            "2xx"
        );
        // body assertions on a response without JSON fail once, clearly
        let mut e = Expect::default();
        e.body.push(a(json!({"pointer": "/id", "exists": true})));
        let f = evaluate(&e, &obs(200, &[], Body::Empty, 1), &vars(), &p, &rfc()).failures;
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].actual, "no body");
    }

    /// A `shown` basis (on the step or on one assertion) turns a failed check into an observation; a status-only
    /// step observes a body that is not JSON; a status other than the preferred one is an observation.
    #[test]
    fn bases_decide_between_failure_and_observation() {
        let p = Profile::of(Idp::Okta);
        let shown = Basis::Shown("tutorial example response".into());
        let body = obs(200, &[("content-type", "application/scim+json")], Body::Json(json!({"a": 1})), 1);
        let mut e = Expect::default();
        e.body.push(a(json!({"pointer": "/a", "equals": 2})));
        e.body.push(a(json!({"pointer": "/b", "exists": true, "basis": {"shown": "only in an example"}})));
        let j = evaluate(&e, &body, &vars(), &p, &rfc());
        assert_eq!(j.failures.len(), 1, "{j:?}");
        assert_eq!(j.failures[0].basis, Some(rfc()));
        assert_eq!(j.observations.len(), 1);
        assert_eq!(j.observations[0].check, "/b exists");
        // the step's own basis is shown: nothing fails
        let j = evaluate(&e, &body, &vars(), &p, &shown);
        assert!(j.failures.is_empty());
        assert_eq!(j.observations.len(), 2);
        // status-only: a plain-text 409 body is observed, a wrong status still fails
        let text = obs(409, &[("content-type", "text/plain")], Body::Text("conflict".into()), 1);
        let e = Expect { status: Some(StatusSet::One(409)), status_only: true, ..Expect::default() };
        let j = evaluate(&e, &text, &vars(), &p, &rfc());
        assert!(j.failures.is_empty(), "{j:?}");
        assert_eq!(j.observations.len(), 2, "{j:?}");
        let j = evaluate(&e, &obs(201, &[], Body::Empty, 1), &vars(), &p, &rfc());
        assert_eq!(j.failures.len(), 1);
        // preferred status
        let e =
            Expect { status: Some(StatusSet::Any(vec![401, 403])), preferred_status: Some(401), ..Expect::default() };
        let j = evaluate(&e, &obs(403, &[], Body::Empty, 1), &vars(), &p, &rfc());
        assert!(j.failures.is_empty());
        assert_eq!(j.observations[0].check, "preferred status");
        assert_eq!(evaluate(&e, &obs(401, &[], Body::Empty, 1), &vars(), &p, &rfc()), Judgement::default());
    }

    /// The values an assertion needs are those its check renders (and its `when`'s), found by walking its operands
    /// ([`Assertion::placeholders`]): braces in its basis (text for people) or its pointer are not a value it
    /// waits for, and a `{{capture}}` in an operand is.
    #[test]
    fn an_assertion_needs_the_placeholders_of_its_operands_only() {
        let body = json!({"title": "Engineer"});
        let quoted = a(json!({"pointer": "/title", "equals": "Engineer",
            "basis": {"shown": "Entra sends {{manager}} as the example shows"}}));
        assert_eq!(quoted.placeholders(), Vec::<String>::new());
        assert_eq!(assertion_holds(&quoted, &body, &vars()), Ok(()));
        let needs = a(json!({"pointer": "/title", "equals": "{{title}}",
            "when": {"pointer": "/x", "notEquals": "{{other}}"}}));
        assert_eq!(needs.placeholders(), ["other", "title"]);
        let needs = a(json!({"pointer": "/title", "equals": "{{title}}"}));
        let (expected, _) = assertion_holds(&needs, &body, &vars()).unwrap_err();
        assert!(expected.contains("{{title}}"), "{expected}");
    }
}
