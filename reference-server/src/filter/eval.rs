//! Evaluation of a parsed filter against a resource (RFC 7644 §3.4.2.2), with the semantics the parent module
//! documents; and sorting (RFC 7644 §3.4.2.3).

use super::*;

/// Evaluates a filter against a whole resource (RFC 7644 §3.4.2.2): core attributes at the top level,
/// extension attributes under their schema URN key, plus `id`, `externalId` and `meta`. Names and JSON
/// keys are matched case-insensitively (RFC 7643 §2.1). See the module documentation for the semantics
/// of absent attributes, multi-valued attributes and types. A path the resource type does not define
/// never matches (run [`validate`] first to report it).
pub fn matches(filter: &Filter, resource: &Value, rt: &ResourceType) -> bool {
    match filter {
        Filter::And(a, b) => matches(a, resource, rt) && matches(b, resource, rt),
        Filter::Or(a, b) => matches(a, resource, rt) || matches(b, resource, rt),
        Filter::Not(inner) => !matches(inner, resource, rt),
        Filter::Compare { path, op, value } => {
            let Some((res, raw)) = locate(resource, rt, path) else {
                return false;
            };
            let mut leaves = Vec::new();
            let leaf_def = match comparison_target(&res) {
                Some((def, sub)) => {
                    collect_leaves(raw, sub, &mut leaves);
                    def
                }
                None => res.leaf(),
            };
            compare_leaves(leaf_def, &leaves, *op, value)
        }
        Filter::Present(path) => {
            let Some((res, raw)) = locate(resource, rt, path) else {
                return false;
            };
            match res.sub {
                Some(sub) => {
                    let mut leaves = Vec::new();
                    collect_leaves(raw, Some(sub.name), &mut leaves);
                    leaves.into_iter().any(is_present)
                }
                None => raw.is_some_and(is_present),
            }
        }
        Filter::ValuePath { path, filter } => {
            if path.sub.is_some() {
                return false;
            }
            let Some((res, raw)) = locate(resource, rt, path) else {
                return false;
            };
            if !res.attr.is_complex() {
                return false;
            }
            match raw {
                Some(Value::Array(items)) => items.iter().any(|el| matches_element(filter, el, res.attr)),
                Some(el) => matches_element(filter, el, res.attr),
                None => false,
            }
        }
    }
}

/// Evaluates a value filter (the inside of `emails[...]`, RFC 7644 §3.4.2.2 `valFilter`) against one
/// element of the multi-valued attribute `parent`; paths are sub-attribute names of `parent`. An element
/// that is a plain value rather than an object is treated as `{"value": element}`.
pub fn matches_element(filter: &Filter, element: &Value, parent: &AttrDef) -> bool {
    match filter {
        Filter::And(a, b) => matches_element(a, element, parent) && matches_element(b, element, parent),
        Filter::Or(a, b) => matches_element(a, element, parent) || matches_element(b, element, parent),
        Filter::Not(inner) => !matches_element(inner, element, parent),
        Filter::Compare { path, op, value } => {
            let Some(def) = element_def(path, parent) else {
                return false;
            };
            let mut leaves = Vec::new();
            collect_leaves(element_get(element, def.name), None, &mut leaves);
            compare_leaves(def, &leaves, *op, value)
        }
        Filter::Present(path) => {
            element_def(path, parent).and_then(|def| element_get(element, def.name)).is_some_and(is_present)
        }
        Filter::ValuePath { .. } => false,
    }
}

/// If `filter` is `attr eq "<string>"` on the top-level attribute `attr` (case-insensitive name, no
/// sub-attribute, no URN other than a core schema's), or an `and` one of whose sides (recursively) is,
/// returns the string. The store answers `userName eq`, `externalId eq`, `displayName eq` and `id eq`
/// from an index with it; for an `and` the caller must still evaluate the whole filter with [`matches`]
/// on the candidates. `or` and `not` are never indexed.
pub fn indexed_eq<'a>(filter: &'a Filter, attr: &str) -> Option<&'a str> {
    match filter {
        Filter::Compare { path, op: CompareOp::Eq, value: Value::String(s) }
            if path.sub.is_none()
                && path.name.eq_ignore_ascii_case(attr)
                && !matches!(path.urn.as_deref(), Some(u) if !is_core_urn(u)) =>
        {
            Some(s)
        }
        Filter::And(a, b) => indexed_eq(a, attr).or_else(|| indexed_eq(b, attr)),
        _ => None,
    }
}

fn is_core_urn(urn: &str) -> bool {
    urn.eq_ignore_ascii_case(USER_URN) || urn.eq_ignore_ascii_case(GROUP_URN)
}

/// The values an attribute path selects in a resource, for sorting (RFC 7644 §3.4.2.3): for a complex
/// attribute without sub-attribute, its `value` sub-attribute(s); for `emails.value`, every element's
/// `value`; for a simple multi-valued attribute, its elements. Elements marked `"primary": true` come
/// first, then the others in document order; `null`s are skipped. Names resolve case-insensitively.
pub fn select<'a>(resource: &'a Value, rt: &ResourceType, path: &AttrPath) -> Vec<&'a Value> {
    let mut out = Vec::new();
    let Some((res, raw)) = locate(resource, rt, path) else {
        return out;
    };
    let Some((_, sub)) = comparison_target(&res) else {
        return out;
    };
    match (raw, sub) {
        (Some(Value::Array(items)), Some(sub)) => {
            let primary = items.iter().filter(|el| is_primary(el));
            let others = items.iter().filter(|el| !is_primary(el));
            for el in primary.chain(others) {
                if let Some(v) = element_get(el, sub) {
                    push_flat(v, &mut out);
                }
            }
        }
        _ => collect_leaves(raw, sub, &mut out),
    }
    out
}

/// Total order used by `sortBy` (RFC 7644 §3.4.2.3): compares two selected values by the attribute's
/// type. Strings honour `caseExact` (case-insensitive when false); dateTimes compare as instants; numbers
/// numerically (integers exactly); booleans `false < true` (also as the strings "true"/"false").
/// For a complex `def` its `value` sub-attribute's definition is used. Missing values (`None` or `null`)
/// sort after every present value. Values of the wrong type sort after values of the right type, so the
/// order stays total whatever the data.
pub fn compare_for_sort(def: &AttrDef, a: Option<&Value>, b: Option<&Value>) -> Ordering {
    let def: &AttrDef = if def.is_complex() { def.sub("value").unwrap_or(def) } else { def };
    let a = a.filter(|v| !v.is_null());
    let b = b.filter(|v| !v.is_null());
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(a), Some(b)) => {
            let (ka, kb) = (SortKey::of(def, a), SortKey::of(def, b));
            match (ka, kb) {
                (SortKey::Bool(x), SortKey::Bool(y)) => x.cmp(&y),
                (SortKey::Num(x), SortKey::Num(y)) => cmp_numbers(x, y),
                (SortKey::Time(x), SortKey::Time(y)) => x.cmp(&y),
                (SortKey::Str(x), SortKey::Str(y)) => cmp_strings(x, y, def.case_exact),
                (ka, kb) => ka.rank().cmp(&kb.rank()),
            }
        }
    }
}

/// A value classified for sorting. The expected kind for the attribute's type comes first.
enum SortKey<'a> {
    Bool(bool),
    Num(&'a Number),
    Time(DateTime<FixedOffset>),
    Str(&'a str),
    Other(u8),
}

impl<'a> SortKey<'a> {
    fn of(def: &AttrDef, v: &'a Value) -> Self {
        match v {
            Value::Bool(b) => SortKey::Bool(*b),
            Value::Number(n) => SortKey::Num(n),
            Value::String(s) => match def.ty {
                AttrType::Boolean => crate::values::scim_boolean(v).map_or(SortKey::Str(s), SortKey::Bool),
                AttrType::DateTime => parse_date_time(s).map_or(SortKey::Str(s), SortKey::Time),
                _ => SortKey::Str(s),
            },
            Value::Array(_) => SortKey::Other(0),
            Value::Object(_) => SortKey::Other(1),
            Value::Null => SortKey::Other(2),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            SortKey::Bool(_) => 0,
            SortKey::Num(_) => 1,
            SortKey::Time(_) => 2,
            SortKey::Str(_) => 3,
            SortKey::Other(r) => 4 + r,
        }
    }
}

/// Resolves `path` and finds its raw (non-null) value in the resource.
fn locate<'a>(resource: &'a Value, rt: &ResourceType, path: &AttrPath) -> Option<(Resolved, Option<&'a Value>)> {
    let res = rt.resolve(path.urn.as_deref(), &path.name, path.sub.as_deref())?;
    let container = match res.extension {
        Some(ext) => get_ci(resource, ext.id),
        None => Some(resource),
    };
    let raw = container.and_then(|c| get_ci(c, res.attr.name)).filter(|v| !v.is_null());
    Some((res, raw))
}

/// The definition compared and the sub-attribute to extract for a comparison on a resolved path: the
/// sub-attribute if named, else the `value` sub-attribute of a complex attribute, else the attribute
/// itself. `None` for a complex attribute without `value`.
pub(crate) fn comparison_target(res: &Resolved) -> Option<(&'static AttrDef, Option<&'static str>)> {
    match res.sub {
        Some(sub) => Some((sub, Some(sub.name))),
        None if res.attr.is_complex() => res.attr.sub("value").map(|v| (v, Some(v.name))),
        None => Some((res.attr, None)),
    }
}

/// The definition of a value-filter path: a bare sub-attribute name of `parent`.
pub(crate) fn element_def(path: &AttrPath, parent: &AttrDef) -> Option<&'static AttrDef> {
    if path.urn.is_some() || path.sub.is_some() {
        return None;
    }
    parent.sub(&path.name)
}

/// Looks up an object key case-insensitively ([`crate::values::get_ci`]).
fn get_ci<'a>(obj: &'a Value, key: &str) -> Option<&'a Value> {
    crate::values::get_ci(obj.as_object()?, key)
}

/// A sub-attribute of one element of a multi-valued (or single-valued complex) attribute. A plain value
/// stands for `{"value": v}`.
fn element_get<'a>(element: &'a Value, name: &str) -> Option<&'a Value> {
    match element {
        Value::Object(_) => get_ci(element, name).filter(|v| !v.is_null()),
        Value::Null | Value::Array(_) => None,
        _ if name.eq_ignore_ascii_case("value") => Some(element),
        _ => None,
    }
}

fn is_primary(element: &Value) -> bool {
    element_get(element, "primary").and_then(crate::values::scim_boolean) == Some(true)
}

/// Pushes a value, or each non-null element of an array.
fn push_flat<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Null => {}
        Value::Array(items) => out.extend(items.iter().filter(|i| !i.is_null())),
        other => out.push(other),
    }
}

/// The values compared for an attribute: with `sub`, that sub-attribute of every element (or of the
/// single complex value); without, the value itself or the elements of an array.
fn collect_leaves<'a>(raw: Option<&'a Value>, sub: Option<&str>, out: &mut Vec<&'a Value>) {
    let Some(raw) = raw else {
        return;
    };
    match (sub, raw) {
        (None, v) => push_flat(v, out),
        (Some(sub), Value::Array(items)) => {
            for el in items {
                if let Some(v) = element_get(el, sub) {
                    push_flat(v, out);
                }
            }
        }
        (Some(sub), v) => {
            if let Some(v) = element_get(v, sub) {
                push_flat(v, out);
            }
        }
    }
}

/// RFC 7644 §3.4.2.2 `pr`: present and not null, not an empty string, not an empty array or object.
/// An array is present when one of its elements is; an object when one of its members is non-empty.
fn is_present(v: &Value) -> bool {
    match v {
        Value::Array(items) => items.iter().any(is_present_element),
        other => is_present_element(other),
    }
}

fn is_present_element(v: &Value) -> bool {
    match v {
        Value::Object(map) => map.values().any(is_non_empty),
        other => is_non_empty(other),
    }
}

fn is_non_empty(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

/// Applies `op` to the values of an attribute (already extracted): any value matching, `ne` as the
/// negation of `eq`, `eq null` as "not present".
pub(crate) fn compare_leaves(def: &AttrDef, leaves: &[&Value], op: CompareOp, comp: &Value) -> bool {
    if comp.is_null() {
        return match op {
            CompareOp::Eq => leaves.is_empty(),
            CompareOp::Ne => !leaves.is_empty(),
            _ => false,
        };
    }
    match op {
        CompareOp::Ne => !leaves.iter().any(|v| compare_one(def, v, CompareOp::Eq, comp)),
        _ => leaves.iter().any(|v| compare_one(def, v, op, comp)),
    }
}

/// Compares one attribute value with the filter's value by the attribute's type.
fn compare_one(def: &AttrDef, v: &Value, op: CompareOp, comp: &Value) -> bool {
    match def.ty {
        AttrType::Boolean => match (crate::values::scim_boolean(v), crate::values::scim_boolean(comp)) {
            (Some(a), Some(b)) => match op {
                CompareOp::Eq => a == b,
                CompareOp::Ne => a != b,
                _ => false,
            },
            _ => false,
        },
        AttrType::Integer | AttrType::Decimal => match (v, comp) {
            (Value::Number(a), Value::Number(b)) => ord_satisfies(cmp_numbers(a, b), op),
            _ => false,
        },
        AttrType::DateTime => match (v.as_str(), comp.as_str()) {
            (Some(a), Some(b)) => {
                if !matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) {
                    if let (Some(x), Some(y)) = (parse_date_time(a), parse_date_time(b)) {
                        return ord_satisfies(x.cmp(&y), op);
                    }
                }
                string_op(a, b, op, def.case_exact)
            }
            _ => false,
        },
        AttrType::String | AttrType::Reference | AttrType::Binary => match (v.as_str(), comp.as_str()) {
            (Some(a), Some(b)) => string_op(a, b, op, def.case_exact),
            _ => false,
        },
        AttrType::Complex => false,
    }
}

/// Whether an ordering satisfies a comparison operator (`co`/`sw`/`ew` never do).
fn ord_satisfies(ord: Ordering, op: CompareOp) -> bool {
    match op {
        CompareOp::Eq => ord == Ordering::Equal,
        CompareOp::Ne => ord != Ordering::Equal,
        CompareOp::Gt => ord == Ordering::Greater,
        CompareOp::Ge => ord != Ordering::Less,
        CompareOp::Lt => ord == Ordering::Less,
        CompareOp::Le => ord != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

/// String comparison; case folded (Unicode lowercase) unless `case_exact`.
pub(crate) fn string_op(a: &str, b: &str, op: CompareOp, case_exact: bool) -> bool {
    match op {
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew if !case_exact => {
            string_op(&a.to_lowercase(), &b.to_lowercase(), op, true)
        }
        CompareOp::Co => a.contains(b),
        CompareOp::Sw => a.starts_with(b),
        CompareOp::Ew => a.ends_with(b),
        _ => ord_satisfies(cmp_strings(a, b, case_exact), op),
    }
}

/// Orders two strings, under Unicode lowercase (`str::to_lowercase`, as `co`/`sw`/`ew` and the `userName`
/// index's `store::fold` use) unless `case_exact`, so `eq` agrees with them: `"ΟΔΟΣ"` lowercases to `"οδος"`
/// (final sigma), which a character-by-character lowercase would not give. ASCII is compared in place.
fn cmp_strings(a: &str, b: &str, case_exact: bool) -> Ordering {
    if case_exact {
        a.cmp(b)
    } else if a.is_ascii() && b.is_ascii() {
        a.bytes().map(|c| c.to_ascii_lowercase()).cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
    } else {
        // UTF-8 byte order is code point order, so this orders as the characters do
        a.to_lowercase().cmp(&b.to_lowercase())
    }
}

fn parse_date_time(s: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s).ok()
}

/// A JSON number as an exact integer when it is one, else a float.
enum Num {
    Int(i128),
    Float(f64),
}

impl Num {
    fn of(n: &Number) -> Self {
        if let Some(i) = n.as_i64() {
            Num::Int(i128::from(i))
        } else if let Some(u) = n.as_u64() {
            Num::Int(i128::from(u))
        } else {
            Num::Float(n.as_f64().unwrap_or(0.0))
        }
    }
}

/// Exact numeric comparison (integers are not rounded through `f64`), a total order over JSON numbers.
pub(super) fn cmp_numbers(a: &Number, b: &Number) -> Ordering {
    match (Num::of(a), Num::of(b)) {
        (Num::Int(x), Num::Int(y)) => x.cmp(&y),
        (Num::Float(x), Num::Float(y)) => x.partial_cmp(&y).unwrap_or_else(|| x.total_cmp(&y)),
        (Num::Int(x), Num::Float(y)) => cmp_int_float(x, y),
        (Num::Float(x), Num::Int(y)) => cmp_int_float(y, x).reverse(),
    }
}

pub(super) fn cmp_int_float(i: i128, f: f64) -> Ordering {
    // 2^127: every i128 is below it; -2^127 is i128::MIN.
    let limit = i128::MAX as f64;
    if f.is_nan() || f >= limit {
        return Ordering::Less;
    }
    if f < -limit {
        return Ordering::Greater;
    }
    let whole = f.trunc();
    match i.cmp(&(whole as i128)) {
        Ordering::Equal => {
            let frac = f - whole;
            if frac > 0.0 {
                Ordering::Less
            } else if frac < 0.0 {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        }
        other => other,
    }
}
