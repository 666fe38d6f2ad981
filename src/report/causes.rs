//! Failures grouped by cause, for the "fix first" sections of the terminal and HTML reports and the JSON report's
//! `causes` array.
//!
//! A cause is one check failing one rule with one shape of actual value: `header content-type` under
//! `RFC 7644 §8.1` answered `application/json` is one cause however many scenarios hit it, while the same check
//! answered `text/html` is another. The shape keeps what tells causes apart (a status, a media type without its
//! parameters, an object's keys) and drops what differs from request to request (ids, numbers, cut text).
//! Causes are ranked by the scenarios they affect, so the vendor fixes the one defect behind 27 failures first.
//!
//! A refused request is one server defect however many documents say it should succeed: a server refusing every
//! path-less PATCH operation fails RFC steps citing §3.5.2.1 and §3.5.2.3, Okta's deactivation and Entra's
//! updates, all with the same answer. So a failed `status` check is grouped by the shape of the server's answer
//! alone — the method it refused, the status code, the `scimType` and the shape of the `detail` (RFC 7644 §3.12) —
//! and its cause lists every rule the refused steps cite ([`Cause::rule`]). Every other check is grouped by check,
//! rule and shape.
//! A cause is marked with the IdPs whose scenarios hit it (`okta`, `azure`); one only `rfc` scenarios hit is
//! RFC-only: no IdP's provisioning is known to depend on it.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::runner::{ScenarioResult, StepResult, StepVerdict};
use crate::scenario::{Idp, Kind, Level};

/// Characters of a rule or example value a cause keeps.
const KEEP: usize = 160;

/// One cause of failures: a check, the rule it enforces and the shape of what the server answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cause {
    /// The failed check (`status`, `header content-type`, `/totalResults equals`, `transport`, `setup`).
    pub check: String,
    /// The rule it enforces: the first RFC section the check's basis (or its step's) cites (`RFC 7644 §3.1`);
    /// for a basis that cites no RFC, the IdP whose behaviour it states (`Okta requirement`, `Entra ID
    /// requirement`), the example's `basis` giving the sentence; empty for the runner's own checks (captures,
    /// transport errors). For a refused request (a `status` cause) every distinct rule its steps cite, RFC
    /// sections first, joined by `; ` (`RFC 7644 §3.5.2.1; RFC 7644 §3.5.2.3; Okta requirement`).
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
    /// The IdPs whose scenarios hit it (`okta`, `azure`), in that order; empty when only `rfc` scenarios did.
    pub idps: Vec<Idp>,
    /// Whether only `rfc` scenarios hit it (no IdP's flow is known to depend on it).
    pub rfc_only: bool,
    /// The first failure of this cause, by scenario id.
    pub example: CauseExample,
    /// Every scenario id it affects, sorted.
    pub scenario_ids: Vec<String>,
}

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
    check: String,
    rule: String,
    basis: String,
    actual: &'a str,
    expected: &'a str,
    /// For a failed `status` check: the shape of the refusal ([`refusal_shape`]), which alone keys its cause.
    refusal: Option<String>,
}

/// The shape of a server's answer that failed a `status` check: the request's method, the status code, the
/// `scimType` and the shape of the `detail` of a SCIM error body (RFC 7644 §3.12), e.g. `400 noTarget (detail:
/// every operation needs a path) to PATCH`. What differs from request to request (ids, quoted values, numbers)
/// is dropped as in [`shape`].
fn refusal_shape(step: &StepResult, actual: &str) -> String {
    let code = shape("status", actual);
    let method = step.request.as_ref().map(|r| format!(" to {}", r.method.as_str())).unwrap_or_default();
    let body = step.response.as_ref().and_then(|r| r.json());
    let field = |name: &str| body.and_then(|b| b.get(name)).and_then(serde_json::Value::as_str);
    let scim_type = field("scimType").map(|t| format!(" {t}")).unwrap_or_default();
    let detail = field("detail").map(|d| format!(" (detail: {})", shape("detail", d))).unwrap_or_default();
    format!("{code}{scim_type}{detail}{method}")
}

/// The failed checks of a step: its failures (not its observations, which never fail a run), or its transport
/// error as one `transport` check. When the status failed, the step's other checks read an answer that was not
/// the one asked for (a refused create has no `/id`, no `userName`): the status is the cause, they follow from it
/// (the check naming the Entra attribute mappings behind a refusal stays: it says what to change).
/// Likewise a capture that failed beside another check.
fn hits(idp: Idp, kind: Kind, step: &StepResult) -> Vec<Hit<'_>> {
    let status_failed = step.failures.iter().any(|f| f.check == "status");
    let is_capture = |f: &&crate::check::Failure| f.check.starts_with("capture ");
    let only_captures = step.failures.iter().all(|f| is_capture(&f));
    match step.verdict {
        StepVerdict::Fail => step
            .failures
            .iter()
            .filter(|f| !status_failed || f.check == "status" || f.check == crate::declared::MAPPING_CHECK)
            .filter(|f| only_captures || !is_capture(f))
            .map(|f| {
                let citation = f.basis.as_ref().or(step.basis.as_ref()).map(|b| b.citation()).unwrap_or_default();
                Hit {
                    check: f.check.clone(),
                    rule: rule(idp, kind, citation),
                    basis: cut(citation),
                    actual: &f.actual,
                    expected: &f.expected,
                    refusal: (f.check == "status").then(|| refusal_shape(step, &f.actual)),
                }
            })
            .collect(),
        StepVerdict::Error => vec![Hit {
            check: "transport".into(),
            rule: String::new(),
            basis: String::new(),
            actual: step.error.as_deref().unwrap_or("error"),
            expected: "an answer",
            refusal: None,
        }],
        _ => vec![],
    }
}

/// Groups the failed steps of `results` by cause, most scenarios first (then most steps, most severe level,
/// check name). Known deviations, observations, skips and drift are not failures and form no cause.
pub fn causes(results: &[ScenarioResult]) -> Vec<Cause> {
    let mut by: BTreeMap<(String, String, String), Cause> = BTreeMap::new();
    for r in results {
        for step in &r.steps {
            for h in hits(r.idp, step.kind, step) {
                // a refusal is keyed by its shape alone: one defect, whichever rules its steps cite
                let key = match &h.refusal {
                    Some(refusal) => (h.check.clone(), String::new(), refusal.clone()),
                    None => (h.check.clone(), h.rule.clone(), shape(&h.check, h.actual)),
                };
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
                });
                c.steps += 1;
                c.level = c.level.min(step.level);
                if h.refusal.is_some() && !h.rule.is_empty() && !c.rule.split("; ").any(|r| r == h.rule) {
                    c.rule = join_rules(&c.rule, &h.rule);
                }
                if !c.scenario_ids.contains(&r.id) {
                    c.scenario_ids.push(r.id.clone());
                }
                if r.idp != Idp::Rfc && !c.idps.contains(&r.idp) {
                    c.idps.push(r.idp);
                }
            }
        }
    }
    let mut out: Vec<Cause> = by
        .into_values()
        .map(|mut c| {
            c.scenario_ids.sort();
            c.scenarios = c.scenario_ids.len();
            c.idps.sort();
            c.rfc_only = c.idps.is_empty();
            c
        })
        .collect();
    out.sort_by(|a, b| {
        (b.scenarios, b.steps).cmp(&(a.scenarios, a.steps)).then(a.level.cmp(&b.level)).then(a.check.cmp(&b.check))
    });
    out
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

/// The terminal's "fix first" section: the first `top` causes, each with its counts, level, who hits it, the
/// rule and one example; a line counting the rest. Empty when nothing failed.
pub fn fix_first(causes: &[Cause], top: usize) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    if causes.is_empty() {
        return out;
    }
    let _ = writeln!(out, "\nfix first: {} cause(s), most scenarios affected first", causes.len());
    for (i, c) in causes.iter().take(top).enumerate() {
        let rule = if c.rule.is_empty() { String::new() } else { format!(" — {}", c.rule) };
        let _ = writeln!(
            out,
            "  {}. {} scenario(s), {} step(s) [{}; {}]: {}: got {}{rule}",
            i + 1,
            c.scenarios,
            c.steps,
            c.level.as_str().to_uppercase(),
            who(c),
            c.check,
            c.shape
        );
        let _ = writeln!(
            out,
            "     e.g. {} step \"{}\": expected {}, got {}",
            c.example.scenario, c.example.step, c.example.expected, c.example.actual
        );
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
}
