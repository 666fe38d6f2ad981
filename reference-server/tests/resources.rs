//! Resources and endpoints over HTTP: create, read, replace and delete (RFC 7644 §3.3, §3.4.1, §3.5.1, §3.6);
//! the core and enterprise User and the Group (RFC 7643 §4.1, §4.3, §4.2), `groups` derived from membership and
//! read-only (RFC 7643 §4.1.2); uniqueness (RFC 7643 §2.1, `409 uniqueness` RFC 7644 §3.12); booleans (RFC 7643
//! §2.3.2); versions, `ETag`, `If-Match` and `If-None-Match` (RFC 7644 §3.14); filtering, sorting, paging and
//! attribute projection (RFC 7644 §3.4.2, §3.4.2.3, §3.4.2.4, §3.4.2.5) and search by POST (§3.4.3); the
//! discovery endpoints (RFC 7644 §4).

mod common;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};

fn full_user(user_name: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "userName": user_name,
        "externalId": "ext-full",
        "name": {"formatted": "Ms. Barbara J Jensen III", "familyName": "Jensen", "givenName": "Barbara",
                 "middleName": "Jane", "honorificPrefix": "Ms.", "honorificSuffix": "III"},
        "displayName": "Babs Jensen", "nickName": "Babs", "profileUrl": "https://login.example.com/bjensen",
        "title": "Tour Guide", "userType": "Employee", "preferredLanguage": "en-US", "locale": "en-US",
        "timezone": "America/Los_Angeles", "active": true, "password": "t1meMa$heen",
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
                   {"value": "babs@jensen.org", "type": "home"}],
        "phoneNumbers": [{"value": "555-555-5555", "type": "work"}],
        "ims": [{"value": "someaimhandle", "type": "aim"}],
        "photos": [{"value": "https://photos.example.com/profilephoto/72930000000Ccne/F", "type": "photo"}],
        "addresses": [{"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood",
                       "region": "CA", "postalCode": "91608", "country": "USA", "primary": true}],
        // values the Okta app's built-in catalogue lists (/Entitlements, /Roles): it refuses others
        "entitlements": [{"value": "license-basic"}],
        "roles": [{"value": "role-editor", "primary": true}],
        "x509Certificates": [{"value": "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAwTjELMAkGA1UEBhMCVVMx"}],
        ENTERPRISE: {"employeeNumber": "701984", "costCenter": "4130", "organization": "Universal Studios",
                     "division": "Theme Park", "department": "Tour Operations",
                     "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}}
    })
}

#[tokio::test]
async fn user_with_every_core_and_enterprise_attribute_round_trips() {
    let s = Server::start().await;
    let r = s.post("/Users", full_user("bjensen@example.com")).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(r.header("content-type").unwrap().starts_with("application/scim+json"));
    let id = id_of(&r.body);
    assert_eq!(r.header("location").unwrap(), s.url(&format!("/Users/{id}")));
    assert_eq!(r.header("etag").unwrap(), r.body["meta"]["version"].as_str().unwrap());
    assert!(r.body.get("password").is_none(), "password is write-only");
    let got = s.get(&format!("/Users/{id}")).await;
    assert_eq!(got.status, 200);
    let b = &got.body;
    assert!(b.get("password").is_none());
    assert_eq!(b["meta"]["resourceType"], "User");
    assert_eq!(b["meta"]["location"], json!(s.url(&format!("/Users/{id}"))));
    assert!(b["meta"]["created"].as_str().unwrap().ends_with('Z'));
    assert!(b["meta"]["version"].as_str().unwrap().starts_with("W/\""));
    let sent = full_user("bjensen@example.com");
    for key in [
        "name",
        "displayName",
        "nickName",
        "profileUrl",
        "title",
        "userType",
        "preferredLanguage",
        "locale",
        "timezone",
        "active",
        "emails",
        "phoneNumbers",
        "ims",
        "photos",
        "addresses",
        "entitlements",
        "roles",
        "x509Certificates",
        "externalId",
        "userName",
    ] {
        assert_eq!(b[key], sent[key], "attribute {key}");
    }
    assert_eq!(b[ENTERPRISE]["department"], "Tour Operations");
    assert_eq!(b[ENTERPRISE]["manager"]["value"], "26118915-6090-4610-87e4-49d8ca9f808d");
    let schemas = b["schemas"].as_array().unwrap();
    assert!(
        schemas.contains(&json!(ENTERPRISE)) && schemas.contains(&json!("urn:ietf:params:scim:schemas:core:2.0:User"))
    );
}

#[tokio::test]
async fn user_groups_are_derived_from_membership_and_read_only() {
    let s = Server::start().await;
    let created = s.create_user("member@example.com").await;
    let u = id_of(&created);
    let g = id_of(&s.create_group("Engineering", &[&u]).await);
    let got = s.get(&format!("/Users/{u}")).await;
    // the user's representation changed, so its version did too (RFC 7644 §3.14)
    assert_ne!(got.body["meta"]["version"], created["meta"]["version"]);
    let old_etag = created["meta"]["version"].as_str().unwrap().to_string();
    let r = Server::finish(
        s.client.get(s.url(&format!("/Users/{u}"))).bearer_auth(&s.server.token).header("If-None-Match", &old_etag),
    )
    .await;
    assert_eq!(r.status, 200, "a stale ETag must not answer 304 after a membership change");
    assert_eq!(got.body["groups"][0]["value"], json!(g));
    assert_eq!(got.body["groups"][0]["display"], "Engineering");
    assert_eq!(got.body["groups"][0]["$ref"], json!(s.url(&format!("/Groups/{g}"))));
    // groups is read-only: PATCH on it is a mutability error and changes nothing
    let r =
        s.patch_ops(&format!("/Users/{u}"), json!([{"op": "add", "path": "groups", "value": [{"value": g}]}])).await;
    r.assert_error(400, Some("mutability"));
    let gr = s.get(&format!("/Groups/{g}")).await;
    assert_eq!(gr.body["members"][0]["$ref"], json!(s.url(&format!("/Users/{u}"))));
    assert_eq!(gr.body["members"][0]["type"], "User");
    // renaming the group changes the member's representation and version
    let before = s.get(&format!("/Users/{u}")).await.body["meta"]["version"].clone();
    s.patch_ops(&format!("/Groups/{g}"), json!([{"op": "replace", "path": "displayName", "value": "Platform"}])).await;
    let after = s.get(&format!("/Users/{u}")).await.body;
    assert_eq!(after["groups"][0]["display"], "Platform");
    assert_ne!(after["meta"]["version"], before);
    // deleting the group removes the derived attribute
    assert_eq!(s.delete(&format!("/Groups/{g}")).await.status, 204);
    let gone = s.get(&format!("/Users/{u}")).await.body;
    assert!(gone.get("groups").is_none());
    assert_ne!(gone["meta"]["version"], after["meta"]["version"]);
}

#[tokio::test]
async fn crud_lifecycle_and_delete_hides_the_user() {
    let s = Server::start().await;
    let u = id_of(&s.create_user("life@example.com").await);
    let r = s.delete(&format!("/Users/{u}")).await;
    assert_eq!(r.status, 204);
    assert!(r.text.is_empty());
    s.get(&format!("/Users/{u}")).await.assert_error(404, None);
    s.delete(&format!("/Users/{u}")).await.assert_error(404, None);
    let list = s.get("/Users").await;
    assert_eq!(list.body["totalResults"], 0);
    // Re-provisioning restores the same user, active
    let again = s.post("/Users", okta_user("life@example.com")).await;
    assert_eq!(again.status, 201);
    assert_eq!(id_of(&again.body), u);
    assert_eq!(again.body["active"], true);
}

#[tokio::test]
async fn put_replaces_and_tolerates_echoed_read_only_fields() {
    let s = Server::start().await;
    let created = s.create_user("put@example.com").await;
    let id = id_of(&created);
    let mut body = s.get(&format!("/Users/{id}")).await.body;
    body["name"]["givenName"] = json!("Changed");
    body["password"] = json!("newSecret1");
    body.as_object_mut().unwrap().remove("locale");
    let r = s.put(&format!("/Users/{id}"), body.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["name"]["givenName"], "Changed");
    assert!(r.body.get("locale").is_none(), "PUT replaces: omitted attributes are cleared");
    assert!(r.body.get("password").is_none());
    assert_eq!(r.body["id"], json!(id));
    assert_eq!(r.body["meta"]["created"], created["meta"]["created"]);
    assert_ne!(r.body["meta"]["version"], created["meta"]["version"]);
    // changing id is refused and nothing changes
    let mut bad = r.body.clone();
    bad["id"] = json!("another-id");
    bad["title"] = json!("Should not land");
    s.put(&format!("/Users/{id}"), bad).await.assert_error(400, Some("mutability"));
    let after = s.get(&format!("/Users/{id}")).await.body;
    assert!(after.get("title").is_none());
    assert_eq!(after["meta"]["version"], r.body["meta"]["version"]);
    // PUT on unknown id
    s.put("/Users/00000000-0000-0000-0000-000000000000", okta_user("x@example.com")).await.assert_error(404, None);
}

#[tokio::test]
async fn put_without_active_keeps_the_users_state() {
    let s = Server::start().await;
    let id = id_of(&s.create_user("keep-active@example.com").await);
    let mut body = okta_user("keep-active@example.com");
    body.as_object_mut().unwrap().remove("active");
    let r = s.put(&format!("/Users/{id}"), body.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["active"], true, "omitting active must not suspend");
    s.patch_ops(&format!("/Users/{id}"), json!([{"op": "replace", "value": {"active": false}}])).await;
    let r = s.put(&format!("/Users/{id}"), body).await;
    assert_eq!(r.body["active"], false, "omitting active must not reactivate either");
}

#[tokio::test]
async fn user_name_is_unique_case_insensitively_and_group_names_are_unique() {
    let s = Server::start().await;
    s.create_user("Unique@Example.com").await;
    let r = s.post("/Users", okta_user("unique@EXAMPLE.com")).await;
    r.assert_error(409, Some("uniqueness"));
    assert_eq!(s.get("/Users").await.body["totalResults"], 1);
    let other = id_of(&s.create_user("other@example.com").await);
    // renaming onto a taken userName is refused, by PUT and by PATCH
    let mut body = okta_user("UNIQUE@example.com");
    body["id"] = json!(other);
    s.put(&format!("/Users/{other}"), body).await.assert_error(409, Some("uniqueness"));
    s.patch_ops(
        &format!("/Users/{other}"),
        json!([{"op": "replace", "path": "userName", "value": "unique@example.com"}]),
    )
    .await
    .assert_error(409, Some("uniqueness"));
    assert_eq!(s.get(&format!("/Users/{other}")).await.body["userName"], "other@example.com");
    s.create_group("Sales", &[]).await;
    s.post("/Groups", json!({"displayName": "sales"})).await.assert_error(409, Some("uniqueness"));
    assert_eq!(s.get("/Groups").await.body["totalResults"], 1);
}

#[tokio::test]
async fn members_must_exist_and_nothing_changes_otherwise() {
    let s = Server::start().await;
    let u = id_of(&s.create_user("m1@example.com").await);
    let r = s
        .post(
            "/Groups",
            json!({"displayName": "G", "members": [{"value": u}, {"value": "5f7c9e0a-0000-4000-8000-000000000000"}]}),
        )
        .await;
    r.assert_error(400, Some("invalidValue"));
    assert_eq!(s.get("/Groups").await.body["totalResults"], 0);
    let g = id_of(&s.create_group("G", &[&u]).await);
    let v = s.get(&format!("/Groups/{g}")).await.body["meta"]["version"].clone();
    s.patch_ops(&format!("/Groups/{g}"), json!([{"op": "add", "path": "members", "value": [{"value": "not-a-user"}]}]))
        .await
        .assert_error(400, Some("invalidValue"));
    let after = s.get(&format!("/Groups/{g}")).await.body;
    assert_eq!(after["meta"]["version"], v);
    assert_eq!(s.member_ids(&g).await, vec![u.clone()]);
    // nested groups are allowed members, a group cannot contain itself
    let g2 = id_of(&s.create_group("Parent", &[&g]).await);
    assert_eq!(s.get(&format!("/Groups/{g2}")).await.body["members"][0]["type"], "Group");
    s.patch_ops(&format!("/Groups/{g2}"), json!([{"op": "add", "path": "members", "value": [{"value": g2}]}]))
        .await
        .assert_error(400, Some("invalidValue"));
}

#[tokio::test]
async fn etag_if_match_and_if_none_match() {
    let s = Server::start().await;
    let u = s.create_user("etag@example.com").await;
    let id = id_of(&u);
    let etag = u["meta"]["version"].as_str().unwrap().to_string();
    let path = format!("/Users/{id}");
    // If-None-Match with the current version → 304
    let r =
        Server::finish(s.client.get(s.url(&path)).bearer_auth(&s.server.token).header("If-None-Match", &etag)).await;
    assert_eq!(r.status, 304);
    let r =
        Server::finish(s.client.get(s.url(&path)).bearer_auth(&s.server.token).header("If-None-Match", "W/\"999999\""))
            .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("etag"), Some(etag.as_str()));
    // If-Match mismatch → 412, nothing changes
    let ops = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "title", "value": "X"}]});
    let r = Server::finish(
        s.client
            .patch(s.url(&path))
            .bearer_auth(&s.server.token)
            .header("If-Match", "W/\"1234567\"")
            .header("Content-Type", "application/scim+json")
            .body(ops.to_string()),
    )
    .await;
    r.assert_error(412, None);
    assert!(s.get(&path).await.body.get("title").is_none());
    // If-Match with the current version succeeds and changes the version
    let r = Server::finish(
        s.client
            .patch(s.url(&path))
            .bearer_auth(&s.server.token)
            .header("If-Match", &etag)
            .header("Content-Type", "application/scim+json")
            .body(ops.to_string()),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_ne!(r.header("etag"), Some(etag.as_str()));
    // DELETE with a stale If-Match → 412 and the user stays
    let r = Server::finish(s.client.delete(s.url(&path)).bearer_auth(&s.server.token).header("If-Match", &etag)).await;
    r.assert_error(412, None);
    assert_eq!(s.get(&path).await.status, 200);
}

#[tokio::test]
async fn no_op_writes_keep_the_version() {
    let s = Server::start().await;
    let u = s.create_user("noop@example.com").await;
    let id = id_of(&u);
    let r = s.patch_ops(&format!("/Users/{id}"), json!([{"op": "replace", "path": "active", "value": true}])).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["meta"]["version"], u["meta"]["version"]);
}

#[tokio::test]
async fn paging_is_stable_after_filtering_and_count_is_capped() {
    let s = Server::start().await;
    for i in 0..25 {
        s.create_user(&format!("page{i:02}@example.com")).await;
    }
    s.create_user("zzz@other.org").await;
    let mut seen = Vec::new();
    let mut start = 1;
    loop {
        let r = s.get(&format!("/Users?filter=userName%20co%20%22example.com%22&startIndex={start}&count=10")).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["totalResults"], 25);
        assert_eq!(r.body["startIndex"], start);
        let items = r.body["Resources"].as_array().unwrap();
        assert_eq!(r.body["itemsPerPage"], items.len());
        if items.is_empty() {
            break;
        }
        seen.extend(items.iter().map(|u| u["userName"].as_str().unwrap().to_string()));
        start += 10;
    }
    let expected: Vec<String> = (0..25).map(|i| format!("page{i:02}@example.com")).collect();
    assert_eq!(seen, expected, "creation order, no skip, no repeat");
    // count=0 → totals only; startIndex < 1 → 1; past the end → empty page
    let r = s.get("/Users?count=0").await;
    assert_eq!(r.body["totalResults"], 26);
    assert_eq!(r.body["Resources"], json!([]));
    let r = s.get("/Users?startIndex=-5&count=2").await;
    assert_eq!(r.body["startIndex"], 1);
    assert_eq!(r.body["itemsPerPage"], 2);
    let r = s.get("/Users?startIndex=1000").await;
    assert_eq!(r.body["totalResults"], 26);
    assert_eq!(r.body["Resources"], json!([]));
    s.get("/Users?count=abc").await.assert_error(400, Some("invalidValue"));
}

/// RFC 7644 §3.4.2.4: a `count` above the advertised `filter.maxResults` is served as `maxResults`; so is a list
/// without `count`. The maximum is set below the number of users, so a server that ignored it would list them all.
#[tokio::test]
async fn count_above_the_advertised_maximum_is_capped() {
    use scim_reference_server::directory::DirectoryConfig;
    use scim_reference_server::ServerConfig;
    let max = 4u64;
    let config = ServerConfig { directory: DirectoryConfig { max_results: max as usize }, ..ServerConfig::default() };
    let s = Server::start_with(config).await;
    let spc = s.get("/ServiceProviderConfig").await.body;
    assert_eq!(spc["filter"]["maxResults"], max);
    for i in 0..7 {
        s.create_user(&format!("cap{i}@example.com")).await;
    }
    let total = s.get("/Users?count=0").await.body["totalResults"].as_u64().unwrap();
    assert!(total > max + 2, "the test needs more users ({total}) than the maximum ({max})");
    for query in ["?count=1000", "?count=5", ""] {
        let r = s.get(&format!("/Users{query}")).await;
        assert_eq!(r.status, 200, "{query}: {}", r.text);
        assert_eq!(r.body["totalResults"], total, "{query}: totalResults counts every match");
        assert_eq!(r.body["itemsPerPage"], max, "{query}");
        assert_eq!(r.body["Resources"].as_array().unwrap().len() as u64, max, "{query}");
    }
    // below the maximum, count is honoured
    let r = s.get("/Users?count=3").await;
    assert_eq!(r.body["Resources"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn sorting_and_attribute_projection() {
    let s = Server::start().await;
    for n in ["carol", "alice", "Bob"] {
        s.create_user(&format!("{n}@example.com")).await;
    }
    let names = |r: &Res| -> Vec<String> {
        r.body["Resources"].as_array().unwrap().iter().map(|u| u["userName"].as_str().unwrap().to_string()).collect()
    };
    let r = s.get("/Users?sortBy=userName").await;
    assert_eq!(names(&r), ["alice@example.com", "Bob@example.com", "carol@example.com"]);
    let r = s.get("/Users?sortBy=userName&sortOrder=descending").await;
    assert_eq!(names(&r), ["carol@example.com", "Bob@example.com", "alice@example.com"]);
    s.get("/Users?sortBy=userName&sortOrder=sideways").await.assert_error(400, Some("invalidValue"));
    s.get("/Users?sortBy=noSuchAttribute").await.assert_error(400, Some("invalidValue"));
    let r = s.get("/Users?attributes=userName,name.givenName").await;
    let first = &r.body["Resources"][0];
    assert!(first.get("id").is_some(), "id is always returned");
    assert!(first.get("emails").is_none());
    assert!(first["name"].get("familyName").is_none());
    assert!(first["name"].get("givenName").is_some());
    let r = s.get("/Users?excludedAttributes=emails,name").await;
    let first = &r.body["Resources"][0];
    assert!(first.get("emails").is_none() && first.get("name").is_none() && first.get("userName").is_some());
    let g = id_of(&s.create_group("Proj", &[]).await);
    let r = s.get(&format!("/Groups/{g}?excludedAttributes=members")).await;
    assert_eq!(r.status, 200);
    assert!(r.body.get("members").is_none());
    assert_eq!(r.body["displayName"], "Proj");
}

/// Location (RFC 7644 §3.3) and ETag (§3.14) describe the resource, not the body: a projection that leaves out
/// `meta` (§3.9) keeps both headers.
#[tokio::test]
async fn a_projection_that_leaves_out_meta_keeps_location_and_etag() {
    let s = Server::start().await;
    let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "h1@example.com"});
    let r = s.post("/Users?attributes=userName", body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(r.body.get("meta").is_none(), "{}", r.text);
    let id = id_of(&r.body);
    let location = r.header("location").expect("Location on a 201").to_string();
    assert!(location.ends_with(&format!("/Users/{id}")), "{location}");
    let etag = r.header("etag").expect("ETag on a 201").to_string();
    let r = s.get(&format!("/Users/{id}?excludedAttributes=meta")).await;
    assert_eq!(r.status, 200);
    assert!(r.body.get("meta").is_none());
    assert_eq!(r.header("etag"), Some(etag.as_str()), "the same version");
    let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "h2@example.com"});
    let r = s.post("/Users?excludedAttributes=meta.location", body).await;
    assert!(r.body["meta"].get("location").is_none() && r.body["meta"].get("version").is_some(), "{}", r.text);
    assert!(r.header("location").is_some_and(|l| l.ends_with(&format!("/Users/{}", id_of(&r.body)))));
    let r =
        s.put(&format!("/Users/{id}?attributes=userName"), json!({"userName": "h1@example.com", "title": "x"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.header("etag").is_some_and(|e| e != etag), "a new version after the change");
}

/// The membership attribute left out by `attributes` or `excludedAttributes` (RFC 7644 §3.4.2.5) is left out
/// of every resource of a page, and a filter naming it still matches on it.
#[tokio::test]
async fn a_page_that_leaves_out_memberships_still_filters_on_them() {
    let s = Server::start().await;
    let u = id_of(&s.create_user("m1@example.com").await);
    s.create_user("m2@example.com").await;
    let g = id_of(&s.create_group("Members", &[&u]).await);
    let groups_of = |r: &Res| -> Vec<bool> {
        r.body["Resources"].as_array().unwrap().iter().map(|u| u.get("groups").is_some()).collect()
    };
    assert_eq!(groups_of(&s.get("/Users?sortBy=userName").await), [true, false], "rendered by default");
    assert_eq!(groups_of(&s.get("/Users?sortBy=userName&excludedAttributes=groups").await), [false, false]);
    assert_eq!(groups_of(&s.get("/Users?sortBy=userName&attributes=userName").await), [false, false]);
    assert_eq!(groups_of(&s.get("/Users?sortBy=userName&attributes=userName,groups").await), [true, false]);
    let filter = format!("groups.value%20eq%20%22{g}%22");
    let r = s.get(&format!("/Users?filter={filter}&excludedAttributes=groups")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["totalResults"], 1, "the filter sees the groups the answer leaves out");
    assert_eq!(groups_of(&r), [false]);
    // a page where one user was rendered with its groups (the filter names them) and one has none
    let r = s
        .get("/Users?filter=groups%20pr%20or%20userName%20eq%20%22m2%40example.com%22&excludedAttributes=groups")
        .await;
    assert_eq!(r.body["totalResults"], 2, "{}", r.text);
    assert_eq!(groups_of(&r), [false, false]);
    let r = s.get(&format!("/Groups?filter=members.value%20eq%20%22{u}%22&excludedAttributes=members")).await;
    assert_eq!(r.body["totalResults"], 1);
    assert!(r.body["Resources"][0].get("members").is_none());
    let r = s.get("/Groups?excludedAttributes=members").await;
    assert_eq!(r.body["Resources"][0]["displayName"], "Members");
    assert!(r.body["Resources"][0].get("members").is_none());
    // A sub-attribute asked or left out keeps the rest of the attribute.
    let r = s.get("/Groups?attributes=displayName,members.display").await;
    assert_eq!(r.body["Resources"][0]["members"][0]["display"], "m1 display", "{}", r.text);
    assert!(r.body["Resources"][0]["members"][0].get("value").is_none());
    let r = s.get("/Groups?excludedAttributes=members.value").await;
    assert_eq!(r.body["Resources"][0]["members"][0]["display"], "m1 display", "{}", r.text);
    let r = s.get("/Users?sortBy=userName&attributes=userName,groups.display").await;
    assert_eq!(r.body["Resources"][0]["groups"][0]["display"], "Members", "{}", r.text);
}

#[tokio::test]
async fn search_endpoints_post_a_search_request() {
    let s = Server::start().await;
    let s1 = id_of(&s.create_user("s1@example.com").await);
    s.create_user("s2@example.com").await;
    s.create_group("Searchers", &[&s1]).await;
    let req = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                     "filter": "userName sw \"s1\"", "attributes": ["userName"], "startIndex": 1, "count": 10});
    let r = s.post("/Users/.search", req).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["totalResults"], 1);
    assert!(r.body["Resources"][0].get("emails").is_none());
    let r = s
        .post(
            "/.search",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "meta.created pr"}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["totalResults"], 3, "root search covers users and groups");
    // `attributes` replaces the default set for every type: a type none of the names fits keeps only what is
    // always returned (RFC 7644 §3.4.2.5), not everything.
    let r = s.post("/.search", json!({"filter": "meta.created pr", "attributes": ["members"]})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    for res in r.body["Resources"].as_array().unwrap() {
        let mut keys: Vec<&str> = res.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        let is_user = res["schemas"][0].as_str().unwrap().ends_with(":User");
        let want: &[&str] = if is_user { &["id", "schemas"] } else { &["id", "members", "schemas"] };
        assert_eq!(keys, want, "{res}");
    }
    let r = s.post("/.search", json!({"filter": "meta.created pr", "attributes": ["userName", "displayName"]})).await;
    for res in r.body["Resources"].as_array().unwrap() {
        assert!(res.get("userName").is_some() || res.get("displayName").is_some(), "{res}");
    }
    let r = s.post("/Groups/.search", json!({"filter": "displayName eq \"SEARCHERS\""})).await;
    assert_eq!(r.body["totalResults"], 1);
    s.post("/Users/.search", json!({"filter": "userName eq"})).await.assert_error(400, Some("invalidFilter"));
    s.post("/Users/.search", json!({"count": "many"})).await.assert_error(400, Some("invalidValue"));
    s.send(Method::GET, "/.search", None).await.assert_error(405, None);
}

#[tokio::test]
async fn discovery_endpoints_describe_the_server_and_are_read_only() {
    let s = Server::start().await;
    let spc = s.get("/ServiceProviderConfig").await;
    assert_eq!(spc.status, 200);
    assert_eq!(spc.body["patch"]["supported"], true);
    assert_eq!(spc.body["bulk"]["supported"], false);
    assert_eq!(spc.body["etag"]["supported"], true);
    assert_eq!(spc.body["sort"]["supported"], true);
    let rts = s.get("/ResourceTypes").await;
    // User, Group, and the Okta app's Role and License types (Okta's entitlement URNs)
    assert_eq!(rts.body["totalResults"], 4);
    let user_rt = s.get("/ResourceTypes/User").await;
    assert_eq!(user_rt.body["endpoint"], "/Users");
    assert_eq!(user_rt.body["schemaExtensions"][0]["schema"], ENTERPRISE);
    s.get("/ResourceTypes/Nope").await.assert_error(404, None);
    let schemas = s.get("/Schemas").await;
    assert_eq!(schemas.body["totalResults"], 6, "four of the server's, Okta's Role and Entitlement");
    let one = s.get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group").await;
    assert_eq!(one.body["name"], "Group");
    s.get("/Schemas/urn:nope").await.assert_error(404, None);
    for path in
        ["/ServiceProviderConfig", "/ResourceTypes", "/Schemas", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User"]
    {
        s.post(path, json!({})).await.assert_error(405, None);
        s.send(Method::DELETE, path, None).await.assert_error(405, None);
        s.put(path, json!({})).await.assert_error(405, None);
    }
    for path in ["/ServiceProviderConfig", "/ResourceTypes", "/Schemas"] {
        s.get(&format!("{path}?filter=id%20eq%20%22User%22")).await.assert_error(403, None);
    }
    let r = s.get("/Users?excludedAttributes=schemas,emails").await;
    assert_eq!(r.status, 200, "schemas is always returned; naming it is harmless");
    s.get("/Me").await.assert_error(501, None);
    s.post("/Bulk", json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": []}))
        .await
        .assert_error(501, None);
    s.get("/Nothing/here").await.assert_error(404, None);
}

#[tokio::test]
async fn passwords_are_stored_as_salted_argon2id_and_an_unchanged_one_changes_nothing() {
    let s = Server::start().await;
    let stored = |id: &str| {
        let rec = s.server.directory.user_record(id).unwrap();
        rec.body["password"].as_str().unwrap_or_default().to_string()
    };
    let a = id_of(&s.post("/Users", json!({"userName": "pa@example.com", "password": "s3cret!"})).await.body);
    let b = id_of(&s.post("/Users", json!({"userName": "pb@example.com", "password": "s3cret!"})).await.body);
    let (ha, hb) = (stored(&a), stored(&b));
    assert!(ha.starts_with("$argon2id$v=19$") && !ha.contains("s3cret"), "{ha}");
    assert_ne!(ha, hb, "one password, two users: two salts, two hashes");
    assert!(scim_reference_server::resource::verify_password("s3cret!", &ha));
    // The same password again, by PUT or PATCH: no new hash, no new version.
    let before = s.get(&format!("/Users/{a}")).await.body;
    let mut put = before.clone();
    put["password"] = json!("s3cret!");
    let r = s.put(&format!("/Users/{a}"), put).await;
    assert_eq!(r.body["meta"]["version"], before["meta"]["version"], "{}", r.text);
    let r =
        s.patch_ops(&format!("/Users/{a}"), json!([{"op": "replace", "path": "password", "value": "s3cret!"}])).await;
    assert_eq!(r.body["meta"]["version"], before["meta"]["version"], "{}", r.text);
    assert_eq!(stored(&a), ha);
    // A new password: a new hash that verifies it.
    let r = s.patch_ops(&format!("/Users/{a}"), json!([{"op": "replace", "path": "password", "value": "n3w"}])).await;
    assert_ne!(r.body["meta"]["version"], before["meta"]["version"]);
    assert!(scim_reference_server::resource::verify_password("n3w", &stored(&a)));
}

/// Every write — PUT, PATCH of an attribute, PATCH of a group's members, DELETE — checks `If-Match` the same way
/// (RFC 7644 §3.14): a stale version is 412 with no `scimType` (RFC 7644 §3.12 defines none), one message naming
/// the header and the current version, and nothing changes.
#[tokio::test]
async fn a_stale_if_match_is_one_412_on_every_write() {
    let s = Server::start().await;
    let u = s.create_user("ifmatch@example.com").await;
    let uid = id_of(&u);
    let g = s.create_group("IfMatch", &[]).await;
    let gid = id_of(&g);
    let stale = "W/\"1234567\"";
    let user_path = format!("/Users/{uid}");
    let group_path = format!("/Groups/{gid}");
    let (user_before, group_before) = (s.get(&user_path).await.body, s.get(&group_path).await.body);
    let mut put = user_before.clone();
    put["title"] = json!("changed");
    let attr = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "title", "value": "X"}]});
    let members =
        json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": [{"value": uid}]}]});
    let writes = [
        (reqwest::Method::PUT, user_path.clone(), Some(put), &user_before),
        (reqwest::Method::PATCH, user_path.clone(), Some(attr), &user_before),
        (reqwest::Method::PATCH, group_path.clone(), Some(members), &group_before),
        (reqwest::Method::DELETE, user_path.clone(), None, &user_before),
        (reqwest::Method::DELETE, group_path.clone(), None, &group_before),
    ];
    for (method, path, body, before) in writes {
        let r = s.send_with(method.clone(), &path, body, &[("If-Match", stale)]).await;
        let detail = r.assert_error(412, None);
        let current = before["meta"]["version"].as_str().unwrap();
        assert_eq!(detail, format!("If-Match {stale} does not match the current version {current}"), "{method} {path}");
        assert_eq!(&s.get(&path).await.body, before, "{method} {path} changed nothing");
    }
}

/// One SCIM boolean (RFC 7643 §2.3.2) on every path: Entra's `"False"` string is the boolean on a write and in a
/// filter; a string that is neither true nor false is 400 `invalidValue` on POST, PUT and PATCH, and nothing
/// changes.
#[tokio::test]
async fn booleans_are_true_or_false_on_every_path() {
    let s = Server::start().await;
    let u = s.create_user("bool@example.com").await;
    let path = format!("/Users/{}", id_of(&u));
    let r = s.patch_ops(&path, json!([{"op": "Replace", "path": "active", "value": "False"}])).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["active"], json!(false));
    let found = s.get("/Users?filter=active%20eq%20false").await;
    assert_eq!(found.body["totalResults"], json!(1), "{}", found.text);
    let before = s.get(&path).await.body;
    let r = s.patch_ops(&path, json!([{"op": "replace", "path": "active", "value": "yes"}])).await;
    r.assert_error(400, Some("invalidValue"));
    let mut put = before.clone();
    put["active"] = json!("maybe");
    s.put(&path, put).await.assert_error(400, Some("invalidValue"));
    assert_eq!(s.get(&path).await.body, before, "nothing changed");
    let mut post = okta_user("bool2@example.com");
    post["active"] = json!("1");
    s.post("/Users", post).await.assert_error(400, Some("invalidValue"));
    let none = s.get("/Users?filter=userName%20eq%20%22bool2@example.com%22").await;
    assert_eq!(none.body["totalResults"], json!(0), "nothing created");
}
