//! The JSON views of records that every API answers with — `rawflow serve`
//! and the AWS admin function — so that one client (`rawflow clients`, a
//! browser page) reads both the same way.

use serde_json::{json, Value};

use crate::ids::rfc3339_millis;
use crate::model::{Client, Job};

/// A job: status, error, outputs (never their keys), timings and times.
pub fn job_json(job: &Job) -> Value {
    let timings: serde_json::Map<String, Value> = job
        .timings
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let outputs: Vec<Value> = job
        .outputs
        .iter()
        .map(|o| json!({ "name": o.name, "bytes": o.bytes, "sha256": o.sha256, "content_type": o.content_type }))
        .collect();
    json!({
        "job_id": job.id,
        "client_id": job.client_id,
        "status": job.status,
        "error": job.error,
        "filename": job.filename,
        "recipe": job.recipe,
        "attempts": job.attempts,
        "input_bytes": job.input_bytes,
        "input_sha256": job.input_sha256,
        "outputs": outputs,
        "timings": timings,
        "created_at": rfc3339_millis(job.created_at),
        "updated_at": rfc3339_millis(job.updated_at),
        "started_at": job.started_at.map(rfc3339_millis),
        "finished_at": job.finished_at.map(rfc3339_millis),
    })
}

/// A client, never its token (only the token's hash is stored anyway).
pub fn client_json(client: &Client) -> Value {
    json!({
        "client_id": client.id,
        "name": client.name,
        "created_at": rfc3339_millis(client.created_at),
    })
}
