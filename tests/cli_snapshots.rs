//! The snapshot workflow as a user meets it: a first run with an empty snapshot folder marks scenarios "new" (not
//! drifted) with their check verdicts visible; the hint names the folder and the settings file and works when
//! followed; `review` with stdin closed stops asking; drift names its step; no temporary folder is left by a
//! `--reference` run, also when writing a report fails.

mod binary;

use binary::*;

#[tokio::test]
async fn new_then_accepted_then_drift_with_hints_that_work() {
    let dir = TempDir::new();
    std::fs::write(dir.join("ci.toml"), "snapshots = \"snaps\"\n").unwrap();
    let run = || scimcheck_in(&dir.0, &["run", "--reference", "--config", "ci.toml", "spec_suite"]);
    let (code, stdout, stderr) = output(run()).await;
    assert_eq!(code, Some(0), "a new snapshot does not fail the run: {stdout}{stderr}");
    assert!(stdout.contains("PASS") && stdout.contains("new: no snapshot recorded yet"), "{stdout}");
    assert!(!stdout.contains("DRIFT"), "{stdout}");
    let hint = "scimcheck snapshots review --snapshots snaps --config ci.toml";
    assert!(stdout.contains("snapshots: 1 new (no snapshot yet), 0 changed, pending in snaps"), "{stdout}");
    assert!(stdout.contains(&format!("review with `{hint}`")), "{stdout}");

    // follow the hint with stdin closed: no diff, what is left is said
    let args: Vec<&str> = hint.split(' ').skip(1).collect();
    let mut review = scimcheck_in(&dir.0, &args);
    review.stdin(std::process::Stdio::null());
    let (code, stdout, stderr) = output(review).await;
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("no answers left on standard input: 1 snapshot(s) left pending"), "{stdout}");
    assert!(stdout.lines().count() < 10, "no diff printed: {stdout}");

    let (code, stdout, _) = output(scimcheck_in(&dir.0, &["snapshots", "accept", "--config", "ci.toml"])).await;
    assert_eq!(code, Some(0), "{stdout}");
    let (code, stdout, stderr) = output(run()).await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(!stdout.contains("snapshots:") && !stdout.contains("new:"), "{stdout}");

    // a changed snapshot: drift, with the hunk naming its step
    let snap = dir.join("snaps/okta__spec__spec_suite.snap");
    let text = std::fs::read_to_string(&snap).unwrap();
    std::fs::write(&snap, text.replacen("\"status\": 201", "\"status\": 299", 1)).unwrap();
    let (code, stdout, _) = output(run()).await;
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("DRIFT"), "{stdout}");
    assert!(stdout.contains("checks passed; the transcript differs from its snapshot"), "{stdout}");
    assert!(stdout.contains(" @@ step 1 \""), "the hunk names its step: {stdout}");
    assert!(stdout.contains("snapshots: 0 new (no snapshot yet), 1 changed, pending in snaps"), "{stdout}");
}

#[tokio::test]
async fn reference_runs_leave_no_temporary_folder_even_when_a_report_cannot_be_written() {
    let dir = TempDir::new();
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    write_scenario(&dir.join("mine"), "rfc/mine/x.json", &list_users("mine"));
    std::fs::create_dir_all(dir.join("a-folder")).unwrap();
    // pending transcripts against the built-in baseline, and a JSON report that cannot be written (a folder)
    let mut cmd =
        scimcheck_in(&dir.0, &["run", "--reference", "--scenarios", "mine", "--no-library", "--json", "a-folder"]);
    cmd.env("TMPDIR", &tmp);
    let (code, stdout, stderr) = output(cmd).await;
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(stderr.contains("a-folder"), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

#[tokio::test]
async fn snapshots_commands_read_the_folder_from_the_settings_file() {
    let dir = TempDir::new();
    let snaps = dir.join("conf/snaps");
    std::fs::create_dir_all(&snaps).unwrap();
    let file = "---\nsource: scenarios/rfc/x/a.json\nexpression: transcript\n---\n[\n  1\n]\n";
    std::fs::write(snaps.join("rfc__x__a.snap.new"), file).unwrap();
    std::fs::write(dir.join("conf/scimcheck.toml"), "snapshots = \"snaps\"\n").unwrap();
    let (code, stdout, stderr) =
        output(scimcheck_in(&dir.0, &["snapshots", "accept", "--config", "conf/scimcheck.toml"])).await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("1 snapshot(s) accepted"), "{stdout}");
    assert!(snaps.join("rfc__x__a.snap").exists() && !snaps.join("rfc__x__a.snap.new").exists());
}

/// Starts a `--reference` run of a paused Okta scenario with `TMPDIR` at `tmp`, waits until it has started (its
/// Ctrl-C handler is in place once the header line is printed), sends SIGINT `presses` times and returns the exit
/// code and stderr. Two presses are sent back to back, so the second lands while the first is being handled (the
/// quit-at-once path); should the system deliver them as one, the run takes the one-press path, which must leave
/// nothing behind either.
async fn interrupted_reference_run(dir: &TempDir, tmp: &std::path::Path, presses: usize) -> (Option<i32>, String) {
    use std::io::{BufRead, Read};
    let mut cmd = scimcheck_in(
        &dir.0,
        &["run", "--reference", "--no-library", "--scenarios", "mine", "--okta-pauses", "--json", "r.json"],
    );
    cmd.env("TMPDIR", tmp).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let pid = child.id().to_string();
    let stdout = child.stdout.take().unwrap();
    let started = tokio::task::spawn_blocking(move || {
        let mut lines = std::io::BufReader::new(stdout).lines();
        let found = lines.any(|l| l.is_ok_and(|l| l.starts_with("scimcheck: 1 scenario(s) against")));
        std::thread::spawn(move || lines.for_each(drop));
        found
    })
    .await
    .unwrap();
    assert!(started, "the run never started");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    for _ in 0..presses {
        assert!(std::process::Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    }
    let (code, stderr) = tokio::task::spawn_blocking(move || {
        let mut err = String::new();
        child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        (child.wait().unwrap().code(), err)
    })
    .await
    .unwrap();
    (code, stderr)
}

#[tokio::test]
async fn ctrl_c_once_or_twice_leaves_no_temporary_folder() {
    let dir = TempDir::new();
    let mut scenario = list_users("paused");
    scenario["steps"][0]["pause"] = serde_json::json!(60);
    write_scenario(&dir.join("mine"), "okta/paced/x.json", &scenario);
    for presses in [1, 2] {
        let tmp = dir.join(&format!("tmp{presses}"));
        std::fs::create_dir_all(&tmp).unwrap();
        let (code, stderr) = interrupted_reference_run(&dir, &tmp, presses).await;
        assert_eq!(code, Some(130), "{presses} Ctrl-C: {stderr}");
        let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().map(|e| e.unwrap().path()).collect();
        assert!(left.is_empty(), "{presses} Ctrl-C: temporary files left: {left:?}\n{stderr}");
    }
}

#[tokio::test]
async fn a_failed_scenario_shows_its_snapshot_state_beside_the_failure() {
    let dir = TempDir::new();
    let mut scenario = list_users("fails");
    scenario["steps"][0]["expect"]["status"] = serde_json::json!(299);
    write_scenario(&dir.join("mine"), "rfc/mine/f.json", &scenario);
    let args = ["run", "--reference", "--no-library", "--scenarios", "mine", "--snapshots", "snaps"];
    let (code, stdout, stderr) = output(scimcheck_in(&dir.0, &args)).await;
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("FAIL") && stdout.contains("(snapshot: new) step 1 \"list\": status"), "{stdout}");
    assert!(stdout.contains("snapshots: 1 new (no snapshot yet), 0 changed, pending in snaps"), "{stdout}");
}

#[tokio::test]
async fn drift_against_the_built_in_baseline_offers_no_review_of_a_removed_folder() {
    let dir = TempDir::new();
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    // a scenario of one's own with the id of a library scenario: compared with the built-in snapshot, it drifts
    let mut mine = list_users("my own version");
    mine["idp"] = "rfc".into();
    mine["group"] = "s2_authentication".into();
    let name =
        std::fs::read_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/rfc/s2_authentication"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .find(|n| n.ends_with(".json"))
            .unwrap();
    write_scenario(&dir.join("mine"), &name, &mine);
    let id = format!("rfc::s2_authentication::{}", name.trim_end_matches(".json"));
    let mut cmd = scimcheck_in(&dir.0, &["run", "--reference", "--scenarios", "mine", &id]);
    cmd.env("TMPDIR", &tmp);
    let (code, stdout, stderr) = output(cmd).await;
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("DRIFT"), "{stdout}");
    assert!(stdout.contains("the new transcript is not kept"), "{stdout}");
    assert!(!stdout.contains("snapshots review") && !stdout.contains(tmp.to_str().unwrap()), "{stdout}");
    assert!(std::fs::read_dir(&tmp).unwrap().next().is_none());
}
