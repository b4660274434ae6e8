//! The download function: a client fetches a completed job's output
//! through a short-lived presigned `GET` (at most 15 minutes).
//!
//! `GET /jobs/{job_id}/download[?output=<name>][&redirect=1]` with the
//! client's bearer token:
//! - 200 `{"job_id","output","url","expires_at","content_type","bytes"}`,
//!   or `302` to the URL with `redirect=1`;
//! - 401 without a valid client token;
//! - 404 for an unknown job, another client's job (indistinguishable, so
//!   job ids cannot be probed) or an unknown output name;
//! - 409 while the job is not completed.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use lambda_runtime::LambdaEvent;
use rawflow_jobs::aws::S3ObjectStore;
use rawflow_jobs::ids::now_secs;
use rawflow_jobs::{JobStatus, JobStore, ObjectKey};
use serde::{Deserialize, Serialize};

use crate::config::{DownloadConfig, MAX_DOWNLOAD_TTL};
use crate::http::{
    auth_error_response, authenticate, error, json, path_param, query, redirect, Principal,
};

/// What the download function needs.
#[derive(Clone)]
pub struct DownloadDeps {
    /// The job table (clients, jobs).
    pub jobs: Arc<dyn JobStore>,
    /// The buckets (presigning uses its S3 client).
    pub store: S3ObjectStore,
    /// Link lifetime.
    pub config: DownloadConfig,
}

/// The 200 answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownloadResponse {
    /// The job.
    pub job_id: String,
    /// The output's rendition name.
    pub output: String,
    /// The presigned `GET` URL.
    pub url: String,
    /// When it expires, Unix seconds.
    pub expires_at: u64,
    /// The output's MIME type.
    pub content_type: String,
    /// The output's size.
    pub bytes: u64,
}

fn job_id_of(req: &ApiGatewayV2httpRequest) -> Option<String> {
    if let Some(id) = path_param(req, "job_id") {
        return Some(id.to_string());
    }
    // `/jobs/<job>/download`
    let mut segs = req.raw_path.as_deref()?.rsplit('/');
    segs.next()?;
    segs.next().map(str::to_string)
}

/// Handle a download request.
pub async fn handle_download(
    event: LambdaEvent<ApiGatewayV2httpRequest>,
    deps: &DownloadDeps,
) -> Result<ApiGatewayV2httpResponse, lambda_runtime::Error> {
    let req = &event.payload;
    let client = match authenticate(req, deps.jobs.as_ref(), None).await {
        Ok(Principal::Client(id)) => id,
        Ok(Principal::Admin) => return Ok(error(401, "missing or invalid token")),
        Err(e) => return Ok(auth_error_response(&e)),
    };
    let not_found = || error(404, "no such job");
    let Some(job_id) = job_id_of(req).filter(|j| rawflow_jobs::ids::is_valid_id(j)) else {
        return Ok(not_found());
    };
    let job = match deps.jobs.get_job(&job_id).await {
        Ok(Some(job)) if job.client_id == client => job,
        Ok(_) => return Ok(not_found()),
        Err(e) => {
            tracing::error!(error = %e, "job store failed");
            return Ok(error(500, "internal error"));
        }
    };
    if job.status != JobStatus::Completed {
        return Ok(json(
            409,
            &serde_json::json!({
                "error": "the job is not completed",
                "status": job.status,
            }),
        ));
    }
    let output = match query(req, "output") {
        Some(name) => job.outputs.iter().find(|o| o.name == name),
        None => job.outputs.first(),
    };
    let Some(output) = output else {
        return Ok(error(404, "no such output"));
    };
    let Ok(key) = ObjectKey::new(&output.key) else {
        return Ok(error(500, "internal error"));
    };
    let ttl = deps.config.link_ttl.min(MAX_DOWNLOAD_TTL);
    let stem = job
        .filename
        .rsplit_once('.')
        .map_or(job.filename.as_str(), |(s, _)| s);
    let ext = key.file_name().rsplit_once('.').map_or("", |(_, e)| e);
    let save_as = format!("{stem}-{}.{ext}", output.name);
    let url = match deps.store.presign_get(&key, ttl, Some(&save_as)).await {
        Ok(u) => u,
        Err(e) => {
            tracing::error!(error = %e, "presigning failed");
            return Ok(error(500, "internal error"));
        }
    };
    if matches!(query(req, "redirect"), Some("1" | "true")) {
        return Ok(redirect(&url));
    }
    Ok(json(
        200,
        &DownloadResponse {
            job_id: job.id.clone(),
            output: output.name.clone(),
            url,
            expires_at: now_secs().saturating_add(ttl.as_secs()),
            content_type: output.content_type.clone(),
            bytes: output.bytes,
        },
    ))
}
