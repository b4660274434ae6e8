//! The JSON API: clients, uploads, jobs and download links.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use rawflow_jobs::auth::issue_token;
use rawflow_jobs::ids::{is_valid_id, new_client_id, now_millis, now_secs, rfc3339_secs};
use rawflow_jobs::names::validate_client_name;
use rawflow_jobs::state::Refusal;
use rawflow_jobs::uploads::{create_upload, UploadError};
use rawflow_jobs::{Client, Job, JobFilter, JobStatus, JobStore, JobStoreError, ObjectKey};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::{authenticate, require_admin, Principal};
use super::error::ApiError;
use super::state::AppState;

type Shared = State<Arc<AppState>>;

/// A refused JSON body: 413 when it is over the body limit, 400 otherwise.
fn json_rejection(e: axum::extract::rejection::JsonRejection) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge(super::MAX_JSON_BYTES as u64)
    } else {
        ApiError::BadRequest(e.body_text())
    }
}

/// `GET /healthz`.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Body of `POST /v1/clients`.
#[derive(Deserialize)]
pub struct NewClient {
    name: String,
}

/// `POST /v1/clients` (admin) → 201 `{"client_id", "token"}`; the token is shown once.
pub async fn create_client(
    State(state): Shared,
    headers: HeaderMap,
    body: Result<Json<NewClient>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    require_admin(&state, &headers).await?;
    let Json(body) = body.map_err(json_rejection)?;
    validate_client_name(&body.name).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let id = new_client_id();
    let issued = issue_token(&id);
    state
        .jobs
        .create_client(&Client {
            id: id.clone(),
            name: body.name.clone(),
            token_hash: issued.hash,
            created_at: now_millis(),
        })
        .await
        .map_err(ApiError::internal)?;
    tracing::info!(client = %id, name = %body.name, "client created");
    Ok((
        StatusCode::CREATED,
        Json(json!({ "client_id": id, "name": body.name, "token": issued.token })),
    ))
}

/// Body of `POST /v1/uploads`.
#[derive(Deserialize)]
pub struct NewUpload {
    client_id: String,
    filename: String,
    recipe: Option<String>,
}

/// `POST /v1/uploads` (admin) → 201 `{"job_id", "upload_url", "expires_at"}`.
pub async fn create_upload_link(
    State(state): Shared,
    headers: HeaderMap,
    body: Result<Json<NewUpload>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    require_admin(&state, &headers).await?;
    let Json(body) = body.map_err(json_rejection)?;
    let recipe = body.recipe.unwrap_or_else(|| "web".to_string());
    if rawflow::Recipe::builtin(&recipe).is_none() {
        return Err(ApiError::BadRequest(format!(
            "unknown recipe {recipe:?} (use one of {})",
            rawflow::BUILTIN_RECIPES.join(", ")
        )));
    }
    let ticket = create_upload(
        &*state.jobs,
        &state.signer,
        &body.client_id,
        &body.filename,
        &recipe,
        state.upload_ttl,
    )
    .await
    .map_err(|e| match e {
        UploadError::UnknownClient(_)
        | UploadError::InvalidName(_)
        | UploadError::InvalidKey(_) => ApiError::BadRequest(e.to_string()),
        UploadError::Store(e) => ApiError::internal(e),
    })?;
    tracing::info!(job = %ticket.job_id, client = %body.client_id, recipe = %recipe, "upload announced");
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "job_id": ticket.job_id,
            "upload_url": format!("{}{}", state.public_url, ticket.upload_path),
            "expires_at": rfc3339_secs(ticket.expires_at),
        })),
    ))
}

pub use rawflow_jobs::views::job_json;

/// The job `id` if `who` may see it; 404 otherwise (never revealing that it exists).
async fn visible_job(state: &AppState, who: &Principal, id: &str) -> Result<Job, ApiError> {
    if !is_valid_id(id) {
        return Err(ApiError::NotFound);
    }
    match state.jobs.get_job(id).await.map_err(ApiError::internal)? {
        Some(job) if who.may_see(&job.client_id) => Ok(job),
        _ => Err(ApiError::NotFound),
    }
}

/// `GET /v1/jobs/{id}` (admin or the job's client).
pub async fn get_job(
    State(state): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let who = authenticate(&state, &headers).await?;
    let job = visible_job(&state, &who, &id).await?;
    Ok(Json(job_json(&job)))
}

/// Query of `GET /v1/jobs`.
#[derive(Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    client_id: Option<String>,
    limit: Option<u32>,
}

/// `GET /v1/jobs?status=&client_id=&limit=` (admin; a client sees only its
/// own jobs), newest first.
pub async fn list_jobs(
    State(state): Shared,
    headers: HeaderMap,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let who = authenticate(&state, &headers).await?;
    let Query(mut q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    if let Principal::Client(me) = &who {
        if q.client_id
            .as_deref()
            .is_some_and(|c| !c.is_empty() && c != me)
        {
            return Err(ApiError::Forbidden(
                "a client token lists only its own jobs".into(),
            ));
        }
        q.client_id = Some(me.clone());
    }
    let status = q
        .status
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<JobStatus>())
        .transpose()
        .map_err(ApiError::BadRequest)?;
    let filter = JobFilter {
        status,
        client_id: q.client_id.filter(|s| !s.is_empty()),
        limit: Some(q.limit.unwrap_or(1000).min(10_000)),
    };
    let jobs = state
        .jobs
        .list_jobs(&filter)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(
        json!({ "jobs": jobs.iter().map(job_json).collect::<Vec<_>>() }),
    ))
}

/// A studio move on job `id` (admin): 200 with the job as it now is; 404
/// for no such job, 409 when its status does not allow the move.
async fn studio_move(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    action: &str,
) -> Result<Json<Value>, ApiError> {
    require_admin(state, headers).await?;
    if !is_valid_id(id) {
        return Err(ApiError::NotFound);
    }
    let moved = match action {
        "cancel" => state.jobs.cancel(id).await,
        _ => state.jobs.retry(id).await,
    };
    match moved {
        Ok(job) => {
            tracing::info!(job = %job.id, status = %job.status, "job {action}: done");
            Ok(Json(job_json(&job)))
        }
        Err(JobStoreError::Refused(Refusal::NotFound(_))) => Err(ApiError::NotFound),
        Err(JobStoreError::Refused(r)) => Err(ApiError::Conflict(r.to_string())),
        Err(e) => Err(ApiError::internal(e)),
    }
}

/// `POST /v1/jobs/{id}/cancel` (admin): a job no worker has taken
/// (`awaiting_upload` or `pending`) becomes `cancelled`.
pub async fn cancel_job(
    State(state): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    studio_move(&state, &headers, &id, "cancel").await
}

/// `POST /v1/jobs/{id}/retry` (admin): a `failed` job is `pending` again,
/// with all its attempts.
pub async fn retry_job(
    State(state): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let answer = studio_move(&state, &headers, &id, "retry").await?;
    state.wake.notify_waiters();
    Ok(answer)
}

/// Query of `GET /v1/jobs/{id}/download`.
#[derive(Deserialize)]
pub struct DownloadQuery {
    rendition: Option<String>,
}

/// `GET /v1/jobs/{id}/download?rendition=NAME` (the job's client, or the
/// admin) → `{"url", "expires_at"}`, a signed link valid for `--link-ttl`.
pub async fn download_link(
    State(state): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<Query<DownloadQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let who = authenticate(&state, &headers).await?;
    let job = visible_job(&state, &who, &id).await?;
    if job.status != JobStatus::Completed {
        return Err(ApiError::NotReady {
            message: format!("job {} is {}", job.id, job.status),
            status: job.status,
        });
    }
    let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let output = match q.rendition.as_deref().filter(|r| !r.is_empty()) {
        Some(name) => job
            .outputs
            .iter()
            .find(|o| o.name == name)
            .ok_or(ApiError::NotFound)?,
        // The gallery's thumbnail does not count: a one-rendition recipe
        // needs no name.
        None => match job
            .outputs
            .iter()
            .filter(|o| o.name != super::gallery::THUMB_RENDITION)
            .collect::<Vec<_>>()
            .as_slice()
        {
            [only] => *only,
            many => {
                let names: Vec<&str> = many.iter().map(|o| o.name.as_str()).collect();
                return Err(ApiError::BadRequest(format!(
                    "name a rendition: {}",
                    names.join(", ")
                )));
            }
        },
    };
    let key = ObjectKey::new(&output.key).map_err(ApiError::internal)?;
    let expires = now_secs().saturating_add(state.link_ttl.as_secs().max(1));
    let path = state.signer.signed_path("GET", &key, expires);
    tracing::info!(job = %job.id, rendition = %output.name, "download link issued");
    Ok(Json(json!({
        "url": format!("{}{}", state.public_url, path),
        "expires_at": rfc3339_secs(expires),
        "rendition": output.name,
        "bytes": output.bytes,
        "sha256": output.sha256,
    })))
}
