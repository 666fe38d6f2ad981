//! Issue 24 item 6: recorded flow files are named by what the flow does and to whom, with the real
//! userName/displayName slugged to ASCII — never with a recorded credential.

use scim_reference_server::{spawn, ServerConfig};
use scimcheck::record::convert::write_all;
use scimcheck::record::proxy::IdpChoice;
use scimcheck::record::{CapturedBody, ConvertOptions, CredentialStyle, Flow};
use serde_json::{json, Value};

const TOKEN: &str = "names-T0KEN-9d8e7f";

async fn exchange(base: &str, method: &str, path: &str, body: Option<Value>) -> Flow {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = reqwest::Client::new()
        .request(m, format!("{base}{path}"))
        .bearer_auth(TOKEN)
        .header("Content-Type", "application/scim+json");
    if let Some(b) = &body {
        req = req.body(b.to_string());
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    Flow {
        started: chrono::Utc::now(),
        elapsed_ms: 2.0,
        method: method.into(),
        path: path.into(),
        query: String::new(),
        request_headers: vec![("user-agent".into(), "Okta SCIM Client 1.0.0".into())],
        credential: Some(CredentialStyle::Bearer),
        request_body: body.map_or(CapturedBody::Empty, |b| CapturedBody::Text(b.to_string())),
        status,
        response_headers: vec![],
        response_body: CapturedBody::from_bytes(text.as_bytes()),
        error: None,
    }
}

/// Creates `user_name` and deactivates it (Okta's PATCH), then pushes a group: the flows of a recording.
async fn flows(base: &str, user_name: &str) -> Vec<Flow> {
    let urn = "urn:ietf:params:scim:schemas:core:2.0:User";
    let created =
        exchange(base, "POST", "/Users", Some(json!({"schemas": [urn], "userName": user_name, "active": true}))).await;
    let id = created.response_body.json().unwrap()["id"].as_str().unwrap().to_string();
    let off = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": false}}]});
    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Ingeniería Core"});
    vec![
        created,
        exchange(base, "PATCH", &format!("/Users/{id}"), Some(off)).await,
        exchange(base, "POST", "/Groups", Some(group)).await,
    ]
}

fn written_names(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for idp in std::fs::read_dir(dir).unwrap() {
        for group in std::fs::read_dir(idp.unwrap().path()).unwrap() {
            for f in std::fs::read_dir(group.unwrap().path()).unwrap() {
                out.push(f.unwrap().file_name().to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flow_files_are_named_by_what_they_do_and_whom() {
    let up = spawn(ServerConfig::default().with_token(TOKEN)).await.unwrap();
    let flows = flows(&up.base_url, "Jane.Doe@example.com").await;
    let dir = std::env::temp_dir().join(format!("scimcheck-names-{}", uuid::Uuid::new_v4()));
    let options = ConvertOptions { idp: IdpChoice::Okta, origin: "test".into(), now: chrono::Utc::now() };
    assert_eq!(write_all(&flows, &options, &dir, &[TOKEN.to_string()]), Ok(0));
    let names = written_names(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(names, vec!["01_create_and_deactivate_jane_doe.json", "02_push_group_ingenieria_core.json"]);
    up.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_never_shows_a_recorded_credential() {
    let up = spawn(ServerConfig::default().with_token(TOKEN)).await.unwrap();
    // a userName that carries the credential the IdP sent (in any case and spelling)
    let flows = flows(&up.base_url, "Names-T0KEN-9d8e7f@example.com").await;
    let dir = std::env::temp_dir().join(format!("scimcheck-names-{}", uuid::Uuid::new_v4()));
    let options = ConvertOptions { idp: IdpChoice::Okta, origin: "test".into(), now: chrono::Utc::now() };
    assert_eq!(write_all(&flows, &options, &dir, &[TOKEN.to_string()]), Ok(0));
    let names = written_names(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(names, vec!["01_flow.json", "02_push_group_ingenieria_core.json"]);
    up.shutdown().await;
}
