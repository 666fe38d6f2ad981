//! SCIM responses: `application/scim+json` bodies, ETag and Location headers, and SCIM Error rendering.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::error::ScimError;

/// The SCIM media type (RFC 7644 §3.1).
pub const SCIM_JSON: &str = "application/scim+json";

/// A JSON body sent as `application/scim+json`, with optional ETag and Location headers.
#[derive(Debug)]
pub struct Scim {
    /// The HTTP status.
    pub status: StatusCode,
    /// The JSON body, if any (`None` for a 204).
    pub body: Option<Value>,
    /// The body already written as JSON text (a resource written by [`crate::projection::Shown`]); sent instead
    /// of `body` when set.
    pub written: Option<Vec<u8>>,
    /// The `ETag` header value (RFC 7644 §3.14), if any.
    pub etag: Option<String>,
    /// The `Location` header value (RFC 7644 §3.1), if any.
    pub location: Option<String>,
}

impl Scim {
    /// 200 with a body.
    pub fn ok(body: Value) -> Self {
        Scim { status: StatusCode::OK, body: Some(body), written: None, etag: None, location: None }
    }
    /// 204 without a body.
    pub fn no_content() -> Self {
        Scim { status: StatusCode::NO_CONTENT, body: None, written: None, etag: None, location: None }
    }
    /// 200 with a body already written as JSON text.
    pub fn ok_written(text: Vec<u8>) -> Self {
        Scim { status: StatusCode::OK, body: None, written: Some(text), etag: None, location: None }
    }
    /// Sets the status.
    pub fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }
    /// Sets the ETag header from the body's `meta.version` (RFC 7644 §3.14).
    pub fn with_etag_from_body(mut self) -> Self {
        self.etag = self.body.as_ref().and_then(crate::store::version_of).map(str::to_string);
        self
    }
    /// Sets the Location header from the body's `meta.location` (RFC 7644 §3.3).
    pub fn with_location_from_body(mut self) -> Self {
        self.location =
            self.body.as_ref().and_then(|b| b.pointer("/meta/location")).and_then(Value::as_str).map(str::to_string);
        self
    }
}

/// The room, in bytes, an answer's body is written into before it grows (a typical resource is 1-2 KiB).
const ANSWER_CAPACITY: usize = 2048;

/// `value` as JSON text, written into room for a typical resource; empty if it cannot be written (it always can:
/// an answer is a JSON value).
pub(crate) fn json_bytes(value: &impl serde::Serialize) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(ANSWER_CAPACITY);
    if serde_json::to_writer(&mut bytes, value).is_err() {
        bytes.clear();
    }
    bytes
}

fn header_value(s: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(s).ok()
}

impl IntoResponse for Scim {
    fn into_response(self) -> Response {
        let mut res = match (self.written, self.body) {
            (Some(text), _) => {
                (self.status, [(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON))], text).into_response()
            }
            (None, Some(b)) => {
                (self.status, [(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON))], json_bytes(&b))
                    .into_response()
            }
            (None, None) => self.status.into_response(),
        };
        if let Some(v) = self.etag.as_deref().and_then(header_value) {
            res.headers_mut().insert(header::ETAG, v);
        }
        if let Some(v) = self.location.as_deref().and_then(header_value) {
            res.headers_mut().insert(header::LOCATION, v);
        }
        res
    }
}

/// The 401 for a request that carries no credential at all: a SCIM Error (RFC 7644 §3.12) whose
/// `WWW-Authenticate` challenge names the realm but no error code — RFC 6750 §3.1: "If the request lacks any
/// authentication information …, the resource server SHOULD NOT include an error code". A credential that is
/// presented and refused (unknown, expired, revoked) is a plain [`ScimError::Unauthorized`], whose challenge
/// says `error="invalid_token"`.
pub fn authentication_required(detail: &str) -> Response {
    let mut res = ScimError::Unauthorized(detail.to_string()).into_response();
    res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"scim\""));
    res
}

/// Renders a SCIM Error (RFC 7644 §3.12). 401s carry `WWW-Authenticate` with `error="invalid_token"` (RFC 6750
/// §3.1); a request without any credential is answered by [`authentication_required`] instead.
impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let mut res =
            Scim { status, body: Some(self.to_json()), written: None, etag: None, location: None }.into_response();
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"scim\", error=\"invalid_token\""),
            );
        }
        res
    }
}
