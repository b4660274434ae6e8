//! Job records: the [`JobStore`] trait, and [`JobBackend`], what a store
//! implements to get it.
//!
//! The life cycle is [`crate::state`]'s: a store only reads a job, lets a
//! state function decide the next one, and writes it on condition that the
//! job is still as read ([`JobBackend::change`]). So any number of workers
//! (threads, processes or machines) can share one store:
//! - [`JobStore::claim`] takes a `pending` job, or a `running` one whose lease
//!   expired (attempts + 1, new lease); two claimers cannot both win;
//! - [`JobStore::renew`], [`JobStore::complete`], [`JobStore::fail`] and
//!   [`JobStore::release`] succeed only while the caller's lease token is
//!   still the job's, and a repeat of the one that ended the lease (a retry
//!   after a lost answer) gets the same answer without a second write;
//! - [`JobStore::put_upload`] records an announced job (`awaiting_upload`),
//!   [`JobStore::create_job`] makes it `pending` when its object lands —
//!   idempotently: an event delivered twice makes one job;
//! - [`JobStore::cancel`], [`JobStore::retry`] are the studio's moves, and
//!   [`JobStore::collect_expired_uploads`] ends announcements whose upload
//!   never came;
//! - [`JobStore::put_worker`] / [`JobStore::list_workers`] and
//!   [`JobStore::has_runnable_jobs`] let a worker that is about to stop for
//!   idleness say so (`draining`) and look for work one last time, and let the
//!   orchestrator see whether a worker is still active.
//!
//! The stores: [`sqlite`] (one file, immediate transactions) and, behind
//! the `aws` feature, [`dynamo`] (one table, conditional transactions).
//! Both pass the same conformance suite (`crate::testing`, feature `testing`).

#[cfg(feature = "aws")]
pub mod dynamo;
#[cfg(feature = "sqlite")]
pub mod sqlite;

use std::time::Duration;

use async_trait::async_trait;

use crate::ids::{duration_millis, now_millis};
use crate::model::{
    Client, FailOutcome, Job, JobStatus, Lease, NewJob, OutputRecord, Transition, UploadIntent,
    WorkerRecord,
};
use crate::state::{self, Claimant, Next, Refusal};

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
    /// The life cycle does not allow the move (see [`crate::state`]).
    #[error(transparent)]
    Refused(#[from] Refusal),
}

/// The result of [`JobStore::create_job`].
#[derive(Debug, Clone, PartialEq)]
pub enum CreateOutcome {
    /// A new job was recorded.
    Created(Job),
    /// The same event was seen before: this is the job it made.
    Existing(Job),
    /// The job id is taken by a job for other content, or the object is
    /// not the announced one: nothing was recorded.
    Conflict(Job),
    /// The announced job was cancelled, or its upload collected as expired,
    /// before the object landed: nothing was recorded.
    Closed(Job),
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

    /// Record an announced upload: its job exists from now on, in
    /// `awaiting_upload`; [`JobStoreError::Duplicate`] if the job id is taken.
    async fn put_upload(&self, intent: &UploadIntent) -> Result<(), JobStoreError>;
    /// The announcement a job was made from (whatever its status since).
    async fn get_upload(&self, job_id: &str) -> Result<Option<UploadIntent>, JobStoreError>;

    /// Record the landed input of a job: an announced job becomes
    /// `pending`, or a job is recorded `pending` without an announcement;
    /// idempotently (see [`CreateOutcome`]).
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
    /// fail). `false` (and no change) if the lease was lost; `true` again
    /// for a repeat.
    async fn release(&self, lease: &Lease, reason: &str) -> Result<bool, JobStoreError>;
    /// Whether [`JobStore::claim`] could find a job now: one is `pending`,
    /// or `running` with an expired lease.
    async fn has_runnable_jobs(&self) -> Result<bool, JobStoreError>;
    /// Extend a lease to now + `ttl`; `false` if it was lost.
    async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<bool, JobStoreError>;
    /// Mark the job `completed` with its outputs; `false` (and no change) if
    /// the lease was lost; `true` again for a repeat.
    async fn complete(
        &self,
        lease: &Lease,
        outputs: &[OutputRecord],
        timings: &[(String, f64)],
    ) -> Result<bool, JobStoreError>;
    /// Record a failed attempt: back to `pending` when `retryable` and
    /// attempts remain, else `failed` with `error` (the rule:
    /// [`state::fail`]); a repeat gets the same outcome.
    async fn fail(
        &self,
        lease: &Lease,
        error: &str,
        retryable: bool,
        timings: &[(String, f64)],
    ) -> Result<FailOutcome, JobStoreError>;

    /// The studio cancels a job no worker has taken (`awaiting_upload` or
    /// `pending`); the job as it now is. Refused
    /// ([`JobStoreError::Refused`]) for a missing job or another status.
    async fn cancel(&self, id: &str) -> Result<Job, JobStoreError>;
    /// The studio retries a `failed` job: `pending`, its attempts counted
    /// from zero again; the job as it now is.
    async fn retry(&self, id: &str) -> Result<Job, JobStoreError>;
    /// Move announced jobs whose upload link expired more than
    /// [`state::UPLOAD_GRACE_MS`] ago to `upload_expired`; the jobs moved.
    async fn collect_expired_uploads(&self) -> Result<Vec<Job>, JobStoreError>;

    /// The audit trail of a job, oldest first.
    async fn transitions(&self, job_id: &str) -> Result<Vec<Transition>, JobStoreError>;

    /// Record (create or replace) a worker's record.
    async fn put_worker(&self, worker: &WorkerRecord) -> Result<(), JobStoreError>;
    /// Every worker record, by id.
    async fn list_workers(&self) -> Result<Vec<WorkerRecord>, JobStoreError>;
}

/// The next state of a job, chosen from the job as read (`None`: there is
/// none) at the time given (ms since the epoch) — a call of a
/// [`crate::state`] function. A store may call it more than once (after
/// losing a race it reads again).
pub type Decide<T> = Box<dyn FnMut(Option<&Job>, i64) -> Result<Next<T>, Refusal> + Send>;

/// What [`JobBackend::change`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Changed<T> {
    /// The move was made (`wrote`: by this call) or had been made before;
    /// the job as it now is, and the move's answer.
    Done {
        /// The job after the move.
        job: Job,
        /// Whether this call wrote it.
        wrote: bool,
        /// The move's answer.
        answer: T,
    },
    /// The move is not allowed; nothing was written.
    Refused {
        /// The job as read.
        job: Option<Job>,
        /// Why.
        refusal: Refusal,
    },
}

/// What a store implements; [`JobStore`] follows from it (every transition
/// is written once, in [`crate::state`], and driven once, here).
#[async_trait]
pub trait JobBackend: Send + Sync + 'static {
    /// Read job `id` consistently, call `decide` on it, and write the step
    /// it chose — the job and its audit entry together — on condition that
    /// the job is still as read. A store that loses a race reads again and
    /// decides again; one that cannot tell whether its write landed (a lost
    /// answer) reads again and lets `decide` recognise the write
    /// ([`Next::Landed`]).
    async fn change<T: Send + 'static>(
        &self,
        id: &str,
        decide: Decide<T>,
    ) -> Result<Changed<T>, JobStoreError>;
    /// A job by id, read consistently.
    async fn read_job(&self, id: &str) -> Result<Option<Job>, JobStoreError>;
    /// Jobs matching `filter`, newest first.
    async fn query_jobs(&self, filter: &JobFilter) -> Result<Vec<Job>, JobStoreError>;
    /// Jobs a claim may look at, in any order: some of the oldest `pending`
    /// ones and every `running` one (the state decides which to take).
    async fn claim_candidates(&self) -> Result<Vec<Job>, JobStoreError>;
    /// The audit trail of a job, oldest first.
    async fn read_transitions(&self, job_id: &str) -> Result<Vec<Transition>, JobStoreError>;
    /// Record a new client; [`JobStoreError::Duplicate`] if the id is taken.
    async fn insert_client(&self, client: &Client) -> Result<(), JobStoreError>;
    /// A client by id.
    async fn read_client(&self, id: &str) -> Result<Option<Client>, JobStoreError>;
    /// Record (create or replace) a worker's record.
    async fn upsert_worker(&self, worker: &WorkerRecord) -> Result<(), JobStoreError>;
    /// Every worker record, by id.
    async fn read_workers(&self) -> Result<Vec<WorkerRecord>, JobStoreError>;
}

/// Run a move on the job under `lease`.
async fn leased<B: JobBackend, T: Send + 'static>(
    store: &B,
    lease: &Lease,
    mut decide: impl FnMut(&Job, &Lease, i64) -> Result<Next<T>, Refusal> + Send + 'static,
) -> Result<Changed<T>, JobStoreError> {
    let l = lease.clone();
    store
        .change(
            &lease.job_id,
            Box::new(move |job, now| decide(state::found(job, &l.job_id)?, &l, now)),
        )
        .await
}

/// Run a studio move on job `id`, answering the job as it now is.
async fn studio<B: JobBackend>(
    store: &B,
    id: &str,
    decide: fn(&Job, i64) -> Result<Next<()>, Refusal>,
) -> Result<Job, JobStoreError> {
    let key = id.to_string();
    match store
        .change(
            id,
            Box::new(move |job, now| decide(state::found(job, &key)?, now)),
        )
        .await?
    {
        Changed::Done { job, .. } => Ok(job),
        Changed::Refused { refusal, .. } => Err(refusal.into()),
    }
}

#[async_trait]
impl<B: JobBackend> JobStore for B {
    async fn create_client(&self, client: &Client) -> Result<(), JobStoreError> {
        self.insert_client(client).await
    }

    async fn get_client(&self, id: &str) -> Result<Option<Client>, JobStoreError> {
        self.read_client(id).await
    }

    async fn put_upload(&self, intent: &UploadIntent) -> Result<(), JobStoreError> {
        let i = intent.clone();
        match self
            .change(
                &intent.job_id,
                Box::new(move |job, now| state::announce(job, &i, now)),
            )
            .await?
        {
            Changed::Done { .. } => Ok(()),
            Changed::Refused {
                refusal: Refusal::Exists(id),
                ..
            } => Err(JobStoreError::Duplicate(format!("upload {id}"))),
            Changed::Refused { refusal, .. } => Err(refusal.into()),
        }
    }

    async fn get_upload(&self, job_id: &str) -> Result<Option<UploadIntent>, JobStoreError> {
        Ok(self
            .read_job(job_id)
            .await?
            .as_ref()
            .and_then(state::intent_of))
    }

    async fn create_job(&self, job: &NewJob) -> Result<CreateOutcome, JobStoreError> {
        let new = job.clone();
        match self
            .change(
                &job.id,
                Box::new(move |job, now| state::record_upload(job, &new, now)),
            )
            .await?
        {
            Changed::Done {
                job, wrote: true, ..
            } => Ok(CreateOutcome::Created(job)),
            Changed::Done { job, .. } => Ok(CreateOutcome::Existing(job)),
            Changed::Refused {
                job: Some(job),
                refusal: Refusal::WrongStatus { .. },
            } => Ok(CreateOutcome::Closed(job)),
            Changed::Refused {
                job: Some(job),
                refusal: Refusal::OtherContent(_) | Refusal::NotAnnounced(_),
            } => Ok(CreateOutcome::Conflict(job)),
            Changed::Refused { refusal, .. } => Err(refusal.into()),
        }
    }

    async fn get_job(&self, id: &str) -> Result<Option<Job>, JobStoreError> {
        self.read_job(id).await
    }

    async fn list_jobs(&self, filter: &JobFilter) -> Result<Vec<Job>, JobStoreError> {
        self.query_jobs(filter).await
    }

    async fn claim_on(
        &self,
        worker_id: &str,
        instance_type: Option<&str>,
        ttl: Duration,
    ) -> Result<Option<(Job, Lease)>, JobStoreError> {
        let ttl_ms = duration_millis(ttl);
        let now = now_millis();
        let mut candidates = self.claim_candidates().await?;
        candidates.sort_by(|a, b| {
            a.created_at
                .cmp(&b.created_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        for candidate in candidates {
            // The candidates may be stale: the change decides on a consistent read.
            if !state::is_runnable(&candidate, now) {
                continue;
            }
            let who = Claimant::new(worker_id, instance_type);
            let id = candidate.id.clone();
            let changed = self
                .change(
                    &candidate.id,
                    Box::new(move |job, now| {
                        state::take(state::found(job, &id)?, &who, ttl_ms, now)
                    }),
                )
                .await?;
            if let Changed::Done {
                job,
                answer: Some(lease),
                ..
            } = changed
            {
                return Ok(Some((job, lease)));
            }
        }
        Ok(None)
    }

    async fn release(&self, lease: &Lease, reason: &str) -> Result<bool, JobStoreError> {
        let reason = reason.to_string();
        let changed = leased(self, lease, move |job, l, now| {
            state::release(job, l, &reason, now)
        })
        .await?;
        Ok(matches!(changed, Changed::Done { .. }))
    }

    async fn has_runnable_jobs(&self) -> Result<bool, JobStoreError> {
        let now = now_millis();
        Ok(self
            .claim_candidates()
            .await?
            .iter()
            .any(|job| state::is_runnable(job, now)))
    }

    async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<bool, JobStoreError> {
        let ttl_ms = duration_millis(ttl);
        let changed = leased(self, lease, move |job, l, now| {
            state::renew(job, l, ttl_ms, now)
        })
        .await?;
        Ok(matches!(changed, Changed::Done { .. }))
    }

    async fn complete(
        &self,
        lease: &Lease,
        outputs: &[OutputRecord],
        timings: &[(String, f64)],
    ) -> Result<bool, JobStoreError> {
        let (outputs, timings) = (outputs.to_vec(), timings.to_vec());
        let changed = leased(self, lease, move |job, l, now| {
            state::complete(job, l, &outputs, &timings, now)
        })
        .await?;
        Ok(matches!(changed, Changed::Done { .. }))
    }

    async fn fail(
        &self,
        lease: &Lease,
        error: &str,
        retryable: bool,
        timings: &[(String, f64)],
    ) -> Result<FailOutcome, JobStoreError> {
        let (error, timings) = (error.to_string(), timings.to_vec());
        let changed = leased(self, lease, move |job, l, now| {
            state::fail(job, l, &error, retryable, &timings, now)
        })
        .await?;
        Ok(match changed {
            Changed::Done { answer, .. } => answer,
            Changed::Refused { .. } => FailOutcome::LeaseLost,
        })
    }

    async fn cancel(&self, id: &str) -> Result<Job, JobStoreError> {
        studio(self, id, state::cancel).await
    }

    async fn retry(&self, id: &str) -> Result<Job, JobStoreError> {
        studio(self, id, state::retry).await
    }

    async fn collect_expired_uploads(&self) -> Result<Vec<Job>, JobStoreError> {
        let announced = self
            .query_jobs(&JobFilter {
                status: Some(JobStatus::AwaitingUpload),
                client_id: None,
                limit: None,
            })
            .await?;
        let now = now_millis();
        let mut collected = Vec::new();
        for job in announced {
            if state::collect_upload(&job, now).is_err() {
                continue;
            }
            let id = job.id.clone();
            if let Changed::Done {
                job, wrote: true, ..
            } = self
                .change(
                    &job.id,
                    Box::new(move |job, now| state::collect_upload(state::found(job, &id)?, now)),
                )
                .await?
            {
                collected.push(job);
            }
        }
        Ok(collected)
    }

    async fn transitions(&self, job_id: &str) -> Result<Vec<Transition>, JobStoreError> {
        self.read_transitions(job_id).await
    }

    async fn put_worker(&self, worker: &WorkerRecord) -> Result<(), JobStoreError> {
        self.upsert_worker(worker).await
    }

    async fn list_workers(&self) -> Result<Vec<WorkerRecord>, JobStoreError> {
        self.read_workers().await
    }
}
