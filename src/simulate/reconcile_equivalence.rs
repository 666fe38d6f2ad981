//! The users' comparison made page by page ([`UserMatcher`]) gives the verdicts, in the same order, that
//! comparing after reading every user gave (the algorithm below, as `reconcile` ran it before): over seeded
//! directories with every kind of drift injected, read in pages of random sizes, with a restart of the reading.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};

use fake::rand::rngs::StdRng;
use fake::rand::seq::SliceRandom;
use fake::rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use super::http::ObjRef;
use super::model::{IdStyle, Model};
use super::reconcile::{compare_groups, diff, DiffKind, Difference, ExtraScope, ServerGroup};
use super::server_user::ServerUser;
use super::user_match::{lowercase, Rules, UserMatcher};
use crate::idp::{self, Dialect, EntraDialect, UserAttr};

/// What the users' comparison gives: differences, expected absent, unverified, strangers, server users read,
/// and the server id each source user was matched to.
type Outcome = (Vec<Difference>, usize, usize, usize, usize, Vec<Option<String>>);

/// The users' comparison after reading every user, as `reconcile` made it before comparing page by page.
fn after_reading_all(model: &Model, server_users: &[ServerUser], users_read: bool, rules: &Rules<'_>) -> Outcome {
    let (mut expected_absent, mut unverified, mut strangers) = (0, 0, 0);
    let mut diffs = Vec::new();
    // each key's server users in reading order, by a map of the keys themselves (not the matcher's index)
    let mut by_name: BTreeMap<Cow<str>, Vec<usize>> = BTreeMap::new();
    let mut by_ext: BTreeMap<Cow<str>, Vec<usize>> = BTreeMap::new();
    for (k, u) in server_users.iter().enumerate() {
        if let Some(n) = u.user_name() {
            by_name.entry(lowercase(n)).or_default().push(k);
        }
        if let Some(e) = u.external_id() {
            by_ext.entry(Cow::Borrowed(e)).or_default().push(k);
        }
    }
    let get = |map: &BTreeMap<Cow<str>, Vec<usize>>, key: &str| map.get(key).cloned().unwrap_or_default();
    let mut claimed: Vec<bool> = vec![false; server_users.len()];
    let mut matched: Vec<Option<u32>> = vec![None; model.users.len()];
    let matched_id = |m: Option<u32>| m.and_then(|k| server_users[k as usize].id());
    let user_label = |i: usize| format!("User {}", model.users[i].user_name);
    for (i, u) in model.users.iter().enumerate() {
        let mut found: Vec<usize> = get(&by_ext, &u.external_id);
        for k in get(&by_name, &lowercase(&u.user_name)) {
            if !found.contains(&k) {
                found.push(k);
            }
        }
        for &k in &found {
            claimed[k] = true;
        }
        let out_of_scope = !u.assigned || u.deleted;
        if out_of_scope && !(rules.ever_provisioned)(i as u32) {
            expected_absent += 1;
            continue;
        }
        if !users_read {
            unverified += 1;
            continue;
        }
        let expected = u.ever_assigned && (!u.deleted || !rules.deletes_users);
        let obj = ObjRef::User(i as u32);
        let id_at = |k: usize| server_users[k].id().map(str::to_string);
        if !expected {
            expected_absent += 1;
            for &k in &found {
                diffs.push(diff(DiffKind::Extra, user_label(i), id_at(k), None, json!(null), json!("present"), obj));
            }
            continue;
        }
        match found.len() {
            0 => {
                diffs.push(diff(DiffKind::Missing, user_label(i), None, None, json!("present"), json!(null), obj));
                continue;
            }
            1 => {}
            _ => {
                let ids: Vec<Value> = found.iter().map(|&k| json!(id_at(k))).collect();
                diffs.push(diff(DiffKind::Duplicate, user_label(i), None, None, json!(1), Value::Array(ids), obj));
            }
        }
        let k = found
            .iter()
            .copied()
            .find(|&k| server_users[k].user_name().is_some_and(|n| n.eq_ignore_ascii_case(&u.user_name)))
            .unwrap_or(found[0]);
        let su = &server_users[k];
        matched[i] = su.id().is_some().then_some(k as u32);
        let mut attrs = model.attrs(i as u32);
        if u.deleted {
            attrs.active = false;
        }
        for (n, a) in UserAttr::of(&attrs).into_iter().enumerate() {
            if out_of_scope && a != UserAttr::Active {
                continue;
            }
            let want = a.value(&attrs);
            if !su.attrs.same(n, &want, a == UserAttr::UserName) {
                let kind = if a == UserAttr::Active { DiffKind::Active } else { DiffKind::Attribute };
                let path = Some(a.path().to_string());
                let got = su.attrs.value(n).unwrap_or(Value::Null);
                diffs.push(diff(kind, user_label(i), id_at(k), path, want, got, obj));
            }
        }
    }
    if rules.managers && users_read {
        let by_id: std::collections::HashMap<&str, usize> =
            server_users.iter().enumerate().filter_map(|(k, u)| u.id().map(|id| (id, k))).collect();
        for i in 0..model.users.len() {
            let Some(id) = matched_id(matched[i]) else { continue };
            if model.users[i].deleted || !model.users[i].assigned {
                continue;
            }
            let want = model.expected_manager(i as u32).and_then(|m| matched_id(matched[m as usize]));
            if model.expected_manager(i as u32).is_some() && want.is_none() {
                continue;
            }
            let got = by_id.get(id).and_then(|&k| server_users[k].manager());
            if got != want {
                let path = Some(format!("{}:manager", idp::ENTERPRISE));
                let obj = ObjRef::User(i as u32);
                diffs.push(diff(DiffKind::Manager, user_label(i), Some(id.into()), path, json!(want), json!(got), obj));
            }
        }
    }
    for (k, su) in server_users.iter().enumerate() {
        if !claimed[k] && !rules.scope.judges(su.id()) {
            strangers += 1;
        } else if !claimed[k] {
            let name = su.user_name().unwrap_or_default();
            diffs.push(diff(
                DiffKind::Extra,
                format!("User {name}"),
                su.id().map(str::to_string),
                None,
                json!(null),
                json!("present, unknown to the source"),
                ObjRef::None,
            ));
        }
    }
    let ids = (0..model.users.len()).map(|i| matched_id(matched[i]).map(str::to_string)).collect();
    (diffs, expected_absent, unverified, strangers, server_users.len(), ids)
}

/// The same comparison page by page: pages of random sizes, and (when `restart`) a first reading of part of
/// the collection that is forgotten before the whole is read again.
fn page_by_page(
    model: &Model,
    server_users: &[ServerUser],
    users_read: bool,
    rules: Rules<'_>,
    rng: &mut StdRng,
    restart: bool,
) -> Outcome {
    let mut m = UserMatcher::new(model, rules);
    let feed_pages = |m: &mut UserMatcher, upto: usize, rng: &mut StdRng| {
        let mut k = 0;
        while k < upto {
            let n = rng.random_range(1..=60).min(upto - k);
            for u in &server_users[k..k + n] {
                m.feed(u);
            }
            k += n;
        }
    };
    if restart {
        let part = rng.random_range(0..=server_users.len());
        feed_pages(&mut m, part, rng);
        m.restart();
    }
    feed_pages(&mut m, if users_read { server_users.len() } else { server_users.len() / 2 }, rng);
    let out = m.finish(users_read);
    let ids = (0..model.users.len()).map(|i| out.matched.id(i).map(str::to_string)).collect();
    (out.diffs, out.expected_absent, out.unverified, out.strangers, out.server_users, ids)
}

/// A seeded directory in every state a user can be in, and the server's users with drift of every kind:
/// missing, extra (created by this run or not), duplicates (by `externalId`, by `userName` in another case,
/// by a Unicode case variant), wrong attributes, `active`, wrong or absent managers, no `id`, shared ids.
fn directory(seed: u64) -> (Model, Vec<bool>, Vec<ServerUser>, HashSet<String>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut model = Model::generate(seed, 300, 12, IdStyle::Guid);
    model.enterprise = true;
    for u in &mut model.users {
        match rng.random_range(0..100) {
            0..8 => u.assigned = false,
            8..13 => u.deleted = true,
            13..16 => u.ever_assigned = false,
            _ => {}
        }
    }
    // a few Unicode userNames, whose lowercase differs from their ASCII case folding
    for i in [5, 6] {
        model.users[i].user_name = format!("İ{}", model.users[i].user_name).into();
    }
    let ever: Vec<bool> = (0..model.users.len()).map(|_| rng.random_range(0..10) > 0).collect();
    let id_of = |i: usize| format!("id-{i}");
    let d = Dialect::Entra(EntraDialect::Default);
    let mut out: Vec<Value> = Vec::new();
    for i in 0..model.users.len() {
        let roll = rng.random_range(0..100);
        if roll < 8 {
            continue; // missing
        }
        let mut attrs = model.attrs(i as u32);
        attrs.active = model.users[i].assigned && !model.users[i].deleted;
        let mut body = d.user_create(&attrs).body.unwrap_or_default();
        body["id"] = json!(id_of(i));
        let manager = model.users[i].manager;
        if manager != super::model::NO_MANAGER {
            body[idp::ENTERPRISE]["manager"] = json!({"value": id_of(manager as usize)});
        }
        match roll {
            8..14 => body["title"] = json!("Chief Drift Officer"),
            14..18 => body["active"] = json!(!attrs.active),
            18..22 => body[idp::ENTERPRISE]["manager"] = json!({"value": id_of(rng.random_range(0..300))}),
            22..24 => drop(body[idp::ENTERPRISE].as_object_mut().map(|e| e.remove("manager"))),
            24..28 => body["userName"] = json!(attrs.user_name.to_uppercase()),
            28..30 => drop(body.as_object_mut().map(|o| o.remove("id"))),
            30..32 => drop(body.as_object_mut().map(|o| o.remove("externalId"))),
            32..34 => body["title"] = json!(7),
            _ => {}
        }
        if (34..40).contains(&roll) {
            // a duplicate: the same externalId under another userName, or the userName in another case
            let mut dup = body.clone();
            dup["id"] = json!(format!("dup-{i}"));
            match roll % 3 {
                0 => dup["userName"] = json!(format!("other.{i}@example.test")),
                1 => {
                    dup["userName"] = json!(attrs.user_name.to_uppercase());
                    dup["externalId"] = json!(format!("ext-dup-{i}"));
                }
                _ => dup["title"] = json!("Duplicate"),
            }
            out.push(dup);
        }
        if (40..43).contains(&roll) {
            // another server user with this one's id and another manager
            out.push(json!({"id": id_of(i), "userName": format!("shadow.{i}@example.test"),
                idp::ENTERPRISE: {"manager": {"value": "someone-else"}}}));
        }
        if (43..45).contains(&roll) {
            // found by externalId for this user and by userName for the next one
            let mut cross = body.clone();
            cross["id"] = json!(format!("cross-{i}"));
            cross["userName"] = json!(&*model.users[(i + 1) % model.users.len()].user_name);
            out.push(cross);
        }
        out.push(body);
    }
    let mut created = HashSet::new();
    for n in 0..30 {
        let id = format!("stranger-{n}");
        if n % 2 == 0 {
            created.insert(id.clone());
        }
        let mut u =
            json!({"id": id, "userName": format!("stranger.{n}@elsewhere.test"), "externalId": format!("x{n}")});
        if n % 7 == 0 {
            drop(u.as_object_mut().map(|o| o.remove("id")));
        }
        out.push(u);
    }
    out.shuffle(&mut rng);
    (model, ever, out.into_iter().map(ServerUser::from_json).collect(), created)
}

/// The groups' verdicts computed from one side's matched ids, with members added and removed on the server.
fn group_verdicts(
    model: &Model,
    matched: &[Option<String>],
    scope: &ExtraScope<'_>,
    users_read: bool,
) -> (Vec<Difference>, usize, usize) {
    let mut rng = StdRng::seed_from_u64(7);
    let groups: Vec<ServerGroup> = (0..model.groups.len())
        .map(|g| {
            let mut members: Vec<String> =
                model.expected_members(g as u32).iter().map(|&u| format!("id-{u}")).collect();
            match g % 4 {
                0 => drop(members.pop()),
                1 => members.push(format!("id-{}", rng.random_range(0..300))),
                2 => members.push("dup-40".into()),
                _ => {}
            }
            ServerGroup {
                id: Some(format!("g{g}")),
                display_name: Some(model.groups[g].name.to_string()),
                members: Some(members),
            }
        })
        .collect();
    let matched: Vec<Option<&str>> = matched.iter().map(Option::as_deref).collect();
    compare_groups(model, &matched, &groups, &HashSet::new(), users_read, true, scope)
}

#[test]
fn comparing_page_by_page_gives_the_verdicts_of_comparing_after_reading_everything() {
    let mut kinds = HashSet::new();
    for seed in 0..12u64 {
        let (model, ever, server_users, created) = directory(seed);
        let ever_provisioned = |i: u32| ever[i as usize];
        let created: HashSet<&str> = created.iter().map(String::as_str).collect();
        for variant in 0..8u8 {
            let scope = ExtraScope { strict: variant & 1 != 0, created: created.clone() };
            let rules = || Rules {
                ever_provisioned: &ever_provisioned,
                deletes_users: variant & 2 != 0,
                managers: variant & 4 != 0,
                scope: &scope,
            };
            for users_read in [true, false] {
                let read: &[ServerUser] = if users_read { &server_users } else { &[] };
                let before = after_reading_all(&model, read, users_read, &rules());
                let mut rng = StdRng::seed_from_u64(seed * 31 + u64::from(variant));
                let now = page_by_page(&model, &server_users, users_read, rules(), &mut rng, variant % 3 != 0);
                let what = format!("seed {seed}, variant {variant}, users read: {users_read}");
                assert_eq!(format!("{:?}", now.0), format!("{:?}", before.0), "{what}");
                assert_eq!((now.1, now.2, now.3, now.4), (before.1, before.2, before.3, before.4), "{what}");
                assert_eq!(now.5, before.5, "{what}");
                let groups_before = group_verdicts(&model, &before.5, &scope, users_read);
                let groups_now = group_verdicts(&model, &now.5, &scope, users_read);
                assert_eq!(format!("{groups_now:?}"), format!("{groups_before:?}"), "{what}");
                kinds.extend(before.0.iter().chain(&groups_before.0).map(|d| format!("{:?}", d.kind)));
            }
        }
    }
    // every kind of user difference was produced and compared
    for kind in ["Missing", "Extra", "Duplicate", "Attribute", "Active", "Manager", "MissingMember", "ExtraMember"] {
        assert!(kinds.contains(kind), "{kind} never produced: {kinds:?}");
    }
}
