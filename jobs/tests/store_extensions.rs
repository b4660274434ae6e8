//! The interruptible worker step of the standalone worker, on SQLite (the
//! store's release, instance types and worker records are in the
//! conformance suite).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rawflow_jobs::testing;
use rawflow_jobs::worker::JobOutcome;
use rawflow_jobs::*;
use tokio::sync::{watch, Notify};

/// Never finishes (until dropped).
struct Forever;

#[async_trait]
impl Processor for Forever {
    async fn process(&self, _input: &Path, _recipe: &str) -> Result<ProcessOutput, ProcessError> {
        std::future::pending().await
    }
}

async fn setup() -> (
    tempfile::TempDir,
    Arc<LocalObjectStore>,
    Arc<SqliteJobStore>,
    String,
) {
    let dir = tempfile::tempdir().unwrap();
    let objects = Arc::new(LocalObjectStore::open(dir.path().join("objects")).unwrap());
    let jobs = Arc::new(SqliteJobStore::open(dir.path().join("jobs.sqlite")).unwrap());
    let (client, _) = testing::client(&*jobs).await;
    let id = testing::upload(&*jobs, &*objects, &client, b"raw").await;
    (dir, objects, jobs, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_worker_hands_its_job_back() {
    let (dir, objects, jobs, id) = setup().await;
    let worker = Worker::new(
        objects,
        Arc::clone(&jobs),
        Arc::new(Forever),
        WorkerConfig {
            worker_id: "w".into(),
            lease_ttl: Duration::from_secs(30),
            poll_interval: Duration::from_millis(50),
            scratch_dir: dir.path().join("scratch"),
        },
        Arc::new(Notify::new()),
    )
    .with_instance_type("t.test");
    let (tx, mut rx) = watch::channel(false);
    let stopper = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        tx.send(true).unwrap();
        tx
    });
    let outcome = worker.run_once_interruptible(&mut rx).await.unwrap();
    assert_eq!(outcome, Some(JobOutcome::Released(id.clone())));
    let j = jobs.get_job(&id).await.unwrap().unwrap();
    assert_eq!((j.status, j.attempts), (JobStatus::Pending, 0));
    assert_eq!(j.instance_type.as_deref(), Some("t.test"));
    // Once told to stop, it claims nothing more.
    let _tx = stopper.await.unwrap();
    assert_eq!(worker.run_once_interruptible(&mut rx).await.unwrap(), None);
    assert!(
        std::fs::read_dir(dir.path().join("scratch"))
            .unwrap()
            .next()
            .is_none(),
        "scratch cleaned"
    );
}
