//! The persistent store: one SQLite file (`--data FILE`) holding tenants, apps, hashed tokens, CAL ledgers,
//! portal user state, resources and group memberships.
//!
//! Reads never touch the file: each tenant's resources are served from a [`MemoryStore`] loaded at start, so
//! `userName eq` and every other read cost what they cost in memory. Every write goes to memory and is queued
//! in the tenant's [`Journal`]; the directory commits the journal once at the end of each SCIM write, while it
//! still holds the tenant's lock, as ONE SQLite transaction — the resources it touched, the memberships, and the
//! portal's licence and access changes that rode along. The HTTP answer is only sent after that commit, so
//! an acknowledged write is in the file, and a write that failed half-way in the process (a `kill -9`) is
//! either wholly in the file or not at all.
//!
//! Durability: the file is in WAL mode. With [`SyncMode::Normal`] (the default) a committed transaction survives
//! the death of the process; after a power loss or an operating-system crash the last transactions may be
//! lost, never half of one. [`SyncMode::Full`] also syncs the log to disk at every commit.

use std::path::Path;
use std::sync::Arc;

use parking_lot::Mutex;
use rusqlite::{params, Connection, OptionalExtension};
use uuid::Uuid;

use crate::error::{ScimError, ScimResult};
use crate::schema::ResourceKind;
use crate::store::{Index, IndexKeys, Member, Members, MemoryStore, Record, Store};

/// How hard a commit pushes to disk (SQLite `PRAGMA synchronous` in WAL mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyncMode {
    /// Survives a crash of the process; the last commits may be lost on power loss.
    #[default]
    Normal,
    /// Also survives power loss: the log is synced to disk at every commit.
    Full,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS server (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tenants (
    name TEXT PRIMARY KEY,
    policy TEXT NOT NULL,
    config TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    tenant TEXT NOT NULL,
    app TEXT NOT NULL,
    records TEXT NOT NULL,
    PRIMARY KEY (tenant, app)
);
CREATE TABLE IF NOT EXISTS oauth_clients (
    tenant TEXT NOT NULL,
    app TEXT NOT NULL,
    records TEXT NOT NULL,
    PRIMARY KEY (tenant, app)
);
CREATE TABLE IF NOT EXISTS portal_users (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    state TEXT NOT NULL,
    cal TEXT,
    PRIMARY KEY (tenant, id)
);
CREATE TABLE IF NOT EXISTS resources (
    seq INTEGER PRIMARY KEY,
    tenant TEXT NOT NULL,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    hidden INTEGER NOT NULL,
    protected INTEGER NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (tenant, kind, id)
);
CREATE TABLE IF NOT EXISTS members (
    seq INTEGER PRIMARY KEY,
    tenant TEXT NOT NULL,
    grp TEXT NOT NULL,
    member TEXT NOT NULL,
    kind TEXT NOT NULL,
    display TEXT,
    UNIQUE (tenant, grp, member)
);
";

fn db_error(e: rusqlite::Error) -> ScimError {
    ScimError::Internal(format!("the data file could not be written: {e}"))
}

fn read_error(e: rusqlite::Error) -> ScimError {
    ScimError::Internal(format!("the data file could not be read: {e}"))
}

/// The error SQLite gives when the disk is full (`SQLITE_FULL`), for [`Db::fail_next_writes`].
fn disk_full() -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL), None)
}

fn kind_name(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::User => "User",
        ResourceKind::Group => "Group",
    }
}

/// One queued change.
#[derive(Debug, Clone)]
pub(crate) enum Op {
    PutResource {
        kind: ResourceKind,
        id: Uuid,
        version: u64,
        hidden: bool,
        protected: bool,
        body: String,
    },
    DeleteResource {
        kind: ResourceKind,
        id: Uuid,
    },
    PutMember {
        group: Uuid,
        member: Uuid,
        kind: ResourceKind,
        display: Option<String>,
    },
    DeleteMember {
        group: Uuid,
        member: Uuid,
    },
    /// A new tenant: its domain policy and its configuration (settings, CAL types, apps) as JSON.
    PutTenant {
        policy: String,
        config: String,
    },
    /// A tenant's changed configuration.
    PutConfig {
        config: String,
    },
    /// One app's token records as JSON (digests, never cleartext).
    PutTokens {
        app: String,
        records: String,
    },
    /// One app's OAuth clients as JSON (secret digests, never cleartext).
    PutOAuthClients {
        app: String,
        records: String,
    },
    /// One user's portal state as JSON and the CAL it holds.
    PutPortalUser {
        id: Uuid,
        state: String,
        cal: Option<String>,
    },
}

/// The open data file.
#[derive(Debug)]
pub struct Db {
    conn: Mutex<Connection>,
    /// A handle on the file holding an exclusive advisory lock (`flock`) for as long as the server has the
    /// file open: a second server on the same file would serve its own copy from memory and write over the
    /// first's. Declared after `conn` so that it is closed after the connection (closing a handle of the file
    /// earlier would also drop SQLite's own POSIX locks, which belong to the process).
    _lock: std::fs::File,
    /// The file's path, for messages.
    path: std::path::PathBuf,
    /// Transactions still to fail on purpose ([`Db::fail_next_writes`]).
    failing_writes: std::sync::atomic::AtomicUsize,
}

/// Opens (creating it when missing) and locks the data file for this server alone. Errors: the file cannot
/// be opened, or another server (process or in-process instance) holds it.
fn lock_data_file(path: &Path) -> ScimResult<std::fs::File> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| ScimError::Internal(format!("the data file {} could not be opened: {e}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(ScimError::Internal(format!(
            "the data file {} is in use by another server; stop it first (two servers on one file would \
             overwrite each other's changes)",
            path.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(ScimError::Internal(format!("the data file {} could not be locked: {e}", path.display())))
        }
    }
}

/// Everything stored for one tenant, as read at start.
#[derive(Debug, Default)]
pub struct TenantRows {
    /// The tenant's name.
    pub name: String,
    /// Its domain policy, as its JSON string (`"subdomain"`).
    pub policy: String,
    /// Its configuration (settings, CAL types, apps) as JSON.
    pub config: String,
    /// `(app, records JSON)`.
    pub tokens: Vec<(String, String)>,
    /// `(user id, state JSON, CAL)`.
    pub portal_users: Vec<(Uuid, String, Option<String>)>,
    /// `(app, OAuth clients JSON)` ([`crate::oauth::OAuthClients::to_stored_json`]).
    pub oauth_clients: Vec<(String, String)>,
}

impl Db {
    /// Opens (or creates) the data file in WAL mode with the given durability, for this server alone.
    ///
    /// Errors: the file cannot be opened or is no SQLite database, or another server has it open.
    pub fn open(path: &Path, sync: SyncMode) -> ScimResult<Arc<Db>> {
        let open_error = |e: rusqlite::Error| {
            ScimError::Internal(format!("the data file {} could not be opened: {e}", path.display()))
        };
        let lock = lock_data_file(path)?;
        let conn = Connection::open(path).map_err(open_error)?;
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0)).map_err(open_error)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(ScimError::Internal(format!("the data file {} cannot use WAL mode", path.display())));
        }
        let sync = match sync {
            SyncMode::Normal => "NORMAL",
            SyncMode::Full => "FULL",
        };
        // A checkpoint (copying the log into the file, with an fsync) every 10,000 pages (about 40 MB of log)
        // rather than SQLite's 1,000: it is the one step of a commit that waits for the disk.
        conn.execute_batch(&format!(
            "PRAGMA synchronous={sync}; PRAGMA wal_autocheckpoint=10000; PRAGMA foreign_keys=OFF;"
        ))
        .map_err(open_error)?;
        crate::datafile::prepare(&conn, path, SCHEMA)?;
        Ok(Arc::new(Db {
            conn: Mutex::new(conn),
            _lock: lock,
            path: path.to_path_buf(),
            failing_writes: Default::default(),
        }))
    }

    /// Makes the next `n` write transactions fail as a full disk makes them fail (`SQLITE_FULL`, "database
    /// or disk is full"), before anything reaches the file: the fault injection the reliability tests use to
    /// show that a write answered with an error changed nothing, in memory or in the file. `0` ends it.
    pub fn fail_next_writes(&self, n: usize) {
        self.failing_writes.store(n, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether this transaction is one [`Db::fail_next_writes`] asked to fail (and counts it).
    fn injected_failure(&self) -> bool {
        use std::sync::atomic::Ordering;
        self.failing_writes.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
    }

    /// A server-wide value (`server` table), such as the admin key's digest.
    pub fn server_value(&self, key: &str) -> ScimResult<Option<String>> {
        let conn = self.conn.lock();
        conn.query_row("SELECT value FROM server WHERE key = ?1", [key], |r| r.get(0)).optional().map_err(read_error)
    }

    /// Sets a server-wide value, durably (its own transaction).
    pub fn set_server_value(&self, key: &str, value: &str) -> ScimResult<()> {
        let conn = self.conn.lock();
        if self.injected_failure() {
            return Err(db_error(disk_full()));
        }
        conn.execute(
            "INSERT INTO server (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )
        .map(|_| ())
        .map_err(db_error)
    }

    /// How many rows this server has inserted, updated or deleted in the file since it opened it (SQLite's
    /// `total_changes`): what tests and benchmarks read to show that a request did or did not write.
    pub fn total_changes(&self) -> u64 {
        self.conn.lock().total_changes()
    }

    /// The names of the stored tenants, in name order.
    pub fn tenant_names(&self) -> ScimResult<Vec<String>> {
        let conn = self.conn.lock();
        let mut st = conn.prepare("SELECT name FROM tenants ORDER BY name").map_err(read_error)?;
        let names = st.query_map([], |r| r.get(0)).map_err(read_error)?.collect::<Result<Vec<String>, _>>();
        names.map_err(read_error)
    }

    /// A tenant's configuration, tokens and portal users.
    pub fn tenant_rows(&self, name: &str) -> ScimResult<Option<TenantRows>> {
        let conn = self.conn.lock();
        let head: Option<(String, String)> = conn
            .query_row("SELECT policy, config FROM tenants WHERE name = ?1", [name], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(read_error)?;
        let Some((policy, config)) = head else { return Ok(None) };
        let mut st =
            conn.prepare("SELECT app, records FROM tokens WHERE tenant = ?1 ORDER BY app").map_err(read_error)?;
        let tokens = st
            .query_map([name], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(read_error)?
            .collect::<Result<Vec<(String, String)>, _>>()
            .map_err(read_error)?;
        let mut st = conn
            .prepare("SELECT app, records FROM oauth_clients WHERE tenant = ?1 ORDER BY app")
            .map_err(read_error)?;
        let oauth_clients = st
            .query_map([name], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(read_error)?
            .collect::<Result<Vec<(String, String)>, _>>()
            .map_err(read_error)?;
        let mut st = conn.prepare("SELECT id, state, cal FROM portal_users WHERE tenant = ?1").map_err(read_error)?;
        let rows = st
            .query_map([name], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?)))
            .map_err(read_error)?
            .collect::<Result<Vec<(String, String, Option<String>)>, _>>()
            .map_err(read_error)?;
        let mut portal_users = Vec::with_capacity(rows.len());
        for (id, s, c) in rows {
            let uid = Uuid::parse_str(&id).map_err(|_| {
                ScimError::Internal(format!(
                    "the data file {} is inconsistent: table portal_users, row (tenant {name}, id {id}): the id is \
                     not a UUID; the server does not serve it (restore a copy, or correct or delete the row)",
                    self.path.display()
                ))
            })?;
            portal_users.push((uid, s, c));
        }
        Ok(Some(TenantRows { name: name.to_string(), policy, config, tokens, portal_users, oauth_clients }))
    }

    /// A tenant's resources and memberships, checked ([`crate::datafile::load_store`]), into a memory store,
    /// in creation order.
    fn load_store(&self, tenant: &str) -> ScimResult<MemoryStore> {
        crate::datafile::load_store(&self.conn.lock(), &self.path, tenant)
    }

    /// Applies a tenant's queued changes as one transaction.
    fn apply(&self, tenant: &str, ops: &[Op]) -> ScimResult<()> {
        let mut conn = self.conn.lock();
        if self.injected_failure() {
            return Err(db_error(disk_full()));
        }
        let tx = conn.transaction().map_err(db_error)?;
        for op in ops {
            match op {
                Op::PutResource { kind, id, version, hidden, protected, body } => exec(&tx,
                    "INSERT INTO resources (tenant, kind, id, version, hidden, protected, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (tenant, kind, id) DO UPDATE SET version = excluded.version, hidden = excluded.hidden,
                     protected = excluded.protected, body = excluded.body",
                    params![tenant, kind_name(*kind), id.to_string(), *version as i64, hidden, protected, body],
                ),
                Op::DeleteResource { kind, id } => exec(&tx,
                    "DELETE FROM resources WHERE tenant = ?1 AND kind = ?2 AND id = ?3",
                    params![tenant, kind_name(*kind), id.to_string()],
                ),
                Op::PutMember { group, member, kind, display } => exec(&tx,
                    "INSERT INTO members (tenant, grp, member, kind, display) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (tenant, grp, member) DO UPDATE SET kind = excluded.kind, display = excluded.display",
                    params![tenant, group.to_string(), member.to_string(), kind_name(*kind), display],
                ),
                Op::DeleteMember { group, member } => exec(&tx,
                    "DELETE FROM members WHERE tenant = ?1 AND grp = ?2 AND member = ?3",
                    params![tenant, group.to_string(), member.to_string()],
                ),
                Op::PutTenant { policy, config } => exec(&tx,
                    "INSERT INTO tenants (name, policy, config) VALUES (?1, ?2, ?3)
                     ON CONFLICT (name) DO UPDATE SET policy = excluded.policy, config = excluded.config",
                    params![tenant, policy, config],
                ),
                Op::PutConfig { config } => {
                    exec(&tx, "UPDATE tenants SET config = ?2 WHERE name = ?1", params![tenant, config])
                }
                Op::PutTokens { app, records } => exec(&tx,
                    "INSERT INTO tokens (tenant, app, records) VALUES (?1, ?2, ?3)
                     ON CONFLICT (tenant, app) DO UPDATE SET records = excluded.records",
                    params![tenant, app, records],
                ),
                Op::PutOAuthClients { app, records } => exec(&tx,
                    "INSERT INTO oauth_clients (tenant, app, records) VALUES (?1, ?2, ?3)
                     ON CONFLICT (tenant, app) DO UPDATE SET records = excluded.records",
                    params![tenant, app, records],
                ),
                Op::PutPortalUser { id, state, cal } => exec(&tx,
                    "INSERT INTO portal_users (tenant, id, state, cal) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (tenant, id) DO UPDATE SET state = excluded.state, cal = excluded.cal",
                    params![tenant, id.to_string(), state, cal],
                ),
            }
            .map_err(db_error)?;
        }
        tx.commit().map_err(db_error)
    }
}

/// Runs one statement, prepared once per connection and reused (parsing the SQL at every write would cost
/// more than the write).
fn exec(tx: &rusqlite::Transaction<'_>, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
    tx.prepare_cached(sql)?.execute(params)
}

/// One tenant's queue of changes not yet committed, shared by its directory's store and its portal.
#[derive(Debug)]
pub struct Journal {
    db: Arc<Db>,
    tenant: String,
    pending: Mutex<Vec<Op>>,
}

impl Journal {
    /// A journal for `tenant` in `db`.
    pub fn new(db: Arc<Db>, tenant: &str) -> Arc<Journal> {
        Arc::new(Journal { db, tenant: tenant.to_string(), pending: Mutex::new(Vec::new()) })
    }

    pub(crate) fn push(&self, op: Op) {
        self.pending.lock().push(op);
    }

    /// Writes `ops` at once as one transaction of their own, apart from the queue (changes made by the admin
    /// API, outside any SCIM write).
    pub(crate) fn write_now(&self, ops: &[Op]) -> ScimResult<()> {
        self.db.apply(&self.tenant, ops)
    }

    /// Writes every queued change as one transaction. On failure the transaction is rolled back, the changes
    /// are dropped (never written by a later commit) and the error is returned: the request that made them
    /// fails, and its caller undoes them in memory ([`Store::rollback`]).
    pub fn commit(&self) -> ScimResult<()> {
        let pending = std::mem::take(&mut *self.pending.lock());
        if pending.is_empty() {
            return Ok(());
        }
        self.db.apply(&self.tenant, &pending)
    }

    /// Drops every queued change without writing it.
    pub(crate) fn discard(&self) {
        self.pending.lock().clear();
    }

    /// The tenant's configuration, tokens and portal users as the file holds them (to undo a failed write).
    pub(crate) fn stored_rows(&self) -> ScimResult<Option<TenantRows>> {
        self.db.tenant_rows(&self.tenant)
    }
}

/// A tenant's resources: a [`MemoryStore`] for reads, every write also queued in the tenant's journal.
#[derive(Debug)]
pub struct SqliteStore {
    mem: MemoryStore,
    journal: Arc<Journal>,
    /// Changed since the last successful commit.
    dirty: bool,
}

impl SqliteStore {
    /// An empty store writing through `journal`.
    pub fn new(journal: Arc<Journal>) -> Self {
        SqliteStore { mem: MemoryStore::new(), journal, dirty: false }
    }

    /// The store of a tenant as the data file holds it.
    pub fn load(journal: Arc<Journal>) -> ScimResult<Self> {
        let mem = journal.db.load_store(&journal.tenant)?;
        Ok(SqliteStore { mem, journal, dirty: false })
    }

    fn put(&mut self, kind: ResourceKind, r: &Record) {
        let op = put_op(kind, r);
        self.push(op);
    }

    fn push(&mut self, op: Op) {
        self.dirty = true;
        self.journal.push(op);
    }
}

fn put_op(kind: ResourceKind, r: &Record) -> Op {
    Op::PutResource {
        kind,
        id: r.id,
        version: r.version,
        hidden: r.hidden,
        protected: r.protected,
        body: r.current_body(),
    }
}

impl Store for SqliteStore {
    fn get(&self, kind: ResourceKind, id: &Uuid) -> Option<&Record> {
        self.mem.get(kind, id)
    }

    fn insert(&mut self, kind: ResourceKind, record: Record, keys: IndexKeys) {
        self.put(kind, &record);
        self.mem.insert(kind, record, keys);
    }

    fn update(&mut self, kind: ResourceKind, record: Record, keys: IndexKeys) {
        self.put(kind, &record);
        self.mem.update(kind, record, keys);
    }

    fn touch(&mut self, kind: ResourceKind, id: &Uuid, version: u64, modified: &str) -> bool {
        if !self.mem.touch(kind, id, version, modified) {
            return false;
        }
        // The data file keeps whole bodies with their meta current: a touch is written as the rewritten body.
        if let Some(op) = self.mem.get(kind, id).map(|r| put_op(kind, r)) {
            self.push(op);
        }
        true
    }

    fn remove(&mut self, kind: ResourceKind, id: &Uuid) -> Option<Record> {
        self.push(Op::DeleteResource { kind, id: *id });
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

    fn visible_from(&self, kind: ResourceKind, skip: usize) -> Option<(usize, Box<dyn Iterator<Item = &Record> + '_>)> {
        self.mem.visible_from(kind, skip)
    }

    fn shape_keys(&self, kind: ResourceKind, shape: u32) -> Option<&[u8]> {
        self.mem.shape_keys(kind, shape)
    }

    fn column(&self, kind: ResourceKind) -> Option<crate::store::ColumnView<'_>> {
        self.mem.column(kind)
    }

    fn column_off(&self, kind: ResourceKind) -> bool {
        self.mem.column_off(kind)
    }

    fn keep_column(&mut self, kind: ResourceKind) {
        self.mem.keep_column(kind)
    }

    fn members(&self, group: &Uuid) -> Option<&Members> {
        self.mem.members(group)
    }

    fn add_member(&mut self, group: Uuid, member: Uuid, entry: Member) {
        self.push(Op::PutMember {
            group,
            member,
            kind: entry.kind,
            display: entry.display.as_deref().map(str::to_string),
        });
        self.mem.add_member(group, member, entry);
    }

    fn remove_member(&mut self, group: &Uuid, member: &Uuid) -> bool {
        let removed = self.mem.remove_member(group, member);
        if removed {
            self.push(Op::DeleteMember { group: *group, member: *member });
        }
        removed
    }

    fn remove_members(&mut self, group: &Uuid, members: &std::collections::HashSet<Uuid>) -> Vec<Uuid> {
        let gone = self.mem.remove_members(group, members);
        for m in &gone {
            self.push(Op::DeleteMember { group: *group, member: *m });
        }
        gone
    }

    fn member_lists(&self) -> Box<dyn Iterator<Item = (&Uuid, &Members)> + '_> {
        self.mem.member_lists()
    }

    fn commit(&mut self) -> ScimResult<()> {
        self.journal.commit()?;
        self.dirty = false;
        Ok(())
    }

    fn is_durable(&self) -> bool {
        true
    }

    fn has_uncommitted(&self) -> bool {
        self.dirty
    }

    /// Drops the queued changes and reads the tenant's resources back from the file: memory is again what
    /// the last commit left. Costs a load of the tenant (see the README's figures), only on a failed write.
    fn rollback(&mut self) -> ScimResult<()> {
        self.journal.discard();
        self.mem = self.journal.db.load_store(&self.journal.tenant)?;
        self.dirty = false;
        Ok(())
    }
}
