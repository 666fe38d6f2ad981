//! Helpers for tests that run the real `scimcheck` binary: a clean environment, temporary folders, scenario files,
//! and small servers on 127.0.0.1 (port 0) — a TLS one with a certificate made in the test, a slow one.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

/// A folder removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A fresh empty folder.
    pub fn new() -> TempDir {
        let p =
            std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("scimcheck-bin-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    /// A path inside it.
    pub fn join(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }

    /// As a string argument.
    pub fn arg(&self, rel: &str) -> String {
        self.join(rel).to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The binary with a clean environment (no token, no colours forced), run in `cwd`.
pub fn scimcheck_in(cwd: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_scimcheck"));
    c.args(args).current_dir(cwd);
    for var in [
        "SCIMCHECK_TOKEN",
        "SCIMCHECK_AUTH_HEADER",
        "SCIMCHECK_OAUTH_CLIENT_SECRET",
        "CLICOLOR_FORCE",
        "CLICOLOR",
        "NO_COLOR",
    ] {
        c.env_remove(var);
    }
    c
}

/// Runs a command off the async runtime; returns (exit code, stdout, stderr).
pub async fn output(mut cmd: Command) -> (Option<i32>, String, String) {
    let out: Output = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Writes a scenario file `<root>/<rel>`.
pub fn write_scenario(root: &Path, rel: &str, scenario: &Value) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_string_pretty(scenario).unwrap()).unwrap();
}

/// A one-step scenario: `GET /Users` expecting 200.
pub fn list_users(title: &str) -> Value {
    json!({"title": title, "source": "test", "level": "must",
           "steps": [{"name": "list", "basis": {"rfc": "RFC 7644 §3"}, "request": {"method": "GET", "path": "/Users"}, "expect": {"status": 200}}]})
}

/// An empty SCIM ListResponse body.
pub fn empty_list() -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 0, "Resources": [],
           "startIndex": 1, "itemsPerPage": 0})
}

/// A CA and a server certificate for 127.0.0.1 signed by it, made now.
pub struct Certs {
    /// The CA certificate, PEM.
    pub ca_pem: String,
    /// The server certificate chain (DER).
    pub chain: Vec<tokio_rustls::rustls::pki_types::CertificateDer<'static>>,
    /// The server key (DER).
    pub key: tokio_rustls::rustls::pki_types::PrivateKeyDer<'static>,
}

/// Makes a private CA and a certificate for `127.0.0.1` and `localhost` signed by it.
pub fn make_certs() -> Certs {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "scimcheck test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let server_params = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    let server_cert = server_params.signed_by(&server_key, &ca).unwrap();
    Certs {
        ca_pem: ca.pem(),
        chain: vec![server_cert.der().clone()],
        key: tokio_rustls::rustls::pki_types::PrivateKeyDer::Pkcs8(server_key.serialize_der().into()),
    }
}

/// A TLS server on 127.0.0.1 (port 0) answering every request with 200 and an empty ListResponse; returns its
/// base URI (`https://127.0.0.1:<port>/scim/v2`).
pub async fn tls_server(certs: &Certs) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::rustls;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs.chain.clone(), certs.key.clone_key())
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let body = empty_list().to_string();
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/scim+json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(resp.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    format!("https://127.0.0.1:{port}/scim/v2")
}

/// Waits until `f` holds, up to `limit`.
pub async fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    f()
}
