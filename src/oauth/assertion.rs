//! JWT-bearer client assertions (RFC 7523 §2.2, claims §3): the client signs a short-lived JWT with its private
//! key instead of sending a secret. Signing uses the `jsonwebtoken` crate.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};

/// `client_assertion_type` of a JWT-bearer client assertion (RFC 7523 §2.2).
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long an assertion is valid, in seconds (RFC 7523 §3 item 4 asks for an `exp`; five minutes is the usual
/// ceiling of authorization servers).
pub const ASSERTION_LIFETIME_SECS: u64 = 300;

/// A private key that signs client assertions: RSA (RS256) or P-256 (ES256), read from PEM. `Debug` never shows
/// the key.
pub struct AssertionKey {
    key: EncodingKey,
    algorithm: Algorithm,
    /// The PEM text, kept only so that a server echoing it is redacted.
    pem: String,
    /// The `kid` header, when given.
    key_id: Option<String>,
}

impl std::fmt::Debug for AssertionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AssertionKey({:?}, [redacted])", self.algorithm)
    }
}

/// Why a private key cannot sign client assertions; `Display` is the one line printed (never quoting the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// The text is not an RSA or P-256 private key in PEM form.
    NotAKey,
    /// Signing failed (jsonwebtoken's error kind, as `Debug` text).
    Signing(String),
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyError::NotAKey => f.write_str(
                "the private key is not an RSA (RS256) or P-256 (ES256) private key in PEM form (PKCS #1 or PKCS #8)",
            ),
            KeyError::Signing(kind) => write!(f, "the client assertion could not be signed ({kind})"),
        }
    }
}

impl std::error::Error for KeyError {}

impl AssertionKey {
    /// Reads a PEM private key: `RSA PRIVATE KEY` (PKCS #1) or `PRIVATE KEY` (PKCS #8) RSA → RS256, PKCS #8
    /// P-256 → ES256. The key is tried by signing once.
    ///
    /// Errors: the text is not such a key (the message never quotes it).
    pub fn from_pem(pem: &str, key_id: Option<String>) -> Result<AssertionKey, KeyError> {
        let candidates = [
            (EncodingKey::from_rsa_pem(pem.as_bytes()), Algorithm::RS256),
            (EncodingKey::from_ec_pem(pem.as_bytes()), Algorithm::ES256),
        ];
        for (key, algorithm) in candidates {
            if let Ok(key) = key {
                let k = AssertionKey { key, algorithm, pem: pem.to_string(), key_id: key_id.clone() };
                if k.sign("probe", "https://probe.invalid/token").is_ok() {
                    return Ok(k);
                }
            }
        }
        Err(KeyError::NotAKey)
    }

    /// The signing algorithm (`RS256` or `ES256`).
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// What must never be written: the PEM text and its base64 body lines.
    pub fn secrets(&self) -> Vec<String> {
        let mut out = vec![self.pem.trim().to_string()];
        out.extend(
            self.pem.lines().filter(|l| !l.starts_with("-----") && l.trim().len() >= 16).map(|l| l.trim().into()),
        );
        out
    }

    /// A signed assertion: `iss` and `sub` the client id, `aud` the token endpoint, `iat`, `exp`
    /// ([`ASSERTION_LIFETIME_SECS`] later) and a fresh `jti` (RFC 7523 §3).
    ///
    /// Errors: signing failed.
    pub fn sign(&self, client_id: &str, token_url: &str) -> Result<String, KeyError> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let claims = serde_json::json!({
            "iss": client_id,
            "sub": client_id,
            "aud": token_url,
            "iat": now,
            "nbf": now,
            "exp": now + ASSERTION_LIFETIME_SECS,
            "jti": uuid::Uuid::new_v4().to_string(),
        });
        let mut header = Header::new(self.algorithm);
        header.kid = self.key_id.clone();
        jsonwebtoken::encode(&header, &claims, &self.key).map_err(|e| KeyError::Signing(format!("{:?}", e.kind())))
    }
}
