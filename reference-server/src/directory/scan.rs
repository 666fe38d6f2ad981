//! Matching a filter against a stored record without building the whole resource.
//!
//! [`crate::filter::matches`] (RFC 7644 §3.4.2.2) reads a resource only through the top-level keys its
//! attribute paths resolve to: a core or common attribute's name, or an extension's schema URN (the
//! container of its attributes), each looked up ASCII case-insensitively (RFC 7643 §2.1). A list scan
//! therefore parses, of each stored user's JSON, only the members under those keys ([`FilterKeys`]): the
//! others are skipped by the parser without being built (no strings, maps or vectors allocated), and the
//! filter is evaluated on the smaller object. Because every key equal to a needed name up to ASCII case is
//! kept, in document order, with the parser's own rule for a repeated key (the later wins), each lookup the
//! filter makes finds the same value as in the full resource, and the verdict is the same.
//!
//! The whole resource is still rendered for what a page returns (and for sorting); a scan only decides
//! membership and counts. The caller does not use this when the filter may name the membership attribute
//! (`groups`, `members`), which rendering derives from the membership set rather than from the text.
//! `reference-server/tests/filter_scan.rs` compares the verdicts with a full render over a seeded directory.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

use crate::error::{ScimError, ScimResult};
use crate::filter::Filter;
use crate::schema::{ResourceKind, ResourceType};
use crate::store::Record;

/// The top-level keys of a resource that a filter can read: for each attribute path, the name of the
/// attribute it resolves to, or the schema URN of the extension holding it. A path the resource type does
/// not define reads nothing (it never matches). Names are `'static` schema names; duplicates are dropped.
#[derive(Debug, Default)]
pub(super) struct FilterKeys(Vec<&'static str>);

impl FilterKeys {
    /// The keys `filter` reads from a resource of type `rt` (see the module documentation).
    pub(super) fn of(filter: &Filter, rt: &ResourceType) -> FilterKeys {
        let mut keys = FilterKeys::default();
        keys.collect(filter, rt);
        keys
    }

    fn collect(&mut self, filter: &Filter, rt: &ResourceType) {
        let path = match filter {
            Filter::And(a, b) | Filter::Or(a, b) => {
                self.collect(a, rt);
                self.collect(b, rt);
                return;
            }
            Filter::Not(inner) => return self.collect(inner, rt),
            // A value filter's paths are sub-attributes of the value path's attribute, read inside it.
            Filter::Compare { path, .. } | Filter::Present(path) | Filter::ValuePath { path, .. } => path,
        };
        if let Some(res) = rt.resolve(path.urn.as_deref(), &path.name, path.sub.as_deref()) {
            let key = res.extension.map_or(res.attr.name, |ext| ext.id);
            if !self.0.iter().any(|k| k.eq_ignore_ascii_case(key)) {
                self.0.push(key);
            }
        }
    }

    fn wanted(&self, key: &str) -> bool {
        self.0.iter().any(|k| k.eq_ignore_ascii_case(key))
    }

    /// The part of `record`'s resource this filter reads: the members of its JSON object under the keys,
    /// with `meta` brought current as [`Record::json`] does. Not the rendered resource: no derived
    /// membership, no portal extension (the caller adds it).
    ///
    /// # Errors
    /// The stored text is not a JSON object (a damaged data file).
    pub(super) fn read(&self, record: &Record) -> serde_json::Result<Value> {
        let mut de = serde_json::Deserializer::from_str(&record.body);
        let mut body = Partial(self).deserialize(&mut de)?;
        de.end()?;
        record.bring_meta_current(&mut body);
        Ok(body)
    }
}

impl super::State {
    /// What a filter reading `keys` sees of `record`: [`FilterKeys::read`], plus a user's portal extension as
    /// rendering adds it ([`super::State::render_without_membership`]).
    ///
    /// # Errors
    /// [`ScimError::Internal`] when the stored text is not a JSON object.
    pub(super) fn filter_view(&self, kind: ResourceKind, record: &Record, keys: &FilterKeys) -> ScimResult<Value> {
        let body = keys.read(record).map_err(|e| ScimError::Internal(format!("stored body unreadable: {e}")))?;
        Ok(match kind {
            ResourceKind::User => self.with_user_extension(&record.id, body),
            ResourceKind::Group => body,
        })
    }
}

/// Deserializes a JSON object keeping only the members [`FilterKeys::wanted`]; the rest is skipped.
struct Partial<'k>(&'k FilterKeys);

impl<'de> DeserializeSeed<'de> for Partial<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Partial<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            if self.0.wanted(&key) {
                let value: Value = map.next_value()?;
                out.insert(key.into_owned(), value);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(Value::Object(out))
    }
}

/// An object key, borrowed from the text when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }

            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }

            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use uuid::Uuid;

    use super::*;
    use crate::filter;

    fn record(body: &Value) -> Record {
        Record::new(Uuid::nil(), 7, false, false, body.to_string())
    }

    #[test]
    fn a_filter_reads_the_keys_its_paths_resolve_to_in_any_case_and_nothing_else() {
        let rt = ResourceKind::User.resource_type();
        let f = filter::parse(concat!(
            r#"(name.familyName sw "Sm" or EMAILS[type eq "work"]) and nosuch pr and "#,
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "x""#
        ))
        .unwrap();
        let keys = FilterKeys::of(&f, rt);
        let body = json!({
            "userName": "a", "Name": {"familyName": "Smith"}, "name": {"familyName": "Jones"},
            "emails": [{"value": "a@x", "type": "work"}], "active": true,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "x"}
        });
        let read = keys.read(&record(&body)).unwrap();
        let mut expected = body.clone();
        let obj = expected.as_object_mut().unwrap();
        obj.remove("userName");
        obj.remove("active");
        assert_eq!(read, expected);
    }

    #[test]
    fn a_touched_record_reads_its_current_meta() {
        let rt = ResourceKind::User.resource_type();
        let f = filter::parse(r#"meta.lastModified gt "2026-01-01T00:00:00Z""#).unwrap();
        let mut rec = record(&json!({"userName": "a", "meta": {"version": "W/\"1\"", "lastModified": "x"}}));
        rec.touched = Some("2026-02-02T00:00:00Z".into());
        let read = FilterKeys::of(&f, rt).read(&rec).unwrap();
        assert_eq!(read, json!({"meta": {"version": "W/\"7\"", "lastModified": "2026-02-02T00:00:00Z"}}));
    }

    #[test]
    fn damaged_text_is_an_error_not_a_partial_object() {
        let rt = ResourceKind::User.resource_type();
        let keys = FilterKeys::of(&filter::parse(r#"userName eq "a""#).unwrap(), rt);
        for text in [r#"{"userName": "a", "x": [1, }"#, r#"{"userName": "a"} trailing"#, "[1]", ""] {
            let rec = Record::new(Uuid::nil(), 1, false, false, text.to_string());
            assert!(keys.read(&rec).is_err(), "{text}");
        }
    }
}
