//! The top-level keys of a collection's stored texts, kept once per distinct list ("shape") instead of read
//! from every text.
//!
//! A filter scan finds the members it reads through each record's [`MemberTable`]; without more, it compares
//! every key of every text with the names it wants (RFC 7643 §2.1: up to ASCII case), which reads every key's
//! bytes — a quarter of a scan over 100,000 users, and most of the text's cache lines. Records provisioned by
//! one IdP share one list of keys in one order, so the table keeps each distinct list once ([`Shapes`]) and
//! gives each record the number of its list ([`crate::store::Record`]'s shape). A scan then resolves its names
//! once per shape (which member, if exactly one, has each name) and reads of each record only the members it
//! needs, at the offsets its own table gives.
//!
//! The list is taken from the record's own text and table when the record is stored, so it is exactly that
//! text's keys; a collection holds at most [`MAX_SHAPES`] lists of at most [`MAX_LIST_BYTES`] each (a client
//! cannot make it grow without bound), and a record beyond that has no shape and is read as before.

use std::collections::HashMap;

use super::text::{key_at, Read, Unreadable};
use super::MemberTable;

/// The most distinct key lists a collection keeps; records with another list have none ([`NO_SHAPE`]).
pub const MAX_SHAPES: usize = 4096;

/// The longest list of keys kept, in bytes (joined by `"`): a user's is 100 to 300. With [`MAX_SHAPES`], what
/// a collection keeps is bounded whatever its records hold (each list is held twice, as the lookup's key and
/// by number: about 8 MiB at most, plus the map's own overhead).
pub const MAX_LIST_BYTES: usize = 1024;

/// The shape of a record that has none: its keys are read from its text.
pub const NO_SHAPE: u32 = u32::MAX;

/// A collection's distinct lists of top-level keys. Each list is stored as its keys joined by `"`, which a key
/// the member table accepts cannot hold (it has no escapes).
#[derive(Debug, Default)]
pub(super) struct Shapes {
    ids: HashMap<Box<[u8]>, u32>,
    lists: Vec<Box<[u8]>>,
    scratch: Vec<u8>,
}

impl Shapes {
    /// The shape of the text `text` whose member table is `table`: an existing one, a new one, or
    /// [`NO_SHAPE`] when the table is unusable, the list is longer than [`MAX_LIST_BYTES`], or the collection
    /// already has [`MAX_SHAPES`].
    pub(super) fn of(&mut self, text: &str, table: &MemberTable) -> u32 {
        if !table.is_usable() {
            return NO_SHAPE;
        }
        let b = text.as_bytes();
        self.scratch.clear();
        for (n, at) in table.offsets().enumerate() {
            let Some(key) = key_at(b, at) else { return NO_SHAPE };
            if n > 0 {
                self.scratch.push(b'"');
            }
            self.scratch.extend_from_slice(key);
            if self.scratch.len() > MAX_LIST_BYTES {
                return NO_SHAPE;
            }
        }
        if let Some(&id) = self.ids.get(self.scratch.as_slice()) {
            return id;
        }
        if self.lists.len() >= MAX_SHAPES {
            return NO_SHAPE;
        }
        let id = self.lists.len() as u32;
        let list: Box<[u8]> = self.scratch.as_slice().into();
        self.ids.insert(list.clone(), id);
        self.lists.push(list);
        id
    }

    /// The keys of shape `id`, joined by `"`.
    pub(super) fn keys(&self, id: u32) -> Option<&[u8]> {
        self.lists.get(id as usize).map(|l| &**l)
    }
}

/// Where a scan finds each name it reads in the records of one shape: for each name, the member whose key
/// equals it up to ASCII case (its position in the table and the key's length in bytes), `None` when no member
/// has it; [`Unreadable`] when two members have it (the parsed map's order would decide which one a lookup
/// finds), as [`MemberTable::find`] answers.
pub(crate) type Resolved = Read<Vec<Option<(u32, u32)>>>;

/// Resolves `names` against the keys of a shape (`keys`, joined by `"`), as [`MemberTable::find`] does against
/// a text's keys.
pub(crate) fn resolve(keys: &[u8], names: &[&str]) -> Resolved {
    let mut out = vec![None; names.len()];
    for (i, key) in keys.split(|&c| c == b'"').enumerate() {
        for (name, slot) in names.iter().zip(out.iter_mut()) {
            if key.eq_ignore_ascii_case(name.as_bytes()) {
                let i = u32::try_from(i).map_err(|_| Unreadable)?;
                let len = u32::try_from(key.len()).map_err(|_| Unreadable)?;
                if slot.replace((i, len)).is_some() {
                    return Err(Unreadable);
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(shapes: &mut Shapes, text: &str) -> u32 {
        shapes.of(text, &MemberTable::of(text))
    }

    #[test]
    fn texts_with_the_same_keys_in_the_same_order_share_a_shape() {
        let mut shapes = Shapes::default();
        let a = shape(&mut shapes, r#"{"userName":"a","name":{"x":1},"active":true}"#);
        let b = shape(&mut shapes, r#"{"userName":"b","name":null,"active":false}"#);
        let reordered = shape(&mut shapes, r#"{"name":{},"userName":"c","active":true}"#);
        let recased = shape(&mut shapes, r#"{"UserName":"a","name":{"x":1},"active":true}"#);
        assert_eq!(a, b);
        assert!(a != reordered && a != recased && reordered != recased);
        assert_eq!(shapes.keys(a), Some(&br#"userName"name"active"#[..]));
        assert_eq!(shape(&mut shapes, r#"{"a":1,"a":2}"#), NO_SHAPE, "a text the table cannot describe");
        assert_eq!(shape(&mut shapes, "[1]"), NO_SHAPE);
    }

    #[test]
    fn a_collection_keeps_at_most_max_shapes() {
        let mut shapes = Shapes::default();
        for i in 0..MAX_SHAPES {
            assert_eq!(shape(&mut shapes, &format!(r#"{{"k{i}":1}}"#)), i as u32);
        }
        assert_eq!(shape(&mut shapes, r#"{"another":1}"#), NO_SHAPE);
        assert_eq!(shape(&mut shapes, r#"{"k7":"known"}"#), 7, "a known list is still found");
        let mut fresh = Shapes::default();
        let long = format!(r#"{{"{}":1,"b":2}}"#, "k".repeat(MAX_LIST_BYTES - 1));
        assert_eq!(shape(&mut fresh, &long), NO_SHAPE, "a list over the byte bound");
        let longest = format!(r#"{{"{}":1,"b":2}}"#, "k".repeat(MAX_LIST_BYTES - 2));
        assert_eq!(shape(&mut fresh, &longest), 0);
    }

    #[test]
    fn names_resolve_up_to_ascii_case_and_two_members_for_one_name_decline() {
        assert_eq!(
            resolve(br#"userName"name"emails"#, &["EMAILS", "nosuch", "userName"]),
            Ok(vec![Some((2, 6)), None, Some((0, 8))])
        );
        assert_eq!(resolve(br#"name"NAME"x"#, &["x", "Name"]), Err(Unreadable));
        assert_eq!(resolve(br#"name"NAME"x"#, &["x"]), Ok(vec![Some((2, 1))]));
    }
}
