//! The SCIM direct compliance tests (overview tests 15–20, 23–25: direct HTTP calls, not through the engine) and
//! the gallery's other requirements (a query that matches nothing answers 200 with zero results; 25 requests/s
//! per tenant, [`super::GALLERY_REQUIREMENTS`]).

use std::time::Duration;

use serde_json::{json, Value};

use super::lifecycle::{manager_step, new_user, read, same, total};
use super::mapping::{flatten, missing, AttributeMapping};
use super::{Check, Ctx, Discovery, Fail, Options, Requirement, REQUIRED_RATE};
use crate::exchange::Method;
use crate::idp::errors::{explain, Addressed, Failure};
use crate::idp::{get_ci, Dialect, EntraDialect, Idp, Op, ScimRequest, ENTERPRISE, GROUP_SCHEMA, USER_SCHEMA};
use crate::simulate::engine::{EngineOptions, Http, OpKind};
use crate::target::Target;

/// Page size of the pagination tests (Microsoft: `count=5`).
pub const PAGE: usize = 5;
/// Resources the pagination tests make sure exist (Microsoft: at least 11).
pub const AT_LEAST: u64 = 11;
/// Pages read at most (Microsoft requires at least 2; three cover a middle page without walking a large tenant).
pub const MAX_PAGES: usize = 3;

fn req(method: Method, path: String, query: Vec<(String, String)>, body: Option<Value>) -> ScimRequest {
    ScimRequest { method, path, query, body }
}

/// Test 15: `/Schemas` answered 200 with `Resources`, and declares every mapped User (and, with groups, Group)
/// attribute, compared ignoring case.
pub fn schema_discoverability(d: &Discovery, mapping: &AttributeMapping) -> Check {
    if d.status != 200 {
        return Err(Fail {
            detail: format!("GET /Schemas answered {} (200 expected)", d.status),
            entra: explain(
                Idp::Entra,
                Failure::of(Method::GET, Addressed::Discovery, d.status, true).unwrap_or(Failure::Unreadable),
            ),
        });
    }
    let Some(resources) = &d.resources else {
        return Err(Fail::new("GET /Schemas answered without a Resources array (RFC 7644 §4)"));
    };
    let mut gaps = missing(&mapping.user, &flatten(resources, USER_SCHEMA), USER_SCHEMA);
    if d.groups {
        gaps.extend(missing(&mapping.group, &flatten(resources, GROUP_SCHEMA), GROUP_SCHEMA));
    }
    if !gaps.is_empty() {
        return Err(Fail::new(format!(
            "{} mapped attribute(s) not discoverable in /Schemas ({}): {}",
            gaps.len(),
            mapping.source,
            gaps.join(", ")
        )));
    }
    Ok(format!("every attribute of {} is declared", mapping.source))
}

fn empty(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        _ => false,
    }
}

/// A user created directly with `title` and `displayName` set; returns its id.
async fn direct_user(ctx: &Ctx) -> Result<String, Fail> {
    let u = new_user(ctx);
    let a = ctx.send(&ctx.pod, OpKind::ReconcileRead, &ctx.pod.options().dialect.user_create(&u), &[200, 201]).await?;
    a.json
        .as_ref()
        .and_then(|j| get_ci(j, "id"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| Fail::new("POST /Users answered without an id"))
}

/// Test 16: PATCH optional attributes to empty strings, then to null; both times they read back null or empty.
pub async fn null_update(ctx: &Ctx) -> Check {
    let id = direct_user(ctx).await?;
    let attrs = ["title", "displayName"];
    for (phase, value) in [("phase 1 (empty strings)", json!("")), ("phase 2 (null)", Value::Null)] {
        let ops = attrs.iter().map(|a| EntraDialect::Default.op(Op::Replace, a, Some(value.clone()))).collect();
        let r = ScimRequest::patch(format!("/Users/{id}"), ops);
        ctx.send(&ctx.pod, OpKind::UserUpdate, &r, &[200, 204])
            .await
            .map_err(|f| Fail { detail: format!("{phase}: {}", f.detail), ..f })?;
        let back = read(ctx, "Users", &id).await?;
        if let Some(a) = attrs.iter().find(|a| !empty(get_ci(&back, a))) {
            return Err(Fail::not_applied(format!(
                "{phase}: {a} reads back {} instead of null or empty",
                get_ci(&back, a).unwrap_or(&Value::Null)
            )));
        }
    }
    Ok("title and displayName emptied and nulled".into())
}

/// Test 17: `POST /Users` answers 200/201 with an id and the `userName` sent (compared ignoring case:
/// `caseExact: false`, RFC 7643 §4.1).
pub async fn user_create(ctx: &Ctx) -> Check {
    let u = new_user(ctx);
    let a = ctx.send(&ctx.pod, OpKind::ReconcileRead, &ctx.pod.options().dialect.user_create(&u), &[200, 201]).await?;
    let j = a.json.unwrap_or(Value::Null);
    if get_ci(&j, "id").and_then(Value::as_str).is_none_or(str::is_empty) {
        return Err(Fail::new("POST /Users answered without a non-empty id"));
    }
    if !same(get_ci(&j, "userName"), &json!(u.user_name)) {
        return Err(Fail::new(format!(
            "POST /Users answered userName {} for {}",
            get_ci(&j, "userName").unwrap_or(&Value::Null),
            u.user_name
        )));
    }
    Ok("created; id and userName round-trip".into())
}

/// A value for an eligible attribute, or `None` when it has no safe generated value.
fn generated(name: &str, ty: &str, n: usize) -> Option<Value> {
    Some(match (name.to_ascii_lowercase().as_str(), ty) {
        ("preferredlanguage", _) | ("locale", _) => json!("en-US"),
        ("timezone", _) => json!("Europe/Berlin"),
        (_, "string") => json!(format!("gallery-update-{n}")),
        (_, "boolean") => json!(true),
        (_, "integer") => json!(7),
        (_, "datetime") => json!("2026-01-01T00:00:00Z"),
        _ => return None,
    })
}

/// The core User attributes Microsoft's `SCIM_User_Update_Test` PATCHes: single-valued, string, integer,
/// dateTime or boolean, writable and returned, not unique, not `id`/`schemas`/`meta`/`active`/`groups`/`roles`.
pub fn eligible(resources: &[Value], schema: &str, also_excluded: &[&str]) -> Vec<(String, Value)> {
    let Some(s) =
        resources.iter().find(|r| r.get("id").and_then(Value::as_str).is_some_and(|i| i.eq_ignore_ascii_case(schema)))
    else {
        return Vec::new();
    };
    let excluded = ["id", "schemas", "meta", "active", "groups", "roles", "externalid", "password"];
    let mut out = Vec::new();
    for (n, a) in s.get("attributes").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let text = |k: &str| a.get(k).and_then(Value::as_str).unwrap_or_default().to_ascii_lowercase();
        let Some(name) = a.get("name").and_then(Value::as_str) else { continue };
        let lower = name.to_ascii_lowercase();
        if excluded.contains(&lower.as_str()) || also_excluded.iter().any(|e| e.eq_ignore_ascii_case(name)) {
            continue;
        }
        if a.get("multiValued").and_then(Value::as_bool) == Some(true)
            || ["readonly", "immutable", "writeonly"].contains(&text("mutability").as_str())
            || text("returned") == "never"
            || !matches!(text("uniqueness").as_str(), "" | "none")
            || a.get("canonicalValues").and_then(Value::as_array).is_some_and(|c| !c.is_empty())
        {
            continue;
        }
        if let Some(v) = generated(name, &text("type"), n) {
            out.push((name.to_string(), v));
        }
    }
    out
}

async fn patch_and_compare(ctx: &Ctx, collection: &str, id: &str, values: &[(String, Value)]) -> Check {
    let ops = values.iter().map(|(k, v)| EntraDialect::Default.op(Op::Replace, k, Some(v.clone()))).collect();
    let r = ScimRequest::patch(format!("/{collection}/{id}"), ops);
    ctx.send(&ctx.pod, OpKind::UserUpdate, &r, &[200, 204]).await?;
    let back = read(ctx, collection, id).await?;
    let wrong: Vec<String> = values
        .iter()
        .filter(|(k, v)| !same(get_ci(&back, k), v))
        .map(|(k, v)| format!("{k} (sent {v}, read {})", get_ci(&back, k).unwrap_or(&Value::Null)))
        .collect();
    if !wrong.is_empty() {
        return Err(Fail::not_applied(format!("{} mismatch(es) after the PATCH: {}", wrong.len(), wrong.join("; "))));
    }
    Ok(format!(
        "{} attribute(s) PATCHed and read back: {}",
        values.len(),
        values.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(", ")
    ))
}

/// Test 18: PATCH every eligible attribute ([`eligible`]) and read them back; passes `(no updatable attributes)`
/// when there is none, as Microsoft's does — saying why when `/Schemas` gave nothing to read (Microsoft's
/// `Schema_Discoverability_Test` fails then), so a pass that PATCHed nothing does not read as a tested one.
pub async fn user_update(ctx: &Ctx, d: &Discovery) -> Check {
    let values = eligible(d.resources.as_deref().unwrap_or_default(), USER_SCHEMA, &["userName"]);
    if values.is_empty() {
        return Ok(match (&d.resources, d.status) {
            (Some(_), _) => "(no updatable attributes)".into(),
            (None, 0) => "(no updatable attributes: GET /Schemas got no answer, so nothing was PATCHed)".into(),
            (None, status) => {
                format!("(no updatable attributes: GET /Schemas answered {status}, so nothing was PATCHed)")
            }
        });
    }
    let id = direct_user(ctx).await?;
    patch_and_compare(ctx, "Users", &id, &values).await
}

/// `POST /Groups` with the direct tests' SCIM group body (the core Group schema and a `displayName`), as
/// Microsoft's SCIM workflow creates the groups of tests 19, 20 and 24 — not through the provisioning engine, whose
/// create carries Entra's own schema URN as well; returns the answer's JSON.
async fn post_direct_group(ctx: &Ctx, name: &str) -> Result<Value, Fail> {
    let body = json!({"schemas": [GROUP_SCHEMA], "displayName": name});
    let r = req(Method::POST, "/Groups".into(), Vec::new(), Some(body));
    Ok(ctx.send(&ctx.pod, OpKind::ReconcileRead, &r, &[200, 201]).await?.json.unwrap_or(Value::Null))
}

/// A group created directly ([`post_direct_group`]); returns its id.
async fn direct_group(ctx: &Ctx, name: &str) -> Result<String, Fail> {
    let j = post_direct_group(ctx, name).await?;
    get_ci(&j, "id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or_else(|| Fail::new("POST /Groups answered without an id"))
}

/// Test 19: `POST /Groups` answers 200/201 with an id and the `displayName` sent.
pub async fn group_create(ctx: &Ctx) -> Check {
    let name = ctx.unique("group");
    let j = post_direct_group(ctx, &name).await?;
    if get_ci(&j, "id").and_then(Value::as_str).is_none_or(str::is_empty) {
        return Err(Fail::new("POST /Groups answered without a non-empty id"));
    }
    if !same(get_ci(&j, "displayName"), &json!(name)) {
        return Err(Fail::new(format!(
            "POST /Groups answered displayName {} for {name}",
            get_ci(&j, "displayName").unwrap_or(&Value::Null)
        )));
    }
    Ok("created; id and displayName round-trip".into())
}

/// Test 20: PATCH the group's eligible attributes (displayName) of a group created directly and read them back.
pub async fn group_update(ctx: &Ctx) -> Check {
    let name = ctx.unique("group");
    let id = direct_group(ctx, &name).await?;
    patch_and_compare(ctx, "Groups", &id, &[("displayName".into(), json!(format!("{name}-updated")))]).await
}

async fn list_total(ctx: &Ctx, collection: &str) -> Result<u64, Fail> {
    let r = ctx.pod.options().dialect.page(collection, 1, 1);
    let a = ctx.send(&ctx.pod, OpKind::ImportPage, &r, &[200]).await?;
    a.json
        .as_ref()
        .and_then(total)
        .ok_or_else(|| Fail::new(format!("GET /{collection}?startIndex=1&count=1 answered without totalResults")))
}

/// Tests 23 and 24: make sure at least [`AT_LEAST`] resources exist (throwaway ones created directly, as
/// Microsoft's SCIM workflow creates them), then read pages of [`PAGE`] (`startIndex = page × 5 + 1`), at least 2
/// and at most [`MAX_PAGES`]: each 200 with the expected `startIndex`.
pub async fn pagination(ctx: &Ctx, collection: &str) -> Check {
    let mut have = list_total(ctx, collection).await?;
    while have < AT_LEAST {
        if collection == "Users" {
            direct_user(ctx).await?;
        } else {
            direct_group(ctx, &ctx.unique("group")).await?;
        }
        have += 1;
    }
    let total_now = list_total(ctx, collection).await?;
    let pages = (total_now as usize).div_ceil(PAGE).min(MAX_PAGES);
    if pages < 2 {
        return Err(Fail::new(format!(
            "/{collection} reports totalResults {total_now} after {AT_LEAST} exist: fewer than 2 pages"
        )));
    }
    for page in 0..pages {
        let start = page * PAGE + 1;
        let r = ctx.pod.options().dialect.page(collection, start, PAGE);
        let a = ctx.send(&ctx.pod, OpKind::ImportPage, &r, &[200]).await?;
        let got = a.json.as_ref().and_then(|j| get_ci(j, "startIndex")).and_then(Value::as_u64);
        if got != Some(start as u64) {
            return Err(Fail::new(format!(
                "page {} of /{collection}: startIndex {} instead of {start} (RFC 7644 §3.4.2.4)",
                page + 1,
                got.map(|g| g.to_string()).unwrap_or_else(|| "absent".into())
            )));
        }
    }
    Ok(format!("{pages} pages of {PAGE} read, startIndex right on each"))
}

/// Test 25: direct PATCH of the manager as Microsoft's SCIM workflow sends it: set (`Add` of the manager's id as a
/// bare string: Entra's default-dialect [`Dialect::manager_set`]), change (`replace` with the other id, a bare
/// string), remove (`replace` with `""`) — the last two spelled in lower case, as the `aadOptscim062020` dialect
/// spells its operations ([`EntraDialect::op`]) — each read back (`manager.value`, or nothing after the removal).
pub async fn update_manager(ctx: &Ctx) -> Check {
    let a = direct_user(ctx).await?;
    let b = direct_user(ctx).await?;
    let id = direct_user(ctx).await?;
    let path = format!("{ENTERPRISE}:manager");
    let replace = |v: &str| {
        ScimRequest::patch(
            format!("/Users/{id}"),
            vec![EntraDialect::AadOptscim062020.op(Op::Replace, &path, Some(json!(v)))],
        )
    };
    let set = Dialect::Entra(EntraDialect::Default)
        .manager_set(&id, Some(&a))
        .ok_or_else(|| Fail::new("the Entra dialect builds no manager update"))?;
    let steps: [(&str, ScimRequest, Option<&str>); 3] =
        [("set", set, Some(&a)), ("change", replace(&b), Some(&b)), ("remove", replace(""), None)];
    for (phase, r, want) in steps {
        manager_step(ctx, &ctx.pod, &r, &id, want, phase).await?;
    }
    Ok("manager set, changed and removed".into())
}

/// The gallery requirement: a query that matches nothing answers 200 with zero results (what Entra's Test
/// Connection and every lookup rely on; a 404 quarantines the job).
pub async fn no_match_query(ctx: &Ctx) -> Requirement {
    let guid = uuid::Uuid::new_v4().to_string();
    let r = ctx.engine.options().dialect.user_lookup(&guid);
    let (met, detail, entra) = match ctx.send(&ctx.engine, OpKind::UserLookup, &r, &[200]).await {
        Ok(a) => match a.json.as_ref().and_then(total) {
            Some(0) => (true, "userName eq \"<random GUID>\" answered 200 with totalResults 0".to_string(), None),
            n => (
                false,
                format!(
                    "userName eq \"<random GUID>\" answered 200 with {} results",
                    n.map(|n| n.to_string()).unwrap_or_else(|| "no ListResponse".into())
                ),
                explain(Idp::Entra, Failure::Unreadable),
            ),
        },
        Err(f) => (false, f.detail, f.entra),
    };
    Requirement { name: "noMatchQuery", met, detail, entra }
}

/// How long after the last scheduled request its answers may still arrive for the server to count as keeping up.
const RATE_SLACK: Duration = Duration::from_secs(2);

/// The gallery requirement: 25 requests/s sustained per tenant. Sends lookups (page reads when the server refuses
/// the lookup itself, 4xx other than 429 or 501) on a fixed schedule of 25 per second for `window` (open loop: the next request leaves on time whether or not the previous ones were answered, as load
/// from many provisioning jobs does) and requires every one answered 2xx (no 429, no error) and the last answer
/// within [`RATE_SLACK`] of the last request, so a server that falls behind and queues fails. The client's own
/// timing does not enter the verdict: on a loaded machine a late answer delays only the report, not the schedule.
pub async fn request_rate(o: &Options, ctx: &Ctx, window: Duration) -> Requirement {
    let http = Http::new(
        Target::new(o.base_url.clone(), o.credential.clone()),
        EngineOptions { rate: None, concurrency: 256, ..ctx.engine.options().clone() },
    );
    let http = match http {
        Ok(h) => h,
        Err(e) => return Requirement { name: "requestRate", met: false, detail: e, entra: None },
    };
    // the rate is measured on the engine's lookup; a server that refuses the lookup itself (a 4xx other than 429, or
    // 501: filtering not offered, which noMatchQuery reports) is measured on page reads instead, so that this
    // requirement judges the rate and not the filter a second time
    let d = http.options().dialect;
    let probe = d.user_lookup(&uuid::Uuid::new_v4().to_string());
    let probed = http.send(OpKind::UserLookup, crate::simulate::engine::ObjRef::None, &probe).await.status();
    let lookups_refused = ((400..500).contains(&probed) && probed != 429) || probed == 501;
    let n = ((REQUIRED_RATE * window.as_secs_f64()).ceil() as usize).max(2);
    let gap = Duration::from_secs_f64(1.0 / REQUIRED_RATE);
    let started = tokio::time::Instant::now();
    let statuses: Vec<u16> = futures::future::join_all((0..n).map(|i| {
        let r = if lookups_refused { d.page("Users", 1, 1) } else { d.user_lookup(&uuid::Uuid::new_v4().to_string()) };
        let http = &http;
        async move {
            tokio::time::sleep_until(started + gap * i as u32).await;
            http.send(OpKind::UserLookup, crate::simulate::engine::ObjRef::None, &r).await.status()
        }
    }))
    .await;
    let schedule = gap * (n - 1) as u32;
    let lag = started.elapsed().saturating_sub(schedule);
    let bad: Vec<u16> = statuses.iter().copied().filter(|s| !(200..300).contains(s)).collect();
    let what = if lookups_refused {
        format!(
            "page reads (GET /Users?startIndex=1&count=1: the server answers the engine's lookup {probed}, see \
             noMatchQuery)"
        )
    } else {
        "lookups".to_string()
    };
    let mut detail = format!(
        "{n} {what} sent at {REQUIRED_RATE}/s over {:.1} s; the last answer came {:.2} s after the last request",
        schedule.as_secs_f64(),
        lag.as_secs_f64()
    );
    let entra = bad
        .first()
        .and_then(|s| Failure::of(Method::GET, Addressed::of(Method::GET, "/Users", !lookups_refused), *s, true))
        .and_then(|f| explain(Idp::Entra, f));
    if !bad.is_empty() {
        detail.push_str(&format!(", {} not answered 2xx (first: {})", bad.len(), bad[0]));
    }
    let kept_up = lag <= RATE_SLACK;
    if !kept_up {
        detail.push_str(&format!(" (more than {} s: the server fell behind)", RATE_SLACK.as_secs()));
    }
    let met = bad.is_empty() && kept_up;
    Requirement { name: "requestRate", met, detail, entra }
}
