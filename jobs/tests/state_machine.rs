//! Component tests of the worker loop: real SQLite, real files, and a
//! stand-in processor that copies bytes (the engine is tested end to end in
//! the harness; the store's life cycle by the conformance suite).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use rawflow_jobs::ids::now_millis;
use rawflow_jobs::testing::{self, CopyProcessor};
use rawflow_jobs::worker::JobOutcome;
use rawflow_jobs::*;
use tokio::sync::Notify;

struct Env {
    _dir: tempfile::TempDir,
    objects: Arc<LocalObjectStore>,
    jobs: Arc<SqliteJobStore>,
    scratch: std::path::PathBuf,
    client: String,
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let objects = Arc::new(LocalObjectStore::open(dir.path().join("objects")).unwrap());
    let jobs = Arc::new(SqliteJobStore::open(dir.path().join("jobs.sqlite")).unwrap());
    let (client, _) = testing::client(&*jobs).await;
    Env {
        scratch: dir.path().join("scratch"),
        _dir: dir,
        objects,
        jobs,
        client,
    }
}

impl Env {
    /// Announce, store and record one upload; returns the job id.
    async fn upload(&self, bytes: &[u8]) -> String {
        testing::upload(&*self.jobs, &*self.objects, &self.client, bytes).await
    }

    fn worker(
        &self,
        id: &str,
        p: Arc<CopyProcessor>,
        lease: Duration,
    ) -> Worker<LocalObjectStore, SqliteJobStore, CopyProcessor> {
        Worker::new(
            Arc::clone(&self.objects),
            Arc::clone(&self.jobs),
            p,
            WorkerConfig {
                worker_id: id.into(),
                lease_ttl: lease,
                poll_interval: Duration::from_millis(50),
                scratch_dir: self.scratch.clone(),
            },
            Arc::new(Notify::new()),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_store_is_atomic_and_validates_keys() {
    let e = env().await;
    let k = ObjectKey::new("a/b/c.bin").unwrap();
    let m = e
        .objects
        .put_bytes(&k, b"hello", PutMode::CreateNew)
        .await
        .unwrap();
    assert_eq!(m.size, 5);
    match e.objects.put_bytes(&k, b"other", PutMode::CreateNew).await {
        Err(StoreError::AlreadyExists { sha256, .. }) => {
            assert_eq!(sha256, rawflow_jobs::object_store::sha256_hex(b"other"))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(e.objects.get_bytes(&k).await.unwrap(), b"hello");
    e.objects
        .put_bytes(&k, b"replaced", PutMode::Overwrite)
        .await
        .unwrap();
    assert_eq!(e.objects.get_bytes(&k).await.unwrap(), b"replaced");
    // A temporary file left by a crash is never listed and is cleaned up.
    std::fs::write(e.objects.root().join("a/b/.rf-tmp-dead"), b"partial").unwrap();
    let listed: Vec<String> = e
        .objects
        .list("a/")
        .await
        .unwrap()
        .iter()
        .map(|m| m.key.to_string())
        .collect();
    assert_eq!(listed, ["a/b/c.bin"]);
    assert!(e.objects.list("a/b/c").await.unwrap().len() == 1);
    assert!(e.objects.list("x/").await.unwrap().is_empty());
    assert_eq!(e.objects.remove_stale_temp_files().unwrap(), 1);
    let dest = e.scratch.with_extension("copy");
    let got = e.objects.get_to_file(&k, &dest).await.unwrap();
    assert_eq!(
        got.sha256.unwrap(),
        rawflow_jobs::object_store::sha256_hex(b"replaced")
    );
    assert!(e.objects.delete(&k).await.unwrap());
    assert!(!e.objects.delete(&k).await.unwrap());
    assert!(e.objects.head(&k).await.unwrap().is_none());
    for bad in ["../x", "/abs", "a//b", "a\\b"] {
        assert!(ObjectKey::new(bad).is_err());
    }
    assert!(e.objects.list("../").await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_completes_a_job_and_stores_outputs() {
    let e = env().await;
    let id = e.upload(b"raw bytes").await;
    let w = e.worker("w1", Arc::new(CopyProcessor::new()), Duration::from_secs(5));
    assert_eq!(
        w.run_once().await.unwrap(),
        Some(JobOutcome::Completed(id.clone()))
    );
    assert_eq!(w.run_once().await.unwrap(), None);
    let job = e.jobs.get_job(&id).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Completed);
    assert_eq!(job.attempts, 1);
    assert_eq!(job.outputs.len(), 1);
    let out = &job.outputs[0];
    assert_eq!(out.key, format!("processed/{}/{}/web.bin", e.client, id));
    let key = ObjectKey::new(&out.key).unwrap();
    assert_eq!(e.objects.get_bytes(&key).await.unwrap(), b"raw bytes");
    assert!(job.timings.iter().any(|(n, _)| n == "fetch"));
    assert!(job.finished_at.is_some() && job.lease_owner.is_none());
    let ts = e.jobs.transitions(&id).await.unwrap();
    use JobStatus::*;
    assert_eq!(
        testing::moves(&ts),
        [
            (None, AwaitingUpload, 0),
            (Some(AwaitingUpload), Pending, 0),
            (Some(Pending), Running, 1),
            (Some(Running), Completed, 1)
        ]
    );
    // Scratch copies are removed.
    assert_eq!(std::fs::read_dir(&e.scratch).unwrap().count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_errors_fail_at_once_and_retryable_ones_after_three_attempts() {
    let e = env().await;
    let bad = e.upload(b"corrupt").await;
    let mut p = CopyProcessor::new();
    p.fail = Some(ProcessError::permanent("corrupt file"));
    let w = e.worker("w1", Arc::new(p), Duration::from_secs(5));
    assert_eq!(
        w.run_once().await.unwrap(),
        Some(JobOutcome::Failed(bad.clone()))
    );
    let job = e.jobs.get_job(&bad).await.unwrap().unwrap();
    assert_eq!((job.status, job.attempts), (JobStatus::Failed, 1));
    assert_eq!(job.error.as_deref(), Some("corrupt file"));

    let flaky = e.upload(b"flaky").await;
    let mut p = CopyProcessor::new();
    p.fail = Some(ProcessError::retryable("disk hiccup"));
    let p = Arc::new(p);
    let w = e.worker("w1", Arc::clone(&p), Duration::from_secs(5));
    assert_eq!(
        w.run_once().await.unwrap(),
        Some(JobOutcome::Retrying(flaky.clone()))
    );
    assert_eq!(
        w.run_once().await.unwrap(),
        Some(JobOutcome::Retrying(flaky.clone()))
    );
    assert_eq!(
        w.run_once().await.unwrap(),
        Some(JobOutcome::Failed(flaky.clone()))
    );
    assert_eq!(w.run_once().await.unwrap(), None);
    assert_eq!(p.calls.load(Ordering::SeqCst), 3);
    let job = e.jobs.get_job(&flaky).await.unwrap().unwrap();
    assert_eq!((job.status, job.attempts), (JobStatus::Failed, 3));
    assert!(job.error.unwrap().contains("disk hiccup"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lease_is_renewed_while_a_slow_job_runs() {
    let e = env().await;
    let id = e.upload(b"slow").await;
    let mut p = CopyProcessor::new();
    p.delay = Duration::from_millis(900);
    let w = e.worker("w1", Arc::new(p), Duration::from_millis(300));
    let jobs = Arc::clone(&e.jobs);
    let run = tokio::spawn(async move { w.run_once().await });
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert!(jobs
            .claim("thief", Duration::from_secs(5))
            .await
            .unwrap()
            .is_none());
    }
    assert_eq!(
        run.await.unwrap().unwrap(),
        Some(JobOutcome::Completed(id.clone()))
    );
    assert_eq!(e.jobs.get_job(&id).await.unwrap().unwrap().attempts, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_wake_on_notification_and_stop_on_shutdown() {
    let e = env().await;
    let wake = Arc::new(Notify::new());
    let w = Worker::new(
        Arc::clone(&e.objects),
        Arc::clone(&e.jobs),
        Arc::new(CopyProcessor::new()),
        WorkerConfig {
            worker_id: "w".into(),
            lease_ttl: Duration::from_secs(5),
            poll_interval: Duration::from_secs(3600),
            scratch_dir: e.scratch.clone(),
        },
        Arc::clone(&wake),
    );
    let (tx, rx) = tokio::sync::watch::channel(false);
    let handle = tokio::spawn(async move { w.run(rx).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let id = e.upload(b"wake").await;
    wake.notify_waiters();
    let mut done = false;
    for _ in 0..100 {
        if e.jobs.get_job(&id).await.unwrap().unwrap().status == JobStatus::Completed {
            done = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        done,
        "the notified worker did not pick up the job (poll interval is 1 h)"
    );
    tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), handle)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_worker_collects_announcements_whose_upload_never_came() {
    let e = env().await;
    let now = now_millis();
    let stale = UploadIntent {
        job_id: rawflow_jobs::ids::new_job_id(),
        client_id: e.client.clone(),
        filename: "GONE.DNG".into(),
        recipe: "web".into(),
        created_at: now - 3 * state::UPLOAD_GRACE_MS,
        expires_at: now - 2 * state::UPLOAD_GRACE_MS,
    };
    e.jobs.put_upload(&stale).await.unwrap();
    let w = e.worker("w1", Arc::new(CopyProcessor::new()), Duration::from_secs(5));
    assert_eq!(w.run_once().await.unwrap(), None);
    let job = e.jobs.get_job(&stale.job_id).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::UploadExpired);
}
