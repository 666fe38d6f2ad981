//! How a request reaches its server: over the network (reqwest and hyper, TCP, HTTP/1.1 or HTTP/2), or, for the
//! bundled reference server running in the same process, by calling its application router directly as a tower
//! `Service` ([`Transport::InProcess`]). The second runs the same handlers and returns the same status, headers
//! and body, without the TCP connection and the HTTP/1.1 framing on both sides, which cost about a quarter of the
//! CPU of a `simulate --reference` run (docs/performance.md, "Simulator at scale").
//!
//! Callers build their request with reqwest as usual ([`super::BaseUri::join`], headers, credential) and hand it
//! to [`receive_via`]; the transport only decides how it travels.

use std::time::Instant;

use futures::StreamExt;
use tower::ServiceExt;

use super::{Received, TransportError, TransportKind};

/// How requests travel to their server.
#[derive(Clone, Default)]
pub enum Transport {
    /// Over the network, through the shared reqwest client ([`super::receive`]).
    #[default]
    Network,
    /// Handed to an application router in this process (the reference server's
    /// `RunningServer::service`), without a connection.
    InProcess(axum::Router),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Transport::Network => "Network",
            Transport::InProcess(_) => "InProcess",
        })
    }
}

/// Sends `request` by `transport` and reads the answer's body up to `limit` bytes, all within `timeout`: the
/// same contract as [`super::receive`], which is what [`Transport::Network`] calls.
///
/// In process, the request is given as a connection would deliver it: origin-form target (path and query), a
/// `Host` header naming the URL's authority, `Content-Length` for a body. It runs in its own task, so a request
/// abandoned at the timeout still runs to its end in the server, as it would after a client closed its
/// connection.
///
/// Errors: a request reqwest cannot build (an invalid URL or header) as [`TransportError::from_reqwest`]
/// classifies it; [`TransportKind::Timeout`] after `timeout`; a handler that panicked ([`TransportKind::Reset`],
/// as a connection the server closed without answering) or a body that failed ([`TransportKind::Other`]).
pub async fn receive_via(
    transport: &Transport,
    request: reqwest::RequestBuilder,
    limit: usize,
    timeout: std::time::Duration,
) -> Result<Received, TransportError> {
    match transport {
        Transport::Network => super::receive(request, limit, timeout).await,
        Transport::InProcess(router) => in_process(router, request, limit, timeout).await,
    }
}

async fn in_process(
    router: &axum::Router,
    request: reqwest::RequestBuilder,
    limit: usize,
    timeout: std::time::Duration,
) -> Result<Received, TransportError> {
    let started = Instant::now();
    let request = router_request(request)?;
    deliver(router, request, limit, timeout, started).await
}

/// The request reqwest built, in the form a connection delivers it to the router.
fn router_request(request: reqwest::RequestBuilder) -> Result<axum::extract::Request, TransportError> {
    let request = request.build().map_err(|e| TransportError::from_reqwest(&e))?;
    let host = request.url().host_str().map(|h| match request.url().port() {
        Some(p) => format!("{h}:{p}"),
        None => h.to_string(),
    });
    let length = request.body().and_then(reqwest::Body::as_bytes).map(<[u8]>::len);
    let request: axum::http::Request<reqwest::Body> =
        request.try_into().map_err(|e| TransportError::from_reqwest(&e))?;
    let (mut parts, body) = request.into_parts();
    // a connection carries the origin form (RFC 9112 §3.2.1) and the authority in `Host` (§3.2)
    let origin = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    parts.uri = origin.parse().map_err(|_| other("the request's path is not a valid URI"))?;
    if let Some(host) = host.and_then(|h| axum::http::HeaderValue::from_str(&h).ok()) {
        parts.headers.entry(axum::http::header::HOST).or_insert(host);
    }
    if let Some(n) = length {
        parts.headers.entry(axum::http::header::CONTENT_LENGTH).or_insert(axum::http::HeaderValue::from(n));
    }
    Ok(axum::extract::Request::from_parts(parts, axum::body::Body::new(body)))
}

/// Hands `request`, already in the form a connection delivers (origin-form target, `Host`, `Content-Length`), to
/// `router` in a task of its own and reads the answer as [`receive_via`] does; `started` is when the exchange
/// began, for [`Received::elapsed`].
async fn deliver(
    router: &axum::Router,
    request: axum::extract::Request,
    limit: usize,
    timeout: std::time::Duration,
    started: Instant,
) -> Result<Received, TransportError> {
    let router = router.clone();
    let exchange = async move {
        let answered = tokio::spawn(async move {
            let response = match router.oneshot(request).await {
                Ok(r) => r,
                Err(never) => match never {},
            };
            let (parts, body) = response.into_parts();
            let mut stream = body.into_data_stream();
            let mut bytes = Vec::new();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| other(&format!("error reading the response body: {e}")))?;
                if bytes.len() + chunk.len() > limit {
                    return Ok((parts, None));
                }
                match bytes.is_empty() {
                    // the usual one-chunk body is taken over without a copy when the buffer is the chunk's own
                    true => bytes = Vec::from(chunk),
                    false => bytes.extend_from_slice(&chunk),
                }
            }
            Ok::<_, TransportError>((parts, Some(bytes)))
        });
        match answered.await {
            Ok(r) => r,
            Err(_) => Err(TransportError {
                kind: TransportKind::Reset,
                message: "the in-process server stopped before answering (its handler panicked)".into(),
            }),
        }
    };
    match tokio::time::timeout(timeout, exchange).await {
        Err(_) => Err(TransportError::timed_out(&super::send::humanize(timeout))),
        Ok(Err(e)) => Err(e),
        Ok(Ok((parts, bytes))) => Ok(Received {
            status: parts.status.as_u16(),
            headers: parts
                .headers
                .iter()
                .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
                .collect(),
            bytes,
            elapsed: started.elapsed(),
        }),
    }
}

/// Requests for a router in this process built straight from their parts, without reqwest: no URL is parsed
/// and no `reqwest::Request` converted, which was a fifth of the simulator's own time per request. Made once
/// per base URI ([`Direct::for_base`]); a request whose target the URL parser might rewrite is not built
/// ([`Direct::request`] gives `None`), and the caller sends it through [`receive_via`] instead, so both ways
/// deliver the same request.
#[derive(Debug, Clone)]
pub struct Direct {
    /// `scheme://authority` as the base URI spells it: the part of a URL built on it that the target drops.
    prefix: String,
    /// The `Host` header a connection to the base URI sends (RFC 9112 §3.2): the URL parser's host, and the
    /// port unless it is the scheme's default.
    host: axum::http::HeaderValue,
}

impl Direct {
    /// For requests on URLs that start with `base`: `None` for a base the URL parser rejects, or one with
    /// user information, which the target form drops.
    pub fn for_base(base: &str) -> Option<Direct> {
        let url = reqwest::Url::parse(base).ok()?;
        let after_scheme = base.find("://")? + 3;
        let authority_len = base[after_scheme..].find(['/', '?', '#']).unwrap_or(base.len() - after_scheme);
        let authority = &base[after_scheme..after_scheme + authority_len];
        // user information always stands before an `@` of the authority
        if authority.contains('@') {
            return None;
        }
        let host = match url.port() {
            Some(p) => format!("{}:{p}", url.host_str()?),
            None => url.host_str()?.to_string(),
        };
        Some(Direct {
            prefix: base[..after_scheme + authority_len].to_string(),
            host: axum::http::HeaderValue::from_str(&host).ok()?,
        })
    }

    /// The request `method url` with `headers` and `body`, as [`receive_via`] would hand it to the router after
    /// reqwest built it: origin-form target, `Host`, `Content-Length` for a body. `None` when `url` does not
    /// start with the base, or its path and query hold anything but RFC 3986 unreserved characters, `%`
    /// escapes, sub-delimiters (`'` aside), `:`, `@`, `/` and `?` — what the URL parser leaves as it is — or a
    /// dot segment, which it would resolve.
    pub fn request(
        &self,
        method: &str,
        url: &str,
        headers: axum::http::HeaderMap,
        body: Option<Vec<u8>>,
    ) -> Option<axum::extract::Request> {
        let target = self.target(method, url)?;
        Some(self.build(target, headers, body.map(Into::into)))
    }

    /// The method and origin-form target of `method url` when [`Direct::request`] would build it, so a caller
    /// decides before it hands over its headers and body; `None` as there.
    pub fn target(&self, method: &str, url: &str) -> Option<(axum::http::Method, axum::http::Uri)> {
        let origin = url.strip_prefix(&self.prefix)?;
        if !origin.starts_with('/') || !origin.bytes().all(kept_by_url_parser) {
            return None;
        }
        let path = origin.split('?').next().unwrap_or_default();
        if path.split('/').any(is_dot_segment) {
            return None;
        }
        let uri: axum::http::Uri = origin.parse().ok()?;
        let method = axum::http::Method::from_bytes(method.as_bytes()).ok()?;
        Some((method, uri))
    }

    /// The request of a [`Direct::target`] with `headers` and `body` (shared bytes, not copied): `Host`, and
    /// `Content-Length` for a body.
    pub fn build(
        &self,
        (method, uri): (axum::http::Method, axum::http::Uri),
        mut headers: axum::http::HeaderMap,
        body: Option<bytes::Bytes>,
    ) -> axum::extract::Request {
        headers.entry(axum::http::header::HOST).or_insert_with(|| self.host.clone());
        if let Some(b) = &body {
            headers.entry(axum::http::header::CONTENT_LENGTH).or_insert(axum::http::HeaderValue::from(b.len()));
        }
        let mut request =
            axum::extract::Request::new(body.map_or_else(axum::body::Body::empty, axum::body::Body::from));
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        *request.headers_mut() = headers;
        request
    }
}

/// Whether `segment` is a dot segment the URL parser resolves (`.` or `..`, each dot possibly written `%2e` in
/// either case: the URL Standard's single-dot and double-dot path segments), read in place without a lowercased
/// copy.
fn is_dot_segment(segment: &str) -> bool {
    let b = segment.as_bytes();
    // where the dot starting at `i` ends, if one does
    let dot = |i: usize| match b.get(i..) {
        Some([b'.', ..]) => Some(i + 1),
        Some([b'%', b'2', e, ..]) if e.eq_ignore_ascii_case(&b'e') => Some(i + 3),
        _ => None,
    };
    dot(0).is_some_and(|j| j == b.len() || dot(j) == Some(b.len()))
}

/// Whether the URL parser writes `b` of a path or a special scheme's query as it is.
fn kept_by_url_parser(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~%!$&()*+,;=:@/?".contains(&b)
}

/// Sends a request [`Direct::request`] built to `router`, with the contract of [`receive_via`].
pub async fn receive_direct(
    router: &axum::Router,
    request: axum::extract::Request,
    limit: usize,
    timeout: std::time::Duration,
) -> Result<Received, TransportError> {
    deliver(router, request, limit, timeout, Instant::now()).await
}

fn other(message: &str) -> TransportError {
    TransportError { kind: TransportKind::Other, message: message.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_segments_are_told_in_place_as_the_lowercased_and_decoded_copy_told_them() {
        // every segment of up to six bytes over the bytes that matter, against the rule it replaces
        let alphabet = [b'.', b'%', b'2', b'e', b'E', b'a'];
        let by_copy = |seg: &str| matches!(seg.to_ascii_lowercase().replace("%2e", ".").as_str(), "." | "..");
        let mut seg = Vec::new();
        let mut dots = 0;
        for len in 0..=6u32 {
            for mut n in 0..alphabet.len().pow(len) {
                seg.clear();
                for _ in 0..len {
                    seg.push(alphabet[n % alphabet.len()]);
                    n /= alphabet.len();
                }
                let s = std::str::from_utf8(&seg).unwrap();
                assert_eq!(is_dot_segment(s), by_copy(s), "{s:?}");
                dots += usize::from(is_dot_segment(s));
            }
        }
        assert_eq!(dots, 1 + 1 + 2 + 2 + 2 + 4, ". %2e %2E .. .%2e .%2E %2e. %2E. and the four %2e%2e");
        assert!(!is_dot_segment("...") && !is_dot_segment("%2e%2e%2e") && !is_dot_segment("%2f"));
    }
    use serde_json::{json, Value};
    use std::time::Duration;

    /// What the router receives of a request: method, target, version, headers in order, body.
    async fn received(request: axum::extract::Request) -> (String, String, String, Vec<(String, Vec<u8>)>, Vec<u8>) {
        let (parts, body) = request.into_parts();
        let headers = parts.headers.iter().map(|(k, v)| (k.to_string(), v.as_bytes().to_vec())).collect();
        let body = axum::body::to_bytes(body, usize::MAX).await.unwrap().to_vec();
        (parts.method.to_string(), parts.uri.to_string(), format!("{:?}", parts.version), headers, body)
    }

    /// A request [`Direct`] builds is the one reqwest's path hands the router — target, `Host`, `Content-Length`,
    /// every header in order, body — and a URL the URL parser would rewrite is left to reqwest.
    #[tokio::test]
    async fn a_direct_request_is_the_one_reqwest_builds() {
        let client = reqwest::Client::new();
        let mut headers = axum::http::HeaderMap::new();
        headers.append("accept", "application/scim+json".parse().unwrap());
        headers.append("x-two", "a".parse().unwrap());
        headers.append("x-two", "b".parse().unwrap());
        let cases: [(&str, &str, Option<&[u8]>); 5] = [
            ("http://127.0.0.1:8080/t/acme/scim", "/Users?filter=userName+eq+%22a%40b%22&count=2", None),
            ("http://Example.COM:80/base", "/Users/0f8e-1", Some(br#"{"userName":"a"}"#)),
            ("https://h.example/", "Users/.search", Some(b"{}")),
            ("http://[::1]:9/x", "/Groups/a~b!$&()*+,;=:@", None),
            ("http://h/x", "", None),
        ];
        for (base, tail, body) in cases {
            let direct = Direct::for_base(base).unwrap();
            let url = format!("{base}{tail}");
            let mut b = client.patch(&url).headers(headers.clone());
            if let Some(body) = body {
                b = b.body(body.to_vec());
            }
            let ours = direct.request("PATCH", &url, headers.clone(), body.map(<[u8]>::to_vec)).expect("built");
            assert_eq!(received(ours).await, received(router_request(b).unwrap()).await, "{url}");
        }
        let direct = Direct::for_base("http://127.0.0.1:1/scim").unwrap();
        for rewritten in ["/Users?filter=a b", "/Users/\"x\"", "/a/../Users", "/a/%2E%2e/b", "/Users#f", "/é"] {
            let url = format!("http://127.0.0.1:1/scim{rewritten}");
            assert!(direct.request("GET", &url, Default::default(), None).is_none(), "{rewritten}");
        }
        assert!(direct.request("GET", "http://127.0.0.2:1/scim/Users", Default::default(), None).is_none());
        assert!(Direct::for_base("http://user:pw@h/scim").is_none(), "user information is dropped by the target");
        assert!(Direct::for_base("not a url").is_none());
    }

    /// The reference server answers a request handed to its router exactly as it answers it over TCP: same
    /// status, same body, same headers but for the two a connection adds (`date`, and `content-length`, which
    /// hyper writes from the body's length).
    #[tokio::test]
    async fn the_in_process_server_answers_as_over_the_wire() {
        let server = scim_reference_server::spawn(scim_reference_server::ServerConfig::default()).await.unwrap();
        let client = reqwest::Client::new();
        let (wire, direct) = (Transport::Network, Transport::InProcess(server.service()));
        let send = |t: &Transport, method: reqwest::Method, path: &str, body: Option<Value>, token: &str| {
            let mut b = client.request(method, format!("{}{path}", server.base_url)).bearer_auth(token);
            if let Some(body) = body {
                b = b.header("content-type", "application/scim+json").body(body.to_string());
            }
            let t = t.clone();
            async move { receive_via(&t, b, 1 << 20, Duration::from_secs(20)).await.unwrap() }
        };
        let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ada"});
        let created = send(&direct, reqwest::Method::POST, "/Users", Some(user.clone()), &server.token).await;
        assert_eq!(created.status, 201);
        assert!(created.header("location").is_some_and(|l| l.starts_with(&server.base_url)), "{created:?}");
        let id = serde_json::from_slice::<Value>(created.bytes.as_deref().unwrap()).unwrap()["id"].clone();
        let id = id.as_str().unwrap().to_string();
        let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "displayName", "value": "Ada"}]});
        let cases: Vec<(reqwest::Method, String, Option<Value>, &str, u16)> = vec![
            (reqwest::Method::GET, format!("/Users/{id}"), None, &server.token, 200),
            (reqwest::Method::GET, "/Users?filter=userName%20eq%20%22ada%22".into(), None, &server.token, 200),
            (reqwest::Method::POST, "/Users".into(), Some(user), &server.token, 409),
            (reqwest::Method::PATCH, format!("/Users/{id}"), Some(patch), &server.token, 200),
            (reqwest::Method::GET, "/Users?filter=userName%20zz%20%22ada%22".into(), None, &server.token, 400),
            (reqwest::Method::GET, "/Nothing".into(), None, &server.token, 404),
            (reqwest::Method::GET, "/Users".into(), None, "not-a-token", 401),
        ];
        for (method, path, body, token, status) in cases {
            let a = send(&wire, method.clone(), &path, body.clone(), token).await;
            let b = send(&direct, method.clone(), &path, body, token).await;
            assert_eq!((a.status, b.status), (status, status), "{method} {path}");
            let (ja, jb) = (a.bytes.as_deref().unwrap(), b.bytes.as_deref().unwrap());
            let (mut ja, mut jb): (Value, Value) =
                (serde_json::from_slice(ja).unwrap(), serde_json::from_slice(jb).unwrap());
            if method == reqwest::Method::PATCH {
                // each PATCH is a new version of the user
                for v in [&mut ja, &mut jb] {
                    v["meta"].as_object_mut().unwrap().retain(|k, _| k != "version" && k != "lastModified");
                }
            }
            assert_eq!(ja, jb, "{method} {path}");
            let patched = method == reqwest::Method::PATCH;
            let kept = |r: &Received| -> Vec<(String, String)> {
                let mut h: Vec<_> = r
                    .headers
                    .iter()
                    .filter(|(n, _)| n != "date" && n != "content-length" && !(patched && n == "etag"))
                    .cloned()
                    .collect();
                h.sort();
                h
            };
            assert_eq!(kept(&a), kept(&b), "{method} {path}");
            assert_eq!(a.header("content-length").map(|l| l.parse::<usize>().unwrap()), Some(a.bytes.unwrap().len()));
        }
        // a body over the limit is not read on, as over the wire
        let big = client.get(format!("{}/Users/{id}", server.base_url)).bearer_auth(&server.token);
        let r = receive_via(&direct, big, 10, Duration::from_secs(20)).await.unwrap();
        assert_eq!((r.status, r.bytes), (200, None));
        server.shutdown().await;
    }

    /// A handler that panics is a lost connection (resending may help, as over the wire), and one that does not
    /// answer within the timeout is a timeout: a verdict each, never a crash of the tool.
    #[tokio::test]
    async fn a_panicking_or_silent_handler_is_a_reset_or_a_timeout() {
        let router = axum::Router::new()
            .route("/panic", axum::routing::get(|| async { panic!("handler failed") as &'static str }))
            .route(
                "/slow",
                axum::routing::get(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "late"
                }),
            );
        let direct = Direct::for_base("http://127.0.0.1:1/scim").expect("a base");
        let get = |path: &str| direct.request("GET", &format!("http://127.0.0.1:1{path}"), Default::default(), None);
        let e = receive_direct(&router, get("/panic").expect("built"), 1024, Duration::from_secs(5)).await.unwrap_err();
        assert_eq!(e.kind, TransportKind::Reset, "{}", e.message);
        assert!(e.may_resend());
        let e =
            receive_direct(&router, get("/slow").expect("built"), 1024, Duration::from_millis(20)).await.unwrap_err();
        assert_eq!(e.kind, TransportKind::Timeout, "{}", e.message);
    }
}
