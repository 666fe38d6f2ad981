//! The two authentication tests and the seam the OAuth client ([`crate::oauth`]) plugs into.
//!
//! [`evidence`] asks the run's token source for a fresh token and makes one SCIM request with it, giving a
//! [`TokenAttempt`] for the flow the source is configured for: a client secret is OAuth 2.0 client credentials
//! (RFC 6749 §4.4, `Validate_Credentials_Test`), a JWT-bearer client assertion signed with a private key is the
//! workload identity federation flow (RFC 7523 §2.2, `Federated_Identity_Test`; docs/entra.md §6). The suite judges
//! each attempt by Microsoft's criteria (overview tests 21 and 22). A flow that is not configured is `None`:
//! Microsoft skips the test when `scimTokenEndpoint` is empty or the federated parameters are empty.

use std::time::Duration;

use super::Status;
use crate::oauth::{ClientAuth, TokenErrorKind, TokenSource};

/// Shortest and longest access-token lifetime `Validate_Credentials_Test` accepts: 60 to 360 minutes (overview
/// test 21; the gallery requirements page: tokens valid 60 minutes to 6 hours).
pub const TOKEN_LIFETIME: (Duration, Duration) = (Duration::from_secs(60 * 60), Duration::from_secs(360 * 60));

/// What one token flow gave: filled by the OAuth client, judged here. Carries no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenAttempt {
    /// The token endpoint's HTTP status (0: no answer).
    pub token_status: u16,
    /// Whether its JSON carried a non-empty `access_token` (RFC 6749 §5.1).
    pub has_access_token: bool,
    /// The token's lifetime (`expires_in`, RFC 6749 §5.1), when given.
    pub lifetime: Option<Duration>,
    /// The status of a SCIM request made with the token (0: none made or no answer).
    pub scim_status: u16,
}

/// The token flows configured for a run; both `None` until an OAuth client fills them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthEvidence {
    /// OAuth 2.0 client credentials against the vendor's `scimTokenEndpoint`.
    pub client_credentials: Option<TokenAttempt>,
    /// Workload identity federation (an Entra token exchanged for the vendor's).
    pub federated: Option<TokenAttempt>,
}

/// The evidence of the run's OAuth client `source` against `base_url`: one token fetched fresh from the token
/// endpoint, then `GET {base_url}/Users?startIndex=1&count=2` with it (as Entra's Test Connection), each within
/// `timeout`. Filed under client credentials when the client proves itself with a secret, under federation when
/// with a signed assertion.
pub async fn evidence(
    source: &TokenSource,
    client: &reqwest::Client,
    base_url: &str,
    timeout: Duration,
) -> AuthEvidence {
    let attempt = match source.fetch().await {
        Ok(issued) => {
            let scim_status = client
                .get(crate::preflight::url(base_url))
                .header("Accept", "application/scim+json, application/json")
                .bearer_auth(&issued.access_token)
                .timeout(timeout)
                .send()
                .await
                .map_or(0, |r| r.status().as_u16());
            TokenAttempt {
                token_status: 200,
                has_access_token: !issued.access_token.is_empty(),
                lifetime: issued.expires_in.map(Duration::from_secs),
                scim_status,
            }
        }
        Err(e) => {
            let (token_status, has_access_token) = match e.kind {
                TokenErrorKind::Refused { status, .. } => (status, false),
                // a 2xx that is not an RFC 6749 §5.1 token response
                TokenErrorKind::Malformed => (200, false),
                TokenErrorKind::Unreachable | TokenErrorKind::Assertion => (0, false),
            };
            TokenAttempt { token_status, has_access_token, lifetime: None, scim_status: 0 }
        }
    };
    match source.config().auth {
        ClientAuth::Secret(_) => AuthEvidence { client_credentials: Some(attempt), federated: None },
        ClientAuth::Assertion(_) => AuthEvidence { client_credentials: None, federated: Some(attempt) },
    }
}

/// `Validate_Credentials_Test`: SKIPPED without a token endpoint; PASSED when the endpoint answered 2xx with an
/// `access_token` whose lifetime is 60–360 minutes and a SCIM request with it answered 2xx; else FAILED naming
/// the first unmet criterion.
pub fn validate_credentials(attempt: Option<&TokenAttempt>) -> (Status, String) {
    let Some(a) = attempt else {
        return (
            Status::Skipped,
            "scimTokenEndpoint is empty (static bearer token): no OAuth client credentials configured".into(),
        );
    };
    judge(a, true)
}

/// `Federated_Identity_Test`: SKIPPED without federated parameters; PASSED when the exchange answered 2xx with an
/// `access_token` and a SCIM request with it answered 2xx.
pub fn federated_identity(attempt: Option<&TokenAttempt>) -> (Status, String) {
    let Some(a) = attempt else {
        return (Status::Skipped, "federated parameters are empty: no workload identity federation configured".into());
    };
    judge(a, false)
}

fn judge(a: &TokenAttempt, lifetime_checked: bool) -> (Status, String) {
    if !(200..300).contains(&a.token_status) {
        return (Status::Failed, format!("the token endpoint answered {} (2xx expected)", a.token_status));
    }
    if !a.has_access_token {
        return (Status::Failed, "the token endpoint's answer has no access_token".into());
    }
    if lifetime_checked {
        let (min, max) = TOKEN_LIFETIME;
        match a.lifetime {
            Some(l) if l >= min && l <= max => {}
            Some(l) => {
                return (
                    Status::Failed,
                    format!("the token lives {} minutes; Microsoft accepts 60 to 360", l.as_secs() / 60),
                )
            }
            None => {
                return (
                    Status::Failed,
                    "the token endpoint gave no expires_in; Microsoft checks 60-360 minutes".into(),
                )
            }
        }
    }
    if !(200..300).contains(&a.scim_status) {
        return (Status::Failed, format!("a SCIM request with the token answered {} (2xx expected)", a.scim_status));
    }
    (Status::Passed, "token acquired and accepted by the SCIM endpoint".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> TokenAttempt {
        TokenAttempt {
            token_status: 200,
            has_access_token: true,
            lifetime: Some(Duration::from_secs(3600)),
            scim_status: 200,
        }
    }

    #[test]
    fn not_configured_is_skipped_as_microsoft_does() {
        assert_eq!(validate_credentials(None).0, Status::Skipped);
        assert_eq!(federated_identity(None).0, Status::Skipped);
    }

    #[test]
    fn credentials_are_judged_by_microsofts_criteria() {
        assert_eq!(validate_credentials(Some(&ok())).0, Status::Passed);
        let short = TokenAttempt { lifetime: Some(Duration::from_secs(30 * 60)), ..ok() };
        let (s, why) = validate_credentials(Some(&short));
        assert_eq!(s, Status::Failed);
        assert!(why.contains("30 minutes"), "{why}");
        let long = TokenAttempt { lifetime: Some(Duration::from_secs(361 * 60)), ..ok() };
        assert_eq!(validate_credentials(Some(&long)).0, Status::Failed);
        assert_eq!(validate_credentials(Some(&TokenAttempt { token_status: 400, ..ok() })).0, Status::Failed);
        assert_eq!(validate_credentials(Some(&TokenAttempt { scim_status: 401, ..ok() })).0, Status::Failed);
        assert_eq!(validate_credentials(Some(&TokenAttempt { has_access_token: false, ..ok() })).0, Status::Failed);
        // the federated test does not check the lifetime
        assert_eq!(federated_identity(Some(&short)).0, Status::Passed);
    }
}
