//! IdP profiles: the headers, credential style, filter encoding and response content types each IdP uses.
//!
//! A profile is applied to every step of a scenario of that IdP; the scenario's `headers` and a step's
//! `request.headers` override it (a `null` value removes a profile header).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use regex::Regex;

use serde::{Deserialize, Serialize};

use crate::exchange::SpaceEncoding;
use crate::idp::Idp;
use crate::scenario::Level;

/// How the run's token is put in the `Authorization` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum AuthStyle {
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// `Authorization: <token>` (Okta's "Header" auth mode).
    Raw,
}

/// One IdP's request conventions.
#[derive(Debug, Clone)]
pub struct Profile {
    /// Which IdP.
    pub idp: Idp,
    /// Headers sent on every request.
    pub headers: Vec<(&'static str, &'static str)>,
    /// Headers sent only with a request body.
    pub body_headers: Vec<(&'static str, &'static str)>,
    /// Default credential style.
    pub auth_style: AuthStyle,
    /// What a step with `"auth": "invalid"` sends as the whole `Authorization` value.
    pub invalid_credential: &'static str,
    /// Space encoding in query values.
    pub space: SpaceEncoding,
    /// Regular expression a JSON response's Content-Type must match for this IdP to accept it.
    pub response_content_type: &'static str,
    /// Why that content type (shown in failures).
    pub content_type_source: &'static str,
    /// The level a wrong Content-Type is reported at when the IdP states it below MUST (Entra: "should", so an
    /// observation); `None`: the step's level, a failure.
    pub content_type_level: Option<Level>,
}

impl Profile {
    /// The profile of `idp`.
    pub fn of(idp: Idp) -> Profile {
        match idp {
            // docs/okta.md §2 (<https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20>): production
            // Okta headers. Accept-Encoding is not sent because a conformance run must read the raw body.
            Idp::Okta => Profile {
                idp,
                headers: vec![
                    ("Accept", "application/scim+json"),
                    ("Accept-Charset", "utf-8"),
                    ("Content-Type", "application/scim+json; charset=utf-8"),
                    ("User-Agent", "Okta SCIM Client 1.0.0"),
                ],
                body_headers: vec![],
                auth_style: AuthStyle::Bearer,
                invalid_credential: "non-token",
                space: idp.space_encoding(),
                response_content_type: r"^application/(scim\+)?json\b",
                content_type_source: "Okta parses application/scim+json and application/json (docs/okta.md §4.6)",
                content_type_level: None,
            },
            // docs/entra.md §1, §3, §4: `+` in filters, bearer token, scim+json required on every response
            // (the SCIM Validator aborts on application/json).
            Idp::Entra => Profile {
                idp,
                headers: vec![
                    ("Accept", "application/scim+json"),
                    ("User-Agent", "scimcheck (Microsoft Entra ID profile)"),
                ],
                body_headers: vec![("Content-Type", "application/scim+json; charset=utf-8")],
                auth_style: AuthStyle::Bearer,
                invalid_credential: "Bearer invalid-token",
                space: idp.space_encoding(),
                response_content_type: r"^application/scim\+json\b",
                content_type_source:
                    "Microsoft's SCIM tutorial: responses should carry Content-Type application/scim+json (docs/entra.md §4)",
                content_type_level: Some(Level::Should),
            },
            Idp::Rfc => Profile {
                idp,
                headers: vec![
                    ("Accept", "application/scim+json"),
                    ("User-Agent", concat!("scimcheck/", env!("CARGO_PKG_VERSION"))),
                ],
                body_headers: vec![("Content-Type", "application/scim+json")],
                auth_style: AuthStyle::Bearer,
                invalid_credential: "Bearer invalid-token",
                space: idp.space_encoding(),
                response_content_type: r"^application/scim\+json\b",
                content_type_source: "RFC 7644 §3.1: SCIM responses use application/scim+json",
                content_type_level: None,
            },
        }
    }

    /// The request headers for a step: profile, then scenario overrides, then step overrides (`None` removes).
    /// Names are compared case-insensitively; the returned names keep the spelling that set them.
    pub fn headers_for(
        &self,
        has_body: bool,
        scenario: &BTreeMap<String, Option<String>>,
        step: &BTreeMap<String, Option<String>>,
    ) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let mut set = |name: &str, value: Option<&str>| {
            out.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            if let Some(v) = value {
                out.push((name.to_string(), v.to_string()));
            }
        };
        for (n, v) in &self.headers {
            set(n, Some(v));
        }
        if has_body {
            for (n, v) in &self.body_headers {
                set(n, Some(v));
            }
        }
        for (n, v) in scenario.iter().chain(step) {
            set(n, v.as_deref());
        }
        out
    }

    /// Encodes query parameters the way this IdP does.
    pub fn encode_query(&self, params: &[(String, String)]) -> String {
        params
            .iter()
            .map(|(k, v)| format!("{}={}", self.encode_component(k), self.encode_component(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    fn encode_component(&self, s: &str) -> String {
        use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
        // RFC 3986 unreserved characters stay as they are.
        const SET: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
        let encoded = utf8_percent_encode(s, SET).to_string();
        match self.space {
            SpaceEncoding::Percent20 => encoded,
            SpaceEncoding::Plus => encoded.replace("%20", "+"),
        }
    }

    /// Whether a response Content-Type is one this IdP accepts (regular expressions compiled once).
    pub fn accepts_content_type(&self, content_type: &str) -> bool {
        static RES: OnceLock<Vec<(Idp, Regex)>> = OnceLock::new();
        let res = RES.get_or_init(|| {
            Idp::ALL
                .iter()
                .map(|i| (*i, Regex::new(Profile::of(*i).response_content_type).expect("valid regex")))
                .collect()
        });
        let lower = content_type.to_ascii_lowercase();
        res.iter().any(|(i, re)| *i == self.idp && re.is_match(&lower))
    }

    /// The `Authorization` value for a token in `style`.
    pub fn authorization(style: AuthStyle, token: &str) -> String {
        match style {
            AuthStyle::Bearer => format!("Bearer {token}"),
            AuthStyle::Raw => token.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(v: &str) -> Vec<(String, String)> {
        vec![("filter".into(), v.into()), ("count".into(), "1".into())]
    }

    #[test]
    fn okta_encodes_spaces_as_percent20_and_azure_as_plus() {
        let f = r#"userName eq "test.user@okta.local""#;
        assert_eq!(
            Profile::of(Idp::Okta).encode_query(&q(f)),
            "filter=userName%20eq%20%22test.user%40okta.local%22&count=1"
        );
        assert_eq!(
            Profile::of(Idp::Entra).encode_query(&q(f)),
            "filter=userName+eq+%22test.user%40okta.local%22&count=1"
        );
    }

    #[test]
    fn step_headers_override_and_remove_profile_headers() {
        let p = Profile::of(Idp::Okta);
        let mut scenario = BTreeMap::new();
        scenario.insert("User-Agent".to_string(), Some("OKTA SCIM Integration".to_string()));
        let mut step = BTreeMap::new();
        step.insert("content-type".to_string(), Some("application/json".to_string()));
        step.insert("Accept-Charset".to_string(), None);
        let h = p.headers_for(true, &scenario, &step);
        let get = |n: &str| h.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)).map(|(_, v)| v.as_str());
        assert_eq!(get("user-agent"), Some("OKTA SCIM Integration"));
        assert_eq!(get("Content-Type"), Some("application/json"));
        assert_eq!(get("Accept-Charset"), None);
        assert_eq!(get("Accept"), Some("application/scim+json"));
    }

    #[test]
    fn auth_styles() {
        assert_eq!(Profile::authorization(AuthStyle::Bearer, "t"), "Bearer t");
        assert_eq!(Profile::authorization(AuthStyle::Raw, "t"), "t");
    }
}
