//! Storage behind a small interface. The in-memory store keeps each resource as compact JSON text (so a
//! million users fit in well under 2 KB each) in creation order, with secondary indexes that answer
//! `userName eq`, `externalId eq` and `displayName eq` in O(1). Group memberships are kept apart from the
//! group's JSON, one ordered set per group, so that adding or removing one member of a 100,000-member group
//! costs O(1), not a rewrite of the whole group.

use std::collections::{HashMap, HashSet};

use indexmap::IndexMap;
use uuid::Uuid;

use key_index::{KeyIndex, SlotKeys};

use crate::schema::ResourceKind;

pub(crate) mod hot;
mod key_index;
pub(crate) mod shape;
pub(crate) mod text;
mod visible;

pub use hot::{ColumnView, COLUMN_NAMES_USER, MAX_ENTRY_BYTES, NO_HOT};
pub use shape::{MAX_LIST_BYTES, MAX_SHAPES, NO_SHAPE};
pub use text::MemberTable;

/// The weak entity tag of a record's version (RFC 7644 §3.14): `W/"<version>"`.
pub fn etag(version: u64) -> String {
    format!("W/\"{version}\"")
}

/// The entity tag a rendered resource carries in `meta.version` (RFC 7644 §3.14), when it has one.
pub fn version_of(resource: &serde_json::Value) -> Option<&str> {
    resource.pointer("/meta/version").and_then(serde_json::Value::as_str)
}

/// One stored resource.
#[derive(Debug, Clone)]
pub struct Record {
    /// The resource's `id` (RFC 7643 §3.1), a UUID assigned by the server.
    pub id: Uuid,
    /// A server-wide counter value, rendered as the weak ETag `W/"<version>"` (RFC 7644 §3.14).
    pub version: u64,
    /// Hidden records (deleted through SCIM, or protected local accounts) stay stored but SCIM never shows them.
    pub hidden: bool,
    /// Protected local accounts (owner, administrators): hidden from SCIM, and every SCIM write aimed at
    /// them is refused.
    pub protected: bool,
    /// `meta.lastModified` of a change that came after `body` was written and touched nothing stored in it —
    /// a user's derived `groups` (RFC 7643 §4.1.2) or a group's member set — so that such a change costs a
    /// version bump, not a rewrite of the JSON. `None` when `body`'s own `meta` is current. Read the resource
    /// through [`Record::json`], which applies it.
    pub touched: Option<Box<str>>,
    /// The full resource as compact JSON (with `id`, `schemas` and `meta` minus `location`).
    pub body: Box<str>,
    /// Where each top-level member of `body` starts, so that a filter scan reads only the members it needs
    /// (built by [`Record::new`] or [`Record::of_value`] from `body`, which is why a record is made only there).
    table: MemberTable,
    /// The number of this record's list of top-level keys in its collection (module `shape`), set when the
    /// store stores it; [`NO_SHAPE`] before, or when the collection has too many.
    shape: u32,
    /// Where this record's entry is in its collection's column of the members filters read most (module
    /// `hot`), set when the store stores it; [`NO_HOT`] before, or when it has none.
    hot: u32,
}

impl Record {
    /// A record whose `body` carries its current `meta`.
    pub fn new(id: Uuid, version: u64, hidden: bool, protected: bool, body: String) -> Record {
        let table = MemberTable::of(&body);
        Record::with_table(id, version, hidden, protected, body, table)
    }

    /// [`Record::new`] from the resource as a `Value`: its compact JSON text (serde_json's, as `Value`'s
    /// `Display` writes it) with the member table taken while writing it ([`MemberTable::write`]).
    pub fn of_value(id: Uuid, version: u64, hidden: bool, protected: bool, body: &serde_json::Value) -> Record {
        let (body, table) = MemberTable::write(body);
        Record::with_table(id, version, hidden, protected, body, table)
    }

    /// A record of `body` whose member table is `table`, not yet stored (no shape, no column entry).
    fn with_table(id: Uuid, version: u64, hidden: bool, protected: bool, body: String, table: MemberTable) -> Record {
        let body = body.into_boxed_str();
        Record { id, version, hidden, protected, touched: None, body, table, shape: NO_SHAPE, hot: NO_HOT }
    }

    /// Where each top-level member of [`Record::body`] starts ([`MemberTable`]); unusable when the text is
    /// not a JSON object the table can describe.
    pub fn member_table(&self) -> &MemberTable {
        &self.table
    }

    /// The number of this record's list of top-level keys in the collection that stores it
    /// ([`Store::shape_keys`]); [`NO_SHAPE`] when it has none.
    pub fn shape(&self) -> u32 {
        self.shape
    }

    /// Where this record's entry is in the column of the collection that stores it ([`Store::column`]);
    /// [`NO_HOT`] when it has none.
    pub fn hot(&self) -> u32 {
        self.hot
    }

    /// The resource as JSON with `meta.version` and `meta.lastModified` current (RFC 7644 §3.14).
    ///
    /// # Errors
    /// The stored text is not JSON (a damaged data file).
    pub fn json(&self) -> serde_json::Result<serde_json::Value> {
        let mut body: serde_json::Value = serde_json::from_str(&self.body)?;
        self.bring_meta_current(&mut body);
        Ok(body)
    }

    /// Sets `meta.lastModified` and `meta.version` of `body`, read from this record's text, to the touch that
    /// came after the text was written, if any (RFC 7644 §3.14). A body without a `meta` object is left alone.
    pub fn bring_meta_current(&self, body: &mut serde_json::Value) {
        if let Some(modified) = &self.touched {
            if let Some(meta) = body.get_mut("meta").and_then(serde_json::Value::as_object_mut) {
                meta.insert("lastModified".into(), serde_json::Value::String(modified.to_string()));
                meta.insert("version".into(), serde_json::Value::String(etag(self.version)));
            }
        }
    }

    /// The JSON text with `meta` current: `body` itself, or a rewrite of it after a touch.
    pub fn current_body(&self) -> String {
        match (&self.touched, self.json()) {
            (Some(_), Ok(v)) => v.to_string(),
            _ => self.body.to_string(),
        }
    }
}

/// The indexed keys of a record, extracted by the caller from the body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexKeys {
    /// `userName` (users) or `displayName` (groups): unique, matched case-insensitively.
    pub name: Option<String>,
    /// `externalId`: matched exactly (caseExact in RFC 7643 §3.1).
    pub external_id: Option<String>,
}

/// One member of a group (RFC 7643 §4.2 `members`): what it is and the `display` shown with it. The
/// member's id is the key of [`Members`]; `$ref` is derived when rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// `User` or `Group` (the `type` sub-attribute).
    pub kind: ResourceKind,
    /// The `display` sub-attribute, as given by the client or taken from the member when it was added.
    pub display: Option<Box<str>>,
}

/// A group's members in the order they were added, keyed by member id (so a set: no duplicates).
pub type Members = IndexMap<Uuid, Member>;

/// Which secondary index to ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Index {
    /// userName for users, displayName for groups (case-insensitive).
    Name,
    /// externalId (case-exact). Several records may share one; the index keeps the earliest.
    ExternalId,
}

/// The storage interface the directory needs. Implementations need no locking of their own: the
/// directory serialises writers per tenant.
pub trait Store: Send + Sync + std::fmt::Debug {
    /// The record with this id, hidden or not.
    fn get(&self, kind: ResourceKind, id: &Uuid) -> Option<&Record>;
    /// Inserts a new record at the end of the creation order.
    fn insert(&mut self, kind: ResourceKind, record: Record, keys: IndexKeys);
    /// Replaces an existing record (same id), keeping its place in the creation order.
    fn update(&mut self, kind: ResourceKind, record: Record, keys: IndexKeys);
    /// Gives an existing record a new version and `meta.lastModified` without changing its JSON (see
    /// [`Record::touched`]); false when there is no such record.
    fn touch(&mut self, kind: ResourceKind, id: &Uuid, version: u64, modified: &str) -> bool;
    /// Removes a record for good.
    fn remove(&mut self, kind: ResourceKind, id: &Uuid) -> Option<Record>;
    /// Records whose indexed key equals `value` (case-insensitively for [`Index::Name`]), hidden or not.
    fn lookup(&self, kind: ResourceKind, index: Index, value: &str) -> Vec<&Record>;
    /// Every record in creation order.
    fn scan(&self, kind: ResourceKind) -> Box<dyn Iterator<Item = &Record> + '_>;
    /// How many records of this kind exist (hidden included).
    fn len(&self, kind: ResourceKind) -> usize;
    /// The visible (not hidden) records from the `skip`-th one (0-based, creation order), and how many records
    /// are visible in all, when the store finds that position without walking the records before it; `None`
    /// when it cannot (then walk [`Store::scan`]). An unfiltered page (RFC 7644 §3.4.2.4) then costs its own
    /// size, not the collection's: paging through N records in pages of k visits N records, not N²/k.
    fn visible_from(
        &self,
        _kind: ResourceKind,
        _skip: usize,
    ) -> Option<(usize, Box<dyn Iterator<Item = &Record> + '_>)> {
        None
    }
    /// True when no record of this kind exists.
    fn is_empty(&self, kind: ResourceKind) -> bool {
        self.len(kind) == 0
    }
    /// The top-level keys, joined by `"`, of the records of this kind whose [`Record::shape`] is `shape`, so
    /// that a scan resolves the names it reads once per list of keys instead of once per record (module
    /// `shape`); `None` when the store keeps no such list.
    fn shape_keys(&self, _kind: ResourceKind, _shape: u32) -> Option<&[u8]> {
        None
    }
    /// The column of the members filters read most of this kind's records (module `hot`: a copy of those
    /// members' bytes, record after record), which a scan reads through [`Record::hot`] instead of each
    /// record's text; `None` when the store keeps none.
    fn column(&self, _kind: ResourceKind) -> Option<ColumnView<'_>> {
        None
    }
    /// True when this kind has a column ([`Store::column`]) that is not kept yet: it is switched on by
    /// [`Store::keep_column`]. False for a store that keeps none.
    fn column_off(&self, _kind: ResourceKind) -> bool {
        false
    }
    /// Starts keeping this kind's column, built from every record stored now and kept current by every
    /// later write (module `hot`). Changes no resource: nothing is written to a data file.
    fn keep_column(&mut self, _kind: ResourceKind) {}
    /// A group's members, in the order they were added; `None` when it has none.
    fn members(&self, group: &Uuid) -> Option<&Members>;
    /// Adds a member at the end of the group's members, or replaces its entry (keeping its place).
    fn add_member(&mut self, group: Uuid, member: Uuid, entry: Member);
    /// Removes one member of a group; false when it was not a member.
    fn remove_member(&mut self, group: &Uuid, member: &Uuid) -> bool;
    /// Removes every member of the group that `members` holds, the others keeping their order; the ids removed,
    /// in the group's order. A store keeping members in order overrides this with one pass over the group, so a
    /// request removing many members (a value list or `members[value eq …]` paths, RFC 7644 §3.5.2.2; a PUT,
    /// §3.5.1) costs the group's size, not the group's size for each member removed.
    fn remove_members(&mut self, group: &Uuid, members: &HashSet<Uuid>) -> Vec<Uuid> {
        let gone: Vec<Uuid> = self
            .members(group)
            .map(|ms| ms.keys().filter(|m| members.contains(m)).copied().collect())
            .unwrap_or_default();
        for m in &gone {
            self.remove_member(group, m);
        }
        gone
    }
    /// Every group that has members, with them (to rebuild the reverse index at start).
    fn member_lists(&self) -> Box<dyn Iterator<Item = (&Uuid, &Members)> + '_>;
    /// Makes every change since the last commit durable, all or nothing. The directory calls it once at the
    /// end of each write, under its lock; a store without durability has nothing to do.
    fn commit(&mut self) -> crate::error::ScimResult<()> {
        Ok(())
    }
    /// Whether [`Store::commit`] writes to disk; false for a store without durability.
    fn is_durable(&self) -> bool {
        false
    }
    /// Whether anything changed since the last successful [`Store::commit`] (including a commit that failed):
    /// what a write that ends in an error must undo with [`Store::rollback`]. A store whose commit cannot
    /// fail has nothing to undo: false.
    fn has_uncommitted(&self) -> bool {
        false
    }
    /// Undoes every change since the last successful commit, so that the store is again what it was (and what
    /// the data file holds): the rule that an error answer means nothing changed. Nothing to do for a store
    /// without durability.
    ///
    /// # Errors
    /// The committed state could not be read back (the store is then not to be used).
    fn rollback(&mut self) -> crate::error::ScimResult<()> {
        Ok(())
    }
}

/// Folds a case-insensitive key (RFC 7643 §2.1 `caseExact: false`).
pub fn fold(s: &str) -> String {
    s.to_lowercase()
}

#[derive(Debug, Default)]
struct Table {
    /// Creation order; removed records leave a tombstone until compaction.
    slots: Vec<Option<Record>>,
    /// Each slot's indexed keys (default for a tombstone), beside `slots`.
    keys: Vec<SlotKeys>,
    by_id: HashMap<Uuid, usize>,
    /// Secondary indexes point straight at slots, so an `eq` lookup is one hash probe and one slot read
    /// ([`KeyIndex`]: by keyed hash, each key kept once in `keys`).
    by_name: KeyIndex,
    by_external_id: KeyIndex,
    /// The records' lists of top-level keys (module `shape`).
    shapes: shape::Shapes,
    /// The members filters read most, record after record (module `hot`).
    column: hot::Column,
    live: usize,
    /// Which slots hold a visible record (not hidden, not a tombstone), to find a page's first one without a walk (module `visible`).
    visible: visible::Visible,
}

impl Table {
    fn unindex(&mut self, slot: u32) {
        let Some(old) = self.keys.get_mut(slot as usize).map(std::mem::take) else { return };
        if let Some(n) = old.name() {
            self.by_name.remove(n, slot);
        }
        if let Some(e) = old.external_id() {
            self.by_external_id.remove(e, slot);
        }
    }

    fn index(&mut self, slot: u32, keys: &IndexKeys) {
        let name = keys.name.as_deref().map(fold);
        let stored = SlotKeys::new(name.as_deref(), keys.external_id.as_deref());
        if let Some(n) = stored.name() {
            self.by_name.add(n, slot);
        }
        if let Some(e) = stored.external_id() {
            self.by_external_id.add(e, slot);
        }
        if let Some(k) = self.keys.get_mut(slot as usize) {
            *k = stored;
        }
    }

    /// Drops tombstones once they are the majority; slots move, so every index is rebuilt.
    fn compact_if_sparse(&mut self) {
        if self.slots.len() > 64 && self.live * 2 < self.slots.len() {
            let (slots, keys) = (std::mem::take(&mut self.slots), std::mem::take(&mut self.keys));
            (self.slots, self.keys) = slots.into_iter().zip(keys).filter(|(r, _)| r.is_some()).unzip();
            self.visible = visible::Visible::build(self.slots.iter().map(|r| r.as_ref().is_some_and(|r| !r.hidden)));
            self.by_id.clear();
            self.by_name.clear();
            self.by_external_id.clear();
            for i in 0..self.slots.len() {
                let Some(id) = self.slots[i].as_ref().map(|r| r.id) else { continue };
                self.by_id.insert(id, i);
                let k = &self.keys[i];
                if let Some(n) = k.name() {
                    self.by_name.add(n, i as u32);
                }
                if let Some(e) = k.external_id() {
                    self.by_external_id.add(e, i as u32);
                }
            }
        }
    }
}

/// The in-memory store.
#[derive(Debug)]
pub struct MemoryStore {
    users: Table,
    groups: Table,
    members: HashMap<Uuid, Members>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        let users = Table { column: hot::Column::new(COLUMN_NAMES_USER), ..Table::default() };
        MemoryStore { users, groups: Table::default(), members: HashMap::new() }
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn table(&self, kind: ResourceKind) -> &Table {
        match kind {
            ResourceKind::User => &self.users,
            ResourceKind::Group => &self.groups,
        }
    }

    fn table_mut(&mut self, kind: ResourceKind) -> &mut Table {
        match kind {
            ResourceKind::User => &mut self.users,
            ResourceKind::Group => &mut self.groups,
        }
    }
}

impl Store for MemoryStore {
    fn get(&self, kind: ResourceKind, id: &Uuid) -> Option<&Record> {
        let t = self.table(kind);
        t.by_id.get(id).and_then(|&i| t.slots.get(i)).and_then(Option::as_ref)
    }

    fn insert(&mut self, kind: ResourceKind, mut record: Record, keys: IndexKeys) {
        let t = self.table_mut(kind);
        let id = record.id;
        record.shape = t.shapes.of(&record.body, &record.table);
        record.hot = t.column.push(&record.body, &record.table);
        let visible = !record.hidden;
        let slot = if let Some(&i) = t.by_id.get(&id) {
            t.unindex(i as u32);
            let old = t.slots[i].replace(record);
            if let Some(old) = &old {
                t.column.release(old.hot);
            }
            t.visible.set(i, old.is_some_and(|r| !r.hidden), visible);
            i
        } else {
            t.by_id.insert(id, t.slots.len());
            t.visible.push(visible);
            t.slots.push(Some(record));
            t.keys.push(SlotKeys::default());
            t.live += 1;
            t.slots.len() - 1
        };
        t.index(slot as u32, &keys);
        t.column.compact_if_sparse(&mut t.slots);
    }

    fn update(&mut self, kind: ResourceKind, record: Record, keys: IndexKeys) {
        self.insert(kind, record, keys);
    }

    fn touch(&mut self, kind: ResourceKind, id: &Uuid, version: u64, modified: &str) -> bool {
        let t = self.table_mut(kind);
        let Some(r) = t.by_id.get(id).and_then(|&i| t.slots.get_mut(i)).and_then(Option::as_mut) else {
            return false;
        };
        r.version = version;
        r.touched = Some(modified.into());
        true
    }

    fn remove(&mut self, kind: ResourceKind, id: &Uuid) -> Option<Record> {
        let t = self.table_mut(kind);
        let i = t.by_id.remove(id)?;
        t.unindex(i as u32);
        let r = t.slots.get_mut(i).and_then(Option::take);
        t.visible.set(i, r.as_ref().is_some_and(|r| !r.hidden), false);
        if let Some(r) = &r {
            t.column.release(r.hot);
        }
        t.live -= 1;
        t.compact_if_sparse();
        t.column.compact_if_sparse(&mut t.slots);
        r
    }

    fn lookup(&self, kind: ResourceKind, index: Index, value: &str) -> Vec<&Record> {
        let t = self.table(kind);
        let record = |i: u32| t.slots.get(i as usize).and_then(Option::as_ref);
        let keys = |i: u32| t.keys.get(i as usize);
        match index {
            Index::Name => {
                let folded = fold(value);
                t.by_name.get(&folded, |i| keys(i).and_then(SlotKeys::name)).filter_map(record).collect()
            }
            Index::ExternalId => {
                t.by_external_id.get(value, |i| keys(i).and_then(SlotKeys::external_id)).filter_map(record).collect()
            }
        }
    }

    fn scan(&self, kind: ResourceKind) -> Box<dyn Iterator<Item = &Record> + '_> {
        Box::new(self.table(kind).slots.iter().flatten())
    }

    fn len(&self, kind: ResourceKind) -> usize {
        self.table(kind).live
    }

    /// Always known: the table counts its visible slots (module `visible`), so the `skip`-th visible record's
    /// slot is found in O(log n) whatever tombstones and hidden records lie before it.
    fn visible_from(&self, kind: ResourceKind, skip: usize) -> Option<(usize, Box<dyn Iterator<Item = &Record> + '_>)> {
        let t = self.table(kind);
        let start = t.visible.nth(skip).unwrap_or(t.slots.len());
        let from = t.slots[start..].iter().flatten().filter(|r| !r.hidden);
        Some((t.visible.total(), Box::new(from)))
    }

    fn shape_keys(&self, kind: ResourceKind, shape: u32) -> Option<&[u8]> {
        self.table(kind).shapes.keys(shape)
    }

    fn column(&self, kind: ResourceKind) -> Option<ColumnView<'_>> {
        self.table(kind).column.view()
    }

    fn column_off(&self, kind: ResourceKind) -> bool {
        self.table(kind).column.is_off()
    }

    fn keep_column(&mut self, kind: ResourceKind) {
        let t = self.table_mut(kind);
        t.column.switch_on(&mut t.slots);
    }

    fn members(&self, group: &Uuid) -> Option<&Members> {
        self.members.get(group)
    }

    fn add_member(&mut self, group: Uuid, member: Uuid, entry: Member) {
        self.members.entry(group).or_default().insert(member, entry);
    }

    fn remove_member(&mut self, group: &Uuid, member: &Uuid) -> bool {
        let Some(ms) = self.members.get_mut(group) else { return false };
        // `shift_remove` keeps the order of the others, at the cost of moving every member after it: one
        // removal costs the group's size, so removing many in one request goes through `remove_members`.
        let removed = ms.shift_remove(member).is_some();
        if ms.is_empty() {
            self.members.remove(group);
        }
        removed
    }

    fn remove_members(&mut self, group: &Uuid, members: &HashSet<Uuid>) -> Vec<Uuid> {
        let Some(ms) = self.members.get_mut(group) else { return Vec::new() };
        let mut gone = Vec::new();
        // one pass, the others keeping their order
        ms.retain(|m, _| {
            let keep = !members.contains(m);
            if !keep {
                gone.push(*m);
            }
            keep
        });
        if ms.is_empty() {
            self.members.remove(group);
        }
        gone
    }

    fn member_lists(&self) -> Box<dyn Iterator<Item = (&Uuid, &Members)> + '_> {
        Box::new(self.members.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    fn rec(id: Uuid, body: &str) -> Record {
        Record::new(id, 1, false, false, body.to_string())
    }

    /// A record made from a `Value` holds the text `Value`'s `Display` writes and the table [`Record::new`]
    /// builds from that text after validating it.
    #[test]
    fn a_record_of_a_value_is_the_record_of_its_text() {
        let bodies = [
            serde_json::json!({"userName": "a\"b", "name": {"givenName": "é"}, "emails": [{"value": "x"}], "n": 1.5}),
            serde_json::json!({}),
            serde_json::json!({"k": null, "K": [true, false]}),
        ];
        let mut many = serde_json::Map::new();
        (0..40).for_each(|i| drop(many.insert(format!("a{i}"), i.into())));
        for body in bodies.iter().chain([&serde_json::Value::Object(many)]) {
            let (a, b) = (Record::of_value(Uuid::nil(), 1, false, false, body), rec(Uuid::nil(), &body.to_string()));
            assert_eq!(a.body, b.body);
            let offsets = |r: &Record| format!("{:?}", r.member_table());
            assert_eq!(offsets(&a), offsets(&b), "{body}");
        }
    }

    #[test]
    fn keeps_creation_order_and_indexes_case_insensitively() {
        let mut s = MemoryStore::new();
        let ids: Vec<Uuid> = (0..100).map(|_| Uuid::new_v4()).collect();
        for (n, id) in ids.iter().enumerate() {
            let keys = IndexKeys { name: Some(format!("User{n}@Example.com")), external_id: Some(format!("Ext{n}")) };
            s.insert(ResourceKind::User, rec(*id, "{}"), keys);
        }
        let order: Vec<Uuid> = s.scan(ResourceKind::User).map(|r| r.id).collect();
        assert_eq!(order, ids);
        let ids_of = |rs: Vec<&Record>| rs.iter().map(|r| r.id).collect::<Vec<_>>();
        assert_eq!(ids_of(s.lookup(ResourceKind::User, Index::Name, "user7@EXAMPLE.COM")), vec![ids[7]]);
        assert_eq!(ids_of(s.lookup(ResourceKind::User, Index::ExternalId, "Ext7")), vec![ids[7]]);
        assert!(s.lookup(ResourceKind::User, Index::ExternalId, "ext7").is_empty());
        assert!(s.lookup(ResourceKind::Group, Index::Name, "user7@example.com").is_empty());
    }

    #[test]
    fn update_reindexes_and_remove_compacts_without_losing_order() {
        let mut s = MemoryStore::new();
        let ids: Vec<Uuid> = (0..200).map(|_| Uuid::new_v4()).collect();
        for (n, id) in ids.iter().enumerate() {
            s.insert(ResourceKind::Group, rec(*id, "{}"), IndexKeys { name: Some(format!("g{n}")), external_id: None });
        }
        s.update(
            ResourceKind::Group,
            rec(ids[3], "{\"x\":1}"),
            IndexKeys { name: Some("renamed".into()), external_id: None },
        );
        assert!(s.lookup(ResourceKind::Group, Index::Name, "g3").is_empty());
        let ids_of = |rs: Vec<&Record>| rs.iter().map(|r| r.id).collect::<Vec<_>>();
        assert_eq!(ids_of(s.lookup(ResourceKind::Group, Index::Name, "RENAMED")), vec![ids[3]]);
        for id in ids.iter().step_by(2).skip(1) {
            assert!(s.remove(ResourceKind::Group, id).is_some());
        }
        for id in ids.iter().skip(150) {
            s.remove(ResourceKind::Group, id);
        }
        let left: Vec<Uuid> = s.scan(ResourceKind::Group).map(|r| r.id).collect();
        let expected: Vec<Uuid> =
            ids.iter().enumerate().filter(|(i, _)| *i < 150 && (i % 2 == 1 || *i == 0)).map(|(_, id)| *id).collect();
        assert_eq!(left, expected);
        assert_eq!(s.len(ResourceKind::Group), expected.len());
        for id in &expected {
            assert_eq!(s.get(ResourceKind::Group, id).map(|r| r.id), Some(*id));
        }
        assert!(s.get(ResourceKind::Group, &ids[2]).is_none());
        assert!(s.lookup(ResourceKind::Group, Index::Name, "g2").is_empty());
        // after compaction moved the slots, every remaining name still finds its own record
        for (n, id) in ids.iter().enumerate().filter(|(n, _)| expected.contains(&ids[*n]) && *n != 3) {
            assert_eq!(ids_of(s.lookup(ResourceKind::Group, Index::Name, &format!("g{n}"))), vec![*id]);
        }
    }

    /// Seeded inserts (hidden or not), replacements that hide or show, and removals (through compaction):
    /// every `visible_from` position gives the same records and count as walking the scan.
    #[test]
    fn visible_from_agrees_with_a_walk_whatever_lies_before_the_page() {
        let mut rng = StdRng::seed_from_u64(0x9e37_79b9_7f4a_7c15u64);
        let mut next = move |m: usize| rng.random_range(0..m);
        let mut s = MemoryStore::new();
        let mut ids: Vec<Uuid> = Vec::new();
        let (mut compacted, mut slots_before) = (false, 0);
        for step in 0..3_000 {
            // inserts dominate the first half, removals the second (through compaction)
            let pick = if step < 1_500 { next(5) } else { [0, 1, 0, 0, 4][next(5)] };
            match pick {
                0 if !ids.is_empty() => {
                    let id = ids.swap_remove(next(ids.len()));
                    assert!(s.remove(ResourceKind::User, &id).is_some());
                }
                1 if !ids.is_empty() => {
                    let id = ids[next(ids.len())];
                    let r = Record::new(id, 2, next(2) == 0, false, format!("{{\"n\":{step}}}"));
                    s.update(ResourceKind::User, r, IndexKeys::default());
                }
                _ => {
                    let id = Uuid::new_v4();
                    ids.push(id);
                    let r = Record::new(id, 1, next(4) == 0, false, format!("{{\"n\":{step}}}"));
                    s.insert(ResourceKind::User, r, IndexKeys::default());
                }
            }
            if step % 97 == 0 || step == 2_999 {
                let t = s.table(ResourceKind::User);
                compacted |= t.slots.len() < slots_before;
                slots_before = t.slots.len();
                let walk: Vec<Uuid> = s.scan(ResourceKind::User).filter(|r| !r.hidden).map(|r| r.id).collect();
                for skip in 0..=walk.len() + 1 {
                    let (visible, from) = s.visible_from(ResourceKind::User, skip).expect("always known");
                    assert_eq!(visible, walk.len(), "step {step}");
                    let got: Vec<Uuid> = from.take(3).map(|r| r.id).collect();
                    let want: Vec<Uuid> = walk.iter().skip(skip).take(3).copied().collect();
                    assert_eq!(got, want, "step {step}, skip {skip}");
                }
            }
        }
        assert!(compacted, "the removals reached compaction");
    }

    /// Seeded inserts, replacements (hidden or not) and removals: every record's entry in the users' column
    /// holds, for each of its names, the bytes its text holds there ([`MemberTable::find`]), through the
    /// rewrites that drop entries no record holds, and what the column keeps stays within twice what its
    /// records need.
    #[test]
    fn the_column_holds_each_records_members_through_replacements_removals_and_rewrites() {
        let mut rng = StdRng::seed_from_u64(0x51_7E_C0_1Du64);
        let mut next = move |m: usize| rng.random_range(0..m);
        let bodies = [
            r#"{"userName":"a","name":{"familyName":"Smith"},"emails":[{"value":"a@corp","type":"work"}],"active":true}"#,
            r#"{"NAME":{"givenName":"Zoë"}, "Active": false ,"x":[1,2]}"#,
            r#"{"emails":"\u0041@x","name":null}"#,
            r#"{"name":{},"Name":{}}"#,
            r#"{"userName":"only"}"#,
        ];
        let mut s = MemoryStore::new();
        let mut ids: Vec<Uuid> = Vec::new();
        let (mut rewritten, mut kept_before) = (0, 0);
        for step in 0..6_000 {
            if step == 100 {
                // switched on with records already stored: each gets its entry then
                assert!(s.column_off(ResourceKind::User) && s.column(ResourceKind::User).is_none());
                assert!(s.scan(ResourceKind::User).all(|r| r.hot() == NO_HOT));
                s.keep_column(ResourceKind::User);
                assert!(!s.column_off(ResourceKind::User));
            }
            let body = bodies[next(bodies.len())].replace("Smith", &format!("Smith{step}"));
            match next(4) {
                0 if !ids.is_empty() => {
                    let id = ids.swap_remove(next(ids.len()));
                    assert!(s.remove(ResourceKind::User, &id).is_some());
                }
                1 | 2 if !ids.is_empty() => {
                    let id = ids[next(ids.len())];
                    s.update(ResourceKind::User, Record::new(id, 2, next(3) == 0, false, body), IndexKeys::default());
                }
                _ => {
                    let id = Uuid::from_u64_pair(1, step);
                    ids.push(id);
                    s.insert(ResourceKind::User, Record::new(id, 1, false, false, body), IndexKeys::default());
                }
            }
            let t = s.table(ResourceKind::User);
            let kept = t.column.kept();
            rewritten += usize::from(kept < kept_before);
            kept_before = kept;
            if step >= 100 && step % 50 == 0 || step == 5_999 {
                let view = s.column(ResourceKind::User).expect("users have a column");
                let mut needed = 0;
                for r in s.scan(ResourceKind::User) {
                    let mut want = [None; 3];
                    let found = r.member_table().find(&r.body, COLUMN_NAMES_USER, &mut want);
                    let mut got = [None; 3];
                    let Some((entry, _)) = view.entry(r.hot(), &mut got) else {
                        assert!(found.is_err() || !r.member_table().is_usable(), "{} has no entry", r.body);
                        continue;
                    };
                    needed += entry.len();
                    for (g, w) in got.iter().zip(&want) {
                        assert_eq!(
                            g.map(|g| &entry[g.value..g.end]),
                            w.map(|w| &r.body[w.value..w.end]),
                            "step {step}"
                        );
                    }
                }
                assert!(kept <= (2 * needed).max(64 * 1024), "step {step}: {kept} bytes kept for {needed}");
            }
        }
        assert!(rewritten > 0, "the column was rewritten ({kept_before} bytes kept at the end)");
        assert!(s.column(ResourceKind::Group).is_none(), "groups keep no column");
    }
}
