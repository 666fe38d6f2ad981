//! The one name of "which IdP" every command uses ([`Idp`]).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::exchange::SpaceEncoding;

/// The identity provider whose behaviour a scenario reproduces, replays, simulates or records: the one IdP
/// vocabulary of every command. Printed, serialised and offered on the command line as `okta`, `entra`, `rfc`;
/// `azure` (Microsoft's former product name, Azure AD) is accepted as an alias of `entra` everywhere (serde,
/// `--idp` in any case, settings files), and stays the library's folder name and the id prefix of its
/// scenarios ([`Idp::folder`]) so ids and snapshots keep their names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Idp {
    /// Okta (OIN SCIM 2.0 integrations).
    Okta,
    /// Microsoft Entra ID (formerly Azure AD) provisioning.
    #[serde(alias = "azure")]
    #[value(alias = "azure")]
    Entra,
    /// Plain RFC 7643/7644 behaviour, no IdP dialect.
    Rfc,
}

impl Idp {
    /// All IdPs, in report order.
    pub const ALL: [Idp; 3] = [Idp::Okta, Idp::Entra, Idp::Rfc];

    /// How the IdP encodes a space in a query value: Entra sends `+` (`filter=userName+eq+"…"`, docs/entra.md
    /// §1), Okta `%20` (docs/okta.md §2); plain RFC requests use `%20` (RFC 3986 §2.1). The one rule the replay
    /// profiles ([`crate::profile::Profile::space`]) and the simulator's dialects both read.
    pub fn space_encoding(self) -> SpaceEncoding {
        match self {
            Idp::Entra => SpaceEncoding::Plus,
            Idp::Okta | Idp::Rfc => SpaceEncoding::Percent20,
        }
    }

    /// The lowercase name printed in output and reports and taken on the command line (`okta`, `entra`, `rfc`).
    pub fn as_str(self) -> &'static str {
        match self {
            Idp::Okta => "okta",
            Idp::Entra => "entra",
            Idp::Rfc => "rfc",
        }
    }

    /// The folder of the IdP's scenarios in a library and the first segment of their ids (`okta`, `azure`,
    /// `rfc`): Entra's scenarios were recorded under `azure/` and keep that folder, id prefix and snapshot names.
    pub fn folder(self) -> &'static str {
        match self {
            Idp::Entra => "azure",
            other => other.as_str(),
        }
    }

    /// The names [`Idp::parse`] accepts, for messages.
    pub const NAMES: &'static str = "okta, entra (or azure), rfc";

    /// Parses `okta`, `entra` (Microsoft's current name) or its alias `azure`, or `rfc`, in any case: the names
    /// of the one [`clap::ValueEnum`] every `--idp` uses.
    pub fn parse(s: &str) -> Option<Idp> {
        <Idp as clap::ValueEnum>::from_str(s.trim(), true).ok()
    }
}

impl fmt::Display for Idp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
