//! Assembling and running the server: configuration, authentication, routing under the base path,
//! graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use rand::RngExt;
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::clock::{SharedClock, SystemClock};
use crate::directory::{Directory, DirectoryConfig};
use crate::discovery::Features;
use crate::error::ScimError;
use crate::http::{self, ScimContext};

/// The path under which the default tenant's SCIM service is mounted.
pub const BASE_PATH: &str = "/scim/v2";

/// How to run the server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where to listen; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The bearer token; a random one is generated when absent.
    pub token: Option<String>,
    /// The largest accepted request body in bytes (default 1 MiB); larger bodies answer 413.
    pub body_limit: usize,
    /// Paging limits.
    pub directory: DirectoryConfig,
    /// Where time comes from.
    pub clock: SharedClock,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            token: None,
            body_limit: 1 << 20,
            directory: DirectoryConfig::default(),
            clock: Arc::new(SystemClock),
        }
    }
}

impl ServerConfig {
    /// Uses a fixed token instead of a generated one.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }
    /// Listens on `addr`.
    pub fn with_listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }
}

/// Generates a token with 256 bits of randomness.
pub fn generate_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    format!("scim_{}", hex::encode(bytes))
}

/// Shared state of the running service.
#[derive(Debug)]
pub struct ServerState {
    directory: Arc<Directory>,
    token: String,
    body_limit: usize,
    features: Features,
}

/// Extracts the credential of `Authorization: Bearer <t>` or, as Okta's header auth sends it, `Authorization: <t>`.
fn credential(header: &str) -> &str {
    let h = header.trim();
    match h.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ => h,
    }
}

async fn authenticate(State(state): State<Arc<ServerState>>, mut req: Request, next: Next) -> Response {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return ScimError::Unauthorized("authentication required: send 'Authorization: Bearer <token>'".into())
            .into_response();
    };
    let presented = credential(value.to_str().unwrap_or(""));
    if !bool::from(presented.as_bytes().ct_eq(state.token.as_bytes())) {
        return ScimError::Unauthorized("the bearer token is invalid".into()).into_response();
    }
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost").to_string();
    req.extensions_mut().insert(ScimContext {
        directory: state.directory.clone(),
        base: format!("http://{host}{BASE_PATH}"),
        body_limit: state.body_limit,
        features: state.features,
    });
    next.run(req).await
}

async fn outside() -> ScimError {
    ScimError::NotFound(format!("not found; the SCIM service is at {BASE_PATH}"))
}

/// The whole application router.
pub fn app(state: Arc<ServerState>) -> Router {
    let scim = http::scim_routes().layer(middleware::from_fn_with_state(state, authenticate));
    Router::new().nest(BASE_PATH, scim).fallback(outside).layer(middleware::from_fn(http::log_requests))
}

/// A server running in the background.
#[derive(Debug)]
pub struct RunningServer {
    /// The SCIM base URI, without a trailing slash.
    pub base_url: String,
    /// The bearer token clients must send.
    pub token: String,
    /// The bound address.
    pub addr: SocketAddr,
    /// The default tenant's directory (for tests and benchmarks that seed data directly).
    pub directory: Arc<Directory>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningServer {
    /// Stops accepting connections, lets in-flight requests finish, and waits for the server to end.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

/// Binds and starts the server in the background.
pub async fn spawn(config: ServerConfig) -> std::io::Result<RunningServer> {
    let listener = TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let token = config.token.clone().unwrap_or_else(generate_token);
    let directory = Arc::new(Directory::with_clock(config.directory, config.clock.clone()));
    let state = Arc::new(ServerState {
        directory: directory.clone(),
        token: token.clone(),
        body_limit: config.body_limit,
        features: Features::new(config.directory, config.body_limit),
    });
    let (tx, rx) = oneshot::channel::<()>();
    let router = app(state);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok(RunningServer {
        base_url: format!("http://{addr}{BASE_PATH}"),
        token,
        addr,
        directory,
        shutdown: Some(tx),
        task: Some(task),
    })
}
