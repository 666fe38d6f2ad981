//! The portal side of the reference server over real HTTP: tenants and
//! their domain policy, provisioning apps, API tokens, CALs and their rules, deactivation and deletion,
//! protected and federated accounts, teams, the admin API and the configuration file.
//!
//! Every test starts its own server on 127.0.0.1 port 0 with a [`ManualClock`], so tests run in parallel
//! and token expiry is tested without sleeping.
//!
//! Items 1–4 here; deactivation, federated accounts, teams and the admin API in `tenancy_lifecycle.rs`.
#![allow(dead_code)]

mod common;

include!("tenancy/fixture.rs");

use scim_reference_server::schema::ResourceKind;

// ---------------------------------------------------------------------------------------------------------
// 1. Tenants: addressing, domain policy, unknown tenants, isolation
// ---------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn host_header_and_path_prefix_address_the_same_subdomain_portal() {
    let s = Portal::start().await;
    let id = s.okta().user("host@example.com").await;
    let port = s.server.addr.port();
    for host in ["acme.localhost", "ACME.LocalHost"] {
        let api = s.host_api(host, "SCIMOkta", ACME_OKTA);
        let r = api.get(&format!("/Users/{id}")).await;
        assert_eq!(r.status, 200, "{host}: {}", r.text);
        let location = r.body["meta"]["location"].as_str().unwrap();
        assert!(
            location.eq_ignore_ascii_case(&format!("http://acme.localhost:{port}/api/v1/SCIM/SCIMOkta/Users/{id}")),
            "the base URI follows the Host form: {location}"
        );
    }
    // The Azure app of the same portal through the Host form, with its own token.
    let azure = s.host_api("acme.localhost", "SCIMAzure", ACME_AZURE);
    assert_eq!(azure.get(&format!("/Users/{id}")).await.status, 200);
    // Writes through one form are visible through the other.
    let g = s.host_api("acme.localhost", "SCIMOkta", ACME_OKTA).group("Via Host", &[&id]).await;
    assert_eq!(s.okta().members(&g).await, vec![id.clone()]);
    // Another tenant's subdomain is another portal.
    let beta = s.host_api("beta.localhost", "SCIMOkta", BETA_OKTA);
    assert_eq!(beta.total("/Users").await, 0);
    // Unknown subdomain: 404 SCIM error naming the tenant; nested subdomains and the bare base domain
    // address no portal.
    let r = s.host_api("nope.localhost", "SCIMOkta", ACME_OKTA).get("/Users").await;
    let detail = r.assert_error(404, None);
    assert!(detail.contains("tenant 'nope' not found"), "{detail}");
    for host in ["a.acme.localhost", "localhost", "acme.example.com"] {
        let r = s.host_api(host, "SCIMOkta", ACME_OKTA).get("/Users").await;
        r.assert_error(404, None);
    }
    // The path prefix wins over the Host header.
    let mut both = s.okta();
    both.host = Some(format!("beta.localhost:{port}"));
    assert_eq!(both.get(&format!("/Users/{id}")).await.status, 200);
}

#[tokio::test]
async fn the_configured_base_domain_decides_which_hosts_are_portals() {
    let mut seed = seed();
    seed["baseDomain"] = json!("portal.test");
    let s = Portal::with_seed(seed).await;
    let id = s.okta().user("bd@example.com").await;
    let r = s.host_api("acme.portal.test", "SCIMOkta", ACME_OKTA).get(&format!("/Users/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    s.host_api("acme.localhost", "SCIMOkta", ACME_OKTA).get("/Users").await.assert_error(404, None);
    // The admin API shows the loopback base URIs.
    let r = s.admin(Method::GET, "/tenants/acme/apps/SCIMOkta", None).await;
    assert_eq!(r.body["baseUri"], json!(format!("{}/t/acme/api/v1/SCIM/SCIMOkta", s.origin())));
}

#[tokio::test]
async fn unknown_tenants_answer_404_before_anything_else() {
    let s = Portal::start().await;
    for (path, auth) in [
        ("/t/nope/api/v1/SCIM/SCIMOkta/Users", Some(format!("Bearer {ACME_OKTA}"))),
        ("/t/nope/api/v1/SCIM/SCIMOkta/Users", None),
        ("/t/nope/api/v1/SCIM/NoSuchApp/Users", None),
        ("/t/nope/api/v1/SCIM/SCIMAzure", Some("Bearer garbage-garbage-garbage".into())),
    ] {
        let mut rb = s.client.get(format!("{}{path}", s.origin()));
        if let Some(a) = auth {
            rb = rb.header("Authorization", a);
        }
        let r = Server::finish(rb).await;
        let detail = r.assert_error(404, None);
        assert!(detail.contains("tenant 'nope' not found"), "{path}: {detail}");
    }
    // Not a SCIM path at all.
    for path in ["/t/acme/elsewhere", "/api/v1/SCIM/SCIMOkta/Users", "/"] {
        let r = Server::finish(s.client.get(format!("{}{path}", s.origin())).bearer_auth(ACME_OKTA)).await;
        r.assert_error(404, None);
    }
}

#[tokio::test]
async fn scim_is_served_only_to_subdomain_portals() {
    let s = Portal::start().await;
    for (tenant, token) in [("dirportal", DIR_OKTA), ("customportal", CUSTOM_OKTA)] {
        let own = s.api(tenant, "SCIMOkta", token);
        let fake = "00000000-0000-0000-0000-000000000000";
        for api in [own.clone(), own.with_auth(None), own.with_token(ACME_OKTA), s.api(tenant, "SCIMAzure", token)] {
            for (method, path, body) in every_endpoint(fake, fake) {
                let r = api.send(method.clone(), &path, body).await;
                let detail = r.assert_error(403, None);
                assert!(detail.contains("provisioning requires a subdomain portal"), "{method} {path}: {detail}");
            }
        }
        // The domain policy is checked before the app name.
        let r = s.api(tenant, "NoSuchApp", token).get("/Users").await;
        assert!(r.assert_error(403, None).contains("subdomain"));
        // ... and applies to the Host form too.
        let r = s.host_api(&format!("{tenant}.localhost"), "SCIMOkta", token).get("/Users").await;
        assert!(r.assert_error(403, None).contains("subdomain"));
        // Nothing was written.
        let t = s.server.tenants.get(tenant).unwrap();
        assert_eq!(t.directory.count(ResourceKind::User), 0);
        assert_eq!(t.directory.count(ResourceKind::Group), 0);
        // The admin API still manages the tenant.
        let r = s.admin(Method::GET, &format!("/tenants/{tenant}"), None).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["domainPolicy"], if tenant == "dirportal" { "directory" } else { "custom" });
    }
}

#[tokio::test]
async fn check_order_is_tenant_policy_app_token_toggle() {
    let s = Portal::start().await;
    let get = |path: String, auth: Option<&'static str>| {
        let mut rb = s.client.get(format!("{}{path}", s.origin()));
        if let Some(a) = auth {
            rb = rb.header("Authorization", a);
        }
        Server::finish(rb)
    };
    assert!(get("/t/nope/api/v1/SCIM/Foo/Users".into(), None).await.assert_error(404, None).contains("tenant"));
    assert!(get("/t/dirportal/api/v1/SCIM/Foo/Users".into(), None).await.assert_error(403, None).contains("subdomain"));
    let d = get("/t/acme/api/v1/SCIM/Foo/Users".into(), None).await.assert_error(404, None);
    assert!(d.contains("unknown provisioning app"), "{d}");
    let d = get("/t/acme/api/v1/SCIM/SCIMOkta/Users".into(), None).await.assert_error(401, None);
    assert!(d.contains("authentication required"), "{d}");
    let r = s.set_app("acme", "SCIMOkta", json!({"enabled": false, "defaultCal": "standard"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let d = s.okta().with_token("not-a-token-at-all").get("/Users").await.assert_error(401, None);
    assert_eq!(d, INVALID);
    let d = s.okta().get("/Users").await.assert_error(403, None);
    assert!(d.contains("SCIMOkta app is disabled"), "{d}");
}

#[tokio::test]
async fn tenants_share_nothing() {
    let s = Portal::start().await;
    let (acme, beta) = (s.okta(), s.beta());
    // The same names live independently in both tenants.
    let a = acme.user("same@example.com").await;
    let b = beta.user("same@example.com").await;
    assert_ne!(a, b);
    let ga = acme.group("Same Team", &[&a]).await;
    let gb = beta.group("Same Team", &[&b]).await;
    assert_eq!(acme.total("/Users").await, 1);
    assert_eq!(beta.total("/Users").await, 1);
    assert_eq!(acme.total("/Groups").await, 1);
    // Licences are per tenant.
    assert_eq!(s.used_of("acme", "standard").await, 1);
    assert_eq!(s.used_of("beta", "standard").await, 1);
    // Changes in one tenant do not reach the other.
    assert_eq!(acme.delete(&format!("/Users/{a}")).await.status, 204);
    assert_eq!(beta.get(&format!("/Users/{b}")).await.status, 200);
    assert_eq!(beta.members(&gb).await, vec![b.clone()]);
    assert_eq!(acme.members(&ga).await, Vec::<String>::new());
    // Local accounts too: acme's owner name is free in beta.
    assert_eq!(beta.user("owner@acme.test").await.len(), 36);
}

#[tokio::test]
async fn every_endpoint_rejects_a_foreign_token_with_401() {
    let s = Portal::start().await;
    let okta = s.okta();
    let u = okta.user_with("iso@example.com", json!({"title": "producer"})).await;
    let g = okta.group("Iso", &[&u]).await;
    let beta_before = snapshot(&s.beta()).await;
    let before = snapshot(&okta).await;
    let foreign = [
        (s.okta(), BETA_OKTA),
        (s.okta(), BETA_AZURE),
        (s.okta(), ACME_AZURE),
        (s.okta(), DIR_OKTA),
        (s.azure(), ACME_OKTA),
        (s.azure(), BETA_AZURE),
        (s.beta(), ACME_OKTA),
    ];
    for (api, token) in foreign {
        for scheme in ["Bearer ", ""] {
            let api = api.with_auth(Some(&format!("{scheme}{token}")));
            for (method, path, body) in every_endpoint(&u, &g) {
                let r = api.send(method.clone(), &path, body).await;
                let detail = r.assert_error(401, None);
                assert_eq!(detail, INVALID, "{method} {}{path}", api.base);
                assert!(!r.text.contains(token), "the token is echoed: {}", r.text);
                assert!(r.header("www-authenticate").is_some_and(|h| h.starts_with("Bearer")));
            }
        }
    }
    assert_eq!(snapshot(&okta).await, before, "nothing changed in acme");
    assert_eq!(snapshot(&s.beta()).await, beta_before, "nothing changed in beta");
    // Every endpoint does answer with the right token (so the matrix above tested authentication).
    for (method, path, body) in every_endpoint(&u, &g) {
        let r = okta.send(method.clone(), &path, body).await;
        assert!(![401, 403].contains(&r.status.as_u16()), "{method} {path}: {}", r.text);
    }
}

#[tokio::test]
async fn foreign_resource_ids_are_not_found() {
    let s = Portal::start().await;
    let (acme, beta) = (s.okta(), s.beta());
    let bu = beta.user("beta.user@example.com").await;
    let bg = beta.group("Beta Team", &[&bu]).await;
    let au = acme.user("acme.user@example.com").await;
    let ag = acme.group("Acme Team", &[&au]).await;
    let beta_before = snapshot(&beta).await;
    let acme_before = snapshot(&acme).await;
    for api in [s.okta(), s.azure()] {
        for (method, path, body) in every_endpoint(&bu, &bg) {
            if !(path.contains(&bu) || path.contains(&bg)) {
                continue;
            }
            let r = api.send(method.clone(), &path, body).await;
            r.assert_error(404, None);
        }
        // ... also when the kinds are swapped.
        api.get(&format!("/Users/{bg}")).await.assert_error(404, None);
        api.get(&format!("/Groups/{bu}")).await.assert_error(404, None);
        // Filters and searches by a foreign id find nothing.
        assert_eq!(api.total(&format!("/Users?filter=id%20eq%20%22{bu}%22")).await, 0);
        assert_eq!(api.total(&format!("/Groups?filter=id%20eq%20%22{bg}%22")).await, 0);
        let r = api.post("/.search", json!({"schemas": [SEARCH], "filter": format!("id eq \"{bu}\"")})).await;
        assert_eq!(r.body["totalResults"], 0, "{}", r.text);
        // A foreign id cannot become a member.
        let r =
            api.post("/Groups", json!({"schemas": [GROUP], "displayName": "Mixed", "members": [{"value": bu}]})).await;
        r.assert_error(400, Some("invalidValue"));
        let r = api
            .patch_ops(&format!("/Groups/{ag}"), json!([{"op": "add", "path": "members", "value": [{"value": bu}]}]))
            .await;
        r.assert_error(400, Some("invalidValue"));
    }
    // And the other way round.
    beta.get(&format!("/Users/{au}")).await.assert_error(404, None);
    beta.delete(&format!("/Groups/{ag}")).await.assert_error(404, None);
    assert_eq!(snapshot(&beta).await, beta_before);
    assert_eq!(snapshot(&acme).await, acme_before);
    // The admin API's access view is per tenant as well.
    let r = s.admin(Method::GET, &format!("/tenants/acme/users/{bu}/access"), None).await;
    r.assert_error(404, None);
}

// ---------------------------------------------------------------------------------------------------------
// 2. Provisioning apps
// ---------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn both_apps_write_the_same_directory() {
    let s = Portal::start().await;
    let (okta, azure) = (s.okta(), s.azure());
    let a = okta.user("from.okta@example.com").await;
    let b = azure.user("from.azure@example.com").await;
    assert_eq!(okta.total("/Users").await, 2);
    assert_eq!(azure.total("/Users").await, 2);
    // Each app renders locations under its own base URI.
    let r = azure.get(&format!("/Users/{a}")).await;
    assert_eq!(r.body["meta"]["location"], json!(format!("{}/Users/{a}", azure.base)));
    let r = okta.get(&format!("/Users/{b}")).await;
    assert_eq!(r.body["meta"]["location"], json!(format!("{}/Users/{b}", okta.base)));
    // Uniqueness spans both apps.
    azure.post("/Users", okta_user("from.okta@example.com")).await.assert_error(409, Some("uniqueness"));
    // A group pushed by one app is changed by the other.
    let g = okta.group("Shared", &[&a]).await;
    let r = azure
        .patch_ops(&format!("/Groups/{g}"), json!([{"op": "Add", "path": "members", "value": [{"value": b}]}]))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let mut both = vec![a.clone(), b.clone()];
    both.sort();
    assert_eq!(okta.members(&g).await, both);
    // App names in the URI are case-insensitive.
    let lower = s.api("acme", "scimokta", ACME_OKTA);
    assert_eq!(lower.total("/Users").await, 2);
    // Each app assigns CALs with its own default (Okta: standard, Azure: creator).
    assert_eq!(okta.cal(&a).await, "standard");
    assert_eq!(okta.cal(&b).await, "creator");
}

#[tokio::test]
async fn a_disabled_app_answers_403_and_enabling_needs_a_default_cal() {
    let s = Portal::start().await;
    let (okta, azure) = (s.okta(), s.azure());
    let u = okta.user("toggle@example.com").await;
    let g = okta.group("Toggle", &[&u]).await;
    let before = snapshot(&azure).await;
    // PUT replaces the app's settings as a whole: rules left out are dropped.
    let r = s.set_app("acme", "SCIMOkta", json!({"enabled": false, "defaultCal": "standard"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"enabled": false, "defaultCal": "standard", "rules": [], "baseUri": okta.base}));
    let disabled = r.body;
    for (method, path, body) in every_endpoint(&u, &g) {
        let r = okta.send(method.clone(), &path, body).await;
        let d = r.assert_error(403, None);
        assert!(d.contains("disabled"), "{method} {path}: {d}");
    }
    assert_eq!(snapshot(&azure).await, before, "nothing changed; the other app still works");
    // Enabling without a default CAL, or with an unknown one, is refused and changes nothing.
    for bad in [
        json!({"enabled": true}),
        json!({"enabled": true, "defaultCal": null}),
        json!({"enabled": true, "defaultCal": "gold"}),
        json!({"enabled": true, "defaultCal": "standard", "rules": [
            {"attribute": "title", "condition": "equals", "value": "x", "cal": "gold"}]}),
        json!({"enabled": true, "defaultCal": "standard", "rules": [
            {"attribute": "a.b.c", "condition": "equals", "value": "x", "cal": "standard"}]}),
        json!({"enabled": true, "defaultCal": "standard", "rules": [
            {"attribute": "title", "condition": "like", "value": "x", "cal": "standard"}]}),
        json!({"enabled": true, "defaultCal": "standard", "colour": "red"}),
    ] {
        let r = s.set_app("acme", "SCIMOkta", bad.clone()).await;
        r.assert_error(400, Some("invalidValue"));
        let now = s.admin(Method::GET, "/tenants/acme/apps/SCIMOkta", None).await;
        assert_eq!(now.body, disabled, "{bad}");
    }
    okta.get("/Users").await.assert_error(403, None);
    // Enabling with a default CAL restores service; the rules given replace the old ones.
    let r = s.set_app("acme", "SCIMOkta", json!({"enabled": true, "defaultCal": "creator"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"enabled": true, "defaultCal": "creator", "rules": [], "baseUri": okta.base}));
    assert_eq!(okta.total("/Users").await, 1);
    let v = okta.user("after.toggle@example.com").await;
    assert_eq!(okta.cal(&v).await, "creator");
    // Unknown apps in the admin API.
    s.admin(Method::GET, "/tenants/acme/apps/SCIMFoo", None).await.assert_error(404, None);
}

// ---------------------------------------------------------------------------------------------------------
// 3. API tokens
// ---------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn issued_tokens_are_shown_once_and_listed_by_prefix() {
    let s = Portal::start().await;
    let issued = s.issue("acme", "SCIMOkta", json!({"expiresInDays": 30, "label": "okta prod"})).await;
    let token = issued["token"].as_str().unwrap().to_string();
    let id = issued["id"].as_str().unwrap().to_string();
    let prefix = issued["prefix"].as_str().unwrap();
    // 256 bits: "scim_" + 43 base64url characters.
    assert!(token.starts_with("scim_") && token.len() == 48, "{token}");
    assert!(token[5..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert_eq!(prefix.len(), 12);
    assert!(token.starts_with(prefix));
    assert_eq!(issued["label"], "okta prod");
    assert_eq!(issued["createdAt"], "2026-01-01T00:00:00.000Z");
    assert_eq!(issued["expiresAt"], "2026-01-31T00:00:00.000Z");
    // Two issues never give the same token.
    let other = s.issue("acme", "SCIMOkta", json!({})).await;
    assert_ne!(other["token"], issued["token"]);
    assert_eq!(other["expiresAt"], "2026-04-01T00:00:00.000Z", "default expiry: 90 days");
    // Listing shows metadata, never the secret.
    let list = s.tokens("acme", "SCIMOkta").await;
    assert!(!list.text.contains(&token));
    assert!(!list.text.contains(ACME_OKTA));
    let entries = list.body.as_array().unwrap();
    assert_eq!(entries.len(), 3, "the seeded token and two issued ones");
    let mine = entries.iter().find(|e| e["id"] == json!(id)).unwrap();
    assert_eq!(
        mine,
        &json!({"id": id, "prefix": prefix, "label": "okta prod", "createdAt": "2026-01-01T00:00:00.000Z",
                "expiresAt": "2026-01-31T00:00:00.000Z", "lastUsed": null, "status": "active"})
    );
    let seeded = &entries[0];
    assert_eq!(seeded["prefix"], "acme-okt", "a configured token keeps at most a quarter of itself");
    assert_eq!(seeded["label"], "seeded");
    // Using the token records when.
    s.clock.advance(Duration::hours(5));
    assert_eq!(s.okta().with_token(&token).get("/Users").await.status, 200);
    let list = s.tokens("acme", "SCIMOkta").await;
    let mine = list.body.as_array().unwrap().iter().find(|e| e["id"] == json!(id)).unwrap().clone();
    assert_eq!(mine["lastUsed"], "2026-01-01T05:00:00.000Z");
    // The issued token belongs to SCIMOkta of acme only.
    s.azure().with_token(&token).get("/Users").await.assert_error(401, None);
    s.beta().with_token(&token).get("/Users").await.assert_error(401, None);
    // Bad requests.
    for bad in [
        json!({"expiresInDays": 0}),
        json!({"expiresInDays": 3651}),
        json!({"expiresAt": "tomorrow"}),
        json!({"expiresAt": "2025-12-31T00:00:00Z"}),
        json!({"expiresAt": "2026-02-01T00:00:00Z", "expiresInDays": 3}),
        json!({"secret": "x"}),
    ] {
        let r = s.admin(Method::POST, "/tenants/acme/apps/SCIMOkta/tokens", Some(bad.clone())).await;
        r.assert_error(400, Some("invalidValue"));
    }
    assert_eq!(s.tokens("acme", "SCIMOkta").await.body.as_array().unwrap().len(), 3, "refusals issue nothing");
    let r = s.issue("acme", "SCIMAzure", json!({"expiresAt": "2026-06-01T12:00:00+02:00"})).await;
    assert_eq!(r["expiresAt"], "2026-06-01T10:00:00.000Z");
}

#[tokio::test]
async fn authorization_header_forms() {
    let s = Portal::start().await;
    s.okta().user("auth@example.com").await;
    let okta = s.okta();
    // Bearer (any case) and Okta's "Header auth" (the raw token) are accepted; Okta's credential test works.
    for value in [format!("Bearer {ACME_OKTA}"), format!("bearer {ACME_OKTA}"), ACME_OKTA.to_string()] {
        let r = okta.with_auth(Some(&value)).get("/Users?startIndex=1&count=2").await;
        assert_eq!(r.status, 200, "{value}: {}", r.text);
        assert_eq!(r.body["totalResults"], 1);
    }
    // Anything else is 401 without echoing the credential.
    let missing = okta.with_auth(None).get("/Users").await;
    assert!(missing.assert_error(401, None).contains("authentication required"));
    for value in [
        format!("Basic {ACME_OKTA}"),
        "Bearer".to_string(),
        format!("Bearer {ACME_OKTA} extra"),
        format!("Bearer {}", &ACME_OKTA[..20]),
        format!("Bearer {ACME_OKTA}x"),
        "Bearer acme-okt".to_string(),
    ] {
        let r = okta.with_auth(Some(&value)).get("/Users").await;
        assert_eq!(r.assert_error(401, None), INVALID, "{value}");
        assert!(!r.text.contains("acme-okta-token"), "{}", r.text);
    }
}

#[tokio::test]
async fn tokens_expire_by_the_clock() {
    let mut seed = seed();
    seed["tenants"][0]["apps"]["SCIMAzure"]["tokens"] = json!([
        {"token": ACME_AZURE, "expiresAt": "2026-01-01T12:00:00Z"},
        {"token": "acme-azure-old-token-0123456789", "expiresAt": "2025-12-31T00:00:00Z"}
    ]);
    let s = Portal::with_seed(seed).await;
    let issued = s.issue("acme", "SCIMOkta", json!({"expiresInDays": 1})).await;
    let token = issued["token"].as_str().unwrap().to_string();
    let okta = s.okta().with_token(&token);
    assert_eq!(okta.get("/Users").await.status, 200);
    assert_eq!(s.azure().get("/Users").await.status, 200);
    // A configured token that expired before the server started.
    let r = s.azure().with_token("acme-azure-old-token-0123456789").get("/Users").await;
    assert_eq!(r.assert_error(401, None), "the bearer token has expired");
    s.clock.advance(Duration::hours(12) - Duration::milliseconds(1));
    assert_eq!(s.azure().get("/Users").await.status, 200, "valid until the last millisecond");
    s.clock.advance(Duration::milliseconds(1));
    let r = s.azure().get("/Users").await;
    assert_eq!(r.assert_error(401, None), "the bearer token has expired");
    assert!(!r.text.contains(ACME_AZURE));
    s.clock.advance(Duration::hours(12));
    for (method, path, body) in every_endpoint("x", "y") {
        let r = okta.send(method.clone(), &path, body).await;
        assert_eq!(r.assert_error(401, None), "the bearer token has expired", "{method} {path}");
        assert!(!r.text.contains(&token));
    }
    // Expired tokens stay listed with their status; unexpired ones keep working.
    let list = s.tokens("acme", "SCIMOkta").await;
    let entry = list.body.as_array().unwrap().iter().find(|e| e["id"] == issued["id"]).unwrap().clone();
    assert_eq!(entry["status"], "expired");
    assert_eq!(entry["lastUsed"], "2026-01-01T00:00:00.000Z");
    let azure_list = s.tokens("acme", "SCIMAzure").await;
    assert!(azure_list.body.as_array().unwrap().iter().all(|e| e["status"] == "expired"));
    assert_eq!(s.okta().get("/Users").await.status, 200, "the seeded token expires after a year");
    // A token whose expiry passed during a request series: the next request after expiry fails, a fresh
    // token works right away.
    let fresh = s.issue("acme", "SCIMOkta", json!({"expiresAt": "2027-01-01T00:00:00Z"})).await;
    assert_eq!(s.okta().with_token(fresh["token"].as_str().unwrap()).get("/Users").await.status, 200);
}

#[tokio::test]
async fn tokens_are_revoked_individually_and_rotate() {
    let s = Portal::start().await;
    let old = s.issue("acme", "SCIMOkta", json!({"label": "old"})).await;
    let new = s.issue("acme", "SCIMOkta", json!({"label": "new"})).await;
    let (old_t, new_t) = (old["token"].as_str().unwrap(), new["token"].as_str().unwrap());
    // Several tokens are live at once: the IdP can switch before the old one is revoked.
    for t in [old_t, new_t, ACME_OKTA] {
        assert_eq!(s.okta().with_token(t).get("/Users").await.status, 200);
    }
    let r = s
        .admin(Method::DELETE, &format!("/tenants/acme/apps/SCIMOkta/tokens/{}", old["id"].as_str().unwrap()), None)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = s.okta().with_token(old_t).get("/Users").await;
    assert_eq!(r.assert_error(401, None), "the bearer token has been revoked");
    assert!(!r.text.contains(old_t));
    assert_eq!(s.okta().with_token(new_t).get("/Users").await.status, 200);
    assert_eq!(s.okta().get("/Users").await.status, 200);
    // Revocation wins over a later expiry; revoking twice is harmless.
    s.clock.advance(Duration::days(400));
    assert_eq!(
        s.okta().with_token(old_t).get("/Users").await.assert_error(401, None),
        "the bearer token has been revoked"
    );
    let path = format!("/tenants/acme/apps/SCIMOkta/tokens/{}", old["id"].as_str().unwrap());
    assert_eq!(s.admin(Method::DELETE, &path, None).await.status, 204);
    let statuses: Vec<(Value, Value)> = s
        .tokens("acme", "SCIMOkta")
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["label"].clone(), e["status"].clone()))
        .collect();
    assert_eq!(
        statuses,
        vec![(json!("seeded"), json!("expired")), (json!("old"), json!("revoked")), (json!("new"), json!("expired"))]
    );
    // Unknown ids: 404; a token id of another app is unknown there.
    for id in ["00000000-0000-0000-0000-000000000000", "not-a-uuid"] {
        s.admin(Method::DELETE, &format!("/tenants/acme/apps/SCIMOkta/tokens/{id}"), None)
            .await
            .assert_error(404, None);
    }
    let path = format!("/tenants/acme/apps/SCIMAzure/tokens/{}", new["id"].as_str().unwrap());
    s.admin(Method::DELETE, &path, None).await.assert_error(404, None);
    s.admin(Method::DELETE, &format!("/tenants/nope/apps/SCIMOkta/tokens/{}", new["id"].as_str().unwrap()), None)
        .await
        .assert_error(404, None);
}

#[tokio::test]
async fn a_token_is_accepted_only_by_its_own_app_of_its_own_tenant() {
    let s = Portal::start().await;
    let apps = [("acme", "SCIMOkta"), ("acme", "SCIMAzure"), ("beta", "SCIMOkta"), ("beta", "SCIMAzure")];
    let tokens = [ACME_OKTA, ACME_AZURE, BETA_OKTA, BETA_AZURE];
    for (i, (tenant, app)) in apps.iter().enumerate() {
        for (j, token) in tokens.iter().enumerate() {
            for form in [format!("Bearer {token}"), token.to_string()] {
                let r = s.api(tenant, app, "unused").with_auth(Some(&form)).get("/Users").await;
                if i == j {
                    assert_eq!(r.status, 200, "{tenant}/{app} with its own token: {}", r.text);
                } else {
                    assert_eq!(r.assert_error(401, None), INVALID, "{tenant}/{app} with token {j}");
                }
            }
        }
    }
    // The admin key is no SCIM token, and SCIM tokens open no admin route.
    s.okta().with_token(ADMIN_KEY).get("/Users").await.assert_error(401, None);
    for key in [Some(ACME_OKTA), Some("wrong-key"), None] {
        let r = s.admin_with(key, Method::GET, "/tenants", None).await;
        r.assert_error(401, None);
        if let Some(k) = key {
            assert!(!r.text.contains(k));
        }
        let r = s.admin_with(key, Method::POST, "/tenants", Some(json!({"name": "sneaky"}))).await;
        r.assert_error(401, None);
    }
    assert!(s.server.tenants.get("sneaky").is_none());
}

// ---------------------------------------------------------------------------------------------------------
// 4. CALs
// ---------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn rules_are_evaluated_in_order_and_the_first_match_wins() {
    let s = Portal::start().await;
    let (okta, azure) = (s.okta(), s.azure());
    let plain = okta.user("plain@example.com").await;
    assert_eq!(okta.cal(&plain).await, "standard", "no match: the app's default CAL");
    let producer = okta.user_with("producer@example.com", json!({"title": "PRODUCER"})).await;
    assert_eq!(okta.cal(&producer).await, "creator", "equals, case-insensitive");
    let exec = okta.user_with("exec@example.com", json!({"title": "Executive Producer"})).await;
    assert_eq!(okta.cal(&exec).await, "standard", "equals is not contains");
    let media = okta.user_with("media@example.com", json!({ENTERPRISE: {"department": "Media Production"}})).await;
    assert_eq!(okta.cal(&media).await, "creator", "startsWith on an enterprise attribute");
    let social = okta.user_with("social@example.com", json!({ENTERPRISE: {"department": "Social media"}})).await;
    assert_eq!(okta.cal(&social).await, "standard", "startsWith is not contains");
    // Rule 1 (groups contains "admin") outranks rule 2 (department) once the user is in such a group.
    let both =
        okta.user_with("both@example.com", json!({"title": "producer", ENTERPRISE: {"department": "media"}})).await;
    assert_eq!(okta.cal(&both).await, "creator");
    let g = okta.group("SysADMIN Crew", &[&both]).await;
    assert_eq!(okta.cal(&both).await, "professional", "contains on group names, case-insensitive");
    // The Azure app has its own default and no rules: the same attributes give its default.
    let az = azure.user_with("azure.producer@example.com", json!({"title": "producer"})).await;
    assert_eq!(azure.cal(&az).await, "creator");
    let az2 = azure.user("azure.plain@example.com").await;
    assert_eq!(azure.cal(&az2).await, "creator");
    // A user keeps following the rules of the app that provisioned it, whichever app changes it later.
    let r = okta
        .patch_ops(&format!("/Groups/{g}"), json!([{"op": "add", "path": "members", "value": [{"value": az2}]}]))
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(azure.cal(&az2).await, "creator", "SCIMAzure has no group rule");
    assert_eq!(
        s.used("acme").await,
        BTreeMap::from([("standard".into(), 3), ("professional".into(), 1), ("creator".into(), 4)])
    );
}

#[tokio::test]
async fn rule_conditions_match_attribute_paths_case_insensitively() {
    let s = Portal::start().await;
    let rules = json!([
        {"attribute": "emails.value", "condition": "contains", "value": "@VIP.example", "cal": "professional"},
        {"attribute": format!("{ENTERPRISE}:manager"), "condition": "equals", "value": "BOSS-1", "cal": "creator"},
        {"attribute": "urn:ietf:params:scim:schemas:core:2.0:User:userName", "condition": "startsWith",
         "value": "Contractor.", "cal": "creator"},
        {"attribute": "groups.display", "condition": "equals", "value": "video editors", "cal": "creator"},
        {"attribute": format!("{PORTAL}:portalRole"), "condition": "equals", "value": "MANAGER", "cal": "professional"},
        {"attribute": "name.familyName", "condition": "contains", "value": "ÉTÉ", "cal": "creator"}
    ]);
    let r = s.set_app("acme", "SCIMOkta", json!({"enabled": true, "defaultCal": "standard", "rules": rules})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["rules"], rules, "rules are kept in the order given");
    let okta = s.okta();
    let vip =
        okta.user_with("vip@example.com", json!({"emails": [{"value": "Someone@vip.EXAMPLE", "type": "work"}]})).await;
    assert_eq!(okta.cal(&vip).await, "professional");
    let managed = okta.user_with("managed@example.com", json!({ENTERPRISE: {"manager": {"value": "boss-1"}}})).await;
    assert_eq!(okta.cal(&managed).await, "creator");
    let contractor = okta.user("contractor.jane@example.com").await;
    assert_eq!(okta.cal(&contractor).await, "creator");
    let role = okta.user_with("role@example.com", json!({PORTAL: {"portalRole": "manager"}})).await;
    assert_eq!(okta.cal(&role).await, "professional", "rules may match the portal extension's portalRole");
    let accent = okta.user_with("accent@example.com", json!({"name": {"familyName": "Lété"}})).await;
    assert_eq!(okta.cal(&accent).await, "creator", "Unicode case folding");
    let editor = okta.user("editor@example.com").await;
    assert_eq!(okta.cal(&editor).await, "standard");
    okta.group("Video Editors", &[&editor]).await;
    assert_eq!(okta.cal(&editor).await, "creator");
    let nobody = okta.user_with("nobody@example.com", json!({"title": "Contractor. (no)"})).await;
    assert_eq!(okta.cal(&nobody).await, "standard");
}

#[tokio::test]
async fn rules_follow_attribute_and_membership_changes() {
    let s = Portal::start().await;
    let okta = s.okta();
    let u = okta.user("mover@example.com").await;
    let p = format!("/Users/{u}");
    assert_eq!(okta.cal(&u).await, "standard");
    // Attribute changes (PATCH in Okta's and Entra's shapes, PUT).
    okta.patch_ops(&p, json!([{"op": "replace", "value": {"title": "Producer"}}])).await;
    assert_eq!(okta.cal(&u).await, "creator");
    okta.patch_ops(&p, json!([{"op": "Remove", "path": "title"}])).await;
    assert_eq!(okta.cal(&u).await, "standard");
    okta.patch_ops(&p, json!([{"op": "Add", "path": format!("{ENTERPRISE}:department"), "value": "Media"}])).await;
    assert_eq!(okta.cal(&u).await, "creator");
    let r = okta.put(&p, okta_user("mover@example.com")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(okta.cal(&u).await, "standard", "PUT without the department");
    // Group push adds members after the user exists.
    let g = okta.group("Staff", &[]).await;
    let gp = format!("/Groups/{g}");
    okta.patch_ops(&gp, json!([{"op": "add", "path": "members", "value": [{"value": u}]}])).await;
    assert_eq!(okta.cal(&u).await, "standard");
    // Renaming the team re-evaluates its members.
    okta.patch_ops(&gp, json!([{"op": "replace", "value": {"id": g, "displayName": "Admins"}}])).await;
    assert_eq!(okta.cal(&u).await, "professional");
    okta.patch_ops(&gp, json!([{"op": "replace", "path": "displayName", "value": "Staff"}])).await;
    assert_eq!(okta.cal(&u).await, "standard");
    let r = okta.put(&gp, json!({"schemas": [GROUP], "displayName": "Admin Team", "members": [{"value": u}]})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(okta.cal(&u).await, "professional");
    // Leaving the team.
    okta.patch_ops(&gp, json!([{"op": "remove", "path": format!("members[value eq \"{u}\"]")}])).await;
    assert_eq!(okta.cal(&u).await, "standard");
    okta.patch_ops(&gp, json!([{"op": "add", "path": "members", "value": [{"value": u}]}])).await;
    assert_eq!(okta.cal(&u).await, "professional");
    // Deleting the team.
    assert_eq!(okta.delete(&gp).await.status, 204);
    assert_eq!(okta.cal(&u).await, "standard");
    // Switching released the old seats.
    assert_eq!(
        s.used("acme").await,
        BTreeMap::from([("standard".into(), 1), ("professional".into(), 0), ("creator".into(), 0)])
    );
}

#[tokio::test]
async fn a_full_cal_keeps_the_held_one_and_never_oversubscribes() {
    let s = Portal::start().await;
    let okta = s.okta();
    let a = okta.user("a@example.com").await;
    let b = okta.user("b@example.com").await;
    let c = okta.user("c@example.com").await;
    let g = okta.group("Admins", &[&a, &b, &c]).await;
    assert_eq!(okta.cal(&a).await, "professional");
    assert_eq!(okta.cal(&b).await, "professional");
    let pc = okta.portal(&c).await;
    assert_eq!(pc["cal"], "standard", "professional is full: c keeps the CAL it holds");
    assert!(pc.get("notifications").is_none(), "no notification when a CAL is kept: {pc}");
    assert_eq!(s.used_of("acme", "professional").await, 2);
    // A seat freed later is not handed out on its own (no waiting list) ...
    okta.patch_ops(&format!("/Groups/{g}"), json!([{"op": "remove", "path": format!("members[value eq \"{a}\"]")}]))
        .await;
    assert_eq!(okta.cal(&a).await, "standard");
    assert_eq!(okta.cal(&c).await, "standard");
    // ... but at the user's next change.
    okta.patch_ops(&format!("/Users/{c}"), json!([{"op": "replace", "path": "displayName", "value": "C"}])).await;
    assert_eq!(okta.cal(&c).await, "professional");
    assert_eq!(s.used_of("acme", "professional").await, 2);
}

/// A membership change in a group no rule matches cannot change what the rules decide, so the portal skips
/// re-evaluating its members — except those whose last decision is not final: a user waiting for a seat, and a
/// user decided before the rules changed. Both are re-evaluated at such a change, as at any other.
#[tokio::test]
async fn an_unrelated_membership_change_still_re_evaluates_users_waiting_for_a_seat_or_decided_under_old_rules() {
    let s = Portal::start().await;
    let okta = s.okta();
    let a = okta.user("wa@example.com").await;
    let b = okta.user("wb@example.com").await;
    let c = okta.user("wc@example.com").await;
    let admins = okta.group("Admins", &[&a, &b, &c]).await;
    assert_eq!(okta.cal(&c).await, "standard", "professional (2 seats) is full: c waits");
    okta.patch_ops(
        &format!("/Groups/{admins}"),
        json!([{"op": "remove", "path": format!("members[value eq \"{a}\"]")}]),
    )
    .await;
    assert_eq!(s.used_of("acme", "professional").await, 1);
    let eng = okta.group("Engineering", &[]).await;
    let ep = format!("/Groups/{eng}");
    okta.patch_ops(&ep, json!([{"op": "add", "path": "members", "value": [{"value": a}]}])).await;
    assert_eq!(okta.cal(&a).await, "standard", "a decided user is not changed by a group no rule matches");
    okta.patch_ops(&ep, json!([{"op": "add", "path": "members", "value": [{"value": c}]}])).await;
    assert_eq!(okta.cal(&c).await, "professional", "the waiting user takes the freed seat at its next change");
    assert_eq!(s.used_of("acme", "professional").await, 2);
    // A rule removed later applies at the user's next change, a membership change included.
    let p = okta.user_with("wp@example.com", json!({"title": "producer"})).await;
    assert_eq!(okta.cal(&p).await, "creator");
    let mut app = s.admin(Method::GET, "/tenants/acme/apps/SCIMOkta", None).await.body;
    let rules: Vec<Value> =
        app["rules"].as_array().unwrap().iter().filter(|r| r["attribute"] != "title").cloned().collect();
    app["rules"] = Value::Array(rules);
    let app = json!({"enabled": app["enabled"], "defaultCal": app["defaultCal"], "rules": app["rules"]});
    let r = s.admin(Method::PUT, "/tenants/acme/apps/SCIMOkta", Some(app)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(okta.cal(&p).await, "creator", "rules apply at the next change, not at once");
    okta.patch_ops(&ep, json!([{"op": "add", "path": "members", "value": [{"value": p}]}])).await;
    assert_eq!(okta.cal(&p).await, "standard");
}

#[tokio::test]
async fn without_any_free_seat_the_user_is_provisioned_without_a_cal_and_notified() {
    let mut seed = seed();
    seed["tenants"][1]["cals"] = one_cal(1);
    let s = Portal::with_seed(seed).await;
    let beta = s.beta();
    let first = beta.user("first@example.com").await;
    assert_eq!(beta.cal(&first).await, "standard");
    let r = beta.post("/Users", okta_user("second@example.com")).await;
    assert_eq!(r.status, 201, "provisioning still succeeds: {}", r.text);
    let second = id_of(&r.body);
    let p = beta.portal(&second).await;
    assert!(p.get("cal").is_none(), "{p}");
    assert_eq!(p["accessStatus"], "active");
    let notes = p["notifications"].as_array().unwrap().clone();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["kind"], "noCalAvailable");
    assert_eq!(notes[0]["at"], "2026-01-01T00:00:00.000Z");
    let message = notes[0]["message"].as_str().unwrap();
    assert!(message.contains("No CAL is available: CAL 'standard' has 1 of 1 seats in use"), "{message}");
    let view = s.access("beta", &second).await;
    assert_eq!(view["cal"], Value::Null);
    assert_eq!(view["notifications"], json!(notes));
    // The same condition is not notified twice in a row.
    beta.patch_ops(&format!("/Users/{second}"), json!([{"op": "replace", "path": "nickName", "value": "Two"}])).await;
    assert_eq!(beta.portal(&second).await["notifications"].as_array().unwrap().len(), 1);
    assert_eq!(s.used_of("beta", "standard").await, 1);
    // Seats cannot be cut below their use; adding seats helps at the user's next change.
    let r = s.admin(Method::PUT, "/tenants/beta/cals", Some(one_cal(0))).await;
    r.assert_error(400, Some("invalidValue"));
    let r = s.admin(Method::PUT, "/tenants/beta/cals", Some(json!([]))).await;
    r.assert_error(400, Some("invalidValue"));
    assert_eq!(s.used("beta").await, BTreeMap::from([("standard".into(), 1)]));
    let r = s.admin(Method::PUT, "/tenants/beta/cals", Some(one_cal(2))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!([{"id": "standard", "name": "Standard", "seats": 2, "used": 1}]));
    beta.patch_ops(&format!("/Users/{second}"), json!([{"op": "replace", "path": "nickName", "value": "2"}])).await;
    let p = beta.portal(&second).await;
    assert_eq!(p["cal"], "standard");
    assert_eq!(p["notifications"].as_array().unwrap().len(), 1, "notifications are a history");
}

fn rush_seed(seats: u32) -> Value {
    json!({
        "adminKey": ADMIN_KEY,
        "tenants": [{
            "name": "acme",
            "cals": [
                {"id": "standard", "name": "Standard", "seats": seats},
                {"id": "professional", "name": "Professional", "seats": 3}
            ],
            "apps": {
                "SCIMOkta": app_json("standard", json!([
                    {"attribute": "groups", "condition": "contains", "value": "admin", "cal": "professional"}]), ACME_OKTA),
                "SCIMAzure": app_json("standard", json!([
                    {"attribute": "groups", "condition": "contains", "value": "admin", "cal": "professional"}]), ACME_AZURE)
            }
        }]
    })
}

#[tokio::test]
async fn a_tenant_that_refuses_users_without_a_seat_says_which_cal_is_full_and_changes_nothing() {
    let mut seed = seed();
    seed["tenants"][1]["cals"] = one_cal(1);
    seed["tenants"][1]["settings"] = json!({"refuseWithoutSeat": true});
    let s = Portal::with_seed(seed).await;
    let beta = s.beta();
    let first = beta.user("first@example.com").await;
    assert_eq!(beta.cal(&first).await, "standard");
    let before = beta.get("/Users").await;
    let r = beta.post("/Users", okta_user("second@example.com")).await;
    let detail = r.assert_error(403, None);
    assert!(detail.contains("No CAL is available: CAL 'standard' has 1 of 1 seats in use"), "{detail}");
    // Nothing changed: no user, no seat taken, the listing identical.
    let found = beta.get("/Users?filter=userName%20eq%20%22second@example.com%22").await;
    assert_eq!(found.body["totalResults"], 0, "{}", found.text);
    assert_eq!(beta.get("/Users").await.body, before.body);
    assert_eq!(s.used("beta").await, BTreeMap::from([("standard".into(), 1)]));
    // An inactive user takes no seat, so it is provisioned; a freed seat lets the refused user in.
    let mut inactive = okta_user("third@example.com");
    inactive["active"] = json!(false);
    assert_eq!(beta.post("/Users", inactive).await.status, 201);
    assert_eq!(beta.delete(&format!("/Users/{first}")).await.status, 204);
    let r = beta.post("/Users", okta_user("second@example.com")).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let second = id_of(&r.body);
    assert_eq!(beta.cal(&second).await, "standard");
    // A POST that would restore the deleted user (now that its seat is taken) is refused the same way, and
    // the deleted user stays as it was: hidden, deactivated, without a seat; no version is used up.
    let version = |v: &Value| -> u64 {
        v["meta"]["version"].as_str().unwrap().trim_start_matches("W/").trim_matches('"').parse().unwrap()
    };
    let last_version = version(&r.body);
    let access_before = s.access("beta", &first).await;
    let r = beta.post("/Users", okta_user("first@example.com")).await;
    let detail = r.assert_error(403, None);
    assert!(detail.contains("CAL 'standard' has 1 of 1 seats in use"), "{detail}");
    assert_eq!(s.access("beta", &first).await, access_before);
    assert_eq!(access_before["status"], "deactivated");
    assert_eq!(beta.get(&format!("/Users/{first}")).await.status, 404);
    assert_eq!(s.used("beta").await, BTreeMap::from([("standard".into(), 1)]));
    let mut inactive = okta_user("fourth@example.com");
    inactive["active"] = json!(false);
    let r = beta.post("/Users", inactive).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(version(&r.body), last_version + 1, "the refused POST used up a version");
    let r = s.admin(Method::GET, "/tenants/beta", None).await;
    assert_eq!(r.body["settings"]["refuseWithoutSeat"], json!(true), "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn concurrent_creates_never_oversubscribe_seats() {
    let s = Arc::new(Portal::with_seed(rush_seed(10)).await);
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                let api = if i % 2 == 0 { s.okta() } else { s.azure() };
                api.post("/Users", okta_user(&format!("rush{i}@example.com"))).await
            })
        })
        .collect();
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let r = s.okta().get(&format!("/Users?count=100&attributes=userName,{PORTAL}")).await;
    assert_eq!(r.body["totalResults"], 50);
    let users = r.body["Resources"].as_array().unwrap();
    let holders = users.iter().filter(|u| u[PORTAL]["cal"] == "standard").count();
    let notified = users.iter().filter(|u| u[PORTAL]["notifications"][0]["kind"] == "noCalAvailable").count();
    assert_eq!((holders, notified), (10, 40));
    assert!(users.iter().all(|u| u[PORTAL]["cal"].is_null() != u[PORTAL]["notifications"].is_null()));
    assert_eq!(s.used_of("acme", "standard").await, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn concurrent_group_pushes_never_oversubscribe_seats() {
    let s = Arc::new(Portal::with_seed(rush_seed(100)).await);
    let mut users = Vec::new();
    for i in 0..20 {
        users.push(s.okta().user(&format!("push{i}@example.com")).await);
    }
    let g = s.okta().group("Admins", &[]).await;
    let tasks: Vec<_> = users
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, u)| {
            let (s, g) = (s.clone(), g.clone());
            tokio::spawn(async move {
                let api = if i % 2 == 0 { s.okta() } else { s.azure() };
                api.patch_ops(
                    &format!("/Groups/{g}"),
                    json!([{"op": "add", "path": "members", "value": [{"value": u}]}]),
                )
                .await
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().status, 204);
    }
    let mut pro = 0;
    for u in &users {
        match s.okta().cal(u).await.as_str() {
            Some("professional") => pro += 1,
            Some("standard") => {}
            other => panic!("unexpected CAL {other:?}"),
        }
    }
    assert_eq!(pro, 3);
    assert_eq!(s.used("acme").await, BTreeMap::from([("standard".into(), 17), ("professional".into(), 3)]));
}

#[tokio::test]
async fn the_portal_extension_is_declared_read_only_and_returned_on_request() {
    let s = Portal::start().await;
    let okta = s.okta();
    let r = okta.get(&format!("/Schemas/{PORTAL}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let attrs = r.body["attributes"].as_array().unwrap();
    let attr = |name: &str| attrs.iter().find(|a| a["name"] == name).unwrap_or_else(|| panic!("{name}")).clone();
    for name in ["cal", "accessStatus", "federated", "notifications"] {
        assert_eq!(attr(name)["mutability"], "readOnly", "{name}");
        assert_eq!(attr(name)["returned"], "request", "{name}");
    }
    assert_eq!(attr("portalRole")["mutability"], "readWrite");
    let r = okta.get("/Schemas").await;
    assert!(r.body["Resources"].as_array().unwrap().iter().any(|s| s["id"] == PORTAL));
    let r = okta.get("/ResourceTypes/User").await;
    assert!(r.body["schemaExtensions"].as_array().unwrap().contains(&json!({"schema": PORTAL, "required": false})));
    // Read-only values sent by a client are ignored; PATCHing them is a mutability error.
    let mut body = okta_user("ro@example.com");
    body[PORTAL] = json!({"cal": "professional", "accessStatus": "deactivated", "federated": false});
    let u = okta.create(body).await;
    let p = okta.portal(&u).await;
    assert_eq!(p, json!({"cal": "standard", "accessStatus": "active", "federated": true}));
    let before = okta.get(&format!("/Users/{u}")).await.body;
    let r = okta
        .patch_ops(
            &format!("/Users/{u}"),
            json!([{"op": "replace", "path": format!("{PORTAL}:cal"), "value": "creator"}]),
        )
        .await;
    r.assert_error(400, Some("mutability"));
    assert_eq!(okta.get(&format!("/Users/{u}")).await.body, before);
    assert_eq!(s.used_of("acme", "creator").await, 0);
    // Not returned by default; returned when asked for, one attribute or the whole extension, also in lists.
    let plain = okta.get(&format!("/Users/{u}")).await.body;
    assert!(plain.get(PORTAL).is_none(), "{plain}");
    assert!(!plain["schemas"].as_array().unwrap().contains(&json!(PORTAL)));
    let one = okta.get(&format!("/Users/{u}?attributes={PORTAL}:cal")).await.body;
    assert_eq!(one[PORTAL], json!({"cal": "standard"}));
    let listed = okta.get(&format!("/Users?filter=userName%20eq%20%22ro@example.com%22&attributes={PORTAL}")).await;
    assert_eq!(listed.body["Resources"][0][PORTAL]["cal"], "standard");
    let r = okta
        .post("/Users/.search", json!({"schemas": [SEARCH], "attributes": [format!("{PORTAL}:accessStatus")]}))
        .await;
    assert_eq!(r.body["Resources"][0][PORTAL], json!({"accessStatus": "active"}));
}
