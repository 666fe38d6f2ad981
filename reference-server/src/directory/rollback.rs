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

use indexmap::IndexSet;
use parking_lot::RwLockWriteGuard;

use super::{body_of, str_at, user_display, State};
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
/// group names, users' member `display`, the member → groups index — as at start and after an undo.
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
    let mut displays = HashMap::new();
    for rec in st.store.scan(ResourceKind::User) {
        if let Some(d) = user_display(&body_of(rec)?) {
            displays.insert(rec.id, d);
        }
    }
    st.user_displays = displays;
    let mut memberships: HashMap<_, IndexSet<_>> = HashMap::new();
    for (g, ms) in st.store.member_lists() {
        for m in ms.keys() {
            memberships.entry(*m).or_default().insert(*g);
        }
    }
    st.memberships = memberships;
    Ok(())
}
