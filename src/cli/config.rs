//! `scimcheck.toml`: the settings of one target, so a CI job is `scimcheck run` and nothing else.
//!
//! Found as `./scimcheck.toml` (or named with `--config FILE`). Every key is optional; command-line flags win over
//! the file; relative paths are relative to the file's folder. Unknown keys are errors naming the file, line and
//! key, with the same strictness as scenario files. Every list key also takes a single string, and names (IdPs,
//! levels, kinds) are read in any case. Every command that talks to a target or reads scenarios reads the file
//! the same way: `run`, `list`, `snapshots …`, `simulate` and `record` (see [`Config::select`], [`Config::load`],
//! [`apply_to_simulate`] and [`apply_to_record`]); `serve`'s `--config` is the reference server's seed file.
//!
//! ```toml
//! base-url = "https://scim.example.test/scim/v2"
//! token-env = "ACME_SCIM_TOKEN"      # the environment variable holding the token
//! idp = ["okta", "entra"]            # or one name: idp = "okta"; `azure` is an alias of `entra`
//! level = ["must", "should"]
//! kind = ["rfc", "interop"]         # rfc, interop, portal
//! jobs = 4
//! timeout = "30s"                   # per request: seconds, or a duration as --timeout takes it
//! snapshots = "snapshots/acme"
//! expectations = "snapshots/acme/expectations.json"
//! scenarios = ["scenarios-acme"]      # added to the built-in library
//! library = true                      # false: only the folders above
//! ca-cert = ["certs/acme-ca.pem"]
//! okta-pauses = false                 # true: wait between the steps of Okta's suites as they do
//! suite = "entra-gallery"             # any value of `--suite`: entra-gallery (Microsoft's gallery validation,
//!                                     # instead of the library) or okta-entitlements (a selection of it)
//! attribute-mapping = "mapping.json"  # with entra-gallery: the portal's schema download (`--attribute-mapping`)
//! oauth-token-url = "https://login.acme.test/oauth2/token"   # OAuth client credentials instead of a token
//! oauth-client-id = "scimcheck"
//! oauth-client-secret-env = "ACME_CLIENT_SECRET"  # or SCIMCHECK_OAUTH_CLIENT_SECRET; or oauth-private-key, or both
//! oauth-private-key = "keys/scimcheck.pem"        # JWT-bearer client assertion (RS256 or ES256)
//! oauth-scope = "scim"
//! oauth-federated-client-id = "scimcheck-wif"  # with a secret and a key: the assertion's client (entra-gallery)
//!
//! [payload]
//! email-domain = "acme.com"            # domain of every generated e-mail address
//! variables = { tag = "ci" }          # scenario variables to override
//! [payload.user]                      # merged into every created (POST) or replaced (PUT) user
//! department = "Engineering"
//! [payload.group]                     # merged into every created or replaced group
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::idp::Idp;
use crate::scenario::{Kind, Level};

/// The default file name, looked up in the working directory.
pub const FILE_NAME: &str = "scimcheck.toml";

crate::oauth::config::with_oauth_keys! {
    /// The parsed file; its OAuth keys (`oauth-token-url`, …) come from [`crate::oauth::config::with_oauth_keys`].
    #[derive(Debug, Clone, Default, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "kebab-case")]
    pub struct Config {
        /// SCIM base URI of the target.
        pub base_url: Option<String>,
        /// Name of the environment variable holding the token.
        pub token_env: Option<String>,
        /// Credential style: `bearer` or `raw`.
        pub auth_style: Option<crate::profile::AuthStyle>,
        /// IdPs to run.
        #[serde(default, deserialize_with = "idps")]
        pub idp: Vec<Idp>,
        /// Levels to run.
        #[serde(default, deserialize_with = "levels")]
        pub level: Vec<Level>,
        /// Kinds to run (`rfc`, `interop`, `portal`), as `--kind`.
        #[serde(default, deserialize_with = "kinds")]
        pub kind: Vec<Kind>,
        /// Tags to run.
        #[serde(default, deserialize_with = "strings")]
        pub tags: Vec<String>,
        /// Scenarios run at once.
        pub jobs: Option<usize>,
        /// Per-request timeout in seconds: a number of seconds or a duration in the forms `--timeout` takes (`30s`,
        /// `500ms`), one parser for both ([`crate::options::timeout_secs`]).
        #[serde(default, deserialize_with = "timeout")]
        pub timeout: Option<f64>,
        /// Snapshot folder.
        pub snapshots: Option<PathBuf>,
        /// Known-deviations file.
        pub expectations: Option<PathBuf>,
        /// Extra scenario folders.
        #[serde(default, deserialize_with = "paths")]
        pub scenarios: Vec<PathBuf>,
        /// `false`: use only the `scenarios` folders, not the built-in library (`--no-library`).
        pub library: Option<bool>,
        /// Extra trusted CA files (PEM).
        #[serde(default, deserialize_with = "paths")]
        pub ca_cert: Vec<PathBuf>,
        /// SHOULD and MAY failures fail the run.
        pub strict: Option<bool>,
        /// Wait the pauses of Okta's suites between their steps (`--okta-pauses`).
        pub okta_pauses: Option<bool>,
        /// A certification suite, as `--suite` takes it (its canonical name, read in any case through the same
        /// parser, [`crate::suites::parse`]): `entra-gallery` runs Microsoft's gallery validation instead of the
        /// scenario library; `okta-entitlements` (any suite of [`crate::suites::SUITES`]) selects its scenarios.
        /// `--suite` on the command line wins over it.
        #[serde(default, deserialize_with = "suite")]
        pub suite: Option<String>,
        /// With `suite = "entra-gallery"`: the attribute mapping file (`--attribute-mapping`).
        pub attribute_mapping: Option<PathBuf>,
        /// What the scenarios send.
        #[serde(default)]
        pub payload: crate::payload::Payload,
}
}

fn suite<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let name = String::deserialize(d)?;
    crate::suites::parse(&name).map(Some).map_err(serde::de::Error::custom)
}

/// A TOML value that is one string or a list of strings (`idp = "okta"` or `idp = ["okta", "entra"]`).
fn strings<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    struct OneOrMany;
    impl<'de> serde::de::Visitor<'de> for OneOrMany {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a string or a list of strings")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Vec<String>, E> {
            Ok(vec![v.to_string()])
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
            let mut out = Vec::new();
            while let Some(v) = seq.next_element::<String>()? {
                out.push(v);
            }
            Ok(out)
        }
    }
    d.deserialize_any(OneOrMany)
}

fn parsed<'de, D: serde::Deserializer<'de>, T>(
    d: D,
    parse: fn(&str) -> Option<T>,
    what: &str,
    names: &str,
) -> Result<Vec<T>, D::Error> {
    strings(d)?
        .iter()
        .map(|n| parse(n).ok_or_else(|| serde::de::Error::custom(format!("unknown {what} `{n}` ({names})"))))
        .collect()
}

fn idps<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Idp>, D::Error> {
    parsed(d, Idp::parse, "IdP", Idp::NAMES)
}

fn levels<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Level>, D::Error> {
    parsed(d, Level::parse, "level", "must, should, may")
}

fn kinds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Kind>, D::Error> {
    parsed(d, Kind::parse, "kind", "rfc, interop, portal")
}

fn timeout<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        Number(f64),
        Text(String),
    }
    let written = match Written::deserialize(d)? {
        Written::Number(n) => n.to_string(),
        Written::Text(t) => t,
    };
    crate::options::timeout_secs(&written).map(Some).map_err(|e| serde::de::Error::custom(format!("timeout: {e}")))
}

/// The message of an unknown key (`unknown field `jobz`, expected one of `base-url`, …`), with only the key meant
/// when one is close ([`super::suggest::closest`]): `unknown field `jobz`: did you mean `jobs`?`.
fn suggest_key(message: &str) -> String {
    let Some(rest) = message.strip_prefix("unknown field `") else { return message.to_string() };
    let Some((written, expected)) = rest.split_once("`, expected one of ") else { return message.to_string() };
    let known = expected.split(", ").map(|k| k.trim().trim_matches('`'));
    match super::suggest::closest(written, known) {
        Some(meant) => format!("unknown field `{written}`: did you mean `{meant}`?"),
        None => message.to_string(),
    }
}

fn paths<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<PathBuf>, D::Error> {
    Ok(strings(d)?.into_iter().map(PathBuf::from).collect())
}

impl Config {
    /// Parses `text` (from `file`, used in errors); relative paths are resolved against the file's folder.
    ///
    /// Errors: `file:line:column: message` — unknown keys, wrong types, invalid TOML, unknown IdP, level or kind.
    pub fn parse(file: &Path, text: &str) -> Result<Config, String> {
        let mut config: Config = toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .map(|span| {
                    let before = &text[..span.start.min(text.len())];
                    let line = before.matches('\n').count() + 1;
                    let column = before.chars().rev().take_while(|c| *c != '\n').count() + 1;
                    format!(":{line}:{column}")
                })
                .unwrap_or_default();
            format!("{}{at}: {}", file.display(), suggest_key(e.message().trim()))
        })?;
        let base = file.parent().unwrap_or(Path::new(""));
        let resolve = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        config.snapshots.iter_mut().for_each(resolve);
        config.expectations.iter_mut().for_each(resolve);
        config.scenarios.iter_mut().for_each(resolve);
        config.ca_cert.iter_mut().for_each(resolve);
        config.attribute_mapping.iter_mut().for_each(resolve);
        config.oauth_private_key.iter_mut().for_each(resolve);
        if let Some(t) = config.timeout {
            if !t.is_finite() || t <= 0.0 {
                return Err(format!("{}: timeout must be a positive number of seconds", file.display()));
            }
        }
        if config.jobs == Some(0) {
            return Err(format!("{}: jobs must be at least 1", file.display()));
        }
        if config.is_gallery() {
            let ignored: Vec<&str> = [
                ("idp", !config.idp.is_empty()),
                ("level", !config.level.is_empty()),
                ("kind", !config.kind.is_empty()),
                ("tags", !config.tags.is_empty()),
            ]
            .iter()
            .filter_map(|(k, set)| set.then_some(*k))
            .collect();
            if !ignored.is_empty() {
                return Err(format!(
                    "{}: suite runs its own tests, not the scenario selection: remove {} (or suite)",
                    file.display(),
                    ignored.join(", ")
                ));
            }
        } else if config.attribute_mapping.is_some() {
            return Err(format!("{}: attribute-mapping is read only with suite = \"entra-gallery\"", file.display()));
        }
        for (what, map) in [("user", &config.payload.user), ("group", &config.payload.group)] {
            if map.contains_key("schemas") || map.contains_key("id") {
                return Err(format!(
                    "{}: [payload.{what}] cannot set `schemas` or `id` (extension schemas are added for their attributes)",
                    file.display()
                ));
            }
        }
        Ok(config)
    }

    /// The scenario selection of `args` (winning) over the file's: scenario folders are the file's first, then the
    /// flags'; `library = false` adds `--no-library`; IdPs, levels, kinds, tags and a suite that selects scenarios
    /// (not `entra-gallery`, which replaces the library) come from the file when the flags give none.
    pub fn select(&self, args: &crate::cli::SelectArgs) -> crate::cli::SelectArgs {
        let mut select = args.clone();
        let mut dirs = self.scenarios.clone();
        dirs.extend(select.scenarios.iter().cloned());
        select.scenarios = dirs;
        select.no_library |= self.library == Some(false);
        if select.idp.is_empty() {
            select.idp = self.idp.clone();
        }
        if select.level.is_empty() {
            select.level = self.level.clone();
        }
        if select.kind.is_empty() {
            select.kind = self.kind.clone();
        }
        if select.tags.is_empty() {
            select.tags = self.tags.clone();
        }
        // a suite that selects scenarios; the gallery runs instead of the library ([`Config::is_gallery`])
        if select.suite.is_empty() {
            select.suite = self.suite.iter().filter(|s| *s != crate::suites::ENTRA_GALLERY).cloned().collect();
        }
        select
    }

    /// Whether the file's suite is Microsoft's gallery validation (`suite = "entra-gallery"`).
    pub fn is_gallery(&self) -> bool {
        self.suite.as_deref() == Some(crate::suites::ENTRA_GALLERY)
    }

    /// Loads `--config FILE`, or `./scimcheck.toml` when it exists, or the empty configuration.
    ///
    /// Errors: a named file that cannot be read, or any parse error.
    pub fn load(explicit: Option<&Path>) -> Result<(Config, Option<PathBuf>), String> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None if Path::new(FILE_NAME).is_file() => PathBuf::from(FILE_NAME),
            None => return Ok((Config::default(), None)),
        };
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok((Config::parse(&path, &text)?, Some(path)))
    }
}

/// Fills what `simulate` did not get on its command line from the settings file (`--config FILE` or
/// `./scimcheck.toml`): `base-url`, the token from the variable named by `token-env`, `auth-style`, `timeout`,
/// `idp` (when it names exactly one of okta and entra) and `ca-cert`. Prints the
/// file used, as `run` does.
///
/// Errors: the file's errors; no target (neither `--base-url`, `base-url` nor `--reference`); a `token-env`
/// variable that is not set.
pub fn apply_to_simulate(args: &mut crate::simulate::cli::SimulateArgs) -> Result<(), String> {
    let (config, file) = Config::load(args.config.as_deref())?;
    if let Some(f) = &file {
        crate::outln!("settings: {}", f.display());
    }
    if !args.reference && args.base_url.is_none() {
        args.base_url = Some(config.base_url.clone().ok_or(
            "no target: give --base-url URL (or base-url in scimcheck.toml), or --reference for the bundled server",
        )?);
    }
    if args.token_env.is_none() {
        args.token_env = config.token_env.clone();
    }
    if args.auth_style.is_none() {
        args.auth_style = config.auth_style;
    }
    // the OAuth flags override these keys where `simulate` makes its token source, as `run`'s do
    args.oauth_keys = config.oauth_keys();
    if args.idp.is_none() {
        args.idp = match config.idp.as_slice() {
            [] => None,
            [one @ (Idp::Okta | Idp::Entra)] => Some(*one),
            _ => {
                return Err("idp in the settings file names more than one IdP or rfc; simulate reproduces one IdP's \
                            engine: give --idp okta or --idp entra"
                    .into())
            }
        };
    }
    if args.timeout.is_none() {
        if let Some(t) = config.timeout {
            if !t.is_finite() || t <= 0.0 || t > 86_400.0 {
                return Err(format!("timeout = {t} in the settings file must be between 0 and 86400 seconds"));
            }
            args.timeout = Some(t);
        }
    }
    let mut ca = config.ca_cert.clone();
    ca.append(&mut args.ca_cert);
    args.ca_cert = ca;
    Ok(())
}

/// Fills what `record` did not get on its command line from the settings file (`--config FILE` or
/// `./scimcheck.toml`): the upstream from `base-url` (the server under test is the one the IdP's traffic goes
/// to) and the `ca-cert` files, trusted beside `--ca-cert`. Prints the file used, as `run` does.
///
/// Errors: the file's errors.
pub fn apply_to_record(args: &mut crate::record::RecordArgs) -> Result<(), String> {
    let (config, file) = Config::load(args.config.as_deref())?;
    if let Some(f) = &file {
        crate::outln!("settings: {}", f.display());
    }
    if args.upstream.is_none() {
        args.upstream = config.base_url.clone();
    }
    let mut ca = config.ca_cert.clone();
    ca.append(&mut args.ca_cert);
    args.ca_cert = ca;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timeout_takes_the_forms_of_the_command_line() {
        let t = |v: &str| Config::parse(Path::new("c.toml"), &format!("timeout = {v}\n")).map(|c| c.timeout);
        assert_eq!(t("\"30s\""), Ok(Some(30.0)));
        assert_eq!(t("\"500ms\""), Ok(Some(0.5)));
        assert_eq!(t("30"), Ok(Some(30.0)));
        assert_eq!(t("2.5"), Ok(Some(2.5)));
        assert_eq!(t("\"30\""), Ok(Some(30.0)));
        for bad in ["\"thirty\"", "0", "-1", "\"0s\""] {
            let e = t(bad).unwrap_err();
            assert!(e.starts_with("c.toml:1:") && e.contains("timeout"), "{bad}: {e}");
        }
    }

    #[test]
    fn an_unknown_key_close_to_a_known_one_names_it() {
        let e = Config::parse(Path::new("c.toml"), "jobz = 4\n").unwrap_err();
        assert!(e.starts_with("c.toml:1:1: unknown field `jobz`: did you mean `jobs`?"), "{e}");
        assert!(!e.contains("base-url"), "only the key meant: {e}");
        // no key is close: every key is listed
        let e = Config::parse(Path::new("c.toml"), "concurrency = 4\n").unwrap_err();
        assert!(e.contains("expected one of") && e.contains("`jobs`"), "{e}");
    }

    #[test]
    fn unknown_keys_name_file_line_and_key() {
        let e = Config::parse(Path::new("x/scimcheck.toml"), "jobs = 2\n\nbase_url = \"http://h\"\n").unwrap_err();
        assert!(e.starts_with("x/scimcheck.toml:3:1: unknown field `base_url`"), "{e}");
        let e = Config::parse(Path::new("c.toml"), "[payload]\nemail_domain = \"x\"\n").unwrap_err();
        assert!(e.starts_with("c.toml:2:1: unknown field `email_domain`"), "{e}");
        let e = Config::parse(Path::new("c.toml"), "idp = [\"okta\", \"google\"]\n").unwrap_err();
        assert!(e.contains("c.toml:1:") && e.contains("unknown IdP `google`"), "{e}");
        let e = Config::parse(Path::new("c.toml"), "jobs = \"four\"\n").unwrap_err();
        assert!(e.contains("c.toml:1:8"), "{e}");
    }

    #[test]
    fn list_keys_take_one_string_and_names_any_case() {
        let c = Config::parse(
            Path::new("c.toml"),
            "idp = \"Entra\"\nlevel = \"MUST\"\nkind = [\"Interop\"]\ntags = \"users\"\nscenarios = \"mine\"\n",
        )
        .unwrap();
        assert_eq!(c.idp, vec![Idp::Entra]);
        assert_eq!(c.level, vec![Level::Must]);
        assert_eq!(c.kind, vec![Kind::Interop]);
        assert_eq!(c.tags, vec!["users".to_string()]);
        assert_eq!(c.scenarios, vec![PathBuf::from("mine")]);
        let c = Config::parse(Path::new("c.toml"), "idp = [\"okta\", \"azure\"]\n").unwrap();
        assert_eq!(c.idp, vec![Idp::Okta, Idp::Entra]);
        let e = Config::parse(Path::new("c.toml"), "idp = 3\n").unwrap_err();
        assert!(e.contains("c.toml:1:") && e.contains("a string or a list of strings"), "{e}");
    }

    #[test]
    fn okta_pauses_is_a_boolean_key() {
        let c = Config::parse(Path::new("c.toml"), "okta-pauses = true\n").unwrap();
        assert_eq!(c.okta_pauses, Some(true));
        assert_eq!(Config::parse(Path::new("c.toml"), "").unwrap().okta_pauses, None);
        let e = Config::parse(Path::new("c.toml"), "okta-pauses = 5\n").unwrap_err();
        assert!(e.contains("c.toml:1:"), "{e}");
    }

    #[test]
    fn suite_is_a_key_and_refuses_the_selection_it_would_ignore() {
        let c = Config::parse(
            Path::new("conf/scimcheck.toml"),
            "suite = \"Entra-Gallery\"\nattribute-mapping = \"mapping.json\"\n",
        )
        .unwrap();
        assert_eq!(c.suite.as_deref(), Some("entra-gallery"));
        assert!(c.is_gallery());
        assert_eq!(c.attribute_mapping.unwrap(), Path::new("conf/mapping.json"));
        assert_eq!(Config::parse(Path::new("c.toml"), "").unwrap().suite, None);
        let e = Config::parse(Path::new("c.toml"), "suite = \"okta-spec\"\n").unwrap_err();
        assert!(e.contains("c.toml:1:") && e.contains("unknown suite `okta-spec`"), "{e}");
        assert!(e.contains("okta-entitlements") && e.contains("entra-gallery"), "{e}");
        let e = Config::parse(Path::new("c.toml"), "suite = \"entra-gallery\"\nidp = \"okta\"\n").unwrap_err();
        assert!(e.contains("remove idp"), "{e}");
        let e = Config::parse(Path::new("c.toml"), "attribute-mapping = \"m.json\"\n").unwrap_err();
        assert!(e.contains("only with suite"), "{e}");
    }

    #[test]
    fn suite_takes_every_value_of_the_suite_flag_through_its_parser() {
        // every suite --suite takes, in any case, is a value of the key
        let mut names: Vec<&str> = crate::suites::SUITES.iter().map(|s| s.name).collect();
        names.push(crate::suites::ENTRA_GALLERY);
        for name in names {
            let text = format!("suite = \" {} \"\n", name.to_uppercase());
            let c = Config::parse(Path::new("c.toml"), &text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(c.suite.as_deref(), Some(name));
            assert_eq!(crate::suites::parse(name).unwrap(), name);
        }
        // a suite that selects scenarios reaches the selection (unless --suite is given) and keeps the file's idp,
        // as --suite okta-entitlements beside --idp does; the gallery replaces the library and selects nothing
        let c = Config::parse(Path::new("c.toml"), "suite = \"Okta-Entitlements\"\nidp = \"okta\"\n").unwrap();
        assert!(!c.is_gallery());
        let none = crate::cli::SelectArgs::default();
        assert_eq!(c.select(&none).suite, vec!["okta-entitlements".to_string()]);
        assert_eq!(c.select(&none).idp, vec![Idp::Okta]);
        let flag = crate::cli::SelectArgs { suite: vec!["entra-gallery".into()], ..Default::default() };
        assert_eq!(c.select(&flag).suite, vec!["entra-gallery".to_string()], "the flag wins over the file");
        let e = Config::parse(Path::new("c.toml"), "suite = \"okta-entitlements\"\nattribute-mapping = \"m.json\"\n")
            .unwrap_err();
        assert!(e.contains("only with suite = \"entra-gallery\""), "{e}");
        let g = Config::parse(Path::new("c.toml"), "suite = \"entra-gallery\"\n").unwrap();
        assert!(g.select(&none).suite.is_empty());
    }

    #[test]
    fn paths_are_relative_to_the_file() {
        let c = Config::parse(
            Path::new("conf/scimcheck.toml"),
            "snapshots = \"snaps\"\nscenarios = [\"/abs\", \"rel\"]\n[payload.user]\ndepartment = \"R&D\"\n",
        )
        .unwrap();
        assert_eq!(c.snapshots.unwrap(), Path::new("conf/snaps"));
        assert_eq!(c.scenarios, vec![PathBuf::from("/abs"), PathBuf::from("conf/rel")]);
        assert_eq!(c.payload.user["department"], "R&D");
    }

    /// The OAuth keys are declared once (`with_oauth_keys!`) yet the file still refuses unknown keys, with the
    /// messages it gave when `Config` declared them itself: a misspelt key gets its suggestion, any other key the
    /// list of every key in file order, OAuth keys last; and every OAuth key reaches [`Config::oauth_keys`].
    #[test]
    fn the_oauth_keys_are_read_and_unknown_keys_refused_as_before() {
        let f = Path::new("conf/scimcheck.toml");
        let e = Config::parse(f, "base-url = \"http://h/scim\"\noauth-client-idd = \"x\"\n").unwrap_err();
        assert_eq!(e, "conf/scimcheck.toml:2:1: unknown field `oauth-client-idd`: did you mean `oauth-client-id`?");
        let e = Config::parse(f, "zzzz = 1\n").unwrap_err();
        assert_eq!(
            e,
            "conf/scimcheck.toml:1:1: unknown field `zzzz`, expected one of `base-url`, `token-env`, `auth-style`, \
             `idp`, `level`, `kind`, `tags`, `jobs`, `timeout`, `snapshots`, `expectations`, `scenarios`, `library`, \
             `ca-cert`, `strict`, `okta-pauses`, `suite`, `attribute-mapping`, `payload`, `oauth-token-url`, \
             `oauth-client-id`, `oauth-client-secret`, `oauth-client-secret-env`, `oauth-private-key`, \
             `oauth-key-id`, `oauth-federated-client-id`, `oauth-federated-token-url`, `oauth-scope`"
        );
        let text = "oauth-token-url = \"https://t/token\"\noauth-client-id = \"c\"\noauth-client-secret = \"cs-1\"\n\
                    oauth-client-secret-env = \"E\"\noauth-private-key = \"k.pem\"\noauth-key-id = \"kid\"\n\
                    oauth-federated-client-id = \"fc\"\noauth-federated-token-url = \"https://f/token\"\n\
                    oauth-scope = \"scim\"\n";
        let k = Config::parse(f, text).unwrap().oauth_keys();
        assert_eq!(k.oauth_token_url.as_deref(), Some("https://t/token"));
        assert_eq!(k.oauth_client_id.as_deref(), Some("c"));
        assert_eq!(k.oauth_client_secret.map(|s| s.0).as_deref(), Some("cs-1"));
        assert_eq!(k.oauth_client_secret_env.as_deref(), Some("E"));
        assert_eq!(k.oauth_private_key, Some(PathBuf::from("conf/k.pem")));
        assert_eq!(k.oauth_key_id.as_deref(), Some("kid"));
        assert_eq!(k.oauth_federated_client_id.as_deref(), Some("fc"));
        assert_eq!(k.oauth_federated_token_url.as_deref(), Some("https://f/token"));
        assert_eq!(k.oauth_scope.as_deref(), Some("scim"));
    }
}
