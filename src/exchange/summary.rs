//! A non-JSON response body as a person reads it in a terminal: its media type, its size and what it is about,
//! never the page itself.
//!
//! A proxy's `502 Bad Gateway` page or a framework's 404 page can be kilobytes of markup and style sheets; printed
//! under every failed step, it buries the verdicts. [`describe`] turns such a body into one bounded line —
//! `text/html, 2,345 bytes, title "502 Bad Gateway"` — while the JSON report keeps the (bounded, redacted) body
//! itself. A SCIM body is JSON (RFC 7644 §3.1, §8.1); anything else is summarised.

/// Characters of a plain-text excerpt or a title [`describe`] keeps.
pub const EXCERPT: usize = 120;

/// One line describing a non-JSON body: `media type, N bytes` followed by, for markup (HTML or XML), its
/// `<title>` (else its first `<h1>`) as `, title "…"`, and for other text its first non-blank line as `: "…"`.
///
/// `content_type` is the response's `Content-Type` header (parameters dropped; `no content-type` when absent),
/// `text` what was kept of the body (possibly only its start), `size` the bytes received. The title or excerpt
/// has control characters removed, runs of whitespace collapsed and is cut at [`EXCERPT`] characters, so the
/// line stays short whatever the server sends.
pub fn describe(content_type: Option<&str>, text: &str, size: usize) -> String {
    let media = content_type
        .and_then(|ct| ct.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "no content-type".into());
    let head = format!("{media}, {} bytes", thousands(size));
    if is_markup(&media, text) {
        return match element_text(text, "title").or_else(|| element_text(text, "h1")) {
            Some(title) => format!("{head}, title \"{title}\""),
            None => head,
        };
    }
    match text.lines().map(clean).find(|l| !l.is_empty()) {
        Some(line) => format!("{head}: \"{line}\""),
        None => head,
    }
}

/// `2345` → `2,345`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Whether the body is markup: an HTML or XML media type, or text that opens with a tag.
fn is_markup(media: &str, text: &str) -> bool {
    media.contains("html") || media.contains("xml") || text.trim_start().starts_with('<')
}

/// The text of the first `<name …>…</name>` element (case-insensitive), cleaned; `None` when absent or empty.
fn element_text(text: &str, name: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let open = format!("<{name}");
    let mut from = 0;
    while let Some(at) = lower[from..].find(&open).map(|i| from + i) {
        let after = at + open.len();
        // `<title>` or `<title lang=…>`, not `<titles>`
        if lower[after..].starts_with(['>', ' ', '\t', '\r', '\n']) {
            let start = after + lower[after..].find('>')? + 1;
            let end = lower[start..].find(&format!("</{name}")).map_or(text.len(), |i| start + i);
            let inner = clean(&strip_tags(&text[start..end]));
            return (!inner.is_empty()).then_some(inner);
        }
        from = after;
    }
    None
}

/// Text with its tags removed.
fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// Control characters dropped, whitespace runs collapsed to one space, cut at [`EXCERPT`] characters (`…` marks
/// the cut).
fn clean(s: &str) -> String {
    let words: Vec<&str> = s.split(|c: char| c.is_whitespace() || c.is_control()).filter(|w| !w.is_empty()).collect();
    let joined = words.join(" ");
    match joined.char_indices().nth(EXCERPT) {
        Some((i, _)) => format!("{}…", &joined[..i]),
        None => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_html_page_is_its_type_size_and_title() {
        let page = format!(
            "<!DOCTYPE html>\n<html><head><TITLE>502 Bad\n  Gateway</TITLE><style>{}</style></head><body><h1>x</h1></body></html>",
            "body{color:red}".repeat(200)
        );
        assert_eq!(
            describe(Some("text/html; charset=UTF-8"), &page, 2345),
            "text/html, 2,345 bytes, title \"502 Bad Gateway\""
        );
        // no title: the first heading; neither: type and size alone
        assert_eq!(
            describe(Some("text/html"), "<html><body><h1 class=\"e\">Whitelabel <b>Error</b> Page</h1>", 60),
            "text/html, 60 bytes, title \"Whitelabel Error Page\""
        );
        assert_eq!(describe(Some("text/html"), "<html><body><p>nothing</p>", 26), "text/html, 26 bytes");
        // markup without a content-type is still not printed
        assert_eq!(describe(None, "<html><titles>x</titles>", 24), "no content-type, 24 bytes");
    }

    #[test]
    fn other_text_is_its_first_line_bounded() {
        assert_eq!(describe(Some("text/plain"), "\n  conflict\nmore", 17), "text/plain, 17 bytes: \"conflict\"");
        let long = format!("{}\u{1b}[31m", "a".repeat(1000));
        let line = describe(Some("text/plain"), &long, 1_000_005);
        assert!(line.starts_with("text/plain, 1,000,005 bytes: \"aaa"), "{line}");
        assert!(line.chars().count() < EXCERPT + 40, "{line}");
        assert!(!line.contains('\u{1b}'), "{line:?}");
        assert_eq!(describe(Some("text/plain"), "   ", 3), "text/plain, 3 bytes");
        let title = describe(Some("text/html"), &format!("<title>{}</title>", "t".repeat(500)), 515);
        assert!(title.chars().count() < EXCERPT + 40, "{title}");
    }

    #[test]
    fn sizes_group_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
