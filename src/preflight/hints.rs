//! The likely mistakes behind a failed connection, each recognised by its own sign and named with its fix: a base
//! URL without a scheme, one that ends in a resource endpoint, `https://` to a port that speaks plain HTTP, and a
//! token given with its `Bearer ` prefix (which scimcheck adds itself).

/// The endpoints RFC 7644 §3.2 places under the base URI; a base URL ending in one of them makes every path wrong
/// (`…/Users/Users`).
pub const ENDPOINTS: [&str; 6] = ["Users", "Groups", "ServiceProviderConfig", "ResourceTypes", "Schemas", "Bulk"];

/// A base URL that is not an absolute `http://` or `https://` URL: the error, with the URL it probably meant.
pub fn scheme_problem(base_url: &str) -> Option<String> {
    let lower = base_url.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return None;
    }
    if let Some((scheme, _)) = base_url.split_once("://") {
        return Some(format!(
            "--base-url `{base_url}`: the scheme `{scheme}` is not HTTP; SCIM is spoken over https:// (or http:// for \
             local tests)"
        ));
    }
    Some(format!(
        "--base-url `{base_url}` has no scheme: give the whole URL, e.g. https://{base_url} (or http://{base_url} for a \
         server without TLS)"
    ))
}

/// A base URL whose path ends in a resource endpoint (`…/scim/v2/Users`): the hint to drop that segment, naming the
/// base it probably meant (RFC 7644 §3.2: endpoints are relative to the base URI).
pub fn endpoint_suffix(base_url: &str) -> Option<String> {
    let (without_query, _) = base_url.split_once('?').unwrap_or((base_url, ""));
    let path = without_query.trim_end_matches('/');
    let (rest, last) = path.rsplit_once('/')?;
    let endpoint = ENDPOINTS.iter().find(|e| e.eq_ignore_ascii_case(last))?;
    if rest.ends_with(':') || rest.ends_with("/") {
        return None;
    }
    Some(format!(
        "the base URL ends in /{last}: give the SCIM base without it ({rest}); scimcheck appends /{endpoint} and the \
         other endpoints itself (RFC 7644 §3.2)"
    ))
}

/// The hint for a TLS client that met a plain-HTTP server ([`crate::exchange::TlsCause::PlainHttpPeer`]): use
/// `http://` or the HTTPS port. `None` for a URL that is not `https://`.
pub fn plain_http(url: &str) -> Option<String> {
    let base = as_http_base(url)?;
    Some(format!(
        "the server answered plain HTTP, not TLS, on this port: use http:// in the base URL ({base}), or the port \
         where it speaks HTTPS"
    ))
}

/// The hint for a server that closed the connection during the TLS handshake without a TLS alert
/// ([`crate::exchange::TlsCause::ClosedDuringHandshake`]): what a plain-HTTP server does when it reads the
/// client's TLS hello as a malformed request and hangs up (python's `http.server`, many frameworks' development
/// servers). A TLS server refusing a handshake sends an alert first (RFC 8446 §6.2), so the hint names plain HTTP
/// rather than certificates. `None` for a URL that is not `https://`.
pub fn closed_during_handshake(url: &str) -> Option<String> {
    let base = as_http_base(url)?;
    Some(format!(
        "the server closed the connection during the TLS handshake without a TLS alert, as a server speaking plain \
         HTTP on this port does: try http:// in the base URL ({base}), or the port where it speaks HTTPS"
    ))
}

/// An `https://` preflight URL as the `http://` base URL it probably meant (without `/Users?…`).
fn as_http_base(url: &str) -> Option<String> {
    if !url.to_ascii_lowercase().starts_with("https://") {
        return None;
    }
    let http = format!("http://{}", &url["https://".len()..]);
    Some(http.split("/Users?").next().unwrap_or(&http).to_string())
}

/// An `Authorization` value in which the scheme is doubled (`Bearer Bearer …`, from `--token "Bearer …"`): the
/// hint to give the bare token.
pub fn doubled_prefix(authorization: &str) -> Option<String> {
    let mut words = authorization.split_whitespace();
    let (first, second) = (words.next()?, words.next()?);
    if !first.eq_ignore_ascii_case(second)
        || !["bearer", "basic", "ssws"].contains(&first.to_ascii_lowercase().as_str())
    {
        return None;
    }
    Some(format!(
        "the token already starts with `{second} ` and scimcheck adds that prefix itself, so the server got `{first} \
         {second} …`: give the bare token (or the whole header with --auth-header '{second} …')"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_mistake_is_recognised_with_its_fix() {
        let e = scheme_problem("localhost:8080/scim/v2").unwrap();
        assert!(e.contains("has no scheme") && e.contains("https://localhost:8080/scim/v2"), "{e}");
        assert!(scheme_problem("ftp://h/scim").unwrap().contains("`ftp`"));
        assert_eq!(scheme_problem("HTTPS://h/scim"), None);

        let h = endpoint_suffix("https://h/scim/v2/Users/").unwrap();
        assert!(h.contains("ends in /Users") && h.contains("(https://h/scim/v2)"), "{h}");
        assert!(endpoint_suffix("https://h/scim/v2/serviceproviderconfig?x=1")
            .unwrap()
            .contains("/ServiceProviderConfig"));
        assert_eq!(endpoint_suffix("https://h/scim/v2"), None);
        assert_eq!(endpoint_suffix("https://users"), None);

        let p = plain_http("https://127.0.0.1:8080/v2/Users?startIndex=1&count=2").unwrap();
        assert!(p.contains("plain HTTP") && p.contains("http://127.0.0.1:8080/v2)"), "{p}");
        assert_eq!(plain_http("http://h/Users"), None);

        let c = closed_during_handshake("https://h:8000/v2/Users?startIndex=1").unwrap();
        assert!(c.contains("plain HTTP") && c.contains("try http:// in the base URL (http://h:8000/v2)"), "{c}");
        assert_eq!(closed_during_handshake("http://h/Users"), None);

        assert!(doubled_prefix("Bearer Bearer abc").unwrap().contains("give the bare token"));
        assert!(doubled_prefix("bearer BEARER abc").is_some());
        assert_eq!(doubled_prefix("Bearer abc"), None);
        assert_eq!(doubled_prefix("Bearer"), None);
    }
}
