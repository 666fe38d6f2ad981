//! scimcheck: replays recorded Okta and Entra ID SCIM provisioning sequences against any SCIM 2.0 base URI,
//! judges every step, and snapshots the normalised transcript so behavioural drift shows up run after run.
//!
//! Modules, one concept each:
//! - [`scenario`]: the scenario model, loader, variables and generators;
//! - [`profile`]: IdP profiles (headers, credential style, filter encoding);
//! - [`declared`]: the User attributes `/Schemas` declares; only those are judged (RFC 7643 §7);
//! - [`exchange`] and [`check`]: what a step sent and observed, and how it is judged ([`json_bound`]: the bound
//!   on parsing one body; [`case`]: which values compare ignoring case);
//! - [`decline`]: a filter the server may decline (RFC 7644 §3.4.2.2) is a skip, unless an IdP sends it;
//! - [`requirements`]: the capabilities an IdP cannot provision without, failed once per IdP when declared
//!   unsupported;
//! - [`spc`]: the ServiceProviderConfig read tolerantly (`"sort": false`, string booleans);
//! - [`optional_steps`]: steps using an optional capability the target lacks (enterprise extension, Groups) are
//!   skipped one by one;
//! - [`credential`] and [`oauth`]: the credential every sender uses, OAuth client credentials and JWT-bearer
//!   assertions with cached, refreshed tokens;
//! - [`runner`]: executes scenarios (reqwest, bounded concurrency, timeouts, cleanup);
//! - [`verdict`] and [`capabilities`]: what a run gives (step and scenario verdicts) and what the target says it
//!   supports (the skips a missing optional capability gives), below the runner and everything that judges;
//! - [`setup`]: fixture steps; a failed one makes the scenario `setupFailed`, not a failure of its rule;
//! - [`normalize`]: the transcript normalisation rules and secret redaction;
//! - [`snapshot`]: insta-format snapshot files and drift diffs;
//! - [`expectations`]: known deviations per target;
//! - [`judge`]: a scenario's verdict once its steps ran (snapshot, verdict rules, known deviations), the same for
//!   every caller of the runner;
//! - [`report`]: human, JUnit and JSON reports and the exit policy;
//! - [`idp`]: how Okta and Entra shape their requests (PATCH dialects, app kinds), shared by all;
//! - [`simulate`]: the IdP simulator (`simulate`): cycles at scale and reconciliation;
//! - [`record`]: the recorder (`record`, `import --har`): captured IdP traffic → scenarios;
//! - [`options`]: the one range-checked parser of numeric options (durations, rates, counts);
//! - [`cli`]: the command line (`run`, `list`, `serve`, `bench`, `simulate`, `record`, `import`).

#![warn(missing_docs)]

pub mod bench;
pub mod capabilities;
pub mod case;
pub mod check;
pub mod cleanup;
pub mod cli;
pub mod console;
pub mod credential;
pub mod declared;
pub mod decline;
pub mod exchange;
pub mod expectations;
pub mod gallery;
pub mod http;
pub mod idp;
pub mod json_bound;
pub mod judge;
pub mod library;
pub mod normalize;
pub mod oauth;
pub mod optional_steps;
pub mod options;
pub mod outline;
pub mod paging;
pub mod payload;
pub mod preflight;
pub mod profile;
pub mod record;
pub mod reference_app;
pub mod report;
pub mod requirements;
pub mod runner;
pub mod scenario;
pub mod setup;
pub mod simulate;
pub mod snapshot;
pub mod spc;
pub mod suites;
pub mod target;
pub mod together;
pub mod verdict;
