//! Faults the Okta scenario library exists to catch (see `scenarios/okta/faults.json` and the table in
//! `scenarios/okta/README.md`). Each one is a single, minimal misbehaviour that real SCIM servers have shown
//! against Okta (`docs/okta.md` §3 and §4) or that breaks an Okta flow outright.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use super::faults::{keep, pass, plain_text, Before, Fault, Seen};

const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const PORTAL_URN: &str = "urn:scimcheck:params:scim:schemas:extension:portal:2.0:User";

/// Every Okta fault.
pub static FAULTS: &[Fault] = &[
    // --- PATCH dialect -------------------------------------------------------------------------------------
    Fault {
        name: "ignore-pathless-patch",
        description: "PATCH operations without a `path` (Okta's deactivation and group rename) are silently ignored",
        before: ignore_pathless_patch,
        after: keep,
    },
    Fault {
        name: "patch-value-with-id-rejected",
        description: "a PATCH whose value carries `id` (Okta's group rename) answers 400 mutability",
        before: patch_value_with_id_rejected,
        after: keep,
    },
    Fault {
        name: "member-filter-remove-ignored",
        description: "`remove` operations with a `members[value eq \"…\"]` path are silently ignored",
        before: member_filter_remove_ignored,
        after: keep,
    },
    Fault {
        name: "members-replace-appends",
        description: "`replace` on `members` adds the given members instead of replacing the membership",
        before: members_replace_appends,
        after: keep,
    },
    Fault {
        name: "members-add-replaces",
        description: "`add` on `members` replaces the membership with the given members instead of adding them",
        before: members_add_replaces,
        after: keep,
    },
    Fault {
        name: "member-filter-remove-removes-all",
        description: "`remove` with a `members[value eq \"…\"]` path removes every member, not just the matched one",
        before: member_filter_remove_removes_all,
        after: keep,
    },
    Fault {
        name: "member-readd-conflicts",
        description: "adding a member who is already in the group answers 409 instead of a success",
        before: member_readd_conflicts,
        after: remember_members,
    },
    Fault {
        name: "group-rename-ignored",
        description: "PATCH /Groups ignores changes to `displayName` (path-less or with a path)",
        before: group_rename_ignored,
        after: keep,
    },
    // --- groups ------------------------------------------------------------------------------------------
    Fault {
        name: "group-create-drops-members",
        description: "POST /Groups ignores the `members` it is sent (the group is created empty)",
        before: group_create_drops_members,
        after: keep,
    },
    Fault {
        name: "group-delete-ignored",
        description: "DELETE /Groups/{id} answers 204 but keeps the group",
        before: group_delete_ignored,
        after: keep,
    },
    Fault {
        name: "group-put-ignores-members",
        description: "PUT /Groups/{id} drops the `members` of the request (Okta AIW group push has no effect)",
        before: group_put_ignores_members,
        after: keep,
    },
    // --- deactivation ------------------------------------------------------------------------------------
    Fault {
        name: "deactivated-user-404",
        description: "GET /Users/{id} of a deactivated user answers 404 (the CRUD suite needs 200 with active false)",
        before: pass,
        after: deactivated_user_404,
    },
    Fault {
        name: "deactivated-users-hidden-from-lists",
        description: "lists and filters omit users with active false (Okta's lookup no longer finds them)",
        before: pass,
        after: deactivated_users_hidden_from_lists,
    },
    Fault {
        name: "repeat-deactivation-fails",
        description: "deactivating a user that is already inactive answers 400",
        before: repeat_deactivation_fails,
        after: remember_active_state,
    },
    Fault {
        name: "deactivation-keeps-portal-access",
        description: "the portal extension reports accessStatus active for deactivated users (access not revoked)",
        before: pass,
        after: deactivation_keeps_portal_access,
    },
    // --- filters and lookups -----------------------------------------------------------------------------
    Fault {
        name: "username-filter-case-sensitive",
        description: "`userName eq` filters match case-sensitively (RFC 7643: userName is caseExact false)",
        before: pass,
        after: username_filter_case_sensitive,
    },
    Fault {
        name: "filter-plus-not-decoded",
        description: "`+` in a query is not decoded as a space, so Okta's 2019-style lookups answer 400 invalidFilter",
        before: filter_plus_not_decoded,
        after: keep,
    },
    Fault {
        name: "filter-ignored",
        description: "the `filter` parameter is ignored: lookups answer every resource",
        before: filter_ignored,
        after: keep,
    },
    Fault {
        name: "no-match-filter-answers-404",
        description: "a filter that matches nothing answers 404 instead of 200 with totalResults 0",
        before: pass,
        after: no_match_filter_answers_404,
    },
    // --- create ------------------------------------------------------------------------------------------
    Fault {
        name: "duplicate-create-answers-201",
        description: "a POST that conflicts with an existing resource answers 201 (a duplicate) instead of 409",
        before: pass,
        after: duplicate_create_answers_201,
    },
    Fault {
        name: "create-answers-empty-body",
        description: "POST /Users answers 201 without a body (Okta: \"Create new user returned empty user\")",
        before: pass,
        after: create_answers_empty_body,
    },
    Fault {
        name: "repost-after-delete-409",
        description: "a POST /Users for a user deleted earlier answers 409 instead of restoring it",
        before: pass,
        after: repost_after_delete_409,
    },
    // --- PUT ---------------------------------------------------------------------------------------------
    Fault {
        name: "put-rejects-read-only-fields",
        description: "a PUT that echoes read-only attributes (`id`, `meta`, `groups`) answers 400 mutability",
        before: put_rejects_read_only_fields,
        after: keep,
    },
    Fault {
        name: "put-not-persisted",
        description: "PUT /Users/{id} answers 200 echoing the request but stores nothing",
        before: put_not_persisted,
        after: keep,
    },
    Fault {
        name: "put-ignores-active",
        description: "PUT /Users/{id} ignores `active` and leaves the user active (AIW deactivation has no effect)",
        before: put_ignores_active,
        after: keep,
    },
    // --- errors and authentication -----------------------------------------------------------------------
    Fault {
        name: "error-body-plain-text",
        description: "error responses carry a text/plain body instead of a SCIM Error (Okta: \"Unrecognized token\")",
        before: pass,
        after: error_body_plain_text,
    },
    Fault {
        name: "error-status-as-integer",
        description: "SCIM Error bodies carry `status` as a JSON number instead of a string",
        before: pass,
        after: error_status_as_integer,
    },
    Fault {
        name: "unauthorized-without-scim-body",
        description: "401 answers have no body (only WWW-Authenticate), not a SCIM Error",
        before: pass,
        after: unauthorized_without_scim_body,
    },
    Fault {
        name: "invalid-token-accepted",
        description: "an invalid token is accepted: GET requests answer 200 with an empty list instead of 401",
        before: pass,
        after: invalid_token_accepted,
    },
    // --- paging ------------------------------------------------------------------------------------------
    Fault {
        name: "paging-fields-as-strings",
        description: "ListResponse totalResults, startIndex and itemsPerPage are JSON strings",
        before: pass,
        after: paging_fields_as_strings,
    },
    Fault {
        name: "count-ignored",
        description: "the `count` parameter is ignored: every list answers all resources",
        before: count_ignored,
        after: keep,
    },
    Fault {
        name: "group-list-without-resources",
        description: "a group list that counts groups (totalResults >= 1) has no Resources array",
        before: pass,
        after: group_list_without_resources,
    },
    Fault {
        name: "unstable-paging-order",
        description: "pages after the first come from the reverse of the first page's order (skips and repeats)",
        before: unstable_paging_order,
        after: reversed_later_pages,
    },
    Fault {
        name: "zero-based-start-index",
        description: "startIndex is treated as a 0-based offset (the first resource is never listed)",
        before: zero_based_start_index,
        after: echo_requested_start_index,
    },
    Fault {
        name: "page-size-capped-at-50",
        description: "pages hold at most 50 resources whatever `count` asks (Okta pages by 100 and skips the rest)",
        before: page_size_capped_at_50,
        after: keep,
    },
    Fault {
        name: "total-results-is-page-length",
        description: "totalResults is the number of resources on the page, not the number of matches",
        before: pass,
        after: total_results_is_page_length,
    },
];

// ---- helpers ----------------------------------------------------------------------------------------------

fn error(status: StatusCode, scim_type: Option<&str>, detail: &str) -> Value {
    let mut e = json!({"schemas": [ERROR_URN], "status": status.as_u16().to_string(), "detail": detail});
    if let Some(t) = scim_type {
        e["scimType"] = Value::String(t.into());
    }
    e
}

fn is_list(seen: &Seen) -> bool {
    seen.method == Method::GET && (seen.path == "/Users" || seen.path == "/Groups")
}

fn is_list_response(body: &Option<Value>) -> bool {
    body.as_ref().and_then(|b| b.get("Resources")).is_some_and(Value::is_array)
}

fn op_name(op: &Value) -> String {
    op.get("op").and_then(Value::as_str).unwrap_or("").to_ascii_lowercase()
}

fn op_path(op: &Value) -> Option<&str> {
    op.get("path").and_then(Value::as_str)
}

/// Sends the PATCH with only the operations `keep` accepts; with none left, a no-op so the answer still looks
/// like success.
fn patch_keeping(seen: &Seen, keep: impl Fn(&Value) -> bool) -> Before {
    let ops = seen.operations();
    if ops.iter().all(&keep) {
        return Before::Pass;
    }
    let kept: Vec<Value> = ops.into_iter().filter(keep).collect();
    if kept.is_empty() {
        let attr = if seen.path.starts_with("/Groups") { "members" } else { "emails" };
        return Before::Rewrite(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "add", "path": attr, "value": []}]
        }));
    }
    let mut body = seen.body.clone().unwrap_or(Value::Null);
    body["Operations"] = Value::Array(kept);
    Before::Rewrite(body)
}

/// Removes list entries `drop` selects and fixes the counts.
fn drop_resources(body: &mut Option<Value>, drop: impl Fn(&Value) -> bool) {
    let Some(b) = body.as_mut() else { return };
    let Some(Value::Array(items)) = b.get_mut("Resources") else { return };
    let before = items.len();
    items.retain(|r| !drop(r));
    let removed = before - items.len();
    let len = items.len();
    if removed == 0 {
        return;
    }
    if let Some(t) = b.get("totalResults").and_then(Value::as_u64) {
        b["totalResults"] = json!(t.saturating_sub(removed as u64));
    }
    b["itemsPerPage"] = json!(len);
}

// ---- PATCH dialect ----------------------------------------------------------------------------------------

fn ignore_pathless_patch(seen: &Seen) -> Before {
    if seen.method != Method::PATCH {
        return Before::Pass;
    }
    patch_keeping(seen, |op| op.get("path").is_some())
}

fn patch_value_with_id_rejected(seen: &Seen) -> Before {
    if seen.method != Method::PATCH {
        return Before::Pass;
    }
    if seen.operations().iter().any(|op| op.get("value").and_then(|v| v.get("id")).is_some()) {
        return Before::Respond(
            StatusCode::BAD_REQUEST,
            Some(error(StatusCode::BAD_REQUEST, Some("mutability"), "Attribute 'id' is readOnly")),
        );
    }
    Before::Pass
}

fn member_filter_remove_ignored(seen: &Seen) -> Before {
    if seen.method != Method::PATCH {
        return Before::Pass;
    }
    patch_keeping(seen, |op| !(op_name(op) == "remove" && op_path(op).is_some_and(|p| p.starts_with("members["))))
}

fn members_replace_appends(seen: &Seen) -> Before {
    if seen.method != Method::PATCH {
        return Before::Pass;
    }
    let ops = seen.operations();
    let is_replace_members = |op: &Value| op_name(op) == "replace" && op_path(op) == Some("members");
    if !ops.iter().any(is_replace_members) {
        return Before::Pass;
    }
    let ops: Vec<Value> = ops
        .into_iter()
        .map(|mut op| {
            if is_replace_members(&op) {
                op["op"] = json!("add");
            }
            op
        })
        .collect();
    let mut body = seen.body.clone().unwrap_or(Value::Null);
    body["Operations"] = Value::Array(ops);
    Before::Rewrite(body)
}

fn group_rename_ignored(seen: &Seen) -> Before {
    if !seen.is(Method::PATCH, "/Groups/") {
        return Before::Pass;
    }
    let ops = seen.operations();
    let renames = |op: &Value| {
        op_path(op).is_some_and(|p| p.eq_ignore_ascii_case("displayName"))
            || (op.get("path").is_none() && op.get("value").and_then(|v| v.get("displayName")).is_some())
    };
    if !ops.iter().any(renames) {
        return Before::Pass;
    }
    let mut kept = Vec::new();
    for mut op in ops {
        if op_path(&op).is_some_and(|p| p.eq_ignore_ascii_case("displayName")) {
            continue;
        }
        if op.get("path").is_none() {
            if let Some(v) = op.get_mut("value").and_then(Value::as_object_mut) {
                v.remove("displayName");
                v.remove("id");
                if v.is_empty() {
                    continue;
                }
            }
        }
        kept.push(op);
    }
    let mut body = seen.body.clone().unwrap_or(Value::Null);
    body["Operations"] = Value::Array(kept.clone());
    if kept.is_empty() {
        body["Operations"] = json!([{"op": "add", "path": "members", "value": []}]);
    }
    Before::Rewrite(body)
}

// ---- groups -----------------------------------------------------------------------------------------------

fn group_create_drops_members(seen: &Seen) -> Before {
    if !seen.is(Method::POST, "/Groups") {
        return Before::Pass;
    }
    match &seen.body {
        Some(b) if b.get("members").and_then(Value::as_array).is_some_and(|m| !m.is_empty()) => {
            let mut b = b.clone();
            b["members"] = json!([]);
            Before::Rewrite(b)
        }
        _ => Before::Pass,
    }
}

fn group_delete_ignored(seen: &Seen) -> Before {
    if seen.is(Method::DELETE, "/Groups/") {
        return Before::Respond(StatusCode::NO_CONTENT, None);
    }
    Before::Pass
}

fn group_put_ignores_members(seen: &Seen) -> Before {
    if !seen.is(Method::PUT, "/Groups/") {
        return Before::Pass;
    }
    match &seen.body {
        Some(Value::Object(o)) if o.contains_key("members") => {
            let mut o = o.clone();
            o.remove("members");
            Before::Rewrite(Value::Object(o))
        }
        _ => Before::Pass,
    }
}

// ---- deactivation -----------------------------------------------------------------------------------------

fn deactivated_user_404(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if seen.method != Method::GET || !seen.path.starts_with("/Users/") || *status != StatusCode::OK {
        return;
    }
    if body.as_ref().and_then(|b| b.get("active")) == Some(&json!(false)) {
        *status = StatusCode::NOT_FOUND;
        *body = Some(error(StatusCode::NOT_FOUND, None, "User not found"));
    }
}

fn deactivated_users_hidden_from_lists(seen: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    if seen.is(Method::GET, "/Users") && seen.path == "/Users" {
        drop_resources(body, |r| r.get("active") == Some(&json!(false)));
    }
}

/// Last `active` value seen in a response, by user id.
static ACTIVE: Mutex<BTreeMap<String, bool>> = Mutex::new(BTreeMap::new());

fn deactivates(seen: &Seen) -> bool {
    seen.operations().iter().any(|op| match op_path(op) {
        Some(p) => p.eq_ignore_ascii_case("active") && op.get("value") == Some(&json!(false)),
        None => op.get("value").and_then(|v| v.get("active")) == Some(&json!(false)),
    })
}

fn repeat_deactivation_fails(seen: &Seen) -> Before {
    if !seen.is(Method::PATCH, "/Users/") || !deactivates(seen) {
        return Before::Pass;
    }
    let id = seen.resource_id().unwrap_or_default().to_string();
    if ACTIVE.lock().unwrap().get(&id) == Some(&false) {
        return Before::Respond(
            StatusCode::BAD_REQUEST,
            Some(error(StatusCode::BAD_REQUEST, Some("invalidValue"), "User is already deactivated")),
        );
    }
    Before::Pass
}

fn remember_active_state(_: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    let Some(b) = body.as_ref() else { return };
    let mut all = vec![b];
    if let Some(Value::Array(items)) = b.get("Resources") {
        all.extend(items.iter());
    }
    let mut map = ACTIVE.lock().unwrap();
    for r in all {
        if let (Some(id), Some(active)) =
            (r.get("id").and_then(Value::as_str), r.get("active").and_then(Value::as_bool))
        {
            map.insert(id.to_string(), active);
        }
    }
}

fn deactivation_keeps_portal_access(_: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    fn fix(r: &mut Value) {
        if let Some(s) = r.pointer_mut(&format!("/{PORTAL_URN}/accessStatus")) {
            if s == "anonymous" {
                *s = json!("active");
            }
        }
    }
    let Some(b) = body.as_mut() else { return };
    fix(b);
    if let Some(Value::Array(items)) = b.get_mut("Resources") {
        items.iter_mut().for_each(fix);
    }
}

// ---- filters ----------------------------------------------------------------------------------------------

fn username_filter_case_sensitive(seen: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    if !seen.is(Method::GET, "/Users") || seen.path != "/Users" {
        return;
    }
    let Some(filter) = seen.param("filter") else { return };
    let re = regex::Regex::new(r#"(?i)^\s*userName\s+eq\s+"(.*)"\s*$"#).expect("valid regex");
    let Some(wanted) = re.captures(&filter).map(|c| c[1].to_string()) else { return };
    drop_resources(body, |r| r.get("userName").and_then(Value::as_str) != Some(wanted.as_str()));
}

fn filter_plus_not_decoded(seen: &Seen) -> Before {
    let raw_filter = seen.query.split('&').find(|p| p.to_ascii_lowercase().starts_with("filter="));
    if is_list(seen) && raw_filter.is_some_and(|f| f.contains('+')) {
        let detail = "filter: expected comparison operator at position 8";
        return Before::Respond(
            StatusCode::BAD_REQUEST,
            Some(error(StatusCode::BAD_REQUEST, Some("invalidFilter"), detail)),
        );
    }
    Before::Pass
}

fn filter_ignored(seen: &Seen) -> Before {
    if is_list(seen) && seen.param("filter").is_some() {
        return Before::Query(seen.query_with(&[("filter", None)]));
    }
    Before::Pass
}

fn no_match_filter_answers_404(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if !is_list(seen) || seen.param("filter").is_none() || *status != StatusCode::OK {
        return;
    }
    if body.as_ref().and_then(|b| b.get("totalResults")).and_then(Value::as_u64) == Some(0) {
        *status = StatusCode::NOT_FOUND;
        *body = Some(error(StatusCode::NOT_FOUND, None, "No resource matches the filter"));
    }
}

// ---- create -----------------------------------------------------------------------------------------------

static DUPLICATES: AtomicUsize = AtomicUsize::new(0);

fn duplicate_create_answers_201(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if seen.method != Method::POST || *status != StatusCode::CONFLICT {
        return;
    }
    let mut created = seen.body.clone().unwrap_or_else(|| json!({}));
    if let Some(o) = created.as_object_mut() {
        o.remove("password");
        let n = DUPLICATES.fetch_add(1, Ordering::Relaxed);
        o.insert("id".into(), json!(format!("duplicate-{n}")));
    }
    *status = StatusCode::CREATED;
    *body = Some(created);
}

fn create_answers_empty_body(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if seen.is(Method::POST, "/Users") && *status == StatusCode::CREATED {
        *body = None;
    }
}

/// Ids of users deleted through the fault layer.
static DELETED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

fn repost_after_delete_409(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if seen.is(Method::DELETE, "/Users/") && status.is_success() {
        if let Some(id) = seen.resource_id() {
            DELETED.lock().unwrap().insert(id.to_string());
        }
        return;
    }
    if seen.is(Method::POST, "/Users") && *status == StatusCode::CREATED {
        let id = body.as_ref().and_then(|b| b.get("id")).and_then(Value::as_str).unwrap_or_default().to_string();
        if DELETED.lock().unwrap().contains(&id) {
            *status = StatusCode::CONFLICT;
            *body = Some(error(StatusCode::CONFLICT, Some("uniqueness"), "userName is already in use"));
        }
    }
}

// ---- PUT --------------------------------------------------------------------------------------------------

fn put_rejects_read_only_fields(seen: &Seen) -> Before {
    if seen.method != Method::PUT {
        return Before::Pass;
    }
    let Some(Value::Object(o)) = &seen.body else { return Before::Pass };
    if let Some(attr) = ["id", "meta", "groups"].into_iter().find(|a| o.contains_key(*a)) {
        return Before::Respond(
            StatusCode::BAD_REQUEST,
            Some(error(StatusCode::BAD_REQUEST, Some("mutability"), &format!("Attribute '{attr}' is readOnly"))),
        );
    }
    Before::Pass
}

fn put_not_persisted(seen: &Seen) -> Before {
    if !seen.is(Method::PUT, "/Users/") {
        return Before::Pass;
    }
    let mut echo = seen.body.clone().unwrap_or_else(|| json!({}));
    if let (Some(o), Some(id)) = (echo.as_object_mut(), seen.resource_id()) {
        o.remove("password");
        o.insert("id".into(), json!(id));
    }
    Before::Respond(StatusCode::OK, Some(echo))
}

fn put_ignores_active(seen: &Seen) -> Before {
    if !seen.is(Method::PUT, "/Users/") {
        return Before::Pass;
    }
    match &seen.body {
        Some(b) if b.get("active") == Some(&json!(false)) => {
            let mut b = b.clone();
            b["active"] = json!(true);
            Before::Rewrite(b)
        }
        _ => Before::Pass,
    }
}

// ---- errors and authentication ----------------------------------------------------------------------------

fn error_body_plain_text(_: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if !(status.is_client_error() || status.is_server_error()) {
        return;
    }
    let detail = body.as_ref().and_then(|b| b.get("detail")).and_then(Value::as_str).map(str::to_string);
    *body = Some(plain_text(&detail.unwrap_or_else(|| status.canonical_reason().unwrap_or("Error").to_string())));
}

fn error_status_as_integer(_: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if !(status.is_client_error() || status.is_server_error()) {
        return;
    }
    if let Some(b) = body.as_mut() {
        if b.get("status").is_some_and(Value::is_string) {
            b["status"] = json!(status.as_u16());
        }
    }
}

fn unauthorized_without_scim_body(_: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if *status == StatusCode::UNAUTHORIZED {
        *body = None;
    }
}

fn invalid_token_accepted(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if *status == StatusCode::UNAUTHORIZED && seen.method == Method::GET {
        *status = StatusCode::OK;
        *body = Some(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []
        }));
    }
}

// ---- paging -----------------------------------------------------------------------------------------------

fn paging_fields_as_strings(_: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    if !is_list_response(body) {
        return;
    }
    let b = body.as_mut().expect("list response");
    for field in ["totalResults", "startIndex", "itemsPerPage"] {
        if let Some(n) = b.get(field).filter(|v| v.is_number()).map(|v| v.to_string()) {
            b[field] = Value::String(n);
        }
    }
}

fn count_ignored(seen: &Seen) -> Before {
    if is_list(seen) && seen.param("count").is_some() {
        return Before::Query(seen.query_with(&[("count", None)]));
    }
    Before::Pass
}

fn start_index(seen: &Seen) -> Option<i64> {
    seen.param("startIndex").and_then(|s| s.trim().parse().ok())
}

fn group_list_without_resources(seen: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    let counted = body.as_ref().and_then(|b| b.get("totalResults")).and_then(Value::as_u64).is_some_and(|t| t >= 1);
    if seen.method == Method::GET && seen.path == "/Groups" && counted {
        if let Some(b) = body.as_mut().and_then(Value::as_object_mut) {
            b.remove("Resources");
        }
    }
}

/// A page after the first that the fault serves from the reversed order.
fn later_unsorted_page(seen: &Seen) -> bool {
    is_list(seen) && seen.param("sortBy").is_none() && start_index(seen).is_some_and(|i| i > 1)
}

/// The fault asks the server for everything, so that `after` can cut the page from the reversed list.
fn unstable_paging_order(seen: &Seen) -> Before {
    if later_unsorted_page(seen) {
        return Before::Query(seen.query_with(&[("startIndex", Some("1".into())), ("count", Some("1000".into()))]));
    }
    Before::Pass
}

/// Pages after the first come from the reverse of the first page's order — deterministically, so with more resources
/// than one page the walk always repeats some and never lists others.
fn reversed_later_pages(seen: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    if !later_unsorted_page(seen) || !is_list_response(body) {
        return;
    }
    let start = start_index(seen).unwrap_or(1).max(1) as usize;
    let count = seen.param("count").and_then(|c| c.trim().parse::<usize>().ok()).unwrap_or(usize::MAX);
    let b = body.as_mut().expect("list response");
    let mut all = b["Resources"].as_array().cloned().unwrap_or_default();
    all.reverse();
    let page: Vec<Value> = all.into_iter().skip(start - 1).take(count).collect();
    b["itemsPerPage"] = json!(page.len());
    b["startIndex"] = json!(start);
    b["Resources"] = Value::Array(page);
}

fn zero_based_start_index(seen: &Seen) -> Before {
    match start_index(seen) {
        Some(i) if is_list(seen) => Before::Query(seen.query_with(&[("startIndex", Some((i.max(1) + 1).to_string()))])),
        _ => Before::Pass,
    }
}

fn echo_requested_start_index(seen: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    if let (Some(i), true) = (start_index(seen), is_list(seen) && is_list_response(body)) {
        body.as_mut().expect("list response")["startIndex"] = json!(i.max(1));
    }
}

fn page_size_capped_at_50(seen: &Seen) -> Before {
    match seen.param("count").and_then(|c| c.trim().parse::<i64>().ok()) {
        Some(c) if is_list(seen) && c > 50 => Before::Query(seen.query_with(&[("count", Some("50".into()))])),
        _ => Before::Pass,
    }
}

fn total_results_is_page_length(_: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    if !is_list_response(body) {
        return;
    }
    let b = body.as_mut().expect("list response");
    let len = b["Resources"].as_array().map_or(0, Vec::len);
    b["totalResults"] = json!(len);
}

/// Rewrites the PATCH operations one by one with `f`.
fn patch_mapping(seen: &Seen, f: impl Fn(&Value) -> Option<Value>) -> Before {
    if seen.method != Method::PATCH {
        return Before::Pass;
    }
    let ops = seen.operations();
    let mapped: Vec<Value> = ops.iter().map(|op| f(op).unwrap_or_else(|| op.clone())).collect();
    if mapped == ops {
        return Before::Pass;
    }
    let mut body = seen.body.clone().unwrap_or(Value::Null);
    body["Operations"] = Value::Array(mapped);
    Before::Rewrite(body)
}

fn members_add_replaces(seen: &Seen) -> Before {
    patch_mapping(seen, |op| {
        (op_name(op) == "add" && op_path(op) == Some("members")).then(|| {
            let mut op = op.clone();
            op["op"] = json!("replace");
            op
        })
    })
}

fn member_filter_remove_removes_all(seen: &Seen) -> Before {
    patch_mapping(seen, |op| {
        (op_name(op) == "remove" && op_path(op).is_some_and(|p| p.starts_with("members[")))
            .then(|| json!({"op": "remove", "path": "members"}))
    })
}

/// Group id → the member ids its last read showed.
static MEMBERS: Mutex<BTreeMap<String, BTreeSet<String>>> = Mutex::new(BTreeMap::new());

fn remember_members(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if seen.method != Method::GET || !seen.path.starts_with("/Groups/") || *status != StatusCode::OK {
        return;
    }
    let (Some(id), Some(b)) = (seen.resource_id(), body.as_ref()) else { return };
    let ids = b
        .get("members")
        .and_then(Value::as_array)
        .map(|m| m.iter().filter_map(|e| e.get("value").and_then(Value::as_str).map(str::to_string)).collect())
        .unwrap_or_default();
    MEMBERS.lock().unwrap_or_else(|e| e.into_inner()).insert(id.to_string(), ids);
}

fn member_readd_conflicts(seen: &Seen) -> Before {
    if seen.method != Method::PATCH || !seen.path.starts_with("/Groups/") {
        return Before::Pass;
    }
    let Some(id) = seen.resource_id() else { return Before::Pass };
    let known = MEMBERS.lock().unwrap_or_else(|e| e.into_inner()).get(id).cloned().unwrap_or_default();
    let readds = seen.operations().iter().any(|op| {
        op_name(op) == "add"
            && op_path(op) == Some("members")
            && op.get("value").and_then(Value::as_array).is_some_and(|v| {
                v.iter().filter_map(|m| m.get("value").and_then(Value::as_str)).any(|m| known.contains(m))
            })
    });
    if readds {
        return Before::Respond(
            StatusCode::CONFLICT,
            Some(
                json!({"schemas": [ERROR_URN], "status": "409", "scimType": "uniqueness", "detail": "already a member"}),
            ),
        );
    }
    Before::Pass
}
