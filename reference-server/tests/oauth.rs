//! OAuth clients of a provisioning app: the admin API creates, rotates and revokes them, the tenant's token
//! endpoint (`/t/{tenant}/oauth2/token`) runs the client credentials grant (RFC 6749 §4.4), and the SCIM
//! endpoints take the access tokens until they expire or their client is revoked (RFC 6750 §3.1).

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use reqwest::StatusCode;
use scim_reference_server::clock::ManualClock;
use scim_reference_server::{spawn, RunningServer, ServerConfig};
use serde_json::{json, Value};

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().with_timezone(&Utc)
}

struct Portal {
    server: RunningServer,
    clock: ManualClock,
    http: reqwest::Client,
}

impl Portal {
    async fn start() -> Portal {
        Portal::start_with(|c| c).await
    }

    async fn start_with(f: impl FnOnce(ServerConfig) -> ServerConfig) -> Portal {
        let clock = ManualClock::new(t0());
        let server = spawn(f(ServerConfig::default().with_clock(Arc::new(clock.clone())))).await.unwrap();
        Portal { server, clock, http: reqwest::Client::new() }
    }

    fn clients_url(&self) -> String {
        format!("{}/tenants/acme/apps/SCIMOkta/oauth-clients", self.server.admin_url)
    }

    fn token_url(&self) -> String {
        format!("http://{}/t/acme/oauth2/token", self.server.addr)
    }

    async fn admin(&self, method: reqwest::Method, url: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut rb = self.http.request(method, url).bearer_auth(&self.server.admin_key);
        if let Some(b) = body {
            rb = rb.header("Content-Type", "application/json").body(b.to_string());
        }
        let res = rb.send().await.unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn create(&self, body: Value) -> Value {
        let (status, v) = self.admin(reqwest::Method::POST, &self.clients_url(), Some(body)).await;
        assert_eq!(status, 201, "{v}");
        v
    }

    async fn list(&self) -> Value {
        self.admin(reqwest::Method::GET, &self.clients_url(), None).await.1
    }

    /// POSTs a form to the token endpoint, with HTTP Basic when `basic` is given.
    async fn grant(
        &self,
        basic: Option<(&str, &str)>,
        form: &[(&str, &str)],
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let mut rb =
            self.http.post(self.token_url()).header("Content-Type", "application/x-www-form-urlencoded").body(body);
        if let Some((id, secret)) = basic {
            rb = rb.basic_auth(id, Some(secret));
        }
        let res = rb.send().await.unwrap();
        let (status, headers) = (res.status(), res.headers().clone());
        (status, headers, res.json().await.unwrap_or(Value::Null))
    }

    async fn token(&self, id: &str, secret: &str) -> String {
        let (status, headers, v) = self.grant(Some((id, secret)), &[("grant_type", "client_credentials")]).await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(headers.get("cache-control").unwrap(), "no-store", "RFC 6749 §5.1");
        assert_eq!(v["token_type"], "Bearer");
        v["access_token"].as_str().unwrap().to_string()
    }

    async fn scim(&self, token: &str) -> (StatusCode, Option<String>) {
        let res = self.http.get(format!("{}/Users", self.server.base_url)).bearer_auth(token).send().await.unwrap();
        let challenge = res.headers().get("www-authenticate").map(|h| h.to_str().unwrap().to_string());
        (res.status(), challenge)
    }
}

/// A refused grant: Basic credentials, form, expected status and RFC 6749 §5.2 error.
type Case<'a> = (Option<(&'a str, &'a str)>, Vec<(&'a str, &'a str)>, u16, &'a str);

fn id_and_secret(created: &Value) -> (String, String) {
    (created["clientId"].as_str().unwrap().to_string(), created["clientSecret"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn client_credentials_give_a_token_the_scim_endpoints_take_until_it_expires() {
    let p = Portal::start().await;
    let created = p.create(json!({"label": "entra", "tokenLifetime": 120})).await;
    assert_eq!(created["tokenEndpoint"], p.token_url());
    assert_eq!(created["tokenLifetime"], 120);
    let (id, secret) = id_and_secret(&created);
    // shown once: the listing has the prefix only
    let listed = p.list().await;
    assert!(!listed.to_string().contains(&secret), "{listed}");
    assert_eq!(listed[0]["secrets"][0]["prefix"], secret[..10]);

    let (status, _, v) = p.grant(Some((&id, &secret)), &[("grant_type", "client_credentials")]).await;
    assert_eq!((status.as_u16(), v["expires_in"].as_u64()), (200, Some(120)));
    let token = v["access_token"].as_str().unwrap();
    assert_eq!(p.scim(token).await.0, 200);
    // client_secret_post (RFC 6749 §2.3.1) works too
    let (status, ..) =
        p.grant(None, &[("grant_type", "client_credentials"), ("client_id", &id), ("client_secret", &secret)]).await;
    assert_eq!(status, 200);

    p.clock.advance(Duration::seconds(119));
    assert_eq!(p.scim(token).await.0, 200);
    p.clock.advance(Duration::seconds(1));
    let (status, challenge) = p.scim(token).await;
    assert_eq!(status, 401, "an expired token must be refused");
    assert!(challenge.unwrap().contains("error=\"invalid_token\""), "RFC 6750 §3.1");
    // the API token of the app still works: OAuth is besides it
    assert_eq!(p.scim(&p.server.token).await.0, 200);
}

#[tokio::test]
async fn refused_grants_answer_rfc_6749_errors_and_change_nothing() {
    let p = Portal::start().await;
    let (id, secret) = id_and_secret(&p.create(json!({})).await);
    let before = p.list().await;
    let cases: Vec<Case> = vec![
        (Some((&id, "scs_wrong")), vec![("grant_type", "client_credentials")], 401, "invalid_client"),
        (Some(("client_unknown", &secret)), vec![("grant_type", "client_credentials")], 401, "invalid_client"),
        (Some((&id, &secret)), vec![("grant_type", "password")], 400, "unsupported_grant_type"),
        (Some((&id, &secret)), vec![], 400, "invalid_request"),
        (
            Some((&id, &secret)),
            vec![("grant_type", "client_credentials"), ("client_secret", &secret)],
            400,
            "invalid_request",
        ),
        (None, vec![("grant_type", "client_credentials")], 401, "invalid_client"),
    ];
    for (basic, form, status, code) in cases {
        let (got, headers, v) = p.grant(basic, &form).await;
        assert_eq!((got.as_u16(), v["error"].as_str()), (status, Some(code)), "{form:?}: {v}");
        assert!(v.get("access_token").is_none());
        assert!(!v.to_string().contains(&secret), "the error repeats the secret: {v}");
        if status == 401 && basic.is_some() {
            assert_eq!(headers.get("www-authenticate").unwrap(), "Basic realm=\"oauth\"", "RFC 6749 §5.2");
        }
    }
    // not a form
    let res = p.http.post(p.token_url()).json(&json!({"grant_type": "client_credentials"})).send().await.unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_request");
    // bad admin requests: status, scimType, nothing created
    for body in [json!({"tokenLifetime": 0}), json!({"tokenLifetime": 86401}), json!({"publicKey": "nope"})] {
        let (status, v) = p.admin(reqwest::Method::POST, &p.clients_url(), Some(body)).await;
        assert_eq!((status.as_u16(), v["scimType"].as_str()), (400, Some("invalidValue")), "{v}");
    }
    let (status, v) = p.admin(reqwest::Method::DELETE, &format!("{}/client_nope", p.clients_url()), None).await;
    assert_eq!(status, 404, "{v}");
    assert_eq!(p.list().await, before, "a refused request changed the clients");
}

#[tokio::test]
async fn rotation_keeps_the_old_secret_for_the_overlap_and_revocation_ends_tokens() {
    let p = Portal::start().await;
    let (id, old) = id_and_secret(&p.create(json!({})).await);
    let url = format!("{}/{id}/rotate", p.clients_url());
    let (status, rotated) = p.admin(reqwest::Method::POST, &url, Some(json!({"overlapMinutes": 10}))).await;
    assert_eq!(status, 200, "{rotated}");
    let new = rotated["clientSecret"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    p.clock.advance(Duration::minutes(9));
    let token = p.token(&id, &old).await;
    p.clock.advance(Duration::minutes(1));
    let (status, _, v) = p.grant(Some((&id, &old)), &[("grant_type", "client_credentials")]).await;
    assert_eq!(
        (status.as_u16(), v["error"].as_str()),
        (401, Some("invalid_client")),
        "the old secret outlived its overlap"
    );
    let fresh = p.token(&id, &new).await;
    assert_eq!(p.scim(&token).await.0, 200, "a token issued in the overlap is still good");

    let (status, v) = p.admin(reqwest::Method::DELETE, &format!("{}/{id}", p.clients_url()), None).await;
    assert_eq!((status.as_u16(), v["status"].as_str()), (200, Some("revoked")));
    for t in [&token, &fresh] {
        let (status, challenge) = p.scim(t).await;
        assert_eq!(status, 401, "a revoked client's token still works");
        assert!(challenge.unwrap().contains("invalid_token"));
    }
    let (status, _, v) = p.grant(Some((&id, &new)), &[("grant_type", "client_credentials")]).await;
    assert_eq!((status.as_u16(), v["error"].as_str()), (401, Some("invalid_client")));
    // a revoked client cannot be rotated: status, scimType, nothing changed
    let before = p.list().await;
    let (status, v) = p.admin(reqwest::Method::POST, &url, None).await;
    assert_eq!((status.as_u16(), v["scimType"].as_str()), (400, Some("invalidValue")));
    assert_eq!(p.list().await, before);
}

#[tokio::test]
async fn clients_persist_in_the_data_file_as_digests() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("portal.db");
    let p = Portal::start_with(|c| c.with_data(&data)).await;
    let (id, secret) = id_and_secret(&p.create(json!({"tokenLifetime": 600})).await);
    let admin_key = p.server.admin_key.clone();
    p.server.shutdown().await;
    let raw = std::fs::read(&data).unwrap();
    let text = String::from_utf8_lossy(&raw);
    assert!(text.contains(&id), "the client is not in the data file");
    assert!(!text.contains(&secret), "the data file holds the cleartext secret");
    let clock = ManualClock::new(t0());
    let server = spawn(ServerConfig::default().with_data(&data).with_clock(Arc::new(clock.clone()))).await.unwrap();
    let again = Portal { server, clock, http: reqwest::Client::new() };
    let (status, listed) = {
        let res = again.http.get(again.clients_url()).bearer_auth(&admin_key).send().await.unwrap();
        (res.status(), res.json::<Value>().await.unwrap())
    };
    assert_eq!((status.as_u16(), listed[0]["tokenLifetime"].as_u64()), (200, Some(600)));
    let token = again.token(&id, &secret).await;
    assert_eq!(again.scim(&token).await.0, 200);
}

#[tokio::test]
async fn a_request_without_any_credential_is_challenged_without_an_error_code() {
    let p = Portal::start().await;
    let users = format!("{}/Users", p.server.base_url);
    let before = p.http.get(&users).bearer_auth(&p.server.token).send().await.unwrap().text().await.unwrap();
    // RFC 6750 §3.1: no authentication information → the challenge SHOULD NOT include an error code
    let res =
        p.http.post(&users).header("Content-Type", "application/scim+json").body(
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "anonymous"}).to_string(),
        );
    let res = res.send().await.unwrap();
    let challenge = res.headers().get("www-authenticate").unwrap().to_str().unwrap().to_string();
    assert_eq!((res.status().as_u16(), challenge.as_str()), (401, "Bearer realm=\"scim\""));
    let v: Value = res.json().await.unwrap();
    assert_eq!((v["status"].as_str(), v.get("scimType")), (Some("401"), None), "{v}");
    // the admin API likewise
    let res = p.http.get(p.clients_url()).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers().get("www-authenticate").unwrap(), "Bearer realm=\"scim\"");
    // a presented but unknown token keeps error="invalid_token"
    let (status, challenge) = p.scim("not-a-token").await;
    assert_eq!((status.as_u16(), challenge.as_deref()), (401, Some("Bearer realm=\"scim\", error=\"invalid_token\"")));
    // nothing was created
    let after = p.http.get(&users).bearer_auth(&p.server.token).send().await.unwrap().text().await.unwrap();
    assert_eq!(after, before);
}

#[tokio::test]
async fn the_token_endpoint_of_an_unknown_tenant_answers_invalid_client() {
    let p = Portal::start().await;
    let (id, secret) = id_and_secret(&p.create(json!({})).await);
    let before = p.list().await;
    let url = format!("http://{}/t/nosuchtenant/oauth2/token", p.server.addr);
    let form = "grant_type=client_credentials";
    for basic in [true, false] {
        let mut rb = p.http.post(&url).header("Content-Type", "application/x-www-form-urlencoded");
        rb = match basic {
            true => rb.basic_auth(&id, Some(&secret)).body(form),
            false => rb.body(format!("{form}&client_id={id}&client_secret={secret}")),
        };
        let res = rb.send().await.unwrap();
        let (status, headers) = (res.status(), res.headers().clone());
        let v: Value = res.json().await.unwrap();
        // RFC 6749 §5.2: an OAuth error body, not a SCIM Error
        assert_eq!((status.as_u16(), v["error"].as_str()), (401, Some("invalid_client")), "{v}");
        assert!(v.get("schemas").is_none() && v.get("access_token").is_none(), "{v}");
        assert!(!v.to_string().contains(&secret), "{v}");
        assert_eq!(headers.get("cache-control").unwrap(), "no-store");
        let challenge = headers.get("www-authenticate").map(|h| h.to_str().unwrap().to_string());
        assert_eq!(challenge.as_deref(), basic.then_some("Basic realm=\"oauth\""), "RFC 6749 §5.2");
    }
    assert_eq!(p.list().await, before, "a refused grant changed the clients");
}
