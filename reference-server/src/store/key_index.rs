//! The memory store's secondary indexes (`userName` / `displayName`, `externalId`), kept compactly.
//!
//! An index maps the 64-bit keyed hash of a key to the slots of the records that have it, and each slot's keys
//! are kept once, beside the slot ([`SlotKeys`]), in one allocation per record. A lookup hashes the key it is
//! asked for, takes the slots under that hash and keeps those whose own key is equal: two keys that share a
//! hash are told apart by that comparison, never confused. The hash is SipHash with keys chosen per index at
//! random (`std`'s `RandomState`), so a client choosing `userName`s cannot make keys collide on purpose.
//!
//! Before, each index owned every key as a `Box<str>` in a map of its own, and a third map from record id to
//! both keys (two `Option<String>`s) existed for removals: about 470 bytes per user at a million users (map
//! buckets at their load factor and the key texts three times over), against about 200 now.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

/// A hasher for keys that are already keyed hashes: passes the `u64` through.
#[derive(Debug, Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // only `u64` keys are hashed here (`write_u64`); anything else is folded in all the same
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// The slots under one hash: almost always one, kept inline.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Slots {
    One(u32),
    // A `Box<Vec>` on purpose: a thin pointer keeps the enum, and each index entry, at 16 bytes (a `Vec` or a
    // boxed slice would make it 24 or 32, for the one key in a million that has two records).
    #[allow(clippy::box_collection)]
    Many(Box<Vec<u32>>),
}

/// One secondary index: key hash → the slots whose key has that hash, in the order they were added. `S` hashes
/// the keys (tests give one that makes every key collide).
#[derive(Debug, Default)]
pub(crate) struct KeyIndex<S = RandomState> {
    hasher: S,
    map: HashMap<u64, Slots, BuildHasherDefault<Prehashed>>,
}

impl<S: BuildHasher> KeyIndex<S> {
    fn hash(&self, key: &str) -> u64 {
        self.hasher.hash_one(key)
    }

    /// Adds `slot` under `key` (once: adding it again changes nothing).
    pub(crate) fn add(&mut self, key: &str, slot: u32) {
        let h = self.hash(key);
        match self.map.get_mut(&h) {
            None => {
                self.map.insert(h, Slots::One(slot));
            }
            Some(Slots::One(s)) if *s == slot => {}
            Some(entry @ Slots::One(_)) => {
                let Slots::One(first) = *entry else { unreachable!("matched One") };
                *entry = Slots::Many(Box::new(vec![first, slot]));
            }
            Some(Slots::Many(v)) => {
                if !v.contains(&slot) {
                    v.push(slot);
                }
            }
        }
    }

    /// Removes `slot` from under `key`.
    pub(crate) fn remove(&mut self, key: &str, slot: u32) {
        let h = self.hash(key);
        let empty = match self.map.get_mut(&h) {
            None => false,
            Some(Slots::One(s)) => *s == slot,
            Some(entry @ Slots::Many(_)) => {
                let Slots::Many(v) = entry else { unreachable!("matched Many") };
                v.retain(|s| *s != slot);
                match v.as_slice() {
                    [] => true,
                    [one] => {
                        *entry = Slots::One(*one);
                        false
                    }
                    _ => false,
                }
            }
        };
        if empty {
            self.map.remove(&h);
        }
    }

    /// The slots whose key hashes like `key`, in the order they were added.
    fn candidates(&self, key: &str) -> &[u32] {
        match self.map.get(&self.hash(key)) {
            None => &[],
            Some(Slots::One(s)) => std::slice::from_ref(s),
            Some(Slots::Many(v)) => v,
        }
    }

    /// The slots whose key is `key`, in the order they were added: of those whose key hashes alike, the ones for
    /// which `key_of` (a slot's key as stored) gives `key`.
    pub(crate) fn get<'a, F>(&'a self, key: &'a str, key_of: F) -> impl Iterator<Item = u32> + 'a
    where
        F: Fn(u32) -> Option<&'a str> + 'a,
    {
        self.candidates(key).iter().copied().filter(move |s| key_of(*s) == Some(key))
    }

    /// Removes everything (the hash keys stay the same).
    pub(crate) fn clear(&mut self) {
        self.map.clear();
    }
}

/// One record's indexed keys, in one allocation: its folded name (see `store::fold`) and its `externalId`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SlotKeys {
    /// The name, then the `externalId`.
    text: Box<str>,
    /// Where the name ends in `text`.
    name_len: u32,
    /// Bit 0: has a name; bit 1: has an `externalId`.
    present: u8,
}

impl SlotKeys {
    /// The keys `name` (already folded) and `external_id`. Keys over 4 GiB do not fit a request body.
    pub(crate) fn new(name: Option<&str>, external_id: Option<&str>) -> SlotKeys {
        let (n, e) = (name.unwrap_or_default(), external_id.unwrap_or_default());
        let mut text = String::with_capacity(n.len() + e.len());
        text.push_str(n);
        text.push_str(e);
        SlotKeys {
            text: text.into_boxed_str(),
            name_len: u32::try_from(n.len()).unwrap_or(u32::MAX),
            present: u8::from(name.is_some()) | (u8::from(external_id.is_some()) << 1),
        }
    }

    /// The folded name, if the record has one.
    pub(crate) fn name(&self) -> Option<&str> {
        (self.present & 1 != 0).then(|| self.text.get(..self.name_len as usize).unwrap_or_default())
    }

    /// The `externalId`, if the record has one.
    pub(crate) fn external_id(&self) -> Option<&str> {
        (self.present & 2 != 0).then(|| self.text.get(self.name_len as usize..).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hashes every key alike: the worst a hash can do.
    #[derive(Debug, Default, Clone)]
    struct OneHash;

    /// [`OneHash`]'s hasher: 42 whatever it is given.
    struct Constant;

    impl Hasher for Constant {
        fn finish(&self) -> u64 {
            42
        }
        fn write(&mut self, _: &[u8]) {}
    }

    impl BuildHasher for OneHash {
        type Hasher = Constant;
        fn build_hasher(&self) -> Constant {
            Constant
        }
    }

    /// Keys that share a hash are told apart by their stored keys: with every key under one hash, each key
    /// still finds its own slots, in the order added, and no other.
    #[test]
    fn keys_sharing_a_hash_are_told_apart() {
        let mut ix: KeyIndex<OneHash> = KeyIndex::default();
        let stored: Vec<SlotKeys> =
            ["alice", "bob", "alice", "carol"].iter().map(|k| SlotKeys::new(Some(k), None)).collect();
        for (slot, k) in stored.iter().enumerate() {
            ix.add(k.name().expect("a name"), slot as u32);
        }
        assert_eq!(ix.map.len(), 1, "one hash for all");
        fn get(ix: &KeyIndex<OneHash>, stored: &[SlotKeys], k: &str) -> Vec<u32> {
            ix.get(k, |s| stored.get(s as usize).and_then(SlotKeys::name)).collect()
        }
        assert_eq!(get(&ix, &stored, "alice"), vec![0, 2]);
        assert_eq!(get(&ix, &stored, "bob"), vec![1]);
        assert_eq!(get(&ix, &stored, "carol"), vec![3]);
        assert!(get(&ix, &stored, "dave").is_empty());
        ix.remove("alice", 0);
        assert_eq!(get(&ix, &stored, "alice"), vec![2]);
        assert_eq!(get(&ix, &stored, "bob"), vec![1], "removing one key's slot leaves the others sharing its hash");
    }

    /// Adding, adding again, removing: the slots under a key are a set in the order added, and a key with
    /// none left is gone.
    #[test]
    fn slots_under_a_key_are_a_set_in_order() {
        let mut ix: KeyIndex = KeyIndex::default();
        ix.add("k", 3);
        ix.add("k", 1);
        ix.add("k", 3);
        ix.add("other", 9);
        assert_eq!(ix.candidates("k"), &[3, 1]);
        assert_eq!(ix.candidates("other"), &[9]);
        ix.remove("k", 3);
        assert_eq!(ix.candidates("k"), &[1]);
        assert!(matches!(ix.map[&ix.hash("k")], Slots::One(1)), "back to inline");
        ix.remove("k", 5);
        assert_eq!(ix.candidates("k"), &[1]);
        ix.remove("k", 1);
        assert!(ix.candidates("k").is_empty());
        assert_eq!(ix.map.len(), 1, "only `other` is left");
        ix.clear();
        assert!(ix.candidates("other").is_empty());
    }

    /// A record's keys come back as given, an absent key apart from an empty one.
    #[test]
    fn slot_keys_come_back_as_given() {
        for (n, e) in
            [(Some("ab"), Some("cd")), (Some(""), None), (None, Some("x")), (None, None), (Some("é"), Some(""))]
        {
            let k = SlotKeys::new(n, e);
            assert_eq!((k.name(), k.external_id()), (n, e));
        }
    }
}
