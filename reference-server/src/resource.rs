//! Resource bodies: validation and normalisation of client input (RFC 7643 §2), and projection of
//! responses (`attributes`, `excludedAttributes`, `returned`; RFC 7644 §3.4.2.5).
//!
//! A resource is a JSON object in SCIM wire form: core and common attributes at the top level under their
//! canonical names, extension attributes nested under the extension's schema URN, plus `schemas`.

use std::collections::HashSet;

use argon2::{Algorithm, Argon2, Params, Version};
use password_hash::rand_core::OsRng;
use password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use serde_json::{Map, Value};

use crate::error::{ScimError, ScimResult};
use crate::filter::AttrPath;
use crate::schema::{AttrDef, AttrType, Mutability, Resolved, ResourceType, Returned};

mod distinct;
use distinct::{AttrName, Distinct};

/// Validates and normalises a client-supplied body for create (POST) or replace (PUT) (RFC 7643 §2, RFC 7644 §3.3, §3.5.1).
///
/// - Attribute names are matched case-insensitively (RFC 7643 §2.1) and emitted under their canonical names;
///   unknown attributes and unknown schema URNs are ignored, read-only attributes (RFC 7643 §7 `mutability`)
///   are dropped. Extension attributes may be nested under the extension URN or given flat as
///   `urn:…:attribute`; dotted keys (`name.givenName`) are merged into their parent.
/// - Values are checked against the attribute's type (RFC 7643 §2.3); booleans also accept the strings
///   `"true"`/`"false"` in any case. `null`, empty strings and empty arrays mean "unassigned" (RFC 7643 §2.5).
/// - Multi-valued attributes (RFC 7643 §2.4) accept a single value, drop empty and duplicate elements, and
///   allow at most one `primary: true`.
/// - Required attributes (`userName`, group `displayName`) must be present; group members need a `value`.
/// - `password` is left as given; the directory replaces it by a hash ([`seal_password`]) before storing.
/// - `schemas` is recomputed: the core URN, then each extension that holds at least one attribute.
pub fn normalize(rt: &ResourceType, body: Value) -> ScimResult<Value> {
    let Value::Object(input) = body else {
        return Err(ScimError::InvalidSyntax(format!(
            "the request body must be a JSON object, got {}",
            json_kind(&body)
        )));
    };
    // Raw (unvalidated) values, gathered under canonical attribute names, per schema.
    let mut raw = RawResource::new(rt);
    for (key, value) in input {
        match split_key(rt, &key) {
            Key::Schema(scope) => match value {
                Value::Object(inner) => {
                    for (k, v) in inner {
                        let (name, sub) = split_dotted(&k);
                        raw.gather(rt, scope, name, sub, v);
                    }
                }
                Value::Null => {}
                other => {
                    return Err(ScimError::InvalidValue(format!(
                        "schema extension '{key}' must be an object, got {}",
                        json_kind(&other)
                    )))
                }
            },
            Key::Attr { scope, name, sub } => raw.gather(rt, scope, name, sub, value),
        }
    }

    let mut out = Map::new();
    let mut schemas = vec![Value::String(rt.schema.id.to_string())];
    for (scope, attrs) in raw.scopes {
        let mut target = Map::new();
        for (def, value) in attrs {
            if let Some(v) = normalize_attr_at(def, AttrName::Scoped(scope, def.name), value)? {
                target.insert(def.name.to_string(), v);
            }
        }
        match scope {
            None => out.extend(target),
            Some(urn) => {
                if !target.is_empty() {
                    schemas.push(Value::String(urn.to_string()));
                    out.insert(urn.to_string(), Value::Object(target));
                }
            }
        }
    }

    for def in rt.schema.attributes.iter().filter(|a| a.required) {
        if !out.contains_key(def.name) {
            return Err(ScimError::InvalidValue(format!("required attribute '{}' is missing", def.name)));
        }
    }
    for (ext, required) in rt.extensions {
        if *required && !out.contains_key(ext.id) {
            return Err(ScimError::InvalidValue(format!("required schema extension '{}' is missing", ext.id)));
        }
    }
    out.insert("schemas".to_string(), Value::Array(schemas));
    Ok(Value::Object(out))
}

/// Applies `attributes` / `excludedAttributes` and the schema's `returned` rules to a full resource (RFC 7644 §3.4.2.5, §3.9; RFC 7643 §7).
///
/// - `returned: never` attributes (`password`) are never returned; `returned: always` ones (`id`) and
///   `schemas` always are; `returned: request` ones only when listed in `attributes`.
/// - With a non-empty `attributes`, only the listed attributes (plus the always-returned ones) are kept;
///   `meta` is `returned: default`, so it is kept only when listed. `name.givenName` keeps just that
///   sub-attribute (in every element, for multi-valued attributes); `urn:…:department` keeps one extension
///   attribute; a bare extension URN keeps the whole extension.
/// - Otherwise the `excluded` attributes are removed (never the always-returned ones).
/// - Extension objects left empty are removed and their URN is dropped from `schemas`.
///
/// Paths that name no attribute of `rt` are ignored; [`parse_attribute_list`] rejects them earlier.
pub fn project(rt: &ResourceType, resource: Value, attributes: &[AttrPath], excluded: &[AttrPath]) -> Value {
    let Value::Object(mut out) = resource else {
        return resource;
    };
    let (selection, mode) = if attributes.is_empty() {
        (excluded.iter().filter_map(|p| classify(rt, p)).collect::<Vec<_>>(), Mode::Exclude)
    } else {
        (attributes.iter().filter_map(|p| classify(rt, p)).collect::<Vec<_>>(), Mode::Include)
    };

    // In place: the resource's maps are kept and only what the rules drop is removed from them.
    out.retain(|key, value| {
        if key == "schemas" {
            return true;
        }
        let taken = std::mem::take(value);
        let kept = match rt.extension(key) {
            Some(ext) => {
                let Value::Object(mut inner) = taken else { return false };
                inner.retain(|k, v| match ext.attr(k) {
                    Some(def) => match project_attr(Some(ext.id), def, std::mem::take(v), &selection, mode) {
                        Some(nv) => {
                            *v = nv;
                            true
                        }
                        None => false,
                    },
                    None => mode == Mode::Exclude,
                });
                (!inner.is_empty()).then_some(Value::Object(inner))
            }
            None => match rt.resolve(None, key, None) {
                Some(r) => project_attr(None, r.attr, taken, &selection, mode),
                None if mode == Mode::Exclude => Some(taken),
                None => None,
            },
        };
        match kept {
            Some(v) => {
                *value = v;
                true
            }
            None => false,
        }
    });

    if let Some(schemas) = out.remove("schemas") {
        let schemas = match schemas {
            Value::Array(list) => Value::Array(
                list.into_iter()
                    .filter(|s| match s.as_str().and_then(|u| rt.extension(u)) {
                        Some(ext) => out.contains_key(ext.id),
                        None => true,
                    })
                    .collect(),
            ),
            other => other,
        };
        out.insert("schemas".to_string(), schemas);
    }
    Value::Object(out)
}

/// Parses a comma-separated `attributes`/`excludedAttributes` parameter (RFC 7644 §3.4.2.5, §3.10).
///
/// Each item is `[urn:]name[.sub]` or a bare schema URN, matched case-insensitively against `rt`'s schemas.
/// The returned paths carry canonical names; core and common attributes have `urn: None`, extension
/// attributes the extension URN, and a bare schema URN is `AttrPath { urn: Some(urn), name: "", sub: None }`
/// (the whole schema). An item naming no attribute of `rt` is a 400 `invalidValue` naming the item.
/// An empty (or all-blank) parameter is an empty list.
pub fn parse_attribute_list(rt: &ResourceType, list: &str) -> ScimResult<Vec<AttrPath>> {
    let mut paths = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        // `schemas` is always returned (RFC 7643 §3): naming it selects or excludes nothing.
        if item.eq_ignore_ascii_case("schemas") {
            continue;
        }
        let path = match split_key(rt, item) {
            Key::Schema(scope) => {
                AttrPath { urn: Some(scope.unwrap_or(rt.schema.id).to_string()), name: String::new(), sub: None }
            }
            Key::Attr { scope, name, sub } => {
                let r = resolve_scoped(rt, scope, name, sub)
                    .ok_or_else(|| ScimError::InvalidValue(format!("unknown attribute '{item}'")))?;
                AttrPath {
                    urn: r.extension.map(|e| e.id.to_string()),
                    name: r.attr.name.to_string(),
                    sub: r.sub.map(|s| s.name.to_string()),
                }
            }
        };
        if !paths.contains(&path) {
            paths.push(path);
        }
    }
    Ok(paths)
}

/// Argon2id with parameters for a test server: 1 MiB of memory, one pass, one lane — about a millisecond
/// per hash, yet every password gets its own random 128-bit salt.
fn argon2() -> Argon2<'static> {
    let params = Params::new(1024, 1, 1, None).expect("constant Argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Stored form of a password: never the cleartext (RFC 7643 §4.1.1 `password` is writeOnly and
/// `returned: never`, and "the cleartext value SHALL NOT be stored"). An Argon2id hash in the PHC string
/// format (`$argon2id$v=19$m=1024,t=1,p=1$<salt>$<hash>`), through the `password-hash` API, with a fresh
/// random salt each time.
pub fn hash_password(cleartext: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    match argon2().hash_password(cleartext.as_bytes(), &salt) {
        Ok(h) => h.to_string(),
        // Only an over-long input can fail (Argon2 accepts up to 4 GiB); such a body never gets this far.
        Err(_) => String::new(),
    }
}

/// Whether `cleartext` is the password whose stored form is `stored` (a [`hash_password`] result).
pub fn verify_password(cleartext: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| argon2().verify_password(cleartext.as_bytes(), &h).is_ok())
}

/// Replaces a client-given `password` in `body` by its stored form. `previous` is the stored form the
/// resource already has: when the client sent that stored form back, or the same cleartext again, it is kept
/// as it is, so that an unchanged password does not make an unchanged resource look modified.
pub fn seal_password(body: &mut Value, previous: Option<&str>) {
    let Some(slot) = body.get_mut("password") else { return };
    let Value::String(given) = slot else { return };
    let sealed = match previous {
        Some(p) if p == given.as_str() || verify_password(given, p) => p.to_string(),
        _ => hash_password(given),
    };
    *slot = Value::String(sealed);
}

// ---------------------------------------------------------------------------------------------------------
// Keys and paths

/// Which schema of a resource type an attribute lives in: `None` for the core schema (and the common
/// attributes), `Some(urn)` for an extension (the canonical URN).
pub(crate) type Scope = Option<&'static str>;

/// A body key or attribute list item, split against the resource type's schema URNs (RFC 7644 §3.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key<'a> {
    /// A bare schema URN (core or extension).
    Schema(Scope),
    /// `[urn:]name[.sub]`; the names are not yet resolved.
    Attr { scope: Scope, name: &'a str, sub: Option<&'a str> },
}

/// Splits `key` into an optional schema URN of `rt` and `name[.sub]`. URNs are matched case-insensitively;
/// a key that starts with no known URN is a core attribute name (unknown URNs then fail to resolve).
pub(crate) fn split_key<'a>(rt: &ResourceType, key: &'a str) -> Key<'a> {
    for schema in rt.schemas() {
        let scope = if std::ptr::eq(schema, rt.schema) { None } else { Some(schema.id) };
        let n = schema.id.len();
        let Some(prefix) = key.get(..n) else { continue };
        if !prefix.eq_ignore_ascii_case(schema.id) {
            continue;
        }
        let rest = &key[n..];
        if rest.is_empty() {
            return Key::Schema(scope);
        }
        if let Some(attr) = rest.strip_prefix(':') {
            let (name, sub) = split_dotted(attr);
            return Key::Attr { scope, name, sub };
        }
    }
    let (name, sub) = split_dotted(key);
    Key::Attr { scope: None, name, sub }
}

/// Splits `name.sub` at the first dot. Keys that look like URIs (contain `:` or `/`) are not split, so
/// that unknown schema URNs such as `…/ADSCIM/2.0/Group` simply fail to resolve.
pub(crate) fn split_dotted(key: &str) -> (&str, Option<&str>) {
    if key.contains([':', '/']) {
        return (key, None);
    }
    match key.split_once('.') {
        Some((name, sub)) => (name, Some(sub)),
        None => (key, None),
    }
}

/// Resolves `name[.sub]` in `scope`.
pub(crate) fn resolve_scoped(rt: &ResourceType, scope: Scope, name: &str, sub: Option<&str>) -> Option<Resolved> {
    rt.resolve(scope, name, sub)
}

/// Renders an [`AttrPath`] back to its textual form (`urn:name.sub`, or just the URN for a whole schema).
pub(crate) fn render_path(path: &AttrPath) -> String {
    let mut s = String::new();
    if let Some(urn) = &path.urn {
        s.push_str(urn);
        if !path.name.is_empty() {
            s.push(':');
        }
    }
    s.push_str(&path.name);
    if let Some(sub) = &path.sub {
        s.push('.');
        s.push_str(sub);
    }
    s
}

/// How an attribute is named in error details: `name`, `name.sub`, or `urn:name.sub` for extensions.
pub(crate) fn attr_path_display(scope: Scope, name: &str, sub: Option<&str>) -> String {
    let mut s = String::new();
    if let Some(urn) = scope {
        s.push_str(urn);
        s.push(':');
    }
    s.push_str(name);
    if let Some(sub) = sub {
        s.push('.');
        s.push_str(sub);
    }
    s
}

/// "a string", "an object", … for error details.
pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(crate) use crate::values::get_ci;

// ---------------------------------------------------------------------------------------------------------
// Normalisation

/// Raw values of a body, gathered under canonical names, one list per schema (core first).
struct RawResource {
    scopes: Vec<(Scope, Vec<(&'static AttrDef, Value)>)>,
}

impl RawResource {
    fn new(rt: &ResourceType) -> Self {
        let mut scopes = vec![(None, Vec::new())];
        scopes.extend(rt.extensions.iter().map(|(s, _)| (Some(s.id), Vec::new())));
        RawResource { scopes }
    }

    /// Records `value` for `[scope:]name[.sub]`; unknown and read-only attributes are dropped.
    fn gather(&mut self, rt: &ResourceType, scope: Scope, name: &str, sub: Option<&str>, value: Value) {
        let Some(r) = resolve_scoped(rt, scope, name, sub) else {
            return;
        };
        if r.attr.mutability == Mutability::ReadOnly || r.sub.is_some_and(|s| s.mutability == Mutability::ReadOnly) {
            return;
        }
        let scope = r.extension.map(|e| e.id);
        let Some((_, attrs)) = self.scopes.iter_mut().find(|(s, _)| *s == scope) else {
            return;
        };
        let slot = match attrs.iter().position(|(d, _)| d.name == r.attr.name) {
            Some(i) => &mut attrs[i].1,
            None => {
                attrs.push((r.attr, Value::Null));
                &mut attrs.last_mut().expect("just pushed").1
            }
        };
        match r.sub {
            None => match (slot, value) {
                (Value::Object(existing), Value::Object(new)) => existing.extend(new),
                (slot, value) => *slot = value,
            },
            Some(sub) => {
                if !slot.is_object() {
                    *slot = Value::Object(Map::new());
                }
                if let Value::Object(obj) = slot {
                    obj.retain(|k, _| !k.eq_ignore_ascii_case(sub.name));
                    obj.insert(sub.name.to_string(), value);
                }
            }
        }
    }
}

/// Normalises the value of one attribute (single- or multi-valued) for storage. `Ok(None)` means the
/// attribute is unassigned (RFC 7643 §2.5) and must be omitted. `path` names the attribute in errors.
pub(crate) fn normalize_attr(def: &AttrDef, path: &str, value: Value) -> ScimResult<Option<Value>> {
    normalize_attr_at(def, AttrName::Given(path), value)
}

/// [`normalize_attr`] with the attribute's name for error details written only if one is ([`AttrName`]).
fn normalize_attr_at(def: &AttrDef, path: AttrName<'_>, value: Value) -> ScimResult<Option<Value>> {
    if !def.multi_valued {
        return normalize_single_at(def, path, value);
    }
    let items = match value {
        Value::Null => return Ok(None),
        Value::Array(items) => items,
        other => vec![other],
    };
    let is_members = def.is_complex() && def.name == "members";
    let mut out: Vec<Value> = Vec::with_capacity(items.len());
    // Equal compact texts are duplicates (maps keep their keys sorted); a long list is deduplicated by hash,
    // never by scanning `out`: a 10,000-member list must not cost 10,000² ([`Distinct`]).
    let mut seen = Distinct::default();
    let mut seen_members: HashSet<String> = HashSet::new();
    for item in items {
        if item.is_null() {
            continue;
        }
        let element = normalize_single_at(def, path, item)?;
        if is_members {
            let has_value =
                element.as_ref().and_then(|e| e.get("value")).and_then(Value::as_str).is_some_and(|s| !s.is_empty());
            if !has_value {
                return Err(ScimError::InvalidValue(format!(
                    "every element of '{path}' must have a non-empty string 'value'"
                )));
            }
        }
        let Some(element) = element else { continue };
        if !seen.is_new(&out, &element) {
            continue;
        }
        if is_members {
            let value = element.get("value").and_then(Value::as_str).unwrap_or_default();
            if !seen_members.insert(value.to_string()) {
                continue;
            }
        }
        out.push(element);
    }
    let primaries = out.iter().filter(|e| e.get("primary") == Some(&Value::Bool(true))).count();
    if primaries > 1 {
        return Err(ScimError::InvalidValue(format!(
            "attribute '{path}' has {primaries} values with primary true; at most one is allowed (RFC 7643 §2.4)"
        )));
    }
    Ok(if out.is_empty() { None } else { Some(Value::Array(out)) })
}

/// Normalises one value of an attribute: the attribute's value when single-valued, one element when
/// multi-valued. `Ok(None)` means "no value".
pub(crate) fn normalize_single(def: &AttrDef, path: &str, value: Value) -> ScimResult<Option<Value>> {
    normalize_single_at(def, AttrName::Given(path), value)
}

fn normalize_single_at(def: &AttrDef, path: AttrName<'_>, value: Value) -> ScimResult<Option<Value>> {
    if value.is_null() {
        return Ok(None);
    }
    if def.is_complex() {
        normalize_complex(def, path, value)
    } else {
        normalize_simple(def, path, value)
    }
}

fn normalize_complex(def: &AttrDef, path: AttrName<'_>, value: Value) -> ScimResult<Option<Value>> {
    let has_value_sub = def.sub("value").is_some();
    let input = match value {
        Value::Object(m) => m,
        // RFC 7643 §2.4 elements are often sent as bare values; Entra sends the manager as a bare id.
        Value::String(s) if has_value_sub => {
            let mut m = Map::new();
            m.insert("value".to_string(), Value::String(s));
            m
        }
        other => {
            return Err(ScimError::InvalidValue(format!(
                "attribute '{path}' must be a complex object, got {}",
                json_kind(&other)
            )))
        }
    };
    let mut out = Map::new();
    for (k, v) in input {
        let Some(sub) = def.sub(&k) else { continue };
        if sub.mutability == Mutability::ReadOnly && def.mutability != Mutability::ReadOnly {
            continue;
        }
        match normalize_attr_at(sub, AttrName::Sub(&path, sub.name), v)? {
            Some(v) => {
                out.insert(sub.name.to_string(), v);
            }
            None => {
                out.remove(sub.name);
            }
        }
    }
    // A single-valued reference such as `manager` without a `value` refers to nothing.
    if !def.multi_valued && has_value_sub && !out.contains_key("value") {
        return Ok(None);
    }
    Ok(if out.is_empty() { None } else { Some(Value::Object(out)) })
}

fn normalize_simple(def: &AttrDef, path: AttrName<'_>, value: Value) -> ScimResult<Option<Value>> {
    let wrong = |v: &Value| {
        ScimError::InvalidValue(format!("attribute '{path}' must be {}, got {}", type_phrase(def.ty), json_kind(v)))
    };
    if let Value::String(s) = &value {
        if s.is_empty() {
            return Ok(None);
        }
    }
    match def.ty {
        AttrType::String | AttrType::Reference | AttrType::Binary => match value {
            Value::String(_) => Ok(Some(value)),
            other => Err(wrong(&other)),
        },
        AttrType::Boolean => match &value {
            // the attribute's path is written only into the error
            Value::Bool(_) | Value::String(_) => crate::values::boolean(&value, path).map(|b| Some(Value::Bool(b))),
            other => Err(wrong(other)),
        },
        AttrType::Integer => match &value {
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(Some(value)),
            Value::Number(n) => match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Some(Value::from(f as i64))),
                _ => Err(ScimError::InvalidValue(format!(
                    "attribute '{path}' must be an integer, got a non-integral number"
                ))),
            },
            other => Err(wrong(other)),
        },
        AttrType::Decimal => match value {
            Value::Number(_) => Ok(Some(value)),
            other => Err(wrong(&other)),
        },
        AttrType::DateTime => match &value {
            Value::String(s) => match chrono::DateTime::parse_from_rfc3339(s) {
                Ok(_) => Ok(Some(value)),
                Err(_) => Err(ScimError::InvalidValue(format!(
                    "attribute '{path}' must be an RFC 3339 dateTime, got '{}'",
                    truncate(s)
                ))),
            },
            other => Err(wrong(other)),
        },
        AttrType::Complex => normalize_complex(def, path, value),
    }
}

fn type_phrase(ty: AttrType) -> &'static str {
    match ty {
        AttrType::String => "a string",
        AttrType::Boolean => "a boolean",
        AttrType::Decimal => "a decimal number",
        AttrType::Integer => "an integer",
        AttrType::DateTime => "an RFC 3339 dateTime string",
        AttrType::Binary => "a base64 string",
        AttrType::Reference => "a reference string",
        AttrType::Complex => "a complex object",
    }
}

/// Client strings quoted in error details are cut short.
fn truncate(s: &str) -> String {
    const MAX: usize = 64;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------------------
// Projection

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Include,
    Exclude,
}

/// One resolved `attributes`/`excludedAttributes` entry.
#[derive(Debug, Clone, Copy)]
enum Selector {
    /// A whole schema.
    Schema(Scope),
    /// An attribute, or one sub-attribute of it.
    Attr { scope: Scope, attr: &'static str, sub: Option<&'static str> },
}

/// Resolves a path against `rt`, whatever way the URN and names were split.
fn classify(rt: &ResourceType, path: &AttrPath) -> Option<Selector> {
    let text = render_path(path);
    match split_key(rt, &text) {
        Key::Schema(scope) => Some(Selector::Schema(scope)),
        Key::Attr { scope, name, sub } => {
            let r = resolve_scoped(rt, scope, name, sub)?;
            Some(Selector::Attr { scope: r.extension.map(|e| e.id), attr: r.attr.name, sub: r.sub.map(|s| s.name) })
        }
    }
}

/// Projects one attribute value; `None` drops it.
fn project_attr(scope: Scope, def: &AttrDef, value: Value, selection: &[Selector], mode: Mode) -> Option<Value> {
    match def.returned {
        Returned::Never => return None,
        Returned::Always => return Some(strip_subs(def, value, |_| true)),
        Returned::Default | Returned::Request => {}
    }
    let whole = selection.iter().any(|s| match *s {
        Selector::Schema(sc) => sc == scope,
        Selector::Attr { scope: sc, attr, sub: None } => sc == scope && attr == def.name,
        Selector::Attr { .. } => false,
    });
    let subs: Vec<&str> = selection
        .iter()
        .filter_map(|s| match *s {
            Selector::Attr { scope: sc, attr, sub: Some(sub) } if sc == scope && attr == def.name => Some(sub),
            _ => None,
        })
        .collect();
    match mode {
        Mode::Include => {
            if whole {
                Some(strip_subs(def, value, |_| true))
            } else if !subs.is_empty() {
                non_empty(strip_subs(def, value, |sub| sub.returned == Returned::Always || subs.contains(&sub.name)))
            } else {
                None
            }
        }
        Mode::Exclude => {
            if whole || def.returned == Returned::Request {
                None
            } else {
                non_empty(strip_subs(def, value, |sub| {
                    sub.returned == Returned::Always || (sub.returned != Returned::Request && !subs.contains(&sub.name))
                }))
            }
        }
    }
}

/// Keeps, in a complex value (or each element of a multi-valued one), the sub-attributes for which `keep`
/// holds; `returned: never` sub-attributes and unknown keys are always dropped, as are elements left empty.
fn strip_subs(def: &AttrDef, value: Value, keep: impl Fn(&AttrDef) -> bool + Copy) -> Value {
    if !def.is_complex() {
        return value;
    }
    let strip_one = |v: Value| -> Option<Value> {
        match v {
            Value::Object(mut m) => {
                m.retain(|k, _| def.sub(k).is_some_and(|s| s.returned != Returned::Never && keep(s)));
                (!m.is_empty()).then_some(Value::Object(m))
            }
            other => Some(other),
        }
    };
    match value {
        Value::Array(items) => Value::Array(items.into_iter().filter_map(strip_one).collect()),
        other => strip_one(other).unwrap_or(Value::Object(Map::new())),
    }
}

fn non_empty(v: Value) -> Option<Value> {
    match &v {
        Value::Array(a) if a.is_empty() => None,
        Value::Object(o) if o.is_empty() => None,
        _ => Some(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{ENTERPRISE_URN, GROUP_RESOURCE_TYPE, GROUP_URN, USER_RESOURCE_TYPE, USER_URN};
    use serde_json::json;

    fn user(body: Value) -> ScimResult<Value> {
        normalize(&USER_RESOURCE_TYPE, body)
    }

    fn group(body: Value) -> ScimResult<Value> {
        normalize(&GROUP_RESOURCE_TYPE, body)
    }

    fn invalid_value(r: ScimResult<Value>) -> String {
        match r {
            Err(ScimError::InvalidValue(d)) => d,
            other => panic!("expected invalidValue, got {other:?}"),
        }
    }

    fn attrs(rt: &ResourceType, list: &str) -> Vec<AttrPath> {
        parse_attribute_list(rt, list).unwrap()
    }

    #[test]
    fn okta_create_body_is_normalised() {
        let out = user(json!({
            "schemas": [USER_URN],
            "userName": "test.user@okta.local",
            "name": {"givenName": "Test", "familyName": "User"},
            "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
            "displayName": "Test User", "locale": "en-US", "externalId": "00ujl29u0le5T6Aj10h7",
            "groups": [], "password": "1mz050nq", "active": true
        }))
        .unwrap();
        assert_eq!(out["schemas"], json!([USER_URN]));
        assert_eq!(out["userName"], "test.user@okta.local");
        assert_eq!(out["name"], json!({"givenName": "Test", "familyName": "User"}));
        assert_eq!(out["externalId"], "00ujl29u0le5T6Aj10h7");
        assert_eq!(out["active"], true);
        assert!(out.get("groups").is_none());
        assert_eq!(out["password"], "1mz050nq", "normalising leaves the password to the directory to seal");
    }

    #[test]
    fn keys_are_canonicalised_case_insensitively() {
        let out = user(json!({
            "USERNAME": "bjensen",
            "Name": {"GIVENNAME": "Barbara", "familyname": "Jensen"},
            "EMAILS": [{"VALUE": "b@example.com", "Type": "work"}],
            "Active": "TRUE",
            "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER": {"Department": "R&D"}
        }))
        .unwrap();
        assert_eq!(
            out,
            json!({
                "schemas": [USER_URN, ENTERPRISE_URN],
                "userName": "bjensen",
                "name": {"givenName": "Barbara", "familyName": "Jensen"},
                "emails": [{"value": "b@example.com", "type": "work"}],
                "active": true,
                ENTERPRISE_URN: {"department": "R&D"}
            })
        );
    }

    #[test]
    fn unknown_attributes_and_schema_urns_are_ignored() {
        let out = group(json!({
            "schemas": [GROUP_URN, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": "displayName",
            "meta": {"resourceType": "Group"},
            "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group": {"x": 1},
            "urn:example:custom": {"y": 2},
            "favouriteColour": "blue"
        }))
        .unwrap();
        assert_eq!(
            out,
            json!({"schemas": [GROUP_URN], "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", "displayName": "displayName"})
        );
    }

    #[test]
    fn entra_create_body_with_roles_and_meta() {
        let out = user(json!({
            "schemas": [USER_URN, ENTERPRISE_URN],
            "externalId": "0a21f0f2", "userName": "Test_User", "active": true,
            "emails": [{"primary": true, "type": "work", "value": "t@testuser.com"}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
            "roles": []
        }))
        .unwrap();
        assert!(out.get("meta").is_none());
        assert!(out.get("roles").is_none());
        assert_eq!(out["schemas"], json!([USER_URN]), "the empty extension is not listed");
    }

    #[test]
    fn read_only_attributes_are_dropped() {
        let out = user(json!({
            "id": "abc", "userName": "u", "meta": {"created": "2020-01-01T00:00:00Z"},
            "groups": [{"value": "g1"}],
            ENTERPRISE_URN: {"manager": {"value": "m1", "displayName": "Boss"}}
        }))
        .unwrap();
        assert!(out.get("id").is_none());
        assert!(out.get("meta").is_none());
        assert!(out.get("groups").is_none());
        assert_eq!(out[ENTERPRISE_URN]["manager"], json!({"value": "m1"}));
    }

    #[test]
    fn booleans_accept_strings_in_any_case() {
        assert_eq!(user(json!({"userName": "u", "active": "True"})).unwrap()["active"], true);
        assert_eq!(user(json!({"userName": "u", "active": "False"})).unwrap()["active"], false);
        assert_eq!(user(json!({"userName": "u", "active": "fALSE"})).unwrap()["active"], false);
        let out = user(json!({"userName": "u", "emails": [{"value": "a@b", "primary": "True"}]})).unwrap();
        assert_eq!(out["emails"][0]["primary"], true);
        let d = invalid_value(user(json!({"userName": "u", "active": "yes"})));
        assert!(d.contains("'active'") && d.contains("boolean"), "{d}");
    }

    #[test]
    fn wrong_types_name_the_attribute_and_expected_type() {
        assert_eq!(
            invalid_value(user(json!({"userName": "u", "active": 1}))),
            "attribute 'active' must be a boolean, got a number"
        );
        assert_eq!(invalid_value(user(json!({"userName": 42}))), "attribute 'userName' must be a string, got a number");
        let d = invalid_value(user(json!({"userName": "u", "name": {"givenName": ["a"]}})));
        assert_eq!(d, "attribute 'name.givenName' must be a string, got an array");
        let d = invalid_value(user(json!({"userName": "u", "name": "Barbara"})));
        assert_eq!(d, "attribute 'name' must be a complex object, got a string");
        let d = invalid_value(user(json!({"userName": "u", "emails": [{"value": true}]})));
        assert_eq!(d, "attribute 'emails.value' must be a string, got a boolean");
        let d = invalid_value(user(json!({"userName": "u", ENTERPRISE_URN: {"department": {}}})));
        assert_eq!(d, format!("attribute '{ENTERPRISE_URN}:department' must be a string, got an object"));
        let d = invalid_value(user(json!({"userName": "u", "emails": [[{"value": "a@b"}]]})));
        assert!(d.contains("'emails'") && d.contains("an array"), "{d}");
    }

    #[test]
    fn non_object_body_is_invalid_syntax() {
        for body in [json!([]), json!("x"), json!(null), json!(3)] {
            assert!(matches!(user(body), Err(ScimError::InvalidSyntax(_))));
        }
    }

    #[test]
    fn nulls_and_empties_are_omitted() {
        let out = user(json!({
            "userName": "u", "displayName": null, "nickName": "", "emails": [], "phoneNumbers": [null],
            "name": {"givenName": "", "familyName": null}, "addresses": [{}], "active": null
        }))
        .unwrap();
        assert_eq!(out, json!({"schemas": [USER_URN], "userName": "u"}));
    }

    #[test]
    fn required_attributes() {
        assert_eq!(
            invalid_value(user(json!({"name": {"givenName": "x"}}))),
            "required attribute 'userName' is missing"
        );
        assert_eq!(invalid_value(user(json!({"userName": ""}))), "required attribute 'userName' is missing");
        assert_eq!(invalid_value(user(json!({"userName": null}))), "required attribute 'userName' is missing");
        assert_eq!(invalid_value(group(json!({"members": []}))), "required attribute 'displayName' is missing");
        assert!(group(json!({"displayName": "G"})).is_ok());
    }

    #[test]
    fn at_most_one_primary() {
        let d = invalid_value(user(json!({"userName": "u", "emails": [
            {"value": "a@x", "primary": true}, {"value": "b@x", "primary": "true"}
        ]})));
        assert!(d.contains("'emails'") && d.contains("primary"), "{d}");
        // One primary plus a non-primary is fine; identical duplicates collapse first.
        let out = user(json!({"userName": "u", "emails": [
            {"value": "a@x", "primary": true}, {"value": "a@x", "primary": true}, {"value": "b@x", "primary": false}
        ]}))
        .unwrap();
        assert_eq!(out["emails"], json!([{"value": "a@x", "primary": true}, {"value": "b@x", "primary": false}]));
    }

    #[test]
    fn multi_valued_accepts_single_values_and_bare_strings() {
        let out = user(json!({"userName": "u", "emails": {"value": "a@x"}, "roles": ["admin", "", "admin"]})).unwrap();
        assert_eq!(out["emails"], json!([{"value": "a@x"}]));
        assert_eq!(out["roles"], json!([{"value": "admin"}]));
    }

    #[test]
    fn manager_bare_id_object_and_empty() {
        let out = user(json!({"userName": "u", ENTERPRISE_URN: {"manager": "2c2f6fb8"}})).unwrap();
        assert_eq!(out[ENTERPRISE_URN]["manager"], json!({"value": "2c2f6fb8"}));
        assert_eq!(out["schemas"], json!([USER_URN, ENTERPRISE_URN]));
        for empty in [json!(""), json!({"value": ""}), json!({"value": null}), json!(null), json!({"$ref": "x"})] {
            let out = user(json!({"userName": "u", ENTERPRISE_URN: {"manager": empty}})).unwrap();
            assert!(out.get(ENTERPRISE_URN).is_none(), "{out}");
            assert_eq!(out["schemas"], json!([USER_URN]));
        }
    }

    #[test]
    fn flat_urn_qualified_and_dotted_keys_merge() {
        let out = user(json!({
            "userName": "u",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "701984",
            ENTERPRISE_URN: {"department": "Tour Operations"},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value": "m9",
            "urn:ietf:params:scim:schemas:core:2.0:User:nickName": "Babs",
            "name.givenName": "Barbara",
            "name": {"familyName": "Jensen"}
        }))
        .unwrap();
        assert_eq!(
            out[ENTERPRISE_URN],
            json!({"employeeNumber": "701984", "department": "Tour Operations", "manager": {"value": "m9"}})
        );
        assert_eq!(out["nickName"], "Babs");
        assert_eq!(out["name"], json!({"givenName": "Barbara", "familyName": "Jensen"}));
    }

    #[test]
    fn core_urn_object_and_odd_schemas_are_accepted() {
        let out = user(json!({
            "schemas": "not an array",
            USER_URN: {"userName": "u", "title": "Boss"},
            "urn:ietf:params:scim:schemas:core:2.0:User:locale": "en-US"
        }))
        .unwrap();
        assert_eq!(out, json!({"schemas": [USER_URN], "userName": "u", "title": "Boss", "locale": "en-US"}));
        let out = user(json!({"schemas": [1, {"x": 2}], "userName": "u"})).unwrap();
        assert_eq!(out["schemas"], json!([USER_URN]));
    }

    #[test]
    fn extension_must_be_an_object() {
        let d = invalid_value(user(json!({"userName": "u", ENTERPRISE_URN: "x"})));
        assert!(d.contains(ENTERPRISE_URN), "{d}");
    }

    #[test]
    fn password_is_sealed_once_and_never_projected() {
        let mut out = user(json!({"userName": "u", "password": "secret"})).unwrap();
        seal_password(&mut out, None);
        let stored = out["password"].as_str().unwrap().to_string();
        assert!(stored.starts_with("$argon2id$v=19$m=1024,t=1,p=1$") && !stored.contains("secret"), "{stored}");
        assert!(verify_password("secret", &stored));
        assert!(!verify_password("Secret", &stored));
        // The stored form sent back, or the same cleartext again, keeps the stored form.
        let mut again = user(out.clone()).unwrap();
        seal_password(&mut again, Some(&stored));
        assert_eq!(again["password"], stored.as_str());
        let mut same = json!({"password": "secret"});
        seal_password(&mut same, Some(&stored));
        assert_eq!(same["password"], stored.as_str());
        // A new password gets a new hash.
        let mut changed = json!({"password": "other"});
        seal_password(&mut changed, Some(&stored));
        assert!(verify_password("other", changed["password"].as_str().unwrap()));
        let shown = project(&USER_RESOURCE_TYPE, out.clone(), &[], &[]);
        assert!(shown.get("password").is_none());
        let shown = project(&USER_RESOURCE_TYPE, out, &attrs(&USER_RESOURCE_TYPE, "password,userName"), &[]);
        assert!(shown.get("password").is_none());
        assert_eq!(shown["userName"], "u");
    }

    #[test]
    fn every_hash_has_its_own_salt() {
        let (a, b) = (hash_password("abc"), hash_password("abc"));
        assert_ne!(a, b, "two hashes of one password must differ by their salt");
        assert!(verify_password("abc", &a) && verify_password("abc", &b));
        assert!(!verify_password("abc", "{SHA256}ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    }

    #[test]
    fn other_types() {
        // No integer, decimal or dateTime attribute is writable in the schemas, so check the helpers directly.
        let int = AttrDef::new("n", AttrType::Integer, "");
        assert_eq!(normalize_attr(&int, "n", json!(5)).unwrap(), Some(json!(5)));
        assert_eq!(normalize_attr(&int, "n", json!(5.0)).unwrap(), Some(json!(5)));
        assert!(matches!(normalize_attr(&int, "n", json!(5.5)), Err(ScimError::InvalidValue(_))));
        assert!(matches!(normalize_attr(&int, "n", json!("5")), Err(ScimError::InvalidValue(_))));
        let dec = AttrDef::new("d", AttrType::Decimal, "");
        assert_eq!(normalize_attr(&dec, "d", json!(5.5)).unwrap(), Some(json!(5.5)));
        assert!(matches!(normalize_attr(&dec, "d", json!(true)), Err(ScimError::InvalidValue(_))));
        let dt = AttrDef::new("t", AttrType::DateTime, "");
        assert!(normalize_attr(&dt, "t", json!("2011-08-01T18:29:49.793Z")).unwrap().is_some());
        assert!(normalize_attr(&dt, "t", json!("2011-08-01T18:29:49+02:00")).unwrap().is_some());
        let d = match normalize_attr(&dt, "t", json!("yesterday")) {
            Err(ScimError::InvalidValue(d)) => d,
            other => panic!("{other:?}"),
        };
        assert!(d.contains("'t'") && d.contains("dateTime"), "{d}");
    }

    #[test]
    fn group_members_need_a_value() {
        let out = group(json!({"displayName": "G", "members": [
            {"value": "u1", "display": "steve@ad.oktatest.com"}, {"$ref": null, "value": "u2"}, {"value": "u1"}
        ]}))
        .unwrap();
        assert_eq!(out["members"], json!([{"value": "u1", "display": "steve@ad.oktatest.com"}, {"value": "u2"}]));
        for bad in [json!([{"display": "x"}]), json!([{"value": ""}]), json!([{}]), json!([""])] {
            let d = invalid_value(group(json!({"displayName": "G", "members": bad})));
            assert!(d.contains("members"), "{d}");
        }
        assert!(matches!(
            group(json!({"displayName": "G", "members": [{"value": 7}]})),
            Err(ScimError::InvalidValue(_))
        ));
        assert_eq!(group(json!({"displayName": "G", "members": []})).unwrap().get("members"), None);
        assert_eq!(group(json!({"displayName": "G", "members": ["u7"]})).unwrap()["members"], json!([{"value": "u7"}]));
    }

    fn full_user() -> Value {
        json!({
            "schemas": [USER_URN, ENTERPRISE_URN],
            "id": "2819c223",
            "externalId": "701984",
            "userName": "bjensen",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [{"value": "b@x", "type": "work", "primary": true}, {"value": "b@home", "type": "home"}],
            "active": true,
            "password": "{SHA256}00",
            "groups": [{"value": "g1", "display": "Admins"}],
            ENTERPRISE_URN: {"department": "R&D", "employeeNumber": "7", "manager": {"value": "m1"}},
            "meta": {"resourceType": "User", "created": "2020-01-01T00:00:00Z"}
        })
    }

    #[test]
    fn project_default_drops_never_returned() {
        let mut expected = full_user();
        expected.as_object_mut().unwrap().remove("password");
        assert_eq!(project(&USER_RESOURCE_TYPE, full_user(), &[], &[]), expected);
    }

    #[test]
    fn project_attributes_keeps_listed_and_always() {
        let rt = &USER_RESOURCE_TYPE;
        let out = project(rt, full_user(), &attrs(rt, "userName, name.givenName,EMAILS.value"), &[]);
        assert_eq!(
            out,
            json!({
                "schemas": [USER_URN],
                "id": "2819c223",
                "userName": "bjensen",
                "name": {"givenName": "Barbara"},
                "emails": [{"value": "b@x"}, {"value": "b@home"}]
            })
        );
        let out = project(rt, full_user(), &attrs(rt, "meta.created,externalId"), &[]);
        assert_eq!(
            out,
            json!({"schemas": [USER_URN], "id": "2819c223", "externalId": "701984", "meta": {"created": "2020-01-01T00:00:00Z"}})
        );
        let out = project(rt, full_user(), &attrs(rt, "meta"), &[]);
        assert_eq!(out["meta"]["resourceType"], "User");
    }

    #[test]
    fn project_urn_qualified_and_bare_extension() {
        let rt = &USER_RESOURCE_TYPE;
        let out = project(rt, full_user(), &attrs(rt, &format!("{ENTERPRISE_URN}:department")), &[]);
        assert_eq!(
            out,
            json!({"schemas": [USER_URN, ENTERPRISE_URN], "id": "2819c223", ENTERPRISE_URN: {"department": "R&D"}})
        );
        let out = project(rt, full_user(), &attrs(rt, &format!("{ENTERPRISE_URN}:manager.value,userName")), &[]);
        assert_eq!(out[ENTERPRISE_URN], json!({"manager": {"value": "m1"}}));
        let out = project(rt, full_user(), &attrs(rt, ENTERPRISE_URN), &[]);
        assert_eq!(out[ENTERPRISE_URN], full_user()[ENTERPRISE_URN]);
        assert!(out.get("userName").is_none());
        let out = project(rt, full_user(), &attrs(rt, &format!("{USER_URN}:userName")), &[]);
        assert_eq!(out, json!({"schemas": [USER_URN], "id": "2819c223", "userName": "bjensen"}));
        // Selecting nothing of the extension drops it and its URN.
        let out = project(rt, full_user(), &attrs(rt, "userName"), &[]);
        assert_eq!(out["schemas"], json!([USER_URN]));
        assert!(out.get(ENTERPRISE_URN).is_none());
        // A parser may split a bare URN at its last colon; that still means the whole extension.
        let split = AttrPath {
            urn: Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0".into()),
            name: "User".into(),
            sub: None,
        };
        let out = project(rt, full_user(), &[split], &[]);
        assert_eq!(out[ENTERPRISE_URN], full_user()[ENTERPRISE_URN]);
    }

    #[test]
    fn project_excluded_attributes() {
        let rt = &USER_RESOURCE_TYPE;
        let out = project(rt, full_user(), &[], &attrs(rt, "emails,name.familyName,id,meta"));
        assert!(out.get("emails").is_none());
        assert!(out.get("meta").is_none());
        assert_eq!(out["name"], json!({"givenName": "Barbara"}));
        assert_eq!(out["id"], "2819c223", "id is returned always");
        assert_eq!(out["userName"], "bjensen");
        let out = project(rt, full_user(), &[], &attrs(rt, "emails.type"));
        assert_eq!(out["emails"], json!([{"value": "b@x", "primary": true}, {"value": "b@home"}]));
        let out = project(rt, full_user(), &[], &attrs(rt, &format!("{ENTERPRISE_URN}:department,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber")));
        assert_eq!(out[ENTERPRISE_URN], json!({"manager": {"value": "m1"}}));
        let out = project(rt, full_user(), &[], &attrs(rt, ENTERPRISE_URN));
        assert!(out.get(ENTERPRISE_URN).is_none());
        assert_eq!(out["schemas"], json!([USER_URN]));
        // attributes wins over excludedAttributes.
        let out = project(rt, full_user(), &attrs(rt, "userName"), &attrs(rt, "userName"));
        assert_eq!(out["userName"], "bjensen");
    }

    #[test]
    fn project_group_excluding_members() {
        let rt = &GROUP_RESOURCE_TYPE;
        let g = json!({
            "schemas": [GROUP_URN], "id": "e9e3", "displayName": "Admins",
            "members": [{"value": "u1", "display": "x"}], "meta": {"resourceType": "Group"}
        });
        let out = project(rt, g.clone(), &[], &attrs(rt, "members"));
        assert_eq!(
            out,
            json!({"schemas": [GROUP_URN], "id": "e9e3", "displayName": "Admins", "meta": {"resourceType": "Group"}})
        );
        let out = project(rt, g, &attrs(rt, "displayName"), &[]);
        assert_eq!(out, json!({"schemas": [GROUP_URN], "id": "e9e3", "displayName": "Admins"}));
    }

    #[test]
    fn parse_attribute_lists() {
        let rt = &USER_RESOURCE_TYPE;
        assert!(parse_attribute_list(rt, "").unwrap().is_empty());
        assert!(parse_attribute_list(rt, " , ").unwrap().is_empty());
        assert_eq!(
            parse_attribute_list(rt, "USERNAME, name.GivenName").unwrap(),
            vec![
                AttrPath { urn: None, name: "userName".into(), sub: None },
                AttrPath { urn: None, name: "name".into(), sub: Some("givenName".into()) },
            ]
        );
        assert_eq!(
            parse_attribute_list(rt, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:Department").unwrap(),
            vec![AttrPath { urn: Some(ENTERPRISE_URN.into()), name: "department".into(), sub: None }]
        );
        assert_eq!(
            parse_attribute_list(rt, ENTERPRISE_URN).unwrap(),
            vec![AttrPath { urn: Some(ENTERPRISE_URN.into()), name: String::new(), sub: None }]
        );
        assert_eq!(parse_attribute_list(rt, "id,meta.lastModified").unwrap().len(), 2);
        for bad in ["nosuch", "name.nosuch", "urn:x:y:userName", "members", "userName.x"] {
            match parse_attribute_list(rt, bad) {
                Err(ScimError::InvalidValue(d)) => assert!(d.contains(bad), "{d}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
        assert_eq!(parse_attribute_list(&GROUP_RESOURCE_TYPE, "members").unwrap().len(), 1);
    }
}
