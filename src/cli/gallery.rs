//! `scimcheck run --suite entra-gallery`: resolves the target and the attribute mapping, runs
//! [`crate::gallery`], prints the readiness table and writes the reports.
//!
//! Exit codes: 0 when Microsoft's validation would succeed; 1 otherwise (a mandatory test failed, a gallery
//! requirement is unmet, or no authentication test passed — "OAuth required"); 2 bad settings.

use std::time::Duration;

use super::settings::Settings;
use super::RunArgs;
use crate::gallery::auth::{AuthEvidence, Flow};
use crate::gallery::mapping::AttributeMapping;
use crate::gallery::{self, output, Verdict};
use crate::idp::Idp;
use crate::profile::AuthStyle;
use crate::runner::{Against, Credential};

/// Runs the gallery suite as `args` and `settings` say; returns the exit code.
pub async fn run(settings: &Settings, args: &RunArgs) -> Result<i32, String> {
    let mapping = match &settings.attribute_mapping {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| format!("--attribute-mapping {}: {e}", p.display()))?;
            AttributeMapping::from_portal_export(&text, &p.display().to_string())?
        }
        None => AttributeMapping::entra_default(),
    };
    let mut server = None;
    let (base_url, credential) = match &settings.target {
        Against::Reference => {
            let s = scim_reference_server::spawn(scim_reference_server::ServerConfig::default())
                .await
                .map_err(|e| format!("cannot start the reference server: {e}"))?;
            let (url, token) = crate::reference_app::endpoint_for(&s, Idp::Entra);
            server = Some(s);
            (url, Credential::Token(token).styled(AuthStyle::Bearer))
        }
        Against::Target(target) => (
            target.base_url.clone(),
            target.credential.clone().styled(settings.auth_style.unwrap_or(AuthStyle::Bearer)),
        ),
    };
    // every OAuth client's secrets and tokens are hidden, not only those of the one the SCIM tests use
    let redactor = settings
        .oauth
        .iter()
        .flat_map(|o| o.all())
        .fold(credential.redactor(), |r, s| r.and(&Credential::OAuth(s.clone()).redactor()));
    let auth = match &settings.oauth {
        Some(sources) => {
            let client = crate::http::client(&crate::http::ClientOptions {
                tls: settings.tls.clone(),
                connect_timeout: settings.timeout,
                pool_max_idle_per_host: 1,
                ..Default::default()
            })?;
            gallery::auth::evidence(sources, &client, &base_url, settings.timeout).await
        }
        None => AuthEvidence::default(),
    };
    // the SCIM tests go with the client-credentials token, or the assertion's when only that flow got one
    let credential = match (&settings.oauth, auth.scim_flow()) {
        (Some(o), Some(Flow::Federated)) => o.assertion.clone().map(Credential::OAuth).unwrap_or(credential),
        _ => credential,
    };
    let sent_with = match (&credential, auth.scim_flow()) {
        (Credential::OAuth(s), Some(flow)) => Some(format!(
            "SCIM requests sent with the {} token of client {}",
            match flow {
                Flow::ClientCredentials => "client credentials (client secret)",
                Flow::Federated => "JWT-bearer assertion",
            },
            s.config().client_id
        )),
        _ => None,
    };
    let options = gallery::Options {
        base_url: base_url.clone(),
        credential,
        mapping,
        auth,
        timeout: settings.timeout,
        tls: settings.tls.clone(),
        rate_window: args.rate_window.unwrap_or(Duration::from_secs(10)),
    };
    crate::outln!(
        "scimcheck: Microsoft's Entra gallery validation (25 tests) against {}",
        if server.is_some() {
            "the bundled reference server (SCIMAzure app)".to_string()
        } else {
            redactor.scrub(&base_url)
        }
    );
    if let Some(line) = sent_with {
        crate::outln!("{}", redactor.scrub(&line));
    }
    let mut report = gallery::run(&options).await;
    if let Some(s) = server {
        s.shutdown().await;
    }
    let report = report.as_mut().map_err(|e| e.clone())?;
    report.target = redactor.scrub(&report.target);
    let scrub = |s: String| redactor.scrub(&s);
    for t in report.tests.iter_mut() {
        t.detail = scrub(std::mem::take(&mut t.detail));
    }
    for q in report.requirements.iter_mut() {
        q.detail = scrub(std::mem::take(&mut q.detail));
    }
    crate::out!("\n{}", output::table(report));
    let write =
        |p: &std::path::Path, text: String| std::fs::write(p, text).map_err(|e| format!("{}: {e}", p.display()));
    if let Some(p) = &args.json {
        write(p, output::json(report))?;
    }
    if let Some(p) = &args.junit {
        write(p, output::junit(report))?;
    }
    if let Some(p) = &args.html {
        write(p, output::html(report))?;
    }
    Ok(if report.verdict == Verdict::Succeeded { 0 } else { 1 })
}

/// `scimcheck report` for a saved gallery JSON report: its JUnit and HTML forms, as the run writes them.
///
/// Errors: the file is not a gallery report ([`gallery::saved::read`]), a report file cannot be written.
pub fn render_saved(args: &super::ReportArgs, text: &str) -> Result<i32, String> {
    let report = gallery::saved::read(text).map_err(|e| format!("{}: {e}", args.json.display()))?;
    let write =
        |p: &std::path::Path, text: String| std::fs::write(p, text).map_err(|e| format!("{}: {e}", p.display()));
    if let Some(p) = &args.junit {
        write(p, output::junit(&report))?;
    }
    if let Some(p) = &args.html {
        write(p, output::html(&report))?;
    }
    Ok(0)
}
