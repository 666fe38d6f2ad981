//! Which IdP sent a capture, and in which dialect: the recorder's flows read by the one recogniser,
//! [`crate::idp::recognise_capture`] (request shapes, User-Agent, Entra's `ADSCIMVersion` header and
//! `aadOptscim062020` flag, the space encoding of filters), which keeps every clue as evidence for the scenario's
//! description.

use super::Flow;
use crate::idp::{self, CapturedRequest, Idp};

pub use crate::idp::Recognized;

/// Recognises the IdP of `flows`; `choice` (an IdP rather than `None`, the recorder's `--idp auto`) forces the
/// IdP (the dialect is still detected).
pub fn recognize(flows: &[Flow], choice: Option<Idp>) -> Recognized {
    let requests = flows.iter().map(|f| CapturedRequest {
        method: &f.method,
        path: &f.path,
        query: &f.query,
        user_agent: f.request_header("user-agent"),
        adscim_version: f.request_header("adscimversion").is_some(),
        body: f.request_body.json(),
    });
    idp::recognise_capture(requests, choice)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idp::{Dialect, EntraDialect, OktaAppKind};
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
