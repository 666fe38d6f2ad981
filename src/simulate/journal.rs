//! The request journal: one record per request the simulator sent, kept for the whole run so that a difference
//! found by the reconciliation can list the requests that touched its object ([`Journal::about`]).
//!
//! A run sends three requests per user and more (2.95 million for a million users), so each record is a fixed
//! 32 bytes in blocks that never move, and its path is stored once in a text arena, or not at all when it is
//! one of the last few paths stored (a collection path such as `/Users`, which every lookup and create
//! shares). The rare error text is kept aside by record. A record stored as a `JournalEntry` with its own
//! `Box<str>` path came to about 125 bytes with its share of the `Vec`'s spare capacity.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

use crate::exchange::Method;

/// Records per block (2 MiB of records).
const BLOCK: usize = 1 << 16;
/// Bytes per block of the path arena.
const TEXT_BLOCK: usize = 1 << 20;
/// Recently stored paths a new path is compared with before it is stored again.
const RECENT: usize = 8;

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
    /// Where the path is: block of the arena, start in it, length.
    path: (u32, u32, u32),
}

/// Every request of a run, in the order they completed.
#[derive(Debug)]
pub struct Journal<K, O> {
    blocks: Vec<Vec<Packed<K, O>>>,
    /// The paths' text; a path longer than [`TEXT_BLOCK`] has a block of its own.
    text: Vec<String>,
    /// The last paths stored and where.
    recent: Vec<(u32, u32, u32)>,
    /// Error texts by record index.
    errors: HashMap<u32, Box<str>>,
    len: usize,
}

impl<K, O> Default for Journal<K, O> {
    fn default() -> Self {
        Journal { blocks: Vec::new(), text: Vec::new(), recent: Vec::new(), errors: HashMap::new(), len: 0 }
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
        let path = self.store(e.path);
        let index = self.len as u32;
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
            path,
        });
        self.len += 1;
    }

    fn path(&self, (block, start, len): (u32, u32, u32)) -> &str {
        &self.text[block as usize][start as usize..(start + len) as usize]
    }

    /// Stores `path` (or finds it among the recent ones) and says where it is.
    fn store(&mut self, path: &str) -> (u32, u32, u32) {
        if let Some(at) = self.recent.iter().rev().copied().find(|at| self.path(*at) == path) {
            return at;
        }
        let fits = self.text.last().is_some_and(|t| t.len() + path.len() <= t.capacity());
        if !fits {
            self.text.push(String::with_capacity(TEXT_BLOCK.max(path.len())));
        }
        let block = self.text.len() - 1;
        let text = &mut self.text[block];
        let at = (block as u32, text.len() as u32, path.len() as u32);
        text.push_str(path);
        if self.recent.len() == RECENT {
            self.recent.remove(0);
        }
        self.recent.push(at);
        at
    }

    /// The records about any of `objects`, in the order they were recorded.
    pub fn about(&self, objects: &HashSet<O>) -> Vec<Record<'_, K, O>> {
        let mut out = Vec::new();
        for (index, p) in self.blocks.iter().flatten().enumerate() {
            if objects.contains(&p.obj) {
                out.push(Record {
                    seq: p.seq,
                    cycle: p.cycle,
                    kind: p.kind,
                    obj: p.obj,
                    method: p.method,
                    path: self.path(p.path),
                    status: p.status,
                    error: self.errors.get(&(index as u32)).map(|e| &**e),
                });
            }
        }
        out
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
        let paths: Vec<String> = (0..n as u32)
            .map(|k| match k % 4 {
                0 => "/Users".to_string(),
                1 => format!("/Users/{k:036}"),
                2 if k == 6 => long.clone(),
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
        let wanted: HashSet<Obj> = [Obj::User(3), Obj::User(6), Obj::None].into();
        let got = j.about(&wanted);
        let want: Vec<_> = pushed.iter().copied().filter(|e| wanted.contains(&e.obj)).collect();
        assert_eq!(got, want);
        assert!(got.iter().any(|e| e.path == long), "the long path is kept whole");
        assert!(got.iter().any(|e| e.error.is_some()), "errors are kept");
        assert!(j.about(&[Obj::Group(1)].into()).is_empty());
    }

    /// A path stored moments ago is not stored again: a million `/Users` lookups cost no text.
    #[test]
    fn a_recent_path_is_stored_once() {
        let mut j = Journal::default();
        for k in 0..10_000 {
            j.push(entry(k, Obj::None, "/Users", None));
        }
        assert_eq!(j.text.iter().map(String::len).sum::<usize>(), "/Users".len());
    }
}
