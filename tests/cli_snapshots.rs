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
