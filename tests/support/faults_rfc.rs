//! Faults the RFC 7644 scenario library exists to catch (see `scenarios/rfc/faults.json` and the table in
//! `scenarios/rfc/README.md`). Each breaks one protocol rule in the smallest way that a real server gets it
//! wrong. A fault can rewrite request bodies and responses but not the query string, so query-side bugs are
//! modelled on the answer (for example "`gt` matches nothing" rather than "`gt` behaves like `ge`").

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use super::faults::{keep, pass, Before, Fault, Seen};
use super::faults_azure::{
    empty_list, error, for_each_resource, is_collection_get, op_name, op_path, retain_resources, rewrite_ops,
    scim_error,
};

/// Declares a fault that makes every query using one filter operator match nothing.
macro_rules! broken_operator {
    ($fn_name:ident, $op:literal) => {
        fn $fn_name(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
            operator_matches_nothing(seen, status, body, $op);
        }
    };
}

macro_rules! operator_fault {
    ($name:literal, $op:literal, $fn_name:ident) => {
        Fault {
            name: $name,
            description: concat!("a filter that uses `", $op, "` silently matches nothing"),
            before: pass,
            after: $fn_name,
        }
    };
}

broken_operator!(eq_broken, "eq");
broken_operator!(ne_broken, "ne");
broken_operator!(co_broken, "co");
broken_operator!(sw_broken, "sw");
broken_operator!(ew_broken, "ew");
broken_operator!(pr_broken, "pr");
broken_operator!(gt_broken, "gt");
broken_operator!(ge_broken, "ge");
broken_operator!(lt_broken, "lt");
broken_operator!(le_broken, "le");
broken_operator!(and_broken, "and");
broken_operator!(or_broken, "or");
broken_operator!(not_broken, "not");

/// Every RFC fault.
pub static FAULTS: &[Fault] = &[
    operator_fault!("filter-eq-broken", "eq", eq_broken),
    operator_fault!("filter-ne-broken", "ne", ne_broken),
    operator_fault!("filter-co-broken", "co", co_broken),
    operator_fault!("filter-sw-broken", "sw", sw_broken),
    operator_fault!("filter-ew-broken", "ew", ew_broken),
    operator_fault!("filter-pr-broken", "pr", pr_broken),
    operator_fault!("filter-gt-broken", "gt", gt_broken),
    operator_fault!("filter-ge-broken", "ge", ge_broken),
    operator_fault!("filter-lt-broken", "lt", lt_broken),
    operator_fault!("filter-le-broken", "le", le_broken),
    operator_fault!("filter-and-broken", "and", and_broken),
    operator_fault!("filter-or-broken", "or", or_broken),
    operator_fault!("filter-not-broken", "not", not_broken),
    Fault {
        name: "filter-and-drops-unmapped-comparison",
        description: "a comparison on an attribute the server does not map (name.givenName, meta.created) is dropped \
                      from an `and`, as django-scim2's SQL filter does: the userName scope alone selects",
        before: filter_and_drops_unmapped_comparison,
        after: keep,
    },
    Fault {
        name: "filter-parentheses-ignored",
        description: "parentheses in filters are dropped, so `(A or B) and C` is evaluated as `A or (B and C)`",
        before: filter_parentheses_ignored,
        after: keep,
    },
    Fault {
        name: "filter-value-path-broken",
        description: "a filter with a value path (`emails[type eq \"work\"]`) silently matches nothing",
        before: pass,
        after: filter_value_path_broken,
    },
    Fault {
        name: "filter-case-exact-everywhere",
        description: "every string `eq` compares case-sensitively, ignoring caseExact=false",
        before: pass,
        after: filter_case_exact_everywhere,
    },
    Fault {
        name: "empty-operations-500",
        description: "a PATCH whose Operations list is empty answers 500 (the server reads its first operation)",
        before: empty_operations_500,
        after: keep,
    },
    Fault {
        name: "empty-operations-clear-attributes",
        description:
            "a PATCH whose Operations list is empty is taken as a replace with nothing: optional attributes are cleared",
        before: empty_operations_clear_attributes,
        after: keep,
    },
    Fault {
        name: "invalid-filter-200",
        description: "an invalid filter answers 200 with an empty ListResponse instead of 400 invalidFilter",
        before: pass,
        after: invalid_filter_200,
    },
    Fault {
        name: "start-index-below-one-rejected",
        description: "startIndex below 1 is refused with 400 instead of being treated as 1",
        before: start_index_below_one_rejected,
        after: keep,
    },
    Fault {
        name: "start-index-zero-based",
        description: "startIndex is treated as a 0-based offset: every page skips one result",
        before: pass,
        after: start_index_zero_based,
    },
    Fault {
        name: "total-results-counts-page",
        description: "totalResults counts the resources on the page instead of every match",
        before: pass,
        after: total_results_counts_page,
    },
    Fault {
        name: "count-zero-total-zero",
        description: "count=0 answers totalResults 0",
        before: pass,
        after: count_zero_total_zero,
    },
    Fault {
        name: "negative-count-rejected",
        description: "a negative count is refused with 400 instead of being treated as 0",
        before: negative_count_rejected,
        after: keep,
    },
    Fault {
        name: "past-end-error",
        description: "a startIndex past the last result answers 400 instead of an empty page",
        before: pass,
        after: past_end_error,
    },
    Fault {
        name: "sort-ignored",
        description: "sortBy is ignored: results come back in creation order",
        before: pass,
        after: sort_ignored,
    },
    Fault {
        name: "sort-order-ignored",
        description: "sortOrder=descending is ignored: results are always ascending",
        before: pass,
        after: sort_order_ignored,
    },
    Fault {
        name: "sort-case-sensitive",
        description: "sorting by userName compares case-sensitively (byte order), ignoring caseExact=false",
        before: pass,
        after: sort_case_sensitive,
    },
    Fault {
        name: "attributes-drop-id",
        description: "with `attributes`, the always-returned `id` is dropped too",
        before: pass,
        after: attributes_drop_id,
    },
    Fault {
        name: "attributes-subattribute-rejected",
        description: "`attributes` with a sub-attribute path (`name.givenName`) is refused with 400",
        before: attributes_subattribute_rejected,
        after: keep,
    },
    Fault {
        name: "excluded-attributes-ignored",
        description: "`excludedAttributes` is ignored: the excluded attributes are still returned",
        before: pass,
        after: excluded_attributes_ignored,
    },
    Fault {
        name: "excluded-drops-returned-always",
        description: "`excludedAttributes=id` removes `id`, which is returned always",
        before: pass,
        after: excluded_drops_returned_always,
    },
    Fault {
        name: "etag-version-missing",
        description: "resources carry no meta.version",
        before: pass,
        after: etag_version_missing,
    },
    Fault {
        name: "if-match-ignored",
        description: "If-Match is not checked: a stale version still updates or deletes",
        before: pass,
        after: if_match_ignored,
    },
    Fault {
        name: "if-none-match-ignored",
        description: "If-None-Match is not checked: a GET with the current version answers 200, not 304",
        before: pass,
        after: if_none_match_ignored,
    },
    Fault {
        name: "malformed-json-500",
        description: "a request body that is not a JSON object crashes the handler: 500 with a bare string body",
        before: malformed_json_500,
        after: keep,
    },
    Fault {
        name: "error-status-number",
        description: "Error bodies carry `status` as a JSON number instead of a string",
        before: pass,
        after: error_status_number,
    },
    Fault {
        name: "not-found-without-body",
        description: "404 answers have no Error body",
        before: pass,
        after: not_found_without_body,
    },
    Fault {
        name: "uniqueness-without-scimtype",
        description: "409 answers lack scimType `uniqueness`",
        before: pass,
        after: uniqueness_without_scimtype,
    },
    Fault {
        name: "readonly-patch-accepted",
        description: "PATCH operations on read-only attributes or removing the required userName are silently ignored",
        before: readonly_patch_accepted,
        after: keep,
    },
    Fault {
        name: "me-404",
        description: "/Me answers 404 instead of 501 Not Implemented",
        before: me_404,
        after: keep,
    },
    Fault {
        name: "bulk-404",
        description: "/Bulk answers 404 instead of 501 Not Implemented",
        before: bulk_404,
        after: keep,
    },
    Fault {
        name: "bulk-200-not-a-bulk-response",
        description: "/Bulk answers 200 with a body that is neither a BulkResponse nor an Error",
        before: bulk_200_not_a_bulk_response,
        after: keep,
    },
    Fault {
        name: "bulk-response-without-operations",
        description: "/Bulk answers 200 with a BulkResponse that has no Operations array",
        before: bulk_response_without_operations,
        after: keep,
    },
    Fault {
        name: "unauthorized-without-body",
        description: "401 answers have no Error body",
        before: pass,
        after: unauthorized_without_body,
    },
    Fault {
        name: "spc-flags-as-strings",
        description: "ServiceProviderConfig `supported` flags are strings (\"true\") instead of booleans",
        before: pass,
        after: spc_flags_as_strings,
    },
    Fault {
        name: "discovery-plain-array",
        description: "/Schemas and /ResourceTypes answer a bare JSON array instead of a ListResponse",
        before: pass,
        after: discovery_plain_array,
    },
    Fault {
        name: "schema-by-id-404",
        description: "a single schema cannot be read by its URN (GET /Schemas/{id} → 404)",
        before: schema_by_id_404,
        after: keep,
    },
    Fault {
        name: "discovery-honours-paging",
        description: "/Schemas and /ResourceTypes apply startIndex/count instead of ignoring them",
        before: pass,
        after: discovery_honours_paging,
    },
    Fault {
        name: "discovery-write-accepted",
        description: "writes to discovery endpoints answer 200",
        before: discovery_write_accepted,
        after: keep,
    },
    Fault {
        name: "resource-type-endpoint-wrong",
        description: "the User resource type advertises the endpoint `/User` instead of the `/Users` in use",
        before: pass,
        after: resource_type_endpoint_wrong,
    },
    Fault {
        name: "search-not-supported",
        description: "POST to a `/.search` path answers 404",
        before: search_not_supported,
        after: keep,
    },
    Fault {
        name: "create-status-200",
        description: "a successful POST answers 200 instead of 201 Created",
        before: pass,
        after: create_status_200,
    },
    Fault {
        name: "meta-location-missing",
        description: "resources carry no meta.location",
        before: pass,
        after: meta_location_missing,
    },
    Fault {
        name: "readonly-create-honoured",
        description: "a POST keeps the client's `id` and `meta.created` instead of ignoring read-only attributes",
        before: pass,
        after: readonly_create_honoured,
    },
    Fault {
        name: "discovery-filter-ignored",
        description: "a `filter` on a discovery endpoint is silently ignored instead of answered 403 (RFC 7644 §4)",
        before: discovery_filter_ignored,
        after: keep,
    },
];

// ------------------------------------------------------------------------------------------------------------
// Filters

/// The bare words of a filter outside quoted strings, lower-cased; brackets and parentheses separate words.
fn filter_words(filter: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut chars = filter.chars();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            c if c.is_whitespace() || "()[]".contains(c) => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word).to_ascii_lowercase());
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word.to_ascii_lowercase());
    }
    words
}

/// The filter outside quoted strings, for looking for `(` and `[`.
fn filter_outside_strings(filter: &str) -> String {
    let mut out = String::new();
    let mut in_string = false;
    let mut escaped = false;
    for c in filter.chars() {
        match (in_string, c) {
            (true, _) if escaped => escaped = false,
            (true, '\\') => escaped = true,
            (true, '"') => in_string = false,
            (true, _) => {}
            (false, '"') => in_string = true,
            (false, c) => out.push(c),
        }
    }
    out
}

fn match_nothing(status: &mut StatusCode, body: &mut Option<Value>) {
    if *status == StatusCode::OK {
        retain_resources(body, |_| false);
        if let Some(b) = body.as_mut() {
            b["totalResults"] = json!(0);
        }
    }
}

fn operator_matches_nothing(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>, op: &str) {
    let Some(filter) = seen.param("filter") else { return };
    if is_collection_get(seen) && filter_words(&filter).iter().any(|w| w == op) {
        match_nothing(status, body);
    }
}

/// Whether the request is a PATCH whose body has an empty `Operations` list.
fn has_empty_operations(seen: &Seen) -> bool {
    seen.method == Method::PATCH
        && seen.body.as_ref().and_then(|b| b.get("Operations")).and_then(Value::as_array).is_some_and(Vec::is_empty)
}

fn empty_operations_500(seen: &Seen) -> Before {
    if has_empty_operations(seen) {
        return error(StatusCode::INTERNAL_SERVER_ERROR, None, "index out of range");
    }
    Before::Pass
}

fn empty_operations_clear_attributes(seen: &Seen) -> Before {
    if !has_empty_operations(seen) {
        return Before::Pass;
    }
    Before::Rewrite(json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "remove", "path": "name"}]
    }))
}

/// Parentheses outside quoted values removed. (A server refusing them with 400 invalidFilter declines the filter,
/// which RFC 7644 §3.4.2.2 allows: a skip, not a fault.)
fn filter_parentheses_ignored(seen: &Seen) -> Before {
    match seen.param("filter") {
        Some(f) if is_collection_get(seen) && filter_outside_strings(&f).contains('(') => {
            let mut out = String::new();
            let mut in_string = false;
            let mut escaped = false;
            for c in f.chars() {
                match (in_string, c) {
                    (true, _) if escaped => escaped = false,
                    (true, '\\') => escaped = true,
                    (true, '"') => in_string = false,
                    (false, '"') => in_string = true,
                    (false, '(' | ')') => continue,
                    _ => {}
                }
                out.push(c);
            }
            Before::Query(seen.query_with(&[("filter", Some(out))]))
        }
        _ => Before::Pass,
    }
}

fn filter_value_path_broken(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    let Some(filter) = seen.param("filter") else { return };
    if is_collection_get(seen) && filter_outside_strings(&filter).contains('[') {
        match_nothing(status, body);
    }
}

fn filter_case_exact_everywhere(seen: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    let Some(filter) = seen.param("filter") else { return };
    if !is_collection_get(seen) || filter_words(&filter).iter().any(|w| w == "or" || w == "not") {
        return;
    }
    let re = regex::Regex::new(r#"(?i)(?:^|[\s(])([A-Za-z][A-Za-z0-9]*)\s+eq\s+"([^"]*)""#).expect("valid regex");
    let terms: Vec<(String, String)> =
        re.captures_iter(&filter).map(|c| (c[1].to_string(), c[2].to_string())).collect();
    retain_resources(body, |r| {
        terms.iter().all(|(attr, wanted)| {
            let key = r.as_object().and_then(|o| o.keys().find(|k| k.eq_ignore_ascii_case(attr)).cloned());
            match key.and_then(|k| r.get(&k).and_then(Value::as_str).map(str::to_string)) {
                Some(actual) => actual == *wanted,
                None => true,
            }
        })
    });
}

fn invalid_filter_200(_: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    let invalid = body.as_ref().and_then(|b| b.get("scimType")).and_then(Value::as_str) == Some("invalidFilter");
    if *status == StatusCode::BAD_REQUEST && invalid {
        *status = StatusCode::OK;
        *body = Some(empty_list());
    }
}

// ------------------------------------------------------------------------------------------------------------
// Pagination and sorting

fn int_param(seen: &Seen, name: &str) -> Option<i64> {
    seen.param(name).and_then(|v| v.trim().parse().ok())
}

fn filter_and_drops_unmapped_comparison(seen: &Seen) -> Before {
    let Some(filter) = seen.param("filter").filter(|_| is_collection_get(seen)) else {
        return Before::Pass;
    };
    // `userName eq "a" and name.givenName gt "Bob"` → `userName eq "a"`
    let unmapped =
        regex::Regex::new(r#" and (name\.givenName|meta\.created) (eq|ne|gt|ge|lt|le) "[^"]*""#).expect("valid");
    let dropped = unmapped.replace_all(&filter, "").into_owned();
    if dropped == filter {
        return Before::Pass;
    }
    Before::Query(seen.query_with(&[("filter", Some(dropped))]))
}

fn start_index_below_one_rejected(seen: &Seen) -> Before {
    if is_collection_get(seen) && int_param(seen, "startIndex").is_some_and(|i| i < 1) {
        return error(StatusCode::BAD_REQUEST, Some("invalidValue"), "startIndex must be at least 1");
    }
    Before::Pass
}

fn start_index_zero_based(seen: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    if !is_collection_get(seen) || int_param(seen, "startIndex").is_none() {
        return;
    }
    let Some(list) = body.as_mut().and_then(|b| b.get_mut("Resources")).and_then(Value::as_array_mut) else {
        return;
    };
    if !list.is_empty() {
        list.remove(0);
    }
    let left = list.len();
    if let Some(b) = body.as_mut() {
        b["itemsPerPage"] = json!(left);
    }
}

fn total_results_counts_page(seen: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    if !is_collection_get(seen) || seen.param("count").is_none() {
        return;
    }
    if let Some(b) = body.as_mut() {
        if let Some(n) = b.get("Resources").and_then(Value::as_array).map(Vec::len) {
            b["totalResults"] = json!(n);
        }
    }
}

fn count_zero_total_zero(seen: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    if is_collection_get(seen) && int_param(seen, "count") == Some(0) {
        if let Some(b) = body.as_mut().filter(|b| b.get("totalResults").is_some()) {
            b["totalResults"] = json!(0);
        }
    }
}

fn negative_count_rejected(seen: &Seen) -> Before {
    if is_collection_get(seen) && int_param(seen, "count").is_some_and(|c| c < 0) {
        return error(StatusCode::BAD_REQUEST, Some("invalidValue"), "count must not be negative");
    }
    Before::Pass
}

fn past_end_error(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    let total = body.as_ref().and_then(|b| b.get("totalResults")).and_then(Value::as_i64).unwrap_or(0);
    let start = int_param(seen, "startIndex").unwrap_or(1);
    if is_collection_get(seen) && *status == StatusCode::OK && total > 0 && start > total {
        *status = StatusCode::BAD_REQUEST;
        *body = Some(scim_error(400, Some("invalidValue"), "startIndex is beyond the last result"));
    }
}

fn sort_resources(body: &mut Option<Value>, cmp: impl FnMut(&Value, &Value) -> std::cmp::Ordering) {
    if let Some(list) = body.as_mut().and_then(|b| b.get_mut("Resources")).and_then(Value::as_array_mut) {
        list.sort_by(cmp);
    }
}

fn version_of(r: &Value) -> u64 {
    let v = r.pointer("/meta/version").and_then(Value::as_str).unwrap_or_default();
    v.trim_start_matches("W/").trim_matches('"').parse().unwrap_or(0)
}

fn sort_ignored(seen: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    if is_collection_get(seen) && seen.param("sortBy").is_some() {
        sort_resources(body, |a, b| version_of(a).cmp(&version_of(b)));
    }
}

fn sort_order_ignored(seen: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    let descending = seen.param("sortOrder").is_some_and(|o| o.eq_ignore_ascii_case("descending"));
    if is_collection_get(seen) && descending {
        if let Some(list) = body.as_mut().and_then(|b| b.get_mut("Resources")).and_then(Value::as_array_mut) {
            list.reverse();
        }
    }
}

fn sort_case_sensitive(seen: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    let by_user_name = seen.param("sortBy").is_some_and(|s| s.eq_ignore_ascii_case("userName"));
    if !is_collection_get(seen) || !by_user_name {
        return;
    }
    let descending = seen.param("sortOrder").is_some_and(|o| o.eq_ignore_ascii_case("descending"));
    let name = |r: &Value| r.get("userName").and_then(Value::as_str).unwrap_or_default().to_string();
    sort_resources(body, |a, b| {
        let ord = name(a).cmp(&name(b));
        if descending {
            ord.reverse()
        } else {
            ord
        }
    });
}

// ------------------------------------------------------------------------------------------------------------
// attributes / excludedAttributes

fn list_param(seen: &Seen, name: &str) -> Vec<String> {
    seen.param(name)
        .map(|v| v.split(',').map(|a| a.trim().to_string()).filter(|a| !a.is_empty()).collect())
        .unwrap_or_default()
}

fn attributes_drop_id(seen: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    if seen.method == Method::GET && seen.param("attributes").is_some() {
        for_each_resource(body, |r| {
            if let Some(o) = r.as_object_mut() {
                o.remove("id");
            }
        });
    }
}

fn attributes_subattribute_rejected(seen: &Seen) -> Before {
    if seen.method == Method::GET && list_param(seen, "attributes").iter().any(|a| a.contains('.')) {
        return error(StatusCode::BAD_REQUEST, Some("invalidValue"), "sub-attributes are not supported");
    }
    Before::Pass
}

fn excluded_attributes_ignored(seen: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    let excluded = list_param(seen, "excludedAttributes");
    if seen.method != Method::GET || excluded.is_empty() {
        return;
    }
    for_each_resource(body, |r| {
        if let Some(o) = r.as_object_mut() {
            for name in excluded.iter().filter(|n| !n.contains('.') && !n.contains(':')) {
                if !o.keys().any(|k| k.eq_ignore_ascii_case(name)) {
                    o.insert(name.clone(), json!([]));
                }
            }
        }
    });
}

fn excluded_drops_returned_always(seen: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    if seen.method == Method::GET && list_param(seen, "excludedAttributes").iter().any(|a| a == "id") {
        for_each_resource(body, |r| {
            if let Some(o) = r.as_object_mut() {
                o.remove("id");
            }
        });
    }
}

// ------------------------------------------------------------------------------------------------------------
// Versions

fn etag_version_missing(_: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    for_each_resource(body, |r| {
        if let Some(meta) = r.get_mut("meta").and_then(Value::as_object_mut) {
            meta.remove("version");
        }
    });
}

fn if_match_ignored(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if *status == StatusCode::PRECONDITION_FAILED {
        *status = if seen.method == Method::DELETE { StatusCode::NO_CONTENT } else { StatusCode::OK };
        *body = None;
    }
}

fn if_none_match_ignored(_: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if *status == StatusCode::NOT_MODIFIED {
        *status = StatusCode::OK;
        *body = None;
    }
}

// ------------------------------------------------------------------------------------------------------------
// Errors

fn malformed_json_500(seen: &Seen) -> Before {
    let writes = matches!(seen.method, Method::POST | Method::PUT | Method::PATCH);
    if writes && !seen.body.as_ref().is_some_and(Value::is_object) {
        return Before::Respond(StatusCode::INTERNAL_SERVER_ERROR, Some(json!("Internal Server Error")));
    }
    Before::Pass
}

fn error_status_number(_: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    let Some(b) = body.as_mut() else { return };
    if let Some(n) = b.get("status").and_then(Value::as_str).and_then(|s| s.parse::<u64>().ok()) {
        b["status"] = json!(n);
    }
}

fn not_found_without_body(_: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if *status == StatusCode::NOT_FOUND {
        *body = None;
    }
}

fn uniqueness_without_scimtype(_: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if *status == StatusCode::CONFLICT {
        if let Some(o) = body.as_mut().and_then(Value::as_object_mut) {
            o.remove("scimType");
        }
    }
}

fn readonly_patch_accepted(seen: &Seen) -> Before {
    rewrite_ops(seen, |op| {
        let path = op_path(op).unwrap_or_default().to_ascii_lowercase();
        let read_only = path == "id" || path == "groups" || path == "meta" || path.starts_with("meta.");
        let unassigns_required = op_name(op) == "remove" && path == "username";
        (!(read_only || unassigns_required)).then(|| op.clone())
    })
}

fn me_404(seen: &Seen) -> Before {
    if seen.path == "/Me" || seen.path.starts_with("/Me/") {
        return error(StatusCode::NOT_FOUND, None, "no SCIM endpoint at /Me");
    }
    Before::Pass
}

fn bulk_404(seen: &Seen) -> Before {
    if seen.path.trim_end_matches('/') == "/Bulk" {
        return error(StatusCode::NOT_FOUND, None, "no SCIM endpoint at /Bulk");
    }
    Before::Pass
}

fn bulk_200_not_a_bulk_response(seen: &Seen) -> Before {
    if seen.path.trim_end_matches('/') == "/Bulk" {
        return Before::Respond(StatusCode::OK, Some(json!({"ok": true})));
    }
    Before::Pass
}

fn bulk_response_without_operations(seen: &Seen) -> Before {
    if seen.path.trim_end_matches('/') == "/Bulk" {
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkResponse"]});
        return Before::Respond(StatusCode::OK, Some(body));
    }
    Before::Pass
}

fn unauthorized_without_body(_: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if *status == StatusCode::UNAUTHORIZED {
        *body = None;
    }
}

// ------------------------------------------------------------------------------------------------------------
// Discovery

fn is_discovery(path: &str) -> bool {
    ["/ServiceProviderConfig", "/Schemas", "/ResourceTypes"]
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")))
}

fn is_discovery_list(seen: &Seen) -> bool {
    seen.method == Method::GET && matches!(seen.path.trim_end_matches('/'), "/Schemas" | "/ResourceTypes")
}

fn spc_flags_as_strings(seen: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    if seen.method != Method::GET || seen.path != "/ServiceProviderConfig" {
        return;
    }
    let Some(b) = body.as_mut() else { return };
    for feature in ["patch", "bulk", "filter", "changePassword", "sort", "etag"] {
        if let Some(flag) = b.get_mut(feature).and_then(|f| f.get_mut("supported")) {
            if let Some(x) = flag.as_bool() {
                *flag = json!(x.to_string());
            }
        }
    }
}

fn discovery_plain_array(seen: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    if is_discovery_list(seen) {
        if let Some(resources) = body.as_ref().and_then(|b| b.get("Resources")).cloned() {
            *body = Some(resources);
        }
    }
}

fn schema_by_id_404(seen: &Seen) -> Before {
    if seen.method == Method::GET && seen.path.starts_with("/Schemas/") {
        return error(StatusCode::NOT_FOUND, None, "schema not found");
    }
    Before::Pass
}

fn discovery_honours_paging(seen: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    if !is_discovery_list(seen) {
        return;
    }
    let start = int_param(seen, "startIndex").unwrap_or(1).max(1) as usize;
    let count = int_param(seen, "count").map(|c| c.max(0) as usize);
    let Some(b) = body.as_mut() else { return };
    let Some(list) = b.get_mut("Resources").and_then(Value::as_array_mut) else { return };
    let page: Vec<Value> = list.iter().skip(start - 1).take(count.unwrap_or(usize::MAX)).cloned().collect();
    let n = page.len();
    *list = page;
    b["itemsPerPage"] = json!(n);
    b["startIndex"] = json!(start);
}

fn discovery_write_accepted(seen: &Seen) -> Before {
    if seen.method != Method::GET && is_discovery(&seen.path) {
        return Before::Respond(StatusCode::OK, Some(seen.body.clone().unwrap_or_else(|| json!({}))));
    }
    Before::Pass
}

fn resource_type_endpoint_wrong(seen: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    if seen.method != Method::GET || !seen.path.starts_with("/ResourceTypes") {
        return;
    }
    for_each_resource(body, |r| {
        if r.get("endpoint").and_then(Value::as_str) == Some("/Users") {
            r["endpoint"] = json!("/User");
        }
    });
}

// ------------------------------------------------------------------------------------------------------------
// POST .search

fn search_not_supported(seen: &Seen) -> Before {
    if seen.method == Method::POST && seen.path.ends_with("/.search") {
        return error(StatusCode::NOT_FOUND, None, "no SCIM endpoint here");
    }
    Before::Pass
}

// ------------------------------------------------------------------------------------------------------------
// Creating

fn create_status_200(seen: &Seen, status: &mut StatusCode, _: &mut Option<Value>) {
    if seen.method == Method::POST && *status == StatusCode::CREATED {
        *status = StatusCode::OK;
    }
}

fn meta_location_missing(_: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    for_each_resource(body, |r| {
        if let Some(meta) = r.get_mut("meta").and_then(Value::as_object_mut) {
            meta.remove("location");
        }
    });
}

fn readonly_create_honoured(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if seen.method != Method::POST || *status != StatusCode::CREATED {
        return;
    }
    let Some(req) = seen.body.as_ref() else { return };
    let Some(b) = body.as_mut() else { return };
    if let Some(id) = req.get("id") {
        b["id"] = id.clone();
    }
    if let Some(created) = req.pointer("/meta/created") {
        if let Some(meta) = b.get_mut("meta").and_then(Value::as_object_mut) {
            meta.insert("created".into(), created.clone());
        }
    }
}

fn discovery_filter_ignored(seen: &Seen) -> Before {
    let discovery = ["/Schemas", "/ResourceTypes", "/ServiceProviderConfig"].iter().any(|p| seen.path.starts_with(p));
    if seen.method == Method::GET && discovery && seen.param("filter").is_some() {
        return Before::Query(seen.query_with(&[("filter", None)]));
    }
    Before::Pass
}
