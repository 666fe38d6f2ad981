//! A conservative test of a filter against a record's stored JSON text, run before the record is parsed and
//! rendered: a scan over a tenant parses only the records that may match, instead of every record.
//!
//! [`may_match`] answers `false` only when no rendering of the text can satisfy the filter under
//! [`crate::filter::matches`] (RFC 7644 §3.4.2.2); every `true` is confirmed by rendering and matching, so
//! the verdict of a list is the same with or without this test. The reasoning per term:
//!
//! - `eq`, `co`, `sw`, `ew` with a string value: a value satisfying any of them contains the comparison
//!   value, under Unicode lowercase when the attribute is not `caseExact`. When the stored text's only escapes
//!   are `\"` and `\\`, every run of a string without `"` and `\` appears literally. Unicode lowercase maps every non-ASCII character to non-ASCII
//!   characters except two (U+0130 `İ` → `i̇`, U+212A `K` → `k`; [`LOWERCASE_TO_ASCII`]), so when the text has
//!   neither, a value's lowercase contains an ASCII string only where the value itself contains it up to ASCII
//!   case, and the string's absence from the text (ASCII case-insensitively) rules the term out. Not used
//!   for a value that parses as an RFC 3339 date-time (a `dateTime` attribute compares instants, so
//!   `2026-01-01T01:00:00+01:00` equals `2026-01-01T00:00:00Z`), nor for values with `"`, `\` or control
//!   characters (escaped in JSON), nor for the empty string (contained everywhere).
//! - `eq true` / `eq false`: a boolean attribute matches the JSON literal or the strings "true"/"false" in any
//!   case (RFC 7643 §2.3.2); any other type never matches a boolean. Either way the word is in the text.
//! - `and` needs both sides, `or` either; a value path (`emails[...]`) needs its inner filter, whose values
//!   are in the text too. Everything else (`ne`, `gt`/`ge`/`lt`/`le`, numbers, `null`, `pr`, `not`) may match.
//!
//! The caller applies it only where the stored text is the whole rendered resource: not to a record whose
//! `meta` was touched after its text was written, not to a user whose portal extension adds attributes, and
//! not when the filter may name the membership attribute (`groups`, `members`), which rendering derives.

use chrono::DateTime;
use serde_json::Value;

use crate::filter::{CompareOp, Filter};

/// The non-ASCII characters whose Unicode lowercase (Rust's `char::to_lowercase`, which the filter uses)
/// contains an ASCII character: `İ` (U+0130) and the Kelvin sign (U+212A). A test checks every character.
pub(super) const LOWERCASE_TO_ASCII: [char; 2] = ['\u{130}', '\u{212A}'];

/// Whether the stored text can be screened at all: its only JSON escapes are `\"` and `\\` (a comparison
/// value screened holds neither character, so its occurrences lie between escapes, verbatim — the stored
/// `meta.version` is `W/\"<n>\"`), and it has no character of [`LOWERCASE_TO_ASCII`].
pub(super) fn screenable(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(i) = memchr::memchr(b'\\', &bytes[from..]) {
        match bytes.get(from + i + 1) {
            Some(b'"' | b'\\') => from += i + 2,
            _ => return false,
        }
    }
    text.is_ascii() || LOWERCASE_TO_ASCII.iter().all(|c| !text.contains(*c))
}

/// `false` only when `filter` cannot match the resource rendered from `texts` — its compact JSON, and the
/// JSON text of any attribute rendering adds (see the module documentation). Each text must satisfy
/// [`screenable`].
pub(super) fn may_match(filter: &Filter, texts: &[&str]) -> bool {
    match filter {
        Filter::And(a, b) => may_match(a, texts) && may_match(b, texts),
        Filter::Or(a, b) => may_match(a, texts) || may_match(b, texts),
        Filter::ValuePath { filter, .. } => may_match(filter, texts),
        Filter::Compare { op, value, .. } => match needle(*op, value) {
            Some(n) => texts.iter().any(|t| contains_ignore_ascii_case(t.as_bytes(), n.as_bytes())),
            None => true,
        },
        Filter::Not(_) | Filter::Present(_) => true,
    }
}

/// The text every value matching `op value` contains, if there is one that can be searched for verbatim.
fn needle(op: CompareOp, value: &Value) -> Option<&str> {
    match (op, value) {
        (CompareOp::Eq, Value::Bool(true)) => Some("true"),
        (CompareOp::Eq, Value::Bool(false)) => Some("false"),
        (CompareOp::Eq | CompareOp::Co | CompareOp::Sw | CompareOp::Ew, Value::String(s))
            if !s.is_empty()
                && s.bytes().all(|b| b.is_ascii() && b >= 0x20 && b != b'"' && b != b'\\')
                && DateTime::parse_from_rfc3339(s).is_err() =>
        {
            Some(s)
        }
        _ => None,
    }
}

/// Whether `needle` (ASCII) occurs in `hay` ignoring ASCII case.
fn contains_ignore_ascii_case(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else { return true };
    if hay.len() < needle.len() {
        return false;
    }
    let (lo, up) = (first.to_ascii_lowercase(), first.to_ascii_uppercase());
    let last_start = hay.len() - needle.len();
    let mut from = 0;
    while from <= last_start {
        let Some(i) = memchr::memchr2(lo, up, &hay[from..=last_start]) else { return false };
        let at = from + i;
        if hay[at + 1..at + needle.len()].eq_ignore_ascii_case(rest) {
            return true;
        }
        from = at + 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::parse;

    fn may(f: &str, text: &str) -> bool {
        assert!(screenable(text));
        may_match(&parse(f).unwrap(), &[text])
    }

    #[test]
    fn searches_case_insensitively_and_only_where_a_match_needs_the_text() {
        let text = r#"{"userName":"Ann.Smith@Corp.example","active":true,"emails":[{"type":"work"}]}"#;
        assert!(may(r#"userName sw "ann.s""#, text));
        assert!(!may(r#"userName sw "bob""#, text));
        assert!(may(r#"emails[type eq "WORK" and value co "@corp"]"#, text));
        assert!(!may(r#"emails[type eq "home"]"#, text));
        assert!(may(r#"active eq true"#, text));
        assert!(!may(r#"active eq false"#, text));
        assert!(may(r#"not (userName eq "bob")"#, text), "not is never screened");
        assert!(may(r#"userName ne "bob""#, text));
        assert!(may(r#"userName eq "bob" or title pr"#, text));
        assert!(!may(r#"userName eq "bob" and title pr"#, text));
        assert!(may(r#"meta.lastModified eq "2030-01-01T00:00:00Z""#, text), "instants compare, not text");
        assert!(may(r#"userName co """#, text));
        let f = parse(r#"userName eq "bob" and title eq "boss""#).unwrap();
        assert!(may_match(&f, &[r#"{"title":"Boss"}"#, r#"{"userName":"bob"}"#]), "either text may hold a value");
        assert!(!may_match(&f, &[r#"{"title":"Boss"}"#, r#"{"userName":"al"}"#]));
    }

    #[test]
    fn text_with_escapes_or_characters_lowercasing_to_ascii_is_not_screenable() {
        assert!(screenable(r#"{"userName":"a\"b\\","meta":{"version":"W/\"3\""}}"#), "quotes and backslashes");
        assert!(!screenable(r#"{"userName":"\u0041nn"}"#), "a \\u escape hides the character");
        assert!(!screenable(r#"{"userName":"a\/b"}"#));
        assert!(screenable(r#"{"userName":"a\\u0041"}"#), "an escaped backslash then u is no \\u escape");
        assert!(!may(r#"userName co "A/B""#, r#"{"userName":"a\\/b"}"#));
        assert!(!screenable("{\"userName\":\"\u{212A}elvin\"}"), "the Kelvin sign lowercases to ASCII k");
        assert!(!screenable("{\"userName\":\"\u{130}stanbul\"}"));
        assert!(screenable(r#"{"userName":"kelvin"}"#));
        assert!(screenable(r#"{"userName":"Björn.Müller"}"#));
        assert!(may(r#"userName co "rn.m""#, r#"{"userName":"Björn.Müller"}"#));
    }

    #[test]
    fn exactly_two_non_ascii_characters_lowercase_to_something_with_ascii() {
        let found: Vec<char> = ('\u{80}'..=char::MAX).filter(|c| c.to_lowercase().any(|l| l.is_ascii())).collect();
        assert_eq!(found, LOWERCASE_TO_ASCII);
    }

    #[test]
    fn substring_search_finds_matches_at_the_edges() {
        assert!(contains_ignore_ascii_case(b"abc", b"ABC"));
        assert!(contains_ignore_ascii_case(b"xxabc", b"bC"));
        assert!(contains_ignore_ascii_case(b"aab", b"ab"));
        assert!(!contains_ignore_ascii_case(b"ab", b"abc"));
        assert!(!contains_ignore_ascii_case(b"a-b", b"ab"));
    }
}
