//! Steps that use an optional capability the target does not declare, skipped one by one while the scenario's
//! other steps are judged. A server may leave out the enterprise User extension (RFC 7643 §6 `schemaExtensions`)
//! and Groups (RFC 7644 §4: a service provider lists the resource types it supports in `/ResourceTypes`; Okta
//! provisions user-only apps, and its SPEC suite's group steps are "Optional Test" steps). When such a capability is
//! only a part of a scenario, skipping the whole scenario would leave its user steps unjudged — a server without
//! Groups would get no verdict on Okta's SPEC suite at all. So only the steps that use it are `notRun` with the
//! reason, unless the scenario is about that capability ([`Scenario::groups_skip_whole`],
//! [`Scenario::enterprise_skips_whole`]), in which case the whole scenario is skipped.

use std::collections::BTreeSet;

use crate::capabilities::Capabilities;
use crate::scenario::{Feature, Scenario, Step};
use crate::verdict::{ScenarioResult, StepVerdict, Verdict};

/// After the verdict is computed: a scenario that would pass although none of the steps of its rule ran (only its
/// fixtures, marked `setup`, did; every other step was not sent, e.g. because it uses an attribute the server does
/// not declare) is `skip`, with the first step's reason — a pass would claim a rule that was never shown.
pub fn settle_unjudged(result: &mut ScenarioResult, s: &Scenario) {
    if result.verdict != Verdict::Pass {
        return;
    }
    let setup: BTreeSet<&str> = s.steps.iter().filter(|st| st.setup).map(|st| st.name.as_str()).collect();
    // a repeated or paged step's results are named `name [i/n]` / `name [page k]`
    let base = |name: &str| name.split(" [").next().unwrap_or(name).to_string();
    let rule: Vec<_> = result.steps.iter().filter(|st| !setup.contains(base(&st.name).as_str())).collect();
    if rule.is_empty() || rule.iter().any(|st| st.verdict != StepVerdict::NotRun) {
        return;
    }
    let why = rule.iter().find_map(|st| st.error.clone()).unwrap_or_else(|| "no step of the rule ran".into());
    result.verdict = Verdict::Skip;
    result.reason = Some(format!("none of the rule's steps ran: {}", why.trim_start_matches("skipped: ")));
}

/// Why each kind of optional step is skipped in one scenario on one target; `None` where those steps run.
#[derive(Debug, Clone, Default)]
pub struct StepSkips {
    /// Steps that use the enterprise extension ([`Step::uses_enterprise_extension`]).
    pub enterprise: Option<String>,
    /// Steps that address `/Groups` ([`Step::uses_groups`]).
    pub groups: Option<String>,
}

impl StepSkips {
    /// The skips for scenario `s` on a target with capabilities `caps`.
    pub fn for_target(caps: &Capabilities, s: &Scenario) -> StepSkips {
        let groups_missing = s.requires.contains(&Feature::Groups)
            && caps.supports(Feature::Groups) == Some(false)
            && !s.groups_skip_whole();
        StepSkips {
            enterprise: caps.enterprise_step_skip(s),
            groups: groups_missing.then(|| {
                "skipped: the server lists no Group resource type in /ResourceTypes (RFC 7644 §4; Groups are \
                 optional for a service provider)"
                    .to_string()
            }),
        }
    }

    /// The reason `step` is not sent, if it uses a skipped capability.
    pub fn reason(&self, step: &Step) -> Option<&String> {
        (self.enterprise.as_ref().filter(|_| step.uses_enterprise_extension()))
            .or_else(|| self.groups.as_ref().filter(|_| step.uses_groups()))
    }
}

impl Step {
    /// Whether the step addresses the Groups endpoint (`/Groups` or `/Groups/…`).
    pub fn uses_groups(&self) -> bool {
        let p = &self.request.path;
        p == "/Groups" || p.starts_with("/Groups/") || p.starts_with("/Groups?")
    }
}

impl Scenario {
    /// Whether a target without Groups skips the whole scenario rather than only its group steps: when at least
    /// half of its steps address `/Groups`, or a step that does captures a value a later step needs (the flow
    /// rests on groups). Otherwise only the group steps are skipped and the others are judged.
    pub fn groups_skip_whole(&self) -> bool {
        let using: Vec<&Step> = self.steps.iter().filter(|s| s.uses_groups()).collect();
        if using.is_empty() {
            return false;
        }
        if using.len() * 2 >= self.steps.len() {
            return true;
        }
        let captured: BTreeSet<&String> = using.iter().flat_map(|s| s.capture.keys()).collect();
        self.steps.iter().filter(|s| !s.uses_groups()).any(|s| s.names_used().iter().any(|n| captured.contains(n)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn library(id: &str) -> Scenario {
        let all = crate::library::built_in().expect("library");
        all.into_iter().find(|s| s.id == id).unwrap_or_else(|| panic!("{id} in the library"))
    }

    fn without_groups() -> Capabilities {
        Capabilities { groups: Some(false), ..Default::default() }
    }

    #[test]
    fn okta_spec_suite_keeps_its_user_steps_on_a_server_without_groups() {
        let spec = library("okta::spec::spec_suite");
        let caps = without_groups();
        assert_eq!(caps.skip_reason(&spec), None, "the suite is not skipped whole");
        let skips = StepSkips::for_target(&caps, &spec);
        let skipped: Vec<&str> =
            spec.steps.iter().filter(|st| skips.reason(st).is_some()).map(|st| st.name.as_str()).collect();
        assert!(!skipped.is_empty() && skipped.len() < spec.steps.len(), "{skipped:?}");
        assert!(spec.steps.iter().filter(|st| skips.reason(st).is_some()).all(Step::uses_groups));
    }

    #[test]
    fn a_scenario_about_groups_is_skipped_whole() {
        let push = library("okta::group_push::oin_patch");
        assert!(push.groups_skip_whole());
        let caps = without_groups();
        assert!(caps.skip_reason(&push).is_some_and(|r| r.contains("groups")));
        assert_eq!(StepSkips::for_target(&caps, &push).groups, None);
    }

    #[test]
    fn a_target_with_groups_skips_nothing() {
        let spec = library("okta::spec::spec_suite");
        let caps = Capabilities { groups: Some(true), ..Default::default() };
        let skips = StepSkips::for_target(&caps, &spec);
        assert!(spec.steps.iter().all(|st| skips.reason(st).is_none()));
    }

    fn step_result(name: &str, verdict: StepVerdict, error: Option<&str>) -> crate::verdict::StepResult {
        crate::verdict::StepResult {
            error: error.map(str::to_string),
            ..crate::verdict::StepResult::new(name, crate::scenario::Level::Must, crate::scenario::Kind::Rfc, verdict)
        }
    }

    #[test]
    fn a_scenario_whose_rule_steps_all_did_not_run_is_a_skip_not_a_pass() {
        let s = library("rfc::s3_4_2_2_filtering::grouping_precedence");
        let fixtures: Vec<&Step> = s.steps.iter().filter(|st| st.setup).collect();
        assert!(!fixtures.is_empty(), "the scenario marks its fixtures");
        let why = "skipped: the query uses nickName, which the server's /Schemas does not declare";
        let run = |rule_verdict: StepVerdict| {
            let mut r = ScenarioResult::skipped(&s, "");
            r.verdict = Verdict::Pass;
            r.reason = None;
            r.steps = s
                .steps
                .iter()
                .map(|st| match st.setup {
                    true => step_result(&st.name, StepVerdict::Pass, None),
                    false => step_result(&st.name, rule_verdict, Some(why)),
                })
                .collect();
            settle_unjudged(&mut r, &s);
            r
        };
        let unjudged = run(StepVerdict::NotRun);
        assert_eq!(unjudged.verdict, Verdict::Skip);
        assert!(unjudged.reason.as_deref().is_some_and(|r| r.contains("nickName")), "{:?}", unjudged.reason);
        assert_eq!(run(StepVerdict::Pass).verdict, Verdict::Pass, "a rule that ran and held passes");
    }
}
