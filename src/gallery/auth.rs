//! The two authentication tests: the run's OAuth clients ([`crate::oauth`]) are checked by
//! [`crate::oauth::validate`] (the one implementation of Microsoft's credential criteria) and the checks are judged
//! here under Microsoft's test names.
//!
//! A client secret is OAuth 2.0 client credentials (RFC 6749 §4.4, `Validate_Credentials_Test`), a JWT-bearer
//! client assertion signed with a private key is the workload identity federation flow (RFC 7523 §2.2,
//! `Federated_Identity_Test`; docs/entra.md §6). A run may configure both, as Microsoft's template takes both
//! parameter sets (`scimTokenEndpoint`/`scimClientId`/`scimClientSecret` and `federatedTokenEndpoint`/
//! `federatedClientId`): each is checked. A flow that is not configured is `None`: Microsoft skips the test when
//! `scimTokenEndpoint` is empty or the federated parameters are empty (overview tests 21 and 22).
//!
//! The SCIM tests are sent with the client-credentials token, the credential Microsoft's template names "for SCIM
//! API authentication" (`scimClientId`); with the assertion's when no secret is configured or the client
//! credentials' token endpoint gave no token ([`AuthEvidence::scim_flow`]), so that one working flow is enough to
//! judge the server, as one passing authentication test is enough for Microsoft's result.

use std::sync::Arc;
use std::time::Duration;

use super::Status;
use crate::oauth::config::OAuthSources;
use crate::oauth::validate::{Validation, Verdict};
use crate::oauth::TokenSource;

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

/// One of the two token flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Client credentials with a secret (`Validate_Credentials_Test`).
    ClientCredentials,
    /// A JWT-bearer client assertion (`Federated_Identity_Test`).
    Federated,
}

fn got_token(v: &Validation) -> bool {
    v.check("token-endpoint").is_some_and(|c| c.verdict == Verdict::Pass)
}

impl AuthEvidence {
    /// Why the run has no working credential for its SCIM tests: every configured flow's token endpoint refused or
    /// failed (their checks' details, `; `-joined), else `None` (also without OAuth).
    pub fn token_unavailable(&self) -> Option<String> {
        let flows: Vec<&Validation> = self.client_credentials.iter().chain(self.federated.iter()).collect();
        if flows.is_empty() || flows.iter().any(|v| got_token(v)) {
            return None;
        }
        let why: Vec<String> = flows
            .iter()
            .map(|v| v.check("token-endpoint").map_or("no token".to_string(), |c| c.detail.clone()))
            .collect();
        Some(why.join("; "))
    }

    /// The flow whose tokens the SCIM tests are sent with: client credentials when configured and its token
    /// endpoint gave a token, else federation when it did; `None` without OAuth or when no flow got a token.
    pub fn scim_flow(&self) -> Option<Flow> {
        match (&self.client_credentials, &self.federated) {
            (Some(c), _) if got_token(c) => Some(Flow::ClientCredentials),
            (_, Some(f)) if got_token(f) => Some(Flow::Federated),
            _ => None,
        }
    }
}

/// The evidence of the run's OAuth clients `sources` against `base_url`, both flows at once:
/// [`crate::oauth::validate::validate_credentials`] for each (a fresh token, its lifetime,
/// `GET {base_url}/Users?startIndex=1&count=2` with it, and whether a token past its expiry is refused when it
/// expires within [`EXPIRY_WAIT`]), each request within `timeout`. The secret's client is filed under client
/// credentials, the assertion's under federation.
pub async fn evidence(
    sources: &OAuthSources,
    client: &reqwest::Client,
    base_url: &str,
    timeout: Duration,
) -> AuthEvidence {
    let check = |source: Option<&Arc<TokenSource>>| {
        let source = source.cloned();
        async move {
            match source {
                Some(s) => Some(
                    crate::oauth::validate::validate_credentials(&s, client, base_url, timeout, Some(EXPIRY_WAIT))
                        .await,
                ),
                None => None,
            }
        }
    };
    let (client_credentials, federated) =
        tokio::join!(check(sources.secret.as_ref()), check(sources.assertion.as_ref()));
    AuthEvidence { client_credentials, federated }
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
        assert!(AuthEvidence { client_credentials: Some(refused.clone()), federated: None }
            .token_unavailable()
            .is_some());
        assert!(AuthEvidence { client_credentials: Some(short), federated: None }.token_unavailable().is_none());

        // two flows: the SCIM tests go with client credentials, or with federation when only that one got a token;
        // no credential only when neither did
        let good = Validation { checks: ok() };
        let both = AuthEvidence { client_credentials: Some(good.clone()), federated: Some(good.clone()) };
        assert_eq!(both.scim_flow(), Some(Flow::ClientCredentials));
        assert!(both.token_unavailable().is_none());
        let fed_only = AuthEvidence { client_credentials: Some(refused.clone()), federated: Some(good.clone()) };
        assert_eq!(fed_only.scim_flow(), Some(Flow::Federated));
        assert!(fed_only.token_unavailable().is_none());
        let neither = AuthEvidence { client_credentials: Some(refused.clone()), federated: Some(refused) };
        assert_eq!(neither.scim_flow(), None);
        let why = neither.token_unavailable().unwrap();
        assert_eq!(why.matches("400 invalid_client").count(), 2, "{why}");
        assert_eq!(AuthEvidence { client_credentials: None, federated: Some(good) }.scim_flow(), Some(Flow::Federated));
        assert_eq!(AuthEvidence::default().scim_flow(), None);
        assert!(AuthEvidence::default().token_unavailable().is_none());
    }
}
