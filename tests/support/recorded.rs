//! Recorded traffic for the recorder's tests: one request sent to an upstream and kept as the proxy keeps it.

use scimcheck::record::{CapturedBody, CredentialStyle, Flow};
use serde_json::Value;

/// Sends `method path` (`path` may carry a query after `?`) with `body` to `base` as Okta's client does (Bearer
/// `token`, Okta's User-Agent, `application/scim+json`) and returns the exchange as a [`Flow`]: path and query
/// apart, the credential style only (never the token), the response's status, Content-Type and body.
/// Panics when the upstream cannot be reached (a test fixture).
pub async fn okta_exchange(base: &str, token: &str, method: &str, path: &str, body: Option<Value>) -> Flow {
    const AGENT: &str = "Okta SCIM Client 1.0.0";
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = reqwest::Client::new()
        .request(m, format!("{base}{path}"))
        .bearer_auth(token)
        .header("User-Agent", AGENT)
        .header("Content-Type", "application/scim+json");
    if let Some(b) = &body {
        req = req.body(b.to_string());
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let content_type = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_string);
    let text = resp.text().await.unwrap();
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    Flow {
        started: chrono::Utc::now(),
        elapsed_ms: 2.0,
        method: method.into(),
        path: path.into(),
        query: query.into(),
        request_headers: vec![("user-agent".into(), AGENT.into())],
        credential: Some(CredentialStyle::Bearer),
        request_body: body.map_or(CapturedBody::Empty, |b| CapturedBody::Text(b.to_string())),
        status,
        response_headers: content_type.map(|ct| ("content-type".to_string(), ct)).into_iter().collect(),
        response_body: CapturedBody::from_bytes(text.as_bytes()),
        error: None,
    }
}
