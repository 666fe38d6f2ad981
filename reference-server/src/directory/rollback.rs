//! The rule behind every write of a directory: **an error answer means nothing changed**, in memory and in
//! the data file.
//!
//! A write runs in a [`WriteTxn`]: the tenant's write lock, plus the promise to undo. The write changes the
//! store, the directory's derived indexes and (through [`PortalHooks`](super::PortalHooks)) the portal's
//! per-user state as it goes; it ends with [`WriteTxn::commit`], which makes the changes durable as one
//! transaction. A write that returns before its commit succeeded — its commit failed (a full disk), or an
//! error came up after it started changing things — is undone when the transaction is dropped, still under
//! the lock, so no other request ever sees it: the store drops its queued operations and reads itself back
//! ([`Store::rollback`]), the derived indexes are rebuilt from it ([`rebuild_indexes`]), and the portal reads
//! its per-user state back ([`PortalHooks::reload`](super::PortalHooks::reload)). The version counter is not
//! rolled back: versions only grow, so an ETag is never given to two different states (RFC 7644 §3.14).
//!
//! Undoing costs a reload of the tenant from the data file; it happens only after a failed write, never on
//! the path of a successful one (whose only cost is one flag read). A store without durability cannot fail
//! its commit and holds only JSON it wrote itself, so it has nothing to undo.
//!
//! If the data file cannot even be read back, the tenant is marked damaged: every later request to it
//! answers 500 until the server is restarted (which reads the file again), rather than serving memory that
//! differs from the file.

use std::collections::HashMap;
use std::ops::{Deref, DerefMut};

use super::group_set::GroupSet;
use parking_lot::RwLockWriteGuard;

use super::{body_of, str_at, State};
use crate::error::{ScimError, ScimResult};
use crate::schema::ResourceKind;

/// The tenant's write lock for one write, which undoes the write's changes unless [`WriteTxn::commit`]
/// succeeded.
pub(super) struct WriteTxn<'a> {
    state: RwLockWriteGuard<'a, State>,
    committed: bool,
}

impl<'a> WriteTxn<'a> {
    /// Starts a write under `state`. Errors: the tenant is damaged ([`damaged_error`]).
    pub(super) fn begin(state: RwLockWriteGuard<'a, State>) -> ScimResult<Self> {
        check_damaged(&state)?;
        Ok(WriteTxn { state, committed: false })
    }

    /// Commits the write's changes ([`crate::store::Store::commit`]). On failure nothing of the write stays:
    /// the error is the write's answer and the changes are undone when the transaction is dropped.
    pub(super) fn commit(mut self) -> ScimResult<()> {
        self.state.store.commit()?;
        self.committed = true;
        Ok(())
    }
}

impl Deref for WriteTxn<'_> {
    type Target = State;
    fn deref(&self) -> &State {
        &self.state
    }
}

impl DerefMut for WriteTxn<'_> {
    fn deref_mut(&mut self) -> &mut State {
        &mut self.state
    }
}

impl Drop for WriteTxn<'_> {
    fn drop(&mut self) {
        if self.committed || !self.state.store.has_uncommitted() {
            return;
        }
        if let Err(e) = undo(&mut self.state) {
            tracing::error!(error = %e, "a failed write could not be undone: the tenant answers 500 until restarted");
            self.state.damaged = Some(e.detail().to_string());
        }
    }
}

/// Undoes every uncommitted change: store, derived indexes, portal state.
fn undo(st: &mut State) -> ScimResult<()> {
    let version = st.version;
    st.store.rollback()?;
    rebuild_indexes(st)?;
    st.version = st.version.max(version);
    if let Some(hooks) = st.hooks.clone() {
        hooks.reload()?;
    }
    Ok(())
}

/// The error every request to a damaged tenant answers.
pub(super) fn check_damaged(st: &State) -> ScimResult<()> {
    match &st.damaged {
        None => Ok(()),
        Some(why) => Err(ScimError::Internal(format!(
            "this tenant's data could not be read back after a failed write ({why}); restart the server"
        ))),
    }
}

/// Rebuilds what the directory derives from its store — the version counter (the highest stored version),
/// group names and the member → groups index — as at start and after an undo.
///
/// # Errors
/// A stored body is not JSON.
pub(super) fn rebuild_indexes(st: &mut State) -> ScimResult<()> {
    st.version = 0;
    for kind in [ResourceKind::User, ResourceKind::Group] {
        st.version = st.store.scan(kind).map(|r| r.version).fold(st.version, u64::max);
    }
    let mut names = HashMap::new();
    for rec in st.store.scan(ResourceKind::Group) {
        names.insert(rec.id, str_at(&body_of(rec)?, "displayName").unwrap_or_default().to_string());
    }
    st.group_names = names;
    let mut memberships: HashMap<_, GroupSet> = HashMap::new();
    for (g, ms) in st.store.member_lists() {
        for m in ms.keys() {
            memberships.entry(*m).or_default().insert(*g);
        }
    }
    st.memberships = memberships;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{Directory, DirectoryConfig};
    use crate::error::{ScimError, ScimResult};
    use crate::schema::ResourceKind;
    use crate::store::{Index, IndexKeys, Member, Members, MemoryStore, Record, Store};
    use serde_json::json;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use uuid::Uuid;

    /// A memory store whose commit fails while `fail` is set, and whose rollback fails when `unreadable`
    /// is set (a file that cannot be read back).
    #[derive(Debug)]
    struct Faulty {
        mem: MemoryStore,
        committed: MemoryStore,
        dirty: bool,
        fail: Arc<AtomicBool>,
        unreadable: bool,
    }

    impl Store for Faulty {
        fn get(&self, kind: ResourceKind, id: &Uuid) -> Option<&Record> {
            self.mem.get(kind, id)
        }
        fn insert(&mut self, kind: ResourceKind, record: Record, keys: IndexKeys) {
            self.dirty = true;
            self.mem.insert(kind, record, keys)
        }
        fn update(&mut self, kind: ResourceKind, record: Record, keys: IndexKeys) {
            self.dirty = true;
            self.mem.update(kind, record, keys)
        }
        fn touch(&mut self, kind: ResourceKind, id: &Uuid, version: u64, modified: &str) -> bool {
            self.dirty = true;
            self.mem.touch(kind, id, version, modified)
        }
        fn remove(&mut self, kind: ResourceKind, id: &Uuid) -> Option<Record> {
            self.dirty = true;
            self.mem.remove(kind, id)
        }
        fn lookup(&self, kind: ResourceKind, index: Index, value: &str) -> Vec<&Record> {
            self.mem.lookup(kind, index, value)
        }
        fn scan(&self, kind: ResourceKind) -> Box<dyn Iterator<Item = &Record> + '_> {
            self.mem.scan(kind)
        }
        fn len(&self, kind: ResourceKind) -> usize {
            self.mem.len(kind)
        }
        fn members(&self, group: &Uuid) -> Option<&Members> {
            self.mem.members(group)
        }
        fn add_member(&mut self, group: Uuid, member: Uuid, entry: Member) {
            self.dirty = true;
            self.mem.add_member(group, member, entry)
        }
        fn remove_member(&mut self, group: &Uuid, member: &Uuid) -> bool {
            self.dirty = true;
            self.mem.remove_member(group, member)
        }
        fn member_lists(&self) -> Box<dyn Iterator<Item = (&Uuid, &Members)> + '_> {
            self.mem.member_lists()
        }
        fn commit(&mut self) -> ScimResult<()> {
            if self.fail.load(Ordering::SeqCst) {
                return Err(ScimError::Internal("the data file could not be written: disk full".into()));
            }
            self.committed = copy(&self.mem);
            self.dirty = false;
            Ok(())
        }
        fn has_uncommitted(&self) -> bool {
            self.dirty
        }
        fn rollback(&mut self) -> ScimResult<()> {
            if self.unreadable {
                return Err(ScimError::Internal("the data file could not be read: I/O error".into()));
            }
            self.mem = copy(&self.committed);
            self.dirty = false;
            Ok(())
        }
    }

    fn copy(s: &MemoryStore) -> MemoryStore {
        let mut out = MemoryStore::new();
        for kind in [ResourceKind::User, ResourceKind::Group] {
            for r in s.scan(kind) {
                let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
                let name = body[if kind == ResourceKind::User { "userName" } else { "displayName" }].as_str();
                let keys = IndexKeys { name: name.map(str::to_string), external_id: None };
                out.insert(kind, r.clone(), keys);
            }
        }
        for (g, ms) in s.member_lists() {
            for (m, e) in ms {
                out.add_member(*g, *m, e.clone());
            }
        }
        out
    }

    fn directory(unreadable: bool) -> (Directory, Arc<AtomicBool>) {
        let fail = Arc::new(AtomicBool::new(false));
        let store = Faulty {
            mem: MemoryStore::new(),
            committed: MemoryStore::new(),
            dirty: false,
            fail: fail.clone(),
            unreadable,
        };
        let clock = Arc::new(crate::clock::SystemClock);
        (Directory::with_store(DirectoryConfig::default(), clock, None, Box::new(store)).unwrap(), fail)
    }

    #[test]
    fn a_group_write_whose_commit_fails_leaves_the_group_and_the_members_groups_as_they_were() {
        let (dir, fail) = directory(false);
        let user = dir.create(ResourceKind::User, json!({"userName": "ann"})).unwrap();
        let uid = user["id"].as_str().unwrap().to_string();
        let group = dir.create(ResourceKind::Group, json!({"displayName": "team"})).unwrap();
        let gid = group["id"].as_str().unwrap().to_string();
        let before = (dir.get(ResourceKind::User, &uid).unwrap(), dir.get(ResourceKind::Group, &gid).unwrap());
        fail.store(true, Ordering::SeqCst);
        let put = json!({"displayName": "renamed", "members": [{"value": uid}]});
        let e = dir.replace(ResourceKind::Group, &gid, put.clone(), None).unwrap_err();
        assert_eq!(e.status(), 500);
        let after = (dir.get(ResourceKind::User, &uid).unwrap(), dir.get(ResourceKind::Group, &gid).unwrap());
        assert_eq!(after, before, "the failed PUT is visible (the user's groups come from the derived index)");
        fail.store(false, Ordering::SeqCst);
        let g = dir.replace(ResourceKind::Group, &gid, put, None).unwrap();
        assert_eq!(g["displayName"], "renamed");
        assert_eq!(dir.get(ResourceKind::User, &uid).unwrap()["groups"][0]["display"], "renamed");
    }

    #[test]
    fn a_tenant_whose_failed_write_cannot_be_undone_answers_500_to_everything() {
        let (dir, fail) = directory(true);
        let user = dir.create(ResourceKind::User, json!({"userName": "ann"})).unwrap();
        let uid = user["id"].as_str().unwrap().to_string();
        fail.store(true, Ordering::SeqCst);
        assert_eq!(dir.create(ResourceKind::User, json!({"userName": "bob"})).unwrap_err().status(), 500);
        fail.store(false, Ordering::SeqCst);
        let e = dir.get(ResourceKind::User, &uid).unwrap_err();
        assert_eq!(e.status(), 500);
        assert!(
            e.detail().contains("restart the server") && e.detail().contains("could not be read"),
            "{}",
            e.detail()
        );
        assert_eq!(dir.create(ResourceKind::User, json!({"userName": "carl"})).unwrap_err().status(), 500);
    }
}
