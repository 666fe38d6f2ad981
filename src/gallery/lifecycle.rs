//! The tests that go through Entra's provisioning engine (overview tests 1–14), sent with the engine's request
//! shapes from [`crate::idp`] (the same builders the simulator's Entra engine uses): lookup by the matching
//! attribute before a create, `Replace` per changed attribute, disable with `active`, manager as a bare id, groups
//! looked up with `excludedAttributes=members`, members added and removed by value list (default dialect) or
//! value filter (`aadOptscim062020`). Microsoft's template reads the provisioning log for each action; offline
//! the engine's success is the server's 2xx, and each test also reads the result back as Microsoft's does on the
//! SCIM endpoint.

use serde_json::Value;

use super::{Check, Ctx, Fail};
use crate::exchange::Method;
use crate::idp::{get_ci, Member, ScimRequest, UserAttr, UserAttrs, ENTERPRISE};
use crate::simulate::engine::{Http, OpKind};

/// On-demand provisioning's group member limit (Microsoft: "provision on demand", groups of up to 5 members).
pub const POD_GROUP_MEMBERS: usize = 5;

fn get(path: String) -> ScimRequest {
    ScimRequest { method: Method::GET, path, query: Vec::new(), body: None }
}

/// A fresh source user, every value unique to the run.
pub fn new_user(ctx: &Ctx) -> UserAttrs {
    let name = ctx.unique("user");
    UserAttrs {
        user_name: format!("{name}@testuser.com"),
        external_id: uuid::Uuid::new_v4().to_string(),
        given_name: "Gallery".into(),
        family_name: name.clone(),
        email: format!("{name}@testuser.com"),
        title: "Engineer".into(),
        department: "Provisioning".into(),
        employee_number: "1001".into(),
        phone: "+1 425 555 0100".into(),
        street: "1 Microsoft Way".into(),
        locality: "Redmond".into(),
        postal_code: "98052".into(),
        country: "US".into(),
        active: true,
        grants: None,
    }
}

/// `totalResults` of a ListResponse (or the length of `Resources`).
pub fn total(list: &Value) -> Option<u64> {
    get_ci(list, "totalResults")
        .and_then(Value::as_u64)
        .or_else(|| get_ci(list, "Resources").and_then(Value::as_array).map(|r| r.len() as u64))
}

/// How many resources a lookup found; more than one is Entra's `DuplicateTargetEntries` (more than one
/// account holds the matching attribute's value).
async fn lookup(ctx: &Ctx, http: &Http, req: &ScimRequest) -> Result<u64, Fail> {
    let a = ctx.send(http, OpKind::UserLookup, req, &[200]).await?;
    let n = a.json.as_ref().and_then(total).ok_or_else(|| Fail {
        detail: format!("GET {} answered 200 without a SCIM ListResponse", req.path),
        entra: crate::idp::errors::explain(crate::idp::Idp::Entra, crate::idp::errors::Failure::Unreadable),
    })?;
    if n > 1 {
        return Err(Fail {
            detail: format!("the lookup GET {} found {n} resources for one matching value", req.path),
            entra: crate::idp::errors::explain(crate::idp::Idp::Entra, crate::idp::errors::Failure::MultipleMatches),
        });
    }
    Ok(n)
}

/// The engine's create: lookup by userName (must find nothing), then POST. Returns the new id.
pub async fn provision_user(ctx: &Ctx, http: &Http, u: &UserAttrs) -> Result<String, Fail> {
    let d = http.options().dialect;
    let found = lookup(ctx, http, &d.user_lookup(&u.user_name)).await?;
    if found != 0 {
        return Err(Fail::new(format!(
            "the lookup for the new user {} found {found} before it was created",
            u.user_name
        )));
    }
    let a = ctx.send(http, OpKind::UserCreate, &d.user_create(u), &[200, 201]).await?;
    id_of(a.json.as_ref(), "POST /Users")
}

fn id_of(json: Option<&Value>, what: &str) -> Result<String, Fail> {
    json.and_then(|j| get_ci(j, "id")).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string).ok_or_else(
        || Fail {
            detail: format!("{what} answered without an id"),
            entra: crate::idp::errors::explain(crate::idp::Idp::Entra, crate::idp::errors::Failure::Unreadable),
        },
    )
}

/// `GET /{collection}/{id}`, 200 required.
pub async fn read(ctx: &Ctx, collection: &str, id: &str) -> Result<Value, Fail> {
    let a = ctx.send(&ctx.engine, OpKind::ReconcileRead, &get(format!("/{collection}/{id}")), &[200]).await?;
    a.json.ok_or_else(|| Fail::new(format!("GET /{collection}/{id} answered 200 without a JSON body")))
}

/// Whether a read-back value is `want`, ignoring case for strings (the attributes compared are `caseExact: false`
/// in RFC 7643 §4.1, and Entra compares them so), and reading `"True"`/`"False"` as booleans.
pub fn same(got: Option<&Value>, want: &Value) -> bool {
    match (got, want) {
        (Some(Value::String(g)), Value::String(w)) => g.eq_ignore_ascii_case(w),
        (Some(Value::String(g)), Value::Bool(w)) => g.eq_ignore_ascii_case(if *w { "true" } else { "false" }),
        (Some(g), w) => g == w,
        (None, _) => false,
    }
}

fn user_found(n: u64, user_name: &str) -> Check {
    if n == 1 {
        Ok(format!("found by userName eq \"{user_name}\""))
    } else {
        Err(Fail::not_applied(format!("GET /Users?filter=userName eq \"{user_name}\" found {n} after the create")))
    }
}

/// Test 1: lookup, create, found by `userName`.
pub async fn create_user(ctx: &Ctx) -> Check {
    let u = new_user(ctx);
    provision_user(ctx, &ctx.engine, &u).await?;
    let n = lookup(ctx, &ctx.engine, &ctx.engine.options().dialect.user_lookup(&u.user_name)).await?;
    user_found(n, &u.user_name)
}

/// Test 2: update mapped attributes (job title and department, as Microsoft's example) and read them back.
pub async fn update_user(ctx: &Ctx) -> Check {
    let d = ctx.engine.options().dialect;
    let mut u = new_user(ctx);
    let id = provision_user(ctx, &ctx.engine, &u).await?;
    u.title = "Principal Engineer".into();
    u.department = "Identity".into();
    let attrs = [UserAttr::Title, UserAttr::Department];
    ctx.send(&ctx.engine, OpKind::UserUpdate, &d.user_update(&id, &u, &attrs, None), &[200, 204]).await?;
    let back = read(ctx, "Users", &id).await?;
    for a in attrs {
        if !same(a.read(&back).as_ref(), &a.value(&u)) {
            return Err(Fail::not_applied(format!(
                "after the update {} reads back {} instead of {}",
                a.path(),
                a.read(&back).map(|v| v.to_string()).unwrap_or_else(|| "nothing".into()),
                a.value(&u)
            )));
        }
    }
    Ok("title and department updated and read back".into())
}

async fn set_active(ctx: &Ctx, id: &str, active: bool) -> Check {
    let d = ctx.engine.options().dialect;
    ctx.send(&ctx.engine, OpKind::UserDisable, &d.user_set_active(id, active, None), &[200, 204]).await?;
    let back = read(ctx, "Users", id).await?;
    if !same(get_ci(&back, "active"), &Value::Bool(active)) {
        return Err(Fail::not_applied(format!(
            "after the PATCH of active {active} the user reads back active {}",
            get_ci(&back, "active").map(|v| v.to_string()).unwrap_or_else(|| "absent".into())
        )));
    }
    Ok(format!("active {active} accepted and read back"))
}

/// Test 3: disable (`active` false in the engine's dialect) and read it back; the user stays readable.
pub async fn disable_user(ctx: &Ctx) -> Check {
    let u = new_user(ctx);
    let id = provision_user(ctx, &ctx.engine, &u).await?;
    set_active(ctx, &id, false).await
}

/// Test 4: hard delete; the user is gone (404, or a lookup finds nothing).
pub async fn delete_user(ctx: &Ctx) -> Check {
    let d = ctx.engine.options().dialect;
    let u = new_user(ctx);
    let id = provision_user(ctx, &ctx.engine, &u).await?;
    let del = d.user_delete(&id).expect("Entra deletes users");
    ctx.send(&ctx.engine, OpKind::UserDelete, &del, &[200, 204]).await?;
    let n = lookup(ctx, &ctx.engine, &d.user_lookup(&u.user_name)).await?;
    if n != 0 {
        return Err(Fail::not_applied(format!("after DELETE /Users/{{id}} a lookup still finds {}", u.user_name)));
    }
    Ok("deleted; the lookup finds nothing".into())
}

fn manager_of(user: &Value) -> Option<String> {
    let m = get_ci(user, ENTERPRISE).and_then(|e| get_ci(e, "manager"))?;
    let v = match m {
        Value::String(s) => s.clone(),
        _ => get_ci(m, "value").and_then(Value::as_str)?.to_string(),
    };
    (!v.is_empty()).then_some(v)
}

/// Sends a manager change built by `req` and reads the manager back, expecting `want`.
pub async fn manager_step(
    ctx: &Ctx,
    http: &Http,
    req: &ScimRequest,
    id: &str,
    want: Option<&str>,
    phase: &str,
) -> Check {
    ctx.send(http, OpKind::ManagerUpdate, req, &[200, 204])
        .await
        .map_err(|f| Fail { detail: format!("{phase}: {}", f.detail), ..f })?;
    let back = read(ctx, "Users", id).await?;
    let got = manager_of(&back);
    if got.as_deref() != want {
        return Err(Fail::not_applied(format!(
            "{phase}: manager reads back {} instead of {}",
            got.as_deref().unwrap_or("nothing"),
            want.unwrap_or("nothing")
        )));
    }
    Ok(String::new())
}

/// Test 5: the engine sets, changes and removes the manager (bare id; removal as the dialect removes it).
pub async fn user_update_manager(ctx: &Ctx) -> Check {
    let d = ctx.engine.options().dialect;
    let a = provision_user(ctx, &ctx.engine, &new_user(ctx)).await?;
    let b = provision_user(ctx, &ctx.engine, &new_user(ctx)).await?;
    let id = provision_user(ctx, &ctx.engine, &new_user(ctx)).await?;
    for (phase, m) in [("assign", Some(a.as_str())), ("change", Some(b.as_str())), ("remove", None)] {
        let req = d.manager_set(&id, m).expect("Entra sets managers");
        manager_step(ctx, &ctx.engine, &req, &id, m, phase).await?;
    }
    Ok("manager assigned, changed and removed".into())
}

/// Test 6: create; unassign (Entra deprovisions an unassigned user by disabling it, docs/entra.md §5); reassign
/// (the lookup finds the user and the engine enables it again). Tagged `(UnassignReassign)` as Microsoft tags it.
pub async fn restore_user(ctx: &Ctx) -> Check {
    let d = ctx.engine.options().dialect;
    let u = new_user(ctx);
    let id = provision_user(ctx, &ctx.engine, &u).await?;
    set_active(ctx, &id, false).await.map_err(|f| Fail { detail: format!("phase 2 (unassign): {}", f.detail), ..f })?;
    let n = lookup(ctx, &ctx.engine, &d.user_lookup(&u.user_name)).await?;
    if n != 1 {
        return Err(Fail::not_applied("phase 3 (reassign): the lookup no longer finds the deprovisioned user"));
    }
    set_active(ctx, &id, true).await.map_err(|f| Fail { detail: format!("phase 3 (reassign): {}", f.detail), ..f })?;
    Ok("created, deprovisioned, restored (UnassignReassign)".into())
}

/// Test 7: provision on demand of one user, in the default dialect whatever the Tenant URL says.
pub async fn pod_user(ctx: &Ctx) -> Check {
    let u = new_user(ctx);
    provision_user(ctx, &ctx.pod, &u).await?;
    let n = lookup(ctx, &ctx.pod, &ctx.pod.options().dialect.user_lookup(&u.user_name)).await?;
    user_found(n, &u.user_name).map(|_| "provisioned on demand (default dialect) and found".into())
}

/// The engine's group create: lookup by displayName (must find nothing), then POST. Returns the id.
pub async fn provision_group(ctx: &Ctx, http: &Http, name: &str) -> Result<String, Fail> {
    let d = http.options().dialect;
    let found = lookup(ctx, http, &d.group_lookup(name)).await?;
    if found != 0 {
        return Err(Fail::new(format!("the lookup for the new group {name} found {found} before it was created")));
    }
    let ext = uuid::Uuid::new_v4().to_string();
    let a = ctx.send(http, OpKind::GroupCreate, &d.group_create(name, &ext), &[200, 201]).await?;
    id_of(a.json.as_ref(), "POST /Groups")
}

async fn group_found(ctx: &Ctx, http: &Http, name: &str, want: u64) -> Check {
    let n = lookup(ctx, http, &http.options().dialect.group_lookup(name)).await?;
    if n != want {
        return Err(Fail::not_applied(format!(
            "GET /Groups?filter=displayName eq \"{name}\" found {n}, expected {want}"
        )));
    }
    Ok(format!("displayName eq \"{name}\" finds {n}"))
}

/// Test 8: group lookup, create, found by displayName.
pub async fn create_group(ctx: &Ctx) -> Check {
    let name = ctx.unique("group");
    provision_group(ctx, &ctx.engine, &name).await?;
    group_found(ctx, &ctx.engine, &name, 1).await
}

/// Test 9: rename; the new displayName is found.
pub async fn update_group(ctx: &Ctx) -> Check {
    let d = ctx.engine.options().dialect;
    let name = ctx.unique("group");
    let id = provision_group(ctx, &ctx.engine, &name).await?;
    let renamed = format!("{name}-renamed");
    ctx.send(&ctx.engine, OpKind::GroupRename, &d.group_rename(&id, &renamed, &[]), &[200, 204]).await?;
    group_found(ctx, &ctx.engine, &renamed, 1).await
}

/// Test 10: delete; the lookup finds nothing.
pub async fn delete_group(ctx: &Ctx) -> Check {
    let d = ctx.engine.options().dialect;
    let name = ctx.unique("group");
    let id = provision_group(ctx, &ctx.engine, &name).await?;
    ctx.send(&ctx.engine, OpKind::GroupDelete, &d.group_delete(&id), &[200, 204]).await?;
    group_found(ctx, &ctx.engine, &name, 0).await
}

fn member_ids(group: &Value) -> Vec<String> {
    get_ci(group, "members")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| get_ci(m, "value").and_then(Value::as_str).map(str::to_string))
        .collect()
}

async fn change_members(ctx: &Ctx, http: &Http, gid: &str, name: &str, add: &[Member], remove: &[Member]) -> Check {
    let d = http.options().dialect;
    for req in d.membership_updates(gid, name, add, remove, &[], add.len().max(remove.len()).max(1)) {
        ctx.send(http, OpKind::GroupMembers, &req, &[200, 204]).await?;
    }
    let members = member_ids(&read(ctx, "Groups", gid).await?);
    for m in add {
        if !members.contains(&m.id) {
            return Err(Fail::not_applied(format!("member {} was added but is not among the group's members", m.id)));
        }
    }
    for m in remove {
        if members.contains(&m.id) {
            return Err(Fail::not_applied(format!("member {} was removed but is still a member", m.id)));
        }
    }
    Ok(String::new())
}

fn member(id: String) -> Member {
    Member { display: id.clone(), id }
}

/// Test 11: a user added to a provisioned group reads back as a member.
pub async fn add_member(ctx: &Ctx) -> Check {
    let name = ctx.unique("group");
    let gid = provision_group(ctx, &ctx.engine, &name).await?;
    let uid = provision_user(ctx, &ctx.engine, &new_user(ctx)).await?;
    change_members(ctx, &ctx.engine, &gid, &name, &[member(uid)], &[]).await?;
    Ok("member added and read back".into())
}

/// Test 12: a member removed is no longer a member.
pub async fn remove_member(ctx: &Ctx) -> Check {
    let name = ctx.unique("group");
    let gid = provision_group(ctx, &ctx.engine, &name).await?;
    let uid = provision_user(ctx, &ctx.engine, &new_user(ctx)).await?;
    change_members(ctx, &ctx.engine, &gid, &name, &[member(uid.clone())], &[])
        .await
        .map_err(|f| Fail { detail: format!("precondition (add): {}", f.detail), ..f })?;
    change_members(ctx, &ctx.engine, &gid, &name, &[], &[member(uid)]).await?;
    Ok("member removed".into())
}

/// Test 13: provision on demand of a group with its 5 members (the on-demand limit), default dialect.
pub async fn pod_group(ctx: &Ctx) -> Check {
    let mut members = Vec::with_capacity(POD_GROUP_MEMBERS);
    for _ in 0..POD_GROUP_MEMBERS {
        members.push(member(provision_user(ctx, &ctx.pod, &new_user(ctx)).await?));
    }
    let name = ctx.unique("group");
    let gid = provision_group(ctx, &ctx.pod, &name).await?;
    change_members(ctx, &ctx.pod, &gid, &name, &members, &[]).await?;
    group_found(ctx, &ctx.pod, &name, 1).await?;
    Ok(format!("group provisioned on demand with {POD_GROUP_MEMBERS} members (default dialect)"))
}

/// Test 14: create; unassign (Entra deletes an unassigned group); reassign (created again). `(UnassignReassign)`.
pub async fn restore_group(ctx: &Ctx) -> Check {
    let d = ctx.engine.options().dialect;
    let name = ctx.unique("group");
    let id = provision_group(ctx, &ctx.engine, &name).await?;
    ctx.send(&ctx.engine, OpKind::GroupDelete, &d.group_delete(&id), &[200, 204]).await?;
    group_found(ctx, &ctx.engine, &name, 0)
        .await
        .map_err(|f| Fail { detail: format!("phase 2 (unassign): {}", f.detail), ..f })?;
    provision_group(ctx, &ctx.engine, &name)
        .await
        .map_err(|f| Fail { detail: format!("phase 3 (reassign): {}", f.detail), ..f })?;
    group_found(ctx, &ctx.engine, &name, 1).await?;
    Ok("created, deprovisioned, restored (UnassignReassign)".into())
}
