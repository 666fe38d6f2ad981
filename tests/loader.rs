//! The loader rejects bad scenario files, naming the file, the step and the reason.

use std::path::PathBuf;

use scimcheck::scenario::{load_dir, LoadError};
use serde_json::json;

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_scenarios(files: &[(&str, serde_json::Value)]) -> TempDir {
    let dir =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("scimcheck-loader-{}", uuid::Uuid::new_v4()));
    for (rel, v) in files {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, serde_json::to_string_pretty(v).unwrap()).unwrap();
    }
    TempDir(dir)
}

fn base(steps: serde_json::Value) -> serde_json::Value {
    json!({"title": "t", "source": "test", "level": "must", "variables": {"email": "{{$uuid}}@example.com"}, "steps": steps})
}

fn get(name: &str, path: &str) -> serde_json::Value {
    json!({"name": name, "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "GET", "path": path}, "expect": {"status": 200}})
}

fn errors_of(files: &[(&str, serde_json::Value)]) -> Vec<LoadError> {
    let dir = temp_scenarios(files);
    load_dir(&dir.0).expect_err("the loader must reject these files")
}

fn one_error(file: &str, v: serde_json::Value) -> LoadError {
    let errors = errors_of(&[(file, v)]);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let e = errors.into_iter().next().unwrap();
    assert!(e.file.ends_with(file), "error names the file: {e}");
    e
}

#[test]
fn unknown_field_in_a_step_names_file_step_and_field() {
    let e = one_error(
        "rfc/bad/unknown_field.json",
        base(
            json!([get("first", "/Users"), {"name": "second", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "GET", "path": "/Users", "bogus": 1}}]),
        ),
    );
    assert_eq!(e.step.as_deref(), Some("step 2 \"second\""), "{e}");
    assert!(e.reason.contains("unknown field `bogus`"), "{e}");
    assert!(e.reason.contains("steps[1].request"), "{e}");
}

#[test]
fn body_and_body_text_are_exclusive() {
    let step = json!({"name": "raw", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "POST", "path": "/Users", "body": {}, "bodyText": "{"}});
    let e = one_error("rfc/bad/both_bodies.json", base(json!([step])));
    assert_eq!(e.step.as_deref(), Some("step 1 \"raw\""), "{e}");
    assert!(e.reason.contains("`body` and `bodyText` are exclusive"), "{e}");
}

#[test]
fn repeated_steps_are_bounded_cannot_capture_and_alone_know_index() {
    let step = |extra: serde_json::Value| {
        let mut s = json!({"name": "create", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "POST", "path": "/Users", "body": {"userName": "u{{index}}"}}});
        s.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        s
    };
    let e = one_error("okta/bad/repeat_one.json", base(json!([step(json!({"repeat": 1}))])));
    assert!(e.reason.contains("`repeat` must be between 2 and 1000, not 1"), "{e}");
    let e =
        one_error("okta/bad/repeat_capture.json", base(json!([step(json!({"repeat": 3, "capture": {"id": "/id"}}))])));
    assert!(e.reason.contains("a repeated step cannot capture"), "{e}");
    let e = one_error("okta/bad/index_outside.json", base(json!([step(json!({}))])));
    assert!(e.reason.contains("{{index}}"), "{e}");
}

#[test]
fn a_with_next_group_cannot_capture_repeat_or_end_the_scenario() {
    let mut first = get("first", "/Users");
    first["withNext"] = json!(true);
    let e = one_error("rfc/bad/with_next_last.json", base(json!([first.clone()])));
    assert!(e.reason.contains("`withNext` on the last step"), "{e}");
    let mut second = get("second", "/Users");
    second["capture"] = json!({"id": "/id"});
    let e = one_error("rfc/bad/with_next_capture.json", base(json!([first.clone(), second])));
    assert_eq!(e.step.as_deref(), Some("step 2 \"second\""), "{e}");
    assert!(e.reason.contains("cannot capture"), "{e}");
    let mut repeated = first.clone();
    repeated["repeat"] = json!(2);
    let errors = errors_of(&[("rfc/bad/with_next_repeat.json", base(json!([repeated, get("b", "/Users")])))]);
    assert!(errors.iter().any(|e| e.reason.contains("cannot `repeat`")), "{errors:?}");
}

#[test]
fn a_pause_is_bounded() {
    for bad in [json!(-1), json!(121), json!("5")] {
        let mut step = get("paused", "/Users");
        step["pause"] = bad.clone();
        let e = one_error("okta/bad/pause.json", base(json!([step])));
        assert!(e.reason.contains("pause") || e.reason.contains("invalid type"), "{bad}: {e}");
    }
}

#[test]
fn unknown_top_level_field_is_rejected() {
    let mut v = base(json!([get("a", "/Users")]));
    v["titel"] = json!("typo");
    let e = one_error("okta/bad/top.json", v);
    assert_eq!(e.step, None);
    assert!(e.reason.contains("unknown field `titel`"), "{e}");
}

#[test]
fn capture_used_before_it_is_captured_is_a_bad_reference() {
    let e = one_error(
        "rfc/bad/capture_order.json",
        base(json!([
            get("uses id too early", "/Users/{{userId}}"),
            {"name": "captures", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "GET", "path": "/Users"}, "capture": {"userId": "/Resources/0/id"}}
        ])),
    );
    assert_eq!(e.step.as_deref(), Some("step 1 \"uses id too early\""), "{e}");
    assert!(e.reason.contains("{{userId}}") && e.reason.contains("earlier step"), "{e}");
}

#[test]
fn capture_with_a_malformed_pointer_is_rejected() {
    let e = one_error(
        "rfc/bad/capture_pointer.json",
        base(
            json!([{"name": "cap", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "GET", "path": "/Users"}, "capture": {"id": "Resources/0/id"}}]),
        ),
    );
    assert_eq!(e.step.as_deref(), Some("step 1 \"cap\""));
    assert!(e.reason.contains("capture `id`") && e.reason.contains("JSON pointer"), "{e}");
}

#[test]
fn undefined_variable_in_a_body_and_in_a_variable() {
    let mut v = base(
        json!([{"name": "post", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "POST", "path": "/Users", "body": {"userName": "{{emial}}"}}}]),
    );
    v["variables"]["display"] = json!("{{given}} x");
    let errors = errors_of(&[("azure/bad/undefined.json", v)]);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    let var = errors.iter().find(|e| e.step.is_none()).expect("variable error");
    assert!(var.reason.contains("variable `display`") && var.reason.contains("`given`"), "{var}");
    let step = errors.iter().find(|e| e.step.is_some()).expect("step error");
    assert_eq!(step.step.as_deref(), Some("step 1 \"post\""));
    assert!(step.reason.contains("{{emial}}"), "{step}");
}

#[test]
fn generators_only_in_variables_and_unknown_generators() {
    let mut v = base(json!([get("inline", "/Users/{{$uuid}}")]));
    v["variables"]["x"] = json!("{{$nope}}");
    let errors = errors_of(&[("rfc/bad/generators.json", v)]);
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert!(
        text.iter().any(|e| e.contains("step 1 \"inline\"") && e.contains("may only be used in `variables`")),
        "{text:#?}"
    );
    assert!(text.iter().any(|e| e.contains("unknown generator `$nope`")), "{text:#?}");
}

#[test]
fn assertions_need_exactly_one_check_and_valid_values() {
    let v = base(json!([{
        "name": "checks", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "GET", "path": "/Users"},
        "expect": {"body": [
            {"pointer": "/a", "exists": true, "absent": true},
            {"pointer": "/b"},
            {"pointer": "/c", "notEmpty": false},
            {"pointer": "d", "exists": true},
            {"pointer": "/e", "matches": "("}
        ]}
    }]));
    let errors = errors_of(&[("rfc/bad/assertions.json", v)]);
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(errors.len(), 5, "{text:#?}");
    assert!(errors.iter().all(|e| e.step.as_deref() == Some("step 1 \"checks\"")));
    assert!(text[0].contains("exactly one check") && text[0].contains("exists, absent"), "{}", text[0]);
    assert!(text[1].contains("found none"), "{}", text[1]);
    assert!(text[2].contains("only `true`"), "{}", text[2]);
    assert!(text[3].contains("not a JSON pointer"), "{}", text[3]);
    assert!(text[4].contains("regular expression"), "{}", text[4]);
}

/// Malformed assertions do not hide each other or the file's other errors: an unknown key, a wrong operand, a
/// `false` for a `true`-only check and no check at all, in two steps, are each reported with their step, beside
/// an undefined placeholder the loader finds in the rest of the file; and beside a shape error elsewhere.
#[test]
fn every_malformed_assertion_of_a_file_is_reported_with_the_other_errors() {
    let step = |name: &str, path: &str, body: serde_json::Value| {
        json!({"name": name, "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "GET", "path": path},
               "expect": {"status": 200, "body": body}})
    };
    let v = base(json!([
        step(
            "first",
            "/Users",
            json!([{"pointer": "/a", "exists": true, "bogus": 1}, {"pointer": "/ok", "isArray": true}])
        ),
        step(
            "second",
            "/Users/{{nope}}",
            json!([{"pointer": "/b", "length": "3"}, {"pointer": "/c", "absent": false},
                                                 {"pointer": "/d", "when": {"pointer": "/e"}, "exists": true}])
        ),
    ]));
    let errors = errors_of(&[("rfc/bad/two_assertions.json", v)]);
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(errors.len(), 5, "{text:#?}");
    let first = Some("step 1 \"first\"");
    let second = Some("step 2 \"second\"");
    assert!(errors[0].step.as_deref() == first && text[0].contains("unknown field `bogus`"), "{}", text[0]);
    assert!(
        errors[1].step.as_deref() == second && text[1].contains("`length` on `/b` must be a non-negative integer"),
        "{}",
        text[1]
    );
    assert!(
        errors[2].step.as_deref() == second && text[2].contains("`absent` on `/c`") && text[2].contains("only `true`"),
        "{}",
        text[2]
    );
    assert!(
        errors[3].step.as_deref() == second && text[3].contains("in `when`") && text[3].contains("found none"),
        "{}",
        text[3]
    );
    assert!(errors[4].step.as_deref() == second && text[4].contains("{{nope}}"), "{}", text[4]);

    // a malformed assertion and an unknown field of a request: both
    let mut v = base(json!([step("first", "/Users", json!([{"pointer": "/a"}])), get("second", "/Users")]));
    v["steps"][1]["request"]["bogus"] = json!(1);
    let errors = errors_of(&[("rfc/bad/assertion_and_shape.json", v)]);
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(errors.len(), 2, "{text:#?}");
    assert!(errors[0].step.as_deref() == first && text[0].contains("found none"), "{}", text[0]);
    assert!(
        errors[1].step.as_deref() == Some("step 2 \"second\"") && text[1].contains("unknown field `bogus`"),
        "{}",
        text[1]
    );
}

#[test]
fn files_that_name_no_idp_and_non_object_json() {
    let errors = errors_of(&[
        ("vendor/x/y.json", base(json!([get("a", "/Users")]))),
        // library metadata directly in an IdP folder is not a scenario and is not loaded
        ("okta/faults.json", json!({"okta::x::y": []})),
        ("okta/x/broken.json", json!("placeholder")),
    ]);
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    // outside an IdP folder and without an `idp` field: which IdP is unknown, and the error says how to name it
    assert!(
        text.iter().any(|e| e.contains("vendor") && e.contains("Add \"idp\"") && e.contains("okta|entra|rfc/<group>/")),
        "{text:#?}"
    );
    assert!(!text.iter().any(|e| e.contains("faults.json")), "{text:#?}");
    assert!(text.iter().any(|e| e.contains("broken.json") && e.contains("invalid type")), "{text:#?}");
}

#[test]
fn the_shipped_scenarios_load() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let scenarios = load_dir(&dir).unwrap_or_else(|e| panic!("{e:#?}"));
    let spec = scenarios.iter().find(|s| s.id == "okta::spec::spec_suite").expect("the Okta SPEC suite");
    let names: Vec<&str> =
        spec.steps.iter().map(|s| s.name.as_str()).filter(|n| !n.starts_with("Precondition:")).collect();
    // the twelve suite steps, by their exact names and in order, besides the preconditions
    assert_eq!(
        &names[..],
        &[
            "Required Test: Test Users endpoint",
            "Required Test: Get Users/{{id}} ", // the export's name ends with a space
            "Required Test: Test invalid User by username",
            "Required Test: Test invalid User by ID",
            "Required Test: Make sure random user doesn't exist",
            "Required Test: Create Okta user with realistic values",
            "Required Test: Verify that user was created",
            "Required Test: Expect failure when recreating user with same values",
            "Required Test: Username Case Sensitivity Check",
            "Optional Test: Verify Groups endpoint",
            "Required Test: Check status 401",
            "Required Test: Check status 404",
        ]
    );
}

#[test]
fn the_json_schema_matches_the_loader() {
    use scimcheck::scenario::Assertion;
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/scenario.schema.json");
    let schema: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let keys = |ptr: &str| -> Vec<String> {
        let mut k: Vec<String> = schema.pointer(ptr).unwrap().as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    let mut checks: Vec<String> = Assertion::CHECKS.iter().map(|s| s.to_string()).collect();
    checks.extend(["basis".to_string(), "pointer".to_string(), "when".to_string()]);
    checks.sort();
    assert_eq!(keys("/$defs/assertion/properties"), checks);
    // every check the schema names is one the loader reads as that check, and writes back under its name
    for name in Assertion::CHECKS {
        let operand = match *name {
            "length" => json!(2),
            "atLeast" => json!(1.5),
            "equalsIgnoreCase" | "matches" | "notBefore" => json!("x"),
            "equals" | "contains" | "notEquals" => json!({"a": [1]}),
            _ => json!(true),
        };
        let file = json!({"pointer": "/a", *name: operand});
        let read = Assertion::from_json(&file).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(read.check.name(), *name);
        assert_eq!(serde_json::to_value(&read).unwrap(), file);
    }
    assert_eq!(
        keys("/$defs/step/properties"),
        [
            "basis", "capture", "expect", "kind", "level", "name", "note", "pages", "pause", "repeat", "request",
            "setup", "withNext"
        ]
    );
    assert_eq!(
        keys("/$defs/request/properties"),
        ["auth", "body", "bodyText", "headers", "method", "path", "query", "spaces"]
    );
    assert_eq!(
        keys("/$defs/expect/properties"),
        ["body", "headers", "maxTimeMs", "preferredStatus", "status", "statusOnly"]
    );
    assert_eq!(
        keys("/properties"),
        [
            "$schema",
            "description",
            "group",
            "headers",
            "idp",
            "kind",
            "level",
            "requires",
            "source",
            "steps",
            "tags",
            "title",
            "variables"
        ]
    );
    // and a file using every top-level field loads
    let dir = temp_scenarios(&[(
        "rfc/ok/full.json",
        json!({"$schema": "../../scenario.schema.json", "title": "t", "description": "d", "source": "s", "level": "may",
               "idp": "Entra", "group": "mine", "tags": ["a"], "requires": ["changePassword"], "headers": {"X-A": "1", "Accept": null},
               "variables": {"v": "{{$uuid}}"},
               "steps": [{"name": "n", "basis": {"rfc": "RFC 7644 §3"}, "level": "should", "note": "x", "basis": {"shown": "an example response"},
                          "request": {"method": "PATCH", "path": "/Users/{{v}}", "query": {"a": "b"}, "headers": {"If-Match": "*"},
                                      "body": {"Operations": []}, "auth": "none"},
                          "expect": {"status": [200, 204], "headers": {"ETag": ".+", "Location": null}, "maxTimeMs": 5,
                                     "preferredStatus": 204, "statusOnly": true,
                                     "body": [{"pointer": "/id", "notEmpty": true, "when": {"pointer": "", "isString": true},
                                               "basis": {"required": "the source's sentence"}}]},
                          "capture": {"a": "/id", "b": {"pointer": "/x"}, "c": {"header": "ETag"}}}]}),
    )]);
    let loaded = load_dir(&dir.0).unwrap_or_else(|e| panic!("{e:#?}"));
    // the `idp` and `group` fields win over the folders
    assert_eq!(loaded[0].id, "azure::mine::full");
}

#[test]
fn requirements_are_inferred_from_the_steps_and_explicit_ones_may_not_contradict_them() {
    let patch = json!({"name": "p", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "PATCH", "path": "/Groups/x", "headers": {"If-Match": "*"},
                       "body": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "add",
                                "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "x"}]}}});
    // the URN in a `schemas` list alone (Entra's create) does not need the extension
    let entra_create = json!({"name": "c", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "POST", "path": "/Users",
                       "body": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                                            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"], "userName": "u"}}});
    let search = json!({"name": "s", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "GET", "path": "/Users", "query": {"filter": "a eq 1", "sortBy": "a"}}});
    let dir = temp_scenarios(&[("rfc/req/ok.json", base(json!([patch.clone(), search.clone()])))]);
    let loaded = load_dir(&dir.0).unwrap_or_else(|e| panic!("{e:#?}"));
    let names: Vec<&str> = loaded[0].requires.iter().map(|f| f.as_str()).collect();
    assert_eq!(names, ["groups", "patch", "etag", "sort", "filter", "enterpriseUser"]);
    let dir = temp_scenarios(&[("rfc/req/create.json", base(json!([entra_create])))]);
    let loaded = load_dir(&dir.0).unwrap_or_else(|e| panic!("{e:#?}"));
    assert!(loaded[0].requires.is_empty(), "{:?}", loaded[0].requires);
    // listing an inferable feature the steps show is redundant; one they do not show is a contradiction
    let mut redundant = base(json!([patch.clone()]));
    redundant["requires"] = json!(["patch"]);
    let e = one_error("rfc/req/redundant.json", redundant);
    assert!(e.reason.contains("already show"), "{e}");
    let mut contradicting = base(json!([search]));
    contradicting["requires"] = json!(["groups"]);
    let e = one_error("rfc/req/contradicting.json", contradicting);
    assert!(e.reason.contains("no step needs it"), "{e}");
    // what cannot be inferred may be declared
    let mut declared = base(json!([patch]));
    declared["requires"] = json!(["portal", "bulk"]);
    let dir = temp_scenarios(&[("rfc/req/declared.json", declared)]);
    let loaded = load_dir(&dir.0).unwrap_or_else(|e| panic!("{e:#?}"));
    assert!(loaded[0].requires.iter().any(|f| f.as_str() == "portal"));
}

/// Every step says why its checks exist; a basis needs a citation, an `rfc` one names the RFC; a preferred status
/// must be an accepted one.
#[test]
fn steps_need_a_basis() {
    let step = |basis: serde_json::Value| json!({"name": "s", "basis": basis, "request": {"method": "GET", "path": "/Users"}, "expect": {"status": 200}});
    let errors = errors_of(&[
        ("rfc/b/none.json", base(json!([{"name": "bare", "request": {"method": "GET", "path": "/Users"}}]))),
        ("rfc/b/empty.json", base(json!([step(json!({"required": " "}))]))),
        ("rfc/b/norfc.json", base(json!([step(json!({"rfc": "§3.12"}))]))),
        ("rfc/b/two.json", base(json!([step(json!({"rfc": "RFC 7644 §3.12", "shown": "x"}))]))),
        (
            "rfc/b/prefer.json",
            base(
                json!([{"name": "p", "basis": {"rfc": "RFC 7644 §3.12"}, "request": {"method": "GET", "path": "/Users"},
                         "expect": {"status": [401, 403], "preferredStatus": 404}}]),
            ),
        ),
        (
            "rfc/b/assertion.json",
            base(
                json!([{"name": "a", "basis": {"rfc": "RFC 7644 §3.12"}, "request": {"method": "GET", "path": "/Users"},
                         "expect": {"body": [{"pointer": "/x", "exists": true, "basis": {"rfc": "none"}}]}}]),
            ),
        ),
    ]);
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert!(
        text.iter().any(|e| e.contains("none.json") && e.contains("step 1 \"bare\"") && e.contains("no `basis`")),
        "{text:#?}"
    );
    assert!(text.iter().any(|e| e.contains("empty.json") && e.contains("needs a quote or citation")), "{text:#?}");
    assert!(text.iter().any(|e| e.contains("norfc.json") && e.contains("names the RFC")), "{text:#?}");
    assert!(text.iter().any(|e| e.contains("two.json")), "{text:#?}");
    assert!(text.iter().any(|e| e.contains("prefer.json") && e.contains("`preferredStatus` 404")), "{text:#?}");
    assert!(text.iter().any(|e| e.contains("assertion.json") && e.contains("check on `/x`")), "{text:#?}");
    assert_eq!(errors.len(), 6, "{text:#?}");
}

/// A basis or `source` naming a `*.md` document must name one a reader can open: a `docs/` document of this
/// repository, or a file relative to the scenario file (a user's folder keeps its own notes beside its scenarios);
/// a URL is a primary source and is not checked. Each bad reference is an error naming the file and the step,
/// among the file's other errors.
#[test]
fn a_basis_citing_a_document_the_repository_lacks_is_refused() {
    let step = |name: &str, basis: serde_json::Value| json!({"name": name, "basis": basis, "request": {"method": "GET", "path": "/Users"}, "expect": {"status": 200}});
    let bad = base(json!([
        step("a", json!({"required": "docs/nonexistent.md §9"})),
        step("b", json!({"required": "okta.md §2"})),
        {"name": "c", "basis": {"rfc": "RFC 7644 §3.4.2"}, "request": {"method": "GET", "path": "/Users"},
         "expect": {"status": 200, "body": [{"pointer": "/totalResults", "isNumber": true, "basis": {"shown": "notes/missing.md"}}]}},
        {"name": "", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "GET", "path": "/Users"}}
    ]));
    let errors = errors_of(&[("rfc/bad/cites.json", bad)]);
    let find = |step: &str, text: &str| {
        errors
            .iter()
            .find(|e| e.step.as_deref() == Some(step) && e.reason.contains(text))
            .unwrap_or_else(|| panic!("no error on {step} about {text}: {errors:#?}"))
    };
    assert!(find("step 1 \"a\"", "`docs/nonexistent.md`").file.ends_with("rfc/bad/cites.json"));
    assert!(find("step 1 \"a\"", "`docs/nonexistent.md`").reason.contains("docs/okta.md"), "lists the documents");
    find("step 2 \"b\"", "`okta.md`");
    find("step 3 \"c\"", "`notes/missing.md`");
    find("step 4 \"\"", "`name` is empty");
    assert_eq!(errors.len(), 4, "{errors:#?}");

    // the same references resolve: a docs/ document, a note beside the scenario file, a URL
    let good = base(json!([
        step("a", json!({"required": "docs/okta.md §3"})),
        step("b", json!({"required": "notes/acme.md §2"})),
        step("c", json!({"shown": "https://github.com/MicrosoftDocs/entra-docs/blob/main/x.md#y"})),
        step("d", json!({"required": "reference-server/README.md 'CALs'"}))
    ]));
    let dir = temp_scenarios(&[("rfc/ok/cites.json", good)]);
    std::fs::create_dir_all(dir.0.join("rfc/ok/notes")).unwrap();
    std::fs::write(dir.0.join("rfc/ok/notes/acme.md"), "# Acme's notes\n").unwrap();
    load_dir(&dir.0).unwrap_or_else(|e| panic!("{e:#?}"));
    // without the note, that step's reference is the one error
    std::fs::remove_file(dir.0.join("rfc/ok/notes/acme.md")).unwrap();
    let errors = load_dir(&dir.0).expect_err("the note is gone");
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].reason.contains("`notes/acme.md`"), "{}", errors[0]);

    // and in `source`
    let mut v = base(json!([get("a", "/Users")]));
    v["source"] = json!("okta.md §2");
    let e = one_error("rfc/bad/source.json", v);
    assert!(e.step.is_none() && e.reason.contains("`source` cites `okta.md`"), "{e}");
}

/// What the JSON Schema bounds, the loader bounds with the same constants: a non-blank `title`, `source` and
/// step `name`; statuses 100 to 599 (one, a set, `preferredStatus`); `maxTimeMs` at least 1.
#[test]
fn the_loader_enforces_the_bounds_the_schema_states() {
    let cases: Vec<(&str, serde_json::Value, &str)> = vec![
        (
            "title",
            {
                let mut v = base(json!([get("a", "/Users")]));
                v["title"] = json!("");
                v
            },
            "`title` is empty",
        ),
        (
            "blank_title",
            {
                let mut v = base(json!([get("a", "/Users")]));
                v["title"] = json!("   ");
                v
            },
            "`title` is empty",
        ),
        (
            "source",
            {
                let mut v = base(json!([get("a", "/Users")]));
                v["source"] = json!("");
                v
            },
            "`source` is empty",
        ),
        ("name", base(json!([get("", "/Users")])), "`name` is empty"),
        (
            "status_99",
            {
                let mut v = base(json!([get("a", "/Users")]));
                v["steps"][0]["expect"]["status"] = json!(99);
                v
            },
            "status 99 is not an HTTP status",
        ),
        (
            "status_600",
            {
                let mut v = base(json!([get("a", "/Users")]));
                v["steps"][0]["expect"]["status"] = json!([200, 600]);
                v
            },
            "status 600 is not an HTTP status",
        ),
        (
            "status_999",
            {
                let mut v = base(json!([get("a", "/Users")]));
                v["steps"][0]["expect"] = json!({"status": [200, 999], "preferredStatus": 999});
                v
            },
            "status 999 is not an HTTP status",
        ),
        (
            "max_time",
            {
                let mut v = base(json!([get("a", "/Users")]));
                v["steps"][0]["expect"]["maxTimeMs"] = json!(0);
                v
            },
            "`maxTimeMs` must be at least 1, not 0",
        ),
    ];
    for (name, file, reason) in cases {
        let rel = format!("rfc/bad/{name}.json");
        let errors = errors_of(&[(rel.as_str(), file)]);
        assert!(
            errors.iter().any(|e| e.file.ends_with(&rel) && e.reason.contains(reason)),
            "{name}: expected {reason:?} in {errors:#?}"
        );
    }
    // the schema says the same, from the same constants
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/scenario.schema.json");
    let schema: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(schema.pointer("/properties/title/pattern"), Some(&json!("\\S")));
    assert_eq!(schema.pointer("/properties/source/pattern"), Some(&json!("\\S")));
    assert_eq!(schema.pointer("/$defs/step/properties/name/pattern"), Some(&json!("\\S")));
    assert_eq!(schema.pointer("/$defs/expect/properties/maxTimeMs/minimum"), Some(&json!(1)));
    assert_eq!(schema.pointer("/$defs/expect/properties/preferredStatus/maximum"), Some(&json!(599)));
    assert_eq!(
        schema.pointer("/$defs/headerPatterns/additionalProperties/format"),
        Some(&json!("regex")),
        "expect.headers values are regular expressions, like `matches`"
    );
}
