//! Where the `k`-th visible record of a table is, without walking the slots before it.
//!
//! A table keeps its records in creation order, in slots; a slot holds no visible record when it is a
//! tombstone (a removed record, until compaction) or holds a hidden one (a protected local account). An
//! unfiltered page (RFC 7644 §3.4.2.4) starts at the `startIndex`-th visible record, so finding that slot by
//! walking costs the records before it: N records read in pages of k cost N²/k. [`Visible`] is a Fenwick tree
//! (binary indexed tree) over the slots' 0/1 visibility: 4 bytes a slot; appending a slot, changing one slot's
//! visibility and finding the `k`-th visible slot each cost O(log n), and a rebuild (after compaction) O(n).

/// The visible slots of a table, counted in a Fenwick tree (module documentation). Slot numbers are 0-based.
#[derive(Debug, Default)]
pub(super) struct Visible {
    /// 1-based Fenwick nodes: node `j` counts the visible slots in `(j - lowbit(j), j]` (1-based slots).
    tree: Vec<u32>,
}

fn lowbit(j: usize) -> usize {
    j & j.wrapping_neg()
}

impl Visible {
    /// A tree over `slots` visibilities, in slot order; O(n).
    pub(super) fn build(slots: impl Iterator<Item = bool>) -> Visible {
        let mut tree: Vec<u32> = slots.map(u32::from).collect();
        let n = tree.len();
        for j in 1..=n {
            let parent = j + lowbit(j);
            if parent <= n {
                tree[parent - 1] += tree[j - 1];
            }
        }
        Visible { tree }
    }

    /// How many of the first `j` slots are visible.
    fn prefix(&self, mut j: usize) -> u32 {
        let mut sum = 0;
        while j > 0 {
            sum += self.tree[j - 1];
            j -= lowbit(j);
        }
        sum
    }

    /// How many slots are visible.
    pub(super) fn total(&self) -> usize {
        self.prefix(self.tree.len()) as usize
    }

    /// Appends a slot (the next slot number).
    pub(super) fn push(&mut self, visible: bool) {
        let j = self.tree.len() + 1;
        // node j covers (j - lowbit(j), j]: the new slot plus the slots already counted in that range
        let below = self.prefix(j - 1) - self.prefix(j - lowbit(j));
        self.tree.push(u32::from(visible) + below);
    }

    /// Records that `slot` changed from `was` to `now` visible; no effect when they are equal or the slot
    /// does not exist.
    pub(super) fn set(&mut self, slot: usize, was: bool, now: bool) {
        if was == now || slot >= self.tree.len() {
            return;
        }
        let mut j = slot + 1;
        while j <= self.tree.len() {
            let node = &mut self.tree[j - 1];
            *node = if now { *node + 1 } else { node.saturating_sub(1) };
            j += lowbit(j);
        }
    }

    /// The slot of the `k`-th visible record (0-based), or `None` when fewer than `k + 1` are visible.
    pub(super) fn nth(&self, k: usize) -> Option<usize> {
        let n = self.tree.len();
        let mut rem = u32::try_from(k).ok()?.checked_add(1)?;
        let mut pos = 0;
        let mut step = if n == 0 { 0 } else { 1 << (usize::BITS - 1 - n.leading_zeros()) };
        while step > 0 {
            if pos + step <= n && self.tree[pos + step - 1] < rem {
                pos += step;
                rem -= self.tree[pos - 1];
            }
            step >>= 1;
        }
        // `pos` slots hold fewer than k + 1 visible records; the next slot is the (k + 1)-th
        (pos < n).then_some(pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    /// Seeded random visibilities and changes: `nth` agrees with counting the slots one by one.
    #[test]
    fn nth_agrees_with_a_walk_after_appends_and_changes() {
        let mut rng = StdRng::seed_from_u64(0x2545_f491_4f6c_dd1d);
        let mut next = move || rng.random::<u64>();
        for round in 0..40 {
            let mut slots: Vec<bool> = Vec::new();
            let mut v = if round % 2 == 0 { Visible::default() } else { Visible::build(std::iter::empty()) };
            for _ in 0..(next() % 300) {
                if slots.is_empty() || next() % 3 != 0 {
                    let vis = next() % 4 != 0;
                    slots.push(vis);
                    v.push(vis);
                } else {
                    let i = (next() % slots.len() as u64) as usize;
                    let now = next() % 2 == 0;
                    v.set(i, slots[i], now);
                    slots[i] = now;
                }
                let walk: Vec<usize> = (0..slots.len()).filter(|&i| slots[i]).collect();
                assert_eq!(v.total(), walk.len());
                for k in 0..=walk.len() {
                    assert_eq!(v.nth(k), walk.get(k).copied(), "k={k} slots={slots:?}");
                }
            }
            let rebuilt = Visible::build(slots.iter().copied());
            let walk: Vec<usize> = (0..slots.len()).filter(|&i| slots[i]).collect();
            for k in 0..=walk.len() {
                assert_eq!(rebuilt.nth(k), walk.get(k).copied());
            }
        }
    }
}
