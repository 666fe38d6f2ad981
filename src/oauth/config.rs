//! The OAuth settings of `run` and `simulate`: flags over `scimcheck.toml` keys.
//!
//! | flag | `scimcheck.toml` | meaning |
//! |---|---|---|
//! | `--oauth-token-url URL` | `oauth-token-url` | the token endpoint; given, scimcheck gets its tokens there |
//! | `--oauth-client-id ID` | `oauth-client-id` | the client id |
//! | `--oauth-client-secret S` (env `SCIMCHECK_OAUTH_CLIENT_SECRET`) | `oauth-client-secret`, `oauth-client-secret-env` | the client secret (HTTP Basic, RFC 6749 §2.3.1) |
//! | `--oauth-private-key FILE` | `oauth-private-key` | a PEM key signing a JWT-bearer client assertion (RFC 7523 §2.2) |
//! | `--oauth-key-id KID` | `oauth-key-id` | the assertion's `kid` header |
//! | `--oauth-federated-client-id ID` | `oauth-federated-client-id` | the assertion's client, when not `--oauth-client-id` |
//! | `--oauth-federated-token-url URL` | `oauth-federated-token-url` | its token endpoint, when not `--oauth-token-url` |
//! | `--oauth-scope S` | `oauth-scope` | the `scope` parameter |
//!
//! A secret and a key together are two clients ([`OAuthClients`]), as Microsoft's validation template takes them:
//! `scimTokenEndpoint`/`scimClientId`/`scimClientSecret` for client credentials and `federatedTokenEndpoint`/
//! `federatedClientId` for workload identity federation
//! (<https://github.com/AzureAD/SCIMReferenceCode/blob/master/Microsoft.SCIM.LogicAppValidationTemplate/StandardLogicApp/Orchestrator_Parameters.json>).
//! Only `run --suite entra-gallery` uses both (one authentication test each); `run` and `simulate` refuse them
//! together, since they send with one. A fixed credential (`--token`, `--auth-header`, …) beside the OAuth options
//! is refused too ([`fixed_beside_oauth`]). The secret and the key are never printed; prefer the environment
//! variable to the flag, which shells keep in their history.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::{AssertionKey, ClientAuth, OAuthConfig, TokenSource};

/// The environment variable read for the client secret.
pub const CLIENT_SECRET_ENV: &str = "SCIMCHECK_OAUTH_CLIENT_SECRET";

/// Declares a struct with the settings file's OAuth keys appended to the fields given, and its `oauth_keys()`
/// making them an [`OAuthKeys`]. The keys (the table above) are listed once, here: [`OAuthKeys`] and the settings
/// file's [`crate::cli::config::Config`] both come from this macro, so the file keeps refusing unknown keys with
/// `deny_unknown_fields` (which serde's `flatten` would switch off) without a second declaration of the nine keys.
macro_rules! with_oauth_keys {
    ($(#[$attr:meta])* pub struct $name:ident { $($body:tt)* }) => {
        $crate::oauth::config::with_oauth_keys! { @expand [$(#[$attr])*] $name [$($body)*]
            /// OAuth token endpoint (`oauth-token-url`, `--oauth-token-url`).
            oauth_token_url: Option<String>,
            /// OAuth client id (`oauth-client-id`, `--oauth-client-id`).
            oauth_client_id: Option<String>,
            /// OAuth client secret (`oauth-client-secret`; prefer `oauth-client-secret-env` or
            /// `SCIMCHECK_OAUTH_CLIENT_SECRET`); never printed.
            oauth_client_secret: Option<$crate::oauth::config::Secret>,
            /// Name of the environment variable holding the OAuth client secret (`oauth-client-secret-env`).
            oauth_client_secret_env: Option<String>,
            /// PEM private key signing JWT-bearer client assertions (`oauth-private-key`, `--oauth-private-key`),
            /// resolved against the settings file's folder.
            oauth_private_key: Option<std::path::PathBuf>,
            /// `kid` of the assertion's header (`oauth-key-id`, `--oauth-key-id`).
            oauth_key_id: Option<String>,
            /// Client id of the JWT-bearer assertion when it is not `oauth-client-id` (`oauth-federated-client-id`).
            oauth_federated_client_id: Option<String>,
            /// Token endpoint of the JWT-bearer assertion when it is not `oauth-token-url`
            /// (`oauth-federated-token-url`).
            oauth_federated_token_url: Option<String>,
            /// OAuth scope (`oauth-scope`, `--oauth-scope`).
            oauth_scope: Option<String>,
        }
    };
    (@expand [$($attr:tt)*] $name:ident [$($body:tt)*] $($(#[$doc:meta])* $field:ident : $ty:ty,)*) => {
        $($attr)*
        pub struct $name {
            $($body)*
            $($(#[$doc])* pub $field: $ty,)*
        }

        impl $name {
            /// The OAuth keys, as [`crate::oauth::config::OAuthArgs::resolve`] reads them beside the flags.
            pub fn oauth_keys(&self) -> $crate::oauth::config::OAuthKeys {
                $crate::oauth::config::OAuthKeys { $($field: self.$field.clone(),)* }
            }
        }
    };
}
pub(crate) use with_oauth_keys;

with_oauth_keys! {
    /// The OAuth keys of the settings file (`oauth-token-url`, … in `scimcheck.toml`: the table above), which the
    /// flags override; the settings file's reader makes them ([`crate::cli::config::Config::oauth_keys`]). All
    /// absent by default.
    #[derive(Debug, Clone, Default)]
    pub struct OAuthKeys {}
}

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
    /// PEM private key (RSA or P-256) signing a JWT-bearer client assertion (RFC 7523). With a client secret too
    /// (only --suite entra-gallery): two clients, each checked by its authentication test; the SCIM requests go
    /// with the client-credentials token (the assertion's when that one gets none).
    #[arg(long, value_name = "FILE")]
    pub oauth_private_key: Option<PathBuf>,
    /// `kid` header of the client assertion.
    #[arg(long, value_name = "KID")]
    pub oauth_key_id: Option<String>,
    /// With both a client secret and --oauth-private-key (--suite entra-gallery): the client id of the JWT-bearer
    /// assertion, when it is not --oauth-client-id (Microsoft's `federatedClientId`).
    #[arg(long, value_name = "ID")]
    pub oauth_federated_client_id: Option<String>,
    /// The token endpoint of the JWT-bearer assertion, when it is not --oauth-token-url (Microsoft's
    /// `federatedTokenEndpoint`).
    #[arg(long, value_name = "URL")]
    pub oauth_federated_token_url: Option<String>,
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
            .field("oauth_federated_client_id", &self.oauth_federated_client_id)
            .field("oauth_federated_token_url", &self.oauth_federated_token_url)
            .finish_non_exhaustive()
    }
}

/// The OAuth clients of a run: one proving itself with a secret (client credentials, RFC 6749 §4.4 with HTTP
/// Basic, §2.3.1), one with a JWT-bearer assertion (RFC 7523 §2.2), or both. At least one is `Some`.
#[derive(Debug, Clone)]
pub struct OAuthClients {
    /// The client with a secret.
    pub secret: Option<OAuthConfig>,
    /// The client signing assertions.
    pub assertion: Option<OAuthConfig>,
}

/// The token sources of [`OAuthClients`], each with its own cache. At least one is `Some`.
#[derive(Debug, Clone)]
pub struct OAuthSources {
    /// Client credentials with a secret.
    pub secret: Option<Arc<TokenSource>>,
    /// The JWT-bearer assertion.
    pub assertion: Option<Arc<TokenSource>>,
}

impl OAuthSources {
    /// Both sources, the secret's first.
    pub fn all(&self) -> impl Iterator<Item = &Arc<TokenSource>> {
        self.secret.iter().chain(self.assertion.iter())
    }
}

/// The one line refusing `fixed` (a fixed credential: `--token`, `SCIMCHECK_TOKEN`, `--auth-header`, …) given
/// beside the OAuth options: they are two credentials for one run, and sending one would silently drop the other.
pub fn fixed_beside_oauth(fixed: &str) -> String {
    format!(
        "{fixed} and --oauth-token-url (or oauth-token-url in the settings file) are two credentials for one run: \
         give one (with OAuth, scimcheck sends the access tokens it gets)"
    )
}

impl OAuthArgs {
    /// Whether any OAuth option is given on the command line.
    pub fn any(&self) -> bool {
        self.oauth_token_url.is_some()
            || self.oauth_client_id.is_some()
            || self.oauth_private_key.is_some()
            || self.oauth_key_id.is_some()
            || self.oauth_scope.is_some()
            || self.oauth_federated_client_id.is_some()
            || self.oauth_federated_token_url.is_some()
    }

    /// The OAuth clients from these flags over `config`'s keys; `None` when no token endpoint is given.
    ///
    /// A client secret (flag, `SCIMCHECK_OAUTH_CLIENT_SECRET`, `oauth-client-secret-env` or `oauth-client-secret`)
    /// makes the client-credentials client (`--oauth-token-url`, `--oauth-client-id`); a private key the assertion
    /// client (`--oauth-federated-token-url` or else `--oauth-token-url`, `--oauth-federated-client-id` or else
    /// `--oauth-client-id`); both make both.
    ///
    /// Errors (one line, never quoting a secret): a token endpoint that is not `http(s)://`, no client id,
    /// neither a secret nor a key, a federated option without a key, an `oauth-client-secret-env` variable that is
    /// not set, a key file that cannot be read or is not an RSA or P-256 private key.
    pub fn resolve(&self, config: &OAuthKeys) -> Result<Option<OAuthClients>, SetupError> {
        let token_url = self.oauth_token_url.clone().or(config.oauth_token_url.clone());
        let federated_url = self.oauth_federated_token_url.clone().or(config.oauth_federated_token_url.clone());
        if token_url.is_none() && federated_url.is_none() {
            let given = self.any()
                || [
                    &config.oauth_client_id,
                    &config.oauth_key_id,
                    &config.oauth_scope,
                    &config.oauth_federated_client_id,
                ]
                .iter()
                .any(|k| k.is_some())
                || config.oauth_private_key.is_some();
            if given {
                return Err(SetupError::NoTokenEndpoint);
            }
            return Ok(None);
        }
        for (flag, url) in [("--oauth-token-url", &token_url), ("--oauth-federated-token-url", &federated_url)] {
            if let Some(u) = url.as_deref().filter(|u| !(u.starts_with("http://") || u.starts_with("https://"))) {
                return Err(SetupError::NotHttp(flag, u.to_string()));
            }
        }
        let client_id = self.oauth_client_id.clone().or(config.oauth_client_id.clone()).filter(|c| !c.is_empty());
        let federated_id = self
            .oauth_federated_client_id
            .clone()
            .or(config.oauth_federated_client_id.clone())
            .filter(|c| !c.is_empty());
        let key_file = self.oauth_private_key.clone().or(config.oauth_private_key.clone());
        let from_env_key = match &config.oauth_client_secret_env {
            Some(name) => Some(std::env::var(name).map_err(|_| SetupError::SecretEnvUnset(name.clone()))?),
            None => None,
        };
        let secret = self
            .oauth_client_secret
            .clone()
            .or(from_env_key)
            .or(config.oauth_client_secret.clone().map(|s| s.0))
            .filter(|s| !s.is_empty());
        if secret.is_none() && key_file.is_none() {
            return Err(SetupError::NoProof);
        }
        if key_file.is_none() && (federated_id.is_some() || federated_url.is_some()) {
            return Err(SetupError::FederatedWithoutKey);
        }
        let scope = self.oauth_scope.clone().or(config.oauth_scope.clone());
        let secret = match secret {
            Some(secret) => Some(OAuthConfig {
                token_url: token_url.clone().ok_or(SetupError::SecretWithoutTokenEndpoint)?,
                client_id: client_id.clone().ok_or(SetupError::SecretWithoutClientId)?,
                auth: ClientAuth::Secret(secret),
                scope: scope.clone(),
            }),
            None => None,
        };
        let assertion = match key_file {
            Some(path) => {
                let pem = std::fs::read_to_string(&path).map_err(|e| SetupError::KeyUnreadable(path.clone(), e))?;
                let key = AssertionKey::from_pem(&pem, self.oauth_key_id.clone().or(config.oauth_key_id.clone()))
                    .map_err(|e| SetupError::BadKey(path.clone(), e))?;
                Some(OAuthConfig {
                    token_url: federated_url.or(token_url).expect("one token endpoint is given"),
                    client_id: federated_id.or(client_id).ok_or(SetupError::KeyWithoutClientId)?,
                    auth: ClientAuth::Assertion(Arc::new(key)),
                    scope,
                })
            }
            None => None,
        };
        Ok(Some(OAuthClients { secret, assertion }))
    }

    /// [`OAuthArgs::resolve`] made into token sources whose client trusts `tls`, each token request answered
    /// within `timeout`.
    ///
    /// Errors: those of [`OAuthArgs::resolve`], and a TLS setting the client cannot use.
    pub fn sources(
        &self,
        config: &OAuthKeys,
        tls: &crate::http::TlsOptions,
        timeout: Duration,
    ) -> Result<Option<OAuthSources>, SetupError> {
        let Some(clients) = self.resolve(config)? else { return Ok(None) };
        let client = crate::http::client(&crate::http::ClientOptions {
            tls: tls.clone(),
            connect_timeout: timeout,
            pool_max_idle_per_host: 1,
            ..Default::default()
        })?;
        let source = |c: OAuthConfig| Arc::new(TokenSource::new(c, client.clone(), timeout));
        Ok(Some(OAuthSources { secret: clients.secret.map(source), assertion: clients.assertion.map(source) }))
    }

    /// The one token source of a command that sends with one credential (`run` without the gallery suite,
    /// `simulate`): [`OAuthArgs::sources`] with a secret or a key.
    ///
    /// Errors: those of [`OAuthArgs::sources`]; a secret and a key together (only the gallery suite runs both
    /// flows).
    pub fn source(
        &self,
        config: &OAuthKeys,
        tls: &crate::http::TlsOptions,
        timeout: Duration,
    ) -> Result<Option<Arc<TokenSource>>, SetupError> {
        match self.sources(config, tls, timeout)? {
            None => Ok(None),
            Some(OAuthSources { secret: Some(_), assertion: Some(_) }) => Err(SetupError::BothFlows),
            Some(OAuthSources { secret, assertion }) => Ok(secret.or(assertion)),
        }
    }
}

/// Why the OAuth options make no client; `Display` is the one line printed (it names options, files and variables,
/// never a secret or a key).
#[derive(Debug)]
pub enum SetupError {
    /// OAuth options without a token endpoint.
    NoTokenEndpoint,
    /// A token endpoint that is not `http(s)://` (the flag naming it, the URL).
    NotHttp(&'static str, String),
    /// `oauth-client-secret-env` names a variable that is not set (its name).
    SecretEnvUnset(String),
    /// Neither a client secret nor a private key.
    NoProof,
    /// A federated client id or token endpoint without a private key.
    FederatedWithoutKey,
    /// A client secret without `--oauth-token-url`.
    SecretWithoutTokenEndpoint,
    /// A client secret without a client id.
    SecretWithoutClientId,
    /// The private key file cannot be read (its path, the I/O error).
    KeyUnreadable(PathBuf, std::io::Error),
    /// The private key file holds no usable key (its path, why).
    BadKey(PathBuf, super::assertion::KeyError),
    /// A private key without a client id.
    KeyWithoutClientId,
    /// A client secret and a private key outside the gallery suite ([`BOTH_FLOWS`]).
    BothFlows,
    /// The token endpoint's HTTP client cannot be built.
    Client(crate::http::ClientError),
}

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SetupError::NoTokenEndpoint => f.write_str(
                "the OAuth options need a token endpoint: --oauth-token-url URL (or oauth-token-url in scimcheck.toml)",
            ),
            SetupError::NotHttp(flag, u) => write!(f, "{flag} '{u}' must start with http:// or https://"),
            SetupError::SecretEnvUnset(name) => write!(
                f,
                "oauth-client-secret-env: the environment variable {name} (which should hold the client secret) is \
                 not set"
            ),
            SetupError::NoProof => write!(
                f,
                "--oauth-token-url needs the client's proof: the secret in {CLIENT_SECRET_ENV} (or \
                 --oauth-client-secret, oauth-client-secret-env), or --oauth-private-key FILE"
            ),
            SetupError::FederatedWithoutKey => f.write_str(
                "--oauth-federated-client-id and --oauth-federated-token-url name the client of a JWT-bearer \
                 assertion: give --oauth-private-key FILE with them",
            ),
            SetupError::SecretWithoutTokenEndpoint => f.write_str(
                "a client secret needs its token endpoint: --oauth-token-url URL (or oauth-token-url in \
                 scimcheck.toml)",
            ),
            SetupError::SecretWithoutClientId => f.write_str(
                "--oauth-token-url needs a client id: --oauth-client-id ID (or oauth-client-id in scimcheck.toml)",
            ),
            SetupError::KeyUnreadable(path, e) => {
                write!(f, "--oauth-private-key {}: cannot read it: {e}", path.display())
            }
            SetupError::BadKey(path, e) => write!(f, "--oauth-private-key {}: {e}", path.display()),
            SetupError::KeyWithoutClientId => f.write_str(
                "--oauth-private-key needs a client id: --oauth-client-id ID or --oauth-federated-client-id ID (or \
                 the keys of the same names in scimcheck.toml)",
            ),
            SetupError::BothFlows => f.write_str(BOTH_FLOWS),
            SetupError::Client(e) => std::fmt::Display::fmt(e, f),
        }
    }
}

impl std::error::Error for SetupError {}

impl From<SetupError> for String {
    fn from(e: SetupError) -> String {
        e.to_string()
    }
}

impl From<crate::http::ClientError> for SetupError {
    fn from(e: crate::http::ClientError) -> SetupError {
        SetupError::Client(e)
    }
}

/// The refusal of a client secret beside a private key outside the gallery suite.
pub const BOTH_FLOWS: &str = "a client secret (--oauth-client-secret, SCIMCHECK_OAUTH_CLIENT_SECRET, \
     oauth-client-secret-env) and --oauth-private-key are two OAuth clients: only --suite entra-gallery uses both \
     (one authentication test each); give one";

#[cfg(test)]
mod tests {
    use super::*;

    /// Each refusal of the OAuth options is its own [`SetupError`], printed as the line it was before the errors
    /// were typed (the texts below are those lines, verbatim).
    #[test]
    fn each_refusal_is_typed_and_printed_as_before() {
        let keys = OAuthKeys::default();
        let url = || Some("https://login.example.test/token".to_string());
        let refuse = |args: OAuthArgs, keys: &OAuthKeys| args.resolve(keys).expect_err("refused");

        let e = refuse(OAuthArgs { oauth_client_id: Some("c".into()), ..OAuthArgs::default() }, &keys);
        assert!(matches!(e, SetupError::NoTokenEndpoint), "{e:?}");
        assert_eq!(
            e.to_string(),
            "the OAuth options need a token endpoint: --oauth-token-url URL (or oauth-token-url in scimcheck.toml)"
        );
        let e = refuse(OAuthArgs { oauth_token_url: Some("ftp://t".into()), ..OAuthArgs::default() }, &keys);
        assert_eq!(e.to_string(), "--oauth-token-url 'ftp://t' must start with http:// or https://");
        let unset = OAuthKeys { oauth_client_secret_env: Some("SCIMCHECK_TEST_NEVER_SET_7F3A".into()), ..keys.clone() };
        let e = refuse(OAuthArgs { oauth_token_url: url(), ..OAuthArgs::default() }, &unset);
        assert_eq!(
            e.to_string(),
            "oauth-client-secret-env: the environment variable SCIMCHECK_TEST_NEVER_SET_7F3A (which should hold the \
             client secret) is not set"
        );
        let e = refuse(OAuthArgs { oauth_token_url: url(), ..OAuthArgs::default() }, &keys);
        assert!(matches!(e, SetupError::NoProof), "{e:?}");
        assert_eq!(
            e.to_string(),
            "--oauth-token-url needs the client's proof: the secret in SCIMCHECK_OAUTH_CLIENT_SECRET (or \
             --oauth-client-secret, oauth-client-secret-env), or --oauth-private-key FILE"
        );
        let secret =
            OAuthArgs { oauth_token_url: url(), oauth_client_secret: Some("cs-1".into()), ..OAuthArgs::default() };
        let e = refuse(secret.clone(), &keys);
        assert_eq!(
            e.to_string(),
            "--oauth-token-url needs a client id: --oauth-client-id ID (or oauth-client-id in scimcheck.toml)"
        );
        let e = refuse(OAuthArgs { oauth_federated_client_id: Some("f".into()), ..secret.clone() }, &keys);
        assert_eq!(
            e.to_string(),
            "--oauth-federated-client-id and --oauth-federated-token-url name the client of a JWT-bearer assertion: \
             give --oauth-private-key FILE with them"
        );
        let missing = PathBuf::from("/nonexistent/scimcheck-test-key.pem");
        let with_key =
            OAuthArgs { oauth_private_key: Some(missing.clone()), oauth_client_id: Some("c".into()), ..secret };
        let e = refuse(with_key, &keys);
        assert!(matches!(&e, SetupError::KeyUnreadable(p, _) if *p == missing), "{e:?}");
        assert!(e.to_string().starts_with("--oauth-private-key /nonexistent/scimcheck-test-key.pem: cannot read it: "));
        assert!(!format!("{e} {e:?}").contains("cs-1"), "a secret in {e:?}");
    }
}
