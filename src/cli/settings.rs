//! `scimcheck run`'s settings: the flags over `scimcheck.toml` over the defaults, merged once into [`Settings`],
//! which the library run and the gallery suite both start from.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::config::Config;
use super::{RunArgs, SelectArgs};
use crate::credential::{self, Given};
use crate::http::TlsOptions;
use crate::profile::AuthStyle;
use crate::runner::{Against, Target};

pub use crate::credential::TOKEN_ENV;

/// Everything `run` needs, after flags, the config file and defaults are merged.
#[derive(Debug, Clone)]
pub struct Settings {
    /// What the scenarios are sent to: the `--base-url` target, or the bundled reference server.
    pub target: Against,
    /// Scenario selection (scenario folders: the file's first, then the flags').
    pub select: SelectArgs,
    /// Scenarios run at once.
    pub jobs: usize,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Snapshot folder.
    pub snapshots: Option<PathBuf>,
    /// Known-deviations file.
    pub expectations: Option<PathBuf>,
    /// TLS trust.
    pub tls: TlsOptions,
    /// Credential style override.
    pub auth_style: Option<AuthStyle>,
    /// Strict policy.
    pub strict: bool,
    /// Wait the pauses of Okta's suites between their steps.
    pub okta_pauses: bool,
    /// Payload settings.
    pub payload: crate::payload::Payload,
    /// The certification suite to run instead of the library (`--suite`, else `suite` in the file).
    pub suite: Option<crate::cli::Suite>,
    /// With a suite: the attribute mapping file (`--attribute-mapping`, else `attribute-mapping` in the file).
    pub attribute_mapping: Option<PathBuf>,
    /// The config file used, if any.
    pub config_file: Option<PathBuf>,
    /// The OAuth clients, when the run gets its tokens from a token endpoint: the target's credential sends with
    /// one of them; the gallery suite checks each ([`crate::gallery::auth`]).
    pub oauth: Option<crate::oauth::config::OAuthSources>,
}

impl Settings {
    /// Merges `args` (winning) over the config file over defaults.
    ///
    /// Errors: config file problems, no target, a `token-env` variable that is not set, a bad timeout.
    pub fn resolve(args: &RunArgs) -> Result<Settings, String> {
        let (config, config_file) = Config::load(args.config.as_deref())?;
        let mut select = config.select(&args.select);
        // the gallery is not a selection of the library: it runs instead of it (below)
        select.suite.retain(|s| s != crate::suites::ENTRA_GALLERY);
        let gallery_flag = args.select.suite.iter().any(|s| s == crate::suites::ENTRA_GALLERY);
        // --suite wins over the file's suite, whichever kind either is
        let gallery = gallery_flag || (args.select.suite.is_empty() && config.is_gallery());
        let mut oauth = None;
        let target = if args.reference {
            if args.oauth.any() {
                return Err(
                    "--reference sends the bundled server's own token: the OAuth options need --base-url (the \
                            reference server's token endpoint is per tenant, see reference-server/README.md)"
                        .into(),
                );
            }
            Against::Reference
        } else {
            let base_url = args.base_url.clone().or(config.base_url.clone()).ok_or(
                "no target: give --base-url URL (or base-url in scimcheck.toml), or --reference for the bundled server",
            )?;
            if let Some(problem) = crate::preflight::hints::scheme_problem(&base_url) {
                return Err(problem);
            }
            let token_env = args.token_env.clone().or(config.token_env.clone());
            let token = credential::read_token(args.token.as_deref(), token_env.as_deref())?;
            let timeout =
                Duration::from_secs_f64(args.timeout.or(config.timeout).unwrap_or(30.0).clamp(0.001, 86_400.0));
            let tls = TlsOptions {
                ca_certs: config.ca_cert.iter().chain(&args.ca_cert).cloned().collect(),
                insecure: args.insecure,
            };
            oauth = args.oauth.sources(&config.oauth_keys(), &tls, timeout)?;
            let fixed = [
                ("--token", args.token.is_some()),
                ("--token-env", args.token_env.is_some()),
                ("token-env in the settings file", config.token_env.is_some()),
                ("--auth-header (or SCIMCHECK_AUTH_HEADER)", args.auth_header.is_some()),
                (TOKEN_ENV, token.is_some()),
            ];
            // Microsoft's template sends its SCIM requests with the client-credentials client (scimClientId, "for
            // SCIM API authentication"); the gallery suite may switch to the assertion's when that one gets no
            // token (cli::gallery)
            let scim = oauth.as_ref().map(|s| s.all().next().expect("one OAuth client at least").clone());
            let credential = credential::resolve(Given {
                oauth: scim,
                auth_header: args.auth_header.as_deref(),
                token,
                fixed: &fixed,
            })?;
            if oauth.as_ref().is_some_and(|s| !gallery && s.secret.is_some() && s.assertion.is_some()) {
                return Err(crate::oauth::config::BOTH_FLOWS.into());
            }
            Against::Target(Target::new(base_url, credential))
        };
        let timeout = args.timeout.or(config.timeout).unwrap_or(30.0);
        let max = crate::options::MAX_TIMEOUT.as_secs_f64();
        if !timeout.is_finite() || timeout < 0.001 || timeout > max {
            return Err(format!("--timeout (or timeout in the settings file) must be between 0.001 and {max} seconds"));
        }
        let jobs = args.jobs.or(config.jobs).unwrap_or(4);
        if !(1..=1024).contains(&jobs) {
            return Err("--jobs (or jobs in the settings file) must be between 1 and 1024".into());
        }
        let mut ca_certs = config.ca_cert.clone();
        ca_certs.extend(args.ca_cert.iter().cloned());
        if gallery_flag && args.select.suite.len() > 1 {
            return Err("--suite entra-gallery runs Microsoft's 25 tests instead of the scenario library: give it \
                        alone, and run other suites separately"
                .into());
        }
        let suite = gallery.then_some(crate::cli::Suite::EntraGallery);
        if suite.is_some() {
            let s = &args.select;
            let flags = [
                ("--idp", !s.idp.is_empty()),
                ("--filter", s.filter.is_some()),
                ("--pattern", s.pattern.is_some()),
                ("--tags", !s.tags.is_empty()),
                ("--level", !s.level.is_empty()),
                ("--kind", !s.kind.is_empty()),
                ("--update-snapshots", args.update_snapshots),
            ];
            if let Some((flag, _)) = flags.iter().find(|(_, set)| *set) {
                if gallery_flag {
                    return Err(format!(
                        "{flag} selects scenarios, but --suite entra-gallery runs Microsoft's own 25 tests: leave \
                         {flag} out"
                    ));
                }
                let file = config_file.as_deref().unwrap_or(Path::new(super::config::FILE_NAME));
                return Err(format!(
                    "{flag} selects scenarios, but suite in {} runs its own tests: remove suite from the file to run \
                     the scenario library",
                    file.display()
                ));
            }
            // the file's selection keys beside --suite entra-gallery are refused as the flags are: the gallery
            // would run without them (beside the file's own `suite = "entra-gallery"`, Config::load refuses them)
            let keys = [
                ("idp", !config.idp.is_empty()),
                ("level", !config.level.is_empty()),
                ("kind", !config.kind.is_empty()),
                ("tags", !config.tags.is_empty()),
            ];
            if let Some((key, _)) = keys.iter().find(|(_, set)| *set).filter(|_| gallery_flag) {
                let file = config_file.as_deref().unwrap_or(Path::new(super::config::FILE_NAME)).display();
                return Err(format!(
                    "{key} in {file} selects scenarios, but --suite entra-gallery runs Microsoft's own 25 tests: \
                     remove {key} from the file, or give --config a file without it"
                ));
            }
        }
        if suite.is_none() && (args.attribute_mapping.is_some() || args.rate_window.is_some()) {
            return Err("--attribute-mapping and --rate-window need --suite entra-gallery (or suite in the settings \
                        file)"
                .into());
        }
        let attribute_mapping = args.attribute_mapping.clone().or(config.attribute_mapping.clone());
        Ok(Settings {
            target,
            select,
            jobs,
            timeout: Duration::from_secs_f64(timeout),
            snapshots: args.snapshots.clone().or(config.snapshots.clone()),
            expectations: args.expectations.clone().or(config.expectations.clone()),
            tls: TlsOptions { ca_certs, insecure: args.insecure },
            auth_style: args.auth_style.or(config.auth_style),
            strict: args.strict || config.strict.unwrap_or(false),
            okta_pauses: args.okta_pauses || config.okta_pauses.unwrap_or(false),
            payload: config.payload.clone(),
            suite,
            attribute_mapping,
            config_file,
            oauth,
        })
    }
}
