//! Failures grouped by cause, for the "fix first" sections of the terminal and HTML reports and the JSON report's
//! `causes` array.
//!
//! A cause is one check failing one rule with one shape of actual value: `header content-type` under
//! `RFC 7644 §8.1` answered `application/json` is one cause however many scenarios hit it, while the same check
//! answered `text/html` is another. The shape keeps what tells causes apart (a status, a media type without its
//! parameters, an object's keys) and drops what differs from request to request (ids, numbers, cut text).
//! Causes are ranked by who would hit them, then by the scenarios they affect ([`rank`]): what Okta or Entra
//! would hit in production first, then the RFC's MUSTs, then its SHOULDs — within each, the one defect behind 27
//! failures before the one behind 2.
//!
//! A refused request is one server defect however many documents say it should succeed: a server refusing every
//! path-less PATCH operation fails RFC steps citing §3.5.2.1 and §3.5.2.3, Okta's deactivation and Entra's
//! updates, all with the same answer. So a failed `status` check is grouped by the shape of the server's answer
//! alone — the method it refused, the status code, the `scimType` and the shape of the `detail` (RFC 7644 §3.12) —
//! and its cause lists every rule the refused steps cite ([`Cause::rule`]). A request that succeeded with another
//! success status (a create answered 200, not 201) was not refused: it breaks the one rule naming the status of its
//! operation ([`super::success`], RFC 7644 §3.3 for a create), whatever its steps stand for.
//! An assertion on the body failing a section of an RFC is grouped by that rule, its operator and shape, not by
//! its pointer: a server ignoring `attributes` returns `emails`, `name` and `title` against RFC 7644 §3.4.2.5, one
//! defect (an `absent` assertion's shape is `present`, whatever the value). Every other check is grouped by check,
//! rule and shape.
//! A cause is marked with the IdPs that would hit it (`okta`, `azure`): those whose scenarios hit it, and those
//! whose requirement ([`crate::requirements`]) the failed request is, when it should have succeeded
//! ([`super::reach`]: an `rfc` scenario's `userName eq` lookup that misses its user fails Okta and Entra too).
//! One no IdP would hit is RFC-only.
//!
//! A server that crashed mid-run makes every later step fail to connect; those transport errors are one cause
//! pointing at the last request answered before them ([`super::stopped`]), ranked first: nothing after it was
//! judged.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::check::CheckId;
use crate::idp::Idp;
use crate::runner::{ScenarioResult, StepResult, StepVerdict};
use crate::scenario::{Kind, Level};

use super::stopped::Stopped;

/// Characters of a rule or example value a cause keeps.
const KEEP: usize = 160;

/// One cause of failures: a check, the rule it enforces and the shape of what the server answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cause {
    /// The failed check (`status`, `header content-type`, `/totalResults equals`, `transport`, `setup`); for
    /// assertions on the body keyed by an RFC section, their operator and the pointers they read
    /// (`absent at /emails, /name, /title`).
    pub check: String,
    /// The rule it enforces: the first RFC section the check's basis (or its step's) cites (`RFC 7644 §3.1`);
    /// for a basis that cites no RFC, the IdP whose behaviour it states (`Okta requirement`, `Entra ID
    /// requirement`), the example's `basis` giving the sentence; empty for the runner's own checks (captures,
    /// transport errors). For a refused request (a `status` cause) every distinct rule its steps cite, RFC
    /// sections first, joined by `; ` (`RFC 7644 §3.5.2.1; RFC 7644 §3.5.2.3; Okta requirement`). For a request
    /// that succeeded with another success status (200 for 201), the one rule naming that status
    /// ([`super::success`]: `RFC 7644 §3.3`).
    pub rule: String,
    /// The shape of the actual value shared by every failure of this cause (`application/json`, `400`,
    /// `an object with keys detail, status`).
    pub shape: String,
    /// The most severe level among the failed steps.
    pub level: Level,
    /// Scenarios with at least one failed step of this cause.
    pub scenarios: usize,
    /// Failed steps of this cause.
    pub steps: usize,
    /// The IdPs that would hit it (`okta`, `azure`), in that order: whose scenarios hit it, or whose requirement
    /// ([`crate::requirements::REQUIREMENTS`]) a failed request is ([`super::reach`]); empty for neither.
    pub idps: Vec<Idp>,
    /// Whether no IdP would hit it (only `rfc` scenarios, with requests no IdP requirement names).
    pub rfc_only: bool,
    /// The first failure of this cause, by scenario id.
    pub example: CauseExample,
    /// Every scenario id it affects, sorted.
    pub scenario_ids: Vec<String>,
    /// For the transport errors of a server that stopped answering mid-run: where it stopped
    /// ([`super::stopped::Stopped::sentence`]), e.g. "the server stopped answering after `PATCH /Users/…` in
    /// scenario X step 3 "…"; every later step failed to connect".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_after: Option<String>,
}

/// The shape of the transport errors of a server that stopped answering.
pub const STOPPED_ANSWERING: &str = "no answer: the server stopped answering";

/// One failure standing for its cause.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CauseExample {
    /// Scenario id.
    pub scenario: String,
    /// Step name.
    pub step: String,
    /// What was expected.
    pub expected: String,
    /// What the server did (cut at 160 characters).
    pub actual: String,
    /// The whole basis of the check (cut at 160 characters): the quote or section it rests on.
    #[serde(default)]
    pub basis: String,
}

/// One failed check as [`causes`] groups it.
struct Hit<'a> {
    /// For an assertion on the body: its pointer and operator (`/emails`, `absent`).
    assertion: Option<(String, String)>,
    check: String,
    /// Whether the check is of a response header ([`CheckId::is_header`]).
    header: bool,
    rule: String,
    basis: String,
    actual: &'a str,
    expected: &'a str,
    /// For a failed `status` check: the shape of the refusal ([`refusal_shape`]), which alone keys its cause.
    refusal: Option<String>,
    /// A lost connection of a server that stopped answering ([`super::stopped`]).
    crash: bool,
}

/// The shape of a server's answer that failed a `status` check: the request's method, the status code, the
/// `scimType` and the shape of the `detail` of a SCIM error body (RFC 7644 §3.12), e.g. `400 noTarget (detail:
/// every operation needs a path) to PATCH`. What differs from request to request (ids, quoted values, numbers)
/// is dropped as in [`shape`]. A 404, 405 or 501 says the endpoint itself is missing or does not implement the
/// method (RFC 7644 §3.12: "The specified endpoint does not exist" / "not implemented"; RFC 9110 §15.5.6): one
/// cause per endpoint ([`endpoint`]), e.g. `404 to GET /Schemas` apart from `404 to GET /Me`, so each missing
/// endpoint carries its own level and IdPs.
fn refusal_shape(step: &StepResult, actual: &str) -> String {
    let code = shape("status", actual);
    let missing = matches!(code.as_str(), "404" | "405" | "501");
    let method = step
        .request
        .as_ref()
        .map(|r| match missing {
            true => format!(" to {} {}", r.method.as_str(), endpoint(&r.path)),
            false => format!(" to {}", r.method.as_str()),
        })
        .unwrap_or_default();
    let body = step.response.as_ref().and_then(|r| r.json());
    let field = |name: &str| body.and_then(|b| b.get(name)).and_then(serde_json::Value::as_str);
    let scim_type = field("scimType").map(|t| format!(" {t}")).unwrap_or_default();
    let detail = field("detail").map(|d| format!(" (detail: {})", shape("detail", d))).unwrap_or_default();
    format!("{code}{scim_type}{detail}{method}")
}

/// The endpoint a request `path` (relative to the base URI) addressed, with what names one resource elided:
/// every segment after the first becomes `{id}` except the RFC 7644 §3.4.3 `.search` action, so `/Users/2819c2`
/// is `/Users/{id}`, `/ResourceTypes/User` is `/ResourceTypes/{id}`, `/Me` and `/Schemas` stay. Any query is
/// dropped.
pub fn endpoint(path: &str) -> String {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let elided: Vec<&str> =
        segments.iter().enumerate().map(|(i, s)| if i == 0 || s.starts_with('.') { *s } else { "{id}" }).collect();
    format!("/{}", elided.join("/"))
}

/// The failed checks of a step: its failures (not its observations, which never fail a run), or its transport
/// error as one `transport` check. When the status failed, the step's other checks read an answer that was not
/// the one asked for (a refused create has no `/id`, no `userName`): the status is the cause, they follow from it
/// (the check naming the Entra attribute mappings behind a refusal stays: it says what to change).
/// Likewise a capture that failed beside another check.
fn hits<'a>(idp: Idp, kind: Kind, step: &'a StepResult, stopped: Option<&Stopped>) -> Vec<Hit<'a>> {
    let status_failed = step.failures.iter().any(|f| f.id == CheckId::Status);
    let is_capture = |f: &&crate::check::Failure| matches!(f.id, CheckId::Capture(_));
    let only_captures = step.failures.iter().all(|f| is_capture(&f));
    match step.verdict {
        StepVerdict::Fail => step
            .failures
            .iter()
            .filter(|f| !status_failed || matches!(f.id, CheckId::Status | CheckId::EntraMapping))
            .filter(|f| only_captures || !is_capture(f))
            .map(|f| {
                let citation = f.basis.as_ref().or(step.basis.as_ref()).map(|b| b.citation()).unwrap_or_default();
                // a success answered with another success status breaks the rule naming that status, not the
                // rule its step stands for
                let citation = super::success::wrong_success_rule(step, f).unwrap_or(citation);
                Hit {
                    assertion: assertion(&f.check),
                    check: f.check.clone(),
                    header: f.id.is_header(),
                    rule: rule(idp, kind, citation),
                    basis: cut(citation),
                    actual: &f.actual,
                    expected: &f.expected,
                    refusal: (f.id == CheckId::Status).then(|| refusal_shape(step, &f.actual)),
                    crash: false,
                }
            })
            .collect(),
        StepVerdict::Error => {
            let crash = stopped.is_some_and(|st| st.caused(step));
            vec![Hit {
                assertion: None,
                check: "transport".into(),
                header: false,
                rule: String::new(),
                basis: String::new(),
                actual: if crash { STOPPED_ANSWERING } else { step.error.as_deref().unwrap_or("error") },
                expected: "an answer",
                refusal: None,
                crash,
            }]
        }
        _ => vec![],
    }
}

/// The pointer and operator of a failed assertion on the body (its check is `<pointer> <operator>`, the pointer
/// `(body)` for the whole body: [`crate::check`]); `None` for the runner's own checks (`status`, headers,
/// captures, …).
fn assertion(check: &str) -> Option<(String, String)> {
    if !(check.starts_with('/') || check.starts_with("(body) ")) {
        return None;
    }
    let (pointer, operator) = check.rsplit_once(' ')?;
    Some((pointer.to_string(), operator.to_string()))
}

/// The pointers a cause of assertions lists in its check before it says how many more there are.
const POINTERS_SHOWN: usize = 4;

/// Whether `step` asked the server to change something (POST, PUT, PATCH or DELETE, RFC 7644 §3.3–§3.6).
fn is_write(step: &StepResult) -> bool {
    use crate::exchange::Method;
    step.request
        .as_ref()
        .is_some_and(|r| matches!(r.method, Method::POST | Method::PUT | Method::PATCH | Method::DELETE))
}

/// Groups the failed steps of `results` by cause, in [`rank`] order. Known deviations, observations, skips and
/// drift are not failures and form no cause. Within a scenario, a failure after a write refused (its status failed,
/// and was not a success such as 200 for 201) counts toward that write's cause, not as a cause of its own: the
/// server did not change (or changed differently) what the later steps read, so they follow from it, as the checks
/// of a refused step do.
pub fn causes(results: &[ScenarioResult]) -> Vec<Cause> {
    let stopped = super::stopped::stopped(results);
    let mut by: BTreeMap<(String, String, String), Cause> = BTreeMap::new();
    // for a cause of assertions keyed by their rule: the pointers its assertions read, in order of appearance
    let mut pointers: BTreeMap<(String, String, String), Vec<String>> = BTreeMap::new();
    // the steps each cause has counted: (its key, scenario id, step index)
    let mut counted: BTreeSet<((String, String, String), String, usize)> = BTreeSet::new();
    for r in results {
        // the cause of the first write of this scenario whose status failed: what its later steps read follows
        // from it (a refused PATCH leaves the old values for the GET after it to find)
        let mut after_write: Option<(String, String, String)> = None;
        for (at, step) in r.steps.iter().enumerate() {
            let needed_by = super::reach::needed_by(step);
            for h in hits(r.idp, step.kind, step, stopped.as_ref()) {
                // a refusal is keyed by its shape alone: one defect, whichever rules its steps cite
                // an assertion failing a section of an RFC is keyed by that rule and its operator, not its pointer:
                // a server ignoring `attributes` returns `emails`, `name` and `title` against one rule (RFC 7644
                // §3.4.2.5), one defect. An IdP's requirement is no one rule, so its assertions keep their pointer.
                let by_rule = h.assertion.as_ref().filter(|_| h.refusal.is_none() && h.rule.contains('§'));
                let own = match (&h.refusal, by_rule) {
                    (Some(refusal), _) => (h.check.clone(), String::new(), refusal.clone()),
                    (None, Some((_, operator))) => (operator.clone(), h.rule.clone(), shape(&h.check, h.actual)),
                    (None, None) => (h.check.clone(), h.rule.clone(), shape(&h.check, h.actual)),
                };
                if let Some((pointer, _)) = by_rule.filter(|_| after_write.is_none() || h.crash) {
                    let listed = pointers.entry(own.clone()).or_default();
                    if !listed.contains(pointer) {
                        listed.push(pointer.clone());
                    }
                }
                let key = match &after_write {
                    Some(write) if !h.crash => write.clone(),
                    _ => own,
                };
                // a write answered with another success status (200 for 201) did change the server: what
                // follows does not come from it
                let succeeded = step.response.as_ref().is_some_and(|o| (200..300).contains(&o.status));
                if after_write.is_none() && h.refusal.is_some() && is_write(step) && !succeeded {
                    after_write = Some(key.clone());
                }
                let c = by.entry(key.clone()).or_insert_with(|| Cause {
                    check: key.0.clone(),
                    rule: h.rule.clone(),
                    shape: key.2.clone(),
                    level: step.level,
                    scenarios: 0,
                    steps: 0,
                    idps: vec![],
                    rfc_only: true,
                    example: CauseExample {
                        scenario: r.id.clone(),
                        step: step.name.clone(),
                        expected: cut(h.expected),
                        actual: cut(h.actual),
                        basis: h.basis.clone(),
                    },
                    scenario_ids: vec![],
                    stopped_after: None,
                });
                if let Some(st) = stopped.as_ref().filter(|_| h.crash) {
                    c.stopped_after = Some(st.sentence());
                    c.example = CauseExample {
                        scenario: st.scenario.clone(),
                        step: st.step_name.clone(),
                        expected: "an answer to every later request".into(),
                        actual: st.sentence(),
                        basis: String::new(),
                    };
                }
                // a step failing several assertions of one cause counts once
                if counted.insert((key.clone(), r.id.clone(), at)) {
                    c.steps += 1;
                }
                c.level = c.level.min(step.level);
                if h.refusal.is_some() && !h.rule.is_empty() && !c.rule.split("; ").any(|r| r == h.rule) {
                    c.rule = join_rules(&c.rule, &h.rule);
                }
                if !c.scenario_ids.contains(&r.id) {
                    c.scenario_ids.push(r.id.clone());
                }
                // a header the IdP's own profile may accept (Okta reads application/json) is not what its
                // requirement is about: the request doing what the IdP needs is
                let reached = if h.header { &[][..] } else { &needed_by[..] };
                for idp in (r.idp != Idp::Rfc).then_some(r.idp).into_iter().chain(reached.iter().copied()) {
                    if !c.idps.contains(&idp) {
                        c.idps.push(idp);
                    }
                }
            }
        }
    }
    let mut out: Vec<Cause> = by
        .into_iter()
        .map(|(key, mut c)| {
            if let Some(listed) = pointers.get(&key) {
                let more = listed.len().saturating_sub(POINTERS_SHOWN);
                let more = if more > 0 { format!(" and {more} more") } else { String::new() };
                let shown: Vec<&str> = listed.iter().take(POINTERS_SHOWN).map(String::as_str).collect();
                c.check = format!("{} at {}{more}", key.0, shown.join(", "));
            }
            c.scenario_ids.sort();
            c.scenarios = c.scenario_ids.len();
            c.idps.sort();
            c.rfc_only = c.idps.is_empty();
            c
        })
        .collect();
    out.sort_by(|a, b| rank(a).cmp(&rank(b)).then(a.check.cmp(&b.check)).then(a.shape.cmp(&b.shape)));
    out
}

/// The order of the fix-first list, first to last: a server that stopped answering (nothing after it was
/// judged); what Okta or Entra would hit ([`Cause::idps`]); what only the RFC states, MUST before SHOULD before
/// MAY; within each, the most severe level, then most scenarios, then most steps.
pub fn rank(c: &Cause) -> impl Ord {
    (c.stopped_after.is_none(), c.rfc_only, c.level, std::cmp::Reverse(c.scenarios), std::cmp::Reverse(c.steps))
}

/// The rule a check enforces, for grouping: the first RFC section its basis `citation` names; otherwise the IdP
/// of the scenario (`Okta requirement`) — or, for a `portal` step, the reference portal's semantics — whose own document the citation quotes — every Okta step failing the same
/// check with the same shape is one cause, whichever of its flows met it. Empty for no citation.
pub fn rule(idp: Idp, kind: Kind, citation: &str) -> String {
    static RFC: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"RFC ?\d{4}(?: ?§ ?\d+(?:\.\d+)*)?").expect("regex"));
    if let Some(m) = RFC.find(citation) {
        return m.as_str().to_string();
    }
    match (idp, citation.trim().is_empty()) {
        (_, true) => String::new(),
        _ if kind == Kind::Portal => "the reference portal's semantics".into(),
        (Idp::Okta, false) => "Okta requirement".into(),
        (Idp::Entra, false) => "Entra ID requirement".into(),
        (Idp::Rfc, false) => cut(citation),
    }
}

/// The shape of an actual value: what tells one cause from another, without what differs per request. A status
/// keeps only its code (`400 (detail: …)` → `400`); a JSON object becomes its sorted keys; a media type loses its
/// parameters (`application/json; charset=utf-8` → `application/json`); ids (UUIDs, long hex or digit runs) and
/// quoted strings become `…`; cut at 80 characters.
pub fn shape(check: &str, actual: &str) -> String {
    static MEDIA: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^([A-Za-z0-9.+-]+/[A-Za-z0-9.+-]+)\s*(;.*)?$").expect("regex"));
    static VARYING: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#""[^"]*"|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|\b[0-9a-fA-F]*[0-9][0-9a-fA-F]{7,}\b|\d{4,}"#)
            .expect("regex")
    });
    let a = actual.trim();
    // an `absent` assertion failed because a value was there, whatever the value
    if check.ends_with(" absent") || check == "absent" {
        return "present".into();
    }
    if check == "status" {
        if let Some(code) = a.get(..3).filter(|c| c.bytes().all(|b| b.is_ascii_digit())) {
            return code.to_string();
        }
    }
    if let Ok(serde_json::Value::Object(m)) = serde_json::from_str::<serde_json::Value>(a) {
        let mut keys: Vec<&str> = m.keys().map(String::as_str).collect();
        keys.sort();
        return format!("an object with keys {}", keys.join(", "));
    }
    if let Some(c) = MEDIA.captures(a) {
        return c[1].to_ascii_lowercase();
    }
    let s = VARYING.replace_all(a, "…");
    match s.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.into_owned(),
    }
}

/// `rules` (`; `-separated) with `more` added: distinct, RFC sections first, then the IdPs' requirements, each
/// group sorted.
fn join_rules(rules: &str, more: &str) -> String {
    let mut all: Vec<&str> = rules.split("; ").filter(|r| !r.is_empty()).chain([more]).collect();
    all.sort_by_key(|r| (!r.starts_with("RFC"), *r));
    all.dedup();
    all.join("; ")
}

fn cut(s: &str) -> String {
    match s.char_indices().nth(KEEP) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Who would hit a cause: `Okta, Entra`, `Okta`, `Entra` or `RFC only`.
pub fn who(c: &Cause) -> String {
    if c.rfc_only {
        return "RFC only".into();
    }
    let names: Vec<&str> = c.idps.iter().map(|i| if *i == Idp::Okta { "Okta" } else { "Entra" }).collect();
    names.join(", ")
}

/// What a cause breaks, for the fix-first lines: `breaks Okta, Entra`, `breaks Okta`, or `RFC only`.
pub fn breaks(c: &Cause) -> String {
    if c.rfc_only {
        "RFC only".into()
    } else {
        format!("breaks {}", who(c))
    }
}

/// The terminal's "fix first" section: the first `top` causes in [`rank`] order, each with its counts, level,
/// the IdPs it breaks, the rule and one example (for a server that stopped answering, where it stopped); a line
/// counting the rest. Empty when nothing failed.
pub fn fix_first(causes: &[Cause], top: usize) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    if causes.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "\nfix first: {} cause(s): what Okta or Entra would hit first, then the RFC's MUSTs, then its SHOULDs",
        causes.len()
    );
    for (i, c) in causes.iter().take(top).enumerate() {
        let rule = if c.rule.is_empty() { String::new() } else { format!(" — {}", c.rule) };
        let _ = writeln!(
            out,
            "  {}. {} scenario(s), {} step(s) [{}; {}]: {}: got {}{rule}",
            i + 1,
            c.scenarios,
            c.steps,
            c.level.as_str().to_uppercase(),
            breaks(c),
            c.check,
            c.shape
        );
        match &c.stopped_after {
            Some(where_) => {
                let _ = writeln!(out, "     {where_}");
            }
            None => {
                let _ = writeln!(
                    out,
                    "     e.g. {} step \"{}\": expected {}, got {}",
                    c.example.scenario, c.example.step, c.example.expected, c.example.actual
                );
            }
        }
    }
    if causes.len() > top {
        let _ = writeln!(out, "  … and {} more cause(s) (all in the JSON report's `causes`)", causes.len() - top);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_keep_what_tells_causes_apart_and_drop_what_varies() {
        let ct = "header content-type";
        assert_eq!(shape(ct, "application/json; charset=utf-8"), "application/json");
        assert_eq!(shape(ct, "Application/JSON"), "application/json");
        assert_eq!(shape(ct, "text/html"), "text/html");
        assert_eq!(shape("status", "400 (detail: every operation needs a path)"), "400");
        assert_eq!(shape("status", "501"), "501");
        assert_eq!(shape("/x", r#"{"status":"400","detail":"x"}"#), "an object with keys detail, status");
        assert_eq!(
            shape("/x", r#"missing "3f2b8c1e-0a4b-4c5d-8e9f-0123456789ab" in 12345 items"#),
            "missing … in … items"
        );
        assert_ne!(shape("/x", "absent"), shape("/x", "present"));
        assert!(shape("/x", &"x".repeat(300)).chars().count() <= 81);
    }

    #[test]
    fn a_refusal_lists_every_rule_its_steps_cite_rfc_first() {
        let r = join_rules("", "Okta requirement");
        let r = join_rules(&r, "RFC 7644 §3.5.2.3");
        let r = join_rules(&r, "RFC 7644 §3.5.2.1");
        let r = join_rules(&r, "Okta requirement");
        assert_eq!(r, "RFC 7644 §3.5.2.1; RFC 7644 §3.5.2.3; Okta requirement");
    }

    #[test]
    fn rules_are_the_rfc_section_or_the_idp() {
        assert_eq!(rule(Idp::Rfc, Kind::Rfc, "RFC 7644 §3.1 and §8.1: SCIM bodies are JSON"), "RFC 7644 §3.1");
        assert_eq!(rule(Idp::Okta, Kind::Interop, "Okta's SPEC step 4; RFC 7643 §4.1.1 (userName)"), "RFC 7643 §4.1.1");
        assert_eq!(
            rule(Idp::Okta, Kind::Interop, "Production Okta deactivates with a path-less PATCH"),
            "Okta requirement"
        );
        assert_eq!(rule(Idp::Entra, Kind::Interop, "Microsoft's tutorial: PATCH answers 200"), "Entra ID requirement");
        assert_eq!(rule(Idp::Okta, Kind::Interop, ""), "");
        assert_eq!(rule(Idp::Okta, Kind::Portal, "reference-server/README.md"), "the reference portal's semantics");
    }

    fn refused(idp: &str, level: &str, steps: &[(&str, &str, u16)]) -> ScenarioResult {
        use crate::check::Failure;
        use crate::exchange::{Observed, SentRequest};
        let text = format!(
            r#"{{"title": "t", "source": "s", "level": "{level}", "steps": [{{"name": "n", "basis": {{"rfc": "RFC 7644 §3.4"}}, "request": {{"method": "GET", "path": "/Users"}}}}]}}"#
        );
        let rel = format!("{idp}/g/x.json");
        let s = crate::scenario::parse(&rel, std::path::Path::new(&rel), &text).expect("scenario");
        let level = s.level;
        let steps = steps
            .iter()
            .map(|&(_, path, status)| StepResult {
                request: Some(SentRequest {
                    method: crate::exchange::Method::GET,
                    url: format!("http://127.0.0.1{path}"),
                    path: path.into(),
                    query: vec![],
                    headers: vec![],
                    step_headers: vec![],
                    body: None,
                    body_text: None,
                    auth: Default::default(),
                    spaces: None,
                }),
                response: Some(Observed::status_only(status)),
                failures: vec![Failure::new("status", "200", status.to_string()).with_id(CheckId::Status)],
                basis: None,
                ..StepResult::new(path, level, Kind::Rfc, StepVerdict::Fail)
            })
            .collect();
        ScenarioResult { steps, ..ScenarioResult::skipped(&s, "") }
    }

    #[test]
    fn each_missing_endpoint_is_its_own_cause_with_its_own_level_and_idps() {
        assert_eq!(endpoint("/Users/2819c223-7f76-453a-919d-413861904646"), "/Users/{id}");
        assert_eq!(endpoint("/ResourceTypes/User"), "/ResourceTypes/{id}");
        assert_eq!(endpoint("/Users/.search"), "/Users/.search");
        assert_eq!(endpoint("/Me"), "/Me");
        let results = [
            refused("azure", "must", &[("GET", "/Schemas", 404)]),
            refused("rfc", "should", &[("GET", "/Me", 404)]),
            refused("rfc", "must", &[("GET", "/ResourceTypes/User", 404), ("GET", "/ResourceTypes/Group", 404)]),
            // not "missing": keyed by the answer alone, across resources
            refused("rfc", "must", &[("GET", "/Users/1", 400), ("GET", "/Groups/2", 400)]),
        ];
        let all = causes(&results);
        let by =
            |shape: &str| all.iter().find(|c| c.shape == shape).unwrap_or_else(|| panic!("no cause {shape}: {all:#?}"));
        assert_eq!(all.len(), 4, "{all:#?}");
        let schemas = by("404 to GET /Schemas");
        assert_eq!((schemas.level, &schemas.idps[..]), (Level::Must, &[Idp::Entra][..]));
        let me = by("404 to GET /Me");
        assert_eq!((me.level, me.rfc_only), (Level::Should, true));
        assert_eq!(by("404 to GET /ResourceTypes/{id}").steps, 2);
        assert_eq!(by("400 to GET").steps, 2);
    }
}
