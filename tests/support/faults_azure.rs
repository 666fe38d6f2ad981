//! Faults the Entra ID scenario library exists to catch (see `scenarios/azure/faults.json` and the table in
//! `scenarios/azure/README.md`). Each is one minimal misbehaviour that breaks Entra provisioning: a request shape
//! Entra sends that the server mishandles, or an answer Entra cannot use. The helpers at the end are shared with
//! `faults_rfc.rs`.

use axum::http::{Method, StatusCode};
use serde_json::{json, Map, Value};

use super::faults::{keep, pass, with_content_type, Before, Fault, Seen};

/// The enterprise User extension (RFC 7643 §4.3).
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// Every Entra fault.
pub static FAULTS: &[Fault] = &[
    Fault {
        name: "json-content-type",
        description:
            "JSON responses carry `Content-Type: application/json` instead of `application/scim+json` (Entra aborts)",
        before: pass,
        after: json_content_type,
    },
    Fault {
        name: "no-match-404",
        description: "a filtered query that matches nothing answers 404 instead of an empty ListResponse",
        before: pass,
        after: no_match_404,
    },
    Fault {
        name: "auth-not-enforced",
        description: "requests without a valid token are served (401 becomes 200 with an empty ListResponse)",
        before: pass,
        after: auth_not_enforced,
    },
    Fault {
        name: "capitalised-op-rejected",
        description: "PATCH ops spelled `Add`/`Replace`/`Remove` (Entra's default dialect) are refused with 400",
        before: capitalised_op_rejected,
        after: keep,
    },
    Fault {
        name: "string-boolean-rejected",
        description: "PATCH values \"True\"/\"False\" (strings, Entra's default dialect) are refused with 400",
        before: string_boolean_rejected,
        after: keep,
    },
    Fault {
        name: "dotted-key-pathless-ignored",
        description: "in a path-less PATCH value, dotted keys such as `name.givenName` are ignored",
        before: dotted_key_pathless_ignored,
        after: keep,
    },
    Fault {
        name: "urn-key-pathless-ignored",
        description: "in a path-less PATCH value, URN-prefixed keys (enterprise extension attributes) are ignored",
        before: urn_key_pathless_ignored,
        after: keep,
    },
    Fault {
        name: "member-remove-by-value-removes-all",
        description: "`remove` on `members` with a value list removes every member, not just the listed ones",
        before: member_remove_by_value_removes_all,
        after: keep,
    },
    Fault {
        name: "value-filter-path-rejected",
        description: "PATCH paths with a value filter (`emails[type eq \"work\"].value`, `members[value eq …]`) → 400",
        before: value_filter_path_rejected,
        after: keep,
    },
    Fault {
        name: "manager-bare-id-rejected",
        description: "a manager sent as a bare id string (Entra's shape) is refused with 400",
        before: manager_bare_id_rejected,
        after: keep,
    },
    Fault {
        name: "null-attribute-rejected",
        description:
            "a create whose body holds an explicit `null` (the tutorial's Example 2) is refused with 400, though \
                      RFC 7643 §2.5 makes null the same as unassigned",
        before: null_attribute_rejected,
        after: keep,
    },
    Fault {
        name: "manager-empty-value-ignored",
        description: "replacing the manager with an empty value does not remove it",
        before: manager_empty_value_ignored,
        after: keep,
    },
    Fault {
        name: "manager-not-stored",
        description: "a manager sent in the enterprise extension of a created user is silently dropped",
        before: manager_not_stored,
        after: keep,
    },
    Fault {
        name: "value-path-query-matches-nothing",
        description: "a list filter with a value path (emails[type eq \"work\"].value eq …) answers an empty \
                      ListResponse, as if no user had that e-mail (Entra then creates a duplicate)",
        before: value_path_query_matches_nothing,
        after: keep,
    },
    Fault {
        name: "and-second-term-ignored",
        description: "a list filter `A and B` is evaluated as `A`",
        before: and_second_term_ignored,
        after: keep,
    },
    Fault {
        name: "urn-path-ignored",
        description: "PATCH operations whose path is URN-prefixed (enterprise extension) are silently ignored",
        before: urn_path_ignored,
        after: keep,
    },
    Fault {
        name: "manager-read-back-as-string",
        description: "the manager is returned as a bare string instead of the complex `manager.value`",
        before: pass,
        after: manager_read_back_as_string,
    },
    Fault {
        name: "excluded-members-ignored",
        description: "group reads ignore `excludedAttributes=members` and still return a `members` attribute",
        before: pass,
        after: excluded_members_ignored,
    },
    Fault {
        name: "name-filter-case-sensitive",
        description: "`userName eq` / `displayName eq` compare case-sensitively",
        before: pass,
        after: name_filter_case_sensitive,
    },
    Fault {
        name: "duplicate-user-created",
        description: "a POST of an existing userName answers 201 instead of 409",
        before: pass,
        after: duplicate_user_created,
    },
    Fault {
        name: "duplicate-group-created",
        description: "a POST of an existing group displayName answers 201 instead of 409",
        before: pass,
        after: duplicate_group_created,
    },
    Fault {
        name: "delete-missing-204",
        description: "DELETE of a resource that does not exist (or no longer exists) answers 204 instead of 404",
        before: pass,
        after: delete_missing_204,
    },
    Fault {
        name: "deactivation-ignored",
        description: "PATCH operations that set `active` to false are silently ignored",
        before: deactivation_ignored,
        after: keep,
    },
    Fault {
        name: "inactive-user-hidden",
        description: "a user with `active: false` is treated as deleted: 404 by id, missing from queries",
        before: pass,
        after: inactive_user_hidden,
    },
    Fault {
        name: "reactivation-ignored",
        description: "PATCH operations that set `active` to true are silently ignored",
        before: reactivation_ignored,
        after: keep,
    },
    Fault {
        name: "delete-ignored",
        description: "DELETE of a user answers 204 but the user stays",
        before: delete_ignored,
        after: keep,
    },
    Fault {
        name: "add-single-value-ignored",
        description: "`add` operations with a single (non-list, non-object) value are silently ignored",
        before: add_single_value_ignored,
        after: keep,
    },
    Fault {
        name: "patch-first-op-only",
        description: "only the first operation of a PATCH is applied",
        before: patch_first_op_only,
        after: keep,
    },
    Fault {
        name: "string-active-create-rejected",
        description:
            "POST /Users with `\"active\": \"True\"`/`\"False\"` (Entra's default dialect) answers 400 invalidValue",
        before: string_active_create_rejected,
        after: keep,
    },
    Fault {
        name: "filtered-value-remove-ignored",
        description:
            "`remove` of a value-filtered `….value` path (`emails[type eq \"work\"].value`) is silently ignored",
        before: filtered_value_remove_ignored,
        after: keep,
    },
    Fault {
        name: "group-name-eq-prefix",
        description: "a group `displayName eq \"team-app\"` filter matches every name starting with the value \
                      (`team-app-test` too), as `sw` would",
        before: group_name_eq_prefix,
        after: keep,
    },
    Fault {
        name: "group-rename-conflict-500",
        description: "a PATCH or PUT that renames a group onto a taken displayName answers 500 with a plain-text \
                      body (an unhandled unique-constraint error) instead of 409 uniqueness",
        before: pass,
        after: group_rename_conflict_500,
    },
    Fault {
        name: "filtered-replace-no-target",
        description: "a `replace` through `emails[type eq \"…\"]` on a user with no email of that type answers 400 \
                      noTarget (RFC 7644 §3.5.2.3) instead of creating the email Entra expects",
        before: filtered_replace_no_target,
        after: remember_email_types,
    },
    Fault {
        name: "patch-ops-reversed",
        description: "PATCH operations are applied in reverse order",
        before: patch_ops_reversed,
        after: keep,
    },
];

// ------------------------------------------------------------------------------------------------------------
// The faults

fn no_match_404(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    let empty = body.as_ref().and_then(|b| b.get("totalResults")).and_then(Value::as_u64) == Some(0);
    if is_collection_get(seen) && seen.param("filter").is_some() && *status == StatusCode::OK && empty {
        *status = StatusCode::NOT_FOUND;
        *body = Some(scim_error(404, None, "no resource matches the filter"));
    }
}

fn auth_not_enforced(_: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if *status == StatusCode::UNAUTHORIZED {
        *status = StatusCode::OK;
        *body = Some(empty_list());
    }
}

fn capitalised_op_rejected(seen: &Seen) -> Before {
    let ops = seen.operations();
    let bad = ops.iter().filter_map(op_name_raw).find(|o| o.chars().any(char::is_uppercase));
    match (seen.method == Method::PATCH, bad) {
        (true, Some(o)) => {
            error(StatusCode::BAD_REQUEST, Some("invalidSyntax"), &format!("unknown op '{o}': ops are lower case"))
        }
        _ => Before::Pass,
    }
}

fn is_string_boolean(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false"))
}

fn string_active_create_rejected(seen: &Seen) -> Before {
    let active = seen.body.as_ref().and_then(|b| b.get("active"));
    if seen.method == Method::POST && seen.path == "/Users" && active.is_some_and(is_string_boolean) {
        return error(StatusCode::BAD_REQUEST, Some("invalidValue"), "active must be a JSON boolean");
    }
    Before::Pass
}

fn filtered_value_remove_ignored(seen: &Seen) -> Before {
    rewrite_ops(seen, |op| {
        let filtered_value =
            op_path(op).is_some_and(|p| p.contains('[') && p.to_ascii_lowercase().ends_with("].value"));
        (!(op_name(op) == "remove" && filtered_value)).then(|| op.clone())
    })
}

fn string_boolean_rejected(seen: &Seen) -> Before {
    if seen.method != Method::PATCH {
        return Before::Pass;
    }
    let bad = seen.operations().iter().filter_map(|op| op.get("value")).any(|v| match v {
        Value::Object(o) => o.values().any(is_string_boolean),
        other => is_string_boolean(other),
    });
    if bad {
        return error(StatusCode::BAD_REQUEST, Some("invalidValue"), "a boolean attribute needs a JSON boolean");
    }
    Before::Pass
}

/// Drops keys of path-less value objects for which `drop` holds; an op left with no keys is dropped too.
fn strip_pathless_keys(seen: &Seen, drop: fn(&str) -> bool) -> Before {
    rewrite_ops(seen, |op| {
        if op_path(op).is_some() {
            return Some(op.clone());
        }
        let Some(Value::Object(value)) = op.get("value") else { return Some(op.clone()) };
        let kept: Map<String, Value> =
            value.iter().filter(|(k, _)| !drop(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
        if kept.is_empty() {
            return None;
        }
        let mut op = op.clone();
        op["value"] = Value::Object(kept);
        Some(op)
    })
}

fn is_urn(key: &str) -> bool {
    key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
}

fn dotted_key_pathless_ignored(seen: &Seen) -> Before {
    strip_pathless_keys(seen, |k| k.contains('.') && !is_urn(k))
}

fn urn_key_pathless_ignored(seen: &Seen) -> Before {
    strip_pathless_keys(seen, is_urn)
}

fn member_remove_by_value_removes_all(seen: &Seen) -> Before {
    rewrite_ops(seen, |op| {
        let targets_members = op_path(op).is_some_and(|p| p.eq_ignore_ascii_case("members"));
        if op_name(op) == "remove" && targets_members && op.get("value").is_some_and(Value::is_array) {
            return Some(json!({"op": op["op"].clone(), "path": "members"}));
        }
        Some(op.clone())
    })
}

fn value_filter_path_rejected(seen: &Seen) -> Before {
    if seen.method == Method::PATCH && seen.operations().iter().filter_map(op_path).any(|p| p.contains('[')) {
        return error(StatusCode::BAD_REQUEST, Some("invalidPath"), "value filters in PATCH paths are not supported");
    }
    Before::Pass
}

fn is_manager_path(op: &Value) -> bool {
    op_path(op).is_some_and(|p| p.to_ascii_lowercase().ends_with(":manager"))
}

fn manager_bare_id_rejected(seen: &Seen) -> Before {
    let bare = seen
        .operations()
        .iter()
        .any(|op| is_manager_path(op) && op.get("value").and_then(Value::as_str).is_some_and(|s| !s.is_empty()));
    if seen.method == Method::PATCH && bare {
        return error(StatusCode::BAD_REQUEST, Some("invalidValue"), "manager must be an object with a 'value'");
    }
    Before::Pass
}

fn null_attribute_rejected(seen: &Seen) -> Before {
    fn has_null(v: &Value) -> bool {
        match v {
            Value::Null => true,
            Value::Object(o) => o.values().any(has_null),
            _ => false,
        }
    }
    if seen.method == Method::POST && seen.path == "/Users" && seen.body.as_ref().is_some_and(has_null) {
        return error(StatusCode::BAD_REQUEST, Some("invalidValue"), "attribute values must not be null");
    }
    Before::Pass
}

fn manager_empty_value_ignored(seen: &Seen) -> Before {
    rewrite_ops(seen, |op| {
        let empty = match op.get("value") {
            Some(Value::String(s)) => s.is_empty(),
            Some(Value::Object(o)) => o.get("value").and_then(Value::as_str) == Some(""),
            _ => false,
        };
        (!(is_manager_path(op) && empty)).then(|| op.clone())
    })
}

fn manager_not_stored(seen: &Seen) -> Before {
    let Some(mut body) = seen.body.clone().filter(|_| seen.method == Method::POST && seen.path == "/Users") else {
        return Before::Pass;
    };
    match body.get_mut(ENTERPRISE).and_then(Value::as_object_mut).and_then(|e| e.remove("manager")) {
        Some(_) => Before::Rewrite(body),
        None => Before::Pass,
    }
}

/// (A server refusing value paths with 400 invalidFilter declines the filter, which RFC 7644 §3.4.2.2 allows and
/// no default Entra matching attribute needs: a skip, not a fault.)
fn value_path_query_matches_nothing(seen: &Seen) -> Before {
    if is_collection_get(seen) && seen.param("filter").is_some_and(|f| f.contains('[')) {
        let empty = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": 0,
            "startIndex": 1,
            "itemsPerPage": 0,
            "Resources": []
        });
        return Before::Respond(StatusCode::OK, Some(empty));
    }
    Before::Pass
}

fn and_second_term_ignored(seen: &Seen) -> Before {
    match seen.param("filter") {
        Some(f) if is_collection_get(seen) && f.contains(" and ") => {
            let first = f.split(" and ").next().unwrap_or_default().to_string();
            Before::Query(seen.query_with(&[("filter", Some(first))]))
        }
        _ => Before::Pass,
    }
}

fn urn_path_ignored(seen: &Seen) -> Before {
    rewrite_ops(seen, |op| (!op_path(op).is_some_and(is_urn)).then(|| op.clone()))
}

fn manager_read_back_as_string(seen: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    if !seen.path.starts_with("/Users") {
        return;
    }
    for_each_resource(body, |r| {
        if let Some(m) = r.get_mut(ENTERPRISE).and_then(|e| e.get_mut("manager")) {
            if let Some(id) = m.get("value").cloned() {
                *m = id;
            }
        }
    });
}

fn excluded_members_ignored(seen: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    let excluded = seen.param("excludedAttributes").unwrap_or_default();
    let members = excluded.split(',').any(|a| a.trim().eq_ignore_ascii_case("members"));
    if seen.method != Method::GET || !seen.path.starts_with("/Groups") || !members {
        return;
    }
    for_each_resource(body, |r| {
        if let Some(o) = r.as_object_mut() {
            o.entry("members").or_insert_with(|| json!([]));
        }
    });
}

fn name_filter_case_sensitive(seen: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    let Some(filter) = seen.param("filter") else { return };
    if !is_collection_get(seen) || filter.to_ascii_lowercase().contains(" or ") {
        return;
    }
    let re = regex::Regex::new(r#"(?i)\b(userName|displayName)\s+eq\s+"([^"]*)""#).expect("valid regex");
    let Some(c) = re.captures(&filter) else { return };
    let (attr, wanted) = (c[1].to_string(), c[2].to_string());
    retain_resources(body, |r| {
        let key = r.as_object().and_then(|o| o.keys().find(|k| k.eq_ignore_ascii_case(&attr)).cloned());
        match key.and_then(|k| r.get(&k).and_then(Value::as_str).map(str::to_string)) {
            Some(actual) => actual == wanted,
            None => true,
        }
    });
}

fn duplicate_created(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>, collection: &str) {
    if seen.method == Method::POST && seen.path.trim_end_matches('/') == collection && *status == StatusCode::CONFLICT {
        *status = StatusCode::CREATED;
        *body = None;
    }
}

fn duplicate_user_created(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    duplicate_created(seen, status, body, "/Users");
}

fn duplicate_group_created(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    duplicate_created(seen, status, body, "/Groups");
}

fn group_name_eq_prefix(seen: &Seen) -> Before {
    let Some(filter) = seen.param("filter") else { return Before::Pass };
    if !is_collection_get(seen) || !seen.path.starts_with("/Groups") {
        return Before::Pass;
    }
    let re = regex::Regex::new(r#"(?i)\bdisplayName\s+eq\s+""#).expect("valid regex");
    if !re.is_match(&filter) {
        return Before::Pass;
    }
    let rewritten = re.replace_all(&filter, "displayName sw \"").into_owned();
    Before::Query(seen.query_with(&[("filter", Some(rewritten))]))
}

fn group_rename_conflict_500(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    let write = seen.method == Method::PATCH || seen.method == Method::PUT;
    if write && seen.path.starts_with("/Groups/") && *status == StatusCode::CONFLICT {
        *status = StatusCode::INTERNAL_SERVER_ERROR;
        *body = Some(super::faults::plain_text("duplicate key value violates unique constraint \"groups_name_key\""));
    }
}

fn delete_missing_204(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if seen.method == Method::DELETE && *status == StatusCode::NOT_FOUND {
        *status = StatusCode::NO_CONTENT;
        *body = None;
    }
}

/// Drops operations that set `active` to `to` (a boolean or its string form), path or path-less.
fn ignore_active(seen: &Seen, to: bool) -> Before {
    let sets =
        |v: &Value| v.as_bool() == Some(to) || v.as_str().is_some_and(|s| s.eq_ignore_ascii_case(&to.to_string()));
    rewrite_ops(seen, |op| {
        if op_path(op).is_some_and(|p| p.eq_ignore_ascii_case("active")) {
            return (!op.get("value").is_some_and(sets)).then(|| op.clone());
        }
        if op_path(op).is_none() {
            if let Some(Value::Object(v)) = op.get("value") {
                let kept: Map<String, Value> = v
                    .iter()
                    .filter(|(k, x)| !(k.eq_ignore_ascii_case("active") && sets(x)))
                    .map(|(k, x)| (k.clone(), x.clone()))
                    .collect();
                if kept.is_empty() {
                    return None;
                }
                let mut op = op.clone();
                op["value"] = Value::Object(kept);
                return Some(op);
            }
        }
        Some(op.clone())
    })
}

fn deactivation_ignored(seen: &Seen) -> Before {
    ignore_active(seen, false)
}

fn reactivation_ignored(seen: &Seen) -> Before {
    ignore_active(seen, true)
}

fn inactive_user_hidden(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if seen.method != Method::GET || !seen.path.starts_with("/Users") || *status != StatusCode::OK {
        return;
    }
    let inactive = |r: &Value| r.get("active").and_then(Value::as_bool) == Some(false);
    if is_collection_get(seen) {
        retain_resources(body, |r| !inactive(r));
    } else if body.as_ref().is_some_and(inactive) {
        *status = StatusCode::NOT_FOUND;
        *body = Some(scim_error(404, None, "user not found"));
    }
}

fn delete_ignored(seen: &Seen) -> Before {
    if seen.method == Method::DELETE && seen.path.starts_with("/Users/") {
        return Before::Respond(StatusCode::NO_CONTENT, None);
    }
    Before::Pass
}

fn add_single_value_ignored(seen: &Seen) -> Before {
    rewrite_ops(seen, |op| {
        let single = matches!(op.get("value"), Some(Value::String(_) | Value::Number(_) | Value::Bool(_)));
        (!(op_name(op) == "add" && single)).then(|| op.clone())
    })
}

fn patch_first_op_only(seen: &Seen) -> Before {
    let ops = seen.operations();
    if seen.method != Method::PATCH || ops.len() < 2 {
        return Before::Pass;
    }
    with_ops(seen, ops.into_iter().take(1).collect())
}

fn patch_ops_reversed(seen: &Seen) -> Before {
    let ops = seen.operations();
    if seen.method != Method::PATCH || ops.len() < 2 {
        return Before::Pass;
    }
    with_ops(seen, ops.into_iter().rev().collect())
}

/// The email types each user answered with, by user id, as seen in the server's answers
/// (`filtered-replace-no-target`).
static EMAIL_TYPES: std::sync::Mutex<std::collections::BTreeMap<String, Vec<String>>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

fn remember_email_types(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if !status.is_success() || !seen.path.starts_with("/Users") {
        return;
    }
    let Some(Value::Object(user)) = body.as_ref() else { return };
    let Some(id) = user.get("id").and_then(Value::as_str) else { return };
    let types = (user.get("emails").and_then(Value::as_array).into_iter().flatten())
        .filter_map(|e| e.get("type").and_then(Value::as_str).map(str::to_ascii_lowercase))
        .collect();
    EMAIL_TYPES.lock().unwrap_or_else(|p| p.into_inner()).insert(id.to_string(), types);
}

/// The type named by a `emails[type eq "…"]…` path, lowercased.
fn filtered_email_type(path: &str) -> Option<String> {
    let rest = path.trim().strip_prefix("emails[")?;
    let (filter, _) = rest.split_once(']')?;
    let mut words = filter.split_whitespace();
    let (attr, op, value) = (words.next()?, words.next()?, words.collect::<Vec<_>>().join(" "));
    if !attr.eq_ignore_ascii_case("type") || !op.eq_ignore_ascii_case("eq") {
        return None;
    }
    Some(value.trim_matches('"').to_ascii_lowercase())
}

fn filtered_replace_no_target(seen: &Seen) -> Before {
    let Some(id) = seen.resource_id().filter(|_| seen.is(Method::PATCH, "/Users/")) else { return Before::Pass };
    let known = EMAIL_TYPES.lock().unwrap_or_else(|p| p.into_inner()).get(id).cloned();
    let Some(known) = known else { return Before::Pass };
    let unmatched = seen.operations().iter().any(|op| {
        let is_replace = op.get("op").and_then(Value::as_str).is_some_and(|o| o.eq_ignore_ascii_case("replace"));
        let wanted = op.get("path").and_then(Value::as_str).and_then(filtered_email_type);
        is_replace && wanted.is_some_and(|t| !known.contains(&t))
    });
    if unmatched {
        return error(StatusCode::BAD_REQUEST, Some("noTarget"), "the value filter matches no value");
    }
    Before::Pass
}

// ------------------------------------------------------------------------------------------------------------
// Helpers, shared with faults_rfc.rs

/// A SCIM Error body (RFC 7644 §3.12).
pub fn scim_error(status: u16, scim_type: Option<&str>, detail: &str) -> Value {
    let mut e = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": status.to_string(),
        "detail": detail,
    });
    if let Some(t) = scim_type {
        e["scimType"] = json!(t);
    }
    e
}

/// Answers with a SCIM Error in the server's place.
pub fn error(status: StatusCode, scim_type: Option<&str>, detail: &str) -> Before {
    Before::Respond(status, Some(scim_error(status.as_u16(), scim_type, detail)))
}

/// An empty ListResponse.
pub fn empty_list() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 0,
        "startIndex": 1,
        "itemsPerPage": 0,
        "Resources": [],
    })
}

/// A GET on a resource collection (`/Users`, `/Groups`), i.e. a query answered with a ListResponse.
pub fn is_collection_get(seen: &Seen) -> bool {
    seen.method == Method::GET && matches!(seen.path.trim_end_matches('/'), "/Users" | "/Groups")
}

/// The `op` of an operation as sent.
fn op_name_raw(op: &Value) -> Option<&str> {
    op.get("op").and_then(Value::as_str)
}

/// The `op` of an operation, lower-cased.
pub fn op_name(op: &Value) -> String {
    op_name_raw(op).unwrap_or_default().to_ascii_lowercase()
}

/// The `path` of an operation, if it has one.
pub fn op_path(op: &Value) -> Option<&str> {
    op.get("path").and_then(Value::as_str)
}

/// The request body with its operations replaced; an empty list becomes one operation that changes nothing
/// (adding no values), so the answer looks like success.
pub fn with_ops(seen: &Seen, ops: Vec<Value>) -> Before {
    let ops = if ops.is_empty() {
        let attr = if seen.path.starts_with("/Groups") { "members" } else { "emails" };
        vec![json!({"op": "add", "path": attr, "value": []})]
    } else {
        ops
    };
    let mut body = seen.body.clone().unwrap_or_else(|| json!({}));
    let key = body
        .as_object()
        .and_then(|o| o.keys().find(|k| k.eq_ignore_ascii_case("Operations")).cloned())
        .unwrap_or_else(|| "Operations".into());
    body[key] = Value::Array(ops);
    Before::Rewrite(body)
}

/// Maps each operation of a PATCH (`None` drops it); lets the request through untouched when nothing changed.
pub fn rewrite_ops(seen: &Seen, f: impl Fn(&Value) -> Option<Value>) -> Before {
    if seen.method != Method::PATCH {
        return Before::Pass;
    }
    let ops = seen.operations();
    let new: Vec<Value> = ops.iter().filter_map(&f).collect();
    if new == ops {
        return Before::Pass;
    }
    with_ops(seen, new)
}

/// Runs `f` on the resource of a single-resource body, or on every element of a ListResponse.
pub fn for_each_resource(body: &mut Option<Value>, mut f: impl FnMut(&mut Value)) {
    let Some(b) = body.as_mut() else { return };
    if b.get("Resources").is_some_and(Value::is_array) {
        if let Some(list) = b.get_mut("Resources").and_then(Value::as_array_mut) {
            list.iter_mut().for_each(f);
        }
    } else if b.get("id").is_some() {
        f(b);
    }
}

/// Keeps the ListResponse elements for which `keep` holds, adjusting `totalResults` and `itemsPerPage`.
pub fn retain_resources(body: &mut Option<Value>, keep: impl Fn(&Value) -> bool) {
    let Some(b) = body.as_mut() else { return };
    let Some(list) = b.get_mut("Resources").and_then(Value::as_array_mut) else { return };
    let before = list.len();
    list.retain(|r| keep(r));
    let removed = (before - list.len()) as u64;
    let left = list.len();
    if let Some(t) = b.get("totalResults").and_then(Value::as_u64) {
        b["totalResults"] = json!(t.saturating_sub(removed));
    }
    if b.get("itemsPerPage").is_some() {
        b["itemsPerPage"] = json!(left);
    }
}

fn json_content_type(_: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    if let Some(b) = body.take() {
        *body = Some(with_content_type(b, "application/json; charset=utf-8"));
    }
}
