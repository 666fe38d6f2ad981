//! scimcheck as an OAuth 2.0 client: access tokens for SCIM requests from a token endpoint, by the client
//! credentials grant (RFC 6749 §4.4), the client authenticated by a secret (HTTP Basic, RFC 6749 §2.3.1) or by a
//! JWT-bearer client assertion signed with a private key (RFC 7523 §2.2, RS256 or ES256).
//!
//! This is how Microsoft Entra ID authenticates to gallery apps since 2026 (OAuth client credentials or workload
//! identity federation, tokens valid 60 minutes to 6 hours; see `docs/entra.md` §6 and
//! <https://learn.microsoft.com/entra/identity/enterprise-apps/app-gallery-user-provisioning-requirements>).
//! Like Entra, a [`TokenSource`] caches its token, fetches a new one shortly before the old one expires
//! ([`refresh_margin`]) and, when a SCIM server answers 401 with `WWW-Authenticate: Bearer error="invalid_token"`
//! (RFC 6750 §3.1), drops it so that the request can be sent once more with a fresh one ([`is_invalid_token`]).
//!
//! Secrets — the client secret, the private key, every access token fetched — never appear in an error, a `Debug`
//! output or a report: [`TokenSource::live_secrets`] hands the tokens to the run's redactor as they arrive.
//!
//! [`validate`] holds the checks of Microsoft's `Validate_Credentials_Test` (the gallery suite calls them).

pub mod assertion;
pub mod config;
pub mod validate;

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::normalize::LiveSecrets;
pub use assertion::AssertionKey;

/// How the client proves who it is at the token endpoint.
#[derive(Clone)]
pub enum ClientAuth {
    /// A client secret, sent with HTTP Basic (RFC 6749 §2.3.1).
    Secret(String),
    /// A JWT-bearer client assertion (RFC 7523 §2.2) signed with this key.
    Assertion(Arc<AssertionKey>),
}

/// What is needed to get tokens: the token endpoint, the client and its proof, the scope.
#[derive(Clone)]
pub struct OAuthConfig {
    /// The token endpoint (`http://` or `https://`).
    pub token_url: String,
    /// The client identifier (RFC 6749 §2.2).
    pub client_id: String,
    /// The client's proof.
    pub auth: ClientAuth,
    /// The `scope` parameter (RFC 6749 §3.3), sent when given.
    pub scope: Option<String>,
}

impl std::fmt::Debug for OAuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let auth = match &self.auth {
            ClientAuth::Secret(_) => "client secret [redacted]".to_string(),
            ClientAuth::Assertion(k) => format!("JWT-bearer assertion ({:?}, key [redacted])", k.algorithm()),
        };
        f.debug_struct("OAuthConfig")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("auth", &auth)
            .field("scope", &self.scope)
            .finish()
    }
}

impl OAuthConfig {
    /// The strings that must never be written: the client secret (a key's PEM text is never sent, and is
    /// covered too in case a server echoes it).
    pub fn secrets(&self) -> Vec<String> {
        match &self.auth {
            ClientAuth::Secret(s) => vec![s.clone()],
            ClientAuth::Assertion(k) => k.secrets(),
        }
    }
}

/// Why no token could be had: one line naming the cause, never a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenError {
    /// The cause.
    pub kind: TokenErrorKind,
    /// One line for the user (already free of the configured secrets).
    pub message: String,
}

/// The cause of a [`TokenError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenErrorKind {
    /// The token endpoint could not be reached, or did not answer in time: the exchange's classification of the
    /// failure ([`crate::exchange::TransportKind`]).
    Unreachable(crate::exchange::TransportKind),
    /// The token endpoint refused: its status and, when it sent one, the RFC 6749 §5.2 `error` code
    /// (`invalid_client`, `invalid_grant`, `unauthorized_client`, `unsupported_grant_type`, `invalid_scope`, …).
    Refused {
        /// HTTP status.
        status: u16,
        /// RFC 6749 §5.2 `error`.
        error: Option<String>,
    },
    /// A 2xx whose body is not an RFC 6749 §5.1 token response (no `access_token`, not JSON, a non-Bearer type).
    Malformed,
    /// The client assertion could not be signed.
    Assertion,
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TokenError {}

/// A successful token response (RFC 6749 §5.1). `Debug` never prints the token.
#[derive(Clone)]
pub struct Issued {
    /// The access token.
    pub access_token: String,
    /// `token_type` as sent (RFC 6749 §7.1; compared case-insensitively with `Bearer`).
    pub token_type: String,
    /// `expires_in`, seconds; `None` when the server did not say (it is RECOMMENDED, RFC 6749 §5.1).
    pub expires_in: Option<u64>,
    /// When the answer arrived.
    pub received: Instant,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued")
            .field("access_token", &"[redacted]")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

impl Issued {
    /// When the token stops being valid, if the server said.
    pub fn expires_at(&self) -> Option<Instant> {
        self.expires_in.map(|s| self.received + Duration::from_secs(s))
    }
}

/// RFC 6749 §5.1.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    token_type: String,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

/// RFC 6749 §5.2.
#[derive(Deserialize)]
struct ErrorResponse {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// The largest token endpoint answer read, in bytes.
pub const MAX_TOKEN_RESPONSE: usize = 64 * 1024;

/// How long before its expiry a cached token is replaced: a fifth of its lifetime, at most five minutes (a token
/// of 3600 s is renewed after 55 minutes; one of 2 s after 1.6 s).
pub fn refresh_margin(lifetime: Duration) -> Duration {
    (lifetime / 5).min(Duration::from_secs(300))
}

/// Whether a SCIM answer says the access token is no longer good: 401 with a `WWW-Authenticate` challenge of
/// scheme `Bearer` whose `error` is `invalid_token` (RFC 6750 §3.1).
pub fn is_invalid_token(status: u16, www_authenticate: Option<&str>) -> bool {
    let Some(h) = www_authenticate.filter(|_| status == 401) else { return false };
    let lower = h.to_ascii_lowercase();
    lower.trim_start().starts_with("bearer")
        && lower.split(',').flat_map(|p| p.split_whitespace()).any(|p| {
            let p = p.trim_start_matches("bearer").trim();
            p == "error=\"invalid_token\"" || p == "error=invalid_token"
        })
}

struct Cached {
    token: String,
    /// When to fetch a new one (`None`: when the server rejects it).
    refresh_at: Option<Instant>,
}

/// Fetches access tokens from a token endpoint and caches them for the run (see the module documentation).
pub struct TokenSource {
    config: OAuthConfig,
    client: reqwest::Client,
    timeout: Duration,
    cached: tokio::sync::Mutex<Option<Cached>>,
    issued: LiveSecrets,
    fetches: std::sync::atomic::AtomicUsize,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource").field("config", &self.config).finish_non_exhaustive()
    }
}

impl TokenSource {
    /// A source for `config`, sending with `client`; each token request must be answered within `timeout`.
    pub fn new(config: OAuthConfig, client: reqwest::Client, timeout: Duration) -> TokenSource {
        TokenSource {
            config,
            client,
            timeout,
            cached: tokio::sync::Mutex::new(None),
            issued: Arc::new(RwLock::new(Vec::new())),
            fetches: Default::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &OAuthConfig {
        &self.config
    }

    /// Every access token fetched so far, growing as tokens are fetched (for [`crate::normalize::Redactor::with_live`]).
    pub fn live_secrets(&self) -> LiveSecrets {
        self.issued.clone()
    }

    /// The redactor of this source's secrets ([`OAuthConfig::secrets`]) and of every access token it
    /// fetches, now or later: what [`crate::credential::Credential::redactor`] gives for an OAuth credential.
    pub fn redactor(&self) -> crate::normalize::Redactor {
        crate::normalize::Redactor::with_live(self.config.secrets(), self.live_secrets())
    }

    /// How many tokens were fetched so far.
    pub fn fetches(&self) -> usize {
        self.fetches.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The access token to send now: the cached one, or a new one when there is none or it is within
    /// [`refresh_margin`] of its expiry. Concurrent callers wait for the one fetch.
    ///
    /// Errors: see [`TokenSource::fetch`].
    pub async fn token(&self) -> Result<String, TokenError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref() {
            if c.refresh_at.is_none_or(|t| Instant::now() < t) {
                return Ok(c.token.clone());
            }
        }
        let issued = self.fetch().await?;
        let refresh_at = issued.expires_in.map(|s| {
            let life = Duration::from_secs(s);
            issued.received + life - refresh_margin(life)
        });
        *cached = Some(Cached { token: issued.access_token.clone(), refresh_at });
        Ok(issued.access_token)
    }

    /// Forgets `token` if it is the cached one (the server rejected it, RFC 6750 §3.1), so that the next
    /// [`TokenSource::token`] fetches a new one. Returns whether it was the cached token.
    pub async fn reject(&self, token: &str) -> bool {
        let mut cached = self.cached.lock().await;
        if cached.as_ref().is_some_and(|c| c.token == token) {
            *cached = None;
            true
        } else {
            // another request already replaced it: the next one is fresh
            cached.is_some()
        }
    }

    /// Requests a new token, bypassing the cache (the client credentials grant, RFC 6749 §4.4.2).
    ///
    /// Errors ([`TokenError`], one line naming the token endpoint): it cannot be reached or does not answer within
    /// the timeout; it answers non-2xx (with its RFC 6749 §5.2 `error` code when it sends one); its 2xx is not a
    /// token response (RFC 6749 §5.1: `access_token` and `token_type`, here `Bearer`); the assertion cannot be
    /// signed.
    pub async fn fetch(&self) -> Result<Issued, TokenError> {
        let c = &self.config;
        let mut form: Vec<(&str, String)> = vec![("grant_type", "client_credentials".into())];
        if let Some(s) = &c.scope {
            form.push(("scope", s.clone()));
        }
        let mut req = self.client.post(&c.token_url).header("Accept", "application/json");
        match &c.auth {
            ClientAuth::Secret(secret) => {
                // RFC 6749 §2.3.1: both parts form-encoded before Basic
                let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
                req = req.basic_auth(enc(&c.client_id), Some(enc(secret)));
            }
            ClientAuth::Assertion(key) => {
                let jwt = key
                    .sign(&c.client_id, &c.token_url)
                    .map_err(|e| self.error(TokenErrorKind::Assertion, e.to_string()))?;
                form.push(("client_id", c.client_id.clone()));
                form.push(("client_assertion_type", assertion::ASSERTION_TYPE.into()));
                form.push(("client_assertion", jwt));
            }
        }
        let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let req = req.header("Content-Type", "application/x-www-form-urlencoded").body(body);
        let url = &c.token_url;
        // sent and read (up to MAX_TOKEN_RESPONSE, within the timeout) as every request of scimcheck is
        let answer = crate::exchange::receive(req, MAX_TOKEN_RESPONSE, self.timeout).await.map_err(|e| {
            self.error(
                TokenErrorKind::Unreachable(e.kind),
                format!("the OAuth token endpoint {url} could not be reached: {e}"),
            )
        })?;
        let (status, bytes) = (answer.status, answer.bytes);
        let received = Instant::now();
        let Some(bytes) = bytes else {
            return Err(self.error(
                TokenErrorKind::Malformed,
                format!("the OAuth token endpoint {url} answered {status} with a body over {MAX_TOKEN_RESPONSE} bytes"),
            ));
        };
        if !(200..300).contains(&status) {
            let parsed: Option<ErrorResponse> = serde_json::from_slice(&bytes).ok();
            let (error, message) = match parsed {
                Some(e) => {
                    let desc = e.error_description.map(|d| format!(" ({})", crate::exchange::truncate(&d, 160)));
                    let code = crate::exchange::truncate(&e.error, 60);
                    let meaning = error_meaning(&code).map(|m| format!(": {m}")).unwrap_or_default();
                    (Some(code.clone()), format!("error \"{code}\"{meaning}{}", desc.unwrap_or_default()))
                }
                None => (None, "no RFC 6749 §5.2 error body".to_string()),
            };
            return Err(self.error(
                TokenErrorKind::Refused { status, error },
                format!(
                    "the OAuth token endpoint {url} refused the client credentials grant: HTTP {status}, {message}"
                ),
            ));
        }
        let parsed: TokenResponse = serde_json::from_slice(&bytes).map_err(|e| {
            self.error(
                TokenErrorKind::Malformed,
                format!(
                    "the OAuth token endpoint {url} answered {status} without a token response (RFC 6749 §5.1 needs \
                     access_token and token_type): {}",
                    e.to_string().split(" at line").next().unwrap_or("")
                ),
            )
        })?;
        if parsed.access_token.is_empty() || !parsed.token_type.eq_ignore_ascii_case("bearer") {
            return Err(self.error(
                TokenErrorKind::Malformed,
                format!(
                    "the OAuth token endpoint {url} answered {status} with {} (a Bearer access token is needed, RFC \
                     6750)",
                    if parsed.access_token.is_empty() {
                        "an empty access_token".to_string()
                    } else {
                        format!("token_type \"{}\"", crate::exchange::truncate(&parsed.token_type, 40))
                    }
                ),
            ));
        }
        // RFC 6749 §5.1 gives expires_in as a number; some servers send it as a string
        let expires_in = match parsed.expires_in {
            Some(serde_json::Value::Number(n)) => n.as_u64(),
            Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        self.issued.write().expect("not poisoned").push(parsed.access_token.clone());
        self.fetches.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(Issued { access_token: parsed.access_token, token_type: parsed.token_type, expires_in, received })
    }

    /// An error whose message is scrubbed of the configured secrets and the tokens fetched so far.
    fn error(&self, kind: TokenErrorKind, message: String) -> TokenError {
        TokenError { kind, message: self.redactor().scrub(&message) }
    }
}

/// What an RFC 6749 §5.2 error code means, in a few words.
pub fn error_meaning(code: &str) -> Option<&'static str> {
    Some(match code {
        "invalid_request" => "the request is malformed (RFC 6749 §5.2)",
        "invalid_client" => {
            "client authentication failed: unknown client, wrong secret or bad assertion (RFC 6749 §5.2)"
        }
        "invalid_grant" => "the grant or assertion is invalid, expired or revoked (RFC 6749 §5.2)",
        "unauthorized_client" => "this client may not use the client credentials grant (RFC 6749 §5.2)",
        "unsupported_grant_type" => "the server does not support the client credentials grant (RFC 6749 §5.2)",
        "invalid_scope" => "the scope is invalid or not allowed for this client (RFC 6749 §5.2)",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_token_challenges_are_recognised_per_rfc_6750() {
        assert!(is_invalid_token(401, Some("Bearer realm=\"scim\", error=\"invalid_token\"")));
        assert!(is_invalid_token(401, Some("Bearer error=\"invalid_token\", error_description=\"expired\"")));
        assert!(is_invalid_token(401, Some("bearer error=invalid_token")));
        assert!(!is_invalid_token(401, Some("Bearer realm=\"scim\"")));
        assert!(!is_invalid_token(401, Some("Bearer error=\"insufficient_scope\"")));
        assert!(!is_invalid_token(401, Some("Basic realm=\"x\"")));
        assert!(!is_invalid_token(403, Some("Bearer error=\"invalid_token\"")));
        assert!(!is_invalid_token(401, None));
    }

    #[test]
    fn refresh_margin_is_a_fifth_capped_at_five_minutes() {
        assert_eq!(refresh_margin(Duration::from_secs(2)), Duration::from_millis(400));
        assert_eq!(refresh_margin(Duration::from_secs(3600)), Duration::from_secs(300));
    }
}
