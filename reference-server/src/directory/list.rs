//! List queries (RFC 7644 §3.4.2): filter, sort and page over a tenant, with the secondary indexes when a
//! filter pins an indexed attribute.

use super::*;

/// A list request, shared by GET on a resource endpoint and POST `.search` (RFC 7644 §3.4.2, §3.4.3).
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// The `filter` expression as sent (RFC 7644 §3.4.2.2); parsed when the page is computed.
    pub filter: Option<String>,
    /// 1-based; values below 1 are treated as 1 (RFC 7644 §3.4.2.4).
    pub start_index: Option<i64>,
    /// Negative values are treated as 0; values above `max_results` are capped.
    pub count: Option<i64>,
    /// The `sortBy` attribute path (RFC 7644 §3.4.2.3).
    pub sort_by: Option<String>,
    /// `sortOrder=descending` (RFC 7644 §3.4.2.3); ascending otherwise.
    pub descending: bool,
    /// Set when the response leaves out the membership attribute — a user's derived `groups` (RFC 7643
    /// §4.1.2), a group's `members` (§4.2) — through `attributes`/`excludedAttributes` (RFC 7644 §3.4.2.5),
    /// so the page is rendered without it. Ignored when the filter or `sortBy` names that attribute.
    pub omit_membership: bool,
}

impl ListQuery {
    /// Whether the filter pins `id`, `externalId` or the kind's name attribute (`userName`, `displayName`)
    /// with `eq`, so that the store answers it from an index (RFC 7644 §3.4.2.2) and the work is bounded
    /// by the few matches rather than by the collection. A filter that does not parse is not indexed.
    pub fn is_indexed_lookup(&self, kind: ResourceKind) -> bool {
        let Some(Ok(f)) = self.filter.as_deref().map(filter::parse) else { return false };
        ["id", name_attribute(kind), "externalId"].iter().any(|a| filter::indexed_eq(&f, a).is_some())
    }

    /// Whether the filter or `sortBy` may name `attr`: a case-insensitive search of their text, so a false
    /// "yes" costs only rendering what was not needed.
    pub(super) fn names(&self, attr: &str) -> bool {
        let attr = attr.to_ascii_lowercase();
        [&self.filter, &self.sort_by].into_iter().flatten().any(|t| t.to_ascii_lowercase().contains(&attr))
    }
}

/// One page of results with the total number of matches.
#[derive(Debug, Clone)]
pub struct ListPage {
    /// `totalResults`: how many resources match, across all pages (RFC 7644 §3.4.2).
    pub total_results: usize,
    /// `startIndex`: the 1-based position of the first resource of this page (RFC 7644 §3.4.2.4).
    pub start_index: usize,
    /// The page's resources, each with its kind, rendered (`Resources`).
    pub resources: Vec<(ResourceKind, Value)>,
}

impl Directory {
    /// Switches on the column of the members filters read most (module `store::hot`) of each kind this list
    /// filters without pinning `id`, the name attribute or `externalId` (no index answers it: every record is
    /// read), so this scan and later ones read the column; a directory never listed that way keeps none. A
    /// write lock that cannot be had at once under the no-waiting rule leaves the column off for this scan.
    fn keep_columns_for(&self, kinds: &[ResourceKind], filters: &[Option<&Filter>]) -> ScimResult<()> {
        for (kind, f) in kinds.iter().zip(filters) {
            let Some(f) = f else { continue };
            if ["id", name_attribute(*kind), "externalId"].iter().any(|a| filter::indexed_eq(f, a).is_some()) {
                continue;
            }
            if !self.read_state()?.store.column_off(*kind) {
                continue;
            }
            let guard = match NO_WAIT.get() {
                true => self.state.try_write_for(SHORT_WAIT),
                false => Some(self.state.write()),
            };
            if let Some(mut st) = guard {
                st.store.keep_column(*kind);
            }
        }
        Ok(())
    }

    /// Lists resources of one or more kinds (RFC 7644 §3.4.2): filter, then sort, then page.
    /// Without `sortBy` the order is creation order, so `startIndex` paging never skips or repeats.
    pub fn list(&self, kinds: &[ResourceKind], query: &ListQuery) -> ScimResult<ListPage> {
        let parsed = match &query.filter {
            Some(f) if !f.trim().is_empty() => Some(filter::parse(f).map_err(|e| e.into_filter_error())?),
            _ => None,
        };
        let filters: Vec<Option<&Filter>> = match &parsed {
            Some(parsed) => {
                let mut out = Vec::new();
                let mut first_err = None;
                for k in kinds {
                    match filter::validate(parsed, k.resource_type()) {
                        Ok(()) => out.push(Some(parsed)),
                        Err(e) => {
                            first_err.get_or_insert(e);
                            out.push(None);
                        }
                    }
                }
                if out.iter().all(Option::is_none) {
                    return Err(first_err.unwrap_or_else(|| ScimError::InvalidFilter("invalid filter".into())));
                }
                out
            }
            _ => kinds.iter().map(|_| None).collect(),
        };
        let unfiltered = query.filter.as_ref().is_none_or(|f| f.trim().is_empty());
        let sort = match &query.sort_by {
            Some(s) if !s.trim().is_empty() => {
                let path = filter::parse_attr_path(s.trim()).map_err(|e| {
                    ScimError::InvalidValue(format!("sortBy: {} at position {}", e.message, e.position))
                })?;
                let known = kinds
                    .iter()
                    .any(|k| k.resource_type().resolve(path.urn.as_deref(), &path.name, path.sub.as_deref()).is_some());
                if !known {
                    return Err(ScimError::InvalidValue(format!("sortBy: unknown attribute '{s}'")));
                }
                Some(path)
            }
            _ => None,
        };
        let start = query.start_index.unwrap_or(1).max(1) as usize;
        let count =
            query.count.unwrap_or(self.config.max_results as i64).clamp(0, self.config.max_results as i64) as usize;

        self.keep_columns_for(kinds, &filters)?;
        let st = self.read_state()?;
        let mut total = 0usize;
        let mut page: Vec<(ResourceKind, Value)> = Vec::new();
        let mut all: Vec<(ResourceKind, Value)> = Vec::new();
        let window = (start - 1)..(start - 1).saturating_add(count);
        for (kind, f) in kinds.iter().zip(filters.iter()) {
            let rt = kind.resource_type();
            if f.is_none() && !unfiltered {
                continue;
            }
            let candidates: Box<dyn Iterator<Item = &Record>> = match f.as_ref().and_then(|f| planned(&st, *kind, f)) {
                Some(records) => Box::new(records.into_iter()),
                None => st.store.scan(*kind),
            };
            let names_membership = query.names(membership_attribute(*kind));
            let membership = !query.omit_membership || names_membership;
            if unfiltered && sort.is_none() {
                // Straight to the page when the store knows where it starts (`Store::visible_from`).
                let skip = window.start.saturating_sub(total);
                if let Some((visible, from)) = st.store.visible_from(*kind, skip) {
                    let wanted = window.end.saturating_sub(total.saturating_add(skip));
                    for rec in from.take(wanted) {
                        page.push((
                            *kind,
                            if membership { st.render(*kind, rec)? } else { st.render_without_membership(*kind, rec)? },
                        ));
                    }
                    total += visible;
                    continue;
                }
            }
            // The keys the filter reads, when it cannot name the derived membership attribute (module `scan`).
            let keys = f.filter(|_| !names_membership).map(|f| scan::FilterKeys::of(f, rt));
            // The same filter evaluated on each record's text, when it compiles (module `textmatch`).
            let text_filter = f.filter(|_| keys.is_some()).and_then(|f| textmatch::TextFilter::of(f, rt));
            for rec in candidates.filter(|r| !r.hidden) {
                if f.is_none() && sort.is_none() && !window.contains(&total) {
                    // Unfiltered and unsorted: count without parsing what is outside the page.
                    total += 1;
                    continue;
                }
                let decided = match (f, &keys) {
                    (Some(f), Some(keys)) => {
                        let hit = match text_filter.as_ref().map(|t| st.text_matches(*kind, rec, t)) {
                            Some(Ok(hit)) => hit,
                            _ => {
                                st.may_match(*kind, rec, f)
                                    && filter::matches(f, &st.filter_view(*kind, rec, keys)?, rt)
                            }
                        };
                        if !hit {
                            continue;
                        }
                        if sort.is_none() && !window.contains(&total) {
                            // A match outside the page: counted, never rendered.
                            total += 1;
                            continue;
                        }
                        true
                    }
                    _ => false,
                };
                let body = match membership {
                    true => st.render(*kind, rec)?,
                    false => st.render_without_membership(*kind, rec)?,
                };
                if let Some(f) = f.filter(|_| !decided) {
                    if !filter::matches(f, &body, rt) {
                        continue;
                    }
                }
                if sort.is_some() {
                    all.push((*kind, body));
                } else if window.contains(&total) {
                    page.push((*kind, body));
                }
                total += 1;
            }
        }
        if let Some(path) = &sort {
            all.sort_by(|(ka, a), (kb, b)| {
                let ord = match ka.resource_type().resolve(path.urn.as_deref(), &path.name, path.sub.as_deref()) {
                    Some(r) => {
                        let va = filter::select(a, ka.resource_type(), path);
                        let vb = filter::select(b, kb.resource_type(), path);
                        filter::compare_for_sort(r.leaf(), va.first().copied(), vb.first().copied())
                    }
                    None => std::cmp::Ordering::Equal,
                };
                if query.descending {
                    ord.reverse()
                } else {
                    ord
                }
            });
            page = all.into_iter().skip(start - 1).take(count).collect();
        }
        Ok(ListPage { total_results: total, start_index: start, resources: page })
    }
}

/// The attribute that lists a resource's memberships: a user's derived `groups` (RFC 7643 §4.1.2), a group's
/// `members` (§4.2).
pub fn membership_attribute(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::User => "groups",
        ResourceKind::Group => "members",
    }
}

/// The attribute the store indexes as a resource's name: `userName` (RFC 7643 §4.1.1), `displayName` (§4.2).
pub(super) fn name_attribute(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::User => "userName",
        ResourceKind::Group => "displayName",
    }
}

/// Uses a secondary index when the filter pins an indexed attribute with `eq` (RFC 7644 §3.4.2.2); the
/// full filter is still evaluated on the candidates.
pub(super) fn planned<'s>(st: &'s State, kind: ResourceKind, f: &Filter) -> Option<Vec<&'s Record>> {
    let name_attr = name_attribute(kind);
    if let Some(v) = filter::indexed_eq(f, "id") {
        return Some(parse_id(v).and_then(|id| st.store.get(kind, &id)).into_iter().collect());
    }
    if let Some(v) = filter::indexed_eq(f, name_attr) {
        return Some(st.store.lookup(kind, Index::Name, v));
    }
    if let Some(v) = filter::indexed_eq(f, "externalId") {
        return Some(st.store.lookup(kind, Index::ExternalId, v));
    }
    None
}
