//! DynamoDB items ↔ records (the layout is in the module docs of
//! [`super`]).

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;

use super::{CLOSED_BY, TTL_ATTRIBUTE};
use crate::ids::{hex, random_bytes};
use crate::job_store::JobStoreError;
use crate::model::{Client, Job, JobStatus, OutputRecord, Transition, WorkerRecord};

/// One item.
pub(super) type Item = HashMap<String, AttributeValue>;

/// A back-end error.
pub(super) fn backend(e: impl std::fmt::Display) -> JobStoreError {
    JobStoreError::Backend(e.to_string())
}

/// A string attribute.
pub(super) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// A number attribute.
pub(super) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn get_s(item: &Item, name: &str) -> Result<String, JobStoreError> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Ok(v.clone()),
        _ => Err(JobStoreError::BadRecord(format!(
            "attribute {name} missing or not a string"
        ))),
    }
}

fn opt_s(item: &Item, name: &str) -> Result<Option<String>, JobStoreError> {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::S(v)) => Ok(Some(v.clone())),
        Some(_) => Err(JobStoreError::BadRecord(format!(
            "attribute {name} is not a string"
        ))),
    }
}

fn opt_n(item: &Item, name: &str) -> Result<Option<i64>, JobStoreError> {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::N(v)) => v.parse().map(Some).map_err(|_| {
            JobStoreError::BadRecord(format!("attribute {name} is not an integer: {v:?}"))
        }),
        Some(_) => Err(JobStoreError::BadRecord(format!(
            "attribute {name} is not a number"
        ))),
    }
}

/// A number attribute that must be there.
pub(super) fn get_n(item: &Item, name: &str) -> Result<i64, JobStoreError> {
    opt_n(item, name)?.ok_or_else(|| JobStoreError::BadRecord(format!("attribute {name} missing")))
}

fn get_u32(item: &Item, name: &str) -> Result<u32, JobStoreError> {
    u32::try_from(get_n(item, name)?)
        .map_err(|_| JobStoreError::BadRecord(format!("attribute {name} out of range")))
}

fn status(item: &Item, name: &str) -> Result<JobStatus, JobStoreError> {
    get_s(item, name)?.parse().map_err(JobStoreError::BadRecord)
}

/// The partition key of a job and its audit entries.
pub(super) fn job_pk(id: &str) -> String {
    format!("job#{id}")
}

/// The partition key of a client.
pub(super) fn client_pk(id: &str) -> String {
    format!("client#{id}")
}

/// The time-to-live value for an item written at `at_ms` and kept `retention`.
pub(super) fn ttl_value(at_ms: i64, retention: Duration) -> AttributeValue {
    n(at_ms / 1000 + i64::try_from(retention.as_secs()).unwrap_or(0))
}

/// The item of `job` at revision `rev`; finished jobs expire after `retention`.
pub(super) fn job_item(job: &Job, rev: i64, retention: Duration) -> Result<Item, JobStoreError> {
    let mut item = Item::new();
    item.insert("pk".into(), s(job_pk(&job.id)));
    item.insert("sk".into(), s("job"));
    item.insert("id".into(), s(&job.id));
    item.insert("client_id".into(), s(&job.client_id));
    item.insert("job_client".into(), s(&job.client_id));
    item.insert("input_key".into(), s(&job.input_key));
    item.insert("input_sha256".into(), s(&job.input_sha256));
    item.insert("input_bytes".into(), n(job.input_bytes));
    item.insert("filename".into(), s(&job.filename));
    item.insert("recipe".into(), s(&job.recipe));
    item.insert("job_status".into(), s(job.status.as_str()));
    item.insert("attempts".into(), n(job.attempts));
    item.insert("max_attempts".into(), n(job.max_attempts));
    let strings = [
        ("lease_owner", &job.lease_owner),
        ("worker_id", &job.worker_id),
        ("instance_type", &job.instance_type),
        ("error", &job.error),
        (CLOSED_BY, &job.closed_by),
    ];
    for (name, v) in strings {
        if let Some(v) = v {
            item.insert(name.into(), s(v));
        }
    }
    let numbers = [
        ("lease_expires", job.lease_expires_at),
        ("started_at", job.started_at),
        ("finished_at", job.finished_at),
        ("upload_expires_at", job.upload_expires_at),
    ];
    for (name, v) in numbers {
        if let Some(v) = v {
            item.insert(name.into(), n(v));
        }
    }
    item.insert(
        "timings".into(),
        s(serde_json::to_string(&job.timings).map_err(backend)?),
    );
    item.insert(
        "outputs".into(),
        s(serde_json::to_string(&job.outputs).map_err(backend)?),
    );
    item.insert("created_at".into(), n(job.created_at));
    item.insert("updated_at".into(), n(job.updated_at));
    item.insert("rev".into(), n(rev));
    if let Some(done) = job.finished_at {
        item.insert(TTL_ATTRIBUTE.into(), ttl_value(done, retention));
    }
    Ok(item)
}

/// A job from its item.
pub(super) fn job_from_item(item: &Item) -> Result<Job, JobStoreError> {
    let id = get_s(item, "id")?;
    let bad = |what: &str, e: String| JobStoreError::BadRecord(format!("job {id}: {what}: {e}"));
    let timings: Vec<(String, f64)> = serde_json::from_str(&get_s(item, "timings")?)
        .map_err(|e| bad("timings", e.to_string()))?;
    let outputs: Vec<OutputRecord> = serde_json::from_str(&get_s(item, "outputs")?)
        .map_err(|e| bad("outputs", e.to_string()))?;
    Ok(Job {
        client_id: get_s(item, "client_id")?,
        input_key: get_s(item, "input_key")?,
        input_sha256: get_s(item, "input_sha256")?,
        input_bytes: u64::try_from(get_n(item, "input_bytes")?).unwrap_or(0),
        filename: get_s(item, "filename")?,
        recipe: get_s(item, "recipe")?,
        status: status(item, "job_status")?,
        attempts: get_u32(item, "attempts")?,
        max_attempts: get_u32(item, "max_attempts")?,
        lease_owner: opt_s(item, "lease_owner")?,
        lease_expires_at: opt_n(item, "lease_expires")?,
        worker_id: opt_s(item, "worker_id")?,
        instance_type: opt_s(item, "instance_type")?,
        timings,
        outputs,
        error: opt_s(item, "error")?,
        created_at: get_n(item, "created_at")?,
        updated_at: get_n(item, "updated_at")?,
        started_at: opt_n(item, "started_at")?,
        finished_at: opt_n(item, "finished_at")?,
        upload_expires_at: opt_n(item, "upload_expires_at")?,
        closed_by: opt_s(item, CLOSED_BY)?,
        id,
    })
}

/// The rank of an audit entry among those of one attempt made in the same
/// millisecond: an announcement first, a claim before its outcome.
fn rank(to: JobStatus) -> u8 {
    match to {
        JobStatus::AwaitingUpload => 0,
        JobStatus::Running => 1,
        _ => 2,
    }
}

/// The item of an audit entry (its sort key orders a job's trail).
pub(super) fn entry_item(e: &Transition, retention: Duration) -> Item {
    let sk = format!(
        "t#{:013}#{:05}#{}#{}",
        e.at,
        e.attempt,
        rank(e.to),
        hex(&random_bytes::<3>())
    );
    let mut item = Item::new();
    item.insert("pk".into(), s(job_pk(&e.job_id)));
    item.insert("sk".into(), s(sk));
    item.insert("job_id".into(), s(&e.job_id));
    if let Some(f) = e.from {
        item.insert("from_status".into(), s(f.as_str()));
    }
    item.insert("to_status".into(), s(e.to.as_str()));
    item.insert("attempt".into(), n(e.attempt));
    if let Some(w) = &e.worker_id {
        item.insert("worker_id".into(), s(w));
    }
    item.insert("at".into(), n(e.at));
    if let Some(d) = &e.detail {
        item.insert("detail".into(), s(d));
    }
    item.insert(TTL_ATTRIBUTE.into(), ttl_value(e.at, retention));
    item
}

/// An audit entry from its item; `seq` is its place in the trail.
pub(super) fn transition_from_item(item: &Item, seq: i64) -> Result<Transition, JobStoreError> {
    Ok(Transition {
        seq,
        job_id: get_s(item, "job_id")?,
        from: opt_s(item, "from_status")?
            .map(|f| f.parse::<JobStatus>().map_err(JobStoreError::BadRecord))
            .transpose()?,
        to: status(item, "to_status")?,
        attempt: get_u32(item, "attempt")?,
        worker_id: opt_s(item, "worker_id")?,
        at: get_n(item, "at")?,
        detail: opt_s(item, "detail")?,
    })
}

/// The item of a client (the token only as its SHA-256).
pub(super) fn client_item(client: &Client) -> Item {
    let mut item = Item::new();
    item.insert("pk".into(), s(client_pk(&client.id)));
    item.insert("sk".into(), s("client"));
    item.insert("id".into(), s(&client.id));
    item.insert("name".into(), s(&client.name));
    item.insert("token_hash".into(), s(hex(&client.token_hash)));
    item.insert("created_at".into(), n(client.created_at));
    item
}

/// A client from its item.
pub(super) fn client_from_item(item: &Item) -> Result<Client, JobStoreError> {
    let id = get_s(item, "id")?;
    let token_hash = crate::ids::parse_hex::<32>(&get_s(item, "token_hash")?).ok_or_else(|| {
        JobStoreError::BadRecord(format!("client {id}: token hash is not 32 bytes"))
    })?;
    Ok(Client {
        name: get_s(item, "name")?,
        token_hash,
        created_at: get_n(item, "created_at")?,
        id,
    })
}

/// The item of a worker record, kept `retention` after its last write.
pub(super) fn worker_item(worker: &WorkerRecord, retention: Duration) -> Item {
    let mut item = Item::new();
    item.insert("pk".into(), s("workers"));
    item.insert("sk".into(), s(&worker.id));
    item.insert("instance_type".into(), s(&worker.instance_type));
    item.insert("worker_state".into(), s(worker.state.as_str()));
    item.insert("started_at".into(), n(worker.started_at));
    item.insert("updated_at".into(), n(worker.updated_at));
    item.insert("jobs_done".into(), n(worker.jobs_done));
    item.insert(
        TTL_ATTRIBUTE.into(),
        ttl_value(worker.updated_at, retention),
    );
    item
}

/// A worker record from its item.
pub(super) fn worker_from_item(item: &Item) -> Result<WorkerRecord, JobStoreError> {
    Ok(WorkerRecord {
        id: get_s(item, "sk")?,
        instance_type: get_s(item, "instance_type")?,
        state: get_s(item, "worker_state")?
            .parse()
            .map_err(JobStoreError::BadRecord)?,
        started_at: get_n(item, "started_at")?,
        updated_at: get_n(item, "updated_at")?,
        jobs_done: u64::try_from(get_n(item, "jobs_done")?).unwrap_or(0),
    })
}
