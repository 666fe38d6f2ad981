//! The admin API (`/admin`, its own key — never a SCIM token): tenants, CAL types, apps and rules,
//! tokens, OAuth clients ([`super::oauth`]), local accounts, and the portal's access view and profile edit. Documented in
//! `reference-server/README.md`. Errors use the same SCIM Error body as the SCIM endpoints.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::Router;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::extract::ScimJson;
use super::response::Scim;
use crate::cal::CalType;
use crate::error::{ScimError, ScimResult};
use crate::state::AppState;
use crate::tenant::{AppKind, AppSettings, DomainPolicy, LocalRole, Tenant, TenantSettings};
use crate::token::TokenId;

use super::admin_args::{app, parse_body, tenant};

type St = State<Arc<AppState>>;

/// An app's settings and base URI, as every admin response shows them (`resourceTypes` only when it has some).
fn app_json(st: &AppState, t: &Tenant, a: AppKind) -> Value {
    let s = t.portal.app_settings(a);
    let mut v = json!({"enabled": s.enabled, "defaultCal": s.default_cal, "rules": s.rules, "baseUri": st.app_base_uri(&t.name, a)});
    if !s.resource_types.is_empty() {
        v["resourceTypes"] = json!(s.resource_types);
    }
    v
}

fn tenant_json(st: &AppState, t: &Tenant) -> Value {
    let apps: serde_json::Map<String, Value> =
        AppKind::ALL.into_iter().map(|a| (a.name().to_string(), app_json(st, t, a))).collect();
    json!({
        "name": t.name,
        "domainPolicy": t.policy,
        "settings": t.portal.settings(),
        "cals": t.portal.cal_usage(),
        "apps": apps,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewTenant {
    name: String,
    #[serde(default = "subdomain")]
    domain_policy: DomainPolicy,
    #[serde(default)]
    settings: TenantSettings,
}

fn subdomain() -> DomainPolicy {
    DomainPolicy::Subdomain
}

async fn create_tenant(State(st): St, ScimJson(body): ScimJson) -> ScimResult<Scim> {
    let req: NewTenant = parse_body(body)?;
    let t = st.tenants.create(&req.name, req.domain_policy, req.settings)?;
    Ok(Scim::ok(tenant_json(&st, &t)).status(StatusCode::CREATED))
}

async fn list_tenants(State(st): St) -> Scim {
    Scim::ok(Value::Array(st.tenants.list().iter().map(|t| tenant_json(&st, t)).collect()))
}

async fn get_tenant(State(st): St, Path(t): Path<String>) -> ScimResult<Scim> {
    let t = tenant(&st, &t)?;
    Ok(Scim::ok(tenant_json(&st, &t)))
}

async fn put_settings(State(st): St, Path(t): Path<String>, ScimJson(body): ScimJson) -> ScimResult<Scim> {
    let t = tenant(&st, &t)?;
    t.portal.set_settings(parse_body(body)?)?;
    Ok(Scim::ok(tenant_json(&st, &t)))
}

async fn put_cals(State(st): St, Path(t): Path<String>, ScimJson(body): ScimJson) -> ScimResult<Scim> {
    let t = tenant(&st, &t)?;
    let types: Vec<CalType> = parse_body(body)?;
    t.portal.set_cals(types)?;
    Ok(Scim::ok(json!(t.portal.cal_usage())))
}

async fn get_cals(State(st): St, Path(t): Path<String>) -> ScimResult<Scim> {
    Ok(Scim::ok(json!(tenant(&st, &t)?.portal.cal_usage())))
}

async fn get_app(State(st): St, Path((t, a)): Path<(String, String)>) -> ScimResult<Scim> {
    let t = tenant(&st, &t)?;
    Ok(Scim::ok(app_json(&st, &t, app(&a)?)))
}

async fn put_app(State(st): St, Path((t, a)): Path<(String, String)>, ScimJson(body): ScimJson) -> ScimResult<Scim> {
    let t = tenant(&st, &t)?;
    let a = app(&a)?;
    let settings: AppSettings = parse_body(body)?;
    t.portal.configure_app(a, settings)?;
    Ok(Scim::ok(app_json(&st, &t, a)))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewToken {
    #[serde(default)]
    expires_at: Option<String>,
    #[serde(default)]
    expires_in_days: Option<i64>,
    #[serde(default)]
    label: Option<String>,
}

async fn issue_token(
    State(st): St,
    Path((t, a)): Path<(String, String)>,
    ScimJson(body): ScimJson,
) -> ScimResult<Scim> {
    let t = tenant(&st, &t)?;
    let a = app(&a)?;
    let req: NewToken = parse_body(body)?;
    let now = st.tenants.clock().now();
    let expires: DateTime<Utc> = match (req.expires_at, req.expires_in_days) {
        (Some(s), None) => DateTime::parse_from_rfc3339(&s)
            .map(|d| d.with_timezone(&Utc))
            .map_err(|_| ScimError::InvalidValue("expiresAt must be an RFC 3339 date-time".into()))?,
        (None, Some(d)) if (1..=3650).contains(&d) => now + Duration::days(d),
        (None, Some(_)) => return Err(ScimError::InvalidValue("expiresInDays must be between 1 and 3650".into())),
        (None, None) => now + Duration::days(90),
        (Some(_), Some(_)) => return Err(ScimError::InvalidValue("give expiresAt or expiresInDays, not both".into())),
    };
    let issued = t.portal.issue_token(a, expires, req.label)?;
    Ok(Scim::ok(json!(issued)).status(StatusCode::CREATED))
}

async fn list_tokens(State(st): St, Path((t, a)): Path<(String, String)>) -> ScimResult<Scim> {
    let t = tenant(&st, &t)?;
    Ok(Scim::ok(json!(t.portal.list_tokens(app(&a)?))))
}

async fn revoke_token(State(st): St, Path((t, a, id)): Path<(String, String, String)>) -> ScimResult<Scim> {
    let t = tenant(&st, &t)?;
    let a = app(&a)?;
    let id: TokenId = id.parse()?;
    if t.portal.revoke_token(a, id)? {
        Ok(Scim::no_content())
    } else {
        Err(ScimError::NotFound("token not found".into()))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewAccount {
    user_name: String,
    role: LocalRole,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    name: Option<Value>,
    #[serde(default)]
    emails: Option<Value>,
}

async fn create_account(State(st): St, Path(t): Path<String>, ScimJson(body): ScimJson) -> ScimResult<Scim> {
    let t = tenant(&st, &t)?;
    let req: NewAccount = parse_body(body)?;
    let mut user = json!({"userName": req.user_name, "active": true});
    for (k, v) in [("displayName", req.display_name.map(Value::String)), ("name", req.name), ("emails", req.emails)] {
        if let Some(v) = v {
            user[k] = v;
        }
    }
    let created = t.create_local_account(user, req.role)?;
    Ok(Scim::ok(created).status(StatusCode::CREATED))
}

async fn access_view(State(st): St, Path((t, id)): Path<(String, String)>) -> ScimResult<Scim> {
    Ok(Scim::ok(tenant(&st, &t)?.access_view(&id)?))
}

async fn edit_profile(
    State(st): St,
    Path((t, id)): Path<(String, String)>,
    ScimJson(body): ScimJson,
) -> ScimResult<Scim> {
    let t = tenant(&st, &t)?;
    if !body.is_object() {
        return Err(ScimError::InvalidSyntax("a profile edit is a JSON object of attributes".into()));
    }
    Ok(Scim::ok(t.edit_own_profile(&id, body)?))
}

/// The admin routes, relative to `/admin`.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/tenants", post(create_tenant).get(list_tenants))
        .route("/tenants/{tenant}", get(get_tenant))
        .route("/tenants/{tenant}/settings", put(put_settings))
        .route("/tenants/{tenant}/cals", put(put_cals).get(get_cals))
        .route("/tenants/{tenant}/apps/{app}", get(get_app).put(put_app))
        .route("/tenants/{tenant}/apps/{app}/tokens", post(issue_token).get(list_tokens))
        .route("/tenants/{tenant}/apps/{app}/tokens/{id}", axum::routing::delete(revoke_token))
        .route("/tenants/{tenant}/apps/{app}/oauth-clients", post(super::oauth::create).get(super::oauth::list))
        .route("/tenants/{tenant}/apps/{app}/oauth-clients/{id}", axum::routing::delete(super::oauth::revoke))
        .route("/tenants/{tenant}/apps/{app}/oauth-clients/{id}/rotate", post(super::oauth::rotate))
        .route("/tenants/{tenant}/accounts", post(create_account))
        .route("/tenants/{tenant}/users/{id}/access", get(access_view))
        .route("/tenants/{tenant}/users/{id}/profile", axum::routing::patch(edit_profile))
        .method_not_allowed_fallback(super::handlers::method_not_allowed)
        .fallback(super::handlers::not_found)
}
