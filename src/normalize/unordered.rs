//! What RFC 7644 leaves unspecified in a list response is not recorded in a transcript.
//!
//! Without `sortBy` the order of a list's `Resources` is the service provider's (RFC 7644 §3.4.2.3: sorting is
//! OPTIONAL; without it nothing orders the results), and a page of such a list (RFC 7644 §3.4.2.4: `startIndex`,
//! `count`) may hold any of the matching resources. A server that returns resources created in the same second in
//! any order is conformant, so a snapshot of its transcript must not drift on it. For the response to a list request
//! without `sortBy` (`GET` without a `sortBy` parameter, `POST …/.search` without a `sortBy` member):
//! - a **whole list** (as many `Resources` as `totalResults`, or no `totalResults`) is put in a canonical order
//!   before server ids get their placeholders: resources whose id the transcript showed before first, in the order
//!   of that id's first appearance, then the others by their normalised content with every server id masked;
//! - a **partial page** (fewer `Resources` than `totalResults`) keeps each resource's shape only — its attribute
//!   names, and its `schemas` and `meta.resourceType`; every other value becomes `[string]`, `[number]` or
//!   `[boolean]`, and repeated shapes within an array are listed once — the resources in a canonical order.
//!
//! What stays visible is behaviour: the status, the headers, `totalResults`, `itemsPerPage`, `startIndex`, how many
//! resources a page holds, and an attribute missing from (or added to) a listed resource.

use serde_json::{Map, Value};

/// What a string value of a partial page's resource becomes; never a server id.
pub(super) const SHAPE_STRING: &str = "[string]";

/// Reorders (and for partial pages reduces) the `Resources` of every unsorted list response in the raw transcript
/// entries `raw` (as built by `raw_entry`), in transcript order. `masked` renders one resource with every server
/// id masked and the other normalisation rules applied: the order key of a resource not seen before.
pub(super) fn canonicalise(raw: &mut [Value], masked: impl Fn(&Value) -> String) {
    let mut seen: Vec<String> = Vec::new();
    for entry in raw.iter_mut() {
        if unsorted_list_request(entry) {
            if let Some(body) = entry.pointer_mut("/response/body").and_then(Value::as_object_mut) {
                canonicalise_body(body, &seen, &masked);
            }
        }
        for (id, _) in super::entry_ids(entry) {
            if !seen.contains(&id) {
                seen.push(id);
            }
        }
    }
}

/// Whether a raw entry is a list request whose order is unspecified: a `GET` without `sortBy` or a
/// `POST …/.search` whose body has no `sortBy` (RFC 7644 §3.4.2.3, §3.4.3).
fn unsorted_list_request(entry: &Value) -> bool {
    let request = &entry["request"];
    let has_sort =
        |o: Option<&Map<String, Value>>| o.is_some_and(|o| o.keys().any(|k| k.eq_ignore_ascii_case("sortBy")));
    match request["method"].as_str() {
        Some("GET") => !has_sort(request["query"].as_object()),
        Some("POST") => {
            request["path"].as_str().is_some_and(|p| p.trim_end_matches('/').ends_with("/.search"))
                && !has_sort(request["body"].as_object())
        }
        _ => false,
    }
}

fn canonicalise_body(body: &mut Map<String, Value>, seen: &[String], masked: &impl Fn(&Value) -> String) {
    let total = body.get("totalResults").and_then(Value::as_u64);
    let Some(Value::Array(resources)) = body.get_mut("Resources") else {
        return;
    };
    let partial = total.is_some_and(|t| (resources.len() as u64) < t);
    if partial {
        let mut shapes: Vec<(String, Value)> =
            resources.iter().map(shape).map(|s| (super::render(&super::sort_keys(s.clone())), s)).collect();
        shapes.sort_by(|a, b| a.0.cmp(&b.0));
        *resources = shapes.into_iter().map(|(_, s)| s).collect();
        return;
    }
    let mut keyed: Vec<((usize, String), Value)> = resources
        .drain(..)
        .map(|r| {
            let id = r.get("id").and_then(super::id_string);
            let prior = id.and_then(|id| seen.iter().position(|s| *s == id)).unwrap_or(usize::MAX);
            ((prior, masked(&r)), r)
        })
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    resources.extend(keyed.into_iter().map(|(_, r)| r));
}

/// A listed resource's shape: attribute names kept, `schemas` and `meta.resourceType` (vocabulary) kept, every other
/// value replaced by its JSON type; an array's distinct element shapes, sorted.
fn shape(v: &Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| {
                    let kept = k == "schemas" || k == "resourceType";
                    (k.clone(), if kept { x.clone() } else { shape(x) })
                })
                .collect(),
        ),
        Value::Array(a) => {
            let mut items: Vec<(String, Value)> =
                a.iter().map(shape).map(|s| (super::render(&super::sort_keys(s.clone())), s)).collect();
            items.sort_by(|a, b| a.0.cmp(&b.0));
            items.dedup_by(|a, b| a.0 == b.0);
            Value::Array(items.into_iter().map(|(_, s)| s).collect())
        }
        Value::String(_) => SHAPE_STRING.into(),
        Value::Number(_) => "[number]".into(),
        Value::Bool(_) => "[boolean]".into(),
        Value::Null => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user(id: &str, name: &str) -> Value {
        json!({"id": id, "userName": name, "active": true, "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
               "meta": {"resourceType": "User", "location": format!("/Users/{id}")}})
    }

    fn list(query: Value, resources: Vec<Value>, total: usize) -> Value {
        json!({"request": {"method": "GET", "path": "/Users", "query": query},
               "response": {"status": 200, "body": {"totalResults": total, "itemsPerPage": resources.len(),
                                                    "Resources": resources}}})
    }

    fn create(id: &str, name: &str) -> Value {
        json!({"request": {"method": "POST", "path": "/Users"}, "response": {"status": 201, "body": user(id, name)}})
    }

    fn masked(v: &Value) -> String {
        let mut c = v.clone();
        c["id"] = "[id]".into();
        c["meta"]["location"] = "[id]".into();
        c.to_string()
    }

    #[test]
    fn a_whole_unsorted_list_comes_in_one_order_whatever_the_server_s() {
        let run = |order: [usize; 3]| {
            let users = [user("a1", "ann"), user("b2", "bob"), user("c3", "cy")];
            let listed: Vec<Value> = order.iter().map(|i| users[*i].clone()).collect();
            let mut raw = vec![create("b2", "bob"), create("a1", "ann"), list(json!({}), listed, 3)];
            canonicalise(&mut raw, masked);
            raw[2]["response"]["body"]["Resources"].clone()
        };
        let first = run([0, 1, 2]);
        assert_eq!(first, run([2, 1, 0]));
        assert_eq!(first, run([1, 2, 0]));
        // the ids the transcript showed first come first, in that order; then the others by content
        let ids: Vec<&str> = first.as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["b2", "a1", "c3"]);
    }

    #[test]
    fn a_partial_unsorted_page_keeps_shapes_not_members() {
        let page = |members: [Value; 2]| {
            let mut raw = vec![list(json!({"startIndex": "1", "count": "2"}), members.to_vec(), 3)];
            canonicalise(&mut raw, masked);
            raw.remove(0)
        };
        let one = page([user("a1", "ann"), user("b2", "bob")]);
        assert_eq!(one, page([user("c3", "cy"), user("a1", "ann")]));
        let r = &one["response"]["body"]["Resources"][0];
        assert_eq!(r["userName"], SHAPE_STRING);
        assert_eq!(r["meta"]["resourceType"], "User");
        assert_eq!(r["schemas"][0], "urn:ietf:params:scim:schemas:core:2.0:User");
        assert_eq!(one["response"]["body"]["totalResults"], 3);
        // a listed resource without an attribute is a different shape
        let mut without = user("c3", "cy");
        without.as_object_mut().unwrap().remove("active");
        assert_ne!(one, page([without, user("a1", "ann")]));
    }

    #[test]
    fn a_sorted_list_and_a_single_resource_keep_their_order() {
        let users = vec![user("c3", "cy"), user("a1", "ann")];
        let mut raw = vec![list(json!({"sortBy": "userName"}), users.clone(), 3)];
        canonicalise(&mut raw, masked);
        assert_eq!(raw[0]["response"]["body"]["Resources"], Value::Array(users.clone()));
        let mut search = json!({"request": {"method": "POST", "path": "/Users/.search", "body": {"sortBy": "userName"}},
                                "response": {"status": 200, "body": {"totalResults": 2, "Resources": users.clone()}}});
        canonicalise(std::slice::from_mut(&mut search), masked);
        assert_eq!(search["response"]["body"]["Resources"], Value::Array(users));
    }
}
