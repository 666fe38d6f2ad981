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
            (Credential::OAuth(s), _) => Ok(Some(format!("Bearer {}", s.token().await?))),
            (_, fixed) => Ok(fixed.flatten()),
        }
    }

    /// The `Authorization` value of an OAuth credential (`Some`, fetched or cached as by
    /// [`Credential::authorization`]); `None` for a fixed credential, whose value a sender may set once.
    ///
    /// Errors: an OAuth token could not be had.
    pub async fn changing_authorization(&self) -> Result<Option<String>, TokenError> {
        match self {
            Credential::OAuth(s) => Ok(Some(format!("Bearer {}", s.token().await?))),
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
            Credential::Token(t) => vec![t.clone(), format!("Bearer {t}")],
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
}
