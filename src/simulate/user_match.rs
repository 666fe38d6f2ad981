//! The users' half of the reconciliation, compared page by page as the read-back streams in: each server user
//! is matched against the source directory's indexes, compared with the source user it is found for, and
//! dropped; only its `id` and manager id are kept (for the manager and member checks), about 80 bytes a user
//! instead of everything read.
//!
//! Matching (RFC 7643 §4.1.1: `userName` is case-insensitive on the server): a source user is found by its
//! `externalId` and by its `userName` lowercased; every server user found for one source user counts, the
//! ones found by `externalId` first, each group in reading order. More than one is a duplicate; the one
//! compared is the first of them whose `userName` equals the source's up to ASCII case, else the first.
//! A server user found for no source user is extra when the [`ExtraScope`] judges it, else a stranger.
//!
//! The verdicts and their order are those of comparing after reading everything (each source user's
//! differences in source order, then the managers, then the extra server users in reading order);
//! `reconcile_equivalence` (a test) checks it against that algorithm.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::{json, Value};

use super::difference::{diff, DiffKind, Difference, ExtraScope};
use super::http::ObjRef;
use super::model::Model;
use super::server_user::ServerUser;
use crate::idp::{self, UserAttr};

/// Entries by one key (`userName` lowercased, or `externalId`): every entry with each key, in the order they
/// were given. Only a 64-bit hash of each key is kept, with the entry's position: a `Vec` of (hash, position)
/// pairs sorted by hash then position, 16 bytes an entry, looked up by binary search over integers. The key
/// itself stays where it is (the source directory): a caller checks it on a hit ([`ByKey::get`]), so two keys
/// with one hash are still told apart. A sorted `Vec` of (key, position) pairs took 32 bytes an entry, plus
/// every lowercased copy, and each probe compared strings through a pointer (a cache miss and a `memcmp`).
pub(super) struct ByKey {
    /// Sorted by hash, then by position: the entries of one key keep the order they were given in.
    entries: Vec<(u64, u32)>,
    /// The hash of a key.
    hash: fn(&str) -> u64,
}

impl ByKey {
    /// The index of `keys`: each a key and its position (below 2^32: a directory's users are counted in `u32`),
    /// positions given in increasing order.
    pub(super) fn new<'k>(capacity: usize, keys: impl IntoIterator<Item = (Cow<'k, str>, usize)>) -> ByKey {
        ByKey::with_hash(capacity, keys, key_hash)
    }

    /// [`ByKey::new`] with another hash function (a test forces collisions with it).
    fn with_hash<'k>(
        capacity: usize,
        keys: impl IntoIterator<Item = (Cow<'k, str>, usize)>,
        hash: fn(&str) -> u64,
    ) -> ByKey {
        let mut entries = Vec::with_capacity(capacity);
        entries.extend(keys.into_iter().map(|(key, k)| (hash(&key), k as u32)));
        entries.sort_unstable();
        entries.shrink_to_fit();
        ByKey { entries, hash }
    }

    /// An index of nothing.
    pub(super) fn empty() -> ByKey {
        ByKey { entries: Vec::new(), hash: key_hash }
    }

    /// The positions with `key`, in the order they were given: `key_of(k)` is the key given with position `k`,
    /// compared with `key` for each position whose key has `key`'s hash.
    pub(super) fn get<'s, K: AsRef<str>>(
        &'s self,
        key: &'s str,
        key_of: impl Fn(usize) -> K + 's,
    ) -> impl Iterator<Item = usize> + 's {
        let h = (self.hash)(key);
        let start = self.entries.partition_point(|&(e, _)| e < h);
        self.entries[start..]
            .iter()
            .take_while(move |&&(e, _)| e == h)
            .map(|&(_, k)| k as usize)
            .filter(move |&k| key_of(k).as_ref() == key)
    }
}

/// A 64-bit hash of `key`, the same in every run (no random seed: the table is built from the source
/// directory, so a server cannot choose keys that collide with it; a collision costs one key comparison).
/// Eight bytes at a time, multiplied and rotated, then mixed with MurmurHash3's 64-bit finaliser.
fn key_hash(key: &str) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let b = key.as_bytes();
    let mut h = (b.len() as u64).wrapping_mul(K);
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().expect("eight bytes"));
        h = (h ^ w).wrapping_mul(K).rotate_left(31);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K).rotate_left(31);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^= h >> 33;
    h = h.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    h ^ h >> 33
}

/// `s` lowercased (as `str::to_lowercase`), borrowed when it is lowercase already.
pub(super) fn lowercase(s: &str) -> Cow<'_, str> {
    let unchanged = |c: char| {
        let mut lower = c.to_lowercase();
        lower.next() == Some(c) && lower.next().is_none()
    };
    match s.chars().all(unchanged) {
        true => Cow::Borrowed(s),
        false => Cow::Owned(s.to_lowercase()),
    }
}

/// What is kept of a server user once it has been compared: its `id` and its manager's id (the enterprise
/// extension's `manager.value`), in one allocation.
struct IdAndManager {
    /// `id` then the manager id.
    text: Box<str>,
    /// Where `id` ends in `text`.
    id_end: u32,
    /// Bit 0: `id` present; bit 1: manager present.
    present: u8,
}

impl IdAndManager {
    fn of(u: &ServerUser) -> IdAndManager {
        let (id, manager) = (u.id(), u.manager());
        let mut text = String::with_capacity(id.map_or(0, str::len) + manager.map_or(0, str::len));
        text.push_str(id.unwrap_or_default());
        let id_end = text.len() as u32; // a page is at most 64 MiB (`MAX_RESPONSE_BODY`)
        text.push_str(manager.unwrap_or_default());
        let present = u8::from(id.is_some()) | u8::from(manager.is_some()) << 1;
        IdAndManager { text: text.into_boxed_str(), id_end, present }
    }

    fn id(&self) -> Option<&str> {
        (self.present & 1 != 0).then(|| &self.text[..self.id_end as usize])
    }

    fn manager(&self) -> Option<&str> {
        (self.present & 2 != 0).then(|| &self.text[self.id_end as usize..])
    }
}

/// No server user found (yet) for a source user.
const NONE: u64 = u64::MAX;

/// A server user found for a source user, as one number whose order is the order of preference: bit 33 clear
/// when its `userName` equals the source's up to ASCII case, bit 32 clear when found by `externalId`, then its
/// position in the reading order.
fn found_key(name_eq: bool, by_name: bool, k: u32) -> u64 {
    u64::from(!name_eq) << 33 | u64::from(by_name) << 32 | u64::from(k)
}

/// The reading position of a [`found_key`].
fn found_at(key: u64) -> u32 {
    key as u32
}

/// The rules a comparison follows besides the source directory.
pub(super) struct Rules<'a> {
    /// Whether the engine ever provisioned source user `i` (see `reconcile::reconcile`).
    pub(super) ever_provisioned: &'a (dyn Fn(u32) -> bool + Sync),
    /// The IdP deletes users (Entra); Okta never does (docs/okta.md §2): a deleted user stays, inactive.
    pub(super) deletes_users: bool,
    /// Whether managers are compared (Entra with the enterprise extension).
    pub(super) managers: bool,
    /// Which unmatched server users are judged as extra.
    pub(super) scope: &'a ExtraScope<'a>,
}

/// Compares server users with the source directory one at a time, as they are read ([`UserMatcher::feed`]).
pub(super) struct UserMatcher<'m> {
    model: &'m Model,
    rules: Rules<'m>,
    by_ext: ByKey,
    by_name: ByKey,
    /// Per source user: the [`found_key`] of the server user compared with it, or [`NONE`].
    best: Vec<u64>,
    /// Source users with more than one server user found: each found one, (found by `userName`, position).
    several: HashMap<u32, Vec<(bool, u32)>>,
    /// The attribute differences of each source user with its `best` server user (none: no entry).
    attribute_diffs: HashMap<u32, Vec<Difference>>,
    /// Every server user read, in reading order.
    read: Vec<IdAndManager>,
    /// Unmatched server users judged as extra, in reading order.
    extra: Vec<Difference>,
    /// Unmatched server users not judged.
    strangers: usize,
}

/// The users' result of a reconciliation.
pub(super) struct UsersOutcome {
    /// Differences: each source user's in source order, then the managers', then the extra server users'.
    pub(super) diffs: Vec<Difference>,
    /// Source users not expected on the server.
    pub(super) expected_absent: usize,
    /// Source users that could not be verified (the users could not be read).
    pub(super) unverified: usize,
    /// Unmatched server users not judged as extra.
    pub(super) strangers: usize,
    /// Server users read.
    pub(super) server_users: usize,
    /// The server user each source user was compared with.
    pub(super) matched: Matched,
}

/// The server `id` each source user was compared with (when that server user has one).
pub(super) struct Matched {
    at: Vec<Option<u32>>,
    read: Vec<IdAndManager>,
}

impl Matched {
    /// The id of the server user source user `i` was compared with.
    pub(super) fn id(&self, i: usize) -> Option<&str> {
        self.at.get(i).copied().flatten().and_then(|k| self.read[k as usize].id())
    }

    /// How many source users there are.
    pub(super) fn len(&self) -> usize {
        self.at.len()
    }
}

impl<'m> UserMatcher<'m> {
    /// A matcher for `model`'s users, nothing read yet.
    pub(super) fn new(model: &'m Model, rules: Rules<'m>) -> UserMatcher<'m> {
        let users = &model.users;
        let by_ext =
            ByKey::new(users.len(), users.iter().enumerate().map(|(i, u)| (Cow::Borrowed(&*u.external_id), i)));
        let by_name = ByKey::new(users.len(), users.iter().enumerate().map(|(i, u)| (lowercase(&u.user_name), i)));
        UserMatcher {
            model,
            rules,
            by_ext,
            by_name,
            best: vec![NONE; users.len()],
            several: HashMap::new(),
            attribute_diffs: HashMap::new(),
            read: Vec::new(),
            extra: Vec::new(),
            strangers: 0,
        }
    }

    /// Forgets every server user read (the collection is read again from its first page).
    pub(super) fn restart(&mut self) {
        self.best.fill(NONE);
        self.several.clear();
        self.attribute_diffs.clear();
        self.read = Vec::new();
        self.extra.clear();
        self.strangers = 0;
    }

    /// Compares the next server user in reading order, and keeps only its `id` and manager.
    pub(super) fn feed(&mut self, su: &ServerUser) {
        let k = self.read.len() as u32;
        self.read.push(IdAndManager::of(su));
        let mut claimed = false;
        let model = self.model;
        let users = &model.users;
        // the indexes are taken out while `found` updates the rest (an empty index holds no allocation)
        let by_ext = std::mem::replace(&mut self.by_ext, ByKey::empty());
        let by_name = std::mem::replace(&mut self.by_name, ByKey::empty());
        if let Some(ext) = su.external_id() {
            for i in by_ext.get(ext, |i| &*users[i].external_id) {
                claimed = true;
                self.found(i as u32, false, k, su);
            }
        }
        if let Some(name) = su.user_name() {
            let name = lowercase(name);
            for i in by_name.get(&name, |i| lowercase(&users[i].user_name)) {
                claimed = true;
                let i = i as u32;
                // unless already found by `externalId`
                if su.external_id() != Some(&*users[i as usize].external_id) {
                    self.found(i, true, k, su);
                }
            }
        }
        (self.by_ext, self.by_name) = (by_ext, by_name);
        if !claimed {
            if self.rules.scope.judges(su.id()) {
                let name = su.user_name().unwrap_or_default();
                self.extra.push(diff(
                    DiffKind::Extra,
                    format!("User {name}"),
                    su.id().map(str::to_string),
                    None,
                    json!(null),
                    json!("present, unknown to the source"),
                    ObjRef::None,
                ));
            } else {
                self.strangers += 1;
            }
        }
    }

    /// Server user `su`, at reading position `k`, is found for source user `i`.
    fn found(&mut self, i: u32, by_name: bool, k: u32, su: &ServerUser) {
        let u = &self.model.users[i as usize];
        let name_eq = su.user_name().is_some_and(|n| n.eq_ignore_ascii_case(&u.user_name));
        let key = found_key(name_eq, by_name, k);
        let prev = self.best[i as usize];
        if prev != NONE {
            self.several.entry(i).or_insert_with(|| vec![(prev >> 32 & 1 == 1, found_at(prev))]).push((by_name, k));
        }
        if key < prev {
            self.best[i as usize] = key;
            let diffs = self.compare(i, su);
            match diffs.is_empty() {
                true => self.attribute_diffs.remove(&i),
                false => self.attribute_diffs.insert(i, diffs),
            };
        }
    }

    /// The attribute differences between source user `i` and server user `su`, when `i` is compared at all.
    fn compare(&self, i: u32, su: &ServerUser) -> Vec<Difference> {
        let u = &self.model.users[i as usize];
        let out_of_scope = !u.assigned || u.deleted;
        // not judged, or expected absent: no attribute is compared (`finish`)
        if out_of_scope && !(self.rules.ever_provisioned)(i) || !self.expected(i) {
            return Vec::new();
        }
        let mut attrs = self.model.attrs(i);
        if u.deleted {
            attrs.active = false;
        }
        let mut diffs = Vec::new();
        // A user out of scope is disabled and then left alone (docs/engines.md "Deprovisioning": "unassigned users
        // are disabled then unmanaged"): what changed in the source before its disable is not pushed, so only
        // `active` is compared. Roles and entitlements only where the source grants them (`UserAttr::of`, a
        // prefix of `UserAttr::WITH_GRANTS`, the order `su.attrs` keeps).
        for (n, a) in UserAttr::of(&attrs).into_iter().enumerate() {
            if out_of_scope && a != UserAttr::Active {
                continue;
            }
            let want = a.value(&attrs);
            if !su.attrs.same(n, &want, a == UserAttr::UserName) {
                let kind = if a == UserAttr::Active { DiffKind::Active } else { DiffKind::Attribute };
                let path = Some(a.path().to_string());
                let got = su.attrs.value(n).unwrap_or(Value::Null);
                let id = su.id().map(str::to_string);
                diffs.push(diff(kind, self.label(i as usize), id, path, want, got, ObjRef::User(i)));
            }
        }
        diffs
    }

    /// Whether source user `i` is expected on the server (active or not).
    fn expected(&self, i: u32) -> bool {
        let u = &self.model.users[i as usize];
        // Okta never deletes users (docs/okta.md §2): a deleted source user stays on the server, inactive.
        u.ever_assigned && (!u.deleted || !self.rules.deletes_users)
    }

    fn label(&self, i: usize) -> String {
        format!("User {}", self.model.users[i].user_name)
    }

    /// The server users found for source user `i`: those found by `externalId` first, each group in reading
    /// order.
    fn found_for(&self, i: usize) -> Vec<u32> {
        match self.several.get(&(i as u32)) {
            Some(list) => {
                let mut list = list.clone();
                list.sort_by_key(|&(by_name, k)| (by_name, k));
                list.into_iter().map(|(_, k)| k).collect()
            }
            None if self.best[i] != NONE => vec![found_at(self.best[i])],
            None => Vec::new(),
        }
    }

    /// The differences, once every page is read; `users_read` false when the reading failed (then nothing read
    /// counts: every source user is unverified).
    pub(super) fn finish(mut self, users_read: bool) -> UsersOutcome {
        if !users_read {
            self.restart();
        }
        let model = self.model;
        let mut diffs = Vec::new();
        let (mut expected_absent, mut unverified) = (0, 0);
        let mut at: Vec<Option<u32>> = vec![None; model.users.len()];
        for (i, u) in model.users.iter().enumerate() {
            let out_of_scope = !u.assigned || u.deleted;
            if out_of_scope && !(self.rules.ever_provisioned)(i as u32) {
                expected_absent += 1;
                continue;
            }
            if !users_read {
                unverified += 1;
                continue;
            }
            let obj = ObjRef::User(i as u32);
            let found = self.found_for(i);
            let id_at = |k: u32| self.read[k as usize].id().map(str::to_string);
            if !self.expected(i as u32) {
                expected_absent += 1;
                for &k in &found {
                    diffs.push(diff(
                        DiffKind::Extra,
                        self.label(i),
                        id_at(k),
                        None,
                        json!(null),
                        json!("present"),
                        obj,
                    ));
                }
                continue;
            }
            match found.len() {
                0 => {
                    diffs.push(diff(DiffKind::Missing, self.label(i), None, None, json!("present"), json!(null), obj));
                    continue;
                }
                1 => {}
                _ => {
                    let ids: Vec<Value> = found.iter().map(|&k| json!(id_at(k))).collect();
                    diffs.push(diff(DiffKind::Duplicate, self.label(i), None, None, json!(1), Value::Array(ids), obj));
                }
            }
            let k = found_at(self.best[i]);
            at[i] = self.read[k as usize].id().is_some().then_some(k);
            diffs.extend(self.attribute_diffs.remove(&(i as u32)).unwrap_or_default());
        }
        // the source indexes are not needed any more
        self.by_ext = ByKey::empty();
        self.by_name = ByKey::empty();
        let matched = Matched { at, read: std::mem::take(&mut self.read) };
        if self.rules.managers && users_read {
            diffs.extend(self.managers(&matched));
        }
        diffs.append(&mut self.extra);
        UsersOutcome {
            diffs,
            expected_absent,
            unverified,
            strangers: self.strangers,
            server_users: matched.read.len(),
            matched,
        }
    }

    /// The manager differences (Entra sends managers; Okta's default mapping does not: docs/okta.md §2). A
    /// user's manager is read from the last server user read with its `id`.
    fn managers(&self, matched: &Matched) -> Vec<Difference> {
        let model = self.model;
        let mut by_id: Vec<(&str, u32)> =
            matched.read.iter().enumerate().filter_map(|(k, r)| r.id().map(|id| (id, k as u32))).collect();
        by_id.sort_by(|a, b| a.0.cmp(b.0));
        let manager_of = |id: &str| {
            let end = by_id.partition_point(|(k, _)| *k <= id);
            let last = end.checked_sub(1).filter(|&e| by_id[e].0 == id)?;
            matched.read[by_id[last].1 as usize].manager()
        };
        let mut diffs = Vec::new();
        for i in 0..model.users.len() {
            let Some(id) = matched.id(i) else { continue };
            if model.users[i].deleted || !model.users[i].assigned {
                continue; // out of scope: not managed any more
            }
            let want = model.expected_manager(i as u32).and_then(|m| matched.id(m as usize));
            if model.expected_manager(i as u32).is_some() && want.is_none() {
                // The manager is not on the server: reported on its own, or never provisioned (its create failed and
                // it left scope), so the engine sends no manager for this user either.
                continue;
            }
            let got = manager_of(id);
            if got != want {
                let path = Some(format!("{}:manager", idp::ENTERPRISE));
                let (want, got) = (json!(want), json!(got));
                diffs.push(diff(
                    DiffKind::Manager,
                    self.label(i),
                    Some(id.to_string()),
                    path,
                    want,
                    got,
                    ObjRef::User(i as u32),
                ));
            }
        }
        diffs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lowercasing borrows exactly when `str::to_lowercase` would give the same text.
    #[test]
    fn lowercase_is_to_lowercase_and_borrows_only_an_unchanged_text() {
        for s in ["ada@example.com", "Ada@Example.com", "ǅemal", "ⅰ", "Ⅰ", "ΟΔΟΣ", "οδος", "İstanbul", "ß", ""]
        {
            let got = lowercase(s);
            assert_eq!(got, s.to_lowercase(), "{s}");
            assert_eq!(matches!(got, Cow::Borrowed(_)), s.to_lowercase() == s, "{s}");
        }
    }

    /// The entries of one key come back in the order they were given, the duplicates after the first.
    #[test]
    fn entries_by_key_keep_their_order() {
        let keys = ["a", "b", "a", "c", "a", "a", "b", "a"];
        let by = ByKey::new(0, keys.into_iter().enumerate().map(|(k, key)| (Cow::Borrowed(key), k)));
        let get = |key| by.get(key, |k| keys[k]).collect::<Vec<_>>();
        assert_eq!(get("a"), vec![0, 2, 4, 5, 7]);
        assert_eq!(get("b"), vec![1, 6]);
        assert_eq!(get("c"), vec![3]);
        assert_eq!((get("z").len(), get("").len(), get("aa").len()), (0, 0, 0));
    }

    /// The hashed index finds exactly what a map from each key to its positions finds: over seeded random keys
    /// with shared ones, case variants and prefixes, with the real hash and with hashes that collide for many
    /// keys (by length; one value for all), where only the check of the key tells entries apart.
    #[test]
    fn a_hashed_index_finds_what_a_map_of_keys_finds_even_when_hashes_collide() {
        use fake::rand::rngs::StdRng;
        use fake::rand::{Rng, SeedableRng};
        use std::collections::BTreeMap;
        let mut rng = StdRng::seed_from_u64(27);
        let alphabet = ['a', 'b', 'A', 'é', 'É', '@', '.', '0'];
        let keys: Vec<String> = (0..3000)
            .map(|_| (0..rng.random_range(0..12)).map(|_| alphabet[rng.random_range(0..alphabet.len())]).collect())
            .collect();
        let mut oracle: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (k, key) in keys.iter().enumerate() {
            oracle.entry(key).or_default().push(k);
        }
        assert!(oracle.values().any(|v| v.len() > 2), "some keys are shared");
        let hashes: [fn(&str) -> u64; 3] = [key_hash, |s| s.len() as u64, |_| 7];
        for hash in hashes {
            let by = ByKey::with_hash(keys.len(), keys.iter().enumerate().map(|(k, s)| (Cow::Borrowed(&**s), k)), hash);
            for probe in keys.iter().map(String::as_str).chain(["", "zz", "aaaaaaaaaaaaaaaaaaaa"]) {
                let got: Vec<usize> = by.get(probe, |k| &*keys[k]).collect();
                assert_eq!(got, oracle.get(probe).cloned().unwrap_or_default(), "{probe:?}");
            }
        }
        assert_ne!(key_hash("ab"), key_hash("ba"));
        assert_ne!(key_hash("a"), key_hash("a\0"), "the length is hashed: a trailing NUL is another key");
    }

    /// The preference among the server users found for one source user: an equal `userName` first, then found
    /// by `externalId`, then the reading order.
    #[test]
    fn found_keys_order_by_name_then_how_found_then_reading_order() {
        let mut keys = [
            found_key(false, false, 0),
            found_key(true, true, 9),
            found_key(true, false, 7),
            found_key(true, false, 3),
        ];
        keys.sort_unstable();
        assert_eq!(keys.map(found_at), [3, 7, 9, 0]);
        assert!(found_key(false, true, u32::MAX) < NONE);
    }
}
