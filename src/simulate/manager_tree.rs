//! Checks that the managers of a loaded directory form a forest: no user is, through its chain of managers,
//! its own manager. The IdP's directory cannot hold such a loop (Microsoft Entra ID and Okta both refuse to set a
//! manager that would make one), so a file holding one is refused when loaded.
//!
//! Every user is visited once: a chain already checked is not walked again, so a single chain of 100,000 users
//! costs 100,000 steps, not 100,000² / 2 (walking each user's chain up to its root took 10.5 s).

/// No manager: the manager index of a user without one ([`super::model::SourceUser`]).
pub const NO_MANAGER: u32 = u32::MAX;

/// The first user (by index) whose manager chain loops, if any. `manager_of(i)` is user `i`'s manager's index,
/// or [`NO_MANAGER`]; every index it returns must be below `users`.
pub fn first_loop(users: usize, manager_of: impl Fn(usize) -> u32) -> Option<usize> {
    walk(users, manager_of).0
}

/// [`first_loop`], also answering how many manager links were followed (the work, linear in `users`).
fn walk(users: usize, manager_of: impl Fn(usize) -> u32) -> (Option<usize>, usize) {
    const UNSEEN: u32 = u32::MAX;
    const DONE: u32 = u32::MAX - 1;
    // Per user: UNSEEN, DONE (its chain ends at a root), or the start whose walk is passing through it.
    let mut mark = vec![UNSEEN; users];
    let mut steps = 0usize;
    for start in 0..users {
        if mark[start] != UNSEEN {
            continue;
        }
        let stamp = start as u32;
        let mut cur = start;
        let looped = loop {
            mark[cur] = stamp;
            let next = manager_of(cur);
            if next == NO_MANAGER {
                break false;
            }
            steps += 1;
            let next = next as usize;
            match mark[next] {
                UNSEEN => cur = next,
                DONE => break false,
                s => break s == stamp,
            }
        };
        if looped {
            return (Some(start), steps);
        }
        // Everything this walk passed through ends at a root: mark it so no later walk follows it again.
        let mut cur = start;
        while mark[cur] == stamp {
            mark[cur] = DONE;
            match manager_of(cur) {
                NO_MANAGER => break,
                next => cur = next as usize,
            }
        }
    }
    (None, steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A single chain, the deepest a tree gets: user i is managed by user i - 1 (the file lists managers
    /// first) or by user i + 1 (managers last).
    fn chain(n: usize, managers_first: bool) -> Vec<u32> {
        (0..n)
            .map(|i| match managers_first {
                true if i == 0 => NO_MANAGER,
                true => (i - 1) as u32,
                false if i + 1 == n => NO_MANAGER,
                false => (i + 1) as u32,
            })
            .collect()
    }

    #[test]
    fn a_single_chain_costs_one_step_per_user() {
        for managers_first in [true, false] {
            for n in [25_000, 100_000] {
                let managers = chain(n, managers_first);
                let (looped, steps) = walk(n, |i| managers[i]);
                assert_eq!(looped, None);
                // Walking every user's chain to its root followed n (n - 1) / 2 links.
                assert_eq!(steps, n - 1);
            }
        }
    }

    #[test]
    fn loops_are_found_and_the_first_user_reaching_one_is_named() {
        // 0 → 1 → 2 → 3 → 1: user 0's chain loops (it is not on the loop itself).
        let managers = [1, 2, 3, 1, NO_MANAGER];
        assert_eq!(first_loop(5, |i| managers[i]), Some(0));
        // A self-loop further on, after a tree that is fine.
        let managers = [NO_MANAGER, 0, 0, 3];
        assert_eq!(first_loop(4, |i| managers[i]), Some(3));
        // A tree: two roots, shared chains.
        let managers = [NO_MANAGER, 0, 1, 1, NO_MANAGER, 4, 2];
        assert_eq!(first_loop(7, |i| managers[i]), None);
        // A chain that reaches an already checked chain stops there (3 steps for 4 links, not 1 + 2 + 3).
        let managers = [NO_MANAGER, 0, 1, 2];
        assert_eq!(walk(4, |i| managers[i]), (None, 3));
    }
}
