//! `simulate --entitlements N` against the reference server: Okta assigns roles and entitlements through cycles
//! and the reconciliation checks each user's values; a server that lacks some of the values fails the run.
//! Source: Okta, "Build a SCIM 2.0 server with entitlements",
//! https://developer.okta.com/docs/guides/scim-with-entitlements/main/#user-with-entitlements-and-roles

use std::time::Duration;

use scim_reference_server::config::Config;
use scim_reference_server::tenant::AppKind;
use scim_reference_server::{spawn, ServerConfig};
use scimcheck::credential::Credential;
use scimcheck::idp::{Dialect, OktaAppKind};
use scimcheck::simulate::entitlements::SimCatalogue;
use scimcheck::simulate::{self, EngineOptions, SimOptions, SimReport, Source};
use scimcheck::target::Target;

async fn run(listed: &SimCatalogue, assigned: usize) -> (SimReport, Vec<serde_json::Value>) {
    let mut seed = Config::builtin();
    for t in &mut seed.tenants {
        if let Some(app) = t.apps.get_mut(&AppKind::Okta) {
            app.resource_types = listed.reference_types();
        }
    }
    let server = spawn(ServerConfig::default().with_seed(seed)).await.unwrap();
    let ep = server.endpoint("acme", AppKind::Okta).cloned().unwrap();
    let target = Target::new(ep.base_url.clone(), ep.token.clone().map(Credential::Token).unwrap_or_default());
    let opts = SimOptions {
        source: Source::Generated { seed: 11, users: 150, groups: 4 },
        engine: EngineOptions {
            dialect: Dialect::Okta(OktaAppKind::Oin),
            concurrency: 8,
            rate: None,
            timeout: Duration::from_secs(20),
            chunk: 100,
            max_attempts: 3,
            max_wait: Some(Duration::from_secs(1)),
            progress: false,
            tls: Default::default(),
        },
        cycles: 2,
        churn: 0.2,
        entitlements: assigned,
        escrow_retries: 1,
        max_differences: 1000,
        target_label: "reference server".into(),
        strict_extra: false,
    };
    let report = simulate::run(target, opts).await.expect("the simulation runs");
    let users = reqwest::Client::new()
        .get(format!("{}/Users?startIndex=1&count=1000", ep.base_url))
        .bearer_auth(ep.token.as_deref().unwrap())
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["Resources"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    server.shutdown().await;
    (report, users)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_and_entitlements_reconcile_clean_through_reassignments() {
    let (r, users) = run(&SimCatalogue::generated(4), 4).await;
    assert_eq!(r.exit_code, 0, "{}", r.human());
    assert_eq!(r.reconciliation.drift, 0);
    let reassigned: u64 = r.cycles.iter().filter_map(|c| c.changes.get("entitlementsReassigned")).sum();
    assert!(reassigned > 0, "{}", r.human());
    // every provisioned user holds one or two roles and entitlements of the catalogue
    let active: Vec<&serde_json::Value> = users.iter().filter(|u| u["active"] == true).collect();
    assert!(active.len() > 100);
    for u in active {
        let n = u["roles"].as_array().map_or(0, Vec::len);
        assert!((1..=2).contains(&n), "{u}");
        assert!(u["entitlements"][0]["value"].as_str().is_some_and(|v| v.starts_with("sim-license-")), "{u}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_some_of_the_values_fails_the_run() {
    // the server lists 2 of each; the IdP assigns from 4
    let (r, _) = run(&SimCatalogue::generated(2), 4).await;
    assert_ne!(r.exit_code, 0, "{}", r.human());
}
