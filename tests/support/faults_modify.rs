//! Faults of modification and deletion (RFC 7644 §3.5 PUT and PATCH, §3.6 DELETE) and of `meta` (RFC 7643 §3.1),
//! the defect classes public bug reports show servers shipping: a path form not supported or misread, a remove that
//! takes too much, a PATCH that is not atomic, a PUT that merges, a delete that leaves the resource findable, meta
//! values that a write moves. Listed in `scenarios/rfc/faults.json` (see the table in `scenarios/rfc/README.md`).
//!
//! Faults that need to know a resource's earlier state keep it in statics keyed by resource id (the fault test runs
//! one scenario at a time, and ids are unique per run).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use super::faults::{keep, pass, Before, Fault, Seen};
use super::faults_azure::{for_each_resource, is_collection_get, op_name, op_path, rewrite_ops, with_ops};

/// Every modification fault.
pub static FAULTS: &[Fault] = &[
    Fault {
        name: "multivalued-add-replaces",
        description: "an add to a multi-valued attribute (path `emails`) replaces its values instead of adding one",
        before: multivalued_add_replaces,
        after: keep,
    },
    Fault {
        name: "multivalued-replace-appends",
        description:
            "a replace of a multi-valued attribute (path `emails`) appends the values instead of replacing them",
        before: multivalued_replace_appends,
        after: keep,
    },
    Fault {
        name: "subattribute-path-replaces-parent",
        description: "an add or replace of `name.givenName` replaces the whole `name` with only that sub-attribute",
        before: subattribute_path_replaces_parent,
        after: keep,
    },
    Fault {
        name: "subattribute-remove-removes-parent",
        description: "a remove of `name.middleName` removes the whole `name`",
        before: subattribute_remove_removes_parent,
        after: keep,
    },
    Fault {
        name: "value-filter-remove-removes-all",
        description:
            "a remove through a value filter (`emails[type eq \"home\"]`) removes every value of the attribute",
        before: value_filter_remove_removes_all,
        after: keep,
    },
    Fault {
        name: "pathless-remove-accepted",
        description: "a remove without a path is dropped and the PATCH answers success instead of 400 noTarget",
        before: pathless_remove_accepted,
        after: keep,
    },
    Fault {
        name: "patch-not-atomic",
        description: "the operations before a failing one are applied and kept; only the error is reported",
        before: patch_not_atomic_before,
        after: patch_not_atomic_after,
    },
    Fault {
        name: "patch-200-partial-body",
        description: "a successful PATCH answers 200 with only the attributes it changed (no id, no meta)",
        before: pass,
        after: patch_200_partial_body,
    },
    Fault {
        name: "patch-200-without-body",
        description: "a successful PATCH answers 200 with no body",
        before: pass,
        after: patch_200_without_body,
    },
    Fault {
        name: "unmatched-replace-creates-element",
        description:
            "a replace through a value filter that matches nothing creates the element instead of 400 noTarget",
        before: unmatched_replace_creates_element,
        after: keep,
    },
    Fault {
        name: "unmatched-replace-ignored",
        description: "a replace through a value filter that matches nothing answers 204 and changes nothing",
        before: pass,
        after: unmatched_replace_ignored,
    },
    Fault {
        name: "noop-add-bumps-last-modified",
        description: "every PATCH moves meta.lastModified, also one that adds a value already present",
        before: pass,
        after: noop_add_bumps_last_modified,
    },
    Fault {
        name: "readd-value-duplicated",
        description: "an add of an email the user already has stores it twice",
        before: pass,
        after: readd_value_duplicated,
    },
    Fault {
        name: "last-value-left-as-empty-element",
        description: "removing the last value of a multi-valued attribute leaves an empty element (`[{}]`)",
        before: pass,
        after: last_value_left_as_empty_element,
    },
    Fault {
        name: "put-merges-multivalued",
        description: "a PUT adds the multi-valued values it carries to the stored ones instead of replacing them",
        before: put_merges_multivalued_before,
        after: remember_emails,
    },
    Fault {
        name: "put-answers-204",
        description: "a successful PUT answers 204 with no body instead of 200 with the resource",
        before: pass,
        after: put_answers_204,
    },
    Fault {
        name: "put-readonly-honoured",
        description: "a PUT carrying meta.created stores the client's value",
        before: put_readonly_honoured_before,
        after: put_readonly_honoured_after,
    },
    Fault {
        name: "put-missing-required-accepted",
        description: "a PUT without the required userName answers 200 (keeping the stored userName)",
        before: put_missing_required_accepted,
        after: keep,
    },
    Fault {
        name: "put-creates-unknown-id",
        description: "a PUT to an id that does not exist answers 201 as if it created the resource",
        before: pass,
        after: put_creates_unknown_id,
    },
    Fault {
        name: "deleted-user-readable",
        description: "a deleted user can still be read by GET (a soft delete that still answers 200)",
        before: pass,
        after: deleted_user_readable,
    },
    Fault {
        name: "deleted-user-still-listed",
        description: "a deleted user is still found by a query on its userName",
        before: pass,
        after: deleted_user_still_listed,
    },
    Fault {
        name: "group-delete-deletes-members",
        description: "deleting a group deletes the users who were its members",
        before: pass,
        after: group_delete_deletes_members,
    },
    Fault {
        name: "write-moves-meta-created",
        description: "a PATCH or PUT stores the time of the write as meta.created",
        before: pass,
        after: write_moves_meta_created,
    },
    Fault {
        name: "last-modified-goes-back",
        description: "after a write, meta.lastModified is earlier than before it",
        before: pass,
        after: last_modified_goes_back,
    },
    Fault {
        name: "last-modified-differs-from-created",
        description: "a new resource's meta.lastModified is a second after its meta.created (two clock reads)",
        before: pass,
        after: last_modified_differs_from_created,
    },
    Fault {
        name: "meta-location-moves-on-write",
        description: "after a write, meta.location names another URI",
        before: pass,
        after: meta_location_moves_on_write,
    },
    Fault {
        name: "version-unchanged-on-write",
        description: "meta.version stays the version of the create after every write",
        before: pass,
        after: version_unchanged_on_write,
    },
    Fault {
        name: "filter-string-operators-case-sensitive",
        description: "string comparisons of a filter compare bytes on caseExact=false attributes (as on lower-case \
                      data: a literal with upper-case letters matches nothing with eq/co/sw/ew/lt/le and everything \
                      with ne/gt/ge)",
        before: filter_string_operators_case_sensitive,
        after: keep,
    },
    Fault {
        name: "patch-read-modify-write-unlocked",
        description: "a PATCH reads the resource, changes it and writes the whole of it back without a lock: two \
                      member adds in flight together each write the members they read plus their own (one is \
                      lost); a PATCH racing a PUT writes back the `name` it read before the PUT",
        before: patch_read_modify_write_unlocked,
        after: remember_resources,
    },
    Fault {
        name: "externalid-not-stored",
        description: "externalId in a create is dropped: not stored, not echoed, not found by a filter",
        before: externalid_not_stored,
        after: keep,
    },
    Fault {
        name: "externalid-filter-unsupported",
        description: "a filter on externalId is refused with 400 invalidFilter",
        before: externalid_filter_unsupported,
        after: keep,
    },
    Fault {
        name: "member-without-type-rejected",
        description: "a group member object with only `value` (no `type`) is refused with 400 invalidValue",
        before: member_without_type_rejected,
        after: keep,
    },
    Fault {
        name: "patch-not-implemented",
        description: "every PATCH answers 501 although /ServiceProviderConfig declares patch supported",
        before: patch_not_implemented,
        after: keep,
    },
];

fn externalid_not_stored(seen: &Seen) -> Before {
    match &seen.body {
        Some(Value::Object(o))
            if seen.method == Method::POST && o.keys().any(|k| k.eq_ignore_ascii_case("externalId")) =>
        {
            let mut o = o.clone();
            o.retain(|k, _| !k.eq_ignore_ascii_case("externalId"));
            Before::Rewrite(Value::Object(o))
        }
        _ => Before::Pass,
    }
}

fn externalid_filter_unsupported(seen: &Seen) -> Before {
    match seen.param("filter") {
        Some(f) if is_collection_get(seen) && f.to_ascii_lowercase().contains("externalid") => {
            super::faults_azure::error(StatusCode::BAD_REQUEST, Some("invalidFilter"), "externalId cannot be filtered")
        }
        _ => Before::Pass,
    }
}

fn member_without_type_rejected(seen: &Seen) -> Before {
    if !seen.path.starts_with("/Groups") || !matches!(seen.method, Method::POST | Method::PUT | Method::PATCH) {
        return Before::Pass;
    }
    let untyped = |m: &Value| m.is_object() && m.get("type").is_none();
    let in_body = seen
        .body
        .as_ref()
        .and_then(|b| b.get("members"))
        .and_then(Value::as_array)
        .is_some_and(|l| l.iter().any(untyped));
    let in_ops = seen.operations().iter().any(|op| {
        op_path(op).is_some_and(|p| p.eq_ignore_ascii_case("members"))
            && op.get("value").and_then(Value::as_array).is_some_and(|l| l.iter().any(untyped))
    });
    if in_body || in_ops {
        return super::faults_azure::error(StatusCode::BAD_REQUEST, Some("invalidValue"), "member type is required");
    }
    Before::Pass
}

fn patch_not_implemented(seen: &Seen) -> Before {
    if seen.method == Method::PATCH {
        return super::faults_azure::error(StatusCode::NOT_IMPLEMENTED, None, "PATCH is not implemented");
    }
    Before::Pass
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn is_user_or_group(seen: &Seen) -> bool {
    seen.path.starts_with("/Users/") || seen.path.starts_with("/Groups/")
}

/// A single-valued complex attribute's sub-attribute path (`name.givenName`): no filter, no URN.
fn sub_attribute_path(op: &Value) -> Option<(String, String)> {
    let p = op_path(op)?;
    if p.contains('[') || p.contains(':') {
        return None;
    }
    let (attr, sub) = p.split_once('.')?;
    Some((attr.to_string(), sub.to_string()))
}

/// A plain attribute path (no filter, no sub-attribute, no URN).
fn plain_path(op: &Value) -> Option<&str> {
    op_path(op).filter(|p| !p.contains(['[', '.', ':']))
}

fn multivalued_add_replaces(seen: &Seen) -> Before {
    rewrite_ops(seen, |op| {
        let array = op.get("value").is_some_and(Value::is_array);
        Some(match (op_name(op).as_str(), plain_path(op)) {
            ("add", Some(p)) if array => json!({"op": "replace", "path": p, "value": op["value"]}),
            _ => op.clone(),
        })
    })
}

fn multivalued_replace_appends(seen: &Seen) -> Before {
    rewrite_ops(seen, |op| {
        let array = op.get("value").is_some_and(Value::is_array);
        Some(match (op_name(op).as_str(), plain_path(op)) {
            ("replace", Some(p)) if array => json!({"op": "add", "path": p, "value": op["value"]}),
            _ => op.clone(),
        })
    })
}

fn subattribute_path_replaces_parent(seen: &Seen) -> Before {
    if seen.method != Method::PATCH {
        return Before::Pass;
    }
    let ops = seen.operations();
    let mut changed = false;
    let mut out = Vec::new();
    for op in &ops {
        match (op_name(op).as_str(), sub_attribute_path(op)) {
            ("add" | "replace", Some((attr, sub))) => {
                // the parent goes, then comes back holding only the named sub-attribute
                let value = op.get("value").cloned().unwrap_or(Value::Null);
                out.push(json!({"op": "remove", "path": attr}));
                out.push(json!({"op": "add", "path": attr, "value": {sub: value}}));
                changed = true;
            }
            _ => out.push(op.clone()),
        }
    }
    if changed {
        with_ops(seen, out)
    } else {
        Before::Pass
    }
}

fn subattribute_remove_removes_parent(seen: &Seen) -> Before {
    rewrite_ops(seen, |op| {
        Some(match (op_name(op).as_str(), sub_attribute_path(op)) {
            ("remove", Some((attr, _))) => json!({"op": "remove", "path": attr}),
            _ => op.clone(),
        })
    })
}

fn value_filter_remove_removes_all(seen: &Seen) -> Before {
    rewrite_ops(seen, |op| {
        let path = op_path(op).unwrap_or_default();
        Some(match (op_name(op).as_str(), path.split_once('[')) {
            ("remove", Some((attr, _))) if !attr.contains(':') => json!({"op": "remove", "path": attr}),
            _ => op.clone(),
        })
    })
}

fn pathless_remove_accepted(seen: &Seen) -> Before {
    rewrite_ops(seen, |op| (!(op_name(op) == "remove" && op_path(op).is_none())).then(|| op.clone()))
}

/// The operation a strict server refuses: a remove without a path (RFC 7644 §3.5.2.2) or a change of `id`.
fn fails(op: &Value) -> bool {
    (op_name(op) == "remove" && op_path(op).is_none()) || op_path(op).is_some_and(|p| p.eq_ignore_ascii_case("id"))
}

fn patch_not_atomic_before(seen: &Seen) -> Before {
    if seen.method != Method::PATCH {
        return Before::Pass;
    }
    let ops = seen.operations();
    match ops.iter().position(fails) {
        Some(i) if i > 0 => with_ops(seen, ops[..i].to_vec()),
        _ => Before::Pass,
    }
}

fn patch_not_atomic_after(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if seen.method == Method::PATCH && seen.operations().iter().position(fails).is_some_and(|i| i > 0) {
        *status = StatusCode::BAD_REQUEST;
        *body = Some(super::faults_azure::scim_error(400, Some("noTarget"), "operation failed"));
    }
}

fn patch_200_partial_body(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if seen.method != Method::PATCH || *status != StatusCode::OK {
        return;
    }
    let mut changed = serde_json::Map::new();
    for op in seen.operations() {
        if let (Some(p), Some(v)) = (op_path(&op), op.get("value")) {
            changed.insert(p.to_string(), v.clone());
        }
    }
    changed.insert("schemas".into(), json!(["urn:ietf:params:scim:schemas:core:2.0:User"]));
    *body = Some(Value::Object(changed));
}

fn patch_200_without_body(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if seen.method == Method::PATCH && *status == StatusCode::OK {
        *body = None;
    }
}

fn unmatched_replace_creates_element(seen: &Seen) -> Before {
    rewrite_ops(seen, |op| {
        let filtered = op_path(op).is_some_and(|p| p.contains('['));
        Some(if op_name(op) == "replace" && filtered {
            json!({"op": "add", "path": op_path(op), "value": op["value"]})
        } else {
            op.clone()
        })
    })
}

fn unmatched_replace_ignored(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    let no_target = body.as_ref().and_then(|b| b.get("scimType")).and_then(Value::as_str) == Some("noTarget");
    if seen.method == Method::PATCH && *status == StatusCode::BAD_REQUEST && no_target {
        *status = StatusCode::NO_CONTENT;
        *body = None;
    }
}

/// Resource ids that a fault has seen written (PATCH or PUT answered with success).
static WRITTEN: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// Records a successful write; returns whether the resource of this request has been written.
fn note_write(seen: &Seen, status: StatusCode) -> bool {
    let Some(id) = seen.resource_id().filter(|_| is_user_or_group(seen)) else { return false };
    let mut written = lock(&WRITTEN);
    if matches!(seen.method, Method::PATCH | Method::PUT) && status.is_success() {
        written.insert(id.to_string());
    }
    written.contains(id)
}

fn set_meta(body: &mut Option<Value>, key: &str, value: Value) {
    for_each_resource(body, |r| {
        if let Some(meta) = r.get_mut("meta").and_then(Value::as_object_mut) {
            meta.insert(key.to_string(), value.clone());
        }
    });
}

fn noop_add_bumps_last_modified(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if note_write(seen, *status) {
        set_meta(body, "lastModified", json!("2099-01-01T00:00:00Z"));
    }
}

/// User id → the emails its last response showed.
static EMAILS: Mutex<BTreeMap<String, Vec<Value>>> = Mutex::new(BTreeMap::new());
/// Users whose emails a re-add duplicated.
static DUPLICATED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

fn remember_emails(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if !status.is_success() || !seen.path.starts_with("/Users") {
        return;
    }
    for_each_resource(body, |r| {
        if let Some(id) = r.get("id").and_then(Value::as_str) {
            let emails = r.get("emails").and_then(Value::as_array).cloned().unwrap_or_default();
            lock(&EMAILS).insert(id.to_string(), emails);
        }
    });
}

fn readd_value_duplicated(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    let id = seen.resource_id().unwrap_or_default().to_string();
    if seen.is(Method::PATCH, "/Users/") && status.is_success() {
        let known = lock(&EMAILS).get(&id).cloned().unwrap_or_default();
        let readds = seen.operations().iter().any(|op| {
            op_name(op) == "add"
                && op_path(op) == Some("emails")
                && op["value"]
                    .as_array()
                    .is_some_and(|v| v.iter().any(|e| known.iter().any(|k| k["value"] == e["value"])))
        });
        if readds {
            lock(&DUPLICATED).insert(id.clone());
        }
    }
    remember_emails(seen, status, body);
    if seen.path.starts_with("/Users/") && lock(&DUPLICATED).contains(&id) {
        for_each_resource(body, |r| {
            if let Some(list) = r.get_mut("emails").and_then(Value::as_array_mut) {
                if let Some(first) = list.first().cloned() {
                    list.push(first);
                }
            }
        });
    }
}

fn last_value_left_as_empty_element(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if !note_write(seen, *status) {
        return;
    }
    for_each_resource(body, |r| {
        let attr = if r.get("members").is_some() || r.get("displayName").is_some() && r.get("userName").is_none() {
            "members"
        } else {
            "emails"
        };
        if let Some(o) = r.as_object_mut() {
            let empty = o.get(attr).is_none_or(|v| v.as_array().is_some_and(Vec::is_empty));
            if empty {
                o.insert(attr.into(), json!([{}]));
            }
        }
    });
}

fn put_merges_multivalued_before(seen: &Seen) -> Before {
    if !seen.is(Method::PUT, "/Users/") {
        return Before::Pass;
    }
    let known = lock(&EMAILS).get(seen.resource_id().unwrap_or_default()).cloned().unwrap_or_default();
    let mut body = seen.body.clone().unwrap_or_else(|| json!({}));
    let Some(sent) = body.get_mut("emails").and_then(Value::as_array_mut) else { return Before::Pass };
    for k in known {
        if !sent.iter().any(|e| e["value"] == k["value"]) {
            sent.push(k);
        }
    }
    Before::Rewrite(body)
}

fn put_answers_204(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if seen.method == Method::PUT && *status == StatusCode::OK {
        *status = StatusCode::NO_CONTENT;
        *body = None;
    }
}

/// Resource id → the meta.created a PUT carried.
static PUT_CREATED: Mutex<BTreeMap<String, Value>> = Mutex::new(BTreeMap::new());

fn put_readonly_honoured_before(seen: &Seen) -> Before {
    if seen.method == Method::PUT {
        if let (Some(id), Some(c)) = (seen.resource_id(), seen.body.as_ref().and_then(|b| b.pointer("/meta/created"))) {
            lock(&PUT_CREATED).insert(id.to_string(), c.clone());
        }
    }
    Before::Pass
}

fn put_readonly_honoured_after(seen: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    let Some(created) = seen.resource_id().and_then(|id| lock(&PUT_CREATED).get(id).cloned()) else { return };
    set_meta(body, "created", created);
}

fn put_missing_required_accepted(seen: &Seen) -> Before {
    if !seen.is(Method::PUT, "/Users/") {
        return Before::Pass;
    }
    match &seen.body {
        Some(Value::Object(o)) if !o.keys().any(|k| k.eq_ignore_ascii_case("userName")) => {
            let mut echo = o.clone();
            echo.insert("id".into(), json!(seen.resource_id()));
            Before::Respond(StatusCode::OK, Some(Value::Object(echo)))
        }
        _ => Before::Pass,
    }
}

fn put_creates_unknown_id(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if seen.method == Method::PUT && *status == StatusCode::NOT_FOUND {
        let mut echo = seen.body.clone().unwrap_or_else(|| json!({}));
        echo["id"] = json!(seen.resource_id());
        *status = StatusCode::CREATED;
        *body = Some(echo);
    }
}

/// User id → its last representation, and the ids deleted.
static USERS: Mutex<BTreeMap<String, Value>> = Mutex::new(BTreeMap::new());
static DELETED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

fn remember_users_and_deletes(seen: &Seen, status: StatusCode, body: &Option<Value>) {
    if seen.is(Method::DELETE, "/Users/") && status.is_success() {
        lock(&DELETED).insert(seen.resource_id().unwrap_or_default().to_string());
        return;
    }
    let mut copy = body.clone();
    if seen.path.starts_with("/Users") && status.is_success() {
        for_each_resource(&mut copy, |r| {
            if let Some(id) = r.get("id").and_then(Value::as_str) {
                lock(&USERS).insert(id.to_string(), r.clone());
            }
        });
    }
}

fn deleted_user_readable(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    remember_users_and_deletes(seen, *status, body);
    let Some(id) = seen.resource_id() else { return };
    if seen.is(Method::GET, "/Users/") && *status == StatusCode::NOT_FOUND && lock(&DELETED).contains(id) {
        if let Some(user) = lock(&USERS).get(id).cloned() {
            *status = StatusCode::OK;
            *body = Some(user);
        }
    }
}

fn deleted_user_still_listed(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    remember_users_and_deletes(seen, *status, body);
    if !is_collection_get(seen) || !seen.path.starts_with("/Users") {
        return;
    }
    let Some(filter) = seen.param("filter") else { return };
    let deleted = lock(&DELETED).clone();
    let users = lock(&USERS).clone();
    for id in deleted {
        let Some(user) = users.get(&id) else { continue };
        let Some(name) = user.get("userName").and_then(Value::as_str) else { continue };
        if !filter.contains(&format!("\"{name}\"")) {
            continue;
        }
        let Some(b) = body.as_mut() else { continue };
        let total = b.get("totalResults").and_then(Value::as_u64).unwrap_or(0);
        b["totalResults"] = json!(total + 1);
        match b.get_mut("Resources").and_then(Value::as_array_mut) {
            Some(list) => list.push(user.clone()),
            None => b["Resources"] = json!([user]),
        }
    }
}

/// Group id → its member ids, as last seen.
static GROUP_MEMBERS: Mutex<BTreeMap<String, Vec<String>>> = Mutex::new(BTreeMap::new());

fn group_delete_deletes_members(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if seen.path.starts_with("/Groups") && status.is_success() {
        let mut copy = body.clone();
        for_each_resource(&mut copy, |g| {
            let members: Vec<String> = g["members"]
                .as_array()
                .map(|m| m.iter().filter_map(|m| m["value"].as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            if let Some(id) = g.get("id").and_then(Value::as_str) {
                lock(&GROUP_MEMBERS).insert(id.to_string(), members);
            }
        });
    }
    if seen.is(Method::DELETE, "/Groups/") && status.is_success() {
        let members = lock(&GROUP_MEMBERS).get(seen.resource_id().unwrap_or_default()).cloned().unwrap_or_default();
        lock(&DELETED).extend(members);
    }
    if seen.is(Method::GET, "/Users/") && lock(&DELETED).contains(seen.resource_id().unwrap_or_default()) {
        *status = StatusCode::NOT_FOUND;
        *body = Some(super::faults_azure::scim_error(404, None, "User not found"));
    }
}

fn write_moves_meta_created(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if note_write(seen, *status) {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
        set_meta(body, "created", json!(now));
    }
}

fn last_modified_goes_back(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if note_write(seen, *status) {
        set_meta(body, "lastModified", json!("2000-01-01T00:00:00Z"));
    }
}

fn last_modified_differs_from_created(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if note_write(seen, *status) || !seen.path.starts_with("/Users") {
        return;
    }
    for_each_resource(body, |r| {
        let created = r
            .pointer("/meta/created")
            .and_then(Value::as_str)
            .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok().map(|t| t + chrono::Duration::seconds(1)));
        if let (Some(t), Some(meta)) = (created, r.get_mut("meta").and_then(Value::as_object_mut)) {
            meta.insert("lastModified".into(), json!(t.to_rfc3339()));
        }
    });
}

fn meta_location_moves_on_write(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if note_write(seen, *status) {
        for_each_resource(body, |r| {
            if let Some(loc) = r.pointer_mut("/meta/location") {
                if let Some(s) = loc.as_str() {
                    *loc = json!(s.replace("/Users/", "/Users/v2/"));
                }
            }
        });
    }
}

/// Resource id → the first meta.version seen.
static FIRST_VERSION: Mutex<BTreeMap<String, Value>> = Mutex::new(BTreeMap::new());

fn version_unchanged_on_write(_: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    for_each_resource(body, |r| {
        let Some(id) = r.get("id").and_then(Value::as_str).map(str::to_string) else { return };
        let Some(v) = r.pointer("/meta/version").cloned() else { return };
        let first = lock(&FIRST_VERSION).entry(id).or_insert(v).clone();
        if let Some(meta) = r.get_mut("meta").and_then(Value::as_object_mut) {
            meta.insert("version".into(), first);
        }
    });
}

fn filter_string_operators_case_sensitive(seen: &Seen) -> Before {
    let Some(filter) = seen.param("filter").filter(|_| is_collection_get(seen)) else { return Before::Pass };
    let re = regex::Regex::new(
        r#"(?i)\b(userName|displayName|emails(?:\.value)?)\s+(eq|ne|co|sw|ew|gt|ge|lt|le)\s+"([^"]*)""#,
    )
    .expect("valid regex");
    let rewritten = re.replace_all(&filter, |c: &regex::Captures| {
        if !c[3].chars().any(|ch| ch.is_ascii_uppercase()) {
            return c[0].to_string();
        }
        match c[2].to_ascii_lowercase().as_str() {
            "ne" | "gt" | "ge" => format!("{} pr", &c[1]),
            _ => format!("not ({} pr)", &c[1]),
        }
    });
    if rewritten == filter {
        return Before::Pass;
    }
    Before::Query(seen.query_with(&[("filter", Some(rewritten.into_owned()))]))
}

/// Resource id → its last representation in a response (users and groups).
static SEEN: Mutex<BTreeMap<String, Value>> = Mutex::new(BTreeMap::new());

fn remember_resources(_: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if !status.is_success() {
        return;
    }
    let mut copy = body.clone();
    for_each_resource(&mut copy, |r| {
        if let Some(id) = r.get("id").and_then(Value::as_str) {
            lock(&SEEN).insert(id.to_string(), r.clone());
        }
    });
}

/// The read-modify-write of a server without a lock, made deterministic by the fault layer's rendezvous
/// ([`Before::Together`]): the request is rewritten from the state read before its partner's write lands.
fn patch_read_modify_write_unlocked(seen: &Seen) -> Before {
    let id = seen.resource_id().unwrap_or_default().to_string();
    if seen.is(Method::PUT, "/Users/") {
        return Before::Together { key: id, body: None, last: false };
    }
    if seen.method != Method::PATCH {
        return Before::Pass;
    }
    let Some(read) = lock(&SEEN).get(&id).cloned() else { return Before::Pass };
    let ops = seen.operations();
    if seen.path.starts_with("/Groups/") {
        let mut members: Vec<Value> = read.get("members").and_then(Value::as_array).cloned().unwrap_or_default();
        let mut adds = false;
        for op in &ops {
            if op_name(op) == "add" && op_path(op).is_some_and(|p| p.eq_ignore_ascii_case("members")) {
                members.extend(op.get("value").and_then(Value::as_array).cloned().unwrap_or_default());
                adds = true;
            }
        }
        if !adds {
            return Before::Pass;
        }
        let members: Vec<Value> = members.iter().map(|m| json!({"value": m["value"]})).collect();
        let body = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "members", "value": members}]
        });
        return Before::Together { key: id, body: Some(body), last: false };
    }
    // a user: the stale `name` goes back with the PATCH's own changes, after the racing PUT
    let Some(name) = read.get("name").cloned() else { return Before::Pass };
    let mut written = vec![json!({"op": "replace", "value": {"name": name}})];
    written.extend(ops);
    let mut body = seen.body.clone().unwrap_or_else(|| json!({}));
    body["Operations"] = Value::Array(written);
    Before::Together { key: id, body: Some(body), last: true }
}
