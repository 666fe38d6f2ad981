//! The 25 tests of Microsoft's gallery validation template, as Microsoft names, numbers, groups and categorises
//! them ("SCIM Provisioning Validation — Test Overview", template v5,
//! <https://github.com/AzureAD/SCIMReferenceCode/blob/3372c7e824a1cb065370db0958d59a642cc89a61/Microsoft.SCIM.LogicAppValidationTemplate/StandardLogicApp/SCIM-Validation-Test-Overview.md>;
//! summarised in docs/entra-gallery.md).

/// Microsoft's test groups (the overview's "Test Categories Summary"; each is one workflow of the template,
/// authentication tests running in the SCIM workflow).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum Group {
    /// "User Lifecycle": through Entra's provisioning engine (`UserTests_Workflow`).
    UserLifecycle,
    /// "Group Lifecycle": through Entra's provisioning engine (`GroupTests_Workflow`).
    GroupLifecycle,
    /// "SCIM Direct Compliance": direct HTTP calls (`SCIMTests_Workflow`).
    ScimDirect,
    /// "Authentication": OAuth client credentials and workload identity federation.
    Authentication,
}

impl Group {
    /// Every group, in the overview's order.
    pub const ALL: [Group; 4] = [Group::UserLifecycle, Group::GroupLifecycle, Group::ScimDirect, Group::Authentication];

    /// Microsoft's name of the group.
    pub fn title(self) -> &'static str {
        match self {
            Group::UserLifecycle => "User Lifecycle",
            Group::GroupLifecycle => "Group Lifecycle",
            Group::ScimDirect => "SCIM Direct Compliance",
            Group::Authentication => "Authentication",
        }
    }
}

/// Microsoft's `testCategory`: a failed optional test is reported `WARNING` and never blocks the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Category {
    /// A failure fails the validation.
    Mandatory,
    /// A failure is a `WARNING`.
    Optional,
}

/// What a test needs of the target, and what Microsoft reports when it is missing (the overview's "Dynamic
/// capability detection", "Mandatory Tests That Can Be SKIPPED" and "Group Tests Are Mandatory").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Nothing beyond Users.
    Users,
    /// The Group schema in `/Schemas`; without it the test is FAILED (group provisioning is mandatory).
    GroupsOrFail,
    /// The Group schema; without it the test is SKIPPED (`SCIM_Group_Pagination_Test`).
    GroupsOrSkip,
    /// A `manager` attribute mapping; without it SKIPPED.
    Manager,
    /// A SCIM token endpoint (`scimTokenEndpoint`); without it SKIPPED.
    TokenEndpoint,
    /// Federated parameters; without them SKIPPED.
    Federated,
}

/// One of Microsoft's 25 tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestDef {
    /// Microsoft's number (1–25).
    pub number: u8,
    /// Microsoft's exact name (`Create_User_Test`).
    pub name: &'static str,
    /// Microsoft's group.
    pub group: Group,
    /// Mandatory or optional.
    pub category: Category,
    /// What it needs.
    pub needs: Needs,
    /// What it validates, in our words.
    pub validates: &'static str,
}

use Category::{Mandatory, Optional};
use Group::{Authentication, GroupLifecycle, ScimDirect, UserLifecycle};

const fn t(
    number: u8,
    name: &'static str,
    group: Group,
    category: Category,
    needs: Needs,
    validates: &'static str,
) -> TestDef {
    TestDef { number, name, group, category, needs, validates }
}

/// The 25 tests in Microsoft's order.
pub const TESTS: [TestDef; 25] = [
    t(
        1,
        "Create_User_Test",
        UserLifecycle,
        Mandatory,
        Needs::Users,
        "the engine's lookup then create; the user is found by userName",
    ),
    t(
        2,
        "Update_User_Test",
        UserLifecycle,
        Mandatory,
        Needs::Users,
        "the engine's update of mapped attributes; the new values read back",
    ),
    t(
        3,
        "Disable_User_Test",
        UserLifecycle,
        Mandatory,
        Needs::Users,
        "the engine's disable (active false) is accepted and reads back",
    ),
    t(
        4,
        "Delete_User_Test",
        UserLifecycle,
        Optional,
        Needs::Users,
        "the engine's hard delete; the user is gone (404 or no result)",
    ),
    t(
        5,
        "User_Update_Manager_Test",
        UserLifecycle,
        Mandatory,
        Needs::Manager,
        "the engine sets, changes and removes the manager",
    ),
    t(
        6,
        "Restore_User_Test",
        UserLifecycle,
        Mandatory,
        Needs::Users,
        "create, unassign (deprovision), reassign (restore)",
    ),
    t(
        7,
        "POD_User_Test",
        UserLifecycle,
        Mandatory,
        Needs::Users,
        "provision on demand of one user (default dialect, aadOptscim062020 ignored)",
    ),
    t(
        8,
        "Create_Group_Test",
        GroupLifecycle,
        Mandatory,
        Needs::GroupsOrFail,
        "the engine's group lookup then create; found by displayName",
    ),
    t(
        9,
        "Update_Group_Test",
        GroupLifecycle,
        Mandatory,
        Needs::GroupsOrFail,
        "the engine renames the group; the new displayName is found",
    ),
    t(
        10,
        "Delete_Group_Test",
        GroupLifecycle,
        Optional,
        Needs::GroupsOrFail,
        "the engine deletes the group; a lookup finds nothing",
    ),
    t(
        11,
        "Group_Update_Add_Member_Test",
        GroupLifecycle,
        Mandatory,
        Needs::GroupsOrFail,
        "the engine's member add PATCH; the member reads back",
    ),
    t(
        12,
        "Group_Update_Remove_Member_Test",
        GroupLifecycle,
        Mandatory,
        Needs::GroupsOrFail,
        "the engine's member remove PATCH; the member is gone",
    ),
    t(
        13,
        "POD_Group_Test",
        GroupLifecycle,
        Mandatory,
        Needs::GroupsOrFail,
        "provision on demand of a group with 5 members (the on-demand limit)",
    ),
    t(
        14,
        "Restore_Group_Test",
        GroupLifecycle,
        Optional,
        Needs::GroupsOrFail,
        "create, unassign (delete), reassign (create again)",
    ),
    t(
        15,
        "Schema_Discoverability_Test",
        ScimDirect,
        Mandatory,
        Needs::Users,
        "/Schemas declares every mapped attribute (case-insensitive)",
    ),
    t(
        16,
        "SCIM_Null_Update_Test",
        ScimDirect,
        Mandatory,
        Needs::Users,
        "PATCH to empty strings, then to null: attributes read back empty",
    ),
    t(
        17,
        "SCIM_User_Create_Test",
        ScimDirect,
        Mandatory,
        Needs::Users,
        "POST /Users: 200/201, an id, userName round-trips",
    ),
    t(
        18,
        "SCIM_User_Update_Test",
        ScimDirect,
        Mandatory,
        Needs::Users,
        "PATCH every eligible single-valued attribute; values read back",
    ),
    t(
        19,
        "SCIM_Group_Create_Test",
        ScimDirect,
        Mandatory,
        Needs::GroupsOrFail,
        "POST /Groups: 200/201, an id, displayName round-trips",
    ),
    t(
        20,
        "SCIM_Group_Update_Test",
        ScimDirect,
        Mandatory,
        Needs::GroupsOrFail,
        "PATCH eligible group attributes; values read back",
    ),
    t(
        21,
        "Validate_Credentials_Test",
        Authentication,
        Mandatory,
        Needs::TokenEndpoint,
        "OAuth 2.0 client credentials: token, 60-360 min lifetime, SCIM 2xx",
    ),
    t(
        22,
        "Federated_Identity_Test",
        Authentication,
        Mandatory,
        Needs::Federated,
        "workload identity federation: token exchange, SCIM 2xx",
    ),
    t(
        23,
        "SCIM_User_Pagination_Test",
        ScimDirect,
        Mandatory,
        Needs::Users,
        "at least 11 users paged by 5: every page 200, startIndex right",
    ),
    t(24, "SCIM_Group_Pagination_Test", ScimDirect, Optional, Needs::GroupsOrSkip, "the same paging over /Groups"),
    t(
        25,
        "SCIM_Update_Manager_Test",
        ScimDirect,
        Mandatory,
        Needs::Manager,
        "direct PATCH of manager: set (add), change (replace), remove (replace empty)",
    ),
];

/// A test by Microsoft's name.
pub fn by_name(name: &str) -> Option<&'static TestDef> {
    TESTS.iter().find(|t| t.name == name)
}
