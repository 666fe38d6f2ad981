//! API tokens of one provisioning app (the portal's "Generate API Token").
//!
//! A [`TokenStore`] belongs to one SCIM app of one tenant. It issues bearer tokens, authenticates presented
//! credentials, lists tokens for the admin UI and revokes them individually. Several tokens may be live at once so
//! that an IdP can be switched to a new token before the old one is revoked (rotation).
//!
//! Secrets are handled as vendors document it (Scaleflex/IDmelon: the token is displayed only once; AxonFlow:
//! stored as a hash plus a short prefix for identification):
//! - a token's cleartext exists only in the [`IssuedToken`] returned by [`TokenStore::issue`];
//! - the store keeps the SHA-256 digest of the cleartext and a short non-secret prefix, nothing else secret;
//! - no `Debug` implementation of this module prints a cleartext or a digest;
//! - [`TokenStore::authenticate`] compares the presented digest with every stored digest in constant time and
//!   only decides after looking at all of them.
//!
//! The module is pure: no HTTP types, no locking (the caller holds the tenant's lock), and time comes in as `now`
//! parameters read from the server's [`Clock`](crate::clock::Clock).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rand::{Rng, RngExt, TryRng};
use serde::{Deserialize, Serialize, Serializer};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use uuid::Uuid;

use crate::clock::format_datetime;
use crate::error::{ScimError, ScimResult};

/// Every issued token starts with this marker, so that leaked tokens are easy to recognise (secret scanners).
pub const TOKEN_MARKER: &str = "scim_";

/// Number of random bytes in an issued token (256 bits).
pub const TOKEN_BYTES: usize = 32;

/// The longest prefix kept for identification, in characters. An issued token (48 characters) keeps exactly this
/// many: the marker and 7 random characters (42 of its 256 bits).
pub const PREFIX_LEN: usize = 12;

/// The shortest cleartext [`TokenStore::insert_known`] accepts, in characters.
pub const MIN_KNOWN_TOKEN_LEN: usize = 16;

/// The identifier of a token inside its store. Not secret: it is shown in listings and used to revoke.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TokenId(Uuid);

impl TokenId {
    /// A fresh random identifier.
    fn new_random() -> Self {
        TokenId(Uuid::new_v4())
    }

    /// The identifier as a UUID.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for TokenId {
    type Err = ScimError;

    /// Parses the textual form produced by `Display` (a UUID).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s.trim()).map(TokenId).map_err(|_| ScimError::NotFound("no API token has this id".to_string()))
    }
}

impl From<Uuid> for TokenId {
    fn from(u: Uuid) -> Self {
        TokenId(u)
    }
}

/// The SHA-256 digest of a cleartext token. Its `Debug` never shows the bytes.
#[derive(Clone, PartialEq, Eq)]
struct TokenHash([u8; 32]);

impl TokenHash {
    fn of(cleartext: &str) -> Self {
        TokenHash(Sha256::digest(cleartext.as_bytes()).into())
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHash(<redacted>)")
    }
}

/// A freshly issued token. This is the only place its cleartext ever exists: show it to the admin once, then drop
/// it. `Debug` redacts the cleartext; `Serialize` (camelCase) includes it, for the one response that displays it.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuedToken {
    /// The token's identifier in its store.
    pub id: TokenId,
    /// The cleartext bearer token: [`TOKEN_MARKER`] followed by 256 random bits in base64url without padding.
    pub token: String,
    /// The non-secret identification prefix the store keeps (the first [`PREFIX_LEN`] characters).
    pub prefix: String,
    /// The admin's label, if any.
    pub label: Option<String>,
    /// When the token was issued.
    #[serde(serialize_with = "ser_time")]
    pub created_at: DateTime<Utc>,
    /// When the token stops being accepted.
    #[serde(serialize_with = "ser_time")]
    pub expires_at: DateTime<Utc>,
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken")
            .field("id", &self.id)
            .field("token", &"<redacted>")
            .field("prefix", &self.prefix)
            .field("label", &self.label)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// The state of a token at a given instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TokenStatus {
    /// Accepted by [`TokenStore::authenticate`].
    Active,
    /// `now >= expires_at` (and not revoked).
    Expired,
    /// Revoked by an admin (takes precedence over expiry).
    Revoked,
}

/// What an admin may see of a stored token: never the cleartext, never the hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenInfo {
    /// The token's identifier.
    pub id: TokenId,
    /// The non-secret identification prefix.
    pub prefix: String,
    /// The admin's label, if any.
    pub label: Option<String>,
    /// When the token was issued (or configured).
    #[serde(serialize_with = "ser_time")]
    pub created_at: DateTime<Utc>,
    /// When the token stops being accepted.
    #[serde(serialize_with = "ser_time")]
    pub expires_at: DateTime<Utc>,
    /// The last successful authentication with this token, if any.
    #[serde(serialize_with = "ser_opt_time")]
    pub last_used: Option<DateTime<Utc>>,
    /// The token's state at the `now` given to [`TokenStore::list`].
    pub status: TokenStatus,
}

/// Why a presented token was refused. `Missing` (no `Authorization` header at all) is the caller's to decide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthFailure {
    /// No stored token has this value (including tokens of other apps or tenants).
    Invalid,
    /// The token exists but `now >= expires_at`.
    Expired,
    /// The token exists but was revoked.
    Revoked,
}

impl AuthFailure {
    /// The client-facing detail for a 401 response. Never contains the presented token.
    pub fn detail(&self) -> &'static str {
        match self {
            AuthFailure::Invalid => "the bearer token is invalid",
            AuthFailure::Expired => "the bearer token has expired",
            AuthFailure::Revoked => "the bearer token has been revoked",
        }
    }
}

impl fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.detail())
    }
}

impl std::error::Error for AuthFailure {}

impl From<AuthFailure> for ScimError {
    /// A 401 whose detail is [`AuthFailure::detail`].
    fn from(f: AuthFailure) -> Self {
        ScimError::Unauthorized(f.detail().to_string())
    }
}

/// One stored token: the digest and metadata, never the cleartext.
#[derive(Clone)]
struct TokenRecord {
    id: TokenId,
    hash: TokenHash,
    prefix: String,
    label: Option<String>,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    last_used: Option<DateTime<Utc>>,
    /// The `last_used` the data file holds (what was last written there), so that a use is written behind
    /// at most once per interval instead of at every request.
    last_used_stored: Option<DateTime<Utc>>,
    revoked: bool,
}

impl TokenRecord {
    fn status(&self, now: DateTime<Utc>) -> TokenStatus {
        if self.revoked {
            TokenStatus::Revoked
        } else if now >= self.expires_at {
            TokenStatus::Expired
        } else {
            TokenStatus::Active
        }
    }

    fn info(&self, now: DateTime<Utc>) -> TokenInfo {
        TokenInfo {
            id: self.id,
            prefix: self.prefix.clone(),
            label: self.label.clone(),
            created_at: self.created_at,
            expires_at: self.expires_at,
            last_used: self.last_used,
            status: self.status(now),
        }
    }
}

impl fmt::Debug for TokenRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRecord")
            .field("id", &self.id)
            .field("prefix", &self.prefix)
            .field("label", &self.label)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .field("last_used", &self.last_used)
            .field("revoked", &self.revoked)
            .finish_non_exhaustive()
    }
}

/// The API tokens of one provisioning app. Records are kept in issue order; revoked and expired tokens stay listed.
#[derive(Clone, Default)]
pub struct TokenStore {
    records: Vec<TokenRecord>,
}

impl fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenStore").field("records", &self.records).finish()
    }
}

impl TokenStore {
    /// An empty store.
    pub fn new() -> Self {
        TokenStore::default()
    }

    /// Issues a new token: 256 bits from the operating system's RNG, encoded as [`TOKEN_MARKER`] + base64url
    /// without padding (48 characters). The cleartext is returned once and not kept. `expires_at` is taken as
    /// given: a value not after `now` yields a token that is already expired (validating it is the caller's job).
    pub fn issue(&mut self, now: DateTime<Utc>, expires_at: DateTime<Utc>, label: Option<String>) -> IssuedToken {
        let mut secret = [0u8; TOKEN_BYTES];
        fill_random(&mut secret);
        let mut token = String::with_capacity(TOKEN_MARKER.len() + 43);
        token.push_str(TOKEN_MARKER);
        token.push_str(&base64url(&secret));
        let record = self.record_for(&token, now, expires_at, label);
        let issued = IssuedToken {
            id: record.id,
            prefix: record.prefix.clone(),
            label: record.label.clone(),
            created_at: now,
            expires_at,
            token,
        };
        self.records.push(record);
        issued
    }

    /// Stores a token whose cleartext comes from a configuration file (tests, CI): only its digest and prefix are
    /// kept. Refused with `invalidValue` when the cleartext is shorter than [`MIN_KNOWN_TOKEN_LEN`] characters,
    /// contains whitespace or control characters (it could never be presented in a header), or is already stored.
    /// Error details never contain the cleartext.
    pub fn insert_known(
        &mut self,
        cleartext: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        label: Option<String>,
    ) -> ScimResult<TokenId> {
        if cleartext.chars().count() < MIN_KNOWN_TOKEN_LEN {
            return Err(ScimError::InvalidValue(format!(
                "a configured API token must be at least {MIN_KNOWN_TOKEN_LEN} characters long"
            )));
        }
        if cleartext.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ScimError::InvalidValue(
                "a configured API token must not contain whitespace or control characters".to_string(),
            ));
        }
        let hash = TokenHash::of(cleartext);
        if self.records.iter().any(|r| r.hash == hash) {
            return Err(ScimError::InvalidValue("this API token is already configured for the app".to_string()));
        }
        let record = self.record_for(cleartext, now, expires_at, label);
        let id = record.id;
        self.records.push(record);
        Ok(id)
    }

    /// A new record (with a fresh id) for a cleartext; the caller pushes it.
    fn record_for(
        &self,
        cleartext: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        label: Option<String>,
    ) -> TokenRecord {
        TokenRecord {
            id: self.fresh_id(),
            hash: TokenHash::of(cleartext),
            prefix: prefix_of(cleartext),
            label,
            created_at: now,
            expires_at,
            last_used: None,
            last_used_stored: None,
            revoked: false,
        }
    }

    fn fresh_id(&self) -> TokenId {
        loop {
            let id = TokenId::new_random();
            if self.records.iter().all(|r| r.id != id) {
                return id;
            }
        }
    }

    /// Checks a presented credential. Its SHA-256 digest is compared with every stored digest in constant time
    /// and the loop always visits all records before deciding, so timing reveals neither which record matched
    /// nor how many bytes did. On success the token's `last_used` becomes `now`. A revoked token reports
    /// [`AuthFailure::Revoked`] even when also expired; a token is expired when `now >= expires_at`.
    pub fn authenticate(&mut self, presented: &str, now: DateTime<Utc>) -> Result<TokenId, AuthFailure> {
        let i = self.find(presented, now)?;
        let record = &mut self.records[i];
        record.last_used = Some(now);
        Ok(record.id)
    }

    /// Like [`TokenStore::authenticate`] without recording a use (`last_used` is left as it is): whether the
    /// server already holds a token given at start is no use of it.
    pub fn check(&self, presented: &str, now: DateTime<Utc>) -> Result<TokenId, AuthFailure> {
        self.find(presented, now).map(|i| self.records[i].id)
    }

    /// The index of the active record whose digest equals the presented value's, in constant time over all
    /// records.
    fn find(&self, presented: &str, now: DateTime<Utc>) -> Result<usize, AuthFailure> {
        let digest = TokenHash::of(presented);
        let mut found = Choice::from(0u8);
        let mut index = 0u64;
        for (i, record) in self.records.iter().enumerate() {
            let equal = record.hash.0.ct_eq(&digest.0);
            index = u64::conditional_select(&index, &(i as u64), equal);
            found |= equal;
        }
        if !bool::from(found) {
            return Err(AuthFailure::Invalid);
        }
        let i = usize::try_from(index).ok().filter(|i| *i < self.records.len()).ok_or(AuthFailure::Invalid)?;
        match self.records[i].status(now) {
            TokenStatus::Revoked => Err(AuthFailure::Revoked),
            TokenStatus::Expired => Err(AuthFailure::Expired),
            TokenStatus::Active => Ok(i),
        }
    }

    /// All tokens in issue order, with their status as of `now`. Never includes a cleartext or a digest.
    pub fn list(&self, now: DateTime<Utc>) -> Vec<TokenInfo> {
        self.records.iter().map(|r| r.info(now)).collect()
    }

    /// One token's metadata, with its status as of `now`.
    pub fn get(&self, id: TokenId, now: DateTime<Utc>) -> Option<TokenInfo> {
        self.records.iter().find(|r| r.id == id).map(|r| r.info(now))
    }

    /// Revokes a token. Returns whether the id is known (revoking twice is harmless and returns `true`).
    /// The record stays listed with status `revoked`.
    pub fn revoke(&mut self, id: TokenId) -> bool {
        match self.records.iter_mut().find(|r| r.id == id) {
            Some(record) => {
                record.revoked = true;
                true
            }
            None => false,
        }
    }

    /// Revokes every token (e.g. when the app is reset). Returns how many were not revoked before.
    pub fn revoke_all(&mut self) -> usize {
        let mut n = 0;
        for record in self.records.iter_mut().filter(|r| !r.revoked) {
            record.revoked = true;
            n += 1;
        }
        n
    }

    /// Whether a use of some token is newer than what the data file holds by `min_age` or more — or, for a
    /// token whose use the file does not hold at all, newer at all. With `min_age` zero: any use not written
    /// yet. The caller writes the store (its `lastUsed` values) when this is true, so each token's use costs
    /// at most one write per `min_age`, never one per request.
    pub fn last_used_due(&self, min_age: chrono::Duration) -> bool {
        self.records.iter().any(|r| match (r.last_used, r.last_used_stored) {
            (Some(used), Some(stored)) => used > stored && used - stored >= min_age,
            (Some(_), None) => true,
            (None, _) => false,
        })
    }

    /// Records that the data file now holds every token's current `last_used` (after the caller wrote
    /// [`TokenStore::to_stored_json`]).
    pub fn mark_last_used_stored(&mut self) {
        for r in &mut self.records {
            r.last_used_stored = r.last_used;
        }
    }

    /// Records that the data file holds the `last_used` values of `written` (a copy of this store that was
    /// written), token by token.
    pub fn mark_last_used_stored_from(&mut self, written: &TokenStore) {
        for r in &mut self.records {
            if let Some(w) = written.records.iter().find(|w| w.id == r.id) {
                r.last_used_stored = w.last_used;
            }
        }
    }

    /// How many tokens are accepted at `now`.
    pub fn active_count(&self, now: DateTime<Utc>) -> usize {
        self.records.iter().filter(|r| r.status(now) == TokenStatus::Active).count()
    }

    /// The number of stored tokens, whatever their status.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether no token was ever issued or configured.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

/// One token record as the data file keeps it: the SHA-256 digest in hex, never the cleartext. Times are
/// RFC 3339 with chrono's default serde form.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredToken {
    id: TokenId,
    sha256: String,
    prefix: String,
    label: Option<String>,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    last_used: Option<DateTime<Utc>>,
    revoked: bool,
}

impl TokenStore {
    /// The records as JSON for the data file (digests and metadata only; see [`crate::sqlite`]).
    pub fn to_stored_json(&self) -> String {
        let rows: Vec<StoredToken> = self
            .records
            .iter()
            .map(|r| StoredToken {
                id: r.id,
                sha256: hex::encode(r.hash.0),
                prefix: r.prefix.clone(),
                label: r.label.clone(),
                created_at: r.created_at,
                expires_at: r.expires_at,
                last_used: r.last_used,
                revoked: r.revoked,
            })
            .collect();
        // Plain strings, booleans and dates: serialising them cannot fail.
        serde_json::to_string(&rows).unwrap_or_else(|_| "[]".to_string())
    }

    /// The records read back from [`TokenStore::to_stored_json`]. Errors: text that is not such a list, or a
    /// digest that is not 32 bytes of hex (an internal error whose detail never contains a digest).
    pub fn from_stored_json(text: &str) -> ScimResult<TokenStore> {
        let bad = || ScimError::Internal("a stored token record is unreadable".to_string());
        let rows: Vec<StoredToken> = serde_json::from_str(text).map_err(|_| bad())?;
        let mut records = Vec::with_capacity(rows.len());
        for r in rows {
            let hash: [u8; 32] = hex::decode(&r.sha256).ok().and_then(|b| b.try_into().ok()).ok_or_else(bad)?;
            records.push(TokenRecord {
                id: r.id,
                hash: TokenHash(hash),
                prefix: r.prefix,
                label: r.label,
                created_at: r.created_at,
                expires_at: r.expires_at,
                last_used: r.last_used,
                last_used_stored: r.last_used,
                revoked: r.revoked,
            });
        }
        Ok(TokenStore { records })
    }
}

/// Extracts the credential from an `Authorization` header value.
///
/// Accepts `Bearer <token>` (scheme case-insensitive, surrounding and separating whitespace tolerated) and, as
/// Okta's "Header auth" sends it, the raw `<token>` with no scheme. Returns `None` for an empty value, for any
/// other scheme (`Basic …`, `Digest …`), for a bare `Bearer`/`Basic`, and for credentials containing whitespace.
pub fn parse_authorization(header: &str) -> Option<&str> {
    let header = header.trim();
    if header.is_empty() {
        return None;
    }
    match header.split_once(char::is_whitespace) {
        Some((scheme, rest)) => {
            if !scheme.eq_ignore_ascii_case("bearer") {
                return None;
            }
            let credential = rest.trim();
            if credential.is_empty() || credential.contains(char::is_whitespace) {
                None
            } else {
                Some(credential)
            }
        }
        None => {
            if header.eq_ignore_ascii_case("bearer") || header.eq_ignore_ascii_case("basic") {
                None
            } else {
                Some(header)
            }
        }
    }
}

/// Fills `buf` from the operating system's RNG (`getrandom` via `rand::rngs::SysRng`). Should the OS refuse,
/// falls back to `rand::rng()`, a ChaCha12 CSPRNG seeded from the OS (which itself panics only if the OS never
/// supplied entropy — there is no safe way to issue a secret without it).
fn fill_random(buf: &mut [u8]) {
    if rand::rngs::SysRng.try_fill_bytes(buf).is_err() {
        rand::rng().fill_bytes(buf);
    }
}

/// The identification prefix: the first [`PREFIX_LEN`] characters, but never more than a quarter of the
/// cleartext, so short configured tokens do not give most of themselves away.
fn prefix_of(cleartext: &str) -> String {
    let n = cleartext.chars().count();
    cleartext.chars().take(PREFIX_LEN.min(n / 4)).collect()
}

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64url without padding (RFC 4648 §5).
fn base64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity((bytes.len() * 4).div_ceil(3));
    for chunk in bytes.chunks(3) {
        let mut b = [0u8; 3];
        for (dst, src) in b.iter_mut().zip(chunk) {
            *dst = *src;
        }
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            let sextet = (n >> (18 - 6 * i)) & 0x3f;
            out.push(char::from(BASE64URL[sextet as usize]));
        }
    }
    out
}

fn ser_time<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_datetime(*t))
}

fn ser_opt_time<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_some(&format_datetime(*t)),
        None => s.serialize_none(),
    }
}

/// Generates a secret with 256 bits of randomness after `marker` (the admin key, OAuth client secrets and access
/// tokens): `marker` then 64 lowercase hex digits.
pub fn generate_secret(marker: &str) -> String {
    let bytes: [u8; 32] = rand::rng().random();
    format!("{marker}{}", hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().with_timezone(&Utc)
    }

    fn hex_hash(s: &str) -> String {
        hex::encode(Sha256::digest(s.as_bytes()))
    }

    #[test]
    fn issue_then_authenticate() {
        let mut store = TokenStore::new();
        let issued = store.issue(t0(), t0() + Duration::days(30), Some("okta".into()));
        assert!(issued.token.starts_with(TOKEN_MARKER));
        let at = t0() + Duration::hours(1);
        assert_eq!(store.authenticate(&issued.token, at), Ok(issued.id));
        let info = store.get(issued.id, at).unwrap();
        assert_eq!(info.last_used, Some(at));
        assert_eq!(info.status, TokenStatus::Active);
        assert_eq!(info.label.as_deref(), Some("okta"));
    }

    #[test]
    fn a_use_is_due_for_writing_once_then_only_after_the_interval() {
        let minute = Duration::minutes(1);
        let mut store = TokenStore::new();
        let issued = store.issue(t0(), t0() + Duration::days(30), None);
        assert!(!store.last_used_due(minute), "never used: nothing to write");
        assert!(!store.last_used_due(Duration::zero()));
        store.authenticate(&issued.token, t0()).unwrap();
        assert!(store.last_used_due(minute), "a first use is written at once");
        store.mark_last_used_stored();
        assert!(!store.last_used_due(minute) && !store.last_used_due(Duration::zero()));
        store.authenticate(&issued.token, t0() + Duration::seconds(59)).unwrap();
        assert!(!store.last_used_due(minute), "59 s newer than the stored use: not yet");
        assert!(store.last_used_due(Duration::zero()), "but written at shutdown");
        store.authenticate(&issued.token, t0() + Duration::seconds(60)).unwrap();
        assert!(store.last_used_due(minute));
        // A store read back from its stored form holds what it was written with.
        let back = TokenStore::from_stored_json(&store.to_stored_json()).unwrap();
        assert!(!back.last_used_due(Duration::zero()));
        assert_eq!(back.list(t0())[0].last_used, Some(t0() + Duration::seconds(60)));
    }

    #[test]
    fn a_use_after_the_copy_that_was_written_stays_due() {
        let mut store = TokenStore::new();
        let issued = store.issue(t0(), t0() + Duration::days(30), None);
        store.authenticate(&issued.token, t0()).unwrap();
        let written = store.clone();
        store.authenticate(&issued.token, t0() + Duration::seconds(5)).unwrap();
        store.mark_last_used_stored_from(&written);
        assert!(!store.last_used_due(Duration::minutes(1)));
        assert!(store.last_used_due(Duration::zero()), "the use after the copy is not in the file yet");
        store.mark_last_used_stored_from(&store.clone());
        assert!(!store.last_used_due(Duration::zero()));
    }

    #[test]
    fn check_is_authentication_without_a_use() {
        let mut store = TokenStore::new();
        let issued = store.issue(t0(), t0() + Duration::days(1), None);
        assert_eq!(store.check(&issued.token, t0()), Ok(issued.id));
        assert_eq!(store.list(t0())[0].last_used, None);
        assert_eq!(store.check("scim_unknown-token-value", t0()), Err(AuthFailure::Invalid));
        assert_eq!(store.check(&issued.token, t0() + Duration::days(1)), Err(AuthFailure::Expired));
        store.revoke(issued.id);
        assert_eq!(store.check(&issued.token, t0()), Err(AuthFailure::Revoked));
    }

    #[test]
    fn wrong_token_is_invalid_and_leaves_last_used() {
        let mut store = TokenStore::new();
        let issued = store.issue(t0(), t0() + Duration::days(1), None);
        for wrong in ["", "x", "scim_", issued.prefix.as_str(), &issued.token[..issued.token.len() - 1]] {
            assert_eq!(store.authenticate(wrong, t0()), Err(AuthFailure::Invalid));
        }
        let mut flipped = issued.token.clone();
        flipped.push('A');
        assert_eq!(store.authenticate(&flipped, t0()), Err(AuthFailure::Invalid));
        assert_eq!(store.list(t0())[0].last_used, None);
        assert_eq!(TokenStore::new().authenticate(&issued.token, t0()), Err(AuthFailure::Invalid));
    }

    #[test]
    fn expiry_follows_now() {
        let mut store = TokenStore::new();
        let exp = t0() + Duration::days(7);
        let issued = store.issue(t0(), exp, None);
        assert!(store.authenticate(&issued.token, exp - Duration::milliseconds(1)).is_ok());
        assert_eq!(store.authenticate(&issued.token, exp), Err(AuthFailure::Expired));
        assert_eq!(store.authenticate(&issued.token, exp + Duration::days(1)), Err(AuthFailure::Expired));
        assert_eq!(store.list(exp)[0].status, TokenStatus::Expired);
        assert_eq!(store.active_count(exp), 0);
        // Clocks moved back (manual clock in tests) make it valid again: expiry is a pure function of `now`.
        assert!(store.authenticate(&issued.token, t0()).is_ok());
    }

    #[test]
    fn revoke() {
        let mut store = TokenStore::new();
        let issued = store.issue(t0(), t0() + Duration::days(7), None);
        assert!(store.revoke(issued.id));
        assert!(store.revoke(issued.id), "revoking twice is idempotent");
        assert_eq!(store.authenticate(&issued.token, t0()), Err(AuthFailure::Revoked));
        // Revocation wins over expiry.
        assert_eq!(store.authenticate(&issued.token, t0() + Duration::days(8)), Err(AuthFailure::Revoked));
        assert_eq!(store.list(t0())[0].status, TokenStatus::Revoked);
        assert!(!store.revoke(TokenId::from(Uuid::nil())));
        assert_eq!(store.revoke_all(), 0);
    }

    #[test]
    fn two_live_tokens_rotate() {
        let mut store = TokenStore::new();
        let old = store.issue(t0(), t0() + Duration::days(30), Some("old".into()));
        let new = store.issue(t0() + Duration::days(1), t0() + Duration::days(60), Some("new".into()));
        assert_ne!(old.id, new.id);
        let at = t0() + Duration::days(2);
        assert_eq!(store.authenticate(&old.token, at), Ok(old.id));
        assert_eq!(store.authenticate(&new.token, at), Ok(new.id));
        assert_eq!(store.active_count(at), 2);
        store.revoke(old.id);
        assert_eq!(store.authenticate(&old.token, at), Err(AuthFailure::Revoked));
        assert_eq!(store.authenticate(&new.token, at), Ok(new.id));
        assert_eq!(store.revoke_all(), 1);
        assert_eq!(store.active_count(at), 0);
    }

    #[test]
    fn tokens_of_another_store_are_rejected() {
        let mut a = TokenStore::new();
        let mut b = TokenStore::new();
        let ta = a.issue(t0(), t0() + Duration::days(1), None);
        let tb = b.issue(t0(), t0() + Duration::days(1), None);
        assert_eq!(a.authenticate(&tb.token, t0()), Err(AuthFailure::Invalid));
        assert_eq!(b.authenticate(&ta.token, t0()), Err(AuthFailure::Invalid));
        assert!(a.authenticate(&ta.token, t0()).is_ok());
    }

    #[test]
    fn list_shows_prefix_and_metadata_only() {
        let mut store = TokenStore::new();
        let issued = store.issue(t0(), t0() + Duration::days(1), Some("ci".into()));
        assert_eq!(issued.prefix.chars().count(), PREFIX_LEN);
        assert!(issued.token.starts_with(&issued.prefix));
        let list = store.list(t0());
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].id, issued.id);
        assert_eq!(list[0].prefix, issued.prefix);
        assert_eq!(list[0].created_at, t0());
        let json = serde_json::to_string(&list).unwrap();
        assert!(json.contains(&issued.prefix));
        assert!(json.contains("\"status\":\"active\""));
        assert!(json.contains("\"createdAt\":\"2026-01-01T00:00:00.000Z\""));
        assert!(json.contains("\"lastUsed\":null"));
        assert!(!json.contains(&issued.token));
        assert!(!json.contains(&hex_hash(&issued.token)));
    }

    #[test]
    fn issued_tokens_are_random_and_long() {
        let mut store = TokenStore::new();
        let a = store.issue(t0(), t0() + Duration::days(1), None);
        let b = store.issue(t0(), t0() + Duration::days(1), None);
        assert_ne!(a.token, b.token);
        assert_ne!(a.prefix, b.prefix, "42 random bits in the prefix");
        let encoded = a.token.strip_prefix(TOKEN_MARKER).unwrap();
        assert_eq!(encoded.len(), 43);
        assert!(encoded.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_eq!(parse_authorization(&format!("Bearer {}", a.token)), Some(a.token.as_str()));
    }

    #[test]
    fn base64url_known_vectors() {
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
        assert_eq!(base64url(&[0u8; 32]).len(), 43);
    }

    #[test]
    fn debug_never_shows_secrets() {
        let mut store = TokenStore::new();
        let issued = store.issue(t0(), t0() + Duration::days(1), Some("label".into()));
        let known = "configured-token-0123456789";
        store.insert_known(known, t0(), t0() + Duration::days(1), None).unwrap();
        store.authenticate(&issued.token, t0()).unwrap();
        let dump = format!("{store:?} {store:#?} {issued:?} {:?}", store.list(t0()));
        for secret in [issued.token.as_str(), known] {
            assert!(!dump.contains(secret), "cleartext leaked: {dump}");
            let h = hex_hash(secret);
            assert!(!dump.contains(&h), "hash leaked: {dump}");
            assert!(!dump.contains(&h.to_uppercase()));
            let bytes = format!("{:?}", Sha256::digest(secret.as_bytes()).as_slice());
            assert!(!dump.contains(&bytes[1..bytes.len() - 1]), "hash bytes leaked");
        }
        assert!(dump.contains(&issued.prefix));
        assert!(dump.contains("<redacted>"));
    }

    #[test]
    fn known_tokens() {
        let mut store = TokenStore::new();
        let exp = t0() + Duration::days(365);
        let err = store.insert_known("short-token", t0(), exp, None).unwrap_err();
        assert_eq!(err.scim_type(), Some("invalidValue"));
        assert!(!err.detail().contains("short-token"));
        assert!(store.insert_known("fifteen-chars-x", t0(), exp, None).is_err());
        assert!(store.insert_known("with space 0123456789", t0(), exp, None).is_err());
        assert!(store.is_empty());
        let id = store.insert_known("sixteen-chars-xx", t0(), exp, Some("ci".into())).unwrap();
        assert!(store.insert_known("sixteen-chars-xx", t0(), exp, None).is_err());
        assert_eq!(store.authenticate("sixteen-chars-xx", t0()), Ok(id));
        assert_eq!(store.authenticate("sixteen-chars-xy", t0()), Err(AuthFailure::Invalid));
        // A short configured token keeps at most a quarter of itself as prefix.
        assert_eq!(store.list(t0())[0].prefix, "sixt");
        // Multi-byte characters neither panic nor count as bytes.
        let id2 = store.insert_known("ééééééééééééééé€", t0(), exp, None).unwrap();
        assert_eq!(store.get(id2, t0()).unwrap().prefix, "éééé");
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn failure_details_never_echo_the_token() {
        assert_eq!(AuthFailure::Invalid.detail(), "the bearer token is invalid");
        assert_eq!(AuthFailure::Expired.detail(), "the bearer token has expired");
        assert_eq!(AuthFailure::Revoked.detail(), "the bearer token has been revoked");
        let e: ScimError = AuthFailure::Expired.into();
        assert_eq!(e.status(), 401);
        assert_eq!(e.detail(), "the bearer token has expired");
    }

    #[test]
    fn issued_token_serializes_once_for_display() {
        let mut store = TokenStore::new();
        let issued = store.issue(t0(), t0() + Duration::days(1), None);
        let v = serde_json::to_value(&issued).unwrap();
        assert_eq!(v["token"], issued.token.as_str());
        assert_eq!(v["expiresAt"], "2026-01-02T00:00:00.000Z");
        assert_eq!(v["id"], issued.id.to_string());
        assert_eq!(issued.id.to_string().parse::<TokenId>().unwrap(), issued.id);
        assert!("nope".parse::<TokenId>().is_err());
    }

    #[test]
    fn parse_authorization_cases() {
        let t = "scim_abcDEF123-_";
        assert_eq!(parse_authorization(&format!("Bearer {t}")), Some(t));
        assert_eq!(parse_authorization(&format!("bearer {t}")), Some(t));
        assert_eq!(parse_authorization(&format!("BEARER {t}")), Some(t));
        assert_eq!(parse_authorization(&format!("  Bearer    {t}  ")), Some(t));
        assert_eq!(parse_authorization(&format!("Bearer\t{t}")), Some(t));
        // Okta "Header auth": the raw token, no scheme.
        assert_eq!(parse_authorization(t), Some(t));
        assert_eq!(parse_authorization(&format!(" {t} ")), Some(t));
        assert_eq!(parse_authorization("Basic dXNlcjpwYXNz"), None);
        assert_eq!(parse_authorization("basic dXNlcjpwYXNz"), None);
        assert_eq!(parse_authorization("Digest username=x"), None);
        assert_eq!(parse_authorization("Bearer"), None);
        assert_eq!(parse_authorization("Bearer   "), None);
        assert_eq!(parse_authorization("Basic"), None);
        assert_eq!(parse_authorization(""), None);
        assert_eq!(parse_authorization("   "), None);
        assert_eq!(parse_authorization("Bearer a b"), None);
        assert_eq!(parse_authorization("Bearer é€"), Some("é€"));
    }
}
