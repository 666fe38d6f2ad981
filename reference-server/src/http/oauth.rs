//! The tenant's OAuth token endpoint (`POST /t/{tenant}/oauth2/token`, RFC 6749 §4.4.2) and the admin API's
//! OAuth clients (`/admin/tenants/{tenant}/apps/{app}/oauth-clients`). Thin: parsing and answers here, the rules
//! in [`crate::oauth`] and the portal.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};

use super::admin_args::{app, parse_body, tenant};
use super::extract::ScimJson;
use super::response::Scim;
use crate::error::{ScimError, ScimResult};
use crate::oauth::{ClientProof, GrantError, NewClient, ASSERTION_TYPE, DEFAULT_ROTATION_OVERLAP_MINUTES};
use crate::state::AppState;

type St = State<Arc<AppState>>;

/// An RFC 6749 §5.1/§5.2 answer: JSON, never cached.
fn answer(status: StatusCode, body: Value) -> Response {
    let mut res = (status, axum::Json(body)).into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    res
}

fn refused(e: GrantError, basic: bool) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut res = answer(status, json!({"error": e.code(), "error_description": e.description()}));
    if status == StatusCode::UNAUTHORIZED && basic {
        // RFC 6749 §5.2: invalid_client after HTTP authentication answers 401 with the scheme used
        res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"oauth\""));
    }
    res
}

fn invalid(d: &str) -> GrantError {
    GrantError::InvalidRequest(d.to_string())
}

/// `client_id:client_secret` of an HTTP Basic header, each form-decoded (RFC 6749 §2.3.1).
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, GrantError> {
    let Some(v) = headers.get(header::AUTHORIZATION) else { return Ok(None) };
    let v = v.to_str().map_err(|_| invalid("the Authorization header is not valid"))?;
    let Some((scheme, rest)) = v.split_once(' ') else { return Err(invalid("the Authorization header is not Basic")) };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(invalid("the token endpoint takes client credentials as HTTP Basic (RFC 6749 §2.3.1)"));
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| invalid("the Basic credentials are not base64 of id:secret"))?;
    let (id, secret) = decoded.split_once(':').ok_or_else(|| invalid("the Basic credentials are not id:secret"))?;
    let dec = |s: &str| form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
    Ok(Some((dec(id).unwrap_or_default(), dec(secret).unwrap_or_default())))
}

/// `POST /t/{tenant}/oauth2/token`: the client credentials grant (RFC 6749 §4.4.2). The client authenticates
/// with HTTP Basic or `client_id` + `client_secret` in the body (RFC 6749 §2.3.1), or with a JWT-bearer
/// assertion (`client_assertion_type` + `client_assertion` + `client_id`, RFC 7523 §2.2) whose `aud` is this
/// endpoint's URL. Answers 200 `{access_token, token_type: "Bearer", expires_in}` or an RFC 6749 §5.2 error —
/// also for a tenant that does not exist (401 `invalid_client`).
pub async fn token(State(st): St, Path(t): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(tenant) = st.tenants.get(&t) else {
        // an OAuth endpoint answers OAuth errors (RFC 6749 §5.2): no tenant means no client to authenticate
        let shown: String = t.chars().take(63).collect();
        let basic = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split_once(' ').is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case("basic")));
        return refused(GrantError::InvalidClient(format!("tenant '{shown}' not found")), basic);
    };
    let form = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|c| {
        c.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/x-www-form-urlencoded")
    });
    if !form {
        return refused(invalid("the body must be application/x-www-form-urlencoded (RFC 6749 §4.4.2)"), false);
    }
    let mut params: Vec<(String, String)> = Vec::new();
    for (k, v) in form_urlencoded::parse(&body) {
        // RFC 6749 §3.2: parameters MUST NOT be included more than once
        if params.iter().any(|(n, _)| *n == k) {
            return refused(GrantError::InvalidRequest(format!("the parameter {k} is repeated")), false);
        }
        params.push((k.into_owned(), v.into_owned()));
    }
    let get = |n: &str| params.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty());
    let basic = match basic_credentials(&headers) {
        Ok(b) => b,
        Err(e) => return refused(e, false),
    };
    match get("grant_type") {
        None => return refused(invalid("grant_type is missing"), basic.is_some()),
        Some("client_credentials") => {}
        Some(_) => return refused(GrantError::UnsupportedGrantType, basic.is_some()),
    }
    let methods = [basic.is_some(), get("client_secret").is_some(), get("client_assertion").is_some()];
    if methods.iter().filter(|m| **m).count() > 1 {
        // RFC 6749 §2.3: a client MUST NOT use more than one authentication method per request
        return refused(invalid("more than one client authentication method"), basic.is_some());
    }
    let (client_id, proof) = if let Some((id, secret)) = &basic {
        (id.clone(), ClientProofOwned::Secret(secret.clone()))
    } else if let Some(assertion) = get("client_assertion") {
        if get("client_assertion_type") != Some(ASSERTION_TYPE) {
            return refused(invalid("client_assertion_type must be the JWT-bearer type (RFC 7523 §2.2)"), false);
        }
        match get("client_id") {
            Some(id) => (id.to_string(), ClientProofOwned::Assertion(assertion.to_string())),
            None => return refused(invalid("client_id is needed with client_assertion"), false),
        }
    } else {
        match (get("client_id"), get("client_secret")) {
            (Some(id), Some(s)) => (id.to_string(), ClientProofOwned::Secret(s.to_string())),
            _ => return refused(GrantError::InvalidClient("no client authentication".into()), false),
        }
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let audience = st.token_endpoint(&tenant.name, host);
    let proof = match &proof {
        ClientProofOwned::Secret(s) => ClientProof::Secret(s),
        ClientProofOwned::Assertion(a) => ClientProof::Assertion(a),
    };
    match tenant.portal.oauth_grant(&client_id, proof, &audience) {
        Ok(tok) => answer(StatusCode::OK, json!(tok)),
        Err(e) => refused(e, basic.is_some()),
    }
}

enum ClientProofOwned {
    Secret(String),
    Assertion(String),
}

/// `POST …/oauth-clients` `{label?, tokenLifetime? (s), publicKey? (PEM)}` → 201 with the client, its secret
/// (shown once) and the token endpoint.
pub async fn create(State(st): St, Path((t, a)): Path<(String, String)>, ScimJson(body): ScimJson) -> ScimResult<Scim> {
    let t = tenant(&st, &t)?;
    let a = app(&a)?;
    let req: NewClient = parse_body(body)?;
    let created = t.portal.create_oauth_client(a, req)?;
    let mut v = json!(created);
    v["tokenEndpoint"] = json!(st.token_endpoint(&t.name, None));
    Ok(Scim::ok(v).status(StatusCode::CREATED))
}

/// `GET …/oauth-clients`: the app's clients, without secrets.
pub async fn list(State(st): St, Path((t, a)): Path<(String, String)>) -> ScimResult<Scim> {
    let t = tenant(&st, &t)?;
    Ok(Scim::ok(json!(t.portal.list_oauth_clients(app(&a)?))))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Rotation {
    #[serde(default)]
    overlap_minutes: Option<i64>,
}

/// `POST …/oauth-clients/{id}/rotate` `{overlapMinutes?}` (default 60; 0 ends the old secrets now) → the new
/// secret, shown once.
pub async fn rotate(State(st): St, Path((t, a, id)): Path<(String, String, String)>, body: Bytes) -> ScimResult<Scim> {
    let t = tenant(&st, &t)?;
    let a = app(&a)?;
    let r: Rotation = match body.iter().all(u8::is_ascii_whitespace) {
        true => Rotation::default(),
        false => parse_body(
            serde_json::from_slice(&body).map_err(|_| ScimError::InvalidSyntax("the body is not JSON".into()))?,
        )?,
    };
    let minutes = r.overlap_minutes.unwrap_or(DEFAULT_ROTATION_OVERLAP_MINUTES);
    if !(0..=60 * 24 * 30).contains(&minutes) {
        return Err(ScimError::InvalidValue("overlapMinutes must be between 0 and 43200 (30 days)".into()));
    }
    Ok(Scim::ok(json!(t.portal.rotate_oauth_client(a, &id, chrono::Duration::minutes(minutes))?)))
}

/// `DELETE …/oauth-clients/{id}`: revokes the client (its secrets and access tokens stop working) → the client.
pub async fn revoke(State(st): St, Path((t, a, id)): Path<(String, String, String)>) -> ScimResult<Scim> {
    let t = tenant(&st, &t)?;
    Ok(Scim::ok(json!(t.portal.revoke_oauth_client(app(&a)?, &id)?)))
}
