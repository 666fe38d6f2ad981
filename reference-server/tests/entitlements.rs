//! Okta's role and entitlement resource types over HTTP: discovery, the read-only endpoints, users that carry
//! `roles` and `entitlements` (which must reference listed values), the CAL a role grants, persistence.
//! Source: Okta, "Build a SCIM 2.0 server with entitlements",
//! https://developer.okta.com/docs/guides/scim-with-entitlements/main/#endpoint-call-sequence

mod common;

use common::*;
use reqwest::Method;
use scim_reference_server::config::Config;
use scim_reference_server::tenant::AppKind;
use scim_reference_server::{spawn, ServerConfig};
use serde_json::{json, Value};

const ROLE: &str = "urn:okta:scim:schemas:core:1.0:Role";
const ENTITLEMENT: &str = "urn:okta:scim:schemas:core:1.0:Entitlement";
const PORTAL: &str = "urn:scimcheck:params:scim:schemas:extension:portal:2.0:User";

fn with(user_name: &str, roles: &[&str], entitlements: &[&str]) -> Value {
    let mut u = okta_user(user_name);
    u["roles"] = roles.iter().map(|r| json!({"value": r, "display": r})).collect();
    u["entitlements"] = entitlements.iter().map(|e| json!({"value": e, "type": "License"})).collect();
    u
}

fn values(v: &Value, attr: &str) -> Vec<String> {
    let mut out: Vec<String> = v[attr]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["value"].as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    out.sort();
    out
}

#[tokio::test]
async fn the_okta_app_declares_roles_and_entitlements_and_the_entra_app_does_not() {
    let s = Server::start().await;
    let rt = s.get("/ResourceTypes").await;
    assert_eq!(rt.status, 200);
    let types = rt.body["Resources"].as_array().unwrap();
    let role = types.iter().find(|t| t["schema"] == ROLE).expect("a Role type");
    assert_eq!((role["id"].as_str(), role["endpoint"].as_str()), (Some("Role"), Some("/Roles")));
    let ent = types.iter().find(|t| t["schema"] == ENTITLEMENT).expect("an Entitlement type");
    assert_eq!(ent["endpoint"], "/Entitlements");
    assert_eq!(rt.body["totalResults"], types.len());
    assert_eq!(s.get("/ResourceTypes/License").await.body["schema"], ENTITLEMENT);
    let schemas = s.get("/Schemas").await;
    let ids: Vec<&str> =
        schemas.body["Resources"].as_array().unwrap().iter().filter_map(|x| x["id"].as_str()).collect();
    assert!(ids.contains(&ROLE) && ids.contains(&ENTITLEMENT), "{ids:?}");
    assert_eq!(s.get(&format!("/Schemas/{ROLE}")).await.status, 200);

    let azure = s.server.endpoints.iter().find(|e| e.app == AppKind::Azure).unwrap();
    let get = |path: &str| {
        let rb = s.client.get(format!("{}{path}", azure.base_url)).bearer_auth(azure.token.as_deref().unwrap());
        Server::finish(rb)
    };
    let rt = get("/ResourceTypes").await;
    assert!(rt.body["Resources"].as_array().unwrap().iter().all(|t| t["schema"] != ROLE && t["schema"] != ENTITLEMENT));
    get("/Roles").await.assert_error(404, None);
    // the Entra app takes any roles, as before
    let r = Server::finish(
        s.client.post(format!("{}/Users", azure.base_url)).bearer_auth(azure.token.as_deref().unwrap()).json(&with(
            "free@x.test",
            &["anything"],
            &[],
        )),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

#[tokio::test]
async fn role_and_entitlement_endpoints_page_filter_and_are_read_only() {
    let s = Server::start().await;
    let first = s.get("/Entitlements?count=1&startIndex=1").await;
    assert_eq!(first.status, 200);
    assert_eq!(first.body["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"]));
    assert_eq!((first.body["itemsPerPage"].clone(), first.body["totalResults"].clone()), (json!(1), json!(3)));
    assert_eq!(first.body["Resources"][0]["schemas"], json!([ENTITLEMENT]));
    assert_eq!(first.body["Resources"][0]["type"], "License");
    let second = s.get("/Entitlements?count=1&startIndex=2").await;
    assert_ne!(second.body["Resources"][0]["id"], first.body["Resources"][0]["id"]);
    let all = s.get("/Roles").await;
    assert_eq!(all.body["Resources"].as_array().unwrap().len(), 3);
    let f = s.get("/Roles?filter=displayName%20eq%20%22Editor%22").await;
    assert_eq!(
        (f.body["totalResults"].clone(), f.body["Resources"][0]["id"].clone()),
        (json!(1), json!("role-editor"))
    );
    let by_id = s.get("/Roles?filter=id+eq+%22role-admin%22").await;
    assert_eq!(by_id.body["Resources"][0]["displayName"], "Administrator");
    s.get("/Roles?filter=displayName%20co%20%22E%22").await.assert_error(400, Some("invalidFilter"));
    let one = s.get("/Roles/role-viewer").await;
    assert_eq!(one.body["meta"]["location"], json!(s.url("/Roles/role-viewer")));
    s.get("/Roles/nope").await.assert_error(404, None);
    s.post("/Roles", json!({"displayName": "x"})).await.assert_error(405, None);
    s.send(Method::DELETE, "/Entitlements/license-basic", None).await.assert_error(405, None);
    s.get("/Licenses").await.assert_error(404, None);
    assert_eq!(s.get("/Roles").await.body, all.body, "nothing changed");
}

#[tokio::test]
async fn users_carry_roles_and_entitlements_through_create_put_and_patch() {
    let s = Server::start().await;
    let u = s.post("/Users", with("ent@x.test", &["role-editor"], &["license-basic", "license-pro"])).await;
    assert_eq!(u.status, 201, "{}", u.text);
    let id = id_of(&u.body);
    assert_eq!(values(&u.body, "roles"), ["role-editor"]);
    assert_eq!(values(&u.body, "entitlements"), ["license-basic", "license-pro"]);
    // Okta's profile push: GET then PUT of the whole user, roles included
    let mut put = s.get(&format!("/Users/{id}")).await.body;
    put["roles"] = json!([{"value": "role-editor"}, {"value": "role-viewer"}]);
    let r = s.put(&format!("/Users/{id}"), put).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(values(&r.body, "roles"), ["role-editor", "role-viewer"]);
    // removal of one entitlement
    let ops = json!([{"op": "remove", "path": "entitlements[value eq \"license-basic\"]"}]);
    let r = s.patch_ops(&format!("/Users/{id}"), ops).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let back = s.get(&format!("/Users/{id}")).await.body;
    assert_eq!(values(&back, "entitlements"), ["license-pro"]);
    assert_eq!(values(&back, "roles"), ["role-editor", "role-viewer"]);
}

#[tokio::test]
async fn unknown_roles_and_entitlements_are_invalid_values_and_change_nothing() {
    let s = Server::start().await;
    let r = s.post("/Users", with("bad@x.test", &[], &["license-gold"])).await;
    let detail = r.assert_error(400, Some("invalidValue"));
    assert!(detail.contains("license-gold") && detail.contains("/Entitlements"), "{detail}");
    let none = s.get("/Users?filter=userName%20eq%20%22bad%40x.test%22").await;
    assert_eq!(none.body["totalResults"], 0, "no user was created");
    s.post("/Users", with("bad2@x.test", &["role-root"], &[])).await.assert_error(400, Some("invalidValue"));

    let u = s.post("/Users", with("good@x.test", &["role-admin"], &["license-pro"])).await;
    let id = id_of(&u.body);
    let before = s.get(&format!("/Users/{id}")).await.body;
    let mut put = before.clone();
    put["roles"] = json!([{"value": "role-root"}]);
    s.put(&format!("/Users/{id}"), put).await.assert_error(400, Some("invalidValue"));
    for ops in [
        json!([{"op": "add", "path": "entitlements", "value": [{"value": "license-gold"}]}]),
        json!([{"op": "replace", "value": {"roles": [{"value": "role-root"}]}}]),
        json!([{"op": "replace", "path": "roles[value eq \"role-admin\"].value", "value": "role-root"}]),
    ] {
        s.patch_ops(&format!("/Users/{id}"), ops.clone()).await.assert_error(400, Some("invalidValue"));
    }
    let after = s.get(&format!("/Users/{id}")).await.body;
    assert_eq!(after, before, "nothing changed: same roles, entitlements and meta.version");
}

#[tokio::test]
async fn the_administrator_role_grants_the_professional_cal() {
    let s = Server::start().await;
    let cal = |id: String| {
        let s = &s;
        async move { s.get(&format!("/Users/{id}?attributes={PORTAL}")).await.body[PORTAL]["cal"].clone() }
    };
    let admin = s.post("/Users", with("boss@x.test", &["role-admin"], &[])).await;
    assert_eq!(cal(id_of(&admin.body)).await, "professional");
    let viewer = s.post("/Users", with("reader@x.test", &["role-viewer"], &[])).await;
    let id = id_of(&viewer.body);
    assert_eq!(cal(id.clone()).await, "standard");
    let ops = json!([{"op": "add", "path": "roles", "value": [{"value": "role-admin"}]}]);
    assert_eq!(s.patch_ops(&format!("/Users/{id}"), ops).await.status, 200);
    assert_eq!(cal(id).await, "professional");
}

#[tokio::test]
async fn a_seeded_catalogue_is_validated_and_kept_in_the_data_file() {
    let seed = |types: Value| {
        Config::from_json(
            &json!({"tenants": [{"name": "acme", "cals": [{"id": "std", "name": "Std", "seats": 10}],
                "apps": {"SCIMOkta": {"enabled": true, "defaultCal": "std", "resourceTypes": types}}}]})
            .to_string(),
        )
        .unwrap()
    };
    let licenses = json!([{"name": "Licence", "endpoint": "/Licenses", "schema": ENTITLEMENT, "multiValued": false,
        "values": [{"id": "gold", "displayName": "Gold"}, {"id": "silver", "displayName": "Silver"}]}]);
    let clash = json!([{"name": "U", "endpoint": "/Users", "schema": ROLE, "values": []}]);
    let err = spawn(ServerConfig::default().with_seed(seed(clash))).await.expect_err("an endpoint of the server");
    assert!(err.to_string().contains("/Users"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("portal.db");
    let first = Server::start_with(ServerConfig::default().with_seed(seed(licenses)).with_data(&data)).await;
    assert_eq!(first.get("/Licenses").await.body["totalResults"], 2);
    let two = json!([{"value": "gold"}, {"value": "silver"}]);
    let mut u = okta_user("single@x.test");
    u["entitlements"] = two;
    first.post("/Users", u).await.assert_error(400, Some("invalidValue"));
    let token = first.server.token.clone();
    first.server.shutdown().await;

    // a second start on the file serves the stored catalogue, whatever the seed says
    let again = Server::start_with(ServerConfig::default().with_data(&data).with_token(token.clone())).await;
    let _ = token;
    let r = again.get("/Licenses?filter=id%20eq%20%22silver%22").await;
    assert_eq!(r.body["Resources"][0]["displayName"], "Silver", "{}", r.text);
    let rt = again.get("/ResourceTypes/Licence").await;
    assert_eq!(rt.body["endpoint"], "/Licenses");
    again.get("/Roles").await.assert_error(404, None);
}
