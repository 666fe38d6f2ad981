//! Discovery resources seen in traffic (`/Schemas`, `/ResourceTypes`, `/ServiceProviderConfig`,
//! RFC 7644 §4) never become setup steps; only Users and Groups existing before the recording do.

mod support;

use scim_reference_server::{spawn, ServerConfig};
use scimcheck::record::{convert, ConvertOptions, Flow};
use scimcheck::runner::{Against, RunOptions, Runner, Verdict};
use serde_json::{json, Value};

const TOKEN: &str = "fixture-T0KEN-3a9c";

/// One request to the upstream, kept as a flow ([`support::recorded::okta_exchange`]).
async fn exchange(base: &str, method: &str, path: &str, body: Option<Value>) -> Flow {
    support::recorded::okta_exchange(base, TOKEN, method, path, body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_resources_never_become_setup_steps() {
    let up = spawn(ServerConfig::default().with_token(TOKEN)).await.expect("reference server starts");
    let base = up.base_url.clone();
    let user_urn = "urn:ietf:params:scim:schemas:core:2.0:User";
    let mut flows = vec![
        exchange(&base, "GET", "/ServiceProviderConfig", None).await,
        exchange(&base, "GET", "/Schemas", None).await,
        exchange(&base, "GET", &format!("/Schemas/{user_urn}"), None).await,
        exchange(&base, "GET", "/ResourceTypes", None).await,
        exchange(&base, "GET", "/ResourceTypes/User", None).await,
    ];
    let listed = flows[1].response_body.json().unwrap();
    assert!(listed["Resources"].as_array().is_some_and(|r| r.iter().any(|s| s["id"] == user_urn)), "{listed}");
    // a user created during the recording: its body names the User schema URN, the id of a discovery resource
    let created = exchange(
        &base,
        "POST",
        "/Users",
        Some(json!({"schemas": [user_urn], "userName": "jane.doe@example.com", "active": true})),
    )
    .await;
    assert_eq!(created.status, 201);
    let id = created.response_body.json().unwrap()["id"].as_str().unwrap().to_string();
    flows.push(created);
    flows.push(exchange(&base, "GET", &format!("/Users/{id}"), None).await);

    let options = ConvertOptions { idp: None, origin: "test".into(), now: chrono::Utc::now() };
    let out = convert(&flows, &options);
    assert!(!out.scenarios.is_empty());
    for s in &out.scenarios {
        let doc: Value = serde_json::from_str(&s.text).unwrap();
        for step in doc["steps"].as_array().unwrap() {
            let name = step["name"].as_str().unwrap_or_default();
            assert!(!name.starts_with("Setup:"), "{}: a setup step {name}:\n{}", s.rel_path, s.text);
        }
        let posts = doc["steps"].as_array().unwrap().iter().filter(|st| st["request"]["method"] == "POST").count();
        assert!(posts <= 1, "{}: {posts} POST steps:\n{}", s.rel_path, s.text);
    }
    // and the written scenarios replay green on an empty server
    let dir =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("scimcheck-fixtures-{}", uuid::Uuid::new_v4()));
    for s in &out.scenarios {
        let p = dir.join(&s.rel_path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, &s.text).unwrap();
    }
    let scenarios = scimcheck::scenario::load_dir(&dir).map_err(|e| format!("{e:?}")).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let runner = Runner::new(Against::Reference, RunOptions { jobs: 1, ..RunOptions::default() }).unwrap();
    for s in &scenarios {
        let r = runner.run_scenario(s).await;
        assert_eq!(
            r.verdict,
            Verdict::Pass,
            "{}: {:?}",
            r.id,
            r.steps.iter().map(|s| (&s.name, &s.failures)).collect::<Vec<_>>()
        );
    }
    up.shutdown().await;
}
