//! OAuth 2.0 clients of one provisioning app, besides its API tokens: the client credentials grant (RFC 6749
//! §4.4) at the tenant's token endpoint, the client authenticated by a secret (RFC 6749 §2.3.1) or by a JWT-bearer
//! assertion signed with its registered key (RFC 7523 §2.2, §3; RS256 or ES256), and the access tokens it gets.
//!
//! As Microsoft asks of gallery apps (OAuth client credentials, tokens living 60 minutes to 6 hours, secrets
//! rotated; `docs/entra.md` §6):
//! - a client secret is shown once ([`CreatedClient`], [`Rotated`]) and kept as its SHA-256 digest and a short
//!   prefix. The secrets are 256 random bits, so a fast digest is as strong as a password hash would be, and the
//!   token endpoint does not pay a password hash's deliberate cost at every grant;
//! - rotation keeps the previous secrets valid for an overlap window ([`OAuthClients::rotate`]);
//! - an access token lives the client's `tokenLifetime` (seconds, default [`DEFAULT_TOKEN_LIFETIME_SECS`]); once
//!   expired, or once its client is revoked, it is refused ([`AuthFailure::Expired`], [`AuthFailure::Revoked`]:
//!   401 with `WWW-Authenticate: Bearer error="invalid_token"`, RFC 6750 §3.1).
//!
//! Access tokens live in memory only (a restart makes clients fetch new ones, as they do after a 401); clients
//! and their secret digests are persisted with the tenant ([`OAuthClients::to_stored_json`]).
//!
//! The module is pure: no HTTP types, no locking; time comes in as `now`.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{ScimError, ScimResult};
use crate::token::AuthFailure;

/// Every client secret starts with this marker (secret scanners recognise leaked ones).
pub const CLIENT_SECRET_MARKER: &str = "scs_";
/// Every access token starts with this marker: it tells an access token from an API token.
pub const ACCESS_TOKEN_MARKER: &str = "sat_";
/// Every client id starts with this marker.
pub const CLIENT_ID_MARKER: &str = "client_";
/// The default access-token lifetime: 3600 s (60 minutes, the shortest Microsoft accepts for gallery apps).
pub const DEFAULT_TOKEN_LIFETIME_SECS: u64 = 3600;
/// The longest access-token lifetime a client may be given: one day.
pub const MAX_TOKEN_LIFETIME_SECS: u64 = 86_400;
/// How long the previous secrets stay valid after a rotation unless told otherwise: 60 minutes.
pub const DEFAULT_ROTATION_OVERLAP_MINUTES: i64 = 60;
/// The `client_assertion_type` of a JWT-bearer assertion (RFC 7523 §2.2).
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Characters of a secret kept for identification.
const PREFIX_LEN: usize = 10;

fn digest_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// One client secret as kept: its digest and prefix, never the cleartext.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SecretRecord {
    digest: String,
    prefix: String,
    created_at: DateTime<Utc>,
    /// Set when the secret was rotated out: valid until then.
    valid_until: Option<DateTime<Utc>>,
}

/// A registered public key verifying a client's assertions.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PublicKey {
    pem: String,
    algorithm: String,
}

impl PublicKey {
    /// Reads a PEM public key: RSA (RS256) or P-256 (ES256).
    fn parse(pem: &str) -> ScimResult<PublicKey> {
        let alg = if DecodingKey::from_rsa_pem(pem.as_bytes()).is_ok() {
            "RS256"
        } else if DecodingKey::from_ec_pem(pem.as_bytes()).is_ok() {
            "ES256"
        } else {
            return Err(ScimError::InvalidValue(
                "publicKey must be an RSA or P-256 public key in PEM form (-----BEGIN PUBLIC KEY-----)".into(),
            ));
        };
        Ok(PublicKey { pem: pem.to_string(), algorithm: alg.into() })
    }

    fn decoding(&self) -> Option<(DecodingKey, Algorithm)> {
        match self.algorithm.as_str() {
            "RS256" => DecodingKey::from_rsa_pem(self.pem.as_bytes()).ok().map(|k| (k, Algorithm::RS256)),
            "ES256" => DecodingKey::from_ec_pem(self.pem.as_bytes()).ok().map(|k| (k, Algorithm::ES256)),
            _ => None,
        }
    }
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClientRecord {
    client_id: String,
    label: Option<String>,
    created_at: DateTime<Utc>,
    token_lifetime: u64,
    secrets: Vec<SecretRecord>,
    public_key: Option<PublicKey>,
    revoked: bool,
}

impl ClientRecord {
    fn info(&self, now: DateTime<Utc>) -> ClientInfo {
        ClientInfo {
            client_id: self.client_id.clone(),
            label: self.label.clone(),
            created_at: self.created_at,
            token_lifetime: self.token_lifetime,
            status: if self.revoked { "revoked" } else { "active" },
            secrets: self
                .secrets
                .iter()
                .map(|s| SecretInfo {
                    prefix: s.prefix.clone(),
                    created_at: s.created_at,
                    valid_until: s.valid_until,
                    status: if s.valid_until.is_some_and(|u| now >= u) { "expired" } else { "active" },
                })
                .collect(),
            public_key_algorithm: self.public_key.as_ref().map(|k| k.algorithm.clone()),
        }
    }

    /// Whether `secret` is one of the client's valid secrets: every stored digest is compared in constant time.
    fn secret_matches(&self, secret: &str, now: DateTime<Utc>) -> bool {
        let presented = digest_hex(secret);
        let mut found = subtle::Choice::from(0);
        for s in &self.secrets {
            let valid = subtle::Choice::from(u8::from(s.valid_until.is_none_or(|u| now < u)));
            found |= presented.as_bytes().ct_eq(s.digest.as_bytes()) & valid;
        }
        bool::from(found)
    }
}

/// A client as the admin API lists it (no secret, no digest).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientInfo {
    /// The client id.
    pub client_id: String,
    /// The label given at creation.
    pub label: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Access-token lifetime, seconds.
    pub token_lifetime: u64,
    /// `active` or `revoked`.
    pub status: &'static str,
    /// The secrets, by prefix.
    pub secrets: Vec<SecretInfo>,
    /// `RS256` or `ES256` when a public key is registered for JWT-bearer assertions.
    pub public_key_algorithm: Option<String>,
}

/// A client secret as listed: its prefix and validity.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretInfo {
    /// The first characters.
    pub prefix: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// The end of its overlap window, once rotated out.
    pub valid_until: Option<DateTime<Utc>>,
    /// `active` or `expired`.
    pub status: &'static str,
}

/// What creating a client answers: the client and its secret, shown this once. `Debug` hides the secret.
#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedClient {
    /// The client.
    #[serde(flatten)]
    pub info: ClientInfo,
    /// The secret (only here).
    pub client_secret: String,
}

impl std::fmt::Debug for CreatedClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedClient").field("info", &self.info).finish_non_exhaustive()
    }
}

/// What a rotation answers: the new secret (shown this once) and until when the previous ones stay valid.
#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rotated {
    /// The client id.
    pub client_id: String,
    /// The new secret.
    pub client_secret: String,
    /// The previous secrets are valid until then.
    pub previous_secrets_valid_until: DateTime<Utc>,
}

/// A new client (admin API body).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewClient {
    /// A label.
    #[serde(default)]
    pub label: Option<String>,
    /// Access-token lifetime in seconds, 1 to [`MAX_TOKEN_LIFETIME_SECS`] (default [`DEFAULT_TOKEN_LIFETIME_SECS`]).
    #[serde(default)]
    pub token_lifetime: Option<u64>,
    /// A PEM public key (RSA or P-256) for JWT-bearer client assertions.
    #[serde(default)]
    pub public_key: Option<String>,
}

/// An access token issued by the grant (RFC 6749 §5.1). `Debug` hides the token.
#[derive(Clone, Serialize)]
pub struct AccessToken {
    /// The token.
    pub access_token: String,
    /// Always `Bearer` (RFC 6750).
    pub token_type: &'static str,
    /// Seconds it lives.
    pub expires_in: u64,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AccessToken([redacted], expires_in {})", self.expires_in)
    }
}

/// How the client proves itself at the token endpoint.
#[derive(Clone, Copy)]
pub enum ClientProof<'a> {
    /// A client secret (Basic or in the body, RFC 6749 §2.3.1).
    Secret(&'a str),
    /// A JWT-bearer assertion (RFC 7523 §2.2).
    Assertion(&'a str),
}

/// A refused grant: an RFC 6749 §5.2 error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantError {
    /// `invalid_request`: a parameter is missing, repeated or malformed.
    InvalidRequest(String),
    /// `invalid_client`: unknown or revoked client, wrong secret, bad assertion (answered 401).
    InvalidClient(String),
    /// `unsupported_grant_type`: anything but `client_credentials`.
    UnsupportedGrantType,
}

impl GrantError {
    /// The RFC 6749 §5.2 `error` code.
    pub fn code(&self) -> &'static str {
        match self {
            GrantError::InvalidRequest(_) => "invalid_request",
            GrantError::InvalidClient(_) => "invalid_client",
            GrantError::UnsupportedGrantType => "unsupported_grant_type",
        }
    }

    /// The HTTP status: 401 for `invalid_client`, else 400 (RFC 6749 §5.2).
    pub fn status(&self) -> u16 {
        if matches!(self, GrantError::InvalidClient(_)) {
            401
        } else {
            400
        }
    }

    /// `error_description` (never a secret).
    pub fn description(&self) -> String {
        match self {
            GrantError::InvalidRequest(d) | GrantError::InvalidClient(d) => d.clone(),
            GrantError::UnsupportedGrantType => "only the client_credentials grant is supported".into(),
        }
    }
}

struct AccessRecord {
    client_id: String,
    expires_at: DateTime<Utc>,
}

/// The OAuth clients of one app and the access tokens they were given.
#[derive(Default)]
pub struct OAuthClients {
    clients: Vec<ClientRecord>,
    access: HashMap<String, AccessRecord>,
}

impl Clone for OAuthClients {
    /// Clones the clients; the access tokens in memory are not copied.
    fn clone(&self) -> Self {
        OAuthClients { clients: self.clients.clone(), access: HashMap::new() }
    }
}

impl std::fmt::Debug for OAuthClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OAuthClients({} clients, {} access tokens)", self.clients.len(), self.access.len())
    }
}

fn not_found(client_id: &str) -> ScimError {
    let shown: String = client_id.chars().take(64).collect();
    ScimError::NotFound(format!("no OAuth client '{shown}' in this app"))
}

impl OAuthClients {
    /// Registers a client with a fresh secret (and the public key, if given).
    ///
    /// Errors: `invalidValue` for a lifetime outside 1..=[`MAX_TOKEN_LIFETIME_SECS`] or a public key that is not
    /// an RSA or P-256 PEM key.
    pub fn create(&mut self, req: NewClient, now: DateTime<Utc>) -> ScimResult<CreatedClient> {
        let lifetime = req.token_lifetime.unwrap_or(DEFAULT_TOKEN_LIFETIME_SECS);
        if !(1..=MAX_TOKEN_LIFETIME_SECS).contains(&lifetime) {
            return Err(ScimError::InvalidValue(format!(
                "tokenLifetime must be between 1 and {MAX_TOKEN_LIFETIME_SECS} seconds"
            )));
        }
        let public_key = req.public_key.as_deref().map(PublicKey::parse).transpose()?;
        let secret = crate::token::generate_secret(CLIENT_SECRET_MARKER);
        let client_id = format!("{CLIENT_ID_MARKER}{}", uuid::Uuid::new_v4().simple());
        let record = ClientRecord {
            client_id,
            label: req.label,
            created_at: now,
            token_lifetime: lifetime,
            secrets: vec![secret_record(&secret, now)],
            public_key,
            revoked: false,
        };
        let info = record.info(now);
        self.clients.push(record);
        Ok(CreatedClient { info, client_secret: secret })
    }

    /// The clients, in creation order.
    pub fn list(&self, now: DateTime<Utc>) -> Vec<ClientInfo> {
        self.clients.iter().map(|c| c.info(now)).collect()
    }

    /// Gives the client a new secret; its previous secrets stay valid for `overlap` (ending sooner if they
    /// already ended sooner).
    ///
    /// Errors: 404 unknown client; `invalidValue` a revoked client or a negative overlap.
    pub fn rotate(&mut self, client_id: &str, overlap: Duration, now: DateTime<Utc>) -> ScimResult<Rotated> {
        if overlap < Duration::zero() {
            return Err(ScimError::InvalidValue("overlapMinutes must not be negative".into()));
        }
        let c = self.clients.iter_mut().find(|c| c.client_id == client_id).ok_or_else(|| not_found(client_id))?;
        if c.revoked {
            return Err(ScimError::InvalidValue("a revoked client cannot be rotated".into()));
        }
        let until = now + overlap;
        for s in &mut c.secrets {
            s.valid_until = Some(s.valid_until.map_or(until, |u| u.min(until)));
        }
        // secrets past their window are of no use any more
        c.secrets.retain(|s| s.valid_until.is_none_or(|u| now < u));
        let secret = crate::token::generate_secret(CLIENT_SECRET_MARKER);
        c.secrets.push(secret_record(&secret, now));
        Ok(Rotated { client_id: c.client_id.clone(), client_secret: secret, previous_secrets_valid_until: until })
    }

    /// Revokes a client: its secrets and its access tokens stop working at once.
    ///
    /// Errors: 404 unknown client.
    pub fn revoke(&mut self, client_id: &str, now: DateTime<Utc>) -> ScimResult<ClientInfo> {
        let c = self.clients.iter_mut().find(|c| c.client_id == client_id).ok_or_else(|| not_found(client_id))?;
        c.revoked = true;
        Ok(c.info(now))
    }

    /// The client credentials grant (RFC 6749 §4.4.2): authenticates the client by `proof` and issues an access
    /// token living its lifetime. An assertion must be signed by the registered key with the registered
    /// algorithm, name the client as `iss` and `sub`, `audience` (the token endpoint's URL) as `aud`, and carry
    /// an `exp` in the future (RFC 7523 §3; 30 s leeway for clock skew).
    ///
    /// Errors: `invalid_client` for an unknown or revoked client, a wrong or expired secret, a bad assertion or
    /// an assertion from a client without a key; the message never contains what was presented.
    pub fn grant(
        &mut self,
        client_id: &str,
        proof: ClientProof<'_>,
        audience: &str,
        now: DateTime<Utc>,
    ) -> Result<AccessToken, GrantError> {
        let refused = || GrantError::InvalidClient("client authentication failed".into());
        let c = self.clients.iter().find(|c| c.client_id == client_id).ok_or_else(refused)?;
        if c.revoked {
            return Err(GrantError::InvalidClient("the client has been revoked".into()));
        }
        match proof {
            ClientProof::Secret(s) => {
                if !c.secret_matches(s, now) {
                    return Err(refused());
                }
            }
            ClientProof::Assertion(jwt) => {
                let Some((key, alg)) = c.public_key.as_ref().and_then(PublicKey::decoding) else {
                    return Err(GrantError::InvalidClient("the client has no public key for assertions".into()));
                };
                let mut v = Validation::new(alg);
                v.set_audience(&[audience]);
                v.set_issuer(&[client_id]);
                v.sub = Some(client_id.to_string());
                v.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
                v.leeway = 30;
                jsonwebtoken::decode::<serde_json::Value>(jwt, &key, &v).map_err(|e| {
                    GrantError::InvalidClient(format!("the client assertion is not valid ({:?})", e.kind()))
                })?;
            }
        }
        let lifetime = c.token_lifetime;
        let token = crate::token::generate_secret(ACCESS_TOKEN_MARKER);
        self.access.retain(|_, a| a.expires_at > now);
        let expires_at = now + Duration::seconds(lifetime as i64);
        self.access.insert(digest_hex(&token), AccessRecord { client_id: client_id.to_string(), expires_at });
        Ok(AccessToken { access_token: token, token_type: "Bearer", expires_in: lifetime })
    }

    /// Whether `presented` is a live access token of this app.
    ///
    /// Errors: [`AuthFailure::Invalid`] unknown (never issued, or issued before a restart);
    /// [`AuthFailure::Expired`] past its lifetime; [`AuthFailure::Revoked`] its client was revoked.
    pub fn check_access(&self, presented: &str, now: DateTime<Utc>) -> Result<(), AuthFailure> {
        let a = self.access.get(&digest_hex(presented)).ok_or(AuthFailure::Invalid)?;
        if self.clients.iter().any(|c| c.client_id == a.client_id && c.revoked) {
            return Err(AuthFailure::Revoked);
        }
        if now >= a.expires_at {
            return Err(AuthFailure::Expired);
        }
        Ok(())
    }

    /// Whether `client_id` is one of these clients.
    pub fn has_client(&self, client_id: &str) -> bool {
        self.clients.iter().any(|c| c.client_id == client_id)
    }

    /// These clients with `other`'s access tokens (after a change made on a [`Clone`], which has none).
    pub fn with_access_of(mut self, other: OAuthClients) -> OAuthClients {
        self.access = other.access;
        self
    }

    /// Whether there are no clients.
    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }

    /// The clients as the data file keeps them (digests, never a secret).
    pub fn to_stored_json(&self) -> String {
        serde_json::to_string(&self.clients).unwrap_or_default()
    }

    /// The clients from [`OAuthClients::to_stored_json`].
    ///
    /// Errors: 500 for text that is not such a list.
    pub fn from_stored_json(text: &str) -> ScimResult<OAuthClients> {
        let clients = serde_json::from_str(text)
            .map_err(|_| ScimError::Internal("the data file holds unreadable OAuth clients".into()))?;
        Ok(OAuthClients { clients, access: HashMap::new() })
    }
}

fn secret_record(secret: &str, now: DateTime<Utc>) -> SecretRecord {
    SecretRecord {
        digest: digest_hex(secret),
        prefix: secret.chars().take(PREFIX_LEN).collect(),
        created_at: now,
        valid_until: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().with_timezone(&Utc)
    }

    #[test]
    fn secrets_rotate_with_an_overlap_and_tokens_expire() {
        let mut c = OAuthClients::default();
        let created = c.create(NewClient { token_lifetime: Some(2), ..Default::default() }, t0()).unwrap();
        let id = created.info.client_id.clone();
        assert!(!c.to_stored_json().contains(&created.client_secret));
        let tok = c.grant(&id, ClientProof::Secret(&created.client_secret), "aud", t0()).unwrap();
        assert_eq!(tok.expires_in, 2);
        assert_eq!(c.check_access(&tok.access_token, t0() + Duration::seconds(1)), Ok(()));
        assert_eq!(c.check_access(&tok.access_token, t0() + Duration::seconds(2)), Err(AuthFailure::Expired));
        let wrong = c.grant(&id, ClientProof::Secret("scs_wrong"), "aud", t0()).unwrap_err();
        assert_eq!((wrong.code(), wrong.status()), ("invalid_client", 401));
        let rotated = c.rotate(&id, Duration::minutes(5), t0()).unwrap();
        let old = ClientProof::Secret(&created.client_secret);
        assert!(c.grant(&id, old, "aud", t0() + Duration::minutes(4)).is_ok());
        assert!(c.grant(&id, old, "aud", t0() + Duration::minutes(5)).is_err());
        assert!(c.grant(&id, ClientProof::Secret(&rotated.client_secret), "aud", t0() + Duration::hours(9)).is_ok());
        let live = c.grant(&id, ClientProof::Secret(&rotated.client_secret), "aud", t0()).unwrap();
        c.revoke(&id, t0()).unwrap();
        assert_eq!(c.check_access(&live.access_token, t0()), Err(AuthFailure::Revoked));
        let again = OAuthClients::from_stored_json(&c.to_stored_json()).unwrap();
        assert_eq!(again.list(t0())[0].status, "revoked");
    }

    #[test]
    fn lifetimes_and_keys_are_checked_at_creation() {
        let mut c = OAuthClients::default();
        for bad in [0, MAX_TOKEN_LIFETIME_SECS + 1] {
            let e = c.create(NewClient { token_lifetime: Some(bad), ..Default::default() }, t0()).unwrap_err();
            assert_eq!(e.status(), 400);
        }
        let e = c.create(NewClient { public_key: Some("not a key".into()), ..Default::default() }, t0()).unwrap_err();
        assert_eq!(e.status(), 400);
        assert!(c.is_empty());
    }
}
