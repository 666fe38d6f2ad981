//! What normalisation needs beside the values themselves, built without allocating on the common path: the
//! name of the attribute being normalised, written out only when an error detail quotes it ([`AttrName`]),
//! and the set of the distinct elements of a multi-valued attribute ([`Distinct`], RFC 7643 §2.4).

use std::collections::HashSet;
use std::fmt;

use serde_json::Value;

use super::Scope;

/// How an attribute is named in error details — `name`, `name.sub`, `urn:name` — written only when an error
/// is: normalising a user walks every attribute and sub-attribute, and almost never fails.
#[derive(Debug, Clone, Copy)]
pub(crate) enum AttrName<'a> {
    /// A name the caller already spelled out.
    Given(&'a str),
    /// A top-level attribute: `name`, or `urn:name` in an extension.
    Scoped(Scope, &'a str),
    /// A sub-attribute of an attribute named by the parent: `parent.sub`.
    Sub(&'a AttrName<'a>, &'a str),
}

impl fmt::Display for AttrName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttrName::Given(s) => f.write_str(s),
            AttrName::Scoped(Some(urn), name) => write!(f, "{urn}:{name}"),
            AttrName::Scoped(None, name) => f.write_str(name),
            AttrName::Sub(parent, sub) => write!(f, "{parent}.{sub}"),
        }
    }
}

/// The distinct elements of a multi-valued attribute seen so far. Two elements are the same when their
/// compact JSON texts are (objects' keys are sorted, so that is when they hold the same values). Up to
/// [`Distinct::LINEAR`] elements are compared in place with [`same_text`]; beyond that, by the hash of their
/// text, so a 10,000-member list costs 10,000 look-ups, not 10,000².
#[derive(Debug, Default)]
pub(crate) struct Distinct {
    hashed: Option<HashSet<String>>,
}

impl Distinct {
    /// The most elements compared one by one before switching to hashed texts.
    const LINEAR: usize = 16;

    /// Whether `element` is new among `kept` (the elements accepted so far, all of them distinct). The caller
    /// pushes an accepted element into `kept`: up to [`Distinct::LINEAR`] elements the check reads `kept` itself;
    /// beyond, the hashed texts remember every element found new here.
    pub(crate) fn is_new(&mut self, kept: &[Value], element: &Value) -> bool {
        if self.hashed.is_none() && kept.len() < Self::LINEAR {
            return !kept.iter().any(|k| same_text(k, element));
        }
        let hashed = self.hashed.get_or_insert_with(|| kept.iter().map(text).collect());
        hashed.insert(text(element))
    }
}

fn text(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Whether two values have the same compact JSON text, without writing it: numbers are the same only when
/// both are integers of one value or both floats of the same bits (`1` and `1.0`, `0.0` and `-0.0` are
/// written differently), strings when equal, arrays and objects (keys sorted) member by member.
fn same_text(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => match (x.is_f64(), y.is_f64()) {
            (true, true) => x.as_f64().map(f64::to_bits) == y.as_f64().map(f64::to_bits),
            (false, false) => x == y,
            _ => false,
        },
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_text(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((kp, p), (kq, q))| kp == kq && same_text(p, q))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `same_text` agrees with comparing the compact texts, including where `Value`'s own equality does not.
    #[test]
    fn same_text_is_equal_compact_text() {
        let values = [
            json!(1),
            json!(1.0),
            json!(-0.0),
            json!(0.0),
            json!(0),
            json!(-1),
            json!(u64::MAX),
            json!("1"),
            json!(null),
            json!(true),
            json!([1, 2]),
            json!([2, 1]),
            json!({"value": "a", "primary": true}),
            json!({"primary": true, "value": "a"}),
            json!({"value": "a"}),
            json!({"value": "a", "type": "work"}),
            json!({"value": "a", "type": "home"}),
        ];
        for a in &values {
            for b in &values {
                assert_eq!(same_text(a, b), text(a) == text(b), "{a} vs {b}");
            }
        }
        assert_ne!(json!(0.0) == json!(-0.0), same_text(&json!(0.0), &json!(-0.0)), "Value's == differs here");
    }

    /// Past [`Distinct::LINEAR`] elements the set switches to hashed texts and still finds every duplicate,
    /// those kept before the switch included.
    #[test]
    fn duplicates_are_found_before_and_after_the_switch_to_hashing() {
        let mut d = Distinct::default();
        let mut kept = Vec::new();
        for i in 0..3 * Distinct::LINEAR {
            let e = json!({"value": format!("v{i}")});
            assert!(d.is_new(&kept, &e));
            kept.push(e);
        }
        assert!(d.hashed.is_some());
        for i in [0, Distinct::LINEAR - 1, Distinct::LINEAR, 3 * Distinct::LINEAR - 1] {
            assert!(!d.is_new(&kept, &json!({"value": format!("v{i}")})), "{i}");
        }
        assert!(!Distinct::default().is_new(&[json!(0.5)], &json!(0.5)));
        assert!(Distinct::default().is_new(&[json!(0.0)], &json!(-0.0)));
    }

    #[test]
    fn names_are_written_as_error_details_quote_them() {
        let top = AttrName::Scoped(None, "emails");
        let ext = AttrName::Scoped(Some("urn:x"), "manager");
        assert_eq!(AttrName::Sub(&top, "value").to_string(), "emails.value");
        assert_eq!(AttrName::Sub(&ext, "value").to_string(), "urn:x:manager.value");
        assert_eq!(AttrName::Given("members").to_string(), "members");
    }
}
