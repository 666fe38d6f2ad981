//! The recorder: captures an IdP's real SCIM traffic and turns it into replayable scenarios.
//!
//! Capture and conversion are separate, as in mitmproxy's flow model:
//! - [`proxy`]: `scimcheck record`, a reverse proxy that forwards every request unchanged to the upstream and
//!   keeps each exchange as a [`Flow`] (credential headers are dropped at capture time; only their style is kept);
//! - [`har`]: `scimcheck import --har`, which reads HAR 1.2 entries into the same [`Flow`]s;
//! - [`convert`]: the one pure function from flows to scenario files, used by both;
//! - [`fixture`]: which resources seen in traffic may become setup steps (Users and Groups only);
//! - [`naming`]: flow file names by what the flow does and to whom (`03_create_and_deactivate_jane.json`);
//! - [`recognize`]: which IdP sent the traffic (User-Agent and request shapes) and Entra's PATCH dialect;
//! - [`bench`]: `scimcheck bench --proxy`, the latency the proxy adds on loopback;
//! - [`values`]: IdP-generated values (userNames, e-mails, names, GUIDs, placeholder passwords) → variables with
//!   generators of the same shape.
//!
//! Secrets: an `Authorization`, `Proxy-Authorization` or `Cookie` value (any credential-named header) is never
//! stored in a flow, nor a credential-named query parameter (`access_token`, RFC 6750 §2.3; `api_key`). Every
//! value seen in either is also kept in memory as a secret, and every file the recorder writes is scrubbed with
//! it before it is written ([`credentials`]).

pub mod bench;
pub mod convert;
pub mod credentials;
pub mod entitlements;
pub mod fixture;
pub mod har;
pub mod naming;
pub mod proxy;
pub mod recognize;
pub mod target;
pub mod values;

use serde::{Deserialize, Serialize};

pub use convert::{convert, ConvertOptions, Converted, GeneratedScenario};
pub use har::ImportArgs;
pub use proxy::{record_command, RecordArgs};

use crate::idp::Idp;

/// Which IdP the traffic comes from, as `--idp` takes it: `auto` (recognise it from the User-Agent and the
/// request shapes) or one [`Idp`] by the one IdP vocabulary (`okta`, `entra` or its alias `azure`, `rfc`; any
/// case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IdpChoice(pub Option<Idp>);

impl IdpChoice {
    /// Parses `auto` or an IdP name, in any case. Errors: any other name, listing the accepted ones.
    pub fn parse(s: &str) -> Result<IdpChoice, String> {
        if s.trim().eq_ignore_ascii_case("auto") {
            return Ok(IdpChoice(None));
        }
        <Idp as clap::ValueEnum>::from_str(s.trim(), true)
            .map(|idp| IdpChoice(Some(idp)))
            .map_err(|_| format!("unknown IdP `{s}` (auto, {})", Idp::NAMES))
    }
}

/// How the IdP presented its credential (the value itself is never kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CredentialStyle {
    /// `Authorization: Bearer <token>` (Okta "OAuth Bearer Token", Entra's Secret Token or JWT).
    Bearer,
    /// `Authorization: <token>` without a scheme (Okta's "Header" auth mode).
    Raw,
    /// `Authorization: Basic …` (Okta's "Basic Auth" test app).
    Basic,
    /// Another scheme.
    Other,
}

impl CredentialStyle {
    /// Classifies an `Authorization` value.
    pub fn of(authorization: &str) -> CredentialStyle {
        let v = authorization.trim();
        match v.split_once(' ') {
            Some((scheme, _)) if scheme.eq_ignore_ascii_case("bearer") => CredentialStyle::Bearer,
            Some((scheme, _)) if scheme.eq_ignore_ascii_case("basic") => CredentialStyle::Basic,
            Some(_) => CredentialStyle::Other,
            None => CredentialStyle::Raw,
        }
    }

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialStyle::Bearer => "bearer",
            CredentialStyle::Raw => "raw",
            CredentialStyle::Basic => "basic",
            CredentialStyle::Other => "other",
        }
    }
}

/// Request headers that carry credentials: never stored, their values become secrets. Any other header whose
/// name [`credentials::is_credential_name`] recognises (`X-Auth-Token`, …) is treated the same way.
pub const CREDENTIAL_HEADERS: &[&str] = &["authorization", "proxy-authorization", "cookie", "x-api-key"];

/// A captured body: the bytes as text, or a mark that it was longer than the capture limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "text", rename_all = "camelCase")]
pub enum CapturedBody {
    /// No body.
    Empty,
    /// The body as UTF-8 text (lossy).
    Text(String),
    /// The body was longer than the capture limit (it was still forwarded whole).
    Truncated,
}

impl CapturedBody {
    /// Classifies captured bytes.
    pub fn from_bytes(bytes: &[u8]) -> CapturedBody {
        if bytes.is_empty() {
            CapturedBody::Empty
        } else {
            CapturedBody::Text(String::from_utf8_lossy(bytes).into_owned())
        }
    }

    /// The body parsed as JSON, when it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        match self {
            CapturedBody::Text(t) => serde_json::from_str(t).ok(),
            _ => None,
        }
    }
}

/// One captured exchange: what the IdP sent and what the upstream answered, with timing.
///
/// `path` is relative to the upstream's SCIM base URI (`/Users/abc`); `query` is the raw, still encoded query
/// string (so the IdP's space encoding, `%20` or `+`, is kept).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Flow {
    /// When the request arrived (RFC 3339, UTC).
    pub started: chrono::DateTime<chrono::Utc>,
    /// Milliseconds from the request's arrival to the end of the response body.
    pub elapsed_ms: f64,
    /// HTTP method.
    pub method: String,
    /// Path below the SCIM base URI, starting with `/`.
    pub path: String,
    /// The raw query string, without `?`.
    pub query: String,
    /// Request headers, names lower-cased, credential headers removed.
    pub request_headers: Vec<(String, String)>,
    /// The credential style, when the request carried an `Authorization` header.
    pub credential: Option<CredentialStyle>,
    /// The request body.
    pub request_body: CapturedBody,
    /// Response status (0 when the upstream could not be reached).
    pub status: u16,
    /// Response headers, names lower-cased.
    pub response_headers: Vec<(String, String)>,
    /// The response body.
    pub response_body: CapturedBody,
    /// Why no upstream answer was received (connection refused, body limit), if so.
    pub error: Option<String>,
}

impl Flow {
    /// The first value of a request header (case-insensitive).
    pub fn request_header(&self, name: &str) -> Option<&str> {
        self.request_headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The first value of a response header (case-insensitive).
    pub fn response_header(&self, name: &str) -> Option<&str> {
        self.response_headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

pub use crate::exchange::decode_query;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_styles_and_their_secrets() {
        assert_eq!(CredentialStyle::of("Bearer abc.def"), CredentialStyle::Bearer);
        assert_eq!(CredentialStyle::of("bearer abc"), CredentialStyle::Bearer);
        assert_eq!(CredentialStyle::of("Basic dXNlcjpwdw=="), CredentialStyle::Basic);
        assert_eq!(CredentialStyle::of("s3cr3t-token-value"), CredentialStyle::Raw);
    }

    #[test]
    fn queries_decode_both_space_encodings() {
        assert_eq!(
            decode_query("filter=userName+eq+%22a%40b%22&count=1"),
            vec![("filter".into(), "userName eq \"a@b\"".into()), ("count".into(), "1".into())]
        );
        assert_eq!(decode_query("filter=userName%20eq%20%22x%22"), vec![("filter".into(), "userName eq \"x\"".into())]);
        assert_eq!(decode_query("aadOptscim062020"), vec![("aadOptscim062020".into(), String::new())]);
    }
}
