//! The IdP's view of a failed Okta or Entra step, for the terminal, JSON and HTML reports: what the customer
//! would see and what the IdP's engine does next, from the one mapping in [`crate::idp::errors`].

use serde::{Deserialize, Serialize};

use crate::check::CheckId;
use crate::exchange::Body;
use crate::idp::errors::{explain, Addressed, Explanation, Failure};
use crate::idp::Idp;
use crate::runner::{StepResult, StepVerdict};
use crate::scenario::Kind;

/// The IdP's view of a failed step, as the JSON report carries it (`idpView` on a step).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdpView {
    /// `entra` or `okta`.
    pub idp: String,
    /// Entra: the provisioning-log error code; Okta: the kind of message the admin sees.
    pub code: String,
    /// What the customer (Entra) or admin (Okta) sees.
    pub customer_sees: String,
    /// What the engine does next: retry, escrow, quarantine, skip, none.
    pub action: String,
    /// Whether the IdP retries the request by itself.
    pub retried: bool,
    /// The primary source.
    pub source: String,
    /// The same in one line, as the terminal prints it.
    pub line: String,
}

impl From<Explanation> for IdpView {
    fn from(e: Explanation) -> IdpView {
        let action =
            serde_json::to_value(e.action).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        IdpView {
            line: e.line(),
            idp: e.idp.into(),
            code: e.code.into_owned(),
            customer_sees: e.customer_sees.into_owned(),
            action,
            retried: e.retried,
            source: e.source.into_owned(),
        }
    }
}

/// The view of step `s` of a scenario of `idp`: only for a failed or erred `interop` step of an Okta or Entra
/// scenario that sent a request. A success answer to a step that expected an error (a duplicate accepted) has
/// no IdP-side error to show and gets none.
pub fn of_step(idp: Idp, s: &StepResult) -> Option<IdpView> {
    if idp == Idp::Rfc || s.kind != Kind::Interop || !matches!(s.verdict, StepVerdict::Fail | StepVerdict::Error) {
        return None;
    }
    let req = s.request.as_ref()?;
    let query = req.query.iter().any(|(k, _)| k.eq_ignore_ascii_case("filter"));
    let failure = match &s.response {
        None => Failure::NoAnswer,
        Some(o) if !(200..300).contains(&o.status) => {
            Failure::of(req.method, Addressed::of(req.method, &req.path, query), o.status, true)?
        }
        Some(_) if s.failures.iter().any(|f| f.id == CheckId::Status) => return None,
        Some(o) => {
            let unreadable = matches!(o.body, Body::Text(_)) || s.failures.iter().any(|f| f.id.is_content_type());
            let many = query
                && s.failures.iter().any(|f| f.id.is_at("/totalResults"))
                && o.json()
                    .and_then(|j| j.get("totalResults"))
                    .and_then(serde_json::Value::as_u64)
                    .is_some_and(|n| n > 1);
            if unreadable {
                Failure::Unreadable
            } else if many {
                Failure::MultipleMatches
            } else {
                Failure::NotApplied
            }
        }
    };
    explain(idp, failure).map(IdpView::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Failure as CheckFailure;
    use crate::exchange::{AuthMode, Method};
    use crate::exchange::{Observed, SentRequest};
    use crate::scenario::Level;

    /// A failed Entra lookup (`GET /Users?filter=…`) answered 200 with `body`, failing `failures`.
    fn lookup(body: serde_json::Value, failures: Vec<CheckFailure>) -> StepResult {
        let mut s = StepResult::new("lookup", Level::Must, Kind::Interop, StepVerdict::Fail);
        s.request = Some(SentRequest {
            method: Method::GET,
            url: "http://h/scim/Users?filter=userName%20eq%20%22a%22".into(),
            path: "/Users".into(),
            query: vec![("filter".into(), "userName eq \"a\"".into())],
            headers: vec![],
            step_headers: vec![],
            body: None,
            body_text: None,
            auth: AuthMode::Default,
            spaces: None,
        });
        s.response = Some(Observed { body: Body::Json(body), ..Observed::status_only(200) });
        s.failures = failures;
        s
    }

    fn code(s: &StepResult) -> Option<String> {
        of_step(Idp::Entra, s).map(|v| v.code)
    }

    /// The view is chosen by what a failed check looked at ([`CheckId`]), never by the words of its label: a
    /// reworded `totalResults` check is still a duplicate match, a label that merely reads like one is not, and
    /// a content-type or status check is known by its id.
    #[test]
    fn the_view_follows_the_check_id_not_the_label() {
        let two = serde_json::json!({"totalResults": 2, "Resources": []});
        let reworded =
            CheckFailure::new("number of matches", "1", "2").with_id(CheckId::Pointer("/totalResults".into()));
        assert_eq!(code(&lookup(two.clone(), vec![reworded])).as_deref(), Some("DuplicateTargetEntries"));
        let look_alike = CheckFailure::new("/totalResults equals", "1", "2");
        assert_ne!(code(&lookup(two.clone(), vec![look_alike])).as_deref(), Some("DuplicateTargetEntries"));
        let media =
            CheckFailure::new("media type", "application/scim+json", "text/plain").with_id(CheckId::ContentType);
        assert_eq!(
            code(&lookup(two.clone(), vec![media])).as_deref(),
            Some("SystemForCrossDomainIdentityManagementServiceIncompatible")
        );
        let status = CheckFailure::new("answer code", "201", "200").with_id(CheckId::Status);
        assert_eq!(code(&lookup(two, vec![status])), None, "a success where an error was expected has no view");
    }
}
