//! What a reconciliation reports: each difference between the source directory and the server, its kind, and
//! which unmatched server objects are judged at all. Shared by the users' comparison ([`super::user_match`]) and
//! the rest of the reconciliation ([`super::reconcile`], which re-exports these types).

use std::collections::HashSet;

use serde::Serialize;
use serde_json::Value;

use super::http::ObjRef;

/// What kind of difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum DiffKind {
    /// In the source, not on the server.
    Missing,
    /// On the server, not (or no longer) in the source.
    Extra,
    /// More than one server object for one source object.
    Duplicate,
    /// An attribute differs.
    Attribute,
    /// `active` differs.
    Active,
    /// A member is missing from a group.
    MissingMember,
    /// A group has a member it should not have.
    ExtraMember,
    /// The manager differs.
    Manager,
}

/// One difference between the source and the server.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Difference {
    /// Its kind.
    pub kind: DiffKind,
    /// `User ada.lovelace@example.test` or `Group Sales EMEA`.
    pub object: String,
    /// The server id, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The attribute (a SCIM path).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    /// Expected value.
    pub expected: Value,
    /// Actual value.
    pub actual: Value,
    /// The requests that touched the object (most recent last, at most 20).
    pub requests: Vec<String>,
    #[serde(skip)]
    pub(super) obj: ObjRef,
}

/// Which server objects "extra" is judged for.
#[derive(Debug, Clone, Default)]
pub struct ExtraScope<'a> {
    /// `--strict-extra`: every server object the source does not hold is extra.
    pub strict: bool,
    /// Ids this run's creates were answered with: an object with one of them is the simulator's even when no
    /// source object matches it any more.
    pub created: HashSet<&'a str>,
}

impl ExtraScope<'_> {
    /// Whether an unmatched server object with `id` is judged as extra.
    pub(super) fn judges(&self, id: Option<&str>) -> bool {
        self.strict || id.is_some_and(|id| self.created.contains(id))
    }
}

/// A difference with no requests attached yet.
pub(crate) fn diff(
    kind: DiffKind,
    object: String,
    id: Option<String>,
    attribute: Option<String>,
    expected: Value,
    actual: Value,
    obj: ObjRef,
) -> Difference {
    Difference { kind, object, id, attribute, expected, actual, requests: Vec::new(), obj }
}
