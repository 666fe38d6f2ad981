//! "Did you mean …?" for a mistyped name: the one known name within a small edit distance of what was written.

/// The most edits (insertions, deletions, substitutions) a name may be away from what was written to be offered
/// as what was meant.
const CLOSE: usize = 2;

/// The edit (Levenshtein) distance between `a` and `b`, counted in characters.
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// The one name of `known` closest to `written`, when it is at most 2 edits away (and closer than any other);
/// `None` when none is, or two are equally close.
pub fn closest<'a>(written: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut ranked: Vec<(usize, &str)> = known.into_iter().map(|k| (distance(written, k), k)).collect();
    ranked.sort();
    match ranked.as_slice() {
        [(d, k), rest @ ..] if *d <= CLOSE && rest.first().is_none_or(|(d2, _)| d2 > d) => Some(k),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_close_name_is_offered_and_a_far_or_tied_one_is_not() {
        assert_eq!(distance("jobz", "jobs"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
        let keys = ["jobs", "idp", "timeout", "tags", "base-url"];
        assert_eq!(closest("jobz", keys), Some("jobs"));
        assert_eq!(closest("base_url", keys), Some("base-url"));
        assert_eq!(closest("concurrency", keys), None);
        assert_eq!(closest("ab", ["aa", "bb"]), None, "a tie names neither");
    }
}
