//! Which request parts carry credentials, and how a recording keeps them out of what it writes.
//!
//! A credential travels in a header (`Authorization`, RFC 9110 §11.6.2; `Cookie`; an API key header) or in the
//! query string (`access_token`, RFC 6750 §2.3; an `api_key`). The recorder never stores such a value: a
//! credential header is dropped from the flow, a credential-named query parameter is left out of the recorded
//! query, and every value seen is kept in memory as a secret so that every file written is scrubbed of it
//! wherever it appears (a response body or a `Location` that echoes it).

/// Exact names (lower-case, `-` and `_` removed) of headers and query parameters that carry a credential.
const CREDENTIAL_NAMES: &[&str] = &[
    "authorization",
    "proxyauthorization",
    "cookie",
    "key",
    "auth",
    "code",
    "sig",
    "signature",
    "jwt",
    "assertion",
    "clientassertion",
];

/// Name endings (after the same folding) that mark a credential: `access_token`, `X-Auth-Token`, `api_key`,
/// `x-api-key`, `client_secret`, `password`, `X-Amz-Signature`, `sessionid`.
const CREDENTIAL_SUFFIXES: &[&str] = &["token", "secret", "apikey", "password", "passwd", "signature", "sessionid"];

/// Whether a header or query parameter name carries a credential (case-insensitive; `-` and `_` ignored, so
/// `access_token`, `accessToken` and `Access-Token` are one name).
pub fn is_credential_name(name: &str) -> bool {
    let folded: String = name.chars().filter(|c| *c != '-' && *c != '_').map(|c| c.to_ascii_lowercase()).collect();
    CREDENTIAL_NAMES.contains(&folded.as_str()) || CREDENTIAL_SUFFIXES.iter().any(|s| folded.ends_with(s))
}

/// The values shorter than this are not kept as secrets (a redactor would match them as common words).
const MIN_SECRET: usize = 4;

/// A raw (still encoded) query string without its credential-named parameters; the values removed are pushed
/// to `secrets`, raw and decoded. Other parameters are kept byte for byte (their space encoding included).
pub fn scrub_query(query: &str, secrets: &mut Vec<String>) -> String {
    let mut kept = Vec::new();
    for part in query.split('&') {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let name = super::decode_query(k).into_iter().next().map(|(n, _)| n).unwrap_or_default();
        if is_credential_name(&name) {
            let decoded = super::decode_query(&format!("v={v}")).into_iter().next().map(|(_, v)| v).unwrap_or_default();
            for s in [v.to_string(), decoded] {
                if s.len() >= MIN_SECRET && !secrets.contains(&s) {
                    secrets.push(s);
                }
            }
        } else {
            kept.push(part);
        }
    }
    kept.join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_names_are_recognised_in_every_spelling() {
        for n in [
            "access_token",
            "accessToken",
            "Access-Token",
            "api_key",
            "apiKey",
            "X-API-Key",
            "client_secret",
            "password",
            "X-Auth-Token",
            "key",
            "X-Amz-Signature",
            "Authorization",
            "cookie",
        ] {
            assert!(is_credential_name(n), "{n}");
        }
        for n in [
            "filter",
            "startIndex",
            "count",
            "attributes",
            "excludedAttributes",
            "sortBy",
            "sortOrder",
            "cursor",
            "aadOptscim062020",
            "content-type",
            "user-agent",
            "accept",
            "x-request-id",
        ] {
            assert!(!is_credential_name(n), "{n}");
        }
    }

    #[test]
    fn credential_parameters_leave_the_query_and_become_secrets() {
        let mut secrets = Vec::new();
        let q = scrub_query(
            "filter=userName+eq+%22a%20b%22&access_token=tok%2Fabc123&count=1&API_KEY=k-998877",
            &mut secrets,
        );
        assert_eq!(q, "filter=userName+eq+%22a%20b%22&count=1");
        assert_eq!(secrets, vec!["tok%2Fabc123", "tok/abc123", "k-998877"]);
        assert_eq!(scrub_query("aadOptscim062020", &mut secrets), "aadOptscim062020");
        assert_eq!(scrub_query("token=", &mut Vec::new()), "");
    }
}
