//! What a step sent and what it observed: the raw material of verdicts and transcripts.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::scenario::{AuthMode, Method};

/// A request as sent (the `Authorization` header is never stored, only the auth mode).
#[derive(Debug, Clone, Serialize)]
pub struct SentRequest {
    /// Method.
    pub method: Method,
    /// The full URL.
    pub url: String,
    /// Path relative to the base URI, variables substituted.
    pub path: String,
    /// Query parameters, variables substituted, not encoded.
    pub query: Vec<(String, String)>,
    /// Headers sent, except `Authorization`.
    pub headers: Vec<(String, String)>,
    /// Headers the step itself set (the ones a transcript records).
    pub step_headers: Vec<(String, String)>,
    /// JSON body.
    pub body: Option<Value>,
    /// Raw text body (a step's `bodyText`), sent instead of `body`.
    pub body_text: Option<String>,
    /// Which credential was sent.
    pub auth: AuthMode,
    /// The space encoding of the query, when the step overrode its profile's.
    pub spaces: Option<crate::profile::SpaceEncoding>,
}

/// A response as the runner observed it.
#[derive(Debug, Clone, Serialize)]
pub struct Observed {
    /// Status code.
    pub status: u16,
    /// Headers, names lower-cased, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Body,
    /// Time from sending the request to reading the whole body.
    #[serde(serialize_with = "ser_ms")]
    pub elapsed: Duration,
}

fn ser_ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

impl Observed {
    /// The first value of a header (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The JSON body, if there is one.
    pub fn json(&self) -> Option<&Value> {
        match &self.body {
            Body::Json(v) => Some(v),
            _ => None,
        }
    }
}

/// A response body as read.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "camelCase")]
pub enum Body {
    /// No bytes.
    Empty,
    /// Parsed JSON.
    Json(Value),
    /// Bytes that are not JSON (lossy UTF-8, truncated for display).
    Text(String),
    /// The body was longer than the limit; reading stopped there.
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
}

/// Maximum characters of a non-JSON body kept for display and transcripts.
pub const TEXT_KEEP: usize = 2000;

impl Body {
    /// Classifies raw bytes: empty, JSON, or text (truncated to [`TEXT_KEEP`] characters).
    pub fn from_bytes(bytes: &[u8]) -> Body {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Body::Empty;
        }
        match serde_json::from_slice(bytes) {
            Ok(v) => Body::Json(v),
            Err(_) => {
                let text = String::from_utf8_lossy(bytes);
                Body::Text(truncate(&text, TEXT_KEEP))
            }
        }
    }
}

/// Truncates to `max` characters, marking the cut.
pub fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((i, _)) => format!("{}… [{} more bytes]", &s[..i], s.len() - i),
    }
}
