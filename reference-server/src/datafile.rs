//! What the server checks about a data file (`--data`) before serving it: its format version, its tables,
//! and every stored resource and membership. A file edited by hand (or damaged) is never served
//! inconsistently: what cannot be served as SCIM defines it refuses the start with an error naming the
//! file, the table, the row and the reason; the one case whose repair is safe and obvious — a membership
//! naming a group or member that does not exist — is repaired (the row is deleted) with a warning in the log.
//! The cases and decisions are listed in the reference server's README ("Persistence").
//!
//! **Version.** The file's format version is SQLite's `PRAGMA user_version`: [`VERSION`] for files this
//! server writes. A file without one (0) is a new file or one written before versions were kept, whose
//! tables are the same: it is stamped with [`VERSION`] in place. A file with a higher version was written by
//! a newer server and is refused untouched.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use rusqlite::Connection;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use uuid::Uuid;

use crate::error::{ScimError, ScimResult};
use crate::schema::ResourceKind;
use crate::store::{fold, IndexKeys, Member, MemoryStore, Record, Store};

/// The data-file format this server reads and writes (`PRAGMA user_version`). Version 1: the tables
/// `server`, `tenants`, `tokens`, `portal_users`, `resources`, `members`. Version 2 adds `oauth_clients` (each
/// app's OAuth clients, [`crate::oauth`]); a version-1 (or 0) file is migrated in place by creating it, empty.
pub const VERSION: i32 = 2;

/// The tables of a version-[`VERSION`] file.
const TABLES: [&str; 7] = ["server", "tenants", "tokens", "portal_users", "resources", "members", "oauth_clients"];

/// How many of [`TABLES`] (the first ones) a file of `version` has.
fn tables_of(version: i32) -> usize {
    if version >= 2 {
        7
    } else {
        6
    }
}

fn inconsistent(path: &Path, table: &str, row: impl std::fmt::Display, why: impl std::fmt::Display) -> ScimError {
    ScimError::Internal(format!(
        "the data file {} is inconsistent: table {table}, row {row}: {why}; the server does not serve it (restore \
         a copy, or correct or delete the row)",
        path.display()
    ))
}

fn read_error(path: &Path, e: rusqlite::Error) -> ScimError {
    ScimError::Internal(format!("the data file {} could not be read: {e}", path.display()))
}

/// Checks the file's version and tables, and brings it to [`VERSION`] (creating the tables of a new file):
/// run once at open, before anything else reads or writes it.
///
/// # Errors
/// The file is from a newer server (a higher version), has a version this server never wrote, lacks some
/// of its tables, or cannot be read or written.
pub(crate) fn prepare(conn: &Connection, path: &Path, schema: &str) -> ScimResult<()> {
    let version: i32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| read_error(path, e))?;
    if version > VERSION {
        return Err(ScimError::Internal(format!(
            "the data file {} has format version {version}, written by a newer server; this server reads versions \
             up to {VERSION} (run the newer server, or restore a copy made by this one)",
            path.display()
        )));
    }
    if version < 0 {
        return Err(ScimError::Internal(format!(
            "the data file {} has format version {version}, which no server writes",
            path.display()
        )));
    }
    let present: HashSet<String> = {
        let mut st =
            conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").map_err(|e| read_error(path, e))?;
        let names = st.query_map([], |r| r.get(0)).map_err(|e| read_error(path, e))?;
        names.collect::<Result<_, _>>().map_err(|e| read_error(path, e))?
    };
    let expected = &TABLES[..tables_of(version)];
    let missing: Vec<&str> = expected.iter().copied().filter(|t| !present.contains(*t)).collect();
    // A file of any version that has some of the tables of its version had all of them (every server created
    // them all at once): one that lost some was edited, and creating them empty would silently drop what they
    // held.
    let new_file = version == 0 && missing.len() == expected.len();
    if !missing.is_empty() && !new_file {
        return Err(ScimError::Internal(format!(
            "the data file {} has no table {} (a data file has all of {}); the server does not serve it without \
             what they held (restore a copy)",
            path.display(),
            missing.join(", "),
            expected.join(", ")
        )));
    }
    if version == VERSION {
        return Ok(());
    }
    // Version 0 → 1: the same tables (created for a new file); 1 → 2: `oauth_clients` is created. The schema's
    // `CREATE TABLE IF NOT EXISTS` does both, in one transaction with the new version.
    conn.execute_batch(&format!("BEGIN; {schema} PRAGMA user_version = {VERSION}; COMMIT;")).map_err(|e| {
        let _ = conn.execute_batch("ROLLBACK");
        ScimError::Internal(format!("the data file {} could not be written: {e}", path.display()))
    })
}

/// The fields of a stored body the server needs, read without building the whole JSON value. Refuses
/// anything but a JSON object.
#[derive(Default)]
struct Shape {
    id: Option<String>,
    user_name: Option<String>,
    display_name: Option<String>,
    external_id: Option<String>,
}

impl<'de> serde::Deserialize<'de> for Shape {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Shape, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Shape;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
                let mut s = Shape::default();
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    let slot = match key.as_ref() {
                        "id" => &mut s.id,
                        "userName" => &mut s.user_name,
                        "displayName" => &mut s.display_name,
                        "externalId" => &mut s.external_id,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                    *slot = map.next_value::<Option<String>>()?;
                }
                Ok(s)
            }
        }
        d.deserialize_map(V)
    }
}

fn kind_of(name: &str) -> Option<ResourceKind> {
    match name {
        "User" => Some(ResourceKind::User),
        "Group" => Some(ResourceKind::Group),
        _ => None,
    }
}

/// A tenant's resources and memberships, checked, into a memory store in creation order. Memberships naming
/// a group or member that does not exist are deleted from the file (logged).
///
/// Refused (with file, table, row and reason): a row whose kind is not `User`/`Group`, whose id is not a
/// UUID, whose version is negative, whose body is not a JSON object, or whose body's `id` differs from the
/// row's; a user without a `userName` or a group without a `displayName`; two users with one `userName` or
/// two groups with one `displayName` (compared case-insensitively, RFC 7643 §4.1.1, §2.1); a membership row
/// whose ids are not UUIDs, whose kind is not `User`/`Group`, or whose group or member is stored as the
/// other kind.
///
/// # Errors
/// As listed, or the file cannot be read.
pub(crate) fn load_store(conn: &Connection, path: &Path, tenant: &str) -> ScimResult<MemoryStore> {
    let rerr = |e| read_error(path, e);
    let mut store = MemoryStore::new();
    let mut names: HashMap<(ResourceKind, String), i64> = HashMap::new();
    let mut kinds: HashMap<Uuid, ResourceKind> = HashMap::new();
    let mut st = conn
        .prepare("SELECT seq, kind, id, version, hidden, protected, body FROM resources WHERE tenant = ?1 ORDER BY seq")
        .map_err(rerr)?;
    let mut rows = st.query([tenant]).map_err(rerr)?;
    while let Some(r) = rows.next().map_err(rerr)? {
        let seq: i64 = r.get(0).map_err(rerr)?;
        let bad = |why: String| inconsistent(path, "resources", format!("{seq} (tenant {tenant})"), why);
        let kind: String = r.get(1).map_err(rerr)?;
        let kind = kind_of(&kind).ok_or_else(|| bad(format!("kind '{kind}' is neither User nor Group")))?;
        let id: String = r.get(2).map_err(rerr)?;
        let uid = Uuid::parse_str(&id).map_err(|_| bad(format!("id '{id}' is not a UUID")))?;
        let version: i64 = r.get(3).map_err(rerr)?;
        let version = u64::try_from(version).map_err(|_| bad(format!("version {version} is negative")))?;
        let (hidden, protected): (bool, bool) = (r.get(4).map_err(rerr)?, r.get(5).map_err(rerr)?);
        let body: String = r.get(6).map_err(rerr)?;
        let shape: Shape = serde_json::from_str(&body)
            .map_err(|e| bad(format!("the body is not a {kind:?} resource (a JSON object): {e}")))?;
        if shape.id.as_deref() != Some(id.as_str()) {
            return Err(bad(format!("the body's id {:?} is not the row's id {id}", shape.id.unwrap_or_default())));
        }
        let (name, attr) = match kind {
            ResourceKind::User => (shape.user_name, "userName"),
            ResourceKind::Group => (shape.display_name, "displayName"),
        };
        let name = name.filter(|n| !n.is_empty()).ok_or_else(|| bad(format!("the {kind:?} has no {attr}")))?;
        if let Some(first) = names.insert((kind, fold(&name)), seq) {
            return Err(bad(format!("{attr} '{name}' is also that of row {first}; it must be unique")));
        }
        if let Some(other) = kinds.insert(uid, kind) {
            return Err(bad(format!("id {id} is also that of a {other:?}")));
        }
        let keys = IndexKeys { name: Some(name), external_id: shape.external_id };
        store.insert(kind, Record::new(uid, version, hidden, protected, body), keys);
    }
    let mut st = conn
        .prepare("SELECT seq, grp, member, kind, display FROM members WHERE tenant = ?1 ORDER BY seq")
        .map_err(rerr)?;
    let mut rows = st.query([tenant]).map_err(rerr)?;
    let mut phantoms = Vec::new();
    while let Some(r) = rows.next().map_err(rerr)? {
        let seq: i64 = r.get(0).map_err(rerr)?;
        let bad = |why: String| inconsistent(path, "members", format!("{seq} (tenant {tenant})"), why);
        let (group, member, kind): (String, String, String) =
            (r.get(1).map_err(rerr)?, r.get(2).map_err(rerr)?, r.get(3).map_err(rerr)?);
        let display: Option<String> = r.get(4).map_err(rerr)?;
        let g = Uuid::parse_str(&group).map_err(|_| bad(format!("group '{group}' is not a UUID")))?;
        let m = Uuid::parse_str(&member).map_err(|_| bad(format!("member '{member}' is not a UUID")))?;
        let kind = kind_of(&kind).ok_or_else(|| bad(format!("member kind '{kind}' is neither User nor Group")))?;
        match (kinds.get(&g), kinds.get(&m)) {
            (Some(ResourceKind::User), _) => return Err(bad(format!("group {g} is a User"))),
            (_, Some(actual)) if *actual != kind => {
                return Err(bad(format!("member {m} is a {actual:?}, not a {kind:?}")))
            }
            _ => {}
        }
        if !kinds.contains_key(&g) || !kinds.contains_key(&m) {
            tracing::warn!(
                file = %path.display(), tenant, row = seq, group = %g, member = %m,
                "a membership names a group or {kind:?} that does not exist: deleted"
            );
            phantoms.push(seq);
            continue;
        }
        store.add_member(g, m, Member { kind, display: display.map(String::into_boxed_str) });
    }
    drop(rows);
    drop(st);
    for seq in phantoms {
        conn.execute("DELETE FROM members WHERE seq = ?1", [seq])
            .map_err(|e| ScimError::Internal(format!("the data file {} could not be written: {e}", path.display())))?;
    }
    Ok(store)
}
