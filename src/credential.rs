//! The credential scimcheck sends, one type for every sender (`run`, `simulate`, preflight, the benches): how
//! the `Authorization` header is made ([`Credential::authorization`]) and which strings must never be written
//! ([`Credential::secrets`], [`Credential::redactor`]).

use std::sync::Arc;

use crate::normalize::Redactor;
use crate::oauth::{TokenError, TokenSource};
use crate::profile::{AuthStyle, Profile};

/// The credential a run sends.
#[derive(Clone, Default)]
pub enum Credential {
    /// No `Authorization` header.
    #[default]
    None,
    /// A token, written in the profile's (or the overriding) style: `Bearer <token>` or the raw token.
    Token(String),
    /// The whole `Authorization` header value, sent as given.
    Header(String),
    /// Access tokens from an OAuth token endpoint, sent as `Bearer <token>` whatever the style (RFC 6750 §2.1).
    OAuth(Arc<TokenSource>),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::None => f.write_str("None"),
            Credential::Token(_) => f.write_str("Token([redacted])"),
            Credential::Header(_) => f.write_str("Header([redacted])"),
            Credential::OAuth(s) => write!(f, "OAuth({s:?})"),
        }
    }
}

impl Credential {
    /// The `Authorization` value to send now (`None`: send none). A token is written in `style`; an OAuth
    /// credential's cached token is used, or a new one fetched ([`TokenSource::token`]).
    ///
    /// Errors: an OAuth token could not be had ([`TokenError`], one line naming the cause, no secret).
    pub async fn authorization(&self, style: AuthStyle) -> Result<Option<String>, TokenError> {
        match (self, self.fixed(style)) {
            (Credential::OAuth(s), _) => Ok(Some(Profile::authorization(AuthStyle::Bearer, &s.token().await?))),
            (_, fixed) => Ok(fixed.flatten()),
        }
    }

    /// The `Authorization` value of an OAuth credential (`Some`, fetched or cached as by
    /// [`Credential::authorization`]); `None` for a fixed credential, whose value a sender may set once.
    ///
    /// Errors: an OAuth token could not be had.
    pub async fn changing_authorization(&self) -> Result<Option<String>, TokenError> {
        match self {
            Credential::OAuth(s) => Ok(Some(Profile::authorization(AuthStyle::Bearer, &s.token().await?))),
            _ => Ok(None),
        }
    }

    /// The `Authorization` value of a fixed credential (`Some(None)`: send none); `None` for an OAuth
    /// credential, whose value changes as tokens are refreshed ([`Credential::authorization`]).
    pub fn fixed(&self, style: AuthStyle) -> Option<Option<String>> {
        match self {
            Credential::None => Some(None),
            Credential::Token(t) => Some(Some(Profile::authorization(style, t))),
            Credential::Header(h) => Some(Some(h.clone())),
            Credential::OAuth(_) => None,
        }
    }

    /// After an answer to a request sent with `sent` (the `Authorization` value): whether it says the OAuth
    /// access token is no longer good (401 with `WWW-Authenticate: Bearer error="invalid_token"`, RFC 6750 §3.1).
    /// Then the token is dropped from the cache and `true` returned: the request may be sent once more with a
    /// fresh one. Always `false` for a fixed credential.
    pub async fn reject(&self, sent: Option<&str>, status: u16, www_authenticate: Option<&str>) -> bool {
        match (self, sent) {
            (Credential::OAuth(s), Some(sent)) if crate::oauth::is_invalid_token(status, www_authenticate) => {
                s.reject(sent.strip_prefix("Bearer ").unwrap_or(sent)).await
            }
            _ => false,
        }
    }

    /// This credential with a token's style settled now: a [`Credential::Token`] becomes the
    /// [`Credential::Header`] `style` makes of it (`Bearer <token>` or the raw token); any other is kept. For
    /// senders that write every request in one style (`simulate`, the gallery suite) rather than each profile's.
    pub fn styled(self, style: AuthStyle) -> Credential {
        match self {
            Credential::Token(t) => Credential::Header(Profile::authorization(style, &t)),
            other => other,
        }
    }

    /// Whether no credential is sent.
    pub fn is_none(&self) -> bool {
        matches!(self, Credential::None)
    }

    /// Every fixed string that must never appear in output: the token and its `Bearer` form, the whole header
    /// value and the part after its scheme, an OAuth client secret or private key. OAuth access tokens arrive
    /// later: [`Credential::redactor`] covers them too.
    pub fn secrets(&self) -> Vec<String> {
        match self {
            Credential::None => vec![],
            Credential::Token(t) => vec![t.clone(), Profile::authorization(AuthStyle::Bearer, t)],
            Credential::Header(h) => secrets_of_header(h),
            Credential::OAuth(s) => s.config().secrets(),
        }
    }

    /// The redactor of everything this credential must hide, OAuth access tokens fetched later included
    /// ([`TokenSource::redactor`]).
    pub fn redactor(&self) -> Redactor {
        match self {
            Credential::OAuth(s) => s.redactor(),
            _ => Redactor::new(self.secrets()),
        }
    }
}

/// What a command's flags, settings file and environment give for the credential, before [`resolve`] makes it
/// one [`Credential`]. `run` and `simulate` fill it from their own flags (each names its sources in its own words).
#[derive(Default)]
pub struct Given<'a> {
    /// The OAuth token source the SCIM requests are sent with, when OAuth options are given.
    pub oauth: Option<Arc<TokenSource>>,
    /// The whole `Authorization` value (`--auth-header`, `SCIMCHECK_AUTH_HEADER`).
    pub auth_header: Option<&'a str>,
    /// The token, already read from its flag or environment variable ([`read_token`]).
    pub token: Option<String>,
    /// Every source of a fixed credential, by the name a message gives it, and whether it was given: beside OAuth
    /// the first one given is refused ([`crate::oauth::config::fixed_beside_oauth`]).
    pub fixed: &'a [(&'a str, bool)],
}

/// Why no credential could be made of what a command was given; `Display` is the one line printed (it names
/// sources and variables, never a secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialError {
    /// A fixed credential (named as the command names its source) given beside OAuth
    /// ([`crate::oauth::config::fixed_beside_oauth`]).
    FixedBesideOAuth(String),
    /// `--token-env` or `token-env` names an environment variable that is not set (its name).
    TokenEnvUnset(String),
}

impl std::fmt::Display for CredentialError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CredentialError::FixedBesideOAuth(name) => f.write_str(&crate::oauth::config::fixed_beside_oauth(name)),
            CredentialError::TokenEnvUnset(name) => {
                write!(f, "token-env: the environment variable {name} (which should hold the token) is not set")
            }
        }
    }
}

impl std::error::Error for CredentialError {}

impl From<CredentialError> for String {
    fn from(e: CredentialError) -> String {
        e.to_string()
    }
}

/// The one rule from what a command was given to the credential it sends: an OAuth client (RFC 6749 §4.4, its
/// access tokens sent as `Bearer`, RFC 6750 §2.1), else the whole `Authorization` value, else a non-empty token,
/// else none.
///
/// Errors: [`CredentialError::FixedBesideOAuth`], naming the first given source of `given.fixed`: a fixed
/// credential beside OAuth is two credentials for one run, and sending one would drop the other.
pub fn resolve(given: Given<'_>) -> Result<Credential, CredentialError> {
    if let Some(source) = given.oauth {
        if let Some((name, _)) = given.fixed.iter().find(|(_, set)| *set) {
            return Err(CredentialError::FixedBesideOAuth(name.to_string()));
        }
        return Ok(Credential::OAuth(source));
    }
    Ok(match (given.auth_header, given.token) {
        (Some(h), _) => Credential::Header(h.to_string()),
        (None, Some(t)) if !t.is_empty() => Credential::Token(t),
        _ => Credential::None,
    })
}

/// The token of `--token` (`flag`), else of the environment variable `env` names (`--token-env`, `token-env` in
/// the settings file), else of [`TOKEN_ENV`]; `None` when none is set.
///
/// Errors: [`CredentialError::TokenEnvUnset`]: `env` names a variable that is not set.
pub fn read_token(flag: Option<&str>, env: Option<&str>) -> Result<Option<String>, CredentialError> {
    match (flag, env) {
        (Some(t), _) => Ok(Some(t.to_string())),
        (None, Some(name)) => {
            std::env::var(name).map(Some).map_err(|_| CredentialError::TokenEnvUnset(name.to_string()))
        }
        (None, None) => Ok(std::env::var(TOKEN_ENV).ok()),
    }
}

/// Environment variable read for the token when neither `--token` nor a `token-env` names another.
pub const TOKEN_ENV: &str = "SCIMCHECK_TOKEN";

/// The strings of an `Authorization` value that must never be written: the whole value and the credential after
/// its scheme (`Bearer abc` → `Bearer abc`, `abc`).
pub fn secrets_of_header(authorization: &str) -> Vec<String> {
    let v = authorization.trim();
    let mut out = vec![v.to_string()];
    if let Some((_, rest)) = v.split_once(' ') {
        out.push(rest.trim().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fixed_credentials_keep_their_header_and_secrets() {
        let t = Credential::Token("tok-12345".into());
        assert_eq!(t.authorization(AuthStyle::Bearer).await.unwrap().as_deref(), Some("Bearer tok-12345"));
        assert_eq!(t.authorization(AuthStyle::Raw).await.unwrap().as_deref(), Some("tok-12345"));
        assert_eq!(t.secrets(), vec!["tok-12345", "Bearer tok-12345"]);
        let h = Credential::Header("SSWS abc-12345".into());
        assert_eq!(h.authorization(AuthStyle::Bearer).await.unwrap().as_deref(), Some("SSWS abc-12345"));
        assert_eq!(h.secrets(), vec!["SSWS abc-12345", "abc-12345"]);
        assert_eq!(Credential::None.authorization(AuthStyle::Bearer).await.unwrap(), None);
        assert!(!t.reject(Some("Bearer tok-12345"), 401, Some("Bearer error=\"invalid_token\"")).await);
        assert_eq!(format!("{t:?} {h:?}"), "Token([redacted]) Header([redacted])");
    }

    /// The one resolution `run` and `simulate` share: OAuth refuses any fixed credential given beside it, naming the
    /// first given source in the command's words; without OAuth the whole header wins over a token, and an empty
    /// token is no credential.
    #[test]
    fn resolution_prefers_oauth_then_the_header_then_a_non_empty_token() {
        let keys = crate::oauth::OAuthConfig {
            token_url: "http://127.0.0.1:9/token".into(),
            client_id: "id".into(),
            auth: crate::oauth::ClientAuth::Secret("cs-secret-1".into()),
            scope: None,
        };
        let source = Arc::new(TokenSource::new(keys, reqwest::Client::new(), std::time::Duration::from_secs(1)));
        let fixed = [("--auth-header", false), ("--token", true)];
        let given = Given { oauth: Some(source.clone()), token: Some("t-1".into()), fixed: &fixed, ..Given::default() };
        let e = resolve(given).unwrap_err();
        assert_eq!(e, CredentialError::FixedBesideOAuth("--token".into()));
        let e = e.to_string();
        assert!(e.starts_with("--token and --oauth-token-url"), "{e}");
        assert!(!e.contains("t-1") && !e.contains("cs-secret-1"), "{e}");
        let alone = resolve(Given { oauth: Some(source), fixed: &[("--token", false)], ..Given::default() });
        assert!(matches!(alone, Ok(Credential::OAuth(_))));
        let header = Given { auth_header: Some("SSWS h-1"), token: Some("t-1".into()), ..Given::default() };
        assert!(matches!(resolve(header), Ok(Credential::Header(h)) if h == "SSWS h-1"));
        assert!(
            matches!(resolve(Given { token: Some("t-1".into()), ..Given::default() }), Ok(Credential::Token(t)) if t == "t-1")
        );
        assert!(matches!(resolve(Given { token: Some(String::new()), ..Given::default() }), Ok(Credential::None)));
        assert!(matches!(resolve(Given::default()), Ok(Credential::None)));
    }

    /// A token settled into one style keeps every secret hidden: the raw token and its `Bearer` form.
    #[test]
    fn a_styled_token_is_the_header_of_its_style_and_keeps_its_secrets() {
        let raw = Credential::Token("tok-12345".into()).styled(AuthStyle::Raw);
        assert!(matches!(&raw, Credential::Header(h) if h == "tok-12345"));
        assert!(raw.secrets().contains(&"tok-12345".to_string()));
        let bearer = Credential::Token("tok-12345".into()).styled(AuthStyle::Bearer);
        assert!(matches!(&bearer, Credential::Header(h) if h == "Bearer tok-12345"));
        assert!(bearer.redactor().scrub("sent Bearer tok-12345 and tok-12345").find("tok-12345").is_none());
        assert!(
            matches!(Credential::Header("SSWS x".into()).styled(AuthStyle::Raw), Credential::Header(h) if h == "SSWS x")
        );
    }
}
