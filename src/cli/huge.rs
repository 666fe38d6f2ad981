//! The memory benchmark of a run with reports (`scimcheck bench --huge-bodies`): what `scimcheck run` costs when
//! a server answers every request with a huge JSON body.
//!
//! Method: this process starts a local server (127.0.0.1, port 0) that answers every request with the same
//! JSON document of `--body-mib` MiB (a SCIM ListResponse of generated users, 200,
//! `application/scim+json`), then runs the Okta library against it through the same code as `scimcheck run
//! --idp okta --json … --html … --junit …` (four scenarios at a time), and reads its own peak resident set
//! (`VmHWM` in `/proc/self/status`, Linux). The figure includes the server (one shared copy of the body) and the
//! reports being written, so it overstates what `scimcheck run` alone needs. The run's reports go to a fresh
//! temporary folder and are measured, then deleted. Targets: peak RSS under [`RSS_TARGET_MB`] MB, JSON report
//! under [`JSON_TARGET_MB`] MB.

use std::net::SocketAddr;
use std::path::Path;

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use bytes::Bytes;

/// Target for the peak resident set of a run against huge bodies, in MB (10^6 bytes).
pub const RSS_TARGET_MB: f64 = 200.0;

/// Target for the JSON report of that run, in MB (10^6 bytes).
pub const JSON_TARGET_MB: f64 = 20.0;

/// A SCIM ListResponse (RFC 7644 §3.4.2) of generated users, at least `bytes` long. Written as text, so making it
/// costs no more memory than the body itself.
pub fn huge_body(bytes: usize) -> Bytes {
    let mut users = String::with_capacity(bytes + 512);
    let mut n = 0u64;
    while users.len() + 200 < bytes || n == 0 {
        n += 1;
        if n > 1 {
            users.push(',');
        }
        users.push_str(&format!(
            "{{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"id\":\"u-{n:08}\",\
             \"userName\":\"user{n:08}@example.com\",\"name\":{{\"givenName\":\"Given{n}\",\
             \"familyName\":\"Family{n}\"}},\"emails\":[{{\"value\":\"user{n:08}@example.com\",\
             \"type\":\"work\",\"primary\":true}}],\"active\":true}}"
        ));
    }
    let doc = format!(
        "{{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:ListResponse\"],\"totalResults\":{n},\
         \"startIndex\":1,\"itemsPerPage\":{n},\"Resources\":[{users}]}}"
    );
    Bytes::from(doc)
}

/// Serves `body` (200, `application/scim+json`) to every request on 127.0.0.1, port 0; returns the address.
///
/// Errors: the listener cannot be bound.
pub async fn serve(body: Bytes) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new().fallback(move || {
        let body = body.clone();
        async move { (StatusCode::OK, [(header::CONTENT_TYPE, "application/scim+json")], body).into_response() }
    });
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((addr, task))
}

/// The peak resident set of this process in bytes (`VmHWM`), where the platform tells it.
pub fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.trim_start_matches("VmHWM:").trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib * 1024)
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn file_size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

/// Runs the benchmark and prints its figures; returns 0 when both targets are met, 1 otherwise.
///
/// Errors: the server cannot start, the temporary folder cannot be made, or the run cannot be made.
pub async fn bench(body_mib: f64, jobs: usize) -> Result<i32, String> {
    if !body_mib.is_finite() || body_mib <= 0.0 {
        return Err("--body-mib must be a positive number".into());
    }
    let body = huge_body((body_mib * 1024.0 * 1024.0) as usize);
    let body_len = body.len();
    let (addr, server) = serve(body).await.map_err(|e| format!("cannot start the local server: {e}"))?;
    let dir = std::env::temp_dir().join(format!("scimcheck-bench-huge-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let (json, html, junit) = (dir.join("report.json"), dir.join("report.html"), dir.join("report.xml"));
    let base = format!("http://{addr}/scim/v2");
    let jobs = jobs.max(1).to_string();
    let argv = [
        "scimcheck",
        "run",
        "--base-url",
        &base,
        "--token",
        "bench-token",
        "--idp",
        "okta",
        "--no-preflight",
        "--jobs",
        &jobs,
        "--json",
        json.to_str().unwrap_or_default(),
        "--html",
        html.to_str().unwrap_or_default(),
        "--junit",
        junit.to_str().unwrap_or_default(),
    ];
    let before = peak_rss();
    let args = crate::cli::parse_run_args(argv)?;
    let code = crate::cli::run::run(args).await;
    let peak = peak_rss();
    server.abort();
    let sizes = (file_size(&json), file_size(&html), file_size(&junit));
    let _ = std::fs::remove_dir_all(&dir);
    let code = code?;
    crate::outln!();
    crate::outln!(
        "huge bodies: every response is a {:.2} MiB JSON body; the Okta library, {jobs} at a time",
        body_len as f64 / 1048576.0
    );
    crate::outln!("run exit code: {code} (failures are expected: the server answers everything with the same list)");
    crate::outln!("reports: JSON {:.2} MB, HTML {:.2} MB, JUnit {:.2} MB", mb(sizes.0), mb(sizes.1), mb(sizes.2));
    let json_ok = mb(sizes.0) < JSON_TARGET_MB;
    crate::outln!("JSON report: {:.2} MB (target: under {JSON_TARGET_MB} MB) — {}", mb(sizes.0), met(json_ok));
    let rss_ok = match (before, peak) {
        (Some(b), Some(p)) => {
            crate::outln!(
                "peak RSS (VmHWM of this process, local server included): {:.1} MB (target: under {RSS_TARGET_MB} MB) — {}; before the run: {:.1} MB",
                mb(p),
                met(mb(p) < RSS_TARGET_MB),
                mb(b)
            );
            mb(p) < RSS_TARGET_MB
        }
        _ => {
            crate::outln!("peak RSS: not measured (no /proc/self/status on this platform)");
            true
        }
    };
    Ok(if json_ok && rss_ok { 0 } else { 1 })
}

fn met(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "NOT met"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_huge_body_is_a_list_response_of_the_asked_size() {
        let body = huge_body(100_000);
        assert!(body.len() >= 100_000 && body.len() < 101_000, "{}", body.len());
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let n = v["Resources"].as_array().unwrap().len();
        assert_eq!(v["totalResults"], n);
        assert_eq!(v["Resources"][n - 1]["id"], format!("u-{n:08}"));
    }
}
