//! The two authentication tests: the run's OAuth client ([`crate::oauth`]) is checked by [`crate::oauth::validate`]
//! (the one implementation of Microsoft's credential criteria) and the checks are judged here under Microsoft's
//! test names.
//!
//! A client secret is OAuth 2.0 client credentials (RFC 6749 §4.4, `Validate_Credentials_Test`), a JWT-bearer
//! client assertion signed with a private key is the workload identity federation flow (RFC 7523 §2.2,
//! `Federated_Identity_Test`; docs/entra.md §6). A flow that is not configured is `None`: Microsoft skips the test
//! when `scimTokenEndpoint` is empty or the federated parameters are empty (overview tests 21 and 22).

use std::time::Duration;

use super::Status;
use crate::oauth::validate::{Validation, Verdict};
use crate::oauth::{ClientAuth, TokenSource};

/// How long the suite waits for a token to expire to show that the SCIM server then refuses it (RFC 6750 §3.1):
/// a token living longer is not waited for (that check is skipped with the reason).
pub const EXPIRY_WAIT: Duration = Duration::from_secs(10);

/// The token flows configured for a run, each the credential checks of [`crate::oauth::validate`]; both `None`
/// without an OAuth client. Carries no secret (the checks' details are redacted).
#[derive(Debug, Clone, Default)]
pub struct AuthEvidence {
    /// OAuth 2.0 client credentials against the vendor's `scimTokenEndpoint`.
    pub client_credentials: Option<Validation>,
    /// Workload identity federation (an assertion exchanged for the vendor's token).
    pub federated: Option<Validation>,
}

impl AuthEvidence {
    /// Why the run has no working credential for its SCIM tests: the token endpoint of the configured flow
    /// refused or failed (its check's detail), else `None`.
    pub fn token_unavailable(&self) -> Option<String> {
        let v = self.client_credentials.as_ref().or(self.federated.as_ref())?;
        match v.check("token-endpoint") {
            Some(c) if c.verdict == Verdict::Fail => Some(c.detail.clone()),
            _ => None,
        }
    }
}

/// The evidence of the run's OAuth client `source` against `base_url`: [`crate::oauth::validate::validate_credentials`]
/// (a fresh token, its lifetime, `GET {base_url}/Users?startIndex=1&count=2` with it, and whether a token past its
/// expiry is refused when it expires within [`EXPIRY_WAIT`]), each request within `timeout`. Filed under client
/// credentials when the client proves itself with a secret, under federation when with a signed assertion.
pub async fn evidence(
    source: &TokenSource,
    client: &reqwest::Client,
    base_url: &str,
    timeout: Duration,
) -> AuthEvidence {
    let v = crate::oauth::validate::validate_credentials(source, client, base_url, timeout, Some(EXPIRY_WAIT)).await;
    match source.config().auth {
        ClientAuth::Secret(_) => AuthEvidence { client_credentials: Some(v), federated: None },
        ClientAuth::Assertion(_) => AuthEvidence { client_credentials: None, federated: Some(v) },
    }
}

/// `Validate_Credentials_Test`: SKIPPED without a token endpoint; PASSED when every credential check passed or was
/// skipped (2xx with an `access_token`, a lifetime of 60–360 minutes, a SCIM request with it answered 2xx, an
/// expired token refused); else FAILED naming every unmet criterion.
pub fn validate_credentials(v: Option<&Validation>) -> (Status, String) {
    let Some(v) = v else {
        return (
            Status::Skipped,
            "scimTokenEndpoint is empty (static bearer token): no OAuth client credentials configured".into(),
        );
    };
    judge(v, true)
}

/// `Federated_Identity_Test`: SKIPPED without federated parameters; PASSED when the exchange answered 2xx with an
/// `access_token`, a SCIM request with it answered 2xx and an expired token is refused (the lifetime is not
/// Microsoft's criterion here).
pub fn federated_identity(v: Option<&Validation>) -> (Status, String) {
    let Some(v) = v else {
        return (Status::Skipped, "federated parameters are empty: no workload identity federation configured".into());
    };
    judge(v, false)
}

fn judge(v: &Validation, lifetime_checked: bool) -> (Status, String) {
    let counted = |name: &str| lifetime_checked || name != "token-lifetime";
    let failed: Vec<String> = v
        .checks
        .iter()
        .filter(|c| c.verdict == Verdict::Fail && counted(c.name))
        .map(|c| format!("{} ({})", c.detail.trim_end_matches('.'), c.rule))
        .collect();
    if !failed.is_empty() {
        return (Status::Failed, failed.join("; "));
    }
    if !v.checks.iter().any(|c| c.name == "token-endpoint" && c.verdict == Verdict::Pass) {
        return (Status::Failed, "no token was obtained from the token endpoint".into());
    }
    let skipped: Vec<String> = v
        .checks
        .iter()
        .filter(|c| c.verdict == Verdict::Skip)
        .map(|c| format!("{} not checked: {}", c.name, c.detail))
        .collect();
    let mut detail = String::from("token acquired and accepted by the SCIM endpoint");
    if !skipped.is_empty() {
        detail = format!("{detail} ({})", skipped.join("; "));
    }
    (Status::Passed, detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::validate::CredentialCheck;

    fn c(name: &'static str, verdict: Verdict, detail: &str) -> CredentialCheck {
        CredentialCheck { name, verdict, detail: detail.into(), rule: "rule" }
    }

    fn ok() -> Vec<CredentialCheck> {
        vec![
            c("token-endpoint", Verdict::Pass, "2xx"),
            c("token-lifetime", Verdict::Pass, "60 minutes"),
            c("scim-with-token", Verdict::Pass, "200"),
            c("expiry-enforced", Verdict::Skip, "lives 3600 s"),
        ]
    }

    fn with(name: &str, check: CredentialCheck) -> Validation {
        Validation { checks: ok().into_iter().map(|o| if o.name == name { check.clone() } else { o }).collect() }
    }

    #[test]
    fn not_configured_is_skipped_as_microsoft_does() {
        assert_eq!(validate_credentials(None).0, Status::Skipped);
        assert_eq!(federated_identity(None).0, Status::Skipped);
    }

    #[test]
    fn credentials_are_judged_by_microsofts_criteria() {
        let (s, why) = validate_credentials(Some(&Validation { checks: ok() }));
        assert_eq!(s, Status::Passed);
        assert!(why.contains("expiry-enforced not checked"), "{why}");
        let short = with("token-lifetime", c("token-lifetime", Verdict::Fail, "expires_in 1800 s (30 minutes)"));
        let (s, why) = validate_credentials(Some(&short));
        assert_eq!(s, Status::Failed);
        assert!(why.contains("30 minutes"), "{why}");
        // the federated test does not check the lifetime
        assert_eq!(federated_identity(Some(&short)).0, Status::Passed);
        for name in ["scim-with-token", "expiry-enforced"] {
            let v = with(name, c(name, Verdict::Fail, "broken"));
            assert_eq!(validate_credentials(Some(&v)).0, Status::Failed, "{name}");
            assert_eq!(federated_identity(Some(&v)).0, Status::Failed, "{name}");
        }
        let refused = Validation { checks: vec![c("token-endpoint", Verdict::Fail, "400 invalid_client")] };
        let (s, why) = validate_credentials(Some(&refused));
        assert_eq!(s, Status::Failed);
        assert!(why.contains("400 invalid_client"), "{why}");
        assert!(AuthEvidence { client_credentials: Some(refused), federated: None }.token_unavailable().is_some());
        assert!(AuthEvidence { client_credentials: Some(short), federated: None }.token_unavailable().is_none());
    }
}
