//! The shape of a scenario file, both ways: [`ScenarioFile`] is what the loader reads and what a scenario
//! ([`Scenario::to_file`]) and the recorder write, so a file the tool writes loads back to the same scenario.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::schema::{self, HeaderOverrides};
use super::{Feature, Kind, Level, Scenario, Step};

/// One scenario file (`scenarios/README.md` describes each field): what the loader reads before placing it
/// (`idp`, `group`), defaulting its `kind` and inferring its `requires`, and what [`Scenario::to_file`] and the
/// recorder write. Unknown fields are refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(
    title = "scimcheck scenario",
    description = "One recorded IdP provisioning sequence: scenarios/<okta|azure|rfc>/<group>/<name>.json in the \
        library; any layout in a --scenarios folder (with the idp field). See scenarios/README.md.",
    extend("$id" = schema::ID)
)]
pub struct ScenarioFile {
    /// The JSON Schema the file names for editors (`scenario.schema.json`); not used by the loader.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Title: one line.
    #[schemars(length(min = 1), regex(pattern = super::validate::NOT_BLANK))]
    pub title: String,
    /// Longer description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The IdP this scenario reproduces (`okta`, `entra` or its alias `azure`, `rfc`; any case). Default: the
    /// `okta|entra|azure|rfc` folder the file is under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = schema::idp_pattern()))]
    pub idp: Option<String>,
    /// The group, the id's second segment. Default: the folder below the IdP folder, else the folder the file is
    /// in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^[a-z0-9_]+$"))]
    pub group: Option<String>,
    /// What this reproduces: IdP document, suite step or captured flow, precise enough to find it.
    #[schemars(length(min = 1), regex(pattern = super::validate::NOT_BLANK))]
    pub source: String,
    /// Requirement level.
    pub level: Level,
    /// Kind; default: `portal` when it requires `portal`, `rfc` in the `rfc` library, `interop` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Features the target must have that the steps cannot show: `bulk`, `changePassword`, `portal`,
    /// `oktaEntitlements`. The others (`filter`, `groups`, `patch`, `etag`, `sort`, `enterpriseUser`) are inferred
    /// from the steps, and listing them is an error.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "schema::declared_features")]
    pub requires: Vec<Feature>,
    /// Headers for every step, over the IdP profile's (`null` removes one).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(with = "HeaderOverrides")]
    pub headers: BTreeMap<String, Option<String>>,
    /// Name → template. Templates may use other variables and generators (`{{$uuid}}`, `{{$okta.givenName}}`,
    /// …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("propertyNames" = {"pattern": schema::NAME_PATTERN}))]
    pub variables: BTreeMap<String, String>,
    /// Ordered steps.
    #[schemars(length(min = 1))]
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
