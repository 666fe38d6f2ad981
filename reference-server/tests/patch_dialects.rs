//! PATCH over HTTP (RFC 7644 §3.5.2, its `add`, `remove` and `replace` in §3.5.2.1–§3.5.2.3): every shape Okta
//! and Entra send (docs/okta.md §2, docs/entra.md §1–§2), the atomicity of a request (RFC 7644 §3.5.2: on an
//! error no operation is applied) and its error kinds (`noTarget`, `invalidPath`, `invalidValue`,
//! `invalidSyntax`, `mutability`; RFC 7644 §3.12).

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn okta_path_less_deactivation_and_reactivation() {
    let s = Server::start().await;
    let id = id_of(&s.create_user("okta.deact@example.com").await);
    let p = format!("/Users/{id}");
    let r = s.patch_ops(&p, json!([{"op": "replace", "value": {"active": false}}])).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["active"], false);
    let got = s.get(&p).await;
    assert_eq!(got.status, 200, "deactivated users stay readable");
    assert_eq!(got.body["active"], false);
    // a second deactivation is harmless
    assert_eq!(s.patch_ops(&p, json!([{"op": "replace", "value": {"active": false}}])).await.status, 200);
    let r = s.patch_ops(&p, json!([{"op": "replace", "value": {"active": true}}])).await;
    assert_eq!(r.body["active"], true);
}

#[tokio::test]
async fn entra_default_dialect_user_operations() {
    let s = Server::start().await;
    let id = id_of(&s.create_user("entra@example.com").await);
    let p = format!("/Users/{id}");
    let r = s
        .patch_ops(
            &p,
            json!([
                {"op": "Replace", "path": "displayName", "value": "Pvlo"},
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "TestBcwqnm@test.microsoft.com"},
                {"op": "Replace", "path": "name.givenName", "value": "Gtfd"},
                {"op": "Replace", "path": "name.familyName", "value": "Pkqf"},
                {"op": "Replace", "path": "externalId", "value": "Eqpj"},
                {"op": "Replace", "path": format!("{ENTERPRISE}:employeeNumber"), "value": "Eqpj"}
            ]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let b = s.get(&p).await.body;
    assert_eq!(b["displayName"], "Pvlo");
    assert_eq!(b["emails"][0]["value"], "TestBcwqnm@test.microsoft.com");
    assert_eq!(b["emails"][0]["type"], "work");
    assert_eq!(b["name"]["givenName"], "Gtfd");
    assert_eq!(b["name"]["familyName"], "Pkqf");
    assert_eq!(b["externalId"], "Eqpj");
    assert_eq!(b[ENTERPRISE]["employeeNumber"], "Eqpj");
    // disable with a string boolean, capitalised op
    let r = s.patch_ops(&p, json!([{"op": "Replace", "path": "active", "value": "False"}])).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(s.get(&p).await.body["active"], false);
    let r = s.patch_ops(&p, json!([{"op": "Add", "path": "nickName", "value": "Babs"}])).await;
    assert_eq!(r.body["nickName"], "Babs");
    let r = s.patch_ops(&p, json!([{"op": "Replace", "path": "userName", "value": "renamed@testuser.com"}])).await;
    assert_eq!(r.body["userName"], "renamed@testuser.com");
}

#[tokio::test]
async fn entra_aad_opt_scim062020_dialect() {
    let s = Server::start().await;
    let id = id_of(&s.create_user("aadopt@example.com").await);
    let p = format!("/Users/{id}");
    let r = s
        .patch_ops(
            &p,
            json!([
                {"op": "replace", "path": "active", "value": false},
                {"op": "replace", "value": {
                    "displayName": "Bjfe", "name.givenName": "Kkom", "name.familyName": "Unua",
                    format!("{ENTERPRISE}:employeeNumber"): "Aklq"}}
            ]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let b = s.get(&p).await.body;
    assert_eq!(b["active"], false);
    assert_eq!(b["displayName"], "Bjfe");
    assert_eq!(b["name"]["givenName"], "Kkom");
    assert_eq!(b["name"]["familyName"], "Unua");
    assert_eq!(b[ENTERPRISE]["employeeNumber"], "Aklq");
    assert_eq!(b["userName"], "aadopt@example.com", "untouched attributes stay");
    let r =
        s.patch_ops(&p, json!([{"op": "replace", "value": {"active": true, "userName": "someone@example.com"}}])).await;
    assert_eq!(r.body["active"], true);
    assert_eq!(r.body["userName"], "someone@example.com");
}

#[tokio::test]
async fn manager_as_bare_id_as_object_and_removed_by_empty_value() {
    let s = Server::start().await;
    let boss = id_of(&s.create_user("boss@example.com").await);
    let id = id_of(&s.create_user("report@example.com").await);
    let p = format!("/Users/{id}");
    let mgr = format!("{ENTERPRISE}:manager");
    let r = s.patch_ops(&p, json!([{"op": "add", "path": mgr, "value": boss}])).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(s.get(&p).await.body[ENTERPRISE]["manager"]["value"], json!(boss));
    let r = s.patch_ops(&p, json!([{"op": "replace", "path": mgr, "value": {"value": "other-manager-id"}}])).await;
    assert_eq!(r.body[ENTERPRISE]["manager"]["value"], "other-manager-id");
    let r = s.patch_ops(&p, json!([{"op": "replace", "path": mgr, "value": ""}])).await;
    assert_eq!(r.status, 200);
    assert!(r.body.get(ENTERPRISE).and_then(|e| e.get("manager")).is_none(), "{}", r.text);
}

#[tokio::test]
async fn okta_group_push_sequence() {
    let s = Server::start().await;
    let a = id_of(&s.create_user("a@example.com").await);
    let b = id_of(&s.create_user("b@example.com").await);
    let c = id_of(&s.create_user("c@example.com").await);
    let r = s.post("/Groups", json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Test SCIMv2", "members": []})).await;
    assert_eq!(r.status, 201);
    let g = id_of(&r.body);
    let p = format!("/Groups/{g}");
    // rename with a path-less value that carries the group's id
    let r = s.patch_ops(&p, json!([{"op": "replace", "value": {"id": g, "displayName": "Renamed SCIMv2"}}])).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(r.text.is_empty());
    assert_eq!(s.get(&p).await.body["displayName"], "Renamed SCIMv2");
    // an id that differs is refused and nothing changes
    s.patch_ops(&p, json!([{"op": "replace", "value": {"id": "another", "displayName": "Nope"}}]))
        .await
        .assert_error(400, Some("mutability"));
    assert_eq!(s.get(&p).await.body["displayName"], "Renamed SCIMv2");
    // add members
    let r = s.patch_ops(&p, json!([{"op": "add", "path": "members", "value": [{"value": a, "display": "a@example.com"}, {"value": b}]}])).await;
    assert_eq!(r.status, 204);
    let mut ab = vec![a.clone(), b.clone()];
    ab.sort();
    assert_eq!(s.member_ids(&g).await, ab);
    // remove by value filter and add in one PATCH
    let r = s
        .patch_ops(
            &p,
            json!([
                {"op": "remove", "path": format!("members[value eq \"{a}\"]")},
                {"op": "add", "path": "members", "value": [{"value": c, "display": "c@example.com"}]}
            ]),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let mut bc = vec![b.clone(), c.clone()];
    bc.sort();
    assert_eq!(s.member_ids(&g).await, bc);
    // full replace with a path, then path-less replace
    s.patch_ops(&p, json!([{"op": "replace", "path": "members", "value": [{"value": a}]}])).await;
    assert_eq!(s.member_ids(&g).await, vec![a.clone()]);
    s.patch_ops(&p, json!([{"op": "replace", "value": {"members": [{"value": c}]}}])).await;
    assert_eq!(s.member_ids(&g).await, vec![c.clone()]);
    // re-adding an existing member does not duplicate
    s.patch_ops(&p, json!([{"op": "add", "path": "members", "value": [{"value": c}]}])).await;
    assert_eq!(s.member_ids(&g).await, vec![c.clone()]);
    assert_eq!(s.delete(&p).await.status, 204);
    s.get(&p).await.assert_error(404, None);
    s.delete(&p).await.assert_error(404, None);
}

#[tokio::test]
async fn entra_group_operations() {
    let s = Server::start().await;
    let a = id_of(&s.create_user("ea@example.com").await);
    let b = id_of(&s.create_user("eb@example.com").await);
    let r = s
        .post("/Groups", json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", "displayName": "displayName", "meta": {"resourceType": "Group"}}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let g = id_of(&r.body);
    let p = format!("/Groups/{g}");
    s.patch_ops(
        &p,
        json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": a}, {"$ref": null, "value": b}]}]),
    )
    .await;
    assert_eq!(s.member_ids(&g).await.len(), 2);
    let r = s.patch_ops(&p, json!([{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": a}]}])).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(s.member_ids(&g).await, vec![b.clone()], "only the listed member is removed");
    s.patch_ops(&p, json!([{"op": "Replace", "path": "displayName", "value": "displayName updated"}])).await;
    let r = s.get("/Groups?excludedAttributes=members&filter=displayName%20eq%20%22DISPLAYNAME%20UPDATED%22").await;
    assert_eq!(r.body["totalResults"], 1, "case-insensitive displayName filter");
    assert!(r.body["Resources"][0].get("members").is_none());
    s.patch_ops(&p, json!([{"op": "remove", "path": "members"}])).await;
    assert!(s.member_ids(&g).await.is_empty());
}

#[tokio::test]
async fn patch_errors_are_atomic_and_typed() {
    let s = Server::start().await;
    let u = s.create_user("atomic@example.com").await;
    let id = id_of(&u);
    let p = format!("/Users/{id}");
    let cases = [
        (json!({"schemas": [PATCH_OP], "Operations": []}), "invalidSyntax"),
        (json!({"schemas": [PATCH_OP]}), "invalidSyntax"),
        (
            json!({"schemas": [PATCH_OP], "Operations": [{"op": "frobnicate", "path": "title", "value": "x"}]}),
            "invalidSyntax",
        ),
        (
            json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "title", "value": "x"}, {"op": "replace", "path": "noSuchAttr", "value": 1}]}),
            "invalidPath",
        ),
        (
            json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "title", "value": "x"}, {"op": "remove"}]}),
            "noTarget",
        ),
        (
            json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "title", "value": "x"}, {"op": "replace", "path": "active", "value": "perhaps"}]}),
            "invalidValue",
        ),
        (
            json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "title", "value": "x"}, {"op": "replace", "path": "id", "value": "new"}]}),
            "mutability",
        ),
        (
            json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "emails[type eq ", "value": "x"}]}),
            "invalidPath",
        ),
        (json!({"schemas": [PATCH_OP], "Operations": [{"op": "remove", "path": "userName"}]}), "mutability"),
        (
            json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "userName", "value": null}]}),
            "mutability",
        ),
    ];
    for (body, scim_type) in cases {
        let r = s.patch(&p, body.clone()).await;
        r.assert_error(400, Some(scim_type));
        let after = s.get(&p).await.body;
        assert!(after.get("title").is_none(), "half-applied: {body}");
        assert_eq!(after["meta"]["version"], u["meta"]["version"], "{body}");
    }
}

/// RFC 7644 §3.5.2.3: a replace through a value filter that matches no value is 400 `noTarget` and changes nothing
/// — except on the app Entra provisions (`SCIMAzure`), which keeps Entra's expectation that the element is created.
#[tokio::test]
async fn unmatched_filtered_replace_is_no_target_except_on_the_entra_app() {
    use scim_reference_server::tenant::AppKind;
    let s = Server::start().await;
    let user = |name: &str| json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name});
    let replace = json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "w@example.com"}]);
    // the first app (SCIMOkta): the RFC's answer
    let id = id_of(&s.post("/Users", user("no.work.okta@example.com")).await.body);
    let r = s.patch_ops(&format!("/Users/{id}"), replace.clone()).await;
    r.assert_error(400, Some("noTarget"));
    assert!(s.get(&format!("/Users/{id}")).await.body.get("emails").is_none(), "nothing changed");
    // the Entra app: the element is created
    let azure = s.server.endpoints.iter().find(|e| e.app == AppKind::Azure).expect("the seed has an Entra app");
    let token = azure.token.clone().expect("the seeded Entra app has a token");
    let send = |method: reqwest::Method, path: String, body: serde_json::Value| {
        s.client
            .request(method, format!("{}{path}", azure.base_url))
            .bearer_auth(&token)
            .header("Content-Type", "application/scim+json")
            .body(body.to_string())
    };
    let created = Server::finish(send(reqwest::Method::POST, "/Users".into(), user("no.work.entra@example.com"))).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = id_of(&created.body);
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": replace});
    let r = Server::finish(send(reqwest::Method::PATCH, format!("/Users/{id}"), body)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["emails"], json!([{"type": "work", "value": "w@example.com"}]));
}
