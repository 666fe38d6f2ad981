//! The HTTP request vocabulary every sender, scenario and IdP builder shares: the method, how a space is
//! written in an encoded query, and which credential a request carries. It depends on nothing else of the crate,
//! so the scenario model, the IdP dialects and the exchange can all use it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// HTTP method of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(inline)]
pub enum Method {
    /// GET
    GET,
    /// POST
    POST,
    /// PUT
    PUT,
    /// PATCH
    PATCH,
    /// DELETE
    DELETE,
}

impl Method {
    /// The method name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::GET => "GET",
            Method::POST => "POST",
            Method::PUT => "PUT",
            Method::PATCH => "PATCH",
            Method::DELETE => "DELETE",
        }
    }
}

impl From<Method> for reqwest::Method {
    /// The HTTP client's method of the same name (RFC 9110 §9).
    fn from(m: Method) -> reqwest::Method {
        match m {
            Method::GET => reqwest::Method::GET,
            Method::POST => reqwest::Method::POST,
            Method::PUT => reqwest::Method::PUT,
            Method::PATCH => reqwest::Method::PATCH,
            Method::DELETE => reqwest::Method::DELETE,
        }
    }
}

/// How a space is written in an encoded query value. A step may override its profile's (`"spaces": "plus"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(inline)]
pub enum SpaceEncoding {
    /// `%20` (Okta's current requests).
    Percent20,
    /// `+` (Entra ID, and Okta's 2019 captures).
    Plus,
}

/// Which credential a step sends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(inline)]
pub enum AuthMode {
    /// The run's credential, in the profile's style.
    #[default]
    Default,
    /// No `Authorization` header at all.
    None,
    /// A deliberately invalid credential (the profile's, e.g. Okta's `non-token`).
    Invalid,
}

impl AuthMode {
    /// Whether this is [`AuthMode::Default`], which a file leaves out.
    pub fn is_default(&self) -> bool {
        *self == AuthMode::Default
    }
}
