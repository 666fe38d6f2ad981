//! What a customer sees when a server fails an IdP's request, in the IdP's own terms: for Microsoft Entra ID the
//! provisioning-log error code and what the provisioning engine does next (retry, escrow, quarantine, skip); for
//! Okta what the admin sees and whether Okta retries. The one home of this mapping; docs/idp-errors.md is the same
//! table for people, with its sources:
//!
//! - Entra error codes (names and meanings; every code emitted is in [`ENTRA_DOCUMENTED_CODES`], taken from the
//!   page's table): https://learn.microsoft.com/entra/identity/monitoring-health/howto-analyze-provisioning-logs#error-codes
//! - Entra quarantine (immediate on bad credentials or a 404 on a query; otherwise after many failures):
//!   https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-quarantine-status
//! - Entra retries, escrows and 429: docs/engines.md §A, docs/entra.md §5
//! - Okta: docs/okta.md and https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::exchange::Method;
use crate::idp::Idp;

/// What went wrong with one request, as far as the IdP's engine can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// A query (`GET` with `filter`) answered 404 instead of 200 with zero results.
    QueryNotFound,
    /// 401 or 403.
    Unauthorized,
    /// 429.
    TooManyRequests,
    /// 5xx other than 501.
    Unavailable,
    /// 405 Method Not Allowed: the application does not accept the method for what the request addressed.
    MethodNotAllowed,
    /// 501 Not Implemented: the application does not implement what was asked.
    NotImplemented,
    /// No answer: a timeout or a connection that failed.
    NoAnswer,
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
    /// The endpoint itself is missing: a 404 to a request that addressed no resource by id and was no query — a
    /// discovery endpoint (`/Schemas`, `/ResourceTypes`, `/ServiceProviderConfig`, RFC 7644 §4), `/Me`, `/Bulk` or a
    /// resource collection. Microsoft's error table has no code for it.
    EndpointMissing,
    /// The answer was accepted but did not do what was asked (a value that does not read back).
    NotApplied,
}

/// What a request addressed, which decides what a 404 means to the IdP's engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addressed {
    /// A query: a `GET` with `filter`, or a `POST …/.search` (RFC 7644 §3.4.2, §3.4.3).
    Query,
    /// One resource by its id (`/Users/{id}`, `/Groups/{id}`, RFC 7644 §3.4.1): what the engine anchored.
    Resource,
    /// A discovery endpoint: `/Schemas`, `/ResourceTypes`, `/ServiceProviderConfig` and the resources under them
    /// (RFC 7644 §4).
    Discovery,
    /// Anything else: a resource collection, `/Me`, `/Bulk`.
    Other,
}

impl Addressed {
    /// What `path` (relative to the base URI, without its query) addressed; `filter` says whether the request
    /// carried a `filter` query parameter.
    pub fn of(method: Method, path: &str, filter: bool) -> Addressed {
        let segments: Vec<&str> =
            path.split(['?', '#']).next().unwrap_or_default().split('/').filter(|s| !s.is_empty()).collect();
        let first = segments.first().copied().unwrap_or_default();
        let search = segments.last().is_some_and(|s| *s == ".search");
        if ["Schemas", "ResourceTypes", "ServiceProviderConfig", "ServiceProviderConfigs"]
            .iter()
            .any(|d| d.eq_ignore_ascii_case(first))
        {
            Addressed::Discovery
        } else if search || (filter && method == Method::GET) {
            Addressed::Query
        } else if segments.len() >= 2 && !["Me", "Bulk"].iter().any(|o| o.eq_ignore_ascii_case(first)) {
            Addressed::Resource
        } else {
            Addressed::Other
        }
    }
}

impl Failure {
    /// Classifies an answer: `method`, what the request addressed, the status (0: no answer) and whether a 2xx
    /// body was readable. A 404 is a missed query, a lost anchor or a missing endpoint depending on `addressed`.
    /// `None` for a success.
    pub fn of(method: Method, addressed: Addressed, status: u16, readable: bool) -> Option<Failure> {
        Some(match status {
            0 => Failure::NoAnswer,
            501 => Failure::NotImplemented,
            500..=599 => Failure::Unavailable,
            405 => Failure::MethodNotAllowed,
            401 | 403 => Failure::Unauthorized,
            429 => Failure::TooManyRequests,
            404 => match addressed {
                Addressed::Query => Failure::QueryNotFound,
                Addressed::Resource => Failure::AnchorGone,
                Addressed::Discovery | Addressed::Other => Failure::EndpointMissing,
            },
            409 if method == Method::POST => Failure::Conflict,
            400..=499 => Failure::Rejected,
            200..=299 if !readable => Failure::Unreadable,
            200..=299 => return None,
            _ => Failure::Unreadable,
        })
    }
}

/// What the engine does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
    pub code: Cow<'static, str>,
    /// What the customer (Entra) or admin (Okta) sees.
    pub customer_sees: Cow<'static, str>,
    /// What the engine does next.
    pub action: EngineAction,
    /// Whether the IdP retries this request by itself.
    pub retried: bool,
    /// The primary source.
    pub source: Cow<'static, str>,
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
        Idp::Entra => Some(entra(failure)),
        Idp::Okta => Some(okta(failure)),
        Idp::Rfc => None,
    }
}

/// Every error code of the table in section *Error codes* of Microsoft's "How to download and analyze the
/// Microsoft Entra provisioning logs" ([`ENTRA_CODES`], page dated 2023-10-10), one entry per name (a cell listing
/// `Conflict, EntryConflict` gives two). The Entra codes this module emits are all taken from this list (a unit test
/// holds it to that), so a code Microsoft does not document cannot be shown to a customer.
pub const ENTRA_DOCUMENTED_CODES: &[&str] = &[
    "Conflict",
    "EntryConflict",
    "TooManyRequests",
    "InternalServerError",
    "InsufficientRights",
    "MethodNotAllowed",
    "NotPermitted",
    "Unauthorized",
    "UnprocessableEntity",
    "WebExceptionProtocolError",
    "InvalidAnchor",
    "NotImplemented",
    "MandatoryFieldsMissing",
    "MissingValues",
    "SchemaAttributeNotFound",
    "InternalError",
    "InvalidDomain",
    "Timeout",
    "LicenseLimitExceeded",
    "DuplicateTargetEntries",
    "DuplicateSourceEntries",
    "ImportSkipped",
    "EntrySynchronizationSkipped",
    "SystemForCrossDomainIdentityManagementMultipleEntriesInResponse",
    "SystemForCrossDomainIdentityManagementServiceIncompatible",
    "SchemaPropertyCanOnlyAcceptValue",
];

/// The provisioning-log error code Entra logs for `f`, from [`ENTRA_DOCUMENTED_CODES`]; `None` where Microsoft's
/// table has no code for it (a 404 on a query is a quarantine reason, a 400 is logged with the application's own
/// error, a change that does not read back is logged as a success).
pub fn entra_code(f: Failure) -> Option<&'static str> {
    match f {
        Failure::QueryNotFound | Failure::Rejected | Failure::NotApplied | Failure::EndpointMissing => None,
        Failure::Unauthorized => Some("Unauthorized"),
        Failure::TooManyRequests => Some("TooManyRequests"),
        Failure::Unavailable => Some("InternalServerError"),
        Failure::NoAnswer => Some("Timeout"),
        Failure::Conflict => Some("EntryConflict"),
        Failure::MultipleMatches => Some("DuplicateTargetEntries"),
        Failure::Unreadable => Some("SystemForCrossDomainIdentityManagementServiceIncompatible"),
        Failure::AnchorGone => Some("InvalidAnchor"),
        // the table's codes are the names of the HTTP statuses the application answered (Unauthorized,
        // TooManyRequests, InternalServerError, UnprocessableEntity); it lists both of these
        Failure::MethodNotAllowed => Some("MethodNotAllowed"),
        Failure::NotImplemented => Some("NotImplemented"),
    }
}

fn entra(f: Failure) -> Explanation {
    let (sees, action, retried, source) = match f {
        Failure::QueryNotFound => (
            "no error code: the job goes into quarantine at once, \"an HTTP/404 Not Found response was returned rather than the expected HTTP/200 OK\"",
            EngineAction::Quarantine,
            false,
            ENTRA_QUARANTINE,
        ),
        Failure::Unauthorized => (
            "Entra reached the application but was not allowed to make the change; with credentials that are not valid the job goes into quarantine at once until the admin fixes the secret token or OAuth client",
            EngineAction::Quarantine,
            false,
            ENTRA_QUARANTINE,
        ),
        Failure::TooManyRequests => (
            "the application refused the change as overloaded with requests; the attempt is retried automatically",
            EngineAction::Retry,
            true,
            ENTRA_CODES,
        ),
        Failure::Unavailable => (
            "the application answered with an unexpected server error; the attempt is retried automatically in 40 minutes",
            EngineAction::Escrow,
            true,
            ENTRA_CODES,
        ),
        Failure::NoAnswer => (
            "the application did not answer in time; the attempt is retried automatically in 40 minutes",
            EngineAction::Escrow,
            true,
            ENTRA_CODES,
        ),
        Failure::Conflict => (
            "the create conflicts with an account the application already holds: the conflicting values must be corrected, or the matching attribute reviewed if that account was meant to be matched and taken over",
            EngineAction::Escrow,
            true,
            ENTRA_CODES,
        ),
        Failure::Rejected => (
            "no error code of its own: the object fails with the application's SCIM error; it is escrowed and retried in later cycles, and many such failures quarantine the job",
            EngineAction::Escrow,
            true,
            ENTRA_QUARANTINE,
        ),
        Failure::MultipleMatches => (
            "the object fails: more than one account in the application has the configured matching attribute's value",
            EngineAction::Skip,
            false,
            ENTRA_CODES,
        ),
        Failure::Unreadable => (
            "the provisioning service cannot parse the application's answer",
            EngineAction::Escrow,
            true,
            ENTRA_CODES,
        ),
        Failure::AnchorGone => (
            "the account Entra created or matched before no longer exists in the application",
            EngineAction::Escrow,
            true,
            ENTRA_CODES,
        ),
        Failure::MethodNotAllowed => (
            "Entra authenticated with the application but was not allowed to make the change (Microsoft lists MethodNotAllowed with InsufficientRights, NotPermitted and Unauthorized): review the application's instructions and its tutorial",
            EngineAction::Escrow,
            true,
            ENTRA_CODES,
        ),
        Failure::NotImplemented => (
            "the application returned an unexpected response: its configuration may not be correct, or a service issue keeps it from working",
            EngineAction::Escrow,
            true,
            ENTRA_CODES,
        ),
        Failure::EndpointMissing => (
            "no error code of its own: the endpoint the request addressed does not exist in the application (404), so every request to it fails with the application's answer",
            EngineAction::Escrow,
            true,
            ENTRA_QUARANTINE,
        ),
        Failure::NotApplied => (
            "no error code: the provisioning log shows success, but the application holds other values than Entra sent",
            EngineAction::None,
            false,
            ENTRA_CODES,
        ),
    };
    Explanation {
        idp: "entra",
        code: entra_code(f).unwrap_or("none").into(),
        customer_sees: sees.into(),
        action,
        retried,
        source: source.into(),
    }
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
        Failure::Unavailable | Failure::NoAnswer | Failure::NotImplemented => (
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
        Failure::Rejected | Failure::MethodNotAllowed => (
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
        Failure::EndpointMissing => (
            "Provisioning task error",
            "a failed task: the endpoint Okta called does not exist in the app (404)",
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
    Explanation {
        idp: "okta",
        code: code.into(),
        customer_sees: sees.into(),
        action,
        retried,
        source: OKTA_SCIM.into(),
    }
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
        let (q, r) = (Addressed::Query, Addressed::Resource);
        assert_eq!(Failure::of(Method::GET, q, 404, true), Some(Failure::QueryNotFound));
        assert_eq!(Failure::of(Method::GET, r, 404, true), Some(Failure::AnchorGone));
        assert_eq!(Failure::of(Method::POST, Addressed::Other, 409, true), Some(Failure::Conflict));
        assert_eq!(Failure::of(Method::PATCH, r, 400, true), Some(Failure::Rejected));
        assert_eq!(Failure::of(Method::PATCH, r, 0, true), Some(Failure::NoAnswer));
        assert_eq!(Failure::of(Method::PATCH, r, 503, true), Some(Failure::Unavailable));
        assert_eq!(Failure::of(Method::PATCH, r, 501, true), Some(Failure::NotImplemented));
        assert_eq!(Failure::of(Method::DELETE, r, 405, true), Some(Failure::MethodNotAllowed));
        assert_eq!(Failure::of(Method::POST, Addressed::Other, 201, false), Some(Failure::Unreadable));
        assert_eq!(Failure::of(Method::POST, Addressed::Other, 201, true), None);
    }

    #[test]
    fn a_404_means_what_the_request_addressed() {
        let of = |m, path: &str, filter| Failure::of(m, Addressed::of(m, path, filter), 404, true);
        assert_eq!(of(Method::GET, "/Users/2819c223", false), Some(Failure::AnchorGone));
        assert_eq!(of(Method::PATCH, "/Groups/7", false), Some(Failure::AnchorGone));
        assert_eq!(of(Method::GET, "/Users", true), Some(Failure::QueryNotFound));
        assert_eq!(of(Method::POST, "/Users/.search", false), Some(Failure::QueryNotFound));
        for discovery in ["/Schemas", "/ResourceTypes/User", "/ServiceProviderConfig", "/Me", "/Bulk", "/Users"] {
            let f = of(Method::GET, discovery, false);
            assert_eq!(f, Some(Failure::EndpointMissing), "{discovery}");
            let e = explain(Idp::Entra, f.unwrap()).unwrap();
            assert_eq!(e.code, "none", "{discovery}: Microsoft's table has no code for a missing endpoint");
        }
        assert_eq!(Addressed::of(Method::GET, "/Schemas", true), Addressed::Discovery);
    }

    #[test]
    fn each_idp_says_it_in_its_terms() {
        let e = explain(Idp::Entra, Failure::QueryNotFound).unwrap();
        assert_eq!(e.action, EngineAction::Quarantine);
        assert_eq!(explain(Idp::Entra, Failure::TooManyRequests).unwrap().code, "TooManyRequests");
        assert_eq!(explain(Idp::Entra, Failure::MultipleMatches).unwrap().code, "DuplicateTargetEntries");
        let o = explain(Idp::Okta, Failure::Rejected).unwrap();
        assert!(!o.retried, "Okta does not retry a 400");
        assert!(explain(Idp::Rfc, Failure::Rejected).is_none());
    }

    /// A 405 and a 501 are logged under the codes Microsoft's table names for them, not as an unexpected server
    /// error (501 is a 5xx) or the application's own error (405 is a 4xx).
    #[test]
    fn a_405_and_a_501_have_the_codes_microsoft_lists() {
        let r = Addressed::Resource;
        let code = |status| explain(Idp::Entra, Failure::of(Method::PATCH, r, status, true).unwrap()).unwrap().code;
        assert_eq!(code(405), "MethodNotAllowed");
        assert_eq!(code(501), "NotImplemented");
        assert_eq!(code(500), "InternalServerError");
        assert_eq!(code(400), "none");
        // Okta's view is the one of its status class
        let okta = |status| explain(Idp::Okta, Failure::of(Method::PATCH, r, status, true).unwrap()).unwrap();
        assert_eq!((okta(501).retried, okta(405).retried), (okta(503).retried, okta(400).retried));
    }

    /// Every variant, for tests that must cover them all.
    const ALL: [Failure; 14] = [
        Failure::QueryNotFound,
        Failure::Unauthorized,
        Failure::TooManyRequests,
        Failure::Unavailable,
        Failure::MethodNotAllowed,
        Failure::NotImplemented,
        Failure::NoAnswer,
        Failure::Conflict,
        Failure::Rejected,
        Failure::MultipleMatches,
        Failure::Unreadable,
        Failure::AnchorGone,
        Failure::EndpointMissing,
        Failure::NotApplied,
    ];

    #[test]
    fn every_entra_code_emitted_is_on_microsofts_page() {
        for f in ALL {
            let e = explain(Idp::Entra, f).unwrap();
            match entra_code(f) {
                Some(code) => {
                    assert!(ENTRA_DOCUMENTED_CODES.contains(&code), "{f:?}: {code} is not in Microsoft's table");
                    assert_eq!(e.code, code);
                }
                None => assert_eq!(e.code, "none", "{f:?}: a failure without a documented code shows none"),
            }
        }
    }
}
