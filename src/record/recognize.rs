//! Which IdP sent a capture, and which Entra PATCH dialect, from the User-Agent and the request shapes.
//!
//! Each clue adds to one IdP's score; the larger total wins and every clue is kept as evidence for the
//! scenario's description. Sources: research okta.md §2 (Okta's headers, placeholder password, path-less
//! PATCH, `startIndex`/`count` on lookups, `%20`), azure.md §1–§3 (capitalised ops, `excludedAttributes=members`,
//! the ADSCIM group schema, `"$ref": null` members, `+` in filters, the `ADSCIMVersion` header) and §2 (the
//! `aadOptscim062020` flag and the shapes it changes).

use serde_json::Value;

use super::proxy::IdpChoice;
use super::{decode_query, Flow};
use crate::scenario::Idp;

/// Entra's PATCH dialect (azure.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntraDialect {
    /// Without the flag: `Add`/`Replace`/`Remove`, `"False"` strings, member removal by value array.
    Default,
    /// With `aadOptscim062020`: lower-case ops, booleans, `members[value eq "…"]` removal, path-less
    /// multi-attribute replace.
    AadOptscim062020,
}

/// The verdict with its evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recognized {
    /// The IdP.
    pub idp: Idp,
    /// For Entra: the PATCH dialect, when a request showed it.
    pub dialect: Option<EntraDialect>,
    /// What gave it away, one clue per entry.
    pub evidence: Vec<String>,
}

/// The query flag that switches Entra to the RFC-compliant PATCH dialect (azure.md §2).
pub const AAD_OPT_FLAG: &str = "aadOptscim062020";

/// The Microsoft schema URN Entra adds to group creates (azure.md §1, body B).
const ADSCIM_GROUP: &str = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";

/// Recognises the IdP of `flows`; `choice` other than `auto` forces it (the dialect is still detected).
pub fn recognize(flows: &[Flow], choice: IdpChoice) -> Recognized {
    let mut okta = 0u32;
    let mut azure = 0u32;
    let mut evidence: Vec<String> = Vec::new();
    let mut note = |e: String| {
        if !evidence.contains(&e) {
            evidence.push(e);
        }
    };
    let mut flag = false;
    let mut lower_ops = false;
    let mut capital_ops = false;
    for f in flows {
        if let Some(ua) = f.request_header("user-agent") {
            let l = ua.to_ascii_lowercase();
            if l.contains("okta") {
                okta += 10;
                note(format!("User-Agent `{ua}`"));
            } else if ["microsoft", "azure", "entra", "aad"].iter().any(|k| l.contains(k)) {
                azure += 10;
                note(format!("User-Agent `{ua}`"));
            }
        }
        if f.request_header("adscimversion").is_some() {
            azure += 5;
            note("`ADSCIMVersion` header".into());
        }
        let params = decode_query(&f.query);
        if params.iter().any(|(k, _)| k == AAD_OPT_FLAG) {
            azure += 10;
            flag = true;
            note(format!("`{AAD_OPT_FLAG}` in the query"));
        }
        if params.iter().any(|(k, v)| k == "excludedAttributes" && v == "members") {
            azure += 2;
            note("`excludedAttributes=members` on group reads".into());
        }
        let has_filter = params.iter().any(|(k, _)| k == "filter");
        if has_filter && params.iter().any(|(k, _)| k == "startIndex") && params.iter().any(|(k, _)| k == "count") {
            okta += 2;
            note("lookups carry `startIndex` and `count`".into());
        }
        if has_filter {
            if f.query.contains('+') {
                azure += 1;
                note("`+` for spaces in filters".into());
            } else if f.query.contains("%20") {
                okta += 1;
                note("`%20` for spaces in filters".into());
            }
        }
        let Some(body) = f.request_body.json() else { continue };
        let schemas: Vec<&str> =
            body.get("schemas").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        if schemas.contains(&ADSCIM_GROUP) {
            azure += 5;
            note("the ADSCIM group schema URN".into());
        }
        if f.method == "POST" && f.path.ends_with("/Users") && body.get("password").is_some() {
            okta += 3;
            note("a placeholder `password` on user creation".into());
        }
        for op in operations(&body) {
            let name = op.get("op").and_then(Value::as_str).unwrap_or("");
            if ["Add", "Replace", "Remove"].contains(&name) {
                azure += 3;
                capital_ops = true;
                note(format!("PATCH op `{name}`"));
            } else if ["add", "replace", "remove"].contains(&name) {
                lower_ops = true;
            }
            let path = op.get("path").and_then(Value::as_str);
            if let Some(v) = op.get("value") {
                if path.is_none() && v.get("id").is_some() && v.get("displayName").is_some() {
                    okta += 3;
                    note("group rename PATCH carrying `id`".into());
                }
                if v.as_array().is_some_and(|a| a.iter().any(|m| m.get("$ref").is_some_and(Value::is_null))) {
                    azure += 2;
                    note("members sent with `\"$ref\": null`".into());
                }
                if path.is_none()
                    && v.as_object().is_some_and(|o| o.keys().any(|k| k.contains('.') || k.starts_with("urn:")))
                {
                    azure += 2;
                    lower_ops = true;
                    note("path-less replace with dotted keys".into());
                }
            }
        }
    }
    let idp = match choice {
        IdpChoice::Okta => Idp::Okta,
        IdpChoice::Azure => Idp::Azure,
        IdpChoice::Auto if okta == 0 && azure == 0 => Idp::Rfc,
        IdpChoice::Auto if azure > okta => Idp::Azure,
        IdpChoice::Auto => Idp::Okta,
    };
    let dialect =
        (idp == Idp::Azure && (flag || capital_ops || lower_ops)).then_some(if flag || (lower_ops && !capital_ops) {
            EntraDialect::AadOptscim062020
        } else {
            EntraDialect::Default
        });
    Recognized { idp, dialect, evidence }
}

/// The PATCH operations of a body (`Operations`, case-insensitively).
pub fn operations(body: &Value) -> Vec<Value> {
    body.as_object()
        .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case("operations")))
        .and_then(|(_, v)| v.as_array().cloned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::CapturedBody;

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
        ];
        let r = recognize(&f, IdpChoice::Auto);
        assert_eq!(r.idp, Idp::Okta);
        assert_eq!(r.dialect, None);
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
        let r = recognize(&default, IdpChoice::Auto);
        assert_eq!((r.idp, r.dialect), (Idp::Azure, Some(EntraDialect::Default)));
        let flagged = [flow("GET", "/Groups", "aadOptscim062020&excludedAttributes=members", None, None)];
        let r = recognize(&flagged, IdpChoice::Auto);
        assert_eq!((r.idp, r.dialect), (Idp::Azure, Some(EntraDialect::AadOptscim062020)));
    }

    #[test]
    fn nothing_recognisable_is_plain_rfc_unless_forced() {
        let f = [flow("GET", "/Users/1", "", Some("curl/8"), None)];
        assert_eq!(recognize(&f, IdpChoice::Auto).idp, Idp::Rfc);
        assert_eq!(recognize(&f, IdpChoice::Azure).idp, Idp::Azure);
    }
}
