//! The endpoints of an app's role and entitlement types (`/Roles`, `/Entitlements`, whatever its
//! `/ResourceTypes` declares): GET lists and reads, every other method 405. Mounted as the SCIM router's
//! fallback, so a path no type declares is still 404. The logic is in [`crate::entitlements`].

use axum::extract::Request;
use axum::http::Method;

use super::extract::ScimQuery;
use super::response::Scim;
use super::ScimContext;
use crate::error::{ScimError, ScimResult};

/// GET `/<endpoint>` (a ListResponse, RFC 7644 §3.4.2, paged by `startIndex`/`count`, filtered by `eq`) and
/// GET `/<endpoint>/<id>` of a type the app declares; 405 for writes (the catalogue is configuration, read-only
/// through SCIM); 404 for any other path.
pub async fn fallback(q: ScimQuery, req: Request) -> ScimResult<Scim> {
    let path = req.uri().path().to_string();
    let ctx = req.extensions().get::<ScimContext>().cloned();
    let not_found =
        || ScimError::NotFound(format!("no SCIM endpoint at {}", path.chars().take(200).collect::<String>()));
    let Some(ctx) = ctx else { return Err(not_found()) };
    let mut parts = path.trim_end_matches('/').splitn(3, '/').skip(1);
    let (Some(endpoint), id) = (parts.next(), parts.next()) else { return Err(not_found()) };
    if id.is_some_and(|i| i.contains('/') || i.is_empty()) {
        return Err(not_found());
    }
    let catalogue = ctx.catalogue.clone();
    let Some(t) = catalogue.by_endpoint(&format!("/{endpoint}")) else { return Err(not_found()) };
    if req.method() != Method::GET {
        return Err(ScimError::MethodNotAllowed(format!(
            "{} lists the app's {} values and is read-only",
            t.endpoint, t.name
        )));
    }
    let body = match id {
        Some(id) => catalogue.get(t, id, &ctx.base)?,
        None => catalogue.list(t, q.get("filter"), q.int("startIndex")?, q.int("count")?, &ctx.base)?,
    };
    Ok(Scim::ok(body))
}
