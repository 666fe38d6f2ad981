//! What a scenario leaves on the server: every resource a create answered with an `id` — whatever the status, a
//! 200 as much as a 201 (RFC 7644 §3.3 asks for 201, and a server answering otherwise still created it) — is
//! remembered until a DELETE of it succeeds, so the runner deletes it after the scenario's steps and reports what it
//! could not delete.

use serde_json::Value;

use crate::exchange::{Method, Observed};

/// Remembers what a POST created and forgets what a DELETE removed.
///
/// A create is remembered whatever its status when its body names an `id` (a server answering `200` instead
/// of `201`, RFC 7644 §3.3, still created the resource and it must not be left behind); without a body `id`,
/// a `2xx` `Location` names it. POSTs to `/.search` (RFC 7644 §3.4.3) and `/Bulk` (§3.7) create nothing.
pub fn track_created(method: Method, path: &str, obs: &Observed, created: &mut Vec<String>) {
    match method {
        Method::POST if !creates_nothing(path) => {
            let id = match obs.json().and_then(|b| b.get("id")) {
                Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ if (200..300).contains(&obs.status) => obs.created_id_from_location(),
                _ => None,
            };
            if let Some(id) = id.filter(|id| !id.contains(['/', '?', '#'])) {
                let p = format!("{}/{id}", path.trim_end_matches('/'));
                if !created.contains(&p) {
                    created.push(p);
                }
            }
        }
        Method::DELETE if (200..300).contains(&obs.status) || obs.status == 404 => {
            created.retain(|p| p != path);
        }
        _ => {}
    }
}

/// Whether a POST to `path` is a query or a bulk request rather than a create.
fn creates_nothing(path: &str) -> bool {
    let last = path.split('?').next().unwrap_or("").trim_end_matches('/').rsplit('/').next().unwrap_or("");
    last.eq_ignore_ascii_case(".search") || last.eq_ignore_ascii_case("Bulk")
}
