//! SCIM value rules every part of the server shares — the resource validator ([`crate::resource`]), filters
//! ([`crate::filter`]), PATCH ([`crate::patch`]), the portal's CAL rules ([`crate::cal`]) and the handlers — so
//! each is decided once:
//! - attribute names are case-insensitive (RFC 7643 §2.1): [`get_ci`], [`key_ci`];
//! - a boolean is `true` or `false` (RFC 7643 §2.3.2); the strings `"true"`/`"false"` are accepted in any case
//!   (Entra sends `"True"`/`"False"`), and nothing else is a boolean: [`scim_boolean`], [`boolean`].

use serde_json::{Map, Value};

use crate::error::{ScimError, ScimResult};

/// The value of attribute `key` of `map`, its name compared case-insensitively (RFC 7643 §2.1), an exact match
/// preferred.
pub fn get_ci<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).or_else(|| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

/// The key of `map` that names attribute `key` (RFC 7643 §2.1): itself, else one equal to it ignoring ASCII case.
pub fn key_ci(map: &Map<String, Value>, key: &str) -> Option<String> {
    match map.contains_key(key) {
        true => Some(key.to_string()),
        false => map.keys().find(|k| k.eq_ignore_ascii_case(key)).cloned(),
    }
}

/// Removes every member of `map` that names attribute `key` (RFC 7643 §2.1: attribute names are
/// case-insensitive), whatever its case.
pub fn remove_ci(map: &mut Map<String, Value>, key: &str) {
    map.retain(|k, _| !k.eq_ignore_ascii_case(key));
}

/// `v` as a SCIM boolean (RFC 7643 §2.3.2): a JSON boolean, or the string `"true"` or `"false"` in any case
/// (surrounding spaces ignored). `None` for anything else.
pub fn scim_boolean(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// [`scim_boolean`] for attribute `path`, or an error.
///
/// Errors: [`ScimError::InvalidValue`] (400 `invalidValue`, RFC 7644 §3.12) naming the attribute and what it got.
pub fn boolean(v: &Value, path: impl std::fmt::Display) -> ScimResult<bool> {
    scim_boolean(v).ok_or_else(|| {
        let got = match v {
            Value::String(s) => format!("the string '{}'", s.chars().take(64).collect::<String>()),
            Value::Null => "null".into(),
            Value::Number(_) => "a number".into(),
            Value::Array(_) => "an array".into(),
            Value::Object(_) => "an object".into(),
            Value::Bool(_) => "a boolean".into(),
        };
        ScimError::InvalidValue(format!("attribute '{path}' must be a boolean, got {got}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn booleans_are_true_or_false_in_any_case_and_nothing_else() {
        for (v, want) in
            [(json!(true), true), (json!("False"), false), (json!("TRUE"), true), (json!(" false "), false)]
        {
            assert_eq!(scim_boolean(&v), Some(want), "{v}");
        }
        for v in [json!("yes"), json!("0"), json!(""), json!(1), json!(null), json!(["true"])] {
            assert_eq!(scim_boolean(&v), None, "{v}");
            assert!(matches!(boolean(&v, "active"), Err(ScimError::InvalidValue(_))), "{v}");
        }
    }

    #[test]
    fn attribute_names_are_case_insensitive_exact_first() {
        let m = json!({"userName": "a", "USERNAME": "b", "Active": true});
        let m = m.as_object().unwrap();
        assert_eq!(get_ci(m, "USERNAME"), Some(&json!("b")));
        assert_eq!(get_ci(m, "userName"), Some(&json!("a")));
        assert_eq!(get_ci(m, "active"), Some(&json!(true)));
        assert_eq!(key_ci(m, "ACTIVE").as_deref(), Some("Active"));
        assert_eq!(get_ci(m, "title"), None);
    }
}
