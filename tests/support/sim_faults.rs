//! Faults the IdP simulator must find: a stateful test-only layer around the whole reference server that makes
//! it misbehave the way real SCIM servers do under a provisioning engine's load. Unlike the scenario fault layer
//! (`faults.rs`), these faults keep state per server (counters, timestamps) and may read or write the server's
//! directory directly, to emulate a server with a different storage design (a read-modify-write without a lock,
//! uniqueness that ignores inactive users).
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use scim_reference_server::directory::{Directory, ListQuery};
use scim_reference_server::schema::ResourceKind;
use scim_reference_server::{spawn_with, RunningServer, ServerConfig};
use serde_json::{json, Value};

/// Which misbehaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimFault {
    /// None (control run through the layer).
    None,
    /// Membership PATCHes are applied as read, wait, write the whole list: two racing PATCHes lose one update.
    RacingMembershipLostUpdate,
    /// `add` on `members` replaces the member list with the added members.
    AddReplacesMembers,
    /// A deactivation (`active` false by PATCH or PUT) is answered 200 but never applied.
    DeactivationNotApplied,
    /// Filters leave out inactive users, and a create with the userName of an inactive user makes a second user
    /// (a server whose uniqueness ignores inactive users).
    FilterMissesInactive,
    /// A storm of 429s with `Retry-After: 1` on requests 20 to 35.
    Storm429,
    /// Every 10th write answers 500 without being applied.
    Writes5xx,
    /// Requests 20 and 21 answer 429 with `Retry-After: 18446744073709551615` (the largest `u64`, a valid
    /// `delay-seconds` of RFC 9110 §10.2.3); with one request at a time, 21 is the retry of 20.
    HugeRetryAfter,
    /// A filter that matches nothing answers 404 instead of an empty list (Entra quarantines at once).
    NoMatch404,
    /// A page of users without a filter (the read-back) answers 200 with a body of 65 MiB.
    HugePage,
    /// A request with `excludedAttributes` answers 400 `invalidValue` (a server that supports no projection).
    RefusesExcludedAttributes,
    /// Not a fault: a user-only server (RFC 7643 §6 lets a server offer only some resource types). Its
    /// `/ResourceTypes` lists the User type alone, without `schemaExtensions`, and `/Schemas` the core User schema
    /// alone; every `/Groups` request answers 404 and every write that carries the enterprise extension answers
    /// 400 `invalidValue` (each counted as injected: a simulator that reads discovery sends neither).
    UserOnly,
}

/// What the layer saw, for assertions.
#[derive(Debug, Default)]
pub struct Observed {
    /// Requests seen.
    pub requests: AtomicU64,
    /// Faults injected.
    pub injected: AtomicU64,
    /// Requests that arrived while a 429's Retry-After was running (an engine that ignores back-off).
    pub during_backoff: AtomicU64,
    last_429: Mutex<Option<Instant>>,
    writes: AtomicU64,
    shadows: AtomicU64,
}

struct LayerState {
    fault: SimFault,
    seen: Arc<Observed>,
    directory: OnceLock<Arc<Directory>>,
}

/// A running faulty server.
pub struct FaultyServer {
    pub server: RunningServer,
    pub seen: Arc<Observed>,
}

/// Starts a reference server with `fault` around it.
pub async fn spawn(fault: SimFault) -> FaultyServer {
    let seen = Arc::new(Observed::default());
    let st = Arc::new(LayerState { fault, seen: seen.clone(), directory: OnceLock::new() });
    let layer_state = st.clone();
    let server = spawn_with(ServerConfig::default(), move |router| {
        router.layer(middleware::from_fn_with_state(layer_state, inject))
    })
    .await
    .expect("reference server starts");
    let _ = st.directory.set(server.directory.clone());
    FaultyServer { server, seen }
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

fn ops(body: &Option<Value>) -> Vec<Value> {
    body.as_ref().and_then(|b| b.get("Operations")).and_then(Value::as_array).cloned().unwrap_or_default()
}

fn scim(status: StatusCode, body: Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/scim+json")], body.to_string()).into_response()
}

fn member_values(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().filter_map(|m| m.get("value").and_then(Value::as_str).map(str::to_string)).collect())
        .unwrap_or_default()
}

/// Whether a write sets `active` to false (Entra's `"False"`, a boolean, a path-less value, or a PUT body).
fn deactivates(method: &Method, body: &Option<Value>) -> bool {
    let falsy = |v: &Value| v == &json!(false) || v.as_str().is_some_and(|s| s.eq_ignore_ascii_case("false"));
    if *method == Method::PUT {
        return body.as_ref().and_then(|b| b.get("active")).is_some_and(falsy);
    }
    ops(body).iter().any(|op| match op.get("path").and_then(Value::as_str) {
        Some(p) => p.eq_ignore_ascii_case("active") && op.get("value").is_some_and(falsy),
        None => op.get("value").and_then(|v| v.get("active")).is_some_and(falsy),
    })
}

async fn inject(State(st): State<Arc<LayerState>>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, 16 << 20).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let path = scim_path(parts.uri.path());
    let method = parts.method.clone();
    let json: Option<Value> = serde_json::from_slice(&bytes).ok();
    let n = st.seen.requests.fetch_add(1, Ordering::SeqCst) + 1;
    let dir = st.directory.get().cloned();
    let is_write = method != Method::GET;
    let id = path.trim_start_matches('/').split('/').nth(1).map(str::to_string);
    let mut forwarded = bytes.clone();
    let has_filter = parts.uri.query().is_some_and(|q| q.split('&').any(|kv| kv.starts_with("filter=")));

    // Back-off check: a request arriving well inside a 429's Retry-After (1 s) ignored it.
    if let Some(t) = *st.seen.last_429.lock().unwrap() {
        let since = t.elapsed();
        if since > Duration::from_millis(150) && since < Duration::from_millis(850) {
            st.seen.during_backoff.fetch_add(1, Ordering::SeqCst);
        }
    }

    match st.fault {
        SimFault::UserOnly if path.starts_with("/Groups") => {
            st.seen.injected.fetch_add(1, Ordering::SeqCst);
            return scim(
                StatusCode::NOT_FOUND,
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "404",
                       "detail": "this server has no Groups endpoint"}),
            );
        }
        SimFault::UserOnly if is_write && String::from_utf8_lossy(&bytes).contains("extension:enterprise:2.0:User") => {
            st.seen.injected.fetch_add(1, Ordering::SeqCst);
            return scim(
                StatusCode::BAD_REQUEST,
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "400",
                       "scimType": "invalidValue", "detail": "unknown schema extension"}),
            );
        }
        SimFault::UserOnly if method == Method::GET && path == "/ResourceTypes" => {
            return scim(
                StatusCode::OK,
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 1,
                       "Resources": [{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
                           "id": "User", "name": "User", "endpoint": "/Users",
                           "schema": "urn:ietf:params:scim:schemas:core:2.0:User"}]}),
            );
        }
        SimFault::UserOnly if method == Method::GET && path == "/Schemas" => {
            let attr = |name: &str| json!({"name": name, "type": "string", "multiValued": false, "required": false});
            return scim(
                StatusCode::OK,
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 1,
                       "Resources": [{"id": "urn:ietf:params:scim:schemas:core:2.0:User", "name": "User",
                           "attributes": [attr("userName"), attr("displayName"), attr("title"), attr("active")]}]}),
            );
        }
        SimFault::HugePage if method == Method::GET && path == "/Users" && !has_filter => {
            st.seen.injected.fetch_add(1, Ordering::SeqCst);
            let mut body = br#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"pad":""#.to_vec();
            body.resize(body.len() + (65 << 20), b'x');
            body.extend_from_slice(br#"","totalResults":0,"Resources":[]}"#);
            return Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "application/scim+json")
                .body(Body::from(body))
                .unwrap();
        }
        SimFault::RefusesExcludedAttributes
            if parts.uri.query().is_some_and(|q| q.split('&').any(|kv| kv.starts_with("excludedAttributes="))) =>
        {
            st.seen.injected.fetch_add(1, Ordering::SeqCst);
            return scim(
                StatusCode::BAD_REQUEST,
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "400",
                       "scimType": "invalidValue", "detail": "excludedAttributes is not supported"}),
            );
        }
        SimFault::Storm429 if (20..=35).contains(&n) => {
            st.seen.injected.fetch_add(1, Ordering::SeqCst);
            *st.seen.last_429.lock().unwrap() = Some(Instant::now());
            let mut r = scim(
                StatusCode::TOO_MANY_REQUESTS,
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "429", "detail": "slow down"}),
            );
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return r;
        }
        SimFault::HugeRetryAfter if n == 20 || n == 21 => {
            st.seen.injected.fetch_add(1, Ordering::SeqCst);
            let mut r = scim(
                StatusCode::TOO_MANY_REQUESTS,
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "429", "detail": "come back later"}),
            );
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("18446744073709551615"));
            return r;
        }
        SimFault::Writes5xx if is_write && st.seen.writes.fetch_add(1, Ordering::SeqCst) % 10 == 9 => {
            st.seen.injected.fetch_add(1, Ordering::SeqCst);
            return scim(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "500", "detail": "injected"}),
            );
        }
        SimFault::DeactivationNotApplied
            if (method == Method::PATCH || method == Method::PUT)
                && path.starts_with("/Users/")
                && deactivates(&method, &json) =>
        {
            if let (Some(d), Some(id)) = (&dir, &id) {
                if let Ok(mut current) = d.get(ResourceKind::User, id) {
                    st.seen.injected.fetch_add(1, Ordering::SeqCst);
                    current["active"] = json!(false);
                    return scim(StatusCode::OK, current);
                }
            }
        }
        SimFault::RacingMembershipLostUpdate | SimFault::AddReplacesMembers
            if method == Method::PATCH && path.starts_with("/Groups/") =>
        {
            let mut operations = ops(&json);
            let adds: Vec<usize> = (0..operations.len())
                .filter(|&i| {
                    operations[i].get("op").and_then(Value::as_str).is_some_and(|o| o.eq_ignore_ascii_case("add"))
                        && operations[i].get("path").and_then(Value::as_str) == Some("members")
                })
                .collect();
            if !adds.is_empty() {
                st.seen.injected.fetch_add(1, Ordering::SeqCst);
                if st.fault == SimFault::RacingMembershipLostUpdate {
                    // Read, wait (another PATCH of the same group slips in), write the whole list back.
                    let snapshot = match (&dir, &id) {
                        (Some(d), Some(id)) => d
                            .get(ResourceKind::Group, id)
                            .map(|g| member_values(g.get("members").unwrap_or(&Value::Null)))
                            .unwrap_or_default(),
                        _ => Vec::new(),
                    };
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    let mut all = snapshot;
                    for &i in &adds {
                        all.extend(member_values(operations[i].get("value").unwrap_or(&Value::Null)));
                    }
                    let value: Vec<Value> = all.iter().map(|v| json!({"value": v})).collect();
                    operations.retain(|op| {
                        !(op.get("op").and_then(Value::as_str).is_some_and(|o| o.eq_ignore_ascii_case("add"))
                            && op.get("path").and_then(Value::as_str) == Some("members"))
                    });
                    operations.push(json!({"op": "replace", "path": "members", "value": value}));
                } else {
                    for &i in &adds {
                        operations[i]["op"] = json!("replace");
                    }
                }
                let body =
                    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations});
                forwarded = body.to_string().into_bytes().into();
                parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(forwarded.len()));
            }
        }
        SimFault::FilterMissesInactive if method == Method::POST && path == "/Users" => {
            // Uniqueness that ignores inactive users: move an inactive holder of the userName aside first.
            let name = json.as_ref().and_then(|b| b.get("userName")).and_then(Value::as_str).map(str::to_string);
            if let (Some(d), Some(name)) = (&dir, name) {
                let q = ListQuery {
                    filter: Some(format!("userName eq {}", Value::String(name.clone()))),
                    ..Default::default()
                };
                if let Ok(page) = d.list(&[ResourceKind::User], &q) {
                    for (_, u) in page.resources {
                        if u.get("active") == Some(&json!(false)) {
                            let uid = u.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
                            let k = st.seen.shadows.fetch_add(1, Ordering::SeqCst);
                            let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                                "Operations": [{"op": "replace", "path": "userName", "value": format!("shadow{k}.{name}")}]});
                            let _ = d.patch(ResourceKind::User, &uid, &patch, None);
                            st.seen.injected.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                }
            }
        }
        _ => {}
    }

    let res = next.run(Request::from_parts(parts, Body::from(forwarded))).await;
    let filtered_get = method == Method::GET
        && has_filter
        && res.status() == StatusCode::OK
        && (path == "/Users" || path == "/Groups");
    let wants_after = match st.fault {
        SimFault::FilterMissesInactive => filtered_get,
        SimFault::NoMatch404 => filtered_get,
        _ => false,
    };
    if !wants_after {
        return res;
    }
    let (rparts, rbody) = res.into_parts();
    let Ok(rbytes) = to_bytes(rbody, 64 << 20).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let Ok(mut list) = serde_json::from_slice::<Value>(&rbytes) else {
        return Response::from_parts(rparts, Body::from(rbytes));
    };
    if st.fault == SimFault::NoMatch404 && list.get("totalResults") == Some(&json!(0)) {
        st.seen.injected.fetch_add(1, Ordering::SeqCst);
        return scim(
            StatusCode::NOT_FOUND,
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "404", "detail": "no match"}),
        );
    }
    if st.fault == SimFault::FilterMissesInactive && path == "/Users" {
        if let Some(rs) = list.get_mut("Resources").and_then(Value::as_array_mut) {
            let before = rs.len();
            rs.retain(|u| u.get("active") != Some(&json!(false)));
            let removed = before - rs.len();
            if removed > 0 {
                st.seen.injected.fetch_add(1, Ordering::SeqCst);
                let total = list.get("totalResults").and_then(Value::as_u64).unwrap_or(0);
                list["totalResults"] = json!(total.saturating_sub(removed as u64));
            }
        }
    }
    scim(rparts.status, list)
}
