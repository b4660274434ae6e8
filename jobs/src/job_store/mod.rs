//! Job records: the [`JobStore`] trait.
//!
//! Every state change is a conditional update, so that any number of workers
//! (threads, processes or machines) can share one store:
//! - [`JobStore::claim`] takes a `pending` job, or a `running` one whose lease
//!   expired, in one conditional update (attempts + 1, new lease);
//! - [`JobStore::renew`], [`JobStore::complete`] and [`JobStore::fail`]
//!   succeed only while the caller's lease token is still the job's;
//! - [`JobStore::create_job`] is idempotent on the job id and on
//!   (input key, content hash): an event delivered twice makes one job;
//! - [`JobStore::release`] hands a running job back (a worker told to stop);
//! - [`JobStore::put_worker`] / [`JobStore::list_workers`] and
//!   [`JobStore::has_runnable_jobs`] let a worker that is about to stop for
//!   idleness say so (`draining`) and look for work one last time, and let the
//!   orchestrator see whether a worker is still active.

#[cfg(feature = "aws")]
pub mod dynamo;
#[cfg(feature = "sqlite")]
pub mod sqlite;

use std::time::Duration;

use async_trait::async_trait;

use crate::model::{
    Client, FailOutcome, Job, JobStatus, Lease, NewJob, OutputRecord, Transition, UploadIntent,
    WorkerRecord,
};

/// Job store errors.
#[derive(Debug, thiserror::Error)]
pub enum JobStoreError {
    /// The back end failed.
    #[error("job store: {0}")]
    Backend(String),
    /// A record could not be read back (corrupt row).
    #[error("job store has a bad record: {0}")]
    BadRecord(String),
    /// A record with this id exists already.
    #[error("{0} exists already")]
    Duplicate(String),
}

/// The result of [`JobStore::create_job`].
#[derive(Debug, Clone, PartialEq)]
pub enum CreateOutcome {
    /// A new job was recorded.
    Created(Job),
    /// The same event was seen before: this is the job it made.
    Existing(Job),
    /// The job id is taken by a job for other content: nothing was recorded.
    Conflict(Job),
}

/// Filters for [`JobStore::list_jobs`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobFilter {
    /// Only jobs in this status.
    pub status: Option<JobStatus>,
    /// Only jobs of this client.
    pub client_id: Option<String>,
    /// At most this many (newest first); `None` = no limit.
    pub limit: Option<u32>,
}

/// Storage of clients, upload intents, jobs and their audit trail.
#[async_trait]
pub trait JobStore: Send + Sync + 'static {
    /// Record a new client; [`JobStoreError::Duplicate`] if the id is taken.
    async fn create_client(&self, client: &Client) -> Result<(), JobStoreError>;
    /// A client by id.
    async fn get_client(&self, id: &str) -> Result<Option<Client>, JobStoreError>;

    /// Record an upload intent; [`JobStoreError::Duplicate`] if the job id is taken.
    async fn put_upload(&self, intent: &UploadIntent) -> Result<(), JobStoreError>;
    /// The upload intent for a job id.
    async fn get_upload(&self, job_id: &str) -> Result<Option<UploadIntent>, JobStoreError>;

    /// Record a `pending` job, idempotently (see [`CreateOutcome`]).
    async fn create_job(&self, job: &NewJob) -> Result<CreateOutcome, JobStoreError>;
    /// A job by id.
    async fn get_job(&self, id: &str) -> Result<Option<Job>, JobStoreError>;
    /// Jobs matching `filter`, newest first.
    async fn list_jobs(&self, filter: &JobFilter) -> Result<Vec<Job>, JobStoreError>;

    /// Claim the oldest runnable job for `worker_id` with a lease of `ttl`.
    /// Running jobs whose lease expired after their last allowed attempt are
    /// failed on the way.
    async fn claim(
        &self,
        worker_id: &str,
        ttl: Duration,
    ) -> Result<Option<(Job, Lease)>, JobStoreError> {
        self.claim_on(worker_id, None, ttl).await
    }
    /// [`JobStore::claim`], also recording the machine type the worker runs
    /// on (`Job::instance_type`).
    async fn claim_on(
        &self,
        worker_id: &str,
        instance_type: Option<&str>,
        ttl: Duration,
    ) -> Result<Option<(Job, Lease)>, JobStoreError>;
    /// Hand a running job back: `pending` again, its lease cleared and the
    /// attempt not counted (the worker was told to stop; the job did not
    /// fail). `false` (and no change) if the lease was lost.
    async fn release(&self, lease: &Lease, reason: &str) -> Result<bool, JobStoreError>;
    /// Whether [`JobStore::claim`] could find a job now: one is `pending`,
    /// or `running` with an expired lease.
    async fn has_runnable_jobs(&self) -> Result<bool, JobStoreError>;
    /// Extend a lease to now + `ttl`; `false` if it was lost.
    async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<bool, JobStoreError>;
    /// Mark the job `completed` with its outputs; `false` (and no change) if
    /// the lease was lost.
    async fn complete(
        &self,
        lease: &Lease,
        outputs: &[OutputRecord],
        timings: &[(String, f64)],
    ) -> Result<bool, JobStoreError>;
    /// Record a failed attempt: back to `pending` when `retryable` and
    /// attempts remain, else `failed` with `error`.
    async fn fail(
        &self,
        lease: &Lease,
        error: &str,
        retryable: bool,
        timings: &[(String, f64)],
    ) -> Result<FailOutcome, JobStoreError>;

    /// The audit trail of a job, oldest first.
    async fn transitions(&self, job_id: &str) -> Result<Vec<Transition>, JobStoreError>;

    /// Record (create or replace) a worker's record.
    async fn put_worker(&self, worker: &WorkerRecord) -> Result<(), JobStoreError>;
    /// Every worker record, by id.
    async fn list_workers(&self) -> Result<Vec<WorkerRecord>, JobStoreError>;
}
