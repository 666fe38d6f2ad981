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
    /// Snapshot folder.
    #[arg(long, value_name = "DIR", default_value = "snapshots")]
    pub snapshots: PathBuf,
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
            let list = pending(&args.snapshots, args.filter.as_deref())?;
            for p in &list {
                accept(p)?;
                println!("accepted {}", p.id);
            }
            println!("{} snapshot(s) accepted in {}", list.len(), args.snapshots.display());
            Ok(0)
        }
        SnapshotsCommand::Review(args) => {
            let list = pending(&args.snapshots, args.filter.as_deref())?;
            let stdin = std::io::stdin();
            let mut input = stdin.lock();
            review(&list, &mut input, &mut anstream::stdout().lock())
        }
    }
}

/// The review loop over `list`, reading answers from `input`: `a`ccept, `r`eject, `s`kip (also on end of input).
pub fn review(list: &[Pending], input: &mut dyn BufRead, out: &mut dyn Write) -> Result<i32, String> {
    use owo_colors::OwoColorize;
    let io = |e: std::io::Error| e.to_string();
    let (mut accepted, mut rejected, mut skipped) = (0, 0, 0);
    if list.is_empty() {
        writeln!(out, "no pending snapshots").map_err(io)?;
        return Ok(0);
    }
    for (i, p) in list.iter().enumerate() {
        let what = if p.snap.exists() { "changed" } else { "new" };
        writeln!(out, "\n[{}/{}] {} ({what}: {})", i + 1, list.len(), p.id.bold(), p.new.display()).map_err(io)?;
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
        let answer = loop {
            write!(out, "accept (a), reject (r), skip (s)? ").map_err(io)?;
            out.flush().map_err(io)?;
            let mut line = String::new();
            if input.read_line(&mut line).map_err(io)? == 0 {
                writeln!(out).map_err(io)?;
                break 's';
            }
            match line.trim().to_ascii_lowercase().as_str() {
                "a" | "accept" => break 'a',
                "r" | "reject" => break 'r',
                "s" | "skip" | "" => break 's',
                _ => writeln!(out, "please answer a, r or s").map_err(io)?,
            }
        };
        match answer {
            'a' => {
                accept(p)?;
                accepted += 1;
            }
            'r' => {
                reject(p)?;
                rejected += 1;
            }
            _ => skipped += 1,
        }
    }
    writeln!(out, "\naccepted {accepted}, rejected {rejected}, skipped {skipped}").map_err(io)?;
    Ok(i32::from(skipped > 0))
}
