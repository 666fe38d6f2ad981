//! The request target a recording proxy may forward: a path that stays below the upstream's base path.
//!
//! An IdP sends paths such as `/Users/abc` below the SCIM base URI. A path with dot segments (RFC 3986 §3.3,
//! removed by the algorithm of §5.2.4) could climb out of the upstream's base path — `/../../admin` — and reach
//! another API with the client's credential. Servers and frameworks disagree on what a dot segment is, so the
//! proxy reads it the widest way: `.` and `..` also when written `%2e`/`%2E` (RFC 3986 §2.3: an unreserved
//! character percent-encoded is the same character), with a `;parameter` after it (servlet containers drop
//! those), and with `\`, `%5c` or `%2f` as separators (WHATWG URL treats `\` as `/` for http, some servers
//! decode `%2f`/`%5c` before routing). A path that would leave the base under any of these readings is refused;
//! one that stays below it is forwarded with its dot segments removed.

/// Why a path was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escapes;

/// `path` (the raw, still percent-encoded path of a request, starting with `/`) with its dot segments removed
/// (RFC 3986 §5.2.4) and `\` read as `/`, or [`Escapes`] when some reading of it climbs above its root.
///
/// Examples: `/Users/./a` → `/Users/a`; `/Users/../Groups` → `/Groups`; `/../admin`, `/%2e%2e/admin`,
/// `/Users/..%2f..%2fadmin`, `/..;/admin` and `\..\admin` → [`Escapes`].
pub fn normalise(path: &str) -> Result<String, Escapes> {
    let slashes = path.replace('\\', "/");
    // the widest reading: encoded slashes and backslashes are separators too
    let mut wide = String::with_capacity(slashes.len());
    let mut rest = slashes.as_str();
    while let Some(i) = rest.find('%') {
        wide.push_str(&rest[..i]);
        let code = rest.get(i + 1..i + 3).unwrap_or("");
        if code.eq_ignore_ascii_case("2f") || code.eq_ignore_ascii_case("5c") {
            wide.push('/');
            rest = &rest[i + 3..];
        } else {
            wide.push('%');
            rest = &rest[i + 1..];
        }
    }
    wide.push_str(rest);
    resolve(&wide)?;
    resolve(&slashes)
}

/// What a segment means for dot-segment removal: `.`, `..`, or a name.
fn dots(segment: &str) -> Option<usize> {
    let bare = segment.split(';').next().unwrap_or("");
    let decoded = bare.replace("%2e", ".").replace("%2E", ".");
    match decoded.as_str() {
        "." => Some(1),
        ".." => Some(2),
        _ => None,
    }
}

fn resolve(path: &str) -> Result<String, Escapes> {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
    let mut trailing = false;
    for (i, seg) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match dots(seg) {
            Some(1) => trailing = last,
            Some(_) => {
                if out.pop().is_none() {
                    return Err(Escapes);
                }
                trailing = last;
            }
            None => {
                out.push(seg);
                trailing = false;
            }
        }
    }
    let mut s = format!("/{}", out.join("/"));
    if trailing && !s.ends_with('/') {
        s.push('/');
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_below_the_base_are_kept_or_normalised() {
        assert_eq!(normalise("/Users/abc").unwrap(), "/Users/abc");
        assert_eq!(normalise("/Users/./abc").unwrap(), "/Users/abc");
        assert_eq!(normalise("/Users/../Groups").unwrap(), "/Groups");
        assert_eq!(normalise("/Users/%2E%2E/Groups/").unwrap(), "/Groups/");
        assert_eq!(normalise("/").unwrap(), "/");
        assert_eq!(normalise("/Users/a.b/..c").unwrap(), "/Users/a.b/..c");
        assert_eq!(normalise("/Users/a%2Fb").unwrap(), "/Users/a%2Fb");
    }

    #[test]
    fn every_spelling_of_a_climb_out_is_refused() {
        for p in [
            "/..",
            "/../admin",
            "/../../../../admin/tenants",
            "/%2e%2e/admin",
            "/%2E%2E/admin",
            "/.%2e/admin",
            "/Users/../../admin",
            "/Users/..%2f..%2fadmin",
            "/Users/..%5C..%5Cadmin",
            "\\..\\admin",
            "/..\\admin",
            "/..;/admin",
            "/Users/..;x=1/..;/admin",
        ] {
            assert_eq!(normalise(p), Err(Escapes), "{p}");
        }
    }
}
