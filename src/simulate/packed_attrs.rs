//! What the engine last pushed for a user, kept compactly: the thirteen string attributes of a [`UserAttrs`] in
//! one allocation instead of thirteen.
//!
//! The engine remembers, per user, the attributes it last sent (an incremental cycle sends only what changed
//! since, as Entra's and Okta's engines do: docs/engines.md §A "Cycles"). At a million users thirteen `String`s
//! per user (a 24-byte header and a heap block each) came to about 800 bytes; packed, about 250.

use crate::idp::{Grants, UserAttrs};

/// The string attributes of a [`UserAttrs`], in the order packed.
const STRINGS: usize = 13;

/// A [`UserAttrs`] packed: equal packs are equal attributes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PackedAttrs {
    /// The string attributes one after the other.
    text: Box<str>,
    /// Where each string ends in `text` (it starts where the previous one ends).
    ends: [u32; STRINGS],
    active: bool,
    grants: Option<Box<Grants>>,
}

fn strings(a: &UserAttrs) -> [&str; STRINGS] {
    [
        &a.user_name,
        &a.external_id,
        &a.given_name,
        &a.family_name,
        &a.email,
        &a.title,
        &a.department,
        &a.employee_number,
        &a.phone,
        &a.street,
        &a.locality,
        &a.postal_code,
        &a.country,
    ]
}

impl PackedAttrs {
    /// Packs `a`. Strings longer in all than 4 GiB do not occur: they come from the model or a directory file.
    pub(crate) fn pack(a: &UserAttrs) -> PackedAttrs {
        let parts = strings(a);
        let mut text = String::with_capacity(parts.iter().map(|s| s.len()).sum());
        let mut ends = [0u32; STRINGS];
        for (k, s) in parts.iter().enumerate() {
            text.push_str(s);
            ends[k] = u32::try_from(text.len()).unwrap_or(u32::MAX);
        }
        PackedAttrs { text: text.into_boxed_str(), ends, active: a.active, grants: a.grants.clone().map(Box::new) }
    }

    fn part(&self, k: usize) -> &str {
        let start = if k == 0 { 0 } else { self.ends[k - 1] as usize };
        self.text.get(start..self.ends[k] as usize).unwrap_or_default()
    }

    /// The attributes packed.
    pub(crate) fn unpack(&self) -> UserAttrs {
        let s = |k: usize| self.part(k).to_string();
        UserAttrs {
            user_name: s(0),
            external_id: s(1),
            given_name: s(2),
            family_name: s(3),
            email: s(4),
            title: s(5),
            department: s(6),
            employee_number: s(7),
            phone: s(8),
            street: s(9),
            locality: s(10),
            postal_code: s(11),
            country: s(12),
            active: self.active,
            grants: self.grants.as_deref().cloned(),
        }
    }

    /// `userName`.
    pub(crate) fn user_name(&self) -> &str {
        self.part(0)
    }

    /// `active`.
    pub(crate) fn active(&self) -> bool {
        self.active
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(k: usize) -> UserAttrs {
        let s = |name: &str| if k.is_multiple_of(3) { String::new() } else { format!("{name}{k}ü") };
        UserAttrs {
            user_name: s("u"),
            external_id: s("x"),
            given_name: s("g"),
            family_name: s("f"),
            email: s("e"),
            title: s("t"),
            department: s("d"),
            employee_number: s("n"),
            phone: s("p"),
            street: s("s"),
            locality: s("l"),
            postal_code: s("c"),
            country: s("k"),
            active: k.is_multiple_of(2),
            grants: (k % 4 == 1)
                .then(|| Grants { roles: vec!["r".into()], entitlements: vec![("e".into(), "T".into())] }),
        }
    }

    #[test]
    fn a_pack_unpacks_to_what_was_packed_and_packs_compare_as_the_attributes() {
        let all: Vec<UserAttrs> = (0..12).map(attrs).collect();
        for a in &all {
            let p = PackedAttrs::pack(a);
            assert_eq!(&p.unpack(), a);
            assert_eq!((p.user_name(), p.active()), (a.user_name.as_str(), a.active));
            for b in &all {
                assert_eq!(p == PackedAttrs::pack(b), a == b);
            }
            // Moving a character from one attribute to the next changes the pack.
            let mut shifted = a.clone();
            if let Some(c) = shifted.user_name.pop() {
                shifted.external_id.insert(0, c);
                assert_ne!(p, PackedAttrs::pack(&shifted));
            }
        }
    }
}
