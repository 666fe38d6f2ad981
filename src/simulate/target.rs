//! Where the simulator sends its requests: a base URI and the credential.

use crate::credential::Credential;
use crate::profile::{AuthStyle, Profile};

/// Where to send requests.
#[derive(Clone)]
pub struct Target {
    /// Base URI, possibly with a query string (Entra's `?aadOptscim062020`).
    pub base_url: String,
    /// The credential (never printed).
    pub credential: Credential,
    /// How requests travel: over the network, or straight into the in-process reference server
    /// (`simulate --reference` without `--loopback-http`).
    pub transport: crate::exchange::Transport,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("base_url", &self.base_url)
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

impl Target {
    /// A target from a base URI and a token in `style`.
    pub fn with_token(base_url: &str, token: Option<&str>, style: AuthStyle) -> Target {
        let credential = match token {
            Some(t) => Credential::Header(Profile::authorization(style, t)),
            None => Credential::None,
        };
        Target { base_url: base_url.to_string(), credential, transport: Default::default() }
    }
}
