//! `scimcheck record`: a reverse proxy between the IdP and the vendor's SCIM server that keeps every exchange.
//!
//! Every request is forwarded to the upstream unchanged — method, path below the base URI, query string as
//! encoded, every header but the hop-by-hop ones (RFC 9110 §7.6.1) and `Host`, and the body streamed as it
//! arrives — and the upstream's status, headers and body are streamed back unchanged. The copy kept for the
//! recording is taken on the side (up to the capture limit), so the IdP sees the upstream's answer byte for byte.
//! A request body larger than `--body-limit` is refused with 413 (RFC 7644 §3.12) before the upstream sees a
//! complete request, so nothing is half-applied. A path whose dot segments climb out of the upstream's base path
//! is refused with 400 and never forwarded ([`super::target`]); other dot segments are removed before forwarding.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use bytes::Bytes;
use clap::Args;
use futures::{Stream, StreamExt};
use tokio::sync::{oneshot, Notify};
use tokio::task::JoinHandle;

use super::{CapturedBody, CredentialStyle, Flow, IdpChoice, CREDENTIAL_HEADERS};
use crate::exchange::{BaseUri, TransportKind};

/// `scimcheck record`.
#[derive(Debug, Clone, Args)]
pub struct RecordArgs {
    /// SCIM base URI of the real server the IdP's requests are forwarded to [default: `base-url` of the settings
    /// file].
    #[arg(long)]
    pub upstream: Option<String>,
    /// Settings file (default: ./scimcheck.toml when it exists): its `base-url` is the upstream when --upstream is
    /// not given, and its `ca-cert` files are trusted too.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address the IdP (through its tunnel or gateway) sends requests to; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:9100")]
    pub listen: SocketAddr,
    /// Folder the scenarios are written to (as `<out>/<idp>/recorded_<time>/<flow>.json`).
    #[arg(long)]
    pub out: PathBuf,
    /// Which IdP sends the traffic.
    #[arg(long, value_name = "auto|okta|entra|rfc", default_value = "auto", value_parser = IdpChoice::parse)]
    pub idp: IdpChoice,
    /// Stop after this many requests have been answered.
    #[arg(long, value_parser = |s: &str| crate::options::count_in(s, 1, usize::MAX))]
    pub stop_after: Option<usize>,
    /// Stop when no request has arrived for this long (e.g. `30s`, `5m`, `1h`), 1 ms to 30 days.
    #[arg(long, value_parser = parse_duration)]
    pub idle: Option<Duration>,
    /// Largest request body forwarded, in bytes; larger ones are answered 413. Response bodies are always
    /// forwarded whole; the recording keeps at most this many bytes of each.
    #[arg(long, default_value_t = DEFAULT_BODY_LIMIT, value_parser = crate::options::body_limit)]
    pub body_limit: usize,
    /// Also trust the CA certificates in this PEM file for the upstream (repeatable).
    #[arg(long = "ca-cert")]
    pub ca_cert: Vec<PathBuf>,
    /// Do not verify the upstream's TLS certificate (test setups only).
    #[arg(long)]
    pub insecure: bool,
    /// Time a request head may take to arrive (a client dripping its headers is closed), 1 ms to 1 day.
    #[arg(long, default_value = "10s", value_parser = crate::options::idle)]
    pub header_timeout: Duration,
    /// How long an idle keep-alive connection from the IdP stays open, 1 ms to 1 day.
    #[arg(long, default_value = "60s", value_parser = crate::options::idle)]
    pub idle_timeout: Duration,
    /// Connections from the IdP open at once (more wait in the kernel's queue), 1 to 1,024.
    #[arg(long, default_value_t = 512, value_parser = crate::options::parallelism)]
    pub max_connections: usize,
    /// Time the upstream has to answer a forwarded request (head and body); past it the IdP gets 504.
    #[arg(long, default_value = "60s", value_parser = crate::options::idle)]
    pub upstream_timeout: Duration,
}

/// Default request body limit: 10 MiB (Okta's largest group PATCH of 1000 members is far below).
pub const DEFAULT_BODY_LIMIT: usize = 10 * 1024 * 1024;

/// Parses `record --idle`: `250ms`, `30s`, `5m`, `1h`, `2d` (a bare number is seconds), 1 ms to 30 days
/// ([`crate::options::idle`], the parser every command shares).
///
/// Errors: not a duration, or out of range.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    crate::options::idle(s)
}

/// Hop-by-hop headers (RFC 9110 §7.6.1) and `Host`: these belong to one connection, not to the request.
const NOT_FORWARDED: &[&str] =
    &["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host"];

/// Where the proxy forwards to.
#[derive(Debug, Clone)]
pub struct Upstream {
    /// `scheme://host[:port]` plus the base path, and the base URI's own query string (e.g. Entra's
    /// `aadOptscim062020`), prepended to every request's.
    uri: BaseUri,
    /// The base URI as it may be shown (no user info, no query).
    display: String,
}

impl Upstream {
    /// Parses and checks an upstream base URI (`http` or `https`).
    pub fn parse(s: &str) -> Result<Upstream, String> {
        let url = reqwest::Url::parse(s).map_err(|e| format!("--upstream `{s}` is not a URL: {e}"))?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(format!("--upstream must be an http or https URL, not {}", url.scheme()));
        }
        let host = url.host_str().ok_or("--upstream has no host")?;
        let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
        let origin = format!("{}://{host}{port}", url.scheme());
        let path = url.path().trim_end_matches('/');
        let base = if url.username().is_empty() && url.password().is_none() {
            format!("{origin}{path}")
        } else {
            let mut u = url.clone();
            u.set_query(None);
            u.as_str().trim_end_matches('/').to_string()
        };
        let uri = match url.query() {
            Some(q) => BaseUri::new(&format!("{base}?{q}")),
            None => BaseUri::new(&base),
        };
        Ok(Upstream { uri, display: format!("{origin}{path}") })
    }

    /// The URL a request for `path?query` is forwarded to ([`BaseUri::join`]: the base URI's query first).
    pub fn url_for(&self, path: &str, query: Option<&str>) -> String {
        self.uri.join(path, query.unwrap_or(""))
    }

    /// The base URI without credentials or query, for messages and the scenarios' `source`.
    pub fn display(&self) -> &str {
        &self.display
    }
}

/// Proxy settings.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    /// The upstream.
    pub upstream: Upstream,
    /// Listen address.
    pub listen: SocketAddr,
    /// Request body limit and per-body capture limit, in bytes.
    pub body_limit: usize,
    /// TLS trust for the upstream (`--ca-cert`, `--insecure`).
    pub tls: crate::http::TlsOptions,
    /// Header, idle and connection bounds of the listening side: the reference server's accept loop
    /// ([`scim_reference_server::serve`]), so a client dripping headers, holding idle connections or opening
    /// thousands of them cannot hold the proxy (its body timeout does not apply: bodies are streamed).
    pub limits: scim_reference_server::serve::Limits,
    /// Time the upstream has to answer a forwarded request, head and body; past it the IdP gets 504 (RFC 9110
    /// §15.6.5).
    pub upstream_timeout: Duration,
}

/// What the proxy has captured so far.
#[derive(Default)]
struct Capture {
    flows: Mutex<Vec<(u64, Flow)>>,
    secrets: Mutex<BTreeSet<String>>,
    seq: AtomicU64,
    completed: AtomicUsize,
    in_flight: AtomicUsize,
    last_activity: Mutex<Option<Instant>>,
    changed: Notify,
}

impl Capture {
    fn touch(&self) {
        *self.last_activity.lock().expect("lock") = Some(Instant::now());
    }

    fn push(&self, seq: u64, flow: Flow) {
        self.flows.lock().expect("lock").push((seq, flow));
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.completed.fetch_add(1, Ordering::SeqCst);
        self.touch();
        self.changed.notify_waiters();
    }
}

struct Shared {
    client: reqwest::Client,
    config: ProxyConfig,
    capture: Arc<Capture>,
}

/// A running recorder proxy.
pub struct RunningProxy {
    /// The address it listens on (the actual port when 0 was asked for).
    pub addr: SocketAddr,
    capture: Arc<Capture>,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    started: Instant,
}

/// Why recording stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// Ctrl-C.
    Interrupted,
    /// `--stop-after N` requests were answered.
    Count(usize),
    /// `--idle` passed without a request.
    Idle(Duration),
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::Interrupted => f.write_str("Ctrl-C"),
            StopReason::Count(n) => write!(f, "{n} requests answered (--stop-after)"),
            StopReason::Idle(d) => write!(f, "no request for {:.0} s (--idle)", d.as_secs_f64()),
        }
    }
}

/// The client every forwarded request goes through: the shared builder ([`crate::http::client`]: rustls, no
/// redirects followed, so the IdP sees them; no decompression, so bodies pass through as sent).
///
/// Errors: the client cannot be built ([`crate::http::ClientError`]).
pub fn forwarding_client(tls: &crate::http::TlsOptions) -> Result<reqwest::Client, crate::http::ClientError> {
    crate::http::client(&crate::http::ClientOptions {
        tls: tls.clone(),
        connect_timeout: Duration::from_secs(10),
        pool_max_idle_per_host: 64,
        ..Default::default()
    })
}

impl RunningProxy {
    /// Binds the listen address and starts forwarding.
    pub async fn start(config: ProxyConfig) -> Result<RunningProxy, String> {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let capture = Arc::new(Capture::default());
        let shared = Arc::new(Shared { client: forwarding_client(&config.tls)?, config, capture: capture.clone() });
        let app = Router::new().fallback(forward).with_state(shared.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let limits = shared.config.limits;
        let task = tokio::spawn(scim_reference_server::serve::serve(listener, app, limits, rx));
        Ok(RunningProxy { addr, capture, shutdown: Some(tx), task, started: Instant::now() })
    }

    /// Requests answered so far.
    pub fn completed(&self) -> usize {
        self.capture.completed.load(Ordering::SeqCst)
    }

    /// Waits for the first stop condition: Ctrl-C (when `ctrl_c`), `stop_after` answered requests, or `idle`
    /// without any request (counted from the last activity, or from the start).
    pub async fn wait(&self, stop_after: Option<usize>, idle: Option<Duration>, ctrl_c: bool) -> StopReason {
        let interrupt = async {
            if ctrl_c && tokio::signal::ctrl_c().await.is_ok() {
                return;
            }
            std::future::pending::<()>().await
        };
        tokio::pin!(interrupt);
        loop {
            let notified = self.capture.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(n) = stop_after {
                if self.completed() >= n {
                    return StopReason::Count(n);
                }
            }
            let idle_deadline = idle.map(|d| {
                let last = self.capture.last_activity.lock().expect("lock").unwrap_or(self.started);
                last + d
            });
            let sleep = async {
                match idle_deadline {
                    Some(t) => tokio::time::sleep_until(t.into()).await,
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = &mut interrupt => return StopReason::Interrupted,
                _ = &mut notified => {}
                _ = sleep => {
                    if self.capture.in_flight.load(Ordering::SeqCst) == 0 {
                        let last = self.capture.last_activity.lock().expect("lock").unwrap_or(self.started);
                        if let Some(d) = idle {
                            if last.elapsed() >= d {
                                return StopReason::Idle(d);
                            }
                        }
                    } else {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
        }
    }

    /// Stops listening, lets requests in flight finish (up to 10 s) and returns the flows in arrival order
    /// with the secrets seen in credential headers.
    pub async fn finish(mut self) -> (Vec<Flow>, Vec<String>) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if tokio::time::timeout(Duration::from_secs(10), &mut self.task).await.is_err() {
            self.task.abort();
        }
        let mut flows = std::mem::take(&mut *self.capture.flows.lock().expect("lock"));
        flows.sort_by_key(|(seq, _)| *seq);
        let secrets = self.capture.secrets.lock().expect("lock").iter().cloned().collect();
        (flows.into_iter().map(|(_, f)| f).collect(), secrets)
    }
}

fn scim_error(status: StatusCode, detail: &str) -> Response {
    let body = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": status.as_u16().to_string(),
        "detail": detail,
    });
    (status, [(header::CONTENT_TYPE, "application/scim+json")], body.to_string()).into_response()
}

fn lossy(v: &HeaderValue) -> String {
    String::from_utf8_lossy(v.as_bytes()).into_owned()
}

/// The proxy's only handler: forward, stream back, keep a copy.
async fn forward(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let capture = &shared.capture;
    let seq = capture.seq.fetch_add(1, Ordering::SeqCst);
    capture.in_flight.fetch_add(1, Ordering::SeqCst);
    capture.touch();
    let t0 = Instant::now();
    let started = chrono::Utc::now();
    let limit = shared.config.body_limit;
    let (parts, body) = req.into_parts();
    let query = parts.uri.query().map(str::to_string);
    let path = match super::target::normalise(parts.uri.path()) {
        Ok(p) => p,
        Err(super::target::Escapes) => {
            // never forwarded, never recorded: it names something outside the SCIM API the recording is about
            capture.in_flight.fetch_sub(1, Ordering::SeqCst);
            return scim_error(
                StatusCode::BAD_REQUEST,
                "scimcheck record: the request path leaves the upstream's base path through dot segments (RFC 3986 §5.2.4); it was not forwarded",
            );
        }
    };

    let mut forwarded = reqwest::header::HeaderMap::new();
    let mut request_headers = Vec::new();
    let mut credential = None;
    for (name, value) in &parts.headers {
        let n = name.as_str();
        if NOT_FORWARDED.contains(&n) {
            continue;
        }
        forwarded.append(name.clone(), value.clone());
        if CREDENTIAL_HEADERS.contains(&n) || super::credentials::is_credential_name(n) {
            let v = lossy(value);
            if n == "authorization" {
                credential = Some(CredentialStyle::of(&v));
            }
            capture.secrets.lock().expect("lock").extend(crate::credential::secrets_of_header(&v));
            continue;
        }
        request_headers.push((n.to_string(), lossy(value)));
    }
    let mut flow = Flow {
        started,
        elapsed_ms: 0.0,
        method: parts.method.as_str().to_string(),
        path: path.clone(),
        query: match &query {
            Some(q) => {
                let mut seen = Vec::new();
                let kept = super::credentials::scrub_query(q, &mut seen);
                capture.secrets.lock().expect("lock").extend(seen);
                kept
            }
            None => String::new(),
        },
        request_headers,
        credential,
        request_body: CapturedBody::Empty,
        status: 0,
        response_headers: vec![],
        response_body: CapturedBody::Empty,
        error: None,
    };
    let too_large = || {
        scim_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("scimcheck record: the request body is larger than the recorder's limit of {limit} bytes (--body-limit); it was not forwarded"),
        )
    };

    let declared: Option<u64> =
        parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        flow.status = 413;
        flow.error =
            Some(format!("request body of {} bytes over the limit of {limit}; not forwarded", declared.unwrap_or(0)));
        flow.elapsed_ms = ms(t0.elapsed());
        capture.push(seq, flow);
        return too_large();
    }
    let has_body = declared.is_some_and(|n| n > 0) || parts.headers.contains_key(header::TRANSFER_ENCODING);

    let url = shared.config.upstream.url_for(&path, query.as_deref());
    let upstream_timeout = shared.config.upstream_timeout;
    let mut builder = shared.client.request(parts.method.clone(), url).headers(forwarded);
    let request_copy = Arc::new(Mutex::new(Vec::<u8>::new()));
    let over_limit = Arc::new(std::sync::atomic::AtomicBool::new(false));
    if has_body {
        let copy = request_copy.clone();
        let over = over_limit.clone();
        let stream = body.into_data_stream().map(move |chunk| match chunk {
            Ok(bytes) => {
                let mut c = copy.lock().expect("lock");
                if c.len() + bytes.len() > limit {
                    over.store(true, Ordering::SeqCst);
                    return Err(std::io::Error::other("request body over the recorder's limit"));
                }
                c.extend_from_slice(&bytes);
                Ok(bytes)
            }
            Err(e) => Err(std::io::Error::other(e.to_string())),
        });
        builder = builder.body(reqwest::Body::wrap_stream(stream));
    }
    let result = crate::exchange::forward(builder, upstream_timeout).await;
    flow.request_body = CapturedBody::from_bytes(&request_copy.lock().expect("lock"));
    let resp = match result {
        Ok(r) => r,
        Err(failure) => {
            flow.elapsed_ms = ms(t0.elapsed());
            if over_limit.load(Ordering::SeqCst) {
                flow.status = 413;
                flow.request_body = CapturedBody::Truncated;
                flow.error = Some(format!("request body over the limit of {limit} bytes; forwarding was aborted"));
                capture.push(seq, flow);
                return too_large();
            }
            // classified and described by the exchange, as every transport error of scimcheck is (a timeout
            // says how long the upstream timeout was)
            if failure.kind == TransportKind::Timeout {
                flow.status = 504;
                flow.error = Some(format!("the upstream {failure}"));
                capture.push(seq, flow);
                return scim_error(
                    StatusCode::GATEWAY_TIMEOUT,
                    &format!(
                        "scimcheck record: the upstream {} {failure} (--upstream-timeout)",
                        shared.config.upstream.display()
                    ),
                );
            }
            let why = failure.message;
            flow.status = 502;
            flow.error = Some(format!("upstream not reached: {why}"));
            capture.push(seq, flow);
            return scim_error(
                StatusCode::BAD_GATEWAY,
                &format!("scimcheck record could not reach the upstream {}: {why}", shared.config.upstream.display()),
            );
        }
    };
    flow.status = resp.status.as_u16();
    let mut out = Response::builder().status(resp.status);
    for (name, value) in &resp.headers {
        if NOT_FORWARDED.contains(&name.as_str()) {
            continue;
        }
        flow.response_headers.push((name.as_str().to_string(), lossy(value)));
        out = out.header(name, value);
    }
    let tee = ResponseTee {
        inner: resp.body,
        copy: Vec::new(),
        limit,
        truncated: false,
        error: None,
        pending: Some((seq, flow, t0, shared.capture.clone())),
    };
    match out.body(Body::from_stream(tee)) {
        Ok(r) => r,
        Err(e) => scim_error(StatusCode::BAD_GATEWAY, &format!("scimcheck record: bad upstream response: {e}")),
    }
}

/// Streams the upstream's body to the IdP and keeps a copy; the flow is stored when the body ends (or the IdP
/// goes away).
struct ResponseTee {
    inner: crate::exchange::BodyStream,
    copy: Vec<u8>,
    limit: usize,
    truncated: bool,
    error: Option<String>,
    pending: Option<(u64, Flow, Instant, Arc<Capture>)>,
}

impl ResponseTee {
    fn complete(&mut self, error: Option<String>) {
        if let Some((seq, mut flow, t0, capture)) = self.pending.take() {
            flow.elapsed_ms = ms(t0.elapsed());
            flow.response_body =
                if self.truncated { CapturedBody::Truncated } else { CapturedBody::from_bytes(&self.copy) };
            flow.error = error.or_else(|| self.error.take());
            capture.push(seq, flow);
        }
    }
}

impl Stream for ResponseTee {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(bytes))) => {
                if !self.truncated {
                    if self.copy.len() + bytes.len() > self.limit {
                        self.truncated = true;
                        self.copy = Vec::new();
                    } else {
                        self.copy.extend_from_slice(&bytes);
                    }
                }
                Poll::Ready(Some(Ok(bytes)))
            }
            Poll::Ready(Some(Err(e))) => {
                let why = crate::exchange::transport::innermost(&e);
                self.error = Some(format!("upstream body ended early: {why}"));
                Poll::Ready(Some(Err(std::io::Error::other(why))))
            }
            Poll::Ready(None) => {
                self.complete(None);
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for ResponseTee {
    fn drop(&mut self) {
        if self.pending.is_some() {
            self.complete(Some("the IdP closed the connection before the response ended".into()));
        }
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// Runs `scimcheck record`: proxy until a stop condition, then write the scenarios.
pub async fn record_command(args: RecordArgs) -> Result<i32, String> {
    let upstream = args
        .upstream
        .as_deref()
        .ok_or("no upstream: give --upstream URL (the SCIM base URI of your server), or base-url in scimcheck.toml")?;
    let upstream = Upstream::parse(upstream)?;
    if args.body_limit == 0 {
        return Err("--body-limit must be at least 1 byte".into());
    }
    if args.stop_after == Some(0) {
        return Err("--stop-after must be at least 1".into());
    }
    let display = upstream.display().to_string();
    if args.insecure {
        eprintln!("{}", crate::http::INSECURE_WARNING);
    }
    let tls = crate::http::TlsOptions { ca_certs: args.ca_cert.clone(), insecure: args.insecure };
    let limits = scim_reference_server::serve::Limits {
        header_timeout: args.header_timeout,
        idle_timeout: args.idle_timeout,
        max_connections: args.max_connections,
        ..Default::default()
    };
    let proxy = RunningProxy::start(ProxyConfig {
        upstream,
        listen: args.listen,
        body_limit: args.body_limit,
        tls,
        limits,
        upstream_timeout: args.upstream_timeout,
    })
    .await?;
    crate::outln!("scimcheck record: listening on http://{}, forwarding to {display}", proxy.addr);
    let mut stops = vec!["Ctrl-C".to_string()];
    if let Some(n) = args.stop_after {
        stops.push(format!("after {n} requests"));
    }
    if let Some(d) = args.idle {
        stops.push(format!("after {:.0} s without a request", d.as_secs_f64()));
    }
    crate::outln!(
        "Point the IdP's SCIM base URI at http://{}; recording stops on {}.",
        proxy.addr,
        stops.join(", or ")
    );
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let reason = proxy.wait(args.stop_after, args.idle, true).await;
    let (flows, secrets) = proxy.finish().await;
    crate::outln!("Stopped ({reason}): {} exchange(s) captured.", flows.len());
    let options = super::ConvertOptions {
        idp: args.idp.0,
        origin: format!("`scimcheck record` from upstream {display}"),
        now: chrono::Utc::now(),
    };
    super::convert::write_all(&flows, &options, &args.out, &secrets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert!(parse_duration("5 parsecs").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("abc").is_err());
    }

    #[test]
    fn upstream_urls_keep_base_path_and_query() {
        let u = Upstream::parse("https://staging.example.com/scim/v2/?aadOptscim062020").unwrap();
        assert_eq!(
            u.url_for("/Users", Some("filter=a")),
            "https://staging.example.com/scim/v2/Users?aadOptscim062020&filter=a"
        );
        assert_eq!(u.display(), "https://staging.example.com/scim/v2");
        let u = Upstream::parse("http://127.0.0.1:8080/t/acme/api/v1/SCIM/SCIMOkta").unwrap();
        assert_eq!(u.url_for("/Groups/1", None), "http://127.0.0.1:8080/t/acme/api/v1/SCIM/SCIMOkta/Groups/1");
        let u = Upstream::parse("https://user:pw@host/scim").unwrap();
        assert_eq!(u.display(), "https://host/scim");
        assert!(Upstream::parse("ftp://x/").is_err());
        assert!(Upstream::parse("not a url").is_err());
    }
}
