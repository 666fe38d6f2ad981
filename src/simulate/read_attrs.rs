//! The compared attributes of one server user, kept compactly while a reconciliation holds every user of the
//! server: [`UserAttr::read`] of each of [`UserAttr::WITH_GRANTS`] in one text instead of sixteen JSON values.
//!
//! A reconciliation reads the whole collection before comparing (a source user is matched by `externalId` or
//! `userName` wherever it is on the server), so what it keeps per user is multiplied by the directory's size: at
//! a million users, sixteen `Option<serde_json::Value>` with a heap string each came to about a kilobyte per
//! user. Here the strings share one allocation and the rest is a fixed table of ends and kinds; a value that is
//! neither a string nor a boolean (a number, an object, a list such as `roles`) is kept as its JSON text and
//! read back exactly (serde_json writes and parses numbers losslessly). The comparison is the one the
//! reconciliation made on the values ([`ReadAttrs::same`]).

use serde_json::Value;

use crate::idp::UserAttr;

/// How many attributes are kept: [`UserAttr::WITH_GRANTS`].
const N: usize = UserAttr::WITH_GRANTS.len();

/// What the server answered for one attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Not in the representation.
    Absent,
    /// A JSON string, its text in the span.
    Str,
    /// `true`.
    True,
    /// `false`.
    False,
    /// Any other JSON value (`null`, a number, an object, a list), its JSON text in the span.
    Json,
}

/// [`UserAttr::read`] of each of [`UserAttr::WITH_GRANTS`] for one server user, in that order.
#[derive(Debug, Clone)]
pub(crate) struct ReadAttrs {
    /// The strings and JSON texts one after the other.
    text: Box<str>,
    /// Where each attribute's span ends in `text` (it starts where the previous one ends). A response body is at
    /// most [`super::engine::MAX_RESPONSE_BODY`] (64 MiB), so a `u32` holds every end.
    ends: [u32; N],
    kinds: [Kind; N],
}

impl ReadAttrs {
    /// Reads the attributes from a server's User representation ([`UserAttr::read`]).
    pub(crate) fn of(user: &Value) -> ReadAttrs {
        let mut text = String::new();
        let mut ends = [0u32; N];
        let mut kinds = [Kind::Absent; N];
        for (k, a) in UserAttr::WITH_GRANTS.iter().enumerate() {
            kinds[k] = match a.read(user) {
                None => Kind::Absent,
                Some(Value::String(s)) => {
                    text.push_str(&s);
                    Kind::Str
                }
                Some(Value::Bool(true)) => Kind::True,
                Some(Value::Bool(false)) => Kind::False,
                Some(v) => {
                    text.push_str(&v.to_string());
                    Kind::Json
                }
            };
            ends[k] = u32::try_from(text.len()).unwrap_or(u32::MAX);
        }
        ReadAttrs { text: text.into_boxed_str(), ends, kinds }
    }

    fn span(&self, k: usize) -> &str {
        let start = if k == 0 { 0 } else { self.ends[k - 1] as usize };
        self.text.get(start..self.ends[k] as usize).unwrap_or_default()
    }

    /// The `k`-th attribute's value as [`UserAttr::read`] returned it (`None`: absent).
    pub(crate) fn value(&self, k: usize) -> Option<Value> {
        match self.kinds.get(k)? {
            Kind::Absent => None,
            Kind::Str => Some(Value::String(self.span(k).to_string())),
            Kind::True => Some(Value::Bool(true)),
            Kind::False => Some(Value::Bool(false)),
            Kind::Json => Some(serde_json::from_str(self.span(k)).unwrap_or(Value::Null)),
        }
    }

    /// Whether the `k`-th attribute is what the source wants: equal values, strings equal up to ASCII case
    /// when `ignore_case` (`userName`, which the server matches case-insensitively: RFC 7643 §4.1.1), and an
    /// absent attribute where the source has an empty string (the IdPs send no empty attribute).
    pub(crate) fn same(&self, k: usize, want: &Value, ignore_case: bool) -> bool {
        match (want, self.kinds.get(k)) {
            (Value::String(w), Some(Kind::Str)) if ignore_case => w.eq_ignore_ascii_case(self.span(k)),
            (Value::String(w), Some(Kind::Str)) => w == self.span(k),
            (Value::Bool(w), Some(Kind::True | Kind::False)) => *w == (self.kinds[k] == Kind::True),
            (Value::String(w), Some(Kind::Absent) | None) => w.is_empty(),
            (_, Some(Kind::Absent) | None) => false,
            (w, Some(_)) => self.value(k).is_some_and(|g| &g == w),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::idp::ENTERPRISE;

    /// The comparison the reconciliation made on the values before they were kept compactly.
    fn same_as_values(a: UserAttr, want: &Value, got: Option<&Value>) -> bool {
        match (want, got) {
            (Value::String(w), Some(Value::String(g))) if a == UserAttr::UserName => w.eq_ignore_ascii_case(g),
            (w, Some(g)) => w == g,
            (Value::String(w), None) => w.is_empty(),
            _ => false,
        }
    }

    #[test]
    fn every_attribute_reads_back_as_read_and_compares_as_the_values_did() {
        let users = [
            json!({"userName": "Ann@X", "displayName": "Ann ü \"q\"", "name": {"givenName": "", "familyName": null},
                "emails": [{"value": "a@x", "type": "work"}], "active": false, "title": 7,
                ENTERPRISE: {"department": {"x": [1, 2.5]}, "employeeNumber": "12"},
                "phoneNumbers": [{"value": "+1", "type": "work"}], "roles": [{"value": "b"}, {"value": "a"}],
                "addresses": [{"type": "work", "streetAddress": "1 Main", "locality": "Oslo", "postalCode": 1e3,
                    "country": "NO"}]}),
            json!({"userName": "b", "active": true, "title": "true", "entitlements": []}),
            json!({}),
        ];
        let wants = [
            json!("ann@x"),
            json!("Ann@X"),
            json!(""),
            json!(null),
            json!(true),
            json!(false),
            json!("true"),
            json!(7),
            json!(7.0),
            json!(1000.0),
            json!(["a", "b"]),
            json!([]),
            json!({"x": [1, 2.5]}),
            json!("Ann ü \"q\""),
            json!("12"),
        ];
        for user in &users {
            let kept = ReadAttrs::of(user);
            for (k, a) in UserAttr::WITH_GRANTS.iter().enumerate() {
                let read = a.read(user);
                assert_eq!(kept.value(k), read, "{a:?} of {user}");
                for want in &wants {
                    let expected = same_as_values(*a, want, read.as_ref());
                    assert_eq!(kept.same(k, want, *a == UserAttr::UserName), expected, "{a:?} {want} of {user}");
                }
            }
        }
    }
}
