//! A server declining a filter the RFC lets it decline.
//!
//! RFC 7644 §3.4.2.2: "Filtering is an OPTIONAL parameter for SCIM service providers", and Table 9 (§3.12) names
//! `invalidFilter` for a filter whose "attribute and filter comparison combination is not supported". A server that
//! implements only the filters the IdPs send is conformant, so when it answers a step's filter with 400
//! `invalidFilter` (or 501 Not Implemented, or a 400 whose `detail` says filtering is not supported) the step is not
//! a failure of the rule under test: it is **skipped**, naming the filter and the rule that allows declining it.
//!
//! Every step that sends a filter (the `filter` query parameter, or the `filter` member of a `POST …/.search` body)
//! is judged this way; what the step relies on is derived from that filter, not declared case by case. The
//! exception is a filter an IdP sends in production ([`idp_requirement`]): Okta looks users up with
//! `userName eq`, Entra with its matching attributes (`userName eq`, `externalId eq`, joined by `and`) and groups
//! with `displayName eq` (or `members[value eq …]`). Declining one of those is that IdP's interop failure, so such a
//! step keeps its failures and gets one more naming the IdP document.

use serde_json::Value;

use crate::check::{CheckId, Failure};
use crate::exchange::{Method, Observed};
use crate::idp::Idp;
use crate::scenario::Basis;
use crate::verdict::{ScenarioResult, StepResult, StepVerdict, Verdict};

/// The start of a step's `error` when it was skipped because the server declined its filter; a scenario with such
/// a step and no failure ends `skip` ([`settle`]).
pub const DECLINED: &str = "skipped: the server declined the filter";

/// The rule that lets a server decline a filter.
pub const RULE: &str = "RFC 7644 §3.4.2.2 (filtering is OPTIONAL) and §3.12 Table 9 (invalidFilter: \"the specified \
                        attribute and filter comparison combination is not supported\")";

/// Okta's production lookup before every create (and its SPEC suite's steps 3, 5, 9, 11).
const OKTA_LOOKUP: &str = "Okta SCIM 2.0 guide, 'Retrieve Users' (https://developer.okta.com/docs/api/openapi/\
                           okta-scim/guides/scim-20/): Okta looks every user up with GET /Users?filter=userName eq \
                           \"…\" before it creates one";

/// Entra's queries by matching attribute.
const ENTRA_QUERIES: &str = "Microsoft Entra tutorial 'Develop and plan provisioning for a SCIM endpoint' \
                             (https://learn.microsoft.com/en-us/entra/identity/app-provisioning/\
                             use-scim-to-provision-users-and-groups), endpoint requirements: users are queried by \
                             userName and externalId, groups by displayName, with eq (and and)";

/// The filter a request sends: the `filter` query parameter of a GET, or the `filter` member of a `POST
/// …/.search` body (RFC 7644 §3.4.3). `None` when it sends none, and for the discovery endpoints (RFC 7644 §4).
pub fn filter_of(method: Method, path: &str, query: &[(String, String)], body: Option<&Value>) -> Option<String> {
    // RFC 7644 §4: discovery endpoints are not queried; a filter there SHOULD get 403, never a decline
    let discovery = ["/ServiceProviderConfig", "/ResourceTypes", "/Schemas"]
        .iter()
        .any(|d| path.get(..d.len()).is_some_and(|p| p.eq_ignore_ascii_case(d)));
    if discovery {
        return None;
    }
    match method {
        Method::GET => query.iter().find(|(k, _)| k.eq_ignore_ascii_case("filter")).map(|(_, v)| v.clone()),
        Method::POST if path.trim_end_matches('/').ends_with("/.search") => {
            body?.get("filter").and_then(Value::as_str).map(str::to_string)
        }
        _ => None,
    }
}

/// Whether a response declines the request's filter: 400 with `scimType` `invalidFilter` (RFC 7644 §3.12 Table 9),
/// 501 Not Implemented, or a 400 whose `detail` says filtering (or the filter) is not supported. The description
/// names the status and what the server said.
pub fn declined(obs: &Observed) -> Option<String> {
    let body = obs.json();
    let member = |name: &str| {
        body.and_then(Value::as_object)
            .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
            .and_then(|(_, v)| v.as_str())
    };
    let scim_type = member("scimType");
    let detail = member("detail").unwrap_or("");
    let lower = detail.to_ascii_lowercase();
    let says_unsupported = lower.contains("filter")
        && ["not supported", "unsupported", "not implemented", "not allowed"].iter().any(|w| lower.contains(w));
    let said = if detail.is_empty() { String::new() } else { format!(": \"{}\"", shorten(detail)) };
    match (obs.status, scim_type) {
        (400, Some(t)) if t.eq_ignore_ascii_case("invalidFilter") => Some(format!("400 invalidFilter{said}")),
        (501, _) => Some(format!("501 Not Implemented{said}")),
        (400, _) if says_unsupported => Some(format!("400{said}")),
        _ => None,
    }
}

fn shorten(s: &str) -> String {
    if s.chars().count() <= 120 {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(120).collect::<String>())
    }
}

/// The comparisons of a filter as `(attribute path, operator)`, lower-cased, plus whether it uses anything else
/// than comparisons joined by `and`/`or` (`not`, a value path `[…]`). Values are skipped, quoted or not.
fn comparisons(filter: &str) -> (Vec<(String, String)>, bool) {
    let mut words: Vec<String> = Vec::new();
    let mut other = false;
    let mut chars = filter.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() || c == '(' || c == ')' {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut escaped = false;
            for c in chars.by_ref() {
                match (escaped, c) {
                    (true, _) => escaped = false,
                    (false, '\\') => escaped = true,
                    (false, '"') => break,
                    _ => {}
                }
            }
            words.push("\"".into());
        } else {
            let mut w = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '(' || c == ')' || c == '"' {
                    break;
                }
                w.push(c);
                chars.next();
            }
            other |= w.contains('[');
            words.push(w.to_ascii_lowercase());
        }
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        match words[i].as_str() {
            "and" | "or" => i += 1,
            "not" => {
                other = true;
                i += 1;
            }
            attr => {
                let op = words.get(i + 1).cloned().unwrap_or_default();
                out.push((attr.to_string(), op.clone()));
                i += if op == "pr" { 2 } else { 3 };
            }
        }
    }
    (out, other)
}

/// The IdP document that makes an IdP send this filter, when the scenario's IdP does: Okta's `userName eq` lookup
/// on `/Users`; Entra's `eq` on `userName`/`externalId` (joined by `and`) on `/Users`, and `displayName eq` or
/// `members[value eq …]` on `/Groups`. `None` for every other filter, and for `rfc` scenarios.
pub fn idp_requirement(idp: Idp, path: &str, filter: &str) -> Option<&'static str> {
    let users = path.starts_with("/Users");
    let groups = path.starts_with("/Groups");
    let (cmp, other) = comparisons(filter);
    let all_eq_on = |attrs: &[&str]| {
        !cmp.is_empty() && !other && cmp.iter().all(|(a, op)| op == "eq" && attrs.contains(&a.as_str()))
    };
    let lower = filter.to_ascii_lowercase();
    let members_value = lower.trim_start().starts_with("members[value eq ") && !lower.contains(" or ");
    match idp {
        Idp::Okta if users && cmp.len() == 1 && all_eq_on(&["username"]) => Some(OKTA_LOOKUP),
        Idp::Entra if users && all_eq_on(&["username", "externalid"]) => Some(ENTRA_QUERIES),
        Idp::Entra if groups && (all_eq_on(&["displayname"]) || members_value) => Some(ENTRA_QUERIES),
        _ => None,
    }
}

/// Judges a step whose status check failed on a declined filter: a filter no IdP of the scenario needs becomes `notRun`
/// with [`DECLINED`], the filter, what the server answered and [`RULE`] (its failures kept as observations); a filter
/// the IdP sends stays failed, with one more failure naming the IdP document. Steps that passed, sent no filter or
/// were not declined are left as they are.
pub fn judge(r: &mut StepResult, idp: Idp, path: &str, filter: Option<&str>) {
    let (Some(filter), StepVerdict::Fail) = (filter, r.verdict) else { return };
    // only a refusal the step did not expect: a step that asks for 400 invalidFilter (a malformed filter) is judged
    // on its other checks as usual
    if !r.failures.iter().any(|f| f.id == CheckId::Status) {
        return;
    }
    let Some(answer) = r.response.as_ref().and_then(declined) else { return };
    match idp_requirement(idp, path, filter) {
        Some(doc) => {
            let mut f = Failure::new(
                "filter declined",
                format!("the filter `{filter}` answered: {} sends it", idp_name(idp)),
                answer,
            )
            .with_id(CheckId::FilterDeclined);
            f.basis = Some(Basis::Required(doc.to_string()));
            r.failures.push(f);
        }
        None => {
            r.verdict = StepVerdict::NotRun;
            r.error = Some(format!("{DECLINED} `{filter}` ({answer}); {RULE} lets a server decline it"));
            r.observations.append(&mut r.failures);
        }
    }
}

fn idp_name(idp: Idp) -> &'static str {
    match idp {
        Idp::Okta => "Okta",
        Idp::Entra => "Entra ID",
        Idp::Rfc => "the RFC",
    }
}

/// After the verdict is computed: a scenario that would pass but had steps skipped by [`judge`] is `skip`, its
/// reason naming each declined filter — what it tests was not shown. Failures and errors are left as they are.
pub fn settle(result: &mut ScenarioResult) {
    if result.verdict != Verdict::Pass {
        return;
    }
    let declined: Vec<&str> = result
        .steps
        .iter()
        .filter(|s| s.verdict == StepVerdict::NotRun)
        .filter_map(|s| s.error.as_deref())
        .filter(|e| e.starts_with(DECLINED))
        .collect();
    if let Some(first) = declined.first() {
        let more = match declined.len() {
            1 => String::new(),
            n => format!(" (and {} more declined filter step(s))", n - 1),
        };
        result.verdict = Verdict::Skip;
        result.reason = Some(format!("{}{more}", first.trim_start_matches("skipped: ")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_filters_an_idp_sends_are_its_requirement() {
        assert!(idp_requirement(Idp::Okta, "/Users", "userName eq \"a@example.com\"").is_some());
        assert!(idp_requirement(Idp::Okta, "/Users", "userName sw \"a\"").is_none());
        assert!(idp_requirement(Idp::Okta, "/Users", "userName eq \"a\" or userName eq \"b\"").is_none());
        assert!(idp_requirement(Idp::Entra, "/Users", "externalId eq \"x\"").is_some());
        assert!(idp_requirement(Idp::Entra, "/Users", "externalId eq x").is_some());
        assert!(idp_requirement(Idp::Entra, "/Users", "userName eq \"a\" and externalId eq \"b\"").is_some());
        assert!(idp_requirement(Idp::Entra, "/Users", "emails[type eq \"work\"].value eq \"a\"").is_none());
        assert!(idp_requirement(Idp::Entra, "/Users", "id eq \"a\" and manager eq \"b\"").is_none());
        assert!(idp_requirement(Idp::Entra, "/Groups", "displayName eq \"Sales and (EMEA)\"").is_some());
        assert!(idp_requirement(Idp::Entra, "/Groups", "members[value eq \"u1\"]").is_some());
        assert!(idp_requirement(Idp::Rfc, "/Users", "userName eq \"a\"").is_none());
    }

    #[test]
    fn only_resource_queries_carry_a_filter_that_may_be_declined() {
        let q = |f: &str| vec![("filter".to_string(), f.to_string())];
        assert_eq!(filter_of(Method::GET, "/Users", &q("title co \"x\""), None).as_deref(), Some("title co \"x\""));
        assert_eq!(filter_of(Method::GET, "/ResourceTypes", &q("name eq \"User\""), None), None);
        assert_eq!(filter_of(Method::GET, "/Schemas", &q("id eq \"x\""), None), None);
        let body = serde_json::json!({"filter": "userName sw \"a\""});
        assert_eq!(filter_of(Method::POST, "/.search", &[], Some(&body)).as_deref(), Some("userName sw \"a\""));
        assert_eq!(filter_of(Method::POST, "/Users", &[], Some(&body)), None);
    }

    fn step(failed_checks: &[&str], status: u16, body: Value) -> StepResult {
        use crate::exchange::{Body, Observed};
        StepResult {
            failures: failed_checks
                .iter()
                .map(|c| {
                    let f = Failure::new(*c, "x", "y");
                    if *c == "status" {
                        f.with_id(CheckId::Status)
                    } else {
                        f
                    }
                })
                .collect(),
            response: Some(Observed {
                status,
                headers: vec![],
                body: Body::Json(body),
                size: 0,
                elapsed: std::time::Duration::ZERO,
            }),
            ..StepResult::new("s", crate::scenario::Level::Must, crate::scenario::Kind::Rfc, StepVerdict::Fail)
        }
    }

    #[test]
    fn an_unexpected_refusal_of_an_optional_filter_is_a_skip_and_an_idp_filter_stays_failed() {
        let refusal = serde_json::json!({"scimType": "invalidFilter", "detail": "co is not supported"});
        let mut r = step(&["status", "/totalResults equals"], 400, refusal.clone());
        judge(&mut r, Idp::Rfc, "/Users", Some("title co \"nag\""));
        assert_eq!(r.verdict, StepVerdict::NotRun);
        assert!(r.error.as_deref().is_some_and(|e| e.starts_with(DECLINED) && e.contains("RFC 7644 §3.4.2.2")));
        assert_eq!((r.failures.len(), r.observations.len()), (0, 2));

        let mut r = step(&["status"], 400, refusal.clone());
        judge(&mut r, Idp::Okta, "/Users", Some("userName eq \"a@example.com\""));
        assert_eq!(r.verdict, StepVerdict::Fail);
        assert!(r.failures.iter().any(|f| f.id == CheckId::FilterDeclined));

        // the step expected the 400 (a malformed filter): its other checks are judged as usual
        let mut r = step(&["/status equals"], 400, refusal);
        judge(&mut r, Idp::Rfc, "/Users", Some("userName eq"));
        assert_eq!(r.verdict, StepVerdict::Fail);

        // a 400 that is not a refusal of the filter
        let mut r = step(&["status"], 400, serde_json::json!({"scimType": "invalidValue"}));
        judge(&mut r, Idp::Rfc, "/Users", Some("title co \"nag\""));
        assert_eq!(r.verdict, StepVerdict::Fail);
    }

    #[test]
    fn comparisons_skip_values_and_see_not_and_value_paths() {
        let (c, other) = comparisons("(userName eq \"a or b\" or title co \"x\\\"y\") and displayName pr");
        assert_eq!(
            c,
            [("username".into(), "eq".into()), ("title".into(), "co".into()), ("displayname".into(), "pr".into())]
        );
        assert!(!other);
        assert!(comparisons("not (title eq \"x\")").1);
        assert!(comparisons("emails[type eq \"work\"]").1);
    }
}
