//! Thin handlers: each maps one SCIM endpoint (RFC 7644 §3.2, Table 1) to a directory call and renders
//! the result. No SCIM rule lives here.

use axum::extract::{Path, Request};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::{json, Map, Value};

use super::extract::ScimQuery;
use super::response::{json_bytes, Scim};
use super::ScimContext;
use crate::directory::{membership_attribute, patch_answers_with_body, Fetched, ListPage, ListQuery};
use crate::discovery;
use crate::error::{ScimError, ScimResult};
use crate::patch::UnmatchedReplace;
use crate::projection::{decorate, Projection, Shown, ShownList};
use crate::schema::{ResourceKind, LIST_RESPONSE_URN};
use crate::tenant::AppKind;

type Ctx = Extension<ScimContext>;

/// The `attributes`/`excludedAttributes` of a request ([`Projection`]) for one resource type.
fn projection(q: &ScimQuery, kind: ResourceKind) -> ScimResult<Projection> {
    Projection::parse(q.get("attributes"), q.get("excludedAttributes"), &[kind])
}

/// How long a directory call may hold its tenant's lock, which decides where it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cost {
    /// Bounded by the request: one user read or written with a bounded body and no password, or a lookup the
    /// store answers from an index. Runs on the runtime worker that received the request when the tenant's lock
    /// is free; see [`run`].
    Short,
    /// Grows with a group's members or a whole collection, or hashes a password. Runs on the blocking pool,
    /// announced ([`crate::directory::Directory::announce_long_work`]) from before it is queued, and never holds
    /// up a worker that serves other tenants.
    Long,
}

/// The most JSON nodes a user body may have to count as [`Cost::Short`]; a typical Okta or Entra user has
/// under 100.
const SHORT_BODY_NODES: usize = 1024;
/// The most string bytes (names and values) a user body may have to count as [`Cost::Short`]; a typical
/// Okta or Entra user has under 2 KiB.
const SHORT_BODY_BYTES: usize = 64 * 1024;
/// The longest filter parsed to tell whether it is an indexed lookup; a longer one is [`Cost::Long`] unparsed.
const SHORT_FILTER_BYTES: usize = 4 * 1024;

/// [`Cost::Short`] for a user body within [`SHORT_BODY_NODES`] and [`SHORT_BODY_BYTES`] (a PATCH's cost grows
/// with its operations and values) that names no `password` anywhere (sealing one costs an Argon2id hash, about
/// a millisecond); the walk stops as soon as either budget is exceeded.
fn user_write_cost(body: &Value) -> Cost {
    let (mut nodes, mut bytes) = (0usize, 0usize);
    let mut stack = vec![body];
    while let Some(v) = stack.pop() {
        nodes += 1;
        match v {
            Value::String(s) if names_password(s) => return Cost::Long,
            Value::String(s) => bytes += s.len(),
            Value::Array(a) => stack.extend(a.iter()),
            Value::Object(o) => {
                for (k, v) in o {
                    if k.eq_ignore_ascii_case("password") {
                        return Cost::Long;
                    }
                    bytes += k.len();
                    stack.push(v);
                }
            }
            _ => {}
        }
        if nodes > SHORT_BODY_NODES || bytes > SHORT_BODY_BYTES {
            return Cost::Long;
        }
    }
    Cost::Short
}

/// Whether `s` contains `password` in any ASCII case, without a lowercased copy of every string of the body.
fn names_password(s: &str) -> bool {
    s.as_bytes().windows(b"password".len()).any(|w| w.eq_ignore_ascii_case(b"password"))
}

/// A user's own reads and writes are short when the body is; anything on a group (whose members may number
/// in the hundreds of thousands) is long, and so is a user's deletion (it leaves every group it is in).
fn resource_cost(kind: ResourceKind, body: Option<&Value>) -> Cost {
    match (kind, body) {
        (ResourceKind::User, Some(b)) => user_write_cost(b),
        (ResourceKind::User, None) => Cost::Short,
        (ResourceKind::Group, _) => Cost::Long,
    }
}

/// A list is short only for users found through an index (Okta's and Entra's lookups before each write).
fn list_cost(kinds: &[ResourceKind], q: &ListQuery) -> Cost {
    let bounded = q.filter.as_ref().is_some_and(|f| f.len() <= SHORT_FILTER_BYTES);
    match kinds {
        [ResourceKind::User] if bounded && q.is_indexed_lookup(ResourceKind::User) => Cost::Short,
        _ => Cost::Long,
    }
}

/// Runs `work(input)`, one directory call, where its [`Cost`] says.
///
/// A short call runs on this worker without waiting for the tenant's lock
/// ([`crate::directory::Directory::without_waiting`] on a copy of `input`): when the lock is taken, or long work
/// of the tenant is announced, or the tenant's store commits to disk, it runs on the blocking pool instead. A
/// panic in the work is a 500, as it is on the blocking pool.
async fn run<I: Clone + Send + 'static, T: Send + 'static>(
    ctx: &ScimContext,
    cost: Cost,
    input: I,
    work: impl Fn(I) -> ScimResult<T> + Send + 'static,
) -> ScimResult<T> {
    let d = ctx.directory.clone();
    if cost == Cost::Short && !d.long_work_in_progress() && !d.commits_to_disk() {
        let attempt =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| d.without_waiting(|| work(input.clone()))));
        match attempt {
            Ok(Some(done)) => return done,
            Ok(None) => {}
            Err(_) => return Err(ScimError::Internal("a request's work did not finish: it panicked".into())),
        }
    }
    let announced = (cost == Cost::Long).then(|| d.announce_long_work());
    tokio::task::spawn_blocking(move || {
        let _announced = announced;
        work(input)
    })
    .await
    .map_err(|e| ScimError::Internal(format!("a request's work did not finish: {e}")))?
}

fn single(ctx: &ScimContext, kind: ResourceKind, v: Value, p: &Projection) -> Scim {
    answered(ctx, kind, v, p, false)
}

/// One resource answered, with its ETag (RFC 7644 §3.14) and, for a create, its Location (§3.3). The headers are
/// taken from the whole resource: `attributes`/`excludedAttributes` (§3.9) shape only the body, so a projection
/// that leaves out `meta` does not take them away.
fn answered(ctx: &ScimContext, kind: ResourceKind, mut v: Value, p: &Projection, created: bool) -> Scim {
    if shown_as_default(p, kind, &v) {
        // shown as the default projection: written straight from the rendered resource (same text, no decorated copy)
        let shown = Shown::new(kind, &v, &ctx.base);
        let mut answer = Scim::ok_written(json_bytes(&shown));
        answer.etag = crate::store::version_of(&v).map(str::to_string);
        if created {
            answer.location = shown.location().map(str::to_string);
            answer = answer.status(StatusCode::CREATED);
        }
        return answer;
    }
    decorate(kind, &mut v, &ctx.base);
    let mut answer = Scim::ok(v).with_etag_from_body();
    if created {
        answer = answer.with_location_from_body().status(StatusCode::CREATED);
    }
    answer.body = answer.body.map(|v| p.apply_lists(kind, v));
    answer
}

fn if_match(headers: &HeaderMap) -> Option<String> {
    headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()).map(str::to_string)
}

fn sort_order(s: Option<&str>) -> ScimResult<bool> {
    match s.map(str::trim) {
        None | Some("") => Ok(false),
        Some(s) if s.eq_ignore_ascii_case("ascending") => Ok(false),
        Some(s) if s.eq_ignore_ascii_case("descending") => Ok(true),
        Some(_) => Err(ScimError::InvalidValue("sortOrder must be 'ascending' or 'descending'".into())),
    }
}

/// Whether `p` shows `v` (a rendered resource of `kind`) as the default projection would
/// ([`Projection::is_default_without`] its membership attribute, when `v` has none), so that [`Shown`] writes it.
fn shown_as_default(p: &Projection, kind: ResourceKind, v: &Value) -> bool {
    let attr = membership_attribute(kind);
    !p.is_requested()
        || (p.is_default_without(kind, attr)
            && v.as_object().is_some_and(|o| !o.keys().any(|k| k.eq_ignore_ascii_case(attr))))
}

fn list_response(ctx: &ScimContext, page: ListPage, p: &Projection) -> Scim {
    if page.resources.iter().all(|(kind, v)| shown_as_default(p, *kind, v)) {
        let (total_results, start_index) = (page.total_results, page.start_index);
        let list = ShownList { total_results, start_index, resources: &page.resources, base: &ctx.base };
        return Scim::ok_written(json_bytes(&list));
    }
    let resources: Vec<Value> = page.resources.into_iter().map(|(kind, v)| p.apply(kind, v, &ctx.base)).collect();
    Scim::ok(list_body(page.total_results, page.start_index, resources))
}

async fn run_list(ctx: ScimContext, kinds: Vec<ResourceKind>, mut q: ListQuery, p: Projection) -> ScimResult<Scim> {
    // the default projection keeps the membership attribute (both are `returned: default`)
    q.omit_membership = p.is_requested() && kinds.iter().all(|&k| !p.keeps(k, membership_attribute(k)));
    let cost = list_cost(&kinds, &q);
    let c = ctx.clone();
    run(&ctx, cost, (), move |()| {
        let page = c.directory.list(&kinds, &q)?;
        Ok(list_response(&c, page, &p))
    })
    .await
}

/// GET on a resource endpoint (RFC 7644 §3.4.2).
pub async fn list(Extension(ctx): Ctx, kind: ResourceKind, q: ScimQuery) -> ScimResult<Scim> {
    let p = projection(&q, kind)?;
    let query = ListQuery {
        filter: q.get("filter").map(str::to_string),
        start_index: q.int("startIndex")?,
        count: q.int("count")?,
        sort_by: q.get("sortBy").map(str::to_string),
        descending: sort_order(q.get("sortOrder"))?,
        omit_membership: false,
    };
    run_list(ctx, vec![kind], query, p).await
}

fn search_string(body: &Map<String, Value>, name: &str) -> ScimResult<Option<String>> {
    match crate::values::get_ci(body, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Array(a)) if a.iter().all(Value::is_string) => {
            Ok(Some(a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(",")))
        }
        Some(_) => Err(ScimError::InvalidValue(format!("'{name}' has the wrong type"))),
    }
}

fn search_int(body: &Map<String, Value>, name: &str) -> ScimResult<Option<i64>> {
    match crate::values::get_ci(body, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            n.as_i64().map(Some).ok_or_else(|| ScimError::InvalidValue(format!("'{name}' must be an integer")))
        }
        Some(Value::String(s)) => {
            s.trim().parse().map(Some).map_err(|_| ScimError::InvalidValue(format!("'{name}' must be an integer")))
        }
        Some(_) => Err(ScimError::InvalidValue(format!("'{name}' must be an integer"))),
    }
}

/// POST `.search` (RFC 7644 §3.4.3) on a resource endpoint (`kinds` = one) or the root (all kinds).
pub async fn search(ctx: ScimContext, kinds: &[ResourceKind], body: Value) -> ScimResult<Scim> {
    let Value::Object(body) = body else {
        return Err(ScimError::InvalidSyntax("a SearchRequest must be a JSON object".into()));
    };
    let query = ListQuery {
        filter: search_string(&body, "filter")?,
        start_index: search_int(&body, "startIndex")?,
        count: search_int(&body, "count")?,
        sort_by: search_string(&body, "sortBy")?,
        descending: sort_order(search_string(&body, "sortOrder")?.as_deref())?,
        omit_membership: false,
    };
    let attributes = search_string(&body, "attributes")?;
    let excluded = search_string(&body, "excludedAttributes")?;
    let p = Projection::parse(attributes.as_deref(), excluded.as_deref(), kinds)?;
    run_list(ctx, kinds.to_vec(), query, p).await
}

/// POST on a resource endpoint (RFC 7644 §3.3): 201 with Location and ETag.
pub async fn create(ctx: ScimContext, kind: ResourceKind, q: ScimQuery, body: Value) -> ScimResult<Scim> {
    let p = projection(&q, kind)?;
    if kind == ResourceKind::User {
        ctx.catalogue.check_user(&body)?;
    }
    let c = ctx.clone();
    let cost = resource_cost(kind, Some(&body));
    let created = run(&ctx, cost, body, move |b| c.directory.create_from(kind, b, c.app.map(AppKind::name))).await?;
    Ok(answered(&ctx, kind, created, &p, true))
}

/// GET of one resource (RFC 7644 §3.4.1); `If-None-Match` with the current version answers 304 (§3.14).
pub async fn get(
    ctx: ScimContext,
    kind: ResourceKind,
    id: String,
    q: ScimQuery,
    headers: HeaderMap,
) -> ScimResult<Response> {
    let p = projection(&q, kind)?;
    let c = ctx.clone();
    let inm = headers.get(header::IF_NONE_MATCH).and_then(|h| h.to_str().ok()).map(str::to_string);
    let fetched =
        run(&ctx, resource_cost(kind, None), (), move |()| c.directory.get_unless_current(kind, &id, inm.as_deref()))
            .await?;
    match fetched {
        Fetched::Resource(v) => Ok(single(&ctx, kind, v, &p).into_response()),
        Fetched::NotModified { version } => {
            let mut res = StatusCode::NOT_MODIFIED.into_response();
            if let Ok(v) = header::HeaderValue::from_str(&version) {
                res.headers_mut().insert(header::ETAG, v);
            }
            Ok(res)
        }
    }
}

/// PUT (RFC 7644 §3.5.1): 200 with the resource.
pub async fn replace(
    ctx: ScimContext,
    kind: ResourceKind,
    id: String,
    q: ScimQuery,
    headers: HeaderMap,
    body: Value,
) -> ScimResult<Scim> {
    let p = projection(&q, kind)?;
    if kind == ResourceKind::User {
        ctx.catalogue.check_user(&body)?;
    }
    let (c, m) = (ctx.clone(), if_match(&headers));
    let cost = resource_cost(kind, Some(&body));
    let v = run(&ctx, cost, body, move |b| c.directory.replace(kind, &id, b, m.as_deref())).await?;
    Ok(single(&ctx, kind, v, &p))
}

/// PATCH (RFC 7644 §3.5.2): users answer 200 with the resource; groups answer 204 unless
/// `attributes`/`excludedAttributes` ask for a body (§3.5.2: "200 OK ... if attributes requested").
pub async fn patch(
    ctx: ScimContext,
    kind: ResourceKind,
    id: String,
    q: ScimQuery,
    headers: HeaderMap,
    body: Value,
) -> ScimResult<Scim> {
    let p = projection(&q, kind)?;
    if kind == ResourceKind::User {
        ctx.catalogue.check_patch(&body)?;
    }
    let want_body = patch_answers_with_body(kind, p.is_requested());
    let (c, m) = (ctx.clone(), if_match(&headers));
    let cost = resource_cost(kind, Some(&body));
    // the app the request came through decides (Entra's expectation, or RFC 7644 §3.5.2.3's noTarget)
    let unmatched = ctx.app.map_or(UnmatchedReplace::NoTarget, AppKind::unmatched_replace);
    let patched =
        run(&ctx, cost, body, move |b| c.directory.patch_as(kind, &id, b, m.as_deref(), want_body, unmatched)).await?;
    match patched.body {
        Some(v) => Ok(single(&ctx, kind, v, &p)),
        None => {
            let mut res = Scim::no_content();
            res.etag = Some(patched.version);
            Ok(res)
        }
    }
}

/// DELETE (RFC 7644 §3.6): 204.
pub async fn delete(ctx: ScimContext, kind: ResourceKind, id: String, headers: HeaderMap) -> ScimResult<Scim> {
    let (c, m) = (ctx.clone(), if_match(&headers));
    run(&ctx, Cost::Long, (), move |()| c.directory.delete(kind, &id, m.as_deref())).await?;
    Ok(Scim::no_content())
}

/// GET /ServiceProviderConfig (RFC 7644 §4).
pub async fn service_provider_config(Extension(ctx): Ctx, q: ScimQuery) -> ScimResult<Scim> {
    no_filter(&q)?;
    Ok(Scim::ok(discovery::service_provider_config(ctx.features, &ctx.base)))
}

/// RFC 7644 §4: discovery endpoints do not filter, and a `filter` answers 403 so clients cannot assume it held.
fn no_filter(q: &ScimQuery) -> ScimResult<()> {
    match q.get("filter") {
        Some(_) => Err(ScimError::Forbidden("discovery endpoints do not support filtering (RFC 7644 §4)".into())),
        None => Ok(()),
    }
}

fn discovery_list(items: Vec<Value>) -> Scim {
    Scim::ok(list_body(items.len(), 1, items))
}

/// A ListResponse (RFC 7644 §3.4.2). The resources are moved in: `json!` would copy each one.
fn list_body(total_results: usize, start_index: usize, resources: Vec<Value>) -> Value {
    let mut body = Map::new();
    body.insert("schemas".into(), json!([LIST_RESPONSE_URN]));
    body.insert("totalResults".into(), total_results.into());
    body.insert("startIndex".into(), start_index.into());
    body.insert("itemsPerPage".into(), resources.len().into());
    body.insert("Resources".into(), Value::Array(resources));
    Value::Object(body)
}

/// GET /ResourceTypes (RFC 7644 §4).
pub async fn resource_types(Extension(ctx): Ctx, q: ScimQuery) -> ScimResult<Scim> {
    no_filter(&q)?;
    let mut types = discovery::resource_types(&ctx.base);
    types.extend(ctx.catalogue.resource_types(&ctx.base));
    Ok(discovery_list(types))
}

/// GET /ResourceTypes/{id}.
pub async fn resource_type(Extension(ctx): Ctx, Path(id): Path<String>) -> ScimResult<Scim> {
    if let Some(rt) = discovery::find_resource_type(&id) {
        return Ok(Scim::ok(discovery::resource_type(rt, &ctx.base)));
    }
    let found = ctx.catalogue.resource_types(&ctx.base).into_iter().find(|t| t["id"] == id.as_str());
    found.map(Scim::ok).ok_or_else(|| ScimError::NotFound(format!("resource type '{id}' not found")))
}

/// GET /Schemas (RFC 7644 §4).
pub async fn schemas(Extension(ctx): Ctx, q: ScimQuery) -> ScimResult<Scim> {
    no_filter(&q)?;
    let mut schemas = discovery::schemas(&ctx.base);
    schemas.extend(ctx.catalogue.schemas(&ctx.base));
    Ok(discovery_list(schemas))
}

/// GET /Schemas/{id}.
pub async fn schema(Extension(ctx): Ctx, Path(id): Path<String>) -> ScimResult<Scim> {
    if let Some(s) = discovery::find_schema(&id) {
        return Ok(Scim::ok(discovery::schema(s, &ctx.base)));
    }
    let found = ctx.catalogue.schemas(&ctx.base).into_iter().find(|s| s["id"] == id.as_str());
    found.map(Scim::ok).ok_or_else(|| ScimError::NotFound(format!("schema '{id}' not found")))
}

/// Writes to discovery endpoints (RFC 7644 §4: they are read-only).
pub async fn read_only() -> ScimError {
    ScimError::MethodNotAllowed("discovery endpoints are read-only".into())
}

/// Any method the endpoint does not support.
pub async fn method_not_allowed(req: Request) -> ScimError {
    ScimError::MethodNotAllowed(format!("{} is not supported on this endpoint", req.method()))
}

/// `/Me` (RFC 7644 §3.11): not implemented — API tokens are not bound to a SCIM user.
pub async fn me() -> ScimError {
    ScimError::NotImplemented("/Me is not supported: API tokens are not bound to a user".into())
}

/// `/Bulk` (RFC 7644 §3.7): advertised as unsupported in /ServiceProviderConfig.
pub async fn bulk() -> ScimError {
    ScimError::NotImplemented("bulk operations are not supported (see /ServiceProviderConfig)".into())
}

/// Unknown SCIM paths.
pub async fn not_found(req: Request) -> ScimError {
    let path: String = req.uri().path().chars().take(200).collect();
    ScimError::NotFound(format!("no SCIM endpoint at {path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_body_is_short_up_to_its_node_and_byte_budgets() {
        let user =
            json!({"userName": "ada", "name": {"givenName": "Ada"}, "emails": [{"value": "a@x", "primary": true}]});
        assert_eq!(user_write_cost(&user), Cost::Short);
        let many_ops: Vec<Value> =
            (0..SHORT_BODY_NODES).map(|i| json!({"op": "add", "path": "title", "value": i})).collect();
        assert_eq!(user_write_cost(&json!({"Operations": many_ops})), Cost::Long);
        assert_eq!(user_write_cost(&json!({"title": "x".repeat(SHORT_BODY_BYTES + 1)})), Cost::Long);
        assert_eq!(user_write_cost(&json!({"title": "x".repeat(SHORT_BODY_BYTES - 10)})), Cost::Short);
        // a password costs an Argon2id hash: never on a runtime worker
        assert_eq!(user_write_cost(&json!({"userName": "a", "Password": "pw"})), Cost::Long);
        let patch = json!({"Operations": [{"op": "replace", "path": "password", "value": "pw"}]});
        assert_eq!(user_write_cost(&patch), Cost::Long);
        let nested = json!({"Operations": [{"op": "replace", "value": {"password": "pw"}}]});
        assert_eq!(user_write_cost(&nested), Cost::Long);
        let in_a_value = json!({"Operations": [{"op": "replace", "path": "title", "value": "my PassWord"}]});
        assert_eq!(user_write_cost(&in_a_value), Cost::Long);
        assert_eq!(user_write_cost(&json!({"userName": "pass-word"})), Cost::Short);
    }

    #[test]
    fn groups_and_user_deletions_are_long_and_only_indexed_user_lookups_are_short_lists() {
        assert_eq!(resource_cost(ResourceKind::Group, None), Cost::Long);
        assert_eq!(resource_cost(ResourceKind::Group, Some(&json!({"displayName": "g"}))), Cost::Long);
        assert_eq!(resource_cost(ResourceKind::User, None), Cost::Short);
        let q = |f: Option<&str>| ListQuery { filter: f.map(str::to_string), ..Default::default() };
        assert_eq!(list_cost(&[ResourceKind::User], &q(Some("userName eq \"ada\""))), Cost::Short);
        assert_eq!(list_cost(&[ResourceKind::User], &q(Some("title co \"E\""))), Cost::Long);
        assert_eq!(list_cost(&[ResourceKind::User], &q(None)), Cost::Long);
        assert_eq!(list_cost(&[ResourceKind::Group], &q(Some("displayName eq \"g\""))), Cost::Long);
        assert_eq!(list_cost(&[ResourceKind::User, ResourceKind::Group], &q(Some("userName eq \"ada\""))), Cost::Long);
        let long_filter = format!("userName eq \"ada\"{}", " and title eq \"x\"".repeat(SHORT_FILTER_BYTES / 10));
        assert_eq!(list_cost(&[ResourceKind::User], &q(Some(&long_filter))), Cost::Long, "not parsed on a worker");
    }
}
