//! The differences of a reconciliation grouped by kind for the terminal summary: how many of each, and the first
//! few examples of each, so a long list of one kind does not hide the others.

use std::fmt::Write as _;

use super::reconcile::{Difference, Reconciliation};

/// The groups, in the order the summary lists them.
pub const GROUPS: [&str; 6] = ["missing", "extra", "duplicate", "attribute drift", "membership", "manager"];

pub use super::reconcile::{count, group_of};

/// One line per difference: `Missing: User ada@example.test (id 1) name.givenName: expected …, actual …`.
fn line(d: &Difference) -> String {
    let attr = d.attribute.as_deref().map(|a| format!(" {a}")).unwrap_or_default();
    let id = d.id.as_deref().map(|i| format!(" (id {i})")).unwrap_or_default();
    format!("{:?}: {}{id}{attr}: expected {}, actual {}", d.kind, d.object, d.expected, d.actual)
}

/// The line saying what a reconciliation that read the server compared, so its figures add up for a reader:
/// `reconciliation: 291 source users and 0 groups compared with 300 users and 0 groups read from the server
/// (591 objects), 0 differences`.
pub fn checked_line(r: &Reconciliation) -> String {
    let c = &r.counted;
    let absent = match c.expected_absent {
        0 => String::new(),
        n => format!(" ({n} not expected on the server: out of scope, or deleted)"),
    };
    format!(
        "reconciliation: {} source user(s){absent} and {} group(s) compared with {} user(s) and {} group(s) read \
         from the server ({} objects), {} difference(s)",
        c.source_users, c.source_groups, c.server_users, c.server_groups, r.checked, r.drift
    )
}

/// The differences grouped by kind: a heading with the count of each group that has any, then at most
/// `examples` of its listed differences (with the last 5 requests about each object), then "could not verify"
/// with the count of unverified objects.
pub fn summary(r: &Reconciliation, examples: usize) -> String {
    let mut o = String::new();
    for group in GROUPS {
        let n = r.by_kind.get(group).copied().unwrap_or(0);
        if n == 0 {
            continue;
        }
        let _ = writeln!(o, "  {group}: {n}");
        let listed: Vec<&Difference> = r.differences.iter().filter(|d| group_of(d.kind) == group).collect();
        for d in listed.iter().take(examples) {
            let _ = writeln!(o, "    {}", line(d));
            for req in d.requests.iter().rev().take(5).rev() {
                let _ = writeln!(o, "        {req}");
            }
        }
        let shown = listed.len().min(examples);
        if n > shown {
            let _ = writeln!(o, "    … and {} more {group} (the JSON report lists up to 10,000)", n - shown);
        }
    }
    if r.unverified > 0 {
        let _ = writeln!(o, "  could not verify: {} object(s) (their read-back failed)", r.unverified);
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::reconcile::DiffKind;
    use serde_json::json;

    fn d(kind: DiffKind, object: &str) -> Difference {
        let none = crate::simulate::http::ObjRef::None;
        crate::simulate::reconcile::diff(kind, object.into(), None, None, json!(1), json!(2), none)
    }

    #[test]
    fn each_kind_is_counted_and_shows_its_first_examples() {
        let mut diffs: Vec<Difference> = (0..30).map(|k| d(DiffKind::Missing, &format!("User u{k}"))).collect();
        diffs.push(d(DiffKind::Active, "User a"));
        diffs.push(d(DiffKind::MissingMember, "Group g"));
        let r = Reconciliation {
            checked: 40,
            counted: Default::default(),
            drift: diffs.len(),
            by_kind: count(&diffs),
            differences: diffs,
            unverified: 2,
            read_error: None,
            strangers: 0,
        };
        let counted = crate::simulate::reconcile::Counted {
            source_users: 20,
            expected_absent: 0,
            source_groups: 2,
            server_users: 17,
            server_groups: 1,
        };
        let line = checked_line(&Reconciliation { counted, ..r.clone() });
        assert_eq!(
            line,
            "reconciliation: 20 source user(s) and 2 group(s) compared with 17 user(s) and 1 group(s) read from the \
             server (40 objects), 32 difference(s)"
        );
        let counted = crate::simulate::reconcile::Counted { expected_absent: 3, ..counted };
        let line = checked_line(&Reconciliation { counted, ..r.clone() });
        assert!(
            line.starts_with(
                "reconciliation: 20 source user(s) (3 not expected on the server: out of scope, or deleted) and 2 \
                 group(s) compared with 17 user(s)"
            ),
            "{line}"
        );
        let s = summary(&r, 3);
        assert!(s.contains("  missing: 30\n    Missing: User u0"), "{s}");
        assert!(s.contains("User u2") && !s.contains("User u3:"), "{s}");
        assert!(s.contains("… and 27 more missing"), "{s}");
        assert!(s.contains("  attribute drift: 1\n    Active: User a"), "{s}");
        assert!(s.contains("  membership: 1\n"), "{s}");
        assert!(s.contains("  could not verify: 2 object(s)"), "{s}");
        assert!(!s.contains("extra") && !s.contains("manager"), "{s}");
    }
}
