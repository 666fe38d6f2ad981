//! `scimcheck snapshots review|accept`: handle pending transcripts (`<name>.snap.new`, written on drift or for a
//! missing snapshot) in any snapshot folder — no Cargo project or `cargo insta` needed.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use crate::snapshot;

/// `scimcheck snapshots …`.
#[derive(Debug, Subcommand)]
pub enum SnapshotsCommand {
    /// Show each pending snapshot's diff and ask: accept, reject or skip (answers are read from stdin).
    Review(FolderArgs),
    /// Accept pending snapshots without asking.
    Accept(FolderArgs),
}

/// Which folder and which snapshots.
#[derive(Debug, Clone, Args)]
pub struct FolderArgs {
    /// Settings file (default: ./scimcheck.toml when it exists): its `snapshots` folder applies when --snapshots
    /// is not given.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Snapshot folder [default: `snapshots` of the settings file, else ./snapshots].
    #[arg(long, value_name = "DIR")]
    pub snapshots: Option<PathBuf>,
    /// Only scenarios whose id (`okta::spec::spec_suite`) contains this text.
    #[arg(long)]
    pub filter: Option<String>,
}

/// A pending snapshot.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The scenario id it belongs to.
    pub id: String,
    /// The `.snap.new` file.
    pub new: PathBuf,
    /// The `.snap` file it would replace (may not exist).
    pub snap: PathBuf,
}

/// The pending snapshots of `dir` whose id contains `filter`, sorted by id.
///
/// Errors: the folder cannot be read.
pub fn pending(dir: &Path, filter: Option<&str>) -> Result<Vec<Pending>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".snap.new") else { continue };
        let id = stem.replace("__", "::");
        if filter.is_some_and(|f| !id.contains(f)) {
            continue;
        }
        out.push(Pending { id, new: entry.path(), snap: dir.join(format!("{stem}.snap")) });
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// Makes a pending snapshot the snapshot.
pub fn accept(p: &Pending) -> Result<(), String> {
    std::fs::rename(&p.new, &p.snap).map_err(|e| format!("{}: {e}", p.new.display()))
}

/// Deletes a pending snapshot.
pub fn reject(p: &Pending) -> Result<(), String> {
    std::fs::remove_file(&p.new).map_err(|e| format!("{}: {e}", p.new.display()))
}

/// The diff from the current snapshot (empty when there is none) to the pending one.
pub fn diff(p: &Pending) -> Result<String, String> {
    let err = |e: std::io::Error| e.to_string();
    let old = snapshot::read_contents(&p.snap).map_err(err)?.unwrap_or_default();
    let new = snapshot::read_contents(&p.new).map_err(err)?.unwrap_or_default();
    Ok(snapshot::diff(&old, &new))
}

/// Runs a `snapshots` subcommand; returns the exit code (0, or 1 when something is left pending by `review`).
pub fn main(cmd: SnapshotsCommand) -> Result<i32, String> {
    match cmd {
        SnapshotsCommand::Accept(args) => {
            let dir = folder(&args)?;
            let list = pending(&dir, args.filter.as_deref())?;
            for p in &list {
                accept(p)?;
                crate::outln!("accepted {}", p.id);
            }
            crate::outln!("{} snapshot(s) accepted in {}", list.len(), dir.display());
            Ok(0)
        }
        SnapshotsCommand::Review(args) => {
            let dir = folder(&args)?;
            let list = pending(&dir, args.filter.as_deref())?;
            let stdin = std::io::stdin();
            let interactive = std::io::IsTerminal::is_terminal(&stdin);
            let mut input = stdin.lock();
            review(&list, &mut input, &mut anstream::stdout().lock(), interactive)
        }
    }
}

/// The snapshot folder: `--snapshots`, else the settings file's `snapshots` (`--config FILE` or
/// `./scimcheck.toml`, read as `run` reads it), else `./snapshots`.
///
/// Errors: the settings file's errors.
pub fn folder(args: &FolderArgs) -> Result<PathBuf, String> {
    if let Some(dir) = &args.snapshots {
        return Ok(dir.clone());
    }
    let (config, _) = super::config::Config::load(args.config.as_deref())?;
    Ok(config.snapshots.unwrap_or_else(|| PathBuf::from("snapshots")))
}

/// An answer in [`review`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Accept,
    Reject,
    Skip,
    AcceptAll,
    RejectAll,
    Quit,
}

/// The prompt of [`review`], naming every key.
pub const PROMPT: &str = "accept (a), reject (r), skip (s), accept all left (A), reject all left (R), quit (q)? ";

fn answer(line: &str) -> Option<Answer> {
    Some(match line.trim() {
        "A" => Answer::AcceptAll,
        "R" => Answer::RejectAll,
        other => match other.to_ascii_lowercase().as_str() {
            "a" | "accept" => Answer::Accept,
            "r" | "reject" => Answer::Reject,
            "s" | "skip" | "" => Answer::Skip,
            "accept all" | "accept-all" => Answer::AcceptAll,
            "reject all" | "reject-all" => Answer::RejectAll,
            "q" | "quit" => Answer::Quit,
            _ => return None,
        },
    })
}

/// The review loop over `list`, reading answers from `input`: `a`ccept, `r`eject, `s`kip, `A` accept this and
/// every one left, `R` reject this and every one left, `q`uit (the rest stay pending). At the end of input it stops
/// asking and lists what is left pending; when `input` is not a terminal (`interactive` false) the end is noticed
/// before the next diff is printed, so a closed stdin prints no diff at all.
///
/// Returns 0, or 1 when something is left pending. Errors: a file cannot be moved or removed, output fails.
pub fn review(
    list: &[Pending],
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    interactive: bool,
) -> Result<i32, String> {
    use owo_colors::OwoColorize;
    let io = |e: std::io::Error| e.to_string();
    let (mut accepted, mut rejected, mut skipped) = (0, 0, 0);
    if list.is_empty() {
        writeln!(out, "no pending snapshots").map_err(io)?;
        return Ok(0);
    }
    let mut all: Option<Answer> = None;
    let mut stopped: Option<(usize, &str)> = None;
    for (i, p) in list.iter().enumerate() {
        if all.is_none() && !interactive && input.fill_buf().map_err(io)?.is_empty() {
            stopped = Some((i, "no answers left on standard input"));
            break;
        }
        let what = if p.snap.exists() { "changed" } else { "new" };
        writeln!(out, "\n[{}/{}] {} ({what}: {})", i + 1, list.len(), p.id.bold(), p.new.display()).map_err(io)?;
        if all.is_none() {
            for line in diff(p)?.lines() {
                let shown = if line.starts_with('+') && !line.starts_with("+++") {
                    line.green().to_string()
                } else if line.starts_with('-') && !line.starts_with("---") {
                    line.red().to_string()
                } else {
                    line.to_string()
                };
                writeln!(out, "  {shown}").map_err(io)?;
            }
        }
        let chosen = match all {
            Some(a) => a,
            None => loop {
                write!(out, "{PROMPT}").map_err(io)?;
                out.flush().map_err(io)?;
                let mut line = String::new();
                if input.read_line(&mut line).map_err(io)? == 0 {
                    writeln!(out).map_err(io)?;
                    break Answer::Quit;
                }
                match answer(&line) {
                    Some(a) => break a,
                    None => writeln!(out, "please answer a, r, s, A, R or q").map_err(io)?,
                }
            },
        };
        match chosen {
            Answer::Accept | Answer::AcceptAll => {
                accept(p)?;
                accepted += 1;
            }
            Answer::Reject | Answer::RejectAll => {
                reject(p)?;
                rejected += 1;
            }
            Answer::Skip => skipped += 1,
            Answer::Quit => {
                stopped = Some((i, "stopped"));
                break;
            }
        }
        if matches!(chosen, Answer::AcceptAll | Answer::RejectAll) {
            all = Some(chosen);
        }
    }
    let mut left = skipped;
    if let Some((from, why)) = stopped {
        let rest = &list[from..];
        left += rest.len();
        writeln!(out, "\n{why}: {} snapshot(s) left pending:", rest.len()).map_err(io)?;
        for p in rest {
            writeln!(out, "  {}", p.id).map_err(io)?;
        }
    }
    writeln!(out, "\naccepted {accepted}, rejected {rejected}, skipped {skipped}, {left} left pending").map_err(io)?;
    Ok(i32::from(left > 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(files: &[(&str, &str)]) -> (crate::cli::temp::TempFolder, Vec<Pending>) {
        let dir = crate::cli::temp::TempFolder::new("scimcheck-review-test").unwrap();
        let file = |c: &str| format!("---\nsource: s.json\nexpression: transcript\n---\n{c}\n");
        for (name, contents) in files {
            std::fs::write(dir.path().join(name), file(contents)).unwrap();
        }
        let list = pending(dir.path(), None).unwrap();
        (dir, list)
    }

    fn run(list: &[Pending], answers: &str, interactive: bool) -> (i32, String) {
        let mut out = Vec::new();
        let code = review(list, &mut answers.as_bytes(), &mut out, interactive).unwrap();
        (code, String::from_utf8(out).unwrap())
    }

    #[test]
    fn closed_input_prints_no_diff_and_lists_what_is_left() {
        let (dir, list) = folder(&[("rfc__x__a.snap.new", "[\n  1\n]"), ("rfc__x__b.snap.new", "[\n  2\n]")]);
        let (code, out) = run(&list, "", false);
        assert_eq!(code, 1);
        assert!(!out.contains("+  1") && !out.contains(PROMPT), "{out}");
        assert!(out.contains("no answers left on standard input: 2 snapshot(s) left pending:"), "{out}");
        assert!(out.contains("  rfc::x::a\n  rfc::x::b\n"), "{out}");
        assert!(dir.path().join("rfc__x__a.snap.new").exists() && dir.path().join("rfc__x__b.snap.new").exists());
        // answers for the first only: the second is not shown
        let (code, out) = run(&list, "s\n", false);
        assert_eq!(code, 1);
        assert!(out.contains("+  1") && !out.contains("+  2"), "{out}");
        assert!(out.contains("1 snapshot(s) left pending:\n  rfc::x::b"), "{out}");
        // a terminal's Ctrl-D is noticed at the prompt
        let (_, out) = run(&list, "", true);
        assert!(out.contains("+  1") && out.contains("stopped: 2 snapshot(s) left pending"), "{out}");
    }

    #[test]
    fn accept_all_reject_all_and_quit() {
        let files = [("rfc__x__a.snap.new", "[1]"), ("rfc__x__b.snap.new", "[2]"), ("rfc__x__c.snap.new", "[3]")];
        let (dir, list) = folder(&files);
        let (code, out) = run(&list, "r\nA\n", false);
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("accepted 2, rejected 1, skipped 0, 0 left pending"), "{out}");
        assert_eq!(out.matches(PROMPT).count(), 2, "no question after A: {out}");
        assert!(!dir.path().join("rfc__x__a.snap").exists() && dir.path().join("rfc__x__c.snap").exists());

        let (dir, list) = folder(&files);
        let (code, out) = run(&list, "R\n", false);
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("accepted 0, rejected 3"), "{out}");
        assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());

        let (dir, list) = folder(&files);
        let (code, out) = run(&list, "a\nq\na\n", false);
        assert_eq!(code, 1);
        assert!(out.contains("stopped: 2 snapshot(s) left pending:\n  rfc::x::b\n  rfc::x::c"), "{out}");
        assert!(dir.path().join("rfc__x__a.snap").exists() && dir.path().join("rfc__x__c.snap.new").exists());
    }
}
