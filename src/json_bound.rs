//! A bound on the work of parsing one JSON body, by its structure rather than its bytes: a 10 MiB body of
//! 3.4 million empty arrays (`[[],[],…]`) costs tens of bytes of memory per element once parsed into a
//! `serde_json::Value`, and peaked at 609 MiB. Before a body is parsed, a cheap scan (constant memory, one
//! pass) counts its values; a body with more than [`MAX_JSON_VALUES`] is not parsed, and the step's verdict
//! names the bound.

/// The most JSON values (objects, arrays, strings, numbers, literals) a response body may hold to be parsed:
/// 1,000,000. A page of 1,000 users holds about 40,000; a group of 100,000 members about 400,000.
pub const MAX_JSON_VALUES: usize = 1_000_000;

/// How [`refused`] begins.
pub const REFUSED: &str = "[a JSON body of more than";

/// What a body over the bound is kept as, instead of its text: the reports and the judged step say why it was
/// not parsed.
pub fn refused(values_over: usize) -> String {
    format!(
        "{REFUSED} {values_over} values: not parsed (scimcheck's bound on the parsing work of one \
         body, {MAX_JSON_VALUES} values; README \"Bounded memory\")]"
    )
}

/// Whether `bytes` (a JSON text) holds more than `max` values: the root, plus each non-empty container's
/// elements or members (its commas plus one). Strings are skipped (a comma or bracket inside one is not
/// counted). Stops at the first byte past the bound; exact for a valid text.
///
/// Only a text that starts (after whitespace) with `{` or `[` is counted: anything else is no JSON container.
pub fn exceeds(bytes: &[u8], max: usize) -> bool {
    if !matches!(bytes.iter().find(|b| !b.is_ascii_whitespace()), Some(b'{' | b'[')) {
        return false;
    }
    let (mut count, mut in_string, mut escape, mut opened) = (1usize, false, false, false);
    for &b in bytes {
        if opened && !b.is_ascii_whitespace() {
            opened = false;
            if b != b']' && b != b'}' {
                count += 1;
                if count > max {
                    return true;
                }
            }
        }
        if in_string {
            if escape {
                escape = false;
            } else if b == b'\\' {
                escape = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => opened = true,
            b',' => {
                count += 1;
                if count > max {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_counted_by_structure_not_bytes() {
        let arrays = format!("[{}[]]", "[],".repeat(999));
        assert!(!exceeds(arrays.as_bytes(), 1001));
        assert!(exceeds(arrays.as_bytes(), 1000));
        // brackets and commas inside strings are text
        assert!(!exceeds(br#"{"a": "[[[,,,]]]", "b": "\"[,"}"#, 4));
        // a large body of few values is no problem
        let long = format!("{{\"blob\": \"{}\"}}", "x".repeat(1 << 20));
        assert!(!exceeds(long.as_bytes(), 3));
        assert!(!exceeds("a,b,c,d,e".as_bytes(), 2), "CSV is no JSON container");
    }
}
