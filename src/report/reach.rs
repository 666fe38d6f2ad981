//! Which IdP a failed request would break, read from the IdP requirements list
//! ([`crate::requirements::REQUIREMENTS`]): a step of an `rfc` scenario that sends the very request an IdP cannot
//! provision without — Okta's and Entra's `userName eq` lookup, Entra's `externalId eq` and group `displayName eq`
//! lookups, Entra's PATCH of users and groups, Okta's PATCH of `active` and of groups, as the IdP module's one table
//! of them says ([`crate::idp::sent_by_idp`]) — fails that IdP too, so the fix-first list ([`super::causes`]) names
//! the IdP and ranks the cause with the IdPs' own.
//!
//! Only requirements every run holds the server to are read (not a suite's, such as Okta's entitlements): the
//! capability must be the one the request exercises, not merely one the scenario declares.

use crate::check::CheckId;
use crate::exchange::{Method, SentRequest};
use crate::idp::Idp;
use crate::requirements::{IdpRequirement, REQUIREMENTS};
use crate::runner::StepResult;
use crate::scenario::Feature;

/// The IdPs a failed step breaks by their requirements ([`REQUIREMENTS`]), in `okta`, `azure` order: its request
/// is one an IdP cannot provision without ([`sent_by`]) and the step wanted it to succeed — it was refused (a
/// `status` check expecting a 2xx got something else) or it succeeded with a wrong answer (a 2xx whose body
/// failed a check, such as a lookup missing its user). A step that expected a refusal (RFC 7644 §3.5.2.3's
/// `noTarget` for a replace through an unmatched filter) and got a success is the RFC's rule, not the IdP's:
/// Entra itself expects that replace to succeed. Empty when no request was sent.
pub fn needed_by(step: &StepResult) -> Vec<Idp> {
    let Some(req) = step.request.as_ref() else { return vec![] };
    let success = |status: u16| (200..300).contains(&status);
    let wanted_success = match (step.failures.iter().find(|f| f.id == CheckId::Status), &step.response) {
        (Some(f), Some(o)) => f.expected.trim_start().starts_with('2') && !success(o.status),
        (None, Some(o)) => success(o.status),
        (_, None) => false,
    };
    if wanted_success {
        sent_by(req)
    } else {
        vec![]
    }
}

/// The IdPs whose requirement ([`REQUIREMENTS`]) the request is, in `okta`, `azure` order; empty when none.
pub fn sent_by(req: &SentRequest) -> Vec<Idp> {
    let mut idps: Vec<Idp> =
        REQUIREMENTS.iter().filter(|r| r.suite.is_none() && exercises(r, req)).map(|r| r.idp).collect();
    idps.sort();
    idps.dedup();
    idps
}

/// Whether `req` is a request `r` says its IdP sends: the IdP's lookup for a filter requirement, its PATCH for a
/// PATCH requirement, as the IdP module's one table of them has it ([`crate::idp::sent_by_idp`]).
fn exercises(r: &IdpRequirement, req: &SentRequest) -> bool {
    let sent = || crate::idp::sent_by_idp(r.idp, req.method, &req.path, &req.query, req.body.as_ref());
    match r.feature {
        Feature::Filter => req.method == Method::GET && sent(),
        Feature::Patch => req.method == Method::PATCH && sent(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn sent(method: Method, path: &str, query: &[(&str, &str)], body: Option<Value>) -> SentRequest {
        SentRequest {
            method,
            url: format!("http://h{path}"),
            path: path.into(),
            query: query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            headers: vec![],
            step_headers: vec![],
            body,
            body_text: None,
            auth: crate::exchange::AuthMode::Default,
            spaces: None,
        }
    }

    #[test]
    fn the_lookups_the_idps_send_are_theirs() {
        let get = |path: &str, f: &str| sent_by(&sent(Method::GET, path, &[("filter", f)], None));
        assert_eq!(get("/Users", r#"userName eq "a@b.c""#), [Idp::Okta, Idp::Entra]);
        assert_eq!(get("/Users", r#"externalId eq "x""#), [Idp::Entra]);
        assert_eq!(get("/Groups", r#"displayName eq "Sales""#), [Idp::Entra]);
        // Entra's group lookup carries excludedAttributes=members (docs/entra.md §1): still Entra's
        let members = [("filter", r#"displayName eq "Sales""#), ("excludedAttributes", "members")];
        assert_eq!(sent_by(&sent(Method::GET, "/Groups", &members, None)), [Idp::Entra]);
        // another operator or attribute is the RFC's alone
        assert!(get("/Users", r#"userName sw "a""#).is_empty());
        assert!(get("/Users", r#"userName eq "a" and active eq true"#).is_empty());
        assert!(get("/Users", r#"name.givenName eq "a""#).is_empty());
        // the IdPs look up with GET only, and never ask for a projection or an order
        let search = sent(Method::POST, "/Users/.search", &[], Some(json!({"filter": "userName eq \"a\""})));
        assert!(sent_by(&search).is_empty());
        for extra in ["attributes", "excludedAttributes", "sortBy", "sortOrder"] {
            let projected = sent(Method::GET, "/Users", &[("filter", r#"userName eq "a""#), (extra, "userName")], None);
            assert!(sent_by(&projected).is_empty(), "{extra}");
        }
    }

    #[test]
    fn patches_the_idps_send_are_theirs() {
        let patch = |path: &str, ops: Value| sent_by(&sent(Method::PATCH, path, &[], Some(ops)));
        let active = json!({"Operations": [{"op": "replace", "path": "active", "value": false}]});
        let pathless = json!({"Operations": [{"op": "replace", "value": {"active": false}}]});
        let nick = json!({"Operations": [{"op": "add", "path": "nickName", "value": "x"}]});
        assert_eq!(patch("/Users/1", active), [Idp::Okta, Idp::Entra]);
        assert_eq!(patch("/Users/1", pathless), [Idp::Okta, Idp::Entra]);
        assert_eq!(patch("/Users/1", nick.clone()), [Idp::Entra]);
        assert_eq!(patch("/Groups/1", nick.clone()), [Idp::Okta, Idp::Entra]);
        assert!(patch("/Users", nick.clone()).is_empty());
        assert!(patch("/Schemas/1", nick).is_empty());
        assert!(sent_by(&sent(Method::PUT, "/Users/1", &[], None)).is_empty());
    }

    #[test]
    fn only_a_request_that_should_have_succeeded_breaks_the_idp() {
        use crate::check::Failure;
        use crate::exchange::Observed;
        use crate::runner::StepVerdict;
        let lookup = sent(Method::GET, "/Users", &[("filter", "userName eq \"a\"")], None);
        let step = |status: u16, failures: Vec<Failure>| StepResult {
            request: Some(lookup.clone()),
            response: Some(Observed::status_only(status)),
            failures,
            ..StepResult::new("s", crate::scenario::Level::Must, crate::scenario::Kind::Rfc, StepVerdict::Fail)
        };
        let both = [Idp::Okta, Idp::Entra];
        // refused, or answered 200 with the wrong body: the IdP's lookup is broken
        assert_eq!(needed_by(&step(500, vec![Failure::new("status", "200", "500").with_id(CheckId::Status)])), both);
        assert_eq!(needed_by(&step(200, vec![Failure::new("/totalResults equals", "1", "0")])), both);
        // a refusal the RFC asks for, answered with a success: not the IdP's rule
        assert!(needed_by(&step(200, vec![Failure::new("status", "400", "200").with_id(CheckId::Status)])).is_empty());
        assert!(needed_by(&step(404, vec![Failure::new("/detail notEmpty", "x", "absent")])).is_empty());
        assert!(needed_by(&StepResult { response: None, ..step(200, vec![]) }).is_empty());
    }

    /// The IdP module's builders and this module read one table: every lookup and PATCH a dialect builds is a
    /// request its IdP cannot provision without (Okta's group lookup is the simulator's, not among Okta's
    /// documented requests, docs/okta.md §2).
    #[test]
    fn every_lookup_and_patch_the_idp_builders_send_is_their_idps() {
        use crate::idp::{changed_attrs, Dialect, Member, ScimRequest, UserAttrs};
        let as_sent = |r: ScimRequest| {
            let query: Vec<(&str, &str)> = r.query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            sent(r.method, &r.path, &query, r.body)
        };
        let old = UserAttrs { user_name: "a@example.test".into(), given_name: "A".into(), ..UserAttrs::default() };
        let new = UserAttrs { given_name: "B".into(), department: "R&D".into(), title: "T".into(), ..old.clone() };
        let attrs = changed_attrs(&old, &new);
        let m = [Member { id: "u1".into(), display: "a".into() }];
        for d in Dialect::ALL {
            let idp = d.idp();
            let mut requests = vec![d.user_lookup("a@example.test")];
            if d.is_entra() {
                requests.push(d.group_lookup("Sales"));
            }
            requests.push(d.user_update("1", &new, &attrs, Some(&json!({"id": "1"}))));
            requests.push(d.user_set_active("1", false, Some(&json!({"id": "1"}))));
            requests.push(d.group_rename("g", "G2", &m));
            requests.extend(d.manager_set("1", Some("m")));
            requests.extend(d.membership_updates("g", "G", &m, &m, &m, 10));
            let mut checked = 0;
            for r in requests.into_iter().filter(|r| matches!(r.method, Method::GET | Method::PATCH)) {
                let req = as_sent(r);
                assert!(
                    sent_by(&req).contains(&idp),
                    "{d:?}: {} {} {:?} {:?}",
                    req.method.as_str(),
                    req.path,
                    req.query,
                    req.body
                );
                checked += 1;
            }
            assert!(checked >= 1, "{d:?}: {checked}");
        }
    }
}
