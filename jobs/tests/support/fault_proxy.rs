//! A fault-injecting HTTP proxy for tests: it sits between the real AWS SDK
//! clients and the emulator (moto) and, per [`Rule`], answers the next N
//! matching requests with an AWS-style error, or drops the connection, or
//! cuts an answer short; everything else is forwarded unchanged.
//!
//! Requests are matched on the method and path (S3, path-style:
//! `/<bucket>/<key>`), on the DynamoDB operation (the `X-Amz-Target` header)
//! and optionally on a substring of the request body. The first rule that
//! matches and has faults left fires. Every injected fault is counted and
//! logged.

#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Frame, Incoming};
use hyper::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Body = BoxBody<Bytes, BoxError>;

/// What a matching request gets instead of the emulator's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 500: S3 `InternalError`, DynamoDB `InternalServerError`.
    InternalError,
    /// HTTP 503 `ServiceUnavailable`.
    Unavailable,
    /// Throttling: S3 503 `SlowDown`, DynamoDB 400 `ThrottlingException`.
    Throttle,
    /// Close the connection without answering; the request never reaches
    /// the emulator.
    DropRequest,
    /// Forward the request, then close the connection without passing the
    /// answer on: the request took effect, its answer is lost.
    DropResponse,
    /// Forward the request, pass on the status, the headers and half of the
    /// body, then close the connection.
    TruncateBody,
    /// Answer a DynamoDB `Query` with no items, as an eventually consistent
    /// index that has not caught up yet does; the emulator is not asked.
    EmptyQuery,
}

/// Which requests a fault applies to, and how many times.
#[derive(Debug, Clone)]
pub struct Rule {
    method: Option<Method>,
    path_prefix: Option<String>,
    /// `Some(op)`: DynamoDB requests for `op` only; `None` with
    /// `s3_only`: requests without an `X-Amz-Target`.
    target: Option<String>,
    s3_only: bool,
    body_contains: Option<String>,
    fault: Fault,
    remaining: u64,
    injected: u64,
}

impl Rule {
    /// S3 requests with this method whose path starts with `path_prefix`
    /// (`/<bucket>/…`); once, with [`Fault::InternalError`].
    pub fn s3(method: &str, path_prefix: &str) -> Self {
        Self {
            method: Method::from_bytes(method.as_bytes()).ok(),
            path_prefix: Some(path_prefix.to_string()),
            target: None,
            s3_only: true,
            body_contains: None,
            fault: Fault::InternalError,
            remaining: 1,
            injected: 0,
        }
    }

    /// DynamoDB requests for `operation` (`GetItem`, `TransactWriteItems`…);
    /// once, with [`Fault::InternalError`].
    pub fn dynamo(operation: &str) -> Self {
        Self {
            method: None,
            path_prefix: None,
            target: Some(operation.to_string()),
            s3_only: false,
            body_contains: None,
            fault: Fault::InternalError,
            remaining: 1,
            injected: 0,
        }
    }

    /// Only requests whose body contains `needle`.
    pub fn body_contains(mut self, needle: &str) -> Self {
        self.body_contains = Some(needle.to_string());
        self
    }

    /// Inject `fault`.
    pub fn fault(mut self, fault: Fault) -> Self {
        self.fault = fault;
        self
    }

    /// For the next `n` matching requests.
    pub fn times(mut self, n: u64) -> Self {
        self.remaining = n;
        self
    }

    /// For every matching request until the rules are cleared.
    pub fn always(self) -> Self {
        self.times(u64::MAX)
    }

    fn matches(&self, method: &Method, path: &str, target: Option<&str>, body: &[u8]) -> bool {
        if self.method.as_ref().is_some_and(|m| m != method) {
            return false;
        }
        if self
            .path_prefix
            .as_deref()
            .is_some_and(|p| !path.starts_with(p))
        {
            return false;
        }
        match (&self.target, target) {
            (Some(want), Some(got)) if got.rsplit('.').next() == Some(want.as_str()) => {}
            (Some(_), _) => return false,
            (None, Some(_)) if self.s3_only => return false,
            (None, _) => {}
        }
        match &self.body_contains {
            Some(needle) => body
                .windows(needle.len().max(1))
                .any(|w| w == needle.as_bytes()),
            None => true,
        }
    }
}

/// One injected fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Injected {
    /// `S3 GET /bucket/key` or `DynamoDB GetItem`.
    pub request: String,
    /// What it got.
    pub fault: Fault,
}

struct Shared {
    upstream: SocketAddr,
    rules: Mutex<Vec<Rule>>,
    log: Mutex<Vec<Injected>>,
    forwarded: Mutex<u64>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    fn take_fault(
        &self,
        method: &Method,
        path: &str,
        target: Option<&str>,
        body: &[u8],
    ) -> Option<Fault> {
        let mut rules = lock(&self.rules);
        let rule = rules
            .iter_mut()
            .find(|r| r.remaining > 0 && r.matches(method, path, target, body))?;
        if rule.remaining != u64::MAX {
            rule.remaining -= 1;
        }
        rule.injected += 1;
        let request = match target {
            Some(t) => format!("DynamoDB {}", t.rsplit('.').next().unwrap_or(t)),
            None => format!("S3 {method} {path}"),
        };
        let fault = rule.fault;
        lock(&self.log).push(Injected { request, fault });
        Some(fault)
    }
}

/// A running proxy; stops accepting when dropped.
pub struct FaultProxy {
    /// `http://127.0.0.1:PORT`: the endpoint to give the SDK.
    pub endpoint: String,
    shared: Arc<Shared>,
    accept: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Listen on a free loopback port and forward to `upstream`
    /// (`http://host:port`). Needs a Tokio runtime.
    pub async fn start(upstream: &str) -> Self {
        let upstream: SocketAddr = upstream
            .strip_prefix("http://")
            .unwrap_or(upstream)
            .trim_end_matches('/')
            .parse()
            .expect("upstream host:port");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("local addr"));
        let shared = Arc::new(Shared {
            upstream,
            rules: Mutex::new(Vec::new()),
            log: Mutex::new(Vec::new()),
            forwarded: Mutex::new(0),
        });
        let accept = tokio::spawn(accept_loop(listener, Arc::clone(&shared)));
        Self {
            endpoint,
            shared,
            accept,
        }
    }

    /// Add a rule (after the existing ones).
    pub fn add(&self, rule: Rule) {
        lock(&self.shared.rules).push(rule);
    }

    /// Remove every rule: from now on everything is forwarded.
    pub fn clear(&self) {
        lock(&self.shared.rules).clear();
    }

    /// Faults still to inject by the rules with a finite count.
    pub fn pending(&self) -> u64 {
        lock(&self.shared.rules)
            .iter()
            .filter(|r| r.remaining != u64::MAX)
            .map(|r| r.remaining)
            .sum()
    }

    /// Every fault injected so far, in order.
    pub fn log(&self) -> Vec<Injected> {
        lock(&self.shared.log).clone()
    }

    /// How many faults were injected so far.
    pub fn injected(&self) -> usize {
        lock(&self.shared.log).len()
    }

    /// How many requests were passed on to the emulator.
    pub fn forwarded(&self) -> u64 {
        *lock(&self.shared.forwarded)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| handle(req, Arc::clone(&shared)));
            // An error here is a dropped connection (injected or not).
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

#[derive(Debug, thiserror::Error)]
#[error("connection dropped by the fault proxy")]
struct Dropped;

async fn handle(req: Request<Incoming>, shared: Arc<Shared>) -> Result<Response<Body>, BoxError> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await?.to_bytes();
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let fault = shared.take_fault(&parts.method, parts.uri.path(), target.as_deref(), &body);
    let is_head = parts.method == Method::HEAD;
    match fault {
        None => {
            let (head, bytes) = forward(&shared, parts, body).await?;
            Ok(Response::from_parts(head, full(bytes)))
        }
        Some(f @ (Fault::InternalError | Fault::Unavailable | Fault::Throttle)) => {
            Ok(error_response(f, target.is_some(), is_head))
        }
        Some(Fault::DropRequest) => Err(Dropped.into()),
        Some(Fault::EmptyQuery) => {
            let mut resp = Response::new(full(Bytes::from_static(
                br#"{"Count":0,"Items":[],"ScannedCount":0}"#,
            )));
            resp.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-amz-json-1.0"),
            );
            resp.headers_mut()
                .insert("x-amzn-requestid", HeaderValue::from_static("FAULTPROXY"));
            Ok(resp)
        }
        Some(Fault::DropResponse) => {
            forward(&shared, parts, body).await?;
            Err(Dropped.into())
        }
        Some(Fault::TruncateBody) => {
            let (mut head, bytes) = forward(&shared, parts, body).await?;
            head.headers
                .insert(CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            let half = bytes.slice(..bytes.len() / 2);
            Ok(Response::from_parts(
                head,
                Truncated { half: Some(half) }.boxed(),
            ))
        }
    }
}

/// Send the request to the emulator on a new connection (moto speaks
/// HTTP/1.0 and closes each one); its whole answer.
async fn forward(
    shared: &Shared,
    mut parts: hyper::http::request::Parts,
    body: Bytes,
) -> Result<(hyper::http::response::Parts, Bytes), BoxError> {
    parts.headers.remove(hyper::header::EXPECT);
    let stream = TcpStream::connect(shared.upstream).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let resp = sender
        .send_request(Request::from_parts(parts, Full::new(body)))
        .await?;
    *lock(&shared.forwarded) += 1;
    let (mut head, body) = resp.into_parts();
    let bytes = body.collect().await?.to_bytes();
    for hop in ["connection", "keep-alive", "transfer-encoding"] {
        head.headers.remove(hop);
    }
    Ok((head, bytes))
}

fn full(bytes: Bytes) -> Body {
    Full::new(bytes).map_err(|e: Infallible| match e {}).boxed()
}

/// An AWS-style error answer: S3's XML or DynamoDB's JSON.
fn error_response(fault: Fault, dynamo: bool, head_request: bool) -> Response<Body> {
    let (status, code, message) = match (fault, dynamo) {
        (Fault::InternalError, false) => (
            500,
            "InternalError",
            "We encountered an internal error. Please try again.",
        ),
        (Fault::InternalError, true) => (
            500,
            "InternalServerError",
            "Internal server error (injected)",
        ),
        (Fault::Throttle, false) => (503, "SlowDown", "Please reduce your request rate."),
        (Fault::Throttle, true) => (
            400,
            "ThrottlingException",
            "Rate of requests exceeds the allowed throughput.",
        ),
        (_, _) => (
            503,
            "ServiceUnavailable",
            "The service is unavailable (injected)",
        ),
    };
    let (content_type, body) = if dynamo {
        (
            "application/x-amz-json-1.0",
            format!(
                r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{code}","message":"{message}"}}"#
            ),
        )
    } else {
        (
            "application/xml",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>FAULTPROXY</RequestId></Error>"
            ),
        )
    };
    let mut resp = Response::new(if head_request {
        full(Bytes::new())
    } else {
        full(Bytes::from(body))
    });
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp.headers_mut()
        .insert("x-amzn-requestid", HeaderValue::from_static("FAULTPROXY"));
    resp.headers_mut()
        .insert("x-amz-request-id", HeaderValue::from_static("FAULTPROXY"));
    resp
}

/// Half a body, then an error: the server closes the connection short of
/// the announced length.
struct Truncated {
    half: Option<Bytes>,
}

impl hyper::body::Body for Truncated {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        Poll::Ready(Some(match self.half.take() {
            Some(half) => Ok(Frame::data(half)),
            None => Err(Dropped.into()),
        }))
    }
}
