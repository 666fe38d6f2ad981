//! Whole-library runs against one reference server, each scenario on the app of its IdP — Entra's on `SCIMAzure`,
//! every other on `SCIMOkta` — as `scimcheck run --reference` does (`scimcheck::reference_app`). The two apps
//! share the tenant's directory; they differ only where Entra's documented behaviour departs from RFC 7644 (a
//! `replace` through a value filter that matches nothing), so an Entra scenario judged on the Okta app would fail
//! for a reason that is not the server's.
#![allow(dead_code)]

use scim_reference_server::RunningServer;
use scimcheck::idp::Idp;
use scimcheck::reference_app::{app_of, endpoint_for};
use scimcheck::runner::{Against, Credential, RunOptions, RunOutcome, Runner, Target};
use scimcheck::scenario::Scenario;

/// Runs `scenarios` against `server` (or a fault layer wrapped around it) with `options`: one run per app, each
/// with the scenarios of the IdPs that app answers, merged into one outcome (results sorted by id; the target and
/// capabilities are those of the `SCIMOkta` run, durations summed).
pub async fn run_on_idp_apps(server: &RunningServer, scenarios: &[Scenario], options: RunOptions) -> RunOutcome {
    let (entra, other): (Vec<Scenario>, Vec<Scenario>) =
        scenarios.iter().cloned().partition(|s| app_of(s.idp) == app_of(Idp::Entra));
    let mut outcome = run_one(server, Idp::Okta, &other, options.clone()).await;
    if !entra.is_empty() {
        let more = run_one(server, Idp::Entra, &entra, options).await;
        outcome.results.extend(more.results);
        outcome.results.sort_by(|a, b| a.id.cmp(&b.id));
        outcome.duration_ms += more.duration_ms;
        outcome.interrupted |= more.interrupted;
    }
    outcome
}

async fn run_one(server: &RunningServer, idp: Idp, scenarios: &[Scenario], options: RunOptions) -> RunOutcome {
    let (base_url, token) = endpoint_for(server, idp);
    let target = Against::Target(Target::new(base_url, Credential::Token(token)));
    Runner::new(target, options).expect("HTTP client").run(scenarios).await
}

/// Registers an OAuth client of `app` (`SCIMOkta`, `SCIMAzure`) in `tenant` through the admin API (`body`:
/// `tokenLifetime`, `publicKey`, …) and returns the server's 201 answer: `clientId`, `clientSecret` when one was
/// issued, `tokenEndpoint`. Panics on any other status (a test fixture).
pub async fn register_oauth_client(
    server: &RunningServer,
    tenant: &str,
    app: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let res = reqwest::Client::new()
        .post(format!("{}/tenants/{tenant}/apps/{app}/oauth-clients", server.admin_url))
        .bearer_auth(&server.admin_key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}
