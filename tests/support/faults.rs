//! A test-only fault layer: a middleware wrapped around the whole reference server that, by name, makes it
//! misbehave in one specific way (ignore an operation, drop a field, change a status, match case-sensitively…).
//! Each scenario library lists, in `scenarios/<idp>/faults.json`, which fault every scenario exists to catch;
//! `tests/faults.rs` runs each scenario against its faults and asserts the runner reports `fail`.
//!
//! A fault sees the request below the app's base URI (`/Users/…`, query, JSON body) and may rewrite the
//! request body or query, answer in the server's place, or rewrite the response status and JSON body (or turn
//! it into plain text with [`plain_text`]). Faults may keep state across requests in statics (the fault test runs
//! one scenario at a time); key such state by resource id so runs cannot disturb each other.
#![allow(dead_code)]

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use scim_reference_server::{spawn_with, RunningServer, ServerConfig};
use serde_json::{json, Value};

use super::{faults_azure, faults_entitlements, faults_modify, faults_okta, faults_rfc};

/// What a fault sees of a request.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    /// The path below the app's base URI, e.g. `/Users/abc`.
    pub path: String,
    /// The raw (still encoded) query string.
    pub query: String,
    /// The request body, when it is JSON.
    pub body: Option<Value>,
}

impl Seen {
    /// The decoded value of a query parameter (`+` and `%20` as space).
    pub fn param(&self, name: &str) -> Option<String> {
        url_decode_pairs(&self.query).into_iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }

    /// True for `METHOD` on a path that starts with `prefix`.
    pub fn is(&self, method: Method, prefix: &str) -> bool {
        self.method == method && self.path.starts_with(prefix)
    }

    /// The decoded query parameters, in order.
    pub fn params(&self) -> Vec<(String, String)> {
        url_decode_pairs(&self.query)
    }

    /// The query string with parameters changed: each `(name, Some(value))` replaces the parameter (or is
    /// appended), each `(name, None)` removes it. Spaces are encoded as `%20`.
    pub fn query_with(&self, changes: &[(&str, Option<String>)]) -> String {
        let mut params = self.params();
        for (name, value) in changes {
            match value {
                Some(v) => match params.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
                    Some(p) => p.1 = v.clone(),
                    None => params.push((name.to_string(), v.clone())),
                },
                None => params.retain(|(k, _)| !k.eq_ignore_ascii_case(name)),
            }
        }
        params.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
    }

    /// The resource id of a `/Users/{id}` or `/Groups/{id}` path.
    pub fn resource_id(&self) -> Option<&str> {
        let mut segments = self.path.trim_start_matches('/').split('/');
        let _collection = segments.next()?;
        segments.next().filter(|s| !s.is_empty())
    }

    /// The PATCH operations of the request body, if any.
    pub fn operations(&self) -> Vec<Value> {
        self.body
            .as_ref()
            .and_then(|b| b.as_object())
            .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case("Operations")))
            .and_then(|(_, v)| v.as_array().cloned())
            .unwrap_or_default()
    }
}

fn url_decode_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn encode(s: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const SET: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
    utf8_percent_encode(s, SET).to_string()
}

/// The key of the marker object [`plain_text`] makes.
const PLAIN_TEXT: &str = "$plainText";

/// A body that the fault layer sends as `text/plain` instead of JSON (for `Before::Respond` and `after`).
pub fn plain_text(text: &str) -> Value {
    serde_json::json!({ PLAIN_TEXT: text })
}

const WITH_CONTENT_TYPE: &str = "$contentType";
const BODY: &str = "$body";

/// A JSON body that the fault layer sends with another `Content-Type` (e.g. `application/json`).
pub fn with_content_type(body: Value, content_type: &str) -> Value {
    serde_json::json!({ WITH_CONTENT_TYPE: content_type, BODY: body })
}

const WITH_HEADERS: &str = "$headers";

/// A JSON body that the fault layer sends with these response headers set (over the server's own), e.g. another
/// `Location`.
pub fn with_headers(body: Value, headers: &[(&str, &str)]) -> Value {
    let map: serde_json::Map<String, Value> =
        headers.iter().map(|(k, v)| (k.to_string(), Value::String(v.to_string()))).collect();
    serde_json::json!({ WITH_HEADERS: map, BODY: body })
}

/// What a fault does with a request before the server sees it.
#[derive(Debug)]
pub enum Before {
    /// Let it through unchanged.
    Pass,
    /// Let it through with this JSON body instead.
    Rewrite(Value),
    /// Let it through with this (encoded) query string instead; `Seen::query` in `after` is still the original.
    Query(String),
    /// Answer in the server's place; the server never sees the request.
    Respond(StatusCode, Option<Value>),
    /// Wait for a partner: the request (with `body` instead of its own, if given) is held until another request
    /// with the same `key` has arrived too (at most [`TOGETHER_WAIT`]), so both `before`s have run on the same
    /// state — a read-modify-write without a lock, made deterministic. With `last`, it is also held until the
    /// partner has been answered, so it is applied second.
    Together { key: String, body: Option<Value>, last: bool },
}

/// How long a [`Before::Together`] request waits for its partner (or for the partner's answer).
pub const TOGETHER_WAIT: std::time::Duration = std::time::Duration::from_millis(1500);

/// Per key: requests arrived, requests answered.
static GATES: std::sync::Mutex<std::collections::BTreeMap<String, (usize, usize)>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

fn gate(key: &str, f: impl FnOnce(&mut (usize, usize))) -> (usize, usize) {
    let mut gates = GATES.lock().unwrap_or_else(|e| e.into_inner());
    let g = gates.entry(key.to_string()).or_default();
    f(g);
    *g
}

/// Waits until `ready` holds for the key's counts, or [`TOGETHER_WAIT`] has passed.
async fn wait_gate(key: &str, ready: impl Fn((usize, usize)) -> bool) {
    let deadline = tokio::time::Instant::now() + TOGETHER_WAIT;
    while !ready(gate(key, |_| {})) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// One named misbehaviour.
pub struct Fault {
    /// A short kebab-case name, used in `scenarios/<idp>/faults.json`.
    pub name: &'static str,
    /// What it breaks, in one sentence.
    pub description: &'static str,
    /// Runs before the server.
    pub before: fn(&Seen) -> Before,
    /// Runs on the server's answer: may change the status and the JSON body (`None`: no body).
    pub after: fn(&Seen, &mut StatusCode, &mut Option<Value>),
}

/// A `before` that changes nothing.
pub fn pass(_: &Seen) -> Before {
    Before::Pass
}

/// An `after` that changes nothing.
pub fn keep(_: &Seen, _: &mut StatusCode, _: &mut Option<Value>) {}

/// Every fault of every library.
pub fn catalogue() -> Vec<&'static Fault> {
    faults_okta::FAULTS
        .iter()
        .chain(faults_entitlements::FAULTS)
        .chain(faults_azure::FAULTS)
        .chain(faults_rfc::FAULTS)
        .chain(faults_modify::FAULTS)
        .collect()
}

/// A fault by name.
pub fn find(name: &str) -> Option<&'static Fault> {
    catalogue().into_iter().find(|f| f.name == name)
}

fn scim_path(full: &str) -> String {
    match full.find("/api/v1/SCIM/") {
        Some(i) => {
            let after = &full[i + "/api/v1/SCIM/".len()..];
            after.find('/').map(|j| after[j..].to_string()).unwrap_or_else(|| "/".into())
        }
        None => full.to_string(),
    }
}

async fn inject(State(fault): State<&'static Fault>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, 16 << 20).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let seen = Seen {
        method: parts.method.clone(),
        path: scim_path(parts.uri.path()),
        query: parts.uri.query().unwrap_or("").to_string(),
        body: serde_json::from_slice(&bytes).ok(),
    };
    let mut held: Option<String> = None;
    let forwarded = match (fault.before)(&seen) {
        Before::Pass => Body::from(bytes),
        Before::Query(q) => {
            let path = parts.uri.path();
            let uri = if q.is_empty() { path.to_string() } else { format!("{path}?{q}") };
            match uri.parse() {
                Ok(u) => parts.uri = u,
                Err(_) => return StatusCode::BAD_REQUEST.into_response(),
            }
            Body::from(bytes)
        }
        Before::Rewrite(v) => {
            let text = v.to_string();
            parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(text.len()));
            Body::from(text)
        }
        Before::Respond(status, body) => return respond(status, body, None),
        Before::Together { key, body, last } => {
            gate(&key, |g| g.0 += 1);
            wait_gate(&key, |(a, _)| a >= 2).await;
            if last {
                wait_gate(&key, |(a, f)| f + 1 >= a).await;
            }
            held = Some(key);
            match body {
                Some(v) => {
                    let text = v.to_string();
                    parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(text.len()));
                    Body::from(text)
                }
                None => Body::from(bytes),
            }
        }
    };
    let res = next.run(Request::from_parts(parts, forwarded)).await;
    if let Some(key) = held {
        let (arrived, finished) = gate(&key, |g| g.1 += 1);
        if finished >= arrived {
            GATES.lock().unwrap_or_else(|e| e.into_inner()).remove(&key);
        }
    }
    let (rparts, rbody) = res.into_parts();
    let Ok(rbytes) = to_bytes(rbody, 64 << 20).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let mut status = rparts.status;
    let mut json: Option<Value> = serde_json::from_slice(&rbytes).ok();
    let before = (status, json.clone());
    (fault.after)(&seen, &mut status, &mut json);
    if (status, json.clone()) == before {
        return Response::from_parts(rparts, Body::from(rbytes));
    }
    respond(status, json, Some(rparts))
}

fn respond(status: StatusCode, body: Option<Value>, original: Option<axum::http::response::Parts>) -> Response {
    let (body, extra) = match body {
        Some(Value::Object(mut o)) if o.contains_key(WITH_HEADERS) => {
            let extra = o.remove(WITH_HEADERS);
            (o.remove(BODY), extra)
        }
        other => (other, None),
    };
    let text = body.as_ref().and_then(|v| v.get(PLAIN_TEXT)).and_then(Value::as_str).map(str::to_string);
    let content_type = body.as_ref().and_then(|v| v.get(WITH_CONTENT_TYPE)).and_then(Value::as_str).map(str::to_string);
    let mut res = match (body, text, content_type) {
        (_, Some(t), _) => {
            (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8".to_string())], t).into_response()
        }
        (Some(v), None, Some(ct)) => {
            (status, [(header::CONTENT_TYPE, ct)], v.get(BODY).unwrap_or(&Value::Null).to_string()).into_response()
        }
        (Some(v), None, None) => {
            (status, [(header::CONTENT_TYPE, "application/scim+json".to_string())], v.to_string()).into_response()
        }
        (None, _, _) => status.into_response(),
    };
    if let Some(p) = original {
        for name in [header::LOCATION, header::ETAG, header::WWW_AUTHENTICATE] {
            if let Some(v) = p.headers.get(&name) {
                res.headers_mut().insert(name, v.clone());
            }
        }
    }
    for (name, value) in extra.as_ref().and_then(Value::as_object).into_iter().flatten() {
        let (Ok(n), Some(Ok(v))) = (name.parse::<header::HeaderName>(), value.as_str().map(HeaderValue::from_str))
        else {
            continue;
        };
        res.headers_mut().insert(n, v);
    }
    res
}

/// Starts a reference server (built-in seed, 127.0.0.1:0) with `fault` wrapped around it.
pub async fn spawn_faulty(fault: &'static Fault) -> RunningServer {
    spawn_with(ServerConfig::default(), move |router| router.layer(middleware::from_fn_with_state(fault, inject)))
        .await
        .expect("reference server starts")
}

fn user_only_before(seen: &Seen) -> Before {
    if seen.path.starts_with("/Groups") {
        return Before::Respond(
            StatusCode::NOT_FOUND,
            Some(
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "404", "detail": "no such endpoint"}),
            ),
        );
    }
    Before::Pass
}

fn user_only_after(seen: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    // a user belongs to no group here, and says so with an empty `groups` (RFC 7643 §4.1.2)
    if seen.path.starts_with("/Users/") {
        if let Some(Value::Object(user)) = body.as_mut().filter(|b| b.get("userName").is_some()) {
            user.entry("groups").or_insert_with(|| json!([]));
        }
    }
    let listed =
        seen.method == Method::GET && (seen.path.starts_with("/Schemas") || seen.path.starts_with("/ResourceTypes"));
    if let (true, Some(Value::Array(rs))) = (listed, body.as_mut().and_then(|b| b.get_mut("Resources"))) {
        rs.retain(|r| {
            let id = r.get("id").and_then(Value::as_str).unwrap_or_default();
            let schema = r.get("schema").and_then(Value::as_str).unwrap_or_default();
            !id.ends_with(":Group") && id != "Group" && !schema.ends_with(":Group")
        });
    }
}

/// A server with Users only: no Group schema or resource type, `/Groups` answers 404.
pub static USER_ONLY: Fault = Fault {
    name: "user-only",
    description: "no Group schema or resource type; /Groups answers 404",
    before: user_only_before,
    after: user_only_after,
};
