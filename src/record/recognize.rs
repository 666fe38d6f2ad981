//! Which IdP sent a capture, and in which dialect: the request shapes come from the one dialect definition
//! ([`crate::idp::recognise`]); what only a whole capture shows is added here — the User-Agent (docs/okta.md §2:
//! `Okta SCIM Client 1.0.0`), Entra's `ADSCIMVersion` header (docs/entra.md §3), the `aadOptscim062020` flag in the
//! query (docs/entra.md §2) and how spaces are encoded in filters (`+` for Entra, docs/entra.md §1; `%20` for Okta, docs/okta.md §2).
//!
//! Each clue adds to a dialect's score; the IdP with the larger total wins, then its best-scoring dialect when
//! the clues tell its variants apart. Every clue is kept as evidence for the scenario's description.

use super::{decode_query, Flow};
use crate::idp::{self, Dialect, EntraDialect};
use crate::scenario::{Idp, Method};

/// The verdict with its evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recognized {
    /// The IdP.
    pub idp: Idp,
    /// The dialect, when the capture tells the IdP's variants apart.
    pub dialect: Option<Dialect>,
    /// What gave it away, one clue per entry.
    pub evidence: Vec<String>,
}

const DIALECTS: [Dialect; 4] = Dialect::ALL;
const AAD_OPT_FLAG: &str = EntraDialect::FLAG;

fn method(m: &str) -> Option<Method> {
    Some(match m {
        "GET" => Method::GET,
        "POST" => Method::POST,
        "PUT" => Method::PUT,
        "PATCH" => Method::PATCH,
        "DELETE" => Method::DELETE,
        _ => return None,
    })
}

/// Recognises the IdP of `flows`; `choice` (an IdP rather than `None`, the recorder's `--idp auto`) forces the
/// IdP (the dialect is still detected).
pub fn recognize(flows: &[Flow], choice: Option<Idp>) -> Recognized {
    let mut scores = [0u32; 4];
    let mut entra_only = 0u32;
    let mut okta_only = 0u32;
    let mut evidence: Vec<String> = Vec::new();
    let mut note = |e: String| {
        if !evidence.contains(&e) {
            evidence.push(e);
        }
    };
    let at = |d: Dialect| DIALECTS.iter().position(|x| *x == d).expect("listed");
    for f in flows {
        if let Some(ua) = f.request_header("user-agent") {
            let l = ua.to_ascii_lowercase();
            if l.contains("okta") {
                okta_only += 10;
                note(format!("User-Agent `{ua}`"));
            } else if ["microsoft", "azure", "entra", "aad"].iter().any(|k| l.contains(k)) {
                entra_only += 10;
                note(format!("User-Agent `{ua}`"));
            }
        }
        if f.request_header("adscimversion").is_some() {
            entra_only += 5;
            note("`ADSCIMVersion` header (docs/entra.md §3)".into());
        }
        let params = decode_query(&f.query);
        if params.iter().any(|(k, _)| k == AAD_OPT_FLAG) {
            scores[at(Dialect::Entra(EntraDialect::AadOptscim062020))] += 10;
            note(format!("`{AAD_OPT_FLAG}` in the query (docs/entra.md §2)"));
        }
        if params.iter().any(|(k, _)| k == "filter") {
            if f.query.contains('+') {
                entra_only += 1;
                note("`+` for spaces in filters (docs/entra.md §1)".into());
            } else if f.query.contains("%20") {
                okta_only += 1;
                note("`%20` for spaces in filters (docs/okta.md §2)".into());
            }
        }
        let Some(m) = method(&f.method) else { continue };
        let query: Vec<(String, String)> = params.into_iter().filter(|(k, _)| k != AAD_OPT_FLAG).collect();
        let body = f.request_body.json();
        for e in idp::recognise(m, &f.path, &query, body.as_ref()) {
            scores[at(e.dialect)] += 3;
            note(e.rule.to_string());
        }
    }
    let entra = entra_only + scores[0] + scores[1];
    let okta = okta_only + scores[2] + scores[3];
    let idp = match choice {
        Some(idp) => idp,
        None if okta == 0 && entra == 0 => Idp::Rfc,
        None if entra > okta => Idp::Entra,
        None => Idp::Okta,
    };
    // the best variant of the IdP, when one scores more than the other
    let pick = |a: usize, b: usize| match scores[a].cmp(&scores[b]) {
        std::cmp::Ordering::Greater => Some(DIALECTS[a]),
        std::cmp::Ordering::Less => Some(DIALECTS[b]),
        std::cmp::Ordering::Equal => None,
    };
    let dialect = match idp {
        Idp::Entra => pick(0, 1),
        Idp::Okta => pick(2, 3),
        Idp::Rfc => None,
    };
    Recognized { idp, dialect, evidence }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idp::OktaAppKind;
    use crate::record::CapturedBody;
    use serde_json::Value;

    fn flow(method: &str, path: &str, query: &str, ua: Option<&str>, body: Option<Value>) -> Flow {
        Flow {
            started: chrono::Utc::now(),
            elapsed_ms: 1.0,
            method: method.into(),
            path: path.into(),
            query: query.into(),
            request_headers: ua.map(|u| vec![("user-agent".to_string(), u.to_string())]).unwrap_or_default(),
            credential: None,
            request_body: body.map(|b| CapturedBody::Text(b.to_string())).unwrap_or(CapturedBody::Empty),
            status: 200,
            response_headers: vec![],
            response_body: CapturedBody::Empty,
            error: None,
        }
    }

    #[test]
    fn okta_by_user_agent_and_shapes() {
        let f = [
            flow(
                "GET",
                "/Users",
                "filter=userName%20eq%20%22a%22&startIndex=1&count=100",
                Some("Okta SCIM Client 1.0.0"),
                None,
            ),
            flow("POST", "/Users", "", None, Some(serde_json::json!({"userName": "a", "password": "x1y2z3w4"}))),
            flow(
                "PATCH",
                "/Users/1",
                "",
                None,
                Some(serde_json::json!({"Operations": [{"op": "replace", "value": {"active": false}}]})),
            ),
        ];
        let r = recognize(&f, None);
        assert_eq!(r.idp, Idp::Okta);
        assert_eq!(r.dialect, Some(Dialect::Okta(OktaAppKind::Oin)));
        assert!(r.evidence.iter().any(|e| e.contains("Okta SCIM Client")), "{:?}", r.evidence);
    }

    #[test]
    fn entra_default_and_flagged_dialects_by_shape_alone() {
        let default = [flow(
            "PATCH",
            "/Users/1",
            "",
            None,
            Some(serde_json::json!({"Operations": [{"op": "Replace", "path": "active", "value": "False"}]})),
        )];
        let r = recognize(&default, None);
        assert_eq!((r.idp, r.dialect), (Idp::Entra, Some(Dialect::Entra(EntraDialect::Default))));
        let flagged = [flow("GET", "/Groups", "aadOptscim062020&excludedAttributes=members", None, None)];
        let r = recognize(&flagged, None);
        assert_eq!((r.idp, r.dialect), (Idp::Entra, Some(Dialect::Entra(EntraDialect::AadOptscim062020))));
    }

    #[test]
    fn nothing_recognisable_is_plain_rfc_unless_forced() {
        let f = [flow("GET", "/Users/1", "", Some("curl/8"), None)];
        assert_eq!(recognize(&f, None).idp, Idp::Rfc);
        assert_eq!(recognize(&f, Some(Idp::Entra)).idp, Idp::Entra);
    }
}
