//! Following a paged list: the checks a `"pages": true` step applies across its pages.
//!
//! Okta's import reads `GET /Users?startIndex=1&count=100`, then adds `count` to `startIndex` while
//! `totalResults` says more remain (docs/okta.md §2 "Import paging"). Each page must therefore start where it
//! was asked to (RFC 7644 §3.4.2.4 `startIndex`), hold `count` resources unless fewer remain (a shorter page makes
//! Okta skip resources), report the same `totalResults` on every page and never list a resource twice (docs/okta.md
//! §2: "order must be stable"). Pure: the runner sends the requests.

use std::collections::HashSet;

use serde_json::Value;

use crate::check::{CheckId, Failure};
use crate::scenario::MAX_PAGES;

/// Where a page loop stands.
#[derive(Debug, Clone)]
pub struct PageCursor {
    start: u64,
    count: u64,
    total: Option<u64>,
    seen: HashSet<String>,
    page: u32,
}

impl PageCursor {
    /// A loop starting at `start` (1-based) with pages of `count`.
    pub fn new(start: u64, count: u64) -> PageCursor {
        PageCursor { start, count: count.max(1), total: None, seen: HashSet::new(), page: 0 }
    }

    /// The `startIndex` of the next request.
    pub fn start(&self) -> u64 {
        self.start
    }

    /// The 1-based number of the next page.
    pub fn page(&self) -> u32 {
        self.page + 1
    }

    /// Judges one page (its status and JSON body); returns what failed and whether another page follows.
    pub fn observe(&mut self, status: u16, body: Option<&Value>) -> (Vec<Failure>, bool) {
        self.page += 1;
        let mut out = Vec::new();
        if !(200..300).contains(&status) {
            return (out, false);
        }
        // each check names the ListResponse member it reads (RFC 7644 §3.4.2)
        let fail = |member: &str, check: &str, expected: String, actual: String| {
            Failure::new(check, expected, actual).with_id(CheckId::Pointer(member.into()))
        };
        let Some(total) = body.and_then(|b| crate::check::resolve(b, "/totalResults")).and_then(Value::as_u64) else {
            out.push(fail(
                "/totalResults",
                "pages: /totalResults",
                "an integer, so the IdP knows whether more pages remain (RFC 7644 §3.4.2)".into(),
                body.and_then(|b| crate::check::resolve(b, "/totalResults")).map_or("absent".into(), |v| v.to_string()),
            ));
            return (out, false);
        };
        if let Some(before) = self.total {
            if before != total {
                out.push(fail(
                    "/totalResults",
                    "pages: stable totalResults",
                    format!(
                        "{before}, as on the first page (docs/okta.md §2: Okta pages against one stable result set)"
                    ),
                    total.to_string(),
                ));
            }
        }
        self.total.get_or_insert(total);
        let echoed = body.and_then(|b| crate::check::resolve(b, "/startIndex")).and_then(Value::as_u64);
        // RFC 7644 §3.4.2: startIndex is REQUIRED only when the results are partial; a first page that holds them all
        // may leave it out
        let whole = self.start <= 1 && total <= self.count;
        if echoed != Some(self.start) && !(echoed.is_none() && whole) {
            out.push(fail(
                "/startIndex",
                "pages: /startIndex",
                format!("{} (the requested startIndex; RFC 7644 §3.4.2.4)", self.start),
                echoed.map_or("absent".into(), |v| v.to_string()),
            ));
        }
        let resources = body.and_then(|b| crate::check::resolve(b, "/Resources")).and_then(Value::as_array);
        let len = resources.map_or(0, Vec::len) as u64;
        let remaining = total.saturating_sub(self.start.saturating_sub(1));
        let expected = remaining.min(self.count);
        if len != expected {
            out.push(fail(
                "/Resources",
                "pages: page length",
                format!(
                    "{expected} resource(s): count={} with {remaining} remaining; Okta advances startIndex by count, \
                     so a shorter page skips resources (docs/okta.md §2 'Import paging')",
                    self.count
                ),
                format!("{len}"),
            ));
        }
        for id in resources.into_iter().flatten().filter_map(|r| r.get("id").and_then(Value::as_str)) {
            if !self.seen.insert(id.to_string()) {
                out.push(fail(
                    "/Resources",
                    "pages: each resource once",
                    "no resource on two pages (docs/okta.md §2: the order must be stable)".into(),
                    format!("{id} listed again on page {}", self.page),
                ));
            }
        }
        self.start += self.count;
        let more = self.start <= total;
        if more && self.page >= MAX_PAGES {
            out.push(Failure::new(
                "pages",
                format!("at most {MAX_PAGES} pages"),
                format!("totalResults {total} needs more; stopped"),
            ));
            return (out, false);
        }
        (out, more)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn page(total: u64, start: u64, ids: std::ops::Range<u64>) -> Value {
        let res: Vec<Value> = ids.map(|i| json!({"id": format!("u{i}")})).collect();
        json!({"totalResults": total, "startIndex": start, "itemsPerPage": res.len(), "Resources": res})
    }

    #[test]
    fn follows_pages_until_total_results() {
        let mut c = PageCursor::new(1, 2);
        assert_eq!(c.observe(200, Some(&page(5, 1, 0..2))), (vec![], true));
        assert_eq!(c.start(), 3);
        assert_eq!(c.observe(200, Some(&page(5, 3, 2..4))), (vec![], true));
        assert_eq!(c.observe(200, Some(&page(5, 5, 4..5))), (vec![], false));
        let mut empty = PageCursor::new(1, 100);
        assert_eq!(empty.observe(200, Some(&json!({"totalResults": 0, "startIndex": 1}))), (vec![], false));
    }

    #[test]
    fn short_pages_repeats_moving_totals_and_wrong_start_fail() {
        let mut c = PageCursor::new(1, 2);
        let (f, more) = c.observe(200, Some(&page(5, 1, 0..1)));
        assert!(more && f[0].check == "pages: page length", "{f:?}");
        let (f, _) = c.observe(200, Some(&page(6, 0, 0..2)));
        let checks: Vec<&str> = f.iter().map(|x| x.check.as_str()).collect();
        assert_eq!(checks, vec!["pages: stable totalResults", "pages: /startIndex", "pages: each resource once"]);
        let (f, more) = PageCursor::new(1, 2).observe(200, Some(&json!({"Resources": []})));
        assert!(!more && f[0].check == "pages: /totalResults");
        assert_eq!(PageCursor::new(1, 2).observe(500, None), (vec![], false));
    }

    /// RFC 7644 §3.4.2: `startIndex` and `itemsPerPage` are required only for partial results, and §3.4.2.4 an empty
    /// result may leave `Resources` out; RFC 7643 §2.1: member names in any case.
    #[test]
    fn a_single_whole_page_may_omit_start_index_and_names_may_differ_in_case() {
        let whole = json!({"totalResults": 2, "Resources": [{"id": "a"}, {"id": "b"}]});
        assert_eq!(PageCursor::new(1, 100).observe(200, Some(&whole)), (vec![], false));
        assert_eq!(PageCursor::new(1, 100).observe(200, Some(&json!({"totalResults": 0}))), (vec![], false));
        let upper = json!({"TotalResults": 2, "StartIndex": 1, "resources": [{"id": "a"}, {"id": "b"}]});
        assert_eq!(PageCursor::new(1, 100).observe(200, Some(&upper)), (vec![], false));
        // partial results still need it
        let (f, _) = PageCursor::new(1, 1).observe(200, Some(&json!({"totalResults": 2, "Resources": [{"id": "a"}]})));
        assert_eq!(f[0].check, "pages: /startIndex");
    }
}
