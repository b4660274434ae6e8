//! The worker loop: claim → fetch input → process → store outputs → complete.
//!
//! The same code runs in-process in `rawflow serve` and, later, as the EC2
//! `rawflow worker`. While a job runs, a background task renews its lease
//! every third of the lease time; if the lease is lost, the worker stores
//! nothing more and writes no result (another worker owns the job now).
//! A job is marked completed only after every output is stored, and each
//! output becomes visible under its final key only once complete (atomic
//! puts), so a crash at any point leaves either no output or a whole one.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{watch, Notify};
use tracing::{debug, info, warn};

use crate::ids::{hex, random_bytes};
use crate::job_store::{JobStore, JobStoreError};
use crate::key::ObjectKey;
use crate::model::{FailOutcome, Job, Lease, OutputRecord};
use crate::object_store::{ObjectStore, PutMode, StoreError};
use crate::processor::{ProcessError, Processor};

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
        }
    }

    /// Record `instance_type` (the machine this worker runs on) in every job
    /// it claims.
    pub fn with_instance_type(mut self, instance_type: impl Into<String>) -> Self {
        self.instance_type = Some(instance_type.into());
        self
    }

    /// Work until `shutdown` becomes `true` (or its sender is dropped). A job
    /// in progress is finished first.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) {
        info!(worker = %self.config.worker_id, "worker started");
        loop {
            if *shutdown.borrow() {
                break;
            }
            // Register for wake-ups before looking, so none is missed.
            let notified = self.wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.run_once().await {
                Ok(Some(_)) => continue,
                Ok(None) => {}
                Err(e) => warn!(worker = %self.config.worker_id, error = %e, "job store error"),
            }
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep(self.config.poll_interval) => {}
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
                if self.jobs.complete(&lease, &outputs, &timings).await? {
                    info!(job = %id, outputs = outputs.len(), seconds = total(&timings), "job completed");
                    JobOutcome::Completed(id)
                } else {
                    warn!(job = %id, "lease lost before completion: result discarded");
                    JobOutcome::LeaseLost(id)
                }
            }
            Err((err, timings)) => {
                match self
                    .jobs
                    .fail(&lease, &err.reason, err.retryable, &timings)
                    .await?
                {
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
        let meta = match self.objects.get_to_file(&input_key, &scratch.0).await {
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

        let processed = self.processor.process(&scratch.0, &job.recipe).await;
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
                .objects
                .put_bytes(&key, &out.bytes, PutMode::Overwrite)
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
