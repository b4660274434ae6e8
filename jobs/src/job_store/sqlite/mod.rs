//! The embedded job store: one SQLite file in WAL mode.
//!
//! All calls run on tokio's blocking pool against one connection; SQLite's
//! busy timeout lets other processes (tools, tests) read and write the same
//! file. Every change of a job is one immediate transaction: read the row
//! and its revision, let [`crate::state`] decide, write the row on condition
//! of the revision together with its row in the `transitions` audit table.
//!
//! - `schema`: the tables, and the upgrade of older databases;
//! - `codec`: rows ↔ records, the conditional job write and the audit write.

mod codec;
mod schema;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::{Changed, Decide, JobBackend, JobFilter, JobStoreError};
use crate::ids::now_millis;
use crate::model::{Client, Job, JobStatus, Transition, WorkerRecord};
use crate::state::{Next, Refusal};
use codec::{
    backend, client_from_row, insert_transition, job_from_row, read_job, transition_from_row,
    worker_from_row, write_job, JOB_COLUMNS,
};

/// How many of the oldest `pending` jobs a claim looks at.
const CLAIM_WINDOW: u32 = 25;

/// A [`crate::JobStore`] in one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteJobStore {
    conn: Arc<Mutex<Connection>>,
}

/// A query error: a row that does not decode is a bad record.
fn sql(e: rusqlite::Error) -> JobStoreError {
    match e {
        rusqlite::Error::FromSqlConversionFailure(..) => JobStoreError::BadRecord(e.to_string()),
        other => backend(other),
    }
}

impl SqliteJobStore {
    /// Open (creating if needed) the database at `path`: WAL mode, a 10 s
    /// busy timeout, schema created (or upgraded).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, JobStoreError> {
        let mut conn = Connection::open(path.as_ref()).map_err(backend)?;
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
        schema::create(&mut conn)?;
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

    /// Jobs of `SELECT {JOB_COLUMNS} FROM jobs {rest}`.
    async fn jobs_where(
        &self,
        rest: &'static str,
        values: Vec<Box<dyn rusqlite::ToSql + Send>>,
    ) -> Result<Vec<Job>, JobStoreError> {
        self.call(move |conn| {
            let mut stmt = conn
                .prepare(&format!("SELECT {JOB_COLUMNS} FROM jobs {rest}"))
                .map_err(backend)?;
            let refs: Vec<&dyn rusqlite::ToSql> = values
                .iter()
                .map(|v| v.as_ref() as &dyn rusqlite::ToSql)
                .collect();
            let rows = stmt.query_map(&refs[..], job_from_row).map_err(sql)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(sql)
        })
        .await
    }
}

#[async_trait]
impl JobBackend for SqliteJobStore {
    async fn change<T: Send + 'static>(
        &self,
        id: &str,
        mut decide: Decide<T>,
    ) -> Result<Changed<T>, JobStoreError> {
        let id = id.to_string();
        self.call(move |conn| {
            // Immediate: the write lock is taken before the read, so the
            // row cannot change between them (the revision check says so).
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let read = read_job(&tx, &id)?;
            let changed = match decide(read.as_ref().map(|(job, _)| job), now_millis()) {
                Err(refusal) => Changed::Refused {
                    job: read.map(|(job, _)| job),
                    refusal,
                },
                Ok(Next::Landed(answer)) => match read {
                    Some((job, _)) => Changed::Done {
                        job,
                        wrote: false,
                        answer,
                    },
                    None => Changed::Refused {
                        job: None,
                        refusal: Refusal::NotFound(id),
                    },
                },
                Ok(Next::Write(step, answer)) => {
                    if !write_job(&tx, &step.job, read.map(|(_, rev)| rev))? {
                        return Err(JobStoreError::Backend(format!(
                            "job {id} changed inside an immediate transaction"
                        )));
                    }
                    if let Some(entry) = &step.entry {
                        insert_transition(&tx, entry)?;
                    }
                    Changed::Done {
                        job: step.job,
                        wrote: true,
                        answer,
                    }
                }
            };
            tx.commit().map_err(backend)?;
            Ok(changed)
        })
        .await
    }

    async fn read_job(&self, id: &str) -> Result<Option<Job>, JobStoreError> {
        let id = id.to_string();
        self.call(move |conn| Ok(read_job(conn, &id)?.map(|(job, _)| job)))
            .await
    }

    async fn query_jobs(&self, filter: &JobFilter) -> Result<Vec<Job>, JobStoreError> {
        self.jobs_where(
            "WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR client_id = ?2)
             ORDER BY created_at DESC, id DESC LIMIT ?3",
            vec![
                Box::new(filter.status.map(JobStatus::as_str)),
                Box::new(filter.client_id.clone()),
                Box::new(filter.limit.map_or(-1, i64::from)),
            ],
        )
        .await
    }

    async fn claim_candidates(&self) -> Result<Vec<Job>, JobStoreError> {
        self.jobs_where(
            "WHERE id IN (SELECT id FROM jobs WHERE status = ?1 ORDER BY created_at, id LIMIT ?3)
                OR status = ?2",
            vec![
                Box::new(JobStatus::Pending.as_str()),
                Box::new(JobStatus::Running.as_str()),
                Box::new(CLAIM_WINDOW),
            ],
        )
        .await
    }

    async fn read_transitions(&self, job_id: &str) -> Result<Vec<Transition>, JobStoreError> {
        let id = job_id.to_string();
        self.call(move |conn| {
            let mut stmt = conn
                .prepare(
                    "SELECT seq, job_id, from_status, to_status, attempt, worker_id, at, detail
                     FROM transitions WHERE job_id = ?1 ORDER BY seq",
                )
                .map_err(backend)?;
            let rows = stmt.query_map([&id], transition_from_row).map_err(sql)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(sql)
        })
        .await
    }

    async fn insert_client(&self, client: &Client) -> Result<(), JobStoreError> {
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

    async fn read_client(&self, id: &str) -> Result<Option<Client>, JobStoreError> {
        let id = id.to_string();
        self.call(move |conn| {
            conn.query_row(
                "SELECT id, name, token_hash, created_at FROM clients WHERE id = ?1",
                [&id],
                client_from_row,
            )
            .optional()
            .map_err(sql)
        })
        .await
    }

    async fn upsert_worker(&self, worker: &WorkerRecord) -> Result<(), JobStoreError> {
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

    async fn read_workers(&self) -> Result<Vec<WorkerRecord>, JobStoreError> {
        self.call(move |conn| {
            let mut stmt = conn
                .prepare(
                    "SELECT id, instance_type, state, started_at, updated_at, jobs_done
                     FROM workers ORDER BY id",
                )
                .map_err(backend)?;
            let rows = stmt.query_map([], worker_from_row).map_err(sql)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(sql)
        })
        .await
    }
}
