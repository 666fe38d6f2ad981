//! One captured exchange as the converter reads it ([`Ex`]): its method, resource kind, id, filter and JSON
//! bodies, parsed from a [`Flow`].

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Kind {
    Users,
    Groups,
    Other,
}

impl Kind {
    pub(super) fn label(self) -> &'static str {
        match self {
            Kind::Users => "user",
            Kind::Groups => "group",
            Kind::Other => "resource",
        }
    }
}

/// A flow, parsed.
pub(super) struct Ex<'a> {
    pub(super) flow: &'a Flow,
    pub(super) method: Method,
    pub(super) collection: String,
    pub(super) kind: Kind,
    pub(super) id: Option<String>,
    pub(super) params: Vec<(String, String)>,
    pub(super) req: Option<Value>,
    pub(super) resp: Option<Value>,
}

impl Ex<'_> {
    pub(super) fn filter_pairs(&self) -> Vec<(String, String)> {
        self.params.iter().filter(|(k, _)| k.eq_ignore_ascii_case("filter")).flat_map(|(_, f)| eq_clauses(f)).collect()
    }
    pub(super) fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub(super) fn is_list(&self) -> bool {
        self.method == Method::GET && self.id.is_none() && matches!(self.kind, Kind::Users | Kind::Groups)
    }
    pub(super) fn ok(&self) -> bool {
        (200..300).contains(&self.flow.status)
    }
    pub(super) fn resource_ids_in_response(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let Some(r) = &self.resp else { return out };
        if !self.ok() {
            return out;
        }
        // only Users and Groups are resources of the flow; a discovery resource's id is no server resource
        let fixture = |v: &Value| crate::record::fixture::fixture_type(&self.collection, v).is_some();
        if let Some(id) = r.get("id").and_then(Value::as_str) {
            if fixture(r) {
                out.push((id.to_string(), "/id".to_string()));
            }
        }
        if let Some(list) = r.get("Resources").and_then(Value::as_array) {
            for (i, item) in list.iter().enumerate() {
                if let Some(id) = item.get("id").and_then(Value::as_str).filter(|_| fixture(item)) {
                    out.push((id.to_string(), format!("/Resources/{i}/id")));
                }
            }
        }
        out
    }
}

/// `attr eq "value"` clauses of a filter (Okta and Entra only use `eq` and `and`: docs/okta.md §2, docs/entra.md §4).
pub(super) fn eq_clauses(filter: &str) -> Vec<(String, String)> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(r#"(?i)([A-Za-z0-9_.:\[\]" ]+?)\s+eq\s+"((?:[^"\\]|\\.)*)""#).expect("valid regex")
    });
    re.captures_iter(filter)
        .map(|c| {
            let attr = c[1].trim().trim_start_matches("and ").trim().to_string();
            (attr, c[2].replace("\\\"", "\""))
        })
        .collect()
}

pub(super) fn parse_method(m: &str) -> Option<Method> {
    use Method::*;
    Some(match m.to_ascii_uppercase().as_str() {
        "GET" => GET,
        "POST" => POST,
        "PUT" => PUT,
        "PATCH" => PATCH,
        "DELETE" => DELETE,
        _ => return None,
    })
}

pub(super) fn parse<'a>(flow: &'a Flow) -> Result<Ex<'a>, String> {
    let method = parse_method(&flow.method).ok_or_else(|| format!("{} is not a SCIM method", flow.method))?;
    let segments: Vec<String> = flow
        .path
        .trim_start_matches('/')
        .split('/')
        .map(|s| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect();
    let collection = segments.first().cloned().unwrap_or_default();
    let kind = match collection.as_str() {
        "Users" => Kind::Users,
        "Groups" => Kind::Groups,
        _ => Kind::Other,
    };
    let id = segments.get(1).filter(|s| !s.is_empty()).cloned();
    Ok(Ex {
        flow,
        method,
        collection,
        kind,
        id,
        params: decode_query(&flow.query),
        req: flow.request_body.json(),
        resp: flow.response_body.json(),
    })
}
