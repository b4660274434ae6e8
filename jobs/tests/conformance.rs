//! The conformance suite (`rawflow_jobs::testing`) on the SQLite store,
//! each scenario on a fresh database file.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rawflow_jobs::testing::{run_all, Store, SCENARIOS};
use rawflow_jobs::SqliteJobStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let made = AtomicUsize::new(0);
    let ran = run_all(|| {
        let path = dir.path().join(format!(
            "jobs-{}.sqlite",
            made.fetch_add(1, Ordering::SeqCst)
        ));
        async move { Arc::new(SqliteJobStore::open(path).unwrap()) as Store }
    })
    .await;
    assert_eq!(ran, SCENARIOS.len());
}

/// A database written before announced jobs existed (four statuses, a
/// table of upload intents) opens upgraded: its intents are
/// `awaiting_upload` jobs, its jobs keep their announcement.
#[tokio::test]
async fn an_older_sqlite_database_is_upgraded() {
    use rawflow_jobs::{JobStatus, JobStore};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.sqlite");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE clients (id TEXT PRIMARY KEY, name TEXT NOT NULL,
                 token_hash BLOB NOT NULL, created_at INTEGER NOT NULL);
             CREATE TABLE uploads (job_id TEXT PRIMARY KEY, client_id TEXT NOT NULL REFERENCES clients(id),
                 filename TEXT NOT NULL, recipe TEXT NOT NULL, created_at INTEGER NOT NULL,
                 expires_at INTEGER NOT NULL);
             CREATE TABLE jobs (id TEXT PRIMARY KEY, client_id TEXT NOT NULL, input_key TEXT NOT NULL,
                 input_sha256 TEXT NOT NULL, input_bytes INTEGER NOT NULL, filename TEXT NOT NULL,
                 recipe TEXT NOT NULL,
                 status TEXT NOT NULL CHECK (status IN ('pending','running','completed','failed')),
                 attempts INTEGER NOT NULL DEFAULT 0, max_attempts INTEGER NOT NULL,
                 lease_owner TEXT, lease_expires INTEGER, claimed_from TEXT, worker_id TEXT,
                 timings TEXT NOT NULL DEFAULT '[]', outputs TEXT NOT NULL DEFAULT '[]', error TEXT,
                 created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, started_at INTEGER,
                 finished_at INTEGER, UNIQUE (input_key, input_sha256));
             CREATE INDEX jobs_by_status ON jobs(status, created_at);
             INSERT INTO clients VALUES ('c0', 'studio', zeroblob(32), 1);
             INSERT INTO uploads VALUES ('aa01', 'c0', 'A.DNG', 'web', 10, 99000);
             INSERT INTO uploads VALUES ('aa02', 'c0', 'B.DNG', 'web', 20, 98000);
             INSERT INTO jobs (id, client_id, input_key, input_sha256, input_bytes, filename, recipe,
                 status, max_attempts, created_at, updated_at)
             VALUES ('aa02', 'c0', 'raw/c0/aa02/B.DNG', 'ff', 3, 'B.DNG', 'web', 'pending', 3, 21, 21);",
        )
        .unwrap();
    }
    let store = SqliteJobStore::open(&path).unwrap();
    let announced = store.get_job("aa01").await.unwrap().unwrap();
    assert_eq!(announced.status, JobStatus::AwaitingUpload);
    assert_eq!(announced.input_key, "raw/c0/aa01/A.DNG");
    let old = store.get_job("aa02").await.unwrap().unwrap();
    assert_eq!(
        (old.status, old.upload_expires_at),
        (JobStatus::Pending, Some(98000))
    );
    assert_eq!(
        store.get_upload("aa02").await.unwrap().unwrap().filename,
        "B.DNG"
    );
    // The new statuses are allowed now, and it opens again unchanged.
    assert_eq!(
        store.cancel("aa02").await.unwrap().status,
        JobStatus::Cancelled
    );
    drop(store);
    let store = SqliteJobStore::open(&path).unwrap();
    assert_eq!(store.list_jobs(&Default::default()).await.unwrap().len(), 2);
}
