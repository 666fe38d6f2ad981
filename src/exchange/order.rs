//! The order in which exchanges end, across every run of the process: what tells, among steps run concurrently,
//! the last one a server answered before it stopped answering ([`crate::report::stopped`]).

use std::sync::atomic::{AtomicU64, Ordering};

static NEXT: AtomicU64 = AtomicU64::new(1);

/// The next number in the order exchanges end: strictly greater than every number returned before it, in any
/// thread. Only comparisons between numbers mean anything.
pub fn tick() -> u64 {
    NEXT.fetch_add(1, Ordering::SeqCst)
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_tick_is_later_than_the_last() {
        let a = super::tick();
        let b = super::tick();
        assert!(b > a);
    }
}
