//! A server user as the reconciliation keeps it while it holds every user of the server: its identifiers in one
//! allocation beside [`ReadAttrs`], instead of four `Option<String>`s (about 100 bytes less per user, 100 MB at
//! a million users).

use serde_json::Value;

use super::read_attrs::ReadAttrs;
use crate::idp::{self, get_ci};

/// The fields of [`ServerUser::text`], in order.
#[derive(Clone, Copy)]
enum Field {
    Id = 0,
    UserName = 1,
    ExternalId = 2,
    Manager = 3,
}

/// A server user as the comparison needs it, taken from its representation as soon as its page is read (in
/// that page's own task when pages are read concurrently, so parsing, extraction and freeing the JSON spread
/// over the runtime's workers).
#[derive(Clone)]
pub(super) struct ServerUser {
    /// `id`, `userName`, `externalId` and the manager's id, one after the other.
    text: Box<str>,
    /// Where each field ends in `text` (it starts where the previous one ends).
    ends: [u32; 4],
    /// Bit `f` set: field `f` was present (a string).
    present: u8,
    /// [`crate::idp::UserAttr::read`] of each of [`crate::idp::UserAttr::WITH_GRANTS`], in that order.
    pub(super) attrs: ReadAttrs,
}

impl ServerUser {
    /// Takes what is compared from a User representation: `id`, `userName`, `externalId` (each when it is a
    /// string; names matched case-insensitively, RFC 7643 §2.1), the enterprise extension's `manager.value` (or
    /// a bare string there), and [`ReadAttrs::of`].
    pub(super) fn from_json(u: Value) -> ServerUser {
        let manager = get_ci(&u, idp::ENTERPRISE).and_then(|e| get_ci(e, "manager")).and_then(|m| {
            if m.is_string() {
                Some(m)
            } else {
                get_ci(m, "value")
            }
        });
        let fields = [get_ci(&u, "id"), get_ci(&u, "userName"), get_ci(&u, "externalId"), manager];
        let mut text = String::new();
        let mut ends = [0u32; 4];
        let mut present = 0u8;
        for (f, v) in fields.into_iter().enumerate() {
            if let Some(s) = v.and_then(Value::as_str) {
                text.push_str(s);
                present |= 1 << f;
            }
            // a page is at most MAX_RESPONSE_BODY (64 MiB), so a u32 holds every end
            ends[f] = text.len() as u32;
        }
        ServerUser { text: text.into_boxed_str(), ends, present, attrs: ReadAttrs::of(&u) }
    }

    /// Whether [`ServerUser::from_json`] reads the member `name` of a User representation (matched as
    /// [`idp::get_ci`] matches: ignoring ASCII case): `id`, `userName`, `externalId`, the enterprise extension,
    /// and the top-level attribute of each of [`crate::idp::UserAttr::WITH_GRANTS`]. The read-back leaves the
    /// others (`schemas`, `meta`, …) unbuilt.
    pub(super) fn reads(name: &str) -> bool {
        const READ: [&str; 13] = [
            "id",
            "userName",
            "externalId",
            idp::ENTERPRISE,
            "displayName",
            "name",
            "emails",
            "title",
            "phoneNumbers",
            "addresses",
            "active",
            "roles",
            "entitlements",
        ];
        READ.iter().any(|r| r.eq_ignore_ascii_case(name))
    }

    fn field(&self, f: Field) -> Option<&str> {
        let f = f as usize;
        let start = if f == 0 { 0 } else { self.ends[f - 1] as usize };
        (self.present & (1 << f) != 0).then(|| &self.text[start..self.ends[f] as usize])
    }

    /// `id`.
    pub(super) fn id(&self) -> Option<&str> {
        self.field(Field::Id)
    }

    /// `userName`.
    pub(super) fn user_name(&self) -> Option<&str> {
        self.field(Field::UserName)
    }

    /// `externalId`.
    pub(super) fn external_id(&self) -> Option<&str> {
        self.field(Field::ExternalId)
    }

    /// The enterprise extension's `manager.value` (or a bare string there).
    pub(super) fn manager(&self) -> Option<&str> {
        self.field(Field::Manager)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What is read of a user.
    fn read(u: &ServerUser) -> (Vec<Option<&str>>, Vec<Option<Value>>) {
        let fields = vec![u.id(), u.user_name(), u.external_id(), u.manager()];
        (fields, (0..crate::idp::UserAttr::WITH_GRANTS.len()).map(|n| u.attrs.value(n)).collect())
    }

    /// A user left with only the members [`ServerUser::reads`] accepts reads as the whole user: over seeded
    /// users of every dialect's create body (every attribute the source maps, with grants) plus `id`, a manager,
    /// `meta` and `schemas`, each member's name in a random case.
    #[test]
    fn a_user_without_the_members_not_read_reads_as_the_whole_user() {
        use fake::rand::rngs::StdRng;
        use fake::rand::{Rng, SeedableRng};
        let mut rng = StdRng::seed_from_u64(27);
        let mut left_out = 0;
        for n in 0..200 {
            let d = crate::idp::Dialect::ALL[n % 4];
            let grants = (n % 3 == 0).then(|| crate::idp::Grants {
                roles: vec![format!("r{n}")],
                entitlements: vec![(format!("e{n}"), "License".into())],
            });
            let attrs = crate::idp::UserAttrs {
                user_name: format!("u{n}@example.test"),
                external_id: format!("x{n}"),
                given_name: "G".into(),
                family_name: format!("F{n}"),
                email: format!("u{n}@example.test"),
                active: n % 2 == 0,
                grants,
                ..Default::default()
            };
            let mut body = d.user_create(&attrs).body.unwrap();
            let o = body.as_object_mut().unwrap();
            o.insert("id".into(), json!(format!("id{n}")));
            o.insert("meta".into(), json!({"resourceType": "User", "location": "l"}));
            if let Some(e) = o.get_mut(idp::ENTERPRISE) {
                e["manager"] = json!({"value": format!("m{n}")});
            }
            // every name in a random case
            let whole: serde_json::Map<String, Value> = std::mem::take(o)
                .into_iter()
                .map(|(k, v)| {
                    let k: String =
                        k.chars().map(|c| if rng.random_bool(0.3) { c.to_ascii_uppercase() } else { c }).collect();
                    (k, v)
                })
                .collect();
            let mut kept = whole.clone();
            kept.retain(|k, _| ServerUser::reads(k));
            left_out += whole.len() - kept.len();
            let (whole, kept) =
                (ServerUser::from_json(Value::Object(whole)), ServerUser::from_json(Value::Object(kept)));
            assert_eq!(read(&kept), read(&whole), "user {n}");
            assert!(read(&whole).1.iter().filter(|v| v.is_some()).count() >= 14, "user {n} carries every attribute");
        }
        assert!(left_out >= 400, "meta and schemas, at least, are left out: {left_out}");
    }

    #[test]
    fn every_field_reads_back_as_given_and_absent_or_non_string_is_none() {
        let u = ServerUser::from_json(json!({"ID": "7", "userName": "", "externalId": 5,
            idp::ENTERPRISE: {"manager": {"value": "m1"}}}));
        assert_eq!((u.id(), u.user_name(), u.external_id(), u.manager()), (Some("7"), Some(""), None, Some("m1")));
        let u = ServerUser::from_json(json!({"id": "é1", "externalId": "x", idp::ENTERPRISE: {"manager": "bare"}}));
        assert_eq!((u.id(), u.user_name(), u.external_id(), u.manager()), (Some("é1"), None, Some("x"), Some("bare")));
        let u = ServerUser::from_json(json!({}));
        assert_eq!((u.id(), u.user_name(), u.external_id(), u.manager()), (None, None, None, None));
    }
}
