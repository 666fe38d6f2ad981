//! The one error type of the server. Every failure maps to exactly one SCIM error (RFC 7644 §3.12):
//! an HTTP status, an optional `scimType` and a human-readable detail.

use std::fmt;

/// A SCIM error, free of HTTP types. The HTTP layer renders it as an
/// `urn:ietf:params:scim:api:messages:2.0:Error` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScimError {
    /// 400 `invalidFilter` — RFC 7644 §3.12: the filter syntax was invalid or the attribute/comparison is unsupported.
    InvalidFilter(String),
    /// 400 `tooMany` — RFC 7644 §3.12: the filter yields more results than the server is willing to process.
    TooMany(String),
    /// 409 `uniqueness` — RFC 7644 §3.12: one or more unique attribute values are in use.
    Uniqueness(String),
    /// 400 `mutability` — RFC 7644 §3.12: the attempted modification is not compatible with the attribute's mutability.
    Mutability(String),
    /// 400 `invalidSyntax` — RFC 7644 §3.12: the request body structure was invalid.
    InvalidSyntax(String),
    /// 400 `invalidPath` — RFC 7644 §3.12: the PATCH path was invalid.
    InvalidPath(String),
    /// 400 `noTarget` — RFC 7644 §3.12: the PATCH path did not yield an attribute that could be operated on.
    NoTarget(String),
    /// 400 `invalidValue` — RFC 7644 §3.12: a required value was missing or a value is not compatible.
    InvalidValue(String),
    /// 400 `invalidVers` — RFC 7644 §3.12: the specified SCIM protocol version is not supported.
    InvalidVersion(String),
    /// 400 `sensitive` — RFC 7644 §3.12: the request cannot be completed because of sensitive information in the URI.
    Sensitive(String),
    /// 400 without `scimType`: a request parameter is wrong (e.g. `sortOrder=sideways`).
    BadRequest(String),
    /// 401 — no valid credential. The detail must never contain the credential.
    Unauthorized(String),
    /// 403 — authenticated but not allowed (disabled app, protected account, non-subdomain tenant).
    Forbidden(String),
    /// 404 — the resource or endpoint does not exist (or is hidden).
    NotFound(String),
    /// 405 — the method is not allowed on this endpoint (e.g. writes to discovery endpoints).
    MethodNotAllowed(String),
    /// 408 — RFC 9110 §15.5.9: the request body did not arrive within the server's body timeout.
    RequestTimeout(String),
    /// 412 — RFC 7644 §3.14: `If-Match` did not match the current version.
    PreconditionFailed(String),
    /// 413 — the request body exceeds the configured limit.
    PayloadTooLarge(String),
    /// 415 — the request's media type is not JSON.
    UnsupportedMediaType(String),
    /// 501 — RFC 7644 §3.2: the operation is not supported (e.g. `/Me`, `/Bulk`).
    NotImplemented(String),
    /// 500 — an internal invariant broke. Never carries internals to the client.
    Internal(String),
}

impl ScimError {
    /// The HTTP status code of this error.
    pub fn status(&self) -> u16 {
        use ScimError::*;
        match self {
            InvalidFilter(_) | TooMany(_) | Mutability(_) | InvalidSyntax(_) | InvalidPath(_) | NoTarget(_)
            | InvalidValue(_) | InvalidVersion(_) | Sensitive(_) | BadRequest(_) => 400,
            Unauthorized(_) => 401,
            Forbidden(_) => 403,
            NotFound(_) => 404,
            MethodNotAllowed(_) => 405,
            RequestTimeout(_) => 408,
            Uniqueness(_) => 409,
            PreconditionFailed(_) => 412,
            PayloadTooLarge(_) => 413,
            UnsupportedMediaType(_) => 415,
            Internal(_) => 500,
            NotImplemented(_) => 501,
        }
    }

    /// The `scimType` keyword, where RFC 7644 §3.12 (Table 9) defines one for this error.
    pub fn scim_type(&self) -> Option<&'static str> {
        use ScimError::*;
        Some(match self {
            InvalidFilter(_) => "invalidFilter",
            TooMany(_) => "tooMany",
            Uniqueness(_) => "uniqueness",
            Mutability(_) => "mutability",
            InvalidSyntax(_) => "invalidSyntax",
            InvalidPath(_) => "invalidPath",
            NoTarget(_) => "noTarget",
            InvalidValue(_) => "invalidValue",
            InvalidVersion(_) => "invalidVers",
            Sensitive(_) => "sensitive",
            _ => return None,
        })
    }

    /// The human-readable detail.
    pub fn detail(&self) -> &str {
        use ScimError::*;
        match self {
            InvalidFilter(d)
            | TooMany(d)
            | Uniqueness(d)
            | Mutability(d)
            | InvalidSyntax(d)
            | InvalidPath(d)
            | NoTarget(d)
            | InvalidValue(d)
            | InvalidVersion(d)
            | Sensitive(d)
            | BadRequest(d)
            | Unauthorized(d)
            | Forbidden(d)
            | NotFound(d)
            | MethodNotAllowed(d)
            | RequestTimeout(d)
            | PreconditionFailed(d)
            | PayloadTooLarge(d)
            | UnsupportedMediaType(d)
            | NotImplemented(d)
            | Internal(d) => d,
        }
    }

    /// The SCIM Error message body (RFC 7644 §3.12); `status` is a string as the RFC's examples and Okta require.
    pub fn to_json(&self) -> serde_json::Value {
        let mut body = serde_json::json!({
            "schemas": [crate::schema::ERROR_URN],
            "status": self.status().to_string(),
            "detail": self.detail(),
        });
        if let Some(t) = self.scim_type() {
            body["scimType"] = serde_json::Value::String(t.to_string());
        }
        body
    }
}

impl fmt::Display for ScimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.scim_type() {
            Some(t) => write!(f, "{} {}: {}", self.status(), t, self.detail()),
            None => write!(f, "{}: {}", self.status(), self.detail()),
        }
    }
}

impl std::error::Error for ScimError {}

/// Shorthand for results of domain operations.
pub type ScimResult<T> = Result<T, ScimError>;
