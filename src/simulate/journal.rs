//! The request journal: one record per request the simulator sent, kept for the whole run so that a difference
//! found by the reconciliation can list the requests that touched its object ([`Journal::about`]).
//!
//! A run sends three requests per user and more (2.95 million for a million users), so each record is a fixed
//! 24 bytes in blocks that never move, and its path is stored once in a byte arena, or not at all when it is
//! one of the last few paths stored (a collection path such as `/Users`, which every lookup and create
//! shares). A path naming a resource by a UUID as servers write them (`/Users/` or `/Groups/` and a lowercase
//! hyphenated UUID, RFC 4122 §3) is stored as its collection and the UUID's 16 bytes: 17 bytes instead of 43,
//! for the million manager PATCHes of a million users. The rare error text, and a path too long for a record,
//! are kept aside by record. A record stored as a `JournalEntry` with its own `Box<str>` path came to about 125
//! bytes with its share of the `Vec`'s spare capacity; 32 bytes and the whole path text before this form.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

use uuid::Uuid;

use crate::exchange::Method;

/// Records per block (1.5 MiB of records).
const BLOCK: usize = 1 << 16;
/// Bytes per block of the path arena.
const TEXT_BLOCK: usize = 1 << 20;
/// Recently stored paths a new path is compared with before it is stored again.
const RECENT: usize = 8;
/// [`Packed::len`] of a path stored as a collection and a UUID ([`UUID_PATHS`]).
const UUID_FORM: u16 = 0x8000;
/// [`Packed::len`] of a path kept aside (longer than a record can say, or past 4 GiB of arena).
const ASIDE: u16 = 0xFFFF;
/// The collections whose member paths are stored in the UUID form: the byte stored for each is its position.
const UUID_PATHS: [&str; 2] = ["/Users/", "/Groups/"];

/// One request as recorded: `K` is the kind of request, `O` the object it is about (the simulator's
/// `OpKind` and `ObjRef`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a, K, O> {
    /// Sequence number (1-based, in completion order).
    pub seq: u32,
    /// Cycle (0 = initial).
    pub cycle: u16,
    /// Kind.
    pub kind: K,
    /// Object.
    pub obj: O,
    /// Method.
    pub method: Method,
    /// Path below the base URI.
    pub path: &'a str,
    /// Status, or 0 for a timeout or transport error.
    pub status: u16,
    /// For an error answer: its `scimType` and `detail` (shortened).
    pub error: Option<&'a str>,
}

/// One record, packed.
#[derive(Debug, Clone, Copy)]
struct Packed<K, O> {
    seq: u32,
    cycle: u16,
    kind: K,
    method: Method,
    status: u16,
    obj: O,
    /// Where the path starts in the arena (block × [`TEXT_BLOCK`] + offset in the block).
    at: u32,
    /// Its length in the arena (text up to `0x7FFF` bytes), [`UUID_FORM`] or [`ASIDE`].
    len: u16,
}

/// A path as the arena stores it: its text, or a collection and a UUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stored<'a> {
    Text(&'a str),
    Uuid(u8, [u8; 16]),
}

impl Stored<'_> {
    /// `path` in the form stored.
    fn of(path: &str) -> Stored<'_> {
        for (k, prefix) in UUID_PATHS.iter().enumerate() {
            let Some(rest) = path.strip_prefix(prefix) else { continue };
            let Ok(u) = Uuid::try_parse(rest) else { continue };
            if rest.len() == 36 && u.hyphenated().encode_lower(&mut Uuid::encode_buffer()) == rest {
                return Stored::Uuid(k as u8, *u.as_bytes());
            }
        }
        Stored::Text(path)
    }

    /// The bytes in the arena.
    fn bytes(&self) -> Vec<u8> {
        match self {
            Stored::Text(t) => t.as_bytes().to_vec(),
            Stored::Uuid(k, b) => std::iter::once(*k).chain(b.iter().copied()).collect(),
        }
    }
}

/// A range of [`Journal::written`]: start and end.
type Span = (usize, usize);

/// Every request of a run, in the order they completed.
#[derive(Debug)]
pub struct Journal<K, O> {
    blocks: Vec<Vec<Packed<K, O>>>,
    /// The paths' bytes, in blocks of [`TEXT_BLOCK`].
    text: Vec<Vec<u8>>,
    /// The last paths stored and where.
    recent: Vec<(u32, u16)>,
    /// Error texts by record index.
    errors: HashMap<u32, Box<str>>,
    /// Paths kept aside ([`ASIDE`]) by record index.
    aside: HashMap<u32, Box<str>>,
    /// The paths in the UUID form that [`Journal::about`] wrote back as text.
    written: String,
    len: usize,
}

impl<K, O> Default for Journal<K, O> {
    fn default() -> Self {
        Journal {
            blocks: Vec::new(),
            text: Vec::new(),
            recent: Vec::new(),
            errors: HashMap::new(),
            aside: HashMap::new(),
            written: String::new(),
            len: 0,
        }
    }
}

impl<K: Copy, O: Copy + Eq + Hash> Journal<K, O> {
    /// The number of records.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends `e`.
    pub fn push(&mut self, e: Record<'_, K, O>) {
        let index = self.len as u32;
        let (at, len) = match self.store(e.path) {
            Some(place) => place,
            None => {
                self.aside.insert(index, e.path.into());
                (0, ASIDE)
            }
        };
        if let Some(error) = e.error {
            self.errors.insert(index, error.into());
        }
        if self.blocks.last().is_none_or(|b| b.len() == BLOCK) {
            self.blocks.push(Vec::with_capacity(BLOCK));
        }
        let block = self.blocks.last_mut().expect("a block with room");
        block.push(Packed {
            seq: e.seq,
            cycle: e.cycle,
            kind: e.kind,
            method: e.method,
            status: e.status,
            obj: e.obj,
            at,
            len,
        });
        self.len += 1;
    }

    /// The bytes stored at `at` for `len` ([`UUID_FORM`]: 17 bytes).
    fn bytes(&self, at: u32, len: u16) -> &[u8] {
        let n = if len == UUID_FORM { 17 } else { usize::from(len) };
        let (block, start) = (at as usize / TEXT_BLOCK, at as usize % TEXT_BLOCK);
        self.text.get(block).and_then(|t| t.get(start..start + n)).unwrap_or_default()
    }

    /// The path stored at `at` for `len`, in the form stored.
    fn stored(&self, at: u32, len: u16) -> Stored<'_> {
        let b = self.bytes(at, len);
        match (len, b) {
            (UUID_FORM, [k, rest @ ..]) => Stored::Uuid(*k, rest.try_into().unwrap_or_default()),
            _ => Stored::Text(std::str::from_utf8(b).unwrap_or_default()),
        }
    }

    /// Stores `path` (or finds it among the recent ones) and says where it is; `None` when a record cannot say
    /// where (a path over `0x7FFF` bytes, or an arena past 4 GiB).
    fn store(&mut self, path: &str) -> Option<(u32, u16)> {
        let form = Stored::of(path);
        if let Some(at) = self.recent.iter().rev().copied().find(|&(at, len)| self.stored(at, len) == form) {
            return Some(at);
        }
        let len = match form {
            Stored::Uuid(..) => UUID_FORM,
            Stored::Text(t) => u16::try_from(t.len()).ok().filter(|&n| n < UUID_FORM)?,
        };
        let bytes = form.bytes();
        if self.text.last().is_none_or(|t| t.len() + bytes.len() > TEXT_BLOCK) {
            self.text.push(Vec::with_capacity(TEXT_BLOCK));
        }
        let block = self.text.len() - 1;
        let text = &mut self.text[block];
        let at = u32::try_from(block * TEXT_BLOCK + text.len()).ok()?;
        text.extend_from_slice(&bytes);
        if self.recent.len() == RECENT {
            self.recent.remove(0);
        }
        self.recent.push((at, len));
        Some((at, len))
    }

    /// The records about any of `objects`, in the order they were recorded.
    pub fn about(&mut self, objects: &HashSet<O>) -> Vec<Record<'_, K, O>> {
        // First the paths in the UUID form are written back as text, then every record borrows its path.
        self.written.clear();
        // (record index, record, where its path was written back)
        let mut picked: Vec<(usize, Packed<K, O>, Option<Span>)> = Vec::new();
        for (index, p) in self.blocks.iter().flatten().enumerate() {
            if !objects.contains(&p.obj) {
                continue;
            }
            let written = match (p.len, self.stored(p.at, p.len)) {
                (UUID_FORM, Stored::Uuid(k, b)) => {
                    let start = self.written.len();
                    self.written.push_str(UUID_PATHS.get(usize::from(k)).copied().unwrap_or_default());
                    self.written.push_str(Uuid::from_bytes(b).hyphenated().encode_lower(&mut Uuid::encode_buffer()));
                    Some((start, self.written.len()))
                }
                _ => None,
            };
            picked.push((index, *p, written));
        }
        let this = &*self;
        picked
            .into_iter()
            .map(|(index, p, written)| Record {
                seq: p.seq,
                cycle: p.cycle,
                kind: p.kind,
                obj: p.obj,
                method: p.method,
                path: match (written, p.len) {
                    (Some((start, end)), _) => &this.written[start..end],
                    (None, ASIDE) => this.aside.get(&(index as u32)).map_or("", |t| t),
                    (None, len) => std::str::from_utf8(this.bytes(p.at, len)).unwrap_or_default(),
                },
                status: p.status,
                error: this.errors.get(&(index as u32)).map(|e| &**e),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The object a test record is about.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    enum Obj {
        None,
        User(u32),
        Group(u32),
    }

    fn entry<'a>(seq: u32, obj: Obj, path: &'a str, error: Option<&'a str>) -> Record<'a, u8, Obj> {
        Record {
            seq,
            cycle: (seq % 3) as u16,
            kind: (seq % 5) as u8,
            obj,
            method: Method::POST,
            path,
            status: if error.is_some() { 409 } else { 201 },
            error,
        }
    }

    /// Every record comes back as it was pushed, across blocks of records and of text, with shared and long paths.
    #[test]
    fn records_come_back_as_pushed() {
        let mut j = Journal::default();
        let long = "/Users/".to_string() + &"x".repeat(TEXT_BLOCK + 10);
        let n = BLOCK * 2 + 5;
        let uuid = |k: u32| Uuid::from_u128(u128::from(k) * 0x1234_5678_9abc_def1).hyphenated().to_string();
        let paths: Vec<String> = (0..n as u32)
            .map(|k| match k % 8 {
                0 => "/Users".to_string(),
                1 => format!("/Users/{k:036}"),
                2 if k == 106 => long.clone(),
                3 => format!("/Users/{}", uuid(k)),
                4 => format!("/Groups/{}", uuid(k)),
                5 => format!("/Users/{}", uuid(k).to_uppercase()),
                6 => format!("/Users/{}/x", uuid(k)),
                _ => format!("/Groups/{k}"),
            })
            .collect();
        let mut pushed = Vec::new();
        for (k, path) in paths.iter().enumerate() {
            let k = k as u32;
            let error = (k % 1000 == 7).then_some("uniqueness already exists");
            let e = entry(k + 1, if k.is_multiple_of(7) { Obj::None } else { Obj::User(k % 50) }, path, error);
            pushed.push(e);
            j.push(e);
        }
        assert_eq!(j.len(), n);
        let wanted: HashSet<Obj> = [Obj::User(3), Obj::User(4), Obj::User(5), Obj::User(6), Obj::None].into();
        let got = j.about(&wanted);
        let want: Vec<_> = pushed.iter().copied().filter(|e| wanted.contains(&e.obj)).collect();
        assert_eq!(got, want);
        assert!(got.iter().any(|e| e.path == long), "the long path is kept whole");
        assert!(got.iter().any(|e| e.error.is_some()), "errors are kept");
        assert!(j.about(&[Obj::Group(1)].into()).is_empty());
    }

    /// A record takes 24 bytes (with a one-byte kind and an 8-byte object, as the simulator's).
    #[test]
    fn a_record_takes_24_bytes() {
        assert_eq!(std::mem::size_of::<Packed<u8, Obj>>(), 24);
    }

    /// A path stored moments ago is not stored again: a million `/Users` lookups cost no text.
    #[test]
    fn a_recent_path_is_stored_once() {
        let mut j = Journal::default();
        for k in 0..10_000 {
            j.push(entry(k, Obj::None, "/Users", None));
        }
        assert_eq!(j.text.iter().map(Vec::len).sum::<usize>(), "/Users".len());
    }

    /// A path naming a resource by a UUID as servers write it takes 17 bytes and reads back whole; any other
    /// spelling of it is kept as text.
    #[test]
    fn a_uuid_path_takes_17_bytes_and_reads_back() {
        let mut j = Journal::default();
        let id = "0b5c2b0e-8d0a-4c1e-9a43-6f1d2e3c4b5a";
        let paths = [format!("/Users/{id}"), format!("/Groups/{id}"), format!("/Users/{}", id.to_uppercase())];
        for (k, p) in paths.iter().enumerate() {
            j.push(entry(k as u32 + 1, Obj::User(k as u32), p, None));
        }
        assert_eq!(j.text.iter().map(Vec::len).sum::<usize>(), 17 + 17 + paths[2].len());
        let got = j.about(&[Obj::User(0), Obj::User(1), Obj::User(2)].into());
        assert_eq!(
            got.iter().map(|r| r.path).collect::<Vec<_>>(),
            paths.iter().map(String::as_str).collect::<Vec<_>>()
        );
    }
}
