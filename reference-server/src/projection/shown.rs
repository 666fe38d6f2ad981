//! A resource as an answer shows it by default — `meta.location` and the `$ref`s added ([`super::decorate`]), then
//! the schema's default projection applied ([`crate::resource::project`] with no `attributes` and no
//! `excludedAttributes`: RFC 7644 §3.4.2.5, RFC 7643 §7 `returned`) — written straight to JSON text from the
//! rendered resource, without building the decorated and projected copy first.
//!
//! The text is byte for byte what serialising `project(decorate(resource))` writes: members in the same (sorted)
//! order, an added `location` or `$ref` in its place among them, the same members and elements dropped (a
//! differential test below compares the two over seeded resources of every shape).

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Value};

use crate::schema::{AttrDef, ResourceKind, ResourceType, Returned, SchemaDef, LIST_RESPONSE_URN};

/// Which sub-attributes of a complex value are kept (`strip_subs` in [`crate::resource`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keep {
    /// Everything, unfiltered: a member no schema attribute describes, or a value that is not complex.
    All,
    /// The known sub-attributes that are not `returned: never` (an attribute `returned: always`).
    NotNever,
    /// The known sub-attributes returned by default (neither `never` nor `request`).
    ByDefault,
}

/// What [`super::decorate`] adds to the objects of one top-level member.
#[derive(Debug, Clone, Copy)]
enum Added<'a> {
    /// Nothing.
    Nothing,
    /// `location` in the `meta` object (RFC 7643 §3.1).
    Location(&'a str),
    /// `$ref` in each object element of `groups` (`Group`s) or `members` (by the element's `type`, `User` when
    /// it has none): RFC 7643 §4.1.2, §4.2.
    Refs { base: &'a str, members: bool },
}

impl Added<'_> {
    /// The key added, and its text for `element`.
    fn for_element(&self, element: &Map<String, Value>) -> Option<(&'static str, String)> {
        match *self {
            Added::Nothing => None,
            Added::Location(l) => Some(("location", l.to_string())),
            Added::Refs { base, members } => Some(("$ref", super::member_ref(base, element, members))),
        }
    }
}

fn kept(def: Option<&AttrDef>, keep: Keep, key: &str) -> bool {
    match (keep, def) {
        (Keep::All, _) | (_, None) => true,
        (Keep::NotNever, Some(d)) => d.sub(key).is_some_and(|s| s.returned != Returned::Never),
        (Keep::ByDefault, Some(d)) => {
            d.sub(key).is_some_and(|s| s.returned != Returned::Never && s.returned != Returned::Request)
        }
    }
}

/// One object (a complex value, or an element of a multi-valued one) with the key `added` merged in and the
/// members `keep` drops left out.
struct Object<'a> {
    obj: &'a Map<String, Value>,
    def: Option<&'static AttrDef>,
    keep: Keep,
    added: Option<(&'static str, String)>,
}

impl<'a> Object<'a> {
    fn new(obj: &'a Map<String, Value>, def: Option<&'static AttrDef>, keep: Keep, added: Added<'_>) -> Self {
        Object { obj, def, keep, added: added.for_element(obj) }
    }

    /// Whether no member is written; stops at the first one that is.
    fn is_empty(&self) -> bool {
        let added = self.added.as_ref().is_some_and(|(k, _)| kept(self.def, self.keep, k));
        !added && !self.obj.keys().any(|k| kept(self.def, self.keep, k))
    }
}

impl Serialize for Object<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // no length: serde_json writes the same text without it, and counting would read every key twice
        let mut map = s.serialize_map(None)?;
        let mut added = self.added.as_ref().filter(|(k, _)| kept(self.def, self.keep, k));
        for (k, v) in self.obj {
            if let Some((ak, av)) = added {
                if *ak <= k.as_str() {
                    map.serialize_entry(ak, av)?;
                    added = None;
                    if *ak == k.as_str() {
                        continue;
                    }
                }
            }
            if kept(self.def, self.keep, k) {
                map.serialize_entry(k, v)?;
            }
        }
        if let Some((ak, av)) = added {
            map.serialize_entry(ak, av)?;
        }
        map.end()
    }
}

/// The value of one member (top level or in an extension) as shown: decorated and stripped.
struct Member<'a> {
    value: &'a Value,
    def: Option<&'static AttrDef>,
    keep: Keep,
    added: Added<'a>,
}

impl<'a> Member<'a> {
    /// The member `def` describes (`None`: no attribute does), or `None` when the default projection drops it.
    fn of(value: &'a Value, def: Option<&'static AttrDef>, added: Added<'a>) -> Option<Self> {
        let (keep, non_empty) = match def.map(|d| (d.returned, d.is_complex())) {
            None => (Keep::All, false),
            Some((Returned::Never | Returned::Request, _)) => return None,
            Some((Returned::Always, complex)) => (if complex { Keep::NotNever } else { Keep::All }, false),
            Some((Returned::Default, complex)) => (if complex { Keep::ByDefault } else { Keep::All }, true),
        };
        let member = Member { value, def, keep, added };
        (!non_empty || !member.is_empty()).then_some(member)
    }

    /// Whether the value written is an empty array or an empty object.
    fn is_empty(&self) -> bool {
        match self.value {
            Value::Array(items) => !items.iter().any(|v| self.element_kept(v)),
            Value::Object(o) => self.object(o, self.single_added()).is_empty(),
            _ => false,
        }
    }

    /// `decorate` adds `$ref` to the elements of an array only, `location` to a single object only.
    fn single_added(&self) -> Added<'a> {
        match self.added {
            Added::Location(_) => self.added,
            _ => Added::Nothing,
        }
    }

    fn element_added(&self) -> Added<'a> {
        match self.added {
            Added::Refs { .. } => self.added,
            _ => Added::Nothing,
        }
    }

    fn object<'o>(&self, o: &'o Map<String, Value>, added: Added<'_>) -> Object<'o> {
        Object::new(o, self.def, self.keep, added)
    }

    /// An element is dropped only when it is an object left with no member by a filtering `keep`.
    fn element_kept(&self, v: &Value) -> bool {
        match v {
            Value::Object(o) if self.keep != Keep::All => !self.object(o, self.element_added()).is_empty(),
            _ => true,
        }
    }
}

impl Serialize for Member<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.value {
            Value::Array(items) => {
                let mut seq = s.serialize_seq(None)?;
                for v in items {
                    match v {
                        // as `element_kept`, with the element's `$ref` written once
                        Value::Object(o) => {
                            let element = self.object(o, self.element_added());
                            if self.keep == Keep::All || !element.is_empty() {
                                seq.serialize_element(&element)?;
                            }
                        }
                        other => seq.serialize_element(other)?,
                    }
                }
                seq.end()
            }
            Value::Object(o) => self.object(o, self.single_added()).serialize(s),
            other => other.serialize(s),
        }
    }
}

/// An extension's object (`urn:…:enterprise:2.0:User`): its attributes as the default projection shows them,
/// members no attribute of the extension describes kept as they are.
struct Extension<'a> {
    ext: &'static SchemaDef,
    inner: &'a Map<String, Value>,
}

impl<'a> Extension<'a> {
    fn members(&self) -> impl Iterator<Item = (&'a String, Member<'a>)> + '_ {
        self.inner.iter().filter_map(|(k, v)| match self.ext.attr(k) {
            Some(def) => Member::of(v, Some(def), Added::Nothing).map(|m| (k, m)),
            None => Some((k, Member { value: v, def: None, keep: Keep::All, added: Added::Nothing })),
        })
    }
}

impl Serialize for Extension<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for (k, m) in self.members() {
            map.serialize_entry(k, &m)?;
        }
        map.end()
    }
}

/// A rendered resource as a default answer shows it (see the module's documentation), written by
/// [`Serialize`]. `base` is the request's SCIM base URI (no trailing slash).
#[derive(Debug)]
pub struct Shown<'a> {
    kind: ResourceKind,
    resource: &'a Value,
    base: &'a str,
    /// `meta.location`, when the resource has a `meta` object.
    location: Option<String>,
}

impl<'a> Shown<'a> {
    /// `resource` (a rendered resource of `kind`, RFC 7643 §4) shown at `base`.
    pub fn new(kind: ResourceKind, resource: &'a Value, base: &'a str) -> Self {
        let location = resource
            .get("meta")
            .filter(|m| m.is_object())
            .map(|_| super::location_url(kind, base, resource.get("id").and_then(Value::as_str).unwrap_or_default()));
        Shown { kind, resource, base, location }
    }

    /// `meta.location` as shown (RFC 7643 §3.1), when the resource has a `meta` object.
    pub fn location(&self) -> Option<&str> {
        self.location.as_deref()
    }

    fn rt(&self) -> &'static ResourceType {
        self.kind.resource_type()
    }

    /// Whether the member `key` holding the extension `ext` is shown: an object with a member left.
    fn extension_shown(ext: &'static SchemaDef, v: &'a Value) -> Option<Extension<'a>> {
        let inner = v.as_object()?;
        let e = Extension { ext, inner };
        let shown = e.members().next().is_some();
        shown.then_some(e)
    }

    fn added(&self, key: &str, v: &Value) -> Added<'_> {
        match key {
            "meta" => self.location.as_deref().map_or(Added::Nothing, Added::Location),
            "groups" | "members" if v.is_array() => Added::Refs { base: self.base, members: key == "members" },
            _ => Added::Nothing,
        }
    }
}

/// `schemas` without the URNs of extensions whose objects are not shown.
struct Schemas<'a> {
    list: &'a [Value],
    shown: &'a Shown<'a>,
    obj: &'a Map<String, Value>,
}

impl Serialize for Schemas<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let rt = self.shown.rt();
        let mut seq = s.serialize_seq(None)?;
        for urn in self.list {
            let keep = match urn.as_str().and_then(|u| rt.extension(u)) {
                Some(ext) => self.obj.get(ext.id).and_then(|v| Shown::extension_shown(ext, v)).is_some(),
                None => true,
            };
            if keep {
                seq.serialize_element(urn)?;
            }
        }
        seq.end()
    }
}

impl Serialize for Shown<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Value::Object(obj) = self.resource else { return self.resource.serialize(s) };
        let rt = self.rt();
        let mut map = s.serialize_map(None)?;
        for (k, v) in obj {
            if k == "schemas" {
                match v {
                    Value::Array(list) => map.serialize_entry(k, &Schemas { list, shown: self, obj })?,
                    other => map.serialize_entry(k, other)?,
                }
                continue;
            }
            if let Some(ext) = rt.extension(k) {
                if let Some(e) = Shown::extension_shown(ext, v) {
                    map.serialize_entry(k, &e)?;
                }
                continue;
            }
            let def = rt.resolve(None, k, None).map(|r| r.attr);
            if let Some(m) = Member::of(v, def, self.added(k, v)) {
                map.serialize_entry(k, &m)?;
            }
        }
        map.end()
    }
}

/// A ListResponse (RFC 7644 §3.4.2) whose resources are each [`Shown`]: the same text as the `Value` the list
/// handlers build (`Resources`, `itemsPerPage`, `schemas`, `startIndex`, `totalResults`, in serde_json's key
/// order) with each resource decorated and projected by default.
#[derive(Debug)]
pub struct ShownList<'a> {
    /// `totalResults`: the matches across all pages.
    pub total_results: usize,
    /// `startIndex`: the 1-based position of the first resource.
    pub start_index: usize,
    /// The page's rendered resources, each with its kind.
    pub resources: &'a [(ResourceKind, Value)],
    /// The request's SCIM base URI (no trailing slash).
    pub base: &'a str,
}

struct Resources<'a>(&'a ShownList<'a>);

impl Serialize for Resources<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.resources.len()))?;
        for (kind, v) in self.0.resources {
            seq.serialize_element(&Shown::new(*kind, v, self.0.base))?;
        }
        seq.end()
    }
}

impl Serialize for ShownList<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(5))?;
        map.serialize_entry("Resources", &Resources(self))?;
        map.serialize_entry("itemsPerPage", &self.resources.len())?;
        map.serialize_entry("schemas", &[LIST_RESPONSE_URN])?;
        map.serialize_entry("startIndex", &self.start_index)?;
        map.serialize_entry("totalResults", &self.total_results)?;
        map.end()
    }
}

#[cfg(test)]
mod tests;
