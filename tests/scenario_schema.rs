//! `scenarios/scenario.schema.json` is what the scenario types generate (`scenario::scenario_schema`), and every
//! library scenario validates against it. When the types change, regenerate the file with
//! `UPDATE_SCHEMA=1 cargo test --test scenario_schema` and review the diff.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

fn schema_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/scenario.schema.json")
}

#[test]
fn the_checked_in_schema_is_what_the_types_generate() {
    let generated = scimcheck::scenario::scenario_schema_text();
    let path = schema_path();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    if checked_in != generated {
        let diff = similar::TextDiff::from_lines(&checked_in, &generated);
        panic!(
            "{} differs from what the scenario types generate; regenerate it with \
             `UPDATE_SCHEMA=1 cargo test --test scenario_schema` and review the change:\n{}",
            path.display(),
            diff.unified_diff().context_radius(2).header("checked in", "generated")
        );
    }
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            json_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
}

fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&scimcheck::scenario::scenario_schema()).expect("the generated schema compiles")
}

fn errors(validator: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    validator.iter_errors(doc).map(|e| format!("{e} at {}", e.instance_path())).collect()
}

/// Every library scenario, as written, and as the loader writes it back (`Scenario::to_file`), validates.
#[test]
fn every_library_scenario_validates_against_the_schema() {
    let validator = validator();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files = Vec::new();
    json_files(&root, &mut files);
    let mut checked = 0;
    for f in &files {
        let rel = f.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
        let text = std::fs::read_to_string(f).unwrap();
        let Ok(Some(scenario)) = scimcheck::scenario::load_file(&root, f) else { continue };
        let doc: Value = serde_json::from_str(&text).unwrap();
        let bad = errors(&validator, &doc);
        assert!(bad.is_empty(), "{rel} does not validate:\n{}", bad.join("\n"));
        let written = serde_json::to_value(scenario.to_file()).unwrap();
        let bad = errors(&validator, &written);
        assert!(bad.is_empty(), "{rel} as written back does not validate:\n{}", bad.join("\n"));
        checked += 1;
    }
    assert!(checked > 100, "the whole library: {checked}");
}

/// The schema refuses what the loader refuses in an assertion's shape, and takes the file format's spellings.
#[test]
fn the_schema_holds_the_file_format() {
    let validator = validator();
    let file = |body: Value, idp: &str| {
        json!({"title": "t", "source": "s", "level": "must", "idp": idp, "steps": [{"name": "n", "basis": {"rfc": "RFC 7644 §3"},
               "request": {"method": "GET", "path": "/Users"}, "expect": {"body": body}}]})
    };
    for ok in [
        json!([{"pointer": "/a", "equals": null}]),
        json!([{"pointer": "", "exists": true, "when": {"pointer": "/b", "atLeast": 1}, "basis": {"shown": "x"}}]),
    ] {
        for idp in ["okta", "Entra", "azure", "RFC"] {
            let doc = file(ok.clone(), idp);
            assert!(validator.is_valid(&doc), "{doc}: {:?}", errors(&validator, &doc));
        }
    }
    for bad in [
        json!([{"pointer": "/a"}]),
        json!([{"pointer": "/a", "exists": true, "absent": true}]),
        json!([{"pointer": "/a", "exists": false}]),
        json!([{"pointer": "/a", "exists": true, "bogus": 1}]),
        json!([{"pointer": "a", "exists": true}]),
        json!([{"pointer": "/a", "length": "3"}]),
        json!([{"pointer": "/a", "exists": true, "when": {"pointer": "/b"}}]),
    ] {
        let doc = file(bad.clone(), "okta");
        assert!(!validator.is_valid(&doc), "the schema takes {bad}");
        assert!(scimcheck::scenario::parse("okta/x/y.json", Path::new("y.json"), &doc.to_string()).is_err(), "{bad}");
    }
    assert!(!validator.is_valid(&file(json!([]), "saml")));
}
