//! Ctrl-C in `simulate`: the first interrupt stops sending — no request
//! starts, the ones in flight are abandoned, back-off waits end — and the run still writes its summary and its
//! partial JSON and HTML reports, marked interrupted, exit code 130; a second interrupt quits at once.
//!
//! One [`Interrupt`] is shared by the engine (every request and wait checks it) and the command line (which sets
//! it on SIGINT).

use std::cell::Cell;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

/// Exit code of an interrupted simulation (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: i32 = 130;

/// What an interrupted run's unfinished parts say.
pub const INTERRUPTED: &str = "interrupted (Ctrl-C)";

tokio::task_local! {
    /// Whether the interrupt stopped a request of the operation this task runs ([`tracked`]).
    static STOPPED: Cell<bool>;
}

/// Runs one operation (a user's lookup-then-write chain, a group's create, one membership request) and says
/// whether the interrupt stopped any of its requests ([`mark_stopped`]): such an operation was not sent, or was
/// abandoned in flight with its answer unknown, so it is counted as not sent — never as failed.
pub async fn tracked<T>(operation: impl Future<Output = T>) -> (T, bool) {
    STOPPED
        .scope(Cell::new(false), async {
            let v = operation.await;
            (v, STOPPED.with(Cell::get))
        })
        .await
}

/// Marks the operation this task runs as stopped by the interrupt (no-op outside [`tracked`]).
pub fn mark_stopped() {
    let _ = STOPPED.try_with(|c| c.set(true));
}

/// The shared interrupt flag, and the waiters it wakes when it is set.
#[derive(Debug, Clone, Default)]
pub struct Interrupt(Arc<Flag>);

/// The flag and its waiters: a request waits on the flag without a timer of its own (a timer per request and
/// per wait, polled every 20 ms, was a share of the CPU of every request: docs/performance.md).
#[derive(Debug, Default)]
struct Flag {
    set: AtomicBool,
    waiters: Notify,
}

impl Interrupt {
    /// Sets the flag (the first Ctrl-C) and wakes everything waiting on it.
    pub fn set(&self) {
        self.0.set.store(true, Ordering::SeqCst);
        self.0.waiters.notify_waiters();
    }

    /// Whether the run was interrupted.
    pub fn is_set(&self) -> bool {
        self.0.set.load(Ordering::SeqCst)
    }

    /// Resolves once the flag is set.
    pub async fn wait(&self) {
        let notified = self.0.waiters.notified();
        tokio::pin!(notified);
        // registered before the flag is read, so a `set` between the two still wakes it
        notified.as_mut().enable();
        if !self.is_set() {
            notified.await;
        }
    }

    /// Runs `f` unless the run is or becomes interrupted: `None` when interrupted (`f` is dropped, which
    /// abandons a request in flight or ends a wait). `f` is polled first, so one that is ready at once (a turn
    /// with no rate and no pause) never registers a waiter.
    pub async fn or_stop<T>(&self, f: impl Future<Output = T>) -> Option<T> {
        if self.is_set() {
            return None;
        }
        tokio::select! {
            biased;
            v = f => Some(v),
            _ = self.wait() => None,
        }
    }

    /// Watches SIGINT for the command line: the first sets the flag and says what happens; the second exits
    /// with [`EXIT_INTERRUPTED`] at once. Returns the watcher task (abort it when the run is over).
    pub fn watch_ctrl_c(&self) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                if me.is_set() {
                    eprintln!("interrupted again: quitting at once");
                    std::process::exit(EXIT_INTERRUPTED);
                }
                me.set();
                eprintln!(
                    "interrupted: no new request starts; writing the summary and partial reports (Ctrl-C again quits at once)"
                );
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn an_interrupt_abandons_what_is_in_flight_and_starts_nothing() {
        let i = Interrupt::default();
        assert_eq!(i.or_stop(async { 7 }).await, Some(7));
        let j = i.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            j.set();
        });
        assert_eq!(i.or_stop(tokio::time::sleep(Duration::from_secs(3600))).await, None);
        assert_eq!(i.or_stop(async { 7 }).await, None, "nothing starts once interrupted");
    }

    /// Waiters are woken by `set`, without a timer: on a runtime with no time driver (where any timer panics),
    /// every one of many requests in flight ends once the flag is set, and one that starts after it never runs.
    #[test]
    fn set_wakes_every_waiter_without_a_timer() {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let i = Interrupt::default();
            let waiting: Vec<_> = (0..50)
                .map(|_| {
                    let i = i.clone();
                    tokio::spawn(async move { i.or_stop(std::future::pending::<()>()).await })
                })
                .collect();
            for _ in 0..4 {
                tokio::task::yield_now().await; // every waiter is in flight
            }
            i.set();
            for w in waiting {
                assert_eq!(w.await.expect("no waiter panics (no timer is used)"), None);
            }
            assert_eq!(i.or_stop(async { 7 }).await, None);
        });
    }
}
