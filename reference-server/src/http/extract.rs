//! Request extractors that turn every malformed input into a SCIM error instead of axum's plain-text
//! rejections: JSON bodies (media type, size limit, syntax) and query parameters.

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts};
use serde_json::Value;

use super::ScimContext;
use crate::error::ScimError;

/// How long a request body may take to arrive once a handler reads it; a request extension set by the
/// server ([`crate::serve::Limits::body_timeout`]). Without it, 30 seconds.
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout(pub Duration);

/// A JSON request body accepted as `application/scim+json` or `application/json` (with any parameters),
/// or without a Content-Type. A Content-Type that is not one of those — including one that is not valid
/// header text at all — is 415; malformed JSON is 400 `invalidSyntax`; a body over the limit is 413; a body
/// that does not arrive within the body timeout is 408.
#[derive(Debug)]
pub struct ScimJson(pub Value);

fn media_type_ok(ct: &str) -> bool {
    let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || essence == "application/scim+json" || essence.is_empty()
}

impl<S: Send + Sync> FromRequest<S> for ScimJson {
    type Rejection = ScimError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let limit = req.extensions().get::<ScimContext>().map(|c| c.body_limit).unwrap_or(1 << 20);
        let timeout = req.extensions().get::<BodyTimeout>().map_or(Duration::from_secs(30), |t| t.0);
        if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
            let Ok(ct) = ct.to_str() else {
                return Err(ScimError::UnsupportedMediaType(
                    "Content-Type is not valid header text (RFC 9110 §5.5); send application/scim+json".into(),
                ));
            };
            if !media_type_ok(ct) {
                return Err(ScimError::UnsupportedMediaType(format!(
                    "Content-Type must be application/scim+json or application/json, not '{}'",
                    ct.chars().take(100).collect::<String>()
                )));
            }
        }
        let too_large = || ScimError::PayloadTooLarge(format!("request body exceeds the limit of {limit} bytes"));
        let declared =
            req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        let body: Body = req.into_body();
        let bytes = match tokio::time::timeout(timeout, axum::body::to_bytes(body, limit)).await {
            Ok(read) => read.map_err(|_| too_large())?,
            Err(_) => {
                return Err(ScimError::RequestTimeout(format!(
                    "the request body did not arrive within {} s",
                    timeout.as_secs_f64()
                )))
            }
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ScimError::InvalidSyntax("the request body is empty".into()));
        }
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|e| ScimError::InvalidSyntax(format!("the request body is not valid JSON: {e}")))?;
        Ok(ScimJson(value))
    }
}

/// Query parameters, decoded with both `%20` and `+` as space, names matched case-insensitively.
#[derive(Debug, Default)]
pub struct ScimQuery(pub HashMap<String, String>);

impl ScimQuery {
    /// A parameter by (case-insensitive) name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(&name.to_ascii_lowercase()).map(String::as_str)
    }

    /// An integer parameter; a non-integer is 400 `invalidValue`.
    pub fn int(&self, name: &str) -> Result<Option<i64>, ScimError> {
        match self.get(name) {
            None => Ok(None),
            Some(s) if s.trim().is_empty() => Ok(None),
            Some(s) => s
                .trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| ScimError::InvalidValue(format!("query parameter '{name}' must be an integer"))),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ScimQuery {
    type Rejection = ScimError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        let map = form_urlencoded::parse(q.as_bytes()).map(|(k, v)| (k.to_ascii_lowercase(), v.into_owned())).collect();
        Ok(ScimQuery(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_scim_and_plain_json_with_parameters() {
        assert!(media_type_ok("application/scim+json"));
        assert!(media_type_ok("application/scim+json; charset=utf-8"));
        assert!(media_type_ok("Application/JSON;charset=UTF-8"));
        assert!(!media_type_ok("text/plain"));
        assert!(!media_type_ok("application/xml"));
    }
}
