//! Test client for the reference server over real HTTP on 127.0.0.1 port 0.
#![allow(dead_code)]

use reqwest::{Method, StatusCode};
use scim_reference_server::{spawn, RunningServer, ServerConfig};
use serde_json::{json, Value};

pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// A response: status, headers and the parsed JSON body (Null when empty).
#[derive(Debug)]
pub struct Res {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Res {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// Asserts a SCIM error with this status and scimType (None: no scimType) and returns the detail.
    pub fn assert_error(&self, status: u16, scim_type: Option<&str>) -> String {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.text);
        assert_eq!(
            self.body["schemas"],
            json!(["urn:ietf:params:scim:api:messages:2.0:Error"]),
            "not a SCIM error: {}",
            self.text
        );
        assert_eq!(self.body["status"], json!(status.to_string()));
        assert_eq!(self.body["scimType"].as_str(), scim_type, "body: {}", self.text);
        let ct = self.header("content-type").unwrap_or_default();
        assert!(ct.starts_with("application/scim+json"), "content type {ct}");
        let detail = self.body["detail"].as_str().unwrap_or_default().to_string();
        assert!(!detail.is_empty(), "empty detail");
        detail
    }
}

pub struct Server {
    pub server: RunningServer,
    pub client: reqwest::Client,
}

impl Server {
    pub async fn start() -> Self {
        Self::start_with(ServerConfig::default()).await
    }

    pub async fn start_with(config: ServerConfig) -> Self {
        let server = spawn(config).await.expect("server starts");
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Server { server, client }
    }

    pub fn base(&self) -> &str {
        &self.server.base_url
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.server.base_url, path)
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Res {
        let mut rb = self
            .client
            .request(method, self.url(path))
            .bearer_auth(&self.server.token)
            .header("Accept", "application/scim+json");
        if let Some(b) = body {
            rb = rb.header("Content-Type", "application/scim+json; charset=utf-8").body(b.to_string());
        }
        Self::finish(rb).await
    }

    /// Like [`Server::send`], with extra request headers.
    pub async fn send_with(&self, method: Method, path: &str, body: Option<Value>, headers: &[(&str, &str)]) -> Res {
        let mut rb = self
            .client
            .request(method, self.url(path))
            .bearer_auth(&self.server.token)
            .header("Accept", "application/scim+json");
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        if let Some(b) = body {
            rb = rb.header("Content-Type", "application/scim+json; charset=utf-8").body(b.to_string());
        }
        Self::finish(rb).await
    }

    pub async fn finish(rb: reqwest::RequestBuilder) -> Res {
        let r = rb.send().await.expect("request sent");
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Res { status, headers, body, text }
    }

    pub async fn get(&self, path: &str) -> Res {
        self.send(Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Res {
        self.send(Method::POST, path, Some(body)).await
    }
    pub async fn put(&self, path: &str, body: Value) -> Res {
        self.send(Method::PUT, path, Some(body)).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> Res {
        self.send(Method::PATCH, path, Some(body)).await
    }
    pub async fn delete(&self, path: &str) -> Res {
        self.send(Method::DELETE, path, None).await
    }

    /// PATCH with a list of operations.
    pub async fn patch_ops(&self, path: &str, ops: Value) -> Res {
        self.patch(path, json!({"schemas": [PATCH_OP], "Operations": ops})).await
    }

    /// Creates a user in Okta's shape and returns its body.
    pub async fn create_user(&self, user_name: &str) -> Value {
        let r = self.post("/Users", okta_user(user_name)).await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.body
    }

    pub async fn create_group(&self, name: &str, members: &[&str]) -> Value {
        let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
        let r = self
            .post(
                "/Groups",
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name, "members": members}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.body
    }

    /// Member ids of a group, sorted.
    pub async fn member_ids(&self, group_id: &str) -> Vec<String> {
        let g = self.get(&format!("/Groups/{group_id}")).await;
        assert_eq!(g.status, 200);
        let mut ids: Vec<String> = g.body["members"]
            .as_array()
            .map(|a| a.iter().filter_map(|m| m["value"].as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        ids.sort();
        ids
    }
}

/// Okta's create-user body (docs/okta.md §2).
pub fn okta_user(user_name: &str) -> Value {
    let local = user_name.split('@').next().unwrap_or(user_name);
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": format!("{local}-given"), "familyName": format!("{local}-family")},
        "emails": [{"primary": true, "value": user_name, "type": "work"}],
        "displayName": format!("{local} display"),
        "locale": "en-US",
        "externalId": format!("00u{local}"),
        "groups": [],
        "password": "1mz050nq",
        "active": true
    })
}

pub fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}
