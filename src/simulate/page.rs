//! A ListResponse page (RFC 7644 §3.4.2) read as it streams: its `totalResults` and each of its `Resources`,
//! one resource at a time, turned into what the reconciliation keeps. A page of 500 users used to become one
//! `serde_json::Value` tree of the whole page (several times the size of its text) before the resources were
//! taken out of it; now only one resource's tree exists at a time.
//!
//! Members are found as in the tree: `totalResults` by its exact name, else the first member of another case,
//! and `Resources` as the first member whose name is `Resources` in any case (RFC 7643 §2.1: attribute names are
//! case-insensitive), "first" in the order of a `serde_json::Map`; a duplicated member counts by its last value,
//! as when the page is parsed into a tree.

use std::collections::HashMap;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// What a page holds: its resources, each taken by the page's `take`, and its `totalResults` (0 when absent or
/// not an unsigned integer).
pub(super) type Page<T> = (Vec<T>, usize);

/// Reads `body` as a ListResponse page: `None` when it is not JSON; a JSON value that is not an object is a page
/// without resources, of total 0, and so is a `Resources` that is not an array.
#[cfg(test)]
pub(super) fn parse<T>(body: &[u8], take: fn(Value) -> T) -> Option<Page<T>> {
    parse_kept(body, |_| true, take)
}

/// [`parse`], each resource that is an object built with only the members whose names `keep` accepts (the
/// others are read past, not built): `take` gets the resource it would get from [`parse`] minus those members.
/// `keep` sees each name as the page spells it.
pub(super) fn parse_kept<T>(body: &[u8], keep: fn(&str) -> bool, take: fn(Value) -> T) -> Option<Page<T>> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let page = PageSeed { keep, take }.deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(page)
}

struct PageSeed<T> {
    keep: fn(&str) -> bool,
    take: fn(Value) -> T,
}

impl<'de, T> DeserializeSeed<'de> for PageSeed<T> {
    type Value = Page<T>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Page<T>, D::Error> {
        d.deserialize_any(self)
    }
}

/// The `Resources` member: its elements taken one by one, or `None` when it is not an array.
struct ResourcesSeed<T> {
    keep: fn(&str) -> bool,
    take: fn(Value) -> T,
}

impl<'de, T> DeserializeSeed<'de> for ResourcesSeed<T> {
    type Value = Option<Vec<T>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<Vec<T>>, D::Error> {
        d.deserialize_any(self)
    }
}

/// Any JSON value that is not the expected one: skipped (`IgnoredAny`), read as `default`.
macro_rules! otherwise {
    ($default:expr) => {
        fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($default)
        }
        fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($default)
        }
        fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($default)
        }
        fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($default)
        }
        fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok($default)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok($default)
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok($default)
        }
    };
}

/// One resource as a `Value`, as `Value`'s own `Deserialize` builds it, except that an object keeps only the
/// members whose names the function accepts (a repeated name: its last value, as `serde_json::Map` keeps).
struct Kept(fn(&str) -> bool);

impl<'de> DeserializeSeed<'de> for Kept {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Kept {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element::<Value>()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if (self.0)(&key) {
                out.insert(key.into_owned(), map.next_value::<Value>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(Value::Object(out))
    }
}

impl<'de, T> Visitor<'de> for ResourcesSeed<T> {
    type Value = Option<Vec<T>>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of resources")
    }
    otherwise!(None);
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1000));
        while let Some(v) = seq.next_element_seed(Kept(self.keep))? {
            out.push((self.take)(v));
        }
        Ok(Some(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

impl<'de, T> Visitor<'de> for PageSeed<T> {
    type Value = Page<T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a ListResponse")
    }
    otherwise!((Vec::new(), 0));
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok((Vec::new(), 0))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        // The names seen of each member, in a `serde_json::Map` so that "first" is the tree's order; the values
        // beside them (the last one of a duplicated name).
        let (mut total_names, mut resources_names) = (serde_json::Map::new(), serde_json::Map::new());
        let mut totals: HashMap<String, Option<u64>> = HashMap::new();
        let mut resources: HashMap<String, Option<Vec<T>>> = HashMap::new();
        while let Some(key) = map.next_key::<String>()? {
            if key.eq_ignore_ascii_case("totalResults") {
                let v = map.next_value::<Value>()?.as_u64();
                total_names.insert(key.clone(), Value::Null);
                totals.insert(key, v);
            } else if key.eq_ignore_ascii_case("Resources") {
                let v = map.next_value_seed(ResourcesSeed { keep: self.keep, take: self.take })?;
                resources_names.insert(key.clone(), Value::Null);
                resources.insert(key, v);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        let total = match totals.get("totalResults") {
            Some(t) => *t,
            None => total_names.keys().next().and_then(|k| totals.get(k).copied().flatten()),
        };
        let first = resources_names.keys().next().and_then(|k| resources.remove(k)).flatten();
        Ok((first.unwrap_or_default(), total.unwrap_or(0) as usize))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idp::get_ci;

    /// What the page was read as before: the whole tree, then `totalResults` and `Resources` taken from it.
    fn as_tree(body: &[u8]) -> Option<Page<Value>> {
        let mut j: Value = serde_json::from_slice(body).ok()?;
        let total = get_ci(&j, "totalResults").and_then(Value::as_u64).unwrap_or(0) as usize;
        let key = j.as_object().and_then(|o| o.keys().find(|k| k.eq_ignore_ascii_case("Resources")).cloned());
        let res = match key.and_then(|k| j.as_object_mut()?.remove(&k)) {
            Some(Value::Array(r)) => r,
            _ => Vec::new(),
        };
        Some((res, total))
    }

    /// Every shape of page, well-formed or not, reads as the tree read it.
    #[test]
    fn a_page_reads_as_its_tree_did() {
        let bodies: &[&str] = &[
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":3,"startIndex":1,
                "itemsPerPage":2,"Resources":[{"id":"a","name":{"givenName":"A"}},{"id":"b"}]}"#,
            r#"{"TOTALRESULTS":7,"resources":[{"id":"x"}],"Resources":[{"id":"y"}]}"#,
            r#"{"totalresults":4,"TotalResults":5,"totalResults":"6"}"#,
            r#"{"totalResults":2,"totalResults":9,"Resources":[1],"Resources":[2,3]}"#,
            r#"{"totalResults":-1,"Resources":{"id":"not a list"}}"#,
            r#"{"totalResults":1.0,"Resources":null}"#,
            r#"{"Resources":[[],{},"s",null,true,1.5]}"#,
            r#"[{"totalResults":1}]"#,
            r#""a string""#,
            "12",
            "null",
            "{}",
            r#"{"totalResults":1,"Resources":[{"id":"a"}]"#,
            r#"{"totalResults":1} trailing"#,
            "",
        ];
        for body in bodies {
            assert_eq!(parse(body.as_bytes(), |v| v), as_tree(body.as_bytes()), "{body}");
        }
    }

    /// A resource read with a filter is the resource read whole minus the members filtered out; every other
    /// value, and the page around it, is read as the tree read it.
    #[test]
    fn a_kept_resource_is_the_whole_resource_minus_the_members_left_out() {
        let bodies: &[&str] = &[
            r#"{"totalResults":2,"Resources":[{"id":"a","meta":{"x":[1,{"y":2}]},"ID":"b","Id":3,"name":{"meta":1}},
                {"meta":1,"id":"c","id":"d","schemas":["s"],"x":-1.5e3,"y":18446744073709551615,"z":-7}]}"#,
            r#"{"Resources":[[{"meta":1}],"s",null,true,1.5,-2,{},{"a\u0062":"\u00e9"}]}"#,
            r#"{"Resources":[{"id":"a","meta":{"unterminated":[1,2}}]}"#,
        ];
        let keep: fn(&str) -> bool = |k| !k.eq_ignore_ascii_case("meta") && k != "schemas";
        for body in bodies {
            let want = as_tree(body.as_bytes()).map(|(res, total)| {
                let res = res
                    .into_iter()
                    .map(|mut r| {
                        if let Some(o) = r.as_object_mut() {
                            o.retain(|k, _| keep(k));
                        }
                        r
                    })
                    .collect();
                (res, total)
            });
            assert_eq!(parse_kept(body.as_bytes(), keep, |v| v), want, "{body}");
        }
        assert!(parse_kept(bodies[0].as_bytes(), keep, |v| v).unwrap().0[0].get("meta").is_none());
    }

    #[test]
    fn each_resource_is_taken() {
        let body = br#"{"totalResults":2,"Resources":[{"id":"a"},{"id":"b"}]}"#;
        let ids = parse(body, |v| v["id"].as_str().unwrap_or_default().to_string());
        assert_eq!(ids, Some((vec!["a".to_string(), "b".to_string()], 2)));
    }
}
