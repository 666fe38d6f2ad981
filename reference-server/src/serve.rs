//! The accept loop: HTTP/1.1 and HTTP/2 connections with a connection limit, header, idle and body
//! timeouts, and a graceful shutdown bounded by a grace period.
//!
//! Timeouts, as a connection lives them:
//! - **header**: from accept, and from the first byte of each later request, the whole request head must
//!   arrive within [`Limits::header_timeout`] (a client trickling its headers — slowloris — is closed);
//! - **body**: a request body must arrive within [`Limits::body_timeout`] of the handler starting to read
//!   it, else 408 (enforced where bodies are read, [`crate::http::extract`]);
//! - **idle**: a keep-alive connection with no request in progress and no byte arriving is closed after
//!   [`Limits::idle_timeout`];
//! - while a request is being served, none of them runs: a large but legitimate request is never cut off.
//!
//! At most [`Limits::max_connections`] connections are open at once, and at most
//! [`Limits::max_connections_per_peer`] from one IP address; a new connection beyond a limit takes the place
//! of the connection that has been without a request the longest, so idle connections (however often they
//! are opened again) cannot keep a client with a request out ([`admission`]). The process never runs out of
//! file descriptors.
//!
//! Shutdown stops accepting, asks every connection to finish its in-flight requests and close, and after
//! [`Limits::shutdown_grace`] closes whatever is left (for example a client that never finishes its body).

use std::convert::Infallible;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, Notify};
use tokio::task::JoinSet;
use tower::ServiceExt;

mod admission;

/// Connection limits and timeouts (see the module documentation for what each bounds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Time allowed for a request head to arrive (default 10 s).
    pub header_timeout: Duration,
    /// Time allowed for a request body to arrive once its handler reads it (default 30 s); 408 after.
    pub body_timeout: Duration,
    /// How long an idle keep-alive connection stays open (default 60 s).
    pub idle_timeout: Duration,
    /// The most connections open at once (default 512, under the usual 1,024 file descriptors).
    pub max_connections: usize,
    /// The most connections open at once from one IP address (default 128). Behind a reverse proxy, where
    /// every client has the proxy's address, set it to `max_connections`.
    pub max_connections_per_peer: usize,
    /// How long shutdown waits for in-flight requests before closing their connections (default 10 s).
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 512,
            max_connections_per_peer: 128,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// What the watchdog of one connection knows: requests in progress and when it last saw traffic.
#[derive(Debug)]
struct Activity {
    started: Instant,
    /// Requests being served now.
    busy: AtomicUsize,
    /// Milliseconds since `started` (plus one; 0 = none) at which the current request head began to
    /// arrive, or the connection was accepted.
    head_since: AtomicU64,
    /// Milliseconds since `started` of the last byte read or written, or of the last response.
    last_traffic: AtomicU64,
    /// Milliseconds since `started` at which the last request ended (0: none yet).
    free_since: AtomicU64,
    /// Asked to close to make room for another connection ([`admission`]).
    evicted: std::sync::atomic::AtomicBool,
    /// Wakes the watchdog at an eviction.
    wake: Notify,
}

impl Activity {
    fn new() -> Arc<Self> {
        Arc::new(Activity {
            started: Instant::now(),
            busy: AtomicUsize::new(0),
            head_since: AtomicU64::new(1),
            last_traffic: AtomicU64::new(0),
            free_since: AtomicU64::new(0),
            evicted: std::sync::atomic::AtomicBool::new(false),
            wake: Notify::new(),
        })
    }

    /// No request in progress and not yet evicted.
    fn is_free(&self) -> bool {
        self.busy.load(Ordering::Acquire) == 0 && !self.evicted.load(Ordering::Acquire)
    }

    /// Since when the connection has had no request in progress (its accept, or its last request's end).
    fn free_since(&self) -> Instant {
        self.started + Duration::from_millis(self.free_since.load(Ordering::Relaxed))
    }

    /// Asks the connection to close as soon as no request is in progress.
    fn evict(&self) {
        self.evicted.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    fn now(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn read(&self) {
        let now = self.now();
        self.last_traffic.store(now, Ordering::Relaxed);
        if self.busy.load(Ordering::Acquire) == 0 {
            let _ = self.head_since.compare_exchange(0, now + 1, Ordering::AcqRel, Ordering::Relaxed);
        }
    }

    fn wrote(&self) {
        self.last_traffic.store(self.now(), Ordering::Relaxed);
    }

    fn request_started(&self) {
        self.busy.fetch_add(1, Ordering::AcqRel);
        self.head_since.store(0, Ordering::Release);
    }

    fn request_ended(&self) {
        let now = self.now();
        self.last_traffic.store(now, Ordering::Relaxed);
        self.free_since.store(now, Ordering::Relaxed);
        if self.busy.fetch_sub(1, Ordering::AcqRel) == 1 && self.evicted.load(Ordering::Acquire) {
            self.wake.notify_one();
        }
    }

    /// Why the connection should close now, if it should.
    fn expired(&self, limits: &Limits) -> Option<&'static str> {
        if self.busy.load(Ordering::Acquire) > 0 {
            return None;
        }
        if self.evicted.load(Ordering::Acquire) {
            return Some("evicted to make room for another connection");
        }
        let now = self.now();
        match self.head_since.load(Ordering::Acquire) {
            0 => {
                let idle = now.saturating_sub(self.last_traffic.load(Ordering::Relaxed));
                (idle >= limits.idle_timeout.as_millis() as u64).then_some("idle timeout")
            }
            since => {
                let waited = now.saturating_sub(since - 1);
                (waited >= limits.header_timeout.as_millis() as u64).then_some("header timeout")
            }
        }
    }
}

/// Ends the request in [`Activity`] however its future ends (answered, or dropped with the connection).
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.request_ended();
    }
}

/// A TCP stream that reports its traffic to the connection's [`Activity`].
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(res, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.read();
        }
        res
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let res = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(res, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.wrote();
        }
        res
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let res = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(res, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.wrote();
        }
        res
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Resolves when the connection has outlived a timeout.
async fn watchdog(activity: Arc<Activity>, limits: Limits) -> &'static str {
    let shortest = limits.header_timeout.min(limits.idle_timeout);
    let tick = (shortest / 4).clamp(Duration::from_millis(5), Duration::from_secs(1));
    loop {
        let _ = tokio::time::timeout(tick, activity.wake.notified()).await;
        if let Some(why) = activity.expired(&limits) {
            return why;
        }
    }
}

/// Serves `router` on `listener` until `shutdown` fires (or its sender is dropped), then shuts down
/// within `limits.shutdown_grace`.
pub async fn serve(listener: TcpListener, router: Router, limits: Limits, mut shutdown: oneshot::Receiver<()>) {
    let admission = admission::Admission::new(&limits);
    let graceful = GracefulShutdown::new();
    let builder = auto::Builder::new(TokioExecutor::new());
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = admission.wait_for_room() => {}
            _ = &mut shutdown => break,
        }
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(s) => s,
                Err(e) => {
                    // Out of file descriptors or a connection reset before accept: wait a little, go on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        while connections.try_join_next().is_some() {}
        // Let the connections accepted so far read what they were sent before more are accepted: a client's
        // request is read (and its connection no longer evictable) before a burst of new connections could
        // take its place.
        tokio::task::yield_now().await;
        let activity = Activity::new();
        let Some(ticket) = admission.admit(peer.ip(), activity.clone()) else {
            tracing::debug!(peer = %peer.ip(), "connection refused: every connection of this peer has a request in progress");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(Watched { inner: stream, activity: activity.clone() });
        let service = {
            let (router, activity) = (router.clone(), activity.clone());
            hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                activity.request_started();
                let guard = InFlight(activity.clone());
                let router = router.clone();
                async move {
                    let res: Result<Response, Infallible> = router.oneshot(Request::from(req.map(Body::new))).await;
                    drop(guard);
                    res
                }
            })
        };
        let conn = builder.serve_connection_with_upgrades(io, service).into_owned();
        let conn = graceful.watch(conn);
        connections.spawn(async move {
            let _ticket = ticket;
            tokio::select! {
                _ = conn => {}
                why = watchdog(activity, limits) => tracing::debug!(reason = why, "connection closed"),
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown()).await.is_err() {
        tracing::warn!(grace = ?limits.shutdown_grace, "connections still open after the grace period: closing them");
    }
    connections.abort_all();
    while connections.join_next().await.is_some() {}
}
