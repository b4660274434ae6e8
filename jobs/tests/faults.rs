//! Injected store faults: an object store and a job store that fail a given
//! number of calls (real SQLite and real files underneath). Transient faults
//! are retried with backoff and the job completes exactly once; persistent
//! faults end in a clear failure; nothing is lost and no partial output is
//! visible.

use std::path::Path;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rawflow_jobs::object_store::ObjectReader;
use rawflow_jobs::worker::JobOutcome;
use rawflow_jobs::*;
use tokio::io::AsyncRead;
use tokio::sync::Notify;

/// Fails the next `n` calls of a kind, then passes them through.
#[derive(Default)]
struct Faults(AtomicU32);

impl Faults {
    fn set(&self, n: u32) {
        self.0.store(n, Ordering::SeqCst);
    }
    /// True when this call must fail.
    fn hit(&self) -> bool {
        self.0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }
}

fn io_fault(key: &ObjectKey) -> StoreError {
    StoreError::Io {
        key: key.to_string(),
        source: std::io::Error::other("injected storage fault"),
    }
}

/// An object store whose puts and gets fail on demand.
struct FaultyObjects {
    inner: LocalObjectStore,
    puts: Faults,
    gets: Faults,
    injected: AtomicUsize,
}

#[async_trait]
impl ObjectStore for FaultyObjects {
    async fn put_reader(
        &self,
        key: &ObjectKey,
        reader: &mut (dyn AsyncRead + Send + Unpin),
        mode: PutMode,
    ) -> Result<ObjectMeta, StoreError> {
        if self.puts.hit() {
            self.injected.fetch_add(1, Ordering::SeqCst);
            return Err(io_fault(key));
        }
        self.inner.put_reader(key, reader, mode).await
    }
    async fn get_reader(&self, key: &ObjectKey) -> Result<(ObjectMeta, ObjectReader), StoreError> {
        if self.gets.hit() {
            self.injected.fetch_add(1, Ordering::SeqCst);
            return Err(io_fault(key));
        }
        self.inner.get_reader(key).await
    }
    async fn head(&self, key: &ObjectKey) -> Result<Option<ObjectMeta>, StoreError> {
        self.inner.head(key).await
    }
    async fn delete(&self, key: &ObjectKey) -> Result<bool, StoreError> {
        self.inner.delete(key).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StoreError> {
        self.inner.list(prefix).await
    }
}

/// A job store whose claim / complete / fail fail on demand.
struct FaultyJobs {
    inner: SqliteJobStore,
    claims: Faults,
    completes: Faults,
    fails: Faults,
    injected: AtomicUsize,
}

impl FaultyJobs {
    fn fault(&self, f: &Faults) -> Result<(), JobStoreError> {
        if f.hit() {
            self.injected.fetch_add(1, Ordering::SeqCst);
            return Err(JobStoreError::Backend("injected job store fault".into()));
        }
        Ok(())
    }
}

#[async_trait]
impl JobStore for FaultyJobs {
    async fn create_client(&self, client: &Client) -> Result<(), JobStoreError> {
        self.inner.create_client(client).await
    }
    async fn get_client(&self, id: &str) -> Result<Option<Client>, JobStoreError> {
        self.inner.get_client(id).await
    }
    async fn put_upload(&self, intent: &UploadIntent) -> Result<(), JobStoreError> {
        self.inner.put_upload(intent).await
    }
    async fn get_upload(&self, job_id: &str) -> Result<Option<UploadIntent>, JobStoreError> {
        self.inner.get_upload(job_id).await
    }
    async fn create_job(&self, job: &NewJob) -> Result<CreateOutcome, JobStoreError> {
        self.inner.create_job(job).await
    }
    async fn get_job(&self, id: &str) -> Result<Option<Job>, JobStoreError> {
        self.inner.get_job(id).await
    }
    async fn list_jobs(&self, filter: &JobFilter) -> Result<Vec<Job>, JobStoreError> {
        self.inner.list_jobs(filter).await
    }
    async fn claim_on(
        &self,
        worker_id: &str,
        instance_type: Option<&str>,
        ttl: Duration,
    ) -> Result<Option<(Job, Lease)>, JobStoreError> {
        self.fault(&self.claims)?;
        self.inner.claim_on(worker_id, instance_type, ttl).await
    }
    async fn release(&self, lease: &Lease, reason: &str) -> Result<bool, JobStoreError> {
        self.inner.release(lease, reason).await
    }
    async fn has_runnable_jobs(&self) -> Result<bool, JobStoreError> {
        self.inner.has_runnable_jobs().await
    }
    async fn put_worker(&self, worker: &rawflow_jobs::WorkerRecord) -> Result<(), JobStoreError> {
        self.inner.put_worker(worker).await
    }
    async fn list_workers(&self) -> Result<Vec<rawflow_jobs::WorkerRecord>, JobStoreError> {
        self.inner.list_workers().await
    }
    async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<bool, JobStoreError> {
        self.inner.renew(lease, ttl).await
    }
    async fn complete(
        &self,
        lease: &Lease,
        outputs: &[OutputRecord],
        timings: &[(String, f64)],
    ) -> Result<bool, JobStoreError> {
        self.fault(&self.completes)?;
        self.inner.complete(lease, outputs, timings).await
    }
    async fn fail(
        &self,
        lease: &Lease,
        error: &str,
        retryable: bool,
        timings: &[(String, f64)],
    ) -> Result<FailOutcome, JobStoreError> {
        self.fault(&self.fails)?;
        self.inner.fail(lease, error, retryable, timings).await
    }
    async fn cancel(&self, id: &str) -> Result<Job, JobStoreError> {
        self.inner.cancel(id).await
    }
    async fn retry(&self, id: &str) -> Result<Job, JobStoreError> {
        self.inner.retry(id).await
    }
    async fn collect_expired_uploads(&self) -> Result<Vec<Job>, JobStoreError> {
        self.inner.collect_expired_uploads().await
    }
    async fn transitions(&self, job_id: &str) -> Result<Vec<Transition>, JobStoreError> {
        self.inner.transitions(job_id).await
    }
}

/// Copies the input as one "copy" output.
struct CopyProcessor;

#[async_trait]
impl Processor for CopyProcessor {
    async fn process(&self, input: &Path, _recipe: &str) -> Result<ProcessOutput, ProcessError> {
        let bytes = tokio::fs::read(input)
            .await
            .map_err(|e| ProcessError::retryable(e.to_string()))?;
        Ok(ProcessOutput {
            outputs: vec![RenderedOutput {
                name: "copy".into(),
                extension: "bin".into(),
                content_type: "application/octet-stream".into(),
                bytes,
            }],
            timings: vec![("copy".into(), 0.0)],
        })
    }
}

struct Env {
    _dir: tempfile::TempDir,
    objects: Arc<FaultyObjects>,
    jobs: Arc<FaultyJobs>,
    scratch: std::path::PathBuf,
    client: String,
}

const FAST: RetryPolicy = RetryPolicy {
    attempts: 5,
    first_delay: Duration::from_millis(2),
    max_delay: Duration::from_millis(20),
};

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let objects = Arc::new(FaultyObjects {
        inner: LocalObjectStore::open(dir.path().join("objects")).unwrap(),
        puts: Faults::default(),
        gets: Faults::default(),
        injected: AtomicUsize::new(0),
    });
    let jobs = Arc::new(FaultyJobs {
        inner: SqliteJobStore::open(dir.path().join("jobs.sqlite")).unwrap(),
        claims: Faults::default(),
        completes: Faults::default(),
        fails: Faults::default(),
        injected: AtomicUsize::new(0),
    });
    let (client, _) = rawflow_jobs::testing::client(&*jobs).await;
    Env {
        scratch: dir.path().join("scratch"),
        _dir: dir,
        objects,
        jobs,
        client,
    }
}

impl Env {
    async fn upload(&self, bytes: &[u8]) -> String {
        rawflow_jobs::testing::upload(&*self.jobs, &self.objects.inner, &self.client, bytes).await
    }

    fn worker(
        &self,
        id: &str,
        lease: Duration,
    ) -> Worker<FaultyObjects, FaultyJobs, CopyProcessor> {
        Worker::new(
            Arc::clone(&self.objects),
            Arc::clone(&self.jobs),
            Arc::new(CopyProcessor),
            WorkerConfig {
                worker_id: id.into(),
                lease_ttl: lease,
                poll_interval: Duration::from_millis(20),
                scratch_dir: self.scratch.clone(),
            },
            Arc::new(Notify::new()),
        )
        .with_retry(FAST)
    }

    async fn completions(&self, job: &str) -> usize {
        self.jobs
            .transitions(job)
            .await
            .unwrap()
            .iter()
            .filter(|t| t.to == JobStatus::Completed)
            .count()
    }

    /// Every stored object under the job's output prefix is a whole output.
    async fn assert_outputs_whole(&self, job: &Job, expected: &[u8]) {
        for meta in self.objects.inner.list("").await.unwrap() {
            if meta.key.as_str().contains(&job.id) && meta.key.as_str().contains("/out") {
                let bytes = self.objects.inner.get_bytes(&meta.key).await.unwrap();
                assert_eq!(bytes, expected, "partial output {}", meta.key);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_faults_are_retried_and_the_job_completes_once() {
    let e = env().await;
    let input = b"a raw file".repeat(1000);
    let id = e.upload(&input).await;
    // Fewer faults than tries, on every store call of the job.
    e.objects.gets.set(3);
    e.objects.puts.set(4);
    e.jobs.completes.set(2);
    let w = e.worker("w1", Duration::from_secs(5));
    assert_eq!(
        w.run_once().await.unwrap(),
        Some(JobOutcome::Completed(id.clone()))
    );
    let job = e.jobs.get_job(&id).await.unwrap().unwrap();
    assert_eq!((job.status, job.attempts), (JobStatus::Completed, 1));
    assert_eq!(e.completions(&id).await, 1);
    let out = ObjectKey::new(&job.outputs[0].key).unwrap();
    assert_eq!(e.objects.inner.get_bytes(&out).await.unwrap(), input);
    assert_eq!(
        e.objects.injected.load(Ordering::SeqCst) + e.jobs.injected.load(Ordering::SeqCst),
        9
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_storage_faults_fail_the_job_clearly() {
    let e = env().await;
    let input = b"raw".repeat(100);
    let id = e.upload(&input).await;
    e.objects.puts.set(u32::MAX);
    let w = e.worker("w1", Duration::from_secs(5));
    let mut outcomes = Vec::new();
    while let Some(o) = w.run_once().await.unwrap() {
        outcomes.push(o);
    }
    assert_eq!(
        outcomes,
        vec![
            JobOutcome::Retrying(id.clone()),
            JobOutcome::Retrying(id.clone()),
            JobOutcome::Failed(id.clone()),
        ]
    );
    let job = e.jobs.get_job(&id).await.unwrap().unwrap();
    assert_eq!((job.status, job.attempts), (JobStatus::Failed, 3));
    let reason = job.error.clone().unwrap();
    assert!(
        reason.contains("storing") && reason.contains("injected storage fault"),
        "{reason}"
    );
    // 3 attempts × 5 tries.
    assert_eq!(e.objects.injected.load(Ordering::SeqCst), 15);
    assert!(job.outputs.is_empty());
    e.assert_outputs_whole(&job, &input).await;
    assert_eq!(e.completions(&id).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_completion_is_recovered_through_the_lease_exactly_once() {
    let e = env().await;
    let input = b"raw".repeat(100);
    let id = e.upload(&input).await;
    // More faults than tries: the completion cannot be recorded.
    e.jobs.completes.set(5);
    let w1 = e.worker("w1", Duration::from_millis(300));
    assert!(w1.run_once().await.is_err(), "the store error is reported");
    let job = e.jobs.get_job(&id).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Running, "left to its lease");
    // Outputs already written are whole (atomic puts).
    e.assert_outputs_whole(&job, &input).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let w2 = e.worker("w2", Duration::from_secs(5));
    assert_eq!(
        w2.run_once().await.unwrap(),
        Some(JobOutcome::Completed(id.clone()))
    );
    let job = e.jobs.get_job(&id).await.unwrap().unwrap();
    assert_eq!((job.status, job.attempts), (JobStatus::Completed, 2));
    assert_eq!(e.completions(&id).await, 1);
    let out = ObjectKey::new(&job.outputs[0].key).unwrap();
    assert_eq!(e.objects.inner.get_bytes(&out).await.unwrap(), input);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_claims_back_off_and_work_resumes() {
    let e = env().await;
    let id = e.upload(b"raw").await;
    e.jobs.claims.set(4);
    let w = Arc::new(e.worker("w1", Duration::from_secs(5)));
    let (stop, rx) = tokio::sync::watch::channel(false);
    let w2 = Arc::clone(&w);
    let task = tokio::spawn(async move { w2.run(rx).await });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let job = e.jobs.get_job(&id).await.unwrap().unwrap();
        if job.status == JobStatus::Completed {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "job not completed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop.send(true);
    task.await.unwrap();
    assert_eq!(e.jobs.injected.load(Ordering::SeqCst), 4);
    assert_eq!(e.completions(&id).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_input_is_not_retried() {
    let e = env().await;
    let id = e.upload(b"raw").await;
    let job = e.jobs.get_job(&id).await.unwrap().unwrap();
    let key = ObjectKey::new(&job.input_key).unwrap();
    e.objects.inner.delete(&key).await.unwrap();
    let w = e.worker("w1", Duration::from_secs(5));
    assert_eq!(
        w.run_once().await.unwrap(),
        Some(JobOutcome::Failed(id.clone()))
    );
    let job = e.jobs.get_job(&id).await.unwrap().unwrap();
    assert_eq!(job.attempts, 1);
    assert!(job.error.unwrap().contains("missing"));
}
