//! The shape of a scenario file, both ways: [`ScenarioFile`] is what the loader reads and what a scenario
//! ([`Scenario::to_file`]) and the recorder write, so a file the tool writes loads back to the same scenario.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Feature, Kind, Level, Scenario, Step};

/// One scenario file (`scenarios/README.md` describes each field): what the loader reads before placing it
/// (`idp`, `group`), defaulting its `kind` and inferring its `requires`, and what [`Scenario::to_file`] and the
/// recorder write. Unknown fields are refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScenarioFile {
    /// The JSON Schema the file names for editors (`scenario.schema.json`); not used by the loader.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Title.
    pub title: String,
    /// Longer description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The IdP (`okta`, `entra` or its alias `azure`, `rfc`; any case); default: the IdP folder the file is under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp: Option<String>,
    /// The group (an id segment); default: the folder below the IdP folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// What it reproduces (IdP document, suite step or captured flow).
    pub source: String,
    /// Requirement level.
    pub level: Level,
    /// Kind; default: `portal` when it requires `portal`, `rfc` in the `rfc` library, `interop` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Features the steps cannot show (`bulk`, `changePassword`, `portal`); the others are inferred.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<Feature>,
    /// Headers applied to every step, over the profile's (`null` removes one).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, Option<String>>,
    /// Variable templates.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, String>,
    /// Ordered steps.
    pub steps: Vec<Step>,
}

impl Scenario {
    /// The file this scenario loads from, in a form that places it by its fields (`idp`, `group`) wherever it
    /// lies: [`super::parse`] of its JSON under the same relative path gives this scenario back. The inferred
    /// features are left out of `requires` (the loader refuses them there) and the kind is written out.
    pub fn to_file(&self) -> ScenarioFile {
        let group = self.id.split("::").nth(1).map(str::to_string);
        ScenarioFile {
            schema: None,
            title: self.title.clone(),
            description: self.description.clone(),
            idp: Some(self.idp.as_str().to_string()),
            group,
            source: self.source.clone(),
            level: self.level,
            kind: Some(self.kind),
            tags: self.tags.clone(),
            requires: self.requires.iter().copied().filter(|f| !Feature::INFERRED.contains(f)).collect(),
            headers: self.headers.clone(),
            variables: self.variables.clone(),
            steps: self.steps.clone(),
        }
    }
}
