// The fixture shared by tenancy.rs and tenancy_lifecycle.rs (included by both): a seeded portal with two
// tenants and their apps, an admin API client, and the helpers their tests share.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use common::{id_of, okta_user, Res, Server, ENTERPRISE, PATCH_OP};
use reqwest::Method;
use scim_reference_server::clock::ManualClock;
use scim_reference_server::config::Config;
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
