//! `scim-reference-server`: a complete, multi-tenant SCIM 2.0 service (RFC 7643/7644) that also accepts every
//! request shape Okta and Microsoft Entra ID send. It is the ground truth scimcheck's scenarios are recorded against.
//!
//! Layers, from the inside out:
//! - [`schema`]: the implemented schemas as static data;
//! - [`filter`], [`patch`], [`resource`], [`projection`]: pure SCIM logic over JSON values;
//! - [`store`]: storage behind a small interface, in memory; [`sqlite`] persists it to a data file (`--data`);
//! - [`directory`]: one tenant's users and groups with SCIM semantics (uniqueness, membership, versions);
//! - [`state`]: what every handler shares ([`state::AppState`]) and the addresses it answers at;
//! - [`http`]: thin axum handlers that map requests to the directory and errors to SCIM Error bodies.

#![warn(missing_docs)]

pub mod cal;
pub mod cli;
pub mod clock;
pub mod config;
pub mod datafile;
pub mod directory;
pub mod discovery;
pub mod entitlements;
pub mod error;
pub mod filter;
pub mod http;
pub mod oauth;
pub mod patch;
pub mod projection;
pub mod resource;
pub mod schema;
pub mod serve;
pub mod server;
pub mod sqlite;
pub mod state;
pub mod store;
pub mod tenant;
pub mod token;
pub mod values;

pub use error::{ScimError, ScimResult};
pub use server::{spawn, spawn_with, RunningServer, ServerConfig};
