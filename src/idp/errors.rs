//! What a customer sees when a server fails an IdP's request, in the IdP's own terms: for Microsoft Entra ID the
//! provisioning-log error code and what the provisioning engine does next (retry, escrow, quarantine, skip); for
//! Okta what the admin sees and whether Okta retries. The one home of this mapping; docs/idp-errors.md is the same
//! table for people, with its sources:
//!
//! - Entra error codes: https://learn.microsoft.com/entra/identity/monitoring-health/howto-analyze-provisioning-logs#error-codes
//! - Entra quarantine (immediate on bad credentials or a 404 on a query; otherwise after many failures):
//!   https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-quarantine-status
//! - Entra retries, escrows and 429: docs/engines.md §A, docs/entra.md §5
//! - Okta: docs/okta.md and https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20

use serde::Serialize;

use crate::scenario::{Idp, Method};

/// What went wrong with one request, as far as the IdP's engine can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// A query (`GET` with `filter`) answered 404 instead of 200 with zero results.
    QueryNotFound,
    /// 401 or 403.
    Unauthorized,
    /// 429.
    TooManyRequests,
    /// 5xx, a timeout or no answer.
    Unavailable,
    /// 409 on a create.
    Conflict,
    /// Another 4xx on a write (400 and the like).
    Rejected,
    /// A query for one object found more than one.
    MultipleMatches,
    /// A 2xx the engine cannot read (not JSON, not a SCIM resource or ListResponse, no `id` on a create).
    Unreadable,
    /// The object the engine keeps an id for is gone (404 on `/Users/{id}` or `/Groups/{id}`).
    AnchorGone,
    /// The answer was accepted but did not do what was asked (a value that does not read back).
    NotApplied,
}

impl Failure {
    /// Classifies an answer: `method`, whether the request was a query, the status (0: no answer) and whether a 2xx
    /// body was readable. `None` for a success.
    pub fn of(method: Method, query: bool, status: u16, readable: bool) -> Option<Failure> {
        Some(match status {
            0 | 500..=599 => Failure::Unavailable,
            401 | 403 => Failure::Unauthorized,
            429 => Failure::TooManyRequests,
            404 if query => Failure::QueryNotFound,
            404 => Failure::AnchorGone,
            409 if method == Method::POST => Failure::Conflict,
            400..=499 => Failure::Rejected,
            200..=299 if !readable => Failure::Unreadable,
            200..=299 => return None,
            _ => Failure::Unreadable,
        })
    }
}

/// What the engine does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum EngineAction {
    /// The request is tried again (next cycle, or after `Retry-After`).
    Retry,
    /// The object is escrowed: retried in later cycles; many escrows lead to quarantine.
    Escrow,
    /// The whole job is quarantined at once: cycles slow down to daily and stop after 28 days.
    Quarantine,
    /// The object is skipped; nothing is retried until something changes.
    Skip,
    /// The change is reported as a success; nothing is retried (the customer's data stays wrong).
    None,
}

/// The IdP's view of a failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    /// `entra` or `okta`.
    pub idp: &'static str,
    /// Entra: the provisioning-log error code; Okta: the kind of message the admin sees.
    pub code: &'static str,
    /// What the customer (Entra) or admin (Okta) sees.
    pub customer_sees: &'static str,
    /// What the engine does next.
    pub action: EngineAction,
    /// Whether the IdP retries this request by itself.
    pub retried: bool,
    /// The primary source.
    pub source: &'static str,
}

/// Microsoft's provisioning-log error code page.
pub const ENTRA_CODES: &str =
    "https://learn.microsoft.com/entra/identity/monitoring-health/howto-analyze-provisioning-logs#error-codes";
/// Microsoft's quarantine page.
pub const ENTRA_QUARANTINE: &str =
    "https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-quarantine-status";
/// Okta's SCIM 2.0 guide.
pub const OKTA_SCIM: &str = "https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20";

/// The explanation of `failure` for `idp`; `None` for RFC-only steps (no IdP involved).
pub fn explain(idp: Idp, failure: Failure) -> Option<Explanation> {
    match idp {
        Idp::Azure => Some(entra(failure)),
        Idp::Okta => Some(okta(failure)),
        Idp::Rfc => None,
    }
}

fn entra(f: Failure) -> Explanation {
    let (code, sees, action, retried, source) = match f {
        Failure::QueryNotFound => (
            "SCIM compliance issue (quarantine reason)",
            "the job goes into quarantine: \"an HTTP/404 Not Found response was returned rather than the expected HTTP/200 OK\"",
            EngineAction::Quarantine,
            false,
            ENTRA_QUARANTINE,
        ),
        Failure::Unauthorized => (
            "Unauthorized",
            "the job goes into quarantine for invalid credentials; the admin must fix the secret token or OAuth client",
            EngineAction::Quarantine,
            false,
            ENTRA_QUARANTINE,
        ),
        Failure::TooManyRequests => (
            "TooManyRequests",
            "the object fails with TooManyRequests; the job is suspended for Retry-After",
            EngineAction::Retry,
            true,
            ENTRA_CODES,
        ),
        Failure::Unavailable => (
            "(the HTTP status or a timeout)",
            "the object fails with the HTTP status or a timeout; it is retried in the next cycle (about 40 minutes)",
            EngineAction::Escrow,
            true,
            ENTRA_CODES,
        ),
        Failure::Conflict => (
            "EntryConflict",
            "Create fails with a conflict: the matching attribute did not find the existing account, so Entra tried to create it again",
            EngineAction::Escrow,
            true,
            ENTRA_CODES,
        ),
        Failure::Rejected => (
            "(the server's SCIM error)",
            "the object fails with the server's SCIM error detail; it is escrowed and retried in later cycles, and many such failures quarantine the job",
            EngineAction::Escrow,
            true,
            ENTRA_CODES,
        ),
        Failure::MultipleMatches => (
            "SystemForCrossDomainIdentityManagementMultipleEntriesInResponse",
            "the object fails: a query by its matching attribute returned more than one account (DuplicateTargetEntries when the matching itself is ambiguous)",
            EngineAction::Skip,
            false,
            ENTRA_CODES,
        ),
        Failure::Unreadable => (
            "SystemForCrossDomainIdentityManagementServiceIncompatible",
            "the provisioning service cannot parse the application's answer",
            EngineAction::Escrow,
            true,
            ENTRA_CODES,
        ),
        Failure::AnchorGone => (
            "InvalidAnchor",
            "the account Entra created or matched before no longer exists in the application",
            EngineAction::Escrow,
            true,
            ENTRA_CODES,
        ),
        Failure::NotApplied => (
            "(none: logged as success)",
            "the provisioning log shows success, but the application holds other values than Entra sent",
            EngineAction::None,
            false,
            ENTRA_CODES,
        ),
    };
    Explanation { idp: "entra", code, customer_sees: sees, action, retried, source }
}

fn okta(f: Failure) -> Explanation {
    let (code, sees, action, retried) = match f {
        Failure::QueryNotFound => (
            "none",
            "nothing: Okta reads a 404 on its lookup as \"no such user\" and creates the user",
            EngineAction::None,
            false,
        ),
        Failure::Unauthorized => (
            "Authentication failed",
            "the app's provisioning fails with an authentication error; Test API Credentials fails",
            EngineAction::Skip,
            false,
        ),
        Failure::TooManyRequests => {
            ("Rate limit", "a provisioning task error; Okta backs off and tries again", EngineAction::Retry, true)
        }
        Failure::Unavailable => (
            "Provisioning task error",
            "a failed task in the admin dashboard's Tasks list (60-second socket timeout); the admin retries it",
            EngineAction::Retry,
            true,
        ),
        Failure::Conflict => (
            "User already exists",
            "a failed task: the user could not be created in the app",
            EngineAction::Skip,
            false,
        ),
        Failure::Rejected => (
            "Provisioning task error",
            "a failed task with the server's error detail; Okta does not retry a 400 by itself, the admin must",
            EngineAction::Skip,
            false,
        ),
        Failure::MultipleMatches => {
            ("Provisioning task error", "a failed task: the lookup found more than one user", EngineAction::Skip, false)
        }
        Failure::Unreadable => (
            "Provisioning task error",
            "a failed task: Okta could not parse the answer (plain-text errors break its parser)",
            EngineAction::Skip,
            false,
        ),
        Failure::AnchorGone => (
            "Provisioning task error",
            "a failed task: the app user Okta linked no longer exists",
            EngineAction::Skip,
            false,
        ),
        Failure::NotApplied => (
            "none",
            "nothing: the task succeeds and the app holds other values than Okta pushed",
            EngineAction::None,
            false,
        ),
    };
    Explanation { idp: "okta", code, customer_sees: sees, action, retried, source: OKTA_SCIM }
}

impl Explanation {
    /// One line: `Entra: SystemForCrossDomainIdentityManagementServiceIncompatible — … (quarantine)`.
    pub fn line(&self) -> String {
        let who = if self.idp == "entra" { "Entra provisioning log" } else { "Okta" };
        let action = match self.action {
            EngineAction::Retry => "retried",
            EngineAction::Escrow => "escrowed, retried next cycle",
            EngineAction::Quarantine => "quarantine",
            EngineAction::Skip => "not retried",
            EngineAction::None => "no error shown",
        };
        format!("{who}: {} — {} ({action})", self.code, self.customer_sees)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_classified_from_the_answer() {
        assert_eq!(Failure::of(Method::GET, true, 404, true), Some(Failure::QueryNotFound));
        assert_eq!(Failure::of(Method::GET, false, 404, true), Some(Failure::AnchorGone));
        assert_eq!(Failure::of(Method::POST, false, 409, true), Some(Failure::Conflict));
        assert_eq!(Failure::of(Method::PATCH, false, 400, true), Some(Failure::Rejected));
        assert_eq!(Failure::of(Method::PATCH, false, 0, true), Some(Failure::Unavailable));
        assert_eq!(Failure::of(Method::POST, false, 201, false), Some(Failure::Unreadable));
        assert_eq!(Failure::of(Method::POST, false, 201, true), None);
    }

    #[test]
    fn each_idp_says_it_in_its_terms() {
        let e = explain(Idp::Azure, Failure::QueryNotFound).unwrap();
        assert_eq!(e.action, EngineAction::Quarantine);
        assert_eq!(explain(Idp::Azure, Failure::TooManyRequests).unwrap().code, "TooManyRequests");
        assert!(explain(Idp::Azure, Failure::MultipleMatches).unwrap().code.ends_with("MultipleEntriesInResponse"));
        let o = explain(Idp::Okta, Failure::Rejected).unwrap();
        assert!(!o.retried, "Okta does not retry a 400");
        assert!(explain(Idp::Rfc, Failure::Rejected).is_none());
    }
}
