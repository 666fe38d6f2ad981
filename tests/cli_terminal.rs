//! The terminal report of `scimcheck run`, rendered from the report model as the JSON, JUnit and HTML reports
//! are: a long body says how much of it is not shown, and the notes on drift against the built-in baseline read
//! as one sentence each.

mod binary;

use binary::*;
use serde_json::json;

/// A failed step's response body is shown by its first 600 characters and the number of bytes left out. The
/// line used to count only what was kept of the body after the reports were written (`… [400 more bytes]
/// [15987 bytes in all]`), whatever its size.
#[tokio::test]
async fn a_long_response_body_says_how_much_of_it_is_not_shown() {
    let dir = TempDir::new();
    write_scenario(
        &dir.0,
        "scen/rfc/terminal/user_schema.json",
        &json!({"title": "the User schema", "source": "test", "level": "must", "steps": [{
            "name": "GET the User schema", "basis": {"rfc": "RFC 7644 §4"},
            "request": {"method": "GET", "path": "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User"},
            "expect": {"status": 418}}]}),
    );
    let (code, stdout, stderr) =
        output(scimcheck_in(&dir.0, &["run", "--reference", "--no-library", "--scenarios", "scen"])).await;
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    let body = stdout
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("response: 200"))
        .nth(1)
        .unwrap_or_else(|| panic!("a response body line: {stdout}"));
    assert!(body.trim_start().starts_with("body: {\"attributes\""), "{body}");
    assert!(!body.contains("bytes in all"), "{body}");
    let more: usize = body
        .rsplit_once("… [")
        .and_then(|(_, tail)| tail.strip_suffix(" more bytes]"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the body line ends with the bytes left out: {body}"));
    assert!(more > 5000, "the whole User schema is several KB; {more} bytes left out: {body}");
}

/// Drift against the built-in baseline (`--reference` without `--snapshots`): the two notes that say the new
/// transcript is not kept are sentences with single spaces (they carried a run of 14 and 22 spaces).
#[tokio::test]
async fn drift_against_the_built_in_baseline_reads_as_one_sentence() {
    let dir = TempDir::new();
    let library = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/rfc/s4_discovery");
    let text = std::fs::read_to_string(library.join("service_provider_config.json")).unwrap();
    let mut scenario: serde_json::Value = serde_json::from_str(&text).unwrap();
    scenario.as_object_mut().unwrap().remove("$schema");
    scenario["steps"][0]["request"]["headers"] = json!({"X-Changed": "1"});
    write_scenario(&dir.0, "scen/rfc/s4_discovery/service_provider_config.json", &scenario);
    let args = ["run", "--reference", "--scenarios", "scen", "--filter", "s4_discovery::service_provider_config"];
    let (code, stdout, stderr) = output(scimcheck_in(&dir.0, &args)).await;
    assert_eq!(code, Some(1), "drift fails the run: {stdout}{stderr}");
    assert!(stdout.contains("DRIFT"), "{stdout}");
    assert!(
        stdout.contains(
            "(against the built-in baseline, which is read-only: the new transcript is not kept; `--snapshots DIR \
             --update-snapshots` records a baseline of your own)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("its temporary copy is removed: `--snapshots DIR --update-snapshots` records a baseline"),
        "{stdout}"
    );
    assert!(!stdout.contains("   `--snapshots"), "{stdout}");
}
