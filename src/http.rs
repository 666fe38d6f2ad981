//! The one HTTP client builder every part of scimcheck uses (runner, preflight, simulator, recorder), so TLS trust,
//! redirects and timeouts behave the same everywhere.
//!
//! Trust: the platform's trust store (read through `rustls-native-certs`) plus the Mozilla roots bundled with
//! `webpki-roots`, plus any PEM files given with `--ca-cert` (a private CA). `--insecure` turns certificate
//! verification off altogether; the CLI warns about it on every run. Redirects are never followed: a SCIM client
//! must see a `3xx` as the server answered it (and preflight reports its `Location`).

use std::path::PathBuf;
use std::time::Duration;

/// TLS trust settings (`--ca-cert`, `--insecure`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// Extra trusted CA certificates: PEM files, each holding one or more certificates.
    pub ca_certs: Vec<PathBuf>,
    /// Accept any server certificate (self-signed, expired, wrong host name). For test setups only.
    pub insecure: bool,
}

/// Everything the shared client is built from.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// TLS trust.
    pub tls: TlsOptions,
    /// Time allowed to open a connection (TCP and TLS handshake).
    pub connect_timeout: Duration,
    /// Idle connections kept per host (at least the number of requests in flight).
    pub pool_max_idle_per_host: usize,
    /// How long an idle connection may be reused (default 2 s): well below the 5 s keep-alive timeout of Node.js
    /// and Apache httpd, so a request is never sent on a connection the server is closing, even when a loaded
    /// machine delays the write by seconds after the connection left the pool. Such a request fails with
    /// "connection closed before message completed" or a reset, and a POST or PATCH cannot be retried
    /// (RFC 9110 §9.2.2).
    pub pool_idle_timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            tls: TlsOptions::default(),
            connect_timeout: Duration::from_secs(30),
            pool_max_idle_per_host: 8,
            pool_idle_timeout: Duration::from_secs(2),
        }
    }
}

/// Why the shared HTTP client could not be built; `Display` is the one line printed (it names the file, never
/// its contents).
#[derive(Debug)]
pub enum ClientError {
    /// A `--ca-cert` file could not be read (the path and the I/O error).
    CaCertUnreadable(std::path::PathBuf, std::io::Error),
    /// A `--ca-cert` file is not a PEM certificate bundle (the path and the parser's reason).
    CaCertNotPem(std::path::PathBuf, String),
    /// A `--ca-cert` file holds no `BEGIN CERTIFICATE` block.
    CaCertEmpty(std::path::PathBuf),
    /// reqwest refused the client's settings (its reason).
    Build(String),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::CaCertUnreadable(p, e) => write!(f, "--ca-cert {}: {e}", p.display()),
            ClientError::CaCertNotPem(p, e) => write!(f, "--ca-cert {}: not a PEM certificate file ({e})", p.display()),
            ClientError::CaCertEmpty(p) => write!(f, "--ca-cert {}: no `BEGIN CERTIFICATE` block found", p.display()),
            ClientError::Build(e) => write!(f, "cannot build the HTTP client: {e}"),
        }
    }
}

impl std::error::Error for ClientError {}

impl From<ClientError> for String {
    fn from(e: ClientError) -> String {
        e.to_string()
    }
}

/// Reads the certificates of one PEM file.
///
/// Errors: the file cannot be read, or holds no PEM certificate ([`ClientError`], naming the file).
pub fn read_ca_cert(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>, ClientError> {
    let pem = std::fs::read(path).map_err(|e| ClientError::CaCertUnreadable(path.to_path_buf(), e))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| ClientError::CaCertNotPem(path.to_path_buf(), e.to_string()))?;
    if certs.is_empty() {
        return Err(ClientError::CaCertEmpty(path.to_path_buf()));
    }
    Ok(certs)
}

/// Builds the shared client: no redirects, rustls with platform + webpki roots and the extra CA certificates,
/// or no verification at all when `insecure`.
///
/// Errors: an unreadable or invalid `--ca-cert` file, or a client that cannot be built.
pub fn client(options: &ClientOptions) -> Result<reqwest::Client, ClientError> {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(options.connect_timeout)
        .pool_max_idle_per_host(options.pool_max_idle_per_host.max(1))
        .pool_idle_timeout(options.pool_idle_timeout)
        .tls_built_in_native_certs(true)
        .tls_built_in_webpki_certs(true);
    for path in &options.tls.ca_certs {
        for cert in read_ca_cert(path)? {
            builder = builder.add_root_certificate(cert);
        }
    }
    if options.tls.insecure {
        builder = builder.danger_accept_invalid_certs(true);
    }
    builder.build().map_err(|e| ClientError::Build(e.to_string()))
}

/// The warning printed on every run with `--insecure`.
pub const INSECURE_WARNING: &str =
    "warning: --insecure: TLS certificates are not verified; anyone on the path can read the token and answers";

/// A response body read up to `limit` bytes: the bytes, or `None` when the body is longer (reading stops at
/// the limit, so a hostile server cannot make scimcheck hold more). Transport errors are returned as they are.
pub async fn read_body(mut resp: reqwest::Response, limit: usize) -> Result<Option<Vec<u8>>, reqwest::Error> {
    let mut bytes = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        if bytes.len() + chunk.len() > limit {
            return Ok(None);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Some(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body is read whole up to the limit, and not at all past it; an empty body is an empty read.
    #[tokio::test]
    async fn a_body_is_read_up_to_the_limit_and_refused_past_it() {
        use wiremock::matchers::path;
        use wiremock::{Mock, MockServer, ResponseTemplate};
        let server = MockServer::start().await;
        Mock::given(path("/ten"))
            .respond_with(ResponseTemplate::new(200).set_body_string("0123456789"))
            .mount(&server)
            .await;
        Mock::given(path("/empty")).respond_with(ResponseTemplate::new(204)).mount(&server).await;
        let get = |p: &str| reqwest::get(format!("{}{p}", server.uri()));
        assert_eq!(read_body(get("/ten").await.unwrap(), 10).await.unwrap(), Some(b"0123456789".to_vec()));
        assert_eq!(read_body(get("/ten").await.unwrap(), 9).await.unwrap(), None);
        assert_eq!(read_body(get("/empty").await.unwrap(), 0).await.unwrap(), Some(Vec::new()));
    }

    #[test]
    fn a_missing_or_empty_ca_file_is_a_clear_error() {
        let dir = std::env::temp_dir().join(format!("scimcheck-http-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing.pem");
        let e = client(&ClientOptions {
            tls: TlsOptions { ca_certs: vec![missing.clone()], insecure: false },
            ..ClientOptions::default()
        })
        .unwrap_err();
        assert!(matches!(&e, ClientError::CaCertUnreadable(p, _) if *p == missing), "{e:?}");
        let e = e.to_string();
        assert!(e.starts_with("--ca-cert ") && e.contains("missing.pem"), "{e}");
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let e = read_ca_cert(&empty).unwrap_err();
        assert!(matches!(&e, ClientError::CaCertEmpty(p) if *p == empty), "{e:?}");
        assert_eq!(e.to_string(), format!("--ca-cert {}: no `BEGIN CERTIFICATE` block found", empty.display()));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_default_client_builds() {
        client(&ClientOptions::default()).unwrap();
        client(&ClientOptions { tls: TlsOptions { insecure: true, ..TlsOptions::default() }, ..Default::default() })
            .unwrap();
    }

    /// A connection idle longer than `pool_idle_timeout` is not used again: the next request opens a new one, so
    /// it never meets a server closing its keep-alive connection (Node.js and Apache httpd close after 5 s).
    #[tokio::test]
    async fn a_connection_idle_past_the_pool_timeout_is_not_reused() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = accepted.clone();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 1024];
                    while let Ok(n) = conn.read(&mut chunk).await {
                        if n == 0 {
                            break;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            buf.drain(..end + 4);
                            let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                            if conn.write_all(answer).await.is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        let connections = |idle: Duration, pause: Duration| {
            let (url, accepted) = (url.clone(), accepted.clone());
            async move {
                let c = client(&ClientOptions { pool_idle_timeout: idle, ..Default::default() }).unwrap();
                let before = accepted.load(std::sync::atomic::Ordering::SeqCst);
                for _ in 0..2 {
                    let r = c.get(&url).send().await.unwrap();
                    assert_eq!(r.text().await.unwrap(), "ok");
                    tokio::time::sleep(pause).await;
                }
                accepted.load(std::sync::atomic::Ordering::SeqCst) - before
            }
        };
        assert_eq!(connections(Duration::from_secs(60), Duration::from_millis(300)).await, 1, "reused while fresh");
        assert_eq!(connections(Duration::from_millis(100), Duration::from_millis(300)).await, 2, "not reused");
        assert_eq!(ClientOptions::default().pool_idle_timeout, Duration::from_secs(2), "well under 5 s keep-alives");
    }
}
