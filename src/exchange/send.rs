//! The one way a request goes out and its answer comes back: send, read the body up to a limit, all within a
//! timeout, and turn what failed below HTTP into a [`TransportError`]. Callers build the request (method, URL
//! from [`super::BaseUri::join`], headers, credential) and keep their own policies around it: the runner's
//! resend of a closed idempotent request, the simulator's pacing and 429 handling. A relay that passes the answer
//! on as it streams (the recorder's proxy) uses [`forward`], which stops at the headers.

use std::time::{Duration, Instant};

use super::{Body, Observed, TransportError};

/// An answer as received, before its body is parsed.
#[derive(Debug, Clone)]
pub struct Received {
    /// Status code.
    pub status: u16,
    /// Headers, names lower-cased, in arrival order (values lossily decoded as UTF-8).
    pub headers: Vec<(String, String)>,
    /// The whole body, or `None` when it was longer than the limit (reading stopped there).
    pub bytes: Option<Vec<u8>>,
    /// From sending the request to reading the whole body.
    pub elapsed: Duration,
}

impl Received {
    /// The first value of a header (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The answer as an [`Observed`]: the body classified ([`Body::from_bytes`]), or [`Body::TooLarge`] with
    /// `limit` when it was over the limit.
    pub fn observed(self, limit: usize) -> Observed {
        let (size, body) = match self.bytes {
            Some(bytes) => (bytes.len(), Body::from_bytes(&bytes)),
            None => (limit, Body::TooLarge { limit }),
        };
        Observed { status: self.status, headers: self.headers, body, size, elapsed: self.elapsed }
    }
}

/// Sends `request` and reads the answer's body up to `limit` bytes, all within `timeout`.
///
/// Errors: a [`TransportError`] whose kind is read from the error chain; [`super::TransportKind::Timeout`]
/// (`timed out after 1.5 s (no complete response)`) when the whole exchange took longer than `timeout`.
pub async fn receive(
    request: reqwest::RequestBuilder,
    limit: usize,
    timeout: Duration,
) -> Result<Received, TransportError> {
    let (status, headers, bytes, elapsed) =
        exchange(request, timeout, |resp| crate::http::read_body(resp, limit)).await?;
    Ok(Received { status, headers, bytes, elapsed })
}

/// Sends `request` and hands the answer's body to `sink` chunk by chunk, as it arrives, until the body ends or
/// `sink` returns `false` (then the rest is not read), all within `timeout`: the exchange for a reader that judges
/// a body as it streams without keeping it (preflight's scan of a large ListResponse). The [`Received`] has no
/// `bytes`: what the body held is what `sink` kept.
///
/// Errors: as [`receive`].
pub async fn stream(
    request: reqwest::RequestBuilder,
    timeout: Duration,
    mut sink: impl FnMut(&[u8]) -> bool,
) -> Result<Received, TransportError> {
    let read = |mut resp: reqwest::Response| async move {
        while let Some(chunk) = resp.chunk().await? {
            if !sink(&chunk) {
                break;
            }
        }
        Ok(())
    };
    let (status, headers, (), elapsed) = exchange(request, timeout, read).await?;
    Ok(Received { status, headers, bytes: None, elapsed })
}

/// The one exchange: sends `request`, collects the status and headers, lets `read` consume the body, all within
/// `timeout`, and turns what failed below HTTP into a [`TransportError`].
async fn exchange<T, F, Fut>(
    request: reqwest::RequestBuilder,
    timeout: Duration,
    read: F,
) -> Result<(u16, Vec<(String, String)>, T, Duration), TransportError>
where
    F: FnOnce(reqwest::Response) -> Fut,
    Fut: std::future::Future<Output = Result<T, reqwest::Error>>,
{
    let started = Instant::now();
    let exchange = async move {
        let resp = request.send().await.map_err(|e| TransportError::from_reqwest(&e))?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let body = read(resp).await.map_err(|e| TransportError::from_reqwest(&e))?;
        Ok::<_, TransportError>((status, headers, body))
    };
    match tokio::time::timeout(timeout, exchange).await {
        Err(_) => Err(TransportError::timed_out(&humanize(timeout))),
        Ok(Err(e)) => Err(e),
        Ok(Ok((status, headers, body))) => Ok((status, headers, body, started.elapsed())),
    }
}

/// A body still arriving: the chunks as the server sends them, or the reqwest error that ended it early.
pub type BodyStream = std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>;

/// An answer whose status and headers have arrived and whose body is still streaming: what [`forward`] returns.
pub struct Forwarded {
    /// Status code.
    pub status: reqwest::StatusCode,
    /// Headers as received (values kept as bytes, to be passed on unchanged).
    pub headers: reqwest::header::HeaderMap,
    /// The body, chunk by chunk; reading it is still bounded by the `timeout` given to [`forward`].
    pub body: BodyStream,
}

/// Sends `request` and returns as soon as the status and headers are in, the body left streaming: the exchange
/// of a relay that passes a body on as it arrives (the recorder's proxy) instead of reading it whole. `timeout`
/// bounds the whole exchange, the streamed body included (reqwest's per-request timeout).
///
/// Errors: a [`TransportError`] whose kind is read from the error chain — a request body stream that failed
/// (e.g. the relay stopped it at its limit) included; [`super::TransportKind::Timeout`] (`timed out after 1.5 s
/// (no complete response)`) when no answer came within `timeout`.
pub async fn forward(request: reqwest::RequestBuilder, timeout: Duration) -> Result<Forwarded, TransportError> {
    match request.timeout(timeout).send().await {
        Ok(resp) => {
            let (status, headers) = (resp.status(), resp.headers().clone());
            Ok(Forwarded { status, headers, body: Box::pin(resp.bytes_stream()) })
        }
        Err(e) if e.is_timeout() => Err(TransportError::timed_out(&humanize(timeout))),
        Err(e) => Err(TransportError::from_reqwest(&e)),
    }
}

/// [`receive`], then the body classified: `Result<Observed, TransportError>`.
pub async fn send(
    request: reqwest::RequestBuilder,
    limit: usize,
    timeout: Duration,
) -> Result<Observed, TransportError> {
    Ok(receive(request, limit, timeout).await?.observed(limit))
}

/// A duration for people: `250 ms` below a second, else `1.5 s`.
pub fn humanize(d: Duration) -> String {
    if d.as_millis() < 1000 {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::TransportKind;

    /// A server answering `/ten` with a 10-byte JSON body and an ETag, and `/slow` after 5 seconds.
    async fn ten_and_slow() -> wiremock::MockServer {
        use wiremock::matchers::path;
        use wiremock::{Mock, MockServer, ResponseTemplate};
        let server = MockServer::start().await;
        Mock::given(path("/ten"))
            .respond_with(ResponseTemplate::new(201).set_body_string("{\"id\":\"1\"}").insert_header("ETag", "W/\"1\""))
            .mount(&server)
            .await;
        Mock::given(path("/slow"))
            .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
            .mount(&server)
            .await;
        server
    }

    #[tokio::test]
    async fn send_reads_up_to_the_limit_and_times_out_as_a_timeout() {
        let server = ten_and_slow().await;
        let client = reqwest::Client::new();
        let url = |p: &str| format!("{}{p}", server.uri());
        let o = send(client.get(url("/ten")), 10, Duration::from_secs(5)).await.unwrap();
        assert_eq!((o.status, o.size, o.header("etag")), (201, 10, Some("W/\"1\"")));
        assert_eq!(o.json().unwrap()["id"], "1");
        let o = send(client.get(url("/ten")), 9, Duration::from_secs(5)).await.unwrap();
        assert_eq!(o.body, Body::TooLarge { limit: 9 });
        let e = send(client.get(url("/slow")), 9, Duration::from_millis(100)).await.unwrap_err();
        assert_eq!(
            (e.kind, e.message.as_str()),
            (TransportKind::Timeout, "timed out after 100 ms (no complete response)")
        );
    }

    /// A relay's exchange: status and headers as received, the body as a stream, a silent upstream a timeout.
    #[tokio::test]
    async fn forward_hands_over_headers_and_the_body_stream_and_times_out_as_a_timeout() {
        use futures::StreamExt;
        let server = ten_and_slow().await;
        let client = reqwest::Client::new();
        let url = |p: &str| format!("{}{p}", server.uri());
        let mut f = forward(client.get(url("/ten")), Duration::from_secs(5)).await.unwrap();
        assert_eq!((f.status.as_u16(), f.headers.get("etag").map(|v| v.as_bytes())), (201, Some(&b"W/\"1\""[..])));
        let mut body = Vec::new();
        while let Some(chunk) = f.body.next().await {
            body.extend_from_slice(&chunk.unwrap());
        }
        assert_eq!(body, b"{\"id\":\"1\"}");
        let e = forward(client.get(url("/slow")), Duration::from_millis(100)).await.err().unwrap();
        assert_eq!(
            (e.kind, e.message.as_str()),
            (TransportKind::Timeout, "timed out after 100 ms (no complete response)")
        );
    }
}
