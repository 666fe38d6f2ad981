//! Unit tests of the filter parser, validation and evaluation.

use serde_json::json;

use super::eval::{cmp_int_float, cmp_numbers, compare_leaves};
use super::*;
use crate::schema::{ENTERPRISE_URN, GROUP_RESOURCE_TYPE, USER_RESOURCE_TYPE};

fn path(name: &str) -> AttrPath {
    AttrPath { urn: None, name: name.to_string(), sub: None }
}

fn sub_path(name: &str, sub: &str) -> AttrPath {
    AttrPath { urn: None, name: name.to_string(), sub: Some(sub.to_string()) }
}

fn cmp(p: AttrPath, op: CompareOp, value: Value) -> Filter {
    Filter::Compare { path: p, op, value }
}

fn and(a: Filter, b: Filter) -> Filter {
    Filter::And(Box::new(a), Box::new(b))
}

fn or(a: Filter, b: Filter) -> Filter {
    Filter::Or(Box::new(a), Box::new(b))
}

fn not(a: Filter) -> Filter {
    Filter::Not(Box::new(a))
}

fn err(input: &str) -> FilterError {
    match parse(input) {
        Ok(f) => panic!("{input:?} parsed as {f:?}"),
        Err(e) => e,
    }
}

fn user() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE_URN],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "externalId": "Bjensen",
        "userName": "bjensen@example.com",
        "name": {"familyName": "Jensen", "givenName": "Barbara", "formatted": "Ms. Barbara J Jensen III"},
        "displayName": "Babs Jensen",
        "title": "",
        "active": true,
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "phoneNumbers": [{"value": "555-555-5555", "type": "work"}],
        "x509Certificates": [],
        "meta": {
            "resourceType": "User",
            "created": "2010-01-23T04:56:22Z",
            "lastModified": "2011-05-13T06:42:34+02:00",
            "version": "W/\"a330bc54f0671c9\""
        },
        ENTERPRISE_URN: {
            "employeeNumber": "701984",
            "department": "Tour Operations",
            "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"}
        }
    })
}

fn user_matches(filter: &str, resource: &Value) -> bool {
    let f = parse(filter).unwrap_or_else(|e| panic!("{filter:?}: {e}"));
    validate(&f, &USER_RESOURCE_TYPE).unwrap_or_else(|e| panic!("{filter:?}: {e}"));
    matches(&f, resource, &USER_RESOURCE_TYPE)
}

// ----- parser -----

#[test]
fn parses_every_comparison_operator() {
    for (kw, op) in [
        ("eq", CompareOp::Eq),
        ("ne", CompareOp::Ne),
        ("co", CompareOp::Co),
        ("sw", CompareOp::Sw),
        ("ew", CompareOp::Ew),
        ("gt", CompareOp::Gt),
        ("ge", CompareOp::Ge),
        ("lt", CompareOp::Lt),
        ("le", CompareOp::Le),
    ] {
        assert_eq!(parse(&format!("title {kw} \"x\"")).unwrap(), cmp(path("title"), op, json!("x")));
        let upper = kw.to_ascii_uppercase();
        assert_eq!(parse(&format!("title {upper} \"x\"")).unwrap(), cmp(path("title"), op, json!("x")));
    }
    assert_eq!(parse("title pr").unwrap(), Filter::Present(path("title")));
    assert_eq!(parse("title PR").unwrap(), Filter::Present(path("title")));
}

#[test]
fn keywords_are_case_insensitive() {
    let f = parse("userName Eq \"a\" AnD NOT (title pR) oR active EQ TRUE").unwrap();
    let expected = or(
        and(cmp(path("userName"), CompareOp::Eq, json!("a")), not(Filter::Present(path("title")))),
        cmp(path("active"), CompareOp::Eq, json!(true)),
    );
    assert_eq!(f, expected);
    assert_eq!(parse("title eq NULL").unwrap(), cmp(path("title"), CompareOp::Eq, Value::Null));
    assert_eq!(parse("active eq False").unwrap(), cmp(path("active"), CompareOp::Eq, json!(false)));
}

#[test]
fn and_binds_tighter_than_or() {
    let a = || cmp(path("a"), CompareOp::Eq, json!(1));
    let b = || cmp(path("b"), CompareOp::Eq, json!(2));
    let c = || cmp(path("c"), CompareOp::Eq, json!(3));
    assert_eq!(parse("a eq 1 or b eq 2 and c eq 3").unwrap(), or(a(), and(b(), c())));
    assert_eq!(parse("a eq 1 and b eq 2 or c eq 3").unwrap(), or(and(a(), b()), c()));
    assert_eq!(parse("a eq 1 and (b eq 2 or c eq 3)").unwrap(), and(a(), or(b(), c())));
    assert_eq!(parse("a eq 1 and b eq 2 and c eq 3").unwrap(), and(and(a(), b()), c()));
    assert_eq!(parse("((a eq 1))").unwrap(), a());
}

#[test]
fn not_requires_parentheses_and_binds_tightest() {
    let a = || cmp(path("a"), CompareOp::Eq, json!(1));
    let b = || cmp(path("b"), CompareOp::Eq, json!(2));
    assert_eq!(parse("not (a eq 1) and b eq 2").unwrap(), and(not(a()), b()));
    assert_eq!(parse("not(a eq 1 or b eq 2)").unwrap(), not(or(a(), b())));
    assert_eq!(parse("not (not (a eq 1))").unwrap(), not(not(a())));
    let e = err("not a eq 1");
    assert_eq!(e.position, 4);
    assert!(e.message.contains("expected '(' after 'not'"), "{}", e.message);
    // An attribute merely starting with "not" is an attribute.
    assert_eq!(parse("notes pr").unwrap(), Filter::Present(path("notes")));
}

#[test]
fn parses_value_paths() {
    let f = parse("emails[type eq \"work\" and value co \"@example.com\"]").unwrap();
    assert_eq!(
        f,
        Filter::ValuePath {
            path: path("emails"),
            filter: Box::new(and(
                cmp(path("type"), CompareOp::Eq, json!("work")),
                cmp(path("value"), CompareOp::Co, json!("@example.com"))
            )),
        }
    );
    let f = parse("userType eq \"Employee\" and emails[type eq \"work\" or not (primary eq false)]").unwrap();
    assert!(matches!(f, Filter::And(_, ref r) if matches!(**r, Filter::ValuePath { .. })));
    let e = err("emails[type[value eq \"x\"] eq \"y\"]");
    assert!(e.message.contains("nested"), "{}", e.message);
    let e = err("name.givenName[value eq \"x\"]");
    assert!(e.message.contains("sub-attribute"), "{}", e.message);
}

#[test]
fn desugars_value_path_followed_by_sub_attribute() {
    let f = parse("emails[type eq \"work\"].value eq \"x@example.com\"").unwrap();
    assert_eq!(
        f,
        Filter::ValuePath {
            path: path("emails"),
            filter: Box::new(and(
                cmp(path("type"), CompareOp::Eq, json!("work")),
                cmp(path("value"), CompareOp::Eq, json!("x@example.com"))
            )),
        }
    );
    let f = parse("emails[type eq \"work\"].value pr").unwrap();
    assert_eq!(
        f,
        Filter::ValuePath {
            path: path("emails"),
            filter: Box::new(and(cmp(path("type"), CompareOp::Eq, json!("work")), Filter::Present(path("value")))),
        }
    );
    assert!(user_matches("emails[type eq \"work\"].value eq \"bjensen@example.com\"", &user()));
    assert!(!user_matches("emails[type eq \"home\"].value eq \"bjensen@example.com\"", &user()));
}

#[test]
fn parses_sub_attributes_and_urn_paths() {
    assert_eq!(
        parse("name.familyName co \"O'Malley\"").unwrap(),
        cmp(sub_path("name", "familyName"), CompareOp::Co, json!("O'Malley"))
    );
    let f = parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"Sales\"").unwrap();
    assert_eq!(
        f,
        cmp(
            AttrPath { urn: Some(ENTERPRISE_URN.to_string()), name: "department".into(), sub: None },
            CompareOp::Eq,
            json!("Sales")
        )
    );
    let f = parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"m\"").unwrap();
    assert_eq!(
        f,
        cmp(
            AttrPath { urn: Some(ENTERPRISE_URN.to_string()), name: "manager".into(), sub: Some("value".into()) },
            CompareOp::Eq,
            json!("m")
        )
    );
    let f = parse("urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"J\"").unwrap();
    assert_eq!(
        f,
        cmp(
            AttrPath { urn: Some(USER_URN.to_string()), name: "userName".into(), sub: None },
            CompareOp::Sw,
            json!("J")
        )
    );
    assert_eq!(
        parse("members[$ref pr]").unwrap(),
        Filter::ValuePath { path: path("members"), filter: Box::new(Filter::Present(path("$ref"))) }
    );
    assert!(err("foo:bar eq 1").message.contains("URN"));
    assert!(err("name.givenName.x eq 1").message.contains("at most one sub-attribute"));
    assert!(err("1abc eq 1").message.contains("invalid attribute name"));
}

#[test]
fn parses_string_escapes() {
    let f = parse(r#"displayName eq "a\"b\\c\/d\n\t\u00e9\ud83d\ude00""#).unwrap();
    assert_eq!(f, cmp(path("displayName"), CompareOp::Eq, json!("a\"b\\c/d\n\té😀")));
    assert_eq!(parse(r#"title eq "Ünïcödé ok""#).unwrap(), cmp(path("title"), CompareOp::Eq, json!("Ünïcödé ok")));
    assert_eq!(parse(r#"title eq """#).unwrap(), cmp(path("title"), CompareOp::Eq, json!("")));
    assert_eq!(err(r#"title eq "a\x""#).position, 11);
    assert!(err(r#"title eq "\u12""#).message.contains("\\u"));
    assert!(err(r#"title eq "\ud83d""#).message.contains("surrogate"));
    assert!(err(r#"title eq "\ude00""#).message.contains("surrogate"));
    assert_eq!(err(r#"title eq "abc\"#).message, "unterminated string");
}

#[test]
fn parses_numbers_booleans_and_null() {
    for (text, value) in [
        ("42", json!(42)),
        ("-7", json!(-7)),
        ("3.25", json!(3.25)),
        ("-0.5e2", json!(-50.0)),
        ("1E3", json!(1000.0)),
        ("18446744073709551615", json!(18446744073709551615u64)),
        ("true", json!(true)),
        ("false", json!(false)),
        ("null", Value::Null),
    ] {
        assert_eq!(parse(&format!("x eq {text}")).unwrap(), cmp(path("x"), CompareOp::Eq, value), "{text}");
    }
}

#[test]
fn accepts_bare_values_as_strings() {
    assert_eq!(parse("externalId eq jyoung").unwrap(), cmp(path("externalId"), CompareOp::Eq, json!("jyoung")));
    assert_eq!(
        parse("emails.value eq j.young@example.com").unwrap(),
        cmp(sub_path("emails", "value"), CompareOp::Eq, json!("j.young@example.com"))
    );
    // Not a valid number: read as a string (Entra GUIDs often start with digits).
    assert_eq!(
        parse("externalId eq 8d5f3a1e-0c1b").unwrap(),
        cmp(path("externalId"), CompareOp::Eq, json!("8d5f3a1e-0c1b"))
    );
    assert_eq!(parse("(externalId eq abc)").unwrap(), cmp(path("externalId"), CompareOp::Eq, json!("abc")));
    let e = err("externalId eq and");
    assert_eq!(e.position, 14);
    assert!(e.message.contains("keyword"), "{}", e.message);
    assert!(parse("externalId eq pr").is_err());
    assert!(parse("externalId eq eq").is_err());
}

#[test]
fn tolerates_extra_whitespace() {
    let expected = and(cmp(path("a"), CompareOp::Eq, json!("x")), Filter::Present(path("b")));
    assert_eq!(parse("  a   eq\t\"x\"   and  ( b  pr )  ").unwrap(), expected);
    assert_eq!(parse("a eq\"x\" and(b pr)").unwrap(), expected);
}

#[test]
fn reports_errors_with_positions() {
    let cases: &[(&str, usize, &str)] = &[
        ("userName eq", 11, "expected comparison value after 'eq'"),
        ("userName xx \"a\"", 9, "expected comparison operator after attribute 'userName', found 'xx'"),
        ("userName", 8, "expected comparison operator after attribute 'userName'"),
        ("(userName eq \"a\"", 16, "to close '(' at position 0"),
        ("userName eq \"a\")", 15, "unexpected ')'"),
        ("userName eq \"unterminated", 12, "unterminated string"),
        ("emails[type eq \"work\"", 21, "to close '[' at position 6"),
        ("and", 0, "expected attribute path before 'and'"),
        ("", 0, "empty filter"),
        ("   ", 3, "empty filter"),
        ("userName eq \"a\" and", 19, "expected attribute path"),
        ("userName eq \"a\" userName eq \"b\"", 16, "trailing input"),
        (")", 0, "unexpected ')'"),
        ("()", 1, "unexpected ')'"),
        ("\"a\" eq userName", 0, "expected attribute path"),
        ("userName eq )", 12, "expected comparison value"),
    ];
    for (input, position, message) in cases {
        let e = err(input);
        assert_eq!(e.position, *position, "{input:?}: {e}");
        assert!(e.message.contains(message), "{input:?}: {e}");
    }
    let scim = err("userName eq").into_filter_error();
    assert_eq!(scim.scim_type(), Some("invalidFilter"));
    assert!(scim.detail().contains("position 11"));
}

#[test]
fn rejects_parenthesis_bombs_quickly() {
    // Within the length bound the depth bound answers; beyond it, the length bound, before any parsing.
    for n in [1_000, 3_000] {
        let input = format!("{}userName eq \"a\"{}", "(".repeat(n), ")".repeat(n));
        let started = std::time::Instant::now();
        let e = err(&input);
        assert_eq!(e.position, MAX_DEPTH);
        assert!(e.message.contains("nesting deeper than 64"), "{}", e.message);
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        // Unbalanced too.
        assert_eq!(err(&"(".repeat(n)).position, MAX_DEPTH);
        assert_eq!(err(&"not (".repeat(n)).message, "nesting deeper than 64");
    }
    let input = format!("{}userName eq \"a\"{}", "(".repeat(100_000), ")".repeat(100_000));
    let e = err(&input);
    assert_eq!(e.position, MAX_FILTER_LEN);
    assert!(e.message.contains("at most 16384"), "{}", e.message);
}

#[test]
fn filters_are_bounded_in_length_and_attribute_expressions() {
    let at_length = format!("userName eq \"{}\"", "a".repeat(MAX_FILTER_LEN - 14));
    assert_eq!(at_length.len(), MAX_FILTER_LEN);
    assert!(parse(&at_length).is_ok());
    let over = format!("userName eq \"{}\"", "a".repeat(MAX_FILTER_LEN - 13));
    assert_eq!(
        err(&over).message,
        format!("the filter is {} bytes long; this server accepts at most 16384", MAX_FILTER_LEN + 1)
    );
    let terms = |n: usize| vec!["title pr"; n].join(" or ");
    assert!(parse(&terms(MAX_FILTER_TERMS)).is_ok());
    assert!(err(&terms(MAX_FILTER_TERMS + 1)).message.contains("more than 256 attribute expressions"));
    // Expressions inside a value path count: 128 value paths of two expressions each is 384 (and the
    // value path itself one more each).
    let vp = vec!["emails[type eq \"work\" and value pr]"; 128].join(" or ");
    assert!(err(&vp).message.contains("at most 256"));
    let vp = vec!["emails[type eq \"work\" and value pr]"; 85].join(" or ");
    assert!(parse(&vp).is_ok());
}

#[test]
fn accepts_exactly_max_depth() {
    let input = format!("{}userName eq \"a\"{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert_eq!(parse(&input).unwrap(), cmp(path("userName"), CompareOp::Eq, json!("a")));
    let over = format!("{}userName eq \"a\"{}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
    assert_eq!(err(&over).position, MAX_DEPTH);
    // A value path counts as a level.
    let vp = format!("{}emails[value pr]{}", "(".repeat(MAX_DEPTH - 1), ")".repeat(MAX_DEPTH - 1));
    assert!(parse(&vp).is_ok());
    let vp = format!("{}emails[value pr]{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert!(err(&vp).message.contains("nesting"));
}

#[test]
fn long_flat_chains_build_shallow_trees() {
    fn depth(f: &Filter) -> usize {
        match f {
            Filter::And(a, b) | Filter::Or(a, b) => 1 + depth(a).max(depth(b)),
            Filter::Not(a) => 1 + depth(a),
            _ => 1,
        }
    }
    let input = vec!["title pr"; MAX_FILTER_TERMS].join(" and ");
    let f = parse(&input).unwrap();
    assert!(depth(&f) <= 10, "{}", depth(&f));
    assert!(!matches(&f, &user(), &USER_RESOURCE_TYPE));
    let input = vec!["displayName pr"; MAX_FILTER_TERMS].join(" or ");
    assert!(matches(&parse(&input).unwrap(), &user(), &USER_RESOURCE_TYPE));
}

#[test]
fn never_panics_on_odd_input() {
    let inputs = [
        "[",
        "]",
        "(",
        "not",
        "not (",
        "a[",
        "a[]",
        "a[b",
        "a[b pr",
        "a[b pr]]",
        "a.",
        "a..b",
        ":",
        "urn:",
        "urn:x:",
        "a eq \"",
        "a eq \"\\",
        "a eq \"\\u",
        "a eq \"\\ud800\\u",
        "é eq 1",
        "a eq é",
        "a eq \"é",
        "a\u{0}eq 1",
        "a eq 1 or",
        "a eq 1 or or",
        "a eq -",
        "a eq 1e999",
        "emails[type eq \"w\"].",
        "emails[type eq \"w\"].value",
        "emails[type eq \"w\"]",
        "emails[type eq \"w\"] pr",
        "(((",
        ")))",
        "a eq (",
        "a eq [",
        "\u{feff}",
    ];
    for input in inputs {
        let _ = parse(input);
        let _ = parse_patch_path(input);
        let _ = parse_attr_path(input);
    }
    for n in 0..40 {
        let input: String = "a eq \"x\\u00e9\" and (b[c pr] or not (d.e ne 1))".chars().take(n).collect();
        let _ = parse(&input);
    }
}

#[test]
fn parses_patch_paths() {
    assert_eq!(
        parse_patch_path("name.givenName").unwrap(),
        PatchPath { attr: sub_path("name", "givenName"), value_filter: None, sub_attr: None }
    );
    assert_eq!(
        parse_patch_path("members[value eq \"2819c223\"]").unwrap(),
        PatchPath {
            attr: path("members"),
            value_filter: Some(cmp(path("value"), CompareOp::Eq, json!("2819c223"))),
            sub_attr: None,
        }
    );
    assert_eq!(
        parse_patch_path("emails[type eq \"work\"].value").unwrap(),
        PatchPath {
            attr: path("emails"),
            value_filter: Some(cmp(path("type"), CompareOp::Eq, json!("work"))),
            sub_attr: Some("value".into()),
        }
    );
    let p = parse_patch_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager").unwrap();
    assert_eq!(p.attr.urn.as_deref(), Some(ENTERPRISE_URN));
    assert_eq!(p.attr.name, "manager");
    assert_eq!(parse_patch_path("").unwrap_err().message, "empty path");
    assert_eq!(parse_patch_path("emails[type eq \"work\"").unwrap_err().position, 21);
    assert!(parse_patch_path("emails[type eq \"work\"].").is_err());
    assert!(parse_patch_path("emails[type eq \"work\"] x").unwrap_err().message.contains("trailing"));
    assert!(parse_patch_path("name.givenName[value pr]").is_err());
    assert!(parse_patch_path("emails[value[x pr]]").is_err());
    assert_eq!(parse_patch_path("userName eq \"x\"").unwrap_err().position, 9);
    assert_eq!(parse_patch_path("a b").unwrap_err().into_path_error().scim_type(), Some("invalidPath"));
}

#[test]
fn parses_attribute_paths() {
    assert_eq!(parse_attr_path("userName").unwrap(), path("userName"));
    assert_eq!(parse_attr_path(" name.familyName ").unwrap(), sub_path("name", "familyName"));
    assert_eq!(
        parse_attr_path("urn:ietf:params:scim:schemas:core:2.0:User:name.givenName").unwrap(),
        AttrPath { urn: Some(USER_URN.into()), name: "name".into(), sub: Some("givenName".into()) }
    );
    assert_eq!(parse_attr_path("").unwrap_err().message, "empty attribute path");
    assert!(parse_attr_path("emails[type eq \"work\"]").is_err());
    assert!(parse_attr_path("a b").is_err());
    assert!(parse_attr_path("name.").is_err());
    assert!(parse_attr_path("urn:x:").is_err());
}

#[test]
fn displays_attribute_paths() {
    let p = parse_attr_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value").unwrap();
    assert_eq!(p.to_string(), format!("{ENTERPRISE_URN}:manager.value"));
    assert_eq!(path("userName").to_string(), "userName");
}

// ----- validation -----

#[test]
fn validates_against_the_schema() {
    let rt = &USER_RESOURCE_TYPE;
    let ok = |s: &str| validate(&parse(s).unwrap(), rt);
    assert!(ok("userName eq \"a\"").is_ok());
    assert!(ok("USERNAME eq \"a\" and name.FAMILYNAME pr and meta.lastModified gt \"2020-01-01T00:00:00Z\"").is_ok());
    assert!(ok("emails[type eq \"work\" and value co \"@\"]").is_ok());
    assert!(ok("emails co \"example\"").is_ok());
    assert!(ok("manager.value eq \"x\"").is_err()); // manager lives in the extension
    assert!(ok("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"x\"").is_ok());
    assert!(ok("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[value eq \"x\"]").is_ok());
    assert!(ok("not (id eq \"x\") or externalId pr").is_ok());

    let e = ok("nosuch eq \"a\"").unwrap_err();
    assert_eq!(e.scim_type(), Some("invalidFilter"));
    assert!(e.detail().contains("nosuch"), "{e}");
    assert!(ok("name.nosuch pr").unwrap_err().detail().contains("name.nosuch"));
    assert!(ok("urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq \"a\"").is_err());
    assert!(ok("active gt true").unwrap_err().detail().contains("boolean"));
    assert!(ok("emails gt \"a\"").unwrap_err().detail().contains("complex"));
    assert!(ok("x509Certificates.value le \"a\"").unwrap_err().detail().contains("binary"));
    assert!(ok("emails[primary lt true]").is_err());
    assert!(ok("name eq \"Barbara\"").is_err());
    assert!(ok("userName[value eq \"a\"]").unwrap_err().detail().contains("not complex"));
    assert!(ok("emails[nosuch eq \"a\"]").unwrap_err().detail().contains("nosuch"));
    assert!(ok("emails[value.x eq \"a\"]").is_err());
    assert!(ok("not (title eq \"a\" and nosuch pr)").is_err());

    let g = &GROUP_RESOURCE_TYPE;
    assert!(validate(&parse("displayName eq \"Admins\" and members[value eq \"u1\"]").unwrap(), g).is_ok());
    assert!(validate(&parse("userName eq \"a\"").unwrap(), g).is_err());
}

// ----- evaluation -----

#[test]
fn user_name_is_case_insensitive_and_external_id_case_exact() {
    let u = user();
    assert!(user_matches("userName eq \"BJENSEN@example.COM\"", &u));
    assert!(user_matches("USERNAME EQ \"bjensen@example.com\"", &u));
    assert!(user_matches("displayName eq \"babs jensen\"", &u));
    assert!(user_matches("externalId eq \"Bjensen\"", &u));
    assert!(!user_matches("externalId eq \"bjensen\"", &u));
    assert!(user_matches("externalId ne \"bjensen\"", &u));
    assert!(!user_matches("id eq \"2819C223-7F76-453A-919D-413861904646\"", &u));
    assert!(user_matches("externalId eq Bjensen", &u));
}

#[test]
fn json_keys_are_looked_up_case_insensitively() {
    let u = json!({"USERNAME": "alice", "Name": {"GivenName": "Alice"}, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user": {"Department": "R&D"}});
    assert!(user_matches("userName eq \"Alice\"", &u));
    assert!(user_matches("name.givenName sw \"al\"", &u));
    assert!(user_matches("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"r&d\"", &u));
}

#[test]
fn substring_operators() {
    let u = user();
    assert!(user_matches("userName co \"JENSEN@\"", &u));
    assert!(user_matches("userName sw \"BJ\"", &u));
    assert!(user_matches("userName ew \".COM\"", &u));
    assert!(!user_matches("userName sw \"jensen\"", &u));
    assert!(!user_matches("userName ew \"example\"", &u));
    assert!(user_matches("externalId co \"jen\"", &u));
    assert!(!user_matches("externalId sw \"bj\"", &u));
    assert!(user_matches("name.formatted co \"barbara j\"", &u));
    // co/sw/ew on non-strings never match.
    assert!(!user_matches("active co \"tr\"", &u));
    assert!(!user_matches("active sw true", &u));
}

/// RFC 7644 §3.4.2.2 with `caseExact` false: `eq` folds case as `co`/`sw`/`ew` and the `userName` index do
/// (`str::to_lowercase`), so a word ending in capital sigma equals its lowercase with the final `ς`.
#[test]
fn equality_folds_case_as_the_substring_operators_and_the_index_do() {
    let u = json!({"userName": "ΟΔΟΣ", "externalId": "ΟΔΟΣ"});
    assert!(user_matches("userName co \"οδος\"", &u));
    assert!(user_matches("userName eq \"οδος\"", &u), "eq agrees with co");
    assert!(user_matches("userName eq \"ΟΔΟΣ\"", &u));
    assert!(!user_matches("userName ne \"οδος\"", &u));
    assert_eq!(crate::store::fold("ΟΔΟΣ"), crate::store::fold("οδος"), "the index folds them alike");
    assert!(!user_matches("externalId eq \"οδος\"", &u), "caseExact");
}

#[test]
fn string_ordering() {
    let u = user();
    assert!(user_matches("userName gt \"A\"", &u));
    assert!(user_matches("userName gt \"BA\"", &u)); // case folded: "bj" > "ba"
    assert!(user_matches("userName lt \"C\"", &u));
    assert!(user_matches("userName ge \"BJENSEN@EXAMPLE.COM\"", &u));
    assert!(user_matches("userName le \"bjensen@example.com\"", &u));
    assert!(!user_matches("userName lt \"bjensen@example.com\"", &u));
    // caseExact: "Bjensen" < "a" by code point.
    assert!(user_matches("externalId lt \"a\"", &u));
    assert!(!user_matches("externalId gt \"a\"", &u));
}

#[test]
fn date_times_compare_as_instants() {
    let u = user(); // lastModified 2011-05-13T06:42:34+02:00 == 04:42:34Z
    assert!(user_matches("meta.lastModified eq \"2011-05-13T04:42:34Z\"", &u));
    assert!(user_matches("meta.lastModified ge \"2011-05-13T04:42:34Z\"", &u));
    assert!(!user_matches("meta.lastModified gt \"2011-05-13T04:42:34Z\"", &u));
    assert!(user_matches("meta.lastModified gt \"2011-05-13T05:42:33+01:00\"", &u));
    assert!(user_matches("meta.lastModified lt \"2011-05-13T00:00:00-05:00\"", &u));
    // A string-wise comparison would say the opposite here.
    assert!(user_matches("meta.lastModified lt \"2011-05-13T05:00:00Z\"", &u));
    assert!(user_matches("meta.created lt \"2011-01-01T00:00:00.000Z\"", &u));
    // Not a dateTime: compared as strings.
    assert!(user_matches("meta.created gt \"2010\"", &u));
    assert!(user_matches("meta.created sw \"2010-01\"", &u));
    assert!(!user_matches("meta.created lt \"2010\"", &u));
}

#[test]
fn booleans_accept_string_forms() {
    let u = user();
    assert!(user_matches("active eq true", &u));
    assert!(!user_matches("active eq false", &u));
    assert!(user_matches("active eq \"True\"", &u));
    assert!(user_matches("active ne \"FALSE\"", &u));
    assert!(!user_matches("active eq \"yes\"", &u));
    let entra = json!({"userName": "x", "active": "False"});
    assert!(user_matches("active eq false", &entra));
    assert!(!user_matches("active eq true", &entra));
    assert!(user_matches("emails[primary eq true and type eq \"work\"]", &u));
    assert!(!user_matches("emails[primary eq true and type eq \"home\"]", &u));
}

#[test]
fn numbers_compare_numerically() {
    let d = AttrDef::new("n", AttrType::Decimal, "");
    let i = AttrDef::new("i", AttrType::Integer, "");
    let test = |def: &AttrDef, v: Value, op: CompareOp, c: Value| compare_leaves(def, &[&v], op, &c);
    assert!(test(&i, json!(10), CompareOp::Gt, json!(9)));
    assert!(test(&i, json!(10), CompareOp::Eq, json!(10.0)));
    assert!(test(&d, json!(2.5), CompareOp::Lt, json!(3)));
    assert!(test(&d, json!(-1), CompareOp::Le, json!(-1)));
    assert!(test(&i, json!(9007199254740993u64), CompareOp::Gt, json!(9007199254740992u64)));
    assert!(test(&i, json!(9007199254740993u64), CompareOp::Gt, json!(9007199254740992.0)));
    assert!(!test(&i, json!(10), CompareOp::Eq, json!("10")));
    assert!(!test(&i, json!(10), CompareOp::Co, json!(1)));
    assert!(test(&i, json!(10), CompareOp::Ne, json!("10")));
    assert_eq!(cmp_numbers(&Number::from(0), &serde_json::Number::from_f64(-0.0).unwrap()), Ordering::Equal);
    assert_eq!(cmp_int_float(3, 3.5), Ordering::Less);
    assert_eq!(cmp_int_float(-3, -3.5), Ordering::Greater);
    assert_eq!(cmp_int_float(1, 1e300), Ordering::Less);
    assert_eq!(cmp_int_float(1, -1e300), Ordering::Greater);
    // A string attribute does not equal a number (type mismatch).
    assert!(!user_matches(
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq 701984",
        &user()
    ));
}

#[test]
fn multi_valued_attributes() {
    let u = user();
    assert!(user_matches("emails co \"jensen.org\"", &u));
    assert!(user_matches("emails eq \"BJENSEN@example.com\"", &u));
    assert!(user_matches("emails.value ew \"@jensen.org\"", &u));
    assert!(user_matches("emails.type eq \"home\"", &u));
    assert!(!user_matches("emails.type eq \"other\"", &u));
    assert!(user_matches("emails[type eq \"work\" and value co \"@example.com\"]", &u));
    assert!(!user_matches("emails[type eq \"home\" and value co \"@example.com\"]", &u));
    // Without a value path the two conditions may hold on different elements.
    assert!(user_matches("emails.type eq \"home\" and emails.value co \"@example.com\"", &u));
    assert!(user_matches("emails[not (type eq \"work\")]", &u));
    assert!(user_matches("phoneNumbers[type eq \"work\"]", &u));
    assert!(!user_matches("phoneNumbers[type eq \"work\" and value eq \"1\"]", &u));
    // ne is the negation of eq: no element has type "other", one has type "work".
    assert!(user_matches("emails.type ne \"other\"", &u));
    assert!(!user_matches("emails.type ne \"work\"", &u));
    // Elements that are plain strings stand for {"value": ...}.
    let plain = json!({"userName": "p", "emails": ["p@example.com"]});
    assert!(user_matches("emails[value eq \"p@example.com\"]", &plain));
    assert!(user_matches("emails.value eq \"p@example.com\"", &plain));
    assert!(user_matches("emails eq \"p@example.com\"", &plain));
    assert!(!user_matches("emails[type eq \"work\"]", &plain));
}

#[test]
fn matches_single_elements() {
    let emails = USER_RESOURCE_TYPE.resolve(None, "emails", None).unwrap().attr;
    let f = parse("type eq \"work\" and value co \"@example.com\"").unwrap();
    assert!(matches_element(&f, &json!({"type": "WORK", "value": "a@example.com"}), emails));
    assert!(!matches_element(&f, &json!({"type": "home", "value": "a@example.com"}), emails));
    assert!(matches_element(&parse("value sw \"a@\"").unwrap(), &json!("a@example.com"), emails));
    assert!(!matches_element(&parse("nosuch pr").unwrap(), &json!({"nosuch": 1}), emails));
    assert!(matches_element(&parse("primary pr").unwrap(), &json!({"primary": false}), emails));
    assert!(!matches_element(&parse("display pr").unwrap(), &json!({"display": ""}), emails));
}

#[test]
fn enterprise_extension() {
    let u = user();
    assert!(user_matches(
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"tour operations\"",
        &u
    ));
    assert!(user_matches(
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"26118915-6090-4610-87e4-49d8ca9f808d\"",
        &u
    ));
    assert!(user_matches(
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq \"26118915-6090-4610-87e4-49d8ca9f808d\"",
        &u
    ));
    assert!(user_matches(
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[displayName sw \"john\"]",
        &u
    ));
    assert!(!user_matches("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter pr", &u));
    // A bare manager id string is the manager's value.
    let bare = json!({"userName": "x", ENTERPRISE_URN: {"manager": "m-1"}});
    assert!(user_matches("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"m-1\"", &bare));
    // Without the extension object nothing matches, except ne.
    let plain = json!({"userName": "x"});
    assert!(!user_matches("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"a\"", &plain));
    assert!(user_matches("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department ne \"a\"", &plain));
}

#[test]
fn absent_attributes_and_presence() {
    let u = user();
    assert!(!user_matches("nickName eq \"x\"", &u));
    assert!(!user_matches("nickName co \"x\"", &u));
    assert!(!user_matches("nickName gt \"a\"", &u));
    assert!(user_matches("nickName ne \"x\"", &u));
    assert!(user_matches("nickName eq null", &u));
    assert!(!user_matches("nickName ne null", &u));
    assert!(user_matches("userName ne null", &u));
    assert!(!user_matches("userName eq null", &u));
    assert!(!user_matches("userName gt null", &u));
    assert!(user_matches("userName pr", &u));
    assert!(!user_matches("nickName pr", &u));
    assert!(!user_matches("title pr", &u)); // empty string
    assert!(!user_matches("x509Certificates pr", &u)); // empty array
    assert!(user_matches("emails pr", &u));
    assert!(user_matches("emails.type pr", &u));
    assert!(!user_matches("emails.display pr", &u));
    assert!(user_matches("name pr", &u));
    assert!(user_matches("active pr", &u));
    assert!(user_matches("meta.created pr", &u));
    assert!(!user_matches("addresses[type eq \"work\"]", &u));
    let nulls = json!({"userName": "x", "nickName": null, "name": {}, "emails": [{"value": null}]});
    assert!(!user_matches("nickName pr", &nulls));
    assert!(!user_matches("name pr", &nulls));
    assert!(!user_matches("emails pr", &nulls));
    assert!(!user_matches("emails.value pr", &nulls));
    assert!(user_matches("nickName ne \"a\"", &nulls));
    // Unresolvable paths never match.
    assert!(!matches(&parse("nosuch ne \"a\"").unwrap(), &u, &USER_RESOURCE_TYPE));
}

#[test]
fn logical_operators() {
    let u = user();
    assert!(user_matches("userName eq \"bjensen@example.com\" and active eq true", &u));
    assert!(!user_matches("userName eq \"bjensen@example.com\" and active eq false", &u));
    assert!(user_matches("userName eq \"nobody\" or active eq true", &u));
    assert!(user_matches("not (userName eq \"nobody\")", &u));
    assert!(!user_matches("not (userName pr)", &u));
    assert!(user_matches("(title pr or nickName pr) or (emails[type eq \"work\"] and not (active eq false))", &u));
}

#[test]
fn groups() {
    let g = json!({"id": "g1", "displayName": "Admins", "members": [{"value": "u1", "type": "User"}, {"value": "u2"}]});
    let rt = &GROUP_RESOURCE_TYPE;
    let m = |s: &str| matches(&parse(s).unwrap(), &g, rt);
    assert!(m("displayName eq \"admins\""));
    assert!(m("members[value eq \"u2\"]"));
    assert!(m("members.value eq \"u1\""));
    // members.value is not caseExact in the schema.
    assert!(m("members[value eq \"U1\"]"));
    assert!(m("members[type eq \"user\"] and not (members.value eq \"u3\")"));
    assert!(!m("members[value eq \"u3\"]"));
}

#[test]
fn indexed_eq_finds_plain_and_conjunct_equalities() {
    let f = parse("userName eq \"bjensen\"").unwrap();
    assert_eq!(indexed_eq(&f, "username"), Some("bjensen"));
    assert_eq!(indexed_eq(&f, "externalId"), None);
    let f = parse("USERNAME EQ jdoe").unwrap();
    assert_eq!(indexed_eq(&f, "userName"), Some("jdoe"));
    let f = parse("urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"u\"").unwrap();
    assert_eq!(indexed_eq(&f, "userName"), Some("u"));
    let f = parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:userName eq \"u\"").unwrap();
    assert_eq!(indexed_eq(&f, "userName"), None);
    let f = parse("active eq true and (title pr and externalId eq \"e1\")").unwrap();
    assert_eq!(indexed_eq(&f, "externalId"), Some("e1"));
    let f = parse("externalId eq \"e1\" or userName eq \"u\"").unwrap();
    assert_eq!(indexed_eq(&f, "externalId"), None);
    assert_eq!(indexed_eq(&f, "userName"), None);
    let f = parse("not (id eq \"x\")").unwrap();
    assert_eq!(indexed_eq(&f, "id"), None);
    for s in ["id ne \"x\"", "id co \"x\"", "id eq 1", "id eq null", "name.id eq \"x\"", "emails[id eq \"x\"]"] {
        assert_eq!(indexed_eq(&parse(s).unwrap(), "id"), None, "{s}");
    }
}

#[test]
fn select_values_for_sorting() {
    let rt = &USER_RESOURCE_TYPE;
    let u = user();
    let sel = |p: &str| select(&u, rt, &parse_attr_path(p).unwrap());
    assert_eq!(sel("userName"), vec![&json!("bjensen@example.com")]);
    assert_eq!(sel("USERNAME"), vec![&json!("bjensen@example.com")]);
    assert_eq!(sel("name.familyName"), vec![&json!("Jensen")]);
    assert_eq!(sel("emails"), vec![&json!("bjensen@example.com"), &json!("babs@jensen.org")]);
    assert_eq!(sel("emails.type"), vec![&json!("work"), &json!("home")]);
    assert_eq!(sel("meta.lastModified"), vec![&json!("2011-05-13T06:42:34+02:00")]);
    assert_eq!(
        sel("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"),
        vec![&json!("26118915-6090-4610-87e4-49d8ca9f808d")]
    );
    assert!(sel("nickName").is_empty());
    assert!(sel("nosuch").is_empty());
    assert!(sel("name").is_empty());
    // The primary element comes first.
    let v = json!({"emails": [{"value": "b"}, {"value": "a", "primary": true}]});
    assert_eq!(select(&v, rt, &path("emails")), vec![&json!("a"), &json!("b")]);
}

#[test]
fn sort_order() {
    let rt = &USER_RESOURCE_TYPE;
    let def = |p: &str| {
        let p = parse_attr_path(p).unwrap();
        rt.resolve(p.urn.as_deref(), &p.name, p.sub.as_deref()).unwrap().leaf()
    };
    let user_name = def("userName");
    let s = |x: &str| json!(x);
    assert_eq!(compare_for_sort(user_name, Some(&s("alice")), Some(&s("BOB"))), Ordering::Less);
    assert_eq!(compare_for_sort(user_name, Some(&s("ALICE")), Some(&s("alice"))), Ordering::Equal);
    let external_id = def("externalId");
    assert_eq!(compare_for_sort(external_id, Some(&s("alice")), Some(&s("BOB"))), Ordering::Greater);
    assert_eq!(compare_for_sort(user_name, None, Some(&s("a"))), Ordering::Greater);
    assert_eq!(compare_for_sort(user_name, Some(&s("a")), None), Ordering::Less);
    assert_eq!(compare_for_sort(user_name, Some(&Value::Null), Some(&s("a"))), Ordering::Greater);
    assert_eq!(compare_for_sort(user_name, None, None), Ordering::Equal);

    let modified = def("meta.lastModified");
    assert_eq!(
        compare_for_sort(modified, Some(&s("2011-05-13T06:42:34+02:00")), Some(&s("2011-05-13T05:00:00Z"))),
        Ordering::Less
    );
    assert_eq!(
        compare_for_sort(modified, Some(&s("2011-05-13T06:42:34+02:00")), Some(&s("2011-05-13T04:42:34Z"))),
        Ordering::Equal
    );

    let active = def("active");
    assert_eq!(compare_for_sort(active, Some(&json!(false)), Some(&json!(true))), Ordering::Less);
    assert_eq!(compare_for_sort(active, Some(&s("True")), Some(&json!(false))), Ordering::Greater);

    let n = AttrDef::new("n", AttrType::Integer, "");
    assert_eq!(compare_for_sort(&n, Some(&json!(10)), Some(&json!(9))), Ordering::Greater);
    assert_eq!(compare_for_sort(&n, Some(&json!(2.5)), Some(&json!(3))), Ordering::Less);

    // Complex defs sort by their value sub-attribute; emails.value is not caseExact.
    let emails = def("emails");
    assert_eq!(compare_for_sort(emails, Some(&s("A@x")), Some(&s("a@x"))), Ordering::Equal);

    // Sorting whole resources by userName with missing ones last, using select.
    let users = [
        json!({"userName": "carol"}),
        json!({"displayName": "no user name"}),
        json!({"userName": "Alice"}),
        json!({"userName": "bob"}),
    ];
    let by = parse_attr_path("userName").unwrap();
    let mut sorted: Vec<&Value> = users.iter().collect();
    sorted.sort_by(|a, b| {
        compare_for_sort(user_name, select(a, rt, &by).first().copied(), select(b, rt, &by).first().copied())
    });
    let names: Vec<Option<&str>> = sorted.iter().map(|u| u.get("userName").and_then(Value::as_str)).collect();
    assert_eq!(names, vec![Some("Alice"), Some("bob"), Some("carol"), None]);
}

#[test]
fn sort_order_is_total_on_mixed_types() {
    let modified = USER_RESOURCE_TYPE.resolve(None, "meta", Some("lastModified")).unwrap().leaf();
    let values = [
        json!("2011-05-13T04:42:34Z"),
        json!("not a date"),
        json!(5),
        json!(true),
        json!("2011-05-13T06:42:34+02:00"),
        json!([1]),
        json!({"a": 1}),
        json!("Z"),
        json!(5.0),
    ];
    for a in &values {
        for b in &values {
            let ab = compare_for_sort(modified, Some(a), Some(b));
            let ba = compare_for_sort(modified, Some(b), Some(a));
            assert_eq!(ab, ba.reverse(), "{a} vs {b}");
            for c in &values {
                let bc = compare_for_sort(modified, Some(b), Some(c));
                let ac = compare_for_sort(modified, Some(a), Some(c));
                if ab != Ordering::Greater && bc != Ordering::Greater {
                    assert_ne!(ac, Ordering::Greater, "{a} <= {b} <= {c}");
                }
            }
        }
    }
}
