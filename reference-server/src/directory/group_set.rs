//! The groups a member belongs to directly (the directory's reverse index of the groups' member lists), kept
//! inline while there is one.
//!
//! Most users are members of one group or none; an `IndexSet` per member cost its own hash table and entry
//! vector even for one group (40 MB of the heap at its peak for the 170,000 memberships of a 300,000-user
//! simulation), where one group id inline costs 24 bytes.

use indexmap::IndexSet;
use uuid::Uuid;

/// A member's groups in the order it joined them.
#[derive(Debug, Clone, Default)]
pub(super) enum GroupSet {
    /// None (a member that left its last group is removed from the index instead).
    #[default]
    Empty,
    /// One group.
    One(Uuid),
    /// Two or more.
    Many(Box<IndexSet<Uuid>>),
}

impl GroupSet {
    /// Adds `group` at the end, unless it is there already.
    pub(super) fn insert(&mut self, group: Uuid) {
        match self {
            GroupSet::Empty => *self = GroupSet::One(group),
            GroupSet::One(g) if *g == group => {}
            GroupSet::One(g) => *self = GroupSet::Many(Box::new(IndexSet::from([*g, group]))),
            GroupSet::Many(gs) => {
                gs.insert(group);
            }
        }
    }

    /// Removes `group`, keeping the order of the others.
    pub(super) fn shift_remove(&mut self, group: &Uuid) {
        match self {
            GroupSet::One(g) if g == group => *self = GroupSet::Empty,
            GroupSet::Many(gs) => {
                gs.shift_remove(group);
                if let (1, Some(&one)) = (gs.len(), gs.get_index(0)) {
                    *self = GroupSet::One(one);
                }
            }
            _ => {}
        }
    }

    /// Whether there is no group.
    pub(super) fn is_empty(&self) -> bool {
        match self {
            GroupSet::Empty => true,
            GroupSet::One(_) => false,
            GroupSet::Many(gs) => gs.is_empty(),
        }
    }

    /// The groups, in the order joined.
    pub(super) fn iter(&self) -> impl Iterator<Item = &Uuid> + '_ {
        let (one, many) = match self {
            GroupSet::Empty => (None, None),
            GroupSet::One(g) => (Some(g), None),
            GroupSet::Many(gs) => (None, Some(gs.iter())),
        };
        one.into_iter().chain(many.into_iter().flatten())
    }
}

impl IntoIterator for GroupSet {
    type Item = Uuid;
    type IntoIter = std::iter::Chain<
        std::option::IntoIter<Uuid>,
        std::iter::Flatten<std::option::IntoIter<indexmap::set::IntoIter<Uuid>>>,
    >;

    fn into_iter(self) -> Self::IntoIter {
        let (one, many) = match self {
            GroupSet::Empty => (None, None),
            GroupSet::One(g) => (Some(g), None),
            GroupSet::Many(gs) => (None, Some((*gs).into_iter())),
        };
        one.into_iter().chain(many.into_iter().flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Joining and leaving in any order keeps the groups a set in the order joined, as the `IndexSet` did.
    #[test]
    fn groups_stay_a_set_in_joining_order() {
        let g: Vec<Uuid> = (1..=4).map(Uuid::from_u128).collect();
        let mut s = GroupSet::default();
        assert!(s.is_empty());
        s.insert(g[0]);
        s.insert(g[0]);
        assert!(matches!(s, GroupSet::One(x) if x == g[0]));
        s.insert(g[1]);
        s.insert(g[2]);
        s.insert(g[1]);
        assert_eq!(s.iter().copied().collect::<Vec<_>>(), vec![g[0], g[1], g[2]]);
        s.shift_remove(&g[1]);
        s.shift_remove(&g[3]);
        assert_eq!(s.iter().copied().collect::<Vec<_>>(), vec![g[0], g[2]]);
        s.shift_remove(&g[0]);
        assert!(matches!(s, GroupSet::One(x) if x == g[2]), "back inline");
        s.shift_remove(&g[2]);
        assert!(s.is_empty());
        s.insert(g[3]);
        s.insert(g[0]);
        assert_eq!(s.into_iter().collect::<Vec<_>>(), vec![g[3], g[0]]);
    }
}
