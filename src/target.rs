//! Where requests go, one type for every command that sends: replay (`run`), `simulate`, the preflight and the
//! gallery suite. A target is the SCIM base URI (RFC 7644 §3.2: every endpoint is below it), the credential sent
//! to it ([`Credential`]) and how requests travel ([`Transport`]).

use crate::credential::Credential;
use crate::exchange::{BaseUri, Transport};
use crate::normalize::Redactor;

/// A SCIM service to send requests to.
#[derive(Debug, Clone)]
pub struct Target {
    /// The SCIM base URI, possibly with its own query (Entra's `?aadOptscim062020`, docs/entra.md §2).
    pub base_url: String,
    /// The credential (its `Debug` form shows no secret).
    pub credential: Credential,
    /// How requests travel: over the network, or straight into the in-process reference server.
    pub transport: Transport,
}

impl Target {
    /// A target reached over the network.
    pub fn new(base_url: impl Into<String>, credential: Credential) -> Target {
        Target { base_url: base_url.into(), credential, transport: Transport::Network }
    }

    /// The base URI, split for joining request paths ([`BaseUri::join`]).
    pub fn base_uri(&self) -> BaseUri {
        BaseUri::new(&self.base_url)
    }

    /// The redactor of every text derived from requests to this target: the credential's
    /// ([`Credential::redactor`], OAuth access tokens fetched later included).
    pub fn redactor(&self) -> Redactor {
        self.credential.redactor()
    }
}
