//! Command-line parsing: one vocabulary for IdPs (`entra`, with `azure` as an alias) and values in any case.

use clap::Parser;

use super::{Cli, Command};
use crate::idp::Idp;
use crate::scenario::Level;

fn parse(args: &[&str]) -> Command {
    Cli::try_parse_from(std::iter::once("scimcheck").chain(args.iter().copied()))
        .unwrap_or_else(|e| panic!("{args:?}: {e}"))
        .command
}

#[test]
fn run_and_list_take_entra_azure_and_any_case() {
    for name in ["entra", "azure", "Entra", "AZURE"] {
        let Command::Run(run) = parse(&["run", "--reference", "--idp", name]) else { panic!() };
        assert_eq!(run.select.idp, vec![Idp::Entra], "{name}");
    }
    let Command::Run(run) = parse(&["run", "--reference", "--idp", "Okta,RFC", "--level", "MUST,Should"]) else {
        panic!()
    };
    assert_eq!(run.select.idp, vec![Idp::Okta, Idp::Rfc]);
    assert_eq!(run.select.level, vec![Level::Must, Level::Should]);
    let Command::List(list) = parse(&["list", "--idp", "entra", "--format", "JSON"]) else { panic!() };
    assert_eq!(list.select.idp, vec![Idp::Entra]);
    assert_eq!(list.format, super::ListFormat::Json);
    let e = Cli::try_parse_from(["scimcheck", "run", "--reference", "--idp", "google"]).unwrap_err().to_string();
    assert!(e.contains("unknown IdP `google` (okta, entra (or azure), rfc)"), "{e}");
}

#[test]
fn simulate_record_and_import_take_entra_and_azure() {
    for name in ["entra", "azure", "Entra", "AZURE"] {
        let Command::Simulate(sim) = parse(&["simulate", "--idp", name, "--reference"]) else { panic!() };
        assert_eq!(sim.idp, Some(Idp::Entra), "{name}");
        let Command::Record(rec) = parse(&["record", "--upstream", "http://h", "--out", "o", "--idp", name]) else {
            panic!()
        };
        assert_eq!(rec.idp.0, Some(Idp::Entra), "{name}");
        let Command::Import(imp) = parse(&["import", "--har", "x.har", "--out", "o", "--idp", name]) else { panic!() };
        assert_eq!(imp.idp.0, Some(Idp::Entra), "{name}");
    }
    let Command::Simulate(sim) = parse(&["simulate", "--idp", "OKTA", "--reference", "--auth-style", "RAW"]) else {
        panic!()
    };
    assert_eq!(sim.idp, Some(Idp::Okta));
    // the recorder's `auto` wraps the same vocabulary: no IdP forced, or any one of the three
    for (name, want) in [("auto", None), ("AUTO", None), ("rfc", Some(Idp::Rfc)), ("Okta", Some(Idp::Okta))] {
        let Command::Import(imp) = parse(&["import", "--har", "x.har", "--out", "o", "--idp", name]) else { panic!() };
        assert_eq!(imp.idp.0, want, "{name}");
    }
    let Command::Record(rec) = parse(&["record", "--upstream", "http://h", "--out", "o"]) else { panic!() };
    assert_eq!(rec.idp.0, None);
    let e = Cli::try_parse_from(["scimcheck", "import", "--har", "x", "--out", "o", "--idp", "google"]).unwrap_err();
    assert!(e.to_string().contains("unknown IdP `google` (auto, okta, entra (or azure), rfc)"), "{e}");
}

#[test]
fn run_takes_a_positional_filter_and_quiet_or_verbose() {
    let Command::Run(run) = parse(&["run", "--reference", "spec_suite", "-q"]) else { panic!() };
    assert_eq!(run.select.pattern.as_deref(), Some("spec_suite"));
    assert!(run.quiet && !run.verbose);
    let Command::Run(run) = parse(&["run", "--reference", "-v"]) else { panic!() };
    assert!(run.verbose && run.select.pattern.is_none());
    assert!(Cli::try_parse_from(["scimcheck", "run", "--reference", "-q", "-v"]).is_err());
    assert!(Cli::try_parse_from(["scimcheck", "run", "--reference", "x", "--filter", "y"]).is_err());
    let all = crate::library::built_in().unwrap();
    let (selected, excluded) = super::select(&all, &run_select(&["run", "--reference", "spec_suite"]));
    assert_eq!(selected.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["okta::spec::spec_suite"]);
    assert_eq!(excluded.len(), all.len() - 1);
}

fn run_select(args: &[&str]) -> super::SelectArgs {
    let Command::Run(run) = parse(args) else { panic!() };
    run.select
}

/// `simulate` takes the settings file's `oauth-*` keys as `run` does: flags over keys, in one resolution
/// ([`crate::oauth::config::OAuthArgs::resolve`]).
#[test]
fn simulate_takes_the_settings_files_oauth_keys_under_its_flags() {
    let dir = std::env::temp_dir().join(format!("scimcheck-sim-oauth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("scimcheck.toml");
    std::fs::write(
        &file,
        "base-url = \"https://scim.example.com/scim/v2\"\noauth-token-url = \"https://login.example.com/token\"\n\
         oauth-client-id = \"file-client\"\noauth-client-secret = \"file-secret-1234\"\n",
    )
    .unwrap();
    let config = file.to_str().unwrap();
    let Command::Simulate(mut args) = parse(&["simulate", "--idp", "entra", "--config", config]) else { panic!() };
    super::config::apply_to_simulate(&mut args).unwrap();
    let clients = args.oauth.resolve(&args.oauth_keys).unwrap().expect("a client from the file");
    let secret = clients.secret.expect("the client with a secret");
    assert_eq!(
        (secret.token_url.as_str(), secret.client_id.as_str()),
        ("https://login.example.com/token", "file-client")
    );
    let Command::Simulate(mut args) =
        parse(&["simulate", "--idp", "entra", "--config", config, "--oauth-client-id", "flag-client"])
    else {
        panic!()
    };
    super::config::apply_to_simulate(&mut args).unwrap();
    let clients = args.oauth.resolve(&args.oauth_keys).unwrap().expect("a client");
    assert_eq!(clients.secret.expect("secret client").client_id, "flag-client");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `simulate` reads its token as `run` does: `--token`, else the variable `--token-env` or the settings file's
/// `token-env` names, else SCIMCHECK_TOKEN — the settings file's `token-env` outranks SCIMCHECK_TOKEN, and
/// `--token-env` outranks the file.
#[test]
fn simulate_takes_token_env_from_the_flag_over_the_settings_file() {
    let dir = std::env::temp_dir().join(format!("scimcheck-sim-token-env-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("scimcheck.toml");
    std::fs::write(&file, "base-url = \"https://scim.example.com/scim/v2\"\ntoken-env = \"FROM_FILE\"\n").unwrap();
    let config = file.to_str().unwrap();
    let Command::Simulate(mut args) = parse(&["simulate", "--idp", "entra", "--config", config]) else { panic!() };
    super::config::apply_to_simulate(&mut args).unwrap();
    assert_eq!(args.token_env.as_deref(), Some("FROM_FILE"));
    let Command::Simulate(mut args) =
        parse(&["simulate", "--idp", "entra", "--config", config, "--token-env", "FROM_FLAG"])
    else {
        panic!()
    };
    super::config::apply_to_simulate(&mut args).unwrap();
    assert_eq!(args.token_env.as_deref(), Some("FROM_FLAG"));
    std::fs::remove_dir_all(&dir).unwrap();
}
