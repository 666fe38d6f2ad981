//! The checks of Microsoft's gallery credential test (`Validate_Credentials_Test` of the Entra gallery validation
//! template, see `docs/entra.md` §6): the token endpoint answers 2xx with an `access_token`, the token lives between
//! 60 and 360 minutes, and a SCIM request with it is answered 2xx — plus, when asked, that the SCIM server stops
//! accepting a token once its `expires_in` has passed (RFC 6750 §3.1 `invalid_token`).
//!
//! Rules: RFC 6749 §5.1 (token response), RFC 6750 §2.1 and §3.1 (using the token, its rejection), and the
//! lifetime Microsoft requires of gallery apps' tokens
//! (<https://learn.microsoft.com/entra/identity/enterprise-apps/app-gallery-user-provisioning-requirements>:
//! valid 60 minutes to 6 hours).

use std::time::Duration;

use serde::Serialize;

use super::TokenSource;
use crate::exchange::TransportError;
use crate::profile::{AuthStyle, Profile};

/// The shortest lifetime Microsoft accepts for a gallery app's access token, in seconds (60 minutes).
pub const MIN_LIFETIME_SECS: u64 = 3600;
/// The longest, in seconds (360 minutes).
pub const MAX_LIFETIME_SECS: u64 = 21600;

/// The verdict of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Verdict {
    /// The rule holds.
    Pass,
    /// The rule is broken (the detail names it).
    Fail,
    /// Not checked (the detail says why).
    Skip,
}

/// One check: its name, verdict, what was seen (never a secret) and the rule.
#[derive(Debug, Clone, Serialize)]
pub struct CredentialCheck {
    /// `token-endpoint`, `token-lifetime`, `scim-with-token` or `expiry-enforced`.
    pub name: &'static str,
    /// Verdict.
    pub verdict: Verdict,
    /// What was seen.
    pub detail: String,
    /// The rule's source.
    pub rule: &'static str,
}

/// The checks in order; [`Validation::passed`] is Microsoft's verdict (every check passed or was skipped).
#[derive(Debug, Clone, Serialize)]
pub struct Validation {
    /// The checks run.
    pub checks: Vec<CredentialCheck>,
}

impl Validation {
    /// Whether no check failed and the token endpoint check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.verdict != Verdict::Fail)
            && self.checks.iter().any(|c| c.name == "token-endpoint" && c.verdict == Verdict::Pass)
    }

    /// The check named `name`.
    pub fn check(&self, name: &str) -> Option<&CredentialCheck> {
        self.checks.iter().find(|c| c.name == name)
    }
}

const TOKEN_RULE: &str = "RFC 6749 §5.1; Validate_Credentials_Test (docs/entra.md §6)";
const LIFETIME_RULE: &str =
    "https://learn.microsoft.com/entra/identity/enterprise-apps/app-gallery-user-provisioning-requirements";
const USE_RULE: &str = "RFC 6750 §2.1; Validate_Credentials_Test (docs/entra.md §6)";
const EXPIRY_RULE: &str = "RFC 6750 §3.1 (invalid_token: expired)";

fn check(name: &'static str, verdict: Verdict, detail: String, rule: &'static str) -> CredentialCheck {
    CredentialCheck { name, verdict, detail, rule }
}

/// Runs the gallery's credential checks: a fresh token from `source`'s endpoint, its lifetime, and
/// `GET {base_url}/Users?startIndex=1&count=2` with it. With `expiry_wait`, also [`expiry_enforced`] when the
/// token expires within that time (else that check is skipped with the reason).
pub async fn validate_credentials(
    source: &TokenSource,
    client: &reqwest::Client,
    base_url: &str,
    timeout: Duration,
    expiry_wait: Option<Duration>,
) -> Validation {
    let mut checks = Vec::new();
    let issued = match source.fetch().await {
        Ok(i) => i,
        Err(e) => {
            checks.push(check("token-endpoint", Verdict::Fail, e.message, TOKEN_RULE));
            return Validation { checks };
        }
    };
    checks.push(check("token-endpoint", Verdict::Pass, "2xx with an access_token".into(), TOKEN_RULE));
    checks.push(match issued.expires_in {
        Some(s) if (MIN_LIFETIME_SECS..=MAX_LIFETIME_SECS).contains(&s) => {
            check("token-lifetime", Verdict::Pass, format!("expires_in {s} s ({} minutes)", s / 60), LIFETIME_RULE)
        }
        Some(s) => check(
            "token-lifetime",
            Verdict::Fail,
            format!(
                "expires_in {s} s ({} minutes): Microsoft requires 60 to 360 minutes ({MIN_LIFETIME_SECS}–\
                 {MAX_LIFETIME_SECS} s)",
                s / 60
            ),
            LIFETIME_RULE,
        ),
        None => check(
            "token-lifetime",
            Verdict::Fail,
            "no expires_in in the token response: the lifetime (60 to 360 minutes) cannot be shown".into(),
            LIFETIME_RULE,
        ),
    });
    let status = scim_status(client, base_url, &issued.access_token, timeout).await;
    checks.push(match status {
        Ok(s) if (200..300).contains(&s) => {
            check("scim-with-token", Verdict::Pass, format!("GET /Users answered {s}"), USE_RULE)
        }
        Ok(s) => check(
            "scim-with-token",
            Verdict::Fail,
            format!("GET /Users with the new access token answered {s}, not 2xx"),
            USE_RULE,
        ),
        Err(e) => {
            check("scim-with-token", Verdict::Fail, format!("GET /Users with the new access token: {e}"), USE_RULE)
        }
    });
    if let Some(wait) = expiry_wait {
        checks.push(expiry_enforced(source, client, base_url, timeout, wait).await);
    }
    let redactor = source.redactor();
    for c in &mut checks {
        c.detail = redactor.scrub(&c.detail);
    }
    Validation { checks }
}

/// Whether the SCIM server refuses a token once its `expires_in` has passed: fetches a token, waits until one
/// second after its expiry and sends `GET /Users` with it, expecting 401 (RFC 6750 §3.1). Skipped when the
/// token has no `expires_in` or would outlive `max_wait`.
pub async fn expiry_enforced(
    source: &TokenSource,
    client: &reqwest::Client,
    base_url: &str,
    timeout: Duration,
    max_wait: Duration,
) -> CredentialCheck {
    let issued = match source.fetch().await {
        Ok(i) => i,
        Err(e) => return check("expiry-enforced", Verdict::Fail, e.message, EXPIRY_RULE),
    };
    let Some(expires_at) = issued.expires_at() else {
        return check("expiry-enforced", Verdict::Skip, "the token response has no expires_in".into(), EXPIRY_RULE);
    };
    let until = expires_at + Duration::from_secs(1);
    if until.saturating_duration_since(std::time::Instant::now()) > max_wait {
        return check(
            "expiry-enforced",
            Verdict::Skip,
            format!(
                "the token lives {} s, longer than the wait allowed ({} s)",
                issued.expires_in.unwrap_or(0),
                max_wait.as_secs()
            ),
            EXPIRY_RULE,
        );
    }
    tokio::time::sleep_until(until.into()).await;
    match scim_status(client, base_url, &issued.access_token, timeout).await {
        Ok(401) => check("expiry-enforced", Verdict::Pass, "an expired token is answered 401".into(), EXPIRY_RULE),
        Ok(s) => check(
            "expiry-enforced",
            Verdict::Fail,
            format!(
                "GET /Users with a token past its expires_in ({} s) answered {s}: the server ignores the token's \
                 expiry (expected 401 invalid_token)",
                issued.expires_in.unwrap_or(0)
            ),
            EXPIRY_RULE,
        ),
        Err(e) => check("expiry-enforced", Verdict::Fail, format!("GET /Users: {e}"), EXPIRY_RULE),
    }
}

/// Bytes of the answer's body read: none are needed, only the status (a longer body is not read further).
const STATUS_ONLY: usize = 0;

/// The status of `GET {base_url}/Users?startIndex=1&count=2` sent with `token` as a bearer credential (RFC 6750
/// §2.1, written by [`Profile::authorization`], as every fixed credential is), through the exchange every request
/// of scimcheck goes through ([`crate::exchange::receive`]).
///
/// Errors: the [`TransportError`] of a request that got no answer within `timeout`.
async fn scim_status(
    client: &reqwest::Client,
    base_url: &str,
    token: &str,
    timeout: Duration,
) -> Result<u16, TransportError> {
    let req = client
        .get(crate::exchange::BaseUri::new(base_url).connection_test())
        .header("Accept", "application/scim+json, application/json")
        .header(reqwest::header::AUTHORIZATION, Profile::authorization(AuthStyle::Bearer, token));
    Ok(crate::exchange::receive(req, STATUS_ONLY, timeout).await?.status)
}
