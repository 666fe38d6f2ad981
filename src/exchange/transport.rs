//! Transport errors by kind: what went wrong below HTTP (connecting, resolving, TLS, waiting, the connection
//! ending), taken from the error *chain* of reqwest — `std::io::Error` kinds, `rustls::Error`s, `hyper::Error`s
//! and reqwest's own `is_timeout`/`is_connect` — never from the text of a message. Retrying, preflight's
//! classification and its hints decide on [`TransportKind`]; the message is only shown.

use std::error::Error as StdError;
use std::fmt;
use std::io::ErrorKind;

/// Why a TLS handshake failed, as far as the error chain tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsCause {
    /// The peer answered bytes that are not a TLS record (rustls `InvalidMessage::InvalidContentType`): a
    /// plain-HTTP server on an `https://` port.
    PlainHttpPeer,
    /// The peer closed the connection during the handshake without a TLS alert (an end of file where the
    /// `ServerHello` should be, RFC 8446 §6.2 says a refusing TLS server sends an alert first): what a
    /// plain-HTTP server does when it reads the client's hello as a malformed request.
    ClosedDuringHandshake,
    /// The server's certificate was refused (unknown issuer, expired, wrong name — rustls `InvalidCertificate`).
    Certificate,
    /// Another TLS failure (an alert from the peer, a protocol error).
    Other,
}

/// The kind of a transport error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// Nothing accepted the connection (refused, unreachable): `io::ErrorKind::ConnectionRefused` and kin.
    Connect,
    /// The host name did not resolve: a connect error whose I/O error carries no OS error code (the resolver's
    /// failure, not a socket's).
    Dns,
    /// The TLS handshake failed.
    Tls(TlsCause),
    /// No complete answer within the time allowed.
    Timeout,
    /// The server reset or closed the connection before the response was complete (`ConnectionReset`,
    /// `ConnectionAborted`, `BrokenPipe`, `UnexpectedEof`, hyper's incomplete message): on a kept-alive
    /// connection an idempotent request may be sent again (RFC 9112 §9.3.1).
    Reset,
    /// The connection was made but what came back is not HTTP: hyper could not parse a status line or headers
    /// from it (RFC 9112 §4, "invalid HTTP version parsed" and kin) — another protocol on that port, or garbage.
    NotHttp,
    /// Anything else (a body error).
    Other,
}

/// A failed exchange below HTTP: its [`TransportKind`] and a message for people (never holding a credential:
/// reqwest's messages carry the URL, which is dropped, and the innermost cause).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportError {
    /// What went wrong.
    pub kind: TransportKind,
    /// `"<what>: <innermost cause>"`, e.g. `connection failed: Connection refused (os error 111)`.
    pub message: String,
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for TransportError {}

impl TransportError {
    /// A timeout of the whole exchange (request sent, body read) after `after`, measured by the caller.
    pub fn timed_out(after: &str) -> TransportError {
        TransportError {
            kind: TransportKind::Timeout,
            message: format!("timed out after {after} (no complete response)"),
        }
    }

    /// Classifies a reqwest error by its chain ([`kind_of`]); the message names the phase and the innermost
    /// cause (`connection failed: Connection refused (os error 111)`).
    pub fn from_reqwest(e: &reqwest::Error) -> TransportError {
        let phase = if e.is_connect() {
            "connection failed"
        } else if e.is_timeout() {
            "timed out"
        } else if e.is_body() || e.is_decode() {
            "error reading the response body"
        } else if e.is_request() {
            "request failed"
        } else {
            "transport error"
        };
        // reqwest errors include the URL; keep only the cause text
        TransportError { kind: kind_of(e), message: format!("{phase}: {}", innermost(e).trim()) }
    }

    /// The innermost cause of the failure as [`TransportError::from_reqwest`] put it after the phase
    /// (`Connection refused (os error 111)`); the whole message when it names no phase ([`TransportError::timed_out`]).
    pub fn cause(&self) -> &str {
        self.message.split_once(": ").map_or(self.message.as_str(), |(_, cause)| cause)
    }

    /// Whether an idempotent request that failed so may be sent once more: the server reset or closed the
    /// connection before answering (RFC 9112 §9.3.1).
    pub fn may_resend(&self) -> bool {
        self.kind == TransportKind::Reset
    }
}

/// The text of the innermost cause of `e` (the informative one: "Connection refused (os error 111)").
pub fn innermost(e: &(dyn StdError + 'static)) -> String {
    let mut cause: &dyn StdError = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// The errors of a chain, outermost first; an `io::Error` wrapping another error is followed into it (its
/// `source()` skips the wrapped error itself).
fn chain<'a>(e: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    let mut out = Vec::new();
    let mut next = Some(e);
    while let Some(c) = next {
        out.push(c);
        next = match c.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => c.source(),
        };
    }
    out
}

fn tls_cause(e: &rustls::Error) -> TlsCause {
    match e {
        rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType) => TlsCause::PlainHttpPeer,
        rustls::Error::InvalidCertificate(_) => TlsCause::Certificate,
        _ => TlsCause::Other,
    }
}

/// The kind of a reqwest error, from its chain: a `rustls::Error` is TLS; `io::ErrorKind`s name refusal, reset
/// and timeout; an end of file while connecting over TLS is [`TlsCause::ClosedDuringHandshake`]; a connect error
/// whose I/O error has no OS code is the resolver's ([`TransportKind::Dns`]).
pub fn kind_of(e: &reqwest::Error) -> TransportKind {
    if e.is_timeout() {
        return TransportKind::Timeout;
    }
    let https = e.url().is_some_and(|u| u.scheme() == "https");
    let links = chain(e);
    if let Some(r) = links.iter().find_map(|c| c.downcast_ref::<rustls::Error>()) {
        return TransportKind::Tls(tls_cause(r));
    }
    // the innermost I/O error is the socket's or the resolver's; outer ones only wrap it
    if let Some(io) = links.iter().rev().find_map(|c| c.downcast_ref::<std::io::Error>()) {
        match io.kind() {
            ErrorKind::ConnectionRefused
            | ErrorKind::AddrNotAvailable
            | ErrorKind::HostUnreachable
            | ErrorKind::NetworkUnreachable => return TransportKind::Connect,
            ErrorKind::TimedOut => return TransportKind::Timeout,
            ErrorKind::UnexpectedEof if e.is_connect() && https => {
                return TransportKind::Tls(TlsCause::ClosedDuringHandshake)
            }
            ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::BrokenPipe
            | ErrorKind::UnexpectedEof => return TransportKind::Reset,
            // a socket's errors carry an OS error code; the resolver's (getaddrinfo) do not
            _ if e.is_connect() && io.raw_os_error().is_none() => return TransportKind::Dns,
            _ => {}
        }
    }
    let mut hyper_errors = links.iter().filter_map(|c| c.downcast_ref::<hyper::Error>());
    if hyper_errors.clone().any(|h| h.is_incomplete_message() || h.is_canceled()) {
        return TransportKind::Reset;
    }
    if hyper_errors.any(|h| h.is_parse() || h.is_parse_status()) {
        return TransportKind::NotHttp;
    }
    if e.is_connect() {
        return TransportKind::Connect;
    }
    TransportKind::Other
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    async fn get(url: &str, timeout: Duration) -> TransportError {
        let client = reqwest::Client::builder().timeout(timeout).build().unwrap();
        TransportError::from_reqwest(&client.get(url).send().await.unwrap_err())
    }

    /// A listener that runs `serve` on every connection.
    async fn listener<F, Fut>(serve: F) -> std::net::SocketAddr
    where
        F: Fn(tokio::net::TcpStream) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((s, _)) = l.accept().await {
                tokio::spawn(serve(s));
            }
        });
        addr
    }

    #[tokio::test]
    async fn a_refused_port_is_connect() {
        let addr = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
        // the listener is dropped: nothing listens on the port any more
        let e = get(&format!("http://{addr}/Users"), Duration::from_secs(5)).await;
        assert_eq!(e.kind, TransportKind::Connect, "{e}");
        assert!(e.message.starts_with("connection failed: "), "{e}");
        assert!(!e.may_resend());
    }

    #[tokio::test]
    async fn an_unresolvable_name_is_dns() {
        // `.invalid` never resolves (RFC 6761 §6.4)
        let e = get("http://scimcheck-test.invalid/Users", Duration::from_secs(10)).await;
        assert_eq!(e.kind, TransportKind::Dns, "{e}");
    }

    #[tokio::test]
    async fn a_listener_that_closes_is_reset_and_may_be_resent() {
        let addr = listener(|mut s| async move {
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await;
            drop(s);
        })
        .await;
        let e = get(&format!("http://{addr}/Users"), Duration::from_secs(5)).await;
        assert_eq!(e.kind, TransportKind::Reset, "{e}");
        assert!(e.may_resend());
    }

    #[tokio::test]
    async fn a_listener_that_never_answers_is_timeout() {
        let addr = listener(|s| async move {
            tokio::time::sleep(Duration::from_secs(30)).await;
            drop(s);
        })
        .await;
        let e = get(&format!("http://{addr}/Users"), Duration::from_millis(200)).await;
        assert_eq!(e.kind, TransportKind::Timeout, "{e}");
        assert!(!e.may_resend());
        assert_eq!(TransportError::timed_out("1.0 s").kind, TransportKind::Timeout);
    }

    #[tokio::test]
    async fn tls_to_a_plain_http_listener_names_the_plain_http_peer() {
        let addr = listener(|mut s| async move {
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await;
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
        })
        .await;
        let e = get(&format!("https://{addr}/Users"), Duration::from_secs(5)).await;
        assert_eq!(e.kind, TransportKind::Tls(TlsCause::PlainHttpPeer), "{e}");
    }

    #[tokio::test]
    async fn a_listener_closing_during_the_tls_handshake_is_named_so() {
        let addr = listener(|mut s| async move {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            drop(s);
        })
        .await;
        let e = get(&format!("https://{addr}/Users"), Duration::from_secs(5)).await;
        assert_eq!(e.kind, TransportKind::Tls(TlsCause::ClosedDuringHandshake), "{e}");
    }
}
