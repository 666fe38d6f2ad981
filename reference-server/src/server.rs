//! Assembling and running the server: tenants from the seed configuration, tenant and app resolution,
//! authentication, the SCIM router behind it, the admin API, graceful shutdown.
//!
//! A SCIM request is addressed to `http://<tenant>.<baseDomain>/api/v1/SCIM/<app>/…` or, as the loopback
//! form of the same subdomain portal, `http://<host>/t/<tenant>/api/v1/SCIM/<app>/…`. Checks, in order:
//! unknown tenant → 404; non-subdomain tenant → 403; unknown app → 404; missing, invalid, expired or
//! revoked token → 401; disabled app → 403.
//!
//! The authority a request was addressed to is the one in its target when the target is in absolute form
//! (`GET http://acme.localhost/api/…`; RFC 9112 §3.2.2: the Host header is then ignored), else its Host
//! header. It must be a valid `host[:port]` (RFC 9110 §7.2, RFC 3986 §3.2.2), else 400 (RFC 9112 §3.2).
//! Resource locations (`Location`, `meta.location`, `$ref`) are built from the configured public base URL
//! when there is one ([`ServerConfig::public_url`]), else from that authority.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower::ServiceExt;

use crate::clock::{SharedClock, SystemClock};
use crate::config::{Config, SeededApp};
use crate::directory::{Directory, DirectoryConfig};
use crate::discovery::Features;
use crate::error::ScimError;
use crate::http::extract::BodyTimeout;
use crate::http::response::authentication_required;
use crate::http::{self, ScimContext};
use crate::serve::{self, Limits};
use crate::sqlite::{Db, SyncMode};
use crate::tenant::{AppKind, DomainPolicy, Tenants};
use crate::token::{parse_authorization, AuthFailure};

pub use crate::state::{split_authority, AppState, PublicUrl, SCIM_PATH};

/// How to run the server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where to listen; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The seed (tenants, CALs, apps, tokens); the built-in seed when absent.
    pub seed: Option<Config>,
    /// A known token for the first tenant's `SCIMOkta` app (at least 16 characters), replacing the generated one.
    pub token: Option<String>,
    /// The largest accepted request body in bytes (default 1 MiB); larger bodies answer 413.
    pub body_limit: usize,
    /// Paging limits.
    pub directory: DirectoryConfig,
    /// Where time comes from.
    pub clock: SharedClock,
    /// Connection limit and timeouts.
    pub limits: Limits,
    /// The server's public base URL (`https://scim.example.com`, optionally with a path prefix), for
    /// `Location`, `meta.location` and `$ref`; without it they use the authority of each request.
    pub public_url: Option<String>,
    /// The data file (`--data`): tenants, apps, hashed tokens, CAL ledgers and resources persist in it, and a
    /// file that already holds tenants is served as it is (the seed is only applied to a new file). Without it
    /// everything lives in memory.
    pub data: Option<PathBuf>,
    /// How hard each commit to the data file pushes to disk.
    pub data_sync: SyncMode,
    /// With a data file: how stale a token's stored `lastUsed` may get. Authentication never writes; a
    /// background task writes a token's use behind once it is this much newer than the stored one (a first
    /// use at once), so a token costs at most one write per interval. Graceful shutdown writes every use
    /// still unwritten. Default 60 s.
    pub token_use_interval: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: None,
            token: None,
            body_limit: 1 << 20,
            directory: DirectoryConfig::default(),
            clock: Arc::new(SystemClock),
            limits: Limits::default(),
            public_url: None,
            data: None,
            data_sync: SyncMode::default(),
            token_use_interval: Duration::from_secs(60),
        }
    }
}

impl ServerConfig {
    /// Uses a fixed token for the first tenant's SCIMOkta app.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }
    /// Listens on `addr`.
    pub fn with_listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }
    /// Seeds from a configuration.
    pub fn with_seed(mut self, seed: Config) -> Self {
        self.seed = Some(seed);
        self
    }
    /// Reads time from `clock`.
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }
    /// Uses these connection limits and timeouts.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
    /// Persists everything in the SQLite file at `path`.
    pub fn with_data(mut self, path: impl Into<PathBuf>) -> Self {
        self.data = Some(path.into());
        self
    }
    /// Builds resource locations from this public base URL.
    pub fn with_public_url(mut self, url: impl Into<String>) -> Self {
        self.public_url = Some(url.into());
        self
    }
}

fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Where the data file keeps the admin key's SHA-256 digest (hex).
const ADMIN_KEY_DIGEST: &str = "adminKeySha256";

/// The admin key: the one the configuration gives, else the one the data file holds (as a digest only), else
/// a new one (whose digest the data file then keeps). Returns the key to show — empty when only its digest is
/// known — and its digest. The configured key always wins and replaces a stored digest, so starting once with
/// a configuration that names a key replaces a lost generated one.
///
/// Errors: the data file cannot be read or written, or holds a digest that is not 32 bytes of hex.
fn resolve_admin_key(configured: Option<&str>, db: Option<&Db>) -> std::io::Result<(String, [u8; 32])> {
    let stored = match db {
        Some(db) => db.server_value(ADMIN_KEY_DIGEST).map_err(start_error)?,
        None => None,
    };
    let (shown, key_digest) = match (configured, &stored) {
        (Some(key), _) => (key.to_string(), digest(key)),
        (None, Some(hex_digest)) => {
            let bytes = hex::decode(hex_digest).ok().and_then(|b| <[u8; 32]>::try_from(b).ok());
            let stored = bytes.ok_or_else(|| io_error("the data file holds an unreadable admin key digest"))?;
            (String::new(), stored)
        }
        (None, None) => {
            let key = crate::token::generate_secret("admin_");
            let d = digest(&key);
            (key, d)
        }
    };
    let hex_digest = hex::encode(key_digest);
    if let Some(db) = db {
        if stored.as_deref() != Some(hex_digest.as_str()) {
            db.set_server_value(ADMIN_KEY_DIGEST, &hex_digest).map_err(start_error)?;
        }
    }
    Ok((shown, key_digest))
}

/// Writes tokens' uses behind (see [`ServerConfig::token_use_interval`]) until aborted. The write runs on
/// the blocking pool: it waits for the data file, which a long SCIM write may hold.
async fn write_token_use_behind(tenants: Arc<Tenants>, interval: Duration) {
    let min_age = chrono::TimeDelta::from_std(interval).unwrap_or(chrono::TimeDelta::MAX);
    let tick = (interval / 60).clamp(Duration::from_millis(10), Duration::from_secs(1));
    loop {
        tokio::time::sleep(tick).await;
        let t = tenants.clone();
        if let Ok(Err(e)) = tokio::task::spawn_blocking(move || t.flush_token_use(min_age)).await {
            tracing::warn!(error = %e, "token use could not be written to the data file; retrying");
        }
    }
}

/// Where a request was addressed: tenant, app and the SCIM path below the app's base URI.
#[derive(Debug, PartialEq, Eq)]
struct Route<'a> {
    tenant: &'a str,
    app: &'a str,
    /// The base path (`/t/acme/api/v1/SCIM/SCIMOkta` or `/api/v1/SCIM/SCIMOkta`).
    prefix: &'a str,
    rest: &'a str,
}

fn route<'a>(host: &'a str, path: &'a str, base_domain: &str) -> Option<Route<'a>> {
    let (tenant, after_tenant, skip) = if let Some(r) = path.strip_prefix("/t/") {
        let (tenant, rest) = r.split_once('/').unwrap_or((r, ""));
        (tenant, rest, 3 + tenant.len())
    } else {
        let hostname =
            host.rsplit_once(':').map_or(host, |(h, p)| if p.bytes().all(|b| b.is_ascii_digit()) { h } else { host });
        let sub = hostname.strip_suffix(base_domain)?.strip_suffix('.')?;
        if sub.is_empty() || sub.contains('.') {
            return None;
        }
        (sub, path.strip_prefix('/')?, 0)
    };
    let scim = SCIM_PATH.trim_start_matches('/');
    let after_scim =
        after_tenant.get(..scim.len()).filter(|p| p.eq_ignore_ascii_case(scim)).map(|_| &after_tenant[scim.len()..])?;
    let after_scim = after_scim.strip_prefix('/')?;
    let (app, rest) = match after_scim.find('/') {
        Some(i) => (&after_scim[..i], &after_scim[i..]),
        None => (after_scim, ""),
    };
    let prefix_len = skip + 1 + scim.len() + 1 + app.len();
    Some(Route { tenant, app, prefix: &path[..prefix_len.min(path.len())], rest })
}

fn credential_error(f: AuthFailure) -> ScimError {
    ScimError::Unauthorized(f.detail().to_string())
}

/// Resolves tenant and app, authenticates, and hands the request to the SCIM router with its context.
async fn scim_entry(State(st): State<Arc<AppState>>, mut req: Request) -> Response {
    // RFC 9112 §3.2.2: an absolute-form target's authority wins over the Host header. Host names are
    // case-insensitive (RFC 9110 §4.2.3): `Acme.LocalHost` is tenant `acme` of `localhost`.
    let authority = match req.uri().authority() {
        Some(a) => Some(a.as_str().to_string()),
        None => match req.headers().get(header::HOST) {
            Some(h) => match h.to_str() {
                Ok(h) => Some(h.to_string()),
                Err(_) => {
                    return ScimError::BadRequest("the Host header is not valid (RFC 9112 §3.2)".into()).into_response()
                }
            },
            None => None,
        },
    };
    let host = match authority {
        Some(a) if split_authority(&a).is_some() => a.to_ascii_lowercase(),
        Some(_) => {
            return ScimError::BadRequest("the request's host is not a valid host[:port] (RFC 9112 §3.2)".into())
                .into_response()
        }
        None => st.origin.trim_start_matches("http://").to_string(),
    };
    let path = req.uri().path().to_string();
    let Some(r) = route(&host, &path, &st.base_domain.to_ascii_lowercase()) else {
        return ScimError::NotFound(format!("no SCIM service here; apps live at /t/<tenant>{SCIM_PATH}/<app>"))
            .into_response();
    };
    let Some(tenant) = st.tenants.get(r.tenant) else {
        let shown: String = r.tenant.chars().take(63).collect();
        return ScimError::NotFound(format!("tenant '{shown}' not found")).into_response();
    };
    if tenant.policy != DomainPolicy::Subdomain {
        return ScimError::Forbidden(
            "provisioning requires a subdomain portal: this tenant uses another domain policy".into(),
        )
        .into_response();
    }
    let Some(app) = AppKind::parse(r.app) else {
        return ScimError::NotFound("unknown provisioning app: use SCIMOkta or SCIMAzure".into()).into_response();
    };
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return authentication_required("authentication required: send 'Authorization: Bearer <token>'");
    };
    let Some(presented) = value.to_str().ok().and_then(parse_authorization) else {
        return credential_error(AuthFailure::Invalid).into_response();
    };
    // an OAuth access token (crate::oauth), else an API token
    let access = match presented.starts_with(crate::oauth::ACCESS_TOKEN_MARKER) {
        true => tenant.portal.authenticate_access_token(app, presented),
        false => Err(AuthFailure::Invalid),
    };
    let checked = match access {
        Err(AuthFailure::Invalid) => tenant.portal.authenticate(app, presented).map(|_| ()),
        other => other,
    };
    if let Err(f) = checked {
        return credential_error(f).into_response();
    }
    if !tenant.portal.app_enabled(app) {
        return ScimError::Forbidden(format!("the {} app is disabled for this tenant", app.name())).into_response();
    }
    let base = match &st.public_url {
        Some(u) if r.prefix.starts_with("/t/") => format!("{}{}", u.base(None), r.prefix),
        Some(u) => format!("{}{}", u.base(Some(&format!("{}.{}", r.tenant, st.base_domain))), r.prefix),
        None => format!("http://{host}{}", r.prefix),
    };
    let rest = if r.rest.is_empty() { "/".to_string() } else { r.rest.to_string() };
    let new_uri = match req.uri().query() {
        Some(q) => format!("{rest}?{q}"),
        None => rest,
    };
    match new_uri.parse::<Uri>() {
        Ok(u) => *req.uri_mut() = u,
        Err(_) => return ScimError::NotFound("malformed path".into()).into_response(),
    }
    req.extensions_mut().insert(ScimContext {
        directory: tenant.directory.clone(),
        base,
        body_limit: st.body_limit,
        features: st.features,
        app: Some(app),
        catalogue: tenant.portal.catalogue(app),
    });
    match st.scim.clone().oneshot(req).await {
        Ok(res) => res,
        Err(never) => match never {},
    }
}

async fn admin_auth(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    if !req.headers().contains_key(header::AUTHORIZATION) {
        return authentication_required("the admin API requires 'Authorization: Bearer <admin key>'");
    }
    let presented =
        req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(parse_authorization);
    match presented {
        Some(p) if bool::from(digest(p).ct_eq(&st.admin_key_digest)) => next.run(req).await,
        Some(_) => ScimError::Unauthorized("the admin key is invalid".into()).into_response(),
        None => {
            ScimError::Unauthorized("the admin API requires 'Authorization: Bearer <admin key>'".into()).into_response()
        }
    }
}

/// The whole application router.
pub fn app(state: Arc<AppState>) -> Router {
    let admin = http::admin::routes()
        .layer(middleware::from_fn_with_state(state.clone(), admin_auth))
        .with_state(state.clone());
    Router::new()
        .nest("/admin", admin)
        .route("/t/{tenant}/oauth2/token", axum::routing::post(http::oauth::token))
        .fallback(scim_entry)
        .layer(axum::Extension(BodyTimeout(state.body_timeout)))
        .with_state(state)
        .layer(middleware::from_fn(http::log_requests))
}

/// One provisioning endpoint of a running server.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The tenant's name.
    pub tenant: String,
    /// Which of its two apps.
    pub app: AppKind,
    /// The SCIM base URI at the listen address (path form), without a trailing slash.
    pub base_url: String,
    /// The token made or given at start, if any.
    pub token: Option<String>,
}

/// A server running in the background.
#[derive(Debug)]
pub struct RunningServer {
    /// The first tenant's SCIMOkta base URI, without a trailing slash.
    pub base_url: String,
    /// Its token.
    pub token: String,
    /// Every seeded endpoint with its token.
    pub endpoints: Vec<Endpoint>,
    /// The admin API key; empty when the data file holds only its digest (it was shown when it was made).
    pub admin_key: String,
    /// The admin API's base URI.
    pub admin_url: String,
    /// The bound address.
    pub addr: SocketAddr,
    /// All tenants (for tests and benchmarks that seed data directly).
    pub tenants: Arc<Tenants>,
    /// The first tenant's directory.
    pub directory: Arc<Directory>,
    /// The application router the listener serves (after `spawn_with`'s `wrap`), for [`RunningServer::service`].
    router: Router,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningServer {
    /// The endpoint of a tenant's app.
    pub fn endpoint(&self, tenant: &str, app: AppKind) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| e.tenant == tenant && e.app == app)
    }

    /// The application the listener serves, as a tower `Service` of `Request<axum::body::Body>`: a request
    /// handed to it directly (`ServiceExt::oneshot`) runs the same handlers, with the same status, headers and
    /// body, as one sent over TCP, minus what the connection adds (no `Date` header, no connection limits or
    /// header/idle timeouts of [`crate::serve`]). It addresses tenants as a connection does: by the path
    /// (`/t/{tenant}/…`) or by the `Host` header. Stays usable until [`RunningServer::shutdown`] returns.
    pub fn service(&self) -> Router {
        self.router.clone()
    }

    /// Stops accepting connections, lets in-flight requests finish, and waits for the server to end. With a
    /// data file, also waits (up to 60 s) until the last task holding it has let go, so that the file's lock is
    /// released when this returns and another server may open it at once. The wait is that long because a write
    /// already handed to a blocking thread runs to its end even after its connection was closed, and on a loaded
    /// machine that can take seconds; it returns as soon as the file is free.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
        let data_file = self.tenants.data_file().map(Arc::downgrade);
        drop(self);
        if let Some(weak) = data_file {
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
            while weak.strong_count() > 0 && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            if weak.strong_count() > 0 {
                tracing::warn!("the data file is still held 60 s after shutdown; its lock may not be released yet");
            }
        }
    }
}

fn io_error(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string())
}

/// A start-up failure (a data file in use or unreadable, a seed refused) as the operator should read it: the
/// detail alone, without the HTTP status a request would have got.
fn start_error(e: ScimError) -> std::io::Error {
    io_error(e.detail())
}

/// The endpoints of a data file opened again: its tenants as stored (the seed is not applied again). Stored
/// tokens exist only as digests, so none is shown, except `token` (`--token`), which is added to the first
/// tenant's SCIMOkta app unless it is already stored there.
fn reopened(tenants: &Tenants, token: Option<&str>) -> std::io::Result<Vec<SeededApp>> {
    let list = tenants.list();
    tracing::info!(tenants = list.len(), "serving the tenants stored in the data file; the seed is not applied");
    let mut out = Vec::new();
    for (i, t) in list.iter().enumerate() {
        for app in AppKind::ALL {
            let mut shown = None;
            if let (0, AppKind::Okta, Some(token)) = (i, app, token) {
                match t.portal.check_token(app, token) {
                    Ok(_) => {}
                    Err(AuthFailure::Invalid) => {
                        let expires = tenants.clock().now() + chrono::Duration::days(365);
                        t.portal
                            .insert_token(app, token, expires, Some("given at start".into()))
                            .map_err(start_error)?;
                    }
                    Err(e) => return Err(io_error(format!("the token given with --token is stored but {e}"))),
                }
                shown = Some(token.to_string());
            }
            out.push(SeededApp { tenant: t.name.clone(), app, token: shown });
        }
    }
    Ok(out)
}

/// Binds, seeds and starts the server in the background.
pub async fn spawn(config: ServerConfig) -> std::io::Result<RunningServer> {
    spawn_with(config, |router| router).await
}

/// Like [`spawn`], with the application router passed through `wrap` first — for example to put a
/// test-only fault-injection layer around the whole server.
pub async fn spawn_with(config: ServerConfig, wrap: impl FnOnce(Router) -> Router) -> std::io::Result<RunningServer> {
    let listener = TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let mut seed = config.seed.clone().unwrap_or_else(Config::builtin);
    if let Some(token) = &config.token {
        let first = seed.tenants.first_mut().ok_or_else(|| io_error("--token needs at least one tenant"))?;
        let okta = first.apps.get_mut(&AppKind::Okta).ok_or_else(|| io_error("--token needs a SCIMOkta app"))?;
        okta.tokens = vec![crate::config::TokenConfig {
            token: token.clone(),
            expires_at: None,
            label: Some("given at start".into()),
        }];
    }
    let tenants = match &config.data {
        Some(path) => {
            let db = Db::open(path, config.data_sync).map_err(start_error)?;
            Arc::new(Tenants::open(config.clock.clone(), config.directory, db).map_err(start_error)?)
        }
        None => Arc::new(Tenants::new(config.clock.clone(), config.directory)),
    };
    let seeded: Vec<SeededApp> = match tenants.is_empty() {
        true => seed.apply(&tenants).map_err(start_error)?,
        false => reopened(&tenants, config.token.as_deref())?,
    };
    let (admin_key, admin_key_digest) =
        resolve_admin_key(seed.admin_key.as_deref(), tenants.data_file().map(Arc::as_ref))?;
    let origin = format!("http://{addr}");
    let public_url = config.public_url.as_deref().map(PublicUrl::parse).transpose().map_err(io_error)?;
    let state = Arc::new(AppState {
        tenants: tenants.clone(),
        base_domain: seed.base_domain.clone(),
        admin_key_digest,
        origin: origin.clone(),
        public_url,
        body_limit: config.body_limit,
        body_timeout: config.limits.body_timeout,
        features: Features::new(config.directory, config.body_limit),
        scim: http::scim_routes(),
    });
    let endpoints: Vec<Endpoint> = seeded
        .into_iter()
        .map(|s| Endpoint {
            base_url: state.listen_base_uri(&s.tenant, s.app),
            tenant: s.tenant,
            app: s.app,
            token: s.token,
        })
        .collect();
    let first = endpoints.iter().find(|e| e.app == AppKind::Okta).or(endpoints.first()).cloned();
    let (base_url, token) = first.map(|e| (e.base_url, e.token.unwrap_or_default())).unwrap_or_default();
    let directory = tenants
        .list()
        .first()
        .map(|t| t.directory.clone())
        .unwrap_or_else(|| Arc::new(Directory::new(config.directory)));
    let (tx, rx) = oneshot::channel::<()>();
    let router = wrap(app(state));
    let service = router.clone();
    let behind = tenants
        .data_file()
        .is_some()
        .then(|| tokio::spawn(write_token_use_behind(tenants.clone(), config.token_use_interval)));
    let serving = tenants.clone();
    let task = tokio::spawn(async move {
        serve::serve(listener, router, config.limits, rx).await;
        if let Some(behind) = behind {
            behind.abort();
            let _ = behind.await;
            // Every use not yet written, now that no request can make another.
            let flushed = tokio::task::spawn_blocking(move || serving.flush_token_use(chrono::TimeDelta::zero()));
            if let Ok(Err(e)) = flushed.await {
                tracing::warn!(error = %e, "token use could not be written to the data file at shutdown");
            }
        }
    });
    Ok(RunningServer {
        base_url,
        token,
        endpoints,
        admin_key,
        admin_url: format!("{origin}/admin"),
        addr,
        tenants,
        directory,
        router: service,
        shutdown: Some(tx),
        task: Some(task),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_by_path_prefix_and_by_subdomain() {
        let r = route("127.0.0.1:80", "/t/acme/api/v1/SCIM/SCIMOkta/Users/1", "localhost").unwrap();
        assert_eq!(
            (r.tenant, r.app, r.prefix, r.rest),
            ("acme", "SCIMOkta", "/t/acme/api/v1/SCIM/SCIMOkta", "/Users/1")
        );
        let r = route("acme.localhost:8080", "/api/v1/SCIM/SCIMAzure/Groups", "localhost").unwrap();
        assert_eq!((r.tenant, r.app, r.prefix, r.rest), ("acme", "SCIMAzure", "/api/v1/SCIM/SCIMAzure", "/Groups"));
        let r = route("acme.localhost", "/api/v1/scim/SCIMOkta", "localhost").unwrap();
        assert_eq!((r.app, r.rest), ("SCIMOkta", ""));
        assert!(route("localhost:8080", "/api/v1/SCIM/SCIMOkta/Users", "localhost").is_none());
        assert!(route("a.b.localhost", "/api/v1/SCIM/SCIMOkta/Users", "localhost").is_none());
        assert!(route("acme.localhost", "/other", "localhost").is_none());
        assert!(route("h", "/t/acme/elsewhere", "localhost").is_none());
        assert!(route("h", "/t/", "localhost").is_none());
    }
}
