//! What a step sent and what it observed: the raw material of verdicts and transcripts.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

pub mod base_uri;
pub mod in_process;
pub mod order;
pub mod send;
pub mod summary;
pub mod transport;
pub mod vocab;

pub use base_uri::{decode_query, BaseUri};
pub use in_process::{receive_via, Transport};
pub use order::tick;
pub use send::{forward, receive, send, stream, BodyStream, Forwarded, Received};
pub use transport::{TlsCause, TransportError, TransportKind};
pub use vocab::{AuthMode, Method, SpaceEncoding};

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
    pub spaces: Option<SpaceEncoding>,
}

/// A response as the runner observed it.
#[derive(Debug, Clone, Serialize)]
pub struct Observed {
    /// Status code.
    pub status: u16,
    /// Headers, names lower-cased, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body (after judging, only what [`Observed::retain`] keeps).
    pub body: Body,
    /// Body bytes received (up to the body limit), whatever is kept of them.
    pub size: usize,
    /// Time from sending the request to reading the whole body.
    #[serde(serialize_with = "ser_ms")]
    pub elapsed: Duration,
}

fn ser_ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

impl Observed {
    /// An answer with only a status (no headers, no body, no time), for tests that judge a status.
    #[cfg(test)]
    pub(crate) fn status_only(status: u16) -> Observed {
        Observed { status, headers: vec![], body: Body::Empty, size: 0, elapsed: std::time::Duration::ZERO }
    }

    /// The first value of a header (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The id of a resource this response created when it came without a body: the last path segment of the
    /// `Location` header of a 201 (RFC 7644 §3.3: the body SHOULD carry the new resource, `Location` SHALL name
    /// it). `None` when the response has a body (its `id` is the one to use), is not a 201, or has no `Location`.
    pub fn created_id_from_location(&self) -> Option<String> {
        if self.status != 201 || !matches!(self.body, Body::Empty) {
            return None;
        }
        let loc = self.header("location")?;
        let path = loc.split(['?', '#']).next().unwrap_or(loc);
        path.rsplit('/').find(|s| !s.is_empty()).map(str::to_string)
    }

    /// Drops what verdicts no longer need once the step is judged: a JSON body over [`RETAIN_WHOLE`] bytes keeps
    /// only its first `keep` characters, pretty-printed, and its outline ([`Body::Truncated`]; what the next page
    /// of a `pages` step reads, [`Observed::structure`]); [`Observed::size`] still says how large it was. Smaller bodies, text bodies (already cut at [`TEXT_KEEP`]) and the rest are kept as they are.
    pub fn retain(&mut self, keep: usize) {
        if self.size <= RETAIN_WHOLE {
            return;
        }
        if let Body::Json(v) = &self.body {
            let outline = crate::outline::outline(v);
            self.body = Body::Truncated { text: pretty_start(v, keep), outline };
        }
    }

    /// Keeps at most the first `keep` bytes of the body's text, for a result whose reports are already written:
    /// a longer JSON body becomes [`Body::Truncated`] with the start of its compact text; longer text is cut.
    /// [`Observed::size`] still says how large it was.
    pub fn shrink(&mut self, keep: usize) {
        match &mut self.body {
            Body::Json(v) => {
                let text = v.to_string();
                if text.len() > keep {
                    self.body = Body::Truncated { text: cut(&text, keep).to_string(), outline: None };
                }
            }
            Body::Text(t) | Body::Truncated { text: t, .. } => {
                if t.len() > keep {
                    *t = cut(t, keep).to_string();
                }
            }
            Body::Empty | Body::TooLarge { .. } => {}
        }
    }

    /// The JSON body, or once a large body was cut by [`Observed::retain`] its outline
    /// ([`crate::outline::outline`]: paging members and each listed resource's identity); `None` otherwise.
    pub fn structure(&self) -> Option<&Value> {
        match &self.body {
            Body::Json(v) => Some(v),
            Body::Truncated { outline, .. } => outline.as_ref(),
            _ => None,
        }
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
    /// A JSON body kept after judging only as the start of its text: one larger than [`RETAIN_WHOLE`] (the
    /// pretty-printed start, for the reports), or any body once its reports are written ([`Observed::shrink`]).
    Truncated {
        /// The first characters of the body's text.
        text: String,
        /// The body's structure without its bulky attribute values ([`crate::outline::outline`]): what a later
        /// step (the next page of a `pages` step) still reads. Not written to reports.
        #[serde(skip)]
        outline: Option<Value>,
    },
}

/// Bytes of a judged response body kept whole (for the transcript and the reports); larger bodies keep only the
/// start of their text, so memory does not grow with what a server sends.
pub const RETAIN_WHOLE: usize = 128 * 1024;

/// Default of `--report-body-limit`: the characters of a body a report shows (and a large body keeps).
pub const DEFAULT_REPORT_BODY_LIMIT: usize = 32 * 1024;

/// Maximum characters of a non-JSON body kept for display and transcripts.
pub const TEXT_KEEP: usize = 2000;

impl Body {
    /// Classifies raw bytes: empty, JSON, or text (truncated to [`TEXT_KEEP`] characters). A JSON text of more
    /// than [`crate::json_bound::MAX_JSON_VALUES`] values is not parsed: it becomes the text
    /// [`crate::json_bound::refused`], which the step's verdict shows.
    pub fn from_bytes(bytes: &[u8]) -> Body {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Body::Empty;
        }
        if crate::json_bound::exceeds(bytes, crate::json_bound::MAX_JSON_VALUES) {
            return Body::Text(crate::json_bound::refused(crate::json_bound::MAX_JSON_VALUES));
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

/// The first `max` bytes (at most, ending on a character boundary) of `v` pretty-printed, without printing the
/// rest: memory stays at `max` whatever the size of `v`.
pub fn pretty_start(v: &Value, max: usize) -> String {
    struct Capped(Vec<u8>, usize);
    impl std::io::Write for Capped {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let room = self.1 - self.0.len();
            if room == 0 {
                return Err(std::io::Error::other("full"));
            }
            let n = room.min(buf.len());
            self.0.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut out = Capped(Vec::with_capacity(max.min(1 << 20)), max);
    // stopping at the cap is the point: the error only says the buffer is full
    let _ = serde_json::to_writer_pretty(&mut out, v);
    match String::from_utf8(out.0) {
        Ok(s) => s,
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let mut bytes = e.into_bytes();
            bytes.truncate(valid);
            String::from_utf8(bytes).unwrap_or_default()
        }
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
pub fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Truncates to `max` characters, marking the cut.
pub fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((i, _)) => format!("{}… [{} more bytes]", &s[..i], s.len() - i),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn observed(body: Body, size: usize) -> Observed {
        Observed { status: 200, headers: vec![], body, size, elapsed: Duration::ZERO }
    }

    #[test]
    fn retain_keeps_small_bodies_and_cuts_large_json() {
        let small = json!({"id": "1"});
        let mut o = observed(Body::Json(small.clone()), 12);
        o.retain(10);
        assert_eq!(o.body, Body::Json(small));

        let big = json!({"Resources": vec!["é"; 100_000]});
        let size = serde_json::to_vec(&big).unwrap().len();
        assert!(size > RETAIN_WHOLE);
        let mut o = observed(Body::Json(big), size);
        o.retain(1001);
        match &o.body {
            Body::Truncated { text, .. } => {
                assert!(text.len() <= 1001 && text.len() > 990, "{}", text.len());
                assert!(text.starts_with("{\n  \"Resources\": ["));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(o.size, size);
    }

    #[test]
    fn pretty_start_is_the_start_of_the_pretty_text() {
        let v = json!({"a": vec!["é"; 1000], "b": 1});
        let whole = serde_json::to_string_pretty(&v).unwrap();
        for max in [0, 1, 9, 10, 11, 500, whole.len(), whole.len() + 10] {
            let start = pretty_start(&v, max);
            assert!(whole.starts_with(&start) && start.len() <= max, "{max}");
            assert!(start.len() + 1 >= max.min(whole.len()), "{max}: {}", start.len());
        }
    }

    #[test]
    fn cut_respects_character_boundaries() {
        assert_eq!(cut("aé", 2), "a");
        assert_eq!(cut("aé", 3), "aé");
        assert_eq!(cut("", 0), "");
    }
}
