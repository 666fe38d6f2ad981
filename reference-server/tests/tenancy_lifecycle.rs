//! The portal side of the reference server over real HTTP, continued from `tenancy.rs`: deactivation and
//! deletion, federated users and protected accounts, groups as teams, the admin API and the configuration file.
//!
//! Every test starts its own server on 127.0.0.1 port 0 with a [`ManualClock`], so tests run in parallel
//! and token expiry is tested without sleeping.
#![allow(dead_code)]

mod common;

include!("tenancy/fixture.rs");

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use scim_reference_server::tenant::AppKind;

// ---------------------------------------------------------------------------------------------------------
// 5. Deactivation and deletion
// ---------------------------------------------------------------------------------------------------------

/// Deactivates or reactivates a user in one dialect.
async fn set_active(api: &Api, id: &str, dialect: &str, active: bool) -> Res {
    let p = format!("/Users/{id}");
    match dialect {
        "okta" => api.patch_ops(&p, json!([{"op": "replace", "value": {"active": active}}])).await,
        "entra" => {
            let v = if active { "True" } else { "False" };
            api.patch_ops(&p, json!([{"op": "Replace", "path": "active", "value": v}])).await
        }
        "put" => {
            let mut body = api.get(&p).await.body;
            body["active"] = json!(active);
            api.put(&p, body).await
        }
        other => panic!("unknown dialect {other}"),
    }
}

#[tokio::test]
async fn deactivation_in_every_dialect_revokes_access_and_keeps_cal_groups_and_seat() {
    let s = Portal::start().await;
    let okta = s.okta();
    let g = okta.group("Video", &[]).await;
    for dialect in ["okta", "entra", "put"] {
        let u = okta.user_with(&format!("{dialect}.deact@example.com"), json!({"title": "producer"})).await;
        okta.patch_ops(&format!("/Groups/{g}"), json!([{"op": "add", "path": "members", "value": [{"value": u}]}]))
            .await;
        assert_eq!(s.access("acme", &u).await["status"], "active");
        let used = s.used("acme").await;

        let r = set_active(&okta, &u, dialect, false).await;
        assert_eq!(r.status, 200, "{dialect}: {}", r.text);
        assert_eq!(r.body["active"], false);
        let view = s.access("acme", &u).await;
        assert_eq!(view["status"], "anonymous", "{dialect}");
        assert_eq!(view["active"], false);
        assert_eq!(view["deleted"], false);
        assert_eq!(view["cal"], "creator", "{dialect}: the CAL stays assigned");
        assert_eq!(view["teams"], json!(["Video"]));
        let got = okta.get(&format!("/Users/{u}")).await;
        assert_eq!(got.status, 200, "deactivated users stay readable");
        assert_eq!(got.body["active"], false);
        assert_eq!(got.body["groups"][0]["value"], json!(g));
        assert!(okta.members(&g).await.contains(&u));
        assert_eq!(okta.portal(&u).await["accessStatus"], "anonymous");
        assert_eq!(s.used("acme").await, used, "{dialect}: the seat stays taken");
        // Filters see the inactive user.
        let f = format!("/Users?filter=userName%20eq%20%22{dialect}.deact@example.com%22%20and%20active%20eq%20false");
        assert_eq!(okta.total(&f).await, 1);

        let r = set_active(&okta, &u, dialect, true).await;
        assert_eq!(r.status, 200, "{dialect}: {}", r.text);
        assert_eq!(r.body["active"], true);
        let view = s.access("acme", &u).await;
        assert_eq!((view["status"].clone(), view["cal"].clone()), (json!("active"), json!("creator")), "{dialect}");
        assert_eq!(s.used("acme").await, used);
    }
    // While inactive, the CAL is not re-evaluated; reactivation does.
    let u = okta.user("idle@example.com").await;
    set_active(&okta, &u, "okta", false).await;
    okta.patch_ops(&format!("/Users/{u}"), json!([{"op": "replace", "path": "title", "value": "producer"}])).await;
    assert_eq!(okta.cal(&u).await, "standard");
    set_active(&okta, &u, "okta", true).await;
    assert_eq!(okta.cal(&u).await, "creator");
}

#[tokio::test]
async fn the_tenant_may_release_seats_on_deactivation() {
    let s = Portal::start().await;
    let r = s.admin(Method::PUT, "/tenants/acme/settings", Some(json!({"releaseSeatsOnDeactivation": true}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["settings"], json!({"releaseSeatsOnDeactivation": true}));
    s.admin(Method::PUT, "/tenants/acme/settings", Some(json!({"release": true})))
        .await
        .assert_error(400, Some("invalidValue"));
    let okta = s.okta();
    let u = okta.user_with("releaser@example.com", json!({"title": "producer"})).await;
    assert_eq!(s.used_of("acme", "creator").await, 1);
    set_active(&okta, &u, "entra", false).await;
    let view = s.access("acme", &u).await;
    assert_eq!((view["status"].clone(), view["cal"].clone()), (json!("anonymous"), Value::Null));
    assert_eq!(s.used_of("acme", "creator").await, 0);
    // Reactivation assigns again.
    set_active(&okta, &u, "entra", true).await;
    assert_eq!(okta.cal(&u).await, "creator");
    // ... unless the seats went to others in the meantime.
    set_active(&okta, &u, "okta", false).await;
    for i in 0..5 {
        okta.user_with(&format!("filler{i}@example.com"), json!({"title": "producer"})).await;
    }
    set_active(&okta, &u, "okta", true).await;
    let p = okta.portal(&u).await;
    assert!(p.get("cal").is_none(), "{p}");
    assert_eq!(p["notifications"][0]["kind"], "noCalAvailable");
    assert_eq!(s.used_of("acme", "creator").await, 5);
}

#[tokio::test]
async fn delete_hides_the_user_and_a_new_post_restores_it() {
    let s = Portal::start().await;
    let okta = s.okta();
    let u = okta.user_with("leaver@example.com", json!({"title": "producer"})).await;
    let g = okta.group("Video", &[&u]).await;
    let created = okta.get(&format!("/Users/{u}")).await.body["meta"]["created"].clone();
    let used = s.used("acme").await;

    assert_eq!(okta.delete(&format!("/Users/{u}")).await.status, 204);
    // Hidden from SCIM (RFC 7644 §3.6) ...
    for api in [s.okta(), s.azure()] {
        api.get(&format!("/Users/{u}")).await.assert_error(404, None);
        assert_eq!(api.total("/Users").await, 0);
        assert_eq!(api.total("/Users?filter=userName%20eq%20%22leaver@example.com%22").await, 0);
        assert_eq!(api.total("/Users?filter=active%20eq%20false").await, 0);
        let r =
            api.post("/.search", json!({"schemas": [SEARCH], "filter": "userName eq \"leaver@example.com\""})).await;
        assert_eq!(r.body["totalResults"], 0);
        api.delete(&format!("/Users/{u}")).await.assert_error(404, None);
        api.patch_ops(&format!("/Users/{u}"), json!([{"op": "replace", "value": {"active": true}}]))
            .await
            .assert_error(404, None);
        api.put(&format!("/Users/{u}"), okta_user("leaver@example.com")).await.assert_error(404, None);
    }
    // ... it left its teams; the portal keeps it, deactivated, and its seat went back to the pool.
    assert_eq!(okta.members(&g).await, Vec::<String>::new());
    let view = s.access("acme", &u).await;
    assert_eq!(view["status"], "deactivated");
    assert_eq!(view["deleted"], true);
    assert_eq!(view["active"], false);
    assert_eq!(view["federated"], true);
    assert_eq!(view["cal"], Value::Null);
    assert_eq!(view["teams"], json!([]));
    let mut released = used.clone();
    *released.get_mut("creator").unwrap() -= 1;
    assert_eq!(s.used("acme").await, released);
    // A deleted user cannot be added to a group.
    let r = okta
        .patch_ops(&format!("/Groups/{g}"), json!([{"op": "add", "path": "members", "value": [{"value": u}]}]))
        .await;
    r.assert_error(400, Some("invalidValue"));

    // POST with the same userName restores the same user, active (through either app).
    s.clock.advance(Duration::hours(1));
    let r = s.azure().post("/Users", okta_user("LEAVER@example.com")).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(id_of(&r.body), u, "the same portal user");
    assert_eq!(r.body["active"], true);
    assert_eq!(r.body["userName"], "LEAVER@example.com");
    assert_eq!(r.body["meta"]["created"], created);
    assert_eq!(r.body["meta"]["lastModified"], "2026-01-01T01:00:00.000Z");
    assert_eq!(okta.total("/Users").await, 1);
    let view = s.access("acme", &u).await;
    assert_eq!((view["status"].clone(), view["deleted"].clone()), (json!("active"), json!(false)));
    assert_eq!(s.used("acme").await, used, "no second seat");
    okta.post("/Users", okta_user("leaver@example.com")).await.assert_error(409, Some("uniqueness"));

    // POST with the same externalId (and a new userName) restores it too.
    assert_eq!(okta.delete(&format!("/Users/{u}")).await.status, 204);
    let r = okta.post("/Users", json!({"userName": "renamed.leaver@example.com", "externalId": "00uLEAVER"})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(id_of(&r.body), u);
    assert_eq!(r.body["userName"], "renamed.leaver@example.com");
    assert_eq!(r.body["active"], true);
    assert_eq!(okta.total("/Users?filter=userName%20eq%20%22leaver@example.com%22").await, 0);
    // The old userName is free again.
    let other = okta.user("leaver@example.com").await;
    assert_ne!(other, u);
    // A user created inactive holds no CAL until it is activated.
    let idle = okta.create(json!({"userName": "idle@example.com", "active": false})).await;
    assert_eq!(s.access("acme", &idle).await["cal"], Value::Null);
    set_active(&okta, &idle, "okta", true).await;
    assert_eq!(okta.cal(&idle).await, "standard");
}

// ---------------------------------------------------------------------------------------------------------
// 6. Federated users and protected accounts
// ---------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn protected_accounts_are_invisible_and_untouchable_through_scim() {
    let s = Portal::start().await;
    let boss = s.account("acme", "boss@acme.test", "administrator").await;
    let okta = s.okta();
    let u = okta.user("worker@example.com").await;
    let g = okta.group("Workers", &[&u]).await;
    let before = snapshot(&okta).await;
    let boss_before = s.access("acme", &boss).await;
    for api in [s.okta(), s.azure()] {
        // Never listed, never found.
        assert_eq!(api.total("/Users").await, 1);
        for name in ["owner@acme.test", "admin@acme.test", "boss@acme.test"] {
            assert_eq!(api.total(&format!("/Users?filter=userName%20eq%20%22{name}%22")).await, 0);
        }
        api.get(&format!("/Users/{boss}")).await.assert_error(404, None);
        // POST with their userName (any case) is refused.
        for name in ["owner@acme.test", "OWNER@Acme.Test", "admin@acme.test", "boss@acme.test"] {
            let d = api.post("/Users", okta_user(name)).await.assert_error(403, None);
            assert_eq!(d, PROTECTED, "{name}");
        }
        // PUT, PATCH, DELETE on them are refused, also when the request is otherwise malformed.
        let p = format!("/Users/{boss}");
        assert_eq!(api.put(&p, okta_user("boss@acme.test")).await.assert_error(403, None), PROTECTED);
        assert_eq!(
            api.patch_ops(&p, json!([{"op": "replace", "value": {"active": false}}])).await.assert_error(403, None),
            PROTECTED
        );
        assert_eq!(api.patch_ops(&p, json!("nonsense")).await.assert_error(403, None), PROTECTED);
        assert_eq!(api.delete(&p).await.assert_error(403, None), PROTECTED);
        // Adding them to a group in any way.
        let r = api
            .post("/Groups", json!({"schemas": [GROUP], "displayName": "Bosses", "members": [{"value": boss}]}))
            .await;
        assert_eq!(r.assert_error(403, None), PROTECTED);
        let gp = format!("/Groups/{g}");
        let r = api.patch_ops(&gp, json!([{"op": "add", "path": "members", "value": [{"value": boss}]}])).await;
        assert_eq!(r.assert_error(403, None), PROTECTED);
        let r = api.patch_ops(&gp, json!([{"op": "replace", "value": {"members": [{"value": boss}]}}])).await;
        assert_eq!(r.assert_error(403, None), PROTECTED);
        let r = api
            .put(&gp, json!({"schemas": [GROUP], "displayName": "Workers", "members": [{"value": u}, {"value": boss}]}))
            .await;
        assert_eq!(r.assert_error(403, None), PROTECTED);
        // Taking their userName by renaming a SCIM user.
        let r = api
            .patch_ops(
                &format!("/Users/{u}"),
                json!([{"op": "replace", "path": "userName", "value": "Boss@acme.test"}]),
            )
            .await;
        assert_eq!(r.assert_error(403, None), PROTECTED);
    }
    assert_eq!(snapshot(&okta).await, before, "nothing changed");
    assert_eq!(s.access("acme", &boss).await, boss_before);
    assert_eq!(boss_before["protected"], true);
    assert_eq!(boss_before["role"], "administrator");
    assert_eq!(boss_before["federated"], false);
    assert_eq!(boss_before["status"], "active");
    assert_eq!(boss_before["cal"], Value::Null, "local accounts hold no CAL");
    // Local account names are unique with the SCIM users' and with each other: a plain conflict in the admin API.
    for name in ["owner@acme.test", "BOSS@acme.test"] {
        let body = json!({"userName": name, "role": "administrator"});
        let r = s.admin(Method::POST, "/tenants/acme/accounts", Some(body)).await;
        assert!(r.assert_error(409, Some("uniqueness")).contains("local account"), "{name}");
    }
    let r = s
        .admin(
            Method::PATCH,
            &format!("/tenants/acme/users/{boss}/profile"),
            Some(json!({"userName": "Owner@acme.test"})),
        )
        .await;
    r.assert_error(409, Some("uniqueness"));
    let r = s
        .admin(
            Method::PATCH,
            &format!("/tenants/acme/users/{boss}/profile"),
            Some(json!({"userName": "worker@example.com"})),
        )
        .await;
    r.assert_error(409, Some("uniqueness"));
    assert_eq!(s.access("acme", &boss).await, boss_before);
    let r = s
        .admin(Method::POST, "/tenants/acme/accounts", Some(json!({"userName": "worker@example.com", "role": "owner"})))
        .await;
    r.assert_error(409, Some("uniqueness"));
    let r =
        s.admin(Method::POST, "/tenants/acme/accounts", Some(json!({"userName": "x@acme.test", "role": "king"}))).await;
    r.assert_error(400, Some("invalidValue"));
}

#[tokio::test]
async fn federated_users_cannot_edit_their_profile_local_accounts_can() {
    let s = Portal::start().await;
    let okta = s.okta();
    let u = okta.user("fed@example.com").await;
    assert_eq!(s.access("acme", &u).await["federated"], true);
    assert_eq!(okta.portal(&u).await["federated"], true);
    let before = okta.get(&format!("/Users/{u}")).await.body;
    let path = format!("/tenants/acme/users/{u}/profile");
    let r = s.admin(Method::PATCH, &path, Some(json!({"displayName": "Mine now"}))).await;
    let d = r.assert_error(403, None);
    assert!(d.contains("federated"), "{d}");
    assert_eq!(okta.get(&format!("/Users/{u}")).await.body, before);
    // Local accounts edit their own profile.
    let boss = s.account("acme", "boss@acme.test", "owner").await;
    let path = format!("/tenants/acme/users/{boss}/profile");
    let r = s.admin(Method::PATCH, &path, Some(json!({"displayName": "The Boss", "name": {"givenName": "B"}}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["displayName"], "The Boss");
    assert_eq!(r.body["name"]["givenName"], "B");
    let view = s.access("acme", &boss).await;
    assert_eq!((view["protected"].clone(), view["role"].clone()), (json!(true), json!("owner")));
    // Bad edits.
    s.admin(Method::PATCH, &path, Some(json!(["displayName"]))).await.assert_error(400, Some("invalidSyntax"));
    s.admin(Method::PATCH, &path, Some(json!({"id": "other"}))).await.assert_error(400, Some("mutability"));
    let r = s
        .admin(Method::PATCH, "/tenants/acme/users/00000000-0000-0000-0000-000000000000/profile", Some(json!({})))
        .await;
    r.assert_error(404, None);
    s.admin(Method::GET, "/tenants/acme/users/nope/access", None).await.assert_error(404, None);
    // Still protected from SCIM after the edit.
    okta.delete(&format!("/Users/{boss}")).await.assert_error(403, None);
}

#[tokio::test]
async fn a_protected_account_is_never_restored_over_by_its_external_id() {
    let s = Portal::start().await;
    let boss = s.account("acme", "boss@acme.test", "owner").await;
    let r = s
        .admin(Method::PATCH, &format!("/tenants/acme/users/{boss}/profile"), Some(json!({"externalId": "ext-boss"})))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s.okta().post("/Users", json!({"userName": "intruder@example.com", "externalId": "ext-boss"})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_ne!(id_of(&r.body), boss, "a new user, not the owner account");
    let view = s.access("acme", &boss).await;
    assert_eq!(view["userName"], "boss@acme.test");
    assert_eq!(view["protected"], true);
    s.okta().delete(&format!("/Users/{boss}")).await.assert_error(403, None);
    assert_eq!(s.okta().total("/Users").await, 1);
}

// ---------------------------------------------------------------------------------------------------------
// 7. Groups become teams
// ---------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn pushed_groups_are_teams_renamed_by_name_and_following_membership() {
    let s = Portal::start().await;
    let (okta, azure) = (s.okta(), s.azure());
    let a = okta.user("ta@example.com").await;
    let b = okta.user("tb@example.com").await;
    let g = okta.group("Video Editors", &[&a]).await;
    assert_eq!(s.access("acme", &a).await["teams"], json!(["Video Editors"]));
    assert_eq!(s.access("acme", &b).await["teams"], json!([]));
    // Rename (Okta's path-less replace with id and displayName): same team, same members, new name.
    let gp = format!("/Groups/{g}");
    let r = okta.patch_ops(&gp, json!([{"op": "replace", "value": {"id": g, "displayName": "Editors"}}])).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(okta.members(&g).await, vec![a.clone()]);
    assert_eq!(s.access("acme", &a).await["teams"], json!(["Editors"]));
    assert_eq!(okta.get(&format!("/Users/{a}")).await.body["groups"][0]["display"], "Editors");
    // Membership follows PATCH (Entra's shape) and PUT.
    azure.patch_ops(&gp, json!([{"op": "Add", "path": "members", "value": [{"value": b}]}])).await;
    assert_eq!(s.access("acme", &b).await["teams"], json!(["Editors"]));
    azure.patch_ops(&gp, json!([{"op": "Remove", "path": "members", "value": [{"value": a}]}])).await;
    assert_eq!(s.access("acme", &a).await["teams"], json!([]));
    let r = okta.put(&gp, json!({"schemas": [GROUP], "displayName": "Editors", "members": [{"value": a}]})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(okta.members(&g).await, vec![a.clone()]);
    assert_eq!(s.access("acme", &b).await["teams"], json!([]));
    // Two teams.
    okta.group("Admins", &[&a]).await;
    let mut teams: Vec<Value> = s.access("acme", &a).await["teams"].as_array().unwrap().clone();
    teams.sort_by_key(|t| t.as_str().unwrap().to_string());
    assert_eq!(teams, vec![json!("Admins"), json!("Editors")]);
    assert_eq!(okta.cal(&a).await, "professional", "team members feed the CAL rules");
}

// ---------------------------------------------------------------------------------------------------------
// 8. Admin API and configuration
// ---------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn admin_api_creates_and_configures_a_tenant_from_scratch() {
    let s = Portal::start().await;
    let r = s.admin(Method::POST, "/tenants", Some(json!({"name": "gamma"}))).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let base = |app: &str| format!("{}/t/gamma/api/v1/SCIM/{app}", s.origin());
    assert_eq!(
        r.body,
        json!({
            "name": "gamma", "domainPolicy": "subdomain", "settings": {"releaseSeatsOnDeactivation": false},
            "cals": [],
            "apps": {
                "SCIMOkta": {"enabled": false, "defaultCal": null, "rules": [], "baseUri": base("SCIMOkta")},
                "SCIMAzure": {"enabled": false, "defaultCal": null, "rules": [], "baseUri": base("SCIMAzure")}
            }
        })
    );
    // Errors: duplicate, bad names, bad policy, unknown fields.
    s.admin(Method::POST, "/tenants", Some(json!({"name": "gamma"}))).await.assert_error(409, Some("uniqueness"));
    for bad in [
        json!({"name": "Gamma"}),
        json!({"name": "-x"}),
        json!({"name": "a.b"}),
        json!({"name": ""}),
        json!({"name": "x".repeat(64)}),
        json!({"name": "delta", "domainPolicy": "galaxy"}),
        json!({"name": "delta", "colour": 1}),
        json!({}),
    ] {
        s.admin(Method::POST, "/tenants", Some(bad.clone())).await.assert_error(400, Some("invalidValue"));
    }
    let r = s.admin(Method::POST, "/tenants", Some(json!("gamma"))).await;
    r.assert_error(400, Some("invalidValue"));
    let names: Vec<Value> = s
        .admin(Method::GET, "/tenants", None)
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("acme"), json!("beta"), json!("customportal"), json!("dirportal"), json!("gamma")]);
    s.admin(Method::GET, "/tenants/nope", None).await.assert_error(404, None);
    s.admin(Method::GET, "/tenants/nope/cals", None).await.assert_error(404, None);
    // A new tenant walks through the check order: no token, then a disabled app, then service.
    let gamma = s.api("gamma", "SCIMOkta", "no-token-issued-yet-0000");
    gamma.get("/Users").await.assert_error(401, None);
    let issued = s.issue("gamma", "SCIMOkta", json!({"expiresInDays": 7})).await;
    let gamma = gamma.with_token(issued["token"].as_str().unwrap());
    assert!(gamma.get("/Users").await.assert_error(403, None).contains("disabled"));
    let r = s.set_app("gamma", "SCIMOkta", json!({"enabled": true, "defaultCal": "basic"})).await;
    r.assert_error(400, Some("invalidValue"));
    let cals = json!([{"id": "basic", "name": "Basic", "seats": 2}, {"id": "pro", "name": "Pro", "seats": 1}]);
    let r = s.admin(Method::PUT, "/tenants/gamma/cals", Some(cals)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body[1], json!({"id": "pro", "name": "Pro", "seats": 1, "used": 0}));
    for bad in [
        json!([{"id": "x", "name": "X", "seats": -1}]),
        json!([{"id": "x", "name": "X", "seats": 1}, {"id": "x", "name": "Y", "seats": 1}]),
        json!([{"id": "", "name": "X", "seats": 1}]),
        json!({"id": "x"}),
    ] {
        s.admin(Method::PUT, "/tenants/gamma/cals", Some(bad.clone())).await.assert_error(400, Some("invalidValue"));
    }
    let rules = json!([{"attribute": "title", "condition": "contains", "value": "lead", "cal": "pro"}]);
    let r = s.set_app("gamma", "SCIMOkta", json!({"enabled": true, "defaultCal": "basic", "rules": rules})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let lead = gamma.user_with("lead@example.com", json!({"title": "Team Lead"})).await;
    assert_eq!(gamma.cal(&lead).await, "pro");
    // A CAL in use, or named by an app, cannot be removed.
    let only_basic = json!([{"id": "basic", "name": "Basic", "seats": 2}]);
    s.admin(Method::PUT, "/tenants/gamma/cals", Some(only_basic)).await.assert_error(400, Some("invalidValue"));
    s.set_app("gamma", "SCIMOkta", json!({"enabled": true, "defaultCal": "basic"})).await;
    let only_pro = json!([{"id": "pro", "name": "Pro", "seats": 1}]);
    s.admin(Method::PUT, "/tenants/gamma/cals", Some(only_pro)).await.assert_error(400, Some("invalidValue"));
    let r = s.admin(Method::GET, "/tenants/gamma", None).await;
    assert_eq!(r.body["cals"].as_array().unwrap().len(), 2, "refusals change nothing");
    // The tenant's other app is still disabled (no token), the other policies are reachable via the API.
    s.api("gamma", "SCIMAzure", "whatever-whatever-1").get("/Users").await.assert_error(401, None);
    let r = s
        .admin(
            Method::POST,
            "/tenants",
            Some(json!({"name": "delta", "domainPolicy": "custom",
        "settings": {"releaseSeatsOnDeactivation": true}})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["settings"]["releaseSeatsOnDeactivation"], true);
    // Local accounts of a new tenant.
    let owner = s.account("gamma", "owner@gamma.test", "owner").await;
    assert_eq!(s.access("gamma", &owner).await["role"], "owner");
    gamma.post("/Users", okta_user("owner@gamma.test")).await.assert_error(403, None);
    let r = s
        .admin(
            Method::POST,
            "/tenants/gamma/accounts",
            Some(json!({"userName": "admin2@gamma.test", "role": "administrator",
            "displayName": "Second", "name": {"givenName": "Sec"}, "emails": [{"value": "admin2@gamma.test"}]})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["displayName"], "Second");
    assert_eq!(r.body["emails"][0]["value"], "admin2@gamma.test");
    assert!(r.body.get("password").is_none());
    // Unknown routes and methods.
    s.admin(Method::GET, "/nothing", None).await.assert_error(404, None);
    s.admin(Method::DELETE, "/tenants/gamma", None).await.assert_error(405, None);
    s.admin(Method::POST, "/tenants/gamma/cals", Some(json!([]))).await.assert_error(405, None);
    let r =
        s.client.post(format!("{}/admin/tenants", s.origin())).bearer_auth(ADMIN_KEY).body("{").send().await.unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn the_builtin_seed_is_immediately_usable() {
    let s = Server::start_with(ServerConfig::default()).await;
    let srv = &s.server;
    assert_eq!(srv.endpoints.len(), 2);
    let okta = srv.endpoint("acme", AppKind::Okta).unwrap();
    let azure = srv.endpoint("acme", AppKind::Azure).unwrap();
    assert_eq!(srv.base_url, okta.base_url);
    assert_eq!(okta.base_url, format!("http://{}/t/acme/api/v1/SCIM/SCIMOkta", srv.addr));
    assert_eq!(azure.base_url, format!("http://{}/t/acme/api/v1/SCIM/SCIMAzure", srv.addr));
    let (ot, at) = (okta.token.clone().unwrap(), azure.token.clone().unwrap());
    assert_ne!(ot, at);
    assert_eq!(ot, srv.token);
    assert!(ot.starts_with("scim_") && ot.len() == 48);
    assert!(srv.admin_key.starts_with("admin_") && srv.admin_key.len() > 60);
    for (base, token) in [(&okta.base_url, &ot), (&azure.base_url, &at)] {
        let r =
            Server::finish(s.client.get(format!("{base}/Users?startIndex=1&count=2")).header("Authorization", token))
                .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let r = Server::finish(s.client.get(format!("{}/tenants/acme", srv.admin_url)).bearer_auth(&srv.admin_key)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["domainPolicy"], "subdomain");
    assert_eq!(
        r.body["cals"],
        json!([{"id": "standard", "name": "Standard", "seats": 1000, "used": 0},
               {"id": "professional", "name": "Professional", "seats": 25, "used": 0}])
    );
    for app in ["SCIMOkta", "SCIMAzure"] {
        let a = &r.body["apps"][app];
        assert_eq!(a["enabled"], true);
        assert_eq!(a["defaultCal"], "standard");
        let mut rules =
            vec![json!({"attribute": "groups", "condition": "contains", "value": "admin", "cal": "professional"})];
        if app == "SCIMOkta" {
            // the Okta app's administrator role (its /Roles catalogue) grants the professional CAL
            rules.push(json!({"attribute": "roles.value", "condition": "equals", "value": "role-admin", "cal": "professional"}));
            let types: Vec<&str> =
                a["resourceTypes"].as_array().unwrap().iter().filter_map(|t| t["endpoint"].as_str()).collect();
            assert_eq!(types, ["/Roles", "/Entitlements"]);
        } else {
            assert!(a.get("resourceTypes").is_none(), "Entra provisions no Okta entitlement types");
        }
        assert_eq!(a["rules"], Value::Array(rules));
    }
    let tokens = Server::finish(
        s.client.get(format!("{}/tenants/acme/apps/SCIMOkta/tokens", srv.admin_url)).bearer_auth(&srv.admin_key),
    )
    .await;
    assert_eq!(tokens.body[0]["label"], "generated at start");
    assert!(!tokens.text.contains(&ot));
    // The owner account exists and is protected; the Host form works on localhost.
    s.post("/Users", okta_user("owner@acme.test")).await.assert_error(403, None);
    let u = id_of(&s.create_user("builtin@example.com").await);
    let g = s.create_group("Site Admins", &[&u]).await;
    assert_eq!(g["displayName"], "Site Admins");
    let r = s.get(&format!("/Users/{u}?attributes={PORTAL}:cal")).await;
    assert_eq!(r.body[PORTAL]["cal"], "professional");
    let port = srv.addr.port();
    let r = Server::finish(
        s.client
            .get(format!("http://{}/api/v1/SCIM/SCIMAzure/Users/{u}", srv.addr))
            .header("Host", format!("acme.localhost:{port}"))
            .bearer_auth(&at),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

const EXAMPLE_SEED: &str = include_str!("../examples/seed.json");

#[tokio::test]
async fn the_readme_example_configuration_parses_and_runs() {
    let readme = include_str!("../README.md");
    assert!(readme.contains(EXAMPLE_SEED.trim()), "README.md must show examples/seed.json verbatim");
    let config = Config::from_json(EXAMPLE_SEED).expect("the example parses");
    let s = Portal::with_seed(serde_json::from_str(EXAMPLE_SEED).unwrap()).await;
    let token = |tenant: &str, app: AppKind| {
        config.tenants.iter().find(|t| t.name == tenant).unwrap().apps[&app].tokens[0].token.clone()
    };
    // acme: both apps with their configured tokens; the owner is protected; the rules apply.
    let okta = s.api("acme", "SCIMOkta", &token("acme", AppKind::Okta));
    let azure = s.api("acme", "SCIMAzure", &token("acme", AppKind::Azure));
    let u = okta.user_with("media@example.com", json!({ENTERPRISE: {"department": "Media"}})).await;
    assert_eq!(okta.cal(&u).await, "creator");
    let v = azure.user_with("producer@example.com", json!({"title": "Producer"})).await;
    assert_eq!(azure.cal(&v).await, "creator");
    for name in ["owner@acme.test", "it-admin@acme.test"] {
        azure.post("/Users", okta_user(name)).await.assert_error(403, None);
    }
    // globex: SCIMAzure got a generated token (printed at start); SCIMOkta is disabled and has none.
    let generated = s.server.endpoint("globex", AppKind::Azure).unwrap().token.clone().expect("generated");
    assert_eq!(s.api("globex", "SCIMAzure", &generated).total("/Users").await, 0);
    assert_eq!(s.server.endpoint("globex", AppKind::Okta).unwrap().token, None);
    s.api("globex", "SCIMOkta", &generated).get("/Users").await.assert_error(401, None);
    // initech: a directory portal gets no SCIM.
    let r = s.api("initech", "SCIMOkta", &token("initech", AppKind::Okta)).get("/Users").await;
    assert!(r.assert_error(403, None).contains("subdomain"));
    // The admin key.
    let admin = config.admin_key.as_deref().expect("the example sets an admin key");
    let r = s.admin_with(Some(admin), Method::GET, "/tenants/globex", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["settings"]["releaseSeatsOnDeactivation"], true);
    assert_eq!(r.body["domainPolicy"], "subdomain");
}

#[tokio::test]
async fn bad_configurations_are_refused() {
    for (text, why) in [
        (r#"{"tenants": [], "colour": 1}"#, "unknown field"),
        (r#"{"tenants": [{"name": "a", "domainPolicy": "galaxy"}]}"#, "unknown policy"),
        (r#"{"tenants": [{"name": "a", "apps": {"SCIMFoo": {}}}]}"#, "unknown app"),
        (r#"{"tenants": [{"name": "a", "apps": {"SCIMOkta": {"enabled": true, "defualtCal": "x"}}}]}"#, "typo"),
        (r#"{"tenants": [{"name": "a", "cals": [{"id": "s", "name": "S", "seats": -1}]}]}"#, "negative seats"),
        (r#"{"tenants": [{"name": "a", "accounts": [{"userName": "x", "role": "king"}]}]}"#, "unknown role"),
    ] {
        assert!(Config::from_json(text).is_err(), "{why}");
    }
    let cal = r#""cals": [{"id": "s", "name": "S", "seats": 1}]"#;
    let secret = "0123456789abcdef-secret";
    for (text, why) in [
        (r#"{"tenants": [{"name": "a", "apps": {"SCIMOkta": {"enabled": true}}}]}"#.to_string(), "no default CAL"),
        (format!(r#"{{"tenants": [{{"name": "a", {cal}, "apps": {{"SCIMOkta": {{"enabled": true, "defaultCal": "x"}}}}}}]}}"#), "unknown CAL"),
        (format!(r#"{{"tenants": [{{"name": "a", {cal}, "apps": {{"SCIMOkta": {{"enabled": true, "defaultCal": "s",
            "rules": [{{"attribute": "title", "condition": "equals", "value": "x", "cal": "gold"}}]}}}}}}]}}"#), "rule CAL"),
        (format!(r#"{{"tenants": [{{"name": "a", {cal}, "apps": {{"SCIMOkta": {{"enabled": true, "defaultCal": "s",
            "tokens": [{{"token": "short"}}]}}}}}}]}}"#), "short token"),
        (format!(r#"{{"tenants": [{{"name": "a", {cal}, "apps": {{"SCIMOkta": {{"enabled": true, "defaultCal": "s",
            "tokens": [{{"token": "{secret}", "expiresAt": "soon"}}]}}}}}}]}}"#), "bad expiry"),
        (format!(r#"{{"tenants": [{{"name": "a", {cal}, "apps": {{"SCIMOkta": {{"enabled": true, "defaultCal": "s",
            "tokens": [{{"token": "{secret}"}}, {{"token": "{secret}"}}]}}}}}}]}}"#), "token twice in one app"),
        (format!(r#"{{"tenants": [{{"name": "a", {cal}, "apps": {{
            "SCIMOkta": {{"enabled": true, "defaultCal": "s", "tokens": [{{"token": "{secret}"}}]}},
            "SCIMAzure": {{"enabled": true, "defaultCal": "s", "tokens": [{{"token": "{secret}"}}]}}}}}}]}}"#), "token shared by two apps"),
        (format!(r#"{{"tenants": [
            {{"name": "a", {cal}, "apps": {{"SCIMOkta": {{"enabled": true, "defaultCal": "s", "tokens": [{{"token": "{secret}"}}]}}}}}},
            {{"name": "b", {cal}, "apps": {{"SCIMOkta": {{"enabled": true, "defaultCal": "s", "tokens": [{{"token": "{secret}"}}]}}}}}}]}}"#), "token shared by two tenants"),
        (r#"{"tenants": [{"name": "a"}, {"name": "a"}]}"#.to_string(), "duplicate tenant"),
        (r#"{"tenants": [{"name": "Not A Label"}]}"#.to_string(), "bad tenant name"),
        (r#"{"tenants": [{"name": "a", "accounts": [{"userName": "o", "role": "owner"}, {"userName": "O", "role": "owner"}]}]}"#.to_string(), "duplicate account"),
    ] {
        let config = Config::from_json(&text).unwrap_or_else(|e| panic!("{why}: {e}"));
        let err = spawn(ServerConfig::default().with_seed(config)).await.expect_err(why);
        assert!(!err.to_string().contains(secret), "{why}: the token is echoed: {err}");
    }
}

/// The server binary running on a free port with `RUST_LOG=trace`, its stdout and stderr captured.
struct Binary {
    child: std::process::Child,
    /// stdout up to and including the `Admin API:` line.
    banner: String,
    out: std::thread::JoinHandle<String>,
    err: std::thread::JoinHandle<String>,
}

impl Binary {
    async fn start(args: &[&str]) -> Binary {
        let mut child = Command::new(env!("CARGO_BIN_EXE_scim-reference-server"))
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", "trace")
            .env_remove("SCIM_REFERENCE_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let mut stderr = child.stderr.take().unwrap();
        let err = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let out = std::thread::spawn(move || {
            let mut all = String::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                all.push_str(&line);
                all.push('\n');
                if line.starts_with("Admin API:") {
                    let _ = tx.send(all.clone());
                }
            }
            all
        });
        let banner =
            tokio::task::spawn_blocking(move || rx.recv_timeout(std::time::Duration::from_secs(60))).await.unwrap();
        match banner {
            Ok(banner) => Binary { child, banner, out, err },
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("no banner; stderr:\n{}", err.join().unwrap());
            }
        }
    }

    /// Kills the server and returns everything it wrote: (stdout, stderr).
    fn stop(mut self) -> (String, String) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        (self.out.join().unwrap(), self.err.join().unwrap())
    }
}

#[tokio::test]
async fn the_binary_without_configuration_is_immediately_usable() {
    let bin = Binary::start(&[]).await;
    let banner = bin.banner.clone();
    let lines: Vec<&str> = banner.lines().collect();
    assert_eq!(lines.len(), 5, "{banner}");
    let okta_base = lines[0].strip_prefix("SCIM base URI: ").expect("base URI line");
    let token = lines[1].strip_prefix("Bearer token:  ").expect("token line");
    assert!(okta_base.starts_with("http://127.0.0.1:") && okta_base.ends_with("/t/acme/api/v1/SCIM/SCIMOkta"));
    assert!(token.starts_with("scim_") && token.len() == 48, "{token}");
    let client = reqwest::Client::new();
    for (line, app) in [(lines[2], "SCIMOkta"), (lines[3], "SCIMAzure")] {
        let rest = line.strip_prefix(&format!("tenant acme app {app}: ")).expect("endpoint line");
        let (base, tok) = rest.split_once(" token ").unwrap();
        assert!(base.ends_with(&format!("/t/acme/api/v1/SCIM/{app}")));
        assert!(tok.starts_with("scim_") && tok.len() == 48);
        // Okta's credential test, with Okta's header auth.
        let r =
            Server::finish(client.get(format!("{base}/Users?startIndex=1&count=2")).header("Authorization", tok)).await;
        assert_eq!(r.status, 200, "{app}: {}", r.text);
    }
    assert_ne!(lines[2].rsplit(' ').next(), lines[3].rsplit(' ').next(), "a fresh token per app");
    let (admin_url, key) = lines[4].strip_prefix("Admin API: ").unwrap().split_once(" key ").unwrap();
    let r = Server::finish(client.get(format!("{admin_url}/tenants")).bearer_auth(key)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let (_, log) = bin.stop();
    assert!(!log.contains(token) && !log.contains(key), "a secret reached the log:\n{log}");
}

/// Runs the binary with a configuration file, makes requests with good and bad credentials, and checks that
/// stdout announces both apps while no token (or admin key) ever reaches the log on stderr.
#[tokio::test]
async fn the_binary_prints_its_endpoints_and_never_logs_a_token() {
    let okta = "log-okta-token-0123456789abcdef";
    let azure = "log-azure-token-0123456789abcdef";
    let expired = "log-expired-token-0123456789abcdef";
    let admin = "log-admin-key-0123456789abcdef";
    let seed = json!({
        "adminKey": admin,
        "tenants": [{
            "name": "acme",
            "cals": one_cal(10),
            "apps": {
                "SCIMOkta": {"enabled": true, "defaultCal": "standard", "tokens": [{"token": okta}]},
                "SCIMAzure": {"enabled": true, "defaultCal": "standard",
                              "tokens": [{"token": azure}, {"token": expired, "expiresAt": "2000-01-01T00:00:00Z"}]}
            }
        }]
    });
    let path =
        std::env::temp_dir().join(format!("scimcheck-tenancy-{}-{}.json", std::process::id(), uuid::Uuid::new_v4()));
    std::fs::write(&path, seed.to_string()).unwrap();
    let bin = Binary::start(&["--config", path.to_str().unwrap()]).await;
    let banner = bin.banner.clone();
    let _ = std::fs::remove_file(&path);
    // stdout announces both base URIs with their tokens, and the admin API.
    let okta_base = banner
        .lines()
        .find_map(|l| l.strip_prefix("SCIM base URI: "))
        .expect("a SCIM base URI line")
        .trim()
        .to_string();
    assert!(okta_base.ends_with("/t/acme/api/v1/SCIM/SCIMOkta"), "{banner}");
    let origin = okta_base.trim_end_matches("/t/acme/api/v1/SCIM/SCIMOkta").to_string();
    let azure_base = format!("{origin}/t/acme/api/v1/SCIM/SCIMAzure");
    assert!(banner.contains(&format!("tenant acme app SCIMOkta: {okta_base} token {okta}")), "{banner}");
    assert!(banner.contains(&format!("tenant acme app SCIMAzure: {azure_base} token {azure}")), "{banner}");
    assert!(banner.contains(&format!("Admin API: {origin}/admin key {admin}")), "{banner}");

    let client = reqwest::Client::new();
    let send = |url: String, auth: Option<String>| {
        let mut rb = client.get(url);
        if let Some(a) = auth {
            rb = rb.header("Authorization", a);
        }
        Server::finish(rb)
    };
    let users = |base: &str| format!("{base}/Users");
    let cases: Vec<(String, Option<String>, u16)> = vec![
        (users(&okta_base), Some(format!("Bearer {okta}")), 200),
        (users(&azure_base), Some(azure.to_string()), 200),
        (users(&azure_base), Some(format!("Bearer {okta}")), 401),
        (users(&okta_base), Some(format!("Basic {okta}")), 401),
        (users(&okta_base), Some(format!("Bearer {okta}{okta}")), 401),
        (users(&azure_base), Some(format!("Bearer {expired}")), 401),
        (format!("{}?access_token={okta}", users(&okta_base)), None, 401),
        (format!("{}?filter=userName%20eq%20%22{okta}%22", users(&okta_base)), Some(okta.to_string()), 200),
        (format!("{origin}/t/nope/api/v1/SCIM/SCIMOkta/Users"), Some(format!("Bearer {okta}")), 404),
        (format!("{origin}/admin/tenants"), Some(format!("Bearer {okta}")), 401),
        (format!("{origin}/admin/tenants"), Some(format!("Bearer {admin}")), 200),
    ];
    for (url, auth, status) in cases {
        let r = send(url.clone(), auth).await;
        assert_eq!(r.status, status, "{url}: {}", r.text);
        for secret in [okta, azure, expired, admin] {
            assert!(!r.text.contains(secret), "{url}: a secret is echoed in {}", r.text);
        }
    }
    // A token issued at run time, used, revoked and used again.
    let r = Server::finish(
        client
            .post(format!("{origin}/admin/tenants/acme/apps/SCIMOkta/tokens"))
            .bearer_auth(admin)
            .json(&json!({"label": "runtime"})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let runtime = r.body["token"].as_str().unwrap().to_string();
    assert_eq!(send(users(&okta_base), Some(format!("Bearer {runtime}"))).await.status, 200);
    let r = Server::finish(
        client
            .delete(format!("{origin}/admin/tenants/acme/apps/SCIMOkta/tokens/{}", r.body["id"].as_str().unwrap()))
            .bearer_auth(admin),
    )
    .await;
    assert_eq!(r.status, 204);
    assert_eq!(send(users(&okta_base), Some(format!("Bearer {runtime}"))).await.status, 401);

    let (out, log) = bin.stop();
    assert!(log.lines().filter(|l| l.contains("request")).count() >= 14, "the requests are logged:\n{log}");
    for secret in [okta, azure, expired, admin, runtime.as_str()] {
        assert!(!log.contains(secret), "a secret reached the log:\n{log}");
    }
    assert!(!log.contains("log-okta-tok"), "not even a prefix of a configured token:\n{log}");
    assert!(!out.contains(&runtime), "tokens issued at run time are shown only in the admin response");
}

#[tokio::test]
async fn a_deleted_user_releases_its_seat_so_create_and_delete_never_exhaust_a_cal() {
    let mut seed = seed();
    seed["tenants"][1]["cals"] = one_cal(1);
    let s = Portal::with_seed(seed).await;
    let beta = s.beta();
    // Ten times the seats, one after the other: each user gets the only seat and gives it back.
    for i in 0..10 {
        let u = beta.user(&format!("cycle{i}@example.com")).await;
        assert_eq!(beta.cal(&u).await, "standard", "cycle {i}");
        assert_eq!(s.used_of("beta", "standard").await, 1);
        assert_eq!(beta.delete(&format!("/Users/{u}")).await.status, 204);
        assert_eq!(s.used_of("beta", "standard").await, 0, "cycle {i}: the deleted user kept its seat");
        assert_eq!(s.access("beta", &u).await["cal"], Value::Null);
    }
    // A deactivated (not deleted) user keeps its seat, as the portal documents.
    let kept = beta.user("kept@example.com").await;
    let r = beta.patch_ops(&format!("/Users/{kept}"), json!([{"op": "replace", "value": {"active": false}}])).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(s.used_of("beta", "standard").await, 1);
    assert_eq!(s.access("beta", &kept).await["cal"], "standard");
    // So the next user finds none, and is told which CAL and how full it is.
    let r = beta.post("/Users", okta_user("late@example.com")).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let note = &beta.portal(&id_of(&r.body)).await["notifications"][0];
    assert_eq!(note["kind"], "noCalAvailable");
    assert!(note["message"].as_str().unwrap().contains("CAL 'standard' has 1 of 1 seats in use"), "{note}");
}
