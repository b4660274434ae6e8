//! `PUT` and `GET /v1/objects/<key>?expires=&sig=`: the signed links.
//!
//! A `PUT` is the local stand-in for an S3 presigned upload: the body is
//! streamed to the object store (never held whole in memory) with its size
//! limited and its SHA-256 computed on the way, then the object-created
//! event records the job. A `GET` streams an object from disk.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::TryStreamExt;
use rawflow_jobs::ids::now_secs;
use rawflow_jobs::names::file_stem;
use rawflow_jobs::uploads::{on_object_created, EventOutcome, ObjectCreated};
use rawflow_jobs::{JobStatus, JobStore, LinkError, ObjectKey, ObjectStore, PutMode, StoreError};
use serde::Deserialize;
use serde_json::json;
use tokio::io::{AsyncRead, ReadBuf};
use tokio_util::io::{ReaderStream, StreamReader};

use super::error::ApiError;
use super::state::AppState;

/// The query of a signed link.
#[derive(Deserialize)]
pub struct LinkQuery {
    expires: Option<String>,
    sig: Option<String>,
}

/// Validate the key (400) and the link (403).
fn check_link(
    state: &AppState,
    method: &str,
    raw_key: &str,
    query: &LinkQuery,
) -> Result<ObjectKey, ApiError> {
    let key =
        ObjectKey::new(raw_key).map_err(|e| ApiError::BadRequest(format!("refused key: {e}")))?;
    let (Some(expires), Some(sig)) = (query.expires.as_deref(), query.sig.as_deref()) else {
        return Err(ApiError::Forbidden("unsigned link".into()));
    };
    let expires: u64 = expires
        .parse()
        .map_err(|_| ApiError::Forbidden("bad link".into()))?;
    state
        .signer
        .verify(method, &key, expires, sig, now_secs())
        .map_err(|e| match e {
            LinkError::Expired => ApiError::Forbidden("link expired".into()),
            LinkError::BadSignature => ApiError::Forbidden("bad link signature".into()),
        })?;
    Ok(key)
}

/// An `AsyncRead` that fails once more than `limit` bytes went through.
struct Limited<R> {
    inner: R,
    left: u64,
    exceeded: Arc<AtomicBool>,
}

impl<R: AsyncRead + Unpin> AsyncRead for Limited<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let n = (buf.filled().len() - before) as u64;
                if n > this.left {
                    this.exceeded.store(true, Ordering::SeqCst);
                    return Poll::Ready(Err(std::io::Error::other("upload too large")));
                }
                this.left -= n;
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

/// `PUT /v1/objects/<raw key>?expires=&sig=` with the RAW bytes → 201.
pub async fn put_object(
    state: State<Arc<AppState>>,
    raw_key: Path<String>,
    query: Query<LinkQuery>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match store_upload(state, raw_key, query, headers, body).await {
        Ok(stored) => stored.into_response(),
        // A refusal can come before the body was read: close the connection, so
        // that the client does not send its next request on it.
        Err(refused) => {
            let mut response = refused.into_response();
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
}

/// [`put_object`]'s work: check the link and the job, then store the bytes.
async fn store_upload(
    State(state): State<Arc<AppState>>,
    Path(raw_key): Path<String>,
    Query(query): Query<LinkQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let key = check_link(&state, "PUT", &raw_key, &query)?;
    let parts = key
        .parse_raw_input()
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let job_id = parts.job_id.to_string();
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > state.max_upload_bytes) {
        return Err(ApiError::TooLarge(state.max_upload_bytes));
    }
    let announced = state
        .jobs
        .get_job(&job_id)
        .await
        .map_err(ApiError::internal)?
        .filter(|job| job.upload_expires_at.is_some())
        .ok_or(ApiError::NotFound)?;
    if matches!(
        announced.status,
        JobStatus::Cancelled | JobStatus::UploadExpired
    ) {
        return Err(ApiError::Conflict(format!(
            "job {job_id} is {}: its upload is no longer expected",
            announced.status
        )));
    }

    let exceeded = Arc::new(AtomicBool::new(false));
    let stream = body.into_data_stream().map_err(std::io::Error::other);
    let mut reader = Limited {
        inner: StreamReader::new(stream),
        left: state.max_upload_bytes,
        exceeded: Arc::clone(&exceeded),
    };
    let meta = match state
        .objects
        .put_reader(&key, &mut reader, PutMode::CreateNew)
        .await
    {
        Ok(meta) => meta,
        Err(StoreError::AlreadyExists { sha256, .. }) => {
            // A repeated PUT: fine if it is the same file (re-raise the event,
            // which is idempotent), a conflict otherwise.
            let stored = stored_meta(&state, &key).await?;
            if stored.sha256.as_deref() != Some(sha256.as_str()) {
                return Err(ApiError::Conflict(
                    "this upload link was already used for another file".into(),
                ));
            }
            stored
        }
        Err(StoreError::Source(_)) if exceeded.load(Ordering::SeqCst) => {
            return Err(ApiError::TooLarge(state.max_upload_bytes))
        }
        Err(StoreError::Source(e)) => {
            return Err(ApiError::BadRequest(format!("upload interrupted: {e}")))
        }
        Err(e) => return Err(ApiError::internal(e)),
    };
    let sha256 = meta.sha256.clone().unwrap_or_default();
    let event = ObjectCreated {
        key: key.to_string(),
        size: meta.size,
        sha256: sha256.clone(),
    };
    match on_object_created(&*state.jobs, &event, state.max_attempts)
        .await
        .map_err(ApiError::internal)?
    {
        EventOutcome::Created(job) => {
            tracing::info!(job = %job.id, key = %key, bytes = meta.size, "object created: job pending");
            state.wake.notify_waiters();
        }
        EventOutcome::Duplicate(job) => {
            tracing::info!(job = %job.id, key = %key, "object created again: no new job");
        }
        EventOutcome::Ignored(why) => return Err(ApiError::Conflict(why)),
    }
    Ok((
        StatusCode::CREATED,
        Json(json!({ "job_id": job_id, "bytes": meta.size, "sha256": sha256 })),
    ))
}

/// Size and SHA-256 of a stored object.
async fn stored_meta(
    state: &AppState,
    key: &ObjectKey,
) -> Result<rawflow_jobs::ObjectMeta, ApiError> {
    let (meta, mut reader) = state
        .objects
        .get_reader(key)
        .await
        .map_err(ApiError::internal)?;
    let mut hasher = HashingWriter::default();
    tokio::io::copy(&mut reader, &mut hasher)
        .await
        .map_err(ApiError::internal)?;
    Ok(rawflow_jobs::ObjectMeta {
        sha256: Some(hasher.finish()),
        ..meta
    })
}

/// An `AsyncWrite` that only hashes.
#[derive(Default)]
struct HashingWriter(sha2::Sha256);

impl HashingWriter {
    fn finish(self) -> String {
        use sha2::Digest;
        rawflow_jobs::ids::hex(&self.0.finalize())
    }
}

impl tokio::io::AsyncWrite for HashingWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        use sha2::Digest;
        self.0.update(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// `GET /v1/objects/<key>?expires=&sig=` → the bytes, streamed, as an attachment.
pub async fn get_object(
    State(state): State<Arc<AppState>>,
    Path(raw_key): Path<String>,
    Query(query): Query<LinkQuery>,
) -> Result<Response, ApiError> {
    let key = check_link(&state, "GET", &raw_key, &query)?;
    let (mut content_type, mut filename) = (
        "application/octet-stream".to_string(),
        key.file_name().to_string(),
    );
    if let Some((_, job_id, _)) = key.parse_output() {
        if let Some(job) = state
            .jobs
            .get_job(job_id)
            .await
            .map_err(ApiError::internal)?
        {
            if let Some(out) = job.outputs.iter().find(|o| o.key == key.as_str()) {
                content_type = out.content_type.clone();
                let ext = key.file_name().rsplit('.').next().unwrap_or("bin");
                filename = format!("{}-{}.{ext}", file_stem(&job.filename), out.name);
            }
        }
    }
    let (meta, reader) = match state.objects.get_reader(&key).await {
        Ok(r) => r,
        Err(StoreError::NotFound(_)) => return Err(ApiError::NotFound),
        Err(e) => return Err(ApiError::internal(e)),
    };
    tracing::info!(key = %key, bytes = meta.size, "object served");
    let mut resp = Body::from_stream(ReaderStream::new(reader)).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&content_type).map_err(ApiError::internal)?,
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(meta.size));
    // File names are restricted to a safe ASCII set, so quoting is enough.
    if !filename.bytes().all(|b| b.is_ascii_graphic() || b == b' ') || filename.contains('"') {
        filename = "download".into();
    }
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
            .map_err(ApiError::internal)?,
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(resp)
}
