//! The SCIM base URI and the one way request URLs are made from it.
//!
//! RFC 7644 §3.2 places every endpoint below the base URI (`<base>/Users`). A base URI may carry its own query,
//! which every request keeps: Microsoft Entra's tenant URL takes feature flags that way (`?aadOptscim062020`,
//! docs/entra.md §2), and the service behind it reads the flag on each request. The base's query comes first,
//! then the request's own parameters, joined with `&` (RFC 3986 §3.4: the query is one opaque component; its
//! `&`-separated pairs are the `application/x-www-form-urlencoded` convention).

/// A base URI split into the part paths are appended to (no trailing `/`) and its own query (without `?`;
/// `None` when absent or empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUri {
    base: String,
    query: Option<String>,
}

impl BaseUri {
    /// Splits `base_url` at its first `?`; trailing slashes of the path part are dropped so that `join` never
    /// doubles them. No validation: the caller checked the URL (a scheme problem is preflight's to report).
    pub fn new(base_url: &str) -> BaseUri {
        let (base, query) = match base_url.split_once('?') {
            Some((b, q)) => (b, Some(q).filter(|q| !q.is_empty())),
            None => (base_url, None),
        };
        BaseUri { base: base.trim_end_matches('/').to_string(), query: query.map(str::to_string) }
    }

    /// The part paths are appended to: the base URI without its query and without trailing slashes
    /// (`https://h/scim/?aadOptscim062020` → `https://h/scim`).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `<base><path>?<base query>&<query>`: `path` starts with `/` (`/Users/abc`), `query` is already encoded
    /// (`startIndex=1&count=2`, `""` for none); either query part may be absent, and no `?` is written when both
    /// are.
    pub fn join(&self, path: &str, query: &str) -> String {
        let mut url = format!("{}{path}", self.base);
        let parts: Vec<&str> = self.query.as_deref().into_iter().chain(Some(query).filter(|q| !q.is_empty())).collect();
        if !parts.is_empty() {
            url.push('?');
            url.push_str(&parts.join("&"));
        }
        url
    }

    /// The URL of the connection test sent before anything else: `<base>/Users?startIndex=1&count=2`, keeping
    /// the base URI's own query (Okta's "Test API Credentials" request, docs/okta.md §2; RFC 7644 §3.4.2.4 paging).
    pub fn connection_test(&self) -> String {
        self.join("/Users", "startIndex=1&count=2")
    }
}

/// Decodes a query string into ordered pairs (`+` and `%20` both become a space).
pub fn decode_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode_component(k), decode_component(v))
        })
        .collect()
}

fn decode_component(s: &str) -> String {
    let plus = s.replace('+', " ");
    percent_encoding::percent_decode_str(&plus).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_keeps_the_base_query_first_and_never_doubles_separators() {
        let entra = BaseUri::new("https://h/scim/?aadOptscim062020");
        assert_eq!(entra.join("/Users", "filter=x"), "https://h/scim/Users?aadOptscim062020&filter=x");
        assert_eq!(entra.join("/Users/1", ""), "https://h/scim/Users/1?aadOptscim062020");
        let plain = BaseUri::new("http://h/scim/v2//");
        assert_eq!(plain.join("/Users", ""), "http://h/scim/v2/Users");
        assert_eq!(plain.join("/Users", "startIndex=1&count=2"), "http://h/scim/v2/Users?startIndex=1&count=2");
        assert_eq!(BaseUri::new("http://h/scim?").join("/Groups", ""), "http://h/scim/Groups");
    }
}
