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
use crate::scenario::{Assertion, Feature, Scenario, Step};
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

    /// `step` as it runs in scenario `s` when steps using an optional capability are skipped: without the
    /// response assertions about what those steps would have done, with a note for each capability. `None` when
    /// nothing is dropped.
    /// - Groups skipped ([`StepSkips::groups`]): the assertions on the User's `groups` attribute (RFC 7643 §4.1.2:
    ///   the groups the user belongs to, which only group writes change), in their pointer or their `when`, and
    ///   those naming a value only a group step captures (`{{groupId}}`);
    /// - the enterprise extension skipped ([`StepSkips::enterprise`]): the assertions naming a value only an
    ///   enterprise step captures.
    ///
    /// The step's request never needs such a value here: a scenario whose requests do rests on that capability and
    /// is skipped whole ([`Scenario::groups_skip_whole`], [`Scenario::enterprise_skips_whole`]).
    pub fn without_skipped_assertions(&self, s: &Scenario, step: &Step) -> Option<(Step, String)> {
        let mut trimmed = step.clone();
        let mut notes: Vec<String> = Vec::new();
        if self.groups.is_some() {
            let captured = s.group_captures();
            let about_groups =
                |a: &Assertion| addresses_groups(a) || a.placeholders().iter().any(|n| captured.contains(n));
            if trimmed.expect.body.iter().any(about_groups) {
                trimmed.expect.body.retain(|a| !about_groups(a));
                let mut names: Vec<String> = vec!["/groups".to_string()];
                names.extend(captured.iter().map(|n| format!("{{{{{n}}}}}")));
                notes.push(format!(
                    "step \"{}\": the checks on groups ({}) are skipped: the server lists no Group resource type in \
                     /ResourceTypes (RFC 7644 §4; Groups are optional for a service provider)",
                    step.name,
                    names.join(", ")
                ));
            }
        }
        if let Some(why) = &self.enterprise {
            let captured = s.enterprise_captures();
            let named = |a: &Assertion| a.placeholders().iter().any(|n| captured.contains(n));
            if trimmed.expect.body.iter().any(named) {
                trimmed.expect.body.retain(|a| !named(a));
                let names: Vec<String> = captured.iter().map(|n| format!("{{{{{n}}}}}")).collect();
                notes.push(format!(
                    "step \"{}\": the checks naming {} are skipped: {}",
                    step.name,
                    names.join(", "),
                    why.trim_start_matches("skipped: ")
                ));
            }
        }
        (!notes.is_empty()).then(|| (trimmed, notes.join("; ")))
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
    /// half of its steps address `/Groups`, or a step that does captures a value another step's **request** needs
    /// (the flow rests on groups: a user PATCH adding the captured group, say). Otherwise only the group steps are
    /// skipped and the others are judged; a response check of another step that names a group's captured value
    /// (`/groups` contains `{{groupId}}`) is about groups too and is skipped with them
    /// ([`StepSkips::without_skipped_assertions`]).
    pub fn groups_skip_whole(&self) -> bool {
        let using: Vec<&Step> = self.steps.iter().filter(|s| s.uses_groups()).collect();
        if using.is_empty() {
            return false;
        }
        if using.len() * 2 >= self.steps.len() {
            return true;
        }
        let captured = self.group_captures();
        self.steps.iter().filter(|s| !s.uses_groups()).any(|s| request_names(s).iter().any(|n| captured.contains(n)))
    }

    /// The names the scenario's group steps ([`Step::uses_groups`]) capture.
    fn group_captures(&self) -> BTreeSet<String> {
        self.steps.iter().filter(|s| s.uses_groups()).flat_map(|s| s.capture.keys().cloned()).collect()
    }

    /// Whether a target without the enterprise extension skips the whole scenario rather than only its
    /// enterprise steps ([`Step::uses_enterprise_extension`]), as [`Scenario::groups_skip_whole`] decides for
    /// Groups: when its purpose is the extension — at least half of its steps use it — or a step that uses it
    /// captures a value another step's **request** needs (the flow rests on it: the create carrying the
    /// extension captures the `id` every later request addresses). Otherwise only those steps are skipped and the
    /// others are judged; a response check of another step naming a value only an enterprise step captures is
    /// skipped with them ([`StepSkips::without_skipped_assertions`]).
    pub fn enterprise_skips_whole(&self) -> bool {
        let using: Vec<&Step> = self.steps.iter().filter(|s| s.uses_enterprise_extension()).collect();
        if using.is_empty() {
            return false;
        }
        if using.len() * 2 >= self.steps.len() {
            return true;
        }
        let captured = self.enterprise_captures();
        (self.steps.iter().filter(|s| !s.uses_enterprise_extension()))
            .any(|s| request_names(s).iter().any(|n| captured.contains(n)))
    }

    /// The names the scenario's enterprise steps ([`Step::uses_enterprise_extension`]) capture.
    fn enterprise_captures(&self) -> BTreeSet<String> {
        (self.steps.iter().filter(|s| s.uses_enterprise_extension())).flat_map(|s| s.capture.keys().cloned()).collect()
    }
}

/// The placeholder names a step's request and expected headers use, leaving out its response body assertions.
fn request_names(step: &Step) -> Vec<String> {
    let mut bare = step.clone();
    bare.expect.body.clear();
    bare.names_used()
}

/// Whether a response assertion (or its `when`) reads the User's `groups` attribute (`/groups`, `/groups/0/value`;
/// attribute names are case-insensitive, RFC 7643 §2.1).
fn addresses_groups(a: &Assertion) -> bool {
    let first = a.pointer.trim_start_matches('/').split('/').next().unwrap_or("");
    (a.pointer.starts_with('/') && first.eq_ignore_ascii_case("groups"))
        || a.when.as_deref().is_some_and(addresses_groups)
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

    #[test]
    fn a_scenario_that_only_checks_a_group_it_pushed_keeps_its_user_steps() {
        let profile = library("okta::profile::put_profile_update_oin");
        assert!(!profile.groups_skip_whole());
        let caps = without_groups();
        assert_eq!(caps.skip_reason(&profile), None);
        let skips = StepSkips::for_target(&caps, &profile);
        let skipped: Vec<&Step> = profile.steps.iter().filter(|st| skips.reason(st).is_some()).collect();
        assert_eq!(skipped.len(), 2);
        assert!(skipped.iter().all(|st| st.uses_groups()));
        // the user steps that check the pushed group drop only those checks, with a note
        let mut trimmed = 0;
        for st in profile.steps.iter().filter(|st| !st.uses_groups()) {
            if let Some((t, note)) = skips.without_skipped_assertions(&profile, st) {
                trimmed += 1;
                assert!(note.contains("{{groupId}}") && note.contains("RFC 7644 §4"), "{note}");
                assert!(!t.names_used().contains(&"groupId".to_string()), "{:?}", t.expect.body);
                assert!(t.expect.body.iter().all(|a| !addresses_groups(a)), "{:?}", t.expect.body);
                assert!(t.expect.body.len() < st.expect.body.len() && !t.expect.body.is_empty(), "{}", st.name);
                assert_eq!(t.request, st.request);
            }
        }
        assert_eq!(trimmed, 2);
        // with Groups, nothing is trimmed
        let with = StepSkips::for_target(&Capabilities { groups: Some(true), ..Default::default() }, &profile);
        assert!(profile.steps.iter().all(|st| with.without_skipped_assertions(&profile, st).is_none()));
    }

    #[test]
    fn a_request_that_needs_a_group_s_id_keeps_the_scenario_about_groups() {
        let mut profile = library("okta::profile::put_profile_update_oin");
        // a user step whose request carries the captured group: the flow rests on groups
        let step = profile.steps.iter_mut().find(|st| st.name.starts_with("Okta (profile edit): PUT")).unwrap();
        step.request.path = "/Users/{{userId}}?group={{groupId}}".into();
        assert!(profile.groups_skip_whole());
    }

    /// An enterprise step whose capture only a later step's response check names (not its request): the scenario
    /// is judged without the enterprise step and that check, as for Groups; one whose capture a later request needs
    /// rests on the extension and is skipped whole.
    #[test]
    fn an_enterprise_capture_only_a_check_names_keeps_the_other_steps() {
        const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        let parse = |steps: serde_json::Value| {
            let mut steps = steps;
            for st in steps.as_array_mut().expect("steps") {
                st["basis"] = serde_json::json!({"rfc": "RFC 7643 §4.3"});
            }
            let text = serde_json::json!({"title": "t", "source": "s", "level": "must", "steps": steps}).to_string();
            crate::scenario::parse("rfc/x/e.json", std::path::Path::new("rfc/x/e.json"), &text).expect("scenario")
        };
        let create = serde_json::json!({"name": "create", "request": {"method": "POST", "path": "/Users",
            "body": {"userName": "x"}}, "expect": {"status": 201}, "capture": {"id": "/id"}});
        let department = serde_json::json!({"name": "department", "request": {"method": "GET", "path": "/Users/{{id}}"},
            "expect": {"status": 200, "body": [{"pointer": format!("/{ENTERPRISE}/department"), "exists": true}]},
            "capture": {"dept": format!("/{ENTERPRISE}/department")}});
        let checks_dept = serde_json::json!({"name": "checks dept", "request": {"method": "GET", "path": "/Users/{{id}}"},
            "expect": {"status": 200, "body": [{"pointer": "/id", "equals": "{{id}}"},
                                               {"pointer": "/title", "equals": "{{dept}}"}]}});
        let read = serde_json::json!({"name": "read", "request": {"method": "GET", "path": "/Users/{{id}}"},
            "expect": {"status": 200}});
        let judged = parse(serde_json::json!([create.clone(), department.clone(), checks_dept, read.clone()]));
        assert!(!judged.enterprise_skips_whole());
        let caps = Capabilities { user_extensions: Some(vec![]), ..Default::default() };
        let skips = StepSkips::for_target(&caps, &judged);
        assert!(skips.reason(&judged.steps[1]).is_some() && skips.reason(&judged.steps[2]).is_none());
        let (trimmed, note) = skips.without_skipped_assertions(&judged, &judged.steps[2]).expect("trimmed");
        assert_eq!(trimmed.expect.body.len(), 1);
        assert!(!trimmed.names_used().contains(&"dept".to_string()));
        assert!(note.contains("{{dept}}") && note.contains("RFC 7643 §6"), "{note}");
        assert!(skips.without_skipped_assertions(&judged, &judged.steps[3]).is_none());

        let needs = serde_json::json!({"name": "needs dept", "request": {"method": "GET", "path": "/Users",
            "query": {"filter": "title eq \"{{dept}}\""}}, "expect": {"status": 200}});
        let whole = parse(serde_json::json!([create, department, read.clone(), read, needs]));
        assert!(whole.enterprise_skips_whole());
    }
}
