//! Okta's import (`GET /Users` and `/Groups` page by page after the initial cycle) against a server whose
//! paging lies: the same page forever, a `totalResults` of 10^12, pages that never end. RFC 7644 §3.4.2.4:
//! `startIndex` is the 1-based index of the first result of the page, `totalResults` the number of results
//! the query matches; so consecutive pages carry new resources, and the resources add up to `totalResults`.
//!
//! [`ImportGuard`] follows the pages and stops — naming the defect — on a page that repeats an earlier one, a
//! page that brings no new resource, an empty page before `totalResults` is reached, or once more resources
//! or pages were read than the model can explain ([`ImportGuard::new`]).

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};

use serde_json::Value;

use crate::idp::get_ci;

/// What to do after a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Read the page starting here.
    Page(usize),
    /// The collection is read.
    Done,
    /// Reading stopped: the paging defect, citing the rule it breaks.
    Defect(String),
}

/// Follows the import pages of one collection.
#[derive(Debug)]
pub struct ImportGuard {
    collection: &'static str,
    seen: HashSet<String>,
    pages: HashSet<u64>,
    read: usize,
    max_resources: usize,
    max_pages: usize,
}

impl ImportGuard {
    /// A guard for `collection` when the model holds `objects` users and groups and pages hold `page`
    /// resources: at most `4 × objects + 10,000` resources (the server may hold objects the simulation did not
    /// make) and as many pages as those fill, plus 100.
    pub fn new(collection: &'static str, objects: usize, page: usize) -> ImportGuard {
        let max_resources = objects.saturating_mul(4).saturating_add(10_000);
        ImportGuard {
            collection,
            seen: HashSet::new(),
            pages: HashSet::new(),
            read: 0,
            max_resources,
            max_pages: max_resources / page.max(1) + 100,
        }
    }

    /// Judges the page read at `start` (its JSON body) and says what comes next.
    pub fn after(&mut self, start: usize, body: Option<&Value>) -> Next {
        let c = self.collection;
        let total = body.and_then(|j| get_ci(j, "totalResults")).and_then(Value::as_u64).unwrap_or(0);
        let resources: &[Value] =
            body.and_then(|j| get_ci(j, "Resources")).and_then(Value::as_array).map_or(&[], Vec::as_slice);
        self.read += 1;
        if resources.is_empty() {
            if (self.seen.len() as u64) < total && total - self.seen.len() as u64 > resources.len() as u64 {
                return Next::Defect(format!(
                    "GET /{c}: totalResults {total}, but the page at startIndex {start} is empty after {} resources \
                     (RFC 7644 §3.4.2.4: totalResults is the number of results the query matches); import stopped",
                    self.seen.len()
                ));
            }
            return Next::Done;
        }
        let keys: Vec<String> = resources
            .iter()
            .map(|r| get_ci(r, "id").and_then(Value::as_str).map_or_else(|| r.to_string(), str::to_string))
            .collect();
        let mut h = DefaultHasher::new();
        keys.hash(&mut h);
        if !self.pages.insert(h.finish()) {
            return Next::Defect(format!(
                "GET /{c}: the page at startIndex {start} repeats an earlier page (RFC 7644 §3.4.2.4: startIndex is \
                 the index of the page's first result, so pages do not repeat); import stopped after {} pages",
                self.read
            ));
        }
        let before = self.seen.len();
        self.seen.extend(keys);
        if self.seen.len() == before {
            return Next::Defect(format!(
                "GET /{c}: the page at startIndex {start} brings no resource not already returned (RFC 7644 \
                 §3.4.2.4); import stopped after {} pages",
                self.read
            ));
        }
        if self.seen.len() > self.max_resources || self.read >= self.max_pages {
            return Next::Defect(format!(
                "GET /{c}: more than {} resources or {} pages (totalResults {total}), far more than the {} the \
                 simulation can explain; the paging does not end (RFC 7644 §3.4.2.4); import stopped",
                self.max_resources,
                self.max_pages,
                self.max_resources.saturating_sub(10_000) / 4
            ));
        }
        let next = start.saturating_add(resources.len());
        if next as u64 > total {
            Next::Done
        } else {
            Next::Page(next)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn page(ids: &[&str], total: u64) -> Value {
        json!({"totalResults": total, "Resources": ids.iter().map(|i| json!({"id": i})).collect::<Vec<_>>()})
    }

    #[test]
    fn honest_paging_ends_where_total_results_says() {
        let mut g = ImportGuard::new("Users", 10, 2);
        assert_eq!(g.after(1, Some(&page(&["a", "b"], 3))), Next::Page(3));
        assert_eq!(g.after(3, Some(&page(&["c"], 3))), Next::Done);
        let mut g = ImportGuard::new("Users", 10, 2);
        assert_eq!(g.after(1, Some(&page(&[], 0))), Next::Done);
    }

    #[test]
    fn every_lie_of_the_paging_is_named() {
        let mut g = ImportGuard::new("Users", 10, 2);
        assert_eq!(g.after(1, Some(&page(&["a", "b"], 1_000_000_000))), Next::Page(3));
        let Next::Defect(d) = g.after(3, Some(&page(&["a", "b"], 1_000_000_000))) else { panic!() };
        assert!(d.contains("repeats an earlier page") && d.contains("RFC 7644 §3.4.2.4"), "{d}");

        let mut g = ImportGuard::new("Users", 10, 2);
        g.after(1, Some(&page(&["a", "b"], 10)));
        let Next::Defect(d) = g.after(3, Some(&page(&["b", "a"], 10))) else { panic!() };
        assert!(d.contains("no resource not already returned"), "{d}");

        let mut g = ImportGuard::new("Groups", 10, 2);
        g.after(1, Some(&page(&["a"], 1_000_000_000_000)));
        let Next::Defect(d) = g.after(2, Some(&page(&[], 1_000_000_000_000))) else { panic!() };
        assert!(d.contains("totalResults 1000000000000") && d.contains("empty"), "{d}");

        let mut g = ImportGuard::new("Users", 0, 100);
        let mut start = 1;
        let defect = loop {
            let ids: Vec<String> = (0..100).map(|k| format!("r{}", start + k)).collect();
            let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
            match g.after(start, Some(&page(&refs, u64::MAX))) {
                Next::Page(n) => start = n,
                Next::Defect(d) => break d,
                Next::Done => panic!("endless pages cannot be done"),
            }
        };
        assert!(defect.contains("does not end") && start < 20_000, "{defect}");
    }
}
