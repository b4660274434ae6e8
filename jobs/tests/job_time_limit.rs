//! The per-job wall-clock limit: a development that hangs fails its job
//! with the reason (real SQLite and real files), the lease is let go, and
//! the worker goes on to the next job and then finds nothing (idle).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rawflow_jobs::auth::issue_token;
use rawflow_jobs::ids::{new_client_id, now_millis};
use rawflow_jobs::uploads::{create_upload, on_object_created, EventOutcome, ObjectCreated};
use rawflow_jobs::worker::JobOutcome;
use rawflow_jobs::*;
use tokio::sync::Notify;

/// Hangs on inputs that start with `hang`, copies the others.
struct HangsOnSome;

#[async_trait]
impl Processor for HangsOnSome {
    async fn process(&self, input: &Path, recipe: &str) -> Result<ProcessOutput, ProcessError> {
        let bytes = tokio::fs::read(input)
            .await
            .map_err(|e| ProcessError::retryable(e.to_string()))?;
        if bytes.starts_with(b"hang") {
            std::future::pending::<()>().await;
        }
        Ok(ProcessOutput {
            outputs: vec![RenderedOutput {
                name: recipe.into(),
                extension: "jpg".into(),
                content_type: "image/jpeg".into(),
                bytes,
            }],
            timings: vec![],
        })
    }
}

async fn upload(
    objects: &LocalObjectStore,
    jobs: &SqliteJobStore,
    client: &str,
    bytes: &[u8],
) -> String {
    let t = create_upload(
        jobs,
        &LinkSigner::new([7; 32]),
        client,
        "IMG.DNG",
        "web",
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    let meta = objects
        .put_bytes(&t.key, bytes, PutMode::CreateNew)
        .await
        .unwrap();
    let ev = ObjectCreated {
        key: t.key.to_string(),
        size: meta.size,
        sha256: meta.sha256.unwrap(),
    };
    match on_object_created(jobs, &ev, 3).await.unwrap() {
        EventOutcome::Created(j) => j.id,
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_development_fails_at_the_time_limit_and_the_worker_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let objects = Arc::new(LocalObjectStore::open(dir.path().join("objects")).unwrap());
    let jobs = Arc::new(SqliteJobStore::open(dir.path().join("jobs.sqlite")).unwrap());
    let client = new_client_id();
    jobs.create_client(&Client {
        id: client.clone(),
        name: "studio".into(),
        token_hash: issue_token(&client).hash,
        created_at: now_millis(),
    })
    .await
    .unwrap();
    let hung = upload(&objects, &jobs, &client, b"hang forever").await;
    let fine = upload(&objects, &jobs, &client, b"fine").await;
    let worker = Worker::new(
        Arc::clone(&objects),
        Arc::clone(&jobs),
        Arc::new(HangsOnSome),
        WorkerConfig {
            worker_id: "w".into(),
            // The lease is renewed while the development hangs: only the
            // time limit ends it.
            lease_ttl: Duration::from_millis(300),
            poll_interval: Duration::from_millis(20),
            scratch_dir: dir.path().join("scratch"),
        },
        Arc::new(Notify::new()),
    )
    .with_job_time_limit(Duration::from_millis(800));

    let first = tokio::time::timeout(Duration::from_secs(30), worker.run_once())
        .await
        .expect("the time limit ends the hung job")
        .unwrap();
    assert_eq!(first, Some(JobOutcome::Failed(hung.clone())));
    let job = jobs.get_job(&hung).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Failed);
    assert_eq!(job.attempts, 1, "not retried: it would hang again");
    assert!(
        job.error.as_deref().unwrap_or("").contains("time limit"),
        "{:?}",
        job.error
    );
    assert!(job.lease_owner.is_none());
    // The worker goes on to the next job, then finds none: idle.
    assert_eq!(
        worker.run_once().await.unwrap(),
        Some(JobOutcome::Completed(fine))
    );
    assert_eq!(worker.run_once().await.unwrap(), None);
    assert!(!jobs.has_runnable_jobs().await.unwrap());
}
