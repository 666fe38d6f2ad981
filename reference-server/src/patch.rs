//! PATCH (RFC 7644 §3.5.2): parsing a PatchOp request and applying its operations atomically.
//!
//! Besides the RFC's shapes this accepts what Okta and Microsoft Entra ID send: capitalised op names,
//! path-less operations whose value carries dotted (`name.givenName`) and URN-qualified keys, an `id`
//! echoed in the value, booleans as strings, the enterprise manager as a bare id, and member removal by a
//! list of values.

use crate::values::{key_ci, remove_ci};
use serde_json::{Map, Value};

use crate::error::{ScimError, ScimResult};
use crate::filter::{self, CompareOp, Filter, PatchPath};
use crate::resource::{
    attr_path_display, get_ci, json_kind, normalize_attr, normalize_single, render_path, split_dotted, split_key, Key,
    Scope,
};
use crate::schema::{AttrDef, Mutability, ResourceType};

mod work;
use work::{ElementIndex, Work};
pub use work::{BASE_VISITS, VISITS_PER_ELEMENT};

/// The three PATCH operations (RFC 7644 §3.5.2); names are accepted in any case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchOpKind {
    /// `add`: adds values, or sets a singular attribute (RFC 7644 §3.5.2.1).
    Add,
    /// `remove`: removes the attribute, or the values a filter selects (RFC 7644 §3.5.2.2).
    Remove,
    /// `replace`: replaces the attribute's value, or the values a filter selects (RFC 7644 §3.5.2.3).
    Replace,
}

impl PatchOpKind {
    /// The operation's name as RFC 7644 §3.5.2 spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            PatchOpKind::Add => "add",
            PatchOpKind::Remove => "remove",
            PatchOpKind::Replace => "replace",
        }
    }
}

/// One operation of a PatchOp request.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOperation {
    /// The operation (`op`).
    pub op: PatchOpKind,
    /// The target (`path`); `None` means the resource itself, with `value` an object of attributes.
    pub path: Option<PatchPath>,
    /// The operand (`value`); `None` for a `remove`.
    pub value: Option<Value>,
}

/// Parses a PatchOp body (RFC 7644 §3.5.2).
///
/// `schemas` should contain `urn:ietf:params:scim:api:messages:2.0:PatchOp`, but its absence is tolerated.
/// `Operations` (key matched case-insensitively) must be a non-empty array, else 400 `invalidSyntax`. Each
/// operation is an object with `op` (`add`, `remove` or `replace` in any case — Entra sends `Replace`;
/// anything else is `invalidSyntax`), an optional `path` (parsed with [`filter::parse_patch_path`]; a bad
/// path is `invalidPath`; an empty path counts as absent) and `value`, which `add` and `replace` require
/// (`invalidValue` when missing; an explicit `null` is kept and means "clear").
pub fn parse_request(body: &Value) -> ScimResult<Vec<PatchOperation>> {
    parse_request_owned(body.clone())
}

/// [`parse_request`] on a body the caller gives away: operation values are moved, not copied (a PATCH adding
/// 10,000 members carries them all in one value).
pub fn parse_request_owned(body: Value) -> ScimResult<Vec<PatchOperation>> {
    let mut request = match body {
        Value::Object(request) => request,
        other => {
            return Err(ScimError::InvalidSyntax(format!(
                "a PatchOp request must be a JSON object, got {}",
                json_kind(&other)
            )))
        }
    };
    let key = key_ci(&request, "Operations");
    let operations = match key.and_then(|k| request.remove(&k)) {
        Some(Value::Array(ops)) if !ops.is_empty() => ops,
        Some(Value::Array(_)) => return Err(ScimError::InvalidSyntax("Operations must not be empty".into())),
        Some(other) => {
            return Err(ScimError::InvalidSyntax(format!(
                "Operations must be a non-empty array, got {}",
                json_kind(&other)
            )))
        }
        None => return Err(ScimError::InvalidSyntax("Operations must not be empty (the attribute is missing)".into())),
    };
    operations.into_iter().enumerate().map(|(i, op)| parse_operation(i, op)).collect()
}

fn parse_operation(index: usize, op: Value) -> ScimResult<PatchOperation> {
    let mut op = match op {
        Value::Object(op) => op,
        other => {
            return Err(ScimError::InvalidSyntax(format!(
                "Operations[{index}] must be an object, got {}",
                json_kind(&other)
            )))
        }
    };
    let op = &mut op;
    let kind = match get_ci(op, "op") {
        Some(Value::String(name)) => match name.trim().to_ascii_lowercase().as_str() {
            "add" => PatchOpKind::Add,
            "remove" => PatchOpKind::Remove,
            "replace" => PatchOpKind::Replace,
            _ => {
                return Err(ScimError::InvalidSyntax(format!(
                    "Operations[{index}]: unknown op '{name}' (expected add, remove or replace)"
                )))
            }
        },
        Some(other) => {
            return Err(ScimError::InvalidSyntax(format!(
                "Operations[{index}]: op must be a string, got {}",
                json_kind(other)
            )))
        }
        None => return Err(ScimError::InvalidSyntax(format!("Operations[{index}]: op is missing"))),
    };
    let path = match get_ci(op, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) if p.trim().is_empty() => None,
        Some(Value::String(p)) => Some(filter::parse_patch_path(p).map_err(|e| e.into_path_error())?),
        Some(other) => {
            return Err(ScimError::InvalidPath(format!(
                "Operations[{index}]: path must be a string, got {}",
                json_kind(other)
            )))
        }
    };
    let value = key_ci(op, "value").and_then(|k| op.remove(&k));
    if value.is_none() && kind != PatchOpKind::Remove {
        return Err(ScimError::InvalidValue(format!(
            "Operations[{index}]: '{}' requires a value (RFC 7644 §3.5.2)",
            kind.as_str()
        )));
    }
    Ok(PatchOperation { op: kind, path, value })
}

/// Applies operations, in order, to a copy of the resource's writable view and returns the new view
/// (RFC 7644 §3.5.2.1 add, §3.5.2.2 remove, §3.5.2.3 replace). Atomic: on any error the input is untouched
/// (it is borrowed) and the error is returned.
///
/// `resource` is the stored resource (it may carry `id`, `meta`, `schemas`, `groups`); the result keeps
/// those and is meant to go through [`crate::resource::normalize`]. Paths resolve case-insensitively and
/// values land under canonical attribute names. Written values are already normalised per attribute
/// (types checked, `"False"` → `false`, bare strings → `{"value": …}` for complex attributes).
///
/// Errors: an unknown attribute or sub-attribute in a path, or a value filter on a single-valued attribute,
/// is `invalidPath`; a path-less `remove` or a filter that matches nothing (and cannot seed a new element)
/// is `noTarget`; changing `id` or any other read-only attribute is `mutability`; a value of the wrong shape
/// is `invalidValue`.
pub fn apply(rt: &ResourceType, resource: &Value, current_id: &str, ops: &[PatchOperation]) -> ScimResult<Value> {
    apply_with(rt, resource, current_id, ops, UnmatchedReplace::NoTarget)
}

/// What a `replace` through a value filter that matches no value does (RFC 7644 §3.5.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnmatchedReplace {
    /// RFC 7644 §3.5.2.3: "no record match was made" → 400 `noTarget`, nothing changes.
    NoTarget,
    /// Microsoft Entra's expectation: the element is created from the filter's equalities, as an `add` through
    /// the same filter does (`emails[type eq "work"].value` gives a user without a work email one). Used only for
    /// requests to the app Entra provisions (`SCIMAzure`).
    CreateElement,
}

/// [`apply`], choosing what a `replace` through an unmatched value filter does.
pub fn apply_with(
    rt: &ResourceType,
    resource: &Value,
    current_id: &str,
    ops: &[PatchOperation],
    unmatched: UnmatchedReplace,
) -> ScimResult<Value> {
    apply_counted(rt, resource, current_id, ops, unmatched).map(|(doc, _)| doc)
}

/// [`apply_with`], also answering how many stored attribute values the operations visited (the measure of
/// work bounded per request; see [`BASE_VISITS`]). Errors: those of [`apply`], and 413 when the budget is
/// exceeded.
fn apply_counted(
    rt: &ResourceType,
    resource: &Value,
    current_id: &str,
    ops: &[PatchOperation],
    unmatched: UnmatchedReplace,
) -> ScimResult<(Value, usize)> {
    let mut doc = resource.clone();
    let Value::Object(root) = &mut doc else {
        return Err(ScimError::Internal("the stored resource is not a JSON object".into()));
    };
    let patcher = Patcher { rt, current_id, unmatched, work: Work::for_request(resource, ops.len()) };
    for op in ops {
        patcher.apply_op(root, op)?;
    }
    let visits = patcher.work.visits();
    Ok((doc, visits))
}

/// What one operation addresses, resolved against the schema.
struct Target {
    scope: Scope,
    attr: &'static AttrDef,
    /// `name.sub` without a value filter.
    sub: Option<&'static AttrDef>,
    /// `attr[filter]`.
    filter: Option<Filter>,
    /// `attr[filter].sub`.
    filter_sub: Option<&'static AttrDef>,
}

impl Target {
    fn leaf(&self) -> Option<&'static AttrDef> {
        self.filter_sub.or(self.sub)
    }

    /// How the target is named in error details.
    fn display(&self) -> String {
        attr_path_display(self.scope, self.attr.name, self.leaf().map(|s| s.name))
    }
}

struct Patcher<'a> {
    rt: &'a ResourceType,
    current_id: &'a str,
    unmatched: UnmatchedReplace,
    work: Work,
}

impl Patcher<'_> {
    fn apply_op(&self, root: &mut Map<String, Value>, op: &PatchOperation) -> ScimResult<()> {
        match &op.path {
            Some(path) => self.apply_path(root, op, path),
            None => match op.op {
                PatchOpKind::Remove => {
                    Err(ScimError::NoTarget("a remove operation must have a path (RFC 7644 §3.5.2.2)".into()))
                }
                PatchOpKind::Add | PatchOpKind::Replace => match required_value(op)? {
                    Value::Object(map) => self.apply_object(root, op.op, None, map),
                    other => Err(ScimError::InvalidValue(format!(
                        "an {} operation without a path needs an object value, got {}",
                        op.op.as_str(),
                        json_kind(other)
                    ))),
                },
            },
        }
    }

    /// A path-less add/replace (RFC 7644 §3.5.2.1, §3.5.2.3): every key of `map` is applied as if it were a
    /// path. `scope` is `Some` inside a schema-URN object (`{"urn:…:User": {…}}`), which is not nested further.
    fn apply_object(
        &self,
        root: &mut Map<String, Value>,
        kind: PatchOpKind,
        scope: Option<Scope>,
        map: &Map<String, Value>,
    ) -> ScimResult<()> {
        for (key, value) in map {
            let core_level = matches!(scope, None | Some(None));
            if core_level && (key.eq_ignore_ascii_case("schemas") || key.eq_ignore_ascii_case("meta")) {
                continue;
            }
            match scope {
                Some(scope) => {
                    let (name, sub) = split_dotted(key);
                    self.apply_key(root, kind, scope, name, sub, value)?;
                }
                None => match split_key(self.rt, key) {
                    Key::Schema(scope) => match value {
                        Value::Object(inner) => self.apply_object(root, kind, Some(scope), inner)?,
                        Value::Null => {}
                        other => {
                            return Err(ScimError::InvalidValue(format!(
                                "schema '{key}' must be given an object, got {}",
                                json_kind(other)
                            )))
                        }
                    },
                    Key::Attr { scope, name, sub } => self.apply_key(root, kind, scope, name, sub, value)?,
                },
            }
        }
        Ok(())
    }

    /// One key of a path-less value. Unknown attributes are ignored; `id` must equal the resource's id.
    fn apply_key(
        &self,
        root: &mut Map<String, Value>,
        kind: PatchOpKind,
        scope: Scope,
        name: &str,
        sub: Option<&str>,
        value: &Value,
    ) -> ScimResult<()> {
        let Some(r) = self.rt.resolve(scope, name, sub) else {
            return Ok(());
        };
        if r.extension.is_none() && r.attr.name == "id" {
            return self.check_id(value);
        }
        if r.extension.is_none() && r.attr.name == "meta" {
            return Ok(());
        }
        let target =
            Target { scope: r.extension.map(|e| e.id), attr: r.attr, sub: r.sub, filter: None, filter_sub: None };
        check_mutability(kind, &target)?;
        apply_target(root, kind, &target, Some(value), &self.work)
    }

    /// `id` may be echoed (Okta's group rename sends it) but not changed (RFC 7643 §3.1: readOnly).
    fn check_id(&self, value: &Value) -> ScimResult<()> {
        if value.as_str() == Some(self.current_id) {
            Ok(())
        } else {
            Err(ScimError::Mutability("attribute 'id' is readOnly and cannot be changed".into()))
        }
    }

    fn apply_path(&self, root: &mut Map<String, Value>, op: &PatchOperation, path: &PatchPath) -> ScimResult<()> {
        let text = render_path(&path.attr);
        let (scope, name, sub) = match split_key(self.rt, &text) {
            Key::Schema(scope) => {
                if path.value_filter.is_some() || path.sub_attr.is_some() {
                    return Err(ScimError::InvalidPath(format!("'{text}' is a schema, not a multi-valued attribute")));
                }
                return self.apply_schema(root, op, scope, &text);
            }
            Key::Attr { scope, name, sub } => (scope, name, sub),
        };
        let r = self
            .rt
            .resolve(scope, name, sub)
            .ok_or_else(|| ScimError::InvalidPath(format!("attribute '{text}' is not defined for {}", self.rt.name)))?;
        if r.extension.is_none() && r.attr.name == "id" {
            return match op.op {
                PatchOpKind::Remove => {
                    Err(ScimError::Mutability("attribute 'id' is readOnly and cannot be removed".into()))
                }
                PatchOpKind::Add | PatchOpKind::Replace => self.check_id(required_value(op)?),
            };
        }
        let mut target =
            Target { scope: r.extension.map(|e| e.id), attr: r.attr, sub: r.sub, filter: None, filter_sub: None };
        if let Some(f) = &path.value_filter {
            if !(r.attr.multi_valued && r.attr.is_complex()) || r.sub.is_some() {
                return Err(ScimError::InvalidPath(format!(
                    "a value filter needs a multi-valued attribute, and '{text}' is not one"
                )));
            }
            check_filter_paths(f, r.attr, &text)?;
            target.filter = Some(f.clone());
        }
        if let Some(s) = &path.sub_attr {
            let def = r
                .attr
                .sub(s)
                .ok_or_else(|| ScimError::InvalidPath(format!("attribute '{text}' has no sub-attribute '{s}'")))?;
            if target.filter.is_some() {
                target.filter_sub = Some(def);
            } else if target.sub.is_none() {
                target.sub = Some(def);
            } else {
                return Err(ScimError::InvalidPath(format!("'{text}' already names a sub-attribute")));
            }
        }
        check_mutability(op.op, &target)?;
        if op.op != PatchOpKind::Remove {
            required_value(op)?;
        }
        if op.op == PatchOpKind::Replace
            && self.unmatched == UnmatchedReplace::NoTarget
            && !any_selected(root, &target, &self.work)?
        {
            return Err(ScimError::NoTarget(format!(
                "replace: no value of '{}' matches the value filter of the path (RFC 7644 §3.5.2.3)",
                r.attr.name
            )));
        }
        apply_target(root, op.op, &target, op.value.as_ref(), &self.work)
    }

    /// A path that is a bare schema URN: add/replace merge an object of that schema's attributes; remove
    /// drops a whole extension.
    fn apply_schema(
        &self,
        root: &mut Map<String, Value>,
        op: &PatchOperation,
        scope: Scope,
        text: &str,
    ) -> ScimResult<()> {
        match op.op {
            PatchOpKind::Remove => match scope {
                Some(urn) => {
                    self.work.forget_scope(Some(urn));
                    root.retain(|k, _| !k.eq_ignore_ascii_case(urn));
                    Ok(())
                }
                None => Err(ScimError::InvalidPath(format!("the core schema '{text}' cannot be removed"))),
            },
            PatchOpKind::Add | PatchOpKind::Replace => match required_value(op)? {
                Value::Object(map) => self.apply_object(root, op.op, Some(scope), map),
                Value::Null => Ok(()),
                other => Err(ScimError::InvalidValue(format!(
                    "schema '{text}' must be given an object, got {}",
                    json_kind(other)
                ))),
            },
        }
    }
}

fn required_value(op: &PatchOperation) -> ScimResult<&Value> {
    op.value
        .as_ref()
        .ok_or_else(|| ScimError::InvalidValue(format!("'{}' requires a value (RFC 7644 §3.5.2)", op.op.as_str())))
}

/// RFC 7643 §7 mutability: read-only attributes cannot be written or removed; immutable sub-attributes
/// (a group member's `value`) cannot be replaced in place.
fn check_mutability(kind: PatchOpKind, t: &Target) -> ScimResult<()> {
    let read_only =
        t.attr.mutability == Mutability::ReadOnly || t.leaf().is_some_and(|s| s.mutability == Mutability::ReadOnly);
    if read_only {
        return Err(ScimError::Mutability(format!("attribute '{}' is readOnly", t.display())));
    }
    if kind == PatchOpKind::Replace && t.leaf().is_some_and(|s| s.mutability == Mutability::Immutable) {
        return Err(ScimError::Mutability(format!("attribute '{}' is immutable", t.display())));
    }
    Ok(())
}

/// Every attribute named inside a value filter must be a sub-attribute of the filtered attribute.
fn check_filter_paths(f: &Filter, parent: &AttrDef, text: &str) -> ScimResult<()> {
    let check = |p: &filter::AttrPath| {
        if p.urn.is_none() && p.sub.is_none() && parent.sub(&p.name).is_some() {
            Ok(())
        } else {
            Err(ScimError::InvalidPath(format!(
                "'{}' in the value filter of '{text}' is not a sub-attribute of '{}'",
                render_path(p),
                parent.name
            )))
        }
    };
    match f {
        Filter::Compare { path, .. } | Filter::Present(path) => check(path),
        Filter::And(a, b) | Filter::Or(a, b) => {
            check_filter_paths(a, parent, text)?;
            check_filter_paths(b, parent, text)
        }
        Filter::Not(inner) => check_filter_paths(inner, parent, text),
        Filter::ValuePath { .. } => {
            Err(ScimError::InvalidPath(format!("value filters cannot be nested in the path '{text}'")))
        }
    }
}

/// The object holding `t`'s attribute: the resource itself, or its extension object (created for writes).
fn container(root: &mut Map<String, Value>, scope: Scope, create: bool) -> Option<&mut Map<String, Value>> {
    let Some(urn) = scope else { return Some(root) };
    canonicalise_key(root, urn);
    if create {
        let slot = root.entry(urn.to_string()).or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        slot.as_object_mut()
    } else {
        root.get_mut(urn).and_then(Value::as_object_mut)
    }
}

/// Moves a value stored under another spelling of `canonical` to `canonical`, dropping further spellings.
fn canonicalise_key(map: &mut Map<String, Value>, canonical: &str) {
    let others: Vec<String> =
        map.keys().filter(|k| k.as_str() != canonical && k.eq_ignore_ascii_case(canonical)).cloned().collect();
    for key in others {
        if let Some(v) = map.remove(&key) {
            if !map.contains_key(canonical) {
                map.insert(canonical.to_string(), v);
            }
        }
    }
}

fn is_empty_object(v: &Value) -> bool {
    matches!(v, Value::Object(m) if m.is_empty())
}

fn apply_target(
    root: &mut Map<String, Value>,
    kind: PatchOpKind,
    t: &Target,
    value: Option<&Value>,
    work: &Work,
) -> ScimResult<()> {
    let adds_values = kind == PatchOpKind::Add && t.attr.multi_valued && t.filter.is_none() && t.sub.is_none();
    if !adds_values {
        // Only an add keeps the attribute's duplicate index up to date.
        work.forget((t.scope, t.attr.name));
    }
    let Some(holder) = container(root, t.scope, kind != PatchOpKind::Remove) else {
        return Ok(());
    };
    canonicalise_key(holder, t.attr.name);
    if t.filter.is_some() || (t.attr.multi_valued && t.sub.is_some()) {
        apply_elements(holder, kind, t, value, work)?;
    } else if let Some(sub) = t.sub {
        apply_complex_sub(holder, kind, t, sub, value)?;
    } else {
        apply_whole(holder, kind, t, value, work)?;
    }
    if let Some(urn) = t.scope {
        if root.get(urn).is_some_and(is_empty_object) {
            root.remove(urn);
        }
    }
    Ok(())
}

/// `path` names a whole attribute.
fn apply_whole(
    holder: &mut Map<String, Value>,
    kind: PatchOpKind,
    t: &Target,
    value: Option<&Value>,
    work: &Work,
) -> ScimResult<()> {
    let name = t.attr.name;
    let path = t.display();
    let value = value.cloned().unwrap_or(Value::Null);
    if kind == PatchOpKind::Remove {
        // Entra removes members by listing them in `value`; without a value the whole attribute goes.
        if t.attr.multi_valued && !value.is_null() {
            let listed = match normalize_attr(t.attr, &path, value)? {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            };
            if let Some(Value::Array(items)) = holder.get_mut(name) {
                work.visit(items.len())?;
                let listed = ElementIndex::of(&listed);
                items.retain(|e| !listed.contains(e));
                if items.is_empty() {
                    holder.remove(name);
                }
            }
        } else {
            holder.remove(name);
        }
        return Ok(());
    }
    if t.attr.multi_valued {
        let new = normalize_attr(t.attr, &path, value)?;
        match (kind, new) {
            (PatchOpKind::Add, Some(Value::Array(new_items))) => {
                let mut items = match holder.remove(name) {
                    Some(Value::Array(items)) => items,
                    None | Some(Value::Null) => Vec::new(),
                    Some(other) => vec![other],
                };
                let key = (t.scope, name);
                let mut present = work.take_index(key, &items)?;
                for item in new_items {
                    if !present.contains(&item) {
                        present.insert(&item);
                        items.push(item);
                    }
                }
                holder.insert(name.to_string(), Value::Array(items));
                work.keep_index(key, present);
            }
            (PatchOpKind::Add, _) => {}
            (_, new) => set_or_remove(holder, name, new),
        }
        Ok(())
    } else if t.attr.is_complex() {
        merge_complex(holder, kind, t, value)
    } else {
        let new = normalize_attr(t.attr, &path, value)?;
        set_or_remove(holder, name, new);
        Ok(())
    }
}

fn set_or_remove(holder: &mut Map<String, Value>, name: &str, value: Option<Value>) {
    match value {
        Some(v) => {
            holder.insert(name.to_string(), v);
        }
        None => {
            holder.remove(name);
        }
    }
}

/// add/replace on a single-valued complex attribute: the given sub-attributes are merged in and the others
/// left alone (RFC 7644 §3.5.2.1, §3.5.2.3); `null`/`""` sub-attributes are cleared. A reference such as
/// `manager` may be a bare id; a new, different `value` replaces the whole reference (its `$ref` and
/// `displayName` described the old one), and a reference left without `value` is removed.
fn merge_complex(holder: &mut Map<String, Value>, kind: PatchOpKind, t: &Target, value: Value) -> ScimResult<()> {
    let name = t.attr.name;
    let path = t.display();
    let has_value_sub = t.attr.sub("value").is_some();
    let given = match value {
        Value::Null => {
            if kind == PatchOpKind::Replace {
                holder.remove(name);
            }
            return Ok(());
        }
        Value::Object(m) => m,
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
    let mut current = match holder.remove(name) {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    if has_value_sub {
        if let Some(Value::String(new_id)) = get_ci(&given, "value") {
            if !new_id.is_empty() && current.get("value").and_then(Value::as_str) != Some(new_id.as_str()) {
                current.clear();
            }
        }
    }
    for (k, v) in given {
        let Some(sub) = t.attr.sub(&k) else { continue };
        if sub.mutability == Mutability::ReadOnly {
            continue;
        }
        let normalized = normalize_attr(sub, &format!("{path}.{}", sub.name), v)?;
        remove_ci(&mut current, sub.name);
        if let Some(v) = normalized {
            current.insert(sub.name.to_string(), v);
        }
    }
    let keep = !current.is_empty() && (!has_value_sub || current.contains_key("value"));
    if keep {
        holder.insert(name.to_string(), Value::Object(current));
    }
    Ok(())
}

/// `name.familyName` and the like: one sub-attribute of a single-valued complex attribute.
fn apply_complex_sub(
    holder: &mut Map<String, Value>,
    kind: PatchOpKind,
    t: &Target,
    sub: &AttrDef,
    value: Option<&Value>,
) -> ScimResult<()> {
    let name = t.attr.name;
    let new = match kind {
        PatchOpKind::Remove => None,
        _ => normalize_attr(sub, &t.display(), value.cloned().unwrap_or(Value::Null))?,
    };
    if new.is_none() && !holder.contains_key(name) {
        return Ok(());
    }
    let slot = holder.entry(name.to_string()).or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    if let Value::Object(obj) = slot {
        remove_ci(obj, sub.name);
        if let Some(v) = new {
            obj.insert(sub.name.to_string(), v);
        }
    }
    if holder.get(name).is_some_and(is_empty_object) {
        holder.remove(name);
    }
    Ok(())
}

/// Value-filtered paths (`emails[type eq "work"]`, `emails[type eq "work"].value`) and `attr.sub` on a
/// multi-valued attribute (which addresses every element).
fn apply_elements(
    holder: &mut Map<String, Value>,
    kind: PatchOpKind,
    t: &Target,
    value: Option<&Value>,
    work: &Work,
) -> ScimResult<()> {
    let name = t.attr.name;
    let path = t.display();
    let mut items = match holder.remove(name) {
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) => Vec::new(),
        Some(other) => vec![other],
    };
    work.visit(items.len())?;
    let matched: Vec<bool> = items.iter().map(|e| selected(t.filter.as_ref(), e, t.attr)).collect();
    let any = matched.iter().any(|m| *m);
    let leaf = t.leaf();
    match (kind, leaf) {
        (PatchOpKind::Remove, None) => {
            let mut flags = matched.iter();
            items.retain(|_| !flags.next().copied().unwrap_or(false));
        }
        (PatchOpKind::Remove, Some(sub)) if sub.name == "value" => {
            // An element is its `value` (RFC 7643 §2.4): removing `emails[type eq "work"].value` removes the
            // work email, not just its address. Entra sends the address being removed as the op's value; when
            // one is given, only elements carrying it (ignoring case) go.
            let given = value.and_then(Value::as_str);
            let mut flags = matched.iter();
            items.retain(|e| {
                let selected = flags.next().copied().unwrap_or(false);
                let carries = match (given, e.get("value").and_then(Value::as_str)) {
                    (Some(g), Some(v)) => g.eq_ignore_ascii_case(v),
                    _ => true,
                };
                !(selected && carries)
            });
        }
        (PatchOpKind::Remove, Some(sub)) => {
            for (e, m) in items.iter_mut().zip(&matched) {
                if let (true, Value::Object(obj)) = (*m, e) {
                    remove_ci(obj, sub.name);
                }
            }
            items.retain(|e| !is_empty_object(e));
        }
        (_, Some(sub)) => {
            let new = normalize_attr(sub, &path, value.cloned().unwrap_or(Value::Null))?;
            if any {
                for (e, m) in items.iter_mut().zip(&matched) {
                    if !*m {
                        continue;
                    }
                    if !e.is_object() {
                        // A bare element stands for {"value": element}.
                        let mut obj = Map::new();
                        obj.insert("value".to_string(), std::mem::take(e));
                        *e = Value::Object(obj);
                    }
                    if let Value::Object(obj) = e {
                        remove_ci(obj, sub.name);
                        if let Some(v) = &new {
                            obj.insert(sub.name.to_string(), v.clone());
                        }
                    }
                }
                items.retain(|e| !is_empty_object(e));
            } else if let Some(v) = new {
                let mut element = seed_element(t, &path)?;
                element.insert(sub.name.to_string(), v);
                items.push(Value::Object(element));
            }
        }
        (_, None) => {
            let new = normalize_single(t.attr, &path, value.cloned().unwrap_or(Value::Null))?;
            match new {
                Some(Value::Object(given)) => {
                    if any {
                        for (e, m) in items.iter_mut().zip(&matched) {
                            if !*m {
                                continue;
                            }
                            match e {
                                Value::Object(obj) => {
                                    for (k, v) in &given {
                                        obj.insert(k.clone(), v.clone());
                                    }
                                }
                                other => *other = Value::Object(given.clone()),
                            }
                        }
                    } else {
                        let mut element = seed_element(t, &path)?;
                        element.extend(given);
                        items.push(Value::Object(element));
                    }
                }
                Some(_) => {}
                None => {
                    // Replacing the selected elements with nothing removes them.
                    if kind == PatchOpKind::Replace {
                        let mut flags = matched.iter();
                        items.retain(|_| !flags.next().copied().unwrap_or(false));
                    }
                }
            }
        }
    }
    if !items.is_empty() {
        holder.insert(name.to_string(), Value::Array(items));
    }
    Ok(())
}

/// For a target with a value filter: whether some present value of the attribute matches it (RFC 7644 §3.5.2.3
/// "no record match"). Without a filter, always true.
fn any_selected(root: &mut Map<String, Value>, t: &Target, work: &Work) -> ScimResult<bool> {
    let Some(f) = &t.filter else { return Ok(true) };
    let Some(holder) = container(root, t.scope, false) else { return Ok(false) };
    Ok(match get_ci(holder, t.attr.name) {
        Some(Value::Array(items)) => {
            work.visit(items.len())?;
            items.iter().any(|e| selected(Some(f), e, t.attr))
        }
        None | Some(Value::Null) => false,
        Some(single) => selected(Some(f), single, t.attr),
    })
}

/// Whether `element` is selected: by the value filter if there is one, else always.
fn selected(filter: Option<&Filter>, element: &Value, parent: &AttrDef) -> bool {
    match filter {
        None => true,
        Some(f) => filter::matches_element(f, element, parent),
    }
}

/// When a value filter matched nothing on add/replace: if the filter is an `eq`, or an `and` of `eq`s, on
/// sub-attributes, the new element starts from those equalities (so `emails[type eq "work"].value` gives a
/// user without a work email one). Any other filter is `noTarget` (RFC 7644 §3.5.2.3). Without a filter
/// (`emails.value` on an empty attribute) the element starts empty.
fn seed_element(t: &Target, path: &str) -> ScimResult<Map<String, Value>> {
    let mut element = Map::new();
    let Some(f) = &t.filter else {
        return Ok(element);
    };
    let mut equalities = Vec::new();
    if !collect_equalities(f, t.attr, &mut equalities) {
        return Err(ScimError::NoTarget(format!(
            "no value of '{}' matches the filter of the path '{path}'",
            t.attr.name
        )));
    }
    for (sub, v) in equalities {
        let sub_path = format!("{}.{}", t.attr.name, sub.name);
        if let Some(v) = normalize_attr(sub, &sub_path, v.clone())? {
            element.insert(sub.name.to_string(), v);
        }
    }
    Ok(element)
}

fn collect_equalities<'f>(f: &'f Filter, parent: &AttrDef, out: &mut Vec<(&'static AttrDef, &'f Value)>) -> bool {
    match f {
        Filter::Compare { path, op: CompareOp::Eq, value } if path.urn.is_none() && path.sub.is_none() => {
            match parent.sub(&path.name) {
                Some(sub) => {
                    out.push((sub, value));
                    true
                }
                None => false,
            }
        }
        Filter::And(a, b) => collect_equalities(a, parent, out) && collect_equalities(b, parent, out),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
