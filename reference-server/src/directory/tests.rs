use super::*;

#[test]
fn entity_tags_compare_weakly_in_lists_and_star_matches_any() {
    let current = etag(42);
    assert!(etag_matches("W/\"42\"", &current));
    assert!(etag_matches("\"42\"", &current), "weak comparison ignores W/");
    assert!(etag_matches("W/\"7\", W/\"42\"", &current));
    assert!(etag_matches("*", &current));
    assert!(!etag_matches("W/\"41\"", &current));
    assert!(!etag_matches("W/\"420\"", &current));
    assert!(!etag_matches("", &current));
}

fn clocked(store: Box<dyn Store>) -> (Directory, crate::clock::ManualClock) {
    let start = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().to_utc();
    let clock = crate::clock::ManualClock::new(start);
    let dir = Directory::with_store(DirectoryConfig::default(), Arc::new(clock.clone()), None, store).unwrap();
    (dir, clock)
}

/// The store of tenant `t` in the data file at `path`, read from it (as a restarted server does).
fn data_file_store(path: &std::path::Path) -> Box<dyn Store> {
    let db = crate::sqlite::Db::open(path, crate::sqlite::SyncMode::Normal).unwrap();
    let journal = crate::sqlite::Journal::new(db, "t");
    Box::new(crate::sqlite::SqliteStore::load(journal).unwrap())
}

fn ids(page: ListPage) -> Vec<String> {
    page.resources.iter().map(|(_, r)| r["id"].as_str().unwrap().to_string()).collect()
}

/// RFC 7644 §3.14: joining a group changes the user's representation (its derived `groups`), so the user
/// gets a new version and `lastModified` — kept beside the stored JSON, which is not rewritten.
#[test]
fn joining_a_group_gives_the_member_a_new_version_without_changing_its_attributes() {
    let (dir, clock) = clocked(Box::new(MemoryStore::new()));
    let user = dir.create(ResourceKind::User, json!({"userName": "ada", "title": "Eng"})).unwrap();
    let other = dir.create(ResourceKind::User, json!({"userName": "bob"})).unwrap();
    let uid = user["id"].as_str().unwrap();
    clock.advance(chrono::Duration::seconds(60));
    let group = dir.create(ResourceKind::Group, json!({"displayName": "g", "members": [{"value": uid}]})).unwrap();
    let after = dir.get(ResourceKind::User, uid).unwrap();
    assert_ne!(after["meta"]["version"], user["meta"]["version"]);
    assert_eq!(after["meta"]["lastModified"], "2026-01-01T00:01:00.000Z");
    assert_eq!(after["meta"]["created"], user["meta"]["created"]);
    assert_eq!(after["title"], "Eng");
    assert_eq!(after["groups"][0]["value"], group["id"]);
    // filters and sorting see the new lastModified; the user not touched keeps its own
    let q = |f: &str| ListQuery { filter: Some(f.into()), ..Default::default() };
    let found = dir.list(&[ResourceKind::User], &q("meta.lastModified gt \"2026-01-01T00:00:30Z\"")).unwrap();
    assert_eq!(ids(found), vec![uid.to_string()]);
    assert_eq!(dir.get(ResourceKind::User, other["id"].as_str().unwrap()).unwrap()["meta"], other["meta"]);
    // the new version is the one If-Match compares with
    let stale = user["meta"]["version"].as_str().unwrap();
    let err = dir.replace(ResourceKind::User, uid, json!({"userName": "ada"}), Some(stale)).unwrap_err();
    assert!(matches!(err, ScimError::PreconditionFailed(_)), "{err:?}");
    assert_eq!(dir.get(ResourceKind::User, uid).unwrap()["title"], "Eng", "a refused PUT changed nothing");
    let current = after["meta"]["version"].as_str().unwrap();
    let put = dir.replace(ResourceKind::User, uid, json!({"userName": "ada"}), Some(current)).unwrap();
    assert!(put.get("title").is_none());
    assert_ne!(put["meta"]["version"], after["meta"]["version"]);
    // leaving bumps it again, and the group's version moves with its members
    clock.advance(chrono::Duration::seconds(60));
    let gid = group["id"].as_str().unwrap();
    let ops = json!({"Operations": [{"op": "remove", "path": format!("members[value eq \"{uid}\"]")}]});
    let patched = dir.patch_with(ResourceKind::Group, gid, ops, None, false).unwrap();
    assert_eq!(dir.get(ResourceKind::Group, gid).unwrap()["meta"]["version"], patched.version);
    assert_ne!(patched.version, group["meta"]["version"]);
    let left = dir.get(ResourceKind::User, uid).unwrap();
    assert_eq!(left["meta"]["lastModified"], "2026-01-01T00:02:00.000Z");
    assert!(left.get("groups").is_none());
}

/// Another request's change to the user, made while a write computes (no lock is held there).
fn set_title(dir: &Directory, uid: &str, title: &str) {
    let ops = json!({"Operations": [{"op": "replace", "path": "title", "value": title}]});
    dir.patch(ResourceKind::User, uid, &ops, None).unwrap();
}

/// The change a racing write makes: `old` with a nickName.
fn with_nick(old: &Value, nick: &str) -> ScimResult<Value> {
    let mut new = old.clone();
    new["nickName"] = json!(nick);
    Ok(new)
}

/// A user's new body is computed outside the write lock; when another change to the same user lands in
/// between, it is computed again from the newer body, so neither change is lost (RFC 7644 §3.14 versions).
#[test]
fn a_write_that_races_another_change_to_the_same_user_is_computed_again_and_loses_nothing() {
    let (dir, _) = clocked(Box::new(MemoryStore::new()));
    let user = dir.create(ResourceKind::User, json!({"userName": "ada", "title": "Eng"})).unwrap();
    let uid = user["id"].as_str().unwrap().to_string();
    let calls = std::cell::Cell::new(0);
    let out = dir
        .write(ResourceKind::User, &uid, None, false, |_, old| {
            calls.set(calls.get() + 1);
            if calls.get() == 1 {
                set_title(&dir, &uid, "CTO");
            }
            with_nick(old, "Countess")
        })
        .unwrap();
    assert_eq!(calls.get(), 2, "computed again after the race");
    assert_eq!(out["title"], "CTO", "the other change is kept");
    assert_eq!(out["nickName"], "Countess");
    let stored = dir.get(ResourceKind::User, &uid).unwrap();
    assert_eq!((stored["title"].clone(), stored["nickName"].clone()), (json!("CTO"), json!("Countess")));
}

/// After OPTIMISTIC_WRITE_ATTEMPTS lost races the change is computed under the write lock, so a user
/// changed continuously is still written, once.
#[test]
fn a_write_that_keeps_losing_races_finishes_under_the_lock() {
    let (dir, _) = clocked(Box::new(MemoryStore::new()));
    let user = dir.create(ResourceKind::User, json!({"userName": "ada"})).unwrap();
    let uid = user["id"].as_str().unwrap().to_string();
    let calls = std::cell::Cell::new(0);
    let out = dir
        .write(ResourceKind::User, &uid, None, false, |_, old| {
            calls.set(calls.get() + 1);
            if calls.get() <= OPTIMISTIC_WRITE_ATTEMPTS {
                set_title(&dir, &uid, &calls.get().to_string());
            }
            with_nick(old, "last")
        })
        .unwrap();
    assert_eq!(calls.get(), OPTIMISTIC_WRITE_ATTEMPTS + 1);
    assert_eq!(out["title"], OPTIMISTIC_WRITE_ATTEMPTS.to_string());
    assert_eq!(out["nickName"], "last");
}

/// A failing change leaves the user as it was, whichever attempt it fails in.
#[test]
fn a_write_whose_change_fails_after_a_race_changes_nothing_of_its_own() {
    let (dir, _) = clocked(Box::new(MemoryStore::new()));
    let user = dir.create(ResourceKind::User, json!({"userName": "ada", "title": "Eng"})).unwrap();
    let uid = user["id"].as_str().unwrap().to_string();
    let calls = std::cell::Cell::new(0);
    let err = dir
        .write(ResourceKind::User, &uid, None, false, |_, old| {
            calls.set(calls.get() + 1);
            if calls.get() == 1 {
                set_title(&dir, &uid, "CTO");
                return with_nick(old, "lost");
            }
            Err(ScimError::InvalidValue("refused on the second look".into()))
        })
        .unwrap_err();
    assert!(matches!(err, ScimError::InvalidValue(_)), "{err:?}");
    let stored = dir.get(ResourceKind::User, &uid).unwrap();
    assert_eq!(stored["title"], "CTO");
    assert!(stored.get("nickName").is_none(), "the first, raced result was never written");
}

/// RFC 7643 §4.2: a member named by `value` alone is displayed by the user's current displayName (else its
/// userName), or the group's displayName.
#[test]
fn a_member_named_by_id_alone_is_displayed_by_its_current_name() {
    let (dir, _) = clocked(Box::new(MemoryStore::new()));
    let ada = dir.create(ResourceKind::User, json!({"userName": "ada"})).unwrap();
    let bob = dir.create(ResourceKind::User, json!({"userName": "bob", "displayName": "Bob"})).unwrap();
    let (aid, bid) = (ada["id"].as_str().unwrap(), bob["id"].as_str().unwrap());
    let ops = json!({"Operations": [{"op": "replace", "path": "displayName", "value": "Ada L"}]});
    dir.patch(ResourceKind::User, aid, &ops, None).unwrap();
    dir.replace(ResourceKind::User, bid, json!({"userName": "bob"}), None).unwrap();
    let inner = dir.create(ResourceKind::Group, json!({"displayName": "inner"})).unwrap();
    let members = json!([{"value": aid}, {"value": bid}, {"value": inner["id"]}]);
    let g = dir.create(ResourceKind::Group, json!({"displayName": "outer", "members": members})).unwrap();
    let shown: HashMap<String, String> = g["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["value"].as_str().unwrap().to_string(), m["display"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(shown[aid], "Ada L");
    assert_eq!(shown[bid], "bob", "a displayName removed by PUT falls back to userName");
    assert_eq!(shown[inner["id"].as_str().unwrap()], "inner");
}

/// The checks that depend on the current state run again on the state the write lands on: If-Match against
/// a version bumped by a group join (412), a userName taken meanwhile (409), a user deleted meanwhile (404).
/// Each leaves the user as the other change left it.
#[test]
fn a_raced_write_is_checked_against_the_state_it_lands_on() {
    let (dir, _) = clocked(Box::new(MemoryStore::new()));
    let ada = dir.create(ResourceKind::User, json!({"userName": "ada"})).unwrap();
    let uid = ada["id"].as_str().unwrap().to_string();
    let seen = ada["meta"]["version"].as_str().unwrap().to_string();
    // If-Match: a group join bumps the version while the PATCH computes
    let joined = std::cell::Cell::new(false);
    let err = dir
        .write(ResourceKind::User, &uid, Some(&seen), false, |_, old| {
            if !joined.replace(true) {
                dir.create(ResourceKind::Group, json!({"displayName": "g", "members": [{"value": uid}]})).unwrap();
            }
            with_nick(old, "Countess")
        })
        .unwrap_err();
    assert!(matches!(err, ScimError::PreconditionFailed(_)), "{err:?}");
    assert!(dir.get(ResourceKind::User, &uid).unwrap().get("nickName").is_none());
    // uniqueness: another user takes the new userName meanwhile
    let taken = std::cell::Cell::new(false);
    let err = dir
        .write(ResourceKind::User, &uid, None, false, |_, old| {
            if !taken.replace(true) {
                dir.create(ResourceKind::User, json!({"userName": "lovelace"})).unwrap();
            }
            let mut new = old.clone();
            new["userName"] = json!("Lovelace");
            Ok(new)
        })
        .unwrap_err();
    assert!(matches!(err, ScimError::Uniqueness(_)), "{err:?}");
    assert_eq!(dir.get(ResourceKind::User, &uid).unwrap()["userName"], "ada");
    // deletion meanwhile
    let deleted = std::cell::Cell::new(false);
    let err = dir
        .write(ResourceKind::User, &uid, None, false, |_, old| {
            if !deleted.replace(true) {
                dir.delete(ResourceKind::User, &uid, None).unwrap();
            }
            with_nick(old, "Countess")
        })
        .unwrap_err();
    assert!(matches!(err, ScimError::NotFound(_)), "{err:?}");
    assert!(matches!(dir.get(ResourceKind::User, &uid), Err(ScimError::NotFound(_))));
}

/// A user restored by a re-POST (deleted through SCIM, same userName) is displayed by its new name.
#[test]
fn a_restored_user_is_displayed_as_a_member_by_its_new_name() {
    let (dir, _) = clocked(Box::new(MemoryStore::new()));
    let ada = dir.create(ResourceKind::User, json!({"userName": "ada", "displayName": "Old"})).unwrap();
    let uid = ada["id"].as_str().unwrap();
    dir.delete(ResourceKind::User, uid, None).unwrap();
    let back = dir.create(ResourceKind::User, json!({"userName": "ada", "displayName": "New"})).unwrap();
    assert_eq!(back["id"], ada["id"], "restored, not duplicated");
    let g = dir.create(ResourceKind::Group, json!({"displayName": "g", "members": [{"value": uid}]})).unwrap();
    assert_eq!(g["members"][0]["display"], "New");
}

/// RFC 7644 §3.12 order kept: an unknown group is a 404 even when its membership PATCH is also malformed.
#[test]
fn a_malformed_membership_patch_on_an_unknown_group_is_not_found() {
    let (dir, _) = clocked(Box::new(MemoryStore::new()));
    let bad = json!({"Operations": [{"op": "add", "path": "members", "value": [{"value": 42}]}]});
    let missing = "2819c223-7f76-453a-919d-413861904646";
    let err = dir.patch_with(ResourceKind::Group, missing, bad.clone(), None, false).unwrap_err();
    assert!(matches!(err, ScimError::NotFound(_)), "{err:?}");
    let g = dir.create(ResourceKind::Group, json!({"displayName": "g"})).unwrap();
    let err = dir.patch_with(ResourceKind::Group, g["id"].as_str().unwrap(), bad, None, false).unwrap_err();
    assert_eq!(err.status(), 400, "{err:?}");
    assert!(dir.get(ResourceKind::Group, g["id"].as_str().unwrap()).unwrap().get("members").is_none());
}

#[test]
fn long_work_is_announced_until_its_guard_is_dropped() {
    let (dir, _) = clocked(Box::new(MemoryStore::new()));
    let dir = Arc::new(dir);
    assert!(!dir.long_work_in_progress());
    let first = dir.announce_long_work();
    let second = dir.announce_long_work();
    drop(first);
    assert!(dir.long_work_in_progress(), "one announcement is still open");
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let _held = second;
        panic!("boom")
    }));
    assert!(panicked.is_err());
    assert!(!dir.long_work_in_progress(), "the announcement ends with the panic");
    assert!(!dir.commits_to_disk(), "a memory store does no I/O");
}

/// A call made without waiting stops where it would wait for the lock, having changed nothing, and the same
/// call made afterwards (elsewhere, waiting) does the work.
#[test]
fn a_call_without_waiting_stops_at_a_taken_lock_and_changes_nothing() {
    let (dir, _) = clocked(Box::new(MemoryStore::new()));
    let user = dir.create(ResourceKind::User, json!({"userName": "ada"})).unwrap();
    let uid = user["id"].as_str().unwrap().to_string();
    let ops = json!({"Operations": [{"op": "replace", "path": "title", "value": "CTO"}]});
    {
        let _held = dir.state.read();
        let out = dir.without_waiting(|| dir.patch(ResourceKind::User, &uid, &ops, None));
        assert!(out.is_none(), "a write waits for a reader: it must not run");
        let created = dir.without_waiting(|| dir.create(ResourceKind::User, json!({"userName": "bob"})));
        assert!(created.is_none());
        let read = dir.without_waiting(|| dir.get(ResourceKind::User, &uid)).expect("readers share the lock");
        assert!(read.unwrap().get("title").is_none());
    }
    {
        let _held = dir.state.write();
        assert!(dir.without_waiting(|| dir.get(ResourceKind::User, &uid)).is_none());
    }
    assert!(dir.get(ResourceKind::User, &uid).unwrap().get("title").is_none(), "nothing changed");
    let q = ListQuery { filter: Some("userName eq \"bob\"".into()), ..Default::default() };
    assert_eq!(dir.list(&[ResourceKind::User], &q).unwrap().total_results, 0);
    let done = dir.without_waiting(|| dir.patch(ResourceKind::User, &uid, &ops, None)).expect("the lock is free");
    assert_eq!(done.unwrap()["title"], "CTO");
    // errors of the call itself are answers, not a taken lock
    let missing = dir.without_waiting(|| dir.get(ResourceKind::User, "nope")).expect("answered");
    assert!(matches!(missing, Err(ScimError::NotFound(_))));
}

#[test]
fn indexed_lookups_are_the_eq_filters_on_id_name_and_external_id() {
    let q = |f: &str| ListQuery { filter: Some(f.into()), ..Default::default() };
    let user = ResourceKind::User;
    for f in [
        "userName eq \"ada\"",
        "USERNAME eq \"ada\"",
        "externalId eq \"7\"",
        "id eq \"2819c223-7f76-453a-919d-413861904646\"",
        "userName eq \"ada\" and active eq true",
        "urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"ada\"",
    ] {
        assert!(q(f).is_indexed_lookup(user), "{f}");
    }
    for f in [
        "userName co \"ad\"",
        "userName eq \"a\" or title eq \"b\"",
        "title eq \"CTO\"",
        "userName eq",
        "displayName eq \"g\"",
    ] {
        assert!(!q(f).is_indexed_lookup(user), "{f}");
    }
    assert!(q("displayName eq \"g\"").is_indexed_lookup(ResourceKind::Group));
    assert!(!ListQuery::default().is_indexed_lookup(user), "no filter scans the collection");
}

/// Okta's and Entra's plain member lists skip normalising (`MemberRequest::plain_list`); any other shape is
/// normalised first. Both must give the same members, and the normalising path keeps its checks.
#[test]
fn plain_and_other_member_shapes_add_the_same_members() {
    let (dir, _) = clocked(Box::new(MemoryStore::new()));
    let user = |n: &str, extra: Value| {
        let mut body = json!({"userName": n});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        dir.create(ResourceKind::User, body).unwrap()["id"].as_str().unwrap().to_string()
    };
    let (a, b, c) = (user("a", json!({"displayName": "Ann"})), user("b", json!({})), user("c", json!({})));
    let group = |n: &str| dir.create(ResourceKind::Group, json!({"displayName": n})).unwrap()["id"].clone();
    let (g1, g2) = (group("g1"), group("g2"));
    let add = |g: &Value, members: Value| {
        let ops = json!({"Operations": [{"op": "add", "path": "members", "value": members}]});
        dir.patch_with(ResourceKind::Group, g.as_str().unwrap(), ops, None, false)
    };
    add(&g1, json!([{"value": a}, {"value": b, "display": "Bee"}])).unwrap();
    add(&g2, json!([{"Value": a, "type": "User"}, {"value": b, "display": "Bee", "$ref": null}])).unwrap();
    let members = |g: &Value| dir.get(ResourceKind::Group, g.as_str().unwrap()).unwrap()["members"].clone();
    assert_eq!(members(&g1), members(&g2));
    assert_eq!(members(&g1)[0]["display"], "Ann", "display taken from the member");
    assert_eq!(members(&g1)[1]["display"], "Bee", "display as given");
    let before = dir.get(ResourceKind::Group, g2.as_str().unwrap()).unwrap();
    let err = add(&g2, json!([{"value": c, "type": "Group"}])).unwrap_err();
    assert!(matches!(err, ScimError::InvalidValue(_)), "{err:?}");
    assert_eq!(dir.get(ResourceKind::Group, g2.as_str().unwrap()).unwrap(), before, "nothing changed");
}

/// The data file keeps a touched record with its meta current, so a restart shows the same version.
#[test]
fn a_touch_survives_reopening_the_data_file() {
    let dir_path = tempfile::tempdir().unwrap();
    let path = dir_path.path().join("data.sqlite");
    let open = || data_file_store(&path);
    let (before, uid) = {
        let (dir, clock) = clocked(open());
        let user = dir.create(ResourceKind::User, json!({"userName": "ada"})).unwrap();
        let uid = user["id"].as_str().unwrap().to_string();
        clock.advance(chrono::Duration::seconds(5));
        dir.create(ResourceKind::Group, json!({"displayName": "g", "members": [{"value": uid}]})).unwrap();
        (dir.get(ResourceKind::User, &uid).unwrap(), uid)
    };
    let (dir, _) = clocked(open());
    let again = dir.get(ResourceKind::User, &uid).unwrap();
    assert_eq!(again["meta"], before["meta"]);
    assert_eq!(again["meta"]["lastModified"], "2026-01-01T00:00:05.000Z");
    assert_eq!(again["groups"], before["groups"]);
}

/// A page asked without the membership attribute is rendered without it, unless the filter or `sortBy`
/// names it: then the filter must still see it (RFC 7644 §3.4.2.2), and the projection drops it later.
#[test]
fn a_page_without_membership_leaves_it_out_unless_the_filter_or_sort_names_it() {
    let (dir, _) = clocked(Box::new(MemoryStore::new()));
    let uid = dir.create(ResourceKind::User, json!({"userName": "ada"})).unwrap()["id"].as_str().unwrap().to_string();
    let g = dir.create(ResourceKind::Group, json!({"displayName": "g", "members": [{"value": uid}]})).unwrap();
    let gid = g["id"].as_str().unwrap().to_string();
    let page = |kind: ResourceKind, filter: Option<String>, sort: Option<&str>| {
        let q = ListQuery { filter, sort_by: sort.map(str::to_string), omit_membership: true, ..Default::default() };
        dir.list(&[kind], &q).unwrap()
    };
    let users = page(ResourceKind::User, None, None);
    assert_eq!(users.total_results, 1);
    assert!(users.resources[0].1.get("groups").is_none());
    assert_eq!(users.resources[0].1["userName"], "ada", "everything else is there");
    let groups = page(ResourceKind::Group, None, None);
    assert!(groups.resources[0].1.get("members").is_none());
    let by_group = page(ResourceKind::User, Some(format!("groups.value eq \"{gid}\"")), None);
    assert_eq!(by_group.total_results, 1, "the filter sees the user's groups");
    assert_eq!(by_group.resources[0].1["groups"][0]["value"], gid.as_str());
    let by_member = page(ResourceKind::Group, Some(format!("Members[value eq \"{uid}\"]")), None);
    assert_eq!(by_member.total_results, 1, "the filter sees the group's members, named in any case");
    let sorted = page(ResourceKind::Group, None, Some("members.value"));
    assert!(sorted.resources[0].1.get("members").is_some(), "sortBy names them");
    let full = dir.list(&[ResourceKind::User], &ListQuery::default()).unwrap();
    assert_eq!(full.resources[0].1["groups"][0]["value"], gid.as_str(), "rendered by default");
}

/// A [`MemoryStore`] that counts the records its walks hand out ([`Store::scan`], [`Store::visible_from`]).
#[derive(Debug, Default)]
struct Counting {
    mem: MemoryStore,
    visited: Arc<AtomicUsize>,
}

impl Store for Counting {
    fn get(&self, kind: ResourceKind, id: &Uuid) -> Option<&Record> {
        self.mem.get(kind, id)
    }
    fn insert(&mut self, kind: ResourceKind, record: Record, keys: IndexKeys) {
        self.mem.insert(kind, record, keys)
    }
    fn update(&mut self, kind: ResourceKind, record: Record, keys: IndexKeys) {
        self.mem.update(kind, record, keys)
    }
    fn touch(&mut self, kind: ResourceKind, id: &Uuid, version: u64, modified: &str) -> bool {
        self.mem.touch(kind, id, version, modified)
    }
    fn remove(&mut self, kind: ResourceKind, id: &Uuid) -> Option<Record> {
        self.mem.remove(kind, id)
    }
    fn lookup(&self, kind: ResourceKind, index: Index, value: &str) -> Vec<&Record> {
        self.mem.lookup(kind, index, value)
    }
    fn scan(&self, kind: ResourceKind) -> Box<dyn Iterator<Item = &Record> + '_> {
        Box::new(self.mem.scan(kind).inspect(|_| {
            self.visited.fetch_add(1, Ordering::Relaxed);
        }))
    }
    fn len(&self, kind: ResourceKind) -> usize {
        self.mem.len(kind)
    }
    fn visible_from(&self, kind: ResourceKind, skip: usize) -> Option<(usize, Box<dyn Iterator<Item = &Record> + '_>)> {
        let (visible, from) = self.mem.visible_from(kind, skip)?;
        Some((
            visible,
            Box::new(from.inspect(|_| {
                self.visited.fetch_add(1, Ordering::Relaxed);
            })),
        ))
    }
    fn members(&self, group: &Uuid) -> Option<&crate::store::Members> {
        self.mem.members(group)
    }
    fn add_member(&mut self, group: Uuid, member: Uuid, entry: Member) {
        self.mem.add_member(group, member, entry)
    }
    fn remove_member(&mut self, group: &Uuid, member: &Uuid) -> bool {
        self.mem.remove_member(group, member)
    }
    fn member_lists(&self) -> Box<dyn Iterator<Item = (&Uuid, &crate::store::Members)> + '_> {
        self.mem.member_lists()
    }
}

/// RFC 7644 §3.4.2.4: reading a collection page by page (as an IdP's import or a reconciliation does) must
/// cost the pages, not the collection per page — N records in pages of k used to visit N²/k records.
#[test]
fn an_unfiltered_page_visits_its_own_records_not_the_ones_before_it() {
    let visited = Arc::new(AtomicUsize::new(0));
    let mut store = Counting { mem: MemoryStore::new(), visited: visited.clone() };
    // A hidden record first, as the portal's owner account is in the built-in seed: it is in no page.
    let owner = Record::new(Uuid::new_v4(), 1, true, true, r#"{"userName":"owner"}"#.to_string());
    store.insert(ResourceKind::User, owner, crate::store::IndexKeys::default());
    let (dir, _) = clocked(Box::new(store));
    let mut created = Vec::new();
    for i in 0..2_000 {
        let u = dir.create(ResourceKind::User, json!({"userName": format!("u{i}")})).unwrap();
        created.push(u["id"].as_str().unwrap().to_string());
    }
    let page = |start: i64| {
        visited.store(0, Ordering::Relaxed);
        let q = ListQuery { start_index: Some(start), count: Some(10), ..ListQuery::default() };
        let p = dir.list(&[ResourceKind::User], &q).unwrap();
        (p.total_results, ids(p), visited.load(Ordering::Relaxed))
    };
    let (total, got, visits) = page(1_501);
    assert_eq!((total, got.as_slice()), (2_000, &created[1_500..1_510]));
    assert_eq!(visits, 10, "only the page's records are visited");
    let (total, got, visits) = page(1_995);
    assert_eq!((total, got.as_slice(), visits), (2_000, &created[1_994..], 6));
    let (total, got, _) = page(2_001);
    assert_eq!((total, got.len()), (2_000, 0));

    // A deleted user leaves a tombstone before the page: still found without a walk, and the same page.
    dir.delete(ResourceKind::User, &created[3], None).unwrap();
    let (total, got, visits) = page(1_501);
    assert_eq!((total, got.as_slice()), (1_999, &created[1_501..1_511]));
    assert_eq!(visits, 10, "only the page's records are visited");
    let (total, got, _) = page(1);
    assert_eq!((total, &got[..4]), (1_999, &[&created[..3], &created[4..5]].concat()[..]));
    // Both kinds in one list (the root endpoint): the groups follow the users.
    let g = dir.create(ResourceKind::Group, json!({"displayName": "g"})).unwrap();
    let q = ListQuery { start_index: Some(1_999), count: Some(5), ..ListQuery::default() };
    let both = dir.list(&[ResourceKind::User, ResourceKind::Group], &q).unwrap();
    assert_eq!(both.total_results, 2_000);
    assert_eq!(ids(both), vec![created[1_999].clone(), g["id"].as_str().unwrap().to_string()]);
}

/// The users' column (module `store::hot`) is kept only from the first list whose filter no index answers:
/// provisioning, indexed lookups and pages leave it off; the first unindexed scan switches it on with an entry
/// for every user stored before, and answers as a scan of the texts does.
#[test]
fn the_column_is_kept_from_the_first_scan_no_index_answers() {
    let dir = Directory::new(DirectoryConfig::default());
    for (i, family) in ["Smith", "Jones", "Smythe", "Brown"].iter().enumerate() {
        let body = json!({"userName": format!("u{i}"), "name": {"familyName": family},
            "emails": [{"value": format!("u{i}@corp.example"), "type": "work"}], "active": i != 3});
        dir.create(ResourceKind::User, body).unwrap();
    }
    let off = || dir.read_state().unwrap().store.column_off(ResourceKind::User);
    let list = |f: &str| {
        let q = ListQuery { filter: Some(f.into()), ..Default::default() };
        dir.list(&[ResourceKind::User], &q).unwrap().total_results
    };
    assert!(off(), "provisioning keeps no column");
    assert_eq!(list(r#"userName eq "u1""#), 1);
    assert_eq!(dir.list(&[ResourceKind::User], &ListQuery::default()).unwrap().total_results, 4);
    assert!(off(), "an indexed lookup and a page keep none either");
    assert_eq!(list(r#"name.familyName sw "Sm" and active eq true"#), 2);
    assert!(!off(), "an unindexed scan switches it on");
    let st = dir.read_state().unwrap();
    assert!(
        st.store.scan(ResourceKind::User).all(|r| r.hot() != crate::store::NO_HOT),
        "users stored before have entries"
    );
    drop(st);
    assert_eq!(list(r#"emails[type eq "work" and value co "@corp"] and not (active eq true)"#), 1);
}

/// Members removed by a value list, by `members[value eq …]` paths and by a PUT (RFC 7644 §3.5.2.2, §3.5.1) go
/// in one pass over the group: the others keep their order, the removed users lose the group from their
/// `groups`, and the data file holds the same members after a restart.
#[test]
fn members_removed_in_one_request_leave_the_rest_in_order_and_persist() {
    let dir_path = tempfile::tempdir().unwrap();
    let path = dir_path.path().join("data.sqlite");
    let open = || data_file_store(&path);
    let members_of = |dir: &Directory, gid: &str| -> Vec<String> {
        let g = dir.get(ResourceKind::Group, gid).unwrap();
        g["members"]
            .as_array()
            .map_or(Vec::new(), |ms| ms.iter().map(|m| m["value"].as_str().unwrap().into()).collect())
    };
    let (gid, u) = {
        let (dir, _) = clocked(open());
        let u: Vec<String> = (0..8)
            .map(|i| {
                dir.create(ResourceKind::User, json!({"userName": format!("u{i}")})).unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .into()
            })
            .collect();
        let all: Vec<Value> = u.iter().map(|id| json!({"value": id})).collect();
        let g = dir.create(ResourceKind::Group, json!({"displayName": "g", "members": all})).unwrap();
        let gid = g["id"].as_str().unwrap().to_string();
        let remove_list = json!({"Operations": [{"op": "Remove", "path": "members",
            "value": [{"value": u[5]}, {"value": u[1]}, {"value": u[1]}, {"value": u[3]}]}]});
        dir.patch(ResourceKind::Group, &gid, &remove_list, None).unwrap();
        assert_eq!(members_of(&dir, &gid), [u[0].clone(), u[2].clone(), u[4].clone(), u[6].clone(), u[7].clone()]);
        assert!(dir.get(ResourceKind::User, &u[1]).unwrap().get("groups").is_none(), "u1 left the group");
        assert_eq!(dir.get(ResourceKind::User, &u[2]).unwrap()["groups"][0]["value"], gid.as_str());
        let remove_paths = json!({"Operations": [
            {"op": "remove", "path": format!("members[value eq \"{}\"]", u[6])},
            {"op": "add", "path": "members", "value": [{"value": u[1]}]},
            {"op": "remove", "path": format!("members[value eq \"{}\"]", u[0])}]});
        dir.patch(ResourceKind::Group, &gid, &remove_paths, None).unwrap();
        assert_eq!(members_of(&dir, &gid), [u[2].clone(), u[4].clone(), u[7].clone(), u[1].clone()]);
        (gid, u)
    };
    let (dir, _) = clocked(open());
    assert_eq!(
        members_of(&dir, &gid),
        [u[2].clone(), u[4].clone(), u[7].clone(), u[1].clone()],
        "the same after a restart"
    );
    let put = json!({"displayName": "g", "members": [{"value": u[7]}, {"value": u[3]}]});
    dir.replace(ResourceKind::Group, &gid, put, None).unwrap();
    assert_eq!(
        members_of(&dir, &gid),
        [u[7].clone(), u[3].clone()],
        "kept ones keep their place, new ones are appended"
    );
    assert!(dir.get(ResourceKind::User, &u[4]).unwrap().get("groups").is_none());
    drop(dir);
    let (dir, _) = clocked(open());
    assert_eq!(members_of(&dir, &gid), [u[7].clone(), u[3].clone()]);
}

/// Okta's membership update starts with a path-less `replace` of the group's own `id` and `displayName`
/// (docs/engines.md §B). When the name is the current one it changes nothing and is set aside, so the removals
/// after it take the membership path; a real rename, a foreign `id` or another attribute keep the general path,
/// with the same outcome as before.
#[test]
fn an_unchanged_rename_before_member_updates_is_set_aside() {
    let dir = Directory::new(DirectoryConfig::default());
    let u: Vec<String> = (0..4)
        .map(|i| {
            dir.create(ResourceKind::User, json!({"userName": format!("o{i}")})).unwrap()["id"].as_str().unwrap().into()
        })
        .collect();
    let all: Vec<Value> = u.iter().map(|id| json!({"value": id})).collect();
    let gid = dir.create(ResourceKind::Group, json!({"displayName": "Eng", "members": all})).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ops = |rename: Value, id: &str| -> Vec<PatchOperation> {
        let request = json!({"Operations": [{"op": "replace", "value": rename},
            {"op": "remove", "path": format!("members[value eq \"{id}\"]")}]});
        patch::parse_request_owned(request).unwrap()
    };
    let set_aside = |ops: &[PatchOperation]| dir.after_unchanged_rename(&gid, ops).unwrap().0.len() == ops.len() - 1;
    assert!(set_aside(&ops(json!({"id": gid, "displayName": "Eng"}), &u[0])));
    assert!(set_aside(&ops(json!({"displayName": "Eng"}), &u[0])));
    assert!(!set_aside(&ops(json!({"id": gid, "displayName": "Research"}), &u[0])), "a real rename");
    assert!(!set_aside(&ops(json!({"id": u[0], "displayName": "Eng"}), &u[0])), "another id");
    assert!(!set_aside(&ops(json!({"displayName": "Eng", "externalId": "x"}), &u[0])), "another attribute");
    assert!(!set_aside(&ops(json!({}), &u[0])));
    let members = |dir: &Directory| -> Vec<String> {
        let g = dir.get(ResourceKind::Group, &gid).unwrap();
        g["members"].as_array().unwrap().iter().map(|m| m["value"].as_str().unwrap().into()).collect()
    };
    let patch = |rename: Value, id: &str| {
        let request = json!({"Operations": [{"op": "replace", "value": rename},
            {"op": "remove", "path": format!("members[value eq \"{id}\"]")}]});
        dir.patch(ResourceKind::Group, &gid, &request, None).unwrap();
    };
    patch(json!({"id": gid, "displayName": "Eng"}), &u[1]);
    assert_eq!(members(&dir), [u[0].clone(), u[2].clone(), u[3].clone()]);
    assert_eq!(dir.get(ResourceKind::Group, &gid).unwrap()["displayName"], "Eng");
    patch(json!({"id": gid, "displayName": "Research"}), &u[2]);
    assert_eq!(members(&dir), [u[0].clone(), u[3].clone()]);
    assert_eq!(dir.get(ResourceKind::Group, &gid).unwrap()["displayName"], "Research");
    assert_eq!(dir.get(ResourceKind::User, &u[3]).unwrap()["groups"][0]["display"], "Research");
    // renamed between the check and the write: the membership path declines, the general path applies it all
    let request = json!({"Operations": [{"op": "replace", "value": {"displayName": "Research"}},
        {"op": "remove", "path": format!("members[value eq \"{}\"]", u[3])}]});
    let ops = patch::parse_request_owned(request).unwrap();
    let (rest, same_name) = dir.after_unchanged_rename(&gid, &ops).unwrap();
    assert_eq!((rest.len(), same_name.as_deref()), (1, Some("Research")));
    let steps = membership_ops(rest).unwrap().unwrap();
    let rename = json!({"Operations": [{"op": "replace", "path": "displayName", "value": "Ops"}]});
    dir.patch(ResourceKind::Group, &gid, &rename, None).unwrap();
    assert!(dir.patch_members(&gid, steps, None, false, same_name.as_deref()).unwrap().is_none());
    assert_eq!(members(&dir), [u[0].clone(), u[3].clone()], "nothing done");
}
