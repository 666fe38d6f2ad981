//! What `run` says or checks before the first request, and how every command ends when its output is closed:
//! report folders made (or a usage error) before the run, the waiting `--okta-pauses` adds, and a quiet end when
//! stdout is a pipe whose reader has gone (`scimcheck list | head`).

use std::path::Path;

use crate::scenario::{Idp, Scenario};

/// Exit code when stdout's reader has gone: 128 + SIGPIPE, what a shell reports for a program the signal ended.
pub const EXIT_BROKEN_PIPE: i32 = 141;

/// Makes the folder of each report file that does not exist yet, so a typo or a fresh CI workspace is settled
/// before any request instead of after the whole run.
///
/// Errors: a folder that cannot be made (a file is in the way, no permission), naming the report.
pub fn report_folders(reports: &[Option<&Path>]) -> Result<(), String> {
    for path in reports.iter().flatten() {
        let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) else { continue };
        if folder.is_dir() {
            continue;
        }
        std::fs::create_dir_all(folder).map_err(|e| {
            format!("cannot make the folder {} for the report {}: {e}", folder.display(), path.display())
        })?;
        println!("made the report folder {}", folder.display());
    }
    Ok(())
}

/// The `scimcheck list` command that shows the scenarios a `run` with these flags loads: the same `--scenarios`
/// folders, `--no-library` and `--config`, so a hint that names it works when copied.
pub fn list_command(select: &super::SelectArgs, config: Option<&Path>) -> String {
    let quote = |p: &Path| {
        let s = p.to_string_lossy();
        if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "_./-:".contains(c)) {
            s.into_owned()
        } else {
            format!("'{}'", s.replace('\'', "'\\''"))
        }
    };
    let mut line = String::from("scimcheck list");
    if let Some(c) = config {
        line.push_str(&format!(" --config {}", quote(c)));
    }
    for dir in &select.scenarios {
        line.push_str(&format!(" --scenarios {}", quote(dir)));
    }
    if select.no_library {
        line.push_str(" --no-library");
    }
    line
}

/// The line `run --okta-pauses` prints before the first scenario: how many pauses the selected Okta scenarios
/// have and how long they wait in all (each is waited once, before its step is first sent).
pub fn okta_pauses_line(selected: &[Scenario]) -> String {
    let mut pauses = 0;
    let mut secs = 0.0;
    let mut scenarios = 0;
    for s in selected.iter().filter(|s| s.idp == Idp::Okta) {
        let mine: Vec<f64> = s.steps.iter().filter_map(|st| st.pause).filter(|p| *p > 0.0).collect();
        if !mine.is_empty() {
            scenarios += 1;
            pauses += mine.len();
            secs += mine.iter().sum::<f64>();
        }
    }
    if pauses == 0 {
        return "--okta-pauses: none of the selected scenarios pauses between its steps".into();
    }
    format!(
        "--okta-pauses: waiting between steps as Okta's suites do: {pauses} pause(s), {secs:.1} s in all, in \
         {scenarios} scenario(s) (Ctrl-C ends a pause at once)"
    )
}

/// Ends the process quietly with [`EXIT_BROKEN_PIPE`] when a write to stdout fails because its reader has gone
/// (`print!` panics with "failed printing to stdout: Broken pipe"), instead of a panic message and exit 101;
/// temporary folders are removed first. Other panics keep the default report.
pub fn quiet_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message =
            payload.downcast_ref::<String>().map(String::as_str).or_else(|| payload.downcast_ref::<&str>().copied());
        if message.is_some_and(|m| m.starts_with("failed printing to stdout") && m.contains("Broken pipe")) {
            super::temp::remove_all();
            std::process::exit(EXIT_BROKEN_PIPE);
        }
        default(info);
    }));
}
