//! The portal side of the reference server over real HTTP (reference-server issue items 1–8): tenants and
//! their domain policy, provisioning apps, API tokens, CALs and their rules, deactivation and deletion,
//! protected and federated accounts, teams, the admin API and the configuration file.
//!
//! Every test starts its own server on 127.0.0.1 port 0 with a [`ManualClock`], so tests run in parallel
//! and token expiry is tested without sleeping.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use common::{id_of, okta_user, Res, Server, ENTERPRISE, PATCH_OP};
use reqwest::Method;
use scim_reference_server::clock::ManualClock;
use scim_reference_server::config::Config;
use scim_reference_server::schema::ResourceKind;
use scim_reference_server::tenant::AppKind;
use scim_reference_server::{spawn, RunningServer, ServerConfig};
use serde_json::{json, Value};

const PORTAL: &str = "urn:scimcheck:params:scim:schemas:extension:portal:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const SEARCH: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
const ADMIN_KEY: &str = "tenancy-admin-key-0123456789";
const ACME_OKTA: &str = "acme-okta-token-0123456789abcdef";
const ACME_AZURE: &str = "acme-azure-token-0123456789abcdef";
const BETA_OKTA: &str = "beta-okta-token-0123456789abcdef";
const BETA_AZURE: &str = "beta-azure-token-0123456789abcdef";
const DIR_OKTA: &str = "dir-okta-token-0123456789abcdef";
const CUSTOM_OKTA: &str = "custom-okta-token-0123456789abcdef";
const PROTECTED: &str = "protected accounts (the owner and administrators) cannot be managed through SCIM";
const INVALID: &str = "the bearer token is invalid";

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().with_timezone(&Utc)
}

fn app_json(default_cal: &str, rules: Value, token: &str) -> Value {
    json!({"enabled": true, "defaultCal": default_cal, "rules": rules, "tokens": [{"token": token, "label": "seeded"}]})
}

fn one_cal(seats: u32) -> Value {
    json!([{"id": "standard", "name": "Standard", "seats": seats}])
}

/// The seed of most tests.
/// - `acme` (subdomain): CALs standard 100, professional 2, creator 5. SCIMOkta: default standard; rules
///   groups contains "admin" → professional, enterprise department startsWith "media" → creator, title equals
///   "producer" → creator. SCIMAzure: default creator, no rules. Local accounts owner@ and admin@acme.test.
/// - `beta` (subdomain): one CAL, both apps.
/// - `dirportal` (directory policy) and `customportal` (custom policy) with an enabled SCIMOkta app each.
fn seed() -> Value {
    json!({
        "baseDomain": "localhost",
        "adminKey": ADMIN_KEY,
        "tenants": [
            {
                "name": "acme",
                "cals": [
                    {"id": "standard", "name": "Standard", "seats": 100},
                    {"id": "professional", "name": "Professional", "seats": 2},
                    {"id": "creator", "name": "Creator", "seats": 5}
                ],
                "apps": {
                    "SCIMOkta": app_json("standard", json!([
                        {"attribute": "groups", "condition": "contains", "value": "admin", "cal": "professional"},
                        {"attribute": format!("{ENTERPRISE}:department"), "condition": "startsWith", "value": "media",
                         "cal": "creator"},
                        {"attribute": "title", "condition": "equals", "value": "producer", "cal": "creator"}
                    ]), ACME_OKTA),
                    "SCIMAzure": app_json("creator", json!([]), ACME_AZURE)
                },
                "accounts": [
                    {"userName": "owner@acme.test", "role": "owner", "displayName": "Acme Owner"},
                    {"userName": "admin@acme.test", "role": "administrator"}
                ]
            },
            {
                "name": "beta",
                "cals": one_cal(10),
                "apps": {
                    "SCIMOkta": app_json("standard", json!([]), BETA_OKTA),
                    "SCIMAzure": app_json("standard", json!([]), BETA_AZURE)
                }
            },
            {
                "name": "dirportal",
                "domainPolicy": "directory",
                "cals": one_cal(10),
                "apps": {"SCIMOkta": app_json("standard", json!([]), DIR_OKTA)}
            },
            {
                "name": "customportal",
                "domainPolicy": "custom",
                "cals": one_cal(10),
                "apps": {"SCIMOkta": app_json("standard", json!([]), CUSTOM_OKTA)}
            }
        ]
    })
}

/// One SCIM client: a base URI, an `Authorization` header value and optionally a `Host` header.
#[derive(Clone)]
struct Api {
    client: reqwest::Client,
    base: String,
    auth: Option<String>,
    host: Option<String>,
}

impl Api {
    fn with_auth(&self, value: Option<&str>) -> Api {
        Api { auth: value.map(str::to_string), ..self.clone() }
    }

    fn with_token(&self, token: &str) -> Api {
        self.with_auth(Some(&format!("Bearer {token}")))
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Res {
        let mut rb =
            self.client.request(method, format!("{}{path}", self.base)).header("Accept", "application/scim+json");
        if let Some(a) = &self.auth {
            rb = rb.header("Authorization", a);
        }
        if let Some(h) = &self.host {
            rb = rb.header("Host", h);
        }
        if let Some(b) = body {
            rb = rb.header("Content-Type", "application/scim+json; charset=utf-8").body(b.to_string());
        }
        Server::finish(rb).await
    }

    async fn get(&self, path: &str) -> Res {
        self.send(Method::GET, path, None).await
    }
    async fn post(&self, path: &str, body: Value) -> Res {
        self.send(Method::POST, path, Some(body)).await
    }
    async fn put(&self, path: &str, body: Value) -> Res {
        self.send(Method::PUT, path, Some(body)).await
    }
    async fn delete(&self, path: &str) -> Res {
        self.send(Method::DELETE, path, None).await
    }
    async fn patch_ops(&self, path: &str, ops: Value) -> Res {
        self.send(Method::PATCH, path, Some(json!({"schemas": [PATCH_OP], "Operations": ops}))).await
    }

    /// POSTs a user body and returns the new id.
    async fn create(&self, body: Value) -> String {
        let r = self.post("/Users", body).await;
        assert_eq!(r.status, 201, "{}", r.text);
        id_of(&r.body)
    }

    /// Creates a user in Okta's shape and returns its id.
    async fn user(&self, user_name: &str) -> String {
        self.create(okta_user(user_name)).await
    }

    /// Creates a user with extra attributes merged into Okta's shape.
    async fn user_with(&self, user_name: &str, extra: Value) -> String {
        let mut body = okta_user(user_name);
        for (k, v) in extra.as_object().expect("object") {
            body[k] = v.clone();
        }
        self.create(body).await
    }

    async fn group(&self, name: &str, members: &[&str]) -> String {
        let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
        let r = self.post("/Groups", json!({"schemas": [GROUP], "displayName": name, "members": members})).await;
        assert_eq!(r.status, 201, "{}", r.text);
        id_of(&r.body)
    }

    /// The user's portal extension (requested explicitly: its attributes are `returned: request`).
    async fn portal(&self, id: &str) -> Value {
        let r = self.get(&format!("/Users/{id}?attributes={PORTAL}")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body[PORTAL].clone()
    }

    async fn cal(&self, id: &str) -> Value {
        self.portal(id).await["cal"].clone()
    }

    /// Sorted member ids of a group.
    async fn members(&self, group: &str) -> Vec<String> {
        let r = self.get(&format!("/Groups/{group}")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let mut ids: Vec<String> = r.body["members"]
            .as_array()
            .map(|a| a.iter().filter_map(|m| m["value"].as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        ids.sort();
        ids
    }

    async fn total(&self, path: &str) -> u64 {
        let r = self.get(path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        r.body["totalResults"].as_u64().expect("totalResults")
    }
}

/// A server seeded for these tests, on a manual clock.
struct Portal {
    server: RunningServer,
    client: reqwest::Client,
    clock: ManualClock,
}

impl Portal {
    async fn start() -> Self {
        Self::with_seed(seed()).await
    }

    async fn with_seed(seed: Value) -> Self {
        let config = Config::from_json(&seed.to_string()).expect("seed parses");
        let clock = ManualClock::new(t0());
        let server = spawn(ServerConfig::default().with_seed(config).with_clock(Arc::new(clock.clone())))
            .await
            .expect("server starts");
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Portal { server, client, clock }
    }

    fn origin(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    fn api(&self, tenant: &str, app: &str, token: &str) -> Api {
        Api {
            client: self.client.clone(),
            base: format!("{}/t/{tenant}/api/v1/SCIM/{app}", self.origin()),
            auth: Some(format!("Bearer {token}")),
            host: None,
        }
    }

    /// The Host-header form: connects to 127.0.0.1 but addresses `<host>:<port>`.
    fn host_api(&self, host: &str, app: &str, token: &str) -> Api {
        Api {
            client: self.client.clone(),
            base: format!("{}/api/v1/SCIM/{app}", self.origin()),
            auth: Some(format!("Bearer {token}")),
            host: Some(format!("{host}:{}", self.server.addr.port())),
        }
    }

    fn okta(&self) -> Api {
        self.api("acme", "SCIMOkta", ACME_OKTA)
    }
    fn azure(&self) -> Api {
        self.api("acme", "SCIMAzure", ACME_AZURE)
    }
    fn beta(&self) -> Api {
        self.api("beta", "SCIMOkta", BETA_OKTA)
    }

    async fn admin_with(&self, key: Option<&str>, method: Method, path: &str, body: Option<Value>) -> Res {
        let mut rb = self.client.request(method, format!("{}/admin{path}", self.origin()));
        if let Some(k) = key {
            rb = rb.bearer_auth(k);
        }
        if let Some(b) = body {
            rb = rb.header("Content-Type", "application/json").body(b.to_string());
        }
        Server::finish(rb).await
    }

    async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Res {
        self.admin_with(Some(ADMIN_KEY), method, path, body).await
    }

    /// The portal's access view of a user.
    async fn access(&self, tenant: &str, id: &str) -> Value {
        let r = self.admin(Method::GET, &format!("/tenants/{tenant}/users/{id}/access"), None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body
    }

    /// Seats used per CAL type.
    async fn used(&self, tenant: &str) -> BTreeMap<String, u64> {
        let r = self.admin(Method::GET, &format!("/tenants/{tenant}/cals"), None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body
            .as_array()
            .expect("array")
            .iter()
            .map(|c| (c["id"].as_str().unwrap().to_string(), c["used"].as_u64().unwrap()))
            .collect()
    }

    async fn used_of(&self, tenant: &str, cal: &str) -> u64 {
        self.used(tenant).await[cal]
    }

    /// Issues a token through the admin API and returns the response body (with the cleartext).
    async fn issue(&self, tenant: &str, app: &str, body: Value) -> Value {
        let r = self.admin(Method::POST, &format!("/tenants/{tenant}/apps/{app}/tokens"), Some(body)).await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.body
    }

    async fn tokens(&self, tenant: &str, app: &str) -> Res {
        let r = self.admin(Method::GET, &format!("/tenants/{tenant}/apps/{app}/tokens"), None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r
    }

    async fn set_app(&self, tenant: &str, app: &str, settings: Value) -> Res {
        self.admin(Method::PUT, &format!("/tenants/{tenant}/apps/{app}"), Some(settings)).await
    }

    /// Creates a local account through the admin API and returns its id.
    async fn account(&self, tenant: &str, user_name: &str, role: &str) -> String {
        let r = self
            .admin(
                Method::POST,
                &format!("/tenants/{tenant}/accounts"),
                Some(json!({"userName": user_name, "role": role})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        id_of(&r.body)
    }
}

/// Every SCIM endpoint, with ids for the item endpoints: (method, path, body).
fn every_endpoint(user: &str, group: &str) -> Vec<(Method, String, Option<Value>)> {
    let user_body = okta_user("matrix@example.com");
    let group_body = json!({"schemas": [GROUP], "displayName": "Matrix"});
    let user_patch = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": false}}]});
    let group_patch =
        json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "displayName", "value": "Renamed"}]});
    let search = json!({"schemas": [SEARCH], "filter": "id pr"});
    vec![
        (Method::GET, "/Users".into(), None),
        (Method::GET, "/Users?startIndex=1&count=2".into(), None),
        (Method::POST, "/Users".into(), Some(user_body.clone())),
        (Method::POST, "/Users/.search".into(), Some(search.clone())),
        (Method::GET, format!("/Users/{user}"), None),
        (Method::PUT, format!("/Users/{user}"), Some(user_body)),
        (Method::PATCH, format!("/Users/{user}"), Some(user_patch)),
        (Method::DELETE, format!("/Users/{user}"), None),
        (Method::GET, "/Groups".into(), None),
        (Method::POST, "/Groups".into(), Some(group_body.clone())),
        (Method::POST, "/Groups/.search".into(), Some(search.clone())),
        (Method::GET, format!("/Groups/{group}"), None),
        (Method::PUT, format!("/Groups/{group}"), Some(group_body)),
        (Method::PATCH, format!("/Groups/{group}"), Some(group_patch)),
        (Method::DELETE, format!("/Groups/{group}"), None),
        (Method::POST, "/.search".into(), Some(search)),
        (Method::GET, "/ServiceProviderConfig".into(), None),
        (Method::GET, "/ResourceTypes".into(), None),
        (Method::GET, "/ResourceTypes/User".into(), None),
        (Method::GET, "/Schemas".into(), None),
        (Method::GET, format!("/Schemas/{PORTAL}"), None),
        (Method::GET, "/Me".into(), None),
        (Method::POST, "/Bulk".into(), Some(json!({"schemas": [], "Operations": []}))),
        (Method::GET, String::new(), None),
        (Method::GET, "/NoSuchEndpoint".into(), None),
    ]
}

/// A snapshot of what a tenant's SCIM side shows, to assert that failed requests changed nothing.
async fn snapshot(api: &Api) -> Value {
    let users = api.get(&format!("/Users?attributes=userName,active,groups,meta,{PORTAL}")).await;
    let groups = api.get("/Groups").await;
    assert_eq!(users.status, 200, "{}", users.text);
    assert_eq!(groups.status, 200, "{}", groups.text);
    json!({"users": users.body["Resources"], "groups": groups.body["Resources"]})
}

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
