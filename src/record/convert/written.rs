//! What a flow has written to each resource ([`Written`]) and the values it sent, followed through its writes
//! (POST, PUT, PATCH) so that a later response can be checked for echoing them.

use super::*;

/// What the flow has written to one resource so far.
#[derive(Default, Clone)]
pub(super) struct Written {
    pub(super) attrs: BTreeMap<String, Value>,
    pub(super) members: Option<BTreeSet<String>>,
}

pub(super) fn pointer_escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// A SCIM attribute path (`name.givenName`, `urn:…:User:employeeNumber`) as a JSON pointer; `None` for value
/// filters (`emails[type eq "work"].value`), which name no fixed position.
pub(super) fn attr_pointer(path: &str) -> Option<String> {
    if path.contains('[') {
        return None;
    }
    if path.to_ascii_lowercase().starts_with("urn:") {
        let (urn, attr) = path.rsplit_once(':')?;
        let mut p = format!("/{}", pointer_escape(urn));
        for part in attr.split('.') {
            p.push('/');
            p.push_str(&pointer_escape(part));
        }
        return Some(p);
    }
    Some(path.split('.').map(|p| format!("/{}", pointer_escape(p))).collect())
}

/// Leaves of a written value under `prefix`, skipping what is not echoed.
pub(super) fn flatten(v: &Value, prefix: &str, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                if prefix.is_empty() && NOT_TRACKED.iter().any(|n| n.eq_ignore_ascii_case(k)) {
                    continue;
                }
                if k == "$ref" {
                    continue;
                }
                flatten(x, &format!("{prefix}/{}", pointer_escape(k)), out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                flatten(x, &format!("{prefix}/{i}"), out);
            }
        }
        Value::Null => {}
        leaf => {
            if !prefix.is_empty() {
                out.insert(prefix.to_string(), leaf.clone());
            }
        }
    }
}

/// Whether the response value echoes what was written (Entra's default dialect writes `"False"` for `false`).
pub(super) fn echoes(written: &Value, observed: &Value) -> bool {
    if written == observed {
        return true;
    }
    match (written, observed) {
        (Value::String(s), Value::Bool(b)) => s.eq_ignore_ascii_case(if *b { "true" } else { "false" }),
        _ => false,
    }
}

pub(super) fn member_ids(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("value").and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// Applies a write to the tracked state of its resource (RFC 7644 §3.5.1 PUT replaces, §3.5.2 PATCH ops).
pub(super) fn apply_write(ex: &Ex<'_>, w: &mut Written) {
    let Some(body) = &ex.req else { return };
    match ex.method {
        Method::POST | Method::PUT => {
            w.attrs.clear();
            flatten(body, "", &mut w.attrs);
            if ex.kind == Kind::Groups {
                w.members = Some(body.get("members").map(member_ids).unwrap_or_default().into_iter().collect());
            }
        }
        Method::PATCH => {
            for op in operations(body) {
                let name = op.get("op").and_then(Value::as_str).unwrap_or("").to_ascii_lowercase();
                let path = op.get("path").and_then(Value::as_str);
                let value = op.get("value");
                match (path, value) {
                    (Some(p), _)
                        if p.eq_ignore_ascii_case("members") || p.to_ascii_lowercase().starts_with("members[") =>
                    {
                        let mut set = w.members.clone().unwrap_or_default();
                        let known = w.members.is_some();
                        match name.as_str() {
                            "add" => set.extend(value.map(member_ids).unwrap_or_default()),
                            "replace" => set = value.map(member_ids).unwrap_or_default().into_iter().collect(),
                            "remove" => {
                                let named: Vec<String> =
                                    value.map(member_ids).unwrap_or_default().into_iter().chain(quoted(p)).collect();
                                if named.is_empty() {
                                    set.clear();
                                } else {
                                    set.retain(|m| !named.contains(m));
                                }
                            }
                            _ => {}
                        }
                        w.members = (known || name == "replace").then_some(set);
                    }
                    (Some(p), v) => {
                        let Some(mut ptr) = attr_pointer(p) else { continue };
                        let mut v = v.cloned();
                        if p.to_ascii_lowercase().ends_with(":manager") {
                            // Entra sends the manager as a bare id or {"value": id}; it reads back as manager.value
                            // (docs/entra.md §2 "Manager").
                            ptr.push_str("/value");
                            v = v.map(|x| x.get("value").cloned().unwrap_or(x));
                        }
                        w.attrs.retain(|k, _| !(k == &ptr || k.starts_with(&format!("{ptr}/"))));
                        if name != "remove" {
                            if let Some(v) = v {
                                if !v.is_array() {
                                    let mut m = BTreeMap::new();
                                    flatten(&v, &ptr, &mut m);
                                    if !v.is_object() {
                                        m.insert(ptr.clone(), v.clone());
                                    }
                                    m.retain(|_, x| !x.as_str().is_some_and(str::is_empty));
                                    w.attrs.extend(m);
                                }
                            }
                        }
                    }
                    (None, Some(Value::Object(o))) => {
                        for (k, x) in o {
                            if k.eq_ignore_ascii_case("members") {
                                w.members = Some(member_ids(x).into_iter().collect());
                                continue;
                            }
                            if NOT_TRACKED.iter().any(|n| n.eq_ignore_ascii_case(k)) {
                                continue;
                            }
                            let Some(ptr) = attr_pointer(k) else { continue };
                            w.attrs.retain(|p, _| !(p == &ptr || p.starts_with(&format!("{ptr}/"))));
                            let mut m = BTreeMap::new();
                            flatten(x, &ptr, &mut m);
                            if !x.is_object() && !x.is_array() {
                                m.insert(ptr, x.clone());
                            }
                            w.attrs.extend(m);
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

/// The role of a written attribute, for value planning.
pub(super) fn role_of(pointer: &str) -> Option<Role> {
    let p = pointer.to_ascii_lowercase();
    Some(match p.as_str() {
        "/username" => Role::UserName,
        "/externalid" => Role::ExternalId,
        "/displayname" => Role::DisplayName,
        "/name/givenname" => Role::GivenName,
        "/name/familyname" => Role::FamilyName,
        "/name/formatted" => Role::Formatted,
        "/name/middlename" | "/nickname" => Role::Other,
        "/password" => Role::Password,
        _ if p.starts_with("/emails/") && p.ends_with("/value") => Role::Email,
        _ if p.ends_with("/employeenumber") => Role::Other,
        _ => return None,
    })
}

/// Identity values a write carries, with their roles.
pub(super) fn written_values(ex: &Ex<'_>, out: &mut Vec<(String, Role)>) {
    let Some(body) = &ex.req else { return };
    pub(super) fn visit(ptr: &str, v: &Value, out: &mut Vec<(String, Role)>) {
        let mut leaves = BTreeMap::new();
        flatten_all(v, ptr, &mut leaves);
        for (p, x) in leaves {
            if let (Some(role), Some(s)) = (role_of(&p), x.as_str()) {
                out.push((s.to_string(), role));
            }
        }
    }
    match ex.method {
        Method::POST | Method::PUT => visit("", body, out),
        Method::PATCH => {
            for op in operations(body) {
                let value = op.get("value").cloned().unwrap_or(Value::Null);
                match op.get("path").and_then(Value::as_str) {
                    Some(p) if p.to_ascii_lowercase().starts_with("emails") && p.ends_with(".value") => {
                        if let Some(s) = value.as_str() {
                            out.push((s.to_string(), Role::Email));
                        }
                    }
                    Some(p) => {
                        if let Some(ptr) = attr_pointer(p) {
                            visit(&ptr, &value, out)
                        }
                    }
                    None => {
                        if let Some(o) = value.as_object() {
                            for (k, x) in o {
                                if let Some(ptr) = attr_pointer(k) {
                                    visit(&ptr, x, out);
                                }
                            }
                        }
                    }
                }
            }
        }
        _ => {}
    }
}

/// Like [`flatten`] but keeps `password`.
pub(super) fn flatten_all(v: &Value, prefix: &str, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(o) => o.iter().for_each(|(k, x)| flatten_all(x, &format!("{prefix}/{}", pointer_escape(k)), out)),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| flatten_all(x, &format!("{prefix}/{i}"), out)),
        Value::Null => {}
        leaf => {
            out.insert(prefix.to_string(), leaf.clone());
        }
    }
}
