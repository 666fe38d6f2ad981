//! The OAuth settings of `run` and `simulate`: flags over `scimcheck.toml` keys.
//!
//! | flag | `scimcheck.toml` | meaning |
//! |---|---|---|
//! | `--oauth-token-url URL` | `oauth-token-url` | the token endpoint; given, scimcheck gets its tokens there |
//! | `--oauth-client-id ID` | `oauth-client-id` | the client id |
//! | `--oauth-client-secret S` (env `SCIMCHECK_OAUTH_CLIENT_SECRET`) | `oauth-client-secret`, `oauth-client-secret-env` | the client secret (HTTP Basic, RFC 6749 §2.3.1) |
//! | `--oauth-private-key FILE` | `oauth-private-key` | a PEM key signing a JWT-bearer client assertion instead (RFC 7523 §2.2) |
//! | `--oauth-key-id KID` | `oauth-key-id` | the assertion's `kid` header |
//! | `--oauth-scope S` | `oauth-scope` | the `scope` parameter |
//!
//! A private key wins over a secret. The secret and the key are never printed; prefer the environment variable
//! to the flag, which shells keep in their history.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::{AssertionKey, ClientAuth, OAuthConfig, TokenSource};
use crate::cli::config::Config;

/// The environment variable read for the client secret.
pub const CLIENT_SECRET_ENV: &str = "SCIMCHECK_OAUTH_CLIENT_SECRET";

/// A secret read from a settings file: `Debug` never shows it.
#[derive(Clone, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The OAuth flags (flattened into `run` and `simulate`). `Debug` never shows the secret.
#[derive(Clone, Default, clap::Args)]
pub struct OAuthArgs {
    /// OAuth 2.0 token endpoint: get access tokens there by the client credentials grant (RFC 6749 §4.4) instead
    /// of sending a fixed token; they are refreshed before they expire.
    #[arg(long, value_name = "URL")]
    pub oauth_token_url: Option<String>,
    /// OAuth client id.
    #[arg(long, value_name = "ID")]
    pub oauth_client_id: Option<String>,
    /// OAuth client secret (never printed). Prefer the environment variable: shells keep flags in their history.
    #[arg(long, env = CLIENT_SECRET_ENV, hide_env_values = true, value_name = "SECRET")]
    pub oauth_client_secret: Option<String>,
    /// PEM private key (RSA or P-256) signing a JWT-bearer client assertion (RFC 7523) instead of a secret.
    #[arg(long, value_name = "FILE")]
    pub oauth_private_key: Option<PathBuf>,
    /// `kid` header of the client assertion.
    #[arg(long, value_name = "KID")]
    pub oauth_key_id: Option<String>,
    /// OAuth `scope` parameter.
    #[arg(long, value_name = "SCOPE")]
    pub oauth_scope: Option<String>,
}

impl std::fmt::Debug for OAuthArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthArgs")
            .field("oauth_token_url", &self.oauth_token_url)
            .field("oauth_client_id", &self.oauth_client_id)
            .field("oauth_client_secret", &self.oauth_client_secret.as_ref().map(|_| "[redacted]"))
            .field("oauth_private_key", &self.oauth_private_key)
            .finish_non_exhaustive()
    }
}

impl OAuthArgs {
    /// The OAuth configuration from these flags over `config`'s keys; `None` when no token endpoint is given.
    ///
    /// Errors (one line, never quoting a secret): a token endpoint that is not `http(s)://`, no client id,
    /// neither a secret nor a key, an `oauth-client-secret-env` variable that is not set, a key file that cannot
    /// be read or is not an RSA or P-256 private key.
    pub fn resolve(&self, config: &Config) -> Result<Option<OAuthConfig>, String> {
        let Some(token_url) = self.oauth_token_url.clone().or(config.oauth_token_url.clone()) else {
            return Ok(None);
        };
        if !(token_url.starts_with("http://") || token_url.starts_with("https://")) {
            return Err(format!("--oauth-token-url '{token_url}' must start with http:// or https://"));
        }
        let client_id =
            self.oauth_client_id.clone().or(config.oauth_client_id.clone()).filter(|c| !c.is_empty()).ok_or(
                "--oauth-token-url needs a client id: --oauth-client-id ID (or oauth-client-id in scimcheck.toml)",
            )?;
        let key_file = self.oauth_private_key.clone().or(config.oauth_private_key.clone());
        let auth = if let Some(path) = key_file {
            let pem = std::fs::read_to_string(&path)
                .map_err(|e| format!("--oauth-private-key {}: cannot read it: {e}", path.display()))?;
            let key = AssertionKey::from_pem(&pem, self.oauth_key_id.clone().or(config.oauth_key_id.clone()))
                .map_err(|e| format!("--oauth-private-key {}: {e}", path.display()))?;
            ClientAuth::Assertion(Arc::new(key))
        } else {
            let from_env_key = match &config.oauth_client_secret_env {
                Some(name) => Some(std::env::var(name).map_err(|_| {
                    format!(
                        "oauth-client-secret-env: the environment variable {name} (which should hold the client \
                             secret) is not set"
                    )
                })?),
                None => None,
            };
            let secret = self
                .oauth_client_secret
                .clone()
                .or(from_env_key)
                .or(config.oauth_client_secret.clone().map(|s| s.0))
                .filter(|s| !s.is_empty())
                .ok_or(format!(
                    "--oauth-token-url needs the client's proof: the secret in {CLIENT_SECRET_ENV} (or \
                     --oauth-client-secret, oauth-client-secret-env), or --oauth-private-key FILE"
                ))?;
            ClientAuth::Secret(secret)
        };
        let scope = self.oauth_scope.clone().or(config.oauth_scope.clone());
        Ok(Some(OAuthConfig { token_url, client_id, auth, scope }))
    }

    /// [`OAuthArgs::resolve`] made into a token source whose client trusts `tls`.
    ///
    /// Errors: those of [`OAuthArgs::resolve`], and a TLS setting the client cannot use.
    pub fn source(
        &self,
        config: &Config,
        tls: &crate::http::TlsOptions,
        timeout: Duration,
    ) -> Result<Option<Arc<TokenSource>>, String> {
        let Some(oauth) = self.resolve(config)? else { return Ok(None) };
        let client = crate::http::client(&crate::http::ClientOptions {
            tls: tls.clone(),
            connect_timeout: timeout,
            pool_max_idle_per_host: 1,
            ..Default::default()
        })?;
        Ok(Some(Arc::new(TokenSource::new(oauth, client, timeout))))
    }
}
