//! Public links for the sources scenarios cite: RFC sections, GitHub issues and documents, Microsoft Q&A threads.
//!
//! Only what the text names unambiguously becomes a link; anything else (notes without a link, unnamed exports) stays
//! plain text.

use std::sync::OnceLock;

use regex::Regex;

use serde::{Deserialize, Serialize};

/// A public link for a cited source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Link {
    /// The cited text (`RFC 7644 §3.5.2`).
    pub label: String,
    /// Its public URL.
    pub url: String,
}

/// Turns a match into its URL.
type ToUrl = fn(&regex::Captures<'_>) -> String;

fn patterns() -> &'static [(Regex, ToUrl)] {
    static P: OnceLock<Vec<(Regex, ToUrl)>> = OnceLock::new();
    P.get_or_init(|| {
        let rfc: ToUrl = |c| match c.get(2) {
            Some(sec) => format!("https://www.rfc-editor.org/rfc/rfc{}#section-{}", &c[1], sec.as_str()),
            None => format!("https://www.rfc-editor.org/rfc/rfc{}", &c[1]),
        };
        let issue: ToUrl = |c| format!("https://github.com/{}/{}/issues/{}", &c[1], &c[2], &c[3]);
        let qna: ToUrl = |c| format!("https://learn.microsoft.com/en-us/answers/questions/{}", &c[1]);
        let gh_file: ToUrl = |c| format!("https://github.com/{}/{}/blob/{}/{}", &c[1], &c[2], &c[4], &c[3]);
        vec![
            (Regex::new(r"RFC ?(\d{4})(?: ?§ ?(\d+(?:\.\d+)*))?").expect("valid"), rfc),
            (Regex::new(r"\b([A-Za-z0-9][\w.-]*)/([\w.-]+)#(\d+)").expect("valid"), issue),
            (Regex::new(r"Microsoft Q&A (\d+)").expect("valid"), qna),
            (
                Regex::new(r"\b([A-Za-z0-9][\w.-]*)/([\w.-]+) ([\w./-]+\.md) @([0-9a-f]{7,40})\b").expect("valid"),
                gh_file,
            ),
        ]
    })
}

/// The public links for what `text` cites, in order of appearance, without duplicates.
pub fn links(text: &str) -> Vec<Link> {
    let mut found: Vec<(usize, Link)> = Vec::new();
    for (re, url) in patterns() {
        for c in re.captures_iter(text) {
            let whole = c.get(0).expect("match");
            let link = Link { label: whole.as_str().to_string(), url: url(&c) };
            if !found.iter().any(|(_, l)| l.url == link.url) {
                found.push((whole.start(), link));
            }
        }
    }
    found.sort_by_key(|(at, _)| *at);
    found.into_iter().map(|(_, l)| l).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_sections_issues_qna_and_documents_become_links() {
        let l = links(
            "Captain-P-Goldfish/SCIM-SDK#686 and Microsoft Q&A 188003; RFC 7643 §4.1.1 (userName); RFC 7644 §3.4.2.2; \
             RFC 7644; (MicrosoftDocs/entra-docs docs/identity/app-provisioning/use-scim.md @03cc779)",
        );
        let urls: Vec<&str> = l.iter().map(|l| l.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://github.com/Captain-P-Goldfish/SCIM-SDK/issues/686",
                "https://learn.microsoft.com/en-us/answers/questions/188003",
                "https://www.rfc-editor.org/rfc/rfc7643#section-4.1.1",
                "https://www.rfc-editor.org/rfc/rfc7644#section-3.4.2.2",
                "https://www.rfc-editor.org/rfc/rfc7644",
                "https://github.com/MicrosoftDocs/entra-docs/blob/03cc779/docs/identity/app-provisioning/use-scim.md",
            ]
        );
        assert_eq!(l[2].label, "RFC 7643 §4.1.1");
        assert!(links("docs/okta.md §2 'Group push'").is_empty());
    }
}
