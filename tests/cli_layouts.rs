//! A user's own scenarios in any folder layout: the IdP and group from the file's `idp` and `group` fields, the
//! folders as the default, a clear error when neither names the IdP; reports name the real file; `--reference`
//! with scenarios that have no snapshot calls them new and does not fail; no temporary folder is left behind.

mod binary;

use binary::*;
use serde_json::json;

fn with(mut scenario: serde_json::Value, fields: serde_json::Value) -> serde_json::Value {
    for (k, v) in fields.as_object().unwrap() {
        scenario[k] = v.clone();
    }
    scenario
}

#[tokio::test]
async fn scenarios_in_any_layout_run_against_the_reference_server_as_new() {
    let dir = TempDir::new();
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let mine = dir.join("myscen");
    write_scenario(&mine, "x.json", &with(list_users("flat"), json!({"idp": "okta"})));
    write_scenario(&mine, "acme/y.json", &with(list_users("nested"), json!({"idp": "Entra"})));
    write_scenario(&mine, "acme/z.json", &with(list_users("grouped"), json!({"idp": "rfc", "group": "mine"})));
    write_scenario(&mine, "okta/crm/w.json", &list_users("library layout"));
    std::fs::write(mine.join("notes.json"), "{\"owner\": \"team\"}").unwrap();

    let (code, stdout, stderr) =
        output(scimcheck_in(&dir.0, &["list", "--format", "json", "--scenarios", "myscen", "--no-library"])).await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let got: Vec<(String, String)> = doc["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].as_str().unwrap().to_string(), s["file"].as_str().unwrap().to_string()))
        .collect();
    let want = [
        ("azure::acme::y", "myscen/acme/y.json"),
        ("okta::crm::w", "myscen/okta/crm/w.json"),
        ("okta::myscen::x", "myscen/x.json"),
        ("rfc::mine::z", "myscen/acme/z.json"),
    ];
    assert_eq!(got, want.map(|(a, b)| (a.to_string(), b.to_string())), "{stdout}");

    let mut cmd = scimcheck_in(
        &dir.0,
        &["run", "--reference", "--scenarios", "myscen", "--no-library", "--junit", "r.xml", "--json", "r.json"],
    );
    cmd.env("TMPDIR", &tmp);
    let (code, stdout, stderr) = output(cmd).await;
    assert_eq!(code, Some(0), "no snapshot yet is new, not drift: {stdout}{stderr}");
    assert!(!stdout.contains("DRIFT") && !stdout.contains("drifted"), "{stdout}");
    assert_eq!(stdout.matches("new: no snapshot recorded yet").count(), 4, "{stdout}");
    assert!(stdout.contains("4 passed, 0 failed"), "the checks' verdicts stay visible: {stdout}");
    assert!(stdout.contains("snapshots: 4 new (no snapshot yet), 0 changed against the built-in baseline"), "{stdout}");
    let xml = std::fs::read_to_string(dir.join("r.xml")).unwrap();
    assert!(xml.contains("file=\"myscen/acme/y.json\"") && xml.contains("file=\"myscen/x.json\""), "{xml}");
    let leftovers: Vec<_> = std::fs::read_dir(&tmp).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[tokio::test]
async fn a_file_that_names_no_idp_is_an_error_saying_how_to_name_it() {
    let dir = TempDir::new();
    write_scenario(&dir.join("myscen"), "acme/x.json", &list_users("no idp"));
    let (code, stdout, stderr) =
        output(scimcheck_in(&dir.0, &["run", "--reference", "--scenarios", "myscen", "--no-library"])).await;
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(stderr.contains("myscen/acme/x.json"), "{stderr}");
    assert!(stderr.contains("Add \"idp\": \"okta\", \"entra\" or \"rfc\""), "{stderr}");
    // two files with one id: both named
    write_scenario(&dir.join("myscen"), "acme/x.json", &with(list_users("a"), json!({"idp": "okta", "group": "g"})));
    write_scenario(&dir.join("myscen"), "b/x.json", &with(list_users("b"), json!({"idp": "okta", "group": "g"})));
    let (code, _, stderr) = output(scimcheck_in(&dir.0, &["list", "--scenarios", "myscen", "--no-library"])).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("same id `okta::g::x`"), "{stderr}");
}
