//! The one way the command line writes to stdout: [`out!`](crate::out) and [`outln!`](crate::outln), never
//! `print!`/`println!` (which panic when the write fails).
//!
//! A failed write never panics and never stops the command: when stdout's reader has gone (`scimcheck run … |
//! head -2`, EPIPE) the rest of the output is dropped silently; on any other error (a full disk behind a
//! redirection, `ENOSPC`) one line on stderr says that stdout failed and why, and the rest of the output is
//! dropped. Either way the command goes on — a run still writes its `--json`/`--junit`/`--html` files — and its
//! exit code is its own verdict, not the state of stdout.

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once a write to stdout has failed: nothing more is written to it.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// Whether stdout has failed and output is being dropped.
pub fn closed() -> bool {
    CLOSED.load(Ordering::Relaxed)
}

/// Writes `args` to stdout (through `anstream`, which strips colours where they do not belong) and flushes.
/// Returns nothing: a failure is handled here ([`failed`]) and later writes are dropped.
pub fn write(args: fmt::Arguments<'_>) {
    if closed() {
        return;
    }
    let mut out = anstream::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        failed(&e);
    }
}

/// Records that stdout failed with `e`: a broken pipe silently, any other error with one line on stderr.
pub fn failed(e: &io::Error) {
    if CLOSED.swap(true, Ordering::Relaxed) {
        return;
    }
    if e.kind() != io::ErrorKind::BrokenPipe {
        let _ = writeln!(
            io::stderr(),
            "warning: cannot write to stdout ({e}); the rest of the output is left out, the command goes on"
        );
    }
}

/// `print!` that never panics: see [`crate::console`].
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::console::write(format_args!($($arg)*)) };
}

/// `println!` that never panics: see [`crate::console`].
#[macro_export]
macro_rules! outln {
    () => { $crate::console::write(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::console::write(format_args!("{}\n", format_args!($($arg)*))) };
}

#[cfg(test)]
mod tests {
    /// Every write to stdout in `src/` goes through [`out!`](crate::out)/[`outln!`](crate::outln): a `print!` or
    /// `println!` outside a test module would panic on a closed pipe or a full disk.
    #[test]
    fn no_print_macro_writes_to_stdout_outside_tests() {
        fn visit(dir: &std::path::Path, re: &regex::Regex, found: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    visit(&p, re, found);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    let text = std::fs::read_to_string(&p).unwrap();
                    let code = text.split("#[cfg(test)]").next().unwrap_or("");
                    for (n, line) in code.lines().enumerate() {
                        if re.is_match(line) && !line.trim_start().starts_with("//") {
                            found.push(format!("{}:{}: {}", p.display(), n + 1, line.trim()));
                        }
                    }
                }
            }
        }
        let mut found = Vec::new();
        let re = regex::Regex::new(r"(^|[^e\w])print(ln)?!\(").unwrap();
        visit(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &re, &mut found);
        assert!(found.is_empty(), "use crate::outln!/crate::out! instead:\n{}", found.join("\n"));
    }
}
