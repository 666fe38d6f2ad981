//! What an answer shows of a resource: `meta.location` and the `$ref`s it gains (RFC 7643 §3.1, §4.1.2, §4.2),
//! and the `attributes` / `excludedAttributes` projection (RFC 7644 §3.4.2.5, §3.9) parsed once per request and
//! applied to every resource returned. HTTP-free: the handlers pass the query's two values in.

use serde_json::{Map, Value};

use crate::error::{ScimError, ScimResult};
use crate::filter::AttrPath;
use crate::resource;
use crate::schema::ResourceKind;

mod shown;
pub use shown::{Shown, ShownList};

/// `meta.location` of the resource `id` of `kind` served at `base` (RFC 7643 §3.1).
pub(crate) fn location_url(kind: ResourceKind, base: &str, id: &str) -> String {
    format!("{base}{}/{id}", kind.resource_type().endpoint)
}

/// The `$ref` of an element of `groups` (`members` false: always a Group) or `members` (its `type`, a User
/// when absent) served at `base` (RFC 7643 §4.1.2, §4.2).
pub(crate) fn member_ref(base: &str, element: &serde_json::Map<String, Value>, members: bool) -> String {
    let value = element.get("value").and_then(Value::as_str).unwrap_or_default();
    let ty = if members { element.get("type").and_then(Value::as_str).unwrap_or("User") } else { "Group" };
    let endpoint = if ty.eq_ignore_ascii_case("Group") { "/Groups" } else { "/Users" };
    format!("{base}{endpoint}/{value}")
}

/// Adds `meta.location` and the `$ref`s of `groups` / `members` (RFC 7643 §3.1, §4.1.2, §4.2).
pub fn decorate(kind: ResourceKind, v: &mut Value, base: &str) {
    let Some(obj) = v.as_object_mut() else { return };
    let id = obj.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
    if let Some(meta) = obj.get_mut("meta").and_then(Value::as_object_mut) {
        meta.insert("location".into(), Value::String(location_url(kind, base, &id)));
    }
    for (attr, members) in [("groups", false), ("members", true)] {
        if let Some(list) = obj.get_mut(attr).and_then(Value::as_array_mut) {
            for e in list.iter_mut().filter_map(Value::as_object_mut) {
                let r = member_ref(base, e, members);
                e.insert("$ref".into(), Value::String(r));
            }
        }
    }
}

/// The longest `attributes` / `excludedAttributes` value accepted, in bytes. Every attribute path of every
/// implemented schema, fully qualified, fits several times over; anything longer is refused before any work.
pub const MAX_ATTRIBUTE_LIST: usize = 16 * 1024;

/// The `attributes` / `excludedAttributes` of a request (RFC 7644 §3.4.2.5), parsed and checked once per
/// request for each resource type it may apply to, then applied to every resource returned.
#[derive(Debug, Default, Clone)]
pub struct Projection {
    requested: bool,
    /// Per resource type: the attributes and the excluded attributes.
    lists: Vec<(ResourceKind, Vec<AttrPath>, Vec<AttrPath>)>,
}

fn bounded<'a>(name: &str, list: Option<&'a str>) -> ScimResult<Option<&'a str>> {
    match list {
        Some(l) if l.len() > MAX_ATTRIBUTE_LIST => Err(ScimError::InvalidValue(format!(
            "'{name}' is {} bytes long; at most {MAX_ATTRIBUTE_LIST} are accepted",
            l.len()
        ))),
        other => Ok(other),
    }
}

impl Projection {
    /// Parses both lists for `kinds`. With one kind every name must be one of its attributes; over several
    /// (a root search) each name must be known to at least one of them and is skipped for the others.
    /// A list longer than [`MAX_ATTRIBUTE_LIST`] or naming an unknown attribute is 400 `invalidValue`.
    pub fn parse(attributes: Option<&str>, excluded: Option<&str>, kinds: &[ResourceKind]) -> ScimResult<Self> {
        let attributes = bounded("attributes", attributes)?;
        let excluded = bounded("excludedAttributes", excluded)?;
        let requested = attributes.is_some() || excluded.is_some();
        let names = |s: Option<&str>| -> Vec<String> {
            let mut seen = std::collections::HashSet::new();
            s.unwrap_or("")
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .filter(|n| seen.insert(n.to_ascii_lowercase()))
                .map(str::to_string)
                .collect()
        };
        let (attr_names, excl_names) = (names(attributes), names(excluded));
        for name in attr_names.iter().chain(&excl_names) {
            let mut first_error = None;
            let known = kinds.iter().any(|k| match resource::parse_attribute_list(k.resource_type(), name) {
                Ok(_) => true,
                Err(e) => {
                    first_error.get_or_insert(e);
                    false
                }
            });
            if let (false, Some(e)) = (known, first_error) {
                return Err(e);
            }
        }
        let lists = kinds
            .iter()
            .map(|k| {
                let rt = k.resource_type();
                let parse = |ns: &[String]| -> Vec<AttrPath> {
                    let mut out: Vec<AttrPath> = Vec::new();
                    for p in ns.iter().filter_map(|n| resource::parse_attribute_list(rt, n).ok()).flatten() {
                        if !out.contains(&p) {
                            out.push(p);
                        }
                    }
                    out
                };
                let mut attrs = parse(&attr_names);
                if attrs.is_empty() && !attr_names.is_empty() {
                    // A root search's `attributes` that name nothing of this type leave it only the attributes
                    // always returned (RFC 7644 §3.4.2.5: `attributes` replaces the default set), not all of them.
                    attrs = parse(&["id".to_string()]);
                }
                (*k, attrs, parse(&excl_names))
            })
            .collect();
        Ok(Projection { requested, lists })
    }

    /// Whether [`Projection::apply`] keeps any part of the core attribute `attr` of `kind`: probed with a
    /// resource holding only `attr`, one element carrying every sub-attribute, so the answer follows
    /// [`resource::project`]'s rules (`members.display` alone keeps `members`) and cannot drift from them.
    pub fn keeps(&self, kind: ResourceKind, attr: &str) -> bool {
        let Some(def) = kind.resource_type().schema.attr(attr) else { return true };
        let element: Map<String, Value> =
            def.sub_attributes.iter().map(|sub| (sub.name.to_string(), Value::String("x".into()))).collect();
        let probe = Value::Object(Map::from_iter([(attr.to_string(), Value::Array(vec![Value::Object(element)]))]));
        self.apply_lists(kind, probe).get(attr).is_some()
    }

    /// Whether the request gave `attributes` or `excludedAttributes` at all.
    pub fn is_requested(&self) -> bool {
        self.requested
    }

    /// Whether, for a resource of `kind` with no top-level member named `attr` (up to ASCII case), this projection
    /// answers what the default projection answers: none was requested, or no `attributes` and an
    /// `excludedAttributes` naming nothing but the whole core attribute `attr` (RFC 7644 §3.4.2.5). Entra's
    /// `excludedAttributes=members` and a read-back's `excludedAttributes=groups` on a resource rendered without its
    /// membership are such projections, so their answers can be written by [`Shown`] like a default one.
    pub fn is_default_without(&self, kind: ResourceKind, attr: &str) -> bool {
        match self.lists.iter().find(|(k, _, _)| *k == kind) {
            Some((_, a, e)) if self.requested => {
                a.is_empty() && e.iter().all(|p| p.urn.is_none() && p.sub.is_none() && p.name == attr)
            }
            _ => true,
        }
    }

    /// `v` with `meta.location` and `$ref`s added ([`decorate`]), then projected.
    pub fn apply(&self, kind: ResourceKind, mut v: Value, base: &str) -> Value {
        decorate(kind, &mut v, base);
        self.apply_lists(kind, v)
    }

    /// `v` projected by the lists for its `kind`: the requested attributes, or the default set
    /// ([`resource::project`]).
    pub fn apply_lists(&self, kind: ResourceKind, v: Value) -> Value {
        match self.lists.iter().find(|(k, _, _)| *k == kind) {
            Some((_, a, e)) if self.requested => resource::project(kind.resource_type(), v, a, e),
            _ => resource::project(kind.resource_type(), v, &[], &[]),
        }
    }
}
