//! The job-store additions for the standalone worker, on SQLite: instance
//! type on claims, release (hand-back), "any runnable job?", worker records,
//! and the interruptible worker step.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rawflow_jobs::auth::issue_token;
use rawflow_jobs::ids::{new_client_id, now_millis};
use rawflow_jobs::uploads::{create_upload, on_object_created, EventOutcome, ObjectCreated};
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
    let client = new_client_id();
    jobs.create_client(&Client {
        id: client.clone(),
        name: "s".into(),
        token_hash: issue_token(&client).hash,
        created_at: now_millis(),
    })
    .await
    .unwrap();
    let t = create_upload(
        &*jobs,
        &LinkSigner::new([1; 32]),
        &client,
        "A.DNG",
        "web",
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    let meta = objects
        .put_bytes(&t.key, b"raw", PutMode::CreateNew)
        .await
        .unwrap();
    let ev = ObjectCreated {
        key: t.key.to_string(),
        size: meta.size,
        sha256: meta.sha256.unwrap(),
    };
    let id = match on_object_created(&*jobs, &ev, 3).await.unwrap() {
        EventOutcome::Created(j) => j.id,
        other => panic!("{other:?}"),
    };
    (dir, objects, jobs, id)
}

#[tokio::test]
async fn sqlite_claim_on_release_runnable_and_workers() {
    let (_dir, _objects, jobs, id) = setup().await;
    let ttl = Duration::from_secs(30);
    assert!(jobs.has_runnable_jobs().await.unwrap());
    let (job, lease) = jobs
        .claim_on("w1", Some("m7.large"), ttl)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.instance_type.as_deref(), Some("m7.large"));
    assert!(!jobs.has_runnable_jobs().await.unwrap());

    assert!(jobs.release(&lease, "stopping").await.unwrap());
    assert!(!jobs.release(&lease, "stopping").await.unwrap());
    let j = jobs.get_job(&id).await.unwrap().unwrap();
    assert_eq!(
        (j.status, j.attempts, j.lease_owner),
        (JobStatus::Pending, 0, None)
    );
    assert!(jobs.has_runnable_jobs().await.unwrap());
    let (_, again) = jobs.claim("w2", ttl).await.unwrap().unwrap();
    assert_eq!(again.attempt, 1);
    let last = jobs.transitions(&id).await.unwrap();
    let moves: Vec<_> = last.iter().map(|t| (t.from, t.to, t.attempt)).collect();
    use JobStatus::*;
    assert_eq!(
        moves,
        [
            (None, Pending, 0),
            (Some(Pending), Running, 1),
            (Some(Running), Pending, 1),
            (Some(Pending), Running, 1),
        ]
    );
    assert_eq!(last[2].detail.as_deref(), Some("stopping"));

    // An expired lease makes the job runnable again.
    assert!(jobs.release(&again, "x").await.unwrap());
    let (_, short) = jobs
        .claim("w3", Duration::from_millis(50))
        .await
        .unwrap()
        .unwrap();
    assert!(!jobs.has_runnable_jobs().await.unwrap());
    tokio::time::sleep(Duration::from_millis(80)).await;
    assert!(jobs.has_runnable_jobs().await.unwrap());
    drop(short);

    let mut w = WorkerRecord {
        id: "w1".into(),
        instance_type: "m7.large".into(),
        state: WorkerState::Active,
        started_at: now_millis(),
        updated_at: now_millis(),
        jobs_done: 0,
    };
    jobs.put_worker(&w).await.unwrap();
    w.state = WorkerState::Draining;
    jobs.put_worker(&w).await.unwrap();
    assert_eq!(jobs.list_workers().await.unwrap(), [w]);
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
