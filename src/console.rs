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
