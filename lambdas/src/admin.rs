//! The admin function: the studio's API on AWS, with the requests and
//! answers of `rawflow serve` (so that `rawflow clients` and a browser page
//! work against either):
//!
//! | route | who | answer |
//! |---|---|---|
//! | `POST /v1/clients {"name"}` | admin | 201 `{"client_id","name","token"}` (the token shown once, stored hashed) |
//! | `GET /v1/jobs?status=&client_id=&limit=` | admin | `{"jobs":[…]}`, newest first |
//! | `GET /v1/jobs/{job_id}` | admin, or the job's client | the job (status, error, outputs, timings); another client's job is 404 |
//!
//! The job and client views are [`rawflow_jobs::views`]'s, the very ones
//! `rawflow serve` answers with.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use lambda_runtime::LambdaEvent;
use rawflow_jobs::auth::issue_token;
use rawflow_jobs::ids::{is_valid_id, new_client_id, now_millis};
use rawflow_jobs::names::validate_client_name;
use rawflow_jobs::views::job_json;
use rawflow_jobs::{Client, JobFilter, JobStatus, JobStore};
use serde::Deserialize;

use crate::http::{auth_error_response, authenticate, body_text, error, json, query, Principal};

/// What the admin function needs.
#[derive(Clone)]
pub struct AdminDeps {
    /// The job table (clients, jobs).
    pub jobs: Arc<dyn JobStore>,
    /// SHA-256 of the studio's admin token.
    pub admin_token_sha256: [u8; 32],
}

/// Body of `POST /v1/clients`.
#[derive(Deserialize)]
struct NewClient {
    name: String,
}

fn internal(e: impl std::fmt::Display) -> ApiGatewayV2httpResponse {
    tracing::error!(error = %e, "internal error");
    error(500, "internal error")
}

/// The method and the path's segments after `/v1`.
fn route(req: &ApiGatewayV2httpRequest) -> (String, Vec<String>) {
    let method = req
        .request_context
        .http
        .method
        .as_str()
        .to_ascii_uppercase();
    let path = req
        .raw_path
        .as_deref()
        .or(req.request_context.http.path.as_deref())
        .unwrap_or("");
    let segs: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let segs = match segs.split_first() {
        Some((v1, rest)) if v1 == "v1" => rest.to_vec(),
        _ => Vec::new(),
    };
    (method, segs)
}

/// Handle an admin API request.
pub async fn handle_admin(
    event: LambdaEvent<ApiGatewayV2httpRequest>,
    deps: &AdminDeps,
) -> Result<ApiGatewayV2httpResponse, lambda_runtime::Error> {
    let req = &event.payload;
    let who = match authenticate(req, deps.jobs.as_ref(), Some(&deps.admin_token_sha256)).await {
        Ok(p) => p,
        Err(e) => return Ok(auth_error_response(&e)),
    };
    let (method, segs) = route(req);
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    Ok(match (method.as_str(), segs.as_slice()) {
        ("POST", ["clients"]) => create_client(req, deps, &who).await,
        ("GET", ["jobs"]) => list_jobs(req, deps, &who).await,
        ("GET", ["jobs", id]) => get_job(deps, &who, id).await,
        _ => error(404, "not found"),
    })
}

async fn create_client(
    req: &ApiGatewayV2httpRequest,
    deps: &AdminDeps,
    who: &Principal,
) -> ApiGatewayV2httpResponse {
    if *who != Principal::Admin {
        return error(401, "missing or invalid token");
    }
    let Some(body) = body_text(req) else {
        return error(400, "a JSON body {\"name\"} is required");
    };
    let body: NewClient = match serde_json::from_str(&body) {
        Ok(b) => b,
        Err(e) => return error(400, &format!("bad JSON body: {e}")),
    };
    if let Err(e) = validate_client_name(&body.name) {
        return error(400, &e.to_string());
    }
    let id = new_client_id();
    let issued = issue_token(&id);
    let client = Client {
        id: id.clone(),
        name: body.name.clone(),
        token_hash: issued.hash,
        created_at: now_millis(),
    };
    if let Err(e) = deps.jobs.create_client(&client).await {
        return internal(e);
    }
    tracing::info!(client = %id, "client created");
    json(
        201,
        &serde_json::json!({ "client_id": id, "name": body.name, "token": issued.token }),
    )
}

async fn list_jobs(
    req: &ApiGatewayV2httpRequest,
    deps: &AdminDeps,
    who: &Principal,
) -> ApiGatewayV2httpResponse {
    if *who != Principal::Admin {
        return error(401, "missing or invalid token");
    }
    let status = match query(req, "status").filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => match s.parse::<JobStatus>() {
            Ok(st) => Some(st),
            Err(e) => return error(400, &e),
        },
    };
    let limit = match query(req, "limit").filter(|s| !s.is_empty()) {
        None => 1000,
        Some(s) => match s.parse::<u32>() {
            Ok(n) => n.min(10_000),
            Err(_) => return error(400, "limit must be a number"),
        },
    };
    let filter = JobFilter {
        status,
        client_id: query(req, "client_id")
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        limit: Some(limit),
    };
    match deps.jobs.list_jobs(&filter).await {
        Ok(jobs) => json(
            200,
            &serde_json::json!({ "jobs": jobs.iter().map(job_json).collect::<Vec<_>>() }),
        ),
        Err(e) => internal(e),
    }
}

/// The job if `who` may see it; another client's job is 404 like an
/// unknown one, so ids cannot be probed.
async fn get_job(deps: &AdminDeps, who: &Principal, id: &str) -> ApiGatewayV2httpResponse {
    if !is_valid_id(id) {
        return error(404, "not found");
    }
    match deps.jobs.get_job(id).await {
        Ok(Some(job)) => match who {
            Principal::Admin => json(200, &job_json(&job)),
            Principal::Client(c) if *c == job.client_id => json(200, &job_json(&job)),
            Principal::Client(_) => error(404, "not found"),
        },
        Ok(None) => error(404, "not found"),
        Err(e) => internal(e),
    }
}
