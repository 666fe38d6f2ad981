use super::*;

fn result(name: &str, status: Status) -> TestResult {
    let def = suite::by_name(name).expect("a Microsoft test");
    TestResult {
        number: def.number,
        name: def.name,
        group: def.group.title(),
        category: def.category,
        status,
        detail: String::new(),
        entra: None,
    }
}

fn all(status: Status) -> Vec<TestResult> {
    TESTS.iter().map(|t| result(t.name, status)).collect()
}

fn set(tests: &mut [TestResult], name: &str, status: Status) {
    tests.iter_mut().find(|t| t.name == name).expect("listed").status = status;
}

#[test]
fn the_suite_is_microsofts_25_tests_with_its_groups_and_optional_four() {
    assert_eq!(TESTS.len(), 25);
    let count = |g: Group| TESTS.iter().filter(|t| t.group == g).count();
    assert_eq!((count(Group::UserLifecycle), count(Group::GroupLifecycle)), (7, 7));
    assert_eq!((count(Group::ScimDirect), count(Group::Authentication)), (9, 2));
    let optional: Vec<&str> = TESTS.iter().filter(|t| t.category == Category::Optional).map(|t| t.name).collect();
    assert_eq!(optional, ["Delete_User_Test", "Delete_Group_Test", "Restore_Group_Test", "SCIM_Group_Pagination_Test"]);
    let fail_without_groups: Vec<&str> = TESTS
        .iter()
        .filter(|t| t.needs == Needs::GroupsOrFail && t.category == Category::Mandatory)
        .map(|t| t.name)
        .collect();
    assert_eq!(fail_without_groups.len(), 7, "{fail_without_groups:?}");
    for (i, t) in TESTS.iter().enumerate() {
        assert_eq!(t.number as usize, i + 1);
    }
}

#[test]
fn overall_logic_is_microsofts() {
    let reqs = vec![Requirement { name: "noMatchQuery", met: true, detail: String::new(), entra: None }];
    let mut t = all(Status::Passed);
    assert_eq!(verdict(&t, &reqs), Verdict::Succeeded);
    // one authentication test is enough, the other failing or skipped
    set(&mut t, "Federated_Identity_Test", Status::Failed);
    assert_eq!(verdict(&t, &reqs), Verdict::Succeeded);
    set(&mut t, "Validate_Credentials_Test", Status::Skipped);
    assert_eq!(verdict(&t, &reqs), Verdict::Failed, "both authentication tests failed or skipped");
    set(&mut t, "Federated_Identity_Test", Status::Skipped);
    assert_eq!(verdict(&t, &reqs), Verdict::OauthRequired, "neither configured");
    // warnings and skips of mandatory tests never block
    let mut t = all(Status::Passed);
    set(&mut t, "Delete_User_Test", Status::Warning);
    set(&mut t, "User_Update_Manager_Test", Status::Skipped);
    assert_eq!(verdict(&t, &reqs), Verdict::Succeeded);
    set(&mut t, "Disable_User_Test", Status::Failed);
    assert_eq!(verdict(&t, &reqs), Verdict::Failed);
    let unmet = vec![Requirement { name: "noMatchQuery", met: false, detail: String::new(), entra: None }];
    assert_eq!(verdict(&all(Status::Passed), &unmet), Verdict::Failed);
}

#[test]
fn provision_on_demand_speaks_the_default_dialect_whatever_the_tenant_url_says() {
    let o = Options {
        base_url: "http://127.0.0.1:9/scim?aadOptscim062020".into(),
        credential: crate::credential::Credential::None,
        mapping: mapping::AttributeMapping::entra_default(),
        auth: auth::AuthEvidence::default(),
        timeout: Duration::from_secs(1),
        tls: Default::default(),
        rate_window: Duration::from_secs(1),
    };
    let ctx = Ctx::new(&o).unwrap();
    assert_eq!(ctx.engine.options().dialect, Dialect::Entra(EntraDialect::AadOptscim062020));
    assert_eq!(ctx.pod.options().dialect, Dialect::Entra(EntraDialect::Default));
    let plain = Ctx::new(&Options { base_url: "http://127.0.0.1:9/scim".into(), ..o }).unwrap();
    assert_eq!(plain.engine.options().dialect, Dialect::Entra(EntraDialect::Default));
}

#[test]
fn a_servers_message_becomes_one_line_of_the_table() {
    let hostile = "1 validation error for EnterpriseUser\nmanager\n  Input should be a dict\x1b[31m\r\n\tend";
    let line = one_line(hostile, 160);
    assert_eq!(line, "1 validation error for EnterpriseUser manager Input should be a dict[31m end");
    assert!(!line.contains('\n') && !line.chars().any(char::is_control));
    assert_eq!(one_line("abcdef", 3), "abc");
}

/// The cycle tests' dialect follows Entra's one Tenant URL rule: the flag counts in the query only, so a path
/// segment named like it (a tenant or app called `aadOptscim062020`) leaves the default dialect.
#[test]
fn only_the_flag_in_the_query_selects_the_aadoptscim062020_dialect() {
    for (url, want) in [
        ("https://h/scim?aadOptscim062020", EntraDialect::AadOptscim062020),
        ("https://h/scim/?x=1&aadOptscim062020", EntraDialect::AadOptscim062020),
        ("https://h/aadOptscim062020/scim", EntraDialect::Default),
        ("https://h/scim/aadoptscim062020", EntraDialect::Default),
        ("https://h/scim", EntraDialect::Default),
    ] {
        assert_eq!(engine_dialect(url), want, "{url}");
    }
}
