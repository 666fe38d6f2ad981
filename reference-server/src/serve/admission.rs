//! Which connections may be open: at most [`Limits::max_connections`] in all and
//! [`Limits::max_connections_per_peer`] from one IP address, where a connection with a request in progress
//! is never given up for a new one, and a connection without one is.
//!
//! When a new connection would pass a limit, the connection of that scope (its peer, or all) that has been
//! without a request the longest — one that never sent a request, or a keep-alive connection between
//! requests — is closed to make room ([`Activity::evict`]; it closes at once, or as soon as a request that
//! started meanwhile is answered). Only when every connection of the scope has a request in progress is the
//! new one refused: at the peer limit it is closed at once; at the total limit the accept loop waits (the
//! client waits in the kernel's accept queue) until a connection finishes its request or closes. So a client
//! that opens idle connections, and opens them again as they are closed, only ever takes the place of its
//! own (or other idle) connections: it cannot hold the accept queue, and a client that sends a request gets
//! in and is served.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::Notify;

use super::{Activity, Limits};

/// The open connections, by admission number.
#[derive(Debug)]
pub(super) struct Admission {
    inner: Mutex<Inner>,
    /// Told when a connection closes or is evicted.
    changed: Notify,
    max: usize,
    per_peer: usize,
}

#[derive(Debug, Default)]
struct Inner {
    next: u64,
    open: HashMap<u64, (IpAddr, Arc<Activity>)>,
    per_peer: HashMap<IpAddr, usize>,
}

impl Inner {
    fn forget(&mut self, id: u64) -> bool {
        let Some((peer, _)) = self.open.remove(&id) else { return false };
        if let Some(n) = self.per_peer.get_mut(&peer) {
            *n -= 1;
            if *n == 0 {
                self.per_peer.remove(&peer);
            }
        }
        true
    }

    /// Evicts the connection matching `scope` that has been without a request the longest; false when every
    /// one has a request in progress.
    fn evict(&mut self, scope: impl Fn(&IpAddr) -> bool) -> bool {
        let oldest = self
            .open
            .iter()
            .filter(|(_, (peer, a))| scope(peer) && a.is_free())
            .min_by_key(|(_, (_, a))| a.free_since())
            .map(|(id, _)| *id);
        let Some(id) = oldest else { return false };
        if let Some((_, a)) = self.open.get(&id) {
            a.evict();
        }
        self.forget(id)
    }
}

/// A connection's place; dropping it gives the place back.
#[derive(Debug)]
pub(super) struct Ticket {
    admission: Arc<Admission>,
    id: u64,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.admission.inner.lock().forget(self.id);
        self.admission.changed.notify_waiters();
    }
}

impl Admission {
    /// No connection open yet, with the limits of `limits` (each at least 1).
    pub(super) fn new(limits: &Limits) -> Arc<Admission> {
        Arc::new(Admission {
            inner: Mutex::new(Inner::default()),
            changed: Notify::new(),
            max: limits.max_connections.max(1),
            per_peer: limits.max_connections_per_peer.max(1),
        })
    }

    /// Whether a new connection can be admitted: a place is free, or one can be made.
    fn has_room(&self) -> bool {
        let inner = self.inner.lock();
        inner.open.len() < self.max || inner.open.values().any(|(_, a)| a.is_free())
    }

    /// Waits until [`Admission::has_room`] (re-checked when a connection closes, and every 50 ms, since a
    /// request ending frees a place without closing anything).
    pub(super) async fn wait_for_room(&self) {
        loop {
            let changed = self.changed.notified();
            if self.has_room() {
                return;
            }
            let _ = tokio::time::timeout(Duration::from_millis(50), changed).await;
        }
    }

    /// Admits a connection from `peer`, evicting another as described in the module documentation; `None`
    /// when every connection of the scope whose limit it reaches has a request in progress.
    pub(super) fn admit(self: &Arc<Self>, peer: IpAddr, activity: Arc<Activity>) -> Option<Ticket> {
        let mut inner = self.inner.lock();
        if inner.per_peer.get(&peer).copied().unwrap_or(0) >= self.per_peer && !inner.evict(|p| *p == peer) {
            return None;
        }
        if inner.open.len() >= self.max && !inner.evict(|_| true) {
            return None;
        }
        inner.next += 1;
        let id = inner.next;
        inner.open.insert(id, (peer, activity));
        *inner.per_peer.entry(peer).or_default() += 1;
        Some(Ticket { admission: self.clone(), id })
    }
}
