//! Recorded flow files are named by what the flow does and to whom, with the real
//! userName/displayName slugged to ASCII — never with a recorded credential.

mod support;

use scim_reference_server::{spawn, ServerConfig};
use scimcheck::idp::Idp;
use scimcheck::record::convert::write_all;
use scimcheck::record::{ConvertOptions, Flow};
use scimcheck::scenario::{self, ScenarioFile};
use serde_json::{json, Value};

const TOKEN: &str = "names-T0KEN-9d8e7f";

/// One request to the upstream, kept as a flow ([`support::recorded::okta_exchange`]).
async fn exchange(base: &str, method: &str, path: &str, body: Option<Value>) -> Flow {
    support::recorded::okta_exchange(base, TOKEN, method, path, body).await
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
    let dir =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("scimcheck-names-{}", uuid::Uuid::new_v4()));
    let options = ConvertOptions { idp: Some(Idp::Okta), origin: "test".into(), now: chrono::Utc::now() };
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
    let dir =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("scimcheck-names-{}", uuid::Uuid::new_v4()));
    let options = ConvertOptions { idp: Some(Idp::Okta), origin: "test".into(), now: chrono::Utc::now() };
    assert_eq!(write_all(&flows, &options, &dir, &[TOKEN.to_string()]), Ok(0));
    let names = written_names(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(names, vec!["01_flow.json", "02_push_group_ingenieria_core.json"]);
    up.shutdown().await;
}

/// Three users provisioned interleaved (each created, then one deactivated, one renamed, one deleted) and a group
/// pushed with all three as members: each user's lifecycle is a flow of its own, named after what happened to
/// that user, and the group's membership steps are in the group's flow, which creates the three users as its
/// fixtures and lists them; every flow replays on its own, green, on an empty server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interleaved_users_are_split_per_object_and_membership_lists_its_fixtures() {
    use scimcheck::runner::{Against, RunOptions, Runner, Verdict};
    let up = spawn(ServerConfig::default().with_token(TOKEN)).await.unwrap();
    let base = up.base_url.as_str();
    let urn = "urn:ietf:params:scim:schemas:core:2.0:User";
    let patch = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
    let mut flows = Vec::new();
    let mut ids = Vec::new();
    for name in ["jane@example.com", "john@example.com", "ann@example.com"] {
        let lookup = format!("/Users?filter=userName%20eq%20%22{name}%22");
        flows.push(exchange(base, "GET", &lookup, None).await);
        let created = exchange(base, "POST", "/Users", Some(json!({"schemas": [urn], "userName": name}))).await;
        ids.push(created.response_body.json().unwrap()["id"].as_str().unwrap().to_string());
        flows.push(created);
    }
    let off = json!({"schemas": [patch], "Operations": [{"op": "replace", "value": {"active": false}}]});
    flows.push(exchange(base, "PATCH", &format!("/Users/{}", ids[0]), Some(off)).await);
    let rename = json!({"schemas": [patch], "Operations": [{"op": "replace", "path": "displayName", "value": "J"}]});
    flows.push(exchange(base, "PATCH", &format!("/Users/{}", ids[1]), Some(rename)).await);
    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Engineering"});
    let made = exchange(base, "POST", "/Groups", Some(group)).await;
    let gid = made.response_body.json().unwrap()["id"].as_str().unwrap().to_string();
    flows.push(made);
    let members: Vec<Value> = ids.iter().map(|id| json!({"value": id})).collect();
    let add = json!({"schemas": [patch], "Operations": [{"op": "add", "path": "members", "value": members}]});
    flows.push(exchange(base, "PATCH", &format!("/Groups/{gid}"), Some(add)).await);
    flows.push(exchange(base, "GET", &format!("/Groups/{gid}"), None).await);
    flows.push(exchange(base, "DELETE", &format!("/Users/{}", ids[2]), None).await);

    let dir =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("scimcheck-names-{}", uuid::Uuid::new_v4()));
    let options = ConvertOptions { idp: Some(Idp::Okta), origin: "test".into(), now: chrono::Utc::now() };
    assert_eq!(write_all(&flows, &options, &dir, &[TOKEN.to_string()]), Ok(0));
    let names = written_names(&dir);
    let scenarios = scimcheck::scenario::load_dir(&dir).unwrap_or_else(|e| panic!("{e:?}"));
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        names,
        vec![
            "01_create_and_deactivate_jane.json",
            "02_create_and_update_john.json",
            "03_create_and_delete_ann.json",
            "04_push_group_engineering.json",
        ]
    );
    let group_flow = scenarios.iter().find(|s| s.id.ends_with("push_group_engineering")).unwrap();
    let setups: Vec<&str> =
        group_flow.steps.iter().map(|s| s.name.as_str()).filter(|n| n.starts_with("Setup:")).collect();
    assert_eq!(setups.len(), 3, "the three members are the group flow's fixtures: {setups:?}");
    assert!(setups.iter().all(|n| n.contains("another flow of this recording created it")), "{setups:?}");
    let description = group_flow.description.clone().unwrap_or_default();
    assert!(description.contains("creating its fixtures (user1, user2, user3)"), "{description}");
    for s in scenarios.iter().filter(|s| !s.id.ends_with("push_group_engineering")) {
        assert!(s.steps.iter().all(|st| !st.name.starts_with("Setup:")), "{} needs no fixture", s.id);
    }

    let runner = Runner::new(Against::Reference, RunOptions { jobs: 1, ..RunOptions::default() }).unwrap();
    for s in &scenarios {
        let r = runner.run_scenario(s).await;
        assert_eq!(r.verdict, Verdict::Pass, "{} on an empty server: {:?}", s.id, r.reason);
    }
    up.shutdown().await;
}

/// The recorder writes the scenario model itself: each file it writes is exactly a `ScenarioFile` serialised
/// (no shape of its own), and loads as a scenario whose file form is the same text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_file_is_the_scenario_model_serialised() {
    let up = spawn(ServerConfig::default().with_token(TOKEN)).await.unwrap();
    let flows = flows(&up.base_url, "Jane.Doe@example.com").await;
    up.shutdown().await;
    let options = ConvertOptions { idp: None, origin: "test".into(), now: chrono::Utc::now() };
    let converted = scimcheck::record::convert(&flows, &options);
    assert_eq!(converted.scenarios.len(), 2);
    for g in &converted.scenarios {
        let file: ScenarioFile = serde_json::from_str(&g.text).unwrap_or_else(|e| panic!("{e}: {}", g.text));
        assert_eq!(serde_json::to_string_pretty(&file).unwrap() + "\n", g.text);
        let loaded = scenario::parse(&g.rel_path, std::path::Path::new(&g.rel_path), &g.text).expect("it loads");
        assert_eq!(loaded.steps, file.steps);
        assert!(loaded.steps.iter().all(|s| s.expect.status.is_some() && s.basis.is_some()), "{}", g.text);
    }
}
