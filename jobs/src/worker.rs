//! The worker loop: claim → fetch input → process → store outputs → complete.
//!
//! The same code runs in-process in `rawflow serve` and as the EC2
//! `rawflow worker`. While a job runs, a background task renews its lease
//! every third of the lease time; if the lease is lost, the worker stores
//! nothing more and writes no result (another worker owns the job now).
//! A job is marked completed only after every output is stored, and each
//! output becomes visible under its final key only once complete (atomic
//! puts), so a crash at any point leaves either no output or a whole one.
//!
//! Store errors are retried in place with exponential backoff
//! ([`RetryPolicy`]): fetching the input and storing each output (object
//! store I/O errors only; a missing object or a bad key is final), and
//! recording the result (`complete` / `fail`). When the retries run out, a
//! storage failure fails the attempt as retryable (the job store retries the
//! job up to its attempt limit, then fails it with the reason), and a job
//! store failure leaves the job to its lease: it expires and the job is
//! claimed again. The idle loop backs off the same way while `claim` fails.
//!
//! An idle worker also collects announced uploads that never came
//! ([`JobStore::collect_expired_uploads`]), at most once per
//! [`COLLECT_EVERY`].

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{watch, Notify};
use tracing::{debug, info, warn};

use crate::ids::{hex, random_bytes};
use crate::job_store::{JobStore, JobStoreError};
use crate::key::ObjectKey;
use crate::model::{FailOutcome, Job, Lease, OutputRecord};
use crate::object_store::{ObjectStore, PutMode, StoreError};
use crate::processor::{ProcessError, Processor};

/// How often an idle worker collects expired upload announcements.
pub const COLLECT_EVERY: Duration = Duration::from_secs(60);

/// How a worker behaves.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// This worker's name (in leases and the audit trail).
    pub worker_id: String,
    /// How long a claim lasts without renewal.
    pub lease_ttl: Duration,
    /// How often to look for work when not woken.
    pub poll_interval: Duration,
    /// Where inputs are copied for processing.
    pub scratch_dir: PathBuf,
}

/// How often, and how patiently, a store call that failed is repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all (1 = no retry).
    pub attempts: u32,
    /// Wait before the first retry; doubled after each.
    pub first_delay: Duration,
    /// The longest wait between tries.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 5 tries, waiting 100 ms, 200 ms, 400 ms, 800 ms.
    fn default() -> Self {
        Self {
            attempts: 5,
            first_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed try number `n` (0-based).
    pub fn delay(&self, n: u32) -> Duration {
        self.first_delay
            .saturating_mul(1u32 << n.min(20))
            .min(self.max_delay)
    }

    /// Run `op` until it succeeds, fails with an error `transient` calls
    /// final, or the tries run out; the last error is returned.
    pub async fn run<T, E, F, Fut>(
        &self,
        what: &str,
        transient: impl Fn(&E) -> bool,
        mut op: F,
    ) -> Result<T, E>
    where
        E: std::fmt::Display,
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, E>>,
    {
        let mut n = 0;
        loop {
            match op().await {
                Ok(v) => return Ok(v),
                Err(e) if transient(&e) && n + 1 < self.attempts => {
                    let wait = self.delay(n);
                    warn!(error = %e, attempt = n + 1, wait_ms = wait.as_millis() as u64, "{what} failed; retrying");
                    tokio::time::sleep(wait).await;
                    n += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Object store errors worth retrying: I/O trouble, not a missing object,
/// a bad key or an existing one.
fn transient_store_error(e: &StoreError) -> bool {
    matches!(e, StoreError::Io { .. } | StoreError::Source(_))
}

/// Job store errors worth retrying: the backend, not a bad record.
fn transient_job_store_error(e: &JobStoreError) -> bool {
    matches!(e, JobStoreError::Backend(_))
}

/// What became of one claimed job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    /// Completed with its outputs.
    Completed(String),
    /// Failed, and will be retried.
    Retrying(String),
    /// Failed for good.
    Failed(String),
    /// The lease was lost: another worker owns the job; nothing was recorded.
    LeaseLost(String),
    /// The worker was told to stop mid-job and handed the job back
    /// (`pending`, the attempt not counted).
    Released(String),
}

/// A worker over an object store, a job store and a processor.
pub struct Worker<O: ?Sized, J: ?Sized, P: ?Sized> {
    objects: Arc<O>,
    jobs: Arc<J>,
    processor: Arc<P>,
    config: WorkerConfig,
    wake: Arc<Notify>,
    instance_type: Option<String>,
    retry: RetryPolicy,
    /// When expired upload announcements were last collected.
    collected: Mutex<Option<Instant>>,
    time_limit: Option<Duration>,
}

impl<O, J, P> Worker<O, J, P>
where
    O: ObjectStore + ?Sized,
    J: JobStore + ?Sized,
    P: Processor + ?Sized,
{
    /// A worker; `wake` is notified (`notify_waiters`) when a job is created,
    /// so that idle workers start at once instead of at the next poll.
    pub fn new(
        objects: Arc<O>,
        jobs: Arc<J>,
        processor: Arc<P>,
        config: WorkerConfig,
        wake: Arc<Notify>,
    ) -> Self {
        Self {
            objects,
            jobs,
            processor,
            config,
            wake,
            instance_type: None,
            retry: RetryPolicy::default(),
            collected: Mutex::new(None),
            time_limit: None,
        }
    }

    /// Fail a development that runs longer than `limit` (permanently: a
    /// development that hung once hangs again), so that a hung file does not
    /// hold its lease for ever and the worker goes on (and idle). The
    /// abandoned development's thread is not killed; it ends with the
    /// process.
    pub fn with_job_time_limit(mut self, limit: Duration) -> Self {
        self.time_limit = Some(limit);
        self
    }

    /// Record `instance_type` (the machine this worker runs on) in every job
    /// it claims.
    pub fn with_instance_type(mut self, instance_type: impl Into<String>) -> Self {
        self.instance_type = Some(instance_type.into());
        self
    }

    /// Use `retry` for store calls instead of [`RetryPolicy::default`].
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Work until `shutdown` becomes `true` (or its sender is dropped). A job
    /// in progress is finished first.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) {
        info!(worker = %self.config.worker_id, "worker started");
        let mut store_errors: u32 = 0;
        loop {
            if *shutdown.borrow() {
                break;
            }
            // Register for wake-ups before looking, so none is missed.
            let notified = self.wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let mut wait = self.config.poll_interval;
            match self.run_once().await {
                Ok(Some(_)) => {
                    store_errors = 0;
                    continue;
                }
                Ok(None) => store_errors = 0,
                Err(e) => {
                    // Back off while the job store is failing.
                    wait = wait.max(self.retry.delay(store_errors));
                    store_errors = store_errors.saturating_add(1);
                    warn!(worker = %self.config.worker_id, error = %e, wait_ms = wait.as_millis() as u64, "job store error");
                }
            }
            tokio::select! {
                _ = &mut notified, if store_errors == 0 => {}
                _ = tokio::time::sleep(wait) => {}
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
            }
        }
        info!(worker = %self.config.worker_id, "worker stopped");
    }

    /// Claim and run at most one job.
    pub async fn run_once(&self) -> Result<Option<JobOutcome>, JobStoreError> {
        self.run_one(None).await
    }

    /// Claim and run at most one job; if `stop` turns `true` while the job
    /// runs, abandon it and hand it back ([`JobStore::release`]) so that
    /// another worker can take it at once ([`JobOutcome::Released`]).
    pub async fn run_once_interruptible(
        &self,
        stop: &mut watch::Receiver<bool>,
    ) -> Result<Option<JobOutcome>, JobStoreError> {
        if *stop.borrow() {
            return Ok(None);
        }
        self.run_one(Some(stop)).await
    }

    async fn run_one(
        &self,
        stop: Option<&mut watch::Receiver<bool>>,
    ) -> Result<Option<JobOutcome>, JobStoreError> {
        let Some((job, lease)) = self
            .jobs
            .claim_on(
                &self.config.worker_id,
                self.instance_type.as_deref(),
                self.config.lease_ttl,
            )
            .await?
        else {
            self.collect_uploads().await;
            return Ok(None);
        };
        info!(job = %job.id, attempt = lease.attempt, worker = %lease.worker_id, "job claimed");
        let lost = Arc::new(AtomicBool::new(false));
        let renewer = tokio::spawn(renew_lease(
            Arc::clone(&self.jobs),
            lease.clone(),
            self.config.lease_ttl,
            Arc::clone(&lost),
        ));
        let result = match stop {
            None => self.execute(&job, &lost).await,
            Some(stop) => {
                tokio::select! {
                    r = self.execute(&job, &lost) => r,
                    _ = async {
                        // A dropped sender never asks to stop.
                        if stop.wait_for(|s| *s).await.is_err() {
                            std::future::pending::<()>().await;
                        }
                    } => {
                        renewer.abort();
                        let released = self.jobs.release(&lease, "released: the worker was told to stop").await?;
                        return Ok(Some(if released {
                            info!(job = %job.id, "job handed back: the worker is stopping");
                            JobOutcome::Released(job.id)
                        } else {
                            JobOutcome::LeaseLost(job.id)
                        }));
                    }
                }
            }
        };
        renewer.abort();
        let id = job.id.clone();
        if lost.load(Ordering::SeqCst) {
            warn!(job = %id, "lease lost while working: result discarded");
            return Ok(Some(JobOutcome::LeaseLost(id)));
        }
        let outcome = match result {
            Ok((outputs, timings)) => {
                let done = self
                    .retry
                    .run(
                        "recording the completion",
                        transient_job_store_error,
                        || self.jobs.complete(&lease, &outputs, &timings),
                    )
                    .await?;
                if done {
                    info!(job = %id, outputs = outputs.len(), seconds = total(&timings), "job completed");
                    JobOutcome::Completed(id)
                } else {
                    warn!(job = %id, "lease lost before completion: result discarded");
                    JobOutcome::LeaseLost(id)
                }
            }
            Err((err, timings)) => {
                let recorded = self
                    .retry
                    .run("recording the failure", transient_job_store_error, || {
                        self.jobs.fail(&lease, &err.reason, err.retryable, &timings)
                    })
                    .await?;
                match recorded {
                    FailOutcome::Retry => {
                        warn!(job = %id, error = %err.reason, "attempt failed; will retry");
                        JobOutcome::Retrying(id)
                    }
                    FailOutcome::Failed => {
                        warn!(job = %id, error = %err.reason, "job failed");
                        JobOutcome::Failed(id)
                    }
                    FailOutcome::LeaseLost => JobOutcome::LeaseLost(id),
                }
            }
        };
        Ok(Some(outcome))
    }

    /// Collect expired upload announcements, unless done within
    /// [`COLLECT_EVERY`]; a failure is logged (the next idle turn tries again).
    async fn collect_uploads(&self) {
        {
            let Ok(mut last) = self.collected.lock() else {
                return;
            };
            if last.is_some_and(|t| t.elapsed() < COLLECT_EVERY) {
                return;
            }
            *last = Some(Instant::now());
        }
        match self.jobs.collect_expired_uploads().await {
            Ok(jobs) => {
                for job in jobs {
                    info!(job = %job.id, "upload never came: announcement collected");
                }
            }
            Err(e) => warn!(error = %e, "collecting expired uploads failed"),
        }
    }

    /// Fetch, process and store; the timings go with either result.
    async fn execute(
        &self,
        job: &Job,
        lost: &AtomicBool,
    ) -> Result<(Vec<OutputRecord>, Vec<(String, f64)>), (ProcessError, Vec<(String, f64)>)> {
        let mut timings: Vec<(String, f64)> = Vec::new();
        let input_key = match ObjectKey::new(&job.input_key) {
            Ok(k) => k,
            Err(e) => {
                return Err((
                    ProcessError::permanent(format!("bad input key: {e}")),
                    timings,
                ))
            }
        };
        if let Err(e) = tokio::fs::create_dir_all(&self.config.scratch_dir).await {
            return Err((
                ProcessError::retryable(format!("scratch folder: {e}")),
                timings,
            ));
        }
        let scratch = ScratchFile(self.config.scratch_dir.join(format!(
            "{}-{}.raw",
            job.id,
            hex(&random_bytes::<4>())
        )));

        let clock = Instant::now();
        let meta = match self
            .retry
            .run("fetching the input", transient_store_error, || {
                self.objects.get_to_file(&input_key, &scratch.0)
            })
            .await
        {
            Ok(m) => m,
            Err(StoreError::NotFound(_)) => {
                return Err((
                    ProcessError::permanent("the uploaded RAW file is missing"),
                    timings,
                ))
            }
            Err(e) => {
                return Err((
                    ProcessError::retryable(format!("fetching the input: {e}")),
                    timings,
                ))
            }
        };
        timings.push(("fetch".into(), clock.elapsed().as_secs_f64()));
        if !meta.has_content(&job.input_sha256) {
            return Err((
                ProcessError::permanent("the RAW file changed after its upload was recorded"),
                timings,
            ));
        }

        let develop = self.processor.process(&scratch.0, &job.recipe);
        let processed = match self.time_limit {
            None => develop.await,
            Some(limit) => match tokio::time::timeout(limit, develop).await {
                Ok(r) => r,
                Err(_) => Err(ProcessError::permanent(format!(
                    "the development took longer than the per-job time limit of {} s",
                    limit.as_secs_f64()
                ))),
            },
        };
        drop(scratch);
        let processed = match processed {
            Ok(p) => p,
            Err(e) => return Err((e, timings)),
        };
        timings.extend(processed.timings);
        if processed.outputs.is_empty() {
            return Err((
                ProcessError::permanent("the recipe produced no outputs"),
                timings,
            ));
        }

        let clock = Instant::now();
        let mut records = Vec::with_capacity(processed.outputs.len());
        for out in processed.outputs {
            if lost.load(Ordering::SeqCst) {
                return Err((ProcessError::retryable("lease lost"), timings));
            }
            let key = match ObjectKey::output(&job.client_id, &job.id, &out.name, &out.extension) {
                Ok(k) => k,
                Err(e) => {
                    return Err((
                        ProcessError::permanent(format!("bad output name {:?}: {e}", out.name)),
                        timings,
                    ))
                }
            };
            let meta = match self
                .retry
                .run("storing an output", transient_store_error, || {
                    self.objects.put_bytes(&key, &out.bytes, PutMode::Overwrite)
                })
                .await
            {
                Ok(m) => m,
                Err(e) => {
                    return Err((
                        ProcessError::retryable(format!("storing {key}: {e}")),
                        timings,
                    ))
                }
            };
            debug!(job = %job.id, key = %key, bytes = meta.size, "output stored");
            records.push(OutputRecord {
                name: out.name,
                key: key.to_string(),
                bytes: meta.size,
                sha256: meta
                    .sha256
                    .unwrap_or_else(|| crate::object_store::sha256_hex(&out.bytes)),
                content_type: out.content_type,
            });
        }
        timings.push(("store".into(), clock.elapsed().as_secs_f64()));
        Ok((records, timings))
    }
}

fn total(timings: &[(String, f64)]) -> f64 {
    timings.iter().map(|(_, s)| s).sum()
}

/// Removes the scratch copy of an input when dropped.
struct ScratchFile(PathBuf);

impl Drop for ScratchFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Renew `lease` every `ttl / 3` until aborted; set `lost` when it is gone
/// (refused, or not renewed within `ttl`).
async fn renew_lease<J: JobStore + ?Sized>(
    jobs: Arc<J>,
    lease: Lease,
    ttl: Duration,
    lost: Arc<AtomicBool>,
) {
    let every = (ttl / 3).max(Duration::from_millis(10));
    let mut last_ok = Instant::now();
    loop {
        tokio::time::sleep(every).await;
        match jobs.renew(&lease, ttl).await {
            Ok(true) => last_ok = Instant::now(),
            Ok(false) => {
                warn!(job = %lease.job_id, "lease renewal refused: lease lost");
                lost.store(true, Ordering::SeqCst);
                return;
            }
            Err(e) => {
                warn!(job = %lease.job_id, error = %e, "lease renewal failed");
                if last_ok.elapsed() >= ttl {
                    lost.store(true, Ordering::SeqCst);
                    return;
                }
            }
        }
    }
}
