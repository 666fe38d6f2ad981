//! Unit tests of PATCH application.

use super::*;
use crate::resource::{hash_password, normalize, verify_password};
use crate::schema::{ENTERPRISE_URN, GROUP_RESOURCE_TYPE, GROUP_URN, PATCH_OP_URN, USER_RESOURCE_TYPE, USER_URN};
use serde_json::json;

const UID: &str = "2819c223-7f76-453a-919d-413861904646";
const GID: &str = "e9e30dba-f08f-4109-8486-d5c6a331660a";
const MANAGER: &str = "2c2f6fb8-254f-492e-b7fe-c09c5a61c8a2";

/// One stored form of the base user's password, the same in every call (hashes are salted).
fn stored_password() -> &'static str {
    static STORED: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    STORED.get_or_init(|| hash_password("1mz050nq"))
}

fn base_user() -> Value {
    json!({
        "schemas": [USER_URN, ENTERPRISE_URN],
        "id": UID,
        "externalId": "00ujl29u0le5T6Aj10h7",
        "userName": "test.user@okta.local",
        "name": {"givenName": "Test", "familyName": "User"},
        "displayName": "Test User",
        "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
        "active": true,
        "password": stored_password(),
        ENTERPRISE_URN: {"department": "R&D"},
        "meta": {"resourceType": "User", "created": "2024-01-01T00:00:00Z", "lastModified": "2024-01-01T00:00:00Z"}
    })
}

fn base_group() -> Value {
    json!({
        "schemas": [GROUP_URN],
        "id": GID,
        "displayName": "Test SCIMv2",
        "members": [
            {"value": "89bb1940-b905-4575-9e7f-6f887cfb368e", "display": "old@okta.local"},
            {"value": "u2"}
        ],
        "meta": {"resourceType": "Group"}
    })
}

fn ops(operations: Value) -> Vec<PatchOperation> {
    parse_request(&json!({"schemas": [PATCH_OP_URN], "Operations": operations})).unwrap()
}

fn patch_user(operations: Value) -> ScimResult<Value> {
    apply(&USER_RESOURCE_TYPE, &base_user(), UID, &ops(operations))
}

fn patch_group(operations: Value) -> ScimResult<Value> {
    apply(&GROUP_RESOURCE_TYPE, &base_group(), GID, &ops(operations))
}

/// What the directory stores: the patched view, normalised.
fn patch_user_normalized(operations: Value) -> Value {
    normalize(&USER_RESOURCE_TYPE, patch_user(operations).unwrap()).unwrap()
}

fn patch_group_normalized(operations: Value) -> Value {
    normalize(&GROUP_RESOURCE_TYPE, patch_group(operations).unwrap()).unwrap()
}

fn member_ids(group: &Value) -> Vec<&str> {
    group["members"].as_array().map(|m| m.iter().filter_map(|e| e["value"].as_str()).collect()).unwrap_or_default()
}

// ----- parse_request

#[test]
fn parses_ops_in_any_case() {
    let parsed = parse_request(&json!({
        "schemas": [PATCH_OP_URN],
        "Operations": [
            {"op": "Add", "path": "nickName", "value": "Babs"},
            {"op": "REPLACE", "path": "emails[type eq \"work\"].value", "value": "x@y"},
            {"op": "remove", "path": "members[value eq \"abc\"]"},
            {"Op": "replace", "Value": {"active": false}}
        ]
    }))
    .unwrap();
    assert_eq!(
        parsed.iter().map(|o| o.op).collect::<Vec<_>>(),
        [PatchOpKind::Add, PatchOpKind::Replace, PatchOpKind::Remove, PatchOpKind::Replace]
    );
    assert_eq!(parsed[0].path.as_ref().unwrap().attr.name, "nickName");
    assert!(parsed[1].path.as_ref().unwrap().value_filter.is_some());
    assert_eq!(parsed[1].path.as_ref().unwrap().sub_attr.as_deref(), Some("value"));
    assert!(parsed[2].value.is_none());
    assert!(parsed[3].path.is_none());
    assert_eq!(parsed[3].value, Some(json!({"active": false})));
}

#[test]
fn schemas_may_be_missing_and_operations_key_is_case_insensitive() {
    let parsed = parse_request(&json!({"operations": [{"op": "replace", "path": "active", "value": false}]})).unwrap();
    assert_eq!(parsed.len(), 1);
    // An empty path counts as no path.
    let parsed =
        parse_request(&json!({"Operations": [{"op": "replace", "path": "", "value": {"active": false}}]})).unwrap();
    assert!(parsed[0].path.is_none());
}

#[test]
fn empty_or_missing_operations_is_invalid_syntax() {
    for body in [
        json!({"schemas": [PATCH_OP_URN], "Operations": []}),
        json!({"schemas": [PATCH_OP_URN]}),
        json!({"schemas": [PATCH_OP_URN], "Operations": {"op": "add"}}),
        json!([]),
        json!("Operations"),
    ] {
        assert!(matches!(parse_request(&body), Err(ScimError::InvalidSyntax(_))), "{body}");
    }
    match parse_request(&json!({"schemas": [PATCH_OP_URN], "Operations": []})) {
        Err(ScimError::InvalidSyntax(d)) => assert_eq!(d, "Operations must not be empty"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_operations_are_rejected() {
    let one = |op: Value| parse_request(&json!({"Operations": [op]}));
    assert!(matches!(one(json!({"op": "move", "path": "x"})), Err(ScimError::InvalidSyntax(_))));
    assert!(matches!(one(json!({"op": 1})), Err(ScimError::InvalidSyntax(_))));
    assert!(matches!(one(json!({"path": "userName", "value": "x"})), Err(ScimError::InvalidSyntax(_))));
    assert!(matches!(one(json!("add")), Err(ScimError::InvalidSyntax(_))));
    assert!(matches!(one(json!({"op": "add", "path": "nickName"})), Err(ScimError::InvalidValue(_))));
    assert!(matches!(one(json!({"op": "replace"})), Err(ScimError::InvalidValue(_))));
    assert!(matches!(one(json!({"op": "add", "path": "emails[type eq", "value": 1})), Err(ScimError::InvalidPath(_))));
    assert!(matches!(one(json!({"op": "add", "path": 5, "value": 1})), Err(ScimError::InvalidPath(_))));
    // Remove needs no value; replace with an explicit null is allowed.
    assert!(one(json!({"op": "remove", "path": "nickName"})).is_ok());
    assert!(one(json!({"op": "replace", "path": "nickName", "value": null})).is_ok());
}

// ----- Okta

#[test]
fn okta_pathless_deactivate_and_reactivate() {
    let out = patch_user_normalized(json!([{"op": "replace", "value": {"active": false}}]));
    assert_eq!(out["active"], false);
    assert_eq!(out["userName"], "test.user@okta.local");
    let mut inactive = base_user();
    inactive["active"] = json!(false);
    let out = apply(&USER_RESOURCE_TYPE, &inactive, UID, &ops(json!([{"op": "replace", "value": {"active": true}}])))
        .unwrap();
    assert_eq!(out["active"], true);
}

#[test]
fn okta_group_rename_with_matching_id() {
    let out = patch_group_normalized(json!([{"op": "replace", "value": {"id": GID, "displayName": "Renamed"}}]));
    assert_eq!(out["displayName"], "Renamed");
    assert_eq!(out["members"].as_array().unwrap().len(), 2);
}

#[test]
fn okta_group_rename_with_other_id_is_mutability() {
    let r = patch_group(json!([{"op": "replace", "value": {"id": "something-else", "displayName": "Renamed"}}]));
    assert!(matches!(r, Err(ScimError::Mutability(_))), "{r:?}");
    let r = patch_group(json!([{"op": "replace", "path": "id", "value": "other"}]));
    assert!(matches!(r, Err(ScimError::Mutability(_))), "{r:?}");
    assert!(patch_group(json!([{"op": "replace", "path": "id", "value": GID}])).is_ok());
    assert!(matches!(patch_group(json!([{"op": "remove", "path": "id"}])), Err(ScimError::Mutability(_))));
}

#[test]
fn okta_membership_remove_and_add_in_one_request() {
    let out = patch_group_normalized(json!([
        {"op": "remove", "path": "members[value eq \"89bb1940-b905-4575-9e7f-6f887cfb368e\"]"},
        {"op": "add", "path": "members", "value": [{"value": "23a35c27-23d3-4c03-b4c5-6443c09e7173", "display": "test.user@okta.local"}]}
    ]));
    assert_eq!(member_ids(&out), ["u2", "23a35c27-23d3-4c03-b4c5-6443c09e7173"]);
    assert_eq!(out["members"][1]["display"], "test.user@okta.local");
}

#[test]
fn re_adding_a_member_is_harmless() {
    let out = patch_group_normalized(json!([
        {"op": "add", "path": "members", "value": [{"value": "u2", "display": "again"}, {"value": "u3"}]},
        {"op": "add", "path": "members", "value": {"value": "u3"}}
    ]));
    assert_eq!(member_ids(&out), ["89bb1940-b905-4575-9e7f-6f887cfb368e", "u2", "u3"]);
    assert!(out["members"][1].get("display").is_none(), "the existing element is kept as it was");
}

#[test]
fn okta_full_membership_replace_with_and_without_path() {
    let wanted = json!([{"value": "a1", "display": "a"}, {"value": "b2", "display": "b"}]);
    let out = patch_group_normalized(json!([{"op": "replace", "path": "members", "value": wanted}]));
    assert_eq!(out["members"], wanted);
    let out = patch_group_normalized(json!([{"op": "replace", "value": {"members": wanted}}]));
    assert_eq!(out["members"], wanted);
    let out = patch_group_normalized(json!([{"op": "replace", "path": "members", "value": []}]));
    assert!(out.get("members").is_none());
}

// ----- Entra

#[test]
fn entra_capitalised_ops_and_string_booleans() {
    let out = patch_user_normalized(json!([{"op": "Replace", "path": "active", "value": "False"}]));
    assert_eq!(out["active"], false);
    let out = patch_user_normalized(json!([{"op": "Replace", "value": {"active": "False", "userName": "someone"}}]));
    assert_eq!(out["active"], false);
    assert_eq!(out["userName"], "someone");
    let out = patch_user_normalized(json!([{"op": "Add", "path": "nickName", "value": "Babs"}]));
    assert_eq!(out["nickName"], "Babs");
    let r = patch_user(json!([{"op": "Replace", "path": "active", "value": "maybe"}]));
    assert!(matches!(r, Err(ScimError::InvalidValue(_))));
}

#[test]
fn entra_default_mode_multi_replace() {
    let out = patch_user_normalized(json!([
        {"op": "Replace", "path": "displayName", "value": "Pvlo"},
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "TestBcwqnm@test.microsoft.com"},
        {"op": "Replace", "path": "name.givenName", "value": "Gtfd"},
        {"op": "Replace", "path": "name.familyName", "value": "Pkqf"},
        {"op": "Replace", "path": "externalId", "value": "Eqpj"},
        {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "value": "Eqpj"}
    ]));
    assert_eq!(out["displayName"], "Pvlo");
    assert_eq!(out["emails"], json!([{"primary": true, "value": "TestBcwqnm@test.microsoft.com", "type": "work"}]));
    assert_eq!(out["name"], json!({"givenName": "Gtfd", "familyName": "Pkqf"}));
    assert_eq!(out["externalId"], "Eqpj");
    assert_eq!(out[ENTERPRISE_URN], json!({"department": "R&D", "employeeNumber": "Eqpj"}));
    assert_eq!(out["schemas"], json!([USER_URN, ENTERPRISE_URN]));
}

#[test]
fn entra_work_email_is_created_when_missing() {
    let mut user = base_user();
    user.as_object_mut().unwrap().remove("emails");
    let replace = ops(json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@x"}]));
    let out = apply_with(&USER_RESOURCE_TYPE, &user, UID, &replace, UnmatchedReplace::CreateElement).unwrap();
    assert_eq!(out["emails"], json!([{"type": "work", "value": "new@x"}]));
    // RFC 7644 §3.5.2.3 (every other client): the same replace is noTarget and changes nothing.
    let r = apply(&USER_RESOURCE_TYPE, &user, UID, &replace);
    assert!(matches!(r, Err(ScimError::NoTarget(_))), "{r:?}");
    let mut with_home = base_user();
    with_home["emails"] = json!([{"value": "h@x", "type": "home"}]);
    let r = apply(&USER_RESOURCE_TYPE, &with_home, UID, &replace);
    assert!(matches!(r, Err(ScimError::NoTarget(_))), "{r:?}");
    // A matched filter is replaced in both modes.
    let mut with_work = base_user();
    with_work["emails"] = json!([{"value": "w@x", "type": "work"}]);
    let out = apply(&USER_RESOURCE_TYPE, &with_work, UID, &replace).unwrap();
    assert_eq!(out["emails"], json!([{"value": "new@x", "type": "work"}]));
    // Also when other emails exist but none is a work one.
    let mut user = base_user();
    user["emails"] = json!([{"value": "h@x", "type": "home"}]);
    let out = apply(
        &USER_RESOURCE_TYPE,
        &user,
        UID,
        &ops(json!([{"op": "add", "path": "emails[type eq \"work\" and primary eq true].value", "value": "w@x"}])),
    )
    .unwrap();
    assert_eq!(
        out["emails"],
        json!([{"value": "h@x", "type": "home"}, {"type": "work", "primary": true, "value": "w@x"}])
    );
}

#[test]
fn unmatched_non_equality_filter_is_no_target() {
    for path in [
        "emails[type ne \"work\"].value",
        "emails[type eq \"home\" or type eq \"other\"].value",
        "emails[value co \"@\"]",
    ] {
        let mut user = base_user();
        user.as_object_mut().unwrap().remove("emails");
        let r = apply(&USER_RESOURCE_TYPE, &user, UID, &ops(json!([{"op": "replace", "path": path, "value": "x@y"}])));
        assert!(matches!(r, Err(ScimError::NoTarget(_))), "{path}: {r:?}");
    }
}

#[test]
fn entra_remove_of_a_filtered_value_removes_the_element() {
    let mut user = base_user();
    user["emails"] = json!([{"primary": true, "value": "w@x", "type": "work"}, {"value": "h@x", "type": "home"}]);
    let remove = |value: Value| {
        apply(
            &USER_RESOURCE_TYPE,
            &user,
            UID,
            &ops(json!([{"op": "Remove", "path": "emails[type eq \"work\"].value", "value": value}])),
        )
        .unwrap()
    };
    // Entra names the address it removes (any case): the work email goes, primary and type with it.
    assert_eq!(remove(json!("W@X"))["emails"], json!([{"value": "h@x", "type": "home"}]));
    // Another address than the stored one removes nothing.
    assert_eq!(remove(json!("other@x"))["emails"], user["emails"]);
    // Without a value, every selected element goes; the last one leaves no `emails` at all.
    let out = patch_user(json!([{"op": "remove", "path": "emails[type eq \"work\"].value"}])).unwrap();
    assert!(out.get("emails").is_none(), "{out}");
    // Other sub-attributes are still removed on their own.
    let out = patch_user(json!([{"op": "remove", "path": "emails[type eq \"work\"].primary"}])).unwrap();
    assert_eq!(out["emails"], json!([{"value": "test.user@okta.local", "type": "work"}]));
}

#[test]
fn entra_emails_primary_by_filter() {
    let mut user = base_user();
    user["emails"] = json!([{"value": "w@x", "type": "work"}, {"value": "h@x", "type": "home"}]);
    let out = apply(
        &USER_RESOURCE_TYPE,
        &user,
        UID,
        &ops(json!([{"op": "replace", "path": "emails[type eq \"work\"].primary", "value": true}])),
    )
    .unwrap();
    assert_eq!(
        out["emails"],
        json!([{"value": "w@x", "type": "work", "primary": true}, {"value": "h@x", "type": "home"}])
    );
}

#[test]
fn entra_aad_opt_pathless_object_with_dotted_and_urn_keys() {
    let out = patch_user_normalized(json!([
        {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "w@x"},
        {"op": "replace", "value": {
            "displayName": "Bjfe",
            "name.givenName": "Kkom",
            "name.familyName": "Unua",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Aklq"
        }}
    ]));
    assert_eq!(out["displayName"], "Bjfe");
    assert_eq!(out["name"], json!({"givenName": "Kkom", "familyName": "Unua"}));
    assert_eq!(out[ENTERPRISE_URN]["employeeNumber"], "Aklq");
    assert_eq!(out[ENTERPRISE_URN]["department"], "R&D");
    assert_eq!(out["emails"][0]["value"], "w@x");
}

#[test]
fn pathless_nested_objects_extension_objects_and_odd_keys() {
    let out = patch_user_normalized(json!([{"op": "replace", "value": {
        "NAME": {"givenName": "Barbara"},
        ENTERPRISE_URN: {"division": "East", "manager": MANAGER},
        "urn:ietf:params:scim:schemas:core:2.0:User": {"title": "Boss"},
        "urn:ietf:params:scim:schemas:core:2.0:User:nickName": "Babs",
        "schemas": ["whatever"],
        "meta": {"created": "x"},
        "unknownThing": 1,
        "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/User": {"a": 1}
    }}]));
    assert_eq!(out["name"], json!({"givenName": "Barbara", "familyName": "User"}));
    assert_eq!(out[ENTERPRISE_URN], json!({"department": "R&D", "division": "East", "manager": {"value": MANAGER}}));
    assert_eq!(out["title"], "Boss");
    assert_eq!(out["nickName"], "Babs");
    assert!(out.get("unknownThing").is_none());
}

#[test]
fn pathless_value_must_be_an_object() {
    let r = patch_user(json!([{"op": "replace", "value": "x"}]));
    assert!(matches!(r, Err(ScimError::InvalidValue(_))), "{r:?}");
    let r = patch_user(json!([{"op": "add", "value": [{"active": false}]}]));
    assert!(matches!(r, Err(ScimError::InvalidValue(_))), "{r:?}");
}

#[test]
fn pathless_remove_is_no_target() {
    let r = patch_user(json!([{"op": "remove"}]));
    assert!(matches!(r, Err(ScimError::NoTarget(_))), "{r:?}");
    let r = patch_user(json!([{"op": "Remove", "value": {"nickName": "x"}}]));
    assert!(matches!(r, Err(ScimError::NoTarget(_))), "{r:?}");
}

#[test]
fn entra_member_removal_by_value_list() {
    let out = patch_group_normalized(json!([
        {"op": "Remove", "path": "members", "value": [{"$ref": null, "value": "89bb1940-b905-4575-9e7f-6f887cfb368e"}, {"value": "nobody"}]}
    ]));
    assert_eq!(member_ids(&out), ["u2"]);
    let out = patch_group_normalized(
        json!([{"op": "Remove", "path": "members", "value": [{"value": "u2"}, {"value": "89bb1940-b905-4575-9e7f-6f887cfb368e"}]}]),
    );
    assert!(out.get("members").is_none());
    // Without a value every member goes.
    let out = patch_group_normalized(json!([{"op": "remove", "path": "members"}]));
    assert!(out.get("members").is_none());
    // Entra add with $ref null.
    let out = patch_group_normalized(
        json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": "f648f8d5ea4e4cd38e9c"}]}]),
    );
    assert_eq!(member_ids(&out), ["89bb1940-b905-4575-9e7f-6f887cfb368e", "u2", "f648f8d5ea4e4cd38e9c"]);
}

#[test]
fn filtered_removal_and_harmless_misses() {
    let out = patch_group_normalized(json!([{"op": "remove", "path": "members[value eq \"u2\"]"}]));
    assert_eq!(member_ids(&out), ["89bb1940-b905-4575-9e7f-6f887cfb368e"]);
    let out = patch_group_normalized(json!([{"op": "remove", "path": "members[value eq \"nobody\"]"}]));
    assert_eq!(member_ids(&out).len(), 2);
    let out = patch_user_normalized(json!([{"op": "remove", "path": "emails[type eq \"work\"].primary"}]));
    assert_eq!(out["emails"], json!([{"value": "test.user@okta.local", "type": "work"}]));
    let out = patch_user_normalized(json!([{"op": "remove", "path": "emails[type eq \"work\"]"}]));
    assert!(out.get("emails").is_none());
    let out = patch_user_normalized(json!([{"op": "remove", "path": "phoneNumbers[type eq \"work\"]"}]));
    assert!(out.get("phoneNumbers").is_none());
}

#[test]
fn manager_bare_id_object_and_removal() {
    let path = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager";
    let out = patch_user_normalized(json!([{"op": "add", "path": path, "value": MANAGER}]));
    assert_eq!(out[ENTERPRISE_URN]["manager"], json!({"value": MANAGER}));

    let mut with_manager = base_user();
    with_manager[ENTERPRISE_URN]["manager"] = json!({"value": "old", "$ref": "../Users/old", "displayName": "Old"});
    let run = |operations: Value| {
        let out = apply(&USER_RESOURCE_TYPE, &with_manager, UID, &ops(operations)).unwrap();
        normalize(&USER_RESOURCE_TYPE, out).unwrap()
    };
    let out = run(json!([{"op": "replace", "path": path, "value": {"value": "x"}}]));
    assert_eq!(out[ENTERPRISE_URN]["manager"], json!({"value": "x"}), "a new id replaces the whole reference");
    let out = run(json!([{"op": "Replace", "path": format!("{path}.value"), "value": "y"}]));
    assert_eq!(out[ENTERPRISE_URN]["manager"]["value"], "y");
    for empty in [json!(""), json!({"value": ""}), json!(null)] {
        let out = run(json!([{"op": "replace", "path": path, "value": empty}]));
        assert!(out[ENTERPRISE_URN].get("manager").is_none(), "{empty}: {out}");
        assert_eq!(out[ENTERPRISE_URN]["department"], "R&D");
    }
    let out = run(json!([{"op": "remove", "path": path}]));
    assert!(out[ENTERPRISE_URN].get("manager").is_none());
    // Path-less, inside the extension object.
    let out = run(json!([{"op": "replace", "value": {ENTERPRISE_URN: {"manager": {"value": ""}}}}]));
    assert!(out[ENTERPRISE_URN].get("manager").is_none());
    // The read-only displayName cannot be targeted.
    let r = apply(
        &USER_RESOURCE_TYPE,
        &with_manager,
        UID,
        &ops(json!([{"op": "replace", "path": format!("{path}.displayName"), "value": "x"}])),
    );
    assert!(matches!(r, Err(ScimError::Mutability(_))), "{r:?}");
}

#[test]
fn removing_the_last_extension_attribute_drops_the_extension() {
    let out = patch_user(json!([{"op": "remove", "path": format!("{ENTERPRISE_URN}:department")}])).unwrap();
    assert!(out.get(ENTERPRISE_URN).is_none());
    let out = normalize(&USER_RESOURCE_TYPE, out).unwrap();
    assert_eq!(out["schemas"], json!([USER_URN]));
    // A whole extension by its URN.
    let out = patch_user(json!([{"op": "remove", "path": ENTERPRISE_URN}])).unwrap();
    assert!(out.get(ENTERPRISE_URN).is_none());
    let out = patch_user_normalized(json!([{"op": "add", "path": ENTERPRISE_URN, "value": {"costCenter": "4130"}}]));
    assert_eq!(out[ENTERPRISE_URN], json!({"department": "R&D", "costCenter": "4130"}));
}

#[test]
fn entra_roles_primary_filter_with_string_boolean() {
    let mut user = base_user();
    user["roles"] = json!([{"value": "Reader", "primary": true}, {"value": "Writer"}]);
    let run = |u: &Value, operations: Value| {
        normalize(&USER_RESOURCE_TYPE, apply(&USER_RESOURCE_TYPE, u, UID, &ops(operations)).unwrap()).unwrap()
    };
    let out = run(&user, json!([{"op": "replace", "path": "roles[primary eq \"True\"].value", "value": "Admin"}]));
    assert_eq!(out["roles"], json!([{"value": "Admin", "primary": true}, {"value": "Writer"}]));
    // Without a primary role one is created, with primary coerced to a boolean.
    let mut no_roles = base_user();
    no_roles.as_object_mut().unwrap().remove("roles");
    let out =
        run(&no_roles, json!([{"op": "Add", "path": "roles[primary eq \"True\"].value", "value": "{\"id\":\"r1\"}"}]));
    assert_eq!(out["roles"], json!([{"primary": true, "value": "{\"id\":\"r1\"}"}]));
    // Adding roles with "True" strings.
    let out = run(
        &no_roles,
        json!([{"op": "Add", "path": "roles", "value": [{"primary": "True", "type": "WindowsAzureActiveDirectoryRole", "value": "Admin"}]}]),
    );
    assert_eq!(out["roles"], json!([{"primary": true, "type": "WindowsAzureActiveDirectoryRole", "value": "Admin"}]));
}

// ----- RFC semantics

#[test]
fn add_sets_single_valued_and_merges_complex() {
    let out = patch_user_normalized(json!([
        {"op": "add", "path": "title", "value": "Tour Guide"},
        {"op": "add", "path": "name", "value": {"middleName": "Jane"}},
        {"op": "add", "value": {"name": {"honorificPrefix": "Ms."}}}
    ]));
    assert_eq!(out["title"], "Tour Guide");
    assert_eq!(
        out["name"],
        json!({"givenName": "Test", "familyName": "User", "middleName": "Jane", "honorificPrefix": "Ms."})
    );
}

#[test]
fn add_appends_to_multi_valued() {
    let out = patch_user_normalized(json!([
        {"op": "add", "path": "emails", "value": [{"value": "home@x", "type": "home"}]},
        {"op": "add", "path": "emails", "value": {"value": "home@x", "type": "home"}},
        {"op": "add", "path": "phoneNumbers", "value": "+1 555"}
    ]));
    assert_eq!(out["emails"].as_array().unwrap().len(), 2);
    assert_eq!(out["phoneNumbers"], json!([{"value": "+1 555"}]));
}

#[test]
fn replace_semantics() {
    let out = patch_user_normalized(json!([
        {"op": "replace", "path": "name", "value": {"familyName": "Jensen"}},
        {"op": "replace", "path": "emails", "value": [{"value": "only@x"}]},
        {"op": "replace", "path": "NICKNAME", "value": "Babs"},
        {"op": "replace", "path": "displayName", "value": null}
    ]));
    assert_eq!(out["name"], json!({"givenName": "Test", "familyName": "Jensen"}), "sub-attributes not given stay");
    assert_eq!(out["emails"], json!([{"value": "only@x"}]), "the whole array is replaced");
    assert_eq!(out["nickName"], "Babs");
    assert!(out.get("displayName").is_none());
    // name.familyName creates the parent when absent.
    let mut user = base_user();
    user.as_object_mut().unwrap().remove("name");
    let out = apply(
        &USER_RESOURCE_TYPE,
        &user,
        UID,
        &ops(json!([{"op": "replace", "path": "name.familyName", "value": "J"}])),
    )
    .unwrap();
    assert_eq!(out["name"], json!({"familyName": "J"}));
    // A null sub-attribute in a complex value clears it.
    let out = patch_user_normalized(json!([{"op": "replace", "path": "name", "value": {"givenName": null}}]));
    assert_eq!(out["name"], json!({"familyName": "User"}));
}

#[test]
fn replace_filtered_elements_merges_the_value() {
    let mut user = base_user();
    user["emails"] = json!([{"value": "w@x", "type": "work", "primary": true}, {"value": "h@x", "type": "home"}]);
    let out = apply(
        &USER_RESOURCE_TYPE,
        &user,
        UID,
        &ops(json!([{"op": "replace", "path": "emails[type eq \"home\"]", "value": {"value": "h2@x", "display": "Home"}}])),
    )
    .unwrap();
    assert_eq!(
        out["emails"],
        json!([{"value": "w@x", "type": "work", "primary": true}, {"value": "h2@x", "type": "home", "display": "Home"}])
    );
    // No match with an eq filter: 400 noTarget (RFC 7644 §3.5.2.3); for Entra the element is created from
    // the filter and the value.
    let other = ops(json!([{"op": "replace", "path": "emails[type eq \"other\"]", "value": {"value": "o@x"}}]));
    let r = apply(&USER_RESOURCE_TYPE, &user, UID, &other);
    assert!(matches!(r, Err(ScimError::NoTarget(_))), "{r:?}");
    let out = apply_with(&USER_RESOURCE_TYPE, &user, UID, &other, UnmatchedReplace::CreateElement).unwrap();
    assert_eq!(out["emails"][2], json!({"type": "other", "value": "o@x"}));
}

#[test]
fn remove_semantics() {
    let out = patch_user_normalized(json!([
        {"op": "remove", "path": "name.givenName"},
        {"op": "remove", "path": "displayName"},
        {"op": "remove", "path": "nickName"},
        {"op": "remove", "path": "emails[type eq \"work\"].value"}
    ]));
    assert_eq!(out["name"], json!({"familyName": "User"}));
    assert!(out.get("displayName").is_none());
    // The element without its value would be an email without an address: it goes whole.
    assert!(out.get("emails").is_none(), "{out}");
    let out = patch_user_normalized(
        json!([{"op": "remove", "path": "name.givenName"}, {"op": "remove", "path": "name.familyName"}]),
    );
    assert!(out.get("name").is_none());
}

#[test]
fn removing_a_required_attribute_fails_in_normalize() {
    let patched = patch_user(json!([{"op": "remove", "path": "userName"}])).unwrap();
    assert!(matches!(normalize(&USER_RESOURCE_TYPE, patched), Err(ScimError::InvalidValue(_))));
    let patched = patch_group(json!([{"op": "remove", "path": "displayName"}])).unwrap();
    assert!(matches!(normalize(&GROUP_RESOURCE_TYPE, patched), Err(ScimError::InvalidValue(_))));
}

#[test]
fn multi_valued_sub_attribute_without_filter_addresses_every_element() {
    let mut user = base_user();
    user["emails"] = json!([{"value": "w@x", "type": "work"}, {"value": "h@x", "type": "home"}]);
    let out = apply(&USER_RESOURCE_TYPE, &user, UID, &ops(json!([{"op": "remove", "path": "emails.type"}]))).unwrap();
    assert_eq!(out["emails"], json!([{"value": "w@x"}, {"value": "h@x"}]));
    let out = apply(
        &USER_RESOURCE_TYPE,
        &user,
        UID,
        &ops(json!([{"op": "replace", "path": "emails.display", "value": "E"}])),
    )
    .unwrap();
    assert_eq!(out["emails"][1], json!({"value": "h@x", "type": "home", "display": "E"}));
}

#[test]
fn a_patched_password_is_left_for_the_directory_to_seal() {
    let out = patch_user_normalized(json!([{"op": "replace", "path": "password", "value": "n3w"}]));
    assert_eq!(out["password"], "n3w");
    let out = patch_user_normalized(json!([{"op": "replace", "value": {"active": true}}]));
    assert!(verify_password("1mz050nq", out["password"].as_str().unwrap()), "the stored hash is kept");
}

// ----- errors

#[test]
fn unknown_attributes_in_paths_are_invalid_path() {
    for path in [
        "nosuch",
        "name.nosuch",
        "urn:example:ext:1.0:User:thing",
        "userName.x",
        "emails[type eq \"work\"].nosuch",
        "emails[nosuch eq \"x\"].value",
    ] {
        let r = patch_user(json!([{"op": "replace", "path": path, "value": "x"}]));
        match r {
            Err(ScimError::InvalidPath(d)) => assert!(!d.is_empty()),
            other => panic!("{path}: {other:?}"),
        }
    }
    match patch_user(json!([{"op": "add", "path": "nosuch", "value": "x"}])) {
        Err(ScimError::InvalidPath(d)) => assert!(d.contains("nosuch"), "{d}"),
        other => panic!("{other:?}"),
    }
    // Members are not a User attribute.
    assert!(matches!(patch_user(json!([{"op": "remove", "path": "members"}])), Err(ScimError::InvalidPath(_))));
}

#[test]
fn value_filter_on_single_valued_attribute_is_invalid_path() {
    for path in ["userName[value eq \"x\"]", "name[givenName eq \"x\"].familyName", "active[value eq true]"] {
        let r = patch_user(json!([{"op": "replace", "path": path, "value": "x"}]));
        assert!(matches!(r, Err(ScimError::InvalidPath(_))), "{path}: {r:?}");
    }
}

#[test]
fn read_only_attributes_are_mutability_errors() {
    let r = patch_user(json!([{"op": "add", "path": "groups", "value": [{"value": "g1"}]}]));
    assert!(matches!(r, Err(ScimError::Mutability(_))), "{r:?}");
    let r = patch_user(json!([{"op": "replace", "value": {"groups": [{"value": "g1"}]}}]));
    assert!(matches!(r, Err(ScimError::Mutability(_))), "{r:?}");
    let r = patch_user(json!([{"op": "replace", "path": "meta.created", "value": "2020-01-01T00:00:00Z"}]));
    assert!(matches!(r, Err(ScimError::Mutability(_))), "{r:?}");
    let r = patch_user(json!([{"op": "replace", "value": {"id": "other"}}]));
    assert!(matches!(r, Err(ScimError::Mutability(_))), "{r:?}");
    let r = patch_group(json!([{"op": "replace", "path": "members[value eq \"u2\"].value", "value": "u9"}]));
    assert!(matches!(r, Err(ScimError::Mutability(_))), "immutable member value: {r:?}");
}

#[test]
fn wrong_value_shapes_are_invalid_value() {
    let cases = [
        json!({"op": "replace", "path": "userName", "value": {"a": 1}}),
        json!({"op": "replace", "path": "name.givenName", "value": ["a"]}),
        json!({"op": "replace", "path": "name", "value": "Barbara"}),
        json!({"op": "add", "path": "emails", "value": [7]}),
        json!({"op": "replace", "path": "emails[type eq \"work\"].value", "value": {"x": 1}}),
        json!({"op": "replace", "value": {"active": 3}}),
        json!({"op": "replace", "value": {ENTERPRISE_URN: "x"}}),
        json!({"op": "add", "path": ENTERPRISE_URN, "value": 1}),
    ];
    for op in cases {
        let r = patch_user(json!([op]));
        assert!(matches!(r, Err(ScimError::InvalidValue(_))), "{op}: {r:?}");
    }
    match patch_user(json!([{"op": "replace", "path": "userName", "value": {"a": 1}}])) {
        Err(ScimError::InvalidValue(d)) => {
            assert_eq!(d, "attribute 'userName' must be a string, got an object")
        }
        other => panic!("{other:?}"),
    }
    let r = patch_group(json!([{"op": "add", "path": "members", "value": [{"display": "no value"}]}]));
    assert!(matches!(r, Err(ScimError::InvalidValue(_))), "{r:?}");
}

#[test]
fn atomic_second_op_failure_leaves_input_untouched() {
    let original = base_user();
    let operations = ops(json!([
        {"op": "replace", "path": "displayName", "value": "Changed"},
        {"op": "replace", "path": "nosuch", "value": "x"}
    ]));
    let r = apply(&USER_RESOURCE_TYPE, &original, UID, &operations);
    assert!(matches!(r, Err(ScimError::InvalidPath(_))));
    assert_eq!(original, base_user());
    assert_eq!(original["displayName"], "Test User");
}

#[test]
fn non_object_resource_is_internal_error() {
    let r = apply(&USER_RESOURCE_TYPE, &json!([]), UID, &[]);
    assert!(matches!(r, Err(ScimError::Internal(_))));
}

#[test]
fn odd_stored_spellings_are_canonicalised() {
    let user = json!({"userName": "u", "NickName": "old", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user": {"Department": "x"}});
    let out = apply(
        &USER_RESOURCE_TYPE,
        &user,
        UID,
        &ops(json!([
            {"op": "replace", "path": "nickname", "value": "new"},
            {"op": "replace", "path": format!("{ENTERPRISE_URN}:department"), "value": "y"}
        ])),
    )
    .unwrap();
    assert_eq!(out["nickName"], "new");
    assert!(out.get("NickName").is_none());
    assert_eq!(out[ENTERPRISE_URN], json!({"department": "y"}));
}

#[test]
fn never_panics_on_odd_input() {
    let weird = [
        json!({"op": "add", "path": "emails[type eq \"work\"]", "value": null}),
        json!({"op": "replace", "path": "emails[type eq \"work\"]", "value": null}),
        json!({"op": "add", "path": "emails", "value": null}),
        json!({"op": "replace", "path": "name", "value": null}),
        json!({"op": "add", "path": "name", "value": null}),
        json!({"op": "remove", "path": "emails", "value": "test.user@okta.local"}),
        json!({"op": "remove", "path": format!("{ENTERPRISE_URN}:manager.value")}),
        json!({"op": "add", "path": "x509Certificates.value", "value": "MIIC"}),
        json!({"op": "replace", "value": {}}),
        json!({"op": "replace", "value": {"urn:ietf:params:scim:schemas:core:2.0:User": {"urn:ietf:params:scim:schemas:core:2.0:User": {"userName": "x"}}}}),
    ];
    for op in weird {
        let _ = patch_user(json!([op]));
    }
    let mut broken = base_user();
    broken["emails"] = json!("not an array");
    broken["name"] = json!(5);
    broken[ENTERPRISE_URN] = json!([]);
    for op in [
        json!({"op": "add", "path": "emails", "value": {"value": "a@b"}}),
        json!({"op": "replace", "path": "emails[type eq \"work\"].value", "value": "a@b"}),
        json!({"op": "replace", "path": "name.givenName", "value": "a"}),
        json!({"op": "replace", "path": "name", "value": {"givenName": "a"}}),
        json!({"op": "replace", "path": format!("{ENTERPRISE_URN}:department"), "value": "a"}),
    ] {
        let _ = apply(&USER_RESOURCE_TYPE, &broken, UID, &ops(json!([op])));
    }
}
