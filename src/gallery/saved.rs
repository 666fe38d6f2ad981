//! A saved gallery JSON report (`scimcheck run --suite entra-gallery --json`) read back, so that `scimcheck report`
//! renders its JUnit and HTML forms as the run would have ([`super::output`]).
//!
//! The file is checked against what the suite writes: `suite` is `entra-gallery`, every test is one of Microsoft's
//! 25 under its name (its number, group and category are taken from [`super::suite::TESTS`], never from the file),
//! no test twice, and every requirement is one the suite knows. The Entra view of a failure is kept as written.

use serde::Deserialize;

use super::suite::{by_name, Category};
use super::{GalleryReport, Requirement, Status, TestResult, Verdict, TEST_OVERVIEW};
use crate::idp::errors::{EngineAction, Explanation};

/// The requirement names the suite writes.
const REQUIREMENTS: [&str; 2] = ["noMatchQuery", "requestRate"];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SavedReport {
    suite: String,
    target: String,
    attribute_mapping: String,
    groups_supported: bool,
    manager_mapped: bool,
    tests: Vec<SavedTest>,
    requirements: Vec<SavedRequirement>,
    verdict: Verdict,
    duration_ms: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SavedTest {
    name: String,
    category: Category,
    status: Status,
    detail: String,
    entra: Option<SavedExplanation>,
}

#[derive(Deserialize)]
struct SavedRequirement {
    name: String,
    met: bool,
    detail: String,
    entra: Option<SavedExplanation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SavedExplanation {
    idp: String,
    code: String,
    customer_sees: String,
    action: EngineAction,
    retried: bool,
    source: String,
}

/// Whether `v` has the shape of a gallery report (`"suite": "entra-gallery"` with a `tests` list), to tell it
/// from a run or simulate report.
pub fn is_gallery(v: &serde_json::Value) -> bool {
    v.get("suite").and_then(|s| s.as_str()) == Some("entra-gallery") && v.get("tests").is_some_and(|t| t.is_array())
}

/// Reads a saved gallery report.
///
/// Errors: not JSON of the report's shape (the message names the field), a suite other than `entra-gallery`, a
/// test name that is not one of Microsoft's 25 or is listed twice, a category that is not the test's, an unknown
/// requirement.
pub fn read(text: &str) -> Result<GalleryReport, String> {
    let saved: SavedReport = serde_json::from_str(text).map_err(|e| format!("not a gallery report: {e}"))?;
    if saved.suite != "entra-gallery" {
        return Err(format!("suite `{}` is not entra-gallery", saved.suite));
    }
    let mut tests: Vec<TestResult> = Vec::with_capacity(saved.tests.len());
    for t in saved.tests {
        let def = by_name(&t.name).ok_or_else(|| format!("`{}` is not one of Microsoft's 25 tests", t.name))?;
        if tests.iter().any(|r| r.name == def.name) {
            return Err(format!("test `{}` is listed twice", def.name));
        }
        if t.category != def.category {
            return Err(format!(
                "test `{}` is {:?} in the file, {:?} in Microsoft's template",
                def.name, t.category, def.category
            ));
        }
        tests.push(TestResult {
            number: def.number,
            name: def.name,
            group: def.group.title(),
            category: def.category,
            status: t.status,
            detail: t.detail,
            entra: t.entra.map(explanation),
        });
    }
    let mut requirements = Vec::with_capacity(saved.requirements.len());
    for q in saved.requirements {
        let name = REQUIREMENTS
            .into_iter()
            .find(|n| *n == q.name)
            .ok_or_else(|| format!("`{}` is not a gallery requirement ({})", q.name, REQUIREMENTS.join(", ")))?;
        requirements.push(Requirement { name, met: q.met, detail: q.detail, entra: q.entra.map(explanation) });
    }
    Ok(GalleryReport {
        suite: "entra-gallery",
        target: saved.target,
        attribute_mapping: saved.attribute_mapping,
        groups_supported: saved.groups_supported,
        manager_mapped: saved.manager_mapped,
        tests,
        requirements,
        verdict: saved.verdict,
        source: TEST_OVERVIEW,
        duration_ms: saved.duration_ms,
    })
}

/// The Entra view as written, its text owned by the report (the mapping's own explanations borrow constants).
fn explanation(e: SavedExplanation) -> Explanation {
    Explanation {
        idp: if e.idp == "okta" { "okta" } else { "entra" },
        code: e.code.into(),
        customer_sees: e.customer_sees.into(),
        action: e.action,
        retried: e.retried,
        source: e.source.into(),
    }
}
