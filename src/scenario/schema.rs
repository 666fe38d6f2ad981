//! The JSON Schema of a scenario file, `scenarios/scenario.schema.json`, generated from the types the loader
//! reads ([`ScenarioFile`] and what it holds, through `schemars`), so the schema editors check files against
//! cannot drift from the loader. The checked-in file is this output: `tests/scenario_schema.rs` fails when it
//! differs and `UPDATE_SCHEMA=1 cargo test --test scenario_schema` rewrites it.
//!
//! The schema describes the file users write: a member left out is how a file says "none", so optional members
//! are not offered `null` (only header values are: `null` removes a header); an assertion is the flat
//! `{"pointer": …, "<check>": operand}` object with exactly one check ([`super::Assertion`]).

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde_json::Value;

use super::{Feature, Idp, ScenarioFile};

/// The schema's `$id`.
pub const ID: &str = "https://github.com/scimcheck/scimcheck/scenarios/scenario.schema.json";

/// A variable or capture name: the loader's rule, defined once in `scenario::vars`.
pub(super) use super::vars::NAME_PATTERN;

/// The JSON Schema (draft 2020-12) of a scenario file, as JSON.
pub fn scenario_schema() -> Value {
    let mut schema = SchemaGenerator::default().into_root_schema_for::<ScenarioFile>().to_value();
    tidy(&mut schema, false);
    schema
}

/// [`scenario_schema`] as the checked-in file writes it: pretty-printed, members sorted, ending in a newline.
pub fn scenario_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&scenario_schema()).unwrap_or_default();
    text.push('\n');
    text
}

/// Removes `null` from the schema of every object member (`in_properties`: `v` is one) and joins the lines
/// of every description that `schemars` took from a wrapped doc comment (a blank line still starts a paragraph).
fn tidy(v: &mut Value, in_properties: bool) {
    match v {
        Value::Object(m) => {
            if in_properties {
                not_null(m);
            }
            if let Some(Value::String(d)) = m.get_mut("description") {
                *d = d
                    .split("\n\n")
                    .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
                    .collect::<Vec<_>>()
                    .join("\n\n");
            }
            for (k, x) in m.iter_mut() {
                if k == "properties" {
                    if let Value::Object(props) = x {
                        props.values_mut().for_each(|p| tidy(p, true));
                    }
                } else {
                    tidy(x, false);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| tidy(x, false)),
        _ => {}
    }
}

/// The schema `m` without the `null` that `schemars` allows for an `Option` member: `"type": [t, "null"]`
/// becomes `t`, and `"anyOf": [s, {"type": "null"}]` becomes `s`.
fn not_null(m: &mut serde_json::Map<String, Value>) {
    if let Some(Value::Array(types)) = m.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let t = types.remove(0);
            m.insert("type".into(), t);
        }
    }
    let null = serde_json::json!({"type": "null"});
    if let Some(Value::Array(any)) = m.get("anyOf") {
        if any.len() == 2 && any.contains(&null) {
            let kept = any.iter().find(|s| **s != null).cloned();
            m.remove("anyOf");
            if let Some(Value::Object(kept)) = kept {
                for (k, x) in kept {
                    m.entry(k).or_insert(x);
                }
            }
        }
    }
}

/// The pattern of the `idp` member: every name [`Idp::parse`] takes (its `--idp` names and aliases), in any case.
pub(super) fn idp_pattern() -> String {
    let names = Idp::ALL
        .iter()
        .filter_map(clap::ValueEnum::to_possible_value)
        .flat_map(|p| p.get_name_and_aliases().map(str::to_string).collect::<Vec<_>>());
    let any_case = |name: String| -> String {
        name.chars()
            .map(|c| match (c.to_ascii_lowercase(), c.to_ascii_uppercase()) {
                (l, u) if l != u => format!("[{l}{u}]"),
                _ => regex::escape(&c.to_string()),
            })
            .collect()
    };
    format!("^({})$", names.map(any_case).collect::<Vec<_>>().join("|"))
}

/// The schema of `requires`: the features a scenario may declare, those the steps cannot show
/// ([`Feature::INFERRED`] are refused there).
pub(super) fn declared_features(generator: &mut SchemaGenerator) -> Schema {
    let all = serde_json::to_value(Feature::json_schema(generator)).unwrap_or_default();
    let inferred: Vec<&str> = Feature::INFERRED.iter().map(|f| f.as_str()).collect();
    let declared: Vec<Value> =
        feature_names(&all).into_iter().filter(|n| !inferred.contains(&n.as_str())).map(Value::from).collect();
    json_schema!({"type": "array", "items": {"enum": declared}})
}

/// The names in a unit-variant enum's schema (`enum`, or `oneOf` of `const`s), in order.
fn feature_names(schema: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(e) = schema.get("enum").and_then(Value::as_array) {
        out.extend(e.iter().filter_map(Value::as_str).map(str::to_string));
    }
    for v in schema.get("oneOf").and_then(Value::as_array).into_iter().flatten() {
        out.extend(feature_names(v));
        if let Some(c) = v.get("const").and_then(Value::as_str) {
            out.push(c.to_string());
        }
    }
    out
}

/// A step's `basis` is required of every step the loader accepts (it reports a step without one), though the
/// type leaves it optional so that the loader can say so.
pub(super) fn require_basis(schema: &mut Schema) {
    if let Some(Value::Array(required)) = schema.get_mut("required") {
        required.push("basis".into());
    }
}

/// The schema of an RFC 6901 JSON pointer, as assertions and captures write it.
pub(super) struct JsonPointer;

impl JsonSchema for JsonPointer {
    fn schema_name() -> Cow<'static, str> {
        "pointer".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^(/.*)?$",
            "description": "RFC 6901 JSON pointer: empty (the whole body) or starting with /; an element selector \
                [name=value] may stand for an array index."
        })
    }
}

/// The schema of header overrides (a scenario's and a request's `headers`).
pub(super) struct HeaderOverrides;

impl JsonSchema for HeaderOverrides {
    fn schema_name() -> Cow<'static, str> {
        "headerOverrides".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "object",
            "additionalProperties": {"type": ["string", "null"]},
            "description": "Header name -> value; null removes a header the profile would send."
        })
    }
}

/// The schema of an expectation's `headers`: header name → regular expression (the `format` of an assertion's
/// `matches`), or `null` for a header that must be absent.
pub(super) struct HeaderPatterns;

impl JsonSchema for HeaderPatterns {
    fn schema_name() -> Cow<'static, str> {
        "headerPatterns".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "object",
            "additionalProperties": {"type": ["string", "null"], "format": "regex"},
            "description": "Response header name -> regular expression its value must match; null: the header is absent."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_idp_pattern_takes_every_name_idp_parse_takes_and_nothing_else() {
        let re = regex::Regex::new(&idp_pattern()).unwrap();
        for name in ["okta", "OKTA", "Entra", "azure", "AzUrE", "rfc"] {
            assert!(re.is_match(name) && Idp::parse(name).is_some(), "{name}");
        }
        for name in ["oktaa", "entra id", "", "saml"] {
            assert!(!re.is_match(name) && Idp::parse(name).is_none(), "{name}");
        }
    }

    #[test]
    fn step_requires_its_basis() {
        let s = scenario_schema();
        let required = &s["$defs"]["step"]["required"];
        assert_eq!(required, &serde_json::json!(["name", "request", "basis"]), "{s:#}");
    }
}
