//! The state every handler shares ([`AppState`]) and what it is addressed by: the SCIM path inside a tenant
//! ([`SCIM_PATH`]) and the public base URL ([`PublicUrl`]). Below both the server that builds the router
//! ([`crate::server`]) and the handlers that read the state ([`crate::http`]).

use std::sync::Arc;

use axum::Router;

use crate::discovery::Features;
use crate::tenant::{AppKind, Tenants};

/// The path of an app's SCIM service inside a tenant.
pub const SCIM_PATH: &str = "/api/v1/SCIM";

/// A parsed public base URL: `http(s)://host[:port][/prefix]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    scheme: String,
    host: String,
    /// `:port`, or empty.
    port: String,
    /// A path prefix without trailing slash, or empty.
    path: String,
}

impl PublicUrl {
    /// Parses `http://…` or `https://…` with a valid authority, no userinfo, query or fragment.
    pub fn parse(url: &str) -> Result<PublicUrl, String> {
        let bad = || format!("the public URL '{url}' must look like https://host[:port][/path]");
        let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(bad());
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if path.contains(['?', '#']) || path.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (host, port) = split_authority(authority).ok_or_else(bad)?;
        Ok(PublicUrl {
            scheme,
            host: host.to_ascii_lowercase(),
            port: port.map(|p| format!(":{p}")).unwrap_or_default(),
            path: path.trim_end_matches('/').to_string(),
        })
    }

    /// The origin and path prefix for a resource under `host` (default: the URL's own host).
    pub(crate) fn base(&self, host: Option<&str>) -> String {
        format!("{}://{}{}{}", self.scheme, host.unwrap_or(&self.host), self.port, self.path)
    }
}

/// Splits a request authority into host and port, checking both: a DNS name or IPv4 address made of
/// letters, digits, `-`, `.` and `_` (RFC 3986 §3.2.2 reg-name without percent-encoding), or a bracketed
/// IPv6 literal; an optional decimal port. No userinfo. `None` when invalid.
pub fn split_authority(authority: &str) -> Option<(&str, Option<u16>)> {
    if authority.is_empty() || authority.len() > 255 {
        return None;
    }
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let end = rest.find(']')?;
        let literal = &rest[..end];
        literal.parse::<std::net::Ipv6Addr>().ok()?;
        let after = &rest[end + 1..];
        (&authority[..end + 2], after)
    } else {
        match authority.rfind(':') {
            Some(i) => (&authority[..i], &authority[i..]),
            None => (authority, ""),
        }
    };
    let port = match port.strip_prefix(':') {
        None if port.is_empty() => None,
        None => return None,
        Some(p) if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => Some(p.parse().ok()?),
        Some(_) => return None,
    };
    let valid_name = !host.is_empty()
        && (host.starts_with('[')
            || host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_')));
    valid_name.then_some((host, port))
}

/// Shared state of the running service.
#[derive(Debug)]
pub struct AppState {
    /// Every tenant with its directory and portal.
    pub tenants: Arc<Tenants>,
    /// The base domain of subdomain portals (`acme.<base_domain>`).
    pub base_domain: String,
    /// The SHA-256 digest of the admin key (the key itself is kept nowhere).
    pub(crate) admin_key_digest: [u8; 32],
    pub(crate) origin: String,
    pub(crate) public_url: Option<PublicUrl>,
    pub(crate) body_limit: usize,
    pub(crate) body_timeout: std::time::Duration,
    pub(crate) features: Features,
    pub(crate) scim: Router,
}

impl AppState {
    /// The loopback (path-prefix) base URI of a tenant's app at the listen address.
    pub fn listen_base_uri(&self, tenant: &str, app: AppKind) -> String {
        format!("{}/t/{tenant}{SCIM_PATH}/{}", self.origin, app.name())
    }

    /// The URL of a tenant's OAuth token endpoint (`/t/{tenant}/oauth2/token`) as addressed through `host`
    /// (the request's `Host`), or through `--public-url` when set: the audience a client assertion names.
    pub fn token_endpoint(&self, tenant: &str, host: Option<&str>) -> String {
        let origin = match (&self.public_url, host) {
            (Some(u), _) => u.base(None),
            (None, Some(h)) => format!("http://{h}"),
            (None, None) => self.origin.clone(),
        };
        format!("{origin}/t/{tenant}/oauth2/token")
    }

    /// The path-prefix base URI of a tenant's app as clients see it: under the public URL when one is set.
    pub fn app_base_uri(&self, tenant: &str, app: AppKind) -> String {
        let origin = self.public_url.as_ref().map_or_else(|| self.origin.clone(), |u| u.base(None));
        format!("{origin}/t/{tenant}{SCIM_PATH}/{}", app.name())
    }
}
