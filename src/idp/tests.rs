use serde_json::json;

use super::*;

fn user() -> UserAttrs {
    UserAttrs {
        grants: None,
        user_name: "ada.lovelace@example.test".into(),
        external_id: "e-1".into(),
        given_name: "Ada".into(),
        family_name: "Lovelace".into(),
        email: "ada.lovelace@example.test".into(),
        title: "Engineer".into(),
        department: "R&D".into(),
        employee_number: "1".into(),
        phone: "+1 555 0100".into(),
        street: "1 Main St".into(),
        locality: "London".into(),
        postal_code: "N1".into(),
        country: "GB".into(),
        active: true,
    }
}

const ALL: [Dialect; 4] = Dialect::ALL;

#[test]
fn the_entra_flag_is_spelled_once() {
    use clap::ValueEnum;
    let value = EntraDialect::AadOptscim062020.to_possible_value().unwrap();
    assert_eq!(value.get_name(), EntraDialect::FLAG);
    assert_eq!(serde_json::to_value(EntraDialect::AadOptscim062020).unwrap(), EntraDialect::FLAG);
    assert_eq!(Dialect::Entra(EntraDialect::AadOptscim062020).tag(), EntraDialect::FLAG);
    for (url, want) in [
        ("https://h/scim?aadOptscim062020", EntraDialect::AadOptscim062020),
        ("https://h/scim/?x=1&aadOptscim062020", EntraDialect::AadOptscim062020),
        ("https://h/scim/aadOptscim062020", EntraDialect::Default),
        ("https://h/scim?aadOptscim0620201", EntraDialect::Default),
        ("https://h/scim", EntraDialect::Default),
    ] {
        assert_eq!(EntraDialect::of_tenant_url(url), want, "{url}");
    }
}

fn ops(r: &ScimRequest) -> Vec<Value> {
    r.body.as_ref().unwrap()["Operations"].as_array().unwrap().clone()
}

#[test]
fn lookups_follow_each_idp() {
    let e = Dialect::Entra(EntraDialect::Default).user_lookup("a\"b");
    assert_eq!(e.query, vec![("filter".to_string(), r#"userName eq "a\"b""#.to_string())]);
    let o = Dialect::Okta(OktaAppKind::Oin).user_lookup("x");
    let keys: Vec<&str> = o.query.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["filter", "startIndex", "count"]);
    assert_eq!(o.query[2].1, "100");
    let g = Dialect::Entra(EntraDialect::AadOptscim062020).group_lookup("Sales");
    assert_eq!(g.query[0], ("excludedAttributes".to_string(), "members".to_string()));
    assert!(Dialect::Okta(OktaAppKind::Aiw).group_lookup("Sales").query.iter().all(|(k, _)| k == "filter"));
}

#[test]
fn create_bodies_carry_each_idps_extras() {
    let e = Dialect::Entra(EntraDialect::Default).user_create(&user()).body.unwrap();
    assert_eq!(e["meta"]["resourceType"], "User");
    assert!(e.get("password").is_none());
    let o = Dialect::Okta(OktaAppKind::Oin).user_create(&user()).body.unwrap();
    assert_eq!(o["password"], OKTA_PLACEHOLDER_PASSWORD);
    assert_eq!(o["groups"], json!([]));
    let g = Dialect::Entra(EntraDialect::Default).group_create("G", "x").body.unwrap();
    assert!(g.get("members").is_none());
    assert_eq!(g["schemas"][1], ENTRA_GROUP_SCHEMA);
    let g = Dialect::Okta(OktaAppKind::Oin).group_create("G", "x").body.unwrap();
    assert_eq!(g["members"], json!([]));
}

#[test]
fn entra_dialects_differ_exactly_as_documented() {
    let mut new = user();
    new.given_name = "Augusta".into();
    new.email = "augusta@example.test".into();
    new.department = "Maths".into();
    let attrs = changed_attrs(&user(), &new);
    assert_eq!(attrs, [UserAttr::DisplayName, UserAttr::GivenName, UserAttr::Email, UserAttr::Department]);
    let d = Dialect::Entra(EntraDialect::Default).user_update("1", &new, &attrs, None);
    let o = ops(&d);
    assert_eq!(o.len(), 4);
    assert!(o.iter().all(|op| op["op"] == "Replace" && op["path"].is_string()));
    let a = Dialect::Entra(EntraDialect::AadOptscim062020).user_update("1", &new, &attrs, None);
    let o = ops(&a);
    assert_eq!(
        o[0],
        json!({"op": "replace", "path": "emails[type eq \"work\"].value", "value": "augusta@example.test"})
    );
    assert_eq!(o[1]["value"]["name.givenName"], "Augusta");
    assert_eq!(o[1]["value"][format!("{ENTERPRISE}:department")], "Maths");
    assert!(o[1].get("path").is_none());

    let off = Dialect::Entra(EntraDialect::Default).user_set_active("1", false, None);
    assert_eq!(ops(&off)[0], json!({"op": "Replace", "path": "active", "value": "False"}));
    let off = Dialect::Entra(EntraDialect::AadOptscim062020).user_set_active("1", false, None);
    assert_eq!(ops(&off)[0], json!({"op": "replace", "path": "active", "value": false}));

    let m = [Member { id: "u1".into(), display: "a".into() }];
    let rm = Dialect::Entra(EntraDialect::Default).membership_updates("g", "G", &[], &m, &[], 10);
    assert_eq!(ops(&rm[0])[0], json!({"op": "Remove", "path": "members", "value": [{"value": "u1"}]}));
    let rm = Dialect::Entra(EntraDialect::AadOptscim062020).membership_updates("g", "G", &[], &m, &[], 10);
    assert_eq!(ops(&rm[0])[0], json!({"op": "remove", "path": "members[value eq \"u1\"]"}));
    let add = Dialect::Entra(EntraDialect::Default).membership_updates("g", "G", &m, &[], &m, 10);
    assert_eq!(ops(&add[0])[0], json!({"op": "Add", "path": "members", "value": [{"$ref": null, "value": "u1"}]}));
    let mgr = Dialect::Entra(EntraDialect::Default).manager_set("1", Some("m")).unwrap();
    assert_eq!(ops(&mgr)[0]["value"], "m");
    assert!(Dialect::Okta(OktaAppKind::Oin).manager_set("1", Some("m")).is_none());
}

#[test]
fn okta_chunks_memberships_with_a_rename_op_and_aiw_puts() {
    let members: Vec<Member> = (0..250).map(|i| Member { id: format!("u{i}"), display: format!("n{i}") }).collect();
    let oin = Dialect::Okta(OktaAppKind::Oin);
    let reqs = oin.membership_updates("g", "G", &members, &[], &members, OKTA_DEFAULT_CHUNK);
    assert_eq!(reqs.len(), 3);
    for r in &reqs {
        assert_eq!(ops(r)[0], json!({"op": "replace", "value": {"id": "g", "displayName": "G"}}));
    }
    assert_eq!(ops(&reqs[2])[1]["value"].as_array().unwrap().len(), 50);
    let aiw = Dialect::Okta(OktaAppKind::Aiw);
    let reqs = aiw.membership_updates("g", "G", &members[..1], &[], &members, 100);
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].method, Method::PUT);
    assert_eq!(reqs[0].body.as_ref().unwrap()["members"].as_array().unwrap().len(), 250);
    let put =
        oin.user_update("1", &user(), &[UserAttr::Title], Some(&json!({"id": "1", "meta": {"version": "W/\"1\""}})));
    assert_eq!(put.method, Method::PUT);
    let body = put.body.unwrap();
    assert_eq!(body["meta"]["version"], "W/\"1\"", "PUT echoes the server's read-only fields");
    assert_eq!(body["title"], "Engineer");
    assert_eq!(ops(&oin.user_set_active("1", false, None))[0], json!({"op": "replace", "value": {"active": false}}));
    assert_eq!(aiw.user_set_active("1", false, Some(&json!({"userName": "x"}))).method, Method::PUT);
    assert!(oin.user_delete("1").is_none());
}

#[test]
fn every_builder_is_recognised_as_its_own_dialect_only() {
    let mut new = user();
    new.title = "Lead".into();
    new.family_name = "King".into();
    let m = [Member { id: "u1".into(), display: "a".into() }];
    for d in ALL {
        let reqs = [
            d.user_lookup("x"),
            d.user_create(&user()),
            d.user_update("1", &new, &changed_attrs(&user(), &new), Some(&json!({}))),
            d.user_set_active("1", false, Some(&json!({}))),
            d.group_lookup("G"),
            d.group_create("G", "x"),
            d.group_rename("g", "H", &m),
        ]
        .into_iter()
        .chain(d.membership_updates("g", "G", &m, &m, &m, 10));
        let mut seen = false;
        for r in reqs {
            let ev = recognise(r.method, &r.path, &r.query, r.body.as_ref());
            for e in &ev {
                let same_idp = e.dialect.is_entra() == d.is_entra();
                assert!(same_idp, "{d}: {r:?} was taken for {} ({})", e.dialect, e.rule);
                if let (Dialect::Entra(_), true) = (d, e.dialect != d) {
                    // Shapes shared by both Entra dialects are reported for both; a dialect-specific one must
                    // name this dialect.
                    assert!(ev.iter().any(|x| x.dialect == d), "{d}: {r:?} only matched {}", e.dialect);
                }
            }
            seen |= ev.iter().any(|e| e.dialect == d);
        }
        assert!(seen, "{d}: no request of it is recognised");
    }
}

#[test]
fn roles_and_entitlements_are_sent_as_okta_shows_them_and_compared_by_their_values() {
    let mut u = user();
    assert_eq!(UserAttr::of(&u), UserAttr::ALL.to_vec(), "no grants: neither attribute is mapped");
    assert!(!UserAttr::ALL.iter().any(|a| matches!(a, UserAttr::Roles | UserAttr::Entitlements)));
    u.grants =
        Some(Grants { roles: vec!["r1".into(), "r2".into()], entitlements: vec![("e1".into(), "License".into())] });
    assert_eq!(UserAttr::of(&u), UserAttr::WITH_GRANTS.to_vec(), "grants: both are mapped, after the others");
    let create = Dialect::Okta(OktaAppKind::Oin).user_create(&u);
    let body = create.body.clone().unwrap();
    assert_eq!(body["roles"], json!([{"value": "r1"}, {"value": "r2"}]));
    assert_eq!(body["entitlements"], json!([{"value": "e1", "type": "License"}]));
    // the server's representation, in another order and with display: the same values
    let server =
        json!({"roles": [{"value": "r2", "display": "R2"}, {"value": "r1"}], "entitlements": [{"value": "e1"}]});
    for a in [UserAttr::Roles, UserAttr::Entitlements] {
        assert_eq!(a.read(&server), Some(a.value(&u)), "{a:?}");
    }
    // a dropped role is a difference, and a reassignment is a change to push
    let dropped = json!({"roles": [{"value": "r1"}]});
    assert_ne!(UserAttr::Roles.read(&dropped), Some(UserAttr::Roles.value(&u)));
    let mut moved = u.clone();
    moved.grants.as_mut().unwrap().roles = vec!["r3".into()];
    assert_eq!(changed_attrs(&u, &moved), [UserAttr::Roles]);
}

#[test]
fn entra_spells_its_operations_by_dialect_and_every_patch_is_a_patch_op_message() {
    let d = EntraDialect::Default;
    let opt = EntraDialect::AadOptscim062020;
    assert_eq!(d.op(Op::Replace, "title", Some(json!(""))), json!({"op": "Replace", "path": "title", "value": ""}));
    assert_eq!(opt.op(Op::Add, "members", Some(json!([]))), json!({"op": "add", "path": "members", "value": []}));
    assert_eq!(d.op(Op::Remove, "manager", None), json!({"op": "Remove", "path": "manager"}));
    assert_eq!(opt.op(Op::Remove, "manager", None), json!({"op": "remove", "path": "manager"}));
    let r = ScimRequest::patch("/Users/1".into(), vec![d.op(Op::Replace, "active", Some(json!("False")))]);
    assert_eq!((r.method, r.path.as_str()), (Method::PATCH, "/Users/1"));
    assert_eq!(
        r.body,
        Some(json!({"schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}))
    );
    // the dialect's own requests are made of the same operations
    assert_eq!(Dialect::Entra(d).user_set_active("1", false, None), r);
    // every operation of every Entra PATCH builder is named as the dialect names it
    let m = [Member { id: "u1".into(), display: "a".into() }];
    let mut new = user();
    new.given_name = "Augusta".into();
    new.department = "Maths".into();
    let attrs = changed_attrs(&user(), &new);
    for e in [d, opt] {
        let dialect = Dialect::Entra(e);
        let names = [e.op_name(Op::Add), e.op_name(Op::Replace), e.op_name(Op::Remove)];
        let reqs = dialect
            .membership_updates("g", "G", &m, &m, &m, 10)
            .into_iter()
            .chain([dialect.user_update("1", &new, &attrs, None), dialect.user_set_active("1", true, None)]);
        for r in reqs {
            for op in ops(&r) {
                assert!(names.iter().any(|n| op["op"] == *n), "{e:?}: {op}");
            }
        }
    }
    assert_eq!(opt.pathless_op(Op::Replace, json!({"a": 1})), json!({"op": "replace", "value": {"a": 1}}));
}
