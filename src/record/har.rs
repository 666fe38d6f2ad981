//! `scimcheck import --har`: HAR 1.2 entries → [`Flow`]s, then the same conversion as `scimcheck record`.
//!
//! HAR 1.2 (docs/engines.md §D;
//! <https://github.com/ahmadnassri/har-spec/blob/e9e527000c79c4538d59e891caf18e25ba7cb8cc/versions/1.2.md>):
//! `log.entries[]` with `startedDateTime` (ISO 8601), `time` (ms), `request {method, url, headers[], cookies[],
//! postData.text}` and `response {status, headers[], content {text, encoding}}`. The spec warns HAR files may hold
//! sensitive data: credential headers and cookies are dropped here and their values only used to scrub what is
//! written.

use std::path::{Path, PathBuf};

use base64::Engine;
use clap::Args;
use serde_json::Value;

use super::{CapturedBody, CredentialStyle, Flow, IdpChoice, CREDENTIAL_HEADERS};

/// Path segments that start the SCIM part of a URL (RFC 7644 §3.2 endpoints).
const SCIM_ENDPOINTS: &[&str] = &[
    "Users",
    "Groups",
    "Schemas",
    "ServiceProviderConfig",
    "ServiceProviderConfigs",
    "ResourceTypes",
    "Bulk",
    "Me",
    ".search",
];

/// What a HAR file held.
#[derive(Debug, Clone)]
pub struct HarImport {
    /// The SCIM exchanges, in file order (HAR entries are sorted by start time).
    pub flows: Vec<Flow>,
    /// Credential values seen (never written).
    pub secrets: Vec<String>,
    /// `log.creator` as `name version`.
    pub creator: String,
    /// Entries left out, and why.
    pub notes: Vec<String>,
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

/// Reads HAR 1.2 text. `base_url` is the SCIM base URI the IdP called; without it, each URL's base is what
/// comes before its first SCIM endpoint segment (`/Users`, `/Groups`, …).
pub fn read_har(text: &str, base_url: Option<&str>) -> Result<HarImport, String> {
    let har: Value = serde_json::from_str(text).map_err(|e| format!("not a HAR file (invalid JSON: {e})"))?;
    let entries = har
        .pointer("/log/entries")
        .and_then(Value::as_array)
        .ok_or("not a HAR file: no `log.entries` array (HAR 1.2)")?;
    let creator = format!(
        "{} {}",
        str_at(&har, "/log/creator/name").unwrap_or("unknown"),
        str_at(&har, "/log/creator/version").unwrap_or("")
    )
    .trim()
    .to_string();
    let base = match base_url {
        Some(b) => Some(reqwest::Url::parse(b).map_err(|e| format!("--base-url `{b}` is not a URL: {e}"))?),
        None => None,
    };
    let mut out = HarImport { flows: vec![], secrets: vec![], creator, notes: vec![] };
    // Okta's role and entitlement endpoints are whatever the server's /ResourceTypes declared (docs/okta.md §5)
    let declared = super::entitlements::declared_endpoints_in_har(entries);
    for (i, e) in entries.iter().enumerate() {
        let n = i + 1;
        let (Some(method), Some(url)) = (str_at(e, "/request/method"), str_at(e, "/request/url")) else {
            out.notes.push(format!("entry {n} left out: no request.method or request.url"));
            continue;
        };
        let Ok(url) = reqwest::Url::parse(url) else {
            out.notes.push(format!("entry {n} left out: request.url is not a URL"));
            continue;
        };
        let path = match scim_path(&url, base.as_ref(), &declared) {
            Some(p) => p,
            None => {
                out.notes.push(format!("entry {n} ({method} {}) left out: not below the SCIM base URI", url.path()));
                continue;
            }
        };
        let mut request_headers = Vec::new();
        let mut credential = None;
        for h in e.pointer("/request/headers").and_then(Value::as_array).into_iter().flatten() {
            let (Some(name), Some(value)) = (str_at(h, "/name"), str_at(h, "/value")) else { continue };
            let lower = name.to_ascii_lowercase();
            if lower.starts_with(':') || lower == "host" || lower == "content-length" {
                continue;
            }
            if CREDENTIAL_HEADERS.contains(&lower.as_str()) || super::credentials::is_credential_name(&lower) {
                if lower == "authorization" {
                    credential = Some(CredentialStyle::of(value));
                }
                out.secrets.extend(crate::credential::secrets_of_header(value));
                continue;
            }
            request_headers.push((lower, value.to_string()));
        }
        for c in e.pointer("/request/cookies").and_then(Value::as_array).into_iter().flatten() {
            if let Some(v) = str_at(c, "/value") {
                out.secrets.extend(crate::credential::secrets_of_header(v));
            }
        }
        let request_body = match str_at(e, "/request/postData/text") {
            Some(t) if !t.is_empty() => CapturedBody::Text(t.to_string()),
            _ => CapturedBody::Empty,
        };
        let status = e.pointer("/response/status").and_then(Value::as_u64).unwrap_or(0) as u16;
        let response_headers: Vec<(String, String)> = e
            .pointer("/response/headers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|h| Some((str_at(h, "/name")?.to_ascii_lowercase(), str_at(h, "/value")?.to_string())))
            .filter(|(n, _)| n != "set-cookie")
            .collect();
        let response_body = match (str_at(e, "/response/content/text"), str_at(e, "/response/content/encoding")) {
            (Some(t), Some(enc)) if enc.eq_ignore_ascii_case("base64") => {
                match base64::engine::general_purpose::STANDARD.decode(t.trim()) {
                    Ok(bytes) => CapturedBody::from_bytes(&bytes),
                    Err(_) => {
                        out.notes.push(format!("entry {n}: response body is not valid base64; kept as absent"));
                        CapturedBody::Empty
                    }
                }
            }
            (Some(t), _) => CapturedBody::from_bytes(t.as_bytes()),
            (None, _) => CapturedBody::Empty,
        };
        let started = str_at(e, "/startedDateTime")
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
            .map(|d| d.with_timezone(&chrono::Utc));
        let Some(started) = started else {
            out.notes.push(format!("entry {n} left out: startedDateTime is not an ISO 8601 date"));
            continue;
        };
        let elapsed_ms = e.pointer("/time").and_then(Value::as_f64).unwrap_or(0.0).max(0.0);
        out.flows.push(Flow {
            started,
            elapsed_ms,
            method: method.to_ascii_uppercase(),
            path,
            query: super::credentials::scrub_query(url.query().unwrap_or(""), &mut out.secrets),
            request_headers,
            credential,
            request_body,
            status,
            error: (status == 0).then(|| "no response in the HAR entry".to_string()),
            response_headers: if status == 0 { vec![] } else { response_headers },
            response_body,
        });
    }
    // HAR entries should be sorted by start time, but not every tool does it (HAR 1.2 `entries`)
    out.flows.sort_by_key(|f| f.started);
    out.secrets.sort();
    out.secrets.dedup();
    Ok(out)
}

/// The path of `url` below the SCIM base URI.
fn scim_path(url: &reqwest::Url, base: Option<&reqwest::Url>, declared: &[String]) -> Option<String> {
    match base {
        Some(b) => {
            if url.origin() != b.origin() {
                return None;
            }
            let prefix = b.path().trim_end_matches('/');
            let rest = url.path().strip_prefix(prefix)?;
            (rest.starts_with('/') && rest.len() > 1).then(|| rest.to_string())
        }
        None => {
            let segments: Vec<&str> = url.path().split('/').collect();
            let at = segments.iter().position(|s| SCIM_ENDPOINTS.contains(s) || declared.iter().any(|d| d == s))?;
            Some(format!("/{}", segments[at..].join("/")))
        }
    }
}

/// Default of `import --max-har-size`: 32 MiB. A HAR is parsed whole and takes several times its size in
/// memory (a 75.6 MB file peaked at 580 MB).
pub const DEFAULT_MAX_HAR_SIZE: usize = 32 << 20;

/// Reads a HAR file of at most `max` bytes; a larger one (by its size, or by what can be read from it — a pipe
/// has no size) is refused with the bound named, before it is parsed.
pub fn read_bounded(path: &Path, max: usize) -> Result<String, String> {
    use std::io::Read;
    let too_large = |size: String| {
        format!(
            "{}: the HAR file is {size}, over the --max-har-size of {max} bytes ({:.0} MiB); export fewer entries \
             (or only the SCIM requests), or raise --max-har-size",
            path.display(),
            max as f64 / (1 << 20) as f64
        )
    };
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if let Ok(m) = file.metadata() {
        if m.is_file() && m.len() > max as u64 {
            return Err(too_large(format!("{} bytes", m.len())));
        }
    }
    let mut bytes = Vec::new();
    file.take(max as u64 + 1).read_to_end(&mut bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() > max {
        return Err(too_large(format!("more than {max} bytes")));
    }
    String::from_utf8(bytes).map_err(|e| format!("{}: not UTF-8 text: {e}", path.display()))
}

/// `scimcheck import`.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// A HAR 1.2 file (mitmproxy's HAR export, a browser's network log).
    #[arg(long)]
    pub har: PathBuf,
    /// Folder the scenarios are written to (as `<out>/<idp>/recorded_<time>/<flow>.json`).
    #[arg(long)]
    pub out: PathBuf,
    /// Which IdP sent the traffic.
    #[arg(long, value_name = "auto|okta|entra|rfc", default_value = "auto", value_parser = IdpChoice::parse)]
    pub idp: IdpChoice,
    /// The SCIM base URI the IdP called (default: everything before the first `/Users`, `/Groups`, … segment).
    #[arg(long)]
    pub base_url: Option<String>,
    /// Largest HAR file read, in bytes (default 32 MiB, at most 1 GiB); a HAR is read whole and takes several
    /// times its size in memory, so a larger one is refused with this bound named.
    #[arg(long, default_value_t = DEFAULT_MAX_HAR_SIZE, value_parser = crate::options::body_limit)]
    pub max_har_size: usize,
}

/// Runs `scimcheck import --har`.
pub fn import_command(args: ImportArgs) -> Result<i32, String> {
    let text = read_bounded(&args.har, args.max_har_size)?;
    let import = read_har(&text, args.base_url.as_deref()).map_err(|e| format!("{}: {e}", args.har.display()))?;
    for n in &import.notes {
        crate::outln!("note: {n}");
    }
    crate::outln!("{}: {} SCIM exchange(s) from {}.", args.har.display(), import.flows.len(), import.creator);
    let name = Path::new(&args.har).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let options = super::ConvertOptions {
        idp: args.idp.0,
        origin: format!("`scimcheck import --har` from the HAR 1.2 file {name} (creator {})", import.creator),
        now: chrono::Utc::now(),
    };
    super::convert::write_all(&import.flows, &options, &args.out, &import.secrets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_outside_scim_and_credentials_are_left_out() {
        let har = serde_json::json!({"log": {"version": "1.2", "creator": {"name": "mitmproxy", "version": "10"}, "entries": [
            {"startedDateTime": "2026-01-01T10:00:00.000Z", "time": 5.5,
             "request": {"method": "GET", "url": "https://idp.example.com/scim/v2/Users?filter=userName+eq+%22a%22",
                         "headers": [{"name": "Authorization", "value": "Bearer tok-abcdef"}, {"name": "User-Agent", "value": "x"}],
                         "cookies": [{"name": "s", "value": "cookie-secret"}]},
             "response": {"status": 200, "headers": [{"name": "Set-Cookie", "value": "s=1"}],
                          "content": {"mimeType": "application/scim+json", "text": "eyJ0b3RhbFJlc3VsdHMiOjB9", "encoding": "base64"}}},
            {"startedDateTime": "2026-01-01T09:59:00.000Z", "time": 1,
             "request": {"method": "GET", "url": "https://idp.example.com/favicon.ico", "headers": []},
             "response": {"status": 404, "headers": [], "content": {}}}
        ]}});
        let imp = read_har(&har.to_string(), None).unwrap();
        assert_eq!(imp.flows.len(), 1);
        assert_eq!(imp.notes.len(), 1, "{:?}", imp.notes);
        let f = &imp.flows[0];
        assert_eq!(f.path, "/Users");
        assert_eq!(f.credential, Some(CredentialStyle::Bearer));
        assert!(f.request_headers.iter().all(|(n, _)| n != "authorization"));
        assert!(f.response_headers.is_empty());
        assert_eq!(f.response_body.json().unwrap()["totalResults"], 0);
        assert!(imp.secrets.contains(&"tok-abcdef".to_string()) && imp.secrets.contains(&"cookie-secret".to_string()));
        let with_base = read_har(&har.to_string(), Some("https://idp.example.com/scim/v2")).unwrap();
        assert_eq!(with_base.flows[0].path, "/Users");
        assert!(read_har("{}", None).unwrap_err().contains("log.entries"));
        assert!(read_har("nope", None).unwrap_err().contains("invalid JSON"));
    }

    /// A HAR over `--max-har-size` is refused before it is read whole, naming the bound.
    #[test]
    fn a_har_over_the_bound_is_refused_before_it_is_read() {
        let path = std::env::temp_dir().join(format!("scimcheck-har-bound-{}.har", std::process::id()));
        std::fs::write(&path, format!("{{\"log\": {{\"entries\": [], \"pad\": \"{}\"}}}}", "x".repeat(4096))).unwrap();
        let e = read_bounded(&path, 1024).unwrap_err();
        assert!(e.contains("--max-har-size of 1024 bytes") && e.contains("bytes"), "{e}");
        assert!(read_bounded(&path, 1 << 20).unwrap().contains("entries"));
        std::fs::remove_file(&path).unwrap();
    }

    /// A token in the query string (`access_token`, RFC 6750 §2.3; `api_key`) or in a
    /// credential-named header is not written, neither where it was sent nor where the server echoed it.
    #[test]
    fn credentials_in_query_strings_are_not_written() {
        let (token, key, header) = ("qtok-5f4e3d2c1b0a", "akey-0a1b2c3d4e5f", "htok-77665544");
        let listed = serde_json::json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": 0, "Resources": [], "next": format!("/Users?access_token={token}&api_key={key}")});
        let har = serde_json::json!({"log": {"version": "1.2", "creator": {"name": "mitmproxy", "version": "10"}, "entries": [
            {"startedDateTime": "2026-01-01T10:00:00.000Z", "time": 5.5,
             "request": {"method": "GET",
                         "url": format!("https://idp.example.com/scim/v2/Users?filter=userName+eq+%22a%22&access_token={token}&api_key={key}"),
                         "headers": [{"name": "X-Auth-Token", "value": header}, {"name": "User-Agent", "value": "Okta SCIM Client 1.0.0"}],
                         "queryString": [{"name": "access_token", "value": token}]},
             "response": {"status": 200, "headers": [{"name": "Content-Type", "value": "application/scim+json"},
                                                      {"name": "X-Echo", "value": header}],
                          "content": {"mimeType": "application/scim+json", "text": listed.to_string()}}}
        ]}});
        let imp = read_har(&har.to_string(), None).unwrap();
        assert_eq!(imp.flows[0].query, "filter=userName+eq+%22a%22");
        assert!(imp.flows[0].request_headers.iter().all(|(n, _)| n != "x-auth-token"));
        let texts = written(&imp, "query");
        assert!(texts.contains("userName"), "a scenario was written: {texts}");
        for secret in [token, key, header] {
            assert!(!texts.contains(secret), "{secret} written:\n{texts}");
        }
    }

    /// Every file `write_all` writes for `imp`, concatenated (in a temporary folder named after `name`, removed).
    fn written(imp: &HarImport, name: &str) -> String {
        let out = std::env::temp_dir().join(format!("scimcheck-har-{name}-{}", std::process::id()));
        let options = crate::record::ConvertOptions { idp: None, origin: "test".into(), now: chrono::Utc::now() };
        crate::record::convert::write_all(&imp.flows, &options, &out, &imp.secrets).unwrap();
        let mut texts = String::new();
        let mut dirs = vec![out.clone()];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    dirs.push(p);
                } else {
                    texts.push_str(&std::fs::read_to_string(&p).unwrap());
                }
            }
        }
        std::fs::remove_dir_all(&out).unwrap();
        texts
    }

    /// A short token (3 characters) is a secret like any other: the redactor replaces it where it stands as a whole
    /// token (an echoed header, a JSON value), so a recording never keeps it.
    #[test]
    fn a_short_token_is_not_written() {
        let token = "k9q";
        let user = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "u-1",
            "userName": "ann@example.com", "externalId": token});
        let har = serde_json::json!({"log": {"version": "1.2", "creator": {"name": "mitmproxy", "version": "10"}, "entries": [
            {"startedDateTime": "2026-01-01T10:00:00.000Z", "time": 5.5,
             "request": {"method": "GET", "url": "https://idp.example.com/scim/v2/Users/u-1",
                         "headers": [{"name": "Authorization", "value": format!("Bearer {token}")},
                                     {"name": "User-Agent", "value": "Okta SCIM Client 1.0.0"}]},
             "response": {"status": 200, "headers": [{"name": "Content-Type", "value": "application/scim+json"},
                                                      {"name": "X-Echo", "value": token}],
                          "content": {"mimeType": "application/scim+json", "text": user.to_string()}}}
        ]}});
        let imp = read_har(&har.to_string(), None).unwrap();
        assert!(imp.secrets.iter().any(|s| s == token), "{:?}", imp.secrets);
        let texts = written(&imp, "short");
        assert!(texts.contains("Recorded Okta flow"), "a scenario was written: {texts}");
        assert!(!texts.contains(&format!("\"{token}\"")) && !texts.contains(&format!("Bearer {token}")), "{texts}");
    }
}
