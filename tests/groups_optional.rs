//! Groups are optional for a service provider (RFC 7644 §4: `/ResourceTypes` lists the types it supports). Against
//! a server with Users only, a scenario whose rule is not about groups runs its user steps and judges them; only
//! its group steps, and the checks of other steps on the user's groups or a group it would have created, are
//! skipped with the reason. And nothing is sent to `/Groups`: each scenario judges only what the server declares.

mod support;

use scimcheck::runner::{Against, Credential, RunOptions, Runner, StepVerdict, Target, Verdict};
use scimcheck::scenario;
use support::faults::{spawn_faulty, USER_ONLY};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_only_server_gets_the_user_steps_of_okta_scenarios_judged() {
    let all = scenario::load_dir(&std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios"))
        .unwrap_or_else(|e| panic!("{}", e.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")));
    let okta: Vec<scenario::Scenario> = all.into_iter().filter(|s| s.idp == scimcheck::idp::Idp::Okta).collect();
    let server = spawn_faulty(&USER_ONLY).await;
    let target = Against::Target(Target::new(server.base_url.clone(), Credential::Token(server.token.clone())));
    let outcome = Runner::new(target, RunOptions::default()).expect("client").run(&okta).await;
    server.shutdown().await;

    // Okta's OIN profile update pushes a group only so that the GET has memberships to echo: its rule (PUT of
    // the server's own body) is about the user, and is judged
    let profile = outcome.results.iter().find(|r| r.id == "okta::profile::put_profile_update_oin").unwrap();
    assert_eq!(profile.verdict, Verdict::Pass, "{:?} {:#?}", profile.reason, profile.steps);
    let not_run: Vec<&str> =
        profile.steps.iter().filter(|st| st.verdict == StepVerdict::NotRun).map(|st| st.name.as_str()).collect();
    assert_eq!(not_run.len(), 2, "only the two group steps are skipped: {not_run:?}");
    for st in profile.steps.iter().filter(|st| st.verdict == StepVerdict::NotRun) {
        assert!(st.error.as_deref().is_some_and(|e| e.contains("no Group resource type")), "{:?}", st.error);
    }
    let put = profile.steps.iter().find(|st| st.name.starts_with("Okta (profile edit): PUT")).unwrap();
    assert_eq!(put.verdict, StepVerdict::Pass, "{put:#?}");
    assert!(
        profile.notes.iter().any(|n| n.contains("/groups, {{groupId}}") && n.contains("RFC 7644 §4")),
        "the skipped group checks are named: {:?}",
        profile.notes
    );

    // scenarios about groups are skipped whole with the reason; nothing that ran sent a request to /Groups
    let push = outcome.results.iter().find(|r| r.id == "okta::group_push::oin_patch").unwrap();
    assert_eq!(push.verdict, Verdict::Skip);
    assert!(push.reason.as_deref().is_some_and(|r| r.contains("groups")), "{:?}", push.reason);
    let sent_to_groups: Vec<String> = outcome
        .results
        .iter()
        .flat_map(|r| r.steps.iter().map(move |st| (r, st)))
        .filter(|(_, st)| st.request.as_ref().is_some_and(|q| q.path.starts_with("/Groups")))
        .map(|(r, st)| format!("{} / {}", r.id, st.name))
        .collect();
    assert!(sent_to_groups.is_empty(), "{sent_to_groups:#?}");
    let failed: Vec<(&str, Verdict)> = outcome
        .results
        .iter()
        .filter(|r| !matches!(r.verdict, Verdict::Pass | Verdict::Skip))
        .map(|r| (r.id.as_str(), r.verdict))
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
}
