//! Rows ↔ records, and the two writes every change is made of: the job row
//! (conditional on its revision) and its audit row.

use rusqlite::types::ToSql;
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::job_store::JobStoreError;
use crate::model::{Client, Job, JobStatus, Transition, WorkerRecord};

/// The columns of a job row, in [`job_from_row`]'s order.
pub(super) const JOB_COLUMNS: &str = "id, client_id, input_key, input_sha256, input_bytes, \
     filename, recipe, status, attempts, max_attempts, lease_owner, lease_expires, worker_id, \
     timings, outputs, error, created_at, updated_at, started_at, finished_at, instance_type, \
     upload_expires_at, closed_by";

/// A back-end error.
pub(super) fn backend(e: impl std::fmt::Display) -> JobStoreError {
    JobStoreError::Backend(e.to_string())
}

fn conversion(
    column: usize,
    e: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, e.into())
}

fn status_of(column: usize, s: &str) -> Result<JobStatus, rusqlite::Error> {
    s.parse().map_err(|e: String| conversion(column, e))
}

fn to_u32(v: i64) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

fn json<T: serde::de::DeserializeOwned>(
    row: &Row<'_>,
    column: usize,
) -> Result<T, rusqlite::Error> {
    let text: String = row.get(column)?;
    serde_json::from_str(&text).map_err(|e| conversion(column, e))
}

/// A job from a row of [`JOB_COLUMNS`].
pub(super) fn job_from_row(row: &Row<'_>) -> Result<Job, rusqlite::Error> {
    let status: String = row.get(7)?;
    Ok(Job {
        id: row.get(0)?,
        client_id: row.get(1)?,
        input_key: row.get(2)?,
        input_sha256: row.get(3)?,
        input_bytes: u64::try_from(row.get::<_, i64>(4)?).unwrap_or(0),
        filename: row.get(5)?,
        recipe: row.get(6)?,
        status: status_of(7, &status)?,
        attempts: to_u32(row.get(8)?),
        max_attempts: to_u32(row.get(9)?),
        lease_owner: row.get(10)?,
        lease_expires_at: row.get(11)?,
        worker_id: row.get(12)?,
        timings: json(row, 13)?,
        outputs: json(row, 14)?,
        error: row.get(15)?,
        created_at: row.get(16)?,
        updated_at: row.get(17)?,
        started_at: row.get(18)?,
        finished_at: row.get(19)?,
        instance_type: row.get(20)?,
        upload_expires_at: row.get(21)?,
        closed_by: row.get(22)?,
    })
}

/// A job and its revision, read inside the caller's transaction.
pub(super) fn read_job(conn: &Connection, id: &str) -> Result<Option<(Job, i64)>, JobStoreError> {
    conn.query_row(
        &format!("SELECT {JOB_COLUMNS}, rev FROM jobs WHERE id = ?1"),
        [id],
        |r| Ok((job_from_row(r)?, r.get(23)?)),
    )
    .optional()
    .map_err(backend)
}

/// Write `job`: a new row when `rev` is `None`, else the row on condition
/// that its revision is still `rev`. `false` if the condition failed.
pub(super) fn write_job(
    conn: &Connection,
    job: &Job,
    rev: Option<i64>,
) -> Result<bool, JobStoreError> {
    let timings = serde_json::to_string(&job.timings).map_err(backend)?;
    let outputs = serde_json::to_string(&job.outputs).map_err(backend)?;
    let input_bytes = i64::try_from(job.input_bytes).unwrap_or(i64::MAX);
    let status = job.status.as_str();
    let (attempts, max_attempts) = (i64::from(job.attempts), i64::from(job.max_attempts));
    let values: [&dyn ToSql; 23] = [
        &job.id,
        &job.client_id,
        &job.input_key,
        &job.input_sha256,
        &input_bytes,
        &job.filename,
        &job.recipe,
        &status,
        &attempts,
        &max_attempts,
        &job.lease_owner,
        &job.lease_expires_at,
        &job.worker_id,
        &timings,
        &outputs,
        &job.error,
        &job.created_at,
        &job.updated_at,
        &job.started_at,
        &job.finished_at,
        &job.instance_type,
        &job.upload_expires_at,
        &job.closed_by,
    ];
    let placeholders: Vec<String> = (1..=values.len()).map(|i| format!("?{i}")).collect();
    let n = match rev {
        None => conn.execute(
            &format!(
                "INSERT OR IGNORE INTO jobs ({JOB_COLUMNS}, rev) VALUES ({}, 1)",
                placeholders.join(", ")
            ),
            &values[..],
        ),
        Some(rev) => {
            let sets: Vec<String> = JOB_COLUMNS
                .split(", ")
                .zip(&placeholders)
                .skip(1)
                .map(|(column, p)| format!("{column} = {p}"))
                .collect();
            let mut all = values.to_vec();
            all.push(&rev);
            conn.execute(
                &format!(
                    "UPDATE jobs SET {}, rev = rev + 1 WHERE id = ?1 AND rev = ?24",
                    sets.join(", ")
                ),
                &all[..],
            )
        }
    }
    .map_err(backend)?;
    Ok(n == 1)
}

/// Append an audit entry.
pub(super) fn insert_transition(conn: &Connection, t: &Transition) -> Result<(), JobStoreError> {
    conn.execute(
        "INSERT INTO transitions (job_id, from_status, to_status, attempt, worker_id, at, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            t.job_id,
            t.from.map(JobStatus::as_str),
            t.to.as_str(),
            i64::from(t.attempt),
            t.worker_id,
            t.at,
            t.detail
        ],
    )
    .map_err(backend)?;
    Ok(())
}

/// An audit entry from `SELECT seq, job_id, from_status, to_status, attempt, worker_id, at, detail`.
pub(super) fn transition_from_row(r: &Row<'_>) -> Result<Transition, rusqlite::Error> {
    let from: Option<String> = r.get(2)?;
    let to: String = r.get(3)?;
    Ok(Transition {
        seq: r.get(0)?,
        job_id: r.get(1)?,
        from: from.as_deref().map(|f| status_of(2, f)).transpose()?,
        to: status_of(3, &to)?,
        attempt: to_u32(r.get(4)?),
        worker_id: r.get(5)?,
        at: r.get(6)?,
        detail: r.get(7)?,
    })
}

/// A client from `SELECT id, name, token_hash, created_at`.
pub(super) fn client_from_row(r: &Row<'_>) -> Result<Client, rusqlite::Error> {
    let id: String = r.get(0)?;
    let hash: Vec<u8> = r.get(2)?;
    let token_hash: [u8; 32] = hash
        .try_into()
        .map_err(|_| conversion(2, format!("client {id}: token hash is not 32 bytes")))?;
    Ok(Client {
        name: r.get(1)?,
        token_hash,
        created_at: r.get(3)?,
        id,
    })
}

/// A worker record from `SELECT id, instance_type, state, started_at, updated_at, jobs_done`.
pub(super) fn worker_from_row(r: &Row<'_>) -> Result<WorkerRecord, rusqlite::Error> {
    let state: String = r.get(2)?;
    Ok(WorkerRecord {
        id: r.get(0)?,
        instance_type: r.get(1)?,
        state: state.parse().map_err(|e: String| conversion(2, e))?,
        started_at: r.get(3)?,
        updated_at: r.get(4)?,
        jobs_done: u64::try_from(r.get::<_, i64>(5)?).unwrap_or(0),
    })
}
