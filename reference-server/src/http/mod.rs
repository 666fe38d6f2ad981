//! The HTTP layer: the SCIM route table (RFC 7644 §3.2, Table 1), extractors and responses.
//! The SCIM router is mounted under a base path by [`crate::server`], after a middleware that has
//! authenticated the request and attached a [`ScimContext`].

pub mod admin;
mod admin_args;
pub mod catalogue;
pub mod extract;
pub mod handlers;
pub mod oauth;
pub mod response;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Path, Request};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{any, get, MethodRouter};
use axum::{Extension, Router};

use crate::directory::Directory;
use crate::discovery::Features;
use crate::entitlements::Catalogue;
use crate::schema::ResourceKind;
use extract::{ScimJson, ScimQuery};
use handlers as h;

/// What a SCIM request is served against: the tenant's directory and the base URI it was addressed to.
#[derive(Debug, Clone)]
pub struct ScimContext {
    /// The tenant's users and groups.
    pub directory: Arc<Directory>,
    /// The absolute SCIM base URI of this request (no trailing slash), for `meta.location` and `$ref`.
    pub base: String,
    /// The largest accepted request body, in bytes.
    pub body_limit: usize,
    /// What `/ServiceProviderConfig` advertises (page size, body limit).
    pub features: Features,
    /// The provisioning app the request came through (`SCIMOkta`, `SCIMAzure`), for the portal's rules.
    pub app: Option<crate::tenant::AppKind>,
    /// The role and entitlement types of that app ([`crate::entitlements`]); empty when it offers none.
    pub catalogue: Arc<Catalogue>,
}

type Ctx = Extension<ScimContext>;

fn resource_routes(kind: ResourceKind) -> (MethodRouter, MethodRouter, MethodRouter) {
    let collection = get(move |Extension(c): Ctx, q: ScimQuery| h::list(Extension(c), kind, q))
        .post(move |Extension(c): Ctx, q: ScimQuery, ScimJson(b): ScimJson| h::create(c, kind, q, b))
        .fallback(h::method_not_allowed);
    let item =
        get(move |Extension(c): Ctx, Path(id): Path<String>, q: ScimQuery, hd: HeaderMap| h::get(c, kind, id, q, hd))
            .put(
                move |Extension(c): Ctx, Path(id): Path<String>, q: ScimQuery, hd: HeaderMap, ScimJson(b): ScimJson| {
                    h::replace(c, kind, id, q, hd, b)
                },
            )
            .patch(
                move |Extension(c): Ctx, Path(id): Path<String>, q: ScimQuery, hd: HeaderMap, ScimJson(b): ScimJson| {
                    h::patch(c, kind, id, q, hd, b)
                },
            )
            .delete(move |Extension(c): Ctx, Path(id): Path<String>, hd: HeaderMap| h::delete(c, kind, id, hd))
            .fallback(h::method_not_allowed);
    let search =
        axum::routing::post(
            move |Extension(c): Ctx, ScimJson(b): ScimJson| async move { h::search(c, &[kind], b).await },
        )
        .fallback(h::method_not_allowed);
    (collection, item, search)
}

/// The SCIM endpoints, relative to a base URI. Handlers expect a [`ScimContext`] extension.
///
/// | path | methods | RFC 7644 |
/// |---|---|---|
/// | /Users, /Groups | GET (list), POST (create) | §3.4.2, §3.3 |
/// | /Users/{id}, /Groups/{id} | GET, PUT, PATCH, DELETE | §3.4.1, §3.5.1, §3.5.2, §3.6 |
/// | /.search, /Users/.search, /Groups/.search | POST | §3.4.3 |
/// | /ServiceProviderConfig, /ResourceTypes[/{id}], /Schemas[/{id}] | GET; writes 405 | §4 |
/// | /Roles, /Entitlements, … (the app's role and entitlement types) | GET; writes 405 | §3.4 |
/// | /Me | 501 | §3.11 |
/// | /Bulk | 501 (advertised unsupported) | §3.7 |
pub fn scim_routes() -> Router {
    let (users, user, users_search) = resource_routes(ResourceKind::User);
    let (groups, group, groups_search) = resource_routes(ResourceKind::Group);
    let root_search = axum::routing::post(|Extension(c): Ctx, ScimJson(b): ScimJson| async move {
        h::search(c, &[ResourceKind::User, ResourceKind::Group], b).await
    })
    .fallback(h::method_not_allowed);
    let ro = |r: MethodRouter| r.fallback(h::read_only);
    Router::new()
        .route("/Users", users)
        .route("/Users/.search", users_search)
        .route("/Users/{id}", user)
        .route("/Groups", groups)
        .route("/Groups/.search", groups_search)
        .route("/Groups/{id}", group)
        .route("/.search", root_search)
        .route("/ServiceProviderConfig", ro(get(h::service_provider_config)))
        .route("/ResourceTypes", ro(get(h::resource_types)))
        .route("/ResourceTypes/{id}", ro(get(h::resource_type)))
        .route("/Schemas", ro(get(h::schemas)))
        .route("/Schemas/{id}", ro(get(h::schema)))
        .route("/Me", any(h::me))
        .route("/Me/{*rest}", any(h::me))
        .route("/Bulk", any(h::bulk))
        .fallback(catalogue::fallback)
}

/// Logs one line per request: method, path (never the query or headers, so no credential or filter
/// value is written), status and latency.
pub async fn log_requests(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let started = Instant::now();
    let res = next.run(req).await;
    tracing::info!(
        target: "scim_reference_server::access",
        %method,
        path = %path,
        status = res.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    res
}
