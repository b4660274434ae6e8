//! The embedded job store: one SQLite file in WAL mode.
//!
//! All calls run on tokio's blocking pool against one connection; SQLite's
//! busy timeout lets other processes (tools, tests) read and write the same
//! file. Every change of status is written together with a row of the
//! `transitions` audit table, in one transaction.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};

use super::{CreateOutcome, JobFilter, JobStore, JobStoreError};
use crate::ids::{duration_millis, hex, now_millis, random_bytes};
use crate::model::{
    Client, FailOutcome, Job, JobStatus, Lease, NewJob, OutputRecord, Transition, UploadIntent,
    WorkerRecord,
};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS clients (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    token_hash  BLOB NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS uploads (
    job_id      TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL REFERENCES clients(id),
    filename    TEXT NOT NULL,
    recipe      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    id            TEXT PRIMARY KEY,
    client_id     TEXT NOT NULL,
    input_key     TEXT NOT NULL,
    input_sha256  TEXT NOT NULL,
    input_bytes   INTEGER NOT NULL,
    filename      TEXT NOT NULL,
    recipe        TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending','running','completed','failed')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    max_attempts  INTEGER NOT NULL,
    lease_owner   TEXT,
    lease_expires INTEGER,
    claimed_from  TEXT,
    worker_id     TEXT,
    instance_type TEXT,
    timings       TEXT NOT NULL DEFAULT '[]',
    outputs       TEXT NOT NULL DEFAULT '[]',
    error         TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    started_at    INTEGER,
    finished_at   INTEGER,
    UNIQUE (input_key, input_sha256)
);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs(status, created_at);
CREATE INDEX IF NOT EXISTS jobs_by_client ON jobs(client_id, created_at);
CREATE TABLE IF NOT EXISTS transitions (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id      TEXT NOT NULL,
    from_status TEXT,
    to_status   TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    worker_id   TEXT,
    at          INTEGER NOT NULL,
    detail      TEXT
);
CREATE INDEX IF NOT EXISTS transitions_by_job ON transitions(job_id, seq);
CREATE TABLE IF NOT EXISTS workers (
    id            TEXT PRIMARY KEY,
    instance_type TEXT NOT NULL,
    state         TEXT NOT NULL,
    started_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    jobs_done     INTEGER NOT NULL
);
";

const JOB_COLUMNS: &str = "id, client_id, input_key, input_sha256, input_bytes, filename, recipe, \
     status, attempts, max_attempts, lease_owner, lease_expires, worker_id, timings, outputs, \
     error, created_at, updated_at, started_at, finished_at, instance_type";

/// A [`JobStore`] in one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteJobStore {
    conn: Arc<Mutex<Connection>>,
}

fn backend(e: impl std::fmt::Display) -> JobStoreError {
    JobStoreError::Backend(e.to_string())
}

impl SqliteJobStore {
    /// Open (creating if needed) the database at `path`: WAL mode, a 10 s
    /// busy timeout, schema created.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, JobStoreError> {
        let conn = Connection::open(path.as_ref()).map_err(backend)?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(backend)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(backend)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(JobStoreError::Backend(format!(
                "could not switch to WAL mode (got {mode})"
            )));
        }
        conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")
            .map_err(backend)?;
        conn.execute_batch(SCHEMA).map_err(backend)?;
        add_column_if_missing(&conn, "jobs", "instance_type", "TEXT")?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    async fn call<T, F>(&self, f: F) -> Result<T, JobStoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, JobStoreError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| JobStoreError::Backend("connection lock poisoned".into()))?;
            f(&mut guard)
        })
        .await
        .map_err(backend)?
    }
}

/// Schema upgrade for databases made before a column existed.
fn add_column_if_missing(
    conn: &Connection,
    table: &str,
    column: &str,
    ty: &str,
) -> Result<(), JobStoreError> {
    let mut stmt = conn
        .prepare(&format!("PRAGMA table_info({table})"))
        .map_err(backend)?;
    let names = stmt
        .query_map([], |r| r.get::<_, String>(1))
        .map_err(backend)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend)?;
    if !names.iter().any(|n| n == column) {
        conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {ty}"))
            .map_err(backend)?;
    }
    Ok(())
}

fn status_of(s: &str) -> Result<JobStatus, rusqlite::Error> {
    s.parse().map_err(|e: String| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
    })
}

fn to_u32(v: i64) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

fn job_from_row(row: &Row<'_>) -> Result<Job, rusqlite::Error> {
    let bad = |e: serde_json::Error| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    };
    let timings: String = row.get(13)?;
    let outputs: String = row.get(14)?;
    let status: String = row.get(7)?;
    Ok(Job {
        id: row.get(0)?,
        client_id: row.get(1)?,
        input_key: row.get(2)?,
        input_sha256: row.get(3)?,
        input_bytes: u64::try_from(row.get::<_, i64>(4)?).unwrap_or(0),
        filename: row.get(5)?,
        recipe: row.get(6)?,
        status: status_of(&status)?,
        attempts: to_u32(row.get(8)?),
        max_attempts: to_u32(row.get(9)?),
        lease_owner: row.get(10)?,
        lease_expires_at: row.get(11)?,
        worker_id: row.get(12)?,
        timings: serde_json::from_str(&timings).map_err(bad)?,
        outputs: serde_json::from_str(&outputs).map_err(bad)?,
        error: row.get(15)?,
        created_at: row.get(16)?,
        updated_at: row.get(17)?,
        started_at: row.get(18)?,
        finished_at: row.get(19)?,
        instance_type: row.get(20)?,
    })
}

fn get_job_in(conn: &Connection, id: &str) -> Result<Option<Job>, JobStoreError> {
    conn.query_row(
        &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1"),
        [id],
        job_from_row,
    )
    .optional()
    .map_err(backend)
}

#[allow(clippy::too_many_arguments)]
fn record_transition(
    conn: &Connection,
    job_id: &str,
    from: Option<JobStatus>,
    to: JobStatus,
    attempt: u32,
    worker_id: Option<&str>,
    at: i64,
    detail: Option<&str>,
) -> Result<(), JobStoreError> {
    conn.execute(
        "INSERT INTO transitions (job_id, from_status, to_status, attempt, worker_id, at, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            job_id,
            from.map(JobStatus::as_str),
            to.as_str(),
            i64::from(attempt),
            worker_id,
            at,
            detail
        ],
    )
    .map_err(backend)?;
    Ok(())
}

fn timings_json(timings: &[(String, f64)]) -> Result<String, JobStoreError> {
    serde_json::to_string(timings).map_err(backend)
}

#[async_trait]
impl JobStore for SqliteJobStore {
    async fn create_client(&self, client: &Client) -> Result<(), JobStoreError> {
        let c = client.clone();
        self.call(move |conn| {
            let n = conn
                .execute(
                    "INSERT OR IGNORE INTO clients (id, name, token_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
                    params![c.id, c.name, &c.token_hash[..], c.created_at],
                )
                .map_err(backend)?;
            if n == 0 {
                return Err(JobStoreError::Duplicate(format!("client {}", c.id)));
            }
            Ok(())
        })
        .await
    }

    async fn get_client(&self, id: &str) -> Result<Option<Client>, JobStoreError> {
        let id = id.to_string();
        self.call(move |conn| {
            let row = conn
                .query_row(
                    "SELECT id, name, token_hash, created_at FROM clients WHERE id = ?1",
                    [&id],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, Vec<u8>>(2)?,
                            r.get::<_, i64>(3)?,
                        ))
                    },
                )
                .optional()
                .map_err(backend)?;
            match row {
                None => Ok(None),
                Some((id, name, hash, created_at)) => {
                    let token_hash: [u8; 32] = hash.try_into().map_err(|_| {
                        JobStoreError::BadRecord(format!("client {id}: token hash is not 32 bytes"))
                    })?;
                    Ok(Some(Client {
                        id,
                        name,
                        token_hash,
                        created_at,
                    }))
                }
            }
        })
        .await
    }

    async fn put_upload(&self, intent: &UploadIntent) -> Result<(), JobStoreError> {
        let u = intent.clone();
        self.call(move |conn| {
            let n = conn
                .execute(
                    "INSERT OR IGNORE INTO uploads (job_id, client_id, filename, recipe, created_at, expires_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![u.job_id, u.client_id, u.filename, u.recipe, u.created_at, u.expires_at],
                )
                .map_err(backend)?;
            if n == 0 {
                return Err(JobStoreError::Duplicate(format!("upload {}", u.job_id)));
            }
            Ok(())
        })
        .await
    }

    async fn get_upload(&self, job_id: &str) -> Result<Option<UploadIntent>, JobStoreError> {
        let id = job_id.to_string();
        self.call(move |conn| {
            conn.query_row(
                "SELECT job_id, client_id, filename, recipe, created_at, expires_at FROM uploads WHERE job_id = ?1",
                [&id],
                |r| {
                    Ok(UploadIntent {
                        job_id: r.get(0)?,
                        client_id: r.get(1)?,
                        filename: r.get(2)?,
                        recipe: r.get(3)?,
                        created_at: r.get(4)?,
                        expires_at: r.get(5)?,
                    })
                },
            )
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn create_job(&self, job: &NewJob) -> Result<CreateOutcome, JobStoreError> {
        let j = job.clone();
        self.call(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let now = now_millis();
            let n = tx
                .execute(
                    "INSERT OR IGNORE INTO jobs (id, client_id, input_key, input_sha256, input_bytes,
                         filename, recipe, status, attempts, max_attempts, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', 0, ?8, ?9, ?9)",
                    params![
                        j.id,
                        j.client_id,
                        j.input_key,
                        j.input_sha256,
                        i64::try_from(j.input_bytes).unwrap_or(i64::MAX),
                        j.filename,
                        j.recipe,
                        i64::from(j.max_attempts.max(1)),
                        now
                    ],
                )
                .map_err(backend)?;
            let outcome = if n == 1 {
                record_transition(&tx, &j.id, None, JobStatus::Pending, 0, None, now, Some("object created"))?;
                let created = get_job_in(&tx, &j.id)?
                    .ok_or_else(|| JobStoreError::Backend("inserted job vanished".into()))?;
                CreateOutcome::Created(created)
            } else {
                let existing = match get_job_in(&tx, &j.id)? {
                    Some(e) => e,
                    None => tx
                        .query_row(
                            &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE input_key = ?1 AND input_sha256 = ?2"),
                            params![j.input_key, j.input_sha256],
                            job_from_row,
                        )
                        .map_err(backend)?,
                };
                if existing.input_key == j.input_key && existing.input_sha256 == j.input_sha256 {
                    CreateOutcome::Existing(existing)
                } else {
                    CreateOutcome::Conflict(existing)
                }
            };
            tx.commit().map_err(backend)?;
            Ok(outcome)
        })
        .await
    }

    async fn get_job(&self, id: &str) -> Result<Option<Job>, JobStoreError> {
        let id = id.to_string();
        self.call(move |conn| get_job_in(conn, &id)).await
    }

    async fn list_jobs(&self, filter: &JobFilter) -> Result<Vec<Job>, JobStoreError> {
        let f = filter.clone();
        self.call(move |conn| {
            let status = f.status.map(JobStatus::as_str);
            let limit = f.limit.map_or(-1, i64::from);
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT {JOB_COLUMNS} FROM jobs
                     WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR client_id = ?2)
                     ORDER BY created_at DESC, id DESC LIMIT ?3"
                ))
                .map_err(backend)?;
            let rows = stmt
                .query_map(params![status, f.client_id, limit], job_from_row)
                .map_err(backend)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(backend)
        })
        .await
    }

    async fn claim_on(
        &self,
        worker_id: &str,
        instance_type: Option<&str>,
        ttl: Duration,
    ) -> Result<Option<(Job, Lease)>, JobStoreError> {
        let worker = worker_id.to_string();
        let instance_type = instance_type.map(str::to_string);
        let ttl_ms = duration_millis(ttl);
        self.call(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let now = now_millis();
            // Jobs whose last allowed attempt died with its worker: fail them.
            let exhausted: Vec<(String, i64, Option<String>)> = {
                let mut stmt = tx
                    .prepare(
                        "UPDATE jobs SET status = 'failed',
                             error = 'the worker stopped (lease expired) on the last allowed attempt',
                             lease_owner = NULL, lease_expires = NULL,
                             updated_at = ?1, finished_at = ?1
                         WHERE status = 'running' AND lease_expires < ?1 AND attempts >= max_attempts
                         RETURNING id, attempts, worker_id",
                    )
                    .map_err(backend)?;
                let rows = stmt
                    .query_map([now], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .map_err(backend)?;
                rows.collect::<Result<_, _>>().map_err(backend)?
            };
            for (id, attempts, w) in &exhausted {
                record_transition(
                    &tx,
                    id,
                    Some(JobStatus::Running),
                    JobStatus::Failed,
                    to_u32(*attempts),
                    w.as_deref(),
                    now,
                    Some("lease expired on the last allowed attempt"),
                )?;
            }
            // The claim itself: one conditional update.
            let token = format!("{worker}/{}", hex(&random_bytes::<8>()));
            let claimed = tx
                .query_row(
                    &format!(
                        "UPDATE jobs SET
                             claimed_from = status,
                             status = 'running',
                             attempts = attempts + 1,
                             lease_owner = ?2,
                             lease_expires = ?1 + ?3,
                             worker_id = ?4,
                             instance_type = ?5,
                             started_at = COALESCE(started_at, ?1),
                             updated_at = ?1
                         WHERE id = (
                             SELECT id FROM jobs
                             WHERE status = 'pending'
                                OR (status = 'running' AND lease_expires < ?1 AND attempts < max_attempts)
                             ORDER BY created_at, id LIMIT 1)
                         RETURNING claimed_from, {JOB_COLUMNS}"
                    ),
                    params![now, token, ttl_ms, worker, instance_type],
                    |r| {
                        let from: String = r.get(0)?;
                        // Shift the row by one column for job_from_row.
                        Ok((from, r.get::<_, String>(1)?))
                    },
                )
                .optional()
                .map_err(backend)?;
            let Some((from, id)) = claimed else {
                tx.commit().map_err(backend)?;
                return Ok(None);
            };
            let job = get_job_in(&tx, &id)?
                .ok_or_else(|| JobStoreError::Backend("claimed job vanished".into()))?;
            let from = status_of(&from).map_err(backend)?;
            let detail = (from == JobStatus::Running).then_some("previous lease expired");
            record_transition(
                &tx,
                &id,
                Some(from),
                JobStatus::Running,
                job.attempts,
                Some(&worker),
                now,
                detail,
            )?;
            tx.commit().map_err(backend)?;
            let lease = Lease {
                job_id: id,
                token,
                worker_id: worker,
                attempt: job.attempts,
            };
            Ok(Some((job, lease)))
        })
        .await
    }

    async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<bool, JobStoreError> {
        let l = lease.clone();
        let ttl_ms = duration_millis(ttl);
        self.call(move |conn| {
            let now = now_millis();
            let n = conn
                .execute(
                    "UPDATE jobs SET lease_expires = ?1 + ?2, updated_at = ?1
                     WHERE id = ?3 AND status = 'running' AND lease_owner = ?4",
                    params![now, ttl_ms, l.job_id, l.token],
                )
                .map_err(backend)?;
            Ok(n == 1)
        })
        .await
    }

    async fn complete(
        &self,
        lease: &Lease,
        outputs: &[OutputRecord],
        timings: &[(String, f64)],
    ) -> Result<bool, JobStoreError> {
        let l = lease.clone();
        let outputs = serde_json::to_string(outputs).map_err(backend)?;
        let timings = timings_json(timings)?;
        self.call(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let now = now_millis();
            let n = tx
                .execute(
                    "UPDATE jobs SET status = 'completed', outputs = ?1, timings = ?2, error = NULL,
                         lease_owner = NULL, lease_expires = NULL, updated_at = ?3, finished_at = ?3
                     WHERE id = ?4 AND status = 'running' AND lease_owner = ?5",
                    params![outputs, timings, now, l.job_id, l.token],
                )
                .map_err(backend)?;
            if n == 1 {
                record_transition(
                    &tx,
                    &l.job_id,
                    Some(JobStatus::Running),
                    JobStatus::Completed,
                    l.attempt,
                    Some(&l.worker_id),
                    now,
                    None,
                )?;
            }
            tx.commit().map_err(backend)?;
            Ok(n == 1)
        })
        .await
    }

    async fn fail(
        &self,
        lease: &Lease,
        error: &str,
        retryable: bool,
        timings: &[(String, f64)],
    ) -> Result<FailOutcome, JobStoreError> {
        let l = lease.clone();
        let error = error.to_string();
        let timings = timings_json(timings)?;
        self.call(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let now = now_millis();
            let held: Option<(i64, i64)> = tx
                .query_row(
                    "SELECT attempts, max_attempts FROM jobs
                     WHERE id = ?1 AND status = 'running' AND lease_owner = ?2",
                    params![l.job_id, l.token],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(backend)?;
            let Some((attempts, max_attempts)) = held else {
                return Ok(FailOutcome::LeaseLost);
            };
            let retry = retryable && attempts < max_attempts;
            let (to, finished, message) = if retry {
                (JobStatus::Pending, None, error.clone())
            } else if retryable {
                (
                    JobStatus::Failed,
                    Some(now),
                    format!("{error} (gave up after {attempts} attempts)"),
                )
            } else {
                (JobStatus::Failed, Some(now), error.clone())
            };
            tx.execute(
                "UPDATE jobs SET status = ?1, error = ?2, timings = ?3, lease_owner = NULL,
                     lease_expires = NULL, updated_at = ?4, finished_at = ?5
                 WHERE id = ?6 AND status = 'running' AND lease_owner = ?7",
                params![
                    to.as_str(),
                    message,
                    timings,
                    now,
                    finished,
                    l.job_id,
                    l.token
                ],
            )
            .map_err(backend)?;
            record_transition(
                &tx,
                &l.job_id,
                Some(JobStatus::Running),
                to,
                l.attempt,
                Some(&l.worker_id),
                now,
                Some(&message),
            )?;
            tx.commit().map_err(backend)?;
            Ok(if retry {
                FailOutcome::Retry
            } else {
                FailOutcome::Failed
            })
        })
        .await
    }

    async fn release(&self, lease: &Lease, reason: &str) -> Result<bool, JobStoreError> {
        let l = lease.clone();
        let reason = reason.to_string();
        self.call(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let now = now_millis();
            let n = tx
                .execute(
                    "UPDATE jobs SET status = 'pending', attempts = MAX(attempts - 1, 0),
                         lease_owner = NULL, lease_expires = NULL, updated_at = ?1
                     WHERE id = ?2 AND status = 'running' AND lease_owner = ?3",
                    params![now, l.job_id, l.token],
                )
                .map_err(backend)?;
            if n == 1 {
                record_transition(
                    &tx,
                    &l.job_id,
                    Some(JobStatus::Running),
                    JobStatus::Pending,
                    l.attempt,
                    Some(&l.worker_id),
                    now,
                    Some(&reason),
                )?;
            }
            tx.commit().map_err(backend)?;
            Ok(n == 1)
        })
        .await
    }

    async fn has_runnable_jobs(&self) -> Result<bool, JobStoreError> {
        self.call(move |conn| {
            conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM jobs WHERE status = 'pending'
                     OR (status = 'running' AND lease_expires < ?1))",
                [now_millis()],
                |r| r.get::<_, bool>(0),
            )
            .map_err(backend)
        })
        .await
    }

    async fn put_worker(&self, worker: &WorkerRecord) -> Result<(), JobStoreError> {
        let w = worker.clone();
        self.call(move |conn| {
            conn.execute(
                "INSERT OR REPLACE INTO workers (id, instance_type, state, started_at, updated_at, jobs_done)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    w.id,
                    w.instance_type,
                    w.state.as_str(),
                    w.started_at,
                    w.updated_at,
                    i64::try_from(w.jobs_done).unwrap_or(i64::MAX)
                ],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn list_workers(&self) -> Result<Vec<WorkerRecord>, JobStoreError> {
        self.call(move |conn| {
            let mut stmt = conn
                .prepare(
                    "SELECT id, instance_type, state, started_at, updated_at, jobs_done
                     FROM workers ORDER BY id",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map([], |r| {
                    let state: String = r.get(2)?;
                    Ok(WorkerRecord {
                        id: r.get(0)?,
                        instance_type: r.get(1)?,
                        state: state.parse().map_err(|e: String| {
                            rusqlite::Error::FromSqlConversionFailure(
                                2,
                                rusqlite::types::Type::Text,
                                e.into(),
                            )
                        })?,
                        started_at: r.get(3)?,
                        updated_at: r.get(4)?,
                        jobs_done: u64::try_from(r.get::<_, i64>(5)?).unwrap_or(0),
                    })
                })
                .map_err(backend)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(backend)
        })
        .await
    }

    async fn transitions(&self, job_id: &str) -> Result<Vec<Transition>, JobStoreError> {
        let id = job_id.to_string();
        self.call(move |conn| {
            let mut stmt = conn
                .prepare(
                    "SELECT seq, job_id, from_status, to_status, attempt, worker_id, at, detail
                     FROM transitions WHERE job_id = ?1 ORDER BY seq",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map([&id], |r| {
                    let from: Option<String> = r.get(2)?;
                    let to: String = r.get(3)?;
                    Ok(Transition {
                        seq: r.get(0)?,
                        job_id: r.get(1)?,
                        from: from.as_deref().map(status_of).transpose()?,
                        to: status_of(&to)?,
                        attempt: to_u32(r.get(4)?),
                        worker_id: r.get(5)?,
                        at: r.get(6)?,
                        detail: r.get(7)?,
                    })
                })
                .map_err(backend)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(backend)
        })
        .await
    }
}
