//! The upload function: the studio's admin asks for a place to put a RAW
//! file; the answer is a presigned `PUT` into the RAW bucket at
//! `raw/<client>/<job>/<filename>` (or, above the multipart threshold, a
//! multipart upload: presigned `UploadPart` URLs and a complete step).
//!
//! The RAW bytes go straight to S3: API Gateway refuses payloads over
//! 10 MB, and RAW files are often larger. The size is declared up front and
//! checked against the limit; a single `PUT` is signed with that
//! `Content-Length` (and the server-side-encryption header), so S3 refuses
//! a body of another length. Multipart parts are signed one by one, each
//! with its part's length, so the total is bounded as well.
//!
//! Routes (API Gateway HTTP API, payload v2), admin token only:
//! - `POST /uploads` `{"client_id","filename","recipe","size"}` → 201
//! - `POST /uploads/{job_id}/complete` `{"upload_id","parts":[{"part_number","etag"}]}`
//!   → 200 (multipart only; S3 then sends the `ObjectCreated` event).

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use lambda_runtime::LambdaEvent;
use rawflow_jobs::aws::aws_sdk_s3::presigning::PresigningConfig;
use rawflow_jobs::aws::aws_sdk_s3::types::{
    CompletedMultipartUpload, CompletedPart, ServerSideEncryption,
};
use rawflow_jobs::aws::{Encryption, S3ObjectStore};
use rawflow_jobs::ids::now_secs;
use rawflow_jobs::uploads::{create_upload, UploadError};
use rawflow_jobs::{JobStore, LinkSigner};
use serde::{Deserialize, Serialize};

use crate::config::{UploadConfig, MAX_PARTS};
use crate::http::{
    auth_error_response, authenticate, body_text, error, json, path_param, Principal,
};

/// What the upload function needs.
#[derive(Clone)]
pub struct UploadDeps {
    /// The job table (clients, upload intents).
    pub jobs: Arc<dyn JobStore>,
    /// The buckets (presigning uses its S3 client).
    pub store: S3ObjectStore,
    /// Limits and the admin token's hash.
    pub config: UploadConfig,
}

/// `POST /uploads` body.
#[derive(Debug, Deserialize)]
pub struct UploadRequest {
    /// The client the job is for.
    pub client_id: String,
    /// The RAW file's name.
    pub filename: String,
    /// The recipe to develop it with.
    pub recipe: String,
    /// The file's size in bytes.
    pub size: u64,
}

/// One presigned part URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartLink {
    /// 1-based part number.
    pub part_number: i32,
    /// Presigned `PUT` URL of the part.
    pub url: String,
    /// The part's exact length.
    pub size: u64,
}

/// `POST /uploads` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadResponse {
    /// The job the upload becomes.
    pub job_id: String,
    /// The RAW object's key.
    pub key: String,
    /// `single` or `multipart`.
    pub kind: String,
    /// Single upload: the presigned `PUT` URL.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub url: Option<String>,
    /// Headers the `PUT`s must carry (they are signed).
    pub headers: Vec<(String, String)>,
    /// Multipart: the upload id.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub upload_id: Option<String>,
    /// Multipart: one link per part.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub parts: Vec<PartLink>,
    /// Multipart: where to `POST` the part etags when all are up.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub complete_path: Option<String>,
    /// When the links expire, Unix seconds.
    pub expires_at: u64,
}

/// `POST /uploads/{job_id}/complete` body.
#[derive(Debug, Deserialize)]
pub struct CompleteRequest {
    /// From the upload answer.
    pub upload_id: String,
    /// Each part's number and the `ETag` S3 answered for it.
    pub parts: Vec<CompletePart>,
}

/// One uploaded part.
#[derive(Debug, Deserialize)]
pub struct CompletePart {
    /// 1-based part number.
    pub part_number: i32,
    /// The part's `ETag`.
    pub etag: String,
}

/// Handle an upload API request.
pub async fn handle_upload(
    event: LambdaEvent<ApiGatewayV2httpRequest>,
    deps: &UploadDeps,
) -> Result<ApiGatewayV2httpResponse, lambda_runtime::Error> {
    let req = &event.payload;
    match authenticate(
        req,
        deps.jobs.as_ref(),
        Some(&deps.config.admin_token_sha256),
    )
    .await
    {
        Ok(Principal::Admin) => {}
        Ok(Principal::Client(_)) => return Ok(error(403, "only the studio may upload")),
        Err(e) => return Ok(auth_error_response(&e)),
    }
    let method = req.request_context.http.method.as_str();
    let path = req.raw_path.as_deref().unwrap_or_default();
    if method != "POST" {
        return Ok(error(405, "method not allowed"));
    }
    if path.ends_with("/complete") {
        Ok(complete(req, deps).await)
    } else if path.ends_with("/uploads") {
        Ok(start(req, deps).await)
    } else {
        Ok(error(404, "no such route"))
    }
}

fn presigning(ttl: Duration) -> Option<PresigningConfig> {
    PresigningConfig::expires_in(ttl).ok()
}

/// Split `size` bytes into parts of `part_size` (grown so that there are
/// at most [`MAX_PARTS`]); each part's length.
pub fn part_sizes(size: u64, part_size: u64) -> Vec<u64> {
    let part = part_size.max(size.div_ceil(MAX_PARTS)).max(1);
    let count = size.div_ceil(part);
    (0..count)
        .map(|i| part.min(size.saturating_sub(i * part)))
        .collect()
}

async fn start(req: &ApiGatewayV2httpRequest, deps: &UploadDeps) -> ApiGatewayV2httpResponse {
    let Some(body) = body_text(req) else {
        return error(400, "a JSON body is required");
    };
    let ask: UploadRequest = match serde_json::from_str(&body) {
        Ok(a) => a,
        Err(e) => return error(400, &format!("invalid request: {e}")),
    };
    let cfg = &deps.config;
    if ask.size == 0 {
        return error(400, "size must be positive");
    }
    if ask.size > cfg.max_upload_bytes {
        return error(
            413,
            &format!(
                "{} bytes is over the limit of {}",
                ask.size, cfg.max_upload_bytes
            ),
        );
    }
    if !cfg.recipes.iter().any(|r| *r == ask.recipe) {
        return error(400, &format!("unknown recipe {:?}", ask.recipe));
    }
    // The local signed path is not used here: S3 presigns instead.
    let signer = LinkSigner::new(rawflow_jobs::ids::random_bytes::<32>());
    let ticket = match create_upload(
        deps.jobs.as_ref(),
        &signer,
        &ask.client_id,
        &ask.filename,
        &ask.recipe,
        cfg.link_ttl,
    )
    .await
    {
        Ok(t) => t,
        Err(UploadError::UnknownClient(c)) => return error(404, &format!("unknown client {c}")),
        Err(UploadError::InvalidName(e)) => return error(400, &e.to_string()),
        Err(UploadError::InvalidKey(e)) => return error(400, &e.to_string()),
        Err(UploadError::Store(e)) => {
            tracing::error!(error = %e, "job store failed");
            return error(500, "internal error");
        }
    };
    let answer = if ask.size > cfg.multipart_threshold {
        multipart(deps, &ticket.job_id, ticket.key.as_str(), ask.size).await
    } else {
        single(deps, &ticket.job_id, ticket.key.as_str(), ask.size).await
    };
    match answer {
        Ok(a) => json(201, &a),
        Err(e) => {
            tracing::error!(error = %e, "presigning failed");
            error(500, "internal error")
        }
    }
}

async fn single(
    deps: &UploadDeps,
    job_id: &str,
    key: &str,
    size: u64,
) -> Result<UploadResponse, String> {
    let ttl = deps.config.link_ttl;
    let cfg = presigning(ttl).ok_or("bad link lifetime")?;
    let store = &deps.store;
    let mut put = store
        .client()
        .put_object()
        .bucket(store.bucket_for(key))
        .key(key)
        .content_length(i64::try_from(size).map_err(|e| e.to_string())?);
    put = match &store.config().encryption {
        Encryption::Aes256 => put.server_side_encryption(ServerSideEncryption::Aes256),
        Encryption::Kms(id) => put
            .server_side_encryption(ServerSideEncryption::AwsKms)
            .ssekms_key_id(id),
    };
    let signed = put.presigned(cfg).await.map_err(|e| e.to_string())?;
    let mut headers: Vec<(String, String)> = signed
        .headers()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
        .collect();
    if !headers.iter().any(|(k, _)| k == "content-length") {
        headers.push(("content-length".into(), size.to_string()));
    }
    Ok(UploadResponse {
        job_id: job_id.to_string(),
        key: key.to_string(),
        kind: "single".into(),
        url: Some(signed.uri().to_string()),
        headers,
        upload_id: None,
        parts: Vec::new(),
        complete_path: None,
        expires_at: now_secs().saturating_add(ttl.as_secs()),
    })
}

async fn multipart(
    deps: &UploadDeps,
    job_id: &str,
    key: &str,
    size: u64,
) -> Result<UploadResponse, String> {
    let ttl = deps.config.link_ttl;
    let store = &deps.store;
    let bucket = store.bucket_for(key);
    let mut create = store
        .client()
        .create_multipart_upload()
        .bucket(bucket)
        .key(key)
        .content_type("application/octet-stream");
    create = match &store.config().encryption {
        Encryption::Aes256 => create.server_side_encryption(ServerSideEncryption::Aes256),
        Encryption::Kms(id) => create
            .server_side_encryption(ServerSideEncryption::AwsKms)
            .ssekms_key_id(id),
    };
    let created = create
        .send()
        .await
        .map_err(|e| rawflow_jobs::aws::aws_sdk_s3::error::DisplayErrorContext(&e).to_string())?;
    let upload_id = created.upload_id().ok_or("no upload id")?.to_string();
    let mut parts = Vec::new();
    for (i, part_len) in part_sizes(size, deps.config.part_size)
        .into_iter()
        .enumerate()
    {
        let part_number = i32::try_from(i + 1).map_err(|e| e.to_string())?;
        let cfg = presigning(ttl).ok_or("bad link lifetime")?;
        let signed = store
            .client()
            .upload_part()
            .bucket(bucket)
            .key(key)
            .upload_id(&upload_id)
            .part_number(part_number)
            .content_length(i64::try_from(part_len).map_err(|e| e.to_string())?)
            .presigned(cfg)
            .await
            .map_err(|e| e.to_string())?;
        parts.push(PartLink {
            part_number,
            url: signed.uri().to_string(),
            size: part_len,
        });
    }
    // Encryption is set on CreateMultipartUpload; parts carry no SSE header.
    Ok(UploadResponse {
        job_id: job_id.to_string(),
        key: key.to_string(),
        kind: "multipart".into(),
        url: None,
        headers: Vec::new(),
        upload_id: Some(upload_id),
        parts,
        complete_path: Some(format!("/uploads/{job_id}/complete")),
        expires_at: now_secs().saturating_add(ttl.as_secs()),
    })
}

fn job_id_of(req: &ApiGatewayV2httpRequest) -> Option<String> {
    if let Some(id) = path_param(req, "job_id") {
        return Some(id.to_string());
    }
    // `/uploads/<job>/complete`
    let mut segs = req.raw_path.as_deref()?.rsplit('/');
    segs.next()?;
    segs.next().map(str::to_string)
}

async fn complete(req: &ApiGatewayV2httpRequest, deps: &UploadDeps) -> ApiGatewayV2httpResponse {
    let Some(job_id) = job_id_of(req).filter(|j| rawflow_jobs::ids::is_valid_id(j)) else {
        return error(404, "no such upload");
    };
    let Some(body) = body_text(req) else {
        return error(400, "a JSON body is required");
    };
    let ask: CompleteRequest = match serde_json::from_str(&body) {
        Ok(a) => a,
        Err(e) => return error(400, &format!("invalid request: {e}")),
    };
    let intent = match deps.jobs.get_upload(&job_id).await {
        Ok(Some(i)) => i,
        Ok(None) => return error(404, "no such upload"),
        Err(e) => {
            tracing::error!(error = %e, "job store failed");
            return error(500, "internal error");
        }
    };
    let Ok(key) =
        rawflow_jobs::ObjectKey::raw_input(&intent.client_id, &intent.job_id, &intent.filename)
    else {
        return error(500, "internal error");
    };
    if ask.parts.is_empty() {
        return error(400, "no parts");
    }
    let parts: Vec<CompletedPart> = ask
        .parts
        .iter()
        .map(|p| {
            CompletedPart::builder()
                .part_number(p.part_number)
                .e_tag(&p.etag)
                .build()
        })
        .collect();
    let store = &deps.store;
    let done = store
        .client()
        .complete_multipart_upload()
        .bucket(store.bucket_for(key.as_str()))
        .key(key.as_str())
        .upload_id(&ask.upload_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await;
    match done {
        Ok(_) => json(
            200,
            &serde_json::json!({ "job_id": job_id, "key": key.as_str() }),
        ),
        Err(e) => {
            let msg = rawflow_jobs::aws::aws_sdk_s3::error::DisplayErrorContext(&e).to_string();
            tracing::warn!(error = %msg, "CompleteMultipartUpload failed");
            error(400, "the multipart upload could not be completed")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::part_sizes;

    #[test]
    fn parts_cover_the_file() {
        let mib = 1024 * 1024;
        assert_eq!(part_sizes(10 * mib, 4 * mib), [4 * mib, 4 * mib, 2 * mib]);
        assert_eq!(part_sizes(8 * mib, 4 * mib), [4 * mib, 4 * mib]);
        let huge = part_sizes(1 << 40, 5 * mib);
        assert!(huge.len() <= 10_000);
        assert_eq!(huge.iter().sum::<u64>(), 1 << 40);
    }
}
