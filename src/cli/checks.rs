//! What `run` says or checks before the first request: report folders made (or a usage error) before the run,
//! and the waiting `--okta-pauses` adds. (A closed or failing stdout is handled where output is written:
//! [`crate::console`].)

use std::path::Path;

use crate::idp::Idp;
use crate::scenario::Scenario;

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
        crate::outln!("made the report folder {}", folder.display());
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

/// What left scenarios out of a run, from their exclusion reasons ([`crate::cli::select`]: `excluded by --idp (it
/// is okta)`, `excluded by --suite okta-entitlements`, `excluded by the filter`), counted per option in the order
/// first met: `107 by --suite okta-entitlements`, or `60 by --idp, 3 by the filter`.
pub fn excluded_by<'a>(reasons: impl IntoIterator<Item = &'a str>) -> String {
    let mut by: Vec<(&str, usize)> = Vec::new();
    for why in reasons {
        let what = why.strip_prefix("excluded by ").unwrap_or(why);
        let what = what.split(" (").next().unwrap_or(what);
        match by.iter_mut().find(|(w, _)| *w == what) {
            Some((_, n)) => *n += 1,
            None => by.push((what, 1)),
        }
    }
    by.iter().map(|(what, n)| format!("{n} by {what}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn exclusions_name_the_option_that_made_them() {
        let suite = ["excluded by --suite okta-entitlements"; 3];
        assert_eq!(super::excluded_by(suite), "3 by --suite okta-entitlements");
        let mixed = ["excluded by --idp (it is okta)", "excluded by the filter", "excluded by --idp (it is rfc)"];
        assert_eq!(super::excluded_by(mixed), "2 by --idp, 1 by the filter");
    }
}
