//! The SQLite schema, and the upgrade of databases made by earlier versions.

use rusqlite::{params, Connection, OptionalExtension};

use super::codec::{backend, insert_transition, write_job};
use crate::job_store::JobStoreError;
use crate::model::UploadIntent;
use crate::state::{self, Next};

/// The tables (created when missing).
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS clients (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    token_hash  BLOB NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    id                TEXT PRIMARY KEY,
    client_id         TEXT NOT NULL,
    input_key         TEXT NOT NULL,
    input_sha256      TEXT NOT NULL,
    input_bytes       INTEGER NOT NULL,
    filename          TEXT NOT NULL,
    recipe            TEXT NOT NULL,
    status            TEXT NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    max_attempts      INTEGER NOT NULL,
    lease_owner       TEXT,
    lease_expires     INTEGER,
    worker_id         TEXT,
    timings           TEXT NOT NULL DEFAULT '[]',
    outputs           TEXT NOT NULL DEFAULT '[]',
    error             TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    started_at        INTEGER,
    finished_at       INTEGER,
    instance_type     TEXT,
    upload_expires_at INTEGER,
    closed_by         TEXT,
    rev               INTEGER NOT NULL DEFAULT 0
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

/// The columns every version's `jobs` table has, copied by the upgrade.
const OLD_JOB_COLUMNS: &str = "id, client_id, input_key, input_sha256, input_bytes, filename, \
     recipe, status, attempts, max_attempts, lease_owner, lease_expires, worker_id, timings, \
     outputs, error, created_at, updated_at, started_at, finished_at, instance_type";

/// Create the tables, upgrading a database of an earlier version: its
/// `jobs` table (which only allowed four statuses) is rebuilt, and its
/// upload intents become `awaiting_upload` jobs.
pub(super) fn create(conn: &mut Connection) -> Result<(), JobStoreError> {
    let tx = conn.transaction().map_err(backend)?;
    let old: Option<String> = tx
        .query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'jobs'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(backend)?;
    if let Some(sql) = old.filter(|sql| sql.contains("CHECK (status IN")) {
        if !sql.contains("instance_type") {
            tx.execute_batch("ALTER TABLE jobs ADD COLUMN instance_type TEXT")
                .map_err(backend)?;
        }
        tx.execute_batch("DROP INDEX IF EXISTS jobs_by_status; DROP INDEX IF EXISTS jobs_by_client; ALTER TABLE jobs RENAME TO jobs_before_state;")
            .map_err(backend)?;
        tx.execute_batch(SCHEMA).map_err(backend)?;
        tx.execute_batch(&format!(
            "INSERT INTO jobs ({OLD_JOB_COLUMNS}) SELECT {OLD_JOB_COLUMNS} FROM jobs_before_state;
             DROP TABLE jobs_before_state;"
        ))
        .map_err(backend)?;
    }
    tx.execute_batch(SCHEMA).map_err(backend)?;
    let uploads: bool = tx
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'uploads')",
            [],
            |r| r.get(0),
        )
        .map_err(backend)?;
    if uploads {
        adopt_upload_intents(&tx)?;
    }
    tx.commit().map_err(backend)
}

/// Earlier versions kept upload intents in a table of their own: each
/// becomes its job's announcement.
fn adopt_upload_intents(tx: &rusqlite::Transaction<'_>) -> Result<(), JobStoreError> {
    tx.execute_batch(
        "UPDATE jobs SET upload_expires_at =
             (SELECT expires_at FROM uploads WHERE uploads.job_id = jobs.id)
         WHERE upload_expires_at IS NULL",
    )
    .map_err(backend)?;
    let intents = {
        let mut stmt = tx
            .prepare(
                "SELECT job_id, client_id, filename, recipe, created_at, expires_at FROM uploads
                 WHERE job_id NOT IN (SELECT id FROM jobs)",
            )
            .map_err(backend)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(UploadIntent {
                    job_id: r.get(0)?,
                    client_id: r.get(1)?,
                    filename: r.get(2)?,
                    recipe: r.get(3)?,
                    created_at: r.get(4)?,
                    expires_at: r.get(5)?,
                })
            })
            .map_err(backend)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(backend)?
    };
    for intent in intents {
        if let Ok(Next::Write(step, ())) = state::announce(None, &intent, intent.created_at) {
            write_job(tx, &step.job, None)?;
            if let Some(e) = &step.entry {
                insert_transition(tx, e)?;
            }
        }
    }
    tx.execute("DROP TABLE uploads", params![])
        .map_err(backend)?;
    Ok(())
}
