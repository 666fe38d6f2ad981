//! What a recorded step expects: the assertions the upstream's answer gives (echoes of written attributes,
//! lookup counts, error details, page fields) and the scenario step built from a draft.

use super::*;
use crate::scenario::Check;

impl Ctx<'_, '_> {
    /// Assertions on what the response showed: echoes of written attributes, lookup counts, error details.
    pub(super) fn assertions(
        &self,
        ex: &Ex<'_>,
        t: &Templater<'_>,
        state: &HashMap<String, Written>,
    ) -> Vec<Assertion> {
        let mut out = Vec::new();
        let Some(r) = &ex.resp else { return out };
        if !ex.ok() {
            let schemas = r.get("schemas").and_then(Value::as_array);
            if schemas.is_some_and(|s| s.iter().any(|x| x == ERROR_URN)) {
                out.push(Assertion::new("/schemas", Check::Contains(json!(ERROR_URN))));
            }
            for k in ["scimType", "status"] {
                if let Some(v) = r.get(k) {
                    out.push(Assertion::new(format!("/{k}"), Check::Equals(v.clone())));
                }
            }
            return out;
        }
        let excluded_members =
            ex.param("excludedAttributes").is_some_and(|v| v.to_ascii_lowercase().contains("members"));
        let echo = |prefix: &str, res: &Value, out: &mut Vec<Assertion>| {
            let Some(id) = res.get("id").and_then(Value::as_str) else { return };
            if let Some(cap) = t.ids.get(id) {
                out.push(Assertion::new(format!("{prefix}/id"), Check::Equals(json!(format!("{{{{{cap}}}}}")))));
            }
            if let Some(w) = state.get(id) {
                for (p, written) in &w.attrs {
                    if let Some(observed) = res.pointer(p) {
                        if echoes(written, observed) {
                            out.push(Assertion::new(format!("{prefix}{p}"), Check::Equals(t.value(observed, None))));
                        }
                    }
                }
                if let (Some(set), Some(list)) = (&w.members, res.get("members")) {
                    let observed: BTreeSet<String> = member_ids(list).into_iter().collect();
                    if &observed == set {
                        out.push(Assertion::new(format!("{prefix}/members"), Check::Length(set.len() as u64)));
                    }
                }
            }
            if excluded_members && self.kinds.get(id) == Some(&Kind::Groups) && res.get("members").is_none() {
                out.push(Assertion::new(format!("{prefix}/members"), Check::Absent));
            }
        };
        if r.get("Resources").is_some() || r.get("totalResults").is_some() {
            if let Some(schemas) = r.get("schemas").and_then(Value::as_array) {
                if schemas.iter().any(|x| x == LIST_URN) {
                    out.push(Assertion::new("/schemas", Check::Contains(json!(LIST_URN))));
                }
            }
            if let Some(total) = r.get("totalResults") {
                if !ex.filter_pairs().is_empty() {
                    out.push(Assertion::new("/totalResults", Check::Equals(total.clone())));
                } else {
                    out.push(Assertion::new("/totalResults", Check::IsNumber));
                }
            }
            if !ex.filter_pairs().is_empty() {
                if let Some(list) = r.get("Resources").and_then(Value::as_array) {
                    for (i, item) in list.iter().enumerate().take(5) {
                        echo(&format!("/Resources/{i}"), item, &mut out);
                    }
                }
            }
        } else if matches!(ex.kind, Kind::Users | Kind::Groups) {
            echo("", r, &mut out);
        }
        // the step that captures an id cannot also assert it (the capture is defined after the step)
        out.retain(|a| {
            let refers_to_own_capture = matches!(&a.check, Check::Equals(Value::String(s)) if
                ex.resource_ids_in_response().iter().any(|(id, _)| !t.ids.contains_key(id) && s.contains(id.as_str())));
            !refers_to_own_capture
        });
        out
    }
}

/// Checks every page of a replayed page loop must pass (the runner adds RFC 7644 §3.4.2.4 checks across pages).
pub(super) fn page_assertions(last: &Ex<'_>) -> Vec<Assertion> {
    let mut out = Vec::new();
    let r = last.resp.as_ref();
    if r.and_then(|r| r.get("schemas")).and_then(Value::as_array).is_some_and(|s| s.iter().any(|x| x == LIST_URN)) {
        out.push(Assertion::new("/schemas", Check::Contains(json!(LIST_URN))));
    }
    for k in ["totalResults", "startIndex", "itemsPerPage"] {
        if r.and_then(|r| r.get(k)).is_some_and(Value::is_number) {
            out.push(Assertion::new(format!("/{k}"), Check::IsNumber));
        }
    }
    out
}

/// The scenario step of a draft: its request as recorded, the status and assertions the upstream's answer
/// gives, under a basis that says the recording is its own source.
pub(super) fn step(d: &Draft) -> Step {
    // a recording is its own source: the upstream's answers are what the replay holds the server to
    let basis = if d.name.starts_with("Setup: ") {
        "precondition of the recorded flow: the resource existed on the upstream before the recording"
    } else {
        "recorded: the IdP sent this request and the upstream answered so (captured traffic, see source)"
    };
    Step {
        name: d.name.clone(),
        level: None,
        kind: None,
        note: Some(d.note.clone()),
        basis: Some(Basis::Required(basis.into())),
        request: scenario::Request {
            method: d.method,
            path: d.path.clone(),
            query: Query(d.query.clone()),
            spaces: d.spaces,
            headers: d.headers.clone(),
            body: d.body.clone(),
            body_text: d.body_text.clone(),
            auth: d.auth,
        },
        expect: Expect { status: Some(StatusSet::One(d.status)), body: d.assertions.clone(), ..Expect::default() },
        capture: d.capture.iter().map(|(k, p)| (k.clone(), Capture::Pointer(p.clone()))).collect(),
        repeat: None,
        pages: d.pages,
        setup: false,
        pause: None,
        with_next: false,
    }
}
